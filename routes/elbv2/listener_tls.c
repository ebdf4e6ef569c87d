/*
 * listener_tls.c - HTTPS listeners' certificates, policies and ALPN.
 */
#include "routes/elbv2/listener_tls.h"

#include <string.h>

#include "common/tls_policy.h"
#include "routes/acm/acm.h"
#include "routes/elbv2/objects.h"

const char *const elb_alpn_policy_names[] = {"HTTP1Only", "HTTP2Only", "HTTP2Optional",
                                             "HTTP2Preferred", "None", NULL};

int elb_listener_tls_check(const char *protocol, const char *ssl_policy, const char *alpn,
                           struct sl_err *err)
{
    int https = protocol && strcmp(protocol, "HTTPS") == 0;
    size_t i;

    if (ssl_policy && !https)
        return sl_err_set(err, 400, "ValidationError",
                          "An SSL policy can be set only on an HTTPS listener");
    if (ssl_policy && tls_policy_find(ssl_policy) == NULL)
        return sl_err_set(err, 400, "SSLPolicyNotFound", "SSL policy '%.128s' not found",
                          ssl_policy);
    if (alpn == NULL)
        return SL_OK;
    if (!https)
        return sl_err_set(err, 400, "ValidationError",
                          "An ALPN policy can be set only on an HTTPS listener");
    for (i = 0; elb_alpn_policy_names[i]; i++)
        if (strcmp(alpn, elb_alpn_policy_names[i]) == 0)
            return SL_OK;
    return sl_err_set(err, 400, "ALPNPolicyNotFound",
                      "ALPN policy '%.64s' not found: use HTTP1Only, HTTP2Only, HTTP2Optional, "
                      "HTTP2Preferred or None",
                      alpn);
}

int elb_redirect_protocol_check(json_t *actions, const char *protocol, struct sl_err *err)
{
    json_t *a;
    size_t i;

    if (protocol == NULL || strcmp(protocol, "HTTPS") != 0)
        return SL_OK;
    json_array_foreach(actions, i, a) {
        const char *p = elb_str(json_object_get(a, "RedirectConfig"), "Protocol");
        if (strcmp(elb_str(a, "Type"), "redirect") == 0 && strcmp(p, "HTTP") == 0)
            return sl_err_set(err, 400, "InvalidLoadBalancerAction",
                              "You cannot redirect HTTPS to HTTP");
    }
    return SL_OK;
}

/* ---- which certificates a listener names ---- */

/* Every certificate ARN of listener <l> (borrowed strings), the default
 * first, each once, into <out> (a new array). */
static json_t *cert_arns(json_t *l)
{
    json_t *out = json_array(), *c;
    size_t i, k;

    if (l == NULL || strcmp(elb_str(l, "Protocol"), "HTTPS") != 0)
        return out;
    json_array_foreach(json_object_get(l, "Certificates"), i, c)
        json_array_append(out, json_object_get(c, "CertificateArn"));
    json_array_foreach(json_object_get(l, "_extra_certs"), i, c) {
        for (k = 0; k < json_array_size(out); k++)
            if (json_equal(json_array_get(out, k), c))
                break;
        if (k == json_array_size(out))
            json_array_append(out, c);
    }
    return out;
}

static int has(json_t *arr, json_t *v)
{
    size_t i;

    for (i = 0; i < json_array_size(arr); i++)
        if (json_equal(json_array_get(arr, i), v))
            return 1;
    return 0;
}

int elb_listener_certs_sync(struct store_txn *txn, const char *arn, json_t *before,
                            json_t *after, struct sl_err *err)
{
    json_t *was = cert_arns(before), *now = cert_arns(after), *c;
    size_t i;
    int rc = SL_OK;

    json_array_foreach(now, i, c) {
        if (rc != SL_OK || has(was, c))
            continue;
        rc = acm_cert_use(txn, json_string_value(c), arn, 1, err);
        if (rc == SL_ENOTFOUND)
            rc = sl_err_set(err, 400, "CertificateNotFound", "Certificate '%.300s' not found",
                            json_string_value(c));
    }
    json_array_foreach(was, i, c)
        if (rc == SL_OK && !has(now, c))
            rc = acm_cert_use(txn, json_string_value(c), arn, 0, err);
    json_decref(was);
    json_decref(now);
    return rc;
}

/* ---- Add/Remove/DescribeListenerCertificates ---- */

static json_t *https_listener(struct store_txn *txn, const char *arn, char *id,
                              struct sl_err *err)
{
    json_t *l = elb_by_arn(txn, K_LISTENER, arn, id);

    if (l == NULL) {
        sl_err_set(err, 400, "ListenerNotFound", "Listener '%.300s' not found", arn);
        return NULL;
    }
    if (strcmp(elb_str(l, "Protocol"), "HTTPS") != 0) {
        json_decref(l);
        sl_err_set(err, 400, "ValidationError",
                   "Listener '%.300s' is not an HTTPS listener: it takes no certificates", arn);
        return NULL;
    }
    return l;
}

static const char *default_cert(json_t *l)
{
    return elb_str(json_array_get(json_object_get(l, "Certificates"), 0), "CertificateArn");
}

static json_t *cert_entry(const char *arn, int is_default)
{
    return json_pack("{ss sb}", "CertificateArn", arn, "IsDefault", is_default);
}

