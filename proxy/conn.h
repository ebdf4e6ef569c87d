/*
 * conn.h - the state a worker's connection modules share: a client
 * connection (struct px_conn) and its worker (struct px_worker), and the
 * functions they call on each other, from the top of the call graph down:
 *
 *   worker.c    loop, table pick-up, graceful stop        (public: worker.h)
 *   listen.c    listening sockets, accept
 *   client.c    the state machine: pump(), events, timers, interest
 *   park.c      connections between requests, in a small record
 *   admit.c     the connection cap and EMFILE: accepting paused, resumed
 *   request.c   a request head: routing, local answers, the body upstream
 *   response.c  the upstream's response: head and body to the client
 *   exchange.c  binding a request to an upstream connection, retry, 502/504
 *   reply.c     answers the proxy makes itself (fixed, redirect, errors)
 *   fwd.c       the heads sent on: re-framed, hop-by-hop dropped, X-Forwarded-*
 *   upstream.c  upstream connections and per-target idle pools
 *   io.c        the transport under both sides (plain TCP; see io.h)
 *   io_tls.c    TLS under either side (tls.c: certificates, contexts, SNI)
 *   h2.c        an HTTP/2 session on a client connection (state S_H2); each
 *   h2_stream.c   stream is a px_conn of its own over a stream transport
 *
 * and beside them, called by all of the above at a request's steps:
 *
 *   metrics_req.c   counters of the request (metrics.h) and its end
 *   accesslog_req.c its access log line (accesslog.h)
 *
 * Caveats:
 *  - Everything here belongs to one worker thread; nothing is locked.
 *  - Per request nothing is allocated: each connection owns four buffers
 *    (client input cb, upstream input ub, the head sent upstream hu, the
 *    head sent to the client hc) that grow only for large heads.  Bodies
 *    stream through with backpressure: a side is read only when the bytes
 *    already read have been written on.
 *  - A connection that waits for its first request, or has waited
 *    PX_PARK_MS for its next one, is parked (park.c): its struct px_conn
 *    and buffers go back to the worker's cache and a struct px_parked of a
 *    few hundred bytes keeps the socket, until bytes arrive.  So an idle
 *    connection costs well under 4 KiB.  A px_conn pointer is therefore
 *    valid only while the connection is active; nothing keeps one across
 *    a park.
 *  - Functions below return the house's status codes; the step functions
 *    of the state machine return PX_STEP_* (>= 0) or SL_EIO, which means
 *    "close the client connection" (the caller closes; nothing below
 *    client.c frees a px_conn).
 */
#ifndef SL_PROXY_CONN_H
#define SL_PROXY_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/desync.h"
#include "proxy/ev.h"
#include "proxy/http1.h"
#include "proxy/io.h"
#include "proxy/metrics_req.h"
#include "proxy/sticky.h"
#include "proxy/table.h"
#include "proxy/upstream.h"
#include "proxy/xff.h"

#define PX_HEAD_TIMEOUT_MS 10000 /* default: a request head must arrive within this */
#define PX_CONNECT_TIMEOUT_MS 5000
#define PX_IDLE_DEFAULT_MS 60000
#define PX_PARK_MS 1000    /* a kept-alive connection idle this long is parked */
#define PX_CONN_CACHE 512  /* free px_conn (with buffers) a worker keeps at most */
#define PX_CONN_KEEP 8     /* ... and after a second in which no one took them */
/* A request body the proxy answers itself is read and dropped up to this,
 * so the connection stays usable (as nginx does); see request.c. */
#define PX_DISCARD_MAX (1024 * 1024)

enum px_conn_state { S_HEAD, S_UP, S_LOCAL, S_TUNNEL, S_H2 };
enum px_res_state { R_HEAD, R_BODY, R_DONE };

/* Results of a step of the state machine. */
enum px_step {
    PX_STEP_NONE = 0,     /* nothing moved: wait for an event */
    PX_STEP_PROGRESS = 1, /* bytes or state moved: step again */
    PX_STEP_WAIT = 2,     /* an exchange ended and nothing is pipelined: wait */
};

