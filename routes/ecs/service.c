/*
 * service.c - ECS services and their deployments.
 */
#include "routes/ecs/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/ecs/capacity.h"
#include "routes/ecs/cluster.h"
#include "routes/ecs/deployments.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/tags.h"
#include "routes/ecs/taskdef.h"
#include "routes/elbv2/tg.h"

const char *const ecs_strategy_names[] = {"REPLICA", "DAEMON", NULL};
const char *const ecs_propagate_names[] = {"TASK_DEFINITION", "SERVICE", "NONE", NULL};

/* ---- checks (no store) ---- */

static int dc_check(const struct ecs_deploy_config *dc, struct sl_err *err)
{
    if (dc->has_max && (dc->max_pct < 100 || dc->max_pct > 2000))
        return ecs_invalid(err, "maximumPercent must be between 100 and 2000 (got %ld).",
                           dc->max_pct);
    if (dc->has_min && (dc->min_pct < 0 || dc->min_pct > 100))
        return ecs_invalid(err, "minimumHealthyPercent must be between 0 and 100 (got %ld).",
                           dc->min_pct);
    return SL_OK;
}

static int lbs_count(size_t n, struct sl_err *err)
{
    if (n > ECS_SERVICE_LBS_MAX)
        return ecs_invalid(err, "A service can have at most %d load balancers.",
                           ECS_SERVICE_LBS_MAX);
    return SL_OK;
}

static int grace_needs_lbs(long grace, size_t nlbs, struct sl_err *err)
{
    if (grace >= 0 && nlbs == 0)
        return ecs_invalid(err, "Health check grace period is only valid for services "
                                "configured to use load balancers");
    return SL_OK;
}

int ecs_service_check(const struct ecs_service_spec *s, struct sl_err *err)
{
    if (s->strategy == ECS_SS_DAEMON && s->desired_given)
        return ecs_invalid(err, "The daemon scheduling strategy does not support a desired "
                                "count for services.");
    if (s->strategy == ECS_SS_DAEMON && s->launch_given && s->launch == ECS_LT_FARGATE)
        return ecs_invalid(err, "The daemon scheduling strategy is not supported with the "
                                "FARGATE launch type.");
    if (!ecs_valid_name(s->name) || strlen(s->cluster) + strlen(s->name) + 1 > STORE_ID_MAX)
        return ecs_invalid(err, "Service name '%.255s' is invalid: up to 255 letters (uppercase "
                                "and lowercase), numbers, hyphens, and underscores are allowed.",
                           s->name);
    if (s->td_ref == NULL || s->td_ref[0] == '\0')
        return ecs_invalid(err, "TaskDefinition can not be blank.");
    if (s->desired < 0 || s->desired > ECS_DESIRED_MAX)
        return ecs_invalid(err, "desiredCount must be between 0 and %d (got %ld).",
                           ECS_DESIRED_MAX, s->desired);
    if (lbs_count(s->nlbs, err) != SL_OK || grace_needs_lbs(s->grace, s->nlbs, err) != SL_OK ||
        dc_check(&s->dc, err) != SL_OK)
        return SL_ERR;
    return ecs_tags_check(s->tags, s->ntags, err);
}

int ecs_service_change_check(const struct ecs_service_change *c, struct sl_err *err)
{
    if (c->has_desired && (c->desired < 0 || c->desired > ECS_DESIRED_MAX))
        return ecs_invalid(err, "desiredCount must be between 0 and %d (got %ld).",
                           ECS_DESIRED_MAX, c->desired);
    if (lbs_count(c->nlbs, err) != SL_OK)
        return SL_ERR;
    return dc_check(&c->dc, err);
}

/* ---- documents ---- */

/* deploymentConfiguration: <dc> over <base> (borrowed, may be NULL). */
static json_t *dc_json(const struct ecs_deploy_config *dc, json_t *base)
{
    json_t *old_cb = json_object_get(base, "deploymentCircuitBreaker");
    long maxp = base ? (long)json_integer_value(json_object_get(base, "maximumPercent")) : 200;
    long minp =
        base ? (long)json_integer_value(json_object_get(base, "minimumHealthyPercent")) : 100;
    int enable = json_is_true(json_object_get(old_cb, "enable"));
    int rollback = json_is_true(json_object_get(old_cb, "rollback"));

    if (dc->has_max)
        maxp = dc->max_pct;
    if (dc->has_min)
        minp = dc->min_pct;
    if (dc->has_breaker) {
        enable = dc->enable;
        rollback = dc->rollback;
    }
    return json_pack("{s{sbsb} sI sI}", "deploymentCircuitBreaker", "enable", enable,
                     "rollback", rollback, "maximumPercent", (json_int_t)maxp,
                     "minimumHealthyPercent", (json_int_t)minp);
}

