/*
 * upstream.c - dialing targets, and idle lists kept twice over: per target
 * (to take one for a request) and per pool (to sweep and expire them).
 */
#include "proxy/upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "proxy/io_tls.h"

static void unlink_idle(struct px_up *u)
{
    struct px_pool *p = u->pool;
    struct px_up **head = &u->t->idle[p->idx];

    if (u->prev)
        u->prev->next = u->next;
    else if (*head == u)
        *head = u->next;
    if (u->next)
        u->next->prev = u->prev;
    if (u->wprev)
        u->wprev->wnext = u->wnext;
    else if (p->idle == u)
        p->idle = u->wnext;
    if (u->wnext)
        u->wnext->wprev = u->wprev;
    u->next = u->prev = u->wnext = u->wprev = NULL;
    ev_timer_del(p->loop, &u->timer);
}

void px_up_close(struct px_up *u)
{
    if (u == NULL)
        return;
    px_io_close(&u->io, u->pool->loop);
    atomic_fetch_sub(&u->t->conns, 1);
    px_target_release(u->t);
    free(u);
}

static void idle_close(struct px_up *u)
{
    unlink_idle(u);
    px_up_close(u);
}

static void idle_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    idle_close(arg); /* EOF or unsolicited bytes: not reusable */
}

static void idle_timer(struct ev_loop *l, void *arg)
{
    idle_close(arg);
}

void px_up_park(struct px_up *u)
{
    struct px_pool *p = u->pool;
    struct px_up **head = &u->t->idle[p->idx];

    if (atomic_load(p->stopping) || atomic_load(&u->t->draining) || !atomic_load(&u->t->live) ||
        px_io_buffered(&u->io)) { /* bytes nobody asked for: not reusable */
        px_up_close(u);
        return;
    }
    u->next = *head;
    if (*head)
        (*head)->prev = u;
    *head = u;
    u->wnext = p->idle;
    if (p->idle)
        p->idle->wprev = u;
    p->idle = u;
    ev_fd_set(p->loop, u->io.fd, px_io_mask(&u->io, EV_READ), idle_event, u);
    ev_timer_init(&u->timer, idle_timer, u);
    ev_timer_add(p->loop, &u->timer, PX_UP_IDLE_MS);
}

struct px_up *px_up_take(struct px_pool *pool, struct px_target *t)
{
    struct px_up *u = t->idle[pool->idx];

    if (u)
        unlink_idle(u);
    return u;
}

struct px_up *px_up_dial(struct px_pool *pool, struct px_target *t, int *connecting)
{
    struct px_up *u;
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *connecting = 0;
    if (connect(fd, (struct sockaddr *)&t->addr, t->addrlen) < 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return NULL;
        }
        *connecting = 1;
    }
    if ((u = calloc(1, sizeof(*u))) == NULL) {
        close(fd);
        return NULL;
    }
    /* HTTPS targets: TLS, unverified as ALB; the handshake runs in the
     * first write of the request head */
    if (atomic_load(&t->https) ? px_io_tls_client(&u->io, fd, t) != SL_OK
                               : (px_io_plain(&u->io, fd), 0)) {
        close(fd);
        free(u);
        return NULL;
    }
    u->t = t;
    u->pool = pool;
    px_target_ref(t);
    atomic_fetch_add(&t->conns, 1);
    return u;
}

int px_up_connected(struct px_up *u)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(u->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        return SL_EIO;
    return SL_OK;
}

void px_pool_sweep(struct px_pool *pool, int all)
{
    struct px_up *u = pool->idle, *n;

    for (; u; u = n) {
        n = u->wnext;
        if (all || atomic_load(&u->t->draining) || !atomic_load(&u->t->live))
            idle_close(u);
    }
}
