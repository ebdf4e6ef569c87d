/*
 * metrics.h - sluiced's GET /metrics: Prometheus text of
 *   - the data plane, every proxy's counters summed (metrics_agg.h), under
 *     ALB's CloudWatch names (common/prom.h; README "Metrics");
 *   - the API: requests by action and status, and their latency;
 *   - the store: commit latency and batch size (metrics_store.h);
 *   - the feed: each proxy's applied revision and its lag behind the store;
 *   - ECS: running, desired and pending tasks per service, deployments by
 *     rolloutState (metrics_ecs.c, read from the store at each scrape).
 *
 * Caveats:
 *  - API counting takes a mutex per request (sluiced's requests are
 *    LMDB and JSON; the proxy's hot path is elsewhere).
 *  - Label values come from names the API accepted (actions are the
 *    operation tables' names, REST routes have their ids replaced:
 *    api_log.h), so cardinality is bounded.
 *  - Thread-safe.
 */
#ifndef SL_SERVER_METRICS_H
#define SL_SERVER_METRICS_H

#include <stdint.h>

#include "common/buf.h"
#include "routes/api/front.h"
#include "server/app.h"

struct srv_metrics;
struct magg;

int metrics_new(struct srv_metrics **out);
void metrics_free(struct srv_metrics *m);

/* The proxies' aggregate (for dp_report and the dashboard; borrowed). */
struct magg *metrics_agg(struct srv_metrics *m);

/* One API request (api_log.h): <action> a label of a bounded set, copied
 * ("RegisterTargets", "GET /v1/target-groups/{id}"), <status> the HTTP
 * status, <us> its duration. */
void metrics_api_observe(struct srv_metrics *m, const char *action, int status, uint64_t us);

/* The whole exposition of <app> into <out>.  0 or SL_ENOMEM. */
int metrics_render(struct app *app, struct buf *out);

/* GET /metrics (HEAD too; other methods 405). */
void metrics_handle(struct app *app, const struct front_request *req, struct front_reply *out);

#endif
