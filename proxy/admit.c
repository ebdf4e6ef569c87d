/*
 * admit.c - whether a worker accepts: the connection cap shared by every
 * worker (--max-connections) and running out of descriptors.  Either
 * pauses accepting - the listening sockets stay open but silent, so new
 * connections wait in the kernel's backlog - rather than letting a
 * level-triggered accept loop spin on EMFILE.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "proxy/conn.h"
#include "proxy/worker.h"

#define PX_ADMIT_RETRY_MS 100
#define PX_EMFILE_LOG_MS 60000

static void set_listening(struct px_worker *w, int on)
{
    int i;

    for (i = 0; i < w->nls; i++)
        ev_fd_mask(w->loop, w->ls[i].fd, on ? EV_READ : 0);
}

static void resume(struct px_worker *w)
{
    if (!w->accept_paused)
        return;
    w->accept_paused = 0;
    ev_timer_del(w->loop, &w->admit_timer);
    if (!atomic_load(&w->stopping))
        set_listening(w, 1);
}

static void retry(struct ev_loop *l, void *arg)
{
    resume(arg);
}

static void pause_accepting(struct px_worker *w)
{
    if (w->accept_paused)
        return;
    w->accept_paused = 1;
    set_listening(w, 0);
    if (w->admit_timer.cb == NULL)
        ev_timer_init(&w->admit_timer, retry, w);
    /* Another worker's connections may be the ones that close: look again
     * soon even if none of ours does. */
    ev_timer_add(w->loop, &w->admit_timer, PX_ADMIT_RETRY_MS);
}

int px_admit_may_accept(struct px_worker *w)
{
    if (w->admit == NULL || atomic_load(&w->admit->open) < w->admit->max)
        return 1;
    pause_accepting(w);
    return 0;
}

void px_admit_accept_failed(struct px_worker *w, int err)
{
    uint64_t now;

    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return; /* EAGAIN, a connection reset before accept: nothing to do */
    now = ev_now(w->loop);
    if (w->emfile_logged_ms == 0 || now - w->emfile_logged_ms >= PX_EMFILE_LOG_MS) {
        log_warn("worker %d: cannot accept: %s (%ld connections open); new connections wait "
                 "until one closes",
                 w->idx, strerror(err), w->admit ? atomic_load(&w->admit->open) : 0L);
        w->emfile_logged_ms = now;
    }
    pause_accepting(w);
}

void px_admit_opened(struct px_worker *w)
{
    if (w->admit)
        atomic_fetch_add(&w->admit->open, 1);
}

void px_admit_closed(struct px_worker *w)
{
    if (w->admit)
        atomic_fetch_sub(&w->admit->open, 1);
    resume(w);
}

int px_admit_listen_mask(const struct px_worker *w)
{
    return w->accept_paused ? 0 : EV_READ;
}
