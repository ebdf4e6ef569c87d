/*
 * elbv2_actions.h - the ELBv2 wire actions (decode a canonical request,
 * run the domain function in a transaction, encode the response) and the
 * decoders the REST door shares with them.
 *
 * A canonical request is the AWS-shaped JSON tree the Query door decodes
 * (every scalar may be a string, an empty list may be "": see params.h) or
 * a REST body.  Decoders fill a typed argument struct whose strings are
 * borrowed from the request, check it with the domain's *_check() (no store
 * access), and own only the arrays they allocated: free them with the
 * matching *_free() (also after a failed decode).
 */
#ifndef SL_ROUTES_API_ELBV2_ACTIONS_H
#define SL_ROUTES_API_ELBV2_ACTIONS_H

#include <jansson.h>

#include "routes/api/api.h"
#include "routes/elbv2/lb.h"
#include "routes/elbv2/listener.h"
#include "routes/elbv2/rule.h"
#include "routes/elbv2/targets.h"
#include "routes/elbv2/tg.h"

/* The HTTPS listeners' actions (elbv2_tls_actions.c): Add/Remove/
 * DescribeListenerCertificates, DescribeSSLPolicies; {NULL}-terminated. */
extern const struct api_action api_elb_tls_actions[];

/* ---- decoders ---- */

/* A [{<key>,<value>}] list member <name> of <obj> with at most <max>
 * entries: *out (free() it) gets *n pairs; a missing value is "" unless
 * <value_required>.  SL_OK, SL_ENOTFOUND (absent) or SL_ERR. */
int api_elb_kv_list(json_t *obj, const char *name, int required, size_t min, size_t max,
                    int value_required, struct elb_kv **out, size_t *n, struct sl_err *err);

struct api_lb {
    struct elb_lb_spec s;
    const char **subnets, **sgs;
    struct elb_kv *tags;
};
int api_elb_lb_decode(json_t *req, struct api_lb *a, struct sl_err *err);
/* What SetSubnets, SetSecurityGroups and SetIpAddressType take, from one
 * request: a->s.subnets / security_groups (n 0 when absent), *ip the
 * IpAddressType's index or -1.  Free <a> with api_elb_lb_free() either way. */
int api_elb_lb_sets_decode(json_t *req, struct api_lb *a, int *ip, struct sl_err *err);
void api_elb_lb_free(struct api_lb *a);

struct api_tg {
    struct elb_tg_spec s;
    struct elb_kv *tags;
};
int api_elb_tg_decode(json_t *req, struct api_tg *a, struct sl_err *err);
void api_elb_tg_free(struct api_tg *a);

/* The health-check members of <req> into <hc> (set bits for those given),
 * checked with elb_hc_check(). */
int api_elb_hc_decode(json_t *req, struct elb_hc *hc, struct sl_err *err);

struct api_listener {
    struct elb_listener_spec s;
    const char **certs;
    json_t *actions;
    struct elb_kv *tags;
};
int api_elb_listener_decode(json_t *req, struct api_listener *a, struct sl_err *err);
void api_elb_listener_free(struct api_listener *a);

/* A ModifyListener request (or the changed members of a REST PUT). */
struct api_listener_change {
    struct elb_listener_change c;
    const char **certs;
    json_t *actions;
};
int api_elb_listener_change_decode(json_t *req, struct api_listener_change *a,
                                   struct sl_err *err);
void api_elb_listener_change_free(struct api_listener_change *a);

struct api_rule {
    struct elb_rule_spec s;
    struct elb_kv *tags;
};
int api_elb_rule_decode(json_t *req, struct api_rule *a, struct sl_err *err);
void api_elb_rule_free(struct api_rule *a);

/* Conditions and Actions of a ModifyRule request (or the changed members
 * of a REST PUT): normalized new references, NULL when not given. */
int api_elb_rule_change_decode(json_t *req, json_t **conditions, json_t **actions,
                               struct sl_err *err);

/* The Targets list member of <req> (1-1000 targets).  *out: free() it. */
int api_elb_targets_decode(json_t *req, int required, struct elb_target **out, size_t *n,
                           struct sl_err *err);

/* ---- actions (for front_query.c's table) ---- */
json_t *api_elb_create_load_balancer(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_load_balancers(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_delete_load_balancer(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_load_balancer_attributes(const struct api_ctx *, json_t *,
                                                  struct sl_err *);
json_t *api_elb_modify_load_balancer_attributes(const struct api_ctx *, json_t *,
                                                struct sl_err *);
json_t *api_elb_set_security_groups(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_set_subnets(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_set_ip_address_type(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_capacity_reservation(const struct api_ctx *, json_t *,
                                              struct sl_err *);
json_t *api_elb_modify_capacity_reservation(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_account_limits(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_trust_stores(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_add_tags(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_remove_tags(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_tags(const struct api_ctx *, json_t *, struct sl_err *);

json_t *api_elb_create_target_group(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_target_groups(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_modify_target_group(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_delete_target_group(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_target_group_attributes(const struct api_ctx *, json_t *,
                                                 struct sl_err *);
json_t *api_elb_modify_target_group_attributes(const struct api_ctx *, json_t *,
                                               struct sl_err *);
json_t *api_elb_register_targets(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_deregister_targets(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_target_health(const struct api_ctx *, json_t *, struct sl_err *);

json_t *api_elb_create_listener(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_listeners(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_modify_listener(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_delete_listener(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_listener_attributes(const struct api_ctx *, json_t *,
                                             struct sl_err *);
json_t *api_elb_modify_listener_attributes(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_create_rule(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_describe_rules(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_modify_rule(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_set_rule_priorities(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_elb_delete_rule(const struct api_ctx *, json_t *, struct sl_err *);

#endif
