/*
 * h2.c - an HTTP/2 session on a client connection: nghttp2's callbacks,
 * the bytes in and out, the ready queue of streams, and the flood limits
 * (see h2.h).
 */
#include "proxy/h2.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/h2_int.h"

#define FLOOD_PINGS 50    /* PING frames a second */
#define FLOOD_SETTINGS 50 /* SETTINGS frames a second */
#define FLOOD_EMPTIES 100 /* DATA/HEADERS frames without payload or end, a second */
#define FLOOD_RESETS 100  /* RST_STREAM frames a second (CVE-2023-44487) */
#define RST_BURST 200     /* nghttp2's own limit behind it: at once ... */
#define RST_RATE 33       /* ... and a second after that */
#define OUT_BATCH (64 * 1024)
#define READS_PER_STEP 4

/* Run the streams queued so far (those queued meanwhile wait a step). */
static int run_ready(struct px_h2 *h)
{
    struct px_h2s *s = h->ready, *last = h->ready_tail;
    int n = 0;

    while (s) {
        struct px_h2s *next = s->rnext;
        int was_last = s == last;
        h->ready = next;
        if (h->ready == NULL)
            h->ready_tail = NULL;
        s->queued = 0;
        n++;
        if (s->c && (s->kill || s->h2_closed))
            h->c->w->conn_close(s->c); /* frees s when nghttp2 is done with it */
        else if (s->c)
            h->c->w->conn_pump(s->c);
        else if (s->h2_closed)
            h2s_free(s);
        if (was_last)
            break;
        s = h->ready;
    }
    return n > 0;
}

/* ---- nghttp2 callbacks ---- */

static struct px_h2s *stream_of(struct px_h2 *h, int32_t id)
{
    return nghttp2_session_get_stream_user_data(h->ng, id);
}

/* Over a per-second budget: end the session. */
static int flood(struct px_h2 *h, const char *what)
{
    log_info("h2: %s flood from %s: GOAWAY", what, h->c->peer_ip);
    nghttp2_session_terminate_session(h->ng, NGHTTP2_ENHANCE_YOUR_CALM);
    return 0;
}

static int count_frame(struct px_h2 *h, const nghttp2_frame *f)
{
    uint64_t now = ev_now(h->c->w->loop);

    if (now - h->win_start >= 1000) {
        h->win_start = now;
        h->pings = h->settings = h->empties = h->resets = 0;
    }
    switch (f->hd.type) {
    case NGHTTP2_PING:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK) && ++h->pings > FLOOD_PINGS)
            return flood(h, "PING");
        break;
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK) && ++h->settings > FLOOD_SETTINGS)
            return flood(h, "SETTINGS");
        break;
    case NGHTTP2_RST_STREAM:
        if (++h->resets > FLOOD_RESETS)
            return flood(h, "RST_STREAM (rapid reset)");
        break;
    case NGHTTP2_DATA:
        if (f->hd.length == 0 && !(f->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
            ++h->empties > FLOOD_EMPTIES)
            return flood(h, "empty frame");
        break;
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
    struct px_h2 *h = arg;
    struct px_h2s *s;

    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if ((s = h2s_new(h, f->hd.stream_id)) == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
    nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, s);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
    struct px_h2s *s = stream_of(arg, f->hd.stream_id);

    if (s && f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        h2s_header(s, name, nlen, value, vlen);
    return 0; /* trailers are not forwarded (HTTP/1.1 trailers would need chunking) */
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
    struct px_h2 *h = arg;
    struct px_h2s *s;
    int end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

    count_frame(h, f);
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    if ((s = stream_of(h, f->hd.stream_id)) == NULL)
        return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (h2s_begin(s, end) != 0)
            nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id,
                                      NGHTTP2_INTERNAL_ERROR);
        return 0;
    }
    if (end)
        h2s_end(s);
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *arg)
{
    struct px_h2 *h = arg;
    struct px_h2s *s = stream_of(h, id);

    if (s && s->c)
        h2s_data(s, data, len);
    else /* nobody reads it: acknowledge it at once */
        nghttp2_session_consume(ng, id, len);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
    struct px_h2s *s = stream_of(arg, id);

    if (s) {
        nghttp2_session_set_stream_user_data(ng, id, NULL);
        h2s_closed(s);
    }
    return 0;
}

/* ---- the session ---- */

static nghttp2_session_callbacks *cbs; /* set once, read by every worker */
static pthread_once_t cbs_once = PTHREAD_ONCE_INIT;

static void cbs_init(void)
{
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
}

static nghttp2_session_callbacks *callbacks(void)
{
    pthread_once(&cbs_once, cbs_init);
    return cbs;
}

/* No SETTINGS_MAX_HEADER_LIST_SIZE: nghttp2 would refuse such a stream
 * (REFUSED_STREAM, which clients retry); the head's own limit answers 431
 * as HTTP/1.1 does, and a header block is bounded anyway (9 frames). */
