/*
 * client.c - the state machine of one client connection.
 *
 * One function, pump(), drives a connection: it flushes pending output,
 * then runs the step of the connection's state (a request head being read,
 * an exchange with an upstream, a local answer, a tunnel), which parses what
 * has arrived and moves body bytes one span at a time per direction (so
 * reading stops while a write is pending: backpressure), and finally sets
 * the epoll interest from what it waits for.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "proxy/accesslog_conn.h"
#include "proxy/conn.h"
#include "proxy/h2.h"
#include "proxy/io_tls.h"

static int fill_client(struct px_conn *c)
{
    int n = px_buf_fill(&c->io, &c->cb, &c->cb_off, &c->cb_len, &c->cb_cap, H1_MAX_REQUEST_HEAD);

    if (n == 0)
        c->client_eof = 1;
    return n;
}

static int fill_up(struct px_conn *c)
{
    return px_buf_fill(&c->up->io, &c->ub, &c->ub_off, &c->ub_len, &c->ub_cap,
                       H1_MAX_RESPONSE_HEAD);
}

/* More request body: PX_STEP_*, or SL_EIO when the client gave up mid-body. */
static int fill_body(struct px_conn *c)
{
    int rc = fill_client(c);

    if (rc == 0 || (rc < 0 && rc != SL_EAGAIN))
        return SL_EIO;
    return rc > 0 ? PX_STEP_PROGRESS : PX_STEP_NONE;
}

static void arm_timer(struct px_conn *c)
{
    if (c->state == S_HEAD && c->head_started)
        return; /* the head deadline does not move */
    /* Waiting for the next request: parked after PX_PARK_MS (conn_timer),
     * not at once, so a busy keep-alive connection does not trade its
     * buffers back and forth with the cache on every request. */
    c->parking = c->state == S_HEAD && c->idle_ms > PX_PARK_MS;
    ev_timer_add(c->w->loop, &c->timer,
                 c->parking                          ? PX_PARK_MS
                 : c->state == S_UP && c->connecting ? PX_CONNECT_TIMEOUT_MS
                                                     : (uint64_t)c->idle_ms);
}

/* ---- steps, one per state ---- */

static int step_head(struct px_conn *c)
{
    int status = 0, rc;

    if (c->io.h2) /* TLS chose HTTP/2 */
        return px_h2_start(c);
    if (c->to_cl.n)
        return PX_STEP_NONE;
    if (c->cb_off >= c->cb_len && c->close_after)
        return SL_EIO;
    if (c->cb_off < c->cb_len) {
        rc = h1_parse_request_tol(c->cb + c->cb_off, c->cb_len - c->cb_off, &c->scan, c->tol,
                                  &c->req, &status);
        if (rc > 0) {
            px_req_handle(c, (size_t)rc);
            return PX_STEP_PROGRESS;
        }
        if (rc == H1_ERROR) {
            px_desync_classify_refusal(&c->scan, c->cb + c->cb_off, c->cb_len - c->cb_off,
                                       &c->dsc);
            c->client_minor = 1;
            c->head_req = 0;
            c->resp_started = 0;
            pxm_req_begin(c, NULL, c->cb_len - c->cb_off, 1);
            pxm_req_classified(c);
            px_reply_error(c, status ? status : 400, 1);
            return PX_STEP_PROGRESS;
        }
        if (!c->head_started) {
            c->head_started = 1;
            c->parking = 0;
            ev_timer_add(c->w->loop, &c->timer, (uint64_t)c->w->head_timeout_ms);
        }
    }
    if (c->client_eof)
        return SL_EIO;
    rc = fill_client(c);
    if (rc < 0 && rc != SL_EAGAIN)
        return SL_EIO;
    return rc >= 0 ? PX_STEP_PROGRESS : PX_STEP_NONE;
}

