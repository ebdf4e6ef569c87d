/*
 * ecs_task.c - RunTask, StopTask, ListTasks, DescribeTasks.
 *
 * There is no task runtime yet.  RunTask stores task records in
 * PROVISIONING (awsvpc) or PENDING with desiredStatus RUNNING; the runtime,
 * when it exists, picks up such records, starts their containers and moves
 * lastStatus on (RUNNING, then STOPPED with exit codes).  StopTask sets
 * desiredStatus STOPPED for the runtime to act on; a task that never started
 * (still PROVISIONING/PENDING) has nothing to stop, so it is STOPPED here at
 * once with its stoppedReason.
 */
#include "routes/ecs/ecs.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const char *const launch_types[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES",
                                           NULL};
static const char *const desired_states[] = {"RUNNING", "PENDING", "STOPPED", NULL};

#define RUN_TASK_MAX 10

static int never_ran(const char *st)
{
    return st && (strcmp(st, "PROVISIONING") == 0 || strcmp(st, "PENDING") == 0 ||
                  strcmp(st, "ACTIVATING") == 0);
}

/* ---- RunTask ---- */

struct run_task {
    const struct op_ctx *ctx;
    char cluster[ECS_NAME_MAX + 1];
    const char *td_ref, *group, *started_by, *launch;
    long count;
    json_t *overrides; /* borrowed, may be NULL */
    json_t *tags;      /* borrowed */
    json_t *tasks;     /* out: new array */
};

static json_t *new_task(struct run_task *r, json_t *cl, json_t *td, double now)
{
    char hex[33], res[ECS_ARN_MAX], arn[ECS_ARN_MAX], carn[ECS_ARN_MAX], uuid[37];
    char group[ECS_NAME_MAX + 16];
    json_t *task, *containers, *c, *v;
    const char *mode = json_string_value(json_object_get(td, "networkMode"));
    const char *status = mode && strcmp(mode, "awsvpc") == 0 ? "PROVISIONING" : "PENDING";
    size_t i;

    util_random_hex(hex, 16);
    snprintf(res, sizeof(res), "task/%s/%s", r->cluster, hex);
    ecs_arn(arn, sizeof(arn), r->ctx, res);
    containers = json_array();
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c) {
        char n[32];
        util_uuid(uuid);
        snprintf(res, sizeof(res), "container/%s/%s/%s", r->cluster, hex, uuid);
        ecs_arn(carn, sizeof(carn), r->ctx, res);
        snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(c, "cpu")));
        v = json_pack("{ss ss sO sO ss s[] s[] ss ss}", "containerArn", carn, "taskArn", arn,
                      "name", json_object_get(c, "name"), "image", json_object_get(c, "image"),
                      "lastStatus", "PENDING", "networkBindings", "networkInterfaces",
                      "healthStatus", "UNKNOWN", "cpu", n);
        if (json_is_integer(json_object_get(c, "memory"))) {
            snprintf(n, sizeof(n), "%lld",
                     (long long)json_integer_value(json_object_get(c, "memory")));
            json_object_set_new(v, "memory", json_string(n));
        }
        json_array_append_new(containers, v);
    }
    snprintf(group, sizeof(group), "family:%s",
             json_string_value(json_object_get(td, "family")));
    task = json_pack("{ss sO sO so ss ss ss sf ss si s[] ss sb sO}", "taskArn", arn,
                     "clusterArn", json_object_get(cl, "clusterArn"), "taskDefinitionArn",
                     json_object_get(td, "taskDefinitionArn"), "containers", containers,
                     "lastStatus", status, "desiredStatus", "RUNNING", "group",
                     r->group ? r->group : group, "createdAt", now, "launchType", r->launch,
                     "version", 1, "attachments", "healthStatus", "UNKNOWN",
                     "enableExecuteCommand", 0, "tags", r->tags);
    if (r->started_by)
        json_object_set_new(task, "startedBy", json_string(r->started_by));
    if (json_object_get(td, "cpu"))
        json_object_set(task, "cpu", json_object_get(td, "cpu"));
    if (json_object_get(td, "memory"))
        json_object_set(task, "memory", json_object_get(td, "memory"));
    json_object_set_new(task, "overrides",
                        r->overrides ? json_deep_copy(r->overrides)
                                     : json_pack("{s[] s[]}", "containerOverrides",
                                                 "inferenceAcceleratorOverrides"));
    return task;
}

