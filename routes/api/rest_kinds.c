/*
 * rest_kinds.c - what differs per REST collection: create-body
 * conveniences, the immutable and modifiable members of a PUT, and the
 * table of collections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/rest.h"
#include "routes/elbv2/view.h"
#include "routes/wire/params.h"

/* ---- create conveniences ---- */

/* Accept the object's own name member (TargetGroupName) for Name, so a
 * body copied from a GET works as a create body. */
static void name_alias(json_t *req, const char *alias)
{
    json_t *v = json_object_get(req, alias);

    if (v && json_object_get(req, "Name") == NULL)
        json_object_set(req, "Name", v);
    json_object_del(req, alias);
}

/* A REST id member <id_member> (a parent of kind <kind>) may stand for the
 * ARN member <arn_member>: checked here (a string, a valid id), resolved in
 * the transaction (ref_resolve()).  An ARN placeholder lets the decoder
 * accept the body. */
static int ref_prepare(json_t *req, const char *id_member, const char *arn_member,
                       const char *not_found, const char *what, struct sl_err *err)
{
    json_t *v = json_object_get(req, id_member);
    const char *id;

    if (v == NULL || json_is_null(v)) {
        json_object_del(req, id_member);
        return SL_OK;
    }
    if ((id = json_string_value(v)) == NULL)
        return p_invalid(err, id_member, "Member must be a string");
    if (!elb_valid_id(id))
        return sl_err_set(err, 404, not_found, "%s '%.200s' not found", what, id);
    if (json_object_get(req, arn_member) == NULL)
        json_object_set_new(req, arn_member, json_string(""));
    return SL_OK;
}

/* The parent's ARN for the create: the one its REST id names (c->parent
 * keeps the view), which must agree with an ARN given too. */
static const char *ref_resolve(struct store_txn *txn, struct rest_create *c, const char *given,
                               const char *id_member, const char *arn_member, const char *kind,
                               const char *not_found, const char *what, struct sl_err *err)
{
    const char *id = rest_str(c->req, id_member), *arn;

    if (id == NULL)
        return given;
    if (elb_view_get(txn, kind, id, &c->parent) != SL_OK) {
        sl_err_set(err, 404, not_found, "%s '%.200s' not found", what, id);
        return NULL;
    }
    arn = rest_str(c->parent, "arn");
    if (arn == NULL || (given[0] && strcmp(given, arn) != 0)) {
        sl_err_set(err, 400, "ValidationError", "%s and %s name different resources", id_member,
                   arn_member);
        return NULL;
    }
    return arn;
}

/* PUT: a REST id reference must name the object's current parent. */
static int same_ref(struct store_txn *txn, json_t *cur, json_t *body, const char *id_member,
                    const char *kind, const char *arn_member, struct sl_err *err)
{
    json_t *v = json_object_get(body, id_member), *parent = NULL;
    const char *id = json_string_value(v), *want = rest_str(cur, arn_member);
    int same;

    if (v == NULL || json_is_null(v))
        return SL_OK;
    if (id && elb_valid_id(id))
        elb_view_get(txn, kind, id, &parent);
    same = parent && want && rest_str(parent, "arn") && strcmp(rest_str(parent, "arn"), want) == 0;
    json_decref(parent);
    if (!same)
        return sl_err_set(err, 409, "Conflict",
                          "Member '%s' cannot be changed (it names %.300s); delete the "
                          "resource and create it again to change it",
                          id_member, want ? want : "unset");
    return SL_OK;
}

/* ---- load balancers ---- */

static int lb_create_decode(struct rest_create *c, struct sl_err *err)
{
    name_alias(c->req, "LoadBalancerName");
    if (api_elb_lb_decode(c->req, &c->u.lb, err) != SL_OK)
        return SL_ERR;
    c->u.lb.s.exclusive = 1;
    return SL_OK;
}

static int lb_create(struct store_txn *txn, const struct api_ctx *ctx, struct rest_create *c,
                     json_t **created, struct sl_err *err)
{
    return elb_lb_create(txn, &ctx->elb, &c->u.lb.s, created, err);
}

static void lb_create_free(struct rest_create *c)
{
    api_elb_lb_free(&c->u.lb);
}

