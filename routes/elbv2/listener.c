/*
 * elbv2_listener.c - listener operations: CreateListener, DescribeListeners,
 * ModifyListener, DeleteListener.
 *
 * A listener owns its default rule (a K_RULE object with IsDefault true and
 * Priority "default"), created and deleted with it; its DefaultActions and the
 * default rule's Actions are always the same list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/elbv2/elbv2.h"
#include "routes/elbv2/rules.h"
#include "routes/wire/params.h"

#define MAX_LISTENERS_PER_LB 50
#define DEFAULT_SSL_POLICY "ELBSecurityPolicy-2016-08"

static const char *const protocols[] = {"HTTP", "HTTPS", "TCP",  "TLS",      "UDP", "TCP_UDP",
                                        "GENEVE", "QUIC", "TCP_QUIC", NULL};

/* ---- index walks shared with the load balancer operations ---- */

static int collect_val(const char *key, const char *val, void *arg)
{
    json_array_append_new(arg, json_string(val));
    return 0;
}

json_t *elb_lb_listener_ids(struct store_txn *txn, const char *lb_id)
{
    char prefix[ELB_ID_MAX + 16];
    json_t *out = json_array();

    snprintf(prefix, sizeof(prefix), "port:%s:", lb_id);
    store_index_scan(txn, prefix, collect_val, out);
    return out;
}

int elb_listener_delete(struct store_txn *txn, const char *listener_id, struct sl_err *err)
{
    json_t *l = store_get(txn, K_LISTENER, listener_id), *rules, *r;
    const char *def;
    char key[ELB_ID_MAX + 32];
    size_t i;
    int rc = SL_OK;

    if (l == NULL)
        return SL_OK;
    rules = elb_listener_rule_ids(txn, listener_id);
    json_array_foreach(rules, i, r)
        if ((rc = elb_rule_delete(txn, json_string_value(r), err)) != SL_OK)
            break;
    json_decref(rules);
    def = json_string_value(json_object_get(l, "_default_rule"));
    if (rc == SL_OK && def)
        rc = elb_rule_delete(txn, def, err);
    if (rc == SL_OK) {
        snprintf(key, sizeof(key), "port:%s:%lld", elb_str(l, "_lb_id"),
                 (long long)json_integer_value(json_object_get(l, "Port")));
        store_index_del(txn, key);
        if (elb_remove(txn, K_LISTENER, listener_id,
                       json_string_value(json_object_get(l, "arn"))) != SL_OK)
            rc = elb_store_fail(err, "delete the listener");
    }
    json_decref(l);
    return rc;
}

/* ---- request pieces ---- */

/* Certificates [{CertificateArn}] (IsDefault is accepted and dropped, as AWS
 * omits it from listeners).  New reference, NULL when absent or on error
 * (*failed set). */
static json_t *certs_param(json_t *req, int *failed, struct sl_err *err)
{
    json_t *list, *c, *out;
    size_t i;
    int rc = p_list(req, "Certificates", P_OPTIONAL, 0, 100, &list, err);

    *failed = rc == SL_ERR;
    if (rc != SL_OK)
        return NULL;
    out = json_array();
    json_array_foreach(list, i, c) {
        const char *arn;
        if (!json_is_object(c)) {
            p_invalid(err, "Certificates", "Member must be a list of Certificate structures");
            goto fail;
        }
        if (p_str(c, "CertificateArn", P_REQUIRED, &arn, err) != SL_OK)
            goto fail;
        if (arn[0] == '\0') {
            p_invalid(err, "CertificateArn", "Member must not be empty");
            goto fail;
        }
        json_array_append_new(out, json_pack("{ss}", "CertificateArn", arn));
    }
    return out;
fail:
    *failed = 1;
    json_decref(out);
    return NULL;
}

