/*
 * rest_util.c - helpers of the REST front door: error mapping, views of
 * stored objects, calling operations, and multi-step writes with undo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "routes/elbv2/elbv2.h"
#include "routes/wire/params.h"
#include "routes/api/rest.h"

/* ---- replies ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int rest_status(const struct sl_err *e)
{
    static const char *const conflicts[] = {"PriorityInUse", "ResourceInUse", "Conflict",
                                            "OperationNotPermitted", NULL};
    const char *c = e->code;
    size_t i;

    if (c[0] == '\0' || e->status >= 500)
        return e->status >= 500 ? e->status : 500;
    if (e->status == 401 || e->status == 403 || e->status == 405 || e->status == 413)
        return e->status;
    if (ends_with(c, "NotFound"))
        return 404;
    if (strcmp(c, "DuplicateTagKeys") == 0)
        return 400;
    if (strncmp(c, "Duplicate", 9) == 0 || strncmp(c, "TooMany", 7) == 0)
        return 409;
    for (i = 0; conflicts[i]; i++)
        if (strcmp(c, conflicts[i]) == 0)
            return 409;
    return 400;
}

void rest_reply_error(const struct sl_err *e, struct front_reply *out)
{
    front_rest_error(rest_status(e), e->code[0] ? e->code : "InternalFailure",
                     e->code[0] ? e->message : "the operation failed without detail", out);
}

void rest_reply_json(struct front_reply *out, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    json_decref(body);
    if (text == NULL) {
        front_rest_error(500, "InternalFailure", "out of memory", out);
        return;
    }
    out->status = status;
    out->content_type = "application/json";
    buf_free(&out->body);
    buf_puts(&out->body, text);
    buf_putc(&out->body, '\n');
    free(text);
}

/* ---- request members ---- */

const char *rest_str(json_t *obj, const char *name)
{
    return json_string_value(json_is_object(obj) ? json_object_get(obj, name) : NULL);
}

static int is_absent(json_t *v)
{
    return v == NULL || json_is_null(v);
}

int rest_same(json_t *a, json_t *b)
{
    char num[32];
    const char *s = NULL;
    json_t *other = NULL;

    if (is_absent(a) || is_absent(b))
        return (is_absent(a) && is_absent(b)) || (is_absent(a) && json_is_array(b) &&
                                                  json_array_size(b) == 0);
    if (json_equal(a, b))
        return 1;
    if (json_is_string(a)) {
        s = json_string_value(a);
        other = b;
    } else if (json_is_string(b)) {
        s = json_string_value(b);
        other = a;
    }
    if (s && json_is_integer(other)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(other));
        return strcmp(s, num) == 0;
    }
    if (s && json_is_boolean(other))
        return strcmp(s, json_is_true(other) ? "true" : "false") == 0;
    if (json_is_array(a) && json_is_array(b)) {
        size_t i;
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (i = 0; i < json_array_size(a); i++)
            if (!rest_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach(a, k, v)
            if (!rest_same(v, json_object_get(b, k)))
                return 0;
        return 1;
    }
    return 0;
}

int rest_check_immutable(json_t *cur, json_t *body, const char *const *members,
                         struct sl_err *err)
{
    size_t i;

