/*
 * ecs_service_actions.c - the ECS service and task actions: CreateService,
 * UpdateService, DescribeServices, ListServices, DeleteService, RunTask,
 * StopTask, ListTasks, DescribeTasks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/ecs_actions.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/service.h"
#include "routes/ecs/tags.h"
#include "routes/ecs/task.h"

static const char *const desired_states[] = {"RUNNING", "PENDING", "STOPPED", NULL};

/* ---- decoders ---- */

/* deploymentConfiguration: the members given. */
static int dc_decode(json_t *req, struct ecs_deploy_config *dc, struct sl_err *err)
{
    json_t *cfg, *cb;
    int rc;

    memset(dc, 0, sizeof(*dc));
    if (ecs_obj(req, "deploymentConfiguration", P_OPTIONAL, &cfg, err) == SL_ERR)
        return SL_ERR;
    if (cfg == NULL)
        return SL_OK;
    if ((rc = ecs_int(cfg, "maximumPercent", P_OPTIONAL, 100, 2000, &dc->max_pct, err)) ==
        SL_ERR)
        return SL_ERR;
    dc->has_max = rc == SL_OK;
    if ((rc = ecs_int(cfg, "minimumHealthyPercent", P_OPTIONAL, 0, 100, &dc->min_pct, err)) ==
        SL_ERR)
        return SL_ERR;
    dc->has_min = rc == SL_OK;
    if (ecs_obj(cfg, "deploymentCircuitBreaker", P_OPTIONAL, &cb, err) == SL_ERR)
        return SL_ERR;
    if (cb) {
        if (!json_is_boolean(json_object_get(cb, "enable")) ||
            !json_is_boolean(json_object_get(cb, "rollback")))
            return ecs_invalid(err, "deploymentCircuitBreaker requires boolean enable and "
                                    "rollback.");
        dc->has_breaker = 1;
        dc->enable = json_is_true(json_object_get(cb, "enable"));
        dc->rollback = json_is_true(json_object_get(cb, "rollback"));
    }
    return SL_OK;
}

/* loadBalancers: *out (free() it) gets *n entries; *given when present. */
static int lbs_decode(json_t *req, struct ecs_lb **out, size_t *n, int *given,
                      struct sl_err *err)
{
    json_t *list, *lb;
    const char *name;
    size_t i;

