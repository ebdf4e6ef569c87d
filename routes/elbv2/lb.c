/*
 * lb.c - load balancers and their attributes.
 */
#include "routes/elbv2/lb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/logdest.h"
#include "common/util.h"
#include "routes/elbv2/attrs.h"
#include "routes/elbv2/listener.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/tags.h"

#define LB_HOSTED_ZONE "Z35SXDOTRQ7X7K"
#define LB_DEFAULT_VPC "vpc-00000000"

const char *const elb_scheme_names[] = {"internet-facing", "internal", NULL};
const char *const elb_lb_type_names[] = {"application", "network", "gateway", NULL};
const char *const elb_lb_ip_type_names[] = {"ipv4", "dualstack", "dualstack-without-public-ipv4",
                                            NULL};

static int lb_not_found(struct sl_err *err, const char *arn)
{
    return sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found", arn);
}

/* ---- CreateLoadBalancer ---- */

int elb_lb_ip_type_check(enum elb_lb_ip_type ip, enum elb_scheme scheme, struct sl_err *err)
{
    if (ip == ELB_LBIP_DUALSTACK_WITHOUT_PUBLIC_IPV4 && scheme == ELB_SCHEME_INTERNAL)
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "IP address type 'dualstack-without-public-ipv4' requires an "
                          "internet-facing load balancer");
    if (ip != ELB_LBIP_IPV4)
        return sl_err_set(err, 400, "ValidationError",
                          "IP address type '%s' is not supported by sluice: its listeners bind "
                          "IPv4 addresses only (use 'ipv4')",
                          elb_lb_ip_type_names[ip]);
    return SL_OK;
}

int elb_lb_check(const struct elb_lb_spec *s, struct sl_err *err)
{
    if (elb_name_check(s->name, "Load balancer name", err) != SL_OK)
        return SL_ERR;
    if (strncmp(s->name, "internal-", 9) == 0)
        return sl_err_set(err, 400, "ValidationError",
                          "Load balancer name '%s' cannot begin with 'internal-'", s->name);
    if (s->type != ELB_LBT_APPLICATION)
        return sl_err_set(err, 400, "ValidationError",
                          "Load balancer type '%s' is not supported: sluice provides "
                          "Application Load Balancers only (Type 'application')",
                          elb_lb_type_names[s->type]);
    if (elb_lb_ip_type_check(s->ip_type, s->scheme, err) != SL_OK)
        return SL_ERR;
    if (s->id && !elb_valid_id(s->id))
        return sl_err_set(err, 400, "ValidationError",
                          "id '%.128s' must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' "
                          "and '-'",
                          s->id);
    return elb_tags_check(s->tags, s->ntags, err);
}

static json_t *zones_json(const struct elb_lb_spec *s, const char *region)
{
    json_t *out = json_array();
    char zone[64];
    size_t i;

    for (i = 0; i < s->nsubnets; i++) {
        snprintf(zone, sizeof(zone), "%.60s%c", region, (int)('a' + i % 26));
        json_array_append_new(out, json_pack("{ss ss s[]}", "ZoneName", zone, "SubnetId",
                                             s->subnets[i], "LoadBalancerAddresses"));
    }
    return out;
}

static json_t *strings_json(const char *const *v, size_t n)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(out, json_string(v[i]));
    return out;
}

static json_t *lb_object(const struct elb_lb_spec *s, const struct elb_env *env,
                         const char *id, const char *arn)
{
    char now[32], dns[256], rnd[17];
    unsigned long long digits;

    util_iso_now(now);
    util_random_hex(rnd, 8);
    digits = strtoull(rnd, NULL, 16) % 9000000000ULL + 1000000000ULL;
    snprintf(dns, sizeof(dns), "%s%s-%llu.%s.elb.amazonaws.com",
             s->scheme == ELB_SCHEME_INTERNAL ? "internal-" : "", s->name, digits, env->region);
    return json_pack("{ss ss ss ss ss ss ss s{ss} ss so so ss ss ss so so}", "LoadBalancerArn",
                     arn, "DNSName", dns, "CanonicalHostedZoneId", LB_HOSTED_ZONE, "CreatedTime",
                     now, "LoadBalancerName", s->name, "Scheme", elb_scheme_names[s->scheme],
                     "VpcId", s->vpc ? s->vpc : LB_DEFAULT_VPC, "State", "Code", "active", "Type",
                     "application", "AvailabilityZones", zones_json(s, env->region),
                     "SecurityGroups", strings_json(s->security_groups, s->nsecurity_groups),
                     "IpAddressType", elb_lb_ip_type_names[s->ip_type], "id", id, "arn", arn,
                     "Tags", elb_tags_json(s->tags, s->ntags), "Attributes",
                     elb_attrs_view(&elb_lb_attr_table, NULL));
}