static int alb_protocol(const char *protocol, struct sl_err *err)
{
    if (strcmp(protocol, "HTTP") == 0 || strcmp(protocol, "HTTPS") == 0)
        return SL_OK;
    return sl_err_set(err, 400, "ValidationError",
                      "Listener protocol '%s' must be one of 'HTTPS, HTTP'", protocol);
}

/* The certificate rule for <protocol>: HTTPS needs exactly one. */
static int certs_check(const char *protocol, json_t *certs, struct sl_err *err)
{
    if (strcmp(protocol, "HTTPS") != 0)
        return SL_OK;
    if (json_array_size(certs) == 0)
        return sl_err_set(err, 400, "ValidationError",
                          "A certificate must be specified for HTTPS listeners");
    if (json_array_size(certs) > 1)
        return sl_err_set(err, 400, "TooManyCertificates",
                          "You must provide exactly one certificate for an HTTPS listener");
    return SL_OK;
}

static json_t *listeners_public(json_t *all)
{
    json_t *out = json_array(), *o;
    size_t i;

    json_array_foreach(all, i, o)
        json_array_append_new(out, elb_public(o));
    return out;
}

/* ---- CreateListener ---- */

struct l_create {
    struct op_ctx *ctx;
    const char *lb_arn, *protocol, *ssl_policy;
    long port;
    json_t *certs;       /* owned; NULL for HTTP */
    json_t *actions_in;  /* borrowed */
    json_t *tags;        /* owned */
    char id[ELB_ID_MAX];
    json_t *out;
};

/* CreateListener is idempotent in AWS: the same port with the same settings
 * returns the existing listener. */
static int listener_same(json_t *l, const struct l_create *a, json_t *actions)
{
    const char *sp = json_string_value(json_object_get(l, "SslPolicy"));

    return strcmp(elb_str(l, "Protocol"), a->protocol) == 0 &&
           json_equal(json_object_get(l, "DefaultActions"), actions) &&
           (a->certs == NULL || json_equal(json_object_get(l, "Certificates"), a->certs)) &&
           (a->ssl_policy == NULL || (sp && strcmp(sp, a->ssl_policy) == 0)) &&
           (a->id[0] == '\0' ||
            strcmp(elb_str(l, "id"), a->id) == 0);
}

