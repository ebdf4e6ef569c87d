/*
 * metrics_render.h - the proxy's GET /metrics: Prometheus text exposition
 * (version 0.0.4) of the current table's counters, under the names of
 * README "Metrics" (ALB's CloudWatch metrics, Prometheus style), plus the
 * proxy's own (applied revision, access log lines and drops).
 *
 * Caveats:
 *  - Walks the current table only: a target or listener that left is not
 *    rendered (its counters went with it), so the output is bounded by what
 *    is configured.
 *  - A target group's load_balancer label is the load balancer of the
 *    first listener (in id order) whose rules forward to it; "" if none.
 *  - Thread-safe (reads atomics); any thread.
 */
#ifndef SL_PROXY_METRICS_RENDER_H
#define SL_PROXY_METRICS_RENDER_H

#include <stdint.h>

#include "common/buf.h"
#include "proxy/table.h"

/* Render table <t> (borrowed; NULL renders no object metric) into <out>,
 * with <applied> the revision the proxy applied.  0 or SL_ENOMEM. */
int pxm_render(const struct px_table *t, uint64_t applied, struct buf *out);

/* Prometheus label value escaping (\\, \", \n) of <s> appended to <out>. */
void pxm_label_value(struct buf *out, const char *s);

#endif