static json_t *lbs_json(const struct ecs_lb *lbs, size_t n)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{ss ss sI}", "targetGroupArn", lbs[i].tg_arn,
                                             "containerName", lbs[i].container, "containerPort",
                                             (json_int_t)lbs[i].port));
    return out;
}

static void deployment_id(char out[32])
{
    char hex[33];
    int i;

    util_random_hex(hex, 16);
    memcpy(out, "ecs-svc/", 8);
    out[8] = (char)('1' + (unsigned char)hex[0] % 9);
    for (i = 1; i < 19; i++)
        out[8 + i] = (char)('0' + (unsigned char)hex[i] % 10);
    out[27] = '\0';
}

static void set_rollout(json_t *d, const char *state)
{
    char msg[128];

    snprintf(msg, sizeof(msg), "ECS deployment %s %s.",
             json_string_value(json_object_get(d, "id")),
             strcmp(state, "COMPLETED") == 0 ? "completed" : "in progress");
    json_object_set_new(d, "rolloutState", json_string(state));
    json_object_set_new(d, "rolloutStateReason", json_string(msg));
}

json_t *ecs_deployment_new(const char *td_arn, long desired, const char *launch, double now)
{
    char id[32];
    json_t *d;

    deployment_id(id);
    d = json_pack("{ss ss ss sI si si si sf sf}", "id", id, "status", "PRIMARY",
                  "taskDefinition", td_arn, "desiredCount", (json_int_t)desired, "pendingCount", 0,
                  "runningCount", 0, "failedTasks", 0, "createdAt", now, "updatedAt", now);
    if (launch && launch[0])
        json_object_set_new(d, "launchType", json_string(launch));
    /* Nothing to start means nothing to wait for; otherwise the scheduler
     * completes the rollout. */
    set_rollout(d, desired == 0 ? "COMPLETED" : "IN_PROGRESS");
    return d;
}

/* ---- lookups inside transactions ---- */

/* Every target group exists in the ELBv2 store and every
 * containerName/containerPort is in <td>. */
static int lbs_check(struct store_txn *txn, json_t *lbs, json_t *td, struct sl_err *err)
{
    json_t *lb;
    size_t i;
    int has_container;

    json_array_foreach(lbs, i, lb) {
        const char *arn = json_string_value(json_object_get(lb, "targetGroupArn"));
        const char *cn = json_string_value(json_object_get(lb, "containerName"));
        long port = (long)json_integer_value(json_object_get(lb, "containerPort"));

        if (!elb_tg_exists(txn, arn))
            return ecs_invalid(err, "Unable to assume role and validate the specified "
                                    "targetGroupArn. Please verify that the ECS service role "
                                    "being passed has the proper permissions. (target group "
                                    "%.300s not found)",
                               arn);
        if (!ecs_taskdef_has_port(td, cn ? cn : "", port, &has_container))
            return has_container
                       ? ecs_invalid(err, "The container %.255s did not have a container "
                                          "port %ld defined.",
                                     cn, port)
                       : ecs_invalid(err, "The container %.255s does not exist in the task "
                                          "definition.",
                                     cn ? cn : "");
    }
    return SL_OK;
}

/* The task definition <ref> for a new deployment: exists and ACTIVE. */
static json_t *deploy_taskdef(struct store_txn *txn, const char *ref, struct sl_err *err)
{
    json_t *td = ecs_taskdef_find(txn, ref);

    if (td == NULL) {
        ecs_client(err, "TaskDefinition not found.");
        return NULL;
    }
    if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") != 0) {
        json_decref(td);
        ecs_invalid(err, "TaskDefinition is inactive");
        return NULL;
    }
    if (ecs_taskdef_runnable(td, err) != SL_OK) {
        json_decref(td);
        return NULL;
    }
    return td;
}

