/*
 * listener.c - listeners and their default rules.
 *
 * A listener is a K_LISTENER object: the AWS Listener plus "_lb_id" and
 * "_default_rule" (the id of its default rule).  Its port is indexed as
 * "port:<lb id>:<port>".
 */
#include "routes/elbv2/listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/elbv2/actions.h"
#include "routes/elbv2/listener_tls.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/refs.h"
#include "routes/elbv2/rule.h"
#include "routes/elbv2/tags.h"
#include "routes/wire/params.h"

#define DEFAULT_SSL_POLICY "ELBSecurityPolicy-2016-08"

const char *const elb_listener_protocol_names[] = {"HTTP", "HTTPS", "TCP", "TLS", "UDP",
                                                   "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC",
                                                   NULL};

static void port_key(char *out, size_t cap, const char *lb_id, long port)
{
    snprintf(out, cap, "port:%s:%ld", lb_id, port);
}

int elb_listener_remove(struct store_txn *txn, const char *listener_id, struct sl_err *err)
{
    json_t *l = store_get_shared(txn, K_LISTENER, listener_id), *rules, *r;
    const char *def;
    char key[ELB_ID_MAX + 32];
    size_t i;
    int rc = SL_OK;

    if (l == NULL)
        return SL_OK;
    if (elb_listener_certs_sync(txn, elb_str(l, "arn"), l, NULL, err) != SL_OK) {
        json_decref(l);
        return SL_ERR;
    }
    rules = elb_listener_rule_ids(txn, listener_id);
    json_array_foreach(rules, i, r)
        if (rc == SL_OK)
            rc = elb_rule_remove(txn, json_string_value(r), err);
    json_decref(rules);
    def = json_string_value(json_object_get(l, "_default_rule"));
    if (rc == SL_OK && def)
        rc = elb_rule_remove(txn, def, err);
    if (rc == SL_OK) {
        port_key(key, sizeof(key), elb_str(l, "_lb_id"),
                 (long)json_integer_value(json_object_get(l, "Port")));
        store_index_del(txn, key);
        if (elb_remove(txn, K_LISTENER, listener_id,
                       json_string_value(json_object_get(l, "arn"))) != SL_OK)
            rc = elb_store_fail(err, "delete the listener");
    }
    json_decref(l);
    return rc;
}

/* ---- checks ---- */

static int alb_protocol(enum elb_listener_protocol p, struct sl_err *err)
{
    if (p == ELB_LP_HTTP || p == ELB_LP_HTTPS)
        return SL_OK;
    return sl_err_set(err, 400, "ValidationError",
                      "Listener protocol '%s' must be one of 'HTTPS, HTTP'",
                      elb_listener_protocol_names[p]);
}

/* The certificate rule for <protocol>: HTTPS needs exactly one. */
static int certs_check(enum elb_listener_protocol p, size_t ncerts, struct sl_err *err)
{
    if (p != ELB_LP_HTTPS)
        return SL_OK;
    if (ncerts == 0)
        return sl_err_set(err, 400, "ValidationError",
                          "A certificate must be specified for HTTPS listeners");
    if (ncerts > 1)
        return sl_err_set(err, 400, "TooManyCertificates",
                          "You must provide exactly one certificate for an HTTPS listener");
    return SL_OK;
}

static int port_check(long port, struct sl_err *err)
{
    return port < 1 || port > 65535 ? p_out_of_range(err, "Port", port, 1, 65535) : SL_OK;
}

int elb_listener_check(const struct elb_listener_spec *s, struct sl_err *err)
{
    if (alb_protocol(s->protocol, err) != SL_OK || port_check(s->port, err) != SL_OK ||
        certs_check(s->protocol, s->ncerts, err) != SL_OK ||
        elb_listener_tls_check(elb_listener_protocol_names[s->protocol], s->ssl_policy,
                               s->alpn_policy, err) != SL_OK)
        return SL_ERR;
    if (s->id && !elb_valid_id(s->id))
        return sl_err_set(err, 400, "ValidationError",
                          "id '%.128s' must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' "
                          "and '-'",
                          s->id);
    return elb_tags_check(s->tags, s->ntags, err);
}

int elb_listener_change_check(const struct elb_listener_change *c, struct sl_err *err)
{
    if (c->set_protocol && alb_protocol(c->protocol, err) != SL_OK)
        return SL_ERR;
    /* the names only: which protocol they end up on is known in the txn */
    if (elb_listener_tls_check("HTTPS", c->ssl_policy, c->alpn_policy, err) != SL_OK)
        return SL_ERR;
    return c->port ? port_check(c->port, err) : SL_OK;
}

static json_t *certs_json(const char *const *certs, size_t n)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{ss}", "CertificateArn", certs[i]));
    return out;
}

