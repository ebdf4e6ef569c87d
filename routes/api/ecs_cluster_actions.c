/*
 * ecs_cluster_actions.c - the ECS cluster, task-definition and tag actions:
 * DescribeClusters, ListClusters, DeleteCluster,
 * RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions,
 * ListTaskDefinitionFamilies, DeregisterTaskDefinition, TagResource,
 * UntagResource, ListTagsForResource; and paging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/ecs_actions.h"
#include "routes/ecs/cluster.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/resource_tags.h"
#include "routes/ecs/tags.h"
#include "routes/ecs/taskdef.h"

static const char *const td_status[] = {"ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS", NULL};
static const char *const fam_status[] = {"ACTIVE", "INACTIVE", "ALL", NULL};
static const char *const sort_order[] = {"ASC", "DESC", NULL};

json_t *api_ecs_page(json_t *req, json_t *all, long max, json_t **next, struct sl_err *err)
{
    const char *token = NULL;
    long size = max, start = 0;
    size_t i, n = json_array_size(all);
    json_t *page;

    *next = NULL;
    if (ecs_int(req, "maxResults", P_OPTIONAL, 1, max, &size, err) == SL_ERR ||
        ecs_str(req, "nextToken", P_OPTIONAL, &token, err) == SL_ERR)
        return NULL;
    if (token) {
        char *end;
        start = strtol(token, &end, 10);
        if (*token == '\0' || *end != '\0' || start < 0 || (size_t)start > n) {
            ecs_invalid(err, "Invalid nextToken.");
            return NULL;
        }
    }
    page = json_array();
    for (i = (size_t)start; i < n && i < (size_t)start + (size_t)size; i++)
        json_array_append(page, json_array_get(all, i));
    if (i < n) {
        char m[32];
        snprintf(m, sizeof(m), "%zu", i);
        *next = json_string(m);
    }
    return page;
}

json_t *api_ecs_list_reply(json_t *req, json_t *all, const char *member, struct sl_err *err)
{
    json_t *page, *next, *out;

    page = api_ecs_page(req, all, 100, &next, err);
    json_decref(all);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", member, page);
    if (next)
        json_object_set_new(out, "nextToken", next);
    return out;
}

int api_ecs_cluster_member(json_t *req, char *out, struct sl_err *err)
{
    const char *ref;

    if (ecs_str(req, "cluster", P_OPTIONAL, &ref, err) == SL_ERR)
        return SL_ERR;
    return ecs_cluster_name(ref, out, err);
}

/* One call of the domain: what the transaction callbacks below share. */
struct call {
    const struct api_ctx *ctx;
    const char *name;          /* cluster name, task-definition ref or ARN */
    const char *status;
    long rev;
    int flag;                  /* with tags / DESC */
    json_t *doc;               /* settings, task definition */
    struct ecs_tag *tags;
    size_t ntags;
    const char **strs;         /* references, tag keys */
    size_t nstrs;
    json_t *out;
};

/* ---- clusters ---- */

static int clusters_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_clusters_describe(txn, &c->ctx->ecs, c->strs, c->nstrs, c->flag, &c->out);
}

/* A list of strings member into c->strs (borrowed strings), at most <max>. */
static int strs_member(json_t *req, const char *name, int required, size_t max, struct call *c,
                       struct sl_err *err)
{
    json_t *list, *v;
    size_t i;
    int rc = ecs_strlist(req, name, required, &list, err);

    if (rc != SL_OK)
        return rc;
    if (json_array_size(list) > max)
        return ecs_invalid(err, "%s can have at most %zu items.", name, max);
    if ((c->strs = calloc(json_array_size(list) + 1, sizeof(*c->strs))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, v)
        c->strs[i] = json_string_value(v);
    c->nstrs = json_array_size(list);
    return SL_OK;
}

json_t *api_ecs_describe_clusters(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, ecs_includes(req, "TAGS"), NULL, NULL, 0, NULL, 0, NULL};
    json_t *inc;
    int rc = SL_ERR;

