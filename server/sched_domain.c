/*
 * sched_domain.c - the scheduler's calls into routes/ (see sched_domain.h):
 * ELBv2 target writes through elb_targets_*_txn(), health through
 * DescribeTargetHealth, ECS through RunTask and the deployment builder.
 */
#include "server/sched_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ecs/ecs.h"
#include "routes/elbv2/elbv2.h"
#include "server/app.h"
#include "store/store.h"

void sched_domain_init(struct sched_domain *d, struct app *app)
{
    memset(d, 0, sizeof(*d));
    d->ctx.store = app->store;
    d->ctx.health = app->health;
    d->ctx.region = app->cfg->region;
    d->ctx.account = app->cfg->account_id;
    d->ctx.request_id = "ecs-scheduler";
}

static json_t *target_list(const struct sched_addr *a)
{
    return json_pack("[{ss sI}]", "Id", a->ip, "Port", (json_int_t)a->port);
}

static int group_exists(struct store_txn *txn, const char *tg_arn, long *delay_s)
{
    json_t *tg = elb_by_arn_ro(txn, K_TG, tg_arn, NULL);
    const char *v;

    if (tg == NULL)
        return 0;
    if (delay_s) {
        v = elb_attr_get(json_object_get(tg, "Attributes"),
                         "deregistration_delay.timeout_seconds");
        *delay_s = v ? atol(v) : 300;
    }
    json_decref(tg);
    return 1;
}

int sched_domain_register(struct store_txn *txn, const char *tg_arn, const struct sched_addr *a,
                          struct sl_err *err)
{
    json_t *list;
    int rc;

    if (!group_exists(txn, tg_arn, NULL))
        return SL_ENOTFOUND;
    if ((list = target_list(a)) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    rc = elb_targets_register_txn(txn, tg_arn, list, err);
    json_decref(list);
    return rc;
}

int sched_domain_deregister(struct store_txn *txn, const char *tg_arn, const struct sched_addr *a,
                            uint64_t now_ms, long *delay_s, struct sl_err *err)
{
    json_t *list;
    int rc;

    *delay_s = 0;
    if (!group_exists(txn, tg_arn, delay_s))
        return SL_ENOTFOUND;
    if ((list = target_list(a)) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    rc = elb_targets_deregister_txn(txn, tg_arn, list, now_ms, err);
    json_decref(list);
    return rc;
}

int sched_domain_health(struct sched_domain *d, const char *tg_arn,
                        struct sched_target_health **out, size_t *n)
{
    json_t *req = json_pack("{ss}", "TargetGroupArn", tg_arn), *resp, *list, *e;
    struct sl_err err = {0};
    struct sched_target_health *v = NULL;
    size_t i;

    *out = NULL;
    *n = 0;
    if (req == NULL)
        return SL_ENOMEM;
    resp = ops_call(&d->ctx, "DescribeTargetHealth", req, &err);
    json_decref(req);
    if (resp == NULL)
        return strcmp(err.code, "TargetGroupNotFound") == 0 ? SL_ENOTFOUND : SL_ERR;
    list = json_object_get(resp, "TargetHealthDescriptions");
    if (json_array_size(list) > 0 && (v = calloc(json_array_size(list), sizeof(*v))) == NULL) {
        json_decref(resp);
        return SL_ENOMEM;
    }
    json_array_foreach(list, i, e) {
        json_t *t = json_object_get(e, "Target");
        snprintf(v[i].addr.ip, sizeof(v[i].addr.ip), "%s",
                 json_string_value(json_object_get(t, "Id")) ?: "");
        v[i].addr.port = (long)json_integer_value(json_object_get(t, "Port"));
        v[i].state = sched_target_parse(
            json_string_value(json_object_get(json_object_get(e, "TargetHealth"), "State")));
    }
    *out = v;
    *n = json_array_size(list);
    json_decref(resp);
    return SL_OK;
}

json_t *sched_domain_taskdef(struct store_txn *txn, const char *arn)
{
    return arn && arn[0] ? ecs_taskdef_find(txn, arn) : NULL;
}

int sched_domain_run_tasks(struct sched_domain *d, const struct sched_run *r, char (*ids)[33],
                           size_t *n, struct sl_err *err)
{
    json_t *req, *resp, *t;
    size_t i;

    *n = 0;
    req = json_pack("{ss ss sI ss ss ss}", "cluster", r->cluster, "taskDefinition",
                    r->task_definition, "count", (json_int_t)r->count, "group", r->group,
                    "startedBy", r->started_by, "launchType",
                    r->launch_type && r->launch_type[0] ? r->launch_type : "EC2");
    if (req == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    resp = ecs_op_run_task(&d->ctx, req, err);
    json_decref(req);
    if (resp == NULL)
        return SL_ERR;
    json_array_foreach(json_object_get(resp, "tasks"), i, t) {
        const char *arn = json_string_value(json_object_get(t, "taskArn"));
        const char *slash = arn ? strrchr(arn, '/') : NULL;
        if ((long)*n < r->count)
            snprintf(ids[(*n)++], 33, "%s", slash ? slash + 1 : "");
    }
    json_decref(resp);
    return SL_OK;
}

json_t *sched_domain_deployment(const char *td_arn, long desired, const char *launch,
                                double now)
{
    return ecs_deployment_new(td_arn, desired, launch, now);
}
