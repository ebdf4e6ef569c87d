/*
 * conn.c - the forwarding state machine of one client connection, and the
 * worker loop that owns listeners, connections and upstream pools.
 *
 * One function, pump(), drives a connection: it flushes pending output,
 * parses what has arrived, moves body bytes (one span at a time per
 * direction, so reading stops while a write is pending = backpressure), and
 * finally sets the epoll interest from what it is waiting for.
 */
#define _GNU_SOURCE
#include "proxy/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/ev.h"
#include "proxy/http1.h"
#include "proxy/route.h"
#include "proxy/table.h"

#define HEAD_TIMEOUT_MS 10000  /* default: a request head must arrive within this */
#define UP_IDLE_MS 30000       /* idle upstream keep-alive lifetime */
#define CONNECT_TIMEOUT_MS 5000
#define BUF_INIT 16384

enum { S_HEAD, S_UP, S_LOCAL, S_TUNNEL };
enum { R_HEAD, R_BODY, R_DONE };

struct outq {
    struct iovec iov[4];
    int n;
    char pre[24];
    char post[16];
};

struct px_up {
    int fd;
    struct px_target *t;
    struct px_worker *w;
    struct px_up *next, *prev;   /* per-target idle list */
    struct px_up *wnext, *wprev; /* worker idle list */
    struct ev_timer timer;
};

struct px_conn {
    struct px_worker *w;
    struct px_conn *next, *prev;
    int fd;
    struct sockaddr_storage peer;
    char peer_ip[64];
    char lid[PX_ID_MAX];
    int lport;
    char *cb, *ub, *hu, *hc; /* client in, upstream in, head to upstream, head to client */
    size_t cb_len, cb_cap, cb_off, ub_len, ub_cap, ub_off, hu_cap, hc_cap;
    struct h1_scan scan, uscan;
    struct h1_request req;
    struct h1_response res;
    int state;
    int head_started;
    int client_eof;
    int close_after; /* close the client once this response is out */
    int client_minor, head_req, expect_continue, upgrade;
    /* upstream side */
    struct px_up *up;
    struct px_target *target;
    int connecting;
    int retried;
    int body_sent_any; /* request body bytes went upstream */
    size_t discarded;  /* chunked body bytes skipped after a local answer */
    int resp_started;  /* response bytes went to the client */
    int64_t req_left;
    int req_chunked, req_done;
    struct h1_chunked req_ch;
    int res_state;
    int64_t res_left;
    int res_chunked_in, res_rechunk, res_close_delim, up_reusable;
    struct h1_chunked res_ch;
    struct outq to_up, to_cl;
    struct ev_timer timer;
    int idle_ms;
    int defer_up; /* slot + 1 in w->deferred: the head to upstream waits */
};

struct px_lsock {
    int fd;
    int port;
    char lid[PX_ID_MAX];
    char addr[64];
    int used;
};

struct px_worker {
    int idx;
    struct ev_loop *loop;
    pthread_t th;
    char bind[64];
    struct px_table *table;
    unsigned gen;
    struct px_lsock *ls;
    int nls, capls;
    struct px_up *idle;
    struct px_conn *conns;
    int nconns;
    atomic_int stopping;
    uint64_t stop_deadline;
    struct ev_timer tick;
    /* Connections whose request head to a pooled upstream is written in
     * before_sleep(): one batch per loop iteration wakes the backend once
     * rather than once per request (fewer context switches when it shares
     * the core). */
    struct px_conn **deferred;
    int ndeferred, capdeferred;
};

static void pump(struct px_conn *c);
static void conn_close(struct px_conn *c);

/* Configuration, set once before the workers start (px_worker_set_head_timeout). */
static int head_timeout_ms = HEAD_TIMEOUT_MS;

void px_worker_set_head_timeout(int ms)
{
    head_timeout_ms = ms > 0 ? ms : HEAD_TIMEOUT_MS;
}

/* ---- small helpers ---- */

