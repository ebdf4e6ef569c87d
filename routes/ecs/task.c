/*
 * task.c - ECS task records.
 */
#include "routes/ecs/task.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "routes/ecs/capacity.h"
#include "routes/ecs/cluster.h"
#include "routes/ecs/instances.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/tags.h"
#include "routes/ecs/taskdef.h"

static int never_ran(const char *st)
{
    return st && (strcmp(st, "PROVISIONING") == 0 || strcmp(st, "PENDING") == 0 ||
                  strcmp(st, "ACTIVATING") == 0);
}

/* ---- RunTask ---- */

int ecs_run_check(const struct ecs_run_spec *s, struct sl_err *err)
{
    if (s->count < 1 || s->count > ECS_RUN_TASK_MAX)
        return ecs_invalid(err, "count must be between 1 and %d (got %ld).", ECS_RUN_TASK_MAX,
                           s->count);
    if (s->group && (s->group[0] == '\0' || strlen(s->group) > ECS_NAME_MAX))
        return ecs_invalid(err, "group must be 1-255 characters.");
    if (s->started_by && strlen(s->started_by) > 128)
        return ecs_invalid(err, "startedBy can be at most 128 characters.");
    if (s->client_token && strlen(s->client_token) > 64)
        return ecs_invalid(err, "clientToken can be at most 64 characters.");
    if (s->launch_given && json_array_size(s->strategy) > 0)
        return ecs_invalid(err, "Specifying both a launchType and capacityProviderStrategy is "
                                "not supported.");
    return ecs_tags_check(s->tags, s->ntags, err);
}

static json_t *containers_of(const struct ecs_env *env, const char *cluster, const char *hex,
                             const char *task_arn, json_t *td)
{
    char res[ECS_ARN_MAX], carn[ECS_ARN_MAX], uuid[37], n[32];
    json_t *containers = json_array(), *c, *v;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c) {
        util_uuid(uuid);
        snprintf(res, sizeof(res), "container/%s/%s/%s", cluster, hex, uuid);
        ecs_arn(carn, sizeof(carn), env, res);
        snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(c, "cpu")));
        v = json_pack("{ss ss sO sO ss s[] s[] ss ss}", "containerArn", carn, "taskArn",
                      task_arn, "name", json_object_get(c, "name"), "image",
                      json_object_get(c, "image"), "lastStatus", "PENDING", "networkBindings",
                      "networkInterfaces", "healthStatus", "UNKNOWN", "cpu", n);
        if (json_is_integer(json_object_get(c, "memory"))) {
            snprintf(n, sizeof(n), "%lld",
                     (long long)json_integer_value(json_object_get(c, "memory")));
            json_object_set_new(v, "memory", json_string(n));
        }
        json_array_append_new(containers, v);
    }
    return containers;
}

/* The tags a new task gets: the request's, the task definition's with
 * propagateTags TASK_DEFINITION, and ECS's managed ones. */
static void task_tags(json_t *task, const struct ecs_run_spec *s, json_t *td)
{
    json_t *tags = json_object_get(task, "tags"), *t;
    const char *svc = s->group && strncmp(s->group, "service:", 8) == 0 ? s->group + 8 : NULL;
    size_t i;

    if (s->propagate_td)
        json_array_foreach(json_object_get(td, "tags"), i, t)
            json_array_append(tags, t);
    json_array_foreach(s->extra_tags, i, t)
        json_array_append(tags, t);
    if (s->managed_tags) {
        json_array_append_new(tags, json_pack("{ss ss}", "key", "aws:ecs:clusterName", "value",
                                              s->cluster));
        if (svc)
            json_array_append_new(tags, json_pack("{ss ss}", "key", "aws:ecs:serviceName",
                                                  "value", svc));
    }
}

