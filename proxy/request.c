/*
 * request.c - what happens to a request once its head is parsed: the
 * routing decision (route.h), the proxy's own answers, and the body's way
 * to the upstream, one span at a time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "proxy/conn.h"
#include "proxy/pathnorm.h"
#include "proxy/route.h"

/* A request body the proxy answers itself (fixed-response, redirect, 503)
 * is read and dropped so the connection stays usable, up to PX_DISCARD_MAX
 * bytes; a longer body, or one the client waits to send (Expect:
 * 100-continue), ends the connection after the answer instead. */
static int local_close_needed(const struct px_conn *c)
{
    if (c->req_done)
        return 0;
    return c->expect_continue || (!c->req_chunked && c->req_left > PX_DISCARD_MAX);
}

/* The next span of request body buffered in cb, its framing (length or
 * chunked) consumed; sets req_done at the end of the body.  <d>/<dn> is the
 * data (may be empty), <used> the bytes of cb consumed.  SL_OK, or SL_EINVAL
 * for a bad chunk framing. */
static int take_span(struct px_conn *c, const char **d, size_t *dn, size_t *used)
{
    int rc;

    if (!c->req_chunked) {
        size_t n = c->cb_len - c->cb_off;
        if ((int64_t)n > c->req_left)
            n = (size_t)c->req_left;
        *d = c->cb + c->cb_off;
        *dn = *used = n;
        pxm_req_io(c, 0, n);
        c->cb_off += n;
        c->req_left -= (int64_t)n;
        c->req_done = c->req_left == 0;
        return SL_OK;
    }
    rc = h1_chunked_decode(&c->req_ch, c->cb + c->cb_off, c->cb_len - c->cb_off, used, d, dn);
    c->cb_off += *used;
    pxm_req_io(c, 0, *used);
    if (rc == H1_DONE)
        c->req_done = 1;
    return rc == H1_ERROR ? SL_EINVAL : SL_OK;
}

int px_req_discard(struct px_conn *c)
{
    const char *d;
    size_t used, dn;

    if (c->req_done || c->cb_off >= c->cb_len)
        return PX_STEP_NONE;
    if (take_span(c, &d, &dn, &used) != SL_OK || (c->discarded += dn) > PX_DISCARD_MAX) {
        c->close_after = 1; /* the answer is out; the framing is not trustworthy */
        c->client_eof = 1;
        return PX_STEP_PROGRESS;
    }
    return used > 0 ? PX_STEP_PROGRESS : PX_STEP_NONE;
}

int px_req_move_body(struct px_conn *c)
{
    const char *d;
    size_t used, dn;

    if (c->req_done || c->to_up.n || c->connecting || c->cb_off >= c->cb_len)
        return PX_STEP_NONE;
    if (take_span(c, &d, &dn, &used) != SL_OK) {
        px_xchg_release(c, 0);
        px_reply_error(c, 400, 1);
        return PX_STEP_PROGRESS;
    }
    if (dn && c->req_chunked) {
        int k = snprintf(c->to_up.pre, sizeof(c->to_up.pre), "%zx\r\n", dn);
        px_outq_add(&c->to_up, c->to_up.pre, (size_t)k);
        px_outq_add(&c->to_up, d, dn);
        px_outq_add(&c->to_up, "\r\n", 2);
    } else
        px_outq_add(&c->to_up, d, dn);
    if (dn)
        c->body_sent_any = 1;
    if (c->req_chunked && c->req_done)
        px_outq_add(&c->to_up, "0\r\n\r\n", 5);
    return used > 0 || dn > 0 ? PX_STEP_PROGRESS : PX_STEP_NONE;
}

/* ---- the head ---- */

static void reset_exchange(struct px_conn *c, size_t head_len)
{
    const struct h1_request *r = &c->req;

    c->client_minor = r->minor_version;
    c->head_req = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
    c->close_after = !r->keep_alive || atomic_load(&c->w->stopping);
    c->expect_continue = r->expect_continue;
    c->upgrade = r->upgrade;
    c->resp_started = 0;
    c->cb_off += head_len;
    c->req_chunked = r->chunked;
    c->req_left = r->chunked ? -1 : (r->content_length > 0 ? r->content_length : 0);
    c->req_done = !r->chunked && c->req_left == 0;
    memset(&c->req_ch, 0, sizeof(c->req_ch));
    c->body_sent_any = 0;
    c->discarded = 0;
    c->retried = 0;
    c->dsc_close = 0;
    c->dsc.cls = PX_DSC_COMPLIANT;
    c->dsc.reason = PX_DSR_NONE;
    c->drop[0] = c->drop[1] = 0;
}

/* The view rules match: the path normalized (pathnorm.h) into the
 * worker's buffer when it is not already normal; an empty path (absolute
 * form "http://h?q") is "/". */
static void view_of(const struct px_conn *c, struct px_req_view *v)
{
    const struct h1_request *r = &c->req;
    const char *q = memchr(r->path, '?', r->path_len);
    size_t plen = q ? (size_t)(q - r->path) : r->path_len;

    memset(v, 0, sizeof(*v));
    v->method = r->method;
    v->method_len = r->method_len;
    v->raw_path = r->path;
    v->raw_path_len = plen;
    if (r->form == H1_TARGET_ASTERISK || px_path_is_normal(r->path, plen)) {
        v->path = r->path;
        v->path_len = plen;
    } else {
        v->path = c->w->pathbuf;
        v->path_len = px_path_normalize(r->path, plen, c->w->pathbuf);
    }
    v->query = q ? q + 1 : NULL;
    v->query_len = q ? r->path_len - plen - 1 : 0;
    v->host = r->host;
    v->host_len = r->host_len;
    v->hdrs = r->headers;
    v->nhdrs = r->nheaders;
    v->peer = (const struct sockaddr *)&c->peer;
}

