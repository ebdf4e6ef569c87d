/*
 * tg.c - target groups and their attributes.
 */
#include "routes/elbv2/tg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "routes/elbv2/attrs.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/refs.h"
#include "routes/elbv2/tags.h"
#include "routes/elbv2/targets.h"
#include "routes/wire/params.h"

const char *const elb_tg_protocol_names[] = {"HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP",
                                             "GENEVE", NULL};
const char *const elb_protocol_version_names[] = {"HTTP1", "HTTP2", "GRPC", NULL};
const char *const elb_target_type_names[] = {"instance", "ip", "lambda", "alb", NULL};
const char *const elb_tg_ip_type_names[] = {"ipv4", "ipv6", NULL};
const char *const elb_hc_protocol_names[] = {"HTTP", "HTTPS", "TCP", NULL};

static int tg_not_found(struct sl_err *err, const char *what)
{
    return sl_err_set(err, 400, "TargetGroupNotFound", "One or more target groups not found%s%s",
                      what ? ": " : "", what ? what : "");
}

/* ---- health checks ---- */

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

static int range(const char *name, long n, long min, long max, struct sl_err *err)
{
    if (n < min || n > max)
        return p_out_of_range(err, name, n, min, max);
    return SL_OK;
}

int elb_hc_check(const struct elb_hc *hc, struct sl_err *err)
{
    if ((hc->set & ELB_HC_PROTOCOL) && hc->protocol != ELB_HCP_HTTP &&
        hc->protocol != ELB_HCP_HTTPS)
        return sl_err_set(err, 400, "ValidationError",
                          "Health check protocol '%s' is not supported by sluice: sluice-proxy "
                          "checks targets with HTTP/1.1 requests (use 'HTTP' or 'HTTPS')",
                          elb_hc_protocol_names[hc->protocol]);

    if ((hc->set & ELB_HC_PORT) && hc->port != 0 &&
        range("HealthCheckPort", hc->port, 1, 65535, err) != SL_OK)
        return SL_ERR;
    if ((hc->set & ELB_HC_PATH) && (hc->path[0] != '/' || strlen(hc->path) > 1024))
        return p_invalid(err, "HealthCheckPath",
                         "Member must start with '/' and have length at most 1024");
    if (((hc->set & ELB_HC_INTERVAL) &&
         range("HealthCheckIntervalSeconds", hc->interval_s, 1, 300, err) != SL_OK) ||
        ((hc->set & ELB_HC_TIMEOUT) &&
         range("HealthCheckTimeoutSeconds", hc->timeout_s, 1, 120, err) != SL_OK) ||
        ((hc->set & ELB_HC_HEALTHY) &&
         range("HealthyThresholdCount", hc->healthy, 2, 10, err) != SL_OK) ||
        ((hc->set & ELB_HC_UNHEALTHY) &&
         range("UnhealthyThresholdCount", hc->unhealthy, 2, 10, err) != SL_OK))
        return SL_ERR;
    if ((hc->set & ELB_HC_MATCHER) && !valid_matcher(hc->matcher))
        return sl_err_set(err, 400, "ValidationError",
                          "Health check matcher HTTP code '%s' must be a code, a list "
                          "('200,202') or a range ('200-299') within 200-499",
                          hc->matcher);
    return SL_OK;
}

/* Apply the given members of <hc> onto <tg>, then the rule that needs both
 * (the timeout at most the interval). */
