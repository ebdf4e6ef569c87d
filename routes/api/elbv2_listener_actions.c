/*
 * elbv2_listener_actions.c - the ELBv2 listener and rule actions:
 * CreateListener, DescribeListeners, ModifyListener, DeleteListener,
 * CreateRule, DescribeRules, ModifyRule, SetRulePriorities, DeleteRule.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/elbv2_actions.h"
#include "routes/elbv2/actions.h"
#include "routes/elbv2/conditions.h"
#include "routes/wire/params.h"

/* ---- decoders ---- */

/* Certificates [{CertificateArn}] (IsDefault is accepted and dropped, as AWS
 * omits it from listeners).  *given is set when the member is present. */
static int certs_decode(json_t *req, const char ***out, size_t *n, int *given,
                        struct sl_err *err)
{
    json_t *list, *c;
    size_t i;
    int rc = p_list(req, "Certificates", P_OPTIONAL, 0, 100, &list, err);

    *out = NULL;
    *n = 0;
    *given = rc == SL_OK;
    if (rc != SL_OK)
        return rc == SL_ERR ? SL_ERR : SL_OK;
    if ((*out = calloc(json_array_size(list) + 1, sizeof(**out))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, c) {
        if (!json_is_object(c))
            return p_invalid(err, "Certificates",
                             "Member must be a list of Certificate structures");
        if (p_str(c, "CertificateArn", P_REQUIRED, &(*out)[i], err) != SL_OK)
            return SL_ERR;
        if ((*out)[i][0] == '\0')
            return p_invalid(err, "CertificateArn", "Member must not be empty");
    }
    *n = json_array_size(list);
    return SL_OK;
}

/* Members sluice does not serve are refused, not ignored. */
static int unsupported_listener_members(json_t *req, struct sl_err *err)
{
    json_t *ma;
    const char *mode = NULL;

    if (p_obj(req, "MutualAuthentication", P_OPTIONAL, &ma, err) == SL_ERR ||
        p_str(ma, "Mode", P_OPTIONAL, &mode, err) == SL_ERR)
        return SL_ERR;
    if (mode && strcmp(mode, "off") != 0)
        return sl_err_set(err, 400, "ValidationError",
                          "MutualAuthentication mode '%.32s' is not supported by sluice; only "
                          "'off'",
                          mode);
    return SL_OK;
}

/* AlpnPolicy: a list of exactly one policy name (listener_tls.h checks
 * which).  *out NULL when absent. */
static int alpn_decode(json_t *req, const char **out, struct sl_err *err)
{
    const char **v = NULL;
    size_t n = 0;
    int rc = p_strv(req, "AlpnPolicy", P_OPTIONAL, 0, 1, &v, &n, err);

    *out = n == 1 ? v[0] : NULL;
    free(v);
    return rc == SL_ERR ? SL_ERR : SL_OK;
}

int api_elb_listener_decode(json_t *req, struct api_listener *a, struct sl_err *err)
{
    json_t *actions;
    int proto = -1, rc, given;

    memset(a, 0, sizeof(*a));
    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &a->s.lb_arn, err) != SL_OK ||
        (rc = p_enum_index(req, "Protocol", P_OPTIONAL, elb_listener_protocol_names, &proto,
                           err)) == SL_ERR ||
        p_int(req, "Port", P_OPTIONAL, 1, 65535, &a->s.port, err) == SL_ERR ||
        p_str(req, "SslPolicy", P_OPTIONAL, &a->s.ssl_policy, err) == SL_ERR ||
        p_list(req, "DefaultActions", P_REQUIRED, 1, 10, &actions, err) != SL_OK)
        return SL_ERR;
    if (rc != SL_OK)
        return sl_err_set(err, 400, "ValidationError", "A listener protocol must be specified");
    if (a->s.port == 0)
        return sl_err_set(err, 400, "ValidationError", "A listener port must be specified");
    a->s.protocol = (enum elb_listener_protocol)proto;
    if (a->s.ssl_policy && a->s.ssl_policy[0] == '\0')
        a->s.ssl_policy = NULL;
    if (certs_decode(req, &a->certs, &a->s.ncerts, &given, err) != SL_OK ||
        unsupported_listener_members(req, err) != SL_OK ||
        alpn_decode(req, &a->s.alpn_policy, err) != SL_OK ||
        p_str(req, "id", P_OPTIONAL, &a->s.id, err) == SL_ERR ||
        api_elb_kv_list(req, "Tags", P_OPTIONAL, 0, ELB_TAGS_MAX, 0, &a->tags, &a->s.ntags,
                        err) == SL_ERR)
        return SL_ERR;
    a->s.certs = a->certs;
    a->s.tags = a->tags;
    if (elb_listener_check(&a->s, err) != SL_OK ||
        (a->actions = elb_actions_normalize(actions, "DefaultActions", err)) == NULL)
        return SL_ERR;
    a->s.actions = a->actions;
    return SL_OK;
}

