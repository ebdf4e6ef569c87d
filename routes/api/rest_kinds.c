/*
 * rest_kinds.c - what differs per REST collection: create-body
 * conveniences, the immutable and modifiable members of PUT, and the
 * targets of a target group (/v1/target-groups/{id}/targets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/elbv2/elbv2.h"
#include "routes/wire/params.h"
#include "routes/api/rest.h"

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

/* 409 when the Describe operation finds <name> already: REST creates are
 * never answered idempotently with another object. */
static int name_free(struct op_ctx *ctx, json_t *req, const char *describe, const char *list,
                     const char *code, const char *what, struct sl_err *err)
{
    struct sl_err e = {0};
    const char *name = rest_str(req, "Name");
    json_t *res;
    size_t n;

    if (name == NULL)
        return SL_OK; /* the operation reports it */
    res = rest_op(ctx, describe, json_pack("{s[s]}", "Names", name), &e);
    n = json_array_size(json_object_get(res, list));
    json_decref(res);
    if (n > 0)
        return sl_err_set(err, 409, code, "A %s with the name '%.100s' already exists", what,
                          name);
    return SL_OK;
}

/* Replace REST id member <id_member> (kind <kind>) with the ARN member
 * <arn_member>, which the operation takes. */
static int resolve_ref(struct op_ctx *ctx, json_t *req, const char *id_member,
                       const char *kind, const char *arn_member, const char *not_found,
                       const char *what, struct sl_err *err)
{
    json_t *v = json_object_get(req, id_member), *parent;
    const char *id, *arn, *given;

    if (v == NULL || json_is_null(v)) {
        json_object_del(req, id_member);
        return SL_OK;
    }
    if ((id = json_string_value(v)) == NULL)
        return p_invalid(err, id_member, "Member must be a string");
    if (!elb_valid_id(id))
        return sl_err_set(err, 404, not_found, "%s '%.200s' not found", what, id);
    if ((parent = rest_load(ctx, kind, id, not_found, what, err)) == NULL)
        return SL_ERR;
    arn = rest_str(parent, "arn");
    given = rest_str(req, arn_member);
    if (arn == NULL || (given && strcmp(given, arn) != 0)) {
        json_decref(parent);
        return sl_err_set(err, 400, "ValidationError", "%s and %s name different resources",
                          id_member, arn_member);
    }
    json_object_set_new(req, arn_member, json_string(arn));
    json_object_del(req, id_member);
    json_decref(parent);
    return SL_OK;
}

/* PUT: a REST id reference must name the object's current parent. */
static int same_ref(struct op_ctx *ctx, json_t *cur, json_t *body, const char *id_member,
                    const char *kind, const char *arn_member, struct sl_err *err)
{
    json_t *v = json_object_get(body, id_member), *parent = NULL;
    const char *id = json_string_value(v), *want = rest_str(cur, arn_member);
    int same;

    if (v == NULL || json_is_null(v))
        return SL_OK;
    if (id && elb_valid_id(id))
        parent = rest_load(ctx, kind, id, "NotFound", "resource", err);
    same = parent && want && rest_str(parent, "arn") && strcmp(rest_str(parent, "arn"), want) == 0;
    json_decref(parent);
    if (!same)
        return sl_err_set(err, 409, "Conflict",
                          "Member '%s' cannot be changed (it names %.300s); delete the "
                          "resource and create it again to change it",
                          id_member, want ? want : "unset");
    return SL_OK;
}

/* ---- target groups ---- */

static int tg_prepare(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    name_alias(req, "TargetGroupName");
    return name_free(ctx, req, "DescribeTargetGroups", "TargetGroups", "DuplicateTargetGroupName",
                     "target group", err);
}

static int tg_put(struct op_ctx *ctx, const struct rest_kind *k, json_t *cur, json_t *body,
                  json_t *undo, struct sl_err *err)
{
    static const char *const fixed[] = {"Name|TargetGroupName", "Protocol", "Port", "VpcId",
                                        "TargetType", "ProtocolVersion", "IpAddressType",
                                        "arn", "TargetGroupArn", NULL};
    static const char *const hc[] = {"HealthCheckProtocol", "HealthCheckPort",
                                     "HealthCheckEnabled", "HealthCheckPath",
                                     "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds",
                                     "HealthyThresholdCount", "UnhealthyThresholdCount",
                                     "Matcher", NULL};

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK)
        return SL_ERR;
    return rest_modify_members(ctx, "ModifyTargetGroup", k->arn_member, rest_str(cur, "arn"),
                               cur, body, hc, undo, err);
}

