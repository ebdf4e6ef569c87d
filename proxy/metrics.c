/*
 * metrics.c - counter cells: listener cells kept by id while referenced,
 * target counters, and their sums.
 */
#include "proxy/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/map.h"
#include "proxy/table.h"

const double pxm_bucket_le[PXM_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,   0.25,   0.5,   1,    2.5,   10};
/* the same bounds in microseconds, for the workers (no floating point) */
static const uint64_t bucket_us[PXM_NBUCKETS] = {1000,   2500,   5000,    10000,
                                                 25000,  50000,  100000,  250000,
                                                 500000, 1000000, 2500000, 10000000};

struct pxm_listener {
    struct px_map_node node;
    char id[PX_ID_MAX];
    atomic_int refs;
    struct pxm_lslot *slots;
};

static int nworkers = 1;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct px_map reg; /* listener id -> cell, under reg_mu */

void pxm_init(int n)
{
    nworkers = n < 1 ? 1 : n > PX_MAX_WORKERS ? PX_MAX_WORKERS : n;
}

int pxm_nworkers(void)
{
    return nworkers;
}

/* Cache-line aligned, zeroed slots. */
static void *slots_new(size_t size)
{
    void *p = NULL;

    if (posix_memalign(&p, 64, size * (size_t)nworkers) != 0)
        return NULL;
    memset(p, 0, size * (size_t)nworkers);
    return p;
}

struct pxm_listener *pxm_listener_get(const char *id)
{
    struct px_map_node *n;
    struct pxm_listener *m = NULL;

    pthread_mutex_lock(&reg_mu);
    if ((n = px_map_get(&reg, id)) != NULL) {
        m = px_map_entry(n, struct pxm_listener, node);
        atomic_fetch_add(&m->refs, 1);
        goto out;
    }
    if ((m = calloc(1, sizeof(*m))) == NULL)
        goto out;
    snprintf(m->id, sizeof(m->id), "%s", id);
    atomic_init(&m->refs, 1);
    if ((m->slots = slots_new(sizeof(*m->slots))) == NULL ||
        px_map_put(&reg, &m->node, m->id) != SL_OK) {
        free(m->slots);
        free(m);
        m = NULL;
    }
out:
    pthread_mutex_unlock(&reg_mu);
    return m;
}

void pxm_listener_ref(struct pxm_listener *m)
{
    if (m)
        atomic_fetch_add(&m->refs, 1);
}

void pxm_listener_put(struct pxm_listener *m)
{
    int old;

    if (m == NULL)
        return;
    /* Only the last reference is dropped under the registry's lock, where
     * get() takes new ones: a cell found there is never being freed. */
    old = atomic_load(&m->refs);
    while (old > 1)
        if (atomic_compare_exchange_weak(&m->refs, &old, old - 1))
            return;
    pthread_mutex_lock(&reg_mu);
    if (atomic_fetch_sub(&m->refs, 1) == 1) {
        px_map_del(&reg, &m->node);
        free(m->slots);
        free(m);
    }
    pthread_mutex_unlock(&reg_mu);
}

struct pxm_lslot *pxm_lslot(struct pxm_listener *m, int w)
{
    return &m->slots[w];
}

void pxm_listener_sum(const struct pxm_listener *m, struct pxm_lsum *out)
{
    uint64_t closed = 0;
    int w, i;

    memset(out, 0, sizeof(*out));
    for (w = 0; w < nworkers; w++) {
        const struct pxm_lslot *s = &m->slots[w];
        out->requests += pxm_get(&s->requests);
        out->new_conns += pxm_get(&s->new_conns);
        out->rejected += pxm_get(&s->rejected);
        closed += pxm_get(&s->closed);
        out->bytes += pxm_get(&s->bytes);
        out->rule_evals += pxm_get(&s->rule_evals);
        for (i = 0; i < 3; i++)
            out->elb[i] += pxm_get(&s->elb[i]);
        for (i = 0; i < 4; i++)
            out->elb5xx[i] += pxm_get(&s->elb5xx[i]);
    }
    /* read after new_conns: a connection counted closed was counted opened */
    out->active = out->new_conns > closed ? out->new_conns - closed : 0;
}

int pxm_target_init(struct pxm_target *t)
{
    t->slots = slots_new(sizeof(*t->slots));
    return t->slots ? SL_OK : SL_ENOMEM;
}

void pxm_target_free(struct pxm_target *t)
{
    free(t->slots);
    t->slots = NULL;
}

void pxm_target_sum(const struct pxm_target *t, struct pxm_tsum *out)
{
    int w, i;

    memset(out, 0, sizeof(*out));
    for (w = 0; t->slots && w < nworkers; w++) {
        const struct pxm_tslot *s = &t->slots[w];
        out->requests += pxm_get(&s->requests);
        for (i = 0; i < 4; i++)
            out->target[i] += pxm_get(&s->target[i]);
        out->conn_errors += pxm_get(&s->conn_errors);
        out->rt_count += pxm_get(&s->rt_count);
        out->rt_sum_us += pxm_get(&s->rt_sum_us);
        for (i = 0; i <= PXM_NBUCKETS; i++)
            out->rt_bucket[i] += pxm_get(&s->rt_bucket[i]);
    }
    for (i = 1; i <= PXM_NBUCKETS; i++)
        out->rt_bucket[i] += out->rt_bucket[i - 1];
}

int pxm_bucket_of(uint64_t us)
{
    int i;

    for (i = 0; i < PXM_NBUCKETS; i++)
        if (us <= bucket_us[i])
            return i;
    return PXM_NBUCKETS;
}

void pxm_arn_resource(const char *arn, const char *after, char *out, size_t cap)
{
    const char *p = *after ? strstr(arn, after) : strrchr(arn, ':');

    if (p)
        p += *after ? strlen(after) : 1;
    snprintf(out, cap, "%s", p ? p : arn);
}
