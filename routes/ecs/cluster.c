/*
 * ecs_cluster.c - CreateCluster, DescribeClusters, ListClusters,
 * DeleteCluster.
 *
 * Counts (activeServicesCount, running/pendingTasksCount) are computed from
 * the cluster's service and task records at read time, so they never drift
 * from the records themselves.
 */
#include "routes/ecs/ecs.h"

#include <stdio.h>
#include <string.h>

struct cluster_counts {
    long active_services; /* ACTIVE */
    long live_services;   /* ACTIVE or DRAINING */
    long running, pending, live_tasks;
};

static int count_service(const char *id, json_t *obj, void *arg)
{
    struct cluster_counts *n = arg;
    const char *st = json_string_value(json_object_get(obj, "status"));

    (void)id;
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

    (void)id;
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
    snprintf(prefix, sizeof(prefix), "%s/", name);
    store_scan(txn, K_ECS_SERVICE, prefix, count_service, n);
    store_scan(txn, K_ECS_TASK, prefix, count_task, n);
}

static json_t *cluster_view(struct store_txn *txn, json_t *c, int with_tags)
{
    json_t *out = ecs_public(c, with_tags);
    struct cluster_counts n;
    const char *name = json_string_value(json_object_get(c, "clusterName"));

    counts(txn, name ? name : "", &n);
    json_object_set_new(out, "registeredContainerInstancesCount", json_integer(0));
    json_object_set_new(out, "runningTasksCount", json_integer(n.running));
    json_object_set_new(out, "pendingTasksCount", json_integer(n.pending));
    json_object_set_new(out, "activeServicesCount", json_integer(n.active_services));
    json_object_set_new(out, "statistics", json_array());
    return out;
}

/* ---- CreateCluster ---- */

struct create_cluster {
    const struct op_ctx *ctx;
    const char *name;
    json_t *tags;     /* borrowed */
    json_t *settings; /* borrowed, may be NULL */
    json_t *result;
};

static int create_cluster_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct create_cluster *c = arg;
    json_t *obj = store_get(txn, K_ECS_CLUSTER, c->name);

    (void)err;
    if (obj != NULL) { /* CreateCluster is idempotent on ECS */
        c->result = obj;
        return SL_OK;
    }
    obj = ecs_cluster_new(c->ctx, c->name);
    json_object_set(obj, "tags", c->tags);
    if (c->settings)
        json_object_set_new(obj, "settings", json_deep_copy(c->settings));
    if (store_put(txn, K_ECS_CLUSTER, c->name, obj) != SL_OK) {
        json_decref(obj);
        return SL_EIO;
    }
    c->result = obj;
    return SL_OK;
}

json_t *ecs_op_create_cluster(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct create_cluster c = {ctx, "default", NULL, NULL, NULL};
    struct store_txn *txn;
    const char *name;
    json_t *list, *out;
    size_t i;
    json_t *s;

    if (ecs_str(req, "clusterName", P_OPTIONAL, &name, err) == SL_ERR)
        return NULL;
    if (name) {
        if (!ecs_valid_name(name)) {
            ecs_invalid(err, "Cluster name '%.255s' is invalid: up to 255 letters (uppercase "
                             "and lowercase), numbers, hyphens, and underscores are allowed.",
                        name);
            return NULL;
        }
        c.name = name;
    }
    if (ecs_list(req, "settings", P_OPTIONAL, &c.settings, err) == SL_ERR)
        return NULL;
    json_array_foreach(c.settings, i, s) {
        if (!json_is_object(s) || !json_is_string(json_object_get(s, "name")) ||
            !json_is_string(json_object_get(s, "value"))) {
            sl_err_set(err, 400, "SerializationException",
                       "Unable to deserialize 'settings': expected a list of {name,value}");
            return NULL;
        }
    }
    if (ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        (c.tags = ecs_tags_param(list, err)) == NULL)
        return NULL;
    if (store_write(ctx->store, create_cluster_tx, &c, NULL, err) != SL_OK) {
        json_decref(c.tags);
        return NULL;
    }
    json_decref(c.tags);
    if (store_read_begin(ctx->store, &txn, err) != SL_OK) {
        json_decref(c.result);
        return NULL;
    }
    out = json_pack("{so}", "cluster", cluster_view(txn, c.result, 1));
    store_txn_end(txn);
    json_decref(c.result);
    return out;
}

/* ---- DescribeClusters ---- */