static const char *reason_of(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

static int ensure(char **b, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : BUF_INIT;
    char *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if ((p = realloc(*b, n)) == NULL)
        return -1;
    *b = p;
    *cap = n;
    return 0;
}

/* Append to a head buffer; *len tracks the fill. */
static int hput(char **b, size_t *cap, size_t *len, const char *s, size_t n)
{
    if (ensure(b, cap, *len + n + 1) < 0)
        return -1;
    memcpy(*b + *len, s, n);
    *len += n;
    return 0;
}

#define HPUTS(b, cap, len, s) hput(b, cap, len, s, strlen(s))

/* Decimal of <v> (>= 0) into <out> (>= 20 bytes); returns the length.
 * Used on per-request paths instead of snprintf(). */
static size_t fmt_u64(char *out, unsigned long long v)
{
    char t[24];
    size_t n = 0, i;

    do
        t[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

/* Append "<name><decimal>\r\n". */
static int hput_num(char **b, size_t *cap, size_t *len, const char *name, size_t nlen,
                    long long v)
{
    char line[64];
    size_t n = nlen;

    memcpy(line, name, nlen);
    n += fmt_u64(line + n, v < 0 ? 0 : (unsigned long long)v);
    line[n++] = '\r';
    line[n++] = '\n';
    return hput(b, cap, len, line, n);
}

static void q_add(struct outq *q, const void *p, size_t n)
{
    if (n == 0)
        return;
    q->iov[q->n].iov_base = (void *)p;
    q->iov[q->n].iov_len = n;
    q->n++;
}

/* Write as much of <q> as the socket takes.  1 progress, 0 blocked, -1 error. */
static int q_flush(int fd, struct outq *q)
{
    int progress = 0;

    while (q->n > 0) {
        ssize_t w = writev(fd, q->iov, q->n);
        int i = 0;
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? progress : -1;
        }
        progress = 1;
        while (i < q->n && (size_t)w >= q->iov[i].iov_len)
            w -= (ssize_t)q->iov[i++].iov_len;
        if (i < q->n) {
            q->iov[i].iov_base = (char *)q->iov[i].iov_base + w;
            q->iov[i].iov_len -= (size_t)w;
        }
        memmove(q->iov, q->iov + i, sizeof(q->iov[0]) * (size_t)(q->n - i));
        q->n -= i;
    }
    return progress;
}

/* Read into b[len..cap).  >0 bytes, 0 EOF, -1 would block, -2 error. */
static ssize_t rd(int fd, char *b, size_t len, size_t cap)
{
    ssize_t n;

    do
        n = read(fd, b + len, cap - len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? -1 : -2;
    return n;
}

/* ---- upstream connections and pools ---- */

static void up_unlink_idle(struct px_up *u)
{
    struct px_worker *w = u->w;
    struct px_up **head = &u->t->idle[w->idx];

    if (u->prev)
        u->prev->next = u->next;
    else if (*head == u)
        *head = u->next;
    if (u->next)
        u->next->prev = u->prev;
    if (u->wprev)
        u->wprev->wnext = u->wnext;
    else if (w->idle == u)
        w->idle = u->wnext;
    if (u->wnext)
        u->wnext->wprev = u->wprev;
    u->next = u->prev = u->wnext = u->wprev = NULL;
    ev_timer_del(w->loop, &u->timer);
}

static void up_close(struct px_up *u)
{
    if (u == NULL)
        return;
    ev_fd_del(u->w->loop, u->fd);
    close(u->fd);
    atomic_fetch_sub(&u->t->conns, 1);
    px_target_release(u->t);
    free(u);
}

static void up_idle_close(struct px_up *u)
{
    up_unlink_idle(u);
    up_close(u);
}

static void up_idle_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    up_idle_close(arg); /* EOF or unsolicited bytes: not reusable */
}

static void up_idle_timer(struct ev_loop *l, void *arg)
{
    up_idle_close(arg);
}

static void up_park(struct px_worker *w, struct px_up *u)
{
    struct px_up **head = &u->t->idle[w->idx];

    if (atomic_load(&w->stopping) || atomic_load(&u->t->draining) || !atomic_load(&u->t->live)) {
        up_close(u);
        return;
    }
    u->next = *head;
    if (*head)
        (*head)->prev = u;
    *head = u;
    u->wnext = w->idle;
    if (w->idle)
        w->idle->wprev = u;
    w->idle = u;
    ev_fd_set(w->loop, u->fd, EV_READ, up_idle_event, u);
    ev_timer_init(&u->timer, up_idle_timer, u);
    ev_timer_add(w->loop, &u->timer, UP_IDLE_MS);
}

static struct px_up *up_take(struct px_worker *w, struct px_target *t)
{
    struct px_up *u = t->idle[w->idx];

    if (u)
        up_unlink_idle(u);
    return u;
}

/* A new non-blocking connection; *connecting set when in progress. */
static struct px_up *up_dial(struct px_worker *w, struct px_target *t, int *connecting)
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
    u->fd = fd;
    u->t = t;
    u->w = w;
    px_target_ref(t);
    atomic_fetch_add(&t->conns, 1);
    return u;
}

/* Close idle upstream connections whose target drains or is gone. */
static void sweep_idle(struct px_worker *w, int all)
{
    struct px_up *u = w->idle, *n;

    for (; u; u = n) {
        n = u->wnext;
        if (all || atomic_load(&u->t->draining) || !atomic_load(&u->t->live))
            up_idle_close(u);
    }
}

/* ---- local responses ---- */

static void local_response(struct px_conn *c, int code, const char *ctype, const char *body,
                           const char *location, int close_conn)
{
    size_t len = 0, blen = body ? strlen(body) : 0;
    char line[256];
    int n;

    if (c->resp_started) { /* too late for a status: just close */
        c->close_after = 1;
        c->client_eof = 1;
        c->state = S_LOCAL;
        return;
    }
    n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nServer: sluice\r\nContent-Length: %zu\r\n",
                 code, reason_of(code), blen);
    hput(&c->hc, &c->hc_cap, &len, line, (size_t)n);
    if (ctype && blen) {
        HPUTS(&c->hc, &c->hc_cap, &len, "Content-Type: ");
        HPUTS(&c->hc, &c->hc_cap, &len, ctype);
        HPUTS(&c->hc, &c->hc_cap, &len, "\r\n");
    }
    if (location) {
        HPUTS(&c->hc, &c->hc_cap, &len, "Location: ");
        HPUTS(&c->hc, &c->hc_cap, &len, location);
        HPUTS(&c->hc, &c->hc_cap, &len, "\r\n");
    }
    if (close_conn || c->close_after)
        HPUTS(&c->hc, &c->hc_cap, &len, "Connection: close\r\n");
    else if (c->client_minor == 0)
        HPUTS(&c->hc, &c->hc_cap, &len, "Connection: keep-alive\r\n");
    HPUTS(&c->hc, &c->hc_cap, &len, "\r\n");
    if (!c->head_req && blen)
        hput(&c->hc, &c->hc_cap, &len, body, blen);
    c->to_cl.n = 0;
    q_add(&c->to_cl, c->hc, len);
    if (close_conn)
        c->close_after = 1;
    c->resp_started = 1;
    c->state = S_LOCAL;
}

/* A request body the proxy answers itself (fixed-response, redirect, 503)
 * is read and thrown away so the connection stays usable, as nginx does,
 * up to DISCARD_MAX bytes; a longer body, or one the client waits to send
 * (Expect: 100-continue), ends the connection after the answer instead. */
#define DISCARD_MAX (1024 * 1024)

static int local_close_needed(const struct px_conn *c)
{
    if (c->req_done)
        return 0;
    return c->expect_continue || (!c->req_chunked && c->req_left > DISCARD_MAX);
}

