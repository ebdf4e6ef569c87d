/*
 * acm_actions.c - the ACM JSON 1.1 actions: ImportCertificate,
 * RequestCertificate, DescribeCertificate, ListCertificates,
 * GetCertificate, DeleteCertificate, AddTagsToCertificate,
 * RemoveTagsFromCertificate, ListTagsForCertificate.
 */
#include "routes/api/acm_actions.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routes/acm/ca.h"
#include "routes/wire/base64.h"
#include "routes/wire/params.h"

static const char *const key_algorithms[] = {"RSA_1024",      "RSA_2048",     "RSA_3072",
                                             "RSA_4096",      "EC_prime256v1", "EC_secp384r1",
                                             "EC_secp521r1",  NULL};
static const char *const statuses[] = {"PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED",
                                       "VALIDATION_TIMED_OUT", "REVOKED", "FAILED", NULL};

/* The shared accessors speak ELBv2 ("ValidationError"); ACM says
 * ValidationException. */
static int acm_fail(struct sl_err *err)
{
    if (strcmp(err->code, "ValidationError") == 0)
        snprintf(err->code, sizeof(err->code), "ValidationException");
    return SL_ERR;
}

/* Every member of <req> is one of <known> (NULL-terminated). */
static int members_check(json_t *req, const char *const *known, struct sl_err *err)
{
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach(req, k, v) {
        for (i = 0; known[i] && strcmp(known[i], k) != 0; i++)
            ;
        if (known[i] == NULL)
            return sl_err_set(err, 400, "ValidationException",
                              "Member '%.64s' is not supported by sluice's ACM API", k);
    }
    return SL_OK;
}

/* A blob member: base64 text decoded into *out (free with wipe()). */
static int blob(json_t *req, const char *name, int required, char **out, size_t *len,
                struct sl_err *err)
{
    const char *s = NULL;
    int rc = p_str(req, name, required, &s, err);

    *out = NULL;
    *len = 0;
    if (rc != SL_OK)
        return rc == SL_ERR ? acm_fail(err) : SL_ENOTFOUND;
    rc = b64_decode(s, strlen(s), out, len);
    if (rc == SL_ENOMEM)
        return sl_err_set(err, 500, "ServiceException", "out of memory");
    if (rc != SL_OK)
        return sl_err_set(err, 400, "ValidationException",
                          "Member '%s' must be base64-encoded bytes (a blob)", name);
    return SL_OK;
}

static void wipe(char *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

/* Tags [{Key, Value}] with at least <min>; *out (free()) gets *n. */
static int tags_decode(json_t *req, int required, size_t min, struct acm_tag **out, size_t *n,
                       struct sl_err *err)
{
    json_t *list, *t;
    size_t i;
    int rc = p_list(req, "Tags", required, min, 1000, &list, err);

    *out = NULL;
    *n = 0;
    if (rc == SL_ENOTFOUND)
        return SL_OK;
    if (rc != SL_OK)
        return acm_fail(err);
    if ((*out = calloc(json_array_size(list) + 1, sizeof(**out))) == NULL)
        return sl_err_set(err, 500, "ServiceException", "out of memory");
    json_array_foreach(list, i, t)
        if (!json_is_object(t) || p_str(t, "Key", P_REQUIRED, &(*out)[i].key, err) != SL_OK ||
            p_str(t, "Value", P_OPTIONAL, &(*out)[i].value, err) == SL_ERR)
            return json_is_object(t) ? acm_fail(err)
                                     : sl_err_set(err, 400, "ValidationException",
                                                  "Tags must be a list of {Key, Value}");
    *n = json_array_size(list);
    return acm_tags_check(*out, *n, err);
}

static int arn_member(json_t *req, const char **arn, struct sl_err *err)
{
    char id[ACM_ID_MAX];

    if (p_str(req, "CertificateArn", P_REQUIRED, arn, err) != SL_OK)
        return acm_fail(err);
    return acm_arn_id(*arn, id, err);
}

/* ---- ImportCertificate ---- */

struct import_call {
    const struct api_ctx *ctx;
    const char *arn;
    struct acm_pem pem;
    struct acm_tag *tags;
    size_t ntags;
    json_t *out;
};

static int import_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct import_call *c = arg;

    return acm_import(txn, &c->ctx->acm, c->arn, &c->pem, c->tags, c->ntags, &c->out, err);
}