static int run_task_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct run_task *r = arg;
    json_t *cl, *td, *task;
    double now = ecs_now();
    char id[ECS_ID_MAX];
    long i;

    if ((cl = ecs_cluster_ensure(txn, r->ctx, r->cluster, err)) == NULL)
        return SL_ERR;
    if ((td = ecs_taskdef_find(txn, r->td_ref)) == NULL) {
        json_decref(cl);
        return ecs_client(err, "TaskDefinition not found.");
    }
    if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") != 0) {
        json_decref(cl);
        json_decref(td);
        return ecs_invalid(err, "TaskDefinition is inactive");
    }
    r->tasks = json_array();
    for (i = 0; i < r->count; i++) {
        task = new_task(r, cl, td, now);
        ecs_join(id, sizeof(id), r->cluster,
                 strrchr(json_string_value(json_object_get(task, "taskArn")), '/') + 1);
        if (store_put(txn, K_ECS_TASK, id, task) != SL_OK) {
            json_decref(task);
            json_decref(cl);
            json_decref(td);
            return SL_EIO;
        }
        json_array_append_new(r->tasks, task);
    }
    json_decref(cl);
    json_decref(td);
    return SL_OK;
}

json_t *ecs_op_run_task(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct run_task r = {0};
    json_t *list, *out, *t, *pub;
    size_t i;
    int rc;

    r.ctx = ctx;
    r.count = 1;
    r.launch = "EC2";
    if (ecs_cluster_param(req, r.cluster, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "taskDefinition", P_REQUIRED, &r.td_ref, err) != SL_OK)
        return NULL;
    if (ecs_int(req, "count", P_OPTIONAL, 1, RUN_TASK_MAX, &r.count, err) == SL_ERR)
        return NULL;
    if (ecs_str(req, "group", P_OPTIONAL, &r.group, err) == SL_ERR)
        return NULL;
    if (r.group && (r.group[0] == '\0' || strlen(r.group) > ECS_NAME_MAX)) {
        ecs_invalid(err, "group must be 1-255 characters.");
        return NULL;
    }
    if (ecs_str(req, "startedBy", P_OPTIONAL, &r.started_by, err) == SL_ERR)
        return NULL;
    if (r.started_by && strlen(r.started_by) > 128) {
        ecs_invalid(err, "startedBy can be at most 128 characters.");
        return NULL;
    }
    if (ecs_enum(req, "launchType", P_OPTIONAL, launch_types, &r.launch, err) == SL_ERR)
        return NULL;
    if (r.launch == NULL)
        r.launch = "EC2";
    if (ecs_obj(req, "overrides", P_OPTIONAL, &r.overrides, err) == SL_ERR)
        return NULL;
    if (ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        (r.tags = ecs_tags_param(list, err)) == NULL)
        return NULL;
    rc = store_write(ctx->store, run_task_tx, &r, NULL, err);
    json_decref(r.tags);
    if (rc != SL_OK) {
        json_decref(r.tasks);
        return NULL;
    }
    out = json_pack("{s[] s[]}", "tasks", "failures");
    json_array_foreach(r.tasks, i, t) {
        pub = ecs_public(t, 1);
        json_array_append_new(json_object_get(out, "tasks"), pub);
    }
    json_decref(r.tasks);
    return out;
}

/* ---- StopTask ---- */

struct stop_task {
    const struct op_ctx *ctx;
    char cluster[ECS_NAME_MAX + 1];
    const char *ref, *reason;
    json_t *result;
};

static int stop_task_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct stop_task *s = arg;
    const char *tid = ecs_ref_name(s->ref);
    char id[ECS_ID_MAX];
    json_t *task, *c;
    double now = ecs_now();
    size_t i;

    if (ecs_cluster_check(txn, s->ctx, s->cluster, err) != SL_OK)
        return SL_ERR;
    if (tid == NULL || strlen(tid) > 64)
        return ecs_invalid(err, "The referenced task was not found.");
    ecs_join(id, sizeof(id), s->cluster, tid);
    if ((task = store_get(txn, K_ECS_TASK, id)) == NULL)
        return ecs_invalid(err, "The referenced task was not found.");
    if (strcmp(json_string_value(json_object_get(task, "desiredStatus")), "STOPPED") == 0) {
        s->result = task; /* already stopping: unchanged, as on ECS */
        return SL_OK;
    }
    json_object_set_new(task, "desiredStatus", json_string("STOPPED"));
    json_object_set_new(task, "stoppingAt", json_real(now));
    json_object_set_new(task, "stopCode", json_string("UserInitiated"));
    json_object_set_new(task, "stoppedReason",
                        json_string(s->reason ? s->reason : "Task stopped by user"));
    if (never_ran(json_string_value(json_object_get(task, "lastStatus")))) {
        json_object_set_new(task, "lastStatus", json_string("STOPPED"));
        json_object_set_new(task, "stoppedAt", json_real(now));
        json_object_set_new(task, "executionStoppedAt", json_real(now));
        json_array_foreach(json_object_get(task, "containers"), i, c)
            json_object_set_new(c, "lastStatus", json_string("STOPPED"));
    }
    json_object_set_new(task, "version",
                        json_integer(json_integer_value(json_object_get(task, "version")) + 1));
    if (store_put(txn, K_ECS_TASK, id, task) != SL_OK) {
        json_decref(task);
        return SL_EIO;
    }
    s->result = task;
    return SL_OK;
}