void api_elb_listener_free(struct api_listener *a)
{
    free(a->certs);
    free(a->tags);
    json_decref(a->actions);
}

int api_elb_listener_change_decode(json_t *req, struct api_listener_change *a,
                                   struct sl_err *err)
{
    json_t *actions;
    int proto, rc;

    memset(a, 0, sizeof(*a));
    if (p_str(req, "ListenerArn", P_REQUIRED, &a->c.arn, err) != SL_OK ||
        (rc = p_enum_index(req, "Protocol", P_OPTIONAL, elb_listener_protocol_names, &proto,
                           err)) == SL_ERR ||
        p_int(req, "Port", P_OPTIONAL, 1, 65535, &a->c.port, err) == SL_ERR ||
        p_str(req, "SslPolicy", P_OPTIONAL, &a->c.ssl_policy, err) == SL_ERR ||
        p_list(req, "DefaultActions", P_OPTIONAL, 1, 10, &actions, err) == SL_ERR)
        return SL_ERR;
    a->c.set_protocol = rc == SL_OK;
    a->c.protocol = rc == SL_OK ? (enum elb_listener_protocol)proto : ELB_LP_HTTP;
    if (a->c.ssl_policy && a->c.ssl_policy[0] == '\0')
        a->c.ssl_policy = NULL;
    if (certs_decode(req, &a->certs, &a->c.ncerts, &a->c.set_certs, err) != SL_OK ||
        unsupported_listener_members(req, err) != SL_OK ||
        alpn_decode(req, &a->c.alpn_policy, err) != SL_OK ||
        elb_listener_change_check(&a->c, err) != SL_OK)
        return SL_ERR;
    a->c.certs = a->certs;
    if (actions && (a->actions = elb_actions_normalize(actions, "DefaultActions", err)) == NULL)
        return SL_ERR;
    a->c.actions = a->actions;
    return SL_OK;
}

void api_elb_listener_change_free(struct api_listener_change *a)
{
    free(a->certs);
    json_decref(a->actions);
}

static int no_transforms(json_t *req, struct sl_err *err)
{
    if (p_present(req, "Transforms"))
        return sl_err_set(err, 400, "ValidationError", "Transforms are not supported by sluice");
    return SL_OK;
}

int api_elb_rule_decode(json_t *req, struct api_rule *a, struct sl_err *err)
{
    json_t *conds, *actions;

    memset(a, 0, sizeof(*a));
    if (p_str(req, "ListenerArn", P_REQUIRED, &a->s.listener_arn, err) != SL_OK ||
        p_list(req, "Conditions", P_REQUIRED, 0, 100, &conds, err) != SL_OK ||
        p_int(req, "Priority", P_REQUIRED, 1, ELB_PRIORITY_MAX, &a->s.priority, err) != SL_OK ||
        p_list(req, "Actions", P_REQUIRED, 1, 10, &actions, err) != SL_OK ||
        no_transforms(req, err) != SL_OK || p_str(req, "id", P_OPTIONAL, &a->s.id, err) == SL_ERR ||
        api_elb_kv_list(req, "Tags", P_OPTIONAL, 0, ELB_TAGS_MAX, 0, &a->tags, &a->s.ntags,
                        err) == SL_ERR)
        return SL_ERR;
    a->s.tags = a->tags;
    if (elb_rule_check(&a->s, err) != SL_OK ||
        (a->s.conditions = elb_conditions_normalize(conds, err)) == NULL ||
        (a->s.actions = elb_actions_normalize(actions, "Actions", err)) == NULL)
        return SL_ERR;
    return SL_OK;
}

void api_elb_rule_free(struct api_rule *a)
{
    free(a->tags);
    json_decref(a->s.conditions);
    json_decref(a->s.actions);
}

int api_elb_rule_change_decode(json_t *req, json_t **conditions, json_t **actions,
                               struct sl_err *err)
{
    json_t *c = NULL, *a = NULL;

    *conditions = *actions = NULL;
    if (p_list(req, "Conditions", P_OPTIONAL, 0, 100, &c, err) == SL_ERR ||
        p_list(req, "Actions", P_OPTIONAL, 1, 10, &a, err) == SL_ERR ||
        no_transforms(req, err) != SL_OK)
        return SL_ERR;
    if (c && (*conditions = elb_conditions_normalize(c, err)) == NULL)
        return SL_ERR;
    if (a && (*actions = elb_actions_normalize(a, "Actions", err)) == NULL) {
        json_decref(*conditions);
        *conditions = NULL;
        return SL_ERR;
    }
    return SL_OK;
}

