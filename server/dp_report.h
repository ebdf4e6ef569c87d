/*
 * dp_report.h - POST /v1/dataplane/report: what each proxy says about the
 * targets it serves.
 *
 * A report names the revision the proxy applied and, per target, its health
 * (recorded in the target-health registry, routes/elbv2/health.h) and
 * whether requests or connections to it are open.  A draining target that
 * every live proxy reports idle, once all of them have applied its
 * deregistration, is removed before its deadline (elb_drain_finish()).
 *
 * Caveats:
 * - Proxies are tracked in memory, as C structs: a proxy that has not
 *   reported for DP_REPORT_PROXY_TTL_MS is forgotten, and at most
 *   DP_REPORT_PROXIES_MAX are tracked at once (a report from one more is
 *   refused with 400 TooManyProxies).
 * - Bounded by the targets the store knows: a report naming a target the
 *   store does not have records nothing about it.
 * - Thread-safe: reports arrive on the HTTP server's connection threads.
 */
#ifndef SL_SERVER_DP_REPORT_H
#define SL_SERVER_DP_REPORT_H

#include <stdint.h>

#include "routes/api/front.h"
#include "server/app.h"

#define DP_REPORT_PROXY_TTL_MS 15000
#define DP_REPORT_PROXIES_MAX 1024

struct dp_report;

/* The registry of proxies over <app>'s store and health registry
 * (borrowed).  Free with dp_report_free(); NULL is a no-op there. */
int dp_report_new(struct app *app, struct dp_report **out);
void dp_report_free(struct dp_report *r);

/* <fn>(proxy id, applied revision, <arg>) for every live proxy, under the
 * registry's lock (<fn> must not call back into it). */
void dp_report_each_proxy(struct dp_report *r, void (*fn)(const char *, uint64_t, void *),
                          void *arg);

/* Handle one POST /v1/dataplane/report; fills <out> (200 with the store's
 * revision, or a REST error).  Its counters go to app->metrics. */
void dp_report_handle(struct dp_report *r, const struct front_request *req,
                      struct front_reply *out);

#endif
