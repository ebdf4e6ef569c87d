/*
 * lb.h - load balancers: CreateLoadBalancer, DescribeLoadBalancers,
 * DeleteLoadBalancer and their attributes.
 *
 * Caveats:
 * - Only Application Load Balancers exist here.  Subnets and security
 *   groups are recorded as given (there is no VPC to check them against):
 *   each subnet becomes an availability zone <region>a, <region>b, ... in
 *   request order.  A new load balancer is "active" at once, so the
 *   load_balancer_available waiter succeeds on its first poll.
 * - Results are AWS LoadBalancer objects (new references).
 */
#ifndef SL_ROUTES_ELBV2_LB_H
#define SL_ROUTES_ELBV2_LB_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

/* Wire names of the enums below, NULL-terminated, indexed by value. */
extern const char *const elb_scheme_names[];
extern const char *const elb_lb_type_names[];
extern const char *const elb_lb_ip_type_names[];

enum elb_scheme { ELB_SCHEME_INTERNET_FACING, ELB_SCHEME_INTERNAL };
enum elb_lb_type { ELB_LBT_APPLICATION, ELB_LBT_NETWORK, ELB_LBT_GATEWAY };
enum elb_lb_ip_type {
    ELB_LBIP_IPV4,
    ELB_LBIP_DUALSTACK,
    ELB_LBIP_DUALSTACK_WITHOUT_PUBLIC_IPV4,
};

struct elb_lb_spec {
    const char *name;
    enum elb_scheme scheme;
    enum elb_lb_type type;             /* application only */
    enum elb_lb_ip_type ip_type;
    const char *vpc;                   /* NULL: vpc-00000000 */
    const char *const *subnets;        /* subnet ids, from Subnets or SubnetMappings */
    size_t nsubnets;
    const char *const *security_groups;
    size_t nsecurity_groups;
    const char *id;                    /* REST id; NULL: a random one */
    const struct elb_kv *tags;
    size_t ntags;
    int exclusive; /* REST: a name in use is a 409, never the idempotent answer */
};

/* The IP address type <ip> of a load balancer with <scheme>: only ipv4 is
 * what the data plane serves.  Pure. */
int elb_lb_ip_type_check(enum elb_lb_ip_type ip, enum elb_scheme scheme, struct sl_err *err);

/* Name (not "internal-..."), type, the IP type against the scheme, id and
 * tags.  Pure. */
int elb_lb_check(const struct elb_lb_spec *s, struct sl_err *err);

/* CreateLoadBalancer (<s> checked): the same name with the same settings
 * answers the existing load balancer, as on AWS.  *out: the load balancer.
 * Writers. */
int elb_lb_create(struct store_txn *txn, const struct elb_env *env, const struct elb_lb_spec *s,
                  json_t **out, struct sl_err *err);

/* DescribeLoadBalancers: those named by <arns>, else by <names>, else all
 * (by name).  *out: the list. */
struct elb_lb_select {
    const char *const *arns;
    size_t narns;
    const char *const *names;
    size_t nnames;
};
int elb_lb_describe(struct store_txn *txn, const struct elb_lb_select *sel, json_t **out,
                    struct sl_err *err);

/* DeleteLoadBalancer with its listeners and rules; refused while
 * deletion_protection.enabled is true; an unknown ARN succeeds, as on AWS.
 * Writers. */
int elb_lb_delete(struct store_txn *txn, const char *arn, struct sl_err *err);

/* DescribeLoadBalancerAttributes: *out the [{Key,Value}] list. */
int elb_lb_attrs(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err);

/* ModifyLoadBalancerAttributes: each change checked against the known keys,
 * then the combination (cross-zone stays on; logs need a bucket).  *out: the
 * whole list.  Writers. */
int elb_lb_attrs_modify(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                        size_t n, json_t **out, struct sl_err *err);

/* SetSecurityGroups: the <n> group ids <sgs> replace the load balancer's,
 * recorded as given.  *out: the load balancer.  Writers. */
int elb_lb_set_security_groups(struct store_txn *txn, const char *arn, const char *const *sgs,
                               size_t n, json_t **out, struct sl_err *err);

/* SetSubnets: the <n> subnets replace the load balancer's availability
 * zones, as CreateLoadBalancer makes them.  *out: the load balancer.
 * Writers. */
int elb_lb_set_subnets(struct store_txn *txn, const struct elb_env *env, const char *arn,
                       const char *const *subnets, size_t n, json_t **out, struct sl_err *err);

/* SetIpAddressType (checked with elb_lb_ip_type_check() against the load
 * balancer's scheme).  *out: the load balancer.  Writers. */
int elb_lb_set_ip_type(struct store_txn *txn, const char *arn, enum elb_lb_ip_type ip,
                       json_t **out, struct sl_err *err);

#endif