/* Take the next span of request body buffered in cb, consuming its framing
 * (Content-Length or chunked); sets req_done at the end of the body.
 * <d>/<dn> is the data (may be empty), <used> the bytes of cb consumed.
 * H1_ERROR on bad chunk framing, else SL_OK. */
static int take_req_span(struct px_conn *c, const char **d, size_t *dn, size_t *used)
{
    int rc;

    if (!c->req_chunked) {
        size_t n = c->cb_len - c->cb_off;
        if ((int64_t)n > c->req_left)
            n = (size_t)c->req_left;
        *d = c->cb + c->cb_off;
        *dn = *used = n;
        c->cb_off += n;
        c->req_left -= (int64_t)n;
        c->req_done = c->req_left == 0;
        return SL_OK;
    }
    rc = h1_chunked_decode(&c->req_ch, c->cb + c->cb_off, c->cb_len - c->cb_off, used, d, dn);
    c->cb_off += *used;
    if (rc == H1_DONE)
        c->req_done = 1;
    return rc == H1_ERROR ? H1_ERROR : SL_OK;
}

/* Skip request body bytes buffered in cb.  1 progress, 0 none. */
static int discard_req_body(struct px_conn *c)
{
    const char *d;
    size_t used, dn;

    if (c->req_done || c->cb_off >= c->cb_len)
        return 0;
    if (take_req_span(c, &d, &dn, &used) == H1_ERROR || (c->discarded += dn) > DISCARD_MAX) {
        c->close_after = 1; /* the answer is out; the framing is not trustworthy */
        c->client_eof = 1;
        return 1;
    }
    return used > 0;
}

static const char *error_body(int code)
{
    static __thread char b[8][256]; /* per worker thread: workers answer concurrently */
    int i = code % 8;

    snprintf(b[i], sizeof(b[i]),
             "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1>"
             "</center>\r\n</body>\r\n</html>\r\n",
             code, reason_of(code), code, reason_of(code));
    return b[i];
}

/* ---- request start ---- */

static void undefer(struct px_conn *c);

static void release_upstream(struct px_conn *c, int reusable)
{
    undefer(c);
    if (c->up) {
        if (reusable)
            up_park(c->w, c->up);
        else
            up_close(c->up);
        c->up = NULL;
    }
    if (c->target) {
        atomic_fetch_sub(&c->target->in_flight, 1);
        px_target_release(c->target);
        c->target = NULL;
    }
    c->connecting = 0;
}

static int build_upstream_head(struct px_conn *c)
{
    const struct h1_request *r = &c->req;
    size_t len = 0, i;
    const char *path = r->path && r->path_len ? r->path : "/";
    size_t plen = r->path && r->path_len ? r->path_len : 1;

    if (hput(&c->hu, &c->hu_cap, &len, r->method, r->method_len) < 0 ||
        hput(&c->hu, &c->hu_cap, &len, " ", 1) < 0 || hput(&c->hu, &c->hu_cap, &len, path, plen) < 0 ||
        HPUTS(&c->hu, &c->hu_cap, &len, " HTTP/1.1\r\nHost: ") < 0)
        return -1;
    if (r->host)
        hput(&c->hu, &c->hu_cap, &len, r->host, r->host_len);
    else
        HPUTS(&c->hu, &c->hu_cap, &len, c->target->host);
    HPUTS(&c->hu, &c->hu_cap, &len, "\r\n");
    for (i = 0; i < r->nheaders; i++) {
        const struct h1_header *h = &r->headers[i];
        if (h1_is_hop_by_hop(r->headers, r->nheaders, h->name, h->name_len) ||
            (h->name_len == 4 && strncasecmp(h->name, "host", 4) == 0) ||
            (h->name_len == 14 && strncasecmp(h->name, "content-length", 14) == 0) ||
            (h->name_len == 17 && strncasecmp(h->name, "x-forwarded-proto", 17) == 0) ||
            (h->name_len == 16 && strncasecmp(h->name, "x-forwarded-port", 16) == 0))
            continue;
        if (h->name_len == 15 && strncasecmp(h->name, "x-forwarded-for", 15) == 0)
            continue;
        hput(&c->hu, &c->hu_cap, &len, h->name, h->name_len);
        hput(&c->hu, &c->hu_cap, &len, ": ", 2);
        hput(&c->hu, &c->hu_cap, &len, h->value, h->value_len);
        hput(&c->hu, &c->hu_cap, &len, "\r\n", 2);
    }
    /* append mode: the client's chain, then the peer */
    HPUTS(&c->hu, &c->hu_cap, &len, "X-Forwarded-For: ");
    for (i = 0; i < r->nheaders; i++) {
        const struct h1_header *h = &r->headers[i];
        if (h->name_len == 15 && strncasecmp(h->name, "x-forwarded-for", 15) == 0 &&
            h->value_len) {
            hput(&c->hu, &c->hu_cap, &len, h->value, h->value_len);
            hput(&c->hu, &c->hu_cap, &len, ", ", 2);
        }
    }
    HPUTS(&c->hu, &c->hu_cap, &len, c->peer_ip);
    HPUTS(&c->hu, &c->hu_cap, &len, "\r\n");
    hput_num(&c->hu, &c->hu_cap, &len, "X-Forwarded-Proto: http\r\nX-Forwarded-Port: ", 43,
             c->lport);
    if (c->req_chunked)
        HPUTS(&c->hu, &c->hu_cap, &len, "Transfer-Encoding: chunked\r\n");
    else if (r->content_length >= 0)
        hput_num(&c->hu, &c->hu_cap, &len, "Content-Length: ", 16, (long long)r->content_length);
    if (c->upgrade) {
        int k = h1_find_header(r->headers, r->nheaders, 0, "upgrade");
        HPUTS(&c->hu, &c->hu_cap, &len, "Connection: Upgrade\r\nUpgrade: ");
        if (k >= 0)
            hput(&c->hu, &c->hu_cap, &len, r->headers[k].value, r->headers[k].value_len);
        HPUTS(&c->hu, &c->hu_cap, &len, "\r\n");
    }
    HPUTS(&c->hu, &c->hu_cap, &len, "\r\n");
    c->to_up.n = 0;
    q_add(&c->to_up, c->hu, len);
    return 0;
}

