/*
 * health.c - the health checker.  A check's bytes go through a px_io
 * (io.h): plain TCP, or TLS (io_tls.h, unverified as ALB) when the group's
 * HealthCheckProtocol is HTTPS.
 */
#include "proxy/health.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/ev.h"
#include "proxy/hcread.h"
#include "proxy/metrics_log.h"
#include "proxy/io.h"
#include "proxy/io_tls.h"
#include "proxy/table.h"

struct hc {
    struct px_health *h;
    struct px_target *t;
    struct hc *next, *prev;
    int slot; /* the group's slot in the table */
    /* settings copied from the group */
    int enabled, interval_ms, timeout_ms, healthy, unhealthy, port;
    int tls; /* HealthCheckProtocol HTTPS */
    char *path; /* owned */
    int ncodes;
    struct { int lo, hi; } codes[PX_MAX_CODES];
    /* run state */
    int fd;          /* io's socket while a check runs, else -1 */
    struct px_io io; /* the check's stream, owning fd */
    int ok_run, fail_run;
    char *req; /* owned, for the check in progress */
    size_t req_len, sent;
    struct hc_read rd;     /* the response being read (hcread.h) */
    struct ev_timer timer; /* next check, or the check's timeout */
};

struct px_health {
    struct h1_response *res; /* parse scratch, this thread's */
    struct ev_loop *loop;
    pthread_t th;
    atomic_int stop;
    unsigned gen;
    struct px_table *table;
    struct hc *all;
    struct ev_timer reaper;
};

static void hc_schedule(struct hc *c, uint64_t ms);

static void hc_end(struct hc *c)
{
    if (c->fd >= 0) {
        px_io_close(&c->io, c->h->loop);
        c->fd = -1;
    }
    px_hcread_reset(&c->rd);
}

/* As AWS: a target that turns healthy enters slow start only when its group
 * (with slow start on) has another healthy target already out of slow
 * start; the first targets of a group take full traffic at once. */
static int slow_start_applies(const struct px_table *tab, const struct hc *c, uint64_t now)
{
    const struct px_tg *g = tab ? px_table_slot(tab, c->slot) : NULL;
    int k;

    if (g == NULL || g->conf.slow_start_ms == 0)
        return 0;
    for (k = 0; k < g->ntargets; k++) {
        struct px_target *x = g->targets[k];
        uint64_t since = atomic_load(&x->eligible_ms);
        if (x != c->t && atomic_load(&x->health) == PX_H_HEALTHY && !atomic_load(&x->draining) &&
            (since == 0 || now >= since + g->conf.slow_start_ms))
            return 1;
    }
    return 0;
}

static void result(struct hc *c, int ok, int reason, int status)
{
    struct px_target *t = c->t;
    int st = atomic_load(&t->health);

    hc_end(c);
    if (ok) {
        c->ok_run++;
        c->fail_run = 0;
        if (st == PX_H_INITIAL || st == PX_H_UNAVAILABLE ||
            (st == PX_H_UNHEALTHY && c->ok_run >= c->healthy)) {
            uint64_t now = ev_mono_ms();
            atomic_store(&t->eligible_ms,
                         slow_start_applies(c->h->table, c, now) ? now : 0);
            atomic_store(&t->reason, PX_R_NONE);
            atomic_store(&t->health, PX_H_HEALTHY);
            pxm_log_health(c->h->table, c->slot, t, PX_H_HEALTHY, PX_R_NONE);
        }
    } else {
        c->fail_run++;
        c->ok_run = 0;
        if (status)
            atomic_store(&t->status, status);
        if (st == PX_H_UNHEALTHY)
            atomic_store(&t->reason, reason);
        else if (c->fail_run >= c->unhealthy) {
            atomic_store(&t->reason, reason);
            atomic_store(&t->health, PX_H_UNHEALTHY);
            pxm_log_health(c->h->table, c->slot, t, PX_H_UNHEALTHY, reason);
        }
    }
    hc_schedule(c, (uint64_t)c->interval_ms);
}

static int code_ok(const struct hc *c, int code)
{
    int i;

    for (i = 0; i < c->ncodes; i++)
        if (code >= c->codes[i].lo && code <= c->codes[i].hi)
            return 1;
    return 0;
}

/* The request out; then the response in, whole, so that closing leaves
 * nothing unread (an early close reset the target's connection: its
 * server logged ConnectionResetError on the write of its answer). */
