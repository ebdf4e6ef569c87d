/*
 * acm_rest.c - ACM in the REST door: GET /v1/ca.pem (the local certificate
 * authority's root) and the /v1/certificates collection (openapi.yaml).
 *
 * A certificate's REST view is its CertificateDetail plus "id" (the UUID
 * of its ARN), "arn" and "Tags".  POST imports PEM text (Certificate,
 * PrivateKey, CertificateChain) or, without Certificate, requests one from
 * the local authority (DomainName, SubjectAlternativeNames, KeyAlgorithm,
 * ValidationMethod); PUT re-imports; DELETE is 409 while a listener uses
 * it.  The calls are the JSON 1.1 actions', so the checks are the same.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routes/acm/ca.h"
#include "routes/api/acm_actions.h"
#include "routes/api/rest.h"

#define CERTS_PATH "/v1/certificates"

static void reply_error(const struct sl_err *e, struct front_reply *out)
{
    struct sl_err m = *e;

    if (strcmp(e->code, "ResourceNotFoundException") == 0)
        m.status = 404;
    else if (strcmp(e->code, "ResourceInUseException") == 0)
        m.status = 409;
    else
        m.status = rest_status(e);
    front_rest_error(m.status, m.code[0] ? m.code : "InternalFailure", m.message, out);
}

static void not_allowed(struct front_reply *out, const char *allow)
{
    snprintf(out->allow, sizeof(out->allow), "%s", allow);
    front_rest_error(405, "MethodNotAllowed", "method not allowed on this path", out);
}

static void arn_of(const struct api_ctx *ctx, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "arn:aws:acm:%s:%s:certificate/%s", ctx->acm.region, ctx->acm.account,
             id);
}

/* ---- views ---- */

struct view_call {
    const char *arn;
    json_t *out;
};

static json_t *view_of(struct store_txn *txn, const char *arn, struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *v, *tags;

    if (acm_describe(txn, arn, time(NULL), &v, err) != SL_OK)
        return NULL;
    if (acm_tags_list(txn, arn, &tags, err) != SL_OK) {
        json_decref(v);
        return NULL;
    }
    acm_arn_id(arn, id, err);
    json_object_set_new(v, "id", json_string(id));
    json_object_set_new(v, "arn", json_string(arn));
    json_object_set(v, "Tags", json_object_get(tags, "Tags"));
    json_decref(tags);
    return v;
}

static int view_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct view_call *c = arg;

    return (c->out = view_of(txn, c->arn, err)) ? SL_OK : SL_ERR;
}

static int list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    static const char *const all[] = {"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096",
                                      "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"};
    struct acm_list_query q;
    struct view_call *c = arg;
    json_t *sums, *s, *items;
    size_t i;

    memset(&q, 0, sizeof(q));
    q.key_types = all;
    q.nkey_types = sizeof(all) / sizeof(all[0]);
    if (acm_list(txn, &q, time(NULL), &sums, err) != SL_OK)
        return SL_ERR;
    items = json_array();
    json_array_foreach(sums, i, s) {
        json_t *v = view_of(txn, json_string_value(json_object_get(s, "CertificateArn")), err);
        if (v == NULL) {
            json_decref(items);
            json_decref(sums);
            return SL_ERR;
        }
        json_array_append_new(items, v);
    }
    json_decref(sums);
    c->out = json_pack("{so}", "items", items);
    return SL_OK;
}

/* ---- writes ---- */

static json_t *b64(const char *s)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(4 * ((n + 2) / 3) + 1);
    json_t *v;

    if (out == NULL)
        return NULL;
    EVP_EncodeBlock(out, (const unsigned char *)s, (int)n);
    v = json_string((char *)out);
    free(out);
    return v;
}

/* The JSON 1.1 ImportCertificate request for a REST body of PEM text. */
static json_t *import_req(json_t *body, const char *arn, struct sl_err *err)
{
    static const char *const pems[] = {"Certificate", "PrivateKey", "CertificateChain"};
    json_t *req = json_object(), *v;
    const char *k;
    size_t i;

    json_object_foreach(body, k, v) {
        for (i = 0; i < 3 && strcmp(k, pems[i]) != 0; i++)
            ;
        if (i < 3 && !json_is_string(v)) {
            json_decref(req);
            sl_err_set(err, 400, "ValidationException", "%s must be PEM text", k);
            return NULL;
        }
        json_object_set_new(req, k, i < 3 ? b64(json_string_value(v)) : json_incref(v));
    }
    if (arn)
        json_object_set_new(req, "CertificateArn", json_string(arn));
    return req;
}

