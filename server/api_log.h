/*
 * api_log.h - one line and one count per answered API request: the action
 * (the ELBv2 or ECS action name, or the REST method and route with ids
 * replaced), the status, the duration, the principal (the access key id
 * that signed it, or the bearer token's section) and the request id:
 *
 *   RegisterTargets 200 0.4 ms principal AKIDEXAMPLE request 4f9c...
 *
 * and sluice_api_requests_total / sluice_api_request_duration_seconds
 * (server/metrics.h) under the same action.
 *
 * Caveats:
 *  - API requests log at info; the data plane's own requests (its
 *    snapshot, watch and reports, every 2 s per proxy), GET /metrics, the
 *    dashboard, /healthz and /openapi.json at debug, so a scraped sluiced
 *    does not log a line per scrape.
 *  - A route's label is built from a fixed list of path words (the REST
 *    collections and their members' sub-paths), every other segment
 *    "{id}": the metric's cardinality is bounded by that list, not by
 *    what clients send.
 *  - Thread-safe.
 */
#ifndef SL_SERVER_API_LOG_H
#define SL_SERVER_API_LOG_H

#include <stddef.h>
#include <stdint.h>

struct srv_metrics;

struct api_log_req {
    const char *method, *url; /* as received (url: the decoded path) */
    const char *action;       /* the wire action run (front_reply.action), or NULL */
    int aws_door;             /* 1: POST / (Query or JSON 1.1), 0: REST or plain */
    const char *principal;    /* NULL or "": unauthenticated */
    const char *request_id;
    int status;
    uint64_t us; /* from the request's head to its answer */
};

/* Monotonic microseconds, for api_log_req.us. */
uint64_t api_log_now_us(void);

/* Log <r> and count it in <m> (NULL: log only).  Borrows everything. */
void api_log_request(struct srv_metrics *m, const struct api_log_req *r);

/* The metric label of <r> into <out> (<cap> >= 64): its action, or
 * "METHOD /v1/route/{id}", or "POST / (unknown action)". */
void api_log_label(const struct api_log_req *r, char *out, size_t cap);

#endif
