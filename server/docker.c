/*
 * docker.c - the Docker Engine API client (see docker.h).
 *
 * Every request is "Connection: close" on a fresh connection: a unix-socket
 * connect costs microseconds next to the engine's 30-500 ms per call, and a
 * connection that is never reused cannot be left in a half-read state.
 */
#include "server/docker.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "proxy/http1.h"

struct docker {
    char host[1024];
    int unix_sock;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char tcp_host[256], tcp_port[8];
};

int docker_new(const char *host, struct docker **out, struct sl_err *err)
{
    struct docker *d;
    const char *p;

    if (host == NULL || *host == '\0')
        return sl_err_set(err, 400, "InvalidParameter", "empty Docker host"), SL_EINVAL;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory"), SL_ENOMEM;
    snprintf(d->host, sizeof(d->host), "%s", host);
    if (strncmp(host, "unix://", 7) == 0 || host[0] == '/') {
        p = host[0] == '/' ? host : host + 7;
        if (p[0] != '/' || strlen(p) >= sizeof(d->path)) {
            free(d);
            return sl_err_set(err, 400, "InvalidParameter",
                              "Docker host '%.300s': expected unix:///absolute/path", host),
                   SL_EINVAL;
        }
        d->unix_sock = 1;
        snprintf(d->path, sizeof(d->path), "%s", p);
    } else if (strncmp(host, "tcp://", 6) == 0 || strncmp(host, "http://", 7) == 0) {
        int port;
        p = strstr(host, "://") + 3;
        if (util_parse_hostport(p, d->tcp_host, sizeof(d->tcp_host), &port) != 0 || port <= 0 ||
            port > 65535) {
            free(d);
            return sl_err_set(err, 400, "InvalidParameter",
                              "Docker host '%.300s': expected tcp://HOST:PORT", host),
                   SL_EINVAL;
        }
        snprintf(d->tcp_port, sizeof(d->tcp_port), "%d", port);
    } else {
        free(d);
        return sl_err_set(err, 400, "InvalidParameter",
                          "Docker host '%.300s': only unix:// and tcp:// (without TLS) are "
                          "supported",
                          host),
               SL_EINVAL;
    }
    *out = d;
    return SL_OK;
}

void docker_free(struct docker *d)
{
    free(d);
}

const char *docker_host(const struct docker *d)
{
    return d->host;
}

/* ---- connections ---- */

static uint64_t now_ms(void)
{
    return util_mono_ms();
}

/* Wait for <ev> on <fd> until <deadline>; SL_EIO at once when <cancel>
 * (> 0) becomes readable. */
static int wait_fd2(int fd, short ev, uint64_t deadline, int cancel)
{
    struct pollfd p[2] = {{fd, ev, 0}, {cancel, POLLIN, 0}};
    uint64_t now = now_ms();
    int rc;

    if (now >= deadline)
        return SL_EAGAIN;
    do
        rc = poll(p, cancel > 0 ? 2 : 1, (int)(deadline - now));
    while (rc < 0 && errno == EINTR);
    if (rc > 0 && cancel > 0 && p[1].revents)
        return SL_EIO;
    return rc > 0 ? SL_OK : rc == 0 ? SL_EAGAIN : SL_EIO;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
    return wait_fd2(fd, ev, deadline, -1);
}

/* A connected, non-blocking, close-on-exec socket to the engine, or -1. */
static int dial(const struct docker *d, uint64_t deadline, struct sl_err *err)
{
    int fd = -1;

    if (d->unix_sock) {
        struct sockaddr_un a;
        memset(&a, 0, sizeof(a));
        a.sun_family = AF_UNIX;
        memcpy(a.sun_path, d->path, strlen(d->path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            sl_err_set(err, 500, "EngineUnreachable", "connect %s: %s", d->path,
                       strerror(errno));
            goto fail;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        return fd;
    } else {
        struct addrinfo hints, *ai = NULL;
        int rc, soerr = 0;
        socklen_t sl = sizeof(soerr);
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if ((rc = getaddrinfo(d->tcp_host, d->tcp_port, &hints, &ai)) != 0) {
            sl_err_set(err, 500, "EngineUnreachable", "resolve %s: %s", d->tcp_host,
                       gai_strerror(rc));
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
            soerr = errno;
        freeaddrinfo(ai);
        if (fd < 0 || soerr) {
            sl_err_set(err, 500, "EngineUnreachable", "connect %s:%s: %s", d->tcp_host,
                       d->tcp_port, strerror(fd < 0 ? errno : soerr));
            goto fail;
        }
        if (wait_fd(fd, POLLOUT, deadline) != SL_OK ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
            sl_err_set(err, 500, "EngineUnreachable", "connect %s:%s: %s", d->tcp_host,
                       d->tcp_port, soerr ? strerror(soerr) : "timed out");
            goto fail;
        }
        return fd;
    }
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

static int send_all(int fd, const char *p, size_t n, uint64_t deadline, struct sl_err *err)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != SL_OK)
                return sl_err_set(err, 500, "EngineTimeout", "sending to the engine timed out"),
                       SL_EIO;
        } else {
            return sl_err_set(err, 500, "EngineUnreachable", "send: %s", strerror(errno)),
                   SL_EIO;
        }
    }
    return SL_OK;
}