static json_t *new_task(const struct ecs_env *env, const struct ecs_run_spec *s, json_t *cl,
                        json_t *td, double now)
{
    char hex[33], res[ECS_ARN_MAX], arn[ECS_ARN_MAX], group[ECS_NAME_MAX + 16];
    const char *mode = json_string_value(json_object_get(td, "networkMode"));
    const char *status = mode && strcmp(mode, "awsvpc") == 0 ? "PROVISIONING" : "PENDING";
    json_t *task;

    util_random_hex(hex, 16);
    snprintf(res, sizeof(res), "task/%s/%s", s->cluster, hex);
    ecs_arn(arn, sizeof(arn), env, res);
    snprintf(group, sizeof(group), "family:%s",
             json_string_value(json_object_get(td, "family")));
    task = json_pack("{ss sO sO so ss ss ss sf ss si s[] ss sb so}", "taskArn", arn,
                     "clusterArn", json_object_get(cl, "clusterArn"), "taskDefinitionArn",
                     json_object_get(td, "taskDefinitionArn"), "containers",
                     containers_of(env, s->cluster, hex, arn, td), "lastStatus", status,
                     "desiredStatus", "RUNNING", "group", s->group ? s->group : group,
                     "createdAt", now, "launchType", ecs_launch_type_names[s->launch], "version",
                     1, "attachments", "healthStatus", "UNKNOWN", "enableExecuteCommand", 0,
                     "tags", ecs_tags_json(s->tags, s->ntags));
    if (task == NULL)
        return NULL;
    if (s->started_by)
        json_object_set_new(task, "startedBy", json_string(s->started_by));
    if (s->reference_id)
        json_object_set_new(task, "_referenceId", json_string(s->reference_id));
    if (s->client_token)
        json_object_set_new(task, "_clientToken", json_string(s->client_token));
    if (s->platform)
        json_object_set_new(task, "platformVersion", json_string(s->platform));
    if (s->network)
        json_object_set_new(task, "_networkConfiguration", json_deep_copy(s->network));
    task_tags(task, s, td);
    if (json_object_get(td, "cpu"))
        json_object_set(task, "cpu", json_object_get(td, "cpu"));
    if (json_object_get(td, "memory"))
        json_object_set(task, "memory", json_object_get(td, "memory"));
    json_object_set_new(task, "overrides",
                        s->overrides ? json_deep_copy(s->overrides)
                                     : json_pack("{s[] s[]}", "containerOverrides",
                                                 "inferenceAcceleratorOverrides"));
    return task;
}

/* Where the <index>th task of <s> runs: its launch type and capacity
 * provider (<strategy>, or none), and the container instance of <cl> for
 * the launch types that have one. */
static void placement(json_t *task, json_t *cl, json_t *strategy, long index, json_t *td)
{
    char arn[ECS_ARN_MAX], id[ECS_INSTANCE_ID_LEN + 1];
    const char *provider = ecs_capacity_pick(strategy, index);
    const char *lt = json_string_value(json_object_get(task, "launchType"));
    const char *r = ecs_arn_resource(json_string_value(json_object_get(cl, "clusterArn")));
    long cpu, mem;

    if (provider) {
        json_object_set_new(task, "capacityProviderName", json_string(provider));
        json_object_set_new(task, "launchType", json_string("FARGATE"));
        lt = "FARGATE";
    }
    ecs_task_reservation(td, &cpu, &mem);
    json_object_set_new(task, "_reserved", json_pack("{sI sI}", "cpu", (json_int_t)cpu,
                                                     "memory", (json_int_t)mem));
    /* Fargate tasks show no container instance, as on ECS. */
    if (lt && strcmp(lt, "FARGATE") != 0 && r && strncmp(r, "cluster/", 8) == 0) {
        ecs_instance_id(cl, id);
        snprintf(arn, sizeof(arn), "%.*scontainer-instance/%s/%s",
                 (int)(r - json_string_value(json_object_get(cl, "clusterArn"))),
                 json_string_value(json_object_get(cl, "clusterArn")), r + 8, id);
        json_object_set_new(task, "containerInstanceArn", json_string(arn));
    }
}

/* The strategy tasks of <s> start under: the one given (its providers
 * associated with <cl>), the cluster's default when no launch type was
 * given, else none.  *out a new reference or NULL. */
static int run_strategy(const struct ecs_run_spec *s, json_t *cl, json_t **out,
                        struct sl_err *err)
{
    json_t *def = json_object_get(cl, "defaultCapacityProviderStrategy");

    *out = NULL;
    if (s->strategy && json_array_size(s->strategy) > 0)
        return ecs_capacity_strategy_check(s->strategy, json_object_get(cl, "capacityProviders"),
                                           out, err);
    if (!s->launch_given && json_array_size(def) > 0)
        *out = json_incref(def);
    return SL_OK;
}

struct token_scan {
    const char *token;
    json_t *tasks;
};

static int same_token(const char *id, json_t *task, void *arg)
{
    struct token_scan *t = arg;
    const char *tok = json_string_value(json_object_get(task, "_clientToken"));

    if (tok && strcmp(tok, t->token) == 0)
        json_array_append_new(t->tasks, ecs_public(task, 1));
    return 0;
}

