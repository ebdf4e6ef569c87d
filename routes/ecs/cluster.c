/*
 * cluster.c - ECS clusters.
 */
#include "routes/ecs/cluster.h"

#include <stdio.h>
#include <string.h>

#include "routes/ecs/deployments.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/tags.h"


static json_t *cluster_new(const struct ecs_env *env, const char *name)
{
    char res[ECS_NAME_MAX + 16], arn[ECS_ARN_MAX];

    snprintf(res, sizeof(res), "cluster/%s", name);
    ecs_arn(arn, sizeof(arn), env, res);
    return json_pack("{ss ss ss s[] s[{ss ss}] s[] s[]}", "clusterArn", arn, "clusterName", name,
                     "status", "ACTIVE", "tags", "settings", "name", "containerInsights",
                     "value", "disabled", "capacityProviders",
                     "defaultCapacityProviderStrategy");
}

json_t *ecs_cluster_get(struct store_txn *txn, const struct ecs_env *env, const char *name)
{
    (void)env;
    return store_get(txn, K_ECS_CLUSTER, name);
}

int ecs_cluster_check(struct store_txn *txn, const struct ecs_env *env, const char *name,
                      struct sl_err *err)
{
    json_t *c = store_get_shared(txn, K_ECS_CLUSTER, name);

    if (c == NULL)
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    json_decref(c);
    return SL_OK;
}

json_t *ecs_cluster_ensure(struct store_txn *txn, const struct ecs_env *env, const char *name,
                           struct sl_err *err)
{
    json_t *c = ecs_cluster_get(txn, env, name);

    if (c == NULL)
        sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    return c;
}

/* ---- counts and views ---- */

struct cluster_counts {
    long active_services; /* ACTIVE */
    long live_services;   /* ACTIVE or DRAINING */
    long running, pending, live_tasks;
    long instances;
};

static int count_service(const char *id, json_t *obj, void *arg)
{
    struct cluster_counts *n = arg;
    const char *st = json_string_value(json_object_get(obj, "status"));

    if (st && strcmp(st, "ACTIVE") == 0)
        n->active_services++;
    if (st && (strcmp(st, "ACTIVE") == 0 || strcmp(st, "DRAINING") == 0))
        n->live_services++;
    return 0;
}

static int count_task(const char *id, json_t *obj, void *arg)
{
    struct cluster_counts *n = arg;
    const char *st = json_string_value(json_object_get(obj, "lastStatus"));

    if (st == NULL || strcmp(st, "STOPPED") == 0 || strcmp(st, "DELETED") == 0)
        return 0;
    n->live_tasks++;
    if (strcmp(st, "RUNNING") == 0)
        n->running++;
    else if (strcmp(st, "PROVISIONING") == 0 || strcmp(st, "PENDING") == 0 ||
             strcmp(st, "ACTIVATING") == 0)
        n->pending++;
    return 0;
}

static void counts(struct store_txn *txn, const char *name, struct cluster_counts *n)
{
    char prefix[ECS_NAME_MAX + 2];

    memset(n, 0, sizeof(*n));
    n->instances = 1;
    snprintf(prefix, sizeof(prefix), "%s/", name);
    store_scan(txn, K_ECS_SERVICE, prefix, count_service, n);
    store_scan(txn, K_ECS_TASK, prefix, count_task, n);
}

static json_t *with_counts(json_t *out, const struct cluster_counts *n)
{
    /* The host is the container instance of every ACTIVE cluster. */
    json_object_set_new(out, "registeredContainerInstancesCount", json_integer(n->instances));
    json_object_set_new(out, "runningTasksCount", json_integer(n->running));
    json_object_set_new(out, "pendingTasksCount", json_integer(n->pending));
    json_object_set_new(out, "activeServicesCount", json_integer(n->active_services));
    return out;
}

static json_t *cluster_view(struct store_txn *txn, json_t *c, int with_tags)
{
    json_t *out = ecs_public(c, with_tags);
    struct cluster_counts n;
    const char *name = json_string_value(json_object_get(c, "clusterName"));

    counts(txn, name ? name : "", &n);
    with_counts(out, &n);
    json_object_set_new(out, "statistics", json_array());
    json_object_set_new(out, "attachments", json_array());
    return out;
}

/* ---- CreateCluster, UpdateCluster ---- */