/* Store <after> (a changed copy of <before>) with its certificate uses. */
static int store_listener(struct store_txn *txn, const char *id, json_t *before, json_t *after,
                          struct sl_err *err)
{
    if (elb_listener_certs_sync(txn, elb_str(after, "arn"), before, after, err) != SL_OK)
        return SL_ERR;
    return store_put(txn, K_LISTENER, id, after) == SL_OK
               ? SL_OK : elb_store_fail(err, "update the listener");
}

int elb_listener_certs_add(struct store_txn *txn, const char *arn, const char *const *certs,
                           size_t n, json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *l = https_listener(txn, arn, id, err), *after, *extra, *added;
    size_t i;
    int rc = SL_ERR;

    if (l == NULL)
        return SL_ERR;
    after = json_deep_copy(l);
    extra = json_object_get(after, "_extra_certs");
    if (!json_is_array(extra)) {
        extra = json_array();
        json_object_set_new(after, "_extra_certs", extra);
    }
    added = json_array();
    for (i = 0; i < n; i++) {
        json_t *v = json_string(certs[i]);
        if (!has(extra, v) && strcmp(certs[i], default_cert(after)) != 0)
            json_array_append(extra, v);
        json_array_append_new(added, cert_entry(certs[i], 0));
        json_decref(v);
    }
    if (json_array_size(extra) > ELB_LISTENER_CERTS_MAX) {
        sl_err_set(err, 400, "TooManyCertificates",
                   "A listener can have at most %d certificates besides its default one",
                   ELB_LISTENER_CERTS_MAX);
        goto out;
    }
    if (store_listener(txn, id, l, after, err) != SL_OK)
        goto out;
    *out = json_incref(added);
    rc = SL_OK;
out:
    json_decref(added);
    json_decref(after);
    json_decref(l);
    return rc;
}

int elb_listener_certs_remove(struct store_txn *txn, const char *arn, const char *const *certs,
                              size_t n, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *l = https_listener(txn, arn, id, err), *after = NULL, *extra;
    size_t i, k;
    int rc = SL_ERR;

    if (l == NULL)
        return SL_ERR;
    for (i = 0; i < n; i++)
        if (strcmp(certs[i], default_cert(l)) == 0) {
            sl_err_set(err, 400, "OperationNotPermitted",
                       "Certificate '%.300s' is the listener's default: change it with "
                       "ModifyListener instead",
                       certs[i]);
            goto out;
        }
    after = json_deep_copy(l);
    extra = json_object_get(after, "_extra_certs");
    for (i = 0; i < n; i++)
        for (k = json_array_size(extra); k-- > 0;)
            if (strcmp(json_string_value(json_array_get(extra, k)), certs[i]) == 0)
                json_array_remove(extra, k);
    rc = store_listener(txn, id, l, after, err);
out:
    json_decref(after);
    json_decref(l);
    return rc;
}

int elb_listener_certs_describe(struct store_txn *txn, const char *arn, json_t **out,
                                struct sl_err *err)
{
    json_t *l = elb_by_arn_ro(txn, K_LISTENER, arn, NULL), *arns, *c;
    size_t i;

    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%.300s' not found", arn);
    arns = cert_arns(l);
    *out = json_array();
    json_array_foreach(arns, i, c)
        json_array_append_new(*out, cert_entry(json_string_value(c), i == 0));
    json_decref(arns);
    json_decref(l);
    return SL_OK;
}

/* ---- DescribeSSLPolicies ---- */

static json_t *policy_json(const struct tls_policy *p)
{
    json_t *protos = json_array(), *ciphers = json_array();
    unsigned bit;
    size_t i;

    for (bit = 1; bit < (1u << TLS_PROTO_COUNT); bit <<= 1)
        if (p->protocols & bit)
            json_array_append_new(protos, json_string(tls_proto_name(bit)));
    for (i = 0; i < p->ncipher; i++)
        json_array_append_new(ciphers, json_pack("{ss sI}", "Name", p->ciphers[i]->name,
                                                 "Priority", (json_int_t)(i + 1)));
    return json_pack("{so so ss s[ss]}", "SslProtocols", protos, "Ciphers", ciphers, "Name",
                     p->name, "SupportedLoadBalancerTypes", "application", "network");
}

int elb_ssl_policies_describe(const char *const *names, size_t n, const char *lb_type,
                              json_t **out, struct sl_err *err)
{
    const struct tls_policy *p;
    size_t i;

    *out = json_array();
    /* AWS's ELBSecurityPolicy-* policies serve application and network load
     * balancers; none serves a gateway load balancer */
    if (lb_type && strcmp(lb_type, "gateway") == 0)
        return SL_OK;
    for (i = 0; i < n; i++) {
        if ((p = tls_policy_find(names[i])) == NULL) {
            json_decref(*out);
            *out = NULL;
            return sl_err_set(err, 400, "SSLPolicyNotFound", "SSL policy '%.128s' not found",
                              names[i]);
        }
        json_array_append_new(*out, policy_json(p));
    }
    for (i = 0; n == 0 && i < tls_policy_count(); i++)
        json_array_append_new(*out, policy_json(tls_policy_at(i)));
    return SL_OK;
}
