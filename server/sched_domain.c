/*
 * sched_domain.c - the scheduler's calls into routes/ (see sched_domain.h):
 * the typed ELBv2 target functions inside the caller's transaction, target
 * health and RunTask in their own, and the deployment builder.
 */
#include "server/sched_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ecs/deployments.h"
#include "routes/ecs/instances.h"
#include "routes/ecs/service.h"
#include "routes/ecs/task.h"
#include "routes/ecs/taskdef.h"
#include "routes/elbv2/targets.h"
#include "routes/elbv2/tg.h"
#include "server/app.h"
#include "store/store.h"

void sched_domain_init(struct sched_domain *d, struct app *app)
{
    memset(d, 0, sizeof(*d));
    d->store = app->store;
    d->elb.region = app->cfg->region;
    d->elb.account = app->cfg->account_id;
    d->elb.health = app->health;
    d->ecs.region = app->cfg->region;
    d->ecs.account = app->cfg->account_id;
}

static struct elb_target target_of(const struct sched_addr *a)
{
    struct elb_target t = {a->ip, a->port, NULL};

    return t;
}

int sched_domain_register(const struct sched_domain *d, struct store_txn *txn,
                          const char *tg_arn, const struct sched_addr *a, struct sl_err *err)
{
    struct elb_target t = target_of(a);

    if (!elb_tg_exists(txn, tg_arn))
        return SL_ENOTFOUND;
    return elb_targets_register(txn, &d->elb, tg_arn, &t, 1, err);
}

int sched_domain_deregister(const struct sched_domain *d, struct store_txn *txn,
                            const char *tg_arn, const struct sched_addr *a, uint64_t now_ms,
                            long *delay_s, struct sl_err *err)
{
    struct elb_target t = target_of(a);
    struct sl_err ignored = {0};

    *delay_s = 0;
    if (elb_targets_drain_delay(txn, tg_arn, delay_s, &ignored) != SL_OK)
        return SL_ENOTFOUND;
    return elb_targets_deregister(txn, &d->elb, tg_arn, &t, 1, now_ms, err);
}

int sched_domain_health(struct sched_domain *d, const char *tg_arn,
                        struct sched_target_health **out, size_t *n)
{
    struct elb_target_status *st = NULL;
    struct sched_target_health *v = NULL;
    struct store_txn *txn;
    struct sl_err err = {0};
    size_t i, m = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (store_read_begin(d->store, &txn, &err) != SL_OK)
        return SL_ERR;
    rc = elb_targets_status(txn, &d->elb, tg_arn, &st, &m, &err);
    store_txn_end(txn);
    if (rc != SL_OK)
        return strcmp(err.code, "TargetGroupNotFound") == 0 ? SL_ENOTFOUND : SL_ERR;
    if (m > 0 && (v = calloc(m, sizeof(*v))) == NULL) {
        free(st);
        return SL_ENOMEM;
    }
    for (i = 0; i < m; i++) {
        snprintf(v[i].addr.ip, sizeof(v[i].addr.ip), "%s", st[i].id);
        v[i].addr.port = st[i].port;
        v[i].state = sched_target_parse(elb_target_state_name(st[i].state));
        snprintf(v[i].description, sizeof(v[i].description), "%s", st[i].description);
    }
    free(st);
    *out = v;
    *n = m;
    return SL_OK;
}

json_t *sched_domain_taskdef(struct store_txn *txn, const char *arn)
{
    return arn && arn[0] ? ecs_taskdef_find(txn, arn) : NULL;
}

struct run_call {
    const struct sched_domain *d;
    const char *service;
    struct ecs_run_spec spec;
    json_t *out;
};

