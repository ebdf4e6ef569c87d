/*
 * ecs_cluster_config_actions.c - the ECS actions that make or change a
 * cluster's configuration: CreateCluster, UpdateCluster,
 * UpdateClusterSettings, PutClusterCapacityProviders; and
 * DescribeCapacityProviders.
 */
#include <stdlib.h>
#include <string.h>

#include "routes/api/ecs_actions.h"
#include "routes/ecs/capacity.h"
#include "routes/ecs/cluster.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/tags.h"

struct cluster_call {
    const struct api_ctx *ctx;
    char name[ECS_NAME_MAX + 1];
    struct ecs_cluster_spec s;
    struct ecs_tag *tags;
    json_t *strategy;          /* normalized, owned */
    const char **names;
    size_t nnames;
    json_t *out;
};

static void call_free(struct cluster_call *c)
{
    free(c->tags);
    free(c->names);
    json_decref(c->strategy);
}

/* The members of a cluster's configuration that <req> gives. */
static int spec_decode(json_t *req, struct cluster_call *c, struct sl_err *err)
{
    json_t *list;

    c->s.name = c->name;
    if (ecs_list(req, "settings", P_OPTIONAL, &c->s.settings, err) == SL_ERR ||
        (c->s.settings && ecs_cluster_settings_check(c->s.settings, err) != SL_OK) ||
        ecs_list(req, "capacityProviders", P_OPTIONAL, &c->s.providers, err) == SL_ERR ||
        (c->s.providers && ecs_capacity_providers_check(c->s.providers, err) != SL_OK) ||
        ecs_list(req, "defaultCapacityProviderStrategy", P_OPTIONAL, &list, err) == SL_ERR ||
        (list && ecs_capacity_strategy_check(list, NULL, &c->strategy, err) != SL_OK) ||
        ecs_obj(req, "serviceConnectDefaults", P_OPTIONAL, &c->s.sc_defaults, err) == SL_ERR)
        return SL_ERR;
    c->s.strategy = c->strategy;
    return SL_OK;
}

static int create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct cluster_call *c = arg;

    return ecs_cluster_create(txn, &c->ctx->ecs, &c->s, &c->out, err);
}

json_t *api_ecs_create_cluster(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct cluster_call c;
    const char *name;
    json_t *list;
    int rc = SL_ERR;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    strcpy(c.name, "default");
    if (ecs_str(req, "clusterName", P_OPTIONAL, &name, err) == SL_ERR)
        return NULL;
    if (name && !ecs_valid_name(name)) {
        ecs_invalid(err, "Cluster name '%.255s' is invalid: up to 255 letters (uppercase and "
                         "lowercase), numbers, hyphens, and underscores are allowed.",
                    name);
        return NULL;
    }
    if (name)
        strcpy(c.name, name);
    if (spec_decode(req, &c, err) == SL_OK &&
        ecs_list(req, "tags", P_OPTIONAL, &list, err) != SL_ERR &&
        ecs_tags_decode(list, &c.tags, &c.s.ntags, err) == SL_OK) {
        c.s.tags = c.tags;
        if (ecs_cluster_spec_check(&c.s, err) == SL_OK)
            rc = api_write(ctx, create_tx, &c, err);
    }
    call_free(&c);
    return rc == SL_OK ? json_pack("{so}", "cluster", c.out) : NULL;
}

static int update_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct cluster_call *c = arg;
    json_t *cur = ecs_cluster_ensure(txn, &c->ctx->ecs, c->name, err), *providers;
    int rc;

    if (cur == NULL)
        return SL_ERR;
    /* The strategy against the providers the cluster has after the call. */
    providers = c->s.providers ? c->s.providers : json_object_get(cur, "capacityProviders");
    c->s.providers = providers;
    if (c->s.strategy == NULL)
        c->s.strategy = json_object_get(cur, "defaultCapacityProviderStrategy");
    rc = ecs_cluster_spec_check(&c->s, err);
    if (rc == SL_OK)
        rc = ecs_cluster_update(txn, &c->ctx->ecs, &c->s, &c->out, err);
    json_decref(cur);
    return rc;
}

/* UpdateCluster, UpdateClusterSettings, PutClusterCapacityProviders: the
 * cluster named by "cluster", then the members each gives. */
static json_t *update(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct cluster_call c;
    const char *ref;
    int rc = SL_ERR;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (ecs_str(req, "cluster", P_REQUIRED, &ref, err) == SL_OK &&
        ecs_cluster_name(ref, c.name, err) == SL_OK && spec_decode(req, &c, err) == SL_OK)
        rc = api_write(ctx, update_tx, &c, err);
    call_free(&c);
    return rc == SL_OK ? json_pack("{so}", "cluster", c.out) : NULL;
}

json_t *api_ecs_update_cluster(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return update(ctx, req, err);
}

json_t *api_ecs_update_cluster_settings(const struct api_ctx *ctx, json_t *req,
                                        struct sl_err *err)
{
    json_t *s;

    if (ecs_list(req, "settings", P_REQUIRED, &s, err) != SL_OK)
        return NULL;
    return update(ctx, req, err);
}

json_t *api_ecs_put_cluster_capacity_providers(const struct api_ctx *ctx, json_t *req,
                                               struct sl_err *err)
{
    json_t *v;

    if (ecs_list(req, "capacityProviders", P_REQUIRED, &v, err) != SL_OK ||
        ecs_list(req, "defaultCapacityProviderStrategy", P_REQUIRED, &v, err) != SL_OK)
        return NULL;
    return update(ctx, req, err);
}

json_t *api_ecs_describe_capacity_providers(const struct api_ctx *ctx, json_t *req,
                                            struct sl_err *err)
{
    json_t *list, *v, *out = NULL, *inc;
    const char **names = NULL;
    size_t i, n = 0;

    if (ecs_strlist(req, "capacityProviders", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_strlist(req, "include", P_OPTIONAL, &inc, err) == SL_ERR)
        return NULL;
    if (json_array_size(list) > 100) {
        ecs_invalid(err, "capacityProviders can have at most 100 items.");
        return NULL;
    }
    if (list && (names = calloc(json_array_size(list) + 1, sizeof(*names))) == NULL) {
        sl_err_set(err, 500, "ServerException", "out of memory");
        return NULL;
    }
    json_array_foreach(list, i, v)
        names[n++] = json_string_value(v);
    ecs_capacity_describe(&ctx->ecs, names, n, &out);
    free(names);
    return out;
}
