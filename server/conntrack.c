/*
 * conntrack.c - the slow-client reaper (see conntrack.h).  A list under one
 * lock, scanned every REAP_TICK_MS: at 10,000 connections a scan is far
 * below a millisecond, and deadlines are seconds.
 */
#include "server/conntrack.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#define REAP_TICK_MS 200

struct ct_conn {
    struct ct_conn *prev, *next;
    int fd;
    uint64_t deadline; /* monotonic ms; 0: none */
};

struct conntrack {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    struct ct_conn *head;
    int timeout_ms;
    int stopping;
    uint64_t reaped;
};

static void reap(struct conntrack *ct, uint64_t now)
{
    struct ct_conn *c;

    for (c = ct->head; c; c = c->next) {
        if (c->deadline == 0 || c->deadline > now)
            continue;
        /* The descriptor is still open: conntrack_close() takes this lock
         * before libmicrohttpd closes it. */
        shutdown(c->fd, SHUT_RDWR);
        c->deadline = 0;
        ct->reaped++;
        log_debug("http: closed a connection that kept the server waiting over %d ms",
                  ct->timeout_ms);
    }
}

static void *reaper_main(void *arg)
{
    struct conntrack *ct = arg;
    struct timespec ts;

    pthread_mutex_lock(&ct->mu);
    while (!ct->stopping) {
        reap(ct, util_mono_ms());
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += REAP_TICK_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&ct->cv, &ct->mu, &ts);
    }
    pthread_mutex_unlock(&ct->mu);
    return NULL;
}

int conntrack_start(int timeout_ms, struct conntrack **out)
{
    struct conntrack *ct = calloc(1, sizeof(*ct));
    pthread_condattr_t ca;

    *out = NULL;
    if (ct == NULL)
        return SL_ENOMEM;
    ct->timeout_ms = timeout_ms;
    pthread_mutex_init(&ct->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ct->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&ct->thread, NULL, reaper_main, ct) != 0) {
        pthread_cond_destroy(&ct->cv);
        pthread_mutex_destroy(&ct->mu);
        free(ct);
        return SL_ERR;
    }
    *out = ct;
    return SL_OK;
}

void conntrack_stop(struct conntrack *ct)
{
    if (ct == NULL)
        return;
    pthread_mutex_lock(&ct->mu);
    ct->stopping = 1;
    pthread_cond_broadcast(&ct->cv);
    pthread_mutex_unlock(&ct->mu);
    pthread_join(ct->thread, NULL);
    while (ct->head) {
        struct ct_conn *c = ct->head;
        ct->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&ct->cv);
    pthread_mutex_destroy(&ct->mu);
    free(ct);
}

struct ct_conn *conntrack_open(struct conntrack *ct, int fd)
{
    struct ct_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->fd = fd;
    pthread_mutex_lock(&ct->mu);
    c->deadline = util_mono_ms() + (uint64_t)ct->timeout_ms;
    c->next = ct->head;
    if (ct->head)
        ct->head->prev = c;
    ct->head = c;
    pthread_mutex_unlock(&ct->mu);
    return c;
}

void conntrack_close(struct conntrack *ct, struct ct_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&ct->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        ct->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&ct->mu);
    free(c);
}

void conntrack_arm(struct conntrack *ct, struct ct_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&ct->mu);
    c->deadline = util_mono_ms() + (uint64_t)ct->timeout_ms;
    pthread_mutex_unlock(&ct->mu);
}

void conntrack_disarm(struct conntrack *ct, struct ct_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&ct->mu);
    c->deadline = 0;
    pthread_mutex_unlock(&ct->mu);
}

uint64_t conntrack_reaped(struct conntrack *ct)
{
    uint64_t n;

    pthread_mutex_lock(&ct->mu);
    n = ct->reaped;
    pthread_mutex_unlock(&ct->mu);
    return n;
}
