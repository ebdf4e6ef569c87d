/*
 * front_rest.c - the REST JSON front door under /v1: routing, and the
 * create/read/list/replace/delete flow every collection shares.  What
 * differs per kind lives in rest_kinds.c, the targets of a group in
 * rest_targets.c; the contract is openapi/openapi.yaml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/acm_actions.h"
#include "routes/api/rest.h"
#include "routes/elbv2/tags.h"
#include "routes/elbv2/view.h"
#include "routes/wire/params.h"

#define REST_PATH_MAX 2048
#define REST_SEGS 4

static void reply_err(struct front_reply *out, int status, const char *code, const char *fmt,
                      const char *arg)
{
    struct sl_err e = {0};

    sl_err_set(&e, status, code, fmt, arg);
    rest_reply_error(&e, out);
}

/* ---- list, read ---- */

struct rest_read {
    const struct api_ctx *ctx;
    const struct rest_kind *k;
    const char *id;            /* GET one */
    const char *arn, *fid;     /* list filter, by ARN and by the parent's REST id */
    json_t *out;
};

static int list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct rest_read *r = arg;
    const struct rest_kind *pk;
    json_t *parent = NULL;
    const char *arn = r->arn;
    int rc;

    if (r->fid) {
        pk = rest_kind_of(r->k->filter_kind);
        if (!elb_valid_id(r->fid) || elb_view_get(txn, pk->kind, r->fid, &parent) != SL_OK)
            return sl_err_set(err, 404, pk->not_found, "%s '%.200s' not found", pk->what,
                              r->fid);
        if (arn && strcmp(arn, rest_str(parent, "arn") ? rest_str(parent, "arn") : "") != 0) {
            json_decref(parent);
            return sl_err_set(err, 400, "ValidationError", "%s and %s name different resources",
                              r->k->filter_arg, r->k->filter_id_arg);
        }
        arn = rest_str(parent, "arn");
    }
    rc = elb_view_list(txn, r->k->kind, arn, &r->out, err);
    json_decref(parent);
    return rc;
}

static void rest_list(const struct api_ctx *ctx, const struct rest_kind *k,
                      const struct front_request *req, struct front_reply *out)
{
    struct rest_read r = {ctx, k, NULL, NULL, NULL, NULL};
    struct sl_err err = {0};
    json_t *v;
    size_t i;

    if (k->filter_arg && req->arg) {
        r.arn = req->arg(req->arg_cls, k->filter_arg);
        r.fid = req->arg(req->arg_cls, k->filter_id_arg);
    }
    if (api_read(ctx, list_tx, &r, &err) != SL_OK) {
        rest_reply_error(&err, out);
        return;
    }
    json_array_foreach(r.out, i, v)
        rest_written_apply(v);
    rest_reply_json(out, 200, json_pack("{so}", "items", r.out));
}

static int get_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct rest_read *r = arg;

    if (elb_view_get(txn, r->k->kind, r->id, &r->out) != SL_OK)
        return sl_err_set(err, 404, r->k->not_found, "%s '%.200s' not found", r->k->what, r->id);
    return SL_OK;
}

static void rest_get(const struct api_ctx *ctx, const struct rest_kind *k, const char *id,
                     struct front_reply *out)
{
    struct rest_read r = {ctx, k, id, NULL, NULL, NULL};
    struct sl_err err = {0};

    if (api_read(ctx, get_tx, &r, &err) != SL_OK) {
        rest_reply_error(&err, out);
    } else {
        rest_written_apply(r.out);
        rest_reply_json(out, 200, r.out);
    }
}

/* ---- create ---- */

struct create_call {
    const struct api_ctx *ctx;
    const struct rest_kind *k;
    struct rest_create c;
    json_t *body;              /* the POST body as written (borrowed) */
    char id[ELB_ID_MAX];       /* out: the REST id of the new object */
    json_t *view;              /* out */
};

/* Create, then set the Attributes, in one transaction: a bad attribute
 * leaves nothing behind. */
static int create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct create_call *cc = arg;
    const struct rest_kind *k = cc->k;
    json_t *created = NULL, *attrs = NULL, *old;
    const char *arn;
    int rc = SL_ERR;

    if (cc->c.id && elb_view_get(txn, k->kind, cc->c.id, &old) == SL_OK) {
        json_decref(old);
        return sl_err_set(err, 409, "Conflict", "A %s with id '%s' already exists", k->what,
                          cc->c.id);
    }
    if (k->create(txn, cc->ctx, &cc->c, &created, err) != SL_OK)
        goto out;
    if ((arn = rest_str(created, k->arn_member)) == NULL) {
        sl_err_set(err, 500, "InternalFailure", "the new %s has no %s", k->what, k->arn_member);
        goto out;
    }
    if (cc->c.nattrs > 0 &&
        k->attrs_modify(txn, arn, cc->c.attrs, cc->c.nattrs, &attrs, err) != SL_OK)
        goto out;
    if (elb_view_by_arn(txn, k->kind, arn, cc->id, &old) != SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "the new %s is gone", k->what);
        goto out;
    }
    json_decref(old);
    if (rest_written_record(txn, k->kind, cc->id, cc->body, err) != SL_OK ||
        elb_view_by_arn(txn, k->kind, arn, cc->id, &cc->view) != SL_OK)
        goto out;
    rc = SL_OK;