    for (i = 0; members[i]; i++) {
        char name[64], alias[64];
        const char *bar = strchr(members[i], '|');
        json_t *want[2], *have;
        int j;

        if (bar) {
            snprintf(name, sizeof(name), "%.*s", (int)(bar - members[i]), members[i]);
            snprintf(alias, sizeof(alias), "%s", bar + 1);
        } else {
            snprintf(name, sizeof(name), "%s", members[i]);
            alias[0] = '\0';
        }
        want[0] = json_object_get(body, name);
        want[1] = alias[0] ? json_object_get(body, alias) : NULL;
        have = json_object_get(cur, alias[0] ? alias : name);
        for (j = 0; j < 2; j++) {
            char *text;
            if (is_absent(want[j]) || rest_same(have, want[j]))
                continue;
            text = have ? json_dumps(have, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            sl_err_set(err, 409, "Conflict",
                       "Member '%s' cannot be changed (it is %.200s); delete the resource and "
                       "create it again to change it",
                       j == 0 ? name : alias, text ? text : "unset");
            free(text);
            return SL_ERR;
        }
    }
    return SL_OK;
}

int rest_attrs_param(json_t *body, json_t **out, struct sl_err *err)
{
    json_t *v = json_object_get(body, "Attributes"), *a;
    size_t i;

    *out = NULL;
    if (is_absent(v))
        return SL_OK;
    if (!json_is_array(v))
        return p_invalid(err, "Attributes", "Member must be a list");
    if (json_array_size(v) > 100)
        return p_invalid(err, "Attributes", "Member must have length less than or equal to 100");
    json_array_foreach(v, i, a) {
        if (!json_is_object(a) || rest_str(a, "Key") == NULL || rest_str(a, "Value") == NULL)
            return p_invalid(err, "Attributes.member",
                             "Member must be an object with string Key and Value");
    }
    *out = v;
    return SL_OK;
}

/* ---- reading ---- */

json_t *rest_view(struct store_txn *txn, const char *kind, json_t *obj)
{
    json_t *v = json_object(), *val;
    const char *k;

    json_object_foreach(obj, k, val)
        if (k[0] != '_')
            json_object_set(v, k, val);
    if (!json_is_array(json_object_get(v, "Tags")))
        json_object_set_new(v, "Tags", json_array());
    if (!json_is_array(json_object_get(v, "Attributes")))
        json_object_set_new(v, "Attributes", json_array());
    if (strcmp(kind, K_TG) == 0 && rest_str(v, "id"))
        json_object_set_new(v, "LoadBalancerArns", elb_tg_lb_arns(txn, rest_str(v, "id")));
    if (strcmp(kind, K_RULE) == 0 && rest_str(v, "ListenerArn") == NULL &&
        rest_str(obj, "_listener_id")) {
        /* The AWS Rule shape has no ListenerArn; REST users need it. */
        json_t *l = store_get(txn, K_LISTENER, rest_str(obj, "_listener_id"));
        if (rest_str(l, "arn"))
            json_object_set(v, "ListenerArn", json_object_get(l, "arn"));
        json_decref(l);
    }
    return v;
}

json_t *rest_load(struct op_ctx *ctx, const char *kind, const char *id, const char *not_found,
                  const char *what, struct sl_err *err)
{
    struct store_txn *txn;
    json_t *obj, *v = NULL;

    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    obj = store_get(txn, kind, id);
    if (obj)
        v = rest_view(txn, kind, obj);
    store_txn_end(txn);
    json_decref(obj);
    if (v == NULL)
        sl_err_set(err, 404, not_found, "%s '%.200s' not found", what, id);
    return v;
}

json_t *rest_load_arn(struct op_ctx *ctx, const char *kind, const char *arn, char *id_out,
                      struct sl_err *err)
{
    struct store_txn *txn;
    char id[ELB_ID_MAX];
    json_t *obj, *v = NULL;

    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    obj = elb_by_arn(txn, kind, arn, id);
    if (obj)
        v = rest_view(txn, kind, obj);
    store_txn_end(txn);
    json_decref(obj);
    if (v == NULL) {
        sl_err_set(err, 404, "NotFound", "no %s resource with ARN '%.300s'", kind, arn);
        return NULL;
    }
    if (id_out)
        memcpy(id_out, id, ELB_ID_MAX);
    return v;
}

/* ---- calling operations ---- */

json_t *rest_op(struct op_ctx *ctx, const char *name, json_t *req, struct sl_err *err)
{
    json_t *res;

    if (req == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    memset(err, 0, sizeof(*err));
    res = ops_call(ctx, name, req, err);
    json_decref(req);
    if (res == NULL && err->code[0] == '\0')
        sl_err_set(err, 500, "InternalFailure", "%s failed", name);
    return res;
}

int rest_step(struct op_ctx *ctx, const char *name, json_t *req, struct sl_err *err)
{
    json_t *res = rest_op(ctx, name, req, err);

    if (res == NULL)
        return SL_ERR;
    json_decref(res);
    return SL_OK;
}

void rest_undo_push(json_t *undo, const char *name, json_t *req)
{
    json_array_append_new(undo, json_pack("{ss so}", "op", name, "req", req));
}

void rest_rollback(struct op_ctx *ctx, json_t *undo)
{
    size_t i = json_array_size(undo);

    while (i-- > 0) {
        json_t *u = json_array_get(undo, i);
        struct sl_err err = {0};
        const char *op = rest_str(u, "op");

        if (rest_step(ctx, op, json_incref(json_object_get(u, "req")), &err) != SL_OK)
            log_warn("rest: rollback step %s failed: %s: %s", op, err.code, err.message);
    }
    json_array_clear(undo);
}

int rest_modify_members(struct op_ctx *ctx, const char *op, const char *arn_member,
                        const char *arn, json_t *cur, json_t *body, const char *const *members,
                        json_t *undo, struct sl_err *err)
{
    json_t *req = json_object(), *inv = json_object();
    size_t i;

    for (i = 0; members[i]; i++) {
        json_t *want = json_object_get(body, members[i]);

        if (is_absent(want) || rest_same(json_object_get(cur, members[i]), want))
            continue;
        json_object_set(req, members[i], want);
    }
    /* The inverse restores every member, not only the changed ones: one
     * change can reset others (HTTPS to HTTP drops the certificates). */
    for (i = 0; members[i]; i++) {
        json_t *have = json_object_get(cur, members[i]);
        if (!is_absent(have))
            json_object_set(inv, members[i], have);
    }
    if (json_object_size(req) == 0) {
        json_decref(req);
        json_decref(inv);
        return SL_OK;
    }
    json_object_set_new(req, arn_member, json_string(arn));
    if (rest_step(ctx, op, req, err) != SL_OK) {
        json_decref(inv);
        return SL_ERR;
    }
    if (json_object_size(inv) > 0) {
        json_object_set_new(inv, arn_member, json_string(arn));
        rest_undo_push(undo, op, inv);
    } else {
        json_decref(inv);
    }
    return SL_OK;
}

/* The element of [{Key,Value}] <list> with Key <key>; NULL if none. */
static json_t *kv_find(json_t *list, const char *key)
{
    json_t *e;
    size_t i;

    if (key == NULL)
        return NULL;
    json_array_foreach(list, i, e) {
        const char *k = rest_str(e, "Key");
        if (k && strcmp(k, key) == 0)
            return e;
    }
    return NULL;
}

int rest_attrs_apply(struct op_ctx *ctx, const char *op, const char *arn_member,
                     const char *arn, json_t *cur_attrs, json_t *attrs, json_t *undo,
                     struct sl_err *err)
{
    json_t *changes = json_array(), *inv = json_array(), *a;
    size_t i;

    json_array_foreach(attrs, i, a) {
        json_t *old = kv_find(cur_attrs, rest_str(a, "Key"));

        if (old && rest_same(json_object_get(old, "Value"), json_object_get(a, "Value")))
            continue;
        json_array_append(changes, a);
        if (old && rest_str(old, "Value"))
            json_array_append(inv, old);
    }
    if (json_array_size(changes) == 0) {
        json_decref(changes);
        json_decref(inv);
        return SL_OK;
    }
    if (rest_step(ctx, op, json_pack("{ss so}", arn_member, arn, "Attributes", changes), err) !=
        SL_OK) {
        json_decref(inv);
        return SL_ERR;
    }
    if (json_array_size(inv) > 0)
        rest_undo_push(undo, op, json_pack("{ss so}", arn_member, arn, "Attributes", inv));
    else
        json_decref(inv);
    return SL_OK;
}

int rest_tags_apply(struct op_ctx *ctx, const char *arn, json_t *cur_tags, json_t *tags,
                    json_t *undo, struct sl_err *err)
{
    json_t *gone_keys = json_array(), *gone = json_array();
    json_t *upsert = json_array(), *fresh_keys = json_array(), *replaced = json_array();
    json_t *t;
    size_t i;
    int rc = SL_ERR;

    json_array_foreach(cur_tags, i, t) {
        const char *k = rest_str(t, "Key");
        if (k && kv_find(tags, k) == NULL) {
            json_array_append_new(gone_keys, json_string(k));
            json_array_append(gone, t);
        }
    }
    json_array_foreach(tags, i, t) {
        json_t *old = kv_find(cur_tags, rest_str(t, "Key"));
        if (old && rest_same(json_object_get(old, "Value"), json_object_get(t, "Value")))
            continue;
        json_array_append(upsert, t);
        if (old)
            json_array_append(replaced, old);
        else
            json_array_append_new(fresh_keys, json_string(rest_str(t, "Key")));
    }
    if (json_array_size(gone_keys) > 0) {
        if (rest_step(ctx, "RemoveTags",
                      json_pack("{s[s] sO}", "ResourceArns", arn, "TagKeys", gone_keys),
                      err) != SL_OK)
            goto out;
        rest_undo_push(undo, "AddTags", json_pack("{s[s] sO}", "ResourceArns", arn, "Tags", gone));
    }
    if (json_array_size(upsert) > 0) {
        if (rest_step(ctx, "AddTags", json_pack("{s[s] sO}", "ResourceArns", arn, "Tags", upsert),
                      err) != SL_OK)
            goto out;
        if (json_array_size(fresh_keys) > 0)
            rest_undo_push(undo, "RemoveTags",
                           json_pack("{s[s] sO}", "ResourceArns", arn, "TagKeys", fresh_keys));
        if (json_array_size(replaced) > 0)
            rest_undo_push(undo, "AddTags",
                           json_pack("{s[s] sO}", "ResourceArns", arn, "Tags", replaced));
    }
    rc = SL_OK;
out:
    json_decref(gone_keys);
    json_decref(gone);
    json_decref(upsert);
    json_decref(fresh_keys);
    json_decref(replaced);
    return rc;
}