    *out = NULL;
    *n = 0;
    *given = 0;
    if (ecs_list(req, "loadBalancers", P_OPTIONAL, &list, err) == SL_ERR)
        return SL_ERR;
    if (list == NULL)
        return SL_OK;
    *given = 1;
    if (json_array_size(list) > ECS_SERVICE_LBS_MAX)
        return ecs_invalid(err, "A service can have at most %d load balancers.",
                           ECS_SERVICE_LBS_MAX);
    if ((*out = calloc(json_array_size(list) + 1, sizeof(**out))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, lb) {
        struct ecs_lb *e = &(*out)[i];
        if (!json_is_object(lb))
            return sl_err_set(err, 400, "SerializationException",
                              "Unable to deserialize 'loadBalancers': expected a list of "
                              "objects");
        if (ecs_str(lb, "loadBalancerName", P_OPTIONAL, &name, err) == SL_ERR ||
            ecs_str(lb, "targetGroupArn", P_OPTIONAL, &e->tg_arn, err) == SL_ERR)
            return SL_ERR;
        if (e->tg_arn == NULL)
            return ecs_invalid(err, "%s", name ? "Classic load balancers are not supported: "
                                                 "specify a targetGroupArn."
                                               : "loadBalancers require a targetGroupArn.");
        if (ecs_str(lb, "containerName", P_REQUIRED, &e->container, err) != SL_OK ||
            ecs_int(lb, "containerPort", P_REQUIRED, 1, 65535, &e->port, err) != SL_OK)
            return SL_ERR;
    }
    *n = json_array_size(list);
    return SL_OK;
}

static int enum_member(json_t *req, const char *name, const char *const *names, int *out,
                       struct sl_err *err)
{
    return ecs_enum_index(req, name, P_OPTIONAL, names, out, err) == SL_ERR ? SL_ERR : SL_OK;
}

static const char *const az_rebalancing[] = {"ENABLED", "DISABLED", NULL};

/* placementStrategy: [{type random|spread|binpack, field}], kept as given
 * (on one container instance every strategy holds). */
static int placement_decode(json_t *req, json_t **out, struct sl_err *err)
{
    static const char *const types[] = {"random", "spread", "binpack", NULL};
    json_t *list, *p;
    const char *s;
    size_t i;

    *out = NULL;
    if (ecs_list(req, "placementStrategy", P_OPTIONAL, &list, err) == SL_ERR)
        return SL_ERR;
    if (list == NULL)
        return SL_OK;
    if (json_array_size(list) > 5)
        return ecs_invalid(err, "placementStrategy can have at most 5 items.");
    json_array_foreach(list, i, p) {
        if (!json_is_object(p))
            return ecs_mistyped("placementStrategy", "a list of objects", err);
        if (ecs_enum(p, "type", P_REQUIRED, types, &s, err) != SL_OK ||
            ecs_str(p, "field", P_OPTIONAL, &s, err) == SL_ERR)
            return SL_ERR;
    }
    *out = list;
    return SL_OK;
}

/* deploymentController: only ECS's own rolling deployments are here. */
static int controller_decode(json_t *req, struct sl_err *err)
{
    static const char *const types[] = {"ECS", "CODE_DEPLOY", "EXTERNAL", NULL};
    json_t *dc;
    const char *type;

    if (ecs_obj(req, "deploymentController", P_OPTIONAL, &dc, err) == SL_ERR)
        return SL_ERR;
    if (dc == NULL)
        return SL_OK;
    if (ecs_enum(dc, "type", P_OPTIONAL, types, &type, err) == SL_ERR)
        return SL_ERR;
    if (type && strcmp(type, "ECS") != 0)
        return ecs_invalid(err, "deploymentController %s is not supported by sluice: its "
                                "services deploy with the ECS rolling update controller.",
                           type);
    return SL_OK;
}

/* The members CreateService and UpdateService both take that only
 * record or refuse. */
static int common_decode(json_t *req, int *exec, int *managed, int *set_managed,
                         json_t **placement, const char **az, const char **platform,
                         struct sl_err *err)
{
    int rc;