/* ---- load balancers ---- */

static int lb_prepare(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    name_alias(req, "LoadBalancerName");
    return name_free(ctx, req, "DescribeLoadBalancers", "LoadBalancers",
                     "DuplicateLoadBalancerName", "load balancer", err);
}

static int lb_put(struct op_ctx *ctx, const struct rest_kind *k, json_t *cur, json_t *body,
                  json_t *undo, struct sl_err *err)
{
    static const char *const fixed[] = {"Name|LoadBalancerName", "Scheme", "Type",
                                        "IpAddressType", "SecurityGroups", "arn",
                                        "LoadBalancerArn", NULL};

    static const char *const subnet_members[] = {"Subnets", "SubnetMappings", NULL};
    json_t *have, *az;
    size_t i, j;
    int rc = SL_OK;

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK)
        return SL_ERR;
    /* Subnets are stored as AvailabilityZones[].SubnetId; SetSubnets is not
     * offered, so they are fixed like the members above. */
    have = json_array();
    json_array_foreach(json_object_get(cur, "AvailabilityZones"), i, az)
        if (rest_str(az, "SubnetId"))
            json_array_append(have, json_object_get(az, "SubnetId"));
    for (j = 0; subnet_members[j] && rc == SL_OK; j++) {
        json_t *v = json_object_get(body, subnet_members[j]), *want, *m;
        if (v == NULL || json_is_null(v))
            continue;
        want = json_array();
        json_array_foreach(v, i, m)
            json_array_append(want, json_is_object(m) ? json_object_get(m, "SubnetId") : m);
        if (!json_is_array(v) || !rest_same(have, want))
            rc = sl_err_set(err, 409, "Conflict",
                            "Member '%s' cannot be changed; delete the load balancer and "
                            "create it again to change it",
                            subnet_members[j]);
        json_decref(want);
    }
    json_decref(have);
    return rc;
}

/* ---- listeners ---- */

static int listener_prepare(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    return resolve_ref(ctx, req, "LoadBalancerId", K_LB, "LoadBalancerArn",
                       "LoadBalancerNotFound", "load balancer", err);
}

static int listener_put(struct op_ctx *ctx, const struct rest_kind *k, json_t *cur,
                        json_t *body, json_t *undo, struct sl_err *err)
{
    static const char *const fixed[] = {"LoadBalancerArn", "arn", "ListenerArn", NULL};
    static const char *const mods[] = {"Port", "Protocol", "SslPolicy", "Certificates",
                                       "DefaultActions", "AlpnPolicy", "MutualAuthentication",
                                       NULL};

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK ||
        same_ref(ctx, cur, body, "LoadBalancerId", K_LB, "LoadBalancerArn", err) != SL_OK)
        return SL_ERR;
    return rest_modify_members(ctx, "ModifyListener", k->arn_member, rest_str(cur, "arn"), cur,
                               body, mods, undo, err);
}

/* ---- rules ---- */

static int rule_prepare(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    return resolve_ref(ctx, req, "ListenerId", K_LISTENER, "ListenerArn", "ListenerNotFound",
                       "listener", err);
}