    if (strs_member(req, "clusters", P_OPTIONAL, 100, &c, err) != SL_ERR &&
        ecs_strlist(req, "include", P_OPTIONAL, &inc, err) != SL_ERR)
        rc = api_read(ctx, clusters_describe_tx, &c, err);
    free(c.strs);
    return rc == SL_OK ? c.out : NULL;
}

static int clusters_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_clusters_list(txn, &c->ctx->ecs, &c->out);
}

json_t *api_ecs_list_clusters(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};

    if (api_read(ctx, clusters_list_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, c.out, "clusterArns", err);
}

static int cluster_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_cluster_delete(txn, &c->ctx->ecs, c->name, &c->out, err);
}

json_t *api_ecs_delete_cluster(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    char name[ECS_NAME_MAX + 1];
    const char *ref;

    if (ecs_str(req, "cluster", P_REQUIRED, &ref, err) != SL_OK ||
        ecs_cluster_name(ref, name, err) != SL_OK)
        return NULL;
    c.name = name;
    if (api_write(ctx, cluster_delete_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "cluster", c.out);
}

/* ---- task definitions ---- */

static json_t *td_response(json_t *td, int with_tags)
{
    json_t *out = json_pack("{so}", "taskDefinition", ecs_public(td, 0));

    if (with_tags)
        json_object_set(out, "tags", json_object_get(td, "tags"));
    return out;
}

static int td_register_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_taskdef_register(txn, &c->ctx->ecs, c->doc, err);
}

json_t *api_ecs_register_task_definition(const struct api_ctx *ctx, json_t *req,
                                         struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    json_t *out = NULL;

    if ((c.doc = ecs_taskdef_build(req, err)) == NULL)
        return NULL;
    if (api_write(ctx, td_register_tx, &c, err) == SL_OK)
        out = td_response(c.doc, 1);
    json_decref(c.doc);
    return out;
}

static int td_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_taskdef_describe(txn, c->name, &c->out, err);
}

json_t *api_ecs_describe_task_definition(const struct api_ctx *ctx, json_t *req,
                                         struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    json_t *inc, *out;

    if (ecs_str(req, "taskDefinition", P_REQUIRED, &c.name, err) != SL_OK ||
        ecs_strlist(req, "include", P_OPTIONAL, &inc, err) == SL_ERR ||
        api_read(ctx, td_describe_tx, &c, err) != SL_OK)
        return NULL;
    out = td_response(c.out, ecs_includes(req, "TAGS"));
    json_decref(c.out);
    return out;
}

static int tds_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_taskdefs_list(txn, c->name, c->status, c->flag, &c->out);
}

json_t *api_ecs_list_task_definitions(const struct api_ctx *ctx, json_t *req,
                                      struct sl_err *err)
{
    struct call c = {ctx, NULL, "ACTIVE", 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    const char *s;

    if (ecs_str(req, "familyPrefix", P_OPTIONAL, &c.name, err) == SL_ERR ||
        ecs_enum(req, "status", P_OPTIONAL, td_status, &s, err) == SL_ERR)
        return NULL;
    if (s)
        c.status = s;
    if (ecs_enum(req, "sort", P_OPTIONAL, sort_order, &s, err) == SL_ERR)
        return NULL;
    c.flag = s && strcmp(s, "DESC") == 0;
    /* ECS's familyPrefix is the full family name, despite its name. */
    if (c.name && !ecs_valid_name(c.name))
        return json_pack("{s[]}", "taskDefinitionArns");
    if (api_read(ctx, tds_list_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, c.out, "taskDefinitionArns", err);
}

static int families_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_taskdef_families(txn, c->name, c->status, &c->out);
}

json_t *api_ecs_list_task_definition_families(const struct api_ctx *ctx, json_t *req,
                                              struct sl_err *err)
{
    struct call c = {ctx, NULL, "ACTIVE", 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    const char *s;

