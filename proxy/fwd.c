/*
 * fwd.c - the heads the proxy sends on.  Framing is derived, never copied:
 * Content-Length and Transfer-Encoding are written from what the parser
 * worked out, hop-by-hop fields are dropped (RFC 9110 7.6.1), Host is sent
 * once and X-Forwarded-For as the load balancer's attributes say (xff.h),
 * X-Forwarded-Proto/-Port name the listener, X-Amzn-Trace-Id is the one made
 * when the request arrived (trace.h), replacing the client's, and under the
 * load balancer's routing.http.x_amzn_tls_version_and_cipher_suite.enabled
 * an HTTPS listener adds x-amzn-tls-version and x-amzn-tls-cipher-suite (a
 * client's own are dropped then); responses get the stickiness cookies
 * (sticky.h).
 */
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "proxy/conn.h"
#include "proxy/hbuf.h"

static int named(const struct h1_header *h, const char *name, size_t n)
{
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

static void put_field(struct px_hbuf *b, const struct h1_header *h)
{
    px_hput(b, h->name, h->name_len);
    px_hput(b, ": ", 2);
    px_hput(b, h->value, h->value_len);
    px_hput(b, "\r\n", 2);
}

/* A value that spans an obs-fold: each line break with the whitespace
 * around it becomes one SP (RFC 9112 5.2). */
static void put_unfolded(struct px_hbuf *b, const struct h1_header *h)
{
    const char *v = h->value, *end = v + h->value_len;
    int sp = 0, any = 0;

    px_hput(b, h->name, h->name_len);
    px_hput(b, ": ", 2);
    for (; v < end; v++) {
        if (*v == '\r' || *v == '\n' || ((*v == ' ' || *v == '\t') && sp)) {
            sp = 1;
            continue;
        }
        if (sp && any)
            px_hput(b, " ", 1);
        sp = 0;
        any = 1;
        px_hput(b, v, 1);
    }
    px_hput(b, "\r\n", 2);
}

/* The request-target as sent upstream: a tolerated SP, CTL, '#' or
 * non-ASCII byte percent-encoded, so the target reads the one request
 * line this proxy routed. */
static void put_target(struct px_hbuf *b, const char *p, size_t n, int encode)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;

    if (!encode) {
        px_hput(b, p, n);
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[3];
        if (c > 0x20 && c < 0x7f && c != '#')
            continue;
        px_hput(b, p + run, i - run);
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        px_hput(b, esc, 3);
        run = i + 1;
    }
    px_hput(b, p + run, n - run);
}

/* ALB's names for what the client negotiated: "TLSv1.2", OpenSSL's
 * cipher names ("ECDHE-RSA-AES128-GCM-SHA256"). */
static void put_tls(struct px_hbuf *b, const struct px_conn *c)
{
    const char *version, *cipher;

    if (!px_io_tls_info(&c->io, &version, &cipher))
        return;
    px_hputs(b, "x-amzn-tls-version: ");
    px_hputs(b, version);
    px_hputs(b, "\r\nx-amzn-tls-cipher-suite: ");
    px_hputs(b, cipher);
    px_hputs(b, "\r\n");
}

