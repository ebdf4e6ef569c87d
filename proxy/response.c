/*
 * response.c - the upstream's response on its way to the client: the head
 * parsed and rewritten, then the body a span at a time, re-chunked for a
 * HTTP/1.1 client when its length is not known, delimited by closing for a
 * HTTP/1.0 one.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "proxy/conn.h"

/* Queue one span of body for the client, chunk-framed when re-chunking. */
static void queue_span(struct px_conn *c, const char *d, size_t n)
{
    if (c->res_rechunk) {
        int k = snprintf(c->to_cl.pre, sizeof(c->to_cl.pre), "%zx\r\n", n);
        px_outq_add(&c->to_cl, c->to_cl.pre, (size_t)k);
        px_outq_add(&c->to_cl, d, n);
        px_outq_add(&c->to_cl, "\r\n", 2);
    } else
        px_outq_add(&c->to_cl, d, n);
}

/* An interim (1xx but 101) head: dropped, except a 100 Continue the client
 * asked for. */
static int interim(struct px_conn *c, int head_len)
{
    c->ub_off += (size_t)head_len;
    memset(&c->uscan, 0, sizeof(c->uscan));
    if (c->res.status == 100 && c->expect_continue && !c->resp_started) {
        px_outq_add(&c->to_cl, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        c->expect_continue = 0;
    }
    return PX_STEP_PROGRESS;
}

/* The response head: how its body is framed both ways, then the head for
 * the client.  PX_STEP_PROGRESS, or PX_STEP_NONE while it is incomplete. */
static int move_head(struct px_conn *c)
{
    int rc = h1_parse_response(c->ub + c->ub_off, c->ub_len - c->ub_off, &c->uscan, c->head_req,
                               &c->res);

    if (rc == H1_INCOMPLETE)
        return PX_STEP_NONE;
    if (rc == H1_ERROR || (c->res.status == 101 && !c->upgrade)) {
        px_xchg_failed(c, 502);
        return PX_STEP_PROGRESS;
    }
    if (c->res.status >= 100 && c->res.status < 200 && c->res.status != 101)
        return interim(c, rc);
    pxm_req_response(c, c->res.status);
    if (c->res.status == 101) {
        if (px_fwd_response_head(c) != SL_OK) {
            px_xchg_failed(c, 502);
            return PX_STEP_PROGRESS;
        }
        c->ub_off += (size_t)rc;
        c->state = S_TUNNEL;
        return PX_STEP_PROGRESS;
    }
    c->res_chunked_in = c->res.chunked;
    c->res_close_delim = !c->res.no_body && !c->res.chunked && c->res.close_delimited;
    /* an h2 stream frames the body itself (DATA, END_STREAM) */
    c->res_rechunk = (c->res_chunked_in || c->res_close_delim) && c->client_minor == 1 && !c->stream;
    if ((c->res_chunked_in || c->res_close_delim) && c->client_minor == 0)
        c->close_after = 1; /* 1.0 client: delimit by closing */
    if (!c->req_done)
        c->close_after = 1; /* early answer: the rest of the body is unread */
    c->res_left = c->res.no_body ? 0
                  : c->res_chunked_in || c->res_close_delim ? -1
                                                             : c->res.content_length;
    c->up_reusable = c->res.keep_alive && !c->res_close_delim;
    memset(&c->res_ch, 0, sizeof(c->res_ch));
    c->to_cl.n = 0;
    if (px_fwd_response_head(c) != SL_OK) {
        px_xchg_failed(c, 502);
        return PX_STEP_PROGRESS;
    }
    /* hc now holds a copy: ub bytes of the head can go */
    c->ub_off += (size_t)rc;
    c->res_state = c->res_left == 0 ? R_DONE : R_BODY;
    return PX_STEP_PROGRESS;
}

static int move_body(struct px_conn *c)
{
    const char *d;
    size_t used, dn;
    int rc;

    if (!c->res_chunked_in) {
        size_t n = c->ub_len - c->ub_off;
        if (c->res_left >= 0 && (int64_t)n > c->res_left)
            n = (size_t)c->res_left;
        queue_span(c, c->ub + c->ub_off, n);
        c->ub_off += n;
        if (c->res_left > 0 && (c->res_left -= (int64_t)n) == 0)
            c->res_state = R_DONE;
        return PX_STEP_PROGRESS;
    }
    rc = h1_chunked_decode(&c->res_ch, c->ub + c->ub_off, c->ub_len - c->ub_off, &used, &d, &dn);
    c->ub_off += used;
    if (rc == H1_ERROR) { /* the client cannot be told: end it after what it got */
        c->up_reusable = 0;
        c->close_after = 1;
        c->res_state = R_DONE;
        c->client_eof = 1;
        return PX_STEP_PROGRESS;
    }
    if (dn)
        queue_span(c, d, dn);
    if (rc == H1_DONE)
        c->res_state = R_DONE;
    return used > 0 || dn > 0 || c->to_cl.n > 0 ? PX_STEP_PROGRESS : PX_STEP_NONE;
}

int px_resp_move(struct px_conn *c)
{
    int step;

    if (c->to_cl.n || c->ub_off >= c->ub_len)
        return PX_STEP_NONE;
    if (c->res_state == R_HEAD) {
        step = move_head(c);
        /* The first body span already read goes out in the same writev()
         * as the head (one segment, one wake-up of the client); the head
         * takes one iovec, a span at most three. */
        if (c->state != S_UP || c->res_state != R_BODY || c->ub_off >= c->ub_len ||
            step == PX_STEP_NONE)
            return step;
    }
    if (c->res_state == R_BODY)
        return move_body(c);
    return PX_STEP_NONE;
}