static void service_id(char *out, size_t cap, const char *cluster, const char *name)
{
    /* Callers validated both names; a too-long result cannot match a key. */
    if ((size_t)snprintf(out, cap, "%s/%s", cluster, name) >= cap)
        out[0] = '\0';
}

struct live_scan {
    const char *group;
    long n;
};

static int count_live(const char *id, json_t *obj, void *arg)
{
    struct live_scan *l = arg;
    const char *st = json_string_value(json_object_get(obj, "lastStatus"));
    const char *g = json_string_value(json_object_get(obj, "group"));

    if (g && strcmp(g, l->group) == 0 && st && strcmp(st, "STOPPED") != 0)
        l->n++;
    return 0;
}

/* Tasks of service <name> in <cluster> that have not stopped. */
static long live_tasks(struct store_txn *txn, const char *cluster, const char *name)
{
    char prefix[ECS_NAME_MAX + 2], group[ECS_NAME_MAX + 16];
    struct live_scan l = {group, 0};

    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    snprintf(group, sizeof(group), "service:%s", name);
    store_scan(txn, K_ECS_TASK, prefix, count_live, &l);
    return l.n;
}

/* The ACTIVE service <ref> in <cluster> for a mutation.  Fills <id>. */
static json_t *active_service(struct store_txn *txn, const struct ecs_env *env,
                              const char *cluster, const char *ref, char *id,
                              struct sl_err *err)
{
    const char *name = ecs_ref_name(ref);
    json_t *svc;

    if (ecs_cluster_check(txn, env, cluster, err) != SL_OK)
        return NULL;
    if (name == NULL || strlen(cluster) + strlen(name) + 1 > STORE_ID_MAX) {
        sl_err_set(err, 400, "ServiceNotFoundException", "Service not found.");
        return NULL;
    }
    service_id(id, ECS_ID_MAX + 1, cluster, name);
    if ((svc = store_get(txn, K_ECS_SERVICE, id)) == NULL) {
        sl_err_set(err, 400, "ServiceNotFoundException", "Service not found.");
        return NULL;
    }
    if (strcmp(json_string_value(json_object_get(svc, "status")), "ACTIVE") != 0) {
        json_decref(svc);
        sl_err_set(err, 400, "ServiceNotActiveException", "Service was not ACTIVE.");
        return NULL;
    }
    return svc;
}

static int store_fail(struct sl_err *err)
{
    return sl_err_set(err, 500, "ServerException", "storage failure");
}

/* ---- CreateService ---- */

static json_t *service_object(const struct ecs_service_spec *s)
{
    json_t *svc = json_pack(
        "{ss so s[] ss sI si si so s[] s[] s[] ss s{ss} so sb ss sb}", "serviceName", s->name,
        "loadBalancers", lbs_json(s->lbs, s->nlbs), "serviceRegistries", "status", "ACTIVE",
        "desiredCount", (json_int_t)s->desired, "runningCount", 0, "pendingCount", 0,
        "deploymentConfiguration", dc_json(&s->dc, NULL), "events", "placementConstraints",
        "placementStrategy", "schedulingStrategy", ecs_strategy_names[s->strategy],
        "deploymentController", "type", "ECS", "tags", ecs_tags_json(s->tags, s->ntags),
        "enableECSManagedTags", s->managed_tags, "propagateTags",
        ecs_propagate_names[s->propagate], "enableExecuteCommand", s->exec);

    if (svc && s->role)
        json_object_set_new(svc, "roleArn", json_string(s->role));
    if (svc && s->platform)
        json_object_set_new(svc, "platformVersion", json_string(s->platform));
    if (svc && s->placement)
        json_object_set_new(svc, "placementStrategy", json_deep_copy(s->placement));
    if (svc && s->az_rebalancing)
        json_object_set_new(svc, "availabilityZoneRebalancing", json_string(s->az_rebalancing));
    if (svc && s->client_token)
        json_object_set_new(svc, "_clientToken", json_string(s->client_token));

    if (svc && s->nlbs > 0)
        json_object_set_new(svc, "healthCheckGracePeriodSeconds",
                            json_integer(s->grace >= 0 ? s->grace : 0));
    if (svc && s->network)
        json_object_set_new(svc, "networkConfiguration", json_deep_copy(s->network));
    return svc;
}