json_t *api_acm_import_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const known[] = {"CertificateArn", "Certificate", "PrivateKey",
                                        "CertificateChain", "Tags", NULL};
    struct import_call c = {ctx, NULL, {0}, NULL, 0, NULL};
    char *cert = NULL, *key = NULL, *chain = NULL;
    size_t cert_len = 0, key_len = 0, chain_len = 0;

    if (members_check(req, known, err) != SL_OK ||
        p_str(req, "CertificateArn", P_OPTIONAL, &c.arn, err) == SL_ERR ||
        (c.arn && arn_member(req, &c.arn, err) != SL_OK) ||
        blob(req, "Certificate", P_REQUIRED, &cert, &cert_len, err) != SL_OK ||
        blob(req, "PrivateKey", P_REQUIRED, &key, &key_len, err) != SL_OK ||
        blob(req, "CertificateChain", P_OPTIONAL, &chain, &chain_len, err) == SL_ERR ||
        tags_decode(req, P_OPTIONAL, 0, &c.tags, &c.ntags, err) != SL_OK)
        goto out;
    if (acm_pem_parse(cert, cert_len, key, key_len, chain, chain ? chain_len : 0, time(NULL),
                      &c.pem, err) != SL_OK ||
        api_write(ctx, import_tx, &c, err) != SL_OK)
        c.out = NULL;
out:
    acm_pem_clear(&c.pem);
    free(cert);
    wipe(key, key_len);
    free(chain);
    free(c.tags);
    return c.out ? json_pack("{so}", "CertificateArn", c.out) : NULL;
}

/* ---- RequestCertificate ---- */

struct request_args {
    const char *domain, *method, *key_alg, *token, *ct;
    const char **sans;
    size_t nsans;
    const char *vdomains[ACM_SANS_MAX];
    struct acm_tag *tags;
    size_t ntags;
};

/* Members sluice cannot honour are refused, with the reason. */
static int request_refusals(json_t *req, struct request_args *a, struct sl_err *err)
{
    json_t *opts = NULL;
    const char *export = NULL;

    if (p_present(req, "CertificateAuthorityArn"))
        return sl_err_set(err, 400, "ValidationException",
                          "CertificateAuthorityArn is not supported by sluice: certificates "
                          "are issued by its local certificate authority (GET /v1/ca.pem)");
    if (p_present(req, "ManagedBy"))
        return sl_err_set(err, 400, "ValidationException",
                          "ManagedBy is not supported by sluice: no CloudFront manages its "
                          "certificates");
    if (strcmp(a->method, "HTTP") == 0)
        return sl_err_set(err, 400, "ValidationException",
                          "ValidationMethod HTTP is only for CloudFront-managed certificates");
    if (p_obj(req, "Options", P_OPTIONAL, &opts, err) == SL_ERR ||
        p_enum(opts, "CertificateTransparencyLoggingPreference", P_OPTIONAL,
               (const char *const[]){"ENABLED", "DISABLED", NULL}, &a->ct, err) == SL_ERR ||
        p_enum(opts, "Export", P_OPTIONAL, (const char *const[]){"ENABLED", "DISABLED", NULL},
               &export, err) == SL_ERR)
        return acm_fail(err);
    if (export && strcmp(export, "ENABLED") == 0)
        return sl_err_set(err, 400, "ValidationException",
                          "Options.Export ENABLED is not supported by sluice: private keys "
                          "never leave it");
    if (a->ct == NULL)
        a->ct = "ENABLED";
    return SL_OK;
}

/* DomainValidationOptions [{DomainName, ValidationDomain}]: each names one
 * of the certificate's names; the ValidationDomain is that name or a
 * parent of it. */