struct px_worker;
struct px_bind_error; /* bindstate.h */

struct px_conn {
    struct px_worker *w;
    struct px_conn *next, *prev;
    struct px_io io;
    struct sockaddr_storage peer;
    char peer_ip[64];
    char lid[PX_ID_MAX];
    int lport;
    int https;       /* the listener terminates TLS */
    int tls_headers; /* this request: x-amzn-tls-* to the target */
    struct px_h2 *h2; /* S_H2: the session (h2.h) */
    int stream;       /* an h2 stream's request: not in w->conns, bodies unframed */
    char *cb, *ub, *hu, *hc; /* client in, upstream in, head to upstream, head to client */
    size_t cb_len, cb_cap, cb_off, ub_len, ub_cap, ub_off, hu_cap, hc_cap;
    struct h1_scan scan, uscan;
    struct h1_request req;
    struct h1_response res;
    /* header hygiene (desync.h), from the listener's load balancer */
    unsigned tol;       /* H1_DEV_* the parser may pass */
    int desync_mode;
    int drop_invalid;
    struct px_dsc dsc;  /* this request's classification (access logs) */
    int dsc_close;      /* Ambiguous in defensive mode: close both sides after */
    uint64_t drop[2];   /* request fields not forwarded (px_desync_drop_mask) */
    int state; /* enum px_conn_state */
    int head_started;
    int client_eof;
    int close_after; /* close the client once this response is out */
    int client_minor, head_req, expect_continue, upgrade;
    /* upstream side */
    struct px_up *up;
    struct px_target *target;
    int connecting;
    int retried;
    int up_sent;       /* request bytes were written to the target's socket */
    int body_sent_any; /* request body bytes were taken for upstream */
    size_t discarded;  /* body bytes dropped after a local answer */
    int resp_started;  /* response bytes went to the client */
    int64_t req_left;
    int req_chunked, req_done;
    struct h1_chunked req_ch;
    int res_state; /* enum px_res_state */
    int64_t res_left;
    int res_chunked_in, res_rechunk, res_close_delim, up_reusable;
    struct h1_chunked res_ch;
    struct px_outq to_up, to_cl;
    struct ev_timer timer;
    int idle_ms;
    int parking;  /* the timer is the park timer: PX_PARK_MS into idle_ms */
    int defer_up; /* slot + 1 in w->deferred: the head to upstream waits */
    /* counters and the access log (metrics_req.h) */
    struct pxm_conn mc;
    struct pxm_req obs;
    uint64_t born_ms;          /* accepted (client_keep_alive.seconds counts from it) */
    struct px_fwd_conf fwdc;   /* the listener's forwarding settings (xff.h) */
    struct px_stick stick;     /* the cookies this exchange's response gets (sticky.h) */
};

/* A client connection between requests (park.c): what survives a park. */
struct px_parked {
    struct px_worker *w;
    struct px_parked *next, *prev;
    struct px_io io;
    struct sockaddr_storage peer;
    char lid[PX_ID_MAX];
    int lport;
    int idle_ms;
    int fresh;         /* no request yet: <deadline> is the head deadline */
    uint64_t deadline; /* ev_mono_ms() at which it is closed */
    struct ev_timer timer;
    struct pxm_listener *mcell; /* its listener's counters (metrics_req.h), owned */
    uint64_t born_ms;           /* ev_now() at accept (client_keep_alive.seconds) */
    char conn_trace[24];        /* its access log conn_trace_id, "" until made */
};

/* The cap on client connections, shared by every worker (worker.h). */
struct px_admit;

struct px_lsock {
    int fd;
    int port;
    char lid[PX_ID_MAX];
    char addr[64];
    int used;
};