static int hc_apply(json_t *tg, const struct elb_hc *hc, struct sl_err *err)
{
    char port[16];

    if (hc->set & ELB_HC_PROTOCOL)
        json_object_set_new(tg, "HealthCheckProtocol",
                            json_string(elb_hc_protocol_names[hc->protocol]));
    if (hc->set & ELB_HC_PORT) {
        snprintf(port, sizeof(port), "%ld", hc->port);
        json_object_set_new(tg, "HealthCheckPort", json_string(hc->port ? port : "traffic-port"));
    }
    if (hc->set & ELB_HC_ENABLED)
        json_object_set_new(tg, "HealthCheckEnabled", json_boolean(hc->enabled));
    if (hc->set & ELB_HC_PATH)
        json_object_set_new(tg, "HealthCheckPath", json_string(hc->path));
    if (hc->set & ELB_HC_INTERVAL)
        json_object_set_new(tg, "HealthCheckIntervalSeconds", json_integer(hc->interval_s));
    if (hc->set & ELB_HC_TIMEOUT)
        json_object_set_new(tg, "HealthCheckTimeoutSeconds", json_integer(hc->timeout_s));
    if (hc->set & ELB_HC_HEALTHY)
        json_object_set_new(tg, "HealthyThresholdCount", json_integer(hc->healthy));
    if (hc->set & ELB_HC_UNHEALTHY)
        json_object_set_new(tg, "UnhealthyThresholdCount", json_integer(hc->unhealthy));
    if (hc->set & ELB_HC_MATCHER)
        json_object_set_new(tg, "Matcher", json_pack("{ss}", "HttpCode", hc->matcher));
    if (json_integer_value(json_object_get(tg, "HealthCheckTimeoutSeconds")) >
        json_integer_value(json_object_get(tg, "HealthCheckIntervalSeconds")))
        return sl_err_set(err, 400, "ValidationError",
                          "Health check interval must be greater than or equal to the timeout.");
    return SL_OK;
}

/* ---- CreateTargetGroup ---- */

int elb_tg_check(const struct elb_tg_spec *s, struct sl_err *err)
{
    if (elb_tg_name_check(s->name, err) != SL_OK)
        return SL_ERR;
    if (s->protocol != ELB_TGP_HTTP && s->protocol != ELB_TGP_HTTPS)
        return sl_err_set(err, 400, "ValidationError",
                          "Target group protocol '%s' is not supported by sluice: it provides "
                          "Application Load Balancers only (use 'HTTP' or 'HTTPS')",
                          elb_tg_protocol_names[s->protocol]);
    if (s->version != ELB_PV_HTTP1)
        return sl_err_set(err, 400, "ValidationError",
                          "Protocol version '%s' is not supported by sluice: sluice-proxy speaks "
                          "HTTP/1.1 to targets (use 'HTTP1')",
                          elb_protocol_version_names[s->version]);
    if (s->id && !elb_valid_id(s->id))
        return p_invalid(err, "id", "Member must be 1-128 characters of [A-Za-z0-9._-]");
    if (s->type == ELB_TT_LAMBDA || s->type == ELB_TT_ALB)
        return sl_err_set(err, 400, "ValidationError",
                          "Target type '%s' is not supported by sluice; use 'instance' or 'ip'",
                          elb_target_type_names[s->type]);
    if (range("Port", s->port, 1, 65535, err) != SL_OK || elb_hc_check(&s->hc, err) != SL_OK)
        return SL_ERR;
    return elb_tags_check(s->tags, s->ntags, err);
}

