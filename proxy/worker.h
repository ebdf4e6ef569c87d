/*
 * worker.h - proxy workers: each thread runs one ev loop with its own
 * SO_REUSEPORT listening sockets (one per listener port), client
 * connections, and per-target idle upstream keep-alive pools (conn.h).
 *
 * Caveats:
 *  - A worker picks up a new routing table between loop iterations
 *    (px_worker_wake() from the subscription thread); listeners open and
 *    close to match it, idle upstream connections to draining or removed
 *    targets close.  Requests in flight keep the target they were given.
 */
#ifndef SL_PROXY_WORKER_H
#define SL_PROXY_WORKER_H

struct px_worker;

/* Start worker <idx> (0..PX_MAX_WORKERS-1).  <bind_addr> overrides the
 * scheme's bind address when non-NULL.  <head_timeout_ms> is how long a
 * request head may take to arrive once its first byte came (slowloris
 * guard); <= 0 means the default (10 s).  0 or SL_E*. */
int px_worker_start(int idx, const char *bind_addr, int head_timeout_ms, struct px_worker **out);
/* Thread-safe: make the worker look at the current table now. */
void px_worker_wake(struct px_worker *w);
/* Graceful stop: close listeners and idle connections, let requests in
 * flight finish for up to <grace_ms> (then close what is left), join and
 * free.  NULL is a no-op. */
void px_worker_stop(struct px_worker *w, int grace_ms);

#endif