static int given(json_t *body, const char *member)
{
    json_t *v = json_object_get(body, member);

    return v != NULL && !json_is_null(v);
}

/* The members ELBv2 can change in place (SetSecurityGroups, SetSubnets,
 * SetIpAddressType) are set when the body gives a different value. */
static int lb_put(struct store_txn *txn, const struct api_ctx *ctx, json_t *cur, json_t *body,
                  struct sl_err *err)
{
    static const char *const fixed[] = {"Name|LoadBalancerName", "Scheme", "Type", "arn",
                                        "LoadBalancerArn", NULL};
    const char *arn = rest_str(cur, "arn"), *ipt = rest_str(cur, "IpAddressType");
    json_t *have = json_array(), *want = json_array(), *az, *out = NULL;
    struct api_lb a;
    int ip, rc = SL_OK;
    size_t i;

    if (api_elb_lb_sets_decode(body, &a, &ip, err) != SL_OK ||
        rest_check_immutable(cur, body, fixed, err) != SL_OK)
        rc = SL_ERR;
    if (rc == SL_OK && ip >= 0 && (ipt == NULL || strcmp(ipt, elb_lb_ip_type_names[ip]) != 0))
        rc = elb_lb_set_ip_type(txn, arn, (enum elb_lb_ip_type)ip, &out, err);
    json_decref(out);
    out = NULL;
    if (rc == SL_OK && given(body, "SecurityGroups") &&
        !rest_same(json_object_get(cur, "SecurityGroups"), json_object_get(body, "SecurityGroups")))
        rc = elb_lb_set_security_groups(txn, arn, a.s.security_groups, a.s.nsecurity_groups,
                                        &out, err);
    json_decref(out);
    out = NULL;
    /* stored as AvailabilityZones[].SubnetId */
    json_array_foreach(json_object_get(cur, "AvailabilityZones"), i, az)
        if (rest_str(az, "SubnetId"))
            json_array_append(have, json_object_get(az, "SubnetId"));
    for (i = 0; i < a.s.nsubnets; i++)
        json_array_append_new(want, json_string(a.s.subnets[i]));
    if (rc == SL_OK && (given(body, "Subnets") || given(body, "SubnetMappings")) &&
        !rest_same(have, want))
        rc = elb_lb_set_subnets(txn, &ctx->elb, arn, a.s.subnets, a.s.nsubnets, &out, err);
    json_decref(out);
    json_decref(have);
    json_decref(want);
    api_elb_lb_free(&a);
    return rc;
}

static int lb_destroy(struct store_txn *txn, const struct api_ctx *ctx, const char *arn,
                      struct sl_err *err)
{
    return elb_lb_delete(txn, arn, err);
}

/* ---- target groups ---- */

static int tg_create_decode(struct rest_create *c, struct sl_err *err)
{
    name_alias(c->req, "TargetGroupName");
    if (api_elb_tg_decode(c->req, &c->u.tg, err) != SL_OK)
        return SL_ERR;
    c->u.tg.s.exclusive = 1;
    return SL_OK;
}

static int tg_create(struct store_txn *txn, const struct api_ctx *ctx, struct rest_create *c,
                     json_t **created, struct sl_err *err)
{
    return elb_tg_create(txn, &ctx->elb, &c->u.tg.s, created, err);
}

static void tg_create_free(struct rest_create *c)
{
    api_elb_tg_free(&c->u.tg);
}

static int tg_put(struct store_txn *txn, const struct api_ctx *ctx, json_t *cur, json_t *body,
                  struct sl_err *err)
{
    static const char *const fixed[] = {"Name|TargetGroupName", "Protocol", "Port", "VpcId",
                                        "TargetType", "ProtocolVersion", "IpAddressType",
                                        "arn", "TargetGroupArn", NULL};
    static const char *const hc_members[] = {"HealthCheckProtocol", "HealthCheckPort",
                                             "HealthCheckEnabled", "HealthCheckPath",
                                             "HealthCheckIntervalSeconds",
                                             "HealthCheckTimeoutSeconds",
                                             "HealthyThresholdCount", "UnhealthyThresholdCount",
                                             "Matcher", NULL};
    struct elb_hc hc;
    json_t *changes, *out = NULL;
    int rc;

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK)
        return SL_ERR;
    changes = rest_changes(cur, body, hc_members);
    rc = api_elb_hc_decode(changes, &hc, err);
    if (rc == SL_OK && hc.set)
        rc = elb_tg_modify(txn, rest_str(cur, "arn"), &hc, &out, err);
    json_decref(out);
    json_decref(changes);
    return rc;
}

