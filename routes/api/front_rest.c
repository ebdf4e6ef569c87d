/*
 * front_rest.c - the REST JSON front door under /v1: routing, request
 * bodies, and the create/read/list/replace/delete flow every collection
 * shares.  What differs per kind lives in rest_kinds.c; the contract is
 * openapi/openapi.yaml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "routes/elbv2/elbv2.h"
#include "routes/api/front.h"
#include "routes/wire/params.h"
#include "routes/api/rest.h"

#define REST_PATH_MAX 2048
#define REST_SEGS 4
#define LIST_PAGES_MAX 1000

void front_rest_error(int status, const char *code, const char *message,
                      struct front_reply *out)
{
    json_t *body = json_pack("{s{ss ss}}", "error", "code", code, "message", message);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    out->status = status ? status : 500;
    out->content_type = "application/json";
    buf_free(&out->body);
    buf_puts(&out->body, text ? text : "{\"error\":{\"code\":\"InternalFailure\",\"message\":\"\"}}");
    buf_putc(&out->body, '\n');
    free(text);
    json_decref(body);
}

static void reply_err(struct front_reply *out, int status, const char *code, const char *fmt,
                      const char *arg)
{
    struct sl_err e = {0};

    sl_err_set(&e, status, code, fmt, arg);
    rest_reply_error(&e, out);
}

/* ---- request body ---- */

