/*
 * ecs_tags.c - TagResource, UntagResource, ListTagsForResource over
 * clusters, services, tasks and task definitions, addressed by ARN.
 */
#include "routes/ecs/ecs.h"

#include <stdio.h>
#include <string.h>

struct ecs_res {
    const char *kind;
    char id[ECS_ID_MAX + 1];
    char cluster[ECS_NAME_MAX + 1]; /* "" for task definitions */
};

/* Split an ECS ARN into (kind, id).  SL_ERR with InvalidParameterException
 * when it is not an ARN of a taggable ECS resource. */
static int parse_res_arn(const char *arn, struct ecs_res *r, struct sl_err *err)
{
    const char *res = ecs_arn_resource(arn), *a, *b;
    char family[ECS_NAME_MAX + 1];
    long rev;

    memset(r, 0, sizeof(*r));
    if (res == NULL || strncmp(arn, "arn:aws:ecs:", 12) != 0)
        goto bad;
    if (strncmp(res, "cluster/", 8) == 0) {
        if (!ecs_valid_name(res + 8))
            goto bad;
        r->kind = K_ECS_CLUSTER;
        snprintf(r->cluster, sizeof(r->cluster), "%s", res + 8);
        snprintf(r->id, sizeof(r->id), "%s", res + 8);
        return SL_OK;
    }
    if (strncmp(res, "task-definition/", 16) == 0) {
        if (ecs_taskdef_ref(arn, family, &rev) != SL_OK)
            goto bad;
        r->kind = K_ECS_TASKDEF;
        ecs_taskdef_id(r->id, sizeof(r->id), family, rev);
        return SL_OK;
    }
    if (strncmp(res, "service/", 8) == 0) {
        r->kind = K_ECS_SERVICE;
        a = res + 8;
    } else if (strncmp(res, "task/", 5) == 0) {
        r->kind = K_ECS_TASK;
        a = res + 5;
    } else {
        goto bad;
    }
    /* <cluster>/<name>, or the short form <name> in the default cluster */
    if ((b = strchr(a, '/')) != NULL) {
        if ((size_t)(b - a) > ECS_NAME_MAX)
            goto bad;
        snprintf(r->cluster, sizeof(r->cluster), "%.*s", (int)(b - a), a);
        a = b + 1;
    } else {
        strcpy(r->cluster, "default");
    }
    if (!ecs_valid_name(r->cluster) || !ecs_valid_name(a) ||
        strlen(r->cluster) + strlen(a) + 1 > STORE_ID_MAX)
        goto bad;
    if ((size_t)ecs_join(r->id, sizeof(r->id), r->cluster, a) >= sizeof(r->id))
        goto bad;
    return SL_OK;
bad:
    return ecs_invalid(err, "The ARN '%.300s' is not a valid ECS resource ARN.",
                       arn ? arn : "");
}

/* The object named by <r>; <ensure> stores a missing default cluster
 * (writers).  NULL with ClusterNotFoundException or <missing_code>. */
static json_t *load_res(struct store_txn *txn, const struct op_ctx *ctx, const struct ecs_res *r,
                        int ensure, const char *missing_code, struct sl_err *err)
{
    json_t *obj, *c;

    if (r->cluster[0]) {
        c = ensure ? ecs_cluster_ensure(txn, ctx, r->cluster, err)
                   : ecs_cluster_get(txn, ctx, r->cluster);
        if (c == NULL) {
            sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
            return NULL;
        }
        if (strcmp(r->kind, K_ECS_CLUSTER) == 0)
            return c;
        json_decref(c);
    }
    if ((obj = store_get(txn, r->kind, r->id)) == NULL)
        sl_err_set(err, 400, missing_code, "The specified resource wasn't found.");
    return obj;
}

struct tag_op {
    const struct op_ctx *ctx;
    struct ecs_res res;
    json_t *add;  /* TagResource: validated tags, borrowed */
    json_t *keys; /* UntagResource: tag keys, borrowed */
};

static int tag_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tag_op *t = arg;
    json_t *obj, *tags, *out, *tag, *k;
    size_t i, j;
    int drop;

    if ((obj = load_res(txn, t->ctx, &t->res, 1, "ResourceNotFoundException", err)) == NULL)
        return SL_ERR;
    tags = json_object_get(obj, "tags");
    if (t->add) {
        if ((out = ecs_tags_merge(json_is_array(tags) ? tags : NULL, t->add, err)) == NULL) {
            json_decref(obj);
            return SL_ERR;
        }
    } else {
        out = json_array();
        json_array_foreach(tags, i, tag) {
            drop = 0;
            json_array_foreach(t->keys, j, k)
                if (json_equal(json_object_get(tag, "key"), k))
                    drop = 1;
            if (!drop)
                json_array_append(out, tag);
        }
    }
    json_object_set_new(obj, "tags", out);
    if (store_put(txn, t->res.kind, t->res.id, obj) != SL_OK) {
        json_decref(obj);
        return SL_EIO;
    }
    json_decref(obj);
    return SL_OK;
}

json_t *ecs_op_tag_resource(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tag_op t = {0};
    const char *arn;
    json_t *list;
    int rc;

    t.ctx = ctx;
    if (ecs_str(req, "resourceArn", P_REQUIRED, &arn, err) != SL_OK ||
        ecs_list(req, "tags", P_REQUIRED, &list, err) != SL_OK)
        return NULL;
    if (parse_res_arn(arn, &t.res, err) != SL_OK)
        return NULL;
    if ((t.add = ecs_tags_param(list, err)) == NULL)
        return NULL;
    rc = store_write(ctx->store, tag_tx, &t, NULL, err);
    json_decref(t.add);
    return rc == SL_OK ? json_object() : NULL;
}

json_t *ecs_op_untag_resource(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tag_op t = {0};
    const char *arn;

    t.ctx = ctx;
    if (ecs_str(req, "resourceArn", P_REQUIRED, &arn, err) != SL_OK ||
        ecs_strlist(req, "tagKeys", P_REQUIRED, &t.keys, err) != SL_OK)
        return NULL;
    if (parse_res_arn(arn, &t.res, err) != SL_OK)
        return NULL;
    return store_write(ctx->store, tag_tx, &t, NULL, err) == SL_OK ? json_object() : NULL;
}

json_t *ecs_op_list_tags_for_resource(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    struct ecs_res r;
    const char *arn;
    json_t *obj, *tags, *out;

    if (ecs_str(req, "resourceArn", P_REQUIRED, &arn, err) != SL_OK)
        return NULL;
    if (parse_res_arn(arn, &r, err) != SL_OK)
        return NULL;
    if (store_read_begin(ctx->store, &txn, err) != SL_OK)
        return NULL;
    obj = load_res(txn, ctx, &r, 0, "InvalidParameterException", err);
    store_txn_end(txn);
    if (obj == NULL)
        return NULL;
    tags = json_object_get(obj, "tags");
    out = json_pack("{so}", "tags", json_is_array(tags) ? json_incref(tags) : json_array());
    json_decref(obj);
    return out;
}
