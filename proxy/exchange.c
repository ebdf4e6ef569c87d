/*
 * exchange.c - a request's exchange with one upstream connection: taking a
 * pooled connection or dialing, the deferred head write, one retry on a
 * fresh connection (px_xchg_may_resend()), and the end.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/conn.h"

void px_xchg_defer(struct px_conn *c)
{
    struct px_worker *w = c->w;

    if (w->ndeferred == w->capdeferred) {
        int n = w->capdeferred ? w->capdeferred * 2 : 64;
        struct px_conn **p = realloc(w->deferred, sizeof(*p) * (size_t)n);
        if (p == NULL)
            return; /* written at once instead */
        w->deferred = p;
        w->capdeferred = n;
    }
    w->deferred[w->ndeferred++] = c;
    c->defer_up = w->ndeferred;
}

void px_xchg_undefer(struct px_conn *c)
{
    if (c->defer_up) {
        c->w->deferred[c->defer_up - 1] = NULL;
        c->defer_up = 0;
    }
}

int px_xchg_start(struct px_conn *c)
{
    int connecting = 0;

    c->up = px_up_take(&c->w->pool, c->target);
    if (c->up == NULL && (c->up = px_up_dial(&c->w->pool, c->target, &connecting)) == NULL) {
        pxm_req_conn_error(c);
        return SL_EIO;
    }
    c->connecting = connecting;
    c->up_sent = 0;
    c->res_state = R_HEAD;
    memset(&c->uscan, 0, sizeof(c->uscan));
    c->ub_len = c->ub_off = 0;
    /* A pooled connection is written at once by pump(); the interest asks
     * for EV_WRITE only if that blocks, saving an epoll_ctl(). */
    ev_fd_set(c->w->loop, c->up->io.fd, px_io_mask(&c->up->io, connecting ? EV_WRITE : 0),
              c->w->up_event, c);
    return SL_OK;
}

void px_xchg_release(struct px_conn *c, int reusable)
{
    px_xchg_undefer(c);
    px_sticky_release(&c->stick);
    if (c->up) {
        if (reusable)
            px_up_park(c->up);
        else
            px_up_close(c->up);
        c->up = NULL;
    }
    if (c->target) {
        atomic_fetch_sub(&c->target->in_flight, 1);
        px_target_release(c->target);
        c->target = NULL;
    }
    c->connecting = 0;
}

/* GET, HEAD and OPTIONS say nothing changes on the target: sent again
 * after a target that took one and closed, they do no harm twice. */
static int safe_to_repeat(const struct px_conn *c)
{
    const struct h1_request *r = &c->req;
    int safe = (r->method_len == 3 && memcmp(r->method, "GET", 3) == 0) ||
               (r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0) ||
               (r->method_len == 7 && memcmp(r->method, "OPTIONS", 7) == 0);

    return safe && !r->chunked && r->content_length <= 0;
}

int px_xchg_may_resend(const struct px_conn *c)
{
    if (c->retried || c->resp_started || c->res_state != R_HEAD || c->ub_len != 0)
        return 0;
    /* Nothing written to the target, and the body (if any) still unread
     * from the client: the whole request can go again, whatever it is. */
    if (!c->up_sent && !c->body_sent_any)
        return 1;
    return safe_to_repeat(c);
}

void px_xchg_failed(struct px_conn *c, int code)
{
    int can_retry = code == 502 && px_xchg_may_resend(c);

    if (c->up) {
        px_up_close(c->up);
        c->up = NULL;
    }
    if (can_retry) {
        int connecting;
        c->retried = 1;
        c->up_sent = 0;
        c->up = px_up_dial(&c->w->pool, c->target, &connecting);
        if (c->up == NULL)
            pxm_req_conn_error(c);
        if (c->up && px_fwd_request_head(c) == SL_OK) {
            c->connecting = connecting;
            ev_fd_set(c->w->loop, c->up->io.fd, px_io_mask(&c->up->io, EV_WRITE), c->w->up_event,
                      c);
            return;
        }
    }
    px_xchg_release(c, 0);
    if (!c->req_done)
        c->close_after = 1;
    px_reply_error(c, code, c->close_after);
}

void px_xchg_finish(struct px_conn *c)
{
    int reuse = c->up_reusable && c->req_done && c->ub_off >= c->ub_len && !c->connecting &&
                !c->dsc_close; /* an Ambiguous request: the target may have read it otherwise */

    px_xchg_release(c, reuse);
    c->state = S_HEAD;
    c->head_started = 0;
    memset(&c->scan, 0, sizeof(c->scan));
    pxm_req_end(c);
}
