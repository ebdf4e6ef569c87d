/*
 * front_query.c - the ELBv2 Query protocol front door: a form body with
 * Action and Version=2015-12-01 in, the action's XML envelope (or an
 * ErrorResponse) out.  The ELBv2 action table lives here.
 */
#include <string.h>

#include "routes/api/elbv2_actions.h"
#include "routes/api/front.h"
#include "routes/wire/query.h"
#include "routes/wire/xml.h"

static const struct api_action elbv2_actions[] = {
    {"CreateLoadBalancer", api_elb_create_load_balancer},
    {"DescribeLoadBalancers", api_elb_describe_load_balancers},
    {"DeleteLoadBalancer", api_elb_delete_load_balancer},
    {"DescribeLoadBalancerAttributes", api_elb_describe_load_balancer_attributes},
    {"ModifyLoadBalancerAttributes", api_elb_modify_load_balancer_attributes},
    {"CreateTargetGroup", api_elb_create_target_group},
    {"DescribeTargetGroups", api_elb_describe_target_groups},
    {"ModifyTargetGroup", api_elb_modify_target_group},
    {"DeleteTargetGroup", api_elb_delete_target_group},
    {"DescribeTargetGroupAttributes", api_elb_describe_target_group_attributes},
    {"ModifyTargetGroupAttributes", api_elb_modify_target_group_attributes},
    {"RegisterTargets", api_elb_register_targets},
    {"DeregisterTargets", api_elb_deregister_targets},
    {"DescribeTargetHealth", api_elb_describe_target_health},
    {"CreateListener", api_elb_create_listener},
    {"DescribeListeners", api_elb_describe_listeners},
    {"ModifyListener", api_elb_modify_listener},
    {"DeleteListener", api_elb_delete_listener},
    {"CreateRule", api_elb_create_rule},
    {"DescribeRules", api_elb_describe_rules},
    {"ModifyRule", api_elb_modify_rule},
    {"SetRulePriorities", api_elb_set_rule_priorities},
    {"DeleteRule", api_elb_delete_rule},
    {"AddTags", api_elb_add_tags},
    {"RemoveTags", api_elb_remove_tags},
    {"DescribeTags", api_elb_describe_tags},
    {NULL, NULL},
};

void front_reply_init(struct front_reply *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
}

void front_reply_free(struct front_reply *r)
{
    buf_free(&r->body);
}

void front_query_error(const struct sl_err *e, const char *request_id, struct front_reply *out)
{
    out->status = e->status ? e->status : 400;
    out->content_type = "text/xml";
    xml_error(&out->body, XML_NS_ELBV2, e, request_id);
}

/* The action a decoded form names, with Action and Version removed. */
static const struct api_action *form_action(json_t *params, struct sl_err *err)
{
    const char *action = json_string_value(json_object_get(params, "Action"));
    const char *version = json_string_value(json_object_get(params, "Version"));
    const struct api_action *a;

    if (action == NULL) {
        sl_err_set(err, 400, "MissingAction", "the request must contain the parameter Action");
        return NULL;
    }
    if (version == NULL) {
        sl_err_set(err, 400, "MissingParameter", "the request must contain the parameter Version");
        return NULL;
    }
    if (strcmp(version, "2015-12-01") != 0) {
        sl_err_set(err, 400, "InvalidAction",
                   "Version %s is not supported; this endpoint serves ELBv2 2015-12-01", version);
        return NULL;
    }
    if ((a = api_action_find(elbv2_actions, action)) == NULL &&
        (a = api_action_find(api_elb_tls_actions, action)) == NULL) {
        sl_err_set(err, 400, "InvalidAction", "The action %s is not valid for this web service.",
                   action);
        return NULL;
    }
    json_object_del(params, "Action");
    json_object_del(params, "Version");
    return a;
}

void front_query(const struct api_ctx *ctx, const struct front_request *req,
                 struct front_reply *out)
{
    struct sl_err err = {0};
    const struct api_action *a = NULL;
    json_t *params, *result = NULL;

    params = query_decode(req->body, req->body_len, &err);
    if (params && (a = form_action(params, &err)) != NULL) {
        out->action = a->name;
        result = a->fn(ctx, params, &err);
    }
    json_decref(params);
    if (result == NULL) {
        if (err.code[0] == '\0')
            sl_err_set(&err, 500, "InternalFailure", "operation failed");
        front_query_error(&err, ctx->request_id, out);
        return;
    }
    out->status = 200;
    out->content_type = "text/xml";
    xml_response(&out->body, XML_NS_ELBV2, a->name, result, ctx->request_id);
    json_decref(result);
}