static int l_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct l_create *a = arg;
    char lb_id[ELB_ID_MAX], key[ELB_ID_MAX + 32], lid[ELB_ID_MAX], hex[ELB_HEX_LEN + 1],
        rhex[ELB_HEX_LEN + 1], larn[ELB_ARN_MAX], rarn[ELB_ARN_MAX];
    json_t *lb, *actions = NULL, *l = NULL, *rule = NULL, *ids;
    const char *lb_arn;
    int rc = SL_ERR;

    lb = elb_by_arn(txn, K_LB, a->lb_arn, lb_id);
    if (lb == NULL)
        return sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found",
                          a->lb_arn);
    lb_arn = elb_str(lb, "arn");
    if ((actions = elb_actions_param(txn, a->actions_in, "DefaultActions", err)) == NULL)
        goto out;
    snprintf(key, sizeof(key), "port:%s:%ld", lb_id, a->port);
    if (store_index_get(txn, key, lid, sizeof(lid)) == SL_OK) {
        l = store_get(txn, K_LISTENER, lid);
        if (l && listener_same(l, a, actions)) {
            a->out = json_pack("{s[o]}", "Listeners", elb_public(l));
            rc = SL_OK;
        } else {
            sl_err_set(err, 400, "DuplicateListener",
                       "A listener already exists on port %ld of load balancer '%s'", a->port,
                       lb_arn);
        }
        goto out;
    }
    ids = elb_lb_listener_ids(txn, lb_id);
    if (json_array_size(ids) >= MAX_LISTENERS_PER_LB) {
        json_decref(ids);
        sl_err_set(err, 400, "TooManyListeners",
                   "You've reached the limit of %d listeners per load balancer",
                   MAX_LISTENERS_PER_LB);
        goto out;
    }
    json_decref(ids);
    util_random_hex(hex, ELB_HEX_LEN / 2);
    util_random_hex(rhex, ELB_HEX_LEN / 2);
    if (a->id[0] == '\0')
        snprintf(a->id, sizeof(a->id), "%s", hex);
    if ((l = store_get(txn, K_LISTENER, a->id)) != NULL) {
        sl_err_set(err, 409, "Conflict", "A listener with id '%s' already exists", a->id);
        goto out;
    }
    if (elb_child_arn(larn, sizeof(larn), lb_arn, ":loadbalancer/", ":listener/", hex) != SL_OK ||
        elb_child_arn(rarn, sizeof(rarn), larn, ":listener/", ":listener-rule/", rhex) != SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "cannot derive the listener ARN");
        goto out;
    }
    l = json_pack("{ss ss sI ss sO}", "ListenerArn", larn, "LoadBalancerArn", lb_arn, "Port",
                  (json_int_t)a->port, "Protocol", a->protocol, "DefaultActions", actions);
    if (strcmp(a->protocol, "HTTPS") == 0) {
        json_object_set(l, "Certificates", a->certs);
        json_object_set_new(l, "SslPolicy",
                            json_string(a->ssl_policy ? a->ssl_policy : DEFAULT_SSL_POLICY));
    }
    json_object_set_new(l, "id", json_string(a->id));
    json_object_set_new(l, "arn", json_string(larn));
    json_object_set(l, "Tags", a->tags);
    json_object_set_new(l, "_lb_id", json_string(lb_id));
    json_object_set_new(l, "_default_rule", json_string(rhex));
    rule = json_pack("{ss ss s[] sO sb ss ss s[] ss}", "RuleArn", rarn, "Priority", "default",
                     "Conditions", "Actions", actions, "IsDefault", 1, "id", rhex, "arn", rarn,
                     "Tags", "_listener_id", a->id);
    if (l == NULL || rule == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        goto out;
    }
    if (elb_insert(txn, K_LISTENER, a->id, l) != SL_OK ||
        elb_insert(txn, K_RULE, rhex, rule) != SL_OK || store_index_put(txn, key, a->id) != SL_OK ||
        elb_refs_update(txn, rhex, lb_arn, actions) != SL_OK) {
        elb_store_fail(err, "store the listener");
        rc = SL_EIO;
        goto out;
    }
    a->out = json_pack("{s[o]}", "Listeners", elb_public(l));
    rc = SL_OK;
out:
    json_decref(rule);
    json_decref(l);
    json_decref(actions);
    json_decref(lb);
    return rc;
}

json_t *op_create_listener(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct l_create a = {.ctx = ctx};
    json_t *out = NULL;
    int failed;

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &a.lb_arn, err) != SL_OK)
        return NULL;
    if (p_enum(req, "Protocol", P_OPTIONAL, protocols, &a.protocol, err) == SL_ERR ||
        p_int(req, "Port", P_OPTIONAL, 1, 65535, &a.port, err) == SL_ERR ||
        p_str(req, "SslPolicy", P_OPTIONAL, &a.ssl_policy, err) == SL_ERR ||
        p_list(req, "DefaultActions", P_REQUIRED, 1, 10, &a.actions_in, err) != SL_OK)
        return NULL;
    if (a.protocol == NULL) {
        sl_err_set(err, 400, "ValidationError", "A listener protocol must be specified");
        return NULL;
    }
    if (a.port == 0) {
        sl_err_set(err, 400, "ValidationError", "A listener port must be specified");
        return NULL;
    }
    if (alb_protocol(a.protocol, err) != SL_OK)
        return NULL;
    if (a.ssl_policy && a.ssl_policy[0] == '\0')
        a.ssl_policy = NULL;
    a.certs = certs_param(req, &failed, err);
    if (failed || certs_check(a.protocol, a.certs, err) != SL_OK)
        goto out;
    if (elb_new_id(req, "", a.id, err) != SL_OK)
        goto out;
    if ((a.tags = elb_tags_param(req, err)) == NULL)
        goto out;
    if (store_write(ctx->store, l_create_tx, &a, NULL, err) == SL_OK)
        out = a.out;
