/*
 * metrics_http.c - the scrape endpoint's thread.
 */
#define _GNU_SOURCE
#include "proxy/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/ev.h"
#include "proxy/http1.h"
#include "proxy/metrics_render.h"
#include "proxy/table.h"

#define IO_LIMIT_MS 2000
#define HEAD_MAX 16384

struct pxm_http {
    int fd, wake, port;
    pthread_t th;
    uint64_t (*applied)(void *);
    void *arg;
};

/* Wait for <ev> on <fd> until <deadline>; 1 ready, 0 timed out or stopped. */
static int wait_fd(struct pxm_http *h, int fd, short ev, uint64_t deadline)
{
    struct pollfd p[2] = {{fd, ev, 0}, {h->wake, POLLIN, 0}};
    uint64_t now = ev_mono_ms();

    if (now >= deadline)
        return 0;
    if (poll(p, 2, (int)(deadline - now)) <= 0 || (p[1].revents & POLLIN))
        return 0;
    return (p[0].revents & (ev | POLLERR | POLLHUP)) != 0;
}

static void send_all(struct pxm_http *h, int fd, const char *p, size_t n, uint64_t deadline)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(h, fd, POLLOUT, deadline))
                return;
        } else
            return;
    }
}

static void answer(struct pxm_http *h, int fd, int code, const char *reason, const char *ctype,
                   const struct buf *body, int head_only, uint64_t deadline)
{
    char head[256];
    size_t blen = body && body->data ? body->len : 0;
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nServer: sluice-proxy\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, reason, ctype, blen);

    send_all(h, fd, head, (size_t)n, deadline);
    if (!head_only && blen)
        send_all(h, fd, body->data, blen, deadline);
}

static void serve(struct pxm_http *h, int fd)
{
    uint64_t deadline = ev_mono_ms() + IO_LIMIT_MS;
    char *in = malloc(HEAD_MAX);
    struct h1_scan scan = {0};
    struct h1_request req;
    struct buf body;
    size_t len = 0;
    int status = 0, rc = H1_INCOMPLETE, head;

    buf_init(&body);
    while (in && rc == H1_INCOMPLETE && len < HEAD_MAX) {
        ssize_t k = recv(fd, in + len, HEAD_MAX - len, 0);
        if (k > 0) {
            len += (size_t)k;
            rc = h1_parse_request(in, len, &scan, &req, &status);
        } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(h, fd, POLLIN, deadline))
                goto out;
        } else
            goto out;
    }
    if (rc <= 0) {
        buf_puts(&body, "bad request\n");
        answer(h, fd, 400, "Bad Request", "text/plain", &body, 0, deadline);
        goto out;
    }
    head = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
    if (req.path == NULL || req.path_len < 8 || memcmp(req.path, "/metrics", 8) != 0 ||
        (req.path_len > 8 && req.path[8] != '?')) {
        buf_puts(&body, "not found: GET /metrics\n");
        answer(h, fd, 404, "Not Found", "text/plain", &body, head, deadline);
    } else if (!head && !(req.method_len == 3 && memcmp(req.method, "GET", 3) == 0)) {
        buf_puts(&body, "use GET\n");
        answer(h, fd, 405, "Method Not Allowed", "text/plain", &body, 0, deadline);
    } else {
        struct px_table *t = px_table_acquire();
        int ok = pxm_render(t, h->applied ? h->applied(h->arg) : 0, &body) == SL_OK;
        px_table_release(t);
        if (ok)
            answer(h, fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &body, head,
                   deadline);
        else
            answer(h, fd, 500, "Internal Server Error", "text/plain", NULL, head, deadline);
    }
out:
    buf_free(&body);
    free(in);
}

static void *http_main(void *arg)
{
    struct pxm_http *h = arg;

    for (;;) {
        struct pollfd p[2] = {{h->fd, POLLIN, 0}, {h->wake, POLLIN, 0}};
        int cfd;
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        cfd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        serve(h, cfd);
        close(cfd);
    }
    return NULL;
}

static int bind_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[64];
    int port;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (util_parse_hostport(addr, host, sizeof(host), &port) != 0 || port < 0 || port > 65535)
        return SL_EINVAL;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*a6);
    } else
        return SL_EINVAL;
    return SL_OK;
}

int pxm_http_start(const char *addr, uint64_t (*applied)(void *), void *arg,
                   struct pxm_http **out, struct sl_err *err)
{
    struct pxm_http *h = calloc(1, sizeof(*h));
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    int one = 1;

    if (h == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    h->fd = h->wake = -1;
    h->applied = applied;
    h->arg = arg;
    if (bind_addr(addr, &ss, &sl) != SL_OK) {
        free(h);
        sl_err_set(err, 400, "InvalidArgument",
                   "--metrics-listen '%s': want an IP address and a port (HOST:PORT)", addr);
        return SL_EINVAL;
    }
    if ((h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(h->fd, (struct sockaddr *)&ss, sl) != 0 || listen(h->fd, 64) != 0 ||
        (h->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        sl_err_set(err, 500, "InternalFailure", "--metrics-listen %s: %s", addr, strerror(errno));
        goto fail;
    }
    if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
        h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    if (pthread_create(&h->th, NULL, http_main, h) != 0) {
        sl_err_set(err, 500, "InternalFailure", "cannot start the metrics thread");
        goto fail;
    }
    *out = h;
    return SL_OK;
fail:
    if (h->fd >= 0)
        close(h->fd);
    if (h->wake >= 0)
        close(h->wake);
    free(h);
    return SL_EIO;
}

int pxm_http_port(const struct pxm_http *h)
{
    return h->port;
}

void pxm_http_stop(struct pxm_http *h)
{
    uint64_t one = 1;

    if (h == NULL)
        return;
    if (write(h->wake, &one, sizeof(one)) < 0)
        log_warn("metrics: cannot wake the scrape thread");
    pthread_join(h->th, NULL);
    close(h->fd);
    close(h->wake);
    free(h);
}
