/*
 * metrics_report.h - the counters in the proxy's report to the control
 * plane, which aggregates every proxy's (sluiced's GET /metrics):
 *
 *   "groups":    [{"id", "target_group", "load_balancer"}]    label values
 *   "listeners": [{"id", "load_balancer", "listener", "m": {...}}]
 *   "access_log": {"lines", "dropped_full", "dropped_write", "files"}
 * and in each target entry "m" (only when it counted anything) and
 * "draining" (true while it drains).  openapi.yaml's DataplaneReport
 * documents the members.
 *
 * Caveats:
 *  - Values are the totals since the proxy started; the control plane
 *    handles a proxy that restarts (totals that go down).
 *  - Reads atomics of an acquired table; the reporter thread calls it.
 */
#ifndef SL_PROXY_METRICS_REPORT_H
#define SL_PROXY_METRICS_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "proxy/table.h"

/* Add the members above to report <body> for table <t> (NULL: none but
 * access_log).  0 or SL_ENOMEM. */
int pxm_report_add(json_t *body, const struct px_table *t);
/* Add "m" and "draining" to target entry <entry> of <x>. */
void pxm_report_target(json_t *entry, const struct px_target *x);
/* A value that changes whenever a counter does (to know when to report). */
uint64_t pxm_report_signature(const struct px_table *t);

#endif