static void hc_io(struct ev_loop *l, int fd, void *arg, int mask)
{
    struct hc *c = arg;
    int rc;

    if (c->sent < c->req_len) {
        int err = 0;
        socklen_t el = sizeof(err);
        struct iovec iov = {c->req + c->sent, c->req_len - c->sent};
        ssize_t w;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            result(c, 0, PX_R_FAILED, 0);
            return;
        }
        /* TLS: the handshake runs inside this write; SL_EAGAIN retries
         * the same bytes, as OpenSSL wants */
        w = px_io_writev(&c->io, &iov, 1);
        if (w == SL_EAGAIN) {
            px_io_wait(&c->io, l, EV_WRITE);
            return;
        }
        if (w <= 0) {
            result(c, 0, PX_R_FAILED, 0);
            return;
        }
        c->sent += (size_t)w;
        px_io_wait(&c->io, l, c->sent == c->req_len ? EV_READ : EV_WRITE);
        return;
    }
    rc = px_hcread_step(&c->rd, &c->io, c->h->res);
    if (rc == SL_EAGAIN) {
        px_io_wait(&c->io, l, EV_READ);
        return;
    }
    if (c->rd.status == 0) /* no response head: refused, reset, garbage */
        result(c, 0, PX_R_FAILED, 0);
    else
        result(c, code_ok(c, c->rd.status), PX_R_MISMATCH, c->rd.status);
}

static void hc_fire(struct ev_loop *l, void *arg)
{
    struct hc *c = arg;
    struct px_target *t = c->t;
    struct sockaddr_storage ss;
    const char *path = c->path ? c->path : "/";
    size_t cap;
    int one = 1, n;

    if (c->fd >= 0) { /* the check in progress timed out */
        if (c->rd.status) /* the answer came; only its body was slow */
            result(c, code_ok(c, c->rd.status), PX_R_MISMATCH, c->rd.status);
        else
            result(c, 0, PX_R_TIMEOUT, 0);
        return;
    }
    if (!c->enabled) {
        atomic_store(&t->health, PX_H_UNAVAILABLE);
        atomic_store(&t->reason, PX_R_NONE);
        return;
    }
    if (atomic_load(&t->draining) || t->addrlen == 0) {
        hc_schedule(c, (uint64_t)c->interval_ms);
        return;
    }
    ss = t->addr;
    if (c->port)
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)c->port); /* same offset in v6 */
    c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        hc_schedule(c, (uint64_t)c->interval_ms);
        return;
    }
    if (!c->tls)
        px_io_plain(&c->io, c->fd);
    else if (px_io_tls_client(&c->io, c->fd, t) != SL_OK) { /* io: plain on fd */
        result(c, 0, PX_R_FAILED, 0);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&ss, t->addrlen) < 0 && errno != EINPROGRESS) {
        result(c, 0, PX_R_FAILED, 0);
        return;
    }
    cap = strlen(path) + sizeof(t->host) + 160;
    free(c->req);
    if ((c->req = malloc(cap)) == NULL) {
        result(c, 0, PX_R_FAILED, 0);
        return;
    }
    n = snprintf(c->req, cap,
                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: ELB-HealthChecker/2.0\r\n"
                 "Accept: */*\r\nConnection: close\r\n\r\n",
                 path, t->host, c->port ? c->port : t->port);
    c->req_len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    c->sent = 0;
    px_hcread_reset(&c->rd);
    ev_fd_set(l, c->fd, EV_WRITE, hc_io, c);
    ev_timer_add(l, &c->timer, (uint64_t)c->timeout_ms);
}

static void hc_schedule(struct hc *c, uint64_t ms)
{
    ev_timer_add(c->h->loop, &c->timer, ms);
}

