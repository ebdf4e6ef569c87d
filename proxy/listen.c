/*
 * listen.c - listening sockets and accept.
 */
#define _GNU_SOURCE
#include "proxy/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/bindstate.h"

static void accept_event(struct ev_loop *l, int fd, void *arg, int mask)
{
    struct px_worker *w = arg;
    const struct px_lsock *ls = NULL;
    int i, k;

    for (i = 0; i < w->nls; i++)
        if (w->ls[i].fd == fd)
            ls = &w->ls[i];
    if (ls == NULL)
        return;
    for (k = 0; k < 64 && px_admit_may_accept(w); k++) { /* a bounded batch */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

        if (cfd < 0) {
            px_admit_accept_failed(w, errno);
            return;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        px_admit_opened(w);
        if (px_conn_accept(w, cfd, &ss, ls) != SL_OK) /* it closed cfd */
            px_admit_closed(w);
    }
}

/* A listening socket on <addr>:<port>, or SL_EIO (errno set). */
static int open_socket(const char *addr, int port)
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
    } else {
        errno = EINVAL;
        return SL_EIO;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SL_EIO;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SL_EIO;
    }
    return fd;
}

static void close_lsock(struct px_worker *w, int i)
{
    ev_fd_del(w->loop, w->ls[i].fd);
    close(w->ls[i].fd);
    w->ls[i] = w->ls[--w->nls];
}

void px_listen_close_all(struct px_worker *w)
{
    while (w->nls)
        close_lsock(w, w->nls - 1);
}

/* Add a socket for listener <l> on <addr>.  0, or the errno of the failed
 * socket/bind/listen (logged by the caller). */
static int open_lsock(struct px_worker *w, const struct px_listener *l, const char *addr)
{
    int fd = open_socket(addr, l->port);

    if (fd < 0)
        return errno ? errno : EIO;
    if (w->nls == w->capls) {
        int n = w->capls ? w->capls * 2 : 8;
        struct px_lsock *p = realloc(w->ls, sizeof(*p) * (size_t)n);
        if (p == NULL) {
            close(fd);
            return ENOMEM;
        }
        w->ls = p;
        w->capls = n;
    }
    w->ls[w->nls].fd = fd;
    w->ls[w->nls].port = l->port;
    w->ls[w->nls].used = 1;
    snprintf(w->ls[w->nls].lid, sizeof(w->ls[0].lid), "%s", l->id);
    snprintf(w->ls[w->nls].addr, sizeof(w->ls[0].addr), "%s", addr);
    ev_fd_set(w->loop, fd, px_admit_listen_mask(w), accept_event, w);
    w->nls++;
    return 0;
}

/* Whether listener <lid> failed to bind at the worker's previous sync. */
static const struct px_bind_error *failed_before(const struct px_worker *w, const char *lid)
{
    int i;

    for (i = 0; i < w->nunbound; i++)
        if (strcmp(w->unbound[i].lid, lid) == 0)
            return &w->unbound[i];
    return NULL;
}

/* Log what changed since the last sync (worker 0 speaks for all: they
 * bind the same addresses), and keep the new list. */
static void note_unbound(struct px_worker *w, struct px_bind_error *now, int n)
{
    int i;

    for (i = 0; w->idx == 0 && i < n; i++) {
        const struct px_bind_error *was = failed_before(w, now[i].lid);
        if (was == NULL || was->err != now[i].err || was->port != now[i].port)
            log_warn("listener %s (load balancer %s) cannot listen on %s:%d: %s; retrying "
                     "every second",
                     now[i].lid, now[i].lb_id, now[i].addr, now[i].port, strerror(now[i].err));
    }
    free(w->unbound);
    w->unbound = now;
    w->nunbound = n;
    px_bind_set(w->idx, now, n);
}

/* Open (or retry) the sockets of the table's listeners; <bad> collects
 * those that fail.  Returns how many failed, or -1 out of memory. */
static int open_missing(struct px_worker *w, struct px_bind_error **bad)
{
    struct px_table *t = w->table;
    int i, j, n = 0;

    *bad = NULL;
    for (j = 0; t && !atomic_load(&w->stopping) && j < t->nlisteners; j++) {
        const struct px_listener *l = t->listeners[j];
        const char *addr = w->bind[0] ? w->bind : l->internet ? "0.0.0.0" : "127.0.0.1";
        int err;

        if (l->https && l->tls == NULL)
            continue; /* no usable default certificate (the model logged it) */
        for (i = 0; i < w->nls; i++)
            if (w->ls[i].port == l->port && strcmp(w->ls[i].lid, l->id) == 0 &&
                strcmp(w->ls[i].addr, addr) == 0)
                break;
        if (i < w->nls) {
            w->ls[i].used = 1;
            continue;
        }
        if ((err = open_lsock(w, l, addr)) == 0) {
            if (w->idx == 0)
                log_info("listening on %s:%d (listener %s)%s", addr, l->port, l->id,
                         failed_before(w, l->id) ? " at last" : "");
            continue;
        }
        if (n % 8 == 0) {
            struct px_bind_error *p = realloc(*bad, sizeof(*p) * (size_t)(n + 8));
            if (p == NULL)
                return -1;
            *bad = p;
        }
        memset(&(*bad)[n], 0, sizeof((*bad)[n]));
        snprintf((*bad)[n].lid, sizeof((*bad)[n].lid), "%s", l->id);
        snprintf((*bad)[n].lb_id, sizeof((*bad)[n].lb_id), "%s", l->lb_id);
        snprintf((*bad)[n].addr, sizeof((*bad)[n].addr), "%s", addr);
        (*bad)[n].port = l->port;
        (*bad)[n].err = err;
        n++;
    }
    return n;
}

void px_listen_sync(struct px_worker *w)
{
    struct px_bind_error *bad;
    int i, n;

    for (i = 0; i < w->nls; i++)
        w->ls[i].used = 0;
    n = open_missing(w, &bad);
    for (i = w->nls - 1; i >= 0; i--)
        if (!w->ls[i].used) {
            if (w->idx == 0)
                log_info("closing %s:%d", w->ls[i].addr, w->ls[i].port);
            close_lsock(w, i);
        }
    if (n < 0) { /* out of memory: keep the old list; the tick tries again */
        free(bad);
        return;
    }
    note_unbound(w, bad, n);
}

int px_listen_retry_due(const struct px_worker *w)
{
    return w->nunbound > 0 && !atomic_load(&w->stopping);
}