out:
    json_decref(attrs);
    json_decref(created);
    return rc;
}

/* The generic part of a create body: id and Attributes; c->req is the
 * rest, for the kind's decoder. */
static int create_prepare(const struct rest_kind *k, json_t *body, struct rest_create *c,
                          struct sl_err *err)
{
    json_t *id = json_object_get(body, "id");

    if (id && !json_is_null(id)) {
        c->id = rest_str(body, "id");
        if (c->id == NULL || !elb_valid_id(c->id))
            return p_invalid(err, "id", "Member must be 1-128 characters of [A-Za-z0-9._-]");
    }
    if (rest_attrs_param(body, &c->attrs, &c->nattrs, err) != SL_OK)
        return SL_ERR;
    if (c->nattrs > 0 && k->attrs_modify == NULL)
        return p_invalid(err, "Attributes", "This resource kind has no attributes");
    c->req = json_deep_copy(body);
    json_object_del(c->req, "Attributes");
    if (json_is_null(json_object_get(c->req, "id")))
        json_object_del(c->req, "id");
    return SL_OK;
}

static void rest_create(const struct api_ctx *ctx, const struct rest_kind *k, json_t *body,
                        struct front_reply *out)
{
    struct create_call cc;
    struct sl_err err = {0};
    int decoded = 0;

    memset(&cc, 0, sizeof(cc));
    cc.ctx = ctx;
    cc.k = k;
    cc.body = body;
    if (create_prepare(k, body, &cc.c, &err) != SL_OK)
        goto fail;
    decoded = 1;
    if (k->create_decode(&cc.c, &err) != SL_OK || api_write(ctx, create_tx, &cc, &err) != SL_OK)
        goto fail;
    snprintf(out->location, sizeof(out->location), "/v1/%s/%s", k->path, cc.id);
    rest_written_apply(cc.view);
    rest_reply_json(out, 201, cc.view);
    cc.view = NULL;
    goto done;
fail:
    rest_reply_error(&err, out);
done:
    if (decoded)
        k->create_free(&cc.c);
    json_decref(cc.view);
    json_decref(cc.c.parent);
    json_decref(cc.c.req);
    free(cc.c.attrs);
}

/* ---- replace ---- */

struct put_call {
    const struct api_ctx *ctx;
    const struct rest_kind *k;
    const char *id;
    json_t *body;
    struct elb_kv *attrs;      /* Attributes, checked */
    size_t nattrs;
    struct elb_kv *tags;       /* Tags, checked; NULL: keep */
    size_t ntags;
    json_t *view;              /* out */
};

/* The kind's members, then Attributes and Tags, in one transaction. */
static int put_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct put_call *p = arg;
    const struct rest_kind *k = p->k;
    json_t *cur, *v, *attrs = NULL;
    const char *arn;
    size_t n;
    int rc = SL_ERR;

    if (elb_view_get(txn, k->kind, p->id, &cur) != SL_OK)
        return sl_err_set(err, 404, k->not_found, "%s '%.200s' not found", k->what, p->id);
    if ((arn = rest_str(cur, "arn")) == NULL) {
        sl_err_set(err, 500, "InternalFailure", "%s '%s' has no ARN", k->what, p->id);
        goto out;
    }
    v = json_object_get(p->body, "id");
    if (v && !json_is_null(v) && !rest_same(json_object_get(cur, "id"), v)) {
        sl_err_set(err, 409, "Conflict", "Member 'id' cannot be changed: the path names '%s'",
                   p->id);
        goto out;
    }
    if (k->put(txn, p->ctx, cur, p->body, err) != SL_OK)
        goto out;
    n = rest_attrs_changed(json_object_get(cur, "Attributes"), p->attrs, p->nattrs);
    if (n > 0 && k->attrs_modify(txn, arn, p->attrs, n, &attrs, err) != SL_OK)
        goto out;
    if (p->tags && elb_tags_set(txn, arn, p->tags, p->ntags, err) != SL_OK)
        goto out;
    if (rest_written_record(txn, k->kind, p->id, p->body, err) != SL_OK)
        goto out;
    if (elb_view_get(txn, k->kind, p->id, &p->view) != SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "%s '%s' is gone", k->what, p->id);
        goto out;
    }
    rc = SL_OK;