static void hc_free(struct hc *c)
{
    struct px_health *h = c->h;

    hc_end(c);
    ev_timer_del(h->loop, &c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->t->hc = NULL;
    px_target_release(c->t);
    free(c->path);
    free(c->req);
    free(c);
}

/* Checks for the targets of group <g>, with its settings. */
static void sync_group(struct px_health *h, const struct px_tg *g)
{
    const struct px_tg_conf *gc = &g->conf;
    int j;

    for (j = 0; j < g->ntargets; j++) {
        struct px_target *x = g->targets[j];
        struct hc *c = x->hc;
        int fresh = 0;
        if (c == NULL) {
            if ((c = calloc(1, sizeof(*c))) == NULL)
                continue;
            c->h = h;
            c->t = x;
            c->fd = -1;
            px_target_ref(x);
            x->hc = c;
            ev_timer_init(&c->timer, hc_fire, c);
            c->next = h->all;
            if (h->all)
                h->all->prev = c;
            h->all = c;
            fresh = 1;
        }
        c->slot = g->slot;
        if (c->interval_ms != gc->hc_interval_ms || c->enabled != gc->hc_enabled)
            fresh = 1;
        c->enabled = gc->hc_enabled;
        c->interval_ms = gc->hc_interval_ms > 0 ? gc->hc_interval_ms : 30000;
        c->timeout_ms = gc->hc_timeout_ms > 0 ? gc->hc_timeout_ms : 5000;
        if (c->timeout_ms > c->interval_ms)
            c->timeout_ms = c->interval_ms;
        c->healthy = gc->hc_healthy > 0 ? gc->hc_healthy : 5;
        c->unhealthy = gc->hc_unhealthy > 0 ? gc->hc_unhealthy : 2;
        c->port = gc->hc_port;
        c->tls = gc->hc_proto == 1;
        if (c->path == NULL || strcmp(c->path, gc->hc_path) != 0) {
            char *p = strdup(gc->hc_path[0] ? gc->hc_path : "/");
            if (p) {
                free(c->path);
                c->path = p;
            }
        }
        c->ncodes = gc->ncodes;
        memcpy(c->codes, gc->codes, sizeof(c->codes));
        if (fresh && c->fd < 0)
            hc_schedule(c, (uint64_t)(rand() % 50));
    }
}

/* The checks of a group's targets that left the model. */
static void drop_dead(const struct px_tg *g)
{
    int j;

    for (j = 0; g && j < g->ntargets; j++)
        if (g->targets[j]->hc && !atomic_load(&g->targets[j]->live))
            hc_free(g->targets[j]->hc);
}

/* Only the groups whose part changed: a group part that both tables share
 * has the same targets and settings. */
static void sync_checks(struct px_health *h, const struct px_table *old, const struct px_table *t)
{
    int i, n = t ? t->nslots : 0, on = old ? old->nslots : 0;

    for (i = 0; i < n || i < on; i++) {
        const struct px_tg *g = i < n ? t->slots[i] : NULL, *og = i < on ? old->slots[i] : NULL;
        if (g == og)
            continue;
        if (g)
            sync_group(h, g);
        drop_dead(og);
    }
}

/* Once a second: checks of targets that left the model some other way (a
 * group deleted before its targets, a target that changed address). */
static void reap(struct ev_loop *l, void *arg)
{
    struct px_health *h = arg;
    struct hc *c, *n;

    for (c = h->all; c; c = n) {
        n = c->next;
        if (!atomic_load(&c->t->live))
            hc_free(c);
    }
    ev_timer_add(l, &h->reaper, 1000);
}

static void before(struct ev_loop *l, void *arg)
{
    struct px_health *h = arg;
    unsigned gen = px_table_generation();

    if (atomic_load(&h->stop)) {
        ev_stop(l);
        return;
    }
    if (gen != h->gen) {
        struct px_table *t = px_table_acquire(), *old = h->table;
        h->table = t;
        h->gen = gen;
        sync_checks(h, old, t);
        px_table_release(old);
    }
}

static void *health_main(void *arg)
{
    struct px_health *h = arg;

    ev_run(h->loop);
    return NULL;
}

int px_health_start(struct px_health **out)
{
    struct px_health *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return SL_ENOMEM;
    h->gen = (unsigned)-1;
    if ((h->res = malloc(sizeof(*h->res))) == NULL || ev_new(&h->loop) != SL_OK) {
        free(h->res);
        free(h);
        return SL_EIO;
    }
    ev_set_before(h->loop, before, h);
    ev_timer_init(&h->reaper, reap, h);
    ev_timer_add(h->loop, &h->reaper, 1000);
    if (pthread_create(&h->th, NULL, health_main, h) != 0) {
        ev_free(h->loop);
        free(h->res);
        free(h);
        return SL_ERR;
    }
    *out = h;
    return SL_OK;
}

void px_health_wake(struct px_health *h)
{
    if (h)
        ev_wake(h->loop);
}

void px_health_stop(struct px_health *h)
{
    struct hc *c;

    if (h == NULL)
        return;
    atomic_store(&h->stop, 1);
    ev_wake(h->loop);
    pthread_join(h->th, NULL);
    ev_timer_del(h->loop, &h->reaper);
    while ((c = h->all) != NULL)
        hc_free(c);
    px_table_release(h->table);
    ev_free(h->loop);
    free(h->res);
    free(h);
}
