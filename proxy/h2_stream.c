/*
 * h2_stream.c - one HTTP/2 request stream as a byte stream for a px_conn:
 * HEADERS become an HTTP/1.1 request head, DATA its body (chunk-framed
 * when the client sent no content-length); the HTTP/1.1 response the
 * connection writes back becomes HEADERS and DATA (see h2.h, h2_int.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "proxy/h2_int.h"

static const struct px_io_ops stream_ops;

void h2_ready(struct px_h2s *s)
{
    struct px_h2 *h = s->h;

    if (s->queued)
        return;
    s->queued = 1;
    s->rnext = NULL;
    if (h->ready_tail)
        h->ready_tail->rnext = s;
    else
        h->ready = s;
    h->ready_tail = s;
    h2_kick(h);
}

void h2_kick(struct px_h2 *h)
{
    if (!h->freeing && !h->c->defer_up)
        px_xchg_defer(h->c); /* the worker pumps it before it sleeps */
}

static struct px_conn *conn_of(struct px_io *io)
{
    return (struct px_conn *)(void *)((char *)io - offsetof(struct px_conn, io));
}

struct px_h2s *h2s_new(struct px_h2 *h, int32_t id)
{
    struct px_h2s *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->h = h;
    s->id = id;
    s->res_left = -1;
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    h->nstreams++;
    return s;
}

static void free_head(struct px_h2s *s)
{
    free(s->method);
    free(s->path);
    free(s->authority);
    free(s->fields);
    free(s->cookie);
    s->method = s->path = s->authority = s->fields = s->cookie = NULL;
}

void h2s_free(struct px_h2s *s)
{
    struct px_h2 *h = s->h;

    if (s->prev)
        s->prev->next = s->next;
    else if (h->streams == s)
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->nstreams--;
    free_head(s);
    free(s->in);
    free(s->out);
    free(s);
}

/* ---- the request head ---- */

static int append(char **b, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (px_buf_ensure(b, cap, *len + n + 1) != SL_OK)
        return SL_ENOMEM;
    memcpy(*b + *len, p, n);
    *len += n;
    return SL_OK;
}

static char *dup_n(const uint8_t *p, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static int named(const uint8_t *name, size_t nlen, const char *s)
{
    return nlen == strlen(s) && memcmp(name, s, nlen) == 0;
}

void h2s_header(struct px_h2s *s, const uint8_t *name, size_t nlen, const uint8_t *value,
                size_t vlen)
{
    char **pseudo = NULL;
    int rc = SL_OK;

    if (s->started || s->over)
        return;
    /* as HTTP/1.1 would count it: "name: value\r\n" */
    if ((s->hbytes += nlen + vlen + 4) > H1_MAX_REQUEST_HEAD) {
        s->over = 1;
        return;
    }
    if (nlen > 0 && name[0] == ':') { /* nghttp2 checked which and where */
        if (named(name, nlen, ":method"))
            pseudo = &s->method;
        else if (named(name, nlen, ":path"))
            pseudo = &s->path;
        else if (named(name, nlen, ":authority"))
            pseudo = &s->authority;
        if (pseudo && *pseudo == NULL && (*pseudo = dup_n(value, vlen)) == NULL)
            s->over = 1;
        return;
    }
    if (named(name, nlen, "cookie")) { /* RFC 9113 8.2.3: one field again */
        if (s->clen)
            rc = append(&s->cookie, &s->clen, &s->ccap, "; ", 2);
        if (rc == SL_OK)
            rc = append(&s->cookie, &s->clen, &s->ccap, (const char *)value, vlen);
    } else if (!(named(name, nlen, "host") && s->authority)) { /* :authority wins */
        s->has_cl |= named(name, nlen, "content-length");
        if (append(&s->fields, &s->flen, &s->fcap, (const char *)name, nlen) != SL_OK ||
            append(&s->fields, &s->flen, &s->fcap, ": ", 2) != SL_OK ||
            append(&s->fields, &s->flen, &s->fcap, (const char *)value, vlen) != SL_OK)
            rc = SL_ENOMEM;
        else
            rc = append(&s->fields, &s->flen, &s->fcap, "\r\n", 2);
    }
    if (rc != SL_OK)
        s->over = 1;
}

/* 431 from the session itself: the head never reaches HTTP/1.1. */
static int refuse_head(struct px_h2s *s)
{
    static const nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)"431", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-length", (uint8_t *)"0", 14, 1, NGHTTP2_NV_FLAG_NONE},
    };

    s->head_done = s->out_eof = 1;
    return nghttp2_submit_response(s->h->ng, s->id, nv, 2, NULL) == 0 ? 0 : -1;
}