/* CreateLoadBalancer is idempotent in AWS: the same name with the same
 * settings returns the existing load balancer. */
static int lb_same_settings(json_t *lb, const struct elb_lb_spec *s, const char *region)
{
    json_t *azs = zones_json(s, region);
    json_t *sgs = strings_json(s->security_groups, s->nsecurity_groups);
    int same = strcmp(elb_str(lb, "Scheme"), elb_scheme_names[s->scheme]) == 0 &&
               strcmp(elb_str(lb, "IpAddressType"), elb_lb_ip_type_names[s->ip_type]) == 0 &&
               strcmp(elb_str(lb, "VpcId"), s->vpc ? s->vpc : LB_DEFAULT_VPC) == 0 &&
               json_equal(json_object_get(lb, "AvailabilityZones"), azs) &&
               json_equal(json_object_get(lb, "SecurityGroups"), sgs) &&
               (s->id == NULL || strcmp(elb_str(lb, "id"), s->id) == 0);

    json_decref(azs);
    json_decref(sgs);
    return same;
}

/* The answer when the name is taken: the existing load balancer, or an
 * error. */
static int name_taken(struct store_txn *txn, const struct elb_env *env,
                      const struct elb_lb_spec *s, const char *id, json_t **out,
                      struct sl_err *err)
{
    json_t *lb;

    if (s->exclusive)
        return sl_err_set(err, 409, "DuplicateLoadBalancerName",
                          "A load balancer with the name '%.100s' already exists", s->name);
    lb = store_get_shared(txn, K_LB, id);
    if (lb && lb_same_settings(lb, s, env->region)) {
        *out = elb_public(lb);
        json_decref(lb);
        return SL_OK;
    }
    json_decref(lb);
    return sl_err_set(err, 400, "DuplicateLoadBalancerName",
                      "A load balancer with the same name '%s' exists", s->name);
}