static int validation_domains(json_t *req, struct request_args *a, char *const *names,
                              size_t n, struct sl_err *err)
{
    json_t *list, *o;
    size_t i, k;
    int rc = p_list(req, "DomainValidationOptions", P_OPTIONAL, 1, 100, &list, err);

    if (rc != SL_OK)
        return rc == SL_ERR ? acm_fail(err) : SL_OK;
    json_array_foreach(list, i, o) {
        const char *dn = NULL, *vd = NULL;
        size_t dl, vl;
        if (p_str(o, "DomainName", P_REQUIRED, &dn, err) != SL_OK ||
            p_str(o, "ValidationDomain", P_REQUIRED, &vd, err) != SL_OK)
            return acm_fail(err);
        for (k = 0; k < n && strcmp(names[k], dn) != 0; k++)
            ;
        dl = strlen(dn);
        vl = strlen(vd);
        if (k == n || vl > dl ||
            (vl < dl && (strcmp(dn + dl - vl, vd) != 0 || dn[dl - vl - 1] != '.')) ||
            (vl == dl && strcmp(dn, vd) != 0))
            return sl_err_set(err, 400, "InvalidDomainValidationOptionsException",
                              "DomainValidationOptions: '%.253s' with ValidationDomain "
                              "'%.253s' does not name one of the certificate's domains and a "
                              "parent of it", dn, vd);
        a->vdomains[k] = vd;
    }
    return SL_OK;
}

static int request_decode(json_t *req, struct request_args *a, struct sl_err *err)
{
    static const char *const known[] = {
        "DomainName", "ValidationMethod", "SubjectAlternativeNames", "IdempotencyToken",
        "DomainValidationOptions", "Options", "CertificateAuthorityArn", "Tags",
        "KeyAlgorithm", "ManagedBy", NULL};
    size_t i;

    memset(a, 0, sizeof(*a));
    if (members_check(req, known, err) != SL_OK ||
        p_str(req, "DomainName", P_REQUIRED, &a->domain, err) != SL_OK ||
        p_enum(req, "ValidationMethod", P_OPTIONAL,
               (const char *const[]){"EMAIL", "DNS", "HTTP", NULL}, &a->method, err) == SL_ERR ||
        p_strv(req, "SubjectAlternativeNames", P_OPTIONAL, 1, ACM_SANS_MAX - 1, &a->sans,
               &a->nsans, err) == SL_ERR ||
        p_str(req, "IdempotencyToken", P_OPTIONAL, &a->token, err) == SL_ERR ||
        p_enum(req, "KeyAlgorithm", P_OPTIONAL, key_algorithms, &a->key_alg, err) == SL_ERR)
        return acm_fail(err);
    if (a->method == NULL)
        a->method = "EMAIL";
    if (a->key_alg == NULL)
        a->key_alg = "RSA_2048";
    if (a->token && (strlen(a->token) < 1 || strlen(a->token) > 32 ||
                     strspn(a->token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_") != strlen(a->token)))
        return sl_err_set(err, 400, "ValidationException",
                          "IdempotencyToken must be 1-32 word characters");
    if (acm_domain_check(a->domain, "domainName", err) != SL_OK)
        return SL_ERR;
    for (i = 0; i < a->nsans; i++)
        if (acm_domain_check(a->sans[i], "subjectAlternativeNames", err) != SL_OK)
            return SL_ERR;
    if (request_refusals(req, a, err) != SL_OK)
        return SL_ERR;
    return tags_decode(req, P_OPTIONAL, 0, &a->tags, &a->ntags, err);
}

struct request_call {
    const struct api_ctx *ctx;
    const char *token;
    struct acm_request r;
    json_t *out;
};

static int idem_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct request_call *c = arg;

    c->out = acm_idempotent_arn(txn, c->token);
    return SL_OK;
}

static int request_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct request_call *c = arg;

    return acm_request_store(txn, &c->ctx->acm, &c->r, &c->out, err);
}

/* Issue from the local authority, then store what it issued. */
static int request_issue(const struct api_ctx *ctx, struct request_args *a,
                         struct request_call *c, struct sl_err *err)
{
    char *cert = NULL, *key = NULL;
    const char *ca;
    struct acm_pem p;
    int rc;

    if (ctx->acm.ca == NULL)
        return sl_err_set(err, 500, "ServiceException",
                          "sluiced has no local certificate authority");
    if (acm_ca_issue(ctx->acm.ca, a->domain, a->sans, a->nsans, a->key_alg, &cert, &key, err) !=
        SL_OK)
        return SL_ERR;
    ca = acm_ca_pem(ctx->acm.ca);
    rc = acm_pem_parse(cert, strlen(cert), key, strlen(key), ca, strlen(ca), time(NULL), &p, err);
    wipe(key, strlen(key));
    free(cert);
    if (rc != SL_OK)
        return sl_err_set(err, 500, "ServiceException", "the issued certificate does not parse");
    c->r.p = &p;
    rc = api_write(ctx, request_tx, c, err);
    c->r.p = NULL;
    acm_pem_clear(&p);
    return rc;
}

json_t *api_acm_request_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct request_args a;
    struct request_call c;
    char *names[ACM_SANS_MAX];
    size_t n = 0, i;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (request_decode(req, &a, err) != SL_OK)
        goto out;
    /* the certificate's names as ACM lists them: the domain, then each
     * other name once */
    names[n++] = (char *)a.domain;
    for (i = 0; i < a.nsans; i++) {
        size_t k;
        for (k = 0; k < n && strcmp(names[k], a.sans[i]) != 0; k++)
            ;
        if (k == n)
            names[n++] = (char *)a.sans[i];
    }
    if (validation_domains(req, &a, names, n, err) != SL_OK)
        goto out;
    c.token = a.token;
    c.r = (struct acm_request){NULL, a.method, a.vdomains, a.ct, a.token, a.tags, a.ntags};
    if (a.token && api_read(ctx, idem_tx, &c, err) != SL_OK)
        goto out;
    if (c.out == NULL && request_issue(ctx, &a, &c, err) != SL_OK)
        c.out = NULL;
out:
    free(a.sans);
    free(a.tags);
    return c.out ? json_pack("{so}", "CertificateArn", c.out) : NULL;
}

