/*
 * ecs_service.c - CreateService, UpdateService, DescribeServices,
 * ListServices, DeleteService.
 *
 * These operations record desired state only.  A service scheduler (not yet
 * written) owns everything that follows: starting tasks, the running and
 * pending counts, registering targets, moving IN_PROGRESS deployments to
 * COMPLETED, retiring ACTIVE deployments once their tasks have drained,
 * events, and moving DRAINING services to INACTIVE.  Until it exists:
 * - a deployment whose desiredCount is 0 is COMPLETED at once (there is
 *   nothing to start), so `aws ecs wait services-stable` returns for it;
 * - DeleteService makes a service INACTIVE at once when no task of it is
 *   left (group "service:<name>" not STOPPED), else DRAINING.
 */
#include "routes/ecs/ecs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/elbv2/elbv2.h"

static const char *const launch_types[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES",
                                           NULL};
static const char *const strategies[] = {"REPLICA", "DAEMON", NULL};
static const char *const propagate[] = {"TASK_DEFINITION", "SERVICE", "NONE", NULL};

#define SVC_MAX_LBS 5

/* ---- request parsing (no store) ---- */

/* deploymentConfiguration merged over <base> (borrowed, may be NULL).
 * New reference or NULL with <err>. */
static json_t *deploy_config(json_t *req, json_t *base, struct sl_err *err)
{
    json_t *dc, *cb, *out, *old_cb;
    long maxp = 200, minp = 100;
    int enable = 0, rollback = 0;

    if (base) {
        maxp = (long)json_integer_value(json_object_get(base, "maximumPercent"));
        minp = (long)json_integer_value(json_object_get(base, "minimumHealthyPercent"));
        old_cb = json_object_get(base, "deploymentCircuitBreaker");
        enable = json_is_true(json_object_get(old_cb, "enable"));
        rollback = json_is_true(json_object_get(old_cb, "rollback"));
    }
    if (ecs_obj(req, "deploymentConfiguration", P_OPTIONAL, &dc, err) == SL_ERR)
        return NULL;
    if (dc) {
        if (ecs_int(dc, "maximumPercent", P_OPTIONAL, 100, 2000, &maxp, err) == SL_ERR ||
            ecs_int(dc, "minimumHealthyPercent", P_OPTIONAL, 0, 100, &minp, err) == SL_ERR)
            return NULL;
        if (ecs_obj(dc, "deploymentCircuitBreaker", P_OPTIONAL, &cb, err) == SL_ERR)
            return NULL;
        if (cb) {
            if (!json_is_boolean(json_object_get(cb, "enable")) ||
                !json_is_boolean(json_object_get(cb, "rollback"))) {
                ecs_invalid(err, "deploymentCircuitBreaker requires boolean enable and "
                                 "rollback.");
                return NULL;
            }
            enable = json_is_true(json_object_get(cb, "enable"));
            rollback = json_is_true(json_object_get(cb, "rollback"));
        }
    }
    out = json_pack("{s{sbsb} sI sI}", "deploymentCircuitBreaker", "enable", enable,
                    "rollback", rollback, "maximumPercent", (json_int_t)maxp,
                    "minimumHealthyPercent", (json_int_t)minp);
    return out;
}

/* loadBalancers, type-checked and normalized (not yet checked against the
 * store).  New reference, NULL with <err>; *given is set when present. */