    if (ecs_str(req, "familyPrefix", P_OPTIONAL, &c.name, err) == SL_ERR ||
        ecs_enum(req, "status", P_OPTIONAL, fam_status, &s, err) == SL_ERR)
        return NULL;
    if (s)
        c.status = s;
    if (api_read(ctx, families_tx, &c, err) != SL_OK)
        return NULL;
    return api_ecs_list_reply(req, c.out, "families", err);
}

static int td_deregister_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_taskdef_deregister(txn, c->name, c->rev, &c->out, err);
}

json_t *api_ecs_deregister_task_definition(const struct api_ctx *ctx, json_t *req,
                                           struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    char family[ECS_NAME_MAX + 1];
    const char *ref;
    json_t *out;

    if (ecs_str(req, "taskDefinition", P_REQUIRED, &ref, err) != SL_OK)
        return NULL;
    if (ecs_taskdef_ref(ref, family, &c.rev) != SL_OK) {
        ecs_client(err, "The specified task definition does not exist.");
        return NULL;
    }
    if (c.rev == 0) {
        ecs_invalid(err, "A revision is required: use family:revision or the full task "
                         "definition ARN.");
        return NULL;
    }
    c.name = family;
    if (api_write(ctx, td_deregister_tx, &c, err) != SL_OK)
        return NULL;
    out = td_response(c.out, 0);
    json_decref(c.out);
    return out;
}

static int tds_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_taskdefs_delete(txn, c->strs, c->nstrs, &c->out, err);
}

json_t *api_ecs_delete_task_definitions(const struct api_ctx *ctx, json_t *req,
                                        struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    int rc = SL_ERR;

    if (strs_member(req, "taskDefinitions", P_REQUIRED, 10, &c, err) == SL_OK) {
        if (c.nstrs == 0)
            ecs_invalid(err, "size of TaskDefinition references list must be greater than 0");
        else
            rc = api_write(ctx, tds_delete_tx, &c, err);
    }
    free(c.strs);
    return rc == SL_OK ? c.out : NULL;
}

/* ---- tags ---- */

static int tag_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_resource_tag(txn, &c->ctx->ecs, c->name, c->tags, c->ntags, err);
}

json_t *api_ecs_tag_resource(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    json_t *list;
    int rc = SL_ERR;

    if (ecs_str(req, "resourceArn", P_REQUIRED, &c.name, err) == SL_OK &&
        ecs_list(req, "tags", P_REQUIRED, &list, err) == SL_OK &&
        ecs_tags_decode(list, &c.tags, &c.ntags, err) == SL_OK)
        rc = api_write(ctx, tag_tx, &c, err);
    free(c.tags);
    return rc == SL_OK ? json_object() : NULL;
}

static int untag_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_resource_untag(txn, &c->ctx->ecs, c->name, c->strs, c->nstrs, err);
}

json_t *api_ecs_untag_resource(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};
    int rc = SL_ERR;

    if (ecs_str(req, "resourceArn", P_REQUIRED, &c.name, err) == SL_OK &&
        strs_member(req, "tagKeys", P_REQUIRED, (size_t)-1, &c, err) == SL_OK)
        rc = api_write(ctx, untag_tx, &c, err);
    free(c.strs);
    return rc == SL_OK ? json_object() : NULL;
}

static int tags_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    return ecs_resource_tags(txn, &c->ctx->ecs, c->name, &c->out, err);
}

json_t *api_ecs_list_tags_for_resource(const struct api_ctx *ctx, json_t *req,
                                       struct sl_err *err)
{
    struct call c = {ctx, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL};

    if (ecs_str(req, "resourceArn", P_REQUIRED, &c.name, err) != SL_OK ||
        api_read(ctx, tags_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "tags", c.out);
}