    if (ecs_bool(req, "enableExecuteCommand", exec, err) == SL_ERR ||
        (rc = ecs_bool(req, "enableECSManagedTags", managed, err)) == SL_ERR ||
        placement_decode(req, placement, err) != SL_OK || controller_decode(req, err) != SL_OK ||
        ecs_enum(req, "availabilityZoneRebalancing", P_OPTIONAL, az_rebalancing, az, err) ==
            SL_ERR ||
        ecs_str(req, "platformVersion", P_OPTIONAL, platform, err) == SL_ERR)
        return SL_ERR;
    *set_managed = rc == SL_OK;
    if (*exec)
        return ecs_invalid(err, "enableExecuteCommand is not supported by sluice: ExecuteCommand "
                                "is not available.");
    return SL_OK;
}

struct service_args {
    char cluster[ECS_NAME_MAX + 1];
    struct ecs_service_spec s;
    struct ecs_service_change c;
    struct ecs_lb *lbs;
    struct ecs_tag *tags;
    const char **refs;
    size_t nrefs;
    json_t *out;
};

static void service_args_free(struct service_args *a)
{
    free(a->lbs);
    free(a->tags);
    free(a->refs);
}

static int create_decode(json_t *req, struct service_args *a, struct sl_err *err)
{
    struct ecs_service_spec *s = &a->s;
    int launch = ECS_LT_EC2, strategy = ECS_SS_REPLICA, prop = ECS_PT_NONE, given;
    json_t *list;

    s->grace = -1;
    s->cluster = a->cluster;
    if (api_ecs_cluster_member(req, a->cluster, err) != SL_OK ||
        ecs_str(req, "serviceName", P_REQUIRED, &s->name, err) != SL_OK ||
        ecs_str(req, "taskDefinition", P_OPTIONAL, &s->td_ref, err) == SL_ERR ||
        ecs_int(req, "desiredCount", P_OPTIONAL, 0, ECS_DESIRED_MAX, &s->desired, err) ==
            SL_ERR ||
        enum_member(req, "launchType", ecs_launch_type_names, &launch, err) != SL_OK ||
        enum_member(req, "schedulingStrategy", ecs_strategy_names, &strategy, err) != SL_OK ||
        enum_member(req, "propagateTags", ecs_propagate_names, &prop, err) != SL_OK ||
        ecs_int(req, "healthCheckGracePeriodSeconds", P_OPTIONAL, 0, 2147483647L, &s->grace,
                err) == SL_ERR ||
        lbs_decode(req, &a->lbs, &s->nlbs, &given, err) != SL_OK ||
        dc_decode(req, &s->dc, err) != SL_OK ||
        ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_tags_decode(list, &a->tags, &s->ntags, err) != SL_OK ||
        ecs_obj(req, "networkConfiguration", P_OPTIONAL, &s->network, err) == SL_ERR ||
        common_decode(req, &s->exec, &s->managed_tags, &given, &s->placement,
                      &s->az_rebalancing, &s->platform, err) != SL_OK ||
        ecs_str(req, "role", P_OPTIONAL, &s->role, err) == SL_ERR ||
        ecs_str(req, "clientToken", P_OPTIONAL, &s->client_token, err) == SL_ERR ||
        ecs_list(req, "capacityProviderStrategy", P_OPTIONAL, &s->capacity, err) == SL_ERR)
        return SL_ERR;
    s->launch_given = p_present(req, "launchType");
    s->desired_given = p_present(req, "desiredCount");
    if (s->launch_given && json_array_size(s->capacity) > 0)
        return ecs_invalid(err, "Specifying both a launchType and capacityProviderStrategy is "
                                "not supported.");
    s->launch = (enum ecs_launch_type)launch;
    s->strategy = (enum ecs_strategy)strategy;
    if (s->strategy == ECS_SS_DAEMON && !s->desired_given)
        s->desired = 1; /* one container instance: the host */
    s->propagate = (enum ecs_propagate)prop;
    s->lbs = a->lbs;
    s->tags = a->tags;
    return ecs_service_check(s, err);
}

static int update_decode(json_t *req, struct service_args *a, struct sl_err *err)
{
    struct ecs_service_change *c = &a->c;
    int rc, exec = 0, prop = ECS_PT_NONE;

    c->grace = -1;
    c->cluster = a->cluster;
    if (api_ecs_cluster_member(req, a->cluster, err) != SL_OK ||
        ecs_str(req, "service", P_REQUIRED, &c->ref, err) != SL_OK ||
        ecs_str(req, "taskDefinition", P_OPTIONAL, &c->td_ref, err) == SL_ERR ||
        (rc = ecs_int(req, "desiredCount", P_OPTIONAL, 0, ECS_DESIRED_MAX, &c->desired, err)) ==
            SL_ERR)
        return SL_ERR;
    c->has_desired = rc == SL_OK;
    if (ecs_bool(req, "forceNewDeployment", &c->force, err) == SL_ERR ||
        ecs_int(req, "healthCheckGracePeriodSeconds", P_OPTIONAL, 0, 2147483647L, &c->grace,
                err) == SL_ERR ||
        dc_decode(req, &c->dc, err) != SL_OK ||
        lbs_decode(req, &a->lbs, &c->nlbs, &c->lbs_given, err) != SL_OK ||
        common_decode(req, &exec, &c->managed_tags, &c->set_managed_tags, &c->placement,
                      &c->az_rebalancing, &c->platform, err) != SL_OK ||
        ecs_obj(req, "networkConfiguration", P_OPTIONAL, &c->network, err) == SL_ERR ||
        ecs_list(req, "capacityProviderStrategy", P_OPTIONAL, &c->capacity, err) == SL_ERR ||
        (rc = enum_member(req, "propagateTags", ecs_propagate_names, &prop, err)) != SL_OK)
        return SL_ERR;
    c->set_propagate = p_present(req, "propagateTags");
    c->propagate = (enum ecs_propagate)prop;
    c->lbs = a->lbs;
    return ecs_service_change_check(c, err);
}

/* A required list of 1-<max> strings into a->refs. */
static int refs_decode(json_t *req, const char *key, size_t max, struct service_args *a,
                       struct sl_err *err)
{
    json_t *list, *v;
    size_t i;