static char *put(char *e, const char *p, size_t n)
{
    if (n)
        memcpy(e, p, n);
    return e + n;
}

#define PUT_LIT(e, lit) put((e), (lit), sizeof(lit) - 1)

/* "METHOD path HTTP/1.1", Host, the fields, Cookie, the body's framing,
 * and Connection: close (one request per stream connection). */
static char *build_head(struct px_h2s *s, size_t *n)
{
    const char *method = s->method ? s->method : "GET";
    const char *path = s->path ? s->path : s->authority ? s->authority : "/";
    size_t ml = strlen(method), pl = strlen(path), al = s->authority ? strlen(s->authority) : 0;
    char *h = malloc(ml + pl + al + s->flen + s->clen + 128), *e = h;

    if (h == NULL)
        return NULL;
    e = put(e, method, ml);
    e = PUT_LIT(e, " ");
    e = put(e, path, pl);
    e = PUT_LIT(e, " HTTP/1.1\r\n");
    if (s->authority) {
        e = PUT_LIT(e, "Host: ");
        e = put(e, s->authority, al);
        e = PUT_LIT(e, "\r\n");
    }
    e = put(e, s->fields, s->flen);
    if (s->clen) {
        e = PUT_LIT(e, "Cookie: ");
        e = put(e, s->cookie, s->clen);
        e = PUT_LIT(e, "\r\n");
    }
    if (s->chunked)
        e = PUT_LIT(e, "Transfer-Encoding: chunked\r\n");
    e = PUT_LIT(e, "Connection: close\r\n\r\n");
    *n = (size_t)(e - h);
    return h;
}

int h2s_begin(struct px_h2s *s, int end)
{
    struct px_io io = {.fd = -1, .ops = &stream_ops, .priv = s};
    char *head;
    size_t n;

    s->started = 1;
    if (s->over) {
        free_head(s);
        return refuse_head(s);
    }
    s->is_head = s->method && strcmp(s->method, "HEAD") == 0;
    s->chunked = !end && !s->has_cl;
    s->in_end = end;
    head = build_head(s, &n);
    free_head(s);
    if (head == NULL || (s->c = s->h->c->w->conn_stream(s->h->c, &io, head, n)) == NULL) {
        free(head);
        return -1;
    }
    free(head);
    h2_ready(s);
    return 0;
}

/* ---- the request body ---- */

static void in_put(struct px_h2s *s, const char *p, size_t n)
{
    if (s->in_off > 0 && s->in_off == s->in_len)
        s->in_off = s->in_len = 0;
    if (s->in_off > 0 && s->in_len + n > s->in_cap) {
        memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
        s->in_len -= s->in_off;
        s->in_off = 0;
    }
    if (px_buf_ensure(&s->in, &s->in_cap, s->in_len + n) != SL_OK) {
        s->kill = 1; /* no memory for what the window allowed: reset */
        h2_ready(s);
        return;
    }
    memcpy(s->in + s->in_len, p, n);
    s->in_len += n;
}

void h2s_data(struct px_h2s *s, const uint8_t *data, size_t len)
{
    char pre[24];

    if (len == 0)
        return;
    if (s->chunked)
        in_put(s, pre, (size_t)snprintf(pre, sizeof(pre), "%zx\r\n", len));
    in_put(s, (const char *)data, len);
    if (s->chunked)
        in_put(s, "\r\n", 2);
    s->unconsumed += len;
    if (s->want & EV_READ)
        h2_ready(s);
}

void h2s_end(struct px_h2s *s)
{
    if (s->in_end)
        return;
    s->in_end = 1;
    if (s->chunked)
        in_put(s, "0\r\n\r\n", 5);
    if (s->want & EV_READ)
        h2_ready(s);
}

void h2s_closed(struct px_h2s *s)
{
    s->h2_closed = 1;
    if (s->unconsumed) /* the connection's window, as the stream's is gone */
        nghttp2_session_consume_connection(s->h->ng, s->unconsumed);
    s->unconsumed = 0;
    if (s->c) {
        s->kill = 1;
        h2_ready(s);
    } else if (!s->queued)
        h2s_free(s);
}

/* ---- the response ---- */

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *arg)
{
    struct px_h2s *s = src->ptr;
    size_t k = s->out_len - s->out_off;

    if (k > length)
        k = length;
    if (k) /* s->out may be NULL: a body that ended before any byte */
        memcpy(buf, s->out + s->out_off, k);
    s->out_off += k;
    if (s->out_off == s->out_len)
        s->out_off = s->out_len = 0;
    if (k && s->c && (s->want & EV_WRITE))
        h2_ready(s); /* room again */
    if (s->out_len == 0 && s->out_eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t)k;
    }
    if (k == 0) {
        s->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)k;
}