static int tg_destroy(struct store_txn *txn, const struct api_ctx *ctx, const char *arn,
                      struct sl_err *err)
{
    return elb_tg_delete(txn, &ctx->elb, arn, err);
}

/* ---- listeners ---- */

static int listener_create_decode(struct rest_create *c, struct sl_err *err)
{
    if (ref_prepare(c->req, "LoadBalancerId", "LoadBalancerArn", "LoadBalancerNotFound",
                    "load balancer", err) != SL_OK)
        return SL_ERR;
    return api_elb_listener_decode(c->req, &c->u.listener, err);
}

static int listener_create(struct store_txn *txn, const struct api_ctx *ctx,
                           struct rest_create *c, json_t **created, struct sl_err *err)
{
    const char *arn = ref_resolve(txn, c, c->u.listener.s.lb_arn, "LoadBalancerId",
                                  "LoadBalancerArn", K_LB, "LoadBalancerNotFound",
                                  "load balancer", err);

    if (arn == NULL)
        return SL_ERR;
    c->u.listener.s.lb_arn = arn;
    return elb_listener_create(txn, &ctx->elb, &c->u.listener.s, created, err);
}

static void listener_create_free(struct rest_create *c)
{
    api_elb_listener_free(&c->u.listener);
}

static int listener_put(struct store_txn *txn, const struct api_ctx *ctx, json_t *cur,
                        json_t *body, struct sl_err *err)
{
    static const char *const fixed[] = {"LoadBalancerArn", "arn", "ListenerArn", NULL};
    static const char *const mods[] = {"Port", "Protocol", "SslPolicy", "Certificates",
                                       "DefaultActions", "AlpnPolicy", "MutualAuthentication",
                                       NULL};
    struct api_listener_change a;
    json_t *changes, *out = NULL;
    int rc;

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK ||
        same_ref(txn, cur, body, "LoadBalancerId", K_LB, "LoadBalancerArn", err) != SL_OK)
        return SL_ERR;
    changes = rest_changes(cur, body, mods);
    if (json_object_size(changes) == 0) {
        json_decref(changes);
        return SL_OK;
    }
    json_object_set(changes, "ListenerArn", json_object_get(cur, "arn"));
    rc = api_elb_listener_change_decode(changes, &a, err);
    if (rc == SL_OK)
        rc = elb_listener_modify(txn, &a.c, &out, err);
    api_elb_listener_change_free(&a);
    json_decref(out);
    json_decref(changes);
    return rc;
}

static int listener_destroy(struct store_txn *txn, const struct api_ctx *ctx, const char *arn,
                            struct sl_err *err)
{
    return elb_listener_delete(txn, arn, err);
}

/* ---- rules ---- */

static int rule_create_decode(struct rest_create *c, struct sl_err *err)
{
    if (ref_prepare(c->req, "ListenerId", "ListenerArn", "ListenerNotFound", "listener", err) !=
        SL_OK)
        return SL_ERR;
    return api_elb_rule_decode(c->req, &c->u.rule, err);
}

static int rule_create(struct store_txn *txn, const struct api_ctx *ctx, struct rest_create *c,
                       json_t **created, struct sl_err *err)
{
    const char *arn = ref_resolve(txn, c, c->u.rule.s.listener_arn, "ListenerId", "ListenerArn",
                                  K_LISTENER, "ListenerNotFound", "listener", err);

    if (arn == NULL)
        return SL_ERR;
    c->u.rule.s.listener_arn = arn;
    return elb_rule_create(txn, &ctx->elb, &c->u.rule.s, created, err);
}

static void rule_create_free(struct rest_create *c)
{
    api_elb_rule_free(&c->u.rule);
}

/* A changed Priority: SetRulePriorities in the same transaction. */
static int rule_put_priority(struct store_txn *txn, json_t *cur, json_t *body,
                             struct sl_err *err)
{
    json_t *want = json_object_get(body, "Priority"), *out = NULL;
    struct elb_rule_priority p = {rest_str(cur, "arn"), 0};
    int rc;