/* A bad chunk framing already received is refused before the target sees
 * the head (the rest is checked while streaming).  1 if refused. */
static int chunks_refused(struct px_conn *c)
{
    struct h1_chunked probe = {0};
    size_t off = c->cb_off, used, dn;
    const char *d;
    int rc;

    if (!c->req_chunked || c->cb_off >= c->cb_len)
        return 0;
    do {
        rc = h1_chunked_decode(&probe, c->cb + off, c->cb_len - off, &used, &d, &dn);
        off += used;
    } while (rc == SL_OK && off < c->cb_len);
    return rc == H1_ERROR;
}

static void answer_locally(struct px_conn *c, const struct px_listener *lis,
                           const struct px_action *act, const struct px_req_view *v)
{
    char loc[2048];

    if (act->type == PX_A_FIXED)
        px_reply(c, act->code, act->ctype, act->body, NULL, local_close_needed(c));
    else if (route_redirect_location(act, v, lis->port, lis->https, loc, sizeof(loc)) < 0)
        px_reply(c, 500, "text/plain", "redirect too long", NULL, local_close_needed(c));
    else {
        pxm_req_redirect(c, loc);
        px_reply(c, act->code, NULL, NULL, loc, local_close_needed(c));
    }
}

static void forward(struct px_conn *c, const struct px_action *act)
{
    uint32_t now = (uint32_t)time(NULL);
    struct px_tg *g = px_sticky_group(&c->stick, c->w->table, act, &c->req, now, route_rand());
    struct px_target *t = g ? px_sticky_target(g, &c->req, now) : NULL;

    if (t == NULL && g)
        t = route_pick_target(g, ev_now(c->w->loop), route_rand());

    if (t == NULL) {
        px_reply_error(c, 503, local_close_needed(c));
        return;
    }
    px_target_ref(t);
    atomic_fetch_add(&t->in_flight, 1);
    c->target = t;
    pxm_req_target(c, g, t);
    px_sticky_hold(&c->stick, g);
    if (px_fwd_request_head(c) != SL_OK || px_xchg_start(c) != SL_OK) {
        px_xchg_release(c, 0);
        px_reply_error(c, 502, !c->req_done);
        return;
    }
    c->state = S_UP;
    if (!c->connecting && c->req_done)
        px_xchg_defer(c);
}

void px_req_hygiene(struct px_conn *c, const struct px_listener *lis)
{
    c->desync_mode = lis ? lis->desync_mode : PX_DSM_DEFENSIVE;
    c->drop_invalid = lis ? lis->drop_invalid : 0;
    c->tol = px_desync_tolerance(c->desync_mode);
}

/* ALB's desync mitigation: 0 to go on with the request (closing both
 * sides after it when it is Ambiguous in defensive mode), SL_EINVAL when
 * it was answered 400. */
static int mitigate(struct px_conn *c)
{
    int verdict;

    px_desync_classify(&c->req, &c->dsc);
    pxm_req_classified(c);
    verdict = px_desync_verdict(c->desync_mode, c->dsc.cls);
    c->dsc_close = verdict == PX_DSV_FORWARD_CLOSE;
    if (c->dsc_close)
        c->close_after = 1;
    if (verdict == PX_DSV_BLOCK) {
        px_reply_error(c, 400, 1);
        return SL_EINVAL;
    }
    px_desync_drop_mask(&c->req, c->drop_invalid, c->drop);
    return SL_OK;
}

void px_req_handle(struct px_conn *c, size_t head_len)
{
    const struct px_listener *lis = px_table_listener(c->w->table, c->lid);
    const struct px_rule *rule;
    struct px_req_view v;
    int evals;

    reset_exchange(c, head_len);
    pxm_req_begin(c, lis, head_len, 0);
    if (lis == NULL) {
        px_reply_error(c, 503, 1);
        return;
    }
    px_req_hygiene(c, lis);
    if (mitigate(c) != SL_OK)
        return;
    c->idle_ms = lis->idle_timeout_s > 0 ? lis->idle_timeout_s * 1000 : PX_IDLE_DEFAULT_MS;
    px_xff_conf(&c->fwdc, lis);
    /* client_keep_alive.seconds: past it, this response closes the connection */
    if (lis->keep_alive_s > 0 &&
        ev_now(c->w->loop) - c->born_ms >= (uint64_t)lis->keep_alive_s * 1000)
        c->close_after = 1;
    c->tls_headers = c->https && lis->tls_headers;
    if (c->req.path == NULL) { /* CONNECT */
        px_reply_error(c, 405, 1);
        return;
    }
    view_of(c, &v);
    rule = route_match_counted(lis, &v, &evals);
    pxm_req_rule(c, rule, evals);
    if (rule == NULL || rule->act->type == PX_A_NONE)
        px_reply_error(c, 503, local_close_needed(c));
    else if (rule->act->type != PX_A_FORWARD)
        answer_locally(c, lis, rule->act, &v);
    else if (chunks_refused(c))
        px_reply_error(c, 400, 1);
    else
        forward(c, rule->act);
}