json_t *ecs_op_describe_clusters(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    json_t *list, *clusters, *failures, *v, *c, *one = NULL;
    char arn[ECS_ARN_MAX], res[ECS_ARN_MAX];
    int tags = ecs_includes(req, "TAGS");
    size_t i;

    if (ecs_strlist(req, "clusters", P_OPTIONAL, &list, err) == SL_ERR)
        return NULL;
    if (ecs_strlist(req, "include", P_OPTIONAL, &v, err) == SL_ERR)
        return NULL;
    if (list == NULL || json_array_size(list) == 0)
        list = one = json_pack("[s]", "default");
    if (json_array_size(list) > 100) {
        ecs_invalid(err, "clusters can have at most 100 items.");
        return NULL;
    }
    if (store_read_begin(ctx->store, &txn, err) != SL_OK) {
        json_decref(one);
        return NULL;
    }
    clusters = json_array();
    failures = json_array();
    json_array_foreach(list, i, v) {
        const char *ref = json_string_value(v), *r = ecs_arn_resource(ref), *name = ref;
        if (r)
            name = strncmp(r, "cluster/", 8) == 0 ? r + 8 : NULL;
        c = name && ecs_valid_name(name) ? ecs_cluster_get(txn, ctx, name) : NULL;
        if (c == NULL) {
            if (r == NULL) {
                snprintf(res, sizeof(res), "cluster/%.255s", ref);
                ecs_arn(arn, sizeof(arn), ctx, res);
            } else {
                snprintf(arn, sizeof(arn), "%s", ref);
            }
            json_array_append_new(failures, json_pack("{ss ss}", "arn", arn, "reason",
                                                      "MISSING"));
            continue;
        }
        json_array_append_new(clusters, cluster_view(txn, c, tags));
        json_decref(c);
    }
    store_txn_end(txn);
    json_decref(one);
    return json_pack("{so so}", "clusters", clusters, "failures", failures);
}

/* ---- ListClusters ---- */

static int collect_cluster_arn(const char *id, json_t *obj, void *arg)
{
    (void)id;
    json_array_append(arg, json_object_get(obj, "clusterArn"));
    return 0;
}

json_t *ecs_op_list_clusters(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    json_t *all, *page, *next, *out, *def;
    int have_default;

    if (store_read_begin(ctx->store, &txn, err) != SL_OK)
        return NULL;
    all = json_array();
    have_default = (def = store_get_shared(txn, K_ECS_CLUSTER, "default")) != NULL;
    json_decref(def);
    store_scan(txn, K_ECS_CLUSTER, NULL, collect_cluster_arn, all);
    store_txn_end(txn);
    if (!have_default) {
        char arn[ECS_ARN_MAX];
        ecs_arn(arn, sizeof(arn), ctx, "cluster/default");
        json_array_insert_new(all, 0, json_string(arn));
    }
    page = ecs_page(req, all, 100, &next, err);
    json_decref(all);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", "clusterArns", page);
    if (next)
        json_object_set_new(out, "nextToken", next);
    return out;
}

/* ---- DeleteCluster ---- */

struct delete_cluster {
    const struct op_ctx *ctx;
    char name[ECS_NAME_MAX + 1];
    json_t *result;
};

static int collect_id(const char *id, json_t *obj, void *arg)
{
    (void)obj;
    json_array_append_new(arg, json_string(id));
    return 0;
}

static int delete_cluster_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct delete_cluster *d = arg;
    struct cluster_counts n;
    char prefix[ECS_NAME_MAX + 2];
    json_t *c = ecs_cluster_get(txn, d->ctx, d->name), *ids, *v;
    size_t i;

    if (c == NULL)
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    counts(txn, d->name, &n);
    if (n.live_services > 0) {
        json_decref(c);
        return sl_err_set(err, 400, "ClusterContainsServicesException",
                          "The Cluster cannot be deleted while Services are active.");
    }
    if (n.live_tasks > 0) {
        json_decref(c);
        return sl_err_set(err, 400, "ClusterContainsTasksException",
                          "The Cluster cannot be deleted while Tasks are active.");
    }
    /* What is left are INACTIVE services and STOPPED tasks: they go with
     * the cluster, so a cluster created later under the name starts empty. */
    snprintf(prefix, sizeof(prefix), "%s/", d->name);
    ids = json_array();
    store_scan(txn, K_ECS_SERVICE, prefix, collect_id, ids);
    json_array_foreach(ids, i, v)
        store_del(txn, K_ECS_SERVICE, json_string_value(v));
    json_array_clear(ids);
    store_scan(txn, K_ECS_TASK, prefix, collect_id, ids);
    json_array_foreach(ids, i, v)
        store_del(txn, K_ECS_TASK, json_string_value(v));
    json_decref(ids);
    store_del(txn, K_ECS_CLUSTER, d->name); /* "default" may have no record */
    json_object_set_new(c, "status", json_string("INACTIVE"));
    d->result = c;
    return SL_OK;
}

json_t *ecs_op_delete_cluster(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct delete_cluster d = {ctx, {0}, NULL};
    const char *ref;
    json_t *out;

    if (ecs_str(req, "cluster", P_REQUIRED, &ref, err) != SL_OK)
        return NULL;
    if (ecs_cluster_param(req, d.name, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, delete_cluster_tx, &d, NULL, err) != SL_OK)
        return NULL;
    out = ecs_public(d.result, 1);
    json_object_set_new(out, "registeredContainerInstancesCount", json_integer(0));
    json_object_set_new(out, "runningTasksCount", json_integer(0));
    json_object_set_new(out, "pendingTasksCount", json_integer(0));
    json_object_set_new(out, "activeServicesCount", json_integer(0));
    json_decref(d.result);
    return json_pack("{so}", "cluster", out);
}
