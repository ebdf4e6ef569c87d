/*
 * cert.c - stored certificates: import, request, describe, list, get,
 * delete, and who uses them.
 */
#include "routes/acm/acm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define IDEMPOTENCY_SECONDS 3600

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static int not_found(struct sl_err *err, const char *arn)
{
    return sl_err_set(err, 400, "ResourceNotFoundException", "Could not find certificate %.600s.",
                      arn);
}

static int store_fail(struct sl_err *err, const char *what)
{
    sl_err_set(err, 500, "ServiceException", "cannot %s", what);
    return SL_EIO;
}

int acm_arn_id(const char *arn, char id[ACM_ID_MAX], struct sl_err *err)
{
    const char *p = arn, *slash;
    size_t i, n;
    int colons = 0;

    if (arn == NULL || strncmp(arn, "arn:", 4) != 0 || strlen(arn) > ACM_ARN_MAX)
        goto bad;
    for (; *p && colons < 5; p++)
        colons += *p == ':';
    /* arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID */
    if (colons != 5 || strstr(arn, ":acm:") == NULL || strncmp(p, "certificate/", 12) != 0)
        goto bad;
    slash = p + 12;
    n = strlen(slash);
    if (n == 0 || n >= ACM_ID_MAX)
        goto bad;
    for (i = 0; i < n; i++)
        if (!((slash[i] >= '0' && slash[i] <= '9') || (slash[i] >= 'a' && slash[i] <= 'z') ||
              (slash[i] >= 'A' && slash[i] <= 'Z') || slash[i] == '-'))
            goto bad;
    memcpy(id, slash, n + 1);
    return SL_OK;
bad:
    return sl_err_set(err, 400, "InvalidArnException", "The certificate ARN '%.300s' is not valid",
                      arn ? arn : "");
}

/* The stored certificate <arn>: READ-ONLY shared (<copy> 0) or a private
 * copy, or NULL with <err> filled. */
static json_t *find(struct store_txn *txn, const char *arn, int copy, char id[ACM_ID_MAX],
                    struct sl_err *err)
{
    json_t *o;

    if (acm_arn_id(arn, id, err) != SL_OK)
        return NULL;
    o = copy ? store_get(txn, K_CERT, id) : store_get_shared(txn, K_CERT, id);
    if (o && strcmp(str(o, "arn"), arn) != 0) { /* another region or account */
        json_decref(o);
        o = NULL;
    }
    if (o == NULL)
        not_found(err, arn);
    return o;
}

/* ---- the stored shape ---- */

static json_t *names_json(char *const *names, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static json_t *usages_json(unsigned bits, const char *const *names, const char *const *oids)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; names[i]; i++)
        if (bits & (1u << i)) {
            json_t *u = json_pack("{ss}", "Name", names[i]);
            if (oids)
                json_object_set_new(u, "OID", json_string(oids[i]));
            json_array_append_new(a, u);
        }
    return a;
}

/* The members that come from the certificate itself (set again on a
 * re-import). */
static int set_parsed(json_t *o, const struct acm_pem *p)
{
    int rc = 0;

    rc |= json_object_set_new(o, "DomainName", json_string(p->domain));
    rc |= json_object_set_new(o, "SubjectAlternativeNames", names_json(p->sans, p->nsans));
    rc |= json_object_set_new(o, "Serial", json_string(p->serial));
    rc |= json_object_set_new(o, "Subject", json_string(p->subject));
    rc |= json_object_set_new(o, "Issuer", json_string(p->issuer));
    rc |= json_object_set_new(o, "NotBefore", json_integer((json_int_t)p->not_before));
    rc |= json_object_set_new(o, "NotAfter", json_integer((json_int_t)p->not_after));
    rc |= json_object_set_new(o, "KeyAlgorithm", json_string(p->key_algorithm));
    rc |= json_object_set_new(o, "SignatureAlgorithm", json_string(p->signature_algorithm));
    rc |= json_object_set_new(o, "KeyUsages",
                              usages_json(p->key_usage, acm_key_usage_names, NULL));
    rc |= json_object_set_new(o, "ExtendedKeyUsages",
                              usages_json(p->ext_key_usage, acm_ext_key_usage_names,
                                          acm_ext_key_usage_oids));
    rc |= json_object_set_new(o, "_certificate_pem", json_string(p->cert_pem));
    rc |= json_object_set_new(o, "_chain_pem", json_string(p->chain_pem));
    rc |= json_object_set_new(o, "_private_key_pem", json_string(p->key_pem));
    return rc == 0 ? SL_OK : SL_ENOMEM;
}

static json_t *tags_json(const struct acm_tag *tags, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *t = json_pack("{ss}", "Key", tags[i].key);
        if (tags[i].value)
            json_object_set_new(t, "Value", json_string(tags[i].value));
        json_array_append_new(a, t);
    }
    return a;
}