/* ---- CreateListener ---- */

/* CreateListener is idempotent in AWS: the same port with the same settings
 * returns the existing listener. */
static int listener_same(json_t *l, const struct elb_listener_spec *s)
{
    const char *sp = json_string_value(json_object_get(l, "SslPolicy"));
    json_t *certs = certs_json(s->certs, s->ncerts);
    const char *alpn = json_string_value(json_array_get(json_object_get(l, "AlpnPolicy"), 0));
    int same = strcmp(elb_str(l, "Protocol"), elb_listener_protocol_names[s->protocol]) == 0 &&
               (s->alpn_policy == NULL || (alpn && strcmp(alpn, s->alpn_policy) == 0)) &&
               json_equal(json_object_get(l, "DefaultActions"), s->actions) &&
               (s->ncerts == 0 || json_equal(json_object_get(l, "Certificates"), certs)) &&
               (s->ssl_policy == NULL || (sp && strcmp(sp, s->ssl_policy) == 0)) &&
               (s->id == NULL || strcmp(elb_str(l, "id"), s->id) == 0);

    json_decref(certs);
    return same;
}

/* The listener and its default rule, not yet stored. */
static int listener_objects(const struct elb_listener_spec *s, const char *lb_id,
                            const char *lb_arn, const char *id, json_t **lo, json_t **ro,
                            struct sl_err *err)
{
    char hex[ELB_HEX_LEN + 1], rhex[ELB_HEX_LEN + 1], larn[ELB_ARN_MAX], rarn[ELB_ARN_MAX];
    json_t *l, *rule;

    util_random_hex(hex, ELB_HEX_LEN / 2);
    util_random_hex(rhex, ELB_HEX_LEN / 2);
    if (id == NULL)
        id = hex;
    if (elb_child_arn(larn, sizeof(larn), lb_arn, ":loadbalancer/", ":listener/", hex) != SL_OK ||
        elb_child_arn(rarn, sizeof(rarn), larn, ":listener/", ":listener-rule/", rhex) != SL_OK)
        return sl_err_set(err, 500, "InternalFailure", "cannot derive the listener ARN");
    l = json_pack("{ss ss sI ss sO}", "ListenerArn", larn, "LoadBalancerArn", lb_arn, "Port",
                  (json_int_t)s->port, "Protocol", elb_listener_protocol_names[s->protocol],
                  "DefaultActions", s->actions);
    rule = json_pack("{ss ss s[] sO sb ss ss s[] ss}", "RuleArn", rarn, "Priority", "default",
                     "Conditions", "Actions", s->actions, "IsDefault", 1, "id", rhex, "arn", rarn,
                     "Tags", "_listener_id", id);
    if (l == NULL || rule == NULL) {
        json_decref(l);
        json_decref(rule);
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    }
    if (s->protocol == ELB_LP_HTTPS) {
        json_object_set_new(l, "Certificates", certs_json(s->certs, s->ncerts));
        json_object_set_new(l, "SslPolicy",
                            json_string(s->ssl_policy ? s->ssl_policy : DEFAULT_SSL_POLICY));
        if (s->alpn_policy)
            json_object_set_new(l, "AlpnPolicy", json_pack("[s]", s->alpn_policy));
    }
    json_object_set_new(l, "id", json_string(id));
    json_object_set_new(l, "arn", json_string(larn));
    json_object_set_new(l, "Tags", elb_tags_json(s->tags, s->ntags));
    json_object_set_new(l, "_lb_id", json_string(lb_id));
    json_object_set_new(l, "_default_rule", json_string(rhex));
    *lo = l;
    *ro = rule;
    return SL_OK;
}

/* The port is free (or holds the same listener: *out set) and there is
 * room for one more listener. */
static int listener_room(struct store_txn *txn, const struct elb_listener_spec *s,
                         const char *lb_id, const char *lb_arn, json_t **out, struct sl_err *err)
{
    char key[ELB_ID_MAX + 32], lid[ELB_ID_MAX];
    json_t *l, *ids;
    size_t n;

    port_key(key, sizeof(key), lb_id, s->port);
    if (store_index_get(txn, key, lid, sizeof(lid)) == SL_OK) {
        l = store_get_shared(txn, K_LISTENER, lid);
        if (l && listener_same(l, s)) {
            *out = elb_public(l);
            json_decref(l);
            return SL_OK;
        }
        json_decref(l);
        return sl_err_set(err, 400, "DuplicateListener",
                          "A listener already exists on port %ld of load balancer '%s'",
                          s->port, lb_arn);
    }
    ids = elb_lb_listener_ids(txn, lb_id);
    n = json_array_size(ids);
    json_decref(ids);
    if (n >= ELB_LISTENERS_PER_LB_MAX)
        return sl_err_set(err, 400, "TooManyListeners",
                          "You've reached the limit of %d listeners per load balancer",
                          ELB_LISTENERS_PER_LB_MAX);
    return SL_OK;
}