static int start_upstream(struct px_conn *c)
{
    int connecting = 0;

    c->up = up_take(c->w, c->target);
    if (c->up == NULL) {
        c->up = up_dial(c->w, c->target, &connecting);
        if (c->up == NULL)
            return -1;
    }
    c->connecting = connecting;
    c->res_state = R_HEAD;
    memset(&c->uscan, 0, sizeof(c->uscan));
    c->ub_len = c->ub_off = 0;
    ev_fd_set(c->w->loop, c->up->fd, 0, NULL, NULL);
    return 0;
}

static void up_event(struct ev_loop *l, int fd, void *arg, int mask);

static void defer_head(struct px_conn *c)
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

static void undefer(struct px_conn *c)
{
    if (c->defer_up) {
        c->w->deferred[c->defer_up - 1] = NULL;
        c->defer_up = 0;
    }
}

static void handle_request(struct px_conn *c, size_t head_len)
{
    const struct h1_request *r = &c->req;
    const struct px_listener *lis = px_table_listener(c->w->table, c->lid);
    struct px_req_view v = {0};
    const struct px_rule *rule;
    const char *q;
    struct px_tg *g;
    struct px_target *t;

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
    if (lis == NULL) {
        local_response(c, 503, "text/html", error_body(503), NULL, 1);
        return;
    }
    c->idle_ms = lis->idle_timeout_s > 0 ? lis->idle_timeout_s * 1000 : 60000;
    if (r->path == NULL) { /* CONNECT */
        local_response(c, 405, "text/html", error_body(405), NULL, 1);
        return;
    }
    v.method = r->method;
    v.method_len = r->method_len;
    v.path = r->path;
    q = memchr(r->path, '?', r->path_len);
    v.path_len = q ? (size_t)(q - r->path) : r->path_len;
    v.query = q ? q + 1 : NULL;
    v.query_len = q ? r->path_len - v.path_len - 1 : 0;
    v.host = r->host;
    v.host_len = r->host_len;
    v.hdrs = r->headers;
    v.nhdrs = r->nheaders;
    v.peer = (struct sockaddr *)&c->peer;
    rule = route_match(lis, &v);
    if (rule == NULL || rule->act->type == PX_A_NONE) {
        local_response(c, 503, "text/html", error_body(503), NULL, local_close_needed(c));
        return;
    }
    if (rule->act->type == PX_A_FIXED || rule->act->type == PX_A_REDIRECT) {
        char loc[2048];
        if (rule->act->type == PX_A_REDIRECT) {
            if (route_redirect_location(rule->act, &v, lis->port, lis->https, loc, sizeof(loc)) < 0)
                local_response(c, 500, "text/plain", "redirect too long", NULL,
                               local_close_needed(c));
            else
                local_response(c, rule->act->code, NULL, NULL, loc, local_close_needed(c));
        } else
            local_response(c, rule->act->code, rule->act->ctype, rule->act->body, NULL,
                           local_close_needed(c));
        return;
    }
    if (c->req_chunked && c->cb_off < c->cb_len) {
        /* Refuse a bad chunk framing already received before the target
         * sees the head (the rest is still checked while streaming). */
        struct h1_chunked probe = {0};
        size_t off = c->cb_off, used, dn;
        const char *d;
        int rc;
        do {
            rc = h1_chunked_decode(&probe, c->cb + off, c->cb_len - off, &used, &d, &dn);
            off += used;
        } while (rc == SL_OK && off < c->cb_len);
        if (rc == H1_ERROR) {
            local_response(c, 400, "text/html", error_body(400), NULL, 1);
            return;
        }
    }
    g = route_pick_group(c->w->table, rule->act, route_rand());
    t = g ? route_pick_target(g, ev_now(c->w->loop), route_rand()) : NULL;
    if (t == NULL) {
        local_response(c, 503, "text/html", error_body(503), NULL, local_close_needed(c));
        return;
    }
    px_target_ref(t);
    atomic_fetch_add(&t->in_flight, 1);
    c->target = t;
    if (build_upstream_head(c) < 0 || start_upstream(c) < 0) {
        release_upstream(c, 0);
        local_response(c, 502, "text/html", error_body(502), NULL, !c->req_done);
        return;
    }
    /* A pooled connection is written at once by pump(); set_interest()
     * asks for EV_WRITE only if that blocks, saving an epoll_ctl(). */
    ev_fd_set(c->w->loop, c->up->fd, c->connecting ? EV_WRITE : 0, up_event, c);
    c->state = S_UP;
    if (!c->connecting && c->req_done)
        defer_head(c);
}

/* ---- response head ---- */

