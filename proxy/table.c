/*
 * table.c - the parts of a routing table, their reference counts, and the
 * publication of the current table.
 *
 * The current table is the one piece of process-wide mutable state besides
 * configuration: a pointer guarded by a mutex that is taken only on publish
 * and when a worker notices a new generation (never per request).
 */
#include "proxy/table.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/accesslog.h"
#include "proxy/arena.h"
#include "proxy/tls.h"

/* ---- parts ---- */

void px_target_ref(struct px_target *t)
{
    if (t)
        atomic_fetch_add(&t->refs, 1);
}

void px_target_release(struct px_target *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        pxm_target_free(&t->m);
        px_tls_session_free(atomic_load(&t->tls_sess));
        free(t);
    }
}

struct px_target *px_target_new(const char *key, const char *address, int port)
{
    struct px_target *t = calloc(1, sizeof(*t));
    struct sockaddr_in *a4;
    struct sockaddr_in6 *a6;

    if (t == NULL)
        return NULL;
    if (pxm_target_init(&t->m) != SL_OK) {
        free(t);
        return NULL;
    }
    a4 = (struct sockaddr_in *)&t->addr;
    a6 = (struct sockaddr_in6 *)&t->addr;
    snprintf(t->key, sizeof(t->key), "%s", key);
    snprintf(t->host, sizeof(t->host), "%s",
             strcmp(address, "localhost") == 0 ? "127.0.0.1" : address);
    t->port = port;
    if (inet_pton(AF_INET, t->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        t->addrlen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, t->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        t->addrlen = sizeof(*a6);
    }
    atomic_init(&t->refs, 1);
    atomic_init(&t->live, 1);
    atomic_init(&t->health, PX_H_INITIAL);
    atomic_init(&t->reason, PX_R_REGISTERING);
    return t;
}

void px_rule_def_release(struct px_rule_def *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1) {
        px_arena_free(d->arena);
        free(d);
    }
}

void px_tg_release(struct px_tg *g)
{
    int i;

    if (g == NULL || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    for (i = 0; i < g->ntargets; i++)
        px_target_release(g->targets[i]);
    free(g->targets);
    free(g->stick_ids);
    free(g);
}

void px_listener_release(struct px_listener *l)
{
    int i;

    if (l == NULL || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (i = 0; i < l->nrules; i++)
        px_rule_def_release((struct px_rule_def *)l->rules[i].def);
    pxm_listener_put(l->m);
    pxa_sink_put(l->alog);
    pxa_sink_put(l->clog);
    px_tls_srv_release(l->tls);
    px_arena_free(l->arena);
    free(l);
}

/* ---- tables ---- */

struct px_table *px_table_new(uint64_t rev, int nlisteners, int nslots)
{
    struct px_table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->listeners = calloc((size_t)nlisteners + 1, sizeof(*t->listeners));
    t->slots = calloc((size_t)nslots + 1, sizeof(*t->slots));
    if (t->listeners == NULL || t->slots == NULL) {
        free(t->listeners);
        free(t->slots);
        free(t);
        return NULL;
    }
    atomic_init(&t->refs, 1);
    t->rev = rev;
    return t;
}

void px_table_release(struct px_table *t)
{
    int i;

    if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    for (i = 0; i < t->nlisteners; i++)
        px_listener_release(t->listeners[i]);
    for (i = 0; i < t->nslots; i++)
        px_tg_release(t->slots[i]);
    free(t->listeners);
    free(t->slots);
    free(t);
}

/* ---- publication ---- */

static pthread_mutex_t cur_mu = PTHREAD_MUTEX_INITIALIZER;
static struct px_table *cur;
static atomic_uint cur_gen;

void px_table_publish(struct px_table *t)
{
    struct px_table *old;

    pthread_mutex_lock(&cur_mu);
    old = cur;
    cur = t;
    atomic_fetch_add(&cur_gen, 1);
    pthread_mutex_unlock(&cur_mu);
    px_table_release(old);
}

struct px_table *px_table_acquire(void)
{
    struct px_table *t;

    pthread_mutex_lock(&cur_mu);
    t = cur;
    if (t)
        atomic_fetch_add(&t->refs, 1);
    pthread_mutex_unlock(&cur_mu);
    return t;
}

unsigned px_table_generation(void)
{
    return atomic_load(&cur_gen);
}

const struct px_listener *px_table_listener(const struct px_table *t, const char *id)
{
    int lo = 0, hi = t ? t->nlisteners : 0;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(t->listeners[mid]->id, id);
        if (c == 0)
            return t->listeners[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct px_tg *px_table_tg(const struct px_table *t, const char *id)
{
    int i;

    for (i = 0; t && i < t->nslots; i++)
        if (t->slots[i] && strcmp(t->slots[i]->conf.id, id) == 0)
            return t->slots[i];
    return NULL;
}