static json_t *lbs_param(json_t *req, int *given, struct sl_err *err)
{
    json_t *list, *lb, *out;
    const char *tg, *name;
    long port;
    size_t i;

    *given = 0;
    if (ecs_list(req, "loadBalancers", P_OPTIONAL, &list, err) == SL_ERR)
        return NULL;
    out = json_array();
    if (list == NULL)
        return out;
    *given = 1;
    if (json_array_size(list) > SVC_MAX_LBS) {
        ecs_invalid(err, "A service can have at most %d load balancers.", SVC_MAX_LBS);
        goto fail;
    }
    json_array_foreach(list, i, lb) {
        if (!json_is_object(lb)) {
            sl_err_set(err, 400, "SerializationException",
                       "Unable to deserialize 'loadBalancers': expected a list of objects");
            goto fail;
        }
        if (ecs_str(lb, "loadBalancerName", P_OPTIONAL, &name, err) == SL_ERR)
            goto fail;
        if (ecs_str(lb, "targetGroupArn", P_OPTIONAL, &tg, err) == SL_ERR)
            goto fail;
        if (tg == NULL) {
            ecs_invalid(err, name ? "Classic load balancers are not supported: specify a "
                                    "targetGroupArn."
                                  : "loadBalancers require a targetGroupArn.");
            goto fail;
        }
        if (ecs_str(lb, "containerName", P_REQUIRED, &name, err) != SL_OK ||
            ecs_int(lb, "containerPort", P_REQUIRED, 1, 65535, &port, err) != SL_OK)
            goto fail;
        json_array_append_new(out, json_pack("{ss ss sI}", "targetGroupArn", tg,
                                             "containerName", name, "containerPort",
                                             (json_int_t)port));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* Inside a transaction: every target group exists in the ELBv2 store and
 * every containerName/containerPort is in <td>. */
static int lbs_check(struct store_txn *txn, json_t *lbs, json_t *td, struct sl_err *err)
{
    json_t *lb, *tg;
    size_t i;
    int has_container;

    json_array_foreach(lbs, i, lb) {
        const char *arn = json_string_value(json_object_get(lb, "targetGroupArn"));
        const char *cn = json_string_value(json_object_get(lb, "containerName"));
        long port = (long)json_integer_value(json_object_get(lb, "containerPort"));

        if ((tg = elb_by_arn(txn, K_TG, arn, NULL)) == NULL)
            return ecs_invalid(err, "Unable to assume role and validate the specified "
                                    "targetGroupArn. Please verify that the ECS service role "
                                    "being passed has the proper permissions. (target group "
                                    "%.300s not found)",
                               arn);
        json_decref(tg);
        if (!ecs_taskdef_has_port(td, cn, port, &has_container))
            return has_container
                       ? ecs_invalid(err, "The container %.255s did not have a container "
                                          "port %ld defined.",
                                     cn, port)
                       : ecs_invalid(err, "The container %.255s does not exist in the task "
                                          "definition.",
                                     cn);
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
    return td;
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
    d = json_pack("{ss ss ss sI si si si sf sf ss}", "id", id, "status", "PRIMARY",
                  "taskDefinition", td_arn, "desiredCount", (json_int_t)desired, "pendingCount", 0,
                  "runningCount", 0, "failedTasks", 0, "createdAt", now, "updatedAt", now,
                  "launchType", launch);
    /* Nothing to start means nothing to wait for; otherwise the scheduler
     * completes the rollout. */
    set_rollout(d, desired == 0 ? "COMPLETED" : "IN_PROGRESS");
    return d;
}

/* ---- lookups inside transactions ---- */

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

    (void)id;
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
static json_t *active_service(struct store_txn *txn, const struct op_ctx *ctx,
                              const char *cluster, const char *ref, char *id,
                              struct sl_err *err)
{
    const char *name = ecs_ref_name(ref);
    json_t *svc;

    if (ecs_cluster_check(txn, ctx, cluster, err) != SL_OK)
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

/* ---- CreateService ---- */

struct create_svc {
    const struct op_ctx *ctx;
    char cluster[ECS_NAME_MAX + 1];
    const char *name, *td_ref, *launch;
    long desired;
    json_t *svc; /* built outside, completed inside; borrowed */
    json_t *lbs; /* borrowed */
};

static int create_svc_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct create_svc *c = arg;
    char id[ECS_ID_MAX + 1], res[ECS_ARN_MAX], arn[ECS_ARN_MAX];
    json_t *cl, *old, *td;
    double now = ecs_now();

    if ((cl = ecs_cluster_ensure(txn, c->ctx, c->cluster, err)) == NULL)
        return SL_ERR;
    service_id(id, sizeof(id), c->cluster, c->name);
    if ((old = store_get(txn, K_ECS_SERVICE, id)) != NULL) {
        const char *st = json_string_value(json_object_get(old, "status"));
        int live = st && strcmp(st, "INACTIVE") != 0;
        json_decref(old);
        if (live) {
            json_decref(cl);
            return ecs_invalid(err, "Creation of service was not idempotent.");
        }
    }
    if ((td = deploy_taskdef(txn, c->td_ref, err)) == NULL) {
        json_decref(cl);
        return SL_ERR;
    }
    if (lbs_check(txn, c->lbs, td, err) != SL_OK) {
        json_decref(td);
        json_decref(cl);
        return SL_ERR;
    }
    snprintf(res, sizeof(res), "service/%s/%s", c->cluster, c->name);
    ecs_arn(arn, sizeof(arn), c->ctx, res);
    json_object_set_new(c->svc, "serviceArn", json_string(arn));
    json_object_set(c->svc, "clusterArn", json_object_get(cl, "clusterArn"));
    json_object_set(c->svc, "taskDefinition", json_object_get(td, "taskDefinitionArn"));
    json_object_set_new(
        c->svc, "deployments",
        json_pack("[o]",
                  ecs_deployment_new(json_string_value(json_object_get(td, "taskDefinitionArn")),
                                     c->desired, c->launch, now)));
    json_object_set_new(c->svc, "createdAt", json_real(now));
    json_decref(td);
    json_decref(cl);
    return store_put(txn, K_ECS_SERVICE, id, c->svc) == SL_OK ? SL_OK : SL_EIO;
}

json_t *ecs_op_create_service(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct create_svc c = {ctx, {0}, NULL, NULL, "EC2", 0, NULL, NULL};
    const char *s, *strategy = "REPLICA", *prop = "NONE";
    json_t *dc = NULL, *tags = NULL, *list, *out = NULL;
    long grace = -1;
    int given, b;

    if (ecs_cluster_param(req, c.cluster, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "serviceName", P_REQUIRED, &c.name, err) != SL_OK)
        return NULL;
    if (!ecs_valid_name(c.name) || strlen(c.cluster) + strlen(c.name) + 1 > STORE_ID_MAX) {
        ecs_invalid(err, "Service name '%.255s' is invalid: up to 255 letters (uppercase and "
                         "lowercase), numbers, hyphens, and underscores are allowed.",
                    c.name);
        return NULL;
    }
    if (ecs_str(req, "taskDefinition", P_OPTIONAL, &c.td_ref, err) == SL_ERR)
        return NULL;
    if (c.td_ref == NULL || c.td_ref[0] == '\0') {
        ecs_invalid(err, "TaskDefinition can not be blank.");
        return NULL;
    }
    if (ecs_int(req, "desiredCount", P_OPTIONAL, 0, 100000, &c.desired, err) == SL_ERR)
        return NULL;
    if (ecs_enum(req, "launchType", P_OPTIONAL, launch_types, &s, err) == SL_ERR)
        return NULL;
    if (s)
        c.launch = s;
    if (ecs_enum(req, "schedulingStrategy", P_OPTIONAL, strategies, &s, err) == SL_ERR)
        return NULL;
    if (s)
        strategy = s;
    if (ecs_enum(req, "propagateTags", P_OPTIONAL, propagate, &s, err) == SL_ERR)
        return NULL;
    if (s)
        prop = s;
    if (ecs_int(req, "healthCheckGracePeriodSeconds", P_OPTIONAL, 0, 2147483647L, &grace,
                err) == SL_ERR)
        return NULL;
    if ((c.lbs = lbs_param(req, &given, err)) == NULL)
        return NULL;
    if (grace >= 0 && json_array_size(c.lbs) == 0) {
        ecs_invalid(err, "Health check grace period is only valid for services configured to "
                         "use load balancers");
        goto done;
    }
    if ((dc = deploy_config(req, NULL, err)) == NULL)
        goto done;
    if (ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        (tags = ecs_tags_param(list, err)) == NULL)
        goto done;
    b = 0;
    if (ecs_bool(req, "enableExecuteCommand", &b, err) == SL_ERR)
        goto done;
    c.svc = json_pack("{ss sO s[] ss sI si si ss sO s[] s[] s[] ss s{ss} sO sb ss sb}",
                      "serviceName", c.name, "loadBalancers", c.lbs, "serviceRegistries",
                      "status", "ACTIVE", "desiredCount", (json_int_t)c.desired, "runningCount",
                      0, "pendingCount", 0, "launchType", c.launch, "deploymentConfiguration",
                      dc, "events", "placementConstraints", "placementStrategy",
                      "schedulingStrategy", strategy, "deploymentController", "type", "ECS",
                      "tags", tags, "enableECSManagedTags", 0, "propagateTags", prop,
                      "enableExecuteCommand", b);
    if (json_array_size(c.lbs) > 0)
        json_object_set_new(c.svc, "healthCheckGracePeriodSeconds",
                            json_integer(grace >= 0 ? grace : 0));
    if (ecs_obj(req, "networkConfiguration", P_OPTIONAL, &list, err) == SL_ERR)
        goto done;
    if (list)
        json_object_set_new(c.svc, "networkConfiguration", json_deep_copy(list));
    if (store_write(ctx->store, create_svc_tx, &c, NULL, err) != SL_OK)
        goto done;
    out = json_pack("{so}", "service", ecs_public(c.svc, 1));
done:
    json_decref(c.svc);
    json_decref(c.lbs);
    json_decref(dc);
    json_decref(tags);
    return out;
}

/* ---- UpdateService ---- */

struct update_svc {
    const struct op_ctx *ctx;
    char cluster[ECS_NAME_MAX + 1];
    json_t *req; /* borrowed */
    const char *ref, *td_ref;
    long desired, grace;
    int has_desired, force, lbs_given;
    json_t *lbs; /* borrowed */
    json_t *result;
};

static int update_svc_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct update_svc *u = arg;
    char id[ECS_ID_MAX + 1];
    json_t *svc, *td = NULL, *deps, *primary, *dc, *d;
    const char *cur_td;
    double now = ecs_now();
    int redeploy = u->force;
    size_t i;

    if ((svc = active_service(txn, u->ctx, u->cluster, u->ref, id, err)) == NULL)
        return SL_ERR;
    deps = json_object_get(svc, "deployments");
    primary = json_array_get(deps, 0);
    cur_td = json_string_value(json_object_get(svc, "taskDefinition"));
    if (u->td_ref) {
        if ((td = deploy_taskdef(txn, u->td_ref, err)) == NULL)
            goto fail;
        if (strcmp(json_string_value(json_object_get(td, "taskDefinitionArn")), cur_td) != 0)
            redeploy = 1;
    } else {
        /* Current task definition: found by ARN even when now INACTIVE
         * (ECS lets such services keep scaling). */
        char family[ECS_NAME_MAX + 1], tdid[ECS_ID_MAX];
        long rev;
        if (ecs_taskdef_ref(cur_td, family, &rev) == SL_OK) {
            ecs_taskdef_id(tdid, sizeof(tdid), family, rev);
            td = store_get(txn, K_ECS_TASKDEF, tdid);
        }
        if (td == NULL) {
            ecs_client(err, "TaskDefinition not found.");
            goto fail;
        }
    }
    if (u->lbs_given) {
        if (lbs_check(txn, u->lbs, td, err) != SL_OK)
            goto fail;
        if (!json_equal(u->lbs, json_object_get(svc, "loadBalancers")))
            redeploy = 1;
        json_object_set(svc, "loadBalancers", u->lbs);
    } else if (u->td_ref && lbs_check(txn, json_object_get(svc, "loadBalancers"), td, err) !=
                                SL_OK) {
        goto fail;
    }
    if (u->grace >= 0) {
        if (json_array_size(json_object_get(svc, "loadBalancers")) == 0) {
            ecs_invalid(err, "Health check grace period is only valid for services "
                             "configured to use load balancers");
            goto fail;
        }
        json_object_set_new(svc, "healthCheckGracePeriodSeconds", json_integer(u->grace));
    }
    if ((dc = deploy_config(u->req, json_object_get(svc, "deploymentConfiguration"), err)) ==
        NULL)
        goto fail;
    json_object_set_new(svc, "deploymentConfiguration", dc);
    if (u->has_desired)
        json_object_set_new(svc, "desiredCount", json_integer(u->desired));
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
            json_object_set(svc, "taskDefinition", json_object_get(td, "taskDefinitionArn"));
    } else if (primary && u->has_desired) {
        json_object_set_new(primary, "desiredCount", json_integer(u->desired));
        json_object_set_new(primary, "updatedAt", json_real(now));
        if (u->desired == 0 && json_array_size(deps) == 1)
            set_rollout(primary, "COMPLETED");
    }
    json_decref(td);
    if (store_put(txn, K_ECS_SERVICE, id, svc) != SL_OK) {
        json_decref(svc);
        return SL_EIO;
    }
    u->result = svc;
    return SL_OK;
fail:
    json_decref(td);
    json_decref(svc);
    return SL_ERR;
}

json_t *ecs_op_update_service(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct update_svc u = {0};
    json_t *out;
    int rc;

    u.ctx = ctx;
    u.req = req;
    u.grace = -1;
    if (ecs_cluster_param(req, u.cluster, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "service", P_REQUIRED, &u.ref, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "taskDefinition", P_OPTIONAL, &u.td_ref, err) == SL_ERR)
        return NULL;
    if ((rc = ecs_int(req, "desiredCount", P_OPTIONAL, 0, 100000, &u.desired, err)) == SL_ERR)
        return NULL;
    u.has_desired = rc == SL_OK;
    if (ecs_bool(req, "forceNewDeployment", &u.force, err) == SL_ERR)
        return NULL;
    if (ecs_int(req, "healthCheckGracePeriodSeconds", P_OPTIONAL, 0, 2147483647L, &u.grace,
                err) == SL_ERR)
        return NULL;
    /* Type-check deploymentConfiguration before touching the store. */
    if ((out = deploy_config(req, NULL, err)) == NULL)
        return NULL;
    json_decref(out);
    if ((u.lbs = lbs_param(req, &u.lbs_given, err)) == NULL)
        return NULL;
    rc = store_write(ctx->store, update_svc_tx, &u, NULL, err);
    json_decref(u.lbs);
    if (rc != SL_OK)
        return NULL;
    out = json_pack("{so}", "service", ecs_public(u.result, 1));
    json_decref(u.result);
    return out;
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

json_t *ecs_op_describe_services(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    return ecs_describe(ctx, req, "services", 10, "service", lookup_service, err);
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

    (void)id;
    if (st == NULL || strcmp(st, "INACTIVE") == 0)
        return 0;
    if (l->launch && !str_is(json_object_get(obj, "launchType"), l->launch))
        return 0;
    if (l->strategy && !str_is(json_object_get(obj, "schedulingStrategy"), l->strategy))
        return 0;
    json_array_append(l->arns, json_object_get(obj, "serviceArn"));
    return 0;
}

json_t *ecs_op_list_services(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    char cluster[ECS_NAME_MAX + 1], prefix[ECS_NAME_MAX + 2];
    struct list_svc l = {NULL, NULL, NULL};
    struct store_txn *txn;
    json_t *page, *next, *out;

    if (ecs_cluster_param(req, cluster, err) != SL_OK)
        return NULL;
    if (ecs_enum(req, "launchType", P_OPTIONAL, launch_types, &l.launch, err) == SL_ERR ||
        ecs_enum(req, "schedulingStrategy", P_OPTIONAL, strategies, &l.strategy, err) == SL_ERR)
        return NULL;
    if (ecs_cluster_read(ctx, cluster, &txn, err) != SL_OK)
        return NULL;
    l.arns = json_array();
    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    store_scan(txn, K_ECS_SERVICE, prefix, collect_service, &l);
    store_txn_end(txn);
    page = ecs_page(req, l.arns, 100, &next, err);
    json_decref(l.arns);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", "serviceArns", page);
    if (next)
        json_object_set_new(out, "nextToken", next);
    return out;
}

/* ---- DeleteService ---- */

struct delete_svc {
    const struct op_ctx *ctx;
    char cluster[ECS_NAME_MAX + 1];
    const char *ref;
    int force;
    json_t *result;
};

static int delete_svc_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct delete_svc *d = arg;
    char id[ECS_ID_MAX + 1];
    json_t *svc, *dep;
    double now = ecs_now();
    size_t i;

    if ((svc = active_service(txn, d->ctx, d->cluster, d->ref, id, err)) == NULL)
        return SL_ERR;
    if (json_integer_value(json_object_get(svc, "desiredCount")) > 0 && !d->force) {
        json_decref(svc);
        return ecs_invalid(err, "The service cannot be stopped while it is scaled above 0.");
    }
    json_object_set_new(svc, "desiredCount", json_integer(0));
    json_array_foreach(json_object_get(svc, "deployments"), i, dep) {
        json_object_set_new(dep, "desiredCount", json_integer(0));
        json_object_set_new(dep, "updatedAt", json_real(now));
    }
    /* DRAINING until its tasks have stopped; with no scheduler yet to
     * finish the job, a service with no task left goes INACTIVE now. */
    json_object_set_new(svc, "status",
                        json_string(live_tasks(txn, d->cluster,
                                               json_string_value(
                                                   json_object_get(svc, "serviceName"))) > 0
                                        ? "DRAINING"
                                        : "INACTIVE"));
    if (store_put(txn, K_ECS_SERVICE, id, svc) != SL_OK) {
        json_decref(svc);
        return SL_EIO;
    }
    d->result = svc;
    return SL_OK;
}

json_t *ecs_op_delete_service(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct delete_svc d = {ctx, {0}, NULL, 0, NULL};
    json_t *out;

    if (ecs_cluster_param(req, d.cluster, err) != SL_OK)
        return NULL;
    if (ecs_str(req, "service", P_REQUIRED, &d.ref, err) != SL_OK)
        return NULL;
    if (ecs_bool(req, "force", &d.force, err) == SL_ERR)
        return NULL;
    if (store_write(ctx->store, delete_svc_tx, &d, NULL, err) != SL_OK)
        return NULL;
    out = json_pack("{so}", "service", ecs_public(d.result, 1));
    json_decref(d.result);
    return out;
}
