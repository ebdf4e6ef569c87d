/*
 * worker.c - a worker thread: its loop, the table it serves from, and its
 * graceful stop.
 */
#include "proxy/worker.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "proxy/conn.h"
#include "proxy/listen.h"

/* Requests whose head to a pooled upstream waits are written now: pump()
 * may defer again (a pipelined request), so only this batch. */
static void run_deferred(struct px_worker *w)
{
    int i;

    for (i = 0; i < w->ndeferred; i++) {
        struct px_conn *c = w->deferred[i];
        if (c) {
            w->deferred[i] = NULL;
            c->defer_up = 0;
            px_conn_pump(c);
        }
    }
    w->ndeferred = 0;
}

/* Stopping: listeners and idle connections close at once; a connection
 * between requests closes; the others finish until the grace deadline. */
static void stop_step(struct ev_loop *l, struct px_worker *w)
{
    struct px_conn *c, *n;

    if (w->stop_deadline == 0) {
        w->stop_deadline = ev_mono_ms() + (uint64_t)atomic_load(&w->grace_ms);
        px_listen_close_all(w);
        px_pool_sweep(&w->pool, 1);
        while (w->parked)
            px_park_close(w->parked);
    }
    for (c = w->conns; c; c = n) {
        n = c->next;
        c->close_after = 1;
        if (c->state == S_HEAD && c->cb_off >= c->cb_len && !c->to_cl.n)
            px_conn_close(c);
        else if (c->state == S_H2)
            px_conn_pump(c); /* GOAWAY; closes once its streams are done */
    }
    if (w->nconns == 0 || ev_mono_ms() >= w->stop_deadline)
        ev_stop(l);
}

static void before_sleep(struct ev_loop *l, void *arg)
{
    struct px_worker *w = arg;
    unsigned gen = px_table_generation();

    run_deferred(w);
    if (gen != w->gen) {
        struct px_table *t = px_table_acquire();
        px_table_release(w->table);
        w->table = t;
        w->gen = gen;
        px_listen_sync(w);
        px_pool_sweep(&w->pool, 0);
    }
    if (atomic_load(&w->stopping))
        stop_step(l, w);
}

#define PX_TRIM_BYTES (4u << 20)

static void tick(struct ev_loop *l, void *arg)
{
    struct px_worker *w = arg;

    px_pool_sweep(&w->pool, 0);
    px_conn_cache_trim(w);
    /* Thousands of connections parked at once (park.c) free their 40 KiB
     * each between the small parked records: glibc keeps those pages, so
     * an idle connection would go on costing what an active one did.  Hand
     * them back once a second after a burst (bench/overload measures it). */
    if (w->freed >= PX_TRIM_BYTES) {
        malloc_trim(0);
        w->freed = 0;
    }
    if (px_listen_retry_due(w)) /* a port was taken: try it again */
        px_listen_sync(w);
    ev_timer_add(l, &w->tick, atomic_load(&w->stopping) ? 100 : 1000);
}

static void *worker_main(void *arg)
{
    struct px_worker *w = arg;
    struct px_conn *c;

    ev_run(w->loop);
    while ((c = w->conns) != NULL) /* past the grace deadline */
        px_conn_close(c);
    while (w->parked)
        px_park_close(w->parked);
    px_pool_sweep(&w->pool, 1);
    px_listen_close_all(w);
    px_conn_cache_free(w);
    return NULL;
}

int px_worker_start(int idx, const struct px_worker_cfg *cfg, struct px_worker **out)
{
    struct px_worker *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return SL_ENOMEM;
    w->idx = idx;
    if (cfg->bind_addr)
        snprintf(w->bind, sizeof(w->bind), "%s", cfg->bind_addr);
    w->head_timeout_ms = cfg->head_timeout_ms > 0 ? cfg->head_timeout_ms : PX_HEAD_TIMEOUT_MS;
    w->admit = cfg->admit;
    w->gen = (unsigned)-1;
    w->up_event = px_conn_up_event;
    w->unpark = px_conn_unpark;
    w->conn_pump = px_conn_pump;
    w->conn_close = px_conn_close;
    w->conn_stream = px_conn_stream;
    if ((w->pathbuf = malloc(H1_MAX_LINE + 2)) == NULL || ev_new(&w->loop) != SL_OK) {
        free(w->pathbuf);
        free(w);
        return SL_EIO;
    }
    w->pool.idx = idx;
    w->pool.loop = w->loop;
    w->pool.stopping = &w->stopping;
    ev_set_before(w->loop, before_sleep, w);
    ev_timer_init(&w->tick, tick, w);
    ev_timer_add(w->loop, &w->tick, 1000);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        ev_free(w->loop);
        free(w->pathbuf);
        free(w);
        return SL_ERR;
    }
    *out = w;
    return SL_OK;
}

void px_worker_wake(struct px_worker *w)
{
    ev_wake(w->loop);
}

void px_worker_stop(struct px_worker *w, int grace_ms)
{
    if (w == NULL)
        return;
    atomic_store(&w->grace_ms, grace_ms > 0 ? grace_ms : 0);
    atomic_store(&w->stopping, 1);
    ev_wake(w->loop);
    pthread_join(w->th, NULL);
    ev_timer_del(w->loop, &w->tick);
    ev_timer_del(w->loop, &w->admit_timer);
    px_table_release(w->table);
    ev_free(w->loop);
    free(w->ls);
    free(w->unbound);
    free(w->deferred);
    free(w->pathbuf);
    free(w);
}