static void reply_view(const struct api_ctx *ctx, const char *arn, int status,
                       struct front_reply *out)
{
    struct view_call c = {arn, NULL};
    struct sl_err err = {0};

    if (api_read(ctx, view_tx, &c, &err) != SL_OK) {
        reply_error(&err, out);
        return;
    }
    if (status == 201)
        snprintf(out->location, sizeof(out->location), CERTS_PATH "/%s",
                 json_string_value(json_object_get(c.out, "id")));
    rest_reply_json(out, status, c.out);
}

static void create_or_replace(const struct api_ctx *ctx, const struct front_request *req,
                              const char *arn, struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *body = rest_parse_body(req, out), *call = NULL, *res = NULL;

    if (body == NULL)
        return;
    if (arn || json_object_get(body, "Certificate")) {
        if ((call = import_req(body, arn, &err)) != NULL)
            res = api_acm_import_certificate(ctx, call, &err);
    } else {
        res = api_acm_request_certificate(ctx, body, &err);
    }
    json_decref(call);
    json_decref(body);
    if (res == NULL) {
        reply_error(&err, out);
        return;
    }
    reply_view(ctx, json_string_value(json_object_get(res, "CertificateArn")), arn ? 200 : 201,
               out);
    json_decref(res);
}

static int delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct view_call *c = arg;

    return acm_delete(txn, c->arn, err);
}

static void route_one(const struct api_ctx *ctx, const struct front_request *req,
                      const char *id, struct front_reply *out)
{
    char arn[ACM_ARN_MAX], cid[ACM_ID_MAX];
    struct view_call c = {arn, NULL};
    struct sl_err err = {0};

    arn_of(ctx, id, arn, sizeof(arn));
    if (acm_arn_id(arn, cid, &err) != SL_OK) {
        front_rest_error(404, "ResourceNotFoundException", "no such certificate", out);
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        reply_view(ctx, arn, 200, out);
    } else if (strcmp(req->method, "PUT") == 0) {
        create_or_replace(ctx, req, arn, out);
    } else if (strcmp(req->method, "DELETE") == 0) {
        if (api_write(ctx, delete_tx, &c, &err) != SL_OK)
            reply_error(&err, out);
        else
            out->status = 204;
    } else {
        not_allowed(out, "GET, PUT, DELETE");
    }
}

int api_acm_rest(const struct api_ctx *ctx, const struct front_request *req,
                 struct front_reply *out)
{
    const char *p = req->path ? req->path : "";
    struct view_call c = {NULL, NULL};
    struct sl_err err = {0};

    if (strcmp(p, "/v1/ca.pem") == 0) {
        if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
            not_allowed(out, "GET, HEAD");
        } else if (ctx->acm.ca == NULL) {
            front_rest_error(404, "NotFound", "sluiced has no local certificate authority", out);
        } else {
            out->status = 200;
            out->content_type = "application/x-pem-file";
            buf_puts(&out->body, acm_ca_pem(ctx->acm.ca));
        }
        return 1;
    }
    if (strncmp(p, CERTS_PATH, strlen(CERTS_PATH)) != 0 ||
        (p[strlen(CERTS_PATH)] != '\0' && p[strlen(CERTS_PATH)] != '/'))
        return 0;
    p += strlen(CERTS_PATH);
    if (*p == '\0' || strcmp(p, "/") == 0) {
        if (strcmp(req->method, "GET") == 0) {
            if (api_read(ctx, list_tx, &c, &err) != SL_OK)
                reply_error(&err, out);
            else
                rest_reply_json(out, 200, c.out);
        } else if (strcmp(req->method, "POST") == 0) {
            create_or_replace(ctx, req, NULL, out);
        } else {
            not_allowed(out, "GET, POST");
        }
        return 1;
    }
    if (strchr(p + 1, '/') != NULL) {
        front_rest_error(404, "NotFound", "no such path; see GET /openapi.json", out);
        return 1;
    }
    route_one(ctx, req, p + 1, out);
    return 1;
}