/* A DAEMON service: one task on the one container instance, replaced in
 * place (the old one stops first). */
static void daemon_defaults(json_t *svc, const struct ecs_deploy_config *dc)
{
    json_t *c = json_object_get(svc, "deploymentConfiguration");

    json_object_set_new(svc, "desiredCount", json_integer(1));
    if (!dc->has_max)
        json_object_set_new(c, "maximumPercent", json_integer(100));
    if (!dc->has_min)
        json_object_set_new(c, "minimumHealthyPercent", json_integer(0));
}

/* No service of that name that is not INACTIVE: SL_OK; SL_EEXIST with
 * *same (a new reference) when one was created with <token>, which answers
 * the retry as ECS does. */
static int name_free(struct store_txn *txn, const char *id, const char *token, json_t **same,
                     struct sl_err *err)
{
    json_t *old = store_get_shared(txn, K_ECS_SERVICE, id);
    const char *st = json_string_value(json_object_get(old, "status"));
    const char *tok = json_string_value(json_object_get(old, "_clientToken"));
    int live = old && st && strcmp(st, "INACTIVE") != 0;

    if (live && token && tok && strcmp(token, tok) == 0) {
        *same = ecs_public(old, 1);
        json_decref(old);
        return SL_EEXIST;
    }
    json_decref(old);
    return live ? ecs_invalid(err, "Creation of service was not idempotent.") : SL_OK;
}

/* The launch type or capacity provider strategy of a new service <svc> in
 * cluster <cl>: the strategy given (its providers associated with the
 * cluster), else the launch type given, else the cluster's default
 * strategy, else EC2, as on ECS.  *launch gets the launch type, or NULL. */
static int placement_of(json_t *svc, json_t *cl, const struct ecs_service_spec *s,
                        const char **launch, struct sl_err *err)
{
    json_t *def = json_object_get(cl, "defaultCapacityProviderStrategy"), *norm = NULL;

    *launch = NULL;
    if (json_array_size(s->capacity) > 0) {
        if (ecs_capacity_strategy_check(s->capacity, json_object_get(cl, "capacityProviders"),
                                        &norm, err) != SL_OK)
            return SL_ERR;
    } else if (!s->launch_given && json_array_size(def) > 0) {
        norm = json_incref(def);
    }
    if (norm) {
        json_object_set_new(svc, "capacityProviderStrategy", norm);
        return SL_OK;
    }
    *launch = ecs_launch_type_names[s->launch];
    json_object_set_new(svc, "launchType", json_string(*launch));
    return SL_OK;
}

int ecs_service_create(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_service_spec *s, json_t **out, struct sl_err *err)
{
    char id[ECS_ID_MAX + 1], res[ECS_ARN_MAX], arn[ECS_ARN_MAX];
    json_t *cl, *td = NULL, *svc = NULL;
    const char *td_arn, *launch;
    double now = ecs_now();
    int rc = SL_ERR;

    if ((cl = ecs_cluster_ensure(txn, env, s->cluster, err)) == NULL)
        return SL_ERR;
    service_id(id, sizeof(id), s->cluster, s->name);
    if ((rc = name_free(txn, id, s->client_token, out, err)) != SL_OK) {
        rc = rc == SL_EEXIST ? SL_OK : SL_ERR;
        goto out;
    }
    rc = SL_ERR;
    if ((td = deploy_taskdef(txn, s->td_ref, err)) == NULL)
        goto out;
    if ((svc = service_object(s)) == NULL) {
        sl_err_set(err, 500, "ServerException", "out of memory");
        goto out;
    }
    if (s->strategy == ECS_SS_DAEMON)
        daemon_defaults(svc, &s->dc);
    if (lbs_check(txn, json_object_get(svc, "loadBalancers"), td, err) != SL_OK ||
        placement_of(svc, cl, s, &launch, err) != SL_OK)
        goto out;
    td_arn = json_string_value(json_object_get(td, "taskDefinitionArn"));
    snprintf(res, sizeof(res), "service/%s/%s", s->cluster, s->name);
    ecs_arn(arn, sizeof(arn), env, res);
    json_object_set_new(svc, "serviceArn", json_string(arn));
    json_object_set(svc, "clusterArn", json_object_get(cl, "clusterArn"));
    json_object_set(svc, "taskDefinition", json_object_get(td, "taskDefinitionArn"));
    json_object_set_new(svc, "deployments",
                        json_pack("[o]", ecs_deployment_new(td_arn, s->desired, launch, now)));
    if (launch == NULL)
        json_object_set(json_array_get(json_object_get(svc, "deployments"), 0),
                        "capacityProviderStrategy",
                        json_object_get(svc, "capacityProviderStrategy"));
    json_object_set_new(svc, "createdAt", json_real(now));
    if (ecs_deployments_sync(txn, svc, now) != SL_OK ||
        store_put(txn, K_ECS_SERVICE, id, svc) != SL_OK) {
        rc = store_fail(err);
        goto out;
    }
    *out = ecs_public(svc, 1);
    rc = SL_OK;
out:
    json_decref(svc);
    json_decref(td);
    json_decref(cl);
    return rc;
}

