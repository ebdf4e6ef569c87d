/*
 * resource_tags.c - tags of ECS resources addressed by ARN.
 */
#include "routes/ecs/resource_tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ecs/cluster.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/tags.h"
#include "routes/ecs/taskdef.h"

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
static json_t *load_res(struct store_txn *txn, const struct ecs_env *env, const struct ecs_res *r,
                        int ensure, const char *missing_code, struct sl_err *err)
{
    json_t *obj, *c;

    if (r->cluster[0]) {
        c = ensure ? ecs_cluster_ensure(txn, env, r->cluster, err)
                   : ecs_cluster_get(txn, env, r->cluster);
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

static int store_back(struct store_txn *txn, const struct ecs_res *r, json_t *obj,
                      json_t *tags, struct sl_err *err)
{
    int rc = SL_OK;

    json_object_set_new(obj, "tags", tags);
    if (store_put(txn, r->kind, r->id, obj) != SL_OK)
        rc = sl_err_set(err, 500, "ServerException", "storage failure");
    json_decref(obj);
    return rc;
}

int ecs_resource_tag(struct store_txn *txn, const struct ecs_env *env, const char *arn,
                     const struct ecs_tag *tags, size_t n, struct sl_err *err)
{
    struct ecs_res r;
    json_t *obj, *cur, *merged;

    if (parse_res_arn(arn, &r, err) != SL_OK ||
        (obj = load_res(txn, env, &r, 1, "ResourceNotFoundException", err)) == NULL)
        return SL_ERR;
    cur = json_object_get(obj, "tags");
    if ((merged = ecs_tags_merge(json_is_array(cur) ? cur : NULL, tags, n, err)) == NULL) {
        json_decref(obj);
        return SL_ERR;
    }
    return store_back(txn, &r, obj, merged, err);
}

int ecs_resource_untag(struct store_txn *txn, const struct ecs_env *env, const char *arn,
                       const char *const *keys, size_t n, struct sl_err *err)
{
    struct ecs_res r;
    json_t *obj, *keep, *tag;
    size_t i, j;

    if (parse_res_arn(arn, &r, err) != SL_OK ||
        (obj = load_res(txn, env, &r, 1, "ResourceNotFoundException", err)) == NULL)
        return SL_ERR;
    keep = json_array();
    json_array_foreach(json_object_get(obj, "tags"), i, tag) {
        const char *k = json_string_value(json_object_get(tag, "key"));
        int drop = 0;
        for (j = 0; j < n && k; j++)
            if (strcmp(keys[j], k) == 0)
                drop = 1;
        if (!drop)
            json_array_append(keep, tag);
    }
    return store_back(txn, &r, obj, keep, err);
}

int ecs_resource_tags(struct store_txn *txn, const struct ecs_env *env, const char *arn,
                      json_t **out, struct sl_err *err)
{
    struct ecs_res r;
    json_t *obj, *tags;

    if (parse_res_arn(arn, &r, err) != SL_OK ||
        (obj = load_res(txn, env, &r, 0, "InvalidParameterException", err)) == NULL)
        return SL_ERR;
    tags = json_object_get(obj, "tags");
    *out = json_is_array(tags) ? json_incref(tags) : json_array();
    json_decref(obj);
    return SL_OK;
}
