/*
 * report.h - the reporter thread: POST /v1/dataplane/report with the
 * applied revision and every target's health, in-flight requests and open
 * connections, so that sluiced can answer DescribeTargetHealth and finish
 * drains.
 *
 * Caveats:
 *  - A change of what the control plane acts on (the applied revision, a
 *    target's health or reason, a draining target turning idle, a listener
 *    that cannot bind its port or at last could) is reported within
 *    ~100 ms, counters that moved (metrics_report.h) within 2 s; otherwise
 *    a report goes every 5 s, to stay alive in sluiced's view (it forgets a
 *    proxy after 15 s), and 1 s after a report that failed.
 *  - Reads the current table (px_table_acquire()); blocking I/O with
 *    timeouts on its own thread.
 */
#ifndef SL_PROXY_REPORT_H
#define SL_PROXY_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "proxy/cpclient.h"

struct px_report;

/* Start reporting to <cfg>'s control plane; <applied>(<arg>) gives the
 * revision applied so far (called from the reporter thread).  0 or SL_E*. */
int px_report_start(const struct px_cp_cfg *cfg, uint64_t (*applied)(void *), void *arg,
                    struct px_report **out);
/* Stop and join; NULL is a no-op. */
void px_report_stop(struct px_report *r);

/* The report body for the current table (new reference; NULL on allocation
 * failure). */
json_t *px_report_body(const char *proxy_id, uint64_t applied);

#endif