static void build_client_head(struct px_conn *c)
{
    const struct h1_response *r = &c->res;
    size_t len = 0, i;
    char line[96];
    int n;

    memcpy(line, "HTTP/1.1 ", 9);
    n = 9 + (int)fmt_u64(line + 9, (unsigned long long)(r->status < 0 ? 0 : r->status));
    line[n++] = ' ';
    hput(&c->hc, &c->hc_cap, &len, line, (size_t)n);
    hput(&c->hc, &c->hc_cap, &len, r->reason, r->reason_len);
    hput(&c->hc, &c->hc_cap, &len, "\r\n", 2);
    for (i = 0; i < r->nheaders; i++) {
        const struct h1_header *h = &r->headers[i];
        if (r->status != 101 && h1_is_hop_by_hop(r->headers, r->nheaders, h->name, h->name_len))
            continue;
        if (h->name_len == 14 && strncasecmp(h->name, "content-length", 14) == 0)
            continue;
        if (r->status == 101 && h->name_len == 17 &&
            strncasecmp(h->name, "transfer-encoding", 17) == 0)
            continue;
        hput(&c->hc, &c->hc_cap, &len, h->name, h->name_len);
        hput(&c->hc, &c->hc_cap, &len, ": ", 2);
        hput(&c->hc, &c->hc_cap, &len, h->value, h->value_len);
        hput(&c->hc, &c->hc_cap, &len, "\r\n", 2);
    }
    if (r->status != 101) {
        if (r->content_length >= 0 && !r->chunked && (!r->no_body || c->head_req || r->status == 304))
            hput_num(&c->hc, &c->hc_cap, &len, "Content-Length: ", 16, (long long)r->content_length);
        else if (!r->no_body && c->res_rechunk)
            HPUTS(&c->hc, &c->hc_cap, &len, "Transfer-Encoding: chunked\r\n");
        if (c->close_after)
            HPUTS(&c->hc, &c->hc_cap, &len, "Connection: close\r\n");
        else if (c->client_minor == 0)
            HPUTS(&c->hc, &c->hc_cap, &len, "Connection: keep-alive\r\n");
    }
    HPUTS(&c->hc, &c->hc_cap, &len, "\r\n");
    q_add(&c->to_cl, c->hc, len);
    c->resp_started = 1;
}

/* Fail the upstream exchange: retry once on a fresh connection when that is
 * safe, else 502/504 (or close when the response already started). */
static void upstream_failed(struct px_conn *c, int code)
{
    int can_retry = code == 502 && !c->retried && !c->body_sent_any && !c->resp_started &&
                    c->res_state == R_HEAD && c->ub_len == 0 && c->req_left == 0 && !c->req_chunked;

    if (c->up) {
        up_close(c->up);
        c->up = NULL;
    }
    if (can_retry) {
        int connecting;
        c->retried = 1;
        c->up = up_dial(c->w, c->target, &connecting);
        if (c->up) {
            c->connecting = connecting;
            c->to_up.n = 0;
            build_upstream_head(c);
            ev_fd_set(c->w->loop, c->up->fd, EV_WRITE, up_event, c);
            return;
        }
    }
    release_upstream(c, 0);
    if (!c->req_done)
        c->close_after = 1;
    local_response(c, code, "text/html", error_body(code), NULL, c->close_after);
}

/* ---- the pump ---- */

/* Read more into buffer <b> (<len> bytes held from <off>), compacting it
 * or doubling it up to <max> + BUF_INIT when full.  rd()'s result, or -2
 * when the buffer may not grow. */
static int fill(int fd, char **b, size_t *off, size_t *len, size_t *cap, size_t max)
{
    ssize_t n;

    if (*off > 0 && *off == *len)
        *off = *len = 0;
    if (*len == *cap) {
        if (*off > 0) {
            memmove(*b, *b + *off, *len - *off);
            *len -= *off;
            *off = 0;
        } else if (*cap >= max + BUF_INIT || ensure(b, cap, *cap * 2) < 0)
            return -2;
    }
    n = rd(fd, *b, *len, *cap);
    if (n > 0)
        *len += (size_t)n;
    return (int)n;
}

static int fill_client(struct px_conn *c)
{
    int n = fill(c->fd, &c->cb, &c->cb_off, &c->cb_len, &c->cb_cap, H1_MAX_REQUEST_HEAD);

    if (n == 0)
        c->client_eof = 1;
    return n;
}

/* Read more request body.  1 progress, 0 none, -1 the client gave up
 * mid-body and the connection is closed. */
static int fill_body(struct px_conn *c)
{
    int rc = fill_client(c);

    if (rc == 0 || rc == -2) {
        conn_close(c);
        return -1;
    }
    return rc > 0;
}

static int fill_up(struct px_conn *c)
{
    return fill(c->up->fd, &c->ub, &c->ub_off, &c->ub_len, &c->ub_cap, H1_MAX_RESPONSE_HEAD);
}

/* Move one span of request body from cb to to_up.  1 progress, 0 none. */
static int move_req_body(struct px_conn *c)
{
    const char *d;
    size_t used, dn;

    if (c->req_done || c->to_up.n || c->connecting || c->cb_off >= c->cb_len)
        return 0;
    if (take_req_span(c, &d, &dn, &used) == H1_ERROR) {
        release_upstream(c, 0);
        local_response(c, 400, "text/html", error_body(400), NULL, 1);
        return 1;
    }
    if (dn && c->req_chunked) {
        int k = snprintf(c->to_up.pre, sizeof(c->to_up.pre), "%zx\r\n", dn);
        q_add(&c->to_up, c->to_up.pre, (size_t)k);
        q_add(&c->to_up, d, dn);
        q_add(&c->to_up, "\r\n", 2);
    } else
        q_add(&c->to_up, d, dn);
    if (dn)
        c->body_sent_any = 1;
    if (c->req_chunked && c->req_done)
        q_add(&c->to_up, "0\r\n\r\n", 5);
    return used > 0 || dn > 0;
}