    if (ecs_strlist(req, key, P_REQUIRED, &list, err) != SL_OK ||
        ecs_strlist(req, "include", P_OPTIONAL, &v, err) == SL_ERR)
        return SL_ERR;
    if (json_array_size(list) < 1 || json_array_size(list) > max)
        return ecs_invalid(err, "%s must have between 1 and %zu items.", key, max);
    if ((a->refs = calloc(json_array_size(list), sizeof(*a->refs))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, v)
        a->refs[i] = json_string_value(v);
    a->nrefs = json_array_size(list);
    return SL_OK;
}

/* ---- services ---- */

struct call {
    const struct api_ctx *ctx;
    struct service_args *a;
    const char *s1, *s2;       /* ListServices filters, StopTask reason */
    int flag;                  /* with tags / force */
    struct ecs_run_spec run;
    struct ecs_task_filter filter;
};

static int service_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_service_create(txn, &c->ctx->ecs, &c->a->s, &c->a->out, err);
}

static int service_update_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_service_update(txn, &c->ctx->ecs, &c->a->c, &c->a->out, err);
}

static int service_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_service_delete(txn, &c->ctx->ecs, c->a->cluster, c->a->c.ref, c->flag,
                              &c->a->out, err);
}

/* Decode with <decode>, run <fn> in a write transaction, answer
 * {<member>: out}. */
static json_t *service_write(const struct api_ctx *ctx, json_t *req,
                             int (*decode)(json_t *, struct service_args *, struct sl_err *),
                             store_write_fn fn, const char *member, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};
    int rc = SL_ERR;

    memset(&a, 0, sizeof(a));
    if (decode(req, &a, err) == SL_OK)
        rc = api_write(ctx, fn, &c, err);
    service_args_free(&a);
    return rc == SL_OK ? json_pack("{so}", member, a.out) : NULL;
}

json_t *api_ecs_create_service(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return service_write(ctx, req, create_decode, service_create_tx, "service", err);
}

json_t *api_ecs_update_service(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return service_write(ctx, req, update_decode, service_update_tx, "service", err);
}

json_t *api_ecs_delete_service(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};
    int rc = SL_ERR;

    memset(&a, 0, sizeof(a));
    if (api_ecs_cluster_member(req, a.cluster, err) == SL_OK &&
        ecs_str(req, "service", P_REQUIRED, &a.c.ref, err) == SL_OK &&
        ecs_bool(req, "force", &c.flag, err) != SL_ERR)
        rc = api_write(ctx, service_delete_tx, &c, err);
    return rc == SL_OK ? json_pack("{so}", "service", a.out) : NULL;
}

static int services_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_services_describe(txn, &c->ctx->ecs, c->a->cluster, c->a->refs, c->a->nrefs,
                                 c->flag, &c->a->out, err);
}

static int tasks_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_tasks_describe(txn, &c->ctx->ecs, c->a->cluster, c->a->refs, c->a->nrefs,
                              c->flag, &c->a->out, err);
}

/* DescribeServices / DescribeTasks: the cluster and its list <key>. */
static json_t *describe(const struct api_ctx *ctx, json_t *req, const char *key, size_t max,
                        store_write_fn fn, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, ecs_includes(req, "TAGS"), {0}, {0}};
    int rc = SL_ERR;

    memset(&a, 0, sizeof(a));
    if (api_ecs_cluster_member(req, a.cluster, err) == SL_OK &&
        refs_decode(req, key, max, &a, err) == SL_OK)
        rc = api_read(ctx, fn, &c, err);
    service_args_free(&a);
    return rc == SL_OK ? a.out : NULL;
}