int elb_lb_create(struct store_txn *txn, const struct elb_env *env, const struct elb_lb_spec *s,
                  json_t **out, struct sl_err *err)
{
    char key[ELB_NAME_MAX + 16], existing[ELB_ID_MAX], hex[ELB_HEX_LEN + 1],
        res[ELB_NAME_MAX + 40], arn[ELB_ARN_MAX];
    const char *id;
    json_t *lb;

    elb_name_key(key, sizeof(key), K_LB, s->name);
    if (s->exclusive && s->id && (lb = store_get_shared(txn, K_LB, s->id)) != NULL)
        goto id_taken;
    if (store_index_get(txn, key, existing, sizeof(existing)) == SL_OK)
        return name_taken(txn, env, s, existing, out, err);
    util_random_hex(hex, ELB_HEX_LEN / 2);
    id = s->id ? s->id : hex;
    if ((lb = store_get_shared(txn, K_LB, id)) != NULL)
        goto id_taken;
    snprintf(res, sizeof(res), "loadbalancer/app/%s/%s", s->name, hex);
    elb_arn(arn, sizeof(arn), env, res);
    if ((lb = lb_object(s, env, id, arn)) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (elb_insert(txn, K_LB, id, lb) != SL_OK || store_index_put(txn, key, id) != SL_OK) {
        json_decref(lb);
        return elb_store_fail(err, "store the load balancer");
    }
    *out = elb_public(lb);
    json_decref(lb);
    return SL_OK;
id_taken:
    json_decref(lb);
    return sl_err_set(err, 409, "Conflict", "A load balancer with id '%s' already exists",
                      s->id);
}

/* ---- DescribeLoadBalancers ---- */

static int collect_public(const char *id, json_t *obj, void *arg)
{
    json_array_append_new(arg, elb_public(obj));
    return 0;
}

static int by_name(const void *x, const void *y)
{
    json_t *const *a = x, *const *b = y;

    return strcmp(elb_str(*a, "LoadBalancerName"), elb_str(*b, "LoadBalancerName"));
}

static json_t *lb_by_name(struct store_txn *txn, const char *name)
{
    char key[ELB_NAME_MAX + 16], id[ELB_ID_MAX];

    if (strlen(name) > ELB_NAME_MAX)
        return NULL;
    elb_name_key(key, sizeof(key), K_LB, name);
    if (store_index_get(txn, key, id, sizeof(id)) != SL_OK)
        return NULL;
    return store_get_shared(txn, K_LB, id);
}

int elb_lb_describe(struct store_txn *txn, const struct elb_lb_select *sel, json_t **out,
                    struct sl_err *err)
{
    json_t *all = json_array(), *lb;
    size_t i, n = sel->narns ? sel->narns : sel->nnames;

    for (i = 0; i < n; i++) {
        const char *ref = sel->narns ? sel->arns[i] : sel->names[i];
        lb = sel->narns ? elb_by_arn_ro(txn, K_LB, ref, NULL) : lb_by_name(txn, ref);
        if (lb == NULL) {
            json_decref(all);
            return sl_err_set(err, 400, "LoadBalancerNotFound",
                              "Load balancers '[%.300s]' not found", ref);
        }
        json_array_append_new(all, elb_public(lb));
        json_decref(lb);
    }
    if (n == 0) {
        store_scan(txn, K_LB, NULL, collect_public, all);
        elb_sort(all, by_name);
    }
    *out = all;
    return SL_OK;
}

/* ---- DeleteLoadBalancer ---- */

int elb_lb_delete(struct store_txn *txn, const char *arn, struct sl_err *err)
{
    char id[ELB_ID_MAX], key[ELB_NAME_MAX + 16];
    const char *prot;
    json_t *lb, *listeners, *l;
    size_t i;
    int rc = SL_OK;

    if ((lb = elb_by_arn_ro(txn, K_LB, arn, id)) == NULL)
        return SL_OK; /* AWS: deleting an unknown load balancer succeeds */
    prot = elb_attr_get(json_object_get(lb, "Attributes"), "deletion_protection.enabled");
    if (prot && strcmp(prot, "true") == 0) {
        json_decref(lb);
        return sl_err_set(err, 400, "OperationNotPermitted",
                          "Load balancer '%s' cannot be deleted because deletion protection is "
                          "enabled",
                          arn);
    }
    listeners = elb_lb_listener_ids(txn, id);
    json_array_foreach(listeners, i, l)
        if (rc == SL_OK)
            rc = elb_listener_remove(txn, json_string_value(l), err);
    json_decref(listeners);
    if (rc == SL_OK) {
        elb_name_key(key, sizeof(key), K_LB, elb_str(lb, "LoadBalancerName"));
        store_index_del(txn, key);
        if (elb_remove(txn, K_LB, id, arn) != SL_OK)
            rc = elb_store_fail(err, "delete the load balancer");
    }
    json_decref(lb);
    return rc;
}

/* ---- attributes ---- */

static json_t *lb_attrs_of(json_t *lb)
{
    return elb_attrs_view(&elb_lb_attr_table, json_object_get(lb, "Attributes"));
}

int elb_lb_attrs(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err)
{
    json_t *lb = elb_by_arn_ro(txn, K_LB, arn, NULL);

    if (lb == NULL)
        return lb_not_found(err, arn);
    *out = lb_attrs_of(lb);
    json_decref(lb);
    return SL_OK;
}

/* Access or connection logs (<family> "access_logs.s3" or
 * "connection_logs.s3") on need a destination sluice-proxy can write under
 * its --access-log-dir: an S3 bucket name and a prefix (common/logdest.h). */
static int lb_logs(json_t *attrs, const char *family, struct sl_err *err)
{
    char k[64];
    const char *v;

    snprintf(k, sizeof(k), "%s.enabled", family);
    v = elb_attr_get(attrs, k);
    if (v == NULL || strcmp(v, "true") != 0)
        return SL_OK;
    snprintf(k, sizeof(k), "%s.bucket", family);
    v = elb_attr_get(attrs, k);
    if (v == NULL || v[0] == '\0')
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "The value of '%s' cannot be empty when logs are enabled", k);
    if (!logdest_bucket_ok(v))
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "The value of '%s' ('%.64s') is not an S3 bucket "
                          "name: 3-63 lowercase letters, digits, '.' and '-', starting and "
                          "ending with a letter or digit",
                          k, v);
    snprintf(k, sizeof(k), "%s.prefix", family);
    v = elb_attr_get(attrs, k);
    if (v && !logdest_prefix_ok(v))
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "The value of '%s' is not a prefix sluice can log "
                          "under: no 'AWSLogs', no leading, trailing or doubled '/', no '.' or "
                          "'..' segment, no spaces or '\\'", k);
    return SL_OK;
}

