/*
 * tg.h - target groups: CreateTargetGroup, DescribeTargetGroups,
 * ModifyTargetGroup, DeleteTargetGroup and their attributes.  Their targets
 * are in targets.h.
 *
 * Caveats:
 * - Results are AWS TargetGroup objects (new references) with
 *   LoadBalancerArns computed from the rules that forward to the group.
 * - The data plane speaks plain HTTP/1.1 to targets and checks them over
 *   HTTP: Protocol HTTP, ProtocolVersion HTTP1 and HealthCheckProtocol HTTP
 *   are the only values accepted (the others are refused as not supported
 *   by sluice).  IpAddressType is recorded as given (targets may be IPv4 or
 *   IPv6 addresses either way).
 */
#ifndef SL_ROUTES_ELBV2_TG_H
#define SL_ROUTES_ELBV2_TG_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

/* Wire names of the enums below, NULL-terminated, indexed by value. */
extern const char *const elb_tg_protocol_names[];
extern const char *const elb_protocol_version_names[];
extern const char *const elb_target_type_names[];
extern const char *const elb_tg_ip_type_names[];
extern const char *const elb_hc_protocol_names[];

enum elb_tg_protocol { ELB_TGP_HTTP, ELB_TGP_HTTPS, ELB_TGP_TCP, ELB_TGP_TLS, ELB_TGP_UDP,
                       ELB_TGP_TCP_UDP, ELB_TGP_GENEVE };
enum elb_protocol_version { ELB_PV_HTTP1, ELB_PV_HTTP2, ELB_PV_GRPC };
enum elb_target_type { ELB_TT_INSTANCE, ELB_TT_IP, ELB_TT_LAMBDA, ELB_TT_ALB };
enum elb_tg_ip_type { ELB_TGIP_IPV4, ELB_TGIP_IPV6 };
enum elb_hc_protocol { ELB_HCP_HTTP, ELB_HCP_HTTPS, ELB_HCP_TCP };

/* Which members of struct elb_hc a request gave. */
enum {
    ELB_HC_PROTOCOL = 1 << 0,
    ELB_HC_PORT = 1 << 1,
    ELB_HC_ENABLED = 1 << 2,
    ELB_HC_PATH = 1 << 3,
    ELB_HC_INTERVAL = 1 << 4,
    ELB_HC_TIMEOUT = 1 << 5,
    ELB_HC_HEALTHY = 1 << 6,
    ELB_HC_UNHEALTHY = 1 << 7,
    ELB_HC_MATCHER = 1 << 8,
};

/* Health-check settings; only the members named in <set> count. */
struct elb_hc {
    unsigned set;
    enum elb_hc_protocol protocol;
    long port;            /* 1-65535, or 0 for "traffic-port" */
    int enabled;
    const char *path;     /* starts with '/', at most 1024 characters */
    long interval_s;      /* 1-300 (AWS: 5-300; 1 s is for fast local use) */
    long timeout_s;       /* 1-120, at most the interval */
    long healthy;         /* 2-10 */
    long unhealthy;       /* 2-10 */
    const char *matcher;  /* Matcher.HttpCode: "200", "200,202", "200-299" in 200-499 */
};

/* The members of <hc> that were given, one by one, as AWS validates them
 * (the timeout-interval rule needs the group: see the writers).  Pure. */
int elb_hc_check(const struct elb_hc *hc, struct sl_err *err);

struct elb_tg_spec {
    const char *name;
    const char *id;                 /* REST id; NULL: a random one */
    enum elb_tg_protocol protocol;
    enum elb_protocol_version version;
    long port;                      /* 1-65535 */
    const char *vpc;                /* NULL: vpc-00000000 */
    enum elb_target_type type;      /* instance or ip */
    enum elb_tg_ip_type ip_type;
    struct elb_hc hc;               /* given members; the rest take AWS's defaults */
    const struct elb_kv *tags;
    size_t ntags;
    int exclusive;                  /* REST: a name in use is a 409, never the idempotent answer */
};

/* Name, target type (lambda and alb are refused), health check, tags.
 * Pure. */
int elb_tg_check(const struct elb_tg_spec *s, struct sl_err *err);

/* CreateTargetGroup (<s> passed elb_tg_check()): the same name with the
 * same settings answers the existing group, as on AWS.  *out: the group.
 * Writers. */
int elb_tg_create(struct store_txn *txn, const struct elb_env *env, const struct elb_tg_spec *s,
                  json_t **out, struct sl_err *err);

/* DescribeTargetGroups: the groups named by <arns>, else by <names>, else
 * every group (of load balancer <lb_arn> when given).  *out: the list. */
struct elb_tg_select {
    const char *const *arns;
    size_t narns;
    const char *const *names;
    size_t nnames;
    const char *lb_arn;
};
int elb_tg_describe(struct store_txn *txn, const struct elb_tg_select *sel, json_t **out,
                    struct sl_err *err);

/* ModifyTargetGroup: apply the given members of <hc> (checked).  *out: the
 * group.  Writers. */
int elb_tg_modify(struct store_txn *txn, const char *arn, const struct elb_hc *hc, json_t **out,
                  struct sl_err *err);

/* DeleteTargetGroup with its targets; ResourceInUse while a rule forwards
 * to it; an unknown ARN succeeds, as on AWS.  Writers. */
int elb_tg_delete(struct store_txn *txn, const struct elb_env *env, const char *arn,
                  struct sl_err *err);

/* Non-zero if target group <arn> exists.  Readers. */
int elb_tg_exists(struct store_txn *txn, const char *arn);

/* DescribeTargetGroupAttributes: *out the [{Key,Value}] list. */
int elb_tg_attrs(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err);

/* ModifyTargetGroupAttributes: each change checked against the known keys,
 * then the combination (slow start, algorithm, anomaly mitigation).  *out:
 * the whole list.  Writers. */
int elb_tg_attrs_modify(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                        size_t n, json_t **out, struct sl_err *err);

#endif