int elb_listener_create(struct store_txn *txn, const struct elb_env *env,
                        const struct elb_listener_spec *s, json_t **out, struct sl_err *err)
{
    char lb_id[ELB_ID_MAX], key[ELB_ID_MAX + 32];
    json_t *lb, *l = NULL, *rule = NULL, *old;
    const char *lb_arn, *id;
    int rc = SL_ERR;

    *out = NULL;
    if ((lb = elb_by_arn_ro(txn, K_LB, s->lb_arn, lb_id)) == NULL)
        return sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found",
                          s->lb_arn);
    lb_arn = elb_str(lb, "arn");
    if (elb_actions_check(txn, s->actions, err) != SL_OK ||
        elb_redirect_protocol_check(s->actions, elb_listener_protocol_names[s->protocol], err) !=
            SL_OK ||
        listener_room(txn, s, lb_id, lb_arn, out, err) != SL_OK)
        goto out;
    if (*out) {
        rc = SL_OK; /* the same listener */
        goto out;
    }
    if (s->id && (old = store_get_shared(txn, K_LISTENER, s->id)) != NULL) {
        json_decref(old);
        sl_err_set(err, 409, "Conflict", "A listener with id '%s' already exists", s->id);
        goto out;
    }
    if (listener_objects(s, lb_id, lb_arn, s->id, &l, &rule, err) != SL_OK)
        goto out;
    id = elb_str(l, "id");
    port_key(key, sizeof(key), lb_id, s->port);
    if (elb_listener_certs_sync(txn, elb_str(l, "arn"), NULL, l, err) != SL_OK)
        goto out;
    if (elb_insert(txn, K_LISTENER, id, l) != SL_OK ||
        elb_insert(txn, K_RULE, elb_str(rule, "id"), rule) != SL_OK ||
        store_index_put(txn, key, id) != SL_OK ||
        elb_refs_update(txn, elb_str(rule, "id"), lb_arn, s->actions) != SL_OK) {
        rc = elb_store_fail(err, "store the listener");
        goto out;
    }
    *out = elb_public(l);
    rc = SL_OK;
out:
    json_decref(rule);
    json_decref(l);
    json_decref(lb);
    return rc;
}

/* ---- ModifyListener ---- */

/* Protocol, certificates and policy of <l> after <c>. */
static int modify_protocol(json_t *l, const struct elb_listener_change *c, struct sl_err *err)
{
    enum elb_listener_protocol p = c->protocol;
    json_t *certs;
    const char *sp;
    int i, found = c->set_protocol;

    for (i = 0; !found && elb_listener_protocol_names[i]; i++)
        if (strcmp(elb_listener_protocol_names[i], elb_str(l, "Protocol")) == 0) {
            p = (enum elb_listener_protocol)i;
            found = 1;
        }
    if (!found)
        return sl_err_set(err, 500, "InternalFailure", "the listener has no known protocol");
    if (alb_protocol(p, err) != SL_OK)
        return SL_ERR;
    if (p == ELB_LP_HTTPS) {
        certs = c->set_certs ? certs_json(c->certs, c->ncerts)
                             : json_incref(json_object_get(l, "Certificates"));
        if (certs_check(p, json_array_size(certs), err) != SL_OK) {
            json_decref(certs);
            return SL_ERR;
        }
        sp = c->ssl_policy ? c->ssl_policy : json_string_value(json_object_get(l, "SslPolicy"));
        json_object_set_new(l, "Certificates", certs);
        json_object_set_new(l, "SslPolicy", json_string(sp ? sp : DEFAULT_SSL_POLICY));
        if (c->alpn_policy)
            json_object_set_new(l, "AlpnPolicy", json_pack("[s]", c->alpn_policy));
    } else {
        if (elb_listener_tls_check("HTTP", c->ssl_policy, c->alpn_policy, err) != SL_OK)
            return SL_ERR;
        /* AWS: changing HTTPS to HTTP removes the policies and certificates. */
        json_object_del(l, "Certificates");
        json_object_del(l, "SslPolicy");
        json_object_del(l, "AlpnPolicy");
        json_object_del(l, "_extra_certs");
    }
    json_object_set_new(l, "Protocol", json_string(elb_listener_protocol_names[p]));
    return SL_OK;
}

