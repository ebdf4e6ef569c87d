/*
 * ecs_deploy_actions.c - the ECS service deployment actions:
 * ListServiceDeployments, DescribeServiceDeployments,
 * DescribeServiceRevisions.
 */
#include <stdlib.h>
#include <string.h>

#include "routes/api/ecs_actions.h"
#include "routes/ecs/deployments.h"
#include "routes/ecs/param.h"

static const char *const deploy_states[] = {
    "PENDING", "SUCCESSFUL", "STOPPED", "STOP_REQUESTED", "IN_PROGRESS", "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", NULL};

struct deploy_call {
    char cluster[ECS_NAME_MAX + 1];
    const char *ref;
    struct ecs_deploy_filter f;
    const char **arns;
    size_t narns;
    json_t *out;
};

/* A timestamp member (epoch seconds, a JSON number) of <obj>; 0 when
 * absent. */
static int time_member(json_t *obj, const char *name, double *out, struct sl_err *err)
{
    json_t *v = json_object_get(obj, name);

    *out = 0;
    if (v == NULL || json_is_null(v))
        return SL_OK;
    if (!json_is_number(v))
        return ecs_mistyped(name, "a timestamp", err);
    *out = json_number_value(v);
    return SL_OK;
}

/* A list of strings member into <out> (free() it), each checked against
 * <allowed> when not NULL, at most <max>. */
static int strings(json_t *req, const char *name, int required, const char *const *allowed,
                   size_t max, const char ***out, size_t *n, struct sl_err *err)
{
    json_t *list, *v;
    size_t i, j;
    int rc = ecs_strlist(req, name, required, &list, err);

    *out = NULL;
    *n = 0;
    if (rc == SL_ERR)
        return SL_ERR;
    if (rc == SL_ENOTFOUND)
        return SL_OK;
    if ((required && json_array_size(list) == 0) || json_array_size(list) > max)
        return ecs_invalid(err, "%s must have between %d and %zu items.", name, required, max);
    if ((*out = calloc(json_array_size(list) + 1, sizeof(**out))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, v) {
        (*out)[i] = json_string_value(v);
        for (j = 0; allowed && allowed[j]; j++)
            if (strcmp(allowed[j], (*out)[i]) == 0)
                break;
        if (allowed && allowed[j] == NULL)
            return ecs_invalid(err, "Invalid %s value '%.64s'.", name, (*out)[i]);
    }
    *n = json_array_size(list);
    return SL_OK;
}

static int list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct deploy_call *c = arg;

    return ecs_deployments_list(txn, NULL, c->cluster, c->ref, &c->f, &c->out, err);
}

json_t *api_ecs_list_service_deployments(const struct api_ctx *ctx, json_t *req,
                                         struct sl_err *err)
{
    struct deploy_call c;
    json_t *created;
    const char **st = NULL;
    json_t *out = NULL;

    memset(&c, 0, sizeof(c));
    if (api_ecs_cluster_member(req, c.cluster, err) != SL_OK ||
        ecs_str(req, "service", P_REQUIRED, &c.ref, err) != SL_OK ||
        strings(req, "status", 0, deploy_states, 9, &st, &c.f.nstatuses, err) != SL_OK ||
        ecs_obj(req, "createdAt", P_OPTIONAL, &created, err) == SL_ERR ||
        time_member(created, "after", &c.f.after, err) != SL_OK ||
        time_member(created, "before", &c.f.before, err) != SL_OK)
        goto done;
    c.f.statuses = st;
    if (api_read(ctx, list_tx, &c, err) == SL_OK) {
        out = api_ecs_list_reply(req, c.out, "serviceDeployments", err);
        c.out = NULL;
    }
done:
    json_decref(c.out);
    free(st);
    return out;
}

static int describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct deploy_call *c = arg;

    return ecs_deployments_describe(txn, c->arns, c->narns, &c->out);
}

static int revisions_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct deploy_call *c = arg;

    return ecs_revisions_describe(txn, c->arns, c->narns, &c->out);
}

static json_t *describe(const struct api_ctx *ctx, json_t *req, const char *member,
                        store_write_fn fn, struct sl_err *err)
{
    struct deploy_call c;

    memset(&c, 0, sizeof(c));
    if (strings(req, member, 1, NULL, 20, &c.arns, &c.narns, err) != SL_OK ||
        api_read(ctx, fn, &c, err) != SL_OK)
        c.out = NULL;
    free(c.arns);
    return c.out;
}

json_t *api_ecs_describe_service_deployments(const struct api_ctx *ctx, json_t *req,
                                             struct sl_err *err)
{
    return describe(ctx, req, "serviceDeploymentArns", describe_tx, err);
}

json_t *api_ecs_describe_service_revisions(const struct api_ctx *ctx, json_t *req,
                                           struct sl_err *err)
{
    return describe(ctx, req, "serviceRevisionArns", revisions_tx, err);
}