out:
    json_decref(a.certs);
    json_decref(a.tags);
    return out;
}

/* ---- DescribeListeners ---- */

static int by_port(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "Port"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "Port"));

    return a < b ? -1 : a > b;
}

json_t *op_describe_listeners(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    const char *lb_arn;
    json_t *arns = NULL, *all = NULL, *page, *next, *v, *out = NULL;
    char lb_id[ELB_ID_MAX];
    size_t i;

    if (elb_parent_or_arns(req, "LoadBalancerArn", "ListenerArns", 100, "listener ARNs",
                           "a load balancer ARN", &lb_arn, &arns, err) != SL_OK)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    all = json_array();
    if (lb_arn) {
        json_t *lb = elb_by_arn(txn, K_LB, lb_arn, lb_id), *ids;
        size_t n;
        json_t **vec;

        if (lb == NULL) {
            sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found", lb_arn);
            goto done;
        }
        json_decref(lb);
        ids = elb_lb_listener_ids(txn, lb_id);
        json_array_foreach(ids, i, v) {
            json_t *l = store_get(txn, K_LISTENER, json_string_value(v));
            if (l)
                json_array_append_new(all, l);
        }
        json_decref(ids);
        n = json_array_size(all);
        vec = n ? calloc(n, sizeof(*vec)) : NULL;
        if (vec) {
            for (i = 0; i < n; i++)
                vec[i] = json_incref(json_array_get(all, i));
            qsort(vec, n, sizeof(*vec), by_port);
            json_array_clear(all);
            for (i = 0; i < n; i++)
                json_array_append_new(all, vec[i]);
            free(vec);
        }
    } else {
        json_array_foreach(arns, i, v) {
            json_t *l = elb_by_arn(txn, K_LISTENER, json_string_value(v), NULL);
            if (l == NULL) {
                sl_err_set(err, 400, "ListenerNotFound", "Listener '%.300s' not found",
                           json_string_value(v));
                goto done;
            }
            json_array_append_new(all, l);
        }
    }
    page = elb_page(req, all, &next, err);
    if (page == NULL)
        goto done;
    out = json_pack("{so}", "Listeners", listeners_public(page));
    json_decref(page);
    if (next)
        json_object_set_new(out, "NextMarker", next);
done:
    store_txn_end(txn);
    json_decref(all);
    return out;
}

/* ---- ModifyListener ---- */

struct l_modify {
    const char *arn, *protocol, *ssl_policy;
    long port;
    json_t *certs;       /* owned; NULL when not given */
    json_t *actions_in;  /* borrowed; NULL when not given */
    json_t *out;
};