/* The selector of DescribeListeners / DescribeRules: either the parent ARN
 * <pname> or the list <lname> of at most <max> ARNs, exactly one of them.
 * <lwhat> and <pwhat> name them in AWS's messages. */
static int parent_or_arns(json_t *req, const char *pname, const char *lname, size_t max,
                          const char *lwhat, const char *pwhat, const char **parent,
                          const char ***arns, size_t *n, struct sl_err *err)
{
    if (p_str(req, pname, P_OPTIONAL, parent, err) == SL_ERR ||
        p_strv(req, lname, P_OPTIONAL, 0, max, arns, n, err) == SL_ERR)
        return SL_ERR;
    if (*parent && *n > 0)
        return sl_err_set(err, 400, "ValidationError",
                          "%c%s and %s cannot be specified at the same time", toupper(lwhat[0]),
                          lwhat + 1, pwhat);
    if (*parent == NULL && *n == 0)
        return sl_err_set(err, 400, "ValidationError", "You must specify either %s or %s", lwhat,
                          pwhat);
    return SL_OK;
}

/* ---- listener actions ---- */

struct listener_call {
    const struct api_ctx *ctx;
    const struct elb_listener_spec *s;
    const struct elb_listener_change *c;
    const char *arn;
    const char *const *arns;
    size_t n;
    json_t *out;
};

static int listener_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct listener_call *c = arg;

    return elb_listener_create(txn, &c->ctx->elb, c->s, &c->out, err);
}

json_t *api_elb_create_listener(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct api_listener a;
    struct listener_call c = {ctx, &a.s, NULL, NULL, NULL, 0, NULL};

    if (api_elb_listener_decode(req, &a, err) == SL_OK &&
        api_write(ctx, listener_create_tx, &c, err) != SL_OK)
        c.out = NULL;
    api_elb_listener_free(&a);
    return c.out ? json_pack("{s[o]}", "Listeners", c.out) : NULL;
}

static int listener_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct listener_call *c = arg;

    return elb_listener_describe(txn, c->arn, c->arns, c->n, &c->out, err);
}

/* Describe through <fn>, then one page of <member>. */
static json_t *describe_page(const struct api_ctx *ctx, json_t *req, store_write_fn fn,
                             struct listener_call *c, const char *member, struct sl_err *err)
{
    json_t *page, *next, *out = NULL;

    if (api_read(ctx, fn, c, err) == SL_OK && (page = api_page(req, c->out, &next, err)) != NULL) {
        out = json_pack("{so}", member, page);
        if (next)
            json_object_set_new(out, "NextMarker", next);
    }
    json_decref(c->out);
    return out;
}

json_t *api_elb_describe_listeners(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct listener_call c = {ctx, NULL, NULL, NULL, NULL, 0, NULL};
    const char **arns = NULL;
    json_t *out = NULL;

    if (parent_or_arns(req, "LoadBalancerArn", "ListenerArns", 100, "listener ARNs",
                       "a load balancer ARN", &c.arn, &arns, &c.n, err) == SL_OK) {
        c.arns = arns;
        out = describe_page(ctx, req, listener_describe_tx, &c, "Listeners", err);
    }
    free(arns);
    return out;
}

static int listener_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct listener_call *c = arg;

    return elb_listener_modify(txn, c->c, &c->out, err);
}

json_t *api_elb_modify_listener(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct api_listener_change a;
    struct listener_call c = {ctx, NULL, &a.c, NULL, NULL, 0, NULL};

    if (api_elb_listener_change_decode(req, &a, err) == SL_OK &&
        api_write(ctx, listener_modify_tx, &c, err) != SL_OK)
        c.out = NULL;
    api_elb_listener_change_free(&a);
    return c.out ? json_pack("{s[o]}", "Listeners", c.out) : NULL;
}

static int listener_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    return elb_listener_delete(txn, arg, err);
}

json_t *api_elb_delete_listener(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    const char *arn;

    if (p_str(req, "ListenerArn", P_REQUIRED, &arn, err) != SL_OK ||
        api_write(ctx, listener_delete_tx, (void *)arn, err) != SL_OK)
        return NULL;
    return json_object();
}

/* ---- rule actions ---- */

struct rule_call {
    const struct api_ctx *ctx;
    const struct elb_rule_spec *s;
    const char *arn;
    json_t *conditions, *actions;
    const struct elb_rule_priority *prio;
    size_t n;
    json_t *out;
};

static int rule_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct rule_call *c = arg;

    return elb_rule_create(txn, &c->ctx->elb, c->s, &c->out, err);
}

json_t *api_elb_create_rule(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct api_rule a;
    struct rule_call c = {ctx, &a.s, NULL, NULL, NULL, NULL, 0, NULL};

    if (api_elb_rule_decode(req, &a, err) == SL_OK &&
        api_write(ctx, rule_create_tx, &c, err) != SL_OK)
        c.out = NULL;
    api_elb_rule_free(&a);
    return c.out ? json_pack("{s[o]}", "Rules", c.out) : NULL;
}