/* ---- reads ---- */

static int one_of(const char *s, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(s, *allowed) == 0)
            return 1;
    return 0;
}

struct arn_call {
    const char *arn;
    json_t *out;
    const struct acm_tag *tags;
    size_t ntags;
};

static int describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct arn_call *c = arg;

    return acm_describe(txn, c->arn, time(NULL), &c->out, err);
}

static json_t *describe_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const known[] = {"CertificateArn", NULL};
    struct arn_call c = {NULL, NULL, NULL, 0};

    if (members_check(req, known, err) != SL_OK || arn_member(req, &c.arn, err) != SL_OK ||
        api_read(ctx, describe_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "Certificate", c.out);
}

static int get_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct arn_call *c = arg;

    return acm_get(txn, c->arn, &c->out, err);
}

static json_t *get_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const known[] = {"CertificateArn", NULL};
    struct arn_call c = {NULL, NULL, NULL, 0};

    if (members_check(req, known, err) != SL_OK || arn_member(req, &c.arn, err) != SL_OK ||
        api_read(ctx, get_tx, &c, err) != SL_OK)
        return NULL;
    return c.out;
}

struct list_call {
    struct acm_list_query q;
    json_t *out;
};

static int list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct list_call *c = arg;

    return acm_list(txn, &c->q, time(NULL), &c->out, err);
}