/* Fields that HTTP/2 forbids (RFC 9113 8.2.2); the rest lowercased. */
static int forbidden(const struct h1_header *f)
{
    static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
                                        "transfer-encoding", "upgrade", NULL};
    int i;

    for (i = 0; names[i]; i++)
        if (f->name_len == strlen(names[i]) && strncasecmp(f->name, names[i], f->name_len) == 0)
            return 1;
    return 0;
}

/* A response head as this proxy's own connection wrote it (fwd.c and
 * reply.c: one buffer, well formed, its origin's head validated already):
 * split, not parsed again.  The head's length, or -1. */
struct own_head {
    int status;
    char code[4]; /* its three digits */
    int64_t content_length; /* -1 if absent */
    size_t n;
    struct h1_header f[H1_MAX_HEADERS];
};

static int split_own_head(const char *p, size_t len, struct own_head *o)
{
    const char *end = p + len, *line, *eol = memchr(p, '\n', len);

    o->n = 0;
    o->content_length = -1;
    if (eol == NULL || eol - p < 12)
        return -1;
    o->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    memcpy(o->code, p + 9, 3);
    o->code[3] = '\0';
    for (line = eol + 1; line < end; line = eol + 1) {
        const char *colon, *v, *ve;
        if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
            return -1;
        ve = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
        if (ve == line)
            return (int)(eol + 1 - p);
        if (o->n == H1_MAX_HEADERS || (colon = memchr(line, ':', (size_t)(ve - line))) == NULL)
            return -1;
        for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
            ;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        o->f[o->n++] = (struct h1_header){line, (size_t)(colon - line), v, (size_t)(ve - v)};
        if (colon - line == 14 && strncasecmp(line, "content-length", 14) == 0) {
            o->content_length = 0;
            for (; v < ve && *v >= '0' && *v <= '9'; v++)
                o->content_length = o->content_length * 10 + (*v - '0');
        }
    }
    return -1;
}

/* The response head the connection wrote at <p>, complete in one piece:
 * submitted as HEADERS.  *used is its length.  0 or SL_EIO. */
static int submit_head(struct px_h2s *s, const char *p, size_t len, size_t *used)
{
    struct own_head r;
    nghttp2_nv nv[H1_MAX_HEADERS + 1];
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_body};
    char *names;
    size_t i, n = 1, off = 0;
    int rc = split_own_head(p, len, &r), no_body;

    if (rc <= 0 || (names = malloc((size_t)rc)) == NULL)
        return SL_EIO;
    nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)r.code, 7, 3, NGHTTP2_NV_FLAG_NONE};
    for (i = 0; i < r.n; i++) {
        const struct h1_header *f = &r.f[i];
        size_t j;
        if (forbidden(f))
            continue;
        for (j = 0; j < f->name_len; j++)
            names[off + j] = (char)(f->name[j] >= 'A' && f->name[j] <= 'Z' ? f->name[j] + 32
                                                                           : f->name[j]);
        nv[n++] = (nghttp2_nv){(uint8_t *)names + off, (uint8_t *)f->value, f->name_len,
                               f->value_len, NGHTTP2_NV_FLAG_NONE};
        off += f->name_len;
    }
    if (r.status < 200) /* interim: another head follows */
        rc = nghttp2_submit_headers(s->h->ng, NGHTTP2_FLAG_NONE, s->id, NULL, nv, n, NULL) == 0
                 ? rc
                 : -1;
    else {
        no_body = s->is_head || r.status == 204 || r.status == 304;
        s->head_done = 1;
        s->res_left = no_body ? 0 : r.content_length;
        s->out_eof = s->res_left == 0;
        rc = nghttp2_submit_response(s->h->ng, s->id, nv, n, s->out_eof ? NULL : &prd) == 0 ? rc
                                                                                           : -1;
    }
    free(names);
    if (rc < 0)
        return SL_EIO;
    *used = (size_t)rc;
    return SL_OK;
}

/* Body bytes into the stream's buffer, as many as fit. */
static size_t put_body(struct px_h2s *s, const char *p, size_t n)
{
    size_t room, cap;

    if (s->out_off > 0) {
        memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
        s->out_len -= s->out_off;
        s->out_off = 0;
    }
    room = H2_OUT_MAX - s->out_len;
    if (n > room)
        n = room;
    if (s->res_left >= 0 && (int64_t)n > s->res_left)
        n = (size_t)s->res_left; /* never past the length it announced */
    if (s->out_len + n > s->out_cap) { /* most answers are small: grown as needed */
        char *b;
        for (cap = s->out_cap ? s->out_cap : H2_OUT_MIN; cap < s->out_len + n;)
            cap *= 2;
        if ((b = realloc(s->out, cap < H2_OUT_MAX ? cap : H2_OUT_MAX)) == NULL)
            return 0;
        s->out = b;
        s->out_cap = cap < H2_OUT_MAX ? cap : H2_OUT_MAX;
    }
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
    if (s->res_left > 0 && (s->res_left -= (int64_t)n) == 0)
        s->out_eof = 1;
    return n;
}