static int send_head(const struct docker *d, int fd, const struct docker_req *r,
                     uint64_t deadline, struct sl_err *err)
{
    struct buf h;
    int rc;

    buf_init(&h);
    buf_printf(&h, "%s " DOCKER_API "%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sluiced\r\n",
               r->method, r->path, d->unix_sock ? "docker" : d->tcp_host);
    if (r->body)
        buf_printf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                   r->ctype ? r->ctype : "application/json", r->body_len);
    else if (strcmp(r->method, "POST") == 0)
        buf_puts(&h, "Content-Length: 0\r\n");
    if (r->extra)
        buf_puts(&h, r->extra);
    buf_puts(&h, "Connection: close\r\n\r\n");
    if (buf_failed(&h)) {
        buf_free(&h);
        return sl_err_set(err, 500, "InternalFailure", "out of memory"), SL_ENOMEM;
    }
    rc = send_all(fd, h.data, h.len, deadline, err);
    buf_free(&h);
    return rc;
}

/* ---- response bodies ---- */

struct body_state {
    struct h1_response res;
    struct h1_scan scan;
    struct h1_chunked ch;
    int head_done, done;
    uint64_t got;
};

/* Drop the first <n> bytes of <b>. */
static void consume(struct buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    if (b->data)
        b->data[b->len] = '\0';
}

/* Feed the bytes in <in> to the response state; body spans go to <sink>.
 * SL_OK (need more), 1 (complete), SL_ERR (malformed). */
static int feed(struct body_state *st, struct buf *in, int head_req, docker_sink sink,
                void *arg, int *status_early, struct sl_err *err)
{
    while (!st->done) {
        if (!st->head_done) {
            int rc = h1_parse_response(in->data ? in->data : "", in->len, &st->scan, head_req,
                                       &st->res);
            if (rc == H1_INCOMPLETE)
                return SL_OK;
            if (rc == H1_ERROR)
                return sl_err_set(err, 502, "EngineProtocolError",
                                  "malformed response head from the engine");
            consume(in, (size_t)rc);
            memset(&st->scan, 0, sizeof(st->scan));
            if (st->res.status < 200)
                continue; /* 1xx: the real head follows */
            st->head_done = 1;
            if (status_early)
                *status_early = st->res.status;
            if (st->res.no_body || (!st->res.chunked && st->res.content_length == 0))
                st->done = 1;
            continue;
        }
        if (in->len == 0)
            return SL_OK;
        if (st->res.chunked) {
            size_t used = 0, dl = 0;
            const char *data = NULL;
            int rc = h1_chunked_decode(&st->ch, in->data, in->len, &used, &data, &dl);
            if (rc == H1_ERROR)
                return sl_err_set(err, 502, "EngineProtocolError",
                                  "malformed chunked body from the engine");
            if (dl > 0 && sink(arg, data, dl) != 0)
                return sl_err_set(err, 502, "EngineProtocolError", "response body refused");
            consume(in, used);
            if (rc == H1_DONE)
                st->done = 1;
            else if (rc == H1_INCOMPLETE)
                return SL_OK;
        } else {
            size_t n = in->len;
            if (st->res.content_length >= 0 &&
                (uint64_t)st->res.content_length - st->got < n)
                n = (size_t)((uint64_t)st->res.content_length - st->got);
            if (sink(arg, in->data, n) != 0)
                return sl_err_set(err, 502, "EngineProtocolError", "response body refused");
            st->got += n;
            consume(in, n);
            if (st->res.content_length >= 0 && st->got == (uint64_t)st->res.content_length)
                st->done = 1;
        }
    }
    return 1;
}