/* The stored group for <s>, without arn and id. */
static json_t *tg_object(const struct elb_tg_spec *s, struct sl_err *err)
{
    json_t *tg = json_pack(
        "{ss ss ss ss sI ss ss ss sb sI sI sI sI ss s{ss} s[] ss ss}", "TargetGroupArn", "",
        "TargetGroupName", s->name, "Protocol", elb_tg_protocol_names[s->protocol],
        "ProtocolVersion", elb_protocol_version_names[s->version], "Port", (json_int_t)s->port,
        "VpcId", s->vpc ? s->vpc : "vpc-00000000", "HealthCheckProtocol",
        s->protocol == ELB_TGP_HTTPS ? "HTTPS" : "HTTP", "HealthCheckPort", "traffic-port",
        "HealthCheckEnabled", 1, "HealthCheckIntervalSeconds", (json_int_t)30,
        "HealthCheckTimeoutSeconds", (json_int_t)5, "HealthyThresholdCount", (json_int_t)5,
        "UnhealthyThresholdCount", (json_int_t)2, "HealthCheckPath", "/", "Matcher", "HttpCode",
        "200", "LoadBalancerArns", "TargetType", elb_target_type_names[s->type], "IpAddressType",
        elb_tg_ip_type_names[s->ip_type]);

    if (tg == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    if (hc_apply(tg, &s->hc, err) != SL_OK) {
        json_decref(tg);
        return NULL;
    }
    json_object_set_new(tg, "Tags", elb_tags_json(s->tags, s->ntags));
    json_object_set_new(tg, "Attributes", elb_attrs_view(&elb_tg_attr_table, NULL));
    return tg;
}

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

/* The group's secret for its stickiness cookies (AWSALB, AWSALBAPP-0,
 * AWSALBTG), 32 random bytes in hex: every proxy gets it in the feed, so a
 * cookie one proxy set is read by all.  Never shown (a "_" member). */
static void cookie_key(json_t *tg)
{
    char hex[65];

    if (json_object_get(tg, "_cookie_key"))
        return;
    util_random_hex(hex, 32);
    json_object_set_new(tg, "_cookie_key", json_string(hex));
}

static json_t *tg_view(struct store_txn *txn, json_t *tg)
{
    json_t *pub = elb_public(tg);

    json_object_set_new(pub, "LoadBalancerArns", elb_tg_lb_arns(txn, elb_str(tg, "id")));
    return pub;
}

/* The answer when the name is taken: the existing group, or an error. */
static int name_taken(struct store_txn *txn, const struct elb_tg_spec *s, const char *id,
                      json_t *want, json_t **out, struct sl_err *err)
{
    json_t *old;

    if (s->exclusive)
        return sl_err_set(err, 409, "DuplicateTargetGroupName",
                          "A target group with the name '%.100s' already exists", s->name);
    old = store_get_shared(txn, K_TG, id);
    if (old && same_settings(old, want) && s->id == NULL) {
        *out = tg_view(txn, old);
        json_decref(old);
        return SL_OK;
    }
    json_decref(old);
    return sl_err_set(err, 400, "DuplicateTargetGroupName",
                      "A target group with the same name '%s' exists, but with different "
                      "settings",
                      s->name);
}

int elb_tg_create(struct store_txn *txn, const struct elb_env *env, const struct elb_tg_spec *s,
                  json_t **out, struct sl_err *err)
{
    char key[ELB_NAME_MAX + 16], existing[ELB_ID_MAX], hex[ELB_HEX_LEN + 1], res[ELB_NAME_MAX + 40],
        arn[ELB_ARN_MAX];
    const char *id;
    json_t *tg, *old;
    int rc;

    if ((tg = tg_object(s, err)) == NULL)
        return SL_ERR;
    elb_name_key(key, sizeof(key), K_TG, s->name);
    if (s->exclusive && s->id && (old = store_get_shared(txn, K_TG, s->id)) != NULL)
        goto id_taken;
    if (store_index_get(txn, key, existing, sizeof(existing)) == SL_OK) {
        rc = name_taken(txn, s, existing, tg, out, err);
        json_decref(tg);
        return rc;
    }
    util_random_hex(hex, ELB_HEX_LEN / 2);
    id = s->id ? s->id : hex;
    if ((old = store_get_shared(txn, K_TG, id)) != NULL)
        goto id_taken;
    snprintf(res, sizeof(res), "targetgroup/%s/%s", s->name, hex);
    elb_arn(arn, sizeof(arn), env, res);
    json_object_set_new(tg, "id", json_string(id));
    json_object_set_new(tg, "arn", json_string(arn));
    json_object_set_new(tg, "TargetGroupArn", json_string(arn));
    cookie_key(tg);
    if (elb_insert(txn, K_TG, id, tg) != SL_OK || store_index_put(txn, key, id) != SL_OK) {
        json_decref(tg);
        return elb_store_fail(err, "store the target group");
    }
    *out = tg_view(txn, tg);
    json_decref(tg);
    return SL_OK;
id_taken:
    json_decref(old);
    json_decref(tg);
    return sl_err_set(err, 409, "Conflict", "A target group with id '%s' already exists",
                      s->id);
}

/* ---- DescribeTargetGroups ---- */

struct scan_ctx {
    json_t *out;
    const char *filter_lb;
    struct store_txn *txn;
};

static int collect_tg(const char *id, json_t *obj, void *arg)
{
    struct scan_ctx *s = arg;
    json_t *pub = tg_view(s->txn, obj), *l;
    size_t i;
    int hit = s->filter_lb == NULL;

    json_array_foreach(json_object_get(pub, "LoadBalancerArns"), i, l)
        if (s->filter_lb && strcmp(json_string_value(l), s->filter_lb) == 0)
            hit = 1;
    if (hit)
        json_array_append_new(s->out, pub);
    else
        json_decref(pub);
    return 0;
}

static json_t *tg_by_name(struct store_txn *txn, const char *name)
{
    char key[ELB_NAME_MAX + 16], id[ELB_ID_MAX];

    if (strlen(name) > ELB_NAME_MAX)
        return NULL;
    elb_name_key(key, sizeof(key), K_TG, name);
    if (store_index_get(txn, key, id, sizeof(id)) != SL_OK)
        return NULL;
    return store_get_shared(txn, K_TG, id);
}

int elb_tg_describe(struct store_txn *txn, const struct elb_tg_select *sel, json_t **out,
                    struct sl_err *err)
{
    struct scan_ctx sc = {json_array(), sel->lb_arn, txn};
    json_t *lb;
    size_t i;

    if (sel->lb_arn) {
        if ((lb = elb_by_arn_ro(txn, K_LB, sel->lb_arn, NULL)) == NULL) {
            sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found",
                       sel->lb_arn);
            goto fail;
        }
        json_decref(lb);
    }
    for (i = 0; i < sel->narns; i++) {
        json_t *tg = elb_by_arn_ro(txn, K_TG, sel->arns[i], NULL);
        if (tg == NULL) {
            tg_not_found(err, sel->arns[i]);
            goto fail;
        }
        json_array_append_new(sc.out, tg_view(txn, tg));
        json_decref(tg);
    }
    for (i = 0; sel->narns == 0 && i < sel->nnames; i++) {
        json_t *tg = tg_by_name(txn, sel->names[i]);
        if (tg == NULL) {
            tg_not_found(err, sel->names[i]);
            goto fail;
        }
        json_array_append_new(sc.out, tg_view(txn, tg));
        json_decref(tg);
    }
    if (sel->narns == 0 && sel->nnames == 0)
        store_scan(txn, K_TG, NULL, collect_tg, &sc);
    *out = sc.out;
    return SL_OK;
fail:
    json_decref(sc.out);
    return SL_ERR;
}