/* ---- UpdateService ---- */

/* The task definition of the update: the one asked for (ACTIVE), or the
 * current one, found by ARN even when now INACTIVE (ECS lets such services
 * keep scaling). */
static json_t *update_taskdef(struct store_txn *txn, const struct ecs_service_change *c,
                              json_t *svc, struct sl_err *err)
{
    const char *cur = json_string_value(json_object_get(svc, "taskDefinition"));
    char family[ECS_NAME_MAX + 1], tdid[ECS_ID_MAX];
    json_t *td = NULL;
    long rev;

    if (c->td_ref)
        return deploy_taskdef(txn, c->td_ref, err);
    if (ecs_taskdef_ref(cur, family, &rev) == SL_OK) {
        ecs_taskdef_id(tdid, sizeof(tdid), family, rev);
        td = store_get(txn, K_ECS_TASKDEF, tdid);
    }
    if (td == NULL)
        ecs_client(err, "TaskDefinition not found.");
    return td;
}

/* Load balancers and grace period of the update; *redeploy when the load
 * balancers change. */
static int update_lbs(struct store_txn *txn, const struct ecs_service_change *c, json_t *svc,
                      json_t *td, int *redeploy, struct sl_err *err)
{
    json_t *lbs;

    if (c->lbs_given) {
        lbs = lbs_json(c->lbs, c->nlbs);
        if (lbs_check(txn, lbs, td, err) != SL_OK) {
            json_decref(lbs);
            return SL_ERR;
        }
        if (!json_equal(lbs, json_object_get(svc, "loadBalancers")))
            *redeploy = 1;
        json_object_set_new(svc, "loadBalancers", lbs);
    } else if (c->td_ref &&
               lbs_check(txn, json_object_get(svc, "loadBalancers"), td, err) != SL_OK) {
        return SL_ERR;
    }
    if (c->grace >= 0) {
        if (grace_needs_lbs(c->grace, json_array_size(json_object_get(svc, "loadBalancers")),
                            err) != SL_OK)
            return SL_ERR;
        json_object_set_new(svc, "healthCheckGracePeriodSeconds", json_integer(c->grace));
    }
    return SL_OK;
}

/* Replace member <key> of <svc> by a copy of <v>; *changed when it differs. */
static void replace(json_t *svc, const char *key, json_t *v, int *changed)
{
    if (!json_equal(json_object_get(svc, key), v))
        *changed = 1;
    json_object_set_new(svc, key, json_deep_copy(v));
}

/* Capacity provider strategy, network, platform version and the members
 * that only record: a changed strategy, network or platform version starts
 * a new deployment, as on ECS. */
static int update_placement(struct store_txn *txn, const struct ecs_env *env,
                            const struct ecs_service_change *c, json_t *svc, int *redeploy,
                            struct sl_err *err)
{
    json_t *cl, *norm = NULL, *v;
    int rc = SL_OK;