static int rule_put(struct op_ctx *ctx, const struct rest_kind *k, json_t *cur, json_t *body,
                    json_t *undo, struct sl_err *err)
{
    static const char *const fixed[] = {"ListenerArn", "arn", "RuleArn", "IsDefault", NULL};
    static const char *const mods[] = {"Conditions", "Actions", "Transforms", NULL};
    const char *arn = rest_str(cur, "arn");
    json_t *want = json_object_get(body, "Priority"), *have = json_object_get(cur, "Priority");
    long prio;

    if (rest_check_immutable(cur, body, fixed, err) != SL_OK ||
        same_ref(ctx, cur, body, "ListenerId", K_LISTENER, "ListenerArn", err) != SL_OK)
        return SL_ERR;
    if (want && !json_is_null(want) && !rest_same(have, want)) {
        if (json_is_true(json_object_get(cur, "IsDefault")))
            return sl_err_set(err, 409, "OperationNotPermitted",
                              "The default rule's priority cannot be changed");
        if (p_int(body, "Priority", P_REQUIRED, 1, 50000, &prio, err) != SL_OK)
            return SL_ERR;
        if (rest_step(ctx, "SetRulePriorities",
                      json_pack("{s[{ss sI}]}", "RulePriorities", "RuleArn", arn, "Priority",
                                (json_int_t)prio),
                      err) != SL_OK)
            return SL_ERR;
        if (json_is_string(have) || json_is_integer(have)) {
            json_t *r = json_pack("{s[{ss sO}]}", "RulePriorities", "RuleArn", arn, "Priority",
                                  have);
            rest_undo_push(undo, "SetRulePriorities", r);
        }
    }
    return rest_modify_members(ctx, "ModifyRule", k->arn_member, arn, cur, body, mods, undo,
                               err);
}

const struct rest_kind rest_kinds[] = {
    {
        .path = "load-balancers",
        .kind = K_LB,
        .what = "load balancer",
        .arn_member = "LoadBalancerArn",
        .not_found = "LoadBalancerNotFound",
        .create_op = "CreateLoadBalancer",
        .create_list = "LoadBalancers",
        .delete_op = "DeleteLoadBalancer",
        .modify_attrs_op = "ModifyLoadBalancerAttributes",
        .prepare = lb_prepare,
        .put = lb_put,
    },
    {
        .path = "target-groups",
        .kind = K_TG,
        .what = "target group",
        .arn_member = "TargetGroupArn",
        .not_found = "TargetGroupNotFound",
        .create_op = "CreateTargetGroup",
        .create_list = "TargetGroups",
        .delete_op = "DeleteTargetGroup",
        .modify_attrs_op = "ModifyTargetGroupAttributes",
        .prepare = tg_prepare,
        .put = tg_put,
        .filter_arg = "LoadBalancerArn",
        .filter_id_arg = "LoadBalancerId",
        .filter_kind = K_LB,
        .describe_op = "DescribeTargetGroups",
        .describe_list = "TargetGroups",
    },
    {
        .path = "listeners",
        .kind = K_LISTENER,
        .what = "listener",
        .arn_member = "ListenerArn",
        .not_found = "ListenerNotFound",
        .create_op = "CreateListener",
        .create_list = "Listeners",
        .delete_op = "DeleteListener",
        .prepare = listener_prepare,
        .put = listener_put,
        .filter_arg = "LoadBalancerArn",
        .filter_id_arg = "LoadBalancerId",
        .filter_kind = K_LB,
        .describe_op = "DescribeListeners",
        .describe_list = "Listeners",
    },
    {
        .path = "rules",
        .kind = K_RULE,
        .what = "rule",
        .arn_member = "RuleArn",
        .not_found = "RuleNotFound",
        .create_op = "CreateRule",
        .create_list = "Rules",
        .delete_op = "DeleteRule",
        .prepare = rule_prepare,
        .put = rule_put,
        .filter_arg = "ListenerArn",
        .filter_id_arg = "ListenerId",
        .filter_kind = K_LISTENER,
        .describe_op = "DescribeRules",
        .describe_list = "Rules",
    },
    {.path = NULL},
};

/* ---- targets ---- */

/* "<Id>:<Port>", with an IPv6 Id in brackets: "[::1]:8080". */
static void target_name(char *out, size_t cap, const char *id, json_t *port)
{
    int v6 = strchr(id, ':') != NULL;

    if (json_is_integer(port))
        snprintf(out, cap, "%s%s%s:%" JSON_INTEGER_FORMAT, v6 ? "[" : "", id, v6 ? "]" : "",
                 json_integer_value(port));
    else
        snprintf(out, cap, "%s", id);
}

/* Split a target name into Id and Port (*port 0 when the name has none).
 * "[v6]:port", "[v6]", "id:port", "id"; an unbracketed IPv6 address must
 * end in ":port" (the last colon splits).  0 when malformed. */