/* A new certificate object of <type>, not yet stored; *id gets its id. */
static json_t *new_cert(const struct acm_env *env, const char *type, const struct acm_pem *p,
                        const struct acm_tag *tags, size_t ntags, char id[ACM_ID_MAX])
{
    char arn[ACM_ARN_MAX];
    json_int_t now = (json_int_t)time(NULL);
    json_t *o;

    util_uuid(id);
    snprintf(arn, sizeof(arn), "arn:aws:acm:%s:%s:certificate/%s", env->region, env->account, id);
    o = json_pack("{ss ss ss ss ss sI ss s[] so}", "id", id, "arn", arn, "CertificateArn", arn,
                  "Status", "ISSUED", "Type", type, "CreatedAt", now, "RenewalEligibility",
                  "INELIGIBLE", "_in_use_by", "Tags", tags_json(tags, ntags));
    if (o == NULL || set_parsed(o, p) != SL_OK ||
        json_object_set_new(o, strcmp(type, "IMPORTED") == 0 ? "ImportedAt" : "IssuedAt",
                            json_integer(now)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int acm_import(struct store_txn *txn, const struct acm_env *env, const char *arn,
               const struct acm_pem *p, const struct acm_tag *tags, size_t ntags,
               json_t **arn_out, struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o;
    int rc = SL_ERR;

    *arn_out = NULL;
    if (p->key_pem == NULL)
        return sl_err_set(err, 400, "ValidationException", "A private key is required");
    if (arn == NULL) {
        if ((o = new_cert(env, "IMPORTED", p, tags, ntags, id)) == NULL)
            return sl_err_set(err, 500, "ServiceException", "out of memory");
    } else {
        if ((o = find(txn, arn, 1, id, err)) == NULL)
            return SL_ERR;
        if (strcmp(str(o, "Type"), "IMPORTED") != 0) {
            sl_err_set(err, 400, "ValidationException",
                       "Certificate %.600s was not imported: only imported certificates can be "
                       "re-imported", arn);
            goto out;
        }
        if (ntags > 0) {
            sl_err_set(err, 400, "InvalidParameterException",
                       "Tags cannot be specified when re-importing a certificate");
            goto out;
        }
        if (set_parsed(o, p) != SL_OK ||
            json_object_set_new(o, "ImportedAt", json_integer((json_int_t)time(NULL))) != 0) {
            sl_err_set(err, 500, "ServiceException", "out of memory");
            goto out;
        }
    }
    if (store_put(txn, K_CERT, id, o) != SL_OK) {
        rc = store_fail(err, "store the certificate");
        goto out;
    }
    *arn_out = json_incref(json_object_get(o, "arn"));
    rc = SL_OK;
out:
    json_decref(o);
    return rc;
}

/* ---- RequestCertificate ---- */

static void idem_key(char *out, size_t cap, const char *token)
{
    snprintf(out, cap, "acmidem:%s", token);
}

json_t *acm_idempotent_arn(struct store_txn *txn, const char *token)
{
    char key[128], val[ACM_ARN_MAX + 32], *bar;
    long long at;

    if (token == NULL)
        return NULL;
    idem_key(key, sizeof(key), token);
    if (store_index_get(txn, key, val, sizeof(val)) != SL_OK || (bar = strchr(val, '|')) == NULL)
        return NULL;
    at = strtoll(val, NULL, 10);
    if (time(NULL) - at > IDEMPOTENCY_SECONDS)
        return NULL;
    return json_string(bar + 1);
}

/* DomainValidationOptions as ACM shows an issued certificate's: SUCCESS for
 * each name, with the CNAME record DNS validation would have asked for. */
static json_t *validations(const struct acm_request *r, const char *id)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < r->p->nsans; i++) {
        const char *name = r->p->sans[i];
        const char *base = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
        const char *vd = r->validation_domains && r->validation_domains[i]
                             ? r->validation_domains[i] : base;
        char rname[320], rvalue[120], hex[48];
        json_t *v;

        /* stable per certificate and name, like ACM's tokens */
        snprintf(hex, sizeof(hex), "%.8s%08x%.16s", id, (unsigned)i, id + (strlen(id) > 20 ? 20 : 0));
        snprintf(rname, sizeof(rname), "_%s.%s.", hex, base);
        snprintf(rvalue, sizeof(rvalue), "_%s.acm-validations.aws.", hex);
        v = json_pack("{ss ss ss ss}", "DomainName", name, "ValidationDomain", vd,
                      "ValidationStatus", "SUCCESS", "ValidationMethod", r->validation_method);
        if (strcmp(r->validation_method, "DNS") == 0)
            json_object_set_new(v, "ResourceRecord",
                                json_pack("{ss ss ss}", "Name", rname, "Type", "CNAME", "Value",
                                          rvalue));
        else
            json_object_set_new(v, "ValidationEmails",
                                json_pack("[s+ s+]", "admin@", vd, "webmaster@", vd));
        json_array_append_new(a, v);
    }
    return a;
}

int acm_request_store(struct store_txn *txn, const struct acm_env *env,
                      const struct acm_request *r, json_t **arn_out, struct sl_err *err)
{
    char id[ACM_ID_MAX], key[128], val[ACM_ARN_MAX + 32];
    json_t *o;
    int rc = SL_ERR;

    if ((*arn_out = acm_idempotent_arn(txn, r->idempotency_token)) != NULL)
        return SL_OK;
    if ((o = new_cert(env, "AMAZON_ISSUED", r->p, r->tags, r->ntags, id)) == NULL)
        return sl_err_set(err, 500, "ServiceException", "out of memory");
    json_object_set_new(o, "DomainValidationOptions", validations(r, id));
    json_object_set_new(o, "Options", json_pack("{ss}", "CertificateTransparencyLoggingPreference",
                                                r->ct_logging));
    if (store_put(txn, K_CERT, id, o) != SL_OK) {
        rc = store_fail(err, "store the certificate");
        goto out;
    }
    if (r->idempotency_token) {
        idem_key(key, sizeof(key), r->idempotency_token);
        snprintf(val, sizeof(val), "%lld|%s", (long long)time(NULL), str(o, "arn"));
        if (store_index_put(txn, key, val) != SL_OK) {
            rc = store_fail(err, "store the idempotency token");
            goto out;
        }
    }
    *arn_out = json_incref(json_object_get(o, "arn"));
    rc = SL_OK;
out:
    json_decref(o);
    return rc;
}

/* ---- reading ---- */

/* ISSUED until NotAfter, EXPIRED after, as ACM shows it. */
static const char *status_of(json_t *o, time_t now)
{
    json_int_t na = json_integer_value(json_object_get(o, "NotAfter"));

    return na && (time_t)na < now ? "EXPIRED" : "ISSUED";
}

static json_t *public_of(json_t *o, time_t now)
{
    json_t *out = json_object(), *v;
    const char *k;

    json_object_foreach(o, k, v)
        if (k[0] != '_' && strcmp(k, "id") != 0 && strcmp(k, "arn") != 0 &&
            strcmp(k, "Tags") != 0)
            json_object_set(out, k, v);
    json_object_set_new(out, "Status", json_string(status_of(o, now)));
    json_object_set(out, "InUseBy", json_object_get(o, "_in_use_by"));
    return out;
}

int acm_describe(struct store_txn *txn, const char *arn, time_t now, json_t **out,
                 struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o = find(txn, arn, 0, id, err);

    if (o == NULL)
        return SL_ERR;
    *out = public_of(o, now);
    json_decref(o);
    return SL_OK;
}

int acm_get(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o = find(txn, arn, 0, id, err);

    if (o == NULL)
        return SL_ERR;
    *out = json_pack("{ss}", "Certificate", str(o, "_certificate_pem"));
    if (str(o, "_chain_pem")[0])
        json_object_set_new(*out, "CertificateChain", json_string(str(o, "_chain_pem")));
    json_decref(o);
    return SL_OK;
}

int acm_delete(struct store_txn *txn, const char *arn, struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o = find(txn, arn, 0, id, err), *users;
    int rc = SL_OK;

    if (o == NULL)
        return SL_ERR;
    users = json_object_get(o, "_in_use_by");
    if (json_array_size(users) > 0)
        rc = sl_err_set(err, 400, "ResourceInUseException",
                        "Certificate %.600s is in use by %.300s", arn,
                        json_string_value(json_array_get(users, 0)));
    else if (store_del(txn, K_CERT, id) != SL_OK)
        rc = store_fail(err, "delete the certificate");
    json_decref(o);
    return rc;
}

/* ---- for ELBv2 ---- */

int acm_cert_exists(struct store_txn *txn, const char *arn)
{
    struct sl_err err;
    char id[ACM_ID_MAX];
    json_t *o = find(txn, arn, 0, id, &err);

    json_decref(o);
    return o != NULL;
}

int acm_cert_use(struct store_txn *txn, const char *arn, const char *user_arn, int in_use,
                 struct sl_err *err)
{
    char id[ACM_ID_MAX];
    struct sl_err ignored;
    json_t *o = find(txn, arn, 1, id, &ignored), *users, *u;
    size_t i, at = (size_t)-1;
    int rc = SL_OK;

    if (o == NULL)
        return in_use ? SL_ENOTFOUND : SL_OK;
    users = json_object_get(o, "_in_use_by");
    if (!json_is_array(users)) {
        users = json_array();
        json_object_set_new(o, "_in_use_by", users);
    }
    json_array_foreach(users, i, u)
        if (strcmp(json_string_value(u) ? json_string_value(u) : "", user_arn) == 0)
            at = i;
    if (in_use && at == (size_t)-1)
        json_array_append_new(users, json_string(user_arn));
    else if (!in_use && at != (size_t)-1)
        json_array_remove(users, at);
    else
        goto out; /* no change: no record */
    if (store_put(txn, K_CERT, id, o) != SL_OK)
        rc = store_fail(err, "record the certificate's use");
out:
    json_decref(o);
    return rc;
}