struct px_worker {
    int idx;
    struct ev_loop *loop;
    pthread_t th;
    char bind[64];
    int head_timeout_ms;
    struct px_table *table;
    unsigned gen;
    struct px_lsock *ls;
    int nls, capls;
    struct px_bind_error *unbound; /* listen.c: listeners that failed to bind */
    int nunbound;
    struct px_pool pool; /* idle upstream connections */
    struct px_conn *conns;
    int nconns;
    struct px_parked *parked; /* connections between requests */
    int nparked;
    struct px_conn *free_conns; /* up to PX_CONN_CACHE, buffers attached */
    int nfree, nfree_low; /* cached now; fewest cached since the last tick */
    size_t freed; /* bytes of connections freed since the last malloc_trim() */
    /* admit.c: accepting is paused at the cap or when out of descriptors */
    struct px_admit *admit;
    int accept_paused;
    struct ev_timer admit_timer;
    uint64_t emfile_logged_ms;
    atomic_int stopping;
    atomic_int grace_ms;
    uint64_t stop_deadline;
    struct ev_timer tick;
    /* Connections whose request head to a pooled upstream is written in
     * the before-sleep hook: one batch per loop iteration wakes the backend
     * once rather than once per request (fewer context switches when it
     * shares the core). */
    struct px_conn **deferred;
    int ndeferred, capdeferred;
    /* request.c: a request's normalized path, while it is routed
     * (H1_MAX_LINE + 2 bytes) */
    char *pathbuf;
    /* client.c's handler of upstream socket events, registered by the
     * modules below it (they cannot name client.c) */
    ev_fd_cb *up_event;
    /* client.c: bytes (or the end) arrived on a parked connection; it
     * becomes a px_conn again (park.c cannot name client.c either) */
    void (*unpark)(struct px_parked *p);
    /* client.c's functions the HTTP/2 session calls, for the same reason */
    void (*conn_pump)(struct px_conn *c);
    void (*conn_close)(struct px_conn *c);
    struct px_conn *(*conn_stream)(struct px_conn *parent, const struct px_io *io,
                                   const char *head, size_t n);
};

/* ---- client.c ---- */

/* A new client connection on <fd> (accepted, non-blocking) from <peer> on
 * listening socket <ls>: parked until its first bytes, closed if no whole
 * request head arrives within the header timeout.  0, or SL_ENOMEM (fd
 * closed).  The caller counted it in (px_admit_opened()). */
int px_conn_accept(struct px_worker *w, int fd, const struct sockaddr_storage *peer,
                   const struct px_lsock *ls);
/* A request of the HTTP/2 session on <parent> as a connection of its own
 * over the stream transport <io> (copied), its head <head>[0..<n>) already
 * read.  Not in the worker's list: it counts as no client connection.
 * NULL on allocation failure. */
struct px_conn *px_conn_stream(struct px_conn *parent, const struct px_io *io, const char *head,
                               size_t n);
/* Run the state machine (worker.c: deferred heads, stop). */
void px_conn_pump(struct px_conn *c);
void px_conn_close(struct px_conn *c);
/* The handler of upstream socket events (worker.c installs it). */
void px_conn_up_event(struct ev_loop *l, int fd, void *arg, int mask);
/* Make parked <p> a connection again and run it (worker.c installs it as
 * w->unpark).  <p> is freed. */
void px_conn_unpark(struct px_parked *p);
/* Free the worker's cache of connections (worker.c, at the end). */
void px_conn_cache_free(struct px_worker *w);
void px_conn_cache_trim(struct px_worker *w); /* the worker's tick, once a second */

/* ---- park.c ---- */

/* Park a new connection on <fd> from <peer> on <ls>, to be closed at
 * <deadline> (the header timeout from now) unless bytes come.  0, or
 * SL_ENOMEM (the caller closes the fd). */
int px_park_fresh(struct px_worker *w, int fd, const struct sockaddr_storage *peer,
                  const struct px_lsock *ls, int idle_ms, uint64_t deadline);
/* A parked record for <c>'s socket, peer and listener, closed after
 * <idle_left_ms> unless bytes come; the caller then frees <c> without
 * closing its socket.  0, or SL_ENOMEM (nothing changed). */