int px_fwd_request_head(struct px_conn *c)
{
    const struct h1_request *r = &c->req;
    struct px_hbuf b = px_hbuf_at(&c->hu, &c->hu_cap);
    size_t i;

    px_hput(&b, r->method, r->method_len);
    px_hput(&b, " ", 1);
    /* An absolute-form target with an empty path ("http://h" or
     * "http://h?q") names "/" (RFC 9112 3.2.2). */
    if (r->path == NULL || r->path_len == 0 || r->path[0] == '?')
        px_hput(&b, "/", 1);
    if (r->path)
        put_target(&b, r->path, r->path_len,
                   (r->deviations & (H1_DEV_URI_SPACE | H1_DEV_URI_CHARS)) != 0);
    px_hputs(&b, " HTTP/1.1\r\n");
    px_xff_host(&b, &c->fwdc, r, c->lport, c->target->host);
    for (i = 0; i < r->nheaders; i++) {
        const struct h1_header *h = &r->headers[i];
        if ((i < 128 && (c->drop[i / 64] >> (i % 64) & 1)) || /* header hygiene, desync.h */
            h1_is_hop_by_hop(r->headers, r->nheaders, h->name, h->name_len) ||
            named(h, "host", 4) || named(h, "content-length", 14) ||
            named(h, "x-forwarded-proto", 17) || named(h, "x-forwarded-port", 16) ||
            named(h, "x-forwarded-for", 15) || named(h, "x-amzn-trace-id", 15) ||
            (c->tls_headers && (named(h, "x-amzn-tls-version", 18) ||
                                named(h, "x-amzn-tls-cipher-suite", 23))))
            continue;
        if (r->deviations & H1_DEV_OBS_FOLD)
            put_unfolded(&b, h);
        else
            put_field(&b, h);
    }
    if (c->obs.trace[0]) {
        px_hputs(&b, "X-Amzn-Trace-Id: ");
        px_hputs(&b, c->obs.trace);
        px_hputs(&b, "\r\n");
    }
    px_xff_put(&b, &c->fwdc, r, c->peer_ip, &c->peer);
    if (c->https)
        px_hput_num(&b, "X-Forwarded-Proto: https\r\nX-Forwarded-Port: ", 44, c->lport);
    else
        px_hput_num(&b, "X-Forwarded-Proto: http\r\nX-Forwarded-Port: ", 43, c->lport);
    if (c->tls_headers)
        put_tls(&b, c);
    if (c->req_chunked)
        px_hputs(&b, "Transfer-Encoding: chunked\r\n");
    else if (r->content_length >= 0)
        px_hput_num(&b, "Content-Length: ", 16, (long long)r->content_length);
    if (c->dsc_close) /* an Ambiguous request: this connection ends with it */
        px_hputs(&b, "Connection: close\r\n");
    else if (c->upgrade) {
        int k = h1_find_header(r->headers, r->nheaders, 0, "upgrade");
        px_hputs(&b, "Connection: Upgrade\r\nUpgrade: ");
        if (k >= 0)
            px_hput(&b, r->headers[k].value, r->headers[k].value_len);
        px_hputs(&b, "\r\n");
    }
    px_hputs(&b, "\r\n");
    c->to_up.n = 0;
    if (px_hbuf_ok(&b) != 0)
        return SL_ENOMEM;
    px_outq_add(&c->to_up, c->hu, b.len);
    return SL_OK;
}

int px_fwd_response_head(struct px_conn *c)
{
    const struct h1_response *r = &c->res;
    struct px_hbuf b = px_hbuf_at(&c->hc, &c->hc_cap);
    char line[32];
    size_t i, n;

    memcpy(line, "HTTP/1.1 ", 9);
    n = 9 + px_fmt_u64(line + 9, (unsigned long long)(r->status < 0 ? 0 : r->status));
    line[n++] = ' ';
    px_hput(&b, line, n);
    px_hput(&b, r->reason, r->reason_len);
    px_hput(&b, "\r\n", 2);
    for (i = 0; i < r->nheaders; i++) {
        const struct h1_header *h = &r->headers[i];
        if (r->status != 101 && h1_is_hop_by_hop(r->headers, r->nheaders, h->name, h->name_len))
            continue;
        if (named(h, "content-length", 14) ||
            (r->status == 101 && named(h, "transfer-encoding", 17)))
            continue;
        put_field(&b, h);
    }
    if (r->status != 101) {
        if (r->content_length >= 0 && !r->chunked && (!r->no_body || c->head_req || r->status == 304))
            px_hput_num(&b, "Content-Length: ", 16, (long long)r->content_length);
        else if (!r->no_body && c->res_rechunk)
            px_hputs(&b, "Transfer-Encoding: chunked\r\n");
        if (r->status >= 200)
            px_sticky_response(&c->stick, c->target, r, (uint32_t)time(NULL), &b);
        if (c->close_after)
            px_hputs(&b, "Connection: close\r\n");
        else if (c->client_minor == 0)
            px_hputs(&b, "Connection: keep-alive\r\n");
    }
    px_hputs(&b, "\r\n");
    if (px_hbuf_ok(&b) != 0)
        return SL_ENOMEM;
    px_outq_add(&c->to_cl, c->hc, b.len);
    c->resp_started = 1;
    return SL_OK;
}