json_t *ecs_op_stop_task(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct stop_task s = {ctx, {0}, NULL, NULL, NULL};
    json_t *out;

    if (ecs_cluster_param(req, s.cluster, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "task", P_REQUIRED, &s.ref, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "reason", P_OPTIONAL, &s.reason, err) == SL_ERR)
        return NULL;
    if (s.reason && strlen(s.reason) > 255) {
        ecs_invalid(err, "reason can be at most 255 characters.");
        return NULL;
    }
    if (store_write(ctx->store, stop_task_tx, &s, NULL, err) != SL_OK)
        return NULL;
    out = json_pack("{so}", "task", ecs_public(s.result, 1));
    json_decref(s.result);
    return out;
}

/* ---- ListTasks ---- */

struct list_tasks {
    json_t *arns;
    const char *family, *group, *desired, *started_by, *launch;
};

static int str_is(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static int collect_task(const char *id, json_t *obj, void *arg)
{
    struct list_tasks *l = arg;
    char family[ECS_NAME_MAX + 1];
    long rev;

    (void)id;
    if (!str_is(json_object_get(obj, "desiredStatus"), l->desired))
        return 0;
    if (l->group && !str_is(json_object_get(obj, "group"), l->group))
        return 0;
    if (l->started_by && !str_is(json_object_get(obj, "startedBy"), l->started_by))
        return 0;
    if (l->launch && !str_is(json_object_get(obj, "launchType"), l->launch))
        return 0;
    if (l->family &&
        (ecs_taskdef_ref(json_string_value(json_object_get(obj, "taskDefinitionArn")), family,
                         &rev) != SL_OK ||
         strcmp(family, l->family) != 0))
        return 0;
    json_array_append(l->arns, json_object_get(obj, "taskArn"));
    return 0;
}

json_t *ecs_op_list_tasks(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    char cluster[ECS_NAME_MAX + 1], prefix[ECS_NAME_MAX + 2], group[ECS_NAME_MAX + 16];
    struct list_tasks l = {NULL, NULL, NULL, "RUNNING", NULL, NULL};
    struct store_txn *txn;
    const char *svc, *s;
    json_t *c, *page, *next, *out;

    if (ecs_cluster_param(req, cluster, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "family", P_OPTIONAL, &l.family, err) == SL_ERR ||
        ecs_str(req, "serviceName", P_OPTIONAL, &svc, err) == SL_ERR ||
        ecs_str(req, "startedBy", P_OPTIONAL, &l.started_by, err) == SL_ERR ||
        ecs_str(req, "containerInstance", P_OPTIONAL, &s, err) == SL_ERR ||
        ecs_enum(req, "launchType", P_OPTIONAL, launch_types, &l.launch, err) == SL_ERR ||
        ecs_enum(req, "desiredStatus", P_OPTIONAL, desired_states, &s, err) == SL_ERR)
        return NULL;
    /* ECS lists tasks whose desiredStatus is RUNNING unless told otherwise. */
    if (s)
        l.desired = s;
    if (ecs_cluster_read(ctx, cluster, &txn, err) != SL_OK)
        return NULL;
    if (svc) {
        const char *name = ecs_ref_name(svc);
        char id[ECS_ID_MAX + 1];
        if (name == NULL || strlen(cluster) + strlen(name) + 1 > STORE_ID_MAX ||
            (ecs_join(id, sizeof(id), cluster, name),
             (c = store_get_shared(txn, K_ECS_SERVICE, id)) == NULL)) {
            store_txn_end(txn);
            sl_err_set(err, 400, "ServiceNotFoundException", "Service not found.");
            return NULL;
        }
        json_decref(c);
        snprintf(group, sizeof(group), "service:%s", name);
        l.group = group;
    }
    l.arns = json_array();
    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    store_scan(txn, K_ECS_TASK, prefix, collect_task, &l);
    store_txn_end(txn);
    page = ecs_page(req, l.arns, 100, &next, err);
    json_decref(l.arns);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", "taskArns", page);
    if (next)
        json_object_set_new(out, "nextToken", next);
    return out;
}

/* ---- DescribeTasks ---- */

static json_t *lookup_task(struct store_txn *txn, const char *cluster, const char *ref)
{
    char id[ECS_ID_MAX];
    const char *tid = ecs_ref_name(ref);

    if (tid == NULL || strlen(tid) > 64)
        return NULL;
    ecs_join(id, sizeof(id), cluster, tid);
    return store_get_shared(txn, K_ECS_TASK, id);
}

json_t *ecs_op_describe_tasks(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    return ecs_describe(ctx, req, "tasks", 100, "task", lookup_task, err);
}
