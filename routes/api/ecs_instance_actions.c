/*
 * ecs_instance_actions.c - the ECS actions on the container instance and the
 * account: ListContainerInstances, DescribeContainerInstances,
 * UpdateContainerInstancesState, Put/List/DeleteAttributes,
 * Put/List/DeleteAccountSetting, PutAccountSettingDefault.
 */
#include <stdlib.h>
#include <string.h>

#include "routes/api/ecs_actions.h"
#include "routes/ecs/account.h"
#include "routes/ecs/instances.h"
#include "routes/ecs/param.h"

static const char *const instance_states[] = {"ACTIVE", "DRAINING", "REGISTERING",
                                              "DEREGISTERING", "REGISTRATION_FAILED", NULL};
static const char *const settable_states[] = {"ACTIVE", "DRAINING", NULL};

struct inst_call {
    const struct api_ctx *ctx;
    char cluster[ECS_NAME_MAX + 1];
    const char *status, *name, *value, *principal;
    const char **refs;
    size_t nrefs;
    struct ecs_attr *attrs;
    size_t nattrs;
    int flag;
    json_t *out;
};

static int refs_member(json_t *req, const char *key, struct inst_call *c, struct sl_err *err)
{
    json_t *list, *v;
    size_t i;

    if (ecs_strlist(req, key, P_REQUIRED, &list, err) != SL_OK)
        return SL_ERR;
    if (json_array_size(list) < 1 || json_array_size(list) > 100)
        return ecs_invalid(err, "%s must have between 1 and 100 items.", key);
    if ((c->refs = calloc(json_array_size(list), sizeof(*c->refs))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, v)
        c->refs[i] = json_string_value(v);
    c->nrefs = json_array_size(list);
    return SL_OK;
}

/* ---- container instances ---- */

static int list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_instances_list(txn, &c->ctx->ecs, c->cluster, c->status, &c->out, err);
}

json_t *api_ecs_list_container_instances(const struct api_ctx *ctx, json_t *req,
                                         struct sl_err *err)
{
    struct inst_call c;
    const char *filter;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (api_ecs_cluster_member(req, c.cluster, err) != SL_OK ||
        ecs_enum(req, "status", P_OPTIONAL, instance_states, &c.status, err) == SL_ERR ||
        ecs_str(req, "filter", P_OPTIONAL, &filter, err) == SL_ERR)
        return NULL;
    if (filter && filter[0]) {
        ecs_invalid(err, "filter is not supported by sluice: the cluster query language is not "
                         "implemented (each cluster has one container instance, this host).");
        return NULL;
    }
    if (api_read(ctx, list_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, c.out, "containerInstanceArns", err);
}

static int describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_instances_describe(txn, &c->ctx->ecs, c->cluster, c->refs, c->nrefs, c->flag,
                                  &c->out, err);
}

json_t *api_ecs_describe_container_instances(const struct api_ctx *ctx, json_t *req,
                                             struct sl_err *err)
{
    struct inst_call c;
    json_t *inc;
    int rc = SL_ERR;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.flag = ecs_includes(req, "TAGS");
    if (api_ecs_cluster_member(req, c.cluster, err) == SL_OK &&
        refs_member(req, "containerInstances", &c, err) == SL_OK &&
        ecs_strlist(req, "include", P_OPTIONAL, &inc, err) != SL_ERR)
        rc = api_read(ctx, describe_tx, &c, err);
    free(c.refs);
    return rc == SL_OK ? c.out : NULL;
}

static int state_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_instances_set_state(txn, &c->ctx->ecs, c->cluster, c->refs, c->nrefs, c->status,
                                   &c->out, err);
}

json_t *api_ecs_update_container_instances_state(const struct api_ctx *ctx, json_t *req,
                                                 struct sl_err *err)
{
    struct inst_call c;
    int rc = SL_ERR;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (api_ecs_cluster_member(req, c.cluster, err) == SL_OK &&
        refs_member(req, "containerInstances", &c, err) == SL_OK &&
        ecs_enum(req, "status", P_REQUIRED, instance_states, &c.status, err) == SL_OK) {
        if (ecs_enum(req, "status", P_REQUIRED, settable_states, &c.status, err) == SL_OK)
            rc = api_write(ctx, state_tx, &c, err);
        else
            ecs_invalid(err, "Container instances status can only be set to ACTIVE or "
                             "DRAINING.");
    }
    free(c.refs);
    return rc == SL_OK ? c.out : NULL;
}

/* ---- attributes ---- */