static int l_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct l_modify *a = arg;
    char lid[ELB_ID_MAX], key[ELB_ID_MAX + 32], other[ELB_ID_MAX];
    json_t *l, *actions = NULL, *rule = NULL, *certs;
    const char *protocol, *lb_id, *rule_id, *sp;
    json_int_t old_port;
    int rc = SL_ERR;

    l = elb_by_arn(txn, K_LISTENER, a->arn, lid);
    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", a->arn);
    lb_id = elb_str(l, "_lb_id");
    rule_id = json_string_value(json_object_get(l, "_default_rule"));
    old_port = json_integer_value(json_object_get(l, "Port"));
    protocol = a->protocol ? a->protocol : elb_str(l, "Protocol");
    if (alb_protocol(protocol, err) != SL_OK)
        goto out;
    if (strcmp(protocol, "HTTPS") == 0) {
        certs = a->certs ? a->certs : json_object_get(l, "Certificates");
        if (certs_check(protocol, certs, err) != SL_OK)
            goto out;
        sp = a->ssl_policy ? a->ssl_policy : json_string_value(json_object_get(l, "SslPolicy"));
        json_object_set(l, "Certificates", certs);
        json_object_set_new(l, "SslPolicy", json_string(sp ? sp : DEFAULT_SSL_POLICY));
    } else {
        /* AWS: changing HTTPS to HTTP removes the policy and certificate. */
        json_object_del(l, "Certificates");
        json_object_del(l, "SslPolicy");
    }
    json_object_set_new(l, "Protocol", json_string(protocol));
    if (a->port && a->port != old_port) {
        snprintf(key, sizeof(key), "port:%s:%ld", lb_id, a->port);
        if (store_index_get(txn, key, other, sizeof(other)) == SL_OK) {
            sl_err_set(err, 400, "DuplicateListener",
                       "A listener already exists on port %ld of this load balancer", a->port);
            goto out;
        }
        if (store_index_put(txn, key, lid) != SL_OK) {
            rc = elb_store_fail(err, "index the listener port");
            goto out;
        }
        snprintf(key, sizeof(key), "port:%s:%lld", lb_id, (long long)old_port);
        store_index_del(txn, key);
        json_object_set_new(l, "Port", json_integer(a->port));
    }
    if (a->actions_in) {
        actions = elb_actions_param(txn, a->actions_in, "DefaultActions", err);
        if (actions == NULL)
            goto out;
        json_object_set(l, "DefaultActions", actions);
        rule = rule_id ? store_get(txn, K_RULE, rule_id) : NULL;
        if (rule) {
            json_object_set(rule, "Actions", actions);
            if (store_put(txn, K_RULE, rule_id, rule) != SL_OK ||
                elb_refs_update(txn, rule_id,
                                elb_str(l, "LoadBalancerArn"),
                                actions) != SL_OK) {
                rc = elb_store_fail(err, "update the default rule");
                goto out;
            }
        }
    }
    if (store_put(txn, K_LISTENER, lid, l) != SL_OK) {
        rc = elb_store_fail(err, "update the listener");
        goto out;
    }
    a->out = json_pack("{s[o]}", "Listeners", elb_public(l));
    rc = SL_OK;
out:
    json_decref(rule);
    json_decref(actions);
    json_decref(l);
    return rc;
}

json_t *op_modify_listener(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct l_modify a = {0};
    json_t *out = NULL;
    int failed;

    if (p_str(req, "ListenerArn", P_REQUIRED, &a.arn, err) != SL_OK)
        return NULL;
    if (p_enum(req, "Protocol", P_OPTIONAL, protocols, &a.protocol, err) == SL_ERR ||
        p_int(req, "Port", P_OPTIONAL, 1, 65535, &a.port, err) == SL_ERR ||
        p_str(req, "SslPolicy", P_OPTIONAL, &a.ssl_policy, err) == SL_ERR ||
        p_list(req, "DefaultActions", P_OPTIONAL, 1, 10, &a.actions_in, err) == SL_ERR)
        return NULL;
    if (a.protocol && alb_protocol(a.protocol, err) != SL_OK)
        return NULL;
    if (a.ssl_policy && a.ssl_policy[0] == '\0')
        a.ssl_policy = NULL;
    a.certs = certs_param(req, &failed, err);
    if (failed)
        return NULL;
    if (store_write(ctx->store, l_modify_tx, &a, NULL, err) == SL_OK)
        out = a.out;
    json_decref(a.certs);
    return out;
}

/* ---- DeleteListener ---- */

struct l_delete {
    const char *arn;
};

static int l_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct l_delete *a = arg;
    char lid[ELB_ID_MAX];
    json_t *l = elb_by_arn(txn, K_LISTENER, a->arn, lid);

    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", a->arn);
    json_decref(l);
    return elb_listener_delete(txn, lid, err);
}

json_t *op_delete_listener(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct l_delete a;

    if (p_str(req, "ListenerArn", P_REQUIRED, &a.arn, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, l_delete_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}