static int session_new(struct px_h2 *h)
{
    static const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    nghttp2_session_callbacks *cb = callbacks();
    nghttp2_option *opt;
    int rc;

    if (cb == NULL || nghttp2_option_new(&opt) != 0)
        return SL_ENOMEM;
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_no_closed_streams(opt, 1);
    nghttp2_option_set_max_continuations(opt, 8);
    nghttp2_option_set_stream_reset_rate_limit(opt, RST_BURST, RST_RATE);
    nghttp2_option_set_max_outbound_ack(opt, 100);
    nghttp2_option_set_max_settings(opt, 32);
    rc = nghttp2_session_server_new2(&h->ng, cb, h, opt);
    nghttp2_option_del(opt);
    if (rc != 0)
        return SL_ENOMEM;
    if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0 ||
        nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW) != 0)
        return SL_ENOMEM;
    return SL_OK;
}

/* Feed what was read; -1 when the session failed (it queued a GOAWAY). */
static int feed(struct px_h2 *h, const char *p, size_t n)
{
    ssize_t r = nghttp2_session_mem_recv(h->ng, (const uint8_t *)p, n);

    if (r >= 0)
        return 0;
    if (r != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
        log_debug("h2: %s: %s", h->c->peer_ip, nghttp2_strerror((int)r));
    nghttp2_session_terminate_session(h->ng, r == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM
                                                                       : NGHTTP2_PROTOCOL_ERROR);
    return -1;
}

/* Frames nghttp2 has for the socket into obuf (the previous batch is out). */
static int produce(struct px_h2 *h)
{
    const uint8_t *p;
    ssize_t n;

    h->olen = 0;
    while (h->olen < OUT_BATCH && (n = nghttp2_session_mem_send(h->ng, &p)) > 0) {
        if (px_buf_ensure(&h->obuf, &h->ocap, h->olen + (size_t)n) != SL_OK)
            return SL_ENOMEM;
        memcpy(h->obuf + h->olen, p, (size_t)n);
        h->olen += (size_t)n;
    }
    if (h->olen)
        px_outq_add(&h->c->to_cl, h->obuf, h->olen);
    return h->olen > 0;
}

int px_h2_start(struct px_conn *c)
{
    struct px_h2 *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return SL_EIO;
    h->c = c;
    if (session_new(h) != SL_OK) {
        nghttp2_session_del(h->ng);
        free(h);
        return SL_EIO;
    }
    c->h2 = h;
    c->state = S_H2;
    if (c->cb_off < c->cb_len && feed(h, c->cb + c->cb_off, c->cb_len - c->cb_off) != 0)
        c->client_eof = 1;
    c->cb_off = c->cb_len = 0;
    return PX_STEP_PROGRESS;
}

/* Read up to a few buffers and feed them.  1 progress, 0 none, SL_EIO. */
static int step_read(struct px_conn *c)
{
    struct px_h2 *h = c->h2;
    int k, progress = 0;

    for (k = 0; k < READS_PER_STEP && !c->client_eof; k++) {
        int rc = px_buf_fill(&c->io, &c->cb, &c->cb_off, &c->cb_len, &c->cb_cap, PX_BUF_INIT);
        if (rc == SL_EAGAIN)
            break;
        if (rc <= 0) {
            c->client_eof = 1; /* hung up, or a transport error */
            break;
        }
        progress = 1;
        if (feed(h, c->cb + c->cb_off, c->cb_len - c->cb_off) != 0)
            c->client_eof = 1; /* nothing more is read; the GOAWAY goes out */
        c->cb_off = c->cb_len = 0;
    }
    return progress;
}

int px_h2_step(struct px_conn *c)
{
    struct px_h2 *h = c->h2;
    int progress = step_read(c);

    progress |= run_ready(h);
    if (c->close_after && !h->goaway_sent) { /* stopping: finish what is open */
        nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR,
                              NULL, 0);
        h->goaway_sent = 1;
    }
    if (c->to_cl.n == 0) {
        int rc = produce(h);
        if (rc < 0)
            return SL_EIO;
        progress |= rc;
    }
    if (c->to_cl.n == 0 && h->ready == NULL &&
        ((!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng)) ||
         c->client_eof || (h->goaway_sent && h->nstreams == 0)))
        return SL_EIO; /* done: everything said has been written */
    return progress ? PX_STEP_PROGRESS : PX_STEP_NONE;
}

int px_h2_wants_read(const struct px_conn *c)
{
    return !c->client_eof && nghttp2_session_want_read(c->h2->ng);
}

int px_h2_idle(struct px_conn *c)
{
    return c->h2->nstreams == 0;
}

void px_h2_free(struct px_conn *c)
{
    struct px_h2 *h = c->h2;
    struct px_h2s *s, *n;

    if (h == NULL)
        return;
    h->freeing = 1;
    for (s = h->streams; s; s = n) {
        n = s->next;
        if (s->c)
            c->w->conn_close(s->c);
        h2s_free(s);
    }
    nghttp2_session_del(h->ng);
    free(h->obuf);
    free(h);
    c->h2 = NULL;
}