static int target_parse(const char *name, char *id, size_t cap, long *port)
{
    const char *colon, *end, *p;
    size_t n;

    *port = 0;
    if (name[0] == '[') {
        end = strchr(name, ']');
        if (end == NULL)
            return 0;
        n = (size_t)(end - name - 1);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != '\0' && colon == NULL)
            return 0;
        name++;
    } else {
        colon = strrchr(name, ':');
        n = colon ? (size_t)(colon - name) : strlen(name);
    }
    if (n == 0 || n >= cap)
        return 0;
    memcpy(id, name, n);
    id[n] = '\0';
    if (colon) {
        if (colon[1] == '\0' || strlen(colon + 1) > 5)
            return 0;
        for (p = colon + 1; *p; p++)
            if (*p < '0' || *p > '9')
                return 0;
        *port = strtol(colon + 1, NULL, 10);
        if (*port < 1 || *port > 65535)
            return 0;
    }
    return 1;
}

/* The REST item for a TargetHealthDescription. */
static json_t *target_item(json_t *d)
{
    json_t *t = json_object_get(d, "Target"), *h = json_object_get(d, "TargetHealth"), *item;
    const char *id = rest_str(t, "Id");
    char name[160];
    static const char *const copy_h[] = {"State", "Reason", "Description", NULL};
    size_t i;

    target_name(name, sizeof(name), id ? id : "", json_object_get(t, "Port"));
    item = json_pack("{ss ss}", "id", name, "Id", id ? id : "");
    if (json_is_integer(json_object_get(t, "Port")))
        json_object_set(item, "Port", json_object_get(t, "Port"));
    if (rest_str(t, "AvailabilityZone"))
        json_object_set(item, "AvailabilityZone", json_object_get(t, "AvailabilityZone"));
    for (i = 0; copy_h[i]; i++)
        if (rest_str(h, copy_h[i]))
            json_object_set(item, copy_h[i], json_object_get(h, copy_h[i]));
    if (rest_str(d, "HealthCheckPort"))
        json_object_set(item, "HealthCheckPort", json_object_get(d, "HealthCheckPort"));
    return item;
}

/* DescribeTargetHealth for one target; the item, or NULL with <err>.
 * *registered: 1 registered, 2 draining, 0 not registered. */
static json_t *target_get(struct op_ctx *ctx, const char *arn, const char *id, long port,
                          int *registered, struct sl_err *err)
{
    json_t *t = json_pack("{ss}", "Id", id), *res, *item, *d;
    const char *state;

    if (port)
        json_object_set_new(t, "Port", json_integer(port));
    res = rest_op(ctx, "DescribeTargetHealth",
                  json_pack("{ss s[o]}", "TargetGroupArn", arn, "Targets", t), err);
    if (res == NULL)
        return NULL;
    d = json_array_get(json_object_get(res, "TargetHealthDescriptions"), 0);
    item = target_item(d);
    state = d ? rest_str(item, "State") : NULL;
    json_decref(res);
    if (state == NULL)
        *registered = 0;
    else if (strcmp(state, "unused") == 0 && rest_str(item, "Reason") &&
        strcmp(rest_str(item, "Reason"), "Target.NotRegistered") == 0)
        *registered = 0;
    else if (strcmp(state, "draining") == 0)
        *registered = 2;
    else
        *registered = 1;
    return item;
}