    if (json_array_size(c->capacity) > 0) {
        if ((cl = ecs_cluster_ensure(txn, env, c->cluster, err)) == NULL)
            return SL_ERR;
        rc = ecs_capacity_strategy_check(c->capacity, json_object_get(cl, "capacityProviders"),
                                         &norm, err);
        json_decref(cl);
        if (rc != SL_OK)
            return SL_ERR;
        replace(svc, "capacityProviderStrategy", norm, redeploy);
        json_object_del(svc, "launchType");
        json_decref(norm);
    }
    if (c->network)
        replace(svc, "networkConfiguration", c->network, redeploy);
    if (c->platform) {
        v = json_string(c->platform);
        replace(svc, "platformVersion", v, redeploy);
        json_decref(v);
    }
    if (c->placement)
        json_object_set_new(svc, "placementStrategy", json_deep_copy(c->placement));
    if (c->az_rebalancing)
        json_object_set_new(svc, "availabilityZoneRebalancing", json_string(c->az_rebalancing));
    if (c->set_managed_tags)
        json_object_set_new(svc, "enableECSManagedTags", json_boolean(c->managed_tags));
    if (c->set_propagate)
        json_object_set_new(svc, "propagateTags", json_string(ecs_propagate_names[c->propagate]));
    return SL_OK;
}

/* The deployments after the update: a new PRIMARY one, or the PRIMARY one
 * rescaled. */
static void update_deployments(const struct ecs_service_change *c, json_t *svc, json_t *td,
                               int redeploy, double now)
{
    json_t *deps = json_object_get(svc, "deployments"), *primary = json_array_get(deps, 0), *d;
    size_t i;

    if (redeploy) {
        /* The previous deployments stay ACTIVE until the scheduler has
         * drained and stopped their tasks. */
        json_array_foreach(deps, i, d)
            if (strcmp(json_string_value(json_object_get(d, "status")), "PRIMARY") == 0) {
                json_object_set_new(d, "status", json_string("ACTIVE"));
                json_object_set_new(d, "updatedAt", json_real(now));
            }
        json_array_insert_new(
            deps, 0,
            ecs_deployment_new(json_string_value(json_object_get(td, "taskDefinitionArn")),
                               (long)json_integer_value(json_object_get(svc, "desiredCount")),
                               json_string_value(json_object_get(svc, "launchType")), now));
        if (json_object_get(svc, "capacityProviderStrategy"))
            json_object_set(json_array_get(deps, 0), "capacityProviderStrategy",
                            json_object_get(svc, "capacityProviderStrategy"));
        json_object_set(svc, "taskDefinition", json_object_get(td, "taskDefinitionArn"));
    } else if (primary && c->has_desired) {
        json_object_set_new(primary, "desiredCount", json_integer(c->desired));
        json_object_set_new(primary, "updatedAt", json_real(now));
        if (c->desired == 0 && json_array_size(deps) == 1)
            set_rollout(primary, "COMPLETED");
    }
}

int ecs_service_update(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_service_change *c, json_t **out, struct sl_err *err)
{
    char id[ECS_ID_MAX + 1];
    json_t *svc, *td = NULL;
    int redeploy = c->force, rc = SL_ERR;
    double now;

    if ((svc = active_service(txn, env, c->cluster, c->ref, id, err)) == NULL)
        return SL_ERR;
    if (c->has_desired &&
        strcmp(json_string_value(json_object_get(svc, "schedulingStrategy")), "DAEMON") == 0) {
        ecs_invalid(err, "The daemon scheduling strategy does not support a desired count for "
                         "services.");
        goto out;
    }
    if ((td = update_taskdef(txn, c, svc, err)) == NULL)
        goto out;
    if (c->td_ref && strcmp(json_string_value(json_object_get(td, "taskDefinitionArn")),
                            json_string_value(json_object_get(svc, "taskDefinition"))) != 0)
        redeploy = 1;
    if (update_lbs(txn, c, svc, td, &redeploy, err) != SL_OK ||
        update_placement(txn, env, c, svc, &redeploy, err) != SL_OK)
        goto out;
    json_object_set_new(svc, "deploymentConfiguration",
                        dc_json(&c->dc, json_object_get(svc, "deploymentConfiguration")));
    if (c->has_desired)
        json_object_set_new(svc, "desiredCount", json_integer(c->desired));
    now = ecs_now();
    update_deployments(c, svc, td, redeploy, now);
    if (ecs_deployments_sync(txn, svc, now) != SL_OK ||
        store_put(txn, K_ECS_SERVICE, id, svc) != SL_OK) {
        rc = store_fail(err);
        goto out;
    }
    *out = ecs_public(svc, 1);
    rc = SL_OK;
out:
    json_decref(td);
    json_decref(svc);
    return rc;
}