json_t *api_ecs_describe_services(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return describe(ctx, req, "services", 10, services_describe_tx, err);
}

json_t *api_ecs_describe_tasks(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return describe(ctx, req, "tasks", 100, tasks_describe_tx, err);
}

static int services_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_services_list(txn, &c->ctx->ecs, c->a->cluster, c->s1, c->s2, &c->a->out, err);
}

json_t *api_ecs_list_services(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const managers[] = {"CUSTOMER", "ECS", NULL};
    const char *mgr = NULL;
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};

    memset(&a, 0, sizeof(a));
    if (api_ecs_cluster_member(req, a.cluster, err) != SL_OK ||
        ecs_enum(req, "launchType", P_OPTIONAL, ecs_launch_type_names, &c.s1, err) == SL_ERR ||
        ecs_enum(req, "schedulingStrategy", P_OPTIONAL, ecs_strategy_names, &c.s2, err) ==
            SL_ERR ||
        ecs_enum(req, "resourceManagementType", P_OPTIONAL, managers, &mgr, err) == SL_ERR ||
        api_read(ctx, services_list_tx, &c, err) != SL_OK)
        return NULL;
    /* Every service here is the customer's: none is managed by ECS. */
    if (mgr && strcmp(mgr, "ECS") == 0)
        json_array_clear(a.out);
    return api_ecs_list_reply(req, a.out, "serviceArns", err);
}

/* ---- tasks ---- */

static int run_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_tasks_run(txn, &c->ctx->ecs, &c->run, &c->a->out, err);
}

/* The members RunTask and StartTask share, into c->run. */
static int run_decode(json_t *req, struct service_args *a, struct call *c, struct sl_err *err)
{
    int launch = ECS_LT_EC2, prop = ECS_PT_NONE, exec = 0, rc;
    json_t *list;

    c->run.cluster = a->cluster;
    c->run.count = 1;
    if (api_ecs_cluster_member(req, a->cluster, err) != SL_OK ||
        ecs_str(req, "taskDefinition", P_REQUIRED, &c->run.td_ref, err) != SL_OK ||
        ecs_str(req, "group", P_OPTIONAL, &c->run.group, err) == SL_ERR ||
        ecs_str(req, "startedBy", P_OPTIONAL, &c->run.started_by, err) == SL_ERR ||
        ecs_str(req, "referenceId", P_OPTIONAL, &c->run.reference_id, err) == SL_ERR ||
        ecs_obj(req, "overrides", P_OPTIONAL, &c->run.overrides, err) == SL_ERR ||
        ecs_obj(req, "networkConfiguration", P_OPTIONAL, &c->run.network, err) == SL_ERR ||
        ecs_bool(req, "enableECSManagedTags", &c->run.managed_tags, err) == SL_ERR ||
        enum_member(req, "propagateTags", ecs_propagate_names, &prop, err) != SL_OK ||
        ecs_bool(req, "enableExecuteCommand", &exec, err) == SL_ERR ||
        ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_tags_decode(list, &a->tags, &c->run.ntags, err) != SL_OK)
        return SL_ERR;
    if (exec)
        return ecs_invalid(err, "enableExecuteCommand is not supported by sluice: ExecuteCommand "
                                "is not available.");
    if (prop == ECS_PT_SERVICE)
        return ecs_invalid(err, "propagateTags SERVICE is only valid for tasks of a service.");
    c->run.propagate_td = prop == ECS_PT_TASK_DEFINITION;
    c->run.tags = a->tags;
    if (c->run.reference_id && strlen(c->run.reference_id) > 64)
        return ecs_invalid(err, "referenceId can be at most 64 characters.");
    if ((rc = enum_member(req, "launchType", ecs_launch_type_names, &launch, err)) != SL_OK)
        return SL_ERR;
    c->run.launch_given = p_present(req, "launchType");
    c->run.launch = (enum ecs_launch_type)launch;
    return SL_OK;
}

