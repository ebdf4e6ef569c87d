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

/* The request members each action honours: any other member a request
 * carries is refused (api_members_check()), never dropped. */
#define M(...) ((const char *const[]){__VA_ARGS__, NULL})
#define HC "HealthCheckProtocol", "HealthCheckPort", "HealthCheckEnabled", "HealthCheckPath", \
           "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount", \
           "UnhealthyThresholdCount", "Matcher"
#define PAGE "Marker", "PageSize"

static const struct api_action elbv2_actions[] = {
    {"CreateLoadBalancer", api_elb_create_load_balancer,
     M("Name", "Subnets", "SubnetMappings", "SecurityGroups", "Scheme", "Tags", "Type",
       "IpAddressType", "VpcId")},
    {"DescribeLoadBalancers", api_elb_describe_load_balancers,
     M("LoadBalancerArns", "Names", PAGE)},
    {"DeleteLoadBalancer", api_elb_delete_load_balancer, M("LoadBalancerArn")},
    {"DescribeLoadBalancerAttributes", api_elb_describe_load_balancer_attributes,
     M("LoadBalancerArn")},
    {"ModifyLoadBalancerAttributes", api_elb_modify_load_balancer_attributes,
     M("LoadBalancerArn", "Attributes")},
    {"SetSecurityGroups", api_elb_set_security_groups, M("LoadBalancerArn", "SecurityGroups")},
    {"SetSubnets", api_elb_set_subnets,
     M("LoadBalancerArn", "Subnets", "SubnetMappings", "IpAddressType")},
    {"SetIpAddressType", api_elb_set_ip_address_type, M("LoadBalancerArn", "IpAddressType")},
    {"DescribeCapacityReservation", api_elb_describe_capacity_reservation,
     M("LoadBalancerArn")},
    {"ModifyCapacityReservation", api_elb_modify_capacity_reservation,
     M("LoadBalancerArn", "MinimumLoadBalancerCapacity", "ResetCapacityReservation")},
    {"DescribeAccountLimits", api_elb_describe_account_limits, M(PAGE)},
    {"DescribeTrustStores", api_elb_describe_trust_stores,
     M("TrustStoreArns", "Names", PAGE)},
    {"CreateTargetGroup", api_elb_create_target_group,
     M("Name", "Protocol", "ProtocolVersion", "Port", "VpcId", HC, "TargetType", "Tags",
       "IpAddressType")},
    {"DescribeTargetGroups", api_elb_describe_target_groups,
     M("LoadBalancerArn", "TargetGroupArns", "Names", PAGE)},
    {"ModifyTargetGroup", api_elb_modify_target_group, M("TargetGroupArn", HC)},
    {"DeleteTargetGroup", api_elb_delete_target_group, M("TargetGroupArn")},
    {"DescribeTargetGroupAttributes", api_elb_describe_target_group_attributes,
     M("TargetGroupArn")},
    {"ModifyTargetGroupAttributes", api_elb_modify_target_group_attributes,
     M("TargetGroupArn", "Attributes")},
    {"RegisterTargets", api_elb_register_targets, M("TargetGroupArn", "Targets")},
    {"DeregisterTargets", api_elb_deregister_targets, M("TargetGroupArn", "Targets")},
    {"DescribeTargetHealth", api_elb_describe_target_health,
     M("TargetGroupArn", "Targets")},
    {"CreateListener", api_elb_create_listener,
     M("LoadBalancerArn", "Protocol", "Port", "SslPolicy", "Certificates", "DefaultActions",
       "AlpnPolicy", "Tags", "MutualAuthentication")},
    {"DescribeListeners", api_elb_describe_listeners, M("LoadBalancerArn", "ListenerArns", PAGE)},
    {"ModifyListener", api_elb_modify_listener,
     M("ListenerArn", "Port", "Protocol", "SslPolicy", "Certificates", "DefaultActions",
       "AlpnPolicy", "MutualAuthentication")},
    {"DeleteListener", api_elb_delete_listener, M("ListenerArn")},
    {"DescribeListenerAttributes", api_elb_describe_listener_attributes, M("ListenerArn")},
    {"ModifyListenerAttributes", api_elb_modify_listener_attributes,
     M("ListenerArn", "Attributes")},
    {"CreateRule", api_elb_create_rule,
     M("ListenerArn", "Conditions", "Priority", "Actions", "Tags", "Transforms")},
    {"DescribeRules", api_elb_describe_rules, M("ListenerArn", "RuleArns", PAGE)},
    {"ModifyRule", api_elb_modify_rule,
     M("RuleArn", "Conditions", "Actions", "Transforms", "ResetTransforms")},
    {"SetRulePriorities", api_elb_set_rule_priorities, M("RulePriorities")},
    {"DeleteRule", api_elb_delete_rule, M("RuleArn")},
    {"AddTags", api_elb_add_tags, M("ResourceArns", "Tags")},
    {"RemoveTags", api_elb_remove_tags, M("ResourceArns", "TagKeys")},
    {"DescribeTags", api_elb_describe_tags, M("ResourceArns")},
    {NULL, NULL, NULL},
};

/* Why the members no action above takes are refused. */
static const struct api_refusal elbv2_refusals[] = {
    {"CustomerOwnedIpv4Pool", "there are no Outposts"},
    {"IpamPools", "addresses come from no IPAM pool; listeners bind the host's"},
    {"EnablePrefixForIpv6SourceNat", "a Network Load Balancer setting"},
    {"EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic", "a Network Load Balancer setting"},
    {"TargetControlPort", "targets get no control connection"},
    {"Include", "sluice-proxy does no anomaly detection"},
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

/* Actions of the ELBv2 API that sluice does not have, and why. */
static const struct api_refusal elbv2_missing[] = {
    {"CreateTrustStore", "sluice does not support mutual TLS"},
    {"ModifyTrustStore", "sluice does not support mutual TLS"},
    {"DeleteTrustStore", "sluice does not support mutual TLS"},
    {"AddTrustStoreRevocations", "sluice does not support mutual TLS"},
    {"RemoveTrustStoreRevocations", "sluice does not support mutual TLS"},
    {"DescribeTrustStoreAssociations", "sluice does not support mutual TLS"},
    {"DescribeTrustStoreRevocations", "sluice does not support mutual TLS"},
    {"GetTrustStoreCaCertificatesBundle", "sluice does not support mutual TLS"},
    {"GetTrustStoreRevocationContent", "sluice does not support mutual TLS"},
    {"DeleteSharedTrustStoreAssociation", "sluice does not support mutual TLS"},
    {"GetResourcePolicy", "there is no RAM to share resources with"},
    {"ModifyIpPools", "addresses come from no IPAM pool; listeners bind the host's"},
    {NULL, NULL},
};

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
        const struct api_refusal *m;
        for (m = elbv2_missing; m->member && strcmp(m->member, action) != 0; m++)
            ;
        sl_err_set(err, 400, "InvalidAction",
                   "The action %.100s is not valid for this web service.%s%s", action,
                   m->member ? " It is not supported by sluice: " : "", m->member ? m->why : "");
        return NULL;
    }
    json_object_del(params, "Action");
    json_object_del(params, "Version");
    if (a->members &&
        api_members_check(params, a->members, elbv2_refusals, NULL, "ValidationError", err) !=
            SL_OK)
        return NULL;
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