/* The upstream's side of an exchange: its response, or its end. */
static int step_up_response(struct px_conn *c, int head_just_sent)
{
    int rc;

    if (!c->up || c->connecting || c->res_state == R_DONE || c->to_cl.n || c->defer_up ||
        head_just_sent)
        return PX_STEP_NONE;
    if ((rc = px_resp_move(c)) != PX_STEP_NONE)
        return rc;
    rc = fill_up(c);
    if (rc > 0 || rc == SL_EAGAIN)
        return rc > 0 ? PX_STEP_PROGRESS : PX_STEP_NONE;
    /* the upstream hung up (0) or its head is over the limit (< 0) */
    if (rc == 0 && c->res_state == R_BODY && c->res_close_delim)
        c->res_state = R_DONE;
    else if (c->res_state == R_HEAD)
        px_xchg_failed(c, 502);
    else
        return SL_EIO; /* a truncated body: the client cannot be told otherwise */
    c->up_reusable = 0;
    return PX_STEP_PROGRESS;
}

static int step_up(struct px_conn *c, int head_just_sent)
{
    int progress = PX_STEP_NONE, rc;

    if (!c->req_done) {
        if (px_req_move_body(c))
            progress = PX_STEP_PROGRESS;
        else if (!c->to_up.n && !c->connecting && c->cb_off >= c->cb_len && !c->client_eof) {
            if ((rc = fill_body(c)) < 0)
                return rc;
            progress |= rc;
        }
        if (c->state != S_UP)
            return progress;
    }
    if ((rc = step_up_response(c, head_just_sent)) < 0)
        return rc;
    if (rc == PX_STEP_PROGRESS)
        return rc;
    if (c->state == S_UP && c->res_state == R_DONE && c->req_done && !c->to_cl.n && !c->to_up.n) {
        px_xchg_finish(c);
        /* Nothing pipelined: the client has not had time to send the next
         * request, so do not read() just to see EAGAIN (unless TLS holds
         * bytes already decrypted, which no socket event announces). */
        if (c->cb_off >= c->cb_len && !c->client_eof && !c->close_after &&
            !px_io_buffered(&c->io))
            return PX_STEP_WAIT;
        return PX_STEP_PROGRESS;
    }
    return progress;
}

static int step_local(struct px_conn *c)
{
    int progress = PX_STEP_NONE, rc;

    if (!c->req_done && !c->close_after) {
        if (px_req_discard(c))
            progress = PX_STEP_PROGRESS;
        else if (c->cb_off >= c->cb_len && !c->client_eof) {
            if ((rc = fill_body(c)) < 0)
                return rc;
            progress |= rc;
        }
    }
    if (!c->to_cl.n && (c->req_done || c->close_after)) {
        if (c->close_after)
            return SL_EIO;
        c->state = S_HEAD;
        c->head_started = 0;
        memset(&c->scan, 0, sizeof(c->scan));
        pxm_req_end(c);
        progress = PX_STEP_PROGRESS;
    }
    return progress;
}

/* Bytes both ways as they come, after a 101. */
static int step_tunnel(struct px_conn *c)
{
    int progress = PX_STEP_NONE, rc;

    if (!c->to_up.n && c->cb_off < c->cb_len) {
        pxm_req_io(c, 0, c->cb_len - c->cb_off);
        px_outq_add(&c->to_up, c->cb + c->cb_off, c->cb_len - c->cb_off);
        c->cb_off = c->cb_len;
        progress = PX_STEP_PROGRESS;
    } else if (!c->to_up.n) {
        rc = fill_client(c);
        if (rc == 0 || (rc < 0 && rc != SL_EAGAIN))
            return SL_EIO;
        progress |= rc > 0;
    }
    if (!c->to_cl.n && c->ub_off < c->ub_len) {
        px_outq_add(&c->to_cl, c->ub + c->ub_off, c->ub_len - c->ub_off);
        c->ub_off = c->ub_len;
        progress = PX_STEP_PROGRESS;
    } else if (!c->to_cl.n) {
        rc = fill_up(c);
        if (rc == 0 || (rc < 0 && rc != SL_EAGAIN))
            return SL_EIO;
        progress |= rc > 0;
    }
    return progress;
}

/* ---- the pump ---- */