/* ---- ModifyTargetGroup ---- */

int elb_tg_modify(struct store_txn *txn, const char *arn, const struct elb_hc *hc, json_t **out,
                  struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *tg = elb_by_arn(txn, K_TG, arn, id);
    int rc = SL_ERR;

    if (tg == NULL)
        return tg_not_found(err, arn);
    if (hc_apply(tg, hc, err) != SL_OK)
        goto out;
    if (store_put(txn, K_TG, id, tg) != SL_OK) {
        rc = elb_store_fail(err, "update the target group");
        goto out;
    }
    *out = tg_view(txn, tg);
    rc = SL_OK;
out:
    json_decref(tg);
    return rc;
}

/* ---- attributes ---- */

int elb_tg_exists(struct store_txn *txn, const char *arn)
{
    json_t *tg = elb_by_arn_ro(txn, K_TG, arn, NULL);

    json_decref(tg);
    return tg != NULL;
}

int elb_tg_attrs(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err)
{
    json_t *tg = elb_by_arn_ro(txn, K_TG, arn, NULL), *attrs;

    if (tg == NULL)
        return tg_not_found(err, arn);
    attrs = json_object_get(tg, "Attributes");
    *out = elb_attrs_view(&elb_tg_attr_table, attrs);
    json_decref(tg);
    return SL_OK;
}