/* ---- the transport ---- */

static ssize_t st_read(struct px_io *io, char *buf, size_t n)
{
    struct px_h2s *s = io->priv;
    size_t k, ack;

    if (s == NULL || s->h2_closed)
        return SL_EIO;
    k = s->in_len - s->in_off;
    if (k == 0)
        return s->in_end ? 0 : SL_EAGAIN;
    if (k > n)
        k = n;
    memcpy(buf, s->in + s->in_off, k);
    s->in_off += k;
    /* the framing added makes this a little early, never late: all of the
     * payload is acknowledged once all of the bytes are read */
    ack = k < s->unconsumed ? k : s->unconsumed;
    if (ack) {
        nghttp2_session_consume(s->h->ng, s->id, ack);
        s->unconsumed -= ack;
        h2_kick(s->h); /* a WINDOW_UPDATE to send */
    }
    return (ssize_t)k;
}

static ssize_t st_writev(struct px_io *io, const struct iovec *iov, int n)
{
    struct px_h2s *s = io->priv;
    size_t total = 0, used;
    int i;

    if (s == NULL || s->h2_closed)
        return SL_EIO;
    for (i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t len = iov[i].iov_len, k;
        while (len > 0 && !s->head_done) { /* a head, maybe interim ones first */
            if (submit_head(s, p, len, &used) != SL_OK)
                return SL_EIO;
            p += used;
            len -= used;
            total += used;
        }
        if (len == 0)
            continue;
        if (s->out_eof) { /* past the end (a HEAD answer's body): dropped */
            total += len;
            continue;
        }
        k = put_body(s, p, len);
        total += k;
        if (k < len)
            break;
    }
    if (s->deferred && (s->out_len > 0 || s->out_eof)) {
        s->deferred = 0;
        nghttp2_session_resume_data(s->h->ng, s->id);
    }
    h2_kick(s->h);
    return total > 0 ? (ssize_t)total : SL_EAGAIN;
}

static size_t st_buffered(const struct px_io *io)
{
    const struct px_h2s *s = io->priv;

    return s ? s->in_len - s->in_off : 0;
}

/* The stream's connection closes: a complete response ends the stream,
 * anything less resets it. */
static void st_close(struct px_io *io)
{
    struct px_h2s *s = io->priv;
    struct px_conn *c = conn_of(io);

    if (s == NULL)
        return;
    io->priv = NULL;
    s->c = NULL;
    if (s->h->freeing)
        return;
    if (s->h2_closed) {
        if (!s->queued)
            h2s_free(s);
        return;
    }
    if (s->head_done && (s->out_eof || (s->res_left < 0 && c->res_state == R_DONE))) {
        s->out_eof = 1;
        if (s->deferred) {
            s->deferred = 0;
            nghttp2_session_resume_data(s->h->ng, s->id);
        }
    } else
        nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    if (s->unconsumed) {
        nghttp2_session_consume(s->h->ng, s->id, s->unconsumed);
        s->unconsumed = 0;
    }
    h2_kick(s->h);
}

static int st_tls_info(const struct px_io *io, const char **version, const char **cipher)
{
    const struct px_h2s *s = io->priv;

    return s ? px_io_tls_info(&s->h->c->io, version, cipher) : 0;
}

static int st_tls_names(const struct px_io *io, const char **sni, const char **cert_arn)
{
    const struct px_h2s *s = io->priv;

    return s ? px_io_tls_names(&s->h->c->io, sni, cert_arn) : 0;
}

static void st_wait(struct px_io *io, int mask)
{
    struct px_h2s *s = io->priv;

    if (s == NULL)
        return;
    s->want = mask;
    if (((mask & EV_READ) && (s->in_len > s->in_off || s->in_end)) ||
        ((mask & EV_WRITE) && s->head_done && s->out_len < H2_OUT_MAX && !s->out_eof))
        h2_ready(s);
}

static const struct px_io_ops stream_ops = {
    .read = st_read,
    .writev = st_writev,
    .buffered = st_buffered,
    .close = st_close,
    .tls_info = st_tls_info,
    .tls_names = st_tls_names,
    .wait = st_wait,
};
