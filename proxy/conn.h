/*
 * conn.h - proxy workers: each thread runs one ev loop with its own
 * SO_REUSEPORT listening sockets (one per listener port), client
 * connections, and per-target idle upstream keep-alive pools.
 *
 * Caveats:
 *  - A worker picks up a new routing table between loop iterations
 *    (px_worker_wake() from the subscription thread); listeners open and
 *    close to match it, idle upstream connections to draining or removed
 *    targets close.  Requests in flight keep the target they were given.
 *  - Per request nothing is allocated: each connection owns three buffers
 *    (client input, upstream input, head scratch) that grow only for large
 *    heads.  Bodies stream through with backpressure: a side is read only
 *    when the bytes already read have been written on.
 */
#ifndef SL_PROXY_CONN_H
#define SL_PROXY_CONN_H

struct px_worker;

/* Start worker <idx> (0..PX_MAX_WORKERS-1).  <bind_addr> overrides the
 * scheme's bind address when non-NULL.  0 or SL_E*. */
int px_worker_start(int idx, const char *bind_addr, struct px_worker **out);
/* How long a request head may take to arrive once its first byte came
 * (slowloris guard); <ms> <= 0 restores the default (10 s).  Call before
 * px_worker_start(): not thread-safe. */
void px_worker_set_head_timeout(int ms);
/* Thread-safe: make the worker look at the current table now. */
void px_worker_wake(struct px_worker *w);
/* Graceful stop: close listeners, let requests in flight finish (up to
 * <grace_ms>), join and free. */
void px_worker_stop(struct px_worker *w, int grace_ms);

#endif