static void pct_encode(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

static void targets_list(struct op_ctx *ctx, const char *arn, struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *res, *items, *d;
    size_t i;

    res = rest_op(ctx, "DescribeTargetHealth", json_pack("{ss}", "TargetGroupArn", arn), &err);
    if (res == NULL) {
        rest_reply_error(&err, out);
        return;
    }
    items = json_array();
    json_array_foreach(json_object_get(res, "TargetHealthDescriptions"), i, d)
        json_array_append_new(items, target_item(d));
    json_decref(res);
    rest_reply_json(out, 200, json_pack("{so}", "items", items));
}

static void targets_post(struct op_ctx *ctx, const char *tg_id, const char *arn, json_t *body,
                         struct front_reply *out)
{
    struct sl_err err = {0};
    const char *id, *az = NULL, *name;
    char pid[128], enc[256];
    long port = 0, nport;
    int rc, before, after;
    json_t *t, *item;

    if (p_str(body, "Id", P_REQUIRED, &id, &err) != SL_OK ||
        (rc = p_int(body, "Port", P_OPTIONAL, 1, 65535, &port, &err)) == SL_ERR ||
        p_str(body, "AvailabilityZone", P_OPTIONAL, &az, &err) == SL_ERR ||
        p_str(body, "id", P_OPTIONAL, &name, &err) == SL_ERR)
        goto fail;
    if (rc != SL_OK)
        port = 0;
    if (name) {
        if (!target_parse(name, pid, sizeof(pid), &nport) || strcmp(pid, id) != 0 ||
            (port && nport != port)) {
            p_invalid(&err, "id", "Member must equal \"<Id>:<Port>\" of the target");
            goto fail;
        }
        port = nport;
    }
    item = target_get(ctx, arn, id, port, &before, &err);
    if (item == NULL)
        goto fail;
    json_decref(item);
    t = json_pack("{ss}", "Id", id);
    if (port)
        json_object_set_new(t, "Port", json_integer(port));
    if (az)
        json_object_set_new(t, "AvailabilityZone", json_string(az));
    if (rest_step(ctx, "RegisterTargets",
                  json_pack("{ss s[o]}", "TargetGroupArn", arn, "Targets", t), &err) != SL_OK)
        goto fail;
    item = target_get(ctx, arn, id, port, &after, &err);
    if (item == NULL)
        goto fail;
    pct_encode(enc, sizeof(enc), rest_str(item, "id"));
    snprintf(out->location, sizeof(out->location), "/v1/target-groups/%.128s/targets/%s", tg_id,
             enc);
    rest_reply_json(out, before == 1 ? 200 : 201, item);
    return;
fail:
    rest_reply_error(&err, out);
}

static void target_one(struct op_ctx *ctx, const char *method, const char *arn,
                       const char *name, struct front_reply *out)
{
    struct sl_err err = {0};
    char id[128];
    long port;
    int registered = 0;
    json_t *item = NULL;

    if (target_parse(name, id, sizeof(id), &port))
        item = target_get(ctx, arn, id, port, &registered, &err);
    if (item == NULL && err.code[0] && rest_status(&err) != 400) {
        rest_reply_error(&err, out);
        return;
    }
    /* A malformed name (InvalidTarget) names no registered target. */
    if (item == NULL || registered == 0 || (registered == 2 && strcmp(method, "DELETE") == 0)) {
        json_decref(item);
        sl_err_set(&err, 404, "TargetNotFound",
                   "Target '%.200s' is not registered with this target group", name);
        rest_reply_error(&err, out);
        return;
    }
    if (strcmp(method, "GET") == 0) {
        rest_reply_json(out, 200, item);
        return;
    }
    {
        json_t *t = json_pack("{sO}", "Id", json_object_get(item, "Id"));
        if (json_object_get(item, "Port"))
            json_object_set(t, "Port", json_object_get(item, "Port"));
        json_decref(item);
        if (rest_step(ctx, "DeregisterTargets",
                      json_pack("{ss s[o]}", "TargetGroupArn", arn, "Targets", t), &err) != SL_OK) {
            rest_reply_error(&err, out);
            return;
        }
    }
    out->status = 204;
    out->content_type = NULL;
}

void rest_targets(struct op_ctx *ctx, const struct front_request *req, const char *tg_id,
                  const char *target, struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *tg, *body;
    const char *arn;

    if (!elb_valid_id(tg_id)) {
        sl_err_set(&err, 404, "TargetGroupNotFound", "target group '%.200s' not found", tg_id);
        rest_reply_error(&err, out);
        return;
    }
    body = NULL;
    if (target == NULL && strcmp(req->method, "POST") == 0 &&
        (body = rest_parse_body(req, out)) == NULL)
        return;
    tg = rest_load(ctx, K_TG, tg_id, "TargetGroupNotFound", "target group", &err);
    if (tg == NULL || (arn = rest_str(tg, "arn")) == NULL) {
        if (tg)
            sl_err_set(&err, 500, "InternalFailure", "target group '%s' has no ARN", tg_id);
        json_decref(tg);
        json_decref(body);
        rest_reply_error(&err, out);
        return;
    }
    if (target)
        target_one(ctx, req->method, arn, target, out);
    else if (body)
        targets_post(ctx, tg_id, arn, body, out);
    else
        targets_list(ctx, arn, out);
    json_decref(body);
    json_decref(tg);
}