int px_park(struct px_conn *c, uint64_t idle_left_ms);
/* Unlink <p> from its worker and free it; its socket is the caller's now
 * (still registered, events to be redirected). */
void px_park_release(struct px_parked *p);
/* Close a parked connection (timer, stop): socket closed, counted out. */
void px_park_close(struct px_parked *p);

/* ---- admit.c ---- */

/* 1 when one more connection may be accepted now; else accepting is paused
 * (listening sockets silent) until a connection closes or 100 ms pass. */
int px_admit_may_accept(struct px_worker *w);
/* accept() failed with <err> (errno): EMFILE and its kind pause accepting
 * for 100 ms or until a connection closes (logged once a minute). */
void px_admit_accept_failed(struct px_worker *w, int err);
void px_admit_opened(struct px_worker *w);
/* A client connection closed: counted out, accepting resumed if paused. */
void px_admit_closed(struct px_worker *w);
/* Listening sockets opened while paused start silent. */
int px_admit_listen_mask(const struct px_worker *w);

/* ---- request.c ---- */

/* A request head of <head_len> bytes was parsed into c->req: classify it
 * (desync.h), route it and start the local answer or the exchange. */
void px_req_handle(struct px_conn *c, size_t head_len);
/* Take listener <lis>'s header hygiene (NULL: the defaults) for the
 * connection's requests from now on. */
void px_req_hygiene(struct px_conn *c, const struct px_listener *lis);
/* Move one span of request body to the upstream.  PX_STEP_*. */
int px_req_move_body(struct px_conn *c);
/* Drop request body bytes after a local answer.  PX_STEP_*. */
int px_req_discard(struct px_conn *c);

/* ---- response.c ---- */

/* Parse or relay the upstream's response from ub.  PX_STEP_*. */
int px_resp_move(struct px_conn *c);

/* ---- exchange.c ---- */

/* Bind the exchange to a pooled or new connection to c->target.  0 or
 * SL_EIO. */
int px_xchg_start(struct px_conn *c);
/* End the exchange: park the upstream connection when <reusable>, else
 * close it; drop the target. */
void px_xchg_release(struct px_conn *c, int reusable);
/* The upstream failed with <code> (502/504): retry a 502 once on a fresh
 * connection when px_xchg_may_resend(), else answer <code>. */
void px_xchg_failed(struct px_conn *c, int code);
/* 1 when the failed request may go to the target again: nothing of the
 * response came, and either none of the request reached the target or it
 * is a GET, HEAD or OPTIONS without a body.  A POST the target took and
 * then hung up on is answered 502, as ALB does: it may have acted on it. */
int px_xchg_may_resend(const struct px_conn *c);
/* Write the head to a pooled upstream in the before-sleep hook. */
void px_xchg_defer(struct px_conn *c);
void px_xchg_undefer(struct px_conn *c);
/* The exchange is complete: back to reading the next request head. */
void px_xchg_finish(struct px_conn *c);

/* ---- reply.c ---- */

/* Answer <code> with <body> (NULL: none) of <ctype>, a Location when
 * <location>, closing afterwards when <close_conn>.  Too late for a status
 * (a response started): the connection closes instead. */
void px_reply(struct px_conn *c, int code, const char *ctype, const char *body,
              const char *location, int close_conn);
/* The proxy's own HTML error page for <code> (502, 503, 504, 400, ...). */
void px_reply_error(struct px_conn *c, int code, int close_conn);
/* The reason phrase of <code>. */
const char *px_reason(int code);

/* ---- fwd.c ---- */

/* The request head for the upstream into c->hu and c->to_up.  0 or
 * SL_ENOMEM. */
int px_fwd_request_head(struct px_conn *c);
/* The response head for the client into c->hc and c->to_cl.  0 or
 * SL_ENOMEM. */
int px_fwd_response_head(struct px_conn *c);

#endif
