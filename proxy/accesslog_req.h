/*
 * accesslog_req.h - a request's access log line, from what the exchange
 * observed (struct pxm_req) and the connection: the client's texts are
 * escaped into the connection's log buffer when the request begins (the
 * head's bytes do not stay put), the line is formatted into the worker's
 * ring when it ends.
 *
 * Caveats:
 *  - Worker thread only; called through metrics_req.c's hooks, and only
 *    for a listener that logs (obs.logging).
 *  - A load balancer that stopped logging while the request ran (its
 *    listener in the worker's current table has no sink) gets no line.
 */
#ifndef SL_PROXY_ACCESSLOG_REQ_H
#define SL_PROXY_ACCESSLOG_REQ_H

struct px_conn;
struct px_tg;
struct px_target;

/* The request line and user agent, escaped. */
void pxa_req_begin(struct px_conn *c);
/* The chosen target ("address:port") and its group's ARN. */
void pxa_req_target(struct px_conn *c, const struct px_tg *g, const struct px_target *t);
/* The redirect's Location, escaped. */
void pxa_req_redirect(struct px_conn *c, const char *loc);
/* Format the line into the worker's ring (dropped and counted when full). */
void pxa_req_log(struct px_conn *c);
/* Free the connection's log buffer. */
void pxa_conn_free(struct px_conn *c);

#endif
