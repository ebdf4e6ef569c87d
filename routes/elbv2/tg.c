/*
 * elbv2_tg.c - target groups and their targets: CreateTargetGroup,
 * DescribeTargetGroups, ModifyTargetGroup, DeleteTargetGroup,
 * Describe/ModifyTargetGroupAttributes, RegisterTargets, DeregisterTargets,
 * DescribeTargetHealth.
 *
 * Targets are objects of kind "target" keyed "<tg id>|<Id>|<Port>" so that a
 * prefix scan lists one group's targets:
 *   {"id","Target":{"Id","Port"[,"AvailabilityZone"]},
 *    "_state":"registered"|"draining","_since":ISO,"_deadline_ms":N}
 * The group's ARN is not repeated in each: registrations are the hot write,
 * and every byte of a record is written twice (object and change record).
 * A deregistered target drains until its deadline (now + the group's
 * deregistration_delay.timeout_seconds) or until the data plane reports it
 * idle, then the drain finalizer deletes it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/util.h"
#include "routes/elbv2/elbv2.h"
#include "routes/elbv2/health.h"
#include "routes/wire/params.h"

#define MAX_TARGETS_PER_TG 1000

static const char *const tg_protocols[] = {"HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP",
                                           "GENEVE", NULL};
static const char *const hc_protocols[] = {"HTTP", "HTTPS", "TCP", NULL};
static const char *const protocol_versions[] = {"HTTP1", "HTTP2", "GRPC", NULL};
static const char *const target_types[] = {"instance", "ip", "lambda", "alb", NULL};
static const char *const ip_types[] = {"ipv4", "ipv6", NULL};
static const char *const algorithms[] = {"round_robin", "least_outstanding_requests",
                                         "weighted_random", NULL};
static const char *const on_off[] = {"on", "off", NULL};
static const char *const stickiness_types[] = {"lb_cookie", "app_cookie", NULL};
static const char *const cross_zone[] = {"true", "false", "use_load_balancer_configuration",
                                         NULL};

static const struct elb_attr tg_attrs[] = {
    {"deregistration_delay.timeout_seconds", "300", ATTR_INT, 0, 3600, NULL},
    {"stickiness.enabled", "false", ATTR_BOOL, 0, 0, NULL},
    {"stickiness.type", "lb_cookie", ATTR_ENUM, 0, 0, stickiness_types},
    {"stickiness.lb_cookie.duration_seconds", "86400", ATTR_INT, 1, 604800, NULL},
    {"stickiness.app_cookie.cookie_name", "", ATTR_STR, 0, 255, NULL},
    {"stickiness.app_cookie.duration_seconds", "86400", ATTR_INT, 1, 604800, NULL},
    {"slow_start.duration_seconds", "0", ATTR_INT, 0, 900, NULL},
    {"load_balancing.algorithm.type", "round_robin", ATTR_ENUM, 0, 0, algorithms},
    {"load_balancing.algorithm.anomaly_mitigation", "off", ATTR_ENUM, 0, 0, on_off},
    {"load_balancing.cross_zone.enabled", "use_load_balancer_configuration", ATTR_ENUM, 0, 0,
     cross_zone},
    {NULL, NULL, ATTR_INT, 0, 0, NULL},
};

static json_t *tg_not_found(struct sl_err *err, const char *what)
{
    sl_err_set(err, 400, "TargetGroupNotFound", "One or more target groups not found%s%s",
               what ? ": " : "", what ? what : "");
    return NULL;
}

/* "200", "200,202", "200-299": codes within 200-499 (ALB). */
static int valid_matcher(const char *m)
{
    const char *p = m;

    if (*p == '\0' || strlen(m) > 64)
        return 0;
    while (*p) {
        long lo, hi;
        char *end;

        if (!isdigit((unsigned char)*p))
            return 0;
        lo = strtol(p, &end, 10);
        hi = lo;
        if (*end == '-') {
            if (!isdigit((unsigned char)end[1]))
                return 0;
            hi = strtol(end + 1, &end, 10);
        }
        if (lo < 200 || hi > 499 || lo > hi)
            return 0;
        if (*end == ',')
            end++;
        else if (*end != '\0')
            return 0;
        p = end;
    }
    return 1;
}

/* Validate and apply the health-check members of <req> onto <tg>.  Used by
 * CreateTargetGroup (with defaults already in <tg>) and ModifyTargetGroup. */