static int includes_decode(json_t *req, struct acm_list_query *q, struct sl_err *err)
{
    static const char *const ku[] = {"DIGITAL_SIGNATURE", "NON_REPUDIATION", "KEY_ENCIPHERMENT",
                                     "DATA_ENCIPHERMENT", "KEY_AGREEMENT", "CERTIFICATE_SIGNING",
                                     "CRL_SIGNING", "ENCIPHER_ONLY", "DECIPHER_ONLY", "ANY",
                                     "CUSTOM", NULL};
    static const char *const eku[] = {
        "TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION", "CODE_SIGNING",
        "EMAIL_PROTECTION", "TIME_STAMPING", "OCSP_SIGNING", "IPSEC_END_SYSTEM", "IPSEC_TUNNEL",
        "IPSEC_USER", "ANY", "NONE", "CUSTOM", NULL};
    static const char *const known[] = {"extendedKeyUsage", "keyUsage", "keyTypes",
                                        "exportOption", "managedBy", NULL};
    struct { const char *name; const char *const *allowed; const char ***out; size_t *n; } lists[] = {
        {"keyTypes", key_algorithms, (const char ***)&q->key_types, &q->nkey_types},
        {"keyUsage", ku, (const char ***)&q->key_usages, &q->nkey_usages},
        {"extendedKeyUsage", eku, (const char ***)&q->ext_key_usages, &q->next_key_usages},
    };
    json_t *inc = NULL;
    size_t i, k;

    if (p_obj(req, "Includes", P_OPTIONAL, &inc, err) == SL_ERR)
        return acm_fail(err);
    if (inc == NULL)
        return SL_OK;
    if (members_check(inc, known, err) != SL_OK ||
        p_enum(inc, "exportOption", P_OPTIONAL, (const char *const[]){"ENABLED", "DISABLED", NULL},
               &q->export_option, err) == SL_ERR ||
        p_enum(inc, "managedBy", P_OPTIONAL, (const char *const[]){"CLOUDFRONT", NULL},
               &q->managed_by, err) == SL_ERR)
        return acm_fail(err);
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (p_strv(inc, lists[i].name, P_OPTIONAL, 0, 100, lists[i].out, lists[i].n, err) ==
            SL_ERR)
            return acm_fail(err);
        for (k = 0; k < *lists[i].n; k++)
            if (!one_of((*lists[i].out)[k], lists[i].allowed))
                return sl_err_set(err, 400, "ValidationException",
                                  "Includes.%s: '%.64s' is not one of the model's values",
                                  lists[i].name, (*lists[i].out)[k]);
    }
    return SL_OK;
}

static json_t *list_certificates(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const known[] = {"CertificateStatuses", "Includes", "NextToken",
                                        "MaxItems", "SortBy", "SortOrder", NULL};
    struct list_call c;
    const char *next = NULL, *order = NULL, *sort = NULL;
    long max = ACM_LIST_MAX, start = 0;
    json_t *page = NULL, *res = NULL;
    size_t i, n;

    memset(&c, 0, sizeof(c));
    if (members_check(req, known, err) != SL_OK ||
        p_strv(req, "CertificateStatuses", P_OPTIONAL, 0, 7, (const char ***)&c.q.statuses,
               &c.q.nstatuses, err) == SL_ERR ||
        p_str(req, "NextToken", P_OPTIONAL, &next, err) == SL_ERR ||
        p_int(req, "MaxItems", P_OPTIONAL, 1, ACM_LIST_MAX, &max, err) == SL_ERR ||
        p_enum(req, "SortBy", P_OPTIONAL, (const char *const[]){"CREATED_AT", NULL}, &sort,
               err) == SL_ERR ||
        p_enum(req, "SortOrder", P_OPTIONAL, (const char *const[]){"ASCENDING", "DESCENDING", NULL},
               &order, err) == SL_ERR) {
        acm_fail(err);
        goto out;
    }
    for (i = 0; i < c.q.nstatuses; i++)
        if (!one_of(c.q.statuses[i], statuses)) {
            sl_err_set(err, 400, "ValidationException",
                       "CertificateStatuses: '%.64s' is not a certificate status",
                       c.q.statuses[i]);
            goto out;
        }
    if (includes_decode(req, &c.q, err) != SL_OK)
        goto out;
    if (next) {
        char *end;
        start = strtol(next, &end, 10);
        if (*next == '\0' || *end != '\0' || start < 0) {
            sl_err_set(err, 400, "InvalidArgsException", "The NextToken '%.64s' is not valid",
                       next);
            goto out;
        }
    }
    c.q.descending = order && strcmp(order, "DESCENDING") == 0;
    if (api_read(ctx, list_tx, &c, err) != SL_OK)
        goto out;
    page = json_array();
    n = json_array_size(c.out);
    for (i = (size_t)start; i < n && i < (size_t)start + (size_t)max; i++)
        json_array_append(page, json_array_get(c.out, i));
    res = json_pack("{so}", "CertificateSummaryList", page);
    if (i < n) {
        char tok[32];
        snprintf(tok, sizeof(tok), "%zu", i);
        json_object_set_new(res, "NextToken", json_string(tok));
    }
out:
    json_decref(c.out);
    free((void *)c.q.statuses);
    free((void *)c.q.key_types);
    free((void *)c.q.key_usages);
    free((void *)c.q.ext_key_usages);
    return res;
}