static void set_interest(struct px_conn *c)
{
    int cm = 0, um = 0;

    if (c->to_cl.n)
        cm |= EV_WRITE;
    switch (c->state) {
    case S_HEAD:
        if (!c->to_cl.n && !c->client_eof)
            cm |= EV_READ;
        break;
    case S_UP:
        if (!c->req_done && !c->to_up.n && !c->client_eof)
            cm |= EV_READ;
        if (c->up) {
            if (c->connecting || (c->to_up.n && !c->defer_up))
                um |= EV_WRITE;
            if (!c->connecting && c->res_state != R_DONE && !c->to_cl.n)
                um |= EV_READ;
        }
        break;
    case S_LOCAL:
        if (!c->req_done && !c->close_after && !c->client_eof)
            cm |= EV_READ;
        break;
    case S_TUNNEL:
        if (!c->to_up.n && !c->client_eof)
            cm |= EV_READ;
        if (c->up) {
            if (c->to_up.n)
                um |= EV_WRITE;
            if (!c->to_cl.n)
                um |= EV_READ;
        }
        break;
    case S_H2:
        if (px_h2_wants_read(c))
            cm |= EV_READ;
        break;
    }
    px_io_wait(&c->io, c->w->loop, cm);
    if (c->up)
        px_io_wait(&c->up->io, c->w->loop, um);
}

static size_t queued(const struct px_outq *q)
{
    size_t n = 0;
    int i;

    for (i = 0; i < q->n; i++)
        n += q->iov[i].iov_len;
    return n;
}

/* Flush what waits for either side.  PX_STEP_*, or SL_EIO (close). */
static int flush(struct px_conn *c, int *head_just_sent)
{
    int progress = PX_STEP_NONE, rc;

    if (c->to_cl.n) {
        size_t before = queued(&c->to_cl);
        if ((rc = px_outq_flush(&c->io, &c->to_cl)) < 0)
            return SL_EIO;
        pxm_req_io(c, before - queued(&c->to_cl), 0);
        progress |= rc;
    }
    if (c->up && !c->connecting && c->to_up.n && !c->defer_up) {
        if ((rc = px_outq_flush(&c->up->io, &c->to_up)) < 0) {
            if (c->state == S_TUNNEL)
                return SL_EIO;
            px_xchg_failed(c, 502);
            return PX_STEP_PROGRESS;
        }
        if (rc > 0)
            pxm_req_sent_up(c);
        progress |= rc;
        c->up_sent |= rc > 0;
        /* the answer cannot be there yet: let epoll say when it is */
        *head_just_sent = c->state == S_UP && c->res_state == R_HEAD && !c->to_up.n &&
                          c->req_done && c->ub_len == 0;
    }
    return progress;
}

static void pump(struct px_conn *c)
{
    int guard = 0, head_just_sent = 0;

    for (;;) {
        int progress, rc;

        if (++guard > 64) {
            /* let other connections run; level-triggered epoll returns, but
             * bytes a TLS stream decrypted already must be asked for */
            if (px_io_buffered(&c->io) && !c->defer_up)
                px_xchg_defer(c);
            break;
        }
        if ((progress = flush(c, &head_just_sent)) < 0)
            goto close;
        switch (c->state) {
        case S_HEAD: rc = step_head(c); break;
        case S_UP: rc = step_up(c, head_just_sent); break;
        case S_LOCAL: rc = step_local(c); break;
        case S_H2: rc = px_h2_step(c); break;
        default: rc = step_tunnel(c); break;
        }
        if (rc < 0)
            goto close;
        if (rc == PX_STEP_WAIT) {
            arm_timer(c);
            break;
        }
        if (!(progress | rc))
            break;
        arm_timer(c);
    }
    set_interest(c);
    return;
close:
    px_conn_close(c);
}

void px_conn_pump(struct px_conn *c)
{
    pump(c);
}

static void client_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    /* A client that reset the connection in the middle of its TLS
     * handshake is gone: what it sent last (its Finished) would only buy it
     * session tickets it cannot receive.  HAProxy drops it at once too. */
    if ((mask & EV_ERROR) && px_io_tls_handshaking(&((struct px_conn *)arg)->io)) {
        px_conn_close(arg);
        return;
    }
    pump(arg);
}