/* The tasks an earlier RunTask with <s>'s clientToken started, or NULL. */
static json_t *earlier_run(struct store_txn *txn, const struct ecs_run_spec *s)
{
    char prefix[ECS_NAME_MAX + 2];
    struct token_scan t = {s->client_token, NULL};

    if (s->client_token == NULL)
        return NULL;
    t.tasks = json_array();
    snprintf(prefix, sizeof(prefix), "%s/", s->cluster);
    store_scan(txn, K_ECS_TASK, prefix, same_token, &t);
    if (json_array_size(t.tasks) > 0)
        return json_pack("{so s[]}", "tasks", t.tasks, "failures");
    json_decref(t.tasks);
    return NULL;
}

static int container_in(json_t *td, const char *name)
{
    json_t *cd;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, cd)
        if (strcmp(json_string_value(json_object_get(cd, "name")), name) == 0)
            return 1;
    return 0;
}

/* One of RunTask's containerOverrides, against <td>: it names one of its
 * containers, and carries what the runtimes apply, typed as they read it. */
static int container_override_check(json_t *td, json_t *o, struct sl_err *err)
{
    static const char *const sizes[] = {"cpu", "memory", "memoryReservation"};
    const char *name;
    json_t *v;
    long n;
    int k, rc;

    if (!json_is_object(o))
        return ecs_mistyped("containerOverrides", "a list of ContainerOverride", err);
    if ((rc = ecs_str(o, "name", P_OPTIONAL, &name, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_ENOTFOUND)
        return ecs_invalid(err, "A container override must name its container.");
    if (!container_in(td, name))
        return ecs_invalid(err, "Override for container named %s is not a container in the "
                                "TaskDefinition.",
                           name);
    for (k = 0; k < 3; k++)
        if (ecs_int(o, sizes[k], P_OPTIONAL, 0, 1L << 30, &n, err) == SL_ERR)
            return SL_ERR;
    if (ecs_strlist(o, "command", P_OPTIONAL, &v, err) == SL_ERR ||
        ecs_list(o, "environment", P_OPTIONAL, &v, err) == SL_ERR ||
        ecs_list(o, "environmentFiles", P_OPTIONAL, &v, err) == SL_ERR ||
        ecs_list(o, "resourceRequirements", P_OPTIONAL, &v, err) == SL_ERR)
        return SL_ERR;
    if (json_array_size(v) > 0)
        return ecs_invalid(err, "resourceRequirements is not supported by sluice: no GPUs or "
                                "inference accelerators are scheduled here.");
    return SL_OK;
}

/* RunTask's and StartTask's <overrides> (a TaskOverride, may be NULL)
 * against <td>.  The task-level cpu and memory are the task's size
 * (sized()); taskRoleArn, executionRoleArn and ephemeralStorage are kept
 * as the definition's own are (no IAM here; tasks get the host's disk);
 * what nothing here can honour is refused. */
static int overrides_check(json_t *td, json_t *overrides, struct sl_err *err)
{
    json_t *list, *ia, *es;
    const char *s;
    long n;
    size_t i;

    if (overrides == NULL)
        return SL_OK;
    if (ecs_list(overrides, "containerOverrides", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_list(overrides, "inferenceAcceleratorOverrides", P_OPTIONAL, &ia, err) == SL_ERR ||
        ecs_str(overrides, "taskRoleArn", P_OPTIONAL, &s, err) == SL_ERR ||
        ecs_str(overrides, "executionRoleArn", P_OPTIONAL, &s, err) == SL_ERR ||
        ecs_obj(overrides, "ephemeralStorage", P_OPTIONAL, &es, err) == SL_ERR ||
        (es && ecs_int(es, "sizeInGiB", P_REQUIRED, 21, 200, &n, err) != SL_OK))
        return SL_ERR;
    if (json_array_size(ia) > 0)
        return ecs_invalid(err, "inferenceAcceleratorOverrides is not supported by sluice: this "
                                "host has no Elastic Inference accelerators.");
    for (i = 0; i < json_array_size(list); i++)
        if (container_override_check(td, json_array_get(list, i), err) != SL_OK)
            return SL_ERR;
    return SL_OK;
}

/* <td> with the task-level cpu and memory of <overrides> (a TaskOverride)
 * over its own: what the tasks are placed, shown and run with.  Takes <td>;
 * NULL, with <td> released, for an override that is not a task size. */
static json_t *sized(json_t *td, json_t *overrides, struct sl_err *err)
{
    static const char *const members[] = {"cpu", "memory"};
    json_t *out;
    int k;

    if (!json_object_get(overrides, "cpu") && !json_object_get(overrides, "memory"))
        return td;
    if (ecs_task_size_check(overrides, "override for the task", err) != SL_OK ||
        (out = json_copy(td)) == NULL) {
        json_decref(td);
        return NULL;
    }
    json_decref(td);
    for (k = 0; k < 2; k++)
        if (json_object_get(overrides, members[k]))
            json_object_set(out, members[k], json_object_get(overrides, members[k]));
    return out;
}

int ecs_tasks_run(struct store_txn *txn, const struct ecs_env *env, const struct ecs_run_spec *s,
                  json_t **out, struct sl_err *err)
{
    json_t *cl, *td = NULL, *task, *tasks = NULL, *failures = NULL, *strategy = NULL;
    double now = ecs_now();
    char id[ECS_ID_MAX];
    long i, placed;
    int rc = SL_ERR;

    if ((cl = ecs_cluster_ensure(txn, env, s->cluster, err)) == NULL)
        return SL_ERR;
    if ((*out = earlier_run(txn, s)) != NULL) {
        json_decref(cl);
        return SL_OK;
    }
    if (s->instance && !ecs_instance_is(cl, s->instance)) {
        ecs_invalid(err, "Container instance '%.300s' is not in cluster '%s': its one container "
                         "instance is this host.",
                    s->instance, s->cluster);
        goto out;
    }
    if ((td = ecs_taskdef_find(txn, s->td_ref)) == NULL) {
        ecs_client(err, "TaskDefinition not found.");
        goto out;
    }
    if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") != 0) {
        ecs_invalid(err, "TaskDefinition is inactive");
        goto out;
    }
    if (ecs_taskdef_runnable(td, err) != SL_OK || overrides_check(td, s->overrides, err) != SL_OK ||
        run_strategy(s, cl, &strategy, err) != SL_OK || (td = sized(td, s->overrides, err)) == NULL ||
        ecs_instance_place(txn, env, cl, td, s->count, &placed, &failures) != SL_OK)
        goto out;
    tasks = json_array();
    for (i = 0; i < placed; i++) {
        if ((task = new_task(env, s, cl, td, now)) == NULL) {
            sl_err_set(err, 500, "ServerException", "out of memory");
            goto out;
        }
        placement(task, cl, strategy, i, td);
        ecs_join(id, sizeof(id), s->cluster,
                 strrchr(json_string_value(json_object_get(task, "taskArn")), '/') + 1);
        if (store_put(txn, K_ECS_TASK, id, task) != SL_OK) {
            json_decref(task);
            sl_err_set(err, 500, "ServerException", "storage failure");
            goto out;
        }
        json_array_append_new(tasks, ecs_public(task, 1));
        json_decref(task);
    }
    *out = json_pack("{sO sO}", "tasks", tasks, "failures", failures);
    rc = SL_OK;
out:
    json_decref(strategy);
    json_decref(failures);
    json_decref(tasks);
    json_decref(cl);
    json_decref(td);
    return rc;
}

/* ---- StopTask ---- */

/* Store id of task <ref> in <cluster> into <id> (ECS_ID_MAX); SL_ERR when
 * <ref> cannot name a task. */
static int task_id(const char *cluster, const char *ref, char *id)
{
    const char *tid = ecs_ref_name(ref);

    if (tid == NULL || strlen(tid) > 64)
        return SL_ERR;
    ecs_join(id, ECS_ID_MAX, cluster, tid);
    return SL_OK;
}

static void stop_now(json_t *task, const char *reason, double now)
{
    json_t *c;
    size_t i;

    json_object_set_new(task, "desiredStatus", json_string("STOPPED"));
    json_object_set_new(task, "stoppingAt", json_real(now));
    json_object_set_new(task, "stopCode", json_string("UserInitiated"));
    json_object_set_new(task, "stoppedReason",
                        json_string(reason ? reason : "Task stopped by user"));
    if (never_ran(json_string_value(json_object_get(task, "lastStatus")))) {
        json_object_set_new(task, "lastStatus", json_string("STOPPED"));
        json_object_set_new(task, "stoppedAt", json_real(now));
        json_object_set_new(task, "executionStoppedAt", json_real(now));
        json_array_foreach(json_object_get(task, "containers"), i, c)
            json_object_set_new(c, "lastStatus", json_string("STOPPED"));
    }
    json_object_set_new(task, "version",
                        json_integer(json_integer_value(json_object_get(task, "version")) + 1));
}

int ecs_task_stop(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                  const char *ref, const char *reason, json_t **out, struct sl_err *err)
{
    char id[ECS_ID_MAX];
    json_t *task;

    if (ecs_cluster_check(txn, env, cluster, err) != SL_OK)
        return SL_ERR;
    if (task_id(cluster, ref, id) != SL_OK || (task = store_get(txn, K_ECS_TASK, id)) == NULL)
        return ecs_invalid(err, "The referenced task was not found.");
    /* Already stopping: unchanged, as on ECS. */
    if (strcmp(json_string_value(json_object_get(task, "desiredStatus")), "STOPPED") != 0) {
        stop_now(task, reason, ecs_now());
        if (store_put(txn, K_ECS_TASK, id, task) != SL_OK) {
            json_decref(task);
            return sl_err_set(err, 500, "ServerException", "storage failure");
        }
    }
    *out = ecs_public(task, 1);
    json_decref(task);
    return SL_OK;
}

/* ---- ListTasks ---- */

struct list_tasks {
    json_t *arns;
    const struct ecs_task_filter *f;
    const char *group;
    int instance_ok;           /* f->instance names the cluster's instance */
};

static int str_is(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static int collect_task(const char *id, json_t *obj, void *arg)
{
    struct list_tasks *l = arg;
    const struct ecs_task_filter *f = l->f;
    char family[ECS_NAME_MAX + 1];
    long rev;

    if (!str_is(json_object_get(obj, "desiredStatus"), f->desired ? f->desired : "RUNNING"))
        return 0;
    if (l->group && !str_is(json_object_get(obj, "group"), l->group))
        return 0;
    if (f->started_by && !str_is(json_object_get(obj, "startedBy"), f->started_by))
        return 0;
    if (f->launch && !str_is(json_object_get(obj, "launchType"), f->launch))
        return 0;
    if (f->instance && !l->instance_ok)
        return 0;
    if (f->instance && !json_is_string(json_object_get(obj, "containerInstanceArn")))
        return 0;
    if (f->family &&
        (ecs_taskdef_ref(json_string_value(json_object_get(obj, "taskDefinitionArn")), family,
                         &rev) != SL_OK ||
         strcmp(family, f->family) != 0))
        return 0;
    json_array_append(l->arns, json_object_get(obj, "taskArn"));
    return 0;
}

int ecs_tasks_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                   const struct ecs_task_filter *f, json_t **out, struct sl_err *err)
{
    char prefix[ECS_NAME_MAX + 2], group[ECS_NAME_MAX + 16], id[ECS_ID_MAX + 1];
    struct list_tasks l = {NULL, f, NULL, 0};
    const char *name;
    json_t *svc, *cl;

    if ((cl = ecs_cluster_ensure(txn, env, cluster, err)) == NULL)
        return SL_ERR;
    l.instance_ok = f->instance && ecs_instance_is(cl, f->instance);
    json_decref(cl);
    if (f->service) {
        name = ecs_ref_name(f->service);
        svc = NULL;
        if (name && strlen(cluster) + strlen(name) + 1 <= STORE_ID_MAX &&
            ecs_join(id, sizeof(id), cluster, name) == SL_OK)
            svc = store_get_shared(txn, K_ECS_SERVICE, id);
        if (svc == NULL)
            return sl_err_set(err, 400, "ServiceNotFoundException", "Service not found.");
        json_decref(svc);
        snprintf(group, sizeof(group), "service:%s", name);
        l.group = group;
    }
    l.arns = json_array();
    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    store_scan(txn, K_ECS_TASK, prefix, collect_task, &l);
    *out = l.arns;
    return SL_OK;
}

/* ---- DescribeTasks ---- */

static json_t *lookup_task(struct store_txn *txn, const char *cluster, const char *ref)
{
    char id[ECS_ID_MAX];

    if (task_id(cluster, ref, id) != SL_OK)
        return NULL;
    return store_get_shared(txn, K_ECS_TASK, id);
}

int ecs_tasks_describe(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                       const char *const *refs, size_t n, int with_tags, json_t **out,
                       struct sl_err *err)
{
    if (ecs_cluster_check(txn, env, cluster, err) != SL_OK)
        return SL_ERR;
    return ecs_describe_refs(txn, env, cluster, refs, n, with_tags, "tasks", "task",
                             lookup_task, out);
}
