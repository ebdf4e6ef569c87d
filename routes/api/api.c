/*
 * api.c - the request context, action tables, transactions and paging
 * every front door uses.
 */
#include "routes/api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/wire/params.h"

void api_ctx_init(struct api_ctx *ctx, struct store *store, const char *region,
                  const char *account, struct elb_health *health, const char *request_id)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->store = store;
    ctx->elb.region = region;
    ctx->elb.account = account;
    ctx->elb.health = health;
    ctx->ecs.region = region;
    ctx->ecs.account = account;
    ctx->acm.region = region;
    ctx->acm.account = account;
    ctx->request_id = request_id;
}

const struct api_action *api_action_find(const struct api_action *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

int api_members_check(json_t *obj, const char *const *members, const struct api_refusal *why,
                      const char *where, const char *code, struct sl_err *err)
{
    const char *key, *reason = NULL;
    json_t *v;
    size_t i;

    if (members == NULL)
        return SL_OK; /* the action checks its members itself (the ACM actions) */
    json_object_foreach(obj, key, v) {
        for (i = 0; members[i]; i++)
            if (strcmp(members[i], key) == 0)
                break;
        if (members[i] || !p_present(obj, key))
            continue;
        for (i = 0; why && why[i].member; i++)
            if (strcmp(why[i].member, key) == 0)
                reason = why[i].why;
        return sl_err_set(err, 400, code, "The parameter %s%s%.100s is not supported by sluice%s%s",
                          where ? where : "", where ? "." : "", key, reason ? ": " : "",
                          reason ? reason : "");
    }
    return SL_OK;
}

/* A failure always leaves a code in <err>: the doors answer with it. */
static int failed(int rc, struct sl_err *err)
{
    if (rc != SL_OK && err->code[0] == '\0')
        sl_err_set(err, 500, "InternalFailure", "the operation failed (%s)", sl_strerror(rc));
    return rc;
}

int api_write(const struct api_ctx *ctx, store_write_fn fn, void *arg, struct sl_err *err)
{
    return failed(store_write(ctx->store, fn, arg, NULL, err), err);
}

int api_read(const struct api_ctx *ctx, store_write_fn fn, void *arg, struct sl_err *err)
{
    struct store_txn *txn;
    int rc;

    if ((rc = store_read_begin(ctx->store, &txn, err)) != SL_OK)
        return failed(rc, err);
    rc = fn(txn, arg, err);
    store_txn_end(txn);
    return failed(rc, err);
}

json_t *api_page(json_t *req, json_t *all, json_t **next, struct sl_err *err)
{
    const char *marker = NULL;
    long size = 400, start = 0;
    size_t i, n = json_array_size(all);
    json_t *page;

    *next = NULL;
    if (p_int(req, "PageSize", P_OPTIONAL, 1, 400, &size, err) == SL_ERR ||
        p_str(req, "Marker", P_OPTIONAL, &marker, err) == SL_ERR)
        return NULL;
    if (marker) {
        char *end;
        start = strtol(marker, &end, 10);
        if (*marker == '\0' || *end != '\0' || start < 0) {
            sl_err_set(err, 400, "ValidationError", "The marker '%s' is not valid", marker);
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