void px_conn_up_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    struct px_conn *c = arg;

    if (c->connecting) {
        if (px_up_connected(c->up) != SL_OK) {
            pxm_req_conn_error(c);
            px_xchg_failed(c, 502);
            pump(c);
            return;
        }
        c->connecting = 0;
    }
    pump(c);
}

/* The idle, head or connect deadline passed.  Waiting for a target - to
 * connect or to answer - is answered 504, as ALB does for both. */
static void conn_free(struct px_conn *c);

/* Nothing is pending on <c> but the wait for its next request.  Only a
 * plain TCP client connection parks: a TLS session (and an HTTP/2 one over
 * it, and its streams) lives in the connection's transport, not in a
 * socket a parked record could hold. */
static int parkable(const struct px_conn *c)
{
    return c->state == S_HEAD && !c->https && !c->stream && !c->head_started &&
           c->cb_off >= c->cb_len && !c->to_cl.n && c->up == NULL && c->target == NULL &&
           !c->client_eof && !c->close_after && !c->defer_up && px_io_buffered(&c->io) == 0 &&
           !atomic_load(&c->w->stopping);
}

static void conn_timer(struct ev_loop *l, void *arg)
{
    struct px_conn *c = arg;
    uint64_t left = c->idle_ms > PX_PARK_MS ? (uint64_t)(c->idle_ms - PX_PARK_MS) : 0;

    if (c->parking) {
        c->parking = 0;
        if (!parkable(c) || px_park(c, left) != SL_OK)
            ev_timer_add(l, &c->timer, left); /* the rest of the idle timeout */
        else
            conn_free(c); /* the record has its socket (and its counters) now */
        return;
    }
    if (c->state == S_H2 && !px_h2_idle(c)) { /* idle only once no stream is open */
        ev_timer_add(l, &c->timer, (uint64_t)c->idle_ms);
        return;
    }
    if (c->state == S_UP && !c->resp_started) {
        if (c->connecting)
            pxm_req_conn_error(c);
        px_xchg_release(c, 0);
        c->close_after = 1;
        px_reply_error(c, 504, 1);
        pump(c);
        return;
    }
    px_conn_close(c);
}

/* <c> and its buffers, gone. */
static void conn_destroy(struct px_conn *c)
{
    free(c->cb);
    free(c->ub);
    free(c->hu);
    free(c->hc);
    free(c);
}

/* Zero <c> for its next use, but for the two parsers' field arrays (8 KiB
 * of its 10): their counts are zeroed, and nothing reads a field past its
 * count, so clearing them would only cost an h2 stream its memset. */
static void conn_clear(struct px_conn *c)
{
    char *p = (char *)c;
    size_t rq = offsetof(struct px_conn, req.headers), rqe = offsetof(struct px_conn, req.nheaders);
    size_t rs = offsetof(struct px_conn, res.headers), rse = offsetof(struct px_conn, res.nheaders);

    _Static_assert(offsetof(struct px_conn, req) < offsetof(struct px_conn, res),
                   "conn_clear() clears the request's fields before the response's");
    memset(p, 0, rq);
    memset(p + rqe, 0, rs - rqe);
    memset(p + rse, 0, sizeof(*c) - rse);
}

/* Unlink <c> from its worker and keep it (buffers and all) in the
 * worker's cache, or free it; its socket is closed or handed on already,
 * its counters closed or handed on (pxm_conn_close(), pxm_conn_park()). */
static void conn_free(struct px_conn *c)
{
    struct px_worker *w = c->w;
    char *cb = c->cb, *ub = c->ub, *hu = c->hu, *hc = c->hc;
    size_t cbc = c->cb_cap, ubc = c->ub_cap, huc = c->hu_cap, hcc = c->hc_cap;

    px_xchg_undefer(c);
    ev_timer_del(w->loop, &c->timer);
    if (!c->stream) {
        if (c->prev)
            c->prev->next = c->next;
        else
            w->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        w->nconns--;
    }
    if (w->nfree >= PX_CONN_CACHE || cbc != PX_BUF_INIT || ubc != PX_BUF_INIT) {
        w->freed += sizeof(*c) + cbc + ubc + huc + hcc;
        conn_destroy(c);
        return;
    }
    if (huc != PX_BUF_INIT) { /* grown for a large head: not kept */
        free(hu);
        hu = NULL;
        huc = 0;
    }
    if (hcc != PX_BUF_INIT) {
        free(hc);
        hc = NULL;
        hcc = 0;
    }
    conn_clear(c);
    c->cb = cb;
    c->ub = ub;
    c->hu = hu;
    c->hc = hc;
    c->cb_cap = cbc;
    c->ub_cap = ubc;
    c->hu_cap = huc;
    c->hc_cap = hcc;
    c->next = w->free_conns;
    w->free_conns = c;
    w->nfree++;
}

