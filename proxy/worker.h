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
 *  - Client connections are capped over all workers (struct px_admit): at
 *    the cap, or when accept() runs out of descriptors, a worker stops
 *    accepting (connections wait in the listen backlog) until one of its
 *    connections closes or 100 ms pass, instead of spinning on the error.
 */
#ifndef SL_PROXY_WORKER_H
#define SL_PROXY_WORKER_H

#include <stdatomic.h>

struct px_worker;

/* Shared by every worker; the caller keeps it alive until they stopped. */
struct px_admit {
    atomic_long open; /* client connections open in every worker */
    long max;         /* --max-connections */
};

struct px_worker_cfg {
    const char *bind_addr; /* overrides the scheme's bind address; NULL: none */
    int head_timeout_ms;   /* a request head must arrive within this, from
                            * accept (a new connection) or from its first
                            * byte (a kept-alive one); <= 0: 10 s */
    struct px_admit *admit;
};

/* Start worker <idx> (0..PX_MAX_WORKERS-1) with <cfg> (copied; admit
 * borrowed).  0 or SL_E*. */
int px_worker_start(int idx, const struct px_worker_cfg *cfg, struct px_worker **out);
/* Thread-safe: make the worker look at the current table now. */
void px_worker_wake(struct px_worker *w);
/* Graceful stop: close listeners and idle connections, let requests in
 * flight finish for up to <grace_ms> (then close what is left), join and
 * free.  NULL is a no-op. */
void px_worker_stop(struct px_worker *w, int grace_ms);

#endif
