/*
 * metrics_req.h - what the exchange tells the counters and the access log
 * about one request: hooks called at its steps (head parsed, rule matched,
 * target chosen, head sent, response head, the proxy's own answer, end),
 * and the record they fill, embedded in the connection (struct px_conn.obs).
 *
 * Caveats:
 *  - Called on the connection's worker thread only; nothing here locks or
 *    allocates per request, except the connection's log buffer, which grows
 *    only for a listener that logs (once per connection, as a rule).
 *  - A request ends exactly once: pxm_req_end() after the response (or the
 *    proxy's answer) is out, or pxm_conn_close() for one cut short (logged
 *    with ALB's 460 when the client left before any answer).
 *  - Times are CLOCK_MONOTONIC nanoseconds; 0 means "did not happen", which
 *    the access log writes as -1, as ALB does.
 */
#ifndef SL_PROXY_METRICS_REQ_H
#define SL_PROXY_METRICS_REQ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proxy/table.h"

#define PXM_TRACE_MAX 320  /* the X-Amzn-Trace-Id value sent on */
#define PXM_TARGET_MAX 72  /* "address:port" */

enum pxm_action { PXM_ACT_FORWARD = 1, PXM_ACT_REDIRECT = 2, PXM_ACT_FIXED = 4 };

#define PXM_PRIO_NONE (-2) /* no rule evaluated: "-" */

struct pxm_req {
    int open;          /* a request is being observed */
    int status;        /* the status the client got (0: none yet) */
    int target_status; /* the target's (0: none) */
    int elb;           /* <status> was the proxy's own answer */
    int rule_prio;     /* matched_rule_priority: 0 default, -1 error, PXM_PRIO_NONE */
    unsigned actions;  /* enum pxm_action bits */
    int evals;         /* rules evaluated */
    int bad_request;   /* the head was refused: request "- - -" */
    uint64_t t_begin, t_sent, t_resp, t_out;
    uint64_t rx, tx; /* bytes from and to the client */
    struct timespec created;
    struct pxm_lslot *ls;  /* the listener's counters (held by the connection) */
    const char *classification, *classification_reason; /* static; NULL: "-" */
    char trace[PXM_TRACE_MAX]; /* as sent on; "" for none */
    /* Copies that only the access log needs, made when the listener logs. */
    int logging;
    char target[PXM_TARGET_MAX];
    char tg_arn[PX_ARN_MAX];
    size_t req_len, ua_len, redirect_len; /* escaped texts in <lbuf>, in this order */
};

/* Per connection: its listener's counter cell and the log buffer. */
struct pxm_conn {
    struct pxm_listener *cell;
    char *lbuf;
    size_t lcap;
    char conn_trace[24]; /* "TID_" and 16 hex digits, made on first use */
};

struct px_conn;
struct px_worker;
struct px_listener;
struct px_rule;
struct px_tg;

/* ---- the connection ---- */

/* Accepted on its listener (counted as new and active); or refused on
 * listener id <lid> of worker <w> before it became a connection (counted
 * as rejected: no memory, no descriptor, a connection limit). */
void pxm_conn_open(struct px_conn *c);
void pxm_conn_rejected(struct px_worker *w, const char *lid);
/* Closing: a request still open ends here; counted closed. */
void pxm_conn_close(struct px_conn *c);
/* A plain connection between requests lives in a parked record (park.c),
 * which holds its counter cell (one reference) instead of a px_conn:
 * pxm_conn_accepted() counts a connection parked as it is accepted new and
 * returns its cell (NULL when its listener has none); pxm_conn_park() takes
 * the cell off a connection that parks (a request still open ends; not
 * counted closed); pxm_conn_unpark() gives it to the connection the record
 * becomes; pxm_parked_closed() counts a record closed and drops the cell. */
struct pxm_listener *pxm_conn_accepted(struct px_worker *w, const char *lid);
struct pxm_listener *pxm_conn_park(struct px_conn *c);
void pxm_conn_unpark(struct px_conn *c, struct pxm_listener *cell);
void pxm_parked_closed(struct px_worker *w, struct pxm_listener *cell);

/* ---- a request ---- */

/* A head of <head_len> bytes was parsed (the trace id is made here), or
 * refused (<lis> NULL or the head bad: <bad>). */
void pxm_req_begin(struct px_conn *c, const struct px_listener *lis, size_t head_len, int bad);
/* The request's desync classification (c->dsc, desync.h) is known: the
 * access log's classification and classification_reason ("-" when
 * compliant). */
void pxm_req_classified(struct px_conn *c);
/* Rule <r> (NULL: none) matched after <evals> evaluations. */
void pxm_req_rule(struct px_conn *c, const struct px_rule *r, int evals);
/* Target <t> of group <g> was chosen (RequestCountPerTarget). */
void pxm_req_target(struct px_conn *c, const struct px_tg *g, struct px_target *t);
/* The redirect's Location (for the log). */
void pxm_req_redirect(struct px_conn *c, const char *loc);
/* The target's response head arrived (HTTPCode_Target_*, TargetResponseTime). */
void pxm_req_response(struct px_conn *c, int status);
/* The proxy answers <status> itself (HTTPCode_ELB_*). */
void pxm_req_reply(struct px_conn *c, int status);
/* Connecting to the exchange's target failed (TargetConnectionErrorCount). */
void pxm_req_conn_error(struct px_conn *c);
/* Bytes moved: <up> written towards the target (first time: the request was
 * sent), <to_client> written to the client, <from_client> consumed. */
void pxm_req_sent_up(struct px_conn *c);
void pxm_req_io(struct px_conn *c, size_t to_client, size_t from_client);
/* The request is over: count it and log it. */
void pxm_req_end(struct px_conn *c);

#endif
