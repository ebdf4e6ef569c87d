/*
 * metrics_api.c - a small table of (action, status) counters and per-action
 * latency histograms.
 */
#include "server/metrics_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/prom.h"

static const uint64_t bound_us[MAPI_BUCKETS - 1] = {100,   250,   500,    1000,   2500,
                                                    5000,  10000, 25000,  50000,  100000,
                                                    250000, 1000000, 5000000};
static const char *const le[MAPI_BUCKETS] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025",
                                             "0.005",  "0.01",    "0.025",  "0.05",  "0.1",
                                             "0.25",   "1",       "5",      "+Inf"};

struct row {
    char action[MAPI_ACTION_MAX];
    int status;  /* 0: the action's histogram row */
    uint64_t n;  /* requests (status rows) or observations (histogram row) */
    uint64_t sum_us;
    uint64_t bucket[MAPI_BUCKETS];
};

struct mapi {
    pthread_mutex_t mu;
    struct row *rows;
    size_t n, cap;
};

int mapi_new(struct mapi **out)
{
    struct mapi *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return SL_ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return SL_OK;
}

void mapi_free(struct mapi *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->rows);
    free(m);
}

static struct row *row(struct mapi *m, const char *action, int status)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if (m->rows[i].status == status &&
            strncmp(m->rows[i].action, action, sizeof(m->rows[i].action) - 1) == 0)
            return &m->rows[i];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct row *p = realloc(m->rows, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        m->rows = p;
        m->cap = cap;
    }
    memset(&m->rows[m->n], 0, sizeof(m->rows[0]));
    snprintf(m->rows[m->n].action, sizeof(m->rows[0].action), "%s", action);
    m->rows[m->n].status = status;
    return &m->rows[m->n++];
}

void mapi_observe(struct mapi *m, const char *action, int status, uint64_t us)
{
    struct row *r, *h;
    int k;

    if (m == NULL || action == NULL)
        return;
    for (k = 0; k < MAPI_BUCKETS - 1 && us > bound_us[k]; k++)
        ;
    pthread_mutex_lock(&m->mu);
    if ((r = row(m, action, status)) != NULL)
        r->n++;
    if ((h = row(m, action, 0)) != NULL) {
        h->n++;
        h->sum_us += us;
        h->bucket[k]++;
    }
    pthread_mutex_unlock(&m->mu);
}

static int by_action(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    int c = strcmp(a->action, b->action);

    return c ? c : a->status - b->status;
}

void mapi_render(struct mapi *m, struct buf *out)
{
    static const struct prom_family req = {
        "sluice_api_requests_total", "counter",
        "API requests by action (ELBv2 and ECS action names, REST method and path) and "
        "HTTP status"};
    static const struct prom_family dur = {
        "sluice_api_request_duration_seconds", "histogram",
        "API request latency by action, from the request's head to its answer"};
    struct row *rows;
    struct buf lab;
    char st[16];
    size_t n, i;
    int k;

    pthread_mutex_lock(&m->mu);
    n = m->n;
    rows = malloc((n + 1) * sizeof(*rows));
    if (rows)
        memcpy(rows, m->rows, n * sizeof(*rows));
    pthread_mutex_unlock(&m->mu);
    if (rows == NULL)
        return;
    qsort(rows, n, sizeof(*rows), by_action);
    buf_init(&lab);
    prom_family(out, &req);
    for (i = 0; i < n; i++) {
        if (rows[i].status == 0)
            continue;
        lab.len = 0;
        prom_label(&lab, "action", rows[i].action);
        snprintf(st, sizeof(st), "%d", rows[i].status);
        prom_label(&lab, "status", st);
        prom_sample(out, req.name, lab.data, rows[i].n);
    }
    prom_family(out, &dur);
    for (i = 0; i < n; i++) {
        if (rows[i].status != 0)
            continue;
        for (k = 1; k < MAPI_BUCKETS; k++)
            rows[i].bucket[k] += rows[i].bucket[k - 1];
        lab.len = 0;
        prom_label(&lab, "action", rows[i].action);
        prom_histogram(out, dur.name, lab.data, le, MAPI_BUCKETS, rows[i].bucket,
                       rows[i].sum_us, rows[i].n);
    }
    buf_free(&lab);
    free(rows);
}