static int buf_sink(void *arg, const char *data, size_t len)
{
    struct buf *b = arg;

    if (b->len + len > DOCKER_MAX_BODY)
        return -1;
    buf_append(b, data, len);
    return buf_failed(b) ? -1 : 0;
}

int docker_call(const struct docker *d, const struct docker_req *r, int *status,
                struct buf *out_body, struct sl_err *err)
{
    uint64_t deadline = now_ms() + (uint64_t)(r->timeout_ms > 0 ? r->timeout_ms : 30000);
    struct body_state st;
    struct buf in;
    int fd, rc = SL_EIO, frc = SL_OK;
    char tmp[16384];

    memset(&st, 0, sizeof(st));
    buf_init(&in);
    if ((fd = dial(d, deadline, err)) < 0)
        return SL_EIO;
    if (send_head(d, fd, r, deadline, err) != SL_OK ||
        (r->body && send_all(fd, r->body, r->body_len, deadline, err) != SL_OK))
        goto out;
    for (;;) {
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n > 0) {
            buf_append(&in, tmp, (size_t)n);
            if (buf_failed(&in)) {
                sl_err_set(err, 500, "InternalFailure", "out of memory");
                goto out;
            }
            frc = feed(&st, &in, strcmp(r->method, "HEAD") == 0, r->sink ? r->sink : buf_sink,
                       r->sink ? r->sink_arg : out_body, r->status_early, err);
            if (frc == SL_ERR)
                goto out;
            if (frc == 1)
                break;
        } else if (n == 0) {
            if (st.head_done && st.res.close_delimited)
                break;
            sl_err_set(err, 502, "EngineProtocolError",
                       "the engine closed the connection before the response ended");
            goto out;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd2(fd, POLLIN, deadline, r->cancel_fd) != SL_OK) {
                sl_err_set(err, 504, "EngineTimeout", "%s %s: no answer from the engine within "
                                                      "%d ms",
                           r->method, r->path, r->timeout_ms);
                goto out;
            }
        } else {
            sl_err_set(err, 500, "EngineUnreachable", "recv: %s", strerror(errno));
            goto out;
        }
    }
    *status = st.res.status;
    rc = SL_OK;
out:
    close(fd);
    buf_free(&in);
    return rc;
}

int docker_json(const struct docker *d, const char *method, const char *path, json_t *body,
                int timeout_ms, int *status, json_t **out, struct sl_err *err)
{
    struct docker_req r;
    struct buf b;
    char *text = NULL;
    int rc;

    memset(&r, 0, sizeof(r));
    r.method = method;
    r.path = path;
    r.timeout_ms = timeout_ms;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            return sl_err_set(err, 500, "InternalFailure", "out of memory"), SL_ENOMEM;
        r.body = text;
        r.body_len = strlen(text);
    }
    buf_init(&b);
    rc = docker_call(d, &r, status, &b, err);
    free(text);
    *out = NULL;
    if (rc == SL_OK && b.len > 0)
        *out = json_loadb(b.data, b.len, 0, NULL);
    buf_free(&b);
    return rc;
}

const char *docker_message(json_t *body, const char *dflt)
{
    const char *m = json_string_value(json_object_get(body, "message"));
    return m && *m ? m : dflt;
}

/* ---- streams ---- */

struct docker_stream {
    int fd;
    struct body_state st;
    struct buf in, line;
};

int docker_stream_open(const struct docker *d, const char *path, struct docker_stream **out,
                       struct sl_err *err)
{
    struct docker_req r;
    struct docker_stream *s = calloc(1, sizeof(*s));
    uint64_t deadline = now_ms() + 5000;

