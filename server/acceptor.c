/*
 * acceptor.c - the accept thread (see acceptor.h).  A blocking accept4()
 * on its own thread; shutdown(2) of the listening socket wakes it to stop.
 */
#define _GNU_SOURCE /* accept4() */
#include "server/acceptor.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define BACKLOG      1024
#define EMFILE_PAUSE 100 /* ms without accepting when out of descriptors */

struct acceptor {
    int fd;
    int max_open;
    acceptor_add_fn add;
    void *arg;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open; /* connections the server holds */
    int closing;
};

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Wait for room under max_open; 0 when closing. */
static int room(struct acceptor *a)
{
    int ok;

    pthread_mutex_lock(&a->mu);
    while (!a->closing && a->open >= a->max_open)
        pthread_cond_wait(&a->cv, &a->mu);
    ok = !a->closing;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

static void *accept_main(void *arg)
{
    struct acceptor *a = arg;
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    while (room(a)) {
        len = sizeof(ss);
        fd = accept4(a->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn("http: accept: %s; pausing %d ms", strerror(errno), EMFILE_PAUSE);
                pause_ms(EMFILE_PAUSE); /* a spin would starve the clients being served */
                continue;
            }
            break; /* shut down: acceptor_close() */
        }
        /* Counted from now: the server reports its close, or refuses it
         * here (libmicrohttpd's per-address limit). */
        pthread_mutex_lock(&a->mu);
        a->open++;
        pthread_mutex_unlock(&a->mu);
        if (a->add(a->arg, fd, (struct sockaddr *)&ss, len) != 0)
            acceptor_closed(a);
    }
    return NULL;
}

static int listen_on(const struct sockaddr *sa, socklen_t len, int *port, struct sl_err *err)
{
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    int one = 1, fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        sl_err_set(err, 500, "InternalFailure", "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, sa, len) != 0 || listen(fd, BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        sl_err_set(err, 500, "InternalFailure", "%s", strerror(errno));
        close(fd);
        return -1;
    }
    *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

int acceptor_start(const struct sockaddr *sa, socklen_t len, int max_open, acceptor_add_fn add,
                   void *arg, int *port, struct acceptor **out, struct sl_err *err)
{
    struct acceptor *a = calloc(1, sizeof(*a));

    *out = NULL;
    if (a == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    a->fd = -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->max_open = max_open;
    a->add = add;
    a->arg = arg;
    if ((a->fd = listen_on(sa, len, port, err)) < 0) {
        acceptor_free(a);
        return SL_ERR;
    }
    if (pthread_create(&a->thread, NULL, accept_main, a) != 0) {
        acceptor_free(a);
        return sl_err_set(err, 500, "InternalFailure", "cannot start the accept thread");
    }
    a->started = 1;
    *out = a;
    return SL_OK;
}

void acceptor_closed(struct acceptor *a)
{
    pthread_mutex_lock(&a->mu);
    a->open--;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

void acceptor_close(struct acceptor *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->closing = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->fd >= 0)
        shutdown(a->fd, SHUT_RDWR); /* wakes accept4() */
    if (a->started) {
        pthread_join(a->thread, NULL);
        a->started = 0;
    }
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
}

void acceptor_free(struct acceptor *a)
{
    if (a == NULL)
        return;
    acceptor_close(a);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