/* The rules between attributes that a per-key check cannot see. */
static int tg_attrs_combination(json_t *merged, struct sl_err *err)
{
    long slow = atol(elb_attr_get(merged, "slow_start.duration_seconds"));
    const char *alg = elb_attr_get(merged, "load_balancing.algorithm.type");
    const char *anomaly = elb_attr_get(merged, "load_balancing.algorithm.anomaly_mitigation");
    const char *stick = elb_attr_get(merged, "stickiness.enabled");
    const char *stype = elb_attr_get(merged, "stickiness.type");
    const char *cname = elb_attr_get(merged, "stickiness.app_cookie.cookie_name");

    if (strcmp(stick, "true") == 0 && strcmp(stype, "app_cookie") == 0 && cname[0] == '\0')
        return sl_err_set(err, 400, "ValidationError",
                          "stickiness.app_cookie.cookie_name must be set for app_cookie "
                          "stickiness");
    if (strncasecmp(cname, "AWSALB", 6) == 0)
        return sl_err_set(err, 400, "ValidationError",
                          "stickiness.app_cookie.cookie_name '%s' is reserved: names starting "
                          "with AWSALB, AWSALBAPP or AWSALBTG are the load balancer's",
                          cname);
    if (strpbrk(cname, " \t;,=\"\\") != NULL)
        return sl_err_set(err, 400, "ValidationError",
                          "stickiness.app_cookie.cookie_name '%s' is not a valid cookie name",
                          cname);
    if (slow != 0 && slow < 30)
        return sl_err_set(err, 400, "ValidationError",
                          "slow_start.duration_seconds must be 0 (off) or 30-900");
    if (strcmp(anomaly, "on") == 0 && strcmp(alg, "weighted_random") != 0)
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "Anomaly mitigation requires the weighted_random algorithm");
    if (slow != 0 && strcmp(alg, "round_robin") != 0 &&
        strcmp(alg, "least_outstanding_requests") != 0)
        return sl_err_set(err, 400, "InvalidConfigurationRequest",
                          "Slow start is not supported with the %s algorithm", alg);
    return SL_OK;
}

int elb_tg_attrs_modify(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                        size_t n, json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *tg = elb_by_arn(txn, K_TG, arn, id), *merged, *full;
    int rc = SL_ERR;

    if (tg == NULL)
        return tg_not_found(err, arn);
    merged = elb_attrs_merge(json_object_get(tg, "Attributes"), kv, n, &elb_tg_attr_table, err);
    full = merged ? elb_attrs_view(&elb_tg_attr_table, merged) : NULL;
    if (full == NULL || tg_attrs_combination(full, err) != SL_OK)
        goto out;
    json_object_set(tg, "Attributes", merged);
    cookie_key(tg); /* groups stored before the key existed get one here */
    if (store_put(txn, K_TG, id, tg) != SL_OK) {
        rc = elb_store_fail(err, "update the target group");
        goto out;
    }
    *out = json_incref(full);
    rc = SL_OK;
out:
    json_decref(full);
    json_decref(merged);
    json_decref(tg);
    return rc;
}

/* ---- DeleteTargetGroup ---- */

int elb_tg_delete(struct store_txn *txn, const struct elb_env *env, const char *arn,
                  struct sl_err *err)
{
    char id[ELB_ID_MAX], key[ELB_NAME_MAX + 16];
    json_t *tg = elb_by_arn_ro(txn, K_TG, arn, id);
    int rc;

    if (tg == NULL)
        return SL_OK; /* AWS: deleting an absent target group succeeds */
    if (elb_tg_in_use(txn, id)) {
        json_decref(tg);
        return sl_err_set(err, 400, "ResourceInUse",
                          "Target group '%s' is currently in use by a listener or a rule", arn);
    }
    elb_name_key(key, sizeof(key), K_TG, elb_str(tg, "TargetGroupName"));
    json_decref(tg);
    if (elb_targets_remove_all(txn, env, id) != SL_OK)
        return elb_store_fail(err, "remove the targets");
    store_index_del(txn, key);
    rc = elb_remove(txn, K_TG, id, arn);
    return rc == SL_OK ? SL_OK : elb_store_fail(err, "delete the target group");
}