out:
    json_decref(attrs);
    json_decref(cur);
    return rc;
}

static void rest_put(const struct api_ctx *ctx, const struct rest_kind *k, const char *id,
                     json_t *body, struct front_reply *out)
{
    struct put_call p = {ctx, k, id, body, NULL, 0, NULL, 0, NULL};
    struct sl_err err = {0};
    json_t *tags = json_object_get(body, "Tags");
    int rc = SL_ERR;

    if (rest_attrs_param(body, &p.attrs, &p.nattrs, &err) != SL_OK)
        goto out;
    if (p.nattrs > 0 && k->attrs_modify == NULL) {
        p_invalid(&err, "Attributes", "This resource kind has no attributes");
        goto out;
    }
    if (tags && !json_is_null(tags) &&
        (api_elb_kv_list(body, "Tags", P_OPTIONAL, 0, ELB_TAGS_MAX, 0, &p.tags, &p.ntags, &err) ==
             SL_ERR ||
         elb_tags_check(p.tags, p.ntags, &err) != SL_OK))
        goto out;
    rc = api_write(ctx, put_tx, &p, &err);
out:
    if (rc == SL_OK) {
        rest_written_apply(p.view);
        rest_reply_json(out, 200, p.view);
    } else
        rest_reply_error(&err, out);
    free(p.attrs);
    free(p.tags);
}

/* ---- delete ---- */

static int delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct rest_read *r = arg;
    json_t *cur;
    char arn[ELB_ARN_MAX];

    if (elb_view_get(txn, r->k->kind, r->id, &cur) != SL_OK)
        return sl_err_set(err, 404, r->k->not_found, "%s '%.200s' not found", r->k->what, r->id);
    snprintf(arn, sizeof(arn), "%s", rest_str(cur, "arn") ? rest_str(cur, "arn") : "");
    json_decref(cur);
    if (arn[0] == '\0')
        return sl_err_set(err, 500, "InternalFailure", "%s '%s' has no ARN", r->k->what, r->id);
    return r->k->destroy(txn, r->ctx, arn, err);
}

static void rest_delete(const struct api_ctx *ctx, const struct rest_kind *k, const char *id,
                        struct front_reply *out)
{
    struct rest_read r = {ctx, k, id, NULL, NULL, NULL};
    struct sl_err err = {0};

    if (api_write(ctx, delete_tx, &r, &err) != SL_OK) {
        rest_reply_error(&err, out);
        return;
    }
    out->status = 204;
    out->content_type = NULL;
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

/* A request on one object of a collection. */
static void route_object(const struct api_ctx *ctx, const struct rest_kind *k,
                         const struct front_request *req, const char *id,
                         struct front_reply *out)
{
    json_t *body = NULL;

    if (!method_is(req, "GET") && !method_is(req, "PUT") && !method_is(req, "DELETE")) {
        not_allowed(out, "GET, PUT, DELETE");
        return;
    }
    /* A PUT's bad body is reported before a missing object, as with POST. */
    if (method_is(req, "PUT") && (body = rest_parse_body(req, out)) == NULL)
        return;
    if (!elb_valid_id(id))
        reply_err(out, 404, k->not_found, "no such id '%.200s'", id);
    else if (body)
        rest_put(ctx, k, id, body, out);
    else if (method_is(req, "GET"))
        rest_get(ctx, k, id, out);
    else
        rest_delete(ctx, k, id, out);
    json_decref(body);
}

/* Dispatch a request on a collection or one of its objects. */
static void route_kind(const struct api_ctx *ctx, const struct rest_kind *k,
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
        route_object(ctx, k, req, seg[1], out);
        return;
    }
    if (strcmp(k->kind, K_TG) == 0 && strcmp(seg[2], "targets") == 0) {
        if (nseg == 3 && !method_is(req, "GET") && !method_is(req, "POST"))
            not_allowed(out, "GET, POST");
        else if (nseg == 4 && !method_is(req, "GET") && !method_is(req, "PUT") &&
                 !method_is(req, "DELETE"))
            not_allowed(out, "GET, PUT, DELETE");
        else
            rest_targets(ctx, req, seg[1], nseg == 4 ? seg[3] : NULL, out);
        return;
    }
    reply_err(out, 404, "NotFound", "%s", "no such path; see GET /openapi.json");
}

void front_rest(const struct api_ctx *ctx, const struct front_request *req,
                struct front_reply *out)
{
    char buf[REST_PATH_MAX], *seg[REST_SEGS];
    const struct rest_kind *k;
    int nseg = 0;

    if (api_acm_rest(ctx, req, out)) /* /v1/ca.pem, /v1/certificates */
        return;
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