static int attrs_decode(json_t *req, int put, struct inst_call *c, struct sl_err *err)
{
    json_t *list, *a;
    const char *type;
    size_t i;

    if (api_ecs_cluster_member(req, c->cluster, err) != SL_OK ||
        ecs_list(req, "attributes", P_REQUIRED, &list, err) != SL_OK)
        return SL_ERR;
    if ((c->attrs = calloc(json_array_size(list) + 1, sizeof(*c->attrs))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, a) {
        if (!json_is_object(a))
            return ecs_mistyped("attributes", "a list of objects", err);
        if (ecs_str(a, "name", P_REQUIRED, &c->attrs[i].name, err) != SL_OK ||
            ecs_str(a, "value", P_OPTIONAL, &c->attrs[i].value, err) == SL_ERR ||
            ecs_str(a, "targetId", P_OPTIONAL, &c->attrs[i].target_id, err) == SL_ERR ||
            ecs_str(a, "targetType", P_OPTIONAL, &type, err) == SL_ERR)
            return SL_ERR;
        if (type && strcmp(type, "container-instance") != 0)
            return ecs_invalid(err, "targetType must be container-instance");
    }
    c->nattrs = json_array_size(list);
    return ecs_attrs_check(c->attrs, c->nattrs, put, err);
}

static int attrs_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_attrs_put(txn, &c->ctx->ecs, c->cluster, c->attrs, c->nattrs, c->flag, &c->out,
                         err);
}

static json_t *attrs_write(const struct api_ctx *ctx, json_t *req, int del, struct sl_err *err)
{
    struct inst_call c;
    int rc = SL_ERR;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.flag = del;
    if (attrs_decode(req, !del, &c, err) == SL_OK)
        rc = api_write(ctx, attrs_tx, &c, err);
    free(c.attrs);
    return rc == SL_OK ? json_pack("{so}", "attributes", c.out) : NULL;
}

json_t *api_ecs_put_attributes(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return attrs_write(ctx, req, 0, err);
}

json_t *api_ecs_delete_attributes(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return attrs_write(ctx, req, 1, err);
}

static int attrs_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_attrs_list(txn, &c->ctx->ecs, c->cluster, c->name, c->value, &c->out, err);
}

json_t *api_ecs_list_attributes(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const types[] = {"container-instance", NULL};
    struct inst_call c;
    const char *type;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (api_ecs_cluster_member(req, c.cluster, err) != SL_OK ||
        ecs_enum(req, "targetType", P_REQUIRED, types, &type, err) != SL_OK ||
        ecs_str(req, "attributeName", P_OPTIONAL, &c.name, err) == SL_ERR ||
        ecs_str(req, "attributeValue", P_OPTIONAL, &c.value, err) == SL_ERR)
        return NULL;
    if (c.value && c.name == NULL) {
        ecs_invalid(err, "attributeValue requires attributeName.");
        return NULL;
    }
    if (api_read(ctx, attrs_list_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, c.out, "attributes", err);
}

/* ---- account settings ---- */

static int setting_put_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_setting_put(txn, &c->ctx->ecs, c->name, c->value, c->principal, &c->out, err);
}

static json_t *setting_put(const struct api_ctx *ctx, json_t *req, int is_default,
                           struct sl_err *err)
{
    struct inst_call c;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (ecs_str(req, "name", P_REQUIRED, &c.name, err) != SL_OK ||
        ecs_str(req, "value", P_REQUIRED, &c.value, err) != SL_OK ||
        (!is_default &&
         ecs_str(req, "principalArn", P_OPTIONAL, &c.principal, err) == SL_ERR) ||
        ecs_setting_check(c.name, c.value, err) != SL_OK ||
        api_write(ctx, setting_put_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "setting", c.out);
}

json_t *api_ecs_put_account_setting(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return setting_put(ctx, req, 0, err);
}

json_t *api_ecs_put_account_setting_default(const struct api_ctx *ctx, json_t *req,
                                            struct sl_err *err)
{
    return setting_put(ctx, req, 1, err);
}

static int setting_del_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_setting_delete(txn, &c->ctx->ecs, c->name, c->principal, &c->out, err);
}

json_t *api_ecs_delete_account_setting(const struct api_ctx *ctx, json_t *req,
                                       struct sl_err *err)
{
    struct inst_call c;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (ecs_str(req, "name", P_REQUIRED, &c.name, err) != SL_OK ||
        ecs_str(req, "principalArn", P_OPTIONAL, &c.principal, err) == SL_ERR ||
        ecs_setting_check(c.name, NULL, err) != SL_OK ||
        api_write(ctx, setting_del_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "setting", c.out);
}

static int settings_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct inst_call *c = arg;

    return ecs_settings_list(txn, &c->ctx->ecs, c->name, c->value, c->principal, c->flag,
                             &c->out, err);
}

json_t *api_ecs_list_account_settings(const struct api_ctx *ctx, json_t *req,
                                      struct sl_err *err)
{
    struct inst_call c;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (ecs_str(req, "name", P_OPTIONAL, &c.name, err) == SL_ERR ||
        ecs_str(req, "value", P_OPTIONAL, &c.value, err) == SL_ERR ||
        ecs_str(req, "principalArn", P_OPTIONAL, &c.principal, err) == SL_ERR ||
        ecs_bool(req, "effectiveSettings", &c.flag, err) == SL_ERR ||
        (c.name && ecs_setting_check(c.name, NULL, err) != SL_OK))
        return NULL;
    if (c.value && c.name == NULL) {
        ecs_invalid(err, "value requires name.");
        return NULL;
    }
    if (api_read(ctx, settings_list_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, c.out, "settings", err);
}