/* ---- DescribeServices / ListServices ---- */

static json_t *lookup_service(struct store_txn *txn, const char *cluster, const char *ref)
{
    char id[ECS_ID_MAX + 1];
    const char *name = ecs_ref_name(ref);

    if (name == NULL || strlen(cluster) + strlen(name) + 1 > STORE_ID_MAX)
        return NULL;
    service_id(id, sizeof(id), cluster, name);
    return store_get_shared(txn, K_ECS_SERVICE, id);
}

int ecs_services_describe(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                          const char *const *refs, size_t n, int with_tags, json_t **out,
                          struct sl_err *err)
{
    if (ecs_cluster_check(txn, env, cluster, err) != SL_OK)
        return SL_ERR;
    return ecs_describe_refs(txn, env, cluster, refs, n, with_tags, "services", "service",
                             lookup_service, out);
}

static int str_is(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

struct list_svc {
    json_t *arns;
    const char *launch, *strategy;
};

static int collect_service(const char *id, json_t *obj, void *arg)
{
    struct list_svc *l = arg;
    const char *st = json_string_value(json_object_get(obj, "status"));

    if (st == NULL || strcmp(st, "INACTIVE") == 0)
        return 0;
    if (l->launch && !str_is(json_object_get(obj, "launchType"), l->launch))
        return 0;
    if (l->strategy && !str_is(json_object_get(obj, "schedulingStrategy"), l->strategy))
        return 0;
    json_array_append(l->arns, json_object_get(obj, "serviceArn"));
    return 0;
}

int ecs_services_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                      const char *launch, const char *strategy, json_t **out,
                      struct sl_err *err)
{
    char prefix[ECS_NAME_MAX + 2];
    struct list_svc l = {NULL, launch, strategy};

    if (ecs_cluster_check(txn, env, cluster, err) != SL_OK)
        return SL_ERR;
    l.arns = json_array();
    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    store_scan(txn, K_ECS_SERVICE, prefix, collect_service, &l);
    *out = l.arns;
    return SL_OK;
}

/* ---- DeleteService ---- */

int ecs_service_delete(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                       const char *ref, int force, json_t **out, struct sl_err *err)
{
    char id[ECS_ID_MAX + 1];
    json_t *svc, *dep;
    double now = ecs_now();
    size_t i;
    long live;

    if ((svc = active_service(txn, env, cluster, ref, id, err)) == NULL)
        return SL_ERR;
    if (json_integer_value(json_object_get(svc, "desiredCount")) > 0 && !force) {
        json_decref(svc);
        return ecs_invalid(err, "The service cannot be stopped while it is scaled above 0.");
    }
    json_object_set_new(svc, "desiredCount", json_integer(0));
    json_array_foreach(json_object_get(svc, "deployments"), i, dep) {
        json_object_set_new(dep, "desiredCount", json_integer(0));
        json_object_set_new(dep, "updatedAt", json_real(now));
    }
    /* DRAINING until the scheduler has stopped its tasks; with none left
     * there is nothing to wait for. */
    live = live_tasks(txn, cluster, json_string_value(json_object_get(svc, "serviceName")));
    json_object_set_new(svc, "status", json_string(live > 0 ? "DRAINING" : "INACTIVE"));
    if (ecs_deployments_sync(txn, svc, now) != SL_OK ||
        store_put(txn, K_ECS_SERVICE, id, svc) != SL_OK) {
        json_decref(svc);
        return store_fail(err);
    }
    *out = ecs_public(svc, 1);
    json_decref(svc);
    return SL_OK;
}

json_t *ecs_service_placement(struct store_txn *txn, const char *cluster, const char *name,
                              json_t **svc_out, int *has_launch)
{
    char id[ECS_ID_MAX + 1];
    json_t *svc;

    *svc_out = NULL;
    *has_launch = 0;
    if (ecs_join(id, sizeof(id), cluster, name) != SL_OK ||
        (svc = store_get_shared(txn, K_ECS_SERVICE, id)) == NULL)
        return NULL;
    *svc_out = svc;
    *has_launch = json_is_string(json_object_get(svc, "launchType"));
    return json_array_size(json_object_get(svc, "capacityProviderStrategy")) > 0
               ? json_object_get(svc, "capacityProviderStrategy")
               : NULL;
}
