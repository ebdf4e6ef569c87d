/*
 * elbv2_lb.c - load balancer operations: CreateLoadBalancer,
 * DescribeLoadBalancers, DeleteLoadBalancer and the attribute pair.
 *
 * Only Application Load Balancers exist here.  Subnets and security groups
 * are recorded as given (there is no VPC to check them against) and a new
 * load balancer is "active" at once, so the load_balancer_available waiter
 * succeeds on its first poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/elbv2/elbv2.h"
#include "routes/elbv2/rules.h"
#include "routes/wire/params.h"

#define LB_HOSTED_ZONE "Z35SXDOTRQ7X7K"
#define LB_DEFAULT_VPC "vpc-00000000"

static const char *const lb_schemes[] = {"internet-facing", "internal", NULL};
static const char *const lb_types[] = {"application", "network", "gateway", NULL};
static const char *const lb_ip_types[] = {"ipv4", "dualstack", "dualstack-without-public-ipv4",
                                          NULL};
static const char *const desync_modes[] = {"monitor", "defensive", "strictest", NULL};
static const char *const xff_modes[] = {"append", "preserve", "remove", NULL};

/* The attributes an Application Load Balancer reports, with AWS's defaults. */
static const struct elb_attr lb_attrs[] = {
    {"access_logs.s3.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"access_logs.s3.bucket", "", ATTR_STR, 0, 1024, NULL},
    {"access_logs.s3.prefix", "", ATTR_STR, 0, 1024, NULL},
    {"idle_timeout.timeout_seconds", "60", ATTR_INT, 1, 4000, NULL},
    {"deletion_protection.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"routing.http2.enabled", "true", ATTR_BOOL, 0, 0, NULL},
    {"routing.http.drop_invalid_header_fields.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"routing.http.xff_client_port.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"routing.http.preserve_host_header.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"routing.http.xff_header_processing.mode", "append", ATTR_ENUM, 0, 0, xff_modes},
    {"load_balancing.cross_zone.enabled", "true", ATTR_BOOL, 0, 0, NULL},
    {"routing.http.desync_mitigation_mode", "defensive", ATTR_ENUM, 0, 0, desync_modes},
    {"client_keep_alive.seconds", "3600", ATTR_INT, 60, 604800, NULL},
    {"waf.fail_open.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false", ATTR_BOOL, 0, 0,
     NULL},
    {"zonal_shift.config.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"connection_logs.s3.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"connection_logs.s3.bucket", "", ATTR_STR, 0, 1024, NULL},
    {"connection_logs.s3.prefix", "", ATTR_STR, 0, 1024, NULL},
    {NULL, NULL, ATTR_STR, 0, 0, NULL},
};

/* ---- helpers shared with the listener and rule operations ---- */

int elb_store_fail(struct sl_err *err, const char *what)
{
    sl_err_set(err, 500, "InternalFailure", "store: cannot %s", what);
    return SL_EIO;
}

const char *elb_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}

int elb_child_arn(char *out, size_t cap, const char *parent, const char *from, const char *to,
                  const char *hex)
{
    const char *at = strstr(parent, from);
    int n;

    if (at == NULL)
        return SL_ERR;
    n = snprintf(out, cap, "%.*s%s%s/%s", (int)(at - parent), parent, to, at + strlen(from),
                 hex);
    return n > 0 && (size_t)n < cap ? SL_OK : SL_ERR;
}

int elb_new_id(json_t *req, const char *fallback, char out[ELB_ID_MAX], struct sl_err *err)
{
    const char *id;
    int rc = p_str(req, "id", P_OPTIONAL, &id, err);

    if (rc == SL_ERR)
        return SL_ERR;
    if (rc == SL_ENOTFOUND)
        id = fallback;
    else if (!elb_valid_id(id))
        return sl_err_set(err, 400, "ValidationError",
                          "id '%.128s' must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' "
                          "and '-'",
                          id);
    snprintf(out, ELB_ID_MAX, "%s", id);
    return SL_OK;
}

/* Remove the load balancer's hidden members for output. */
static json_t *lb_list_public(json_t *all)
{
    json_t *out = json_array(), *o;
    size_t i;

    json_array_foreach(all, i, o)
        json_array_append_new(out, elb_public(o));
    return out;
}

/* ---- CreateLoadBalancer ---- */

struct lb_create {
    struct op_ctx *ctx;
    const char *name, *scheme, *ip_type, *vpc;
    char id[ELB_ID_MAX];
    int id_given;
    json_t *azs;    /* owned */
    json_t *sgs;    /* owned */
    json_t *tags;   /* owned */
    json_t *out;
};

/* A string list member: every element must be a string.  New reference ([]
 * when absent) or NULL with <err>. */
static json_t *string_list(json_t *req, const char *name, struct sl_err *err)
{
    json_t *list, *v;
    size_t i;

    if (p_list(req, name, P_OPTIONAL, 0, 100, &list, err) == SL_ERR)
        return NULL;
    if (list == NULL)
        return json_array();
    json_array_foreach(list, i, v)
        if (!json_is_string(v) || json_string_length(v) == 0) {
            p_invalid(err, name, "Member must be a list of non-empty strings");
            return NULL;
        }
    return json_deep_copy(list);
}

/* AvailabilityZones from Subnets or SubnetMappings: one zone per subnet,
 * named <region>a, <region>b, ... in request order. */
static json_t *lb_zones(json_t *req, const char *region, struct sl_err *err)
{
    json_t *subnets = NULL, *maps = NULL, *out, *m;
    int rs, rm;
    size_t i;
    char zone[64];

    rs = p_list(req, "Subnets", P_OPTIONAL, 0, 100, &subnets, err);
    if (rs == SL_ERR)
        return NULL;
    rm = p_list(req, "SubnetMappings", P_OPTIONAL, 0, 100, &maps, err);
    if (rm == SL_ERR)
        return NULL;
    if (json_array_size(subnets) > 0 && json_array_size(maps) > 0) {
        sl_err_set(err, 400, "ValidationError",
                   "You must specify either subnets or subnet mappings, but not both");
        return NULL;
    }
    out = json_array();
    json_array_foreach(json_array_size(maps) > 0 ? maps : subnets, i, m) {
        const char *sid;

        if (json_is_object(m)) {
            if (p_str(m, "SubnetId", P_REQUIRED, &sid, err) != SL_OK)
                goto fail;
        } else if (json_is_string(m) && json_string_length(m) > 0) {
            sid = json_string_value(m);
        } else {
            p_invalid(err, json_array_size(maps) > 0 ? "SubnetMappings" : "Subnets",
                      "Member must be a list of subnet ids");
            goto fail;
        }
        snprintf(zone, sizeof(zone), "%.60s%c", region, (int)('a' + i % 26));
        json_array_append_new(out, json_pack("{ss ss s[]}", "ZoneName", zone, "SubnetId", sid,
                                             "LoadBalancerAddresses"));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *lb_object(const struct lb_create *a, const char *arn)
{
    char now[32], dns[256], rnd[17];
    unsigned long long digits;

    util_iso_now(now);
    util_random_hex(rnd, 8);
    digits = strtoull(rnd, NULL, 16) % 9000000000ULL + 1000000000ULL;
    snprintf(dns, sizeof(dns), "%s%s-%llu.%s.elb.amazonaws.com",
             strcmp(a->scheme, "internal") == 0 ? "internal-" : "", a->name, digits,
             a->ctx->region);
    return json_pack("{ss ss ss ss ss ss ss s{ss} ss sO sO ss ss ss sO so}", "LoadBalancerArn",
                     arn, "DNSName", dns, "CanonicalHostedZoneId", LB_HOSTED_ZONE, "CreatedTime",
                     now, "LoadBalancerName", a->name, "Scheme", a->scheme, "VpcId", a->vpc,
                     "State", "Code", "active", "Type", "application", "AvailabilityZones",
                     a->azs, "SecurityGroups", a->sgs, "IpAddressType", a->ip_type, "id", a->id,
                     "arn", arn, "Tags", a->tags, "Attributes", elb_attrs_default(lb_attrs));
}

/* CreateLoadBalancer is idempotent in AWS: the same name with the same
 * settings returns the existing load balancer. */
static int lb_same_settings(json_t *lb, const struct lb_create *a)
{
    return strcmp(elb_str(lb, "Scheme"), a->scheme) == 0 &&
           strcmp(elb_str(lb, "IpAddressType"), a->ip_type) == 0 &&
           strcmp(elb_str(lb, "VpcId"), a->vpc) == 0 &&
           json_equal(json_object_get(lb, "AvailabilityZones"), a->azs) &&
           json_equal(json_object_get(lb, "SecurityGroups"), a->sgs) &&
           (!a->id_given || strcmp(elb_str(lb, "id"), a->id) == 0);
}

static int lb_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_create *a = arg;
    char key[64 + ELB_ID_MAX], existing[ELB_ID_MAX], hex[ELB_HEX_LEN + 1], res[128],
        arn[ELB_ARN_MAX];
    json_t *lb;

    snprintf(key, sizeof(key), "name:%s:%s", K_LB, a->name);
    if (store_index_get(txn, key, existing, sizeof(existing)) == SL_OK) {
        lb = store_get(txn, K_LB, existing);
        if (lb && lb_same_settings(lb, a)) {
            a->out = json_pack("{s[o]}", "LoadBalancers", elb_public(lb));
            json_decref(lb);
            return SL_OK;
        }
        json_decref(lb);
        return sl_err_set(err, 400, "DuplicateLoadBalancerName",
                          "A load balancer with the same name '%s' exists", a->name);
    }
    util_random_hex(hex, ELB_HEX_LEN / 2);
    if (!a->id_given)
        snprintf(a->id, sizeof(a->id), "%s", hex);
    lb = store_get(txn, K_LB, a->id);
    if (lb) {
        json_decref(lb);
        return sl_err_set(err, 409, "Conflict", "A load balancer with id '%s' already exists",
                          a->id);
    }
    snprintf(res, sizeof(res), "loadbalancer/app/%s/%s", a->name, hex);
    elb_arn(arn, sizeof(arn), a->ctx, res);
    lb = lb_object(a, arn);
    if (lb == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (elb_insert(txn, K_LB, a->id, lb) != SL_OK || store_index_put(txn, key, a->id) != SL_OK) {
        json_decref(lb);
        return elb_store_fail(err, "store the load balancer");
    }
    a->out = json_pack("{s[o]}", "LoadBalancers", elb_public(lb));
    json_decref(lb);
    return SL_OK;
}

json_t *op_create_load_balancer(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct lb_create a = {.ctx = ctx};
    const char *type = "application";
    json_t *out = NULL;

    if (p_str(req, "Name", P_REQUIRED, &a.name, err) != SL_OK ||
        elb_valid_name(a.name, "Load balancer name", err) != SL_OK)
        return NULL;
    if (strncmp(a.name, "internal-", 9) == 0) {
        sl_err_set(err, 400, "ValidationError",
                   "Load balancer name '%s' cannot begin with 'internal-'", a.name);
        return NULL;
    }
    if (p_enum(req, "Scheme", P_OPTIONAL, lb_schemes, &a.scheme, err) == SL_ERR ||
        p_enum(req, "Type", P_OPTIONAL, lb_types, &type, err) == SL_ERR ||
        p_enum(req, "IpAddressType", P_OPTIONAL, lb_ip_types, &a.ip_type, err) == SL_ERR ||
        p_str(req, "VpcId", P_OPTIONAL, &a.vpc, err) == SL_ERR)
        return NULL;
    if (type == NULL)
        type = "application";
    if (strcmp(type, "application") != 0) {
        sl_err_set(err, 400, "ValidationError",
                   "Load balancer type '%s' is not supported: sluice provides Application "
                   "Load Balancers only (Type 'application')",
                   type);
        return NULL;
    }
    if (a.scheme == NULL)
        a.scheme = "internet-facing";
    if (a.ip_type == NULL)
        a.ip_type = "ipv4";
    if (a.vpc == NULL || a.vpc[0] == '\0')
        a.vpc = LB_DEFAULT_VPC;
    if (strcmp(a.ip_type, "dualstack-without-public-ipv4") == 0 &&
        strcmp(a.scheme, "internal") == 0) {
        sl_err_set(err, 400, "InvalidConfigurationRequest",
                   "IP address type 'dualstack-without-public-ipv4' requires an "
                   "internet-facing load balancer");
        return NULL;
    }
    if (elb_new_id(req, "", a.id, err) != SL_OK)
        return NULL;
    a.id_given = a.id[0] != '\0';
    if ((a.azs = lb_zones(req, ctx->region, err)) == NULL)
        goto out;
    if ((a.sgs = string_list(req, "SecurityGroups", err)) == NULL)
        goto out;
    if ((a.tags = elb_tags_param(req, err)) == NULL)
        goto out;
    if (store_write(ctx->store, lb_create_tx, &a, NULL, err) == SL_OK)
        out = a.out;
out:
    json_decref(a.azs);
    json_decref(a.sgs);
    json_decref(a.tags);
    return out;
}

/* ---- DescribeLoadBalancers ---- */

static int collect_obj(const char *id, json_t *obj, void *arg)
{
    json_array_append(arg, obj);
    return 0;
}

static int by_name(const void *x, const void *y)
{
    json_t *const *a = x, *const *b = y;

    return strcmp(elb_str(*a, "LoadBalancerName"), elb_str(*b, "LoadBalancerName"));
}

static json_t *sorted_by_name(json_t *arr)
{
    size_t n = json_array_size(arr), i;
    json_t **v = n ? calloc(n, sizeof(*v)) : NULL, *out = json_array();

    if (n && v == NULL)
        return out;
    for (i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    if (n)
        qsort(v, n, sizeof(*v), by_name);
    for (i = 0; i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

json_t *op_describe_load_balancers(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    json_t *arns = NULL, *names = NULL, *all, *sorted, *page, *next, *v, *out = NULL;
    char key[64 + 256], id[ELB_ID_MAX];
    size_t i;

    if (p_list(req, "LoadBalancerArns", P_OPTIONAL, 0, 20, &arns, err) == SL_ERR ||
        p_list(req, "Names", P_OPTIONAL, 0, 20, &names, err) == SL_ERR)
        return NULL;
    if (json_array_size(arns) > 0 && json_array_size(names) > 0) {
        sl_err_set(err, 400, "ValidationError",
                   "Load balancer names and load balancer ARNs cannot be specified at the same "
                   "time");
        return NULL;
    }
    json_array_foreach(json_array_size(arns) ? arns : names, i, v)
        if (!json_is_string(v)) {
            p_invalid(err, json_array_size(arns) ? "LoadBalancerArns" : "Names",
                      "Member must be a list of strings");
            return NULL;
        }
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    all = json_array();
    if (json_array_size(arns) > 0) {
        json_array_foreach(arns, i, v) {
            json_t *lb = elb_by_arn(txn, K_LB, json_string_value(v), NULL);
            if (lb == NULL) {
                sl_err_set(err, 400, "LoadBalancerNotFound",
                           "Load balancers '[%.300s]' not found", json_string_value(v));
                goto done;
            }
            json_array_append_new(all, lb);
        }
    } else if (json_array_size(names) > 0) {
        json_array_foreach(names, i, v) {
            json_t *lb = NULL;
            snprintf(key, sizeof(key), "name:%s:%.250s", K_LB, json_string_value(v));
            if (store_index_get(txn, key, id, sizeof(id)) == SL_OK)
                lb = store_get(txn, K_LB, id);
            if (lb == NULL) {
                sl_err_set(err, 400, "LoadBalancerNotFound",
                           "Load balancers '[%.300s]' not found", json_string_value(v));
                goto done;
            }
            json_array_append_new(all, lb);
        }
    } else {
        json_t *tmp = json_array();
        store_scan(txn, K_LB, NULL, collect_obj, tmp);
        sorted = sorted_by_name(tmp);
        json_decref(tmp);
        json_decref(all);
        all = sorted;
    }
    page = elb_page(req, all, &next, err);
    if (page == NULL)
        goto done;
    out = json_pack("{so}", "LoadBalancers", lb_list_public(page));
    json_decref(page);
    if (next)
        json_object_set_new(out, "NextMarker", next);
done:
    store_txn_end(txn);
    json_decref(all);
    return out;
}

/* ---- DeleteLoadBalancer ---- */

struct lb_delete {
    const char *arn;
};

static int lb_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_delete *a = arg;
    char id[ELB_ID_MAX], key[64 + 256];
    const char *prot;
    json_t *lb, *listeners, *l;
    size_t i;
    int rc = SL_OK;

    lb = elb_by_arn(txn, K_LB, a->arn, id);
    if (lb == NULL)
        return SL_OK; /* AWS: deleting an unknown load balancer succeeds */
    prot = elb_attr_get(json_object_get(lb, "Attributes"), "deletion_protection.enabled");
    if (prot && strcmp(prot, "true") == 0) {
        json_decref(lb);
        return sl_err_set(err, 400, "OperationNotPermitted",
                          "Load balancer '%s' cannot be deleted because deletion protection is "
                          "enabled",
                          a->arn);
    }
    listeners = elb_lb_listener_ids(txn, id);
    json_array_foreach(listeners, i, l)
        if ((rc = elb_listener_delete(txn, json_string_value(l), err)) != SL_OK)
            break;
    json_decref(listeners);
    if (rc == SL_OK) {
        snprintf(key, sizeof(key), "name:%s:%s", K_LB, elb_str(lb, "LoadBalancerName"));
        store_index_del(txn, key);
        if (elb_remove(txn, K_LB, id, a->arn) != SL_OK)
            rc = elb_store_fail(err, "delete the load balancer");
    }
    json_decref(lb);
    return rc;
}

json_t *op_delete_load_balancer(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct lb_delete a;

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &a.arn, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, lb_delete_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}

/* ---- DescribeLoadBalancerAttributes, ModifyLoadBalancerAttributes ---- */

static json_t *lb_attrs_of(json_t *lb)
{
    json_t *attrs = json_object_get(lb, "Attributes");

    return json_is_array(attrs) ? json_incref(attrs) : elb_attrs_default(lb_attrs);
}

json_t *op_describe_load_balancer_attributes(struct op_ctx *ctx, json_t *req,
                                             struct sl_err *err)
{
    struct store_txn *txn;
    const char *arn;
    json_t *lb, *out;

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &arn, err) != SL_OK)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    lb = elb_by_arn(txn, K_LB, arn, NULL);
    store_txn_end(txn);
    if (lb == NULL) {
        sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found", arn);
        return NULL;
    }
    out = json_pack("{so}", "Attributes", lb_attrs_of(lb));
    json_decref(lb);
    return out;
}

struct lb_attrs_mod {
    const char *arn;
    json_t *changes;
    json_t *out;
};

/* Cross-attribute rules that elb_attrs_merge's per-key checks cannot see. */
static int lb_attrs_check(json_t *attrs, struct sl_err *err)
{
    static const char *const logs[] = {"access_logs.s3", "connection_logs.s3", NULL};
    char k[64];
    const char *v;
    size_t i;

    v = elb_attr_get(attrs, "load_balancing.cross_zone.enabled");
    if (v && strcmp(v, "true") != 0)
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "Cross-zone load balancing cannot be disabled for Application Load "
                          "Balancers");
    for (i = 0; logs[i]; i++) {
        snprintf(k, sizeof(k), "%s.enabled", logs[i]);
        v = elb_attr_get(attrs, k);
        if (v && strcmp(v, "true") == 0) {
            snprintf(k, sizeof(k), "%s.bucket", logs[i]);
            v = elb_attr_get(attrs, k);
            if (v == NULL || v[0] == '\0')
                return sl_err_set(err, 400, "InvalidConfigurationRequest",
                                  "The value of '%s' cannot be empty when logs are enabled", k);
        }
    }
    return SL_OK;
}

static int lb_attrs_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_attrs_mod *a = arg;
    char id[ELB_ID_MAX];
    json_t *lb, *cur, *merged;

    lb = elb_by_arn(txn, K_LB, a->arn, id);
    if (lb == NULL)
        return sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found",
                          a->arn);
    cur = lb_attrs_of(lb);
    merged = elb_attrs_merge(cur, a->changes, lb_attrs, err);
    json_decref(cur);
    if (merged == NULL || lb_attrs_check(merged, err) != SL_OK) {
        json_decref(merged);
        json_decref(lb);
        return SL_ERR;
    }
    json_object_set(lb, "Attributes", merged);
    if (store_put(txn, K_LB, id, lb) != SL_OK) {
        json_decref(merged);
        json_decref(lb);
        return elb_store_fail(err, "update the load balancer");
    }
    json_decref(lb);
    a->out = json_pack("{so}", "Attributes", merged);
    return SL_OK;
}

json_t *op_modify_load_balancer_attributes(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct lb_attrs_mod a = {0};

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        p_list(req, "Attributes", P_REQUIRED, 1, 20, &a.changes, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, lb_attrs_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return a.out;
}