    if (s == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory"), SL_ENOMEM;
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = path;
    buf_init(&s->in);
    buf_init(&s->line);
    if ((s->fd = dial(d, deadline, err)) < 0 || send_head(d, s->fd, &r, deadline, err) != SL_OK) {
        docker_stream_close(s);
        return SL_EIO;
    }
    *out = s;
    return SL_OK;
}

int docker_stream_fd(const struct docker_stream *s)
{
    return s->fd;
}

static int line_sink(void *arg, const char *data, size_t len)
{
    struct buf *b = arg;

    if (b->len + len > DOCKER_MAX_BODY)
        return -1; /* one "line" of 16 MiB is not an event */
    buf_append(b, data, len);
    return buf_failed(b) ? -1 : 0;
}

int docker_stream_read(struct docker_stream *s, void (*line)(void *arg, const char *text),
                       void *arg, struct sl_err *err)
{
    char tmp[16384];

    for (;;) {
        ssize_t n = recv(s->fd, tmp, sizeof(tmp), 0);
        int frc;
        char *nl;

        if (n == 0)
            return sl_err_set(err, 502, "EngineStreamClosed", "the engine closed the stream"),
                   SL_EIO;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return SL_OK;
            return sl_err_set(err, 500, "EngineUnreachable", "recv: %s", strerror(errno)),
                   SL_EIO;
        }
        buf_append(&s->in, tmp, (size_t)n);
        frc = feed(&s->st, &s->in, 0, line_sink, &s->line, NULL, err);
        if (frc == SL_ERR || buf_failed(&s->in))
            return SL_EIO;
        if (s->st.head_done && (s->st.res.status < 200 || s->st.res.status > 299))
            return sl_err_set(err, 502, "EngineStreamRefused", "the engine answered %d",
                              s->st.res.status),
                   SL_EIO;
        while (s->line.len > 0 && (nl = memchr(s->line.data, '\n', s->line.len)) != NULL) {
            size_t l = (size_t)(nl - s->line.data);
            *nl = '\0';
            if (l > 0)
                line(arg, s->line.data);
            consume(&s->line, l + 1);
        }
        if (frc == 1)
            return sl_err_set(err, 502, "EngineStreamClosed", "the engine ended the stream"),
                   SL_EIO;
    }
}

void docker_stream_close(struct docker_stream *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    buf_free(&s->in);
    buf_free(&s->line);
    free(s);
}

/* ---- pure helpers ---- */

int docker_demux_feed(struct docker_demux *dm, const char *data, size_t len,
                      void (*out)(void *arg, int stream, const char *p, size_t n), void *arg)
{
    while (len > 0 && !dm->bad) {
        if (dm->left > 0) {
            size_t n = len < dm->left ? len : dm->left;
            out(arg, dm->stream == 2 ? 2 : 1, data, n);
            data += n;
            len -= n;
            dm->left -= n;
            continue;
        }
        while (dm->hdr_len < 8 && len > 0) {
            dm->hdr[dm->hdr_len++] = (unsigned char)*data++;
            len--;
        }
        if (dm->hdr_len < 8)
            break;
        if (dm->hdr[0] > 2 || dm->hdr[1] || dm->hdr[2] || dm->hdr[3]) {
            dm->bad = 1;
            break;
        }
        dm->stream = dm->hdr[0];
        dm->left = (size_t)dm->hdr[4] << 24 | (size_t)dm->hdr[5] << 16 |
                   (size_t)dm->hdr[6] << 8 | (size_t)dm->hdr[7];
        dm->hdr_len = 0;
    }
    return dm->bad ? SL_EINVAL : SL_OK;
}

int docker_image_ref(const char *image, char *repo, size_t rcap, char *tag, size_t tcap,
                     char *registry, size_t gcap)
{
    const char *slash = strchr(image, '/'), *last = strrchr(image, '/'), *colon;
    size_t rl;

    if (*image == '\0')
        return SL_EINVAL;
    if (strchr(image, '@')) { /* by digest: the whole reference, no tag */
        if ((size_t)snprintf(repo, rcap, "%s", image) >= rcap)
            return SL_EINVAL;
        tag[0] = '\0';
    } else {
        colon = strrchr(last ? last : image, ':');
        rl = colon ? (size_t)(colon - image) : strlen(image);
        if (rl == 0 || rl >= rcap || (colon && colon[1] == '\0'))
            return SL_EINVAL;
        memcpy(repo, image, rl);
        repo[rl] = '\0';
        if ((size_t)snprintf(tag, tcap, "%s", colon ? colon + 1 : "latest") >= tcap)
            return SL_EINVAL;
    }
    if (slash && (memchr(image, '.', (size_t)(slash - image)) ||
                  memchr(image, ':', (size_t)(slash - image)) ||
                  (slash - image == 9 && strncmp(image, "localhost", 9) == 0))) {
        if ((size_t)(slash - image) >= gcap)
            return SL_EINVAL;
        memcpy(registry, image, (size_t)(slash - image));
        registry[slash - image] = '\0';
    } else if ((size_t)snprintf(registry, gcap, "docker.io") >= gcap) {
        return SL_EINVAL;
    }
    return SL_OK;
}