static int run_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct run_call *c = arg;
    json_t *svc = NULL;
    int rc;

    /* A service's tasks start under its capacity provider strategy. */
    if (c->service) {
        const char *prop;
        c->spec.strategy =
            ecs_service_placement(txn, c->spec.cluster, c->service, &svc, &c->spec.launch_given);
        prop = json_string_value(json_object_get(svc, "propagateTags"));
        c->spec.managed_tags = json_is_true(json_object_get(svc, "enableECSManagedTags"));
        c->spec.propagate_td = prop && strcmp(prop, "TASK_DEFINITION") == 0;
        c->spec.extra_tags =
            prop && strcmp(prop, "SERVICE") == 0 ? json_object_get(svc, "tags") : NULL;
    }
    rc = ecs_tasks_run(txn, &c->d->ecs, &c->spec, &c->out, err);
    c->spec.strategy = NULL;
    c->spec.extra_tags = NULL;
    json_decref(svc);
    return rc;
}

/* The reason the first placement failure of <failures> gives, in the words
 * of ECS's service events. */
static void placement_reason(json_t *failures, struct sl_err *err)
{
    json_t *f = json_array_get(failures, 0);
    const char *reason = json_string_value(json_object_get(f, "reason"));
    const char *arn = json_string_value(json_object_get(f, "arn"));
    const char *id = arn && strrchr(arn, '/') ? strrchr(arn, '/') + 1 : "";

    sl_err_set(err, 400, "PlacementFailure",
               "No Container Instances were found in your cluster that met all of the task's "
               "requirements: the closest matching (container-instance %s) %s",
               id,
               reason && strcmp(reason, "DRAINING") == 0 ? "is in DRAINING state"
               : reason && strcmp(reason, "RESOURCE:CPU") == 0
                   ? "has insufficient CPU units available"
                   : "has insufficient memory available");
}

int sched_domain_run_tasks(struct sched_domain *d, const struct sched_run *r, char (*ids)[33],
                           size_t *n, struct sl_err *err)
{
    struct run_call c;
    json_t *t;
    size_t i;
    int k;

    memset(&c, 0, sizeof(c));
    c.d = d;
    c.service = r->service;
    c.spec.cluster = r->cluster;
    c.spec.td_ref = r->task_definition;
    c.spec.count = r->count;
    c.spec.group = r->group;
    c.spec.started_by = r->started_by;
    c.spec.launch = ECS_LT_EC2;
    *n = 0;
    for (k = 0; r->launch_type && ecs_launch_type_names[k]; k++)
        if (strcmp(ecs_launch_type_names[k], r->launch_type) == 0)
            c.spec.launch = (enum ecs_launch_type)k;
    if (ecs_run_check(&c.spec, err) != SL_OK ||
        store_write(d->store, run_tx, &c, NULL, err) != SL_OK)
        return SL_ERR;
    json_array_foreach(json_object_get(c.out, "tasks"), i, t) {
        const char *arn = json_string_value(json_object_get(t, "taskArn"));
        const char *slash = arn ? strrchr(arn, '/') : NULL;
        if ((long)*n < r->count)
            snprintf(ids[(*n)++], 33, "%s", slash ? slash + 1 : "");
    }
    if (*n == 0 && json_array_size(json_object_get(c.out, "failures")) > 0) {
        placement_reason(json_object_get(c.out, "failures"), err);
        json_decref(c.out);
        return SL_EAGAIN;
    }
    json_decref(c.out);
    return SL_OK;
}

json_t *sched_domain_deployment(const char *td_arn, long desired, const char *launch,
                                double now)
{
    return ecs_deployment_new(td_arn, desired, launch, now);
}

int sched_domain_service_sync(struct store_txn *txn, json_t *svc, const char *rollback_from,
                              double now)
{
    return rollback_from ? ecs_deployments_sync_rollback(txn, svc, rollback_from, now)
                         : ecs_deployments_sync(txn, svc, now);
}

int sched_domain_instance_draining(struct store_txn *txn, const char *cluster)
{
    json_t *c = store_get_shared(txn, K_ECS_CLUSTER, cluster);
    int draining = c && ecs_instance_draining(c);

    json_decref(c);
    return draining;
}