static int apply_health_check(json_t *tg, json_t *req, struct sl_err *err)
{
    const char *s;
    long n;
    int b, rc;
    json_t *matcher;

    if ((rc = p_enum(req, "HealthCheckProtocol", P_OPTIONAL, hc_protocols, &s, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK)
        json_object_set_new(tg, "HealthCheckProtocol", json_string(s));
    if ((rc = p_str(req, "HealthCheckPort", P_OPTIONAL, &s, err)) == SL_ERR) {
        /* A JSON integer is fine too (REST). */
        if (p_int(req, "HealthCheckPort", P_REQUIRED, 1, 65535, &n, err) != SL_OK)
            return SL_ERR;
        char port[16];
        snprintf(port, sizeof(port), "%ld", n);
        json_object_set_new(tg, "HealthCheckPort", json_string(port));
    } else if (rc == SL_OK) {
        if (strcmp(s, "traffic-port") != 0 &&
            p_int(req, "HealthCheckPort", P_REQUIRED, 1, 65535, &n, err) != SL_OK)
            return SL_ERR;
        json_object_set_new(tg, "HealthCheckPort", json_string(s));
    }
    if ((rc = p_bool(req, "HealthCheckEnabled", P_OPTIONAL, &b, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK)
        json_object_set_new(tg, "HealthCheckEnabled", json_boolean(b));
    if ((rc = p_str(req, "HealthCheckPath", P_OPTIONAL, &s, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK) {
        if (s[0] != '/' || strlen(s) > 1024)
            return p_invalid(err, "HealthCheckPath",
                             "Member must start with '/' and have length at most 1024");
        json_object_set_new(tg, "HealthCheckPath", json_string(s));
    }
    /* Intervals and timeouts go down to 1 s: an extension for fast local use. */
    if ((rc = p_int(req, "HealthCheckIntervalSeconds", P_OPTIONAL, 1, 300, &n, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK)
        json_object_set_new(tg, "HealthCheckIntervalSeconds", json_integer(n));
    if ((rc = p_int(req, "HealthCheckTimeoutSeconds", P_OPTIONAL, 1, 120, &n, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK)
        json_object_set_new(tg, "HealthCheckTimeoutSeconds", json_integer(n));
    if ((rc = p_int(req, "HealthyThresholdCount", P_OPTIONAL, 2, 10, &n, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK)
        json_object_set_new(tg, "HealthyThresholdCount", json_integer(n));
    if ((rc = p_int(req, "UnhealthyThresholdCount", P_OPTIONAL, 2, 10, &n, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK)
        json_object_set_new(tg, "UnhealthyThresholdCount", json_integer(n));
    if ((rc = p_obj(req, "Matcher", P_OPTIONAL, &matcher, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK) {
        if (p_str(matcher, "HttpCode", P_REQUIRED, &s, err) != SL_OK)
            return SL_ERR;
        if (!valid_matcher(s))
            return sl_err_set(err, 400, "ValidationError",
                              "Health check matcher HTTP code '%s' must be a code, a list "
                              "('200,202') or a range ('200-299') within 200-499",
                              s);
        json_object_set_new(tg, "Matcher", json_pack("{ss}", "HttpCode", s));
    }
    if (json_integer_value(json_object_get(tg, "HealthCheckTimeoutSeconds")) >
        json_integer_value(json_object_get(tg, "HealthCheckIntervalSeconds")))
        return sl_err_set(err, 400, "ValidationError",
                          "Health check interval must be greater than or equal to the timeout.");
    return SL_OK;
}

/* ---- CreateTargetGroup ---- */

struct create_tg {
    struct op_ctx *ctx;
    json_t *tg;     /* fully built object, without arn/id yet decided */
    const char *name;
    const char *req_id;
    json_t *result; /* out */
};

/* Members that decide whether a second create with the same name is the
 * same target group (AWS answers it idempotently) or a conflict. */
static int same_settings(json_t *a, json_t *b)
{
    static const char *const keys[] = {"Protocol", "Port", "VpcId", "TargetType",
                                       "HealthCheckPath", "HealthCheckPort",
                                       "HealthCheckIntervalSeconds", "ProtocolVersion", NULL};
    size_t i;

    for (i = 0; keys[i]; i++)
        if (!json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])) &&
            !(json_object_get(a, keys[i]) == NULL && json_object_get(b, keys[i]) == NULL))
            return 0;
    return 1;
}

static int create_tg_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct create_tg *c = arg;
    char key[128], existing[ELB_ID_MAX], hex[17], res[256], arn[ELB_ARN_MAX];
    const char *id;
    json_t *old;

    snprintf(key, sizeof(key), "name:%s:%s", K_TG, c->name);
    if (store_index_get(txn, key, existing, sizeof(existing)) == SL_OK) {
        old = store_get(txn, K_TG, existing);
        if (old && same_settings(old, c->tg) && c->req_id == NULL) {
            c->result = old;
            return SL_OK;
        }
        json_decref(old);
        return sl_err_set(err, 400, "DuplicateTargetGroupName",
                          "A target group with the same name '%s' exists, but with different "
                          "settings",
                          c->name);
    }
    util_random_hex(hex, 8);
    id = c->req_id ? c->req_id : hex;
    if ((old = store_get(txn, K_TG, id)) != NULL) {
        json_decref(old);
        return sl_err_set(err, 409, "Conflict", "A target group with id '%s' already exists",
                          id);
    }
    snprintf(res, sizeof(res), "targetgroup/%s/%s", c->name, hex);
    elb_arn(arn, sizeof(arn), c->ctx, res);
    json_object_set_new(c->tg, "id", json_string(id));
    json_object_set_new(c->tg, "arn", json_string(arn));
    json_object_set_new(c->tg, "TargetGroupArn", json_string(arn));
    if (elb_insert(txn, K_TG, id, c->tg) != SL_OK || store_index_put(txn, key, id) != SL_OK)
        return SL_EIO;
    c->result = json_incref(c->tg);
    return SL_OK;
}

json_t *op_create_target_group(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct create_tg c = {0};
    const char *name, *s, *type = "instance";
    json_t *tg, *tags, *out;
    long port;
    int rc;

    if (p_str(req, "Name", P_REQUIRED, &name, err) != SL_OK ||
        elb_valid_name(name, "Target group name", err) != SL_OK)
        return NULL;
    if ((rc = p_str(req, "id", P_OPTIONAL, &c.req_id, err)) == SL_ERR)
        return NULL;
    if (c.req_id && !elb_valid_id(c.req_id)) {
        p_invalid(err, "id", "Member must be 1-128 characters of [A-Za-z0-9._-]");
        return NULL;
    }
    if (p_enum(req, "TargetType", P_OPTIONAL, target_types, &type, err) == SL_ERR)
        return NULL;
    if (type == NULL)
        type = "instance";
    if (strcmp(type, "lambda") == 0 || strcmp(type, "alb") == 0) {
        sl_err_set(err, 400, "ValidationError",
                   "Target type '%s' is not supported by sluice; use 'instance' or 'ip'", type);
        return NULL;
    }
    tg = json_object();
    json_object_set_new(tg, "TargetGroupArn", json_string(""));
    json_object_set_new(tg, "TargetGroupName", json_string(name));
    if (p_enum(req, "Protocol", P_OPTIONAL, tg_protocols, &s, err) == SL_ERR)
        goto fail;
    json_object_set_new(tg, "Protocol", json_string(s ? s : "HTTP"));
    if (p_enum(req, "ProtocolVersion", P_OPTIONAL, protocol_versions, &s, err) == SL_ERR)
        goto fail;
    json_object_set_new(tg, "ProtocolVersion", json_string(s ? s : "HTTP1"));
    if ((rc = p_int(req, "Port", P_REQUIRED, 1, 65535, &port, err)) != SL_OK)
        goto fail;
    json_object_set_new(tg, "Port", json_integer(port));
    if (p_str(req, "VpcId", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    json_object_set_new(tg, "VpcId", json_string(s ? s : "vpc-00000000"));
    json_object_set_new(tg, "HealthCheckProtocol",
                        json_string(strcmp(json_string_value(json_object_get(tg, "Protocol")),
                                           "HTTPS") == 0
                                        ? "HTTPS"
                                        : "HTTP"));
    json_object_set_new(tg, "HealthCheckPort", json_string("traffic-port"));
    json_object_set_new(tg, "HealthCheckEnabled", json_true());
    json_object_set_new(tg, "HealthCheckIntervalSeconds", json_integer(30));
    json_object_set_new(tg, "HealthCheckTimeoutSeconds", json_integer(5));
    json_object_set_new(tg, "HealthyThresholdCount", json_integer(5));
    json_object_set_new(tg, "UnhealthyThresholdCount", json_integer(2));
    json_object_set_new(tg, "HealthCheckPath", json_string("/"));
    json_object_set_new(tg, "Matcher", json_pack("{ss}", "HttpCode", "200"));
    json_object_set_new(tg, "LoadBalancerArns", json_array());
    json_object_set_new(tg, "TargetType", json_string(type));
    if (p_enum(req, "IpAddressType", P_OPTIONAL, ip_types, &s, err) == SL_ERR)
        goto fail;
    json_object_set_new(tg, "IpAddressType", json_string(s ? s : "ipv4"));
    if (apply_health_check(tg, req, err) != SL_OK)
        goto fail;
    if ((tags = elb_tags_param(req, err)) == NULL)
        goto fail;
    json_object_set_new(tg, "Tags", tags);
    json_object_set_new(tg, "Attributes", elb_attrs_default(tg_attrs));
    c.ctx = ctx;
    c.tg = tg;
    c.name = name;
    if (store_write(ctx->store, create_tg_tx, &c, NULL, err) != SL_OK)
        goto fail;
    json_decref(tg);
    out = json_pack("{s[o]}", "TargetGroups", elb_public(c.result));
    json_decref(c.result);
    return out;
fail:
    json_decref(tg);
    return NULL;
}

/* ---- DescribeTargetGroups ---- */

struct scan_ctx {
    json_t *out;
    const char *filter_lb;
    struct store_txn *txn;
};

static json_t *tg_view(struct store_txn *txn, json_t *tg)
{
    json_t *pub = elb_public(tg);

    json_object_set_new(pub, "LoadBalancerArns",
                        elb_tg_lb_arns(txn, json_string_value(json_object_get(tg, "id"))));
    return pub;
}

static int collect_tg(const char *id, json_t *obj, void *arg)
{
    struct scan_ctx *s = arg;
    json_t *pub = tg_view(s->txn, obj);

    if (s->filter_lb) {
        json_t *lbs = json_object_get(pub, "LoadBalancerArns"), *l;
        size_t i;
        int hit = 0;
        json_array_foreach(lbs, i, l)
            if (strcmp(json_string_value(l), s->filter_lb) == 0)
                hit = 1;
        if (!hit) {
            json_decref(pub);
            return 0;
        }
    }
    json_array_append_new(s->out, pub);
    return 0;
}

json_t *op_describe_target_groups(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    struct scan_ctx sc = {0};
    json_t *arns, *names, *all, *page, *next, *out, *v;
    char key[128], id[ELB_ID_MAX];
    size_t i;

    if (p_list(req, "TargetGroupArns", P_OPTIONAL, 0, 400, &arns, err) == SL_ERR ||
        p_list(req, "Names", P_OPTIONAL, 0, 400, &names, err) == SL_ERR ||
        p_str(req, "LoadBalancerArn", P_OPTIONAL, &sc.filter_lb, err) == SL_ERR)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    all = json_array();
    sc.out = all;
    sc.txn = txn;
    if (sc.filter_lb) {
        json_t *lb = elb_by_arn(txn, K_LB, sc.filter_lb, NULL);
        if (lb == NULL) {
            sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found",
                       sc.filter_lb);
            goto fail;
        }
        json_decref(lb);
    }
    if (json_array_size(arns) > 0) {
        json_array_foreach(arns, i, v) {
            json_t *tg = json_is_string(v) ? elb_by_arn(txn, K_TG, json_string_value(v), NULL)
                                           : NULL;
            if (tg == NULL) {
                tg_not_found(err, json_string_value(v));
                goto fail;
            }
            json_array_append_new(all, tg_view(txn, tg));
            json_decref(tg);
        }
    } else if (json_array_size(names) > 0) {
        json_array_foreach(names, i, v) {
            json_t *tg = NULL;
            if (json_is_string(v)) {
                snprintf(key, sizeof(key), "name:%s:%.100s", K_TG, json_string_value(v));
                if (store_index_get(txn, key, id, sizeof(id)) == SL_OK)
                    tg = store_get(txn, K_TG, id);
            }
            if (tg == NULL) {
                tg_not_found(err, json_string_value(v));
                goto fail;
            }
            json_array_append_new(all, tg_view(txn, tg));
            json_decref(tg);
        }
    } else {
        store_scan(txn, K_TG, NULL, collect_tg, &sc);
    }
    store_txn_end(txn);
    page = elb_page(req, all, &next, err);
    json_decref(all);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", "TargetGroups", page);
    if (next)
        json_object_set_new(out, "NextMarker", next);
    return out;
fail:
    store_txn_end(txn);
    json_decref(all);
    return NULL;
}

/* ---- ModifyTargetGroup / attributes ---- */

struct modify_tg {
    const char *arn;
    json_t *req;
    json_t *attrs; /* ModifyTargetGroupAttributes */
    json_t *result;
};

static int modify_tg_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct modify_tg *m = arg;
    char id[ELB_ID_MAX];
    json_t *tg = elb_by_arn(txn, K_TG, m->arn, id);
    int rc;

    if (tg == NULL) {
        tg_not_found(err, m->arn);
        return SL_ERR;
    }
    if (m->attrs) {
        json_t *merged = elb_attrs_merge(json_object_get(tg, "Attributes"), m->attrs, tg_attrs,
                                         err);
        const char *alg, *anomaly;
        long slow;

        if (merged == NULL) {
            json_decref(tg);
            return SL_ERR;
        }
        slow = atol(elb_attr_get(merged, "slow_start.duration_seconds"));
        alg = elb_attr_get(merged, "load_balancing.algorithm.type");
        anomaly = elb_attr_get(merged, "load_balancing.algorithm.anomaly_mitigation");
        if (slow != 0 && slow < 30) {
            json_decref(merged);
            json_decref(tg);
            return sl_err_set(err, 400, "ValidationError",
                              "slow_start.duration_seconds must be 0 (off) or 30-900");
        }
        if (strcmp(anomaly, "on") == 0 && strcmp(alg, "weighted_random") != 0) {
            json_decref(merged);
            json_decref(tg);
            return sl_err_set(err, 400, "InvalidConfigurationRequest",
                              "Anomaly mitigation requires the weighted_random algorithm");
        }
        if (slow != 0 && strcmp(alg, "round_robin") != 0 &&
            strcmp(alg, "least_outstanding_requests") != 0) {
            json_decref(merged);
            json_decref(tg);
            return sl_err_set(err, 400, "InvalidConfigurationRequest",
                              "Slow start is not supported with the %s algorithm", alg);
        }
        json_object_set_new(tg, "Attributes", merged);
    } else if (apply_health_check(tg, m->req, err) != SL_OK) {
        json_decref(tg);
        return SL_ERR;
    }
    rc = store_put(txn, K_TG, id, tg);
    if (rc == SL_OK)
        m->result = m->attrs ? json_pack("{sO}", "Attributes", json_object_get(tg, "Attributes"))
                             : json_pack("{s[o]}", "TargetGroups", tg_view(txn, tg));
    json_decref(tg);
    return rc;
}

json_t *op_modify_target_group(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct modify_tg m = {0};
    json_t *probe;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &m.arn, err) != SL_OK)
        return NULL;
    /* Validate shape before touching the store. */
    probe = json_pack("{sisi}", "HealthCheckIntervalSeconds", 300, "HealthCheckTimeoutSeconds", 1);
    if (apply_health_check(probe, req, err) != SL_OK) {
        json_decref(probe);
        return NULL;
    }
    json_decref(probe);
    m.req = req;
    if (store_write(ctx->store, modify_tg_tx, &m, NULL, err) != SL_OK)
        return NULL;
    return m.result;
}

json_t *op_modify_target_group_attributes(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct modify_tg m = {0};

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &m.arn, err) != SL_OK ||
        p_list(req, "Attributes", P_REQUIRED, 1, 20, &m.attrs, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, modify_tg_tx, &m, NULL, err) != SL_OK)
        return NULL;
    return m.result;
}

json_t *op_describe_target_group_attributes(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    const char *arn;
    json_t *tg, *out;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &arn, err) != SL_OK)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    tg = elb_by_arn(txn, K_TG, arn, NULL);
    store_txn_end(txn);
    if (tg == NULL)
        return tg_not_found(err, arn);
    out = json_pack("{sO}", "Attributes", json_object_get(tg, "Attributes"));
    json_decref(tg);
    return out;
}

/* ---- DeleteTargetGroup ---- */

static int collect_id(const char *id, json_t *obj, void *arg)
{
    json_array_append_new(arg, json_string(id));
    return 0;
}

static int delete_tg_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    const char *arn = arg;
    char id[ELB_ID_MAX], key[256], prefix[ELB_ID_MAX + 2];
    json_t *tg = elb_by_arn(txn, K_TG, arn, id), *targets, *t;
    size_t i;

    if (tg == NULL)
        return SL_OK; /* AWS: deleting an absent target group succeeds */
    if (elb_tg_in_use(txn, id)) {
        json_decref(tg);
        return sl_err_set(err, 400, "ResourceInUse",
                          "Target group '%s' is currently in use by a listener or a rule", arn);
    }
    targets = json_array();
    snprintf(prefix, sizeof(prefix), "%s|", id);
    store_scan(txn, K_TARGET, prefix, collect_id, targets);
    json_array_foreach(targets, i, t)
        elb_target_remove(txn, json_string_value(t));
    json_decref(targets);
    snprintf(key, sizeof(key), "name:%s:%s", K_TG,
             json_string_value(json_object_get(tg, "TargetGroupName")));
    store_index_del(txn, key);
    json_decref(tg);
    return elb_remove(txn, K_TG, id, arn);
}

json_t *op_delete_target_group(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    const char *arn;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &arn, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, delete_tg_tx, (void *)arn, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}

/* ---- targets ---- */

/* Targets per group are counted in a store counter ("tgcount:<tg id>"),
 * kept by register_tx() and elb_target_remove(), so the 1,000-target limit
 * costs one lookup instead of a walk over the group, and no stored record
 * (a dirty page in every commit).  The walk happens once per group after a
 * restart.  Write transactions only. */
static size_t tg_count(struct store_txn *txn, const char *tg_id)
{
    char name[ELB_ID_MAX + 16], prefix[ELB_ID_MAX + 2];
    uint64_t n;

    snprintf(name, sizeof(name), "tgcount:%s", tg_id);
    if (store_counter_get(txn, name, &n) == SL_OK)
        return (size_t)n;
    snprintf(prefix, sizeof(prefix), "%s|", tg_id);
    n = store_count(txn, K_TARGET, prefix);
    store_counter_set(txn, name, n);
    return (size_t)n;
}

static int tg_count_set(struct store_txn *txn, const char *tg_id, size_t n)
{
    char name[ELB_ID_MAX + 16];

    snprintf(name, sizeof(name), "tgcount:%s", tg_id);
    return store_counter_set(txn, name, n);
}

struct target_spec {
    char id[64];
    long port;
    const char *az;
};

/* Parse and validate Targets[] against the group's type; <default_port> is
 * the group's port (0: unknown yet, validate shape only). */
static int parse_targets(json_t *list, const char *type, long default_port,
                         struct target_spec **out, size_t *n, struct sl_err *err)
{
    struct target_spec *specs;
    json_t *t;
    size_t i;

    specs = calloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*specs));
    if (specs == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, t) {
        const char *id;
        int rc;

        if (p_str(t, "Id", P_REQUIRED, &id, err) != SL_OK)
            goto fail;
        if (strlen(id) >= sizeof(specs[i].id) || id[0] == '\0')
            goto invalid;
        if ((rc = p_int(t, "Port", P_OPTIONAL, 1, 65535, &specs[i].port, err)) == SL_ERR)
            goto fail;
        if (rc == SL_ENOTFOUND)
            specs[i].port = default_port;
        if (p_str(t, "AvailabilityZone", P_OPTIONAL, &specs[i].az, err) == SL_ERR)
            goto fail;
        if (type && strcmp(type, "ip") == 0) {
            unsigned char addr[16];
            char canon[64];
            int af = strchr(id, ':') ? AF_INET6 : AF_INET;
            if (inet_pton(af, id, addr) != 1) {
                sl_err_set(err, 400, "InvalidTarget",
                           "The IP address '%s' is not a valid IPv4 or IPv6 address", id);
                goto fail;
            }
            inet_ntop(af, addr, canon, sizeof(canon));
            strcpy(specs[i].id, canon);
        } else if (type) {
            size_t k;
            if (strncmp(id, "i-", 2) != 0 || strlen(id) < 3)
                goto invalid;
            for (k = 2; id[k]; k++)
                if (!isalnum((unsigned char)id[k]))
                    goto invalid;
            strcpy(specs[i].id, id);
        } else {
            strcpy(specs[i].id, id);
        }
        if (strchr(specs[i].id, '|'))
            goto invalid;
    }
    *out = specs;
    *n = json_array_size(list);
    return SL_OK;
invalid:
    sl_err_set(err, 400, "InvalidTarget",
               "The target Id '%s' is not valid for a target group of type '%s'",
               json_string_value(json_object_get(t, "Id")), type ? type : "?");
fail:
    free(specs);
    return SL_ERR;
}

struct targets_args {
    const char *arn;
    json_t *list;
    uint64_t now_ms;
};

static void target_key(char *out, size_t cap, const char *tg_id, const struct target_spec *t)
{
    snprintf(out, cap, "%s|%s|%ld", tg_id, t->id, t->port);
}

static int register_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct targets_args *a = arg;
    struct target_spec *specs;
    char tg_id[ELB_ID_MAX], key[ELB_ID_MAX + 96], now[32];
    json_t *tg = elb_by_arn_ro(txn, K_TG, a->arn, tg_id), *t;
    size_t n, i, count, before;

    if (tg == NULL) {
        tg_not_found(err, a->arn);
        return SL_ERR;
    }
    if (parse_targets(a->list, json_string_value(json_object_get(tg, "TargetType")),
                      (long)json_integer_value(json_object_get(tg, "Port")), &specs, &n,
                      err) != SL_OK) {
        json_decref(tg);
        return SL_ERR;
    }
    count = before = tg_count(txn, tg_id);
    util_iso_now(now);
    for (i = 0; i < n; i++) {
        json_t *old, *target;

        target_key(key, sizeof(key), tg_id, &specs[i]);
        old = store_get(txn, K_TARGET, key);
        if (old && strcmp(json_string_value(json_object_get(old, "_state")), "registered") ==
                       0) {
            json_decref(old); /* registering again is a no-op, as on AWS */
            continue;
        }
        if (old) {
            /* Re-registered while draining: it stops draining. */
            char dkey[ELB_ID_MAX + 128];
            elb_drain_key(dkey, sizeof(dkey),
                          (uint64_t)json_integer_value(json_object_get(old, "_deadline_ms")), key);
            store_index_del(txn, dkey);
        }
        if (old == NULL && ++count > MAX_TARGETS_PER_TG) {
            free(specs);
            json_decref(tg);
            return sl_err_set(err, 400, "TooManyTargets",
                              "You've reached the limit on the number of targets (%d) per "
                              "target group",
                              MAX_TARGETS_PER_TG);
        }
        json_decref(old);
        target = json_pack("{ss s{ss sI} ss ss}", "id", key, "Target", "Id", specs[i].id, "Port",
                           (json_int_t)specs[i].port, "_state", "registered", "_since", now);
        if (specs[i].az)
            json_object_set_new(json_object_get(target, "Target"), "AvailabilityZone",
                                json_string(specs[i].az));
        t = target;
        if (store_put(txn, K_TARGET, key, t) != SL_OK) {
            json_decref(t);
            free(specs);
            json_decref(tg);
            return SL_EIO;
        }
        json_decref(t);
    }
    free(specs);
    json_decref(tg);
    return count == before ? SL_OK : tg_count_set(txn, tg_id, count);
}

json_t *op_register_targets(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct targets_args a = {0};
    struct target_spec *specs;
    size_t n;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        p_list(req, "Targets", P_REQUIRED, 1, MAX_TARGETS_PER_TG, &a.list, err) != SL_OK)
        return NULL;
    if (parse_targets(a.list, NULL, 1, &specs, &n, err) != SL_OK)
        return NULL;
    free(specs);
    if (store_write(ctx->store, register_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}

static int deregister_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct targets_args *a = arg;
    struct target_spec *specs;
    char tg_id[ELB_ID_MAX], key[ELB_ID_MAX + 96], now[32];
    json_t *tg = elb_by_arn_ro(txn, K_TG, a->arn, tg_id);
    const char *delay_s;
    long delay;
    size_t n, i;
    int rc = SL_OK;

    if (tg == NULL) {
        tg_not_found(err, a->arn);
        return SL_ERR;
    }
    if (parse_targets(a->list, json_string_value(json_object_get(tg, "TargetType")),
                      (long)json_integer_value(json_object_get(tg, "Port")), &specs, &n,
                      err) != SL_OK) {
        json_decref(tg);
        return SL_ERR;
    }
    delay_s = elb_attr_get(json_object_get(tg, "Attributes"),
                           "deregistration_delay.timeout_seconds");
    delay = delay_s ? atol(delay_s) : 300;
    util_iso_now(now);
    for (i = 0; i < n && rc == SL_OK; i++) {
        json_t *t;

        target_key(key, sizeof(key), tg_id, &specs[i]);
        t = store_get(txn, K_TARGET, key);
        if (t == NULL)
            continue; /* AWS: deregistering an unknown target succeeds */
        if (delay == 0 || !elb_tg_in_use(txn, tg_id)) {
            /* Nothing can be in flight to a group that gets no traffic. */
            rc = elb_target_remove(txn, key);
        } else if (strcmp(json_string_value(json_object_get(t, "_state")), "draining") != 0) {
            json_object_set_new(t, "_state", json_string("draining"));
            json_object_set_new(t, "_since", json_string(now));
            uint64_t deadline = a->now_ms + (uint64_t)delay * 1000;
            char dkey[ELB_ID_MAX + 128];

            json_object_set_new(t, "_deadline_ms", json_integer((json_int_t)deadline));
            json_object_set_new(t, "_drain_rev",
                                json_integer((json_int_t)store_txn_next_revision(txn)));
            elb_drain_key(dkey, sizeof(dkey), deadline, key);
            rc = store_put(txn, K_TARGET, key, t);
            if (rc == SL_OK)
                rc = store_index_put(txn, dkey, key);
        }
        json_decref(t);
    }
    free(specs);
    json_decref(tg);
    return rc;
}

json_t *op_deregister_targets(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct targets_args a = {0};
    struct target_spec *specs;
    struct timeval tv;
    size_t n;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        p_list(req, "Targets", P_REQUIRED, 1, MAX_TARGETS_PER_TG, &a.list, err) != SL_OK)
        return NULL;
    if (parse_targets(a.list, NULL, 1, &specs, &n, err) != SL_OK)
        return NULL;
    free(specs);
    gettimeofday(&tv, NULL);
    a.now_ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
    if (store_write(ctx->store, deregister_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}

int elb_targets_register_txn(struct store_txn *txn, const char *tg_arn, json_t *targets,
                             struct sl_err *err)
{
    struct targets_args a = {tg_arn, targets, 0};

    return register_tx(txn, &a, err);
}

int elb_targets_deregister_txn(struct store_txn *txn, const char *tg_arn, json_t *targets,
                               uint64_t now_ms, struct sl_err *err)
{
    struct targets_args a = {tg_arn, targets, now_ms};

    return deregister_tx(txn, &a, err);
}

/* ---- DescribeTargetHealth ---- */

struct health_scan {
    struct op_ctx *ctx;
    json_t *tg;
    const char *tg_id;
    int in_use;
    json_t *out;
};

static json_t *target_health(const char *state, const char *reason, const char *description)
{
    json_t *th = json_object();

    json_object_set_new_nocheck(th, "State", json_string_nocheck(state));
    if (reason && reason[0]) {
        json_object_set_new_nocheck(th, "Reason", json_string_nocheck(reason));
        json_object_set_new_nocheck(th, "Description", json_string_nocheck(description));
    }
    return th;
}

static json_t *health_of(struct health_scan *h, json_t *target_obj, const char *key)
{
    json_t *target = json_object_get(target_obj, "Target");
    const char *state = json_string_value(json_object_get(target_obj, "_state"));
    const char *hc_port = json_string_value(json_object_get(h->tg, "HealthCheckPort"));
    char port[16];
    struct health_state hs;
    json_t *th, *out;

    if (hc_port == NULL || strcmp(hc_port, "traffic-port") == 0) {
        snprintf(port, sizeof(port), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(target, "Port")));
        hc_port = port;
    }
    if (state && strcmp(state, "draining") == 0)
        th = target_health("draining", "Target.DeregistrationInProgress",
                           "Target deregistration is in progress");
    else if (!h->in_use)
        th = target_health("unused", "Target.NotInUse",
                           "Target group is not configured to receive traffic from the load "
                           "balancer");
    else if (!json_is_true(json_object_get(h->tg, "HealthCheckEnabled")))
        th = target_health("unavailable", "Target.HealthCheckDisabled",
                           "Health checks are disabled");
    else if (health_lookup(h->ctx->health, key, &hs) == SL_OK && hs.state[0])
        th = target_health(hs.state, hs.reason, hs.description);
    else
        th = target_health("initial", "Elb.RegistrationInProgress",
                           "Target registration is in progress");
    out = json_object();
    json_object_set_nocheck(out, "Target", target);
    json_object_set_new_nocheck(out, "HealthCheckPort", json_string(hc_port));
    json_object_set_new_nocheck(out, "TargetHealth", th);
    return out;
}

static int collect_health(const char *id, json_t *obj, void *arg)
{
    struct health_scan *h = arg;

    json_array_append_new(h->out, health_of(h, obj, id));
    return 0;
}

json_t *op_describe_target_health(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct health_scan h = {0};
    struct store_txn *txn;
    struct target_spec *specs = NULL;
    const char *arn;
    char tg_id[ELB_ID_MAX], prefix[ELB_ID_MAX + 2], key[ELB_ID_MAX + 96];
    json_t *targets = NULL, *out;
    size_t n = 0, i;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &arn, err) != SL_OK ||
        p_list(req, "Targets", P_OPTIONAL, 0, MAX_TARGETS_PER_TG, &targets, err) == SL_ERR)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    h.tg = elb_by_arn_ro(txn, K_TG, arn, tg_id);
    if (h.tg == NULL) {
        store_txn_end(txn);
        return tg_not_found(err, arn);
    }
    h.ctx = ctx;
    h.tg_id = tg_id;
    h.in_use = elb_tg_in_use(txn, tg_id);
    h.out = json_array();
    if (json_array_size(targets) > 0) {
        if (parse_targets(targets, json_string_value(json_object_get(h.tg, "TargetType")),
                          (long)json_integer_value(json_object_get(h.tg, "Port")), &specs, &n,
                          err) != SL_OK)
            goto fail;
        for (i = 0; i < n; i++) {
            json_t *t;
            target_key(key, sizeof(key), tg_id, &specs[i]);
            t = store_get(txn, K_TARGET, key);
            if (t) {
                json_array_append_new(h.out, health_of(&h, t, key));
                json_decref(t);
            } else {
                json_array_append_new(
                    h.out, json_pack("{s{ss sI} s{ss ss ss}}", "Target", "Id", specs[i].id, "Port",
                                     (json_int_t)specs[i].port, "TargetHealth", "State", "unused",
                                     "Reason", "Target.NotRegistered", "Description",
                                     "Target is not registered to the target group"));
            }
        }
        free(specs);
    } else {
        snprintf(prefix, sizeof(prefix), "%s|", tg_id);
        store_scan(txn, K_TARGET, prefix, collect_health, &h);
    }
    store_txn_end(txn);
    json_decref(h.tg);
    out = json_pack("{so}", "TargetHealthDescriptions", h.out);
    return out;
fail:
    store_txn_end(txn);
    json_decref(h.tg);
    json_decref(h.out);
    return NULL;
}