/* Parse / relay the response from ub.  1 progress, 0 none. */
static int move_response(struct px_conn *c)
{
    if (c->to_cl.n || c->ub_off >= c->ub_len)
        return 0;
    /* to_cl may hold the head (one iovec) once the body part is reached */
    if (c->res_state == R_HEAD) {
        int rc = h1_parse_response(c->ub + c->ub_off, c->ub_len - c->ub_off, &c->uscan,
                                   c->head_req, &c->res);
        if (rc == H1_INCOMPLETE)
            return 0;
        if (rc == H1_ERROR) {
            upstream_failed(c, 502);
            return 1;
        }
        if (c->res.status >= 100 && c->res.status < 200 && c->res.status != 101) {
            c->ub_off += (size_t)rc;
            memset(&c->uscan, 0, sizeof(c->uscan));
            if (c->res.status == 100 && c->expect_continue && !c->resp_started) {
                q_add(&c->to_cl, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                c->expect_continue = 0;
            }
            return 1;
        }
        if (c->res.status == 101) {
            if (!c->upgrade) {
                upstream_failed(c, 502);
                return 1;
            }
            build_client_head(c);
            c->ub_off += (size_t)rc;
            c->state = S_TUNNEL;
            return 1;
        }
        c->res_chunked_in = c->res.chunked;
        c->res_close_delim = !c->res.no_body && !c->res.chunked && c->res.close_delimited;
        c->res_rechunk = (c->res_chunked_in || c->res_close_delim) && c->client_minor == 1;
        if ((c->res_chunked_in || c->res_close_delim) && c->client_minor == 0)
            c->close_after = 1; /* 1.0 client: delimit by closing */
        if (!c->req_done)
            c->close_after = 1; /* early answer: the rest of the body is unread */
        c->res_left = c->res.no_body ? 0 : c->res_chunked_in || c->res_close_delim ? -1
                                                                                   : c->res.content_length;
        c->up_reusable = c->res.keep_alive && !c->res_close_delim;
        memset(&c->res_ch, 0, sizeof(c->res_ch));
        c->to_cl.n = 0;
        build_client_head(c);
        /* hc now holds a copy: ub bytes of the head can go */
        c->ub_off += (size_t)rc;
        c->res_state = c->res_left == 0 ? R_DONE : R_BODY;
        /* The first body span already read goes out in the same writev()
         * as the head (one segment, one wake-up of the client); the head
         * takes one iovec, a span at most three. */
        if (c->res_state != R_BODY || c->ub_off >= c->ub_len)
            return 1;
    }
    if (c->res_state == R_BODY) {
        if (!c->res_chunked_in) {
            size_t n = c->ub_len - c->ub_off;
            if (c->res_left >= 0 && (int64_t)n > c->res_left)
                n = (size_t)c->res_left;
            if (c->res_rechunk) {
                int k = snprintf(c->to_cl.pre, sizeof(c->to_cl.pre), "%zx\r\n", n);
                q_add(&c->to_cl, c->to_cl.pre, (size_t)k);
                q_add(&c->to_cl, c->ub + c->ub_off, n);
                q_add(&c->to_cl, "\r\n", 2);
            } else
                q_add(&c->to_cl, c->ub + c->ub_off, n);
            c->ub_off += n;
            if (c->res_left > 0 && (c->res_left -= (int64_t)n) == 0)
                c->res_state = R_DONE;
            return 1;
        } else {
            const char *d;
            size_t used, dn;
            int rc = h1_chunked_decode(&c->res_ch, c->ub + c->ub_off, c->ub_len - c->ub_off, &used,
                                       &d, &dn);
            c->ub_off += used;
            if (rc == H1_ERROR) {
                c->up_reusable = 0;
                c->close_after = 1;
                c->res_state = R_DONE;
                c->client_eof = 1;
                return 1;
            }
            if (dn) {
                if (c->res_rechunk) {
                    int k = snprintf(c->to_cl.pre, sizeof(c->to_cl.pre), "%zx\r\n", dn);
                    q_add(&c->to_cl, c->to_cl.pre, (size_t)k);
                    q_add(&c->to_cl, d, dn);
                    q_add(&c->to_cl, "\r\n", 2);
                } else
                    q_add(&c->to_cl, d, dn);
            }
            if (rc == H1_DONE)
                c->res_state = R_DONE;
            return used > 0 || dn > 0 || c->to_cl.n > 0;
        }
    }
    return 0;
}

static void finish_exchange(struct px_conn *c)
{
    int reuse = c->up_reusable && c->req_done && c->ub_off >= c->ub_len && !c->connecting;

    release_upstream(c, reuse);
    c->state = S_HEAD;
    c->head_started = 0;
    memset(&c->scan, 0, sizeof(c->scan));
}

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
    }
    ev_fd_mask(c->w->loop, c->fd, cm);
    if (c->up)
        ev_fd_mask(c->w->loop, c->up->fd, um);
}

static void arm_timer(struct px_conn *c)
{
    if (c->state == S_HEAD && c->head_started)
        return; /* the head deadline does not move */
    ev_timer_add(c->w->loop, &c->timer,
                 c->state == S_UP && c->connecting ? CONNECT_TIMEOUT_MS : (uint64_t)c->idle_ms);
}