int ecs_cluster_settings_check(json_t *settings, struct sl_err *err)
{
    static const char *const values[] = {"enabled", "disabled", "enhanced", NULL};
    const char *name, *value;
    json_t *s;
    size_t i;

    if (!json_is_array(settings))
        return ecs_mistyped("settings", "a list of {name,value}", err);
    json_array_foreach(settings, i, s) {
        if (!json_is_object(s))
            return ecs_mistyped("settings", "a list of {name,value}", err);
        if (ecs_str(s, "name", P_REQUIRED, &name, err) != SL_OK ||
            ecs_enum(s, "value", P_REQUIRED, values, &value, err) != SL_OK)
            return SL_ERR;
        if (strcmp(name, "containerInsights") != 0)
            return ecs_invalid(err, "Cluster setting '%.64s' is not valid: the only setting is "
                                    "containerInsights.",
                               name);
        if (strcmp(value, "disabled") != 0)
            return ecs_invalid(err, "containerInsights '%s' is not supported by sluice: it has "
                                    "no CloudWatch to send Container Insights metrics to (use "
                                    "'disabled').",
                               value);
    }
    return SL_OK;
}

int ecs_cluster_spec_check(const struct ecs_cluster_spec *s, struct sl_err *err)
{
    const char *ns;
    json_t *it;
    size_t i, j;

    json_array_foreach(s->strategy, i, it) {
        const char *p = json_string_value(json_object_get(it, "capacityProvider"));
        for (j = 0; j < json_array_size(s->providers); j++)
            if (strcmp(json_string_value(json_array_get(s->providers, j)), p) == 0)
                break;
        if (s->providers == NULL || j == json_array_size(s->providers))
            return ecs_invalid(err, "The specified capacity provider strategy cannot contain a "
                                    "capacity provider that is not associated with the "
                                    "cluster. Associate the capacity provider with the cluster "
                                    "or specify a valid capacity provider and try again.");
    }
    if (s->sc_defaults &&
        (ecs_str(s->sc_defaults, "namespace", P_REQUIRED, &ns, err) != SL_OK))
        return SL_ERR;
    return ecs_tags_check(s->tags, s->ntags, err);
}

/* Apply the given members of <s> onto <c>. */
static void spec_apply(json_t *c, const struct ecs_cluster_spec *s)
{
    if (s->settings)
        json_object_set_new(c, "settings", json_deep_copy(s->settings));
    if (s->providers)
        json_object_set_new(c, "capacityProviders", json_deep_copy(s->providers));
    if (s->strategy)
        json_object_set_new(c, "defaultCapacityProviderStrategy", json_deep_copy(s->strategy));
    if (s->sc_defaults)
        json_object_set_new(c, "serviceConnectDefaults",
                            json_pack("{sO}", "namespace",
                                      json_object_get(s->sc_defaults, "namespace")));
}

int ecs_cluster_create(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_cluster_spec *s, json_t **out, struct sl_err *err)
{
    json_t *obj = store_get(txn, K_ECS_CLUSTER, s->name);

    if (obj == NULL) { /* CreateCluster is idempotent on ECS */
        obj = cluster_new(env, s->name);
        json_object_set_new(obj, "tags", ecs_tags_json(s->tags, s->ntags));
        spec_apply(obj, s);
        if (store_put(txn, K_ECS_CLUSTER, s->name, obj) != SL_OK) {
            json_decref(obj);
            return sl_err_set(err, 500, "ServerException", "storage failure");
        }
    }
    *out = cluster_view(txn, obj, 1);
    json_decref(obj);
    return SL_OK;
}

struct in_use {
    json_t *keep; /* the providers after the update */
    const char *missing;
};

/* A service of the cluster whose strategy names a provider not in
 * u->keep. */
static int provider_used(const char *id, json_t *svc, void *arg)
{
    struct in_use *u = arg;
    json_t *it, *p;
    size_t i, j;

    if (strcmp(json_string_value(json_object_get(svc, "status")), "INACTIVE") == 0)
        return 0;
    json_array_foreach(json_object_get(svc, "capacityProviderStrategy"), i, it) {
        const char *name = json_string_value(json_object_get(it, "capacityProvider"));
        json_array_foreach(u->keep, j, p)
            if (name && strcmp(json_string_value(p), name) == 0)
                break;
        if (name && j == json_array_size(u->keep)) {
            u->missing = name;
            return 1;
        }
    }
    return 0;
}