/* ---- drain bookkeeping ---- */

void elb_drain_key(char *out, size_t cap, uint64_t deadline_ms, const char *target_key)
{
    snprintf(out, cap, "drain:%016llu:%s", (unsigned long long)deadline_ms, target_key);
}

int elb_target_remove(struct store_txn *txn, const char *key)
{
    json_t *t = store_get(txn, K_TARGET, key);
    char dkey[ELB_ID_MAX + 128], tg_id[ELB_ID_MAX];
    size_t l, n;
    int rc;

    if (t == NULL)
        return SL_ENOTFOUND;
    if (json_object_get(t, "_deadline_ms")) {
        elb_drain_key(dkey, sizeof(dkey),
                      (uint64_t)json_integer_value(json_object_get(t, "_deadline_ms")), key);
        store_index_del(txn, dkey);
    }
    json_decref(t);
    /* The key is "<tg id>|<Id>|<Port>"; count before the target goes. */
    l = strcspn(key, "|");
    if (l >= sizeof(tg_id))
        return store_del(txn, K_TARGET, key);
    memcpy(tg_id, key, l);
    tg_id[l] = '\0';
    n = tg_count(txn, tg_id);
    rc = store_del(txn, K_TARGET, key);
    if (rc == SL_OK)
        rc = tg_count_set(txn, tg_id, n ? n - 1 : 0);
    return rc;
}

struct expire_ctx {
    uint64_t now_ms;
    json_t *keys;
};

static int collect_expired(const char *key, const char *val, void *arg)
{
    struct expire_ctx *e = arg;
    unsigned long long deadline = strtoull(key + 6, NULL, 10);

    if (deadline > e->now_ms)
        return 1; /* ordered by deadline: nothing later is due */
    json_array_append_new(e->keys, json_string(val));
    return 0;
}

int elb_drain_expire(struct store_txn *txn, uint64_t now_ms, size_t *removed)
{
    struct expire_ctx e = {now_ms, json_array()};
    json_t *k;
    size_t i;
    int rc = SL_OK;

    *removed = 0;
    store_index_scan(txn, "drain:", collect_expired, &e);
    json_array_foreach(e.keys, i, k) {
        rc = elb_target_remove(txn, json_string_value(k));
        if (rc == SL_ENOTFOUND) {
            rc = SL_OK;
            continue;
        }
        if (rc != SL_OK)
            break;
        (*removed)++;
    }
    json_decref(e.keys);
    return rc;
}