static void pump(struct px_conn *c)
{
    int guard = 0, head_just_sent = 0;

    for (;;) {
        int progress = 0, rc;

        if (++guard > 64)
            break; /* let other connections run; level-triggered epoll returns */
        if (c->to_cl.n) {
            rc = q_flush(c->fd, &c->to_cl);
            if (rc < 0) {
                conn_close(c);
                return;
            }
            progress |= rc;
        }
        if (c->up && !c->connecting && c->to_up.n && !c->defer_up) {
            rc = q_flush(c->up->fd, &c->to_up);
            if (rc < 0) {
                if (c->state == S_TUNNEL) {
                    conn_close(c);
                    return;
                }
                upstream_failed(c, 502);
                continue;
            }
            progress |= rc;
            /* the answer cannot be there yet: let epoll say when it is */
            head_just_sent = c->state == S_UP && c->res_state == R_HEAD && !c->to_up.n &&
                             c->req_done && c->ub_len == 0;
        }
        switch (c->state) {
        case S_HEAD: {
            int status = 0;
            if (c->to_cl.n)
                break;
            if (c->cb_off >= c->cb_len && c->close_after) {
                conn_close(c);
                return;
            }
            if (c->cb_off < c->cb_len) {
                rc = h1_parse_request(c->cb + c->cb_off, c->cb_len - c->cb_off, &c->scan, &c->req,
                                      &status);
                if (rc > 0) {
                    handle_request(c, (size_t)rc);
                    progress = 1;
                    break;
                }
                if (rc == H1_ERROR) {
                    c->client_minor = 1;
                    c->head_req = 0;
                    c->resp_started = 0;
                    local_response(c, status ? status : 400, "text/html",
                                   error_body(status ? status : 400), NULL, 1);
                    progress = 1;
                    break;
                }
                if (!c->head_started) {
                    c->head_started = 1;
                    ev_timer_add(c->w->loop, &c->timer, (uint64_t)head_timeout_ms);
                }
            }
            if (c->client_eof) {
                conn_close(c);
                return;
            }
            rc = fill_client(c);
            if (rc == -2) {
                conn_close(c);
                return;
            }
            progress |= rc > 0 || rc == 0;
            break;
        }
        case S_UP:
            if (!c->req_done) {
                if (move_req_body(c))
                    progress = 1;
                else if (!c->to_up.n && !c->connecting && c->cb_off >= c->cb_len && !c->client_eof) {
                    if ((rc = fill_body(c)) < 0)
                        return;
                    progress |= rc;
                }
                if (c->state != S_UP)
                    break;
            }
            if (c->up && !c->connecting && c->res_state != R_DONE && !c->to_cl.n &&
                !c->defer_up && !head_just_sent) {
                if (move_response(c)) {
                    progress = 1;
                    break;
                }
                rc = fill_up(c);
                if (rc > 0)
                    progress = 1;
                else if (rc == 0) {
                    if (c->res_state == R_BODY && c->res_close_delim)
                        c->res_state = R_DONE;
                    else if (c->res_state == R_HEAD)
                        upstream_failed(c, 502);
                    else { /* truncated body: the client cannot be told otherwise */
                        conn_close(c);
                        return;
                    }
                    c->up_reusable = 0;
                    progress = 1;
                } else if (rc == -2) {
                    if (c->res_state == R_HEAD)
                        upstream_failed(c, 502);
                    else {
                        conn_close(c);
                        return;
                    }
                    progress = 1;
                }
            }
            if (c->state == S_UP && c->res_state == R_DONE && c->req_done && !c->to_cl.n &&
                !c->to_up.n) {
                finish_exchange(c);
                progress = 1;
                if (c->cb_off >= c->cb_len && !c->client_eof && !c->close_after) {
                    /* Nothing pipelined: the client has not had time to send
                     * the next request, so do not read() just to see EAGAIN. */
                    arm_timer(c);
                    goto out;
                }
            }
            break;
        case S_LOCAL:
            if (!c->req_done && !c->close_after) {
                if (discard_req_body(c))
                    progress = 1;
                else if (c->cb_off >= c->cb_len && !c->client_eof) {
                    if ((rc = fill_body(c)) < 0)
                        return;
                    progress |= rc;
                }
            }
            if (!c->to_cl.n && (c->req_done || c->close_after)) {
                if (c->close_after) {
                    conn_close(c);
                    return;
                }
                c->state = S_HEAD;
                c->head_started = 0;
                memset(&c->scan, 0, sizeof(c->scan));
                progress = 1;
            }
            break;
        case S_TUNNEL:
            if (!c->to_up.n && c->cb_off < c->cb_len) {
                q_add(&c->to_up, c->cb + c->cb_off, c->cb_len - c->cb_off);
                c->cb_off = c->cb_len;
                progress = 1;
            } else if (!c->to_up.n) {
                rc = fill_client(c);
                if (rc == 0 || rc == -2) {
                    conn_close(c);
                    return;
                }
                progress |= rc > 0;
            }
            if (!c->to_cl.n && c->ub_off < c->ub_len) {
                q_add(&c->to_cl, c->ub + c->ub_off, c->ub_len - c->ub_off);
                c->ub_off = c->ub_len;
                progress = 1;
            } else if (!c->to_cl.n) {
                rc = fill_up(c);
                if (rc == 0 || rc == -2) {
                    conn_close(c);
                    return;
                }
                progress |= rc > 0;
            }
            break;
        }
        if (!progress)
            break;
        arm_timer(c);
    }
out:
    set_interest(c);
}

static void client_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    pump(arg);
}

static void up_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    struct px_conn *c = arg;

    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            upstream_failed(c, 502);
            pump(c);
            return;
        }
        c->connecting = 0;
    }
    pump(c);
}

static void conn_timer(struct ev_loop *l, void *arg)
{
    struct px_conn *c = arg;

    if (c->state == S_UP && !c->resp_started) {
        int code = c->connecting ? 504 : 504;
        release_upstream(c, 0);
        c->close_after = 1;
        local_response(c, code, "text/html", error_body(code), NULL, 1);
        pump(c);
        return;
    }
    conn_close(c);
}

static void conn_close(struct px_conn *c)
{
    struct px_worker *w = c->w;

    release_upstream(c, 0);
    ev_timer_del(w->loop, &c->timer);
    ev_fd_del(w->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    free(c->cb);
    free(c->ub);
    free(c->hu);
    free(c->hc);
    free(c);
}

/* ---- listeners ---- */

static void accept_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    struct px_worker *w = arg;
    int i, k;

    for (k = 0; k < 64; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
        struct px_conn *c;

        if (cfd < 0)
            return;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = calloc(1, sizeof(*c));
        if (c == NULL || ensure(&c->cb, &c->cb_cap, BUF_INIT) < 0 ||
            ensure(&c->ub, &c->ub_cap, BUF_INIT) < 0) {
            if (c) {
                free(c->cb);
                free(c);
            }
            close(cfd);
            continue;
        }
        c->w = w;
        c->fd = cfd;
        c->peer = ss;
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer_ip,
                      sizeof(c->peer_ip));
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer_ip,
                      sizeof(c->peer_ip));
        for (i = 0; i < w->nls; i++)
            if (w->ls[i].fd == fd) {
                snprintf(c->lid, sizeof(c->lid), "%s", w->ls[i].lid);
                c->lport = w->ls[i].port;
            }
        c->idle_ms = 60000;
        {
            const struct px_listener *lis = px_table_listener(w->table, c->lid);
            if (lis && lis->idle_timeout_s > 0)
                c->idle_ms = lis->idle_timeout_s * 1000;
        }
        ev_timer_init(&c->timer, conn_timer, c);
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
        w->nconns++;
        ev_fd_set(l, cfd, EV_READ, client_event, c);
        ev_timer_add(l, &c->timer, (uint64_t)c->idle_ms);
    }
}

