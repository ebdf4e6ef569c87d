/*
 * park.c - client connections between requests.  An active connection
 * carries two parsed heads and four buffers (about 40 KiB); one that waits
 * for a request needs only its socket, its peer and its listener.  A
 * parked record holds just that, so thousands of idle keep-alive or
 * not-yet-talking connections cost a few hundred bytes each; the first
 * byte (or the end) makes it a connection again (w->unpark, client.c).
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/conn.h"

static void link_parked(struct px_worker *w, struct px_parked *p)
{
    p->w = w;
    p->prev = NULL;
    p->next = w->parked;
    if (w->parked)
        w->parked->prev = p;
    w->parked = p;
    w->nparked++;
}

void px_park_release(struct px_parked *p)
{
    struct px_worker *w = p->w;

    ev_timer_del(w->loop, &p->timer);
    if (p->prev)
        p->prev->next = p->next;
    else
        w->parked = p->next;
    if (p->next)
        p->next->prev = p->prev;
    w->nparked--;
    free(p);
}

void px_park_close(struct px_parked *p)
{
    struct px_worker *w = p->w;

    px_io_close(&p->io, w->loop);
    pxm_parked_closed(w, p->mcell);
    px_park_release(p);
    px_admit_closed(w);
}

static void parked_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    struct px_parked *p = arg;

    p->w->unpark(p);
}

static void parked_timer(struct ev_loop *l, void *arg)
{
    px_park_close(arg); /* idle or header timeout: nothing to answer */
}

static void arm(struct px_parked *p)
{
    uint64_t now = ev_mono_ms();

    ev_timer_init(&p->timer, parked_timer, p);
    ev_timer_add(p->w->loop, &p->timer, p->deadline > now ? p->deadline - now : 0);
    ev_fd_set(p->w->loop, p->io.fd, px_io_mask(&p->io, EV_READ), parked_event, p);
}

int px_park_fresh(struct px_worker *w, int fd, const struct sockaddr_storage *peer,
                  const struct px_lsock *ls, int idle_ms, uint64_t deadline)
{
    struct px_parked *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return SL_ENOMEM;
    px_io_plain(&p->io, fd);
    p->peer = *peer;
    memcpy(p->lid, ls->lid, sizeof(p->lid));
    p->lport = ls->port;
    p->idle_ms = idle_ms;
    p->fresh = 1;
    p->deadline = deadline;
    p->mcell = pxm_conn_accepted(w, ls->lid);
    p->born_ms = ev_now(w->loop);
    link_parked(w, p);
    arm(p);
    return SL_OK;
}

int px_park(struct px_conn *c, uint64_t idle_left_ms)
{
    struct px_parked *p = malloc(sizeof(*p));

    if (p == NULL)
        return SL_ENOMEM;
    memset(p, 0, sizeof(*p));
    p->io = c->io;
    p->peer = c->peer;
    memcpy(p->lid, c->lid, sizeof(p->lid));
    p->lport = c->lport;
    p->idle_ms = c->idle_ms;
    p->deadline = ev_mono_ms() + idle_left_ms;
    p->mcell = pxm_conn_park(c);
    p->born_ms = c->born_ms;
    memcpy(p->conn_trace, c->mc.conn_trace, sizeof(p->conn_trace));
    link_parked(c->w, p);
    arm(p);
    return SL_OK;
}