void px_conn_close(struct px_conn *c)
{
    struct px_worker *w = c->w;
    int stream = c->stream;

    pxm_conn_close(c);
    px_xchg_release(c, 0);
    px_h2_free(c);
    px_io_close(&c->io, w->loop);
    conn_free(c);
    if (!stream) /* an h2 stream is no client connection of its own */
        px_admit_closed(w);
}

void px_conn_cache_free(struct px_worker *w)
{
    struct px_conn *c;

    while ((c = w->free_conns) != NULL) {
        w->free_conns = c->next;
        conn_destroy(c);
    }
    w->nfree = w->nfree_low = 0;
}

/* A zeroed connection of <w> with input buffers of PX_BUF_INIT, from the
 * cache when it has one; NULL when out of memory. */
static struct px_conn *conn_take(struct px_worker *w)
{
    struct px_conn *c = w->free_conns;

    if (c) {
        w->free_conns = c->next;
        if (--w->nfree < w->nfree_low)
            w->nfree_low = w->nfree;
        c->next = NULL;
        return c;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        px_buf_ensure(&c->cb, &c->cb_cap, PX_BUF_INIT) != SL_OK ||
        px_buf_ensure(&c->ub, &c->ub_cap, PX_BUF_INIT) != SL_OK) {
        if (c)
            free(c->cb);
        free(c);
        return NULL;
    }
    return c;
}

static struct px_conn *conn_new(struct px_worker *w)
{
    struct px_conn *c = conn_take(w);

    if (c == NULL)
        return NULL;
    c->w = w;
    ev_timer_init(&c->timer, conn_timer, c);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    return c;
}

/* Cached connections that no one took in the last second go, down to
 * PX_CONN_KEEP: an h2 burst's hundreds of streams do not stay allocated. */
void px_conn_cache_trim(struct px_worker *w)
{
    int drop = w->nfree_low - PX_CONN_KEEP;

    while (drop-- > 0 && w->free_conns) {
        struct px_conn *c = w->free_conns;

        w->free_conns = c->next;
        w->nfree--;
        w->freed += sizeof(*c) + c->cb_cap + c->ub_cap + c->hu_cap + c->hc_cap;
        conn_destroy(c);
    }
    w->nfree_low = w->nfree;
}

struct px_conn *px_conn_stream(struct px_conn *parent, const struct px_io *io, const char *head,
                               size_t n)
{
    struct px_conn *c = conn_take(parent->w);

    if (c == NULL)
        return NULL;
    if (px_buf_ensure(&c->cb, &c->cb_cap, n) != SL_OK) {
        conn_destroy(c);
        return NULL;
    }
    c->w = parent->w;
    c->io = *io;
    c->stream = 1;
    c->peer = parent->peer;
    memcpy(c->peer_ip, parent->peer_ip, sizeof(c->peer_ip));
    memcpy(c->lid, parent->lid, sizeof(c->lid));
    c->lport = parent->lport;
    c->https = parent->https;
    /* one conn_trace_id per connection, as ALB logs its streams */
    memcpy(c->mc.conn_trace, pxa_conn_trace(parent), sizeof(c->mc.conn_trace));
    c->idle_ms = parent->idle_ms;
    c->tol = parent->tol;
    c->drop_invalid = parent->drop_invalid;
    c->desync_mode = parent->desync_mode;
    memcpy(c->cb, head, n);
    c->cb_len = n;
    ev_timer_init(&c->timer, conn_timer, c);
    ev_timer_add(c->w->loop, &c->timer, (uint64_t)c->idle_ms);
    return c;
}