static int tags_list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct arn_call *c = arg;

    return acm_tags_list(txn, c->arn, &c->out, err);
}

static json_t *list_tags(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const known[] = {"CertificateArn", NULL};
    struct arn_call c = {NULL, NULL, NULL, 0};

    if (members_check(req, known, err) != SL_OK || arn_member(req, &c.arn, err) != SL_OK ||
        api_read(ctx, tags_list_tx, &c, err) != SL_OK)
        return NULL;
    return c.out;
}

/* ---- writes ---- */

static int delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct arn_call *c = arg;

    return acm_delete(txn, c->arn, err);
}

static int tags_add_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct arn_call *c = arg;

    return acm_tags_add(txn, c->arn, c->tags, c->ntags, err);
}

static int tags_remove_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct arn_call *c = arg;

    return acm_tags_remove(txn, c->arn, c->tags, c->ntags, err);
}

static json_t *delete_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    static const char *const known[] = {"CertificateArn", NULL};
    struct arn_call c = {NULL, NULL, NULL, 0};

    if (members_check(req, known, err) != SL_OK || arn_member(req, &c.arn, err) != SL_OK ||
        api_write(ctx, delete_tx, &c, err) != SL_OK)
        return NULL;
    return json_object();
}

static json_t *tags_change(const struct api_ctx *ctx, json_t *req, store_write_fn fn,
                           struct sl_err *err)
{
    static const char *const known[] = {"CertificateArn", "Tags", NULL};
    struct arn_call c = {NULL, NULL, NULL, 0};
    struct acm_tag *tags = NULL;
    int rc = SL_ERR;

    if (members_check(req, known, err) == SL_OK && arn_member(req, &c.arn, err) == SL_OK &&
        tags_decode(req, P_REQUIRED, 1, &tags, &c.ntags, err) == SL_OK) {
        c.tags = tags;
        rc = api_write(ctx, fn, &c, err);
    }
    free(tags);
    return rc == SL_OK ? json_object() : NULL;
}

static json_t *add_tags(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return tags_change(ctx, req, tags_add_tx, err);
}

static json_t *remove_tags(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return tags_change(ctx, req, tags_remove_tx, err);
}

/* Designated initializers: the table keeps compiling when struct
 * api_action gains members. */
const struct api_action api_acm_actions[] = {
    {.name = "ImportCertificate", .fn = api_acm_import_certificate},
    {.name = "RequestCertificate", .fn = api_acm_request_certificate},
    {.name = "DescribeCertificate", .fn = describe_certificate},
    {.name = "ListCertificates", .fn = list_certificates},
    {.name = "GetCertificate", .fn = get_certificate},
    {.name = "DeleteCertificate", .fn = delete_certificate},
    {.name = "AddTagsToCertificate", .fn = add_tags},
    {.name = "RemoveTagsFromCertificate", .fn = remove_tags},
    {.name = "ListTagsForCertificate", .fn = list_tags},
    {.name = NULL},
};