    if (want == NULL || json_is_null(want) || rest_same(json_object_get(cur, "Priority"), want))
        return SL_OK;
    if (json_is_true(json_object_get(cur, "IsDefault")))
        return sl_err_set(err, 409, "OperationNotPermitted",
                          "The default rule's priority cannot be changed");
    if (p_int(body, "Priority", P_REQUIRED, 1, ELB_PRIORITY_MAX, &p.priority, err) != SL_OK)
        return SL_ERR;
    rc = elb_rule_priorities_set(txn, &p, 1, &out, err);
    json_decref(out);
    return rc;
}

static int rule_put(struct store_txn *txn, const struct api_ctx *ctx, json_t *cur, json_t *body,
                    struct sl_err *err)
{
    static const char *const fixed[] = {"ListenerArn", "arn", "RuleArn", "IsDefault", NULL};
    static const char *const mods[] = {"Conditions", "Actions", "Transforms", NULL};
    json_t *changes, *conds = NULL, *actions = NULL, *out = NULL;
    int rc;

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK ||
        same_ref(txn, cur, body, "ListenerId", K_LISTENER, "ListenerArn", err) != SL_OK ||
        rule_put_priority(txn, cur, body, err) != SL_OK)
        return SL_ERR;
    changes = rest_changes(cur, body, mods);
    rc = api_elb_rule_change_decode(changes, &conds, &actions, err);
    if (rc == SL_OK && (conds || actions))
        rc = elb_rule_modify(txn, rest_str(cur, "arn"), conds, actions, &out, err);
    json_decref(out);
    json_decref(conds);
    json_decref(actions);
    json_decref(changes);
    return rc;
}

static int rule_destroy(struct store_txn *txn, const struct api_ctx *ctx, const char *arn,
                        struct sl_err *err)
{
    return elb_rule_delete(txn, arn, err);
}

const struct rest_kind rest_kinds[] = {
    {
        .path = "load-balancers",
        .kind = K_LB,
        .what = "load balancer",
        .arn_member = "LoadBalancerArn",
        .not_found = "LoadBalancerNotFound",
        .create_decode = lb_create_decode,
        .create = lb_create,
        .create_free = lb_create_free,
        .attrs_modify = elb_lb_attrs_modify,
        .put = lb_put,
        .destroy = lb_destroy,
    },
    {
        .path = "target-groups",
        .kind = K_TG,
        .what = "target group",
        .arn_member = "TargetGroupArn",
        .not_found = "TargetGroupNotFound",
        .create_decode = tg_create_decode,
        .create = tg_create,
        .create_free = tg_create_free,
        .attrs_modify = elb_tg_attrs_modify,
        .put = tg_put,
        .destroy = tg_destroy,
        .filter_arg = "LoadBalancerArn",
        .filter_id_arg = "LoadBalancerId",
        .filter_kind = K_LB,
    },
    {
        .path = "listeners",
        .kind = K_LISTENER,
        .what = "listener",
        .arn_member = "ListenerArn",
        .not_found = "ListenerNotFound",
        .create_decode = listener_create_decode,
        .create = listener_create,
        .create_free = listener_create_free,
        .attrs_modify = elb_listener_attrs_modify,
        .put = listener_put,
        .destroy = listener_destroy,
        .filter_arg = "LoadBalancerArn",
        .filter_id_arg = "LoadBalancerId",
        .filter_kind = K_LB,
    },
    {
        .path = "rules",
        .kind = K_RULE,
        .what = "rule",
        .arn_member = "RuleArn",
        .not_found = "RuleNotFound",
        .create_decode = rule_create_decode,
        .create = rule_create,
        .create_free = rule_create_free,
        .put = rule_put,
        .destroy = rule_destroy,
        .filter_arg = "ListenerArn",
        .filter_id_arg = "ListenerId",
        .filter_kind = K_LISTENER,
    },
    {.path = NULL},
};

const struct rest_kind *rest_kind_of(const char *kind)
{
    const struct rest_kind *k;

    for (k = rest_kinds; k->path; k++)
        if (strcmp(k->kind, kind) == 0)
            return k;
    return NULL;
}
