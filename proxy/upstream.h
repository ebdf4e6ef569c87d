/*
 * upstream.h - connections to targets and a worker's pool of idle
 * keep-alive ones (per target: px_target.idle[worker]).
 *
 * Caveats:
 *  - A pool and its connections belong to one worker thread.
 *  - An idle connection closes after PX_UP_IDLE_MS, when the target sends
 *    anything or hangs up, and when its target drains or leaves the model
 *    (px_pool_sweep()); parking refuses those at once.
 *  - A connection holds a reference on its target and counts in its
 *    px_target.conns (reported for drains).
 */
#ifndef SL_PROXY_UPSTREAM_H
#define SL_PROXY_UPSTREAM_H

#include <stdatomic.h>

#include "proxy/ev.h"
#include "proxy/io.h"
#include "proxy/table.h"

#define PX_UP_IDLE_MS 30000

struct px_pool {
    int idx;                     /* the worker's index: px_target.idle[idx] */
    struct ev_loop *loop;
    const atomic_int *stopping;  /* the worker is stopping: park nothing */
    struct px_up *idle;          /* every idle connection of the worker */
};

struct px_up {
    struct px_io io;
    struct px_target *t;
    struct px_pool *pool;
    struct px_up *next, *prev;   /* the target's idle list */
    struct px_up *wnext, *wprev; /* the pool's idle list */
    struct ev_timer timer;
};

/* An idle connection to <t> from <pool>, unlinked (the caller registers its
 * fd), or NULL. */
struct px_up *px_up_take(struct px_pool *pool, struct px_target *t);

/* A new non-blocking connection to <t>; *connecting is set while connect()
 * is in progress (wait for EV_WRITE, then px_up_connected()).  NULL when
 * the socket cannot be made or connect() fails at once. */
struct px_up *px_up_dial(struct px_pool *pool, struct px_target *t, int *connecting);

/* 0 once a connect in progress has succeeded, SL_EIO if it failed. */
int px_up_connected(struct px_up *u);

/* Keep <u> for reuse (or close it when it may not be kept). */
void px_up_park(struct px_up *u);

/* Close <u> (NULL is a no-op); it must not be in a pool's idle lists. */
void px_up_close(struct px_up *u);

/* Close the idle connections whose target drains or is gone; every one
 * when <all>. */
void px_pool_sweep(struct px_pool *pool, int all);

#endif