/* Cross-attribute rules that elb_attrs_merge's per-key checks cannot see. */
static int lb_attrs_combination(json_t *attrs, struct sl_err *err)
{
    const char *v = elb_attr_get(attrs, "load_balancing.cross_zone.enabled");
    int rc;

    if (v && strcmp(v, "true") != 0)
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "Cross-zone load balancing cannot be disabled for Application Load "
                          "Balancers");
    rc = lb_logs(attrs, "access_logs.s3", err);

    return rc != SL_OK ? rc : lb_logs(attrs, "connection_logs.s3", err);
}

int elb_lb_attrs_modify(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                        size_t n, json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *lb = elb_by_arn(txn, K_LB, arn, id), *merged;
    int rc = SL_ERR;

    if (lb == NULL)
        return lb_not_found(err, arn);
    merged = elb_attrs_merge(json_object_get(lb, "Attributes"), kv, n, &elb_lb_attr_table, err);
    if (merged == NULL || lb_attrs_combination(merged, err) != SL_OK)
        goto out;
    json_object_set(lb, "Attributes", merged);
    if (store_put(txn, K_LB, id, lb) != SL_OK) {
        rc = elb_store_fail(err, "update the load balancer");
        goto out;
    }
    *out = lb_attrs_of(lb);
    rc = SL_OK;
out:
    json_decref(merged);
    json_decref(lb);
    return rc;
}

/* ---- SetSecurityGroups, SetSubnets, SetIpAddressType ---- */

/* The load balancer <arn> changed by <fn> and stored back; *out gets a copy
 * of its public view. */
static int lb_update(struct store_txn *txn, const struct elb_env *env, const char *arn,
                     int (*fn)(json_t *lb, const struct elb_env *env, const void *arg,
                               struct sl_err *err),
                     const void *arg, json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *lb = elb_by_arn(txn, K_LB, arn, id);
    int rc;

    if (lb == NULL)
        return lb_not_found(err, arn);
    rc = fn(lb, env, arg, err);
    if (rc == SL_OK && store_put(txn, K_LB, id, lb) != SL_OK)
        rc = elb_store_fail(err, "update the load balancer");
    if (rc == SL_OK)
        *out = elb_public(lb);
    json_decref(lb);
    return rc;
}

static int set_sgs(json_t *lb, const struct elb_env *env, const void *arg, struct sl_err *err)
{
    const struct elb_lb_spec *s = arg;

    json_object_set_new(lb, "SecurityGroups",
                        strings_json(s->security_groups, s->nsecurity_groups));
    return SL_OK;
}

int elb_lb_set_security_groups(struct store_txn *txn, const char *arn, const char *const *sgs,
                               size_t n, json_t **out, struct sl_err *err)
{
    struct elb_lb_spec s;

    memset(&s, 0, sizeof(s));
    s.security_groups = sgs;
    s.nsecurity_groups = n;
    return lb_update(txn, NULL, arn, set_sgs, &s, out, err);
}

static int set_subnets(json_t *lb, const struct elb_env *env, const void *arg,
                       struct sl_err *err)
{
    const struct elb_lb_spec *s = arg;

    json_object_set_new(lb, "AvailabilityZones", zones_json(s, env->region));
    return SL_OK;
}

int elb_lb_set_subnets(struct store_txn *txn, const struct elb_env *env, const char *arn,
                       const char *const *subnets, size_t n, json_t **out, struct sl_err *err)
{
    struct elb_lb_spec s;

    memset(&s, 0, sizeof(s));
    s.subnets = subnets;
    s.nsubnets = n;
    return lb_update(txn, env, arn, set_subnets, &s, out, err);
}

static int set_ip_type(json_t *lb, const struct elb_env *env, const void *arg,
                       struct sl_err *err)
{
    const enum elb_lb_ip_type *ip = arg;
    int scheme = strcmp(elb_str(lb, "Scheme"), "internal") == 0 ? ELB_SCHEME_INTERNAL
                                                                : ELB_SCHEME_INTERNET_FACING;

    if (elb_lb_ip_type_check(*ip, (enum elb_scheme)scheme, err) != SL_OK)
        return SL_ERR;
    json_object_set_new(lb, "IpAddressType", json_string(elb_lb_ip_type_names[*ip]));
    return SL_OK;
}

int elb_lb_set_ip_type(struct store_txn *txn, const char *arn, enum elb_lb_ip_type ip,
                       json_t **out, struct sl_err *err)
{
    return lb_update(txn, NULL, arn, set_ip_type, &ip, out, err);
}