json_t *api_ecs_run_task(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};
    int rc = SL_ERR;

    memset(&a, 0, sizeof(a));
    if (run_decode(req, &a, &c, err) == SL_OK &&
        ecs_int(req, "count", P_OPTIONAL, 1, ECS_RUN_TASK_MAX, &c.run.count, err) != SL_ERR &&
        ecs_str(req, "platformVersion", P_OPTIONAL, &c.run.platform, err) != SL_ERR &&
        ecs_str(req, "clientToken", P_OPTIONAL, &c.run.client_token, err) != SL_ERR &&
        ecs_list(req, "capacityProviderStrategy", P_OPTIONAL, &c.run.strategy, err) != SL_ERR &&
        ecs_run_check(&c.run, err) == SL_OK)
        rc = api_write(ctx, run_tx, &c, err);
    service_args_free(&a);
    return rc == SL_OK ? a.out : NULL;
}

json_t *api_ecs_start_task(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};
    json_t *list, *v;
    size_t i;
    int rc = SL_ERR;

    memset(&a, 0, sizeof(a));
    if (run_decode(req, &a, &c, err) != SL_OK ||
        ecs_strlist(req, "containerInstances", P_REQUIRED, &list, err) != SL_OK)
        goto done;
    if (json_array_size(list) < 1 || json_array_size(list) > 10) {
        ecs_invalid(err, "containerInstances must have between 1 and 10 items.");
        goto done;
    }
    /* One task per instance named.  There is one instance, so a name that
     * differs from the first cannot be it: that one is checked. */
    c.run.count = (long)json_array_size(list);
    json_array_foreach(list, i, v)
        if (i == 0 || !json_equal(v, json_array_get(list, 0)))
            c.run.instance = json_string_value(v);
    if (ecs_run_check(&c.run, err) == SL_OK)
        rc = api_write(ctx, run_tx, &c, err);
done:
    service_args_free(&a);
    return rc == SL_OK ? a.out : NULL;
}

static int stop_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_task_stop(txn, &c->ctx->ecs, c->a->cluster, c->s1, c->s2, &c->a->out, err);
}

json_t *api_ecs_stop_task(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};

    memset(&a, 0, sizeof(a));
    if (api_ecs_cluster_member(req, a.cluster, err) != SL_OK ||
        ecs_str(req, "task", P_REQUIRED, &c.s1, err) != SL_OK ||
        ecs_str(req, "reason", P_OPTIONAL, &c.s2, err) == SL_ERR)
        return NULL;
    if (c.s2 && strlen(c.s2) > 255) {
        ecs_invalid(err, "reason can be at most 255 characters.");
        return NULL;
    }
    if (api_write(ctx, stop_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "task", a.out);
}

static int tasks_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_tasks_list(txn, &c->ctx->ecs, c->a->cluster, &c->filter, &c->a->out, err);
}

json_t *api_ecs_list_tasks(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct service_args a;
    struct call c = {ctx, &a, NULL, NULL, 0, {0}, {0}};

    memset(&a, 0, sizeof(a));
    if (api_ecs_cluster_member(req, a.cluster, err) != SL_OK ||
        ecs_str(req, "family", P_OPTIONAL, &c.filter.family, err) == SL_ERR ||
        ecs_str(req, "serviceName", P_OPTIONAL, &c.filter.service, err) == SL_ERR ||
        ecs_str(req, "startedBy", P_OPTIONAL, &c.filter.started_by, err) == SL_ERR ||
        ecs_str(req, "containerInstance", P_OPTIONAL, &c.filter.instance, err) == SL_ERR ||
        ecs_enum(req, "launchType", P_OPTIONAL, ecs_launch_type_names, &c.filter.launch, err) ==
            SL_ERR ||
        ecs_enum(req, "desiredStatus", P_OPTIONAL, desired_states, &c.filter.desired, err) ==
            SL_ERR ||
        api_read(ctx, tasks_list_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, a.out, "taskArns", err);
}