static void peer_text(struct px_conn *c)
{
    const struct sockaddr_storage *peer = &c->peer;

    if (peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->peer_ip,
                  sizeof(c->peer_ip));
    else if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, c->peer_ip,
                  sizeof(c->peer_ip));
}

void px_conn_unpark(struct px_parked *p)
{
    struct px_worker *w = p->w;
    struct px_conn *c = conn_new(w);
    uint64_t now = ev_mono_ms();

    if (c == NULL) { /* out of memory: this connection goes */
        px_park_close(p);
        return;
    }
    c->io = p->io;
    c->peer = p->peer;
    peer_text(c);
    memcpy(c->lid, p->lid, sizeof(c->lid));
    c->lport = p->lport;
    c->idle_ms = p->idle_ms;
    c->born_ms = p->born_ms;
    /* the same conn_trace_id for every request of the connection */
    memcpy(c->mc.conn_trace, p->conn_trace, sizeof(c->mc.conn_trace));
    px_xff_conf(&c->fwdc, px_table_listener(w->table, c->lid));
    pxm_conn_unpark(c, p->mcell); /* the record's counter cell, handed on */
    p->mcell = NULL;
    px_req_hygiene(c, px_table_listener(w->table, c->lid));
    if (p->fresh) {
        /* The header timeout runs from accept: a client that connects and
         * then trickles gets no more time than one that never spoke. */
        c->head_started = 1;
        ev_timer_add(w->loop, &c->timer, p->deadline > now ? p->deadline - now : 0);
    }
    ev_fd_set(w->loop, c->io.fd, px_io_mask(&c->io, EV_READ), client_event, c);
    px_park_release(p);
    pump(c);
}

/* An HTTPS listener's connection: a px_conn from the start, since its TLS
 * handshake is the first thing to do on it (and a session cannot park). */
static int accept_tls(struct px_worker *w, int fd, const struct sockaddr_storage *peer,
                      const struct px_lsock *ls, const struct px_listener *lis, int idle_ms)
{
    struct px_conn *c;

    if (lis->tls == NULL || (c = conn_new(w)) == NULL) {
        close(fd);
        pxm_conn_rejected(w, ls->lid);
        return SL_ENOMEM;
    }
    px_io_plain(&c->io, fd);
    if (px_io_tls_server(&c->io, fd, lis->tls) != SL_OK) {
        close(fd);
        c->io.fd = -1;
        pxm_conn_rejected(w, ls->lid);
        conn_free(c);
        return SL_ENOMEM;
    }
    c->https = 1;
    c->peer = *peer;
    peer_text(c);
    memcpy(c->lid, ls->lid, sizeof(c->lid));
    c->lport = ls->port;
    pxa_conn_watch(c); /* an HTTPS connection: its connection log line */
    c->idle_ms = idle_ms;
    pxm_conn_open(c);
    c->born_ms = ev_now(w->loop);
    px_xff_conf(&c->fwdc, lis);
    px_req_hygiene(c, lis);
    c->head_started = 1;
    ev_fd_set(w->loop, fd, px_io_mask(&c->io, EV_READ), client_event, c);
    ev_timer_add(w->loop, &c->timer, (uint64_t)w->head_timeout_ms);
    return SL_OK;
}

int px_conn_accept(struct px_worker *w, int fd, const struct sockaddr_storage *peer,
                   const struct px_lsock *ls)
{
    const struct px_listener *lis = px_table_listener(w->table, ls->lid);
    int idle_ms = lis && lis->idle_timeout_s > 0 ? lis->idle_timeout_s * 1000 : PX_IDLE_DEFAULT_MS;

    if (lis && lis->https)
        return accept_tls(w, fd, peer, ls, lis, idle_ms);
    if (px_park_fresh(w, fd, peer, ls, idle_ms, ev_mono_ms() + (uint64_t)w->head_timeout_ms) !=
        SL_OK) {
        close(fd);
        pxm_conn_rejected(w, ls->lid);
        return SL_ENOMEM;
    }
    return SL_OK;
}