static int modify_port(struct store_txn *txn, json_t *l, const char *lid, long port,
                       struct sl_err *err)
{
    char key[ELB_ID_MAX + 32], other[ELB_ID_MAX];
    const char *lb_id = elb_str(l, "_lb_id");
    long old = (long)json_integer_value(json_object_get(l, "Port"));

    if (port == 0 || port == old)
        return SL_OK;
    port_key(key, sizeof(key), lb_id, port);
    if (store_index_get(txn, key, other, sizeof(other)) == SL_OK)
        return sl_err_set(err, 400, "DuplicateListener",
                          "A listener already exists on port %ld of this load balancer", port);
    if (store_index_put(txn, key, lid) != SL_OK)
        return elb_store_fail(err, "index the listener port");
    port_key(key, sizeof(key), lb_id, old);
    store_index_del(txn, key);
    json_object_set_new(l, "Port", json_integer(port));
    return SL_OK;
}

/* DefaultActions and the default rule's Actions, always the same. */
static int modify_actions(struct store_txn *txn, json_t *l, json_t *actions, struct sl_err *err)
{
    const char *rule_id = json_string_value(json_object_get(l, "_default_rule"));
    json_t *rule;
    int rc = SL_OK;

    if (elb_actions_check(txn, actions, err) != SL_OK)
        return SL_ERR;
    json_object_set(l, "DefaultActions", actions);
    if (rule_id == NULL || (rule = store_get(txn, K_RULE, rule_id)) == NULL)
        return SL_OK;
    json_object_set(rule, "Actions", actions);
    if (store_put(txn, K_RULE, rule_id, rule) != SL_OK ||
        elb_refs_update(txn, rule_id, elb_str(l, "LoadBalancerArn"), actions) != SL_OK)
        rc = elb_store_fail(err, "update the default rule");
    json_decref(rule);
    return rc;
}

int elb_listener_modify(struct store_txn *txn, const struct elb_listener_change *c, json_t **out,
                        struct sl_err *err)
{
    char lid[ELB_ID_MAX];
    json_t *l = elb_by_arn(txn, K_LISTENER, c->arn, lid), *before;
    int rc = SL_ERR;

    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", c->arn);
    before = json_deep_copy(l);
    if (modify_protocol(l, c, err) != SL_OK || modify_port(txn, l, lid, c->port, err) != SL_OK ||
        (c->actions && modify_actions(txn, l, c->actions, err) != SL_OK) ||
        elb_redirect_protocol_check(json_object_get(l, "DefaultActions"), elb_str(l, "Protocol"),
                                    err) != SL_OK ||
        elb_listener_certs_sync(txn, c->arn, before, l, err) != SL_OK)
        goto out;
    if (store_put(txn, K_LISTENER, lid, l) != SL_OK) {
        rc = elb_store_fail(err, "update the listener");
        goto out;
    }
    *out = elb_public(l);
    rc = SL_OK;
out:
    json_decref(before);
    json_decref(l);
    return rc;
}

/* ---- DeleteListener ---- */

int elb_listener_delete(struct store_txn *txn, const char *arn, struct sl_err *err)
{
    char lid[ELB_ID_MAX];
    json_t *l = elb_by_arn_ro(txn, K_LISTENER, arn, lid);

    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", arn);
    json_decref(l);
    return elb_listener_remove(txn, lid, err);
}

/* ---- DescribeListeners ---- */

static int by_port(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "Port"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "Port"));

    return a < b ? -1 : a > b;
}

int elb_listener_describe(struct store_txn *txn, const char *lb_arn, const char *const *arns,
                          size_t narns, json_t **out, struct sl_err *err)
{
    char lb_id[ELB_ID_MAX];
    json_t *all = json_array(), *ids, *v, *l;
    size_t i;

    if (lb_arn) {
        if ((l = elb_by_arn_ro(txn, K_LB, lb_arn, lb_id)) == NULL) {
            sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found", lb_arn);
            goto fail;
        }
        json_decref(l);
        ids = elb_lb_listener_ids(txn, lb_id);
        json_array_foreach(ids, i, v) {
            if ((l = store_get_shared(txn, K_LISTENER, json_string_value(v))) == NULL)
                continue;
            json_array_append_new(all, elb_public(l));
            json_decref(l);
        }
        json_decref(ids);
        elb_sort(all, by_port);
    }
    for (i = 0; lb_arn == NULL && i < narns; i++) {
        if ((l = elb_by_arn_ro(txn, K_LISTENER, arns[i], NULL)) == NULL) {
            sl_err_set(err, 400, "ListenerNotFound", "Listener '%.300s' not found", arns[i]);
            goto fail;
        }
        json_array_append_new(all, elb_public(l));
        json_decref(l);
    }
    *out = all;
    return SL_OK;
fail:
    json_decref(all);
    return SL_ERR;
}
