/*
 * metrics_ecs.c - services as gauges.
 */
#include "server/metrics_ecs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/prom.h"
#include "routes/ecs/ecs.h"
#include "store/store.h"

#define NSTATES 3
static const char *const rollout_states[NSTATES] = {"COMPLETED", "FAILED", "IN_PROGRESS"};

struct svc {
    char *cluster, *name;
    long long running, desired, pending;
    long long rollouts[NSTATES];
};

struct collect {
    struct svc *v;
    size_t n, cap;
};

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static int on_service(const char *id, json_t *o, void *arg)
{
    struct collect *c = arg;
    const char *st = json_string_value(json_object_get(o, "status"));
    const char *carn = json_string_value(json_object_get(o, "clusterArn"));
    const char *name = json_string_value(json_object_get(o, "serviceName"));
    const char *cl = carn && strstr(carn, ":cluster/") ? strstr(carn, ":cluster/") + 9 : carn;
    json_t *d;
    struct svc *s;
    size_t i;
    int k;

    if (st == NULL || strcmp(st, "ACTIVE") != 0 || name == NULL)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct svc *p = realloc(c->v, cap * sizeof(*p));
        if (p == NULL)
            return SL_ENOMEM;
        c->v = p;
        c->cap = cap;
    }
    s = &c->v[c->n];
    memset(s, 0, sizeof(*s));
    s->cluster = strdup(cl ? cl : "");
    s->name = strdup(name);
    if (s->cluster == NULL || s->name == NULL) {
        free(s->cluster);
        free(s->name);
        return SL_ENOMEM;
    }
    s->running = num(o, "runningCount");
    s->desired = num(o, "desiredCount");
    s->pending = num(o, "pendingCount");
    json_array_foreach(json_object_get(o, "deployments"), i, d) {
        const char *rs = json_string_value(json_object_get(d, "rolloutState"));
        for (k = 0; rs && k < NSTATES; k++)
            if (strcmp(rs, rollout_states[k]) == 0)
                s->rollouts[k]++;
    }
    c->n++;
    return 0;
}

static void labels(struct buf *b, const struct svc *s)
{
    b->len = 0;
    prom_label(b, "cluster", s->cluster);
    prom_label(b, "service", s->name);
}

int mecs_render(struct store *st, struct buf *out)
{
    static const struct prom_family fams[] = {
        {"sluice_ecs_service_running_tasks", "gauge", "runningCount of each active service"},
        {"sluice_ecs_service_desired_tasks", "gauge", "desiredCount of each active service"},
        {"sluice_ecs_service_pending_tasks", "gauge", "pendingCount of each active service"},
        {"sluice_ecs_service_deployments", "gauge",
         "a service's deployments by rolloutState"},
    };
    struct collect c = {NULL, 0, 0};
    struct store_txn *txn;
    struct sl_err err = {0};
    struct buf lab;
    size_t i;
    int rc, f, k;

    if ((rc = store_read_begin(st, &txn, &err)) != SL_OK)
        return rc;
    rc = store_scan(txn, K_ECS_SERVICE, NULL, on_service, &c);
    store_txn_end(txn);
    buf_init(&lab);
    for (f = 0; rc == SL_OK && f < 3; f++) {
        prom_family(out, &fams[f]);
        for (i = 0; i < c.n; i++) {
            labels(&lab, &c.v[i]);
            prom_sample(out, fams[f].name, lab.data,
                        (uint64_t)(f == 0 ? c.v[i].running : f == 1 ? c.v[i].desired
                                                                    : c.v[i].pending));
        }
    }
    if (rc == SL_OK)
        prom_family(out, &fams[3]);
    for (i = 0; rc == SL_OK && i < c.n; i++)
        for (k = 0; k < NSTATES; k++) {
            labels(&lab, &c.v[i]);
            prom_label(&lab, "rollout_state", rollout_states[k]);
            prom_sample(out, fams[3].name, lab.data, (uint64_t)c.v[i].rollouts[k]);
        }
    for (i = 0; i < c.n; i++) {
        free(c.v[i].cluster);
        free(c.v[i].name);
    }
    free(c.v);
    buf_free(&lab);
    return rc;
}