static int open_listener(const char *addr, int port)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    int fd, one = 1;

    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*a6);
    } else
        return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void close_lsock(struct px_worker *w, int i)
{
    ev_fd_del(w->loop, w->ls[i].fd);
    close(w->ls[i].fd);
    w->ls[i] = w->ls[--w->nls];
}

static void sync_listeners(struct px_worker *w)
{
    struct px_table *t = w->table;
    int i, j;

    for (i = 0; i < w->nls; i++)
        w->ls[i].used = 0;
    for (j = 0; t && !atomic_load(&w->stopping) && j < t->nlisteners; j++) {
        const struct px_listener *l = t->listeners[j];
        const char *addr = w->bind[0] ? w->bind : l->internet ? "0.0.0.0" : "127.0.0.1";
        int fd;
        if (l->https)
            continue; /* TLS listeners come later */
        for (i = 0; i < w->nls; i++)
            if (w->ls[i].port == l->port && strcmp(w->ls[i].lid, l->id) == 0 &&
                strcmp(w->ls[i].addr, addr) == 0)
                break;
        if (i < w->nls) {
            w->ls[i].used = 1;
            continue;
        }
        if ((fd = open_listener(addr, l->port)) < 0) {
            log_warn("worker %d: cannot listen on %s:%d: %s", w->idx, addr, l->port,
                     strerror(errno));
            continue;
        }
        if (w->nls == w->capls) {
            int n = w->capls ? w->capls * 2 : 8;
            struct px_lsock *p = realloc(w->ls, sizeof(*p) * (size_t)n);
            if (p == NULL) {
                close(fd);
                continue;
            }
            w->ls = p;
            w->capls = n;
        }
        w->ls[w->nls].fd = fd;
        w->ls[w->nls].port = l->port;
        w->ls[w->nls].used = 1;
        snprintf(w->ls[w->nls].lid, sizeof(w->ls[0].lid), "%s", l->id);
        snprintf(w->ls[w->nls].addr, sizeof(w->ls[0].addr), "%s", addr);
        ev_fd_set(w->loop, fd, EV_READ, accept_event, w);
        w->nls++;
        if (w->idx == 0)
            log_info("listening on %s:%d (listener %s)", addr, l->port, l->id);
    }
    for (i = w->nls - 1; i >= 0; i--)
        if (!w->ls[i].used) {
            if (w->idx == 0)
                log_info("closing %s:%d", w->ls[i].addr, w->ls[i].port);
            close_lsock(w, i);
        }
}

/* ---- worker ---- */

static void before_sleep(struct ev_loop *l, void *arg)
{
    struct px_worker *w = arg;
    unsigned gen = px_table_generation();
    int i;

    /* pump() may defer again (a pipelined request): only this batch */
    for (i = 0; i < w->ndeferred; i++) {
        struct px_conn *c = w->deferred[i];
        if (c) {
            w->deferred[i] = NULL;
            c->defer_up = 0;
            pump(c);
        }
    }
    w->ndeferred = 0;

    if (gen != w->gen) {
        struct px_table *t = px_table_acquire();
        px_table_release(w->table);
        w->table = t;
        w->gen = gen;
        sync_listeners(w);
        sweep_idle(w, 0);
    }
    if (atomic_load(&w->stopping)) {
        struct px_conn *c, *n;
        if (w->stop_deadline == 0) {
            w->stop_deadline = ev_mono_ms() + 30000;
            while (w->nls)
                close_lsock(w, w->nls - 1);
            sweep_idle(w, 1);
        }
        for (c = w->conns; c; c = n) {
            n = c->next;
            c->close_after = 1;
            if (c->state == S_HEAD && c->cb_off >= c->cb_len && !c->to_cl.n)
                conn_close(c);
        }
        if (w->nconns == 0 || ev_mono_ms() >= w->stop_deadline)
            ev_stop(l);
    }
}

static void tick(struct ev_loop *l, void *arg)
{
    struct px_worker *w = arg;

    sweep_idle(w, 0);
    ev_timer_add(l, &w->tick, atomic_load(&w->stopping) ? 100 : 1000);
}

static void *worker_main(void *arg)
{
    struct px_worker *w = arg;
    struct px_conn *c;

    ev_run(w->loop);
    while ((c = w->conns) != NULL)
        conn_close(c);
    sweep_idle(w, 1);
    while (w->nls)
        close_lsock(w, w->nls - 1);
    return NULL;
}

int px_worker_start(int idx, const char *bind_addr, struct px_worker **out)
{
    struct px_worker *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return SL_ENOMEM;
    w->idx = idx;
    if (bind_addr)
        snprintf(w->bind, sizeof(w->bind), "%s", bind_addr);
    w->gen = (unsigned)-1;
    if (ev_new(&w->loop) != SL_OK) {
        free(w);
        return SL_EIO;
    }
    ev_set_before(w->loop, before_sleep, w);
    ev_timer_init(&w->tick, tick, w);
    ev_timer_add(w->loop, &w->tick, 1000);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        ev_free(w->loop);
        free(w);
        return SL_ERR;
    }
    *out = w;
    return SL_OK;
}

void px_worker_wake(struct px_worker *w)
{
    ev_wake(w->loop);
}

void px_worker_stop(struct px_worker *w, int grace_ms)
{
    if (w == NULL)
        return;
    atomic_store(&w->stopping, 1);
    ev_wake(w->loop);
    pthread_join(w->th, NULL);
    ev_timer_del(w->loop, &w->tick);
    px_table_release(w->table);
    ev_free(w->loop);
    free(w->ls);
    free(w->deferred);
    free(w);
}