json_t *rest_parse_body(const struct front_request *req, struct front_reply *out)
{
    json_error_t jerr;
    json_t *body;
    char msg[256];

    if (req->body_len == 0) {
        reply_err(out, 400, "InvalidJSON", "%s", "the request needs a JSON object body");
        return NULL;
    }
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        snprintf(msg, sizeof(msg), "the body is not valid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        reply_err(out, 400, "InvalidJSON", "%s", msg);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        reply_err(out, 400, "InvalidJSON", "%s", "the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* ---- list ---- */

struct scan_acc {
    struct store_txn *txn;
    const char *kind;
    json_t *items;
};

static int scan_one(const char *id, json_t *obj, void *arg)
{
    struct scan_acc *a = arg;

    json_array_append_new(a->items, rest_view(a->txn, a->kind, obj));
    return 0;
}

/* ARNs from the kind's Describe operation filtered by <arn>, all pages. */
static json_t *describe_arns(struct op_ctx *ctx, const struct rest_kind *k, const char *arn,
                             struct sl_err *err)
{
    json_t *arns = json_array(), *marker = NULL;
    int page;

    for (page = 0; page < LIST_PAGES_MAX; page++) {
        json_t *req = json_pack("{ss}", k->filter_arg, arn), *res, *list, *e;
        size_t i;

        if (marker)
            json_object_set_new(req, "Marker", marker);
        marker = NULL;
        res = rest_op(ctx, k->describe_op, req, err);
        if (res == NULL) {
            json_decref(arns);
            return NULL;
        }
        list = json_object_get(res, k->describe_list);
        json_array_foreach(list, i, e) {
            const char *a = rest_str(e, k->arn_member);
            if (a)
                json_array_append_new(arns, json_string(a));
        }
        if (json_is_string(json_object_get(res, "NextMarker")))
            marker = json_incref(json_object_get(res, "NextMarker"));
        json_decref(res);
        if (marker == NULL)
            break;
    }
    json_decref(marker);
    return arns;
}

static void rest_list(struct op_ctx *ctx, const struct rest_kind *k,
                      const struct front_request *req, struct front_reply *out)
{
    struct sl_err err = {0};
    struct store_txn *txn;
    const char *arn = NULL, *fid = NULL;
    json_t *items, *arns = NULL, *parent = NULL, *a;
    size_t i;

    if (k->filter_arg && req->arg) {
        arn = req->arg(req->arg_cls, k->filter_arg);
        fid = req->arg(req->arg_cls, k->filter_id_arg);
    }
    if (fid) {
        const struct rest_kind *pk;
        for (pk = rest_kinds; pk->path && strcmp(pk->kind, k->filter_kind) != 0; pk++)
            ;
        if (!elb_valid_id(fid)) {
            sl_err_set(&err, 404, pk->not_found, "%s '%.200s' not found", pk->what, fid);
            goto fail;
        }
        parent = rest_load(ctx, pk->kind, fid, pk->not_found, pk->what, &err);
        if (parent == NULL)
            goto fail;
        if (arn && strcmp(arn, rest_str(parent, "arn") ? rest_str(parent, "arn") : "") != 0) {
            sl_err_set(&err, 400, "ValidationError", "%s and %s name different resources",
                       k->filter_arg, k->filter_id_arg);
            goto fail;
        }
        arn = rest_str(parent, "arn");
    }
    if (arn) {
        if ((arns = describe_arns(ctx, k, arn, &err)) == NULL)
            goto fail;
    }
    if (elb_read(ctx, &txn, &err) != SL_OK)
        goto fail;
    items = json_array();
    if (arns) {
        json_array_foreach(arns, i, a) {
            json_t *obj = elb_by_arn(txn, k->kind, json_string_value(a), NULL);
            if (obj) {
                json_array_append_new(items, rest_view(txn, k->kind, obj));
                json_decref(obj);
            }
        }
    } else {
        struct scan_acc acc = {txn, k->kind, items};
        store_scan(txn, k->kind, NULL, scan_one, &acc);
    }
    store_txn_end(txn);
    json_decref(arns);
    json_decref(parent);
    rest_reply_json(out, 200, json_pack("{so}", "items", items));
    return;
fail:
    json_decref(arns);
    json_decref(parent);
    rest_reply_error(&err, out);
}

/* ---- read ---- */

static void rest_get(struct op_ctx *ctx, const struct rest_kind *k, const char *id,
                     struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *v = rest_load(ctx, k->kind, id, k->not_found, k->what, &err);

    if (v == NULL)
        rest_reply_error(&err, out);
    else
        rest_reply_json(out, 200, v);
}

/* ---- create ---- */

static void rest_create(struct op_ctx *ctx, const struct rest_kind *k, json_t *body,
                        struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *req = NULL, *res = NULL, *attrs, *view = NULL, *old;
    const char *id, *arn;
    char new_id[ELB_ID_MAX];
    struct store_txn *txn;
    json_t *first;

    if (json_object_get(body, "id") && !json_is_null(json_object_get(body, "id"))) {
        id = rest_str(body, "id");
        if (id == NULL || !elb_valid_id(id)) {
            p_invalid(&err, "id", "Member must be 1-128 characters of [A-Za-z0-9._-]");
            goto fail;
        }
        if (elb_read(ctx, &txn, &err) != SL_OK)
            goto fail;
        old = store_get(txn, k->kind, id);
        store_txn_end(txn);
        if (old) {
            json_decref(old);
            sl_err_set(&err, 409, "Conflict", "A %s with id '%s' already exists", k->what, id);
            goto fail;
        }
    }
    if (rest_attrs_param(body, &attrs, &err) != SL_OK)
        goto fail;
    if (json_array_size(attrs) > 0 && k->modify_attrs_op == NULL) {
        p_invalid(&err, "Attributes", "This resource kind has no attributes");
        goto fail;
    }
    req = json_deep_copy(body);
    json_object_del(req, "Attributes");
    if (json_is_null(json_object_get(req, "id")))
        json_object_del(req, "id");
    if (k->prepare && k->prepare(ctx, req, &err) != SL_OK)
        goto fail;
    res = rest_op(ctx, k->create_op, req, &err);
    req = NULL;
    if (res == NULL)
        goto fail;
    first = json_array_get(json_object_get(res, k->create_list), 0);
    arn = rest_str(first, k->arn_member);
    if (arn == NULL) {
        sl_err_set(&err, 500, "InternalFailure", "%s returned no %s", k->create_op,
                   k->arn_member);
        goto fail;
    }
    if (json_array_size(attrs) > 0) {
        json_t *mreq = json_pack("{ss sO}", k->arn_member, arn, "Attributes", attrs), *r;

        r = rest_op(ctx, k->modify_attrs_op, mreq, &err);
        if (r == NULL) {
            struct sl_err derr = {0};
            json_t *d = rest_op(ctx, k->delete_op, json_pack("{ss}", k->arn_member, arn), &derr);
            if (d == NULL)
                log_warn("rest: undoing create of %s: %s: %s", arn, derr.code, derr.message);
            json_decref(d);
            goto fail;
        }
        json_decref(r);
    }
    view = rest_load_arn(ctx, k->kind, arn, new_id, &err);
    if (view == NULL)
        goto fail;
    snprintf(out->location, sizeof(out->location), "/v1/%s/%s", k->path, new_id);
    json_decref(res);
    rest_reply_json(out, 201, view);
    return;
fail:
    json_decref(req);
    json_decref(res);
    rest_reply_error(&err, out);
}

/* ---- replace ---- */

static void rest_put(struct op_ctx *ctx, const struct rest_kind *k, const char *id,
                     json_t *body, struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *cur, *attrs = NULL, *tags = NULL, *undo = NULL, *v;
    const char *arn;

    cur = rest_load(ctx, k->kind, id, k->not_found, k->what, &err);
    if (cur == NULL)
        goto fail;
    arn = rest_str(cur, "arn");
    v = json_object_get(body, "id");
    if (v && !json_is_null(v) && !rest_same(json_object_get(cur, "id"), v)) {
        sl_err_set(&err, 409, "Conflict",
                   "Member 'id' cannot be changed: the path names '%s'", id);
        goto fail;
    }
    if (rest_attrs_param(body, &attrs, &err) != SL_OK)
        goto fail;
    if (json_array_size(attrs) > 0 && k->modify_attrs_op == NULL) {
        p_invalid(&err, "Attributes", "This resource kind has no attributes");
        goto fail;
    }
    v = json_object_get(body, "Tags");
    if (v && !json_is_null(v) && (tags = elb_tags_param(body, &err)) == NULL)
        goto fail;
    if (arn == NULL) {
        sl_err_set(&err, 500, "InternalFailure", "%s '%s' has no ARN", k->what, id);
        goto fail;
    }
    undo = json_array();
    if (k->put(ctx, k, cur, body, undo, &err) != SL_OK)
        goto rollback;
    if (attrs && rest_attrs_apply(ctx, k->modify_attrs_op, k->arn_member, arn,
                                  json_object_get(cur, "Attributes"), attrs, undo,
                                  &err) != SL_OK)
        goto rollback;
    if (tags && rest_tags_apply(ctx, arn, json_object_get(cur, "Tags"), tags, undo, &err) !=
                    SL_OK)
        goto rollback;
    json_decref(undo);
    json_decref(tags);
    json_decref(cur);
    cur = rest_load(ctx, k->kind, id, k->not_found, k->what, &err);
    if (cur == NULL)
        goto fail;
    rest_reply_json(out, 200, cur);
    return;
rollback:
    rest_rollback(ctx, undo);
fail:
    json_decref(undo);
    json_decref(tags);
    json_decref(cur);
    rest_reply_error(&err, out);
}

/* ---- delete ---- */

static void rest_delete(struct op_ctx *ctx, const struct rest_kind *k, const char *id,
                        struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *cur = rest_load(ctx, k->kind, id, k->not_found, k->what, &err), *res;
    const char *arn;

    if (cur == NULL)
        goto fail;
    arn = rest_str(cur, "arn");
    if (arn == NULL) {
        sl_err_set(&err, 500, "InternalFailure", "%s '%s' has no ARN", k->what, id);
        goto fail;
    }
    res = rest_op(ctx, k->delete_op, json_pack("{ss}", k->arn_member, arn), &err);
    if (res == NULL)
        goto fail;
    json_decref(res);
    json_decref(cur);
    out->status = 204;
    out->content_type = NULL;
    return;
fail:
    json_decref(cur);
    rest_reply_error(&err, out);
}

/* ---- routing ---- */

static int method_is(const struct front_request *req, const char *m)
{
    return req->method && strcmp(req->method, m) == 0;
}

static void not_allowed(struct front_reply *out, const char *allow)
{
    snprintf(out->allow, sizeof(out->allow), "%s", allow);
    reply_err(out, 405, "MethodNotAllowed", "this path accepts %s", allow);
}

/* Split "/v1/a/b" into segments; 0 on a path no route can match. */
static int split_path(const char *path, char *buf, size_t cap, char **seg, int *nseg)
{
    size_t n;
    char *p;

    if (strncmp(path, "/v1/", 4) != 0)
        return 0;
    n = strlen(path + 4);
    if (n == 0 || n >= cap)
        return 0;
    memcpy(buf, path + 4, n + 1);
    if (buf[n - 1] == '/')
        buf[--n] = '\0';
    *nseg = 0;
    p = buf;
    for (;;) {
        char *slash = strchr(p, '/');
        if (*nseg == REST_SEGS)
            return 0;
        seg[(*nseg)++] = p;
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    for (n = 0; n < (size_t)*nseg; n++)
        if (seg[n][0] == '\0')
            return 0;
    return 1;
}

/* Dispatch a request on a collection or one of its objects. */
static void route_kind(struct op_ctx *ctx, const struct rest_kind *k,
                       const struct front_request *req, char **seg, int nseg,
                       struct front_reply *out)
{
    json_t *body;

    if (nseg == 1) {
        if (method_is(req, "GET")) {
            rest_list(ctx, k, req, out);
        } else if (!method_is(req, "POST")) {
            not_allowed(out, "GET, POST");
        } else if ((body = rest_parse_body(req, out)) != NULL) {
            rest_create(ctx, k, body, out);
            json_decref(body);
        }
        return;
    }
    if (nseg == 2) {
        if (!method_is(req, "GET") && !method_is(req, "PUT") && !method_is(req, "DELETE")) {
            not_allowed(out, "GET, PUT, DELETE");
            return;
        }
        /* A PUT's bad body is reported before a missing object, as with POST. */
        body = NULL;
        if (method_is(req, "PUT") && (body = rest_parse_body(req, out)) == NULL)
            return;
        if (!elb_valid_id(seg[1]))
            reply_err(out, 404, k->not_found, "no such id '%.200s'", seg[1]);
        else if (body)
            rest_put(ctx, k, seg[1], body, out);
        else if (method_is(req, "GET"))
            rest_get(ctx, k, seg[1], out);
        else
            rest_delete(ctx, k, seg[1], out);
        json_decref(body);
        return;
    }
    if (strcmp(k->kind, K_TG) == 0 && strcmp(seg[2], "targets") == 0) {
        if (nseg == 3 && !method_is(req, "GET") && !method_is(req, "POST"))
            not_allowed(out, "GET, POST");
        else if (nseg == 4 && !method_is(req, "GET") && !method_is(req, "DELETE"))
            not_allowed(out, "GET, DELETE");
        else
            rest_targets(ctx, req, seg[1], nseg == 4 ? seg[3] : NULL, out);
        return;
    }
    reply_err(out, 404, "NotFound", "%s", "no such path; see GET /openapi.json");
}

void front_rest(struct op_ctx *ctx, const struct front_request *req, struct front_reply *out)
{
    char buf[REST_PATH_MAX], *seg[REST_SEGS];
    const struct rest_kind *k;
    int nseg = 0;

    if (req->path && split_path(req->path, buf, sizeof(buf), seg, &nseg)) {
        if (strcmp(seg[0], "health") == 0 && nseg == 1) {
            if (method_is(req, "GET"))
                rest_reply_json(out, 200, json_pack("{ss}", "status", "ok"));
            else
                not_allowed(out, "GET");
            return;
        }
        for (k = rest_kinds; k->path; k++)
            if (strcmp(k->path, seg[0]) == 0) {
                route_kind(ctx, k, req, seg, nseg, out);
                return;
            }
    }
    reply_err(out, 404, "NotFound", "%s", "no such path; see GET /openapi.json");
}