int ecs_cluster_update(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_cluster_spec *s, json_t **out, struct sl_err *err)
{
    char prefix[ECS_NAME_MAX + 2];
    json_t *c = ecs_cluster_ensure(txn, env, s->name, err);
    struct in_use u = {NULL, NULL};
    int rc = SL_ERR;

    if (c == NULL)
        return SL_ERR;
    if (s->providers) {
        u.keep = s->providers;
        snprintf(prefix, sizeof(prefix), "%s/", s->name);
        store_scan(txn, K_ECS_SERVICE, prefix, provider_used, &u);
        if (u.missing) {
            sl_err_set(err, 400, "ResourceInUseException",
                       "The specified capacity provider %s is in use and cannot be removed.",
                       u.missing);
            goto out;
        }
    }
    spec_apply(c, s);
    if (store_put(txn, K_ECS_CLUSTER, s->name, c) != SL_OK) {
        rc = sl_err_set(err, 500, "ServerException", "storage failure");
        goto out;
    }
    *out = cluster_view(txn, c, 1);
    rc = SL_OK;
out:
    json_decref(c);
    return rc;
}

/* ---- DescribeClusters, ListClusters ---- */

int ecs_clusters_describe(struct store_txn *txn, const struct ecs_env *env,
                          const char *const *refs, size_t n, int with_tags, json_t **out)
{
    static const char *const deflt[] = {"default"};
    char arn[ECS_ARN_MAX], res[ECS_ARN_MAX];
    json_t *clusters = json_array(), *failures = json_array(), *c;
    size_t i;

    if (n == 0) {
        refs = deflt;
        n = 1;
    }
    for (i = 0; i < n; i++) {
        const char *ref = refs[i], *r = ecs_arn_resource(ref), *name = ref;
        if (r)
            name = strncmp(r, "cluster/", 8) == 0 ? r + 8 : NULL;
        c = name && ecs_valid_name(name) ? ecs_cluster_get(txn, env, name) : NULL;
        if (c == NULL) {
            if (r == NULL) {
                snprintf(res, sizeof(res), "cluster/%.255s", ref);
                ecs_arn(arn, sizeof(arn), env, res);
            } else {
                snprintf(arn, sizeof(arn), "%s", ref);
            }
            json_array_append_new(failures,
                                  json_pack("{ss ss}", "arn", arn, "reason", "MISSING"));
            continue;
        }
        json_array_append_new(clusters, cluster_view(txn, c, with_tags));
        json_decref(c);
    }
    *out = json_pack("{so so}", "clusters", clusters, "failures", failures);
    return SL_OK;
}

static int collect_cluster_arn(const char *id, json_t *obj, void *arg)
{
    json_array_append(arg, json_object_get(obj, "clusterArn"));
    return 0;
}

int ecs_clusters_list(struct store_txn *txn, const struct ecs_env *env, json_t **out)
{
    json_t *all = json_array();

    (void)env;
    store_scan(txn, K_ECS_CLUSTER, NULL, collect_cluster_arn, all);
    *out = all;
    return SL_OK;
}

/* ---- DeleteCluster ---- */

static int collect_id(const char *id, json_t *obj, void *arg)
{
    json_array_append_new(arg, json_string(id));
    return 0;
}

/* Delete every record of <kind> under "<cluster>/". */
static void delete_under(struct store_txn *txn, const char *kind, const char *cluster)
{
    char prefix[ECS_NAME_MAX + 2];
    json_t *ids = json_array(), *v;
    size_t i;

    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    store_scan(txn, kind, prefix, collect_id, ids);
    json_array_foreach(ids, i, v)
        store_del(txn, kind, json_string_value(v));
    json_decref(ids);
}

int ecs_cluster_delete(struct store_txn *txn, const struct ecs_env *env, const char *name,
                       json_t **out, struct sl_err *err)
{
    static const struct cluster_counts none;
    struct cluster_counts n;
    json_t *c = ecs_cluster_get(txn, env, name);

    if (c == NULL)
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    counts(txn, name, &n);
    if (n.live_services > 0 || n.live_tasks > 0) {
        json_decref(c);
        return n.live_services > 0
                   ? sl_err_set(err, 400, "ClusterContainsServicesException",
                                "The Cluster cannot be deleted while Services are active.")
                   : sl_err_set(err, 400, "ClusterContainsTasksException",
                                "The Cluster cannot be deleted while Tasks are active.");
    }
    /* What is left are INACTIVE services and STOPPED tasks: they go with
     * the cluster, so a cluster created later under the name starts empty. */
    delete_under(txn, K_ECS_SERVICE, name);
    delete_under(txn, K_ECS_TASK, name);
    ecs_deployments_remove_cluster(txn, name);
    store_del(txn, K_ECS_CLUSTER, name);
    json_object_set_new(c, "status", json_string("INACTIVE"));
    *out = with_counts(ecs_public(c, 1), &none);
    json_decref(c);
    return SL_OK;
}