static int rule_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct listener_call *c = arg;

    return elb_rule_describe(txn, c->arn, c->arns, c->n, &c->out, err);
}

json_t *api_elb_describe_rules(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct listener_call c = {ctx, NULL, NULL, NULL, NULL, 0, NULL};
    const char **arns = NULL;
    json_t *out = NULL;

    if (parent_or_arns(req, "ListenerArn", "RuleArns", 1000, "listener rule ARNs",
                       "a listener ARN", &c.arn, &arns, &c.n, err) == SL_OK) {
        c.arns = arns;
        out = describe_page(ctx, req, rule_describe_tx, &c, "Rules", err);
    }
    free(arns);
    return out;
}

static int rule_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct rule_call *c = arg;

    return elb_rule_modify(txn, c->arn, c->conditions, c->actions, &c->out, err);
}

json_t *api_elb_modify_rule(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct rule_call c = {ctx, NULL, NULL, NULL, NULL, NULL, 0, NULL};
    int rc = SL_ERR;

    if (p_str(req, "RuleArn", P_REQUIRED, &c.arn, err) == SL_OK &&
        api_elb_rule_change_decode(req, &c.conditions, &c.actions, err) == SL_OK)
        rc = api_write(ctx, rule_modify_tx, &c, err);
    json_decref(c.conditions);
    json_decref(c.actions);
    return rc == SL_OK ? json_pack("{s[o]}", "Rules", c.out) : NULL;
}

static int priorities_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct rule_call *c = arg;

    return elb_rule_priorities_set(txn, c->prio, c->n, &c->out, err);
}

json_t *api_elb_set_rule_priorities(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct rule_call c = {ctx, NULL, NULL, NULL, NULL, NULL, 0, NULL};
    struct elb_rule_priority *p;
    json_t *list, *e;
    size_t i;
    int rc = SL_ERR;

    if (p_list(req, "RulePriorities", P_REQUIRED, 1, 1000, &list, err) != SL_OK)
        return NULL;
    if ((p = calloc(json_array_size(list), sizeof(*p))) == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    json_array_foreach(list, i, e) {
        if (!json_is_object(e)) {
            p_invalid(err, "RulePriorities", "Member must be a list of RulePriorityPair "
                                             "structures");
            goto out;
        }
        if (p_str(e, "RuleArn", P_REQUIRED, &p[i].arn, err) != SL_OK ||
            p_int(e, "Priority", P_REQUIRED, 1, ELB_PRIORITY_MAX, &p[i].priority, err) != SL_OK)
            goto out;
    }
    c.prio = p;
    c.n = json_array_size(list);
    rc = api_write(ctx, priorities_tx, &c, err);
out:
    free(p);
    return rc == SL_OK ? json_pack("{so}", "Rules", c.out) : NULL;
}

static int rule_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    return elb_rule_delete(txn, arg, err);
}

json_t *api_elb_delete_rule(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    const char *arn;

    if (p_str(req, "RuleArn", P_REQUIRED, &arn, err) != SL_OK ||
        api_write(ctx, rule_delete_tx, (void *)arn, err) != SL_OK)
        return NULL;
    return json_object();
}

/* ---- listener attributes ---- */

struct listener_attrs {
    const char *arn;
    struct elb_kv *kv;
    size_t n;
    json_t *out;
};

static int listener_attrs_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct listener_attrs *a = arg;

    return elb_listener_attrs(txn, a->arn, &a->out, err);
}

json_t *api_elb_describe_listener_attributes(const struct api_ctx *ctx, json_t *req,
                                             struct sl_err *err)
{
    struct listener_attrs a = {NULL, NULL, 0, NULL};

    if (p_str(req, "ListenerArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        api_read(ctx, listener_attrs_tx, &a, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "Attributes", a.out);
}

static int listener_attrs_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct listener_attrs *a = arg;

    return elb_listener_attrs_modify(txn, a->arn, a->kv, a->n, &a->out, err);
}

json_t *api_elb_modify_listener_attributes(const struct api_ctx *ctx, json_t *req,
                                           struct sl_err *err)
{
    struct listener_attrs a = {NULL, NULL, 0, NULL};
    int rc;

    if (p_str(req, "ListenerArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        api_elb_kv_list(req, "Attributes", P_REQUIRED, 1, 20, 1, &a.kv, &a.n, err) != SL_OK)
        return NULL;
    rc = api_write(ctx, listener_attrs_modify_tx, &a, err);
    free(a.kv);
    return rc == SL_OK ? json_pack("{so}", "Attributes", a.out) : NULL;
}
