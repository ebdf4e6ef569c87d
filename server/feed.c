/*
 * feed.c - stored ELBv2 objects -> feed objects (feed_version 1).
 *
 * What the stored shapes hold and the feed does not: AWS's spellings
 * (Attributes lists, "HTTP_301", "traffic-port", Priority "default"), two
 * places for a condition's values (Values and <Field>Config.Values), a
 * forward action's single TargetGroupArn, and the control plane's own
 * bookkeeping (`_state`, `_lb_id`, `_listener_id`, `_drain_rev`, ...).  Here
 * each is turned into one typed member, so the proxy parses a single form.
 *
 * Certificates (contracts/https-feed.md): only those some listener uses are
 * in the feed.  A certificate's change record becomes a put while a
 * listener uses it (its use starting, or a re-import: proxies rotate) and a
 * delete otherwise, so a proxy drops a key as soon as nothing serves it.
 */
#include "server/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "routes/acm/acm.h"
#include "routes/elbv2/elbv2.h"

static const char *const store_kinds[FEED_NKINDS] = {
    [FEED_CERTIFICATE] = K_CERT, [FEED_LOAD_BALANCER] = K_LB, [FEED_LISTENER] = K_LISTENER,
    [FEED_RULE] = K_RULE,        [FEED_TARGET_GROUP] = K_TG,  [FEED_TARGET] = K_TARGET};

int feed_kind_of_store(const char *store_kind)
{
    int k;

    for (k = 0; store_kind && k < FEED_NKINDS; k++)
        if (strcmp(store_kind, store_kinds[k]) == 0)
            return k;
    return -1;
}

const char *feed_store_kind(enum feed_kind k)
{
    return k < FEED_NKINDS ? store_kinds[k] : "";
}

/* ---- reading stored shapes ---- */

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A decimal string as a number; <def> if absent or not a number. */
static long long num_str(const char *s, long long def)
{
    char *end;
    long long n;

    if (s == NULL || *s == '\0')
        return def;
    n = strtoll(s, &end, 10);
    return *end == '\0' ? n : def;
}

/* An integer member stored as a number or a decimal string. */
static long long num(json_t *v, long long def)
{
    return json_is_integer(v) ? json_integer_value(v) : num_str(json_string_value(v), def);
}

static const char *attr(json_t *obj, const char *key)
{
    json_t *a;
    size_t i;

    json_array_foreach(json_object_get(obj, "Attributes"), i, a) {
        const char *k = str(a, "Key");
        if (k && strcmp(k, key) == 0)
            return str(a, "Value");
    }
    return NULL;
}

static long long attr_num(json_t *obj, const char *key, long long def)
{
    return num_str(attr(obj, key), def);
}

static int attr_is(json_t *obj, const char *key, const char *value)
{
    const char *v = attr(obj, key);

    return v && strcmp(v, value) == 0;
}

/* A load balancer's HTTP handling: forwarded headers, Host, the client
 * connection's lifetime. */
static json_t *lb_http(json_t *o)
{
    const char *xff = attr(o, "routing.http.xff_header_processing.mode");

    return json_pack("{ss sb sb sI}", "xff_mode", xff ? xff : "append", "xff_client_port",
                     attr_is(o, "routing.http.xff_client_port.enabled", "true"),
                     "preserve_host_header",
                     attr_is(o, "routing.http.preserve_host_header.enabled", "true"),
                     "client_keep_alive_seconds",
                     (json_int_t)attr_num(o, "client_keep_alive.seconds", 3600));
}

/* A target group's stickiness and the key of its cookies. */
static json_t *tg_stickiness(json_t *o)
{
    const char *type = attr(o, "stickiness.type"), *name;
    const char *key = str(o, "_cookie_key");
    json_t *s;

    name = attr(o, "stickiness.app_cookie.cookie_name");
    s = json_pack("{sb ss sI sI}", "enabled", attr_is(o, "stickiness.enabled", "true"), "type",
                  type ? type : "lb_cookie", "lb_cookie_duration_seconds",
                  (json_int_t)attr_num(o, "stickiness.lb_cookie.duration_seconds", 86400),
                  "app_cookie_duration_seconds",
                  (json_int_t)attr_num(o, "stickiness.app_cookie.duration_seconds", 86400));
    if (s && name && *name)
        json_object_set_new(s, "app_cookie_name", json_string(name));
    /* A group stored before keys existed has none until its attributes are
     * next modified (which enabling stickiness does) */
    if (s && key && strlen(key) == 64)
        json_object_set_new(s, "cookie_key", json_string(key));
    return s;
}

static int missing(struct sl_err *err, const char *kind, const char *id, const char *what)
{
    sl_err_set(err, 500, "InternalFailure", "stored %s '%s' has no valid %s", kind, id, what);
    return SL_EINVAL;
}

/* ---- kinds ---- */

/* ALB's header hygiene attributes, absent when they have their defaults
 * (false, defensive) so that a proxy of any version reads the same. */
static int enc_lb_hygiene(json_t *o, json_t *out)
{
    const char *drop = attr(o, "routing.http.drop_invalid_header_fields.enabled");
    const char *mode = attr(o, "routing.http.desync_mitigation_mode");

    if (drop && strcmp(drop, "true") == 0 &&
        json_object_set_new(out, "drop_invalid_header_fields", json_true()) != 0)
        return SL_ENOMEM;
    if (mode && (strcmp(mode, "monitor") == 0 || strcmp(mode, "strictest") == 0) &&
        json_object_set_new(out, "desync_mitigation_mode", json_string(mode)) != 0)
        return SL_ENOMEM;
    return SL_OK;
}

/* The <family> ("access_logs.s3") attributes as a FeedLogs member, or NULL
 * (no member) while they are off. */
static json_t *enc_logs(json_t *o, const char *family)
{
    char k[64];
    const char *on, *bucket, *prefix;

    snprintf(k, sizeof(k), "%s.enabled", family);
    on = attr(o, k);
    snprintf(k, sizeof(k), "%s.bucket", family);
    bucket = attr(o, k);
    snprintf(k, sizeof(k), "%s.prefix", family);
    prefix = attr(o, k);
    if (on == NULL || strcmp(on, "true") != 0 || bucket == NULL || bucket[0] == '\0')
        return NULL;
    return json_pack("{sb ss ss}", "enabled", 1, "bucket", bucket, "prefix",
                     prefix ? prefix : "");
}

static int enc_lb(const char *id, json_t *o, json_t **out, struct sl_err *err)
{
    const char *arn = str(o, "arn"), *scheme = str(o, "Scheme"), *tls;
    json_t *logs;

    if (arn == NULL)
        return missing(err, "load balancer", id, "arn");
    if (scheme == NULL || (strcmp(scheme, "internal") != 0 && strcmp(scheme, "internet-facing") != 0))
        return missing(err, "load balancer", id, "Scheme");
    *out = json_pack("{ss ss ss sI sb}", "id", id, "arn", arn, "scheme", scheme,
                     "idle_timeout_seconds",
                     (json_int_t)attr_num(o, "idle_timeout.timeout_seconds", 60), "http2_enabled",
                     !attr_is(o, "routing.http2.enabled", "false"));
    if (*out && (logs = enc_logs(o, "access_logs.s3")) != NULL)
        json_object_set_new(*out, "access_logs", logs);
    if (*out && (logs = enc_logs(o, "connection_logs.s3")) != NULL)
        json_object_set_new(*out, "connection_logs", logs);
    /* the x-amzn-tls-version / x-amzn-tls-cipher-suite request headers */
    tls = attr(o, "routing.http.x_amzn_tls_version_and_cipher_suite.enabled");
    if (*out && ((tls && strcmp(tls, "true") == 0 &&
                  json_object_set_new(*out, "x_amzn_tls_version_and_cipher_suite_enabled",
                                      json_true())) ||
                 json_object_update_new(*out, lb_http(o)) != 0 ||
                 enc_lb_hygiene(o, *out) != SL_OK)) {
        json_decref(*out);
        *out = NULL;
    }
    return *out ? SL_OK : SL_ENOMEM;
}

/* The feed id of certificate <arn>: its store id, the UUID after
 * ":certificate/" (acm.h). */
static const char *cert_id(const char *arn)
{
    const char *p = arn ? strstr(arn, ":certificate/") : NULL;

    return p && p[13] ? p + 13 : NULL;
}

/* An HTTPS listener's members: its policies and certificates, the default
 * (Certificates[0]) first. */
static int enc_listener_tls(const char *id, json_t *o, json_t *out, struct sl_err *err)
{
    const char *policy = str(o, "SslPolicy");
    const char *alpn = json_string_value(json_array_get(json_object_get(o, "AlpnPolicy"), 0));
    const char *def = str(json_array_get(json_object_get(o, "Certificates"), 0), "CertificateArn");
    json_t *certs = json_array(), *c;
    size_t i;

    if (certs == NULL)
        return SL_ENOMEM;
    if (cert_id(def) == NULL) {
        json_decref(certs);
        return missing(err, "listener", id, "default certificate");
    }
    json_array_append_new(certs, json_pack("{ss sb}", "certificate_id", cert_id(def), "default", 1));
    json_array_foreach(json_object_get(o, "_extra_certs"), i, c) {
        const char *cid = cert_id(json_string_value(c));
        if (cid && strcmp(json_string_value(c), def) != 0)
            json_array_append_new(certs, json_pack("{ss sb}", "certificate_id", cid, "default", 0));
    }
    if (json_object_set_new(out, "ssl_policy",
                            json_string(policy ? policy : "ELBSecurityPolicy-2016-08")) != 0 ||
        json_object_set_new(out, "alpn_policy", json_string(alpn ? alpn : "None")) != 0 ||
        json_object_set_new(out, "certificates", certs) != 0)
        return SL_ENOMEM;
    return SL_OK;
}

static int cert_in_use(json_t *o)
{
    return json_array_size(json_object_get(o, "_in_use_by")) > 0;
}

static int enc_certificate(const char *id, json_t *o, json_t **out, struct sl_err *err)
{
    const char *arn = str(o, "arn"), *cert = str(o, "_certificate_pem");
    const char *key = str(o, "_private_key_pem"), *chain = str(o, "_chain_pem");

    if (arn == NULL || cert == NULL || key == NULL)
        return missing(err, "certificate", id, "arn, certificate or key");
    *out = json_pack("{ss ss ss ss ss}", "id", id, "arn", arn, "certificate_pem", cert,
                     "chain_pem", chain ? chain : "", "private_key_pem", key);
    return *out ? SL_OK : SL_ENOMEM;
}

static int enc_listener(const char *id, json_t *o, json_t **out, struct sl_err *err)
{
    const char *arn = str(o, "arn"), *lb = str(o, "_lb_id"), *proto = str(o, "Protocol");
    long long port = num(json_object_get(o, "Port"), 0);

    if (arn == NULL || lb == NULL)
        return missing(err, "listener", id, "arn or load balancer");
    if (port < 1 || port > 65535 || proto == NULL)
        return missing(err, "listener", id, "Port or Protocol");
    *out = json_pack("{ss ss ss sI ss sb}", "id", id, "arn", arn, "load_balancer_id", lb, "port",
                     (json_int_t)port, "protocol", proto, "server_header",
                     !attr_is(o, "routing.http.response.server.enabled", "false"));
    if (*out && strcmp(proto, "HTTPS") == 0) {
        int rc = enc_listener_tls(id, o, *out, err);
        if (rc != SL_OK) {
            json_decref(*out);
            *out = NULL;
            return rc;
        }
    }
    return *out ? SL_OK : SL_ENOMEM;
}

static const struct {
    const char *field, *config;
} cond_configs[] = {
    {"host-header", "HostHeaderConfig"},
    {"path-pattern", "PathPatternConfig"},
    {"http-header", "HttpHeaderConfig"},
    {"http-request-method", "HttpRequestMethodConfig"},
    {"query-string", "QueryStringConfig"},
    {"source-ip", "SourceIpConfig"},
};

/* A stored condition: Field, and its values either in <Field>Config.Values
 * (the current form) or in the legacy Values. */
static json_t *enc_condition(json_t *c)
{
    const char *field = str(c, "Field");
    json_t *cfg = NULL, *vals, *v, *out;
    size_t i, k;

    for (k = 0; k < sizeof(cond_configs) / sizeof(cond_configs[0]); k++)
        if (field && strcmp(field, cond_configs[k].field) == 0)
            break;
    if (k == sizeof(cond_configs) / sizeof(cond_configs[0]))
        return NULL;
    cfg = json_object_get(c, cond_configs[k].config);
    vals = json_object_get(cfg, "Values");
    if (!json_is_array(vals))
        vals = json_object_get(c, "Values");
    out = json_pack("{ss s[]}", "field", field, "values");
    if (out == NULL)
        return NULL;
    if (strcmp(field, "http-header") == 0) {
        const char *name = str(cfg, "HttpHeaderName");
        if (name == NULL || *name == '\0') {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, "header_name", json_string(name));
    }
    json_array_foreach(vals, i, v) {
        json_t *e;
        if (strcmp(field, "query-string") == 0) {
            const char *key = str(v, "Key"), *val = str(v, "Value");
            e = json_pack("{ss}", "value", val ? val : "");
            if (e && key)
                json_object_set_new(e, "key", json_string(key));
        } else
            e = json_is_string(v) ? json_incref(v) : NULL;
        if (e == NULL || json_array_append_new(json_object_get(out, "values"), e) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *enc_forward(json_t *a)
{
    json_t *tgs = json_object_get(json_object_get(a, "ForwardConfig"), "TargetGroups");
    json_t *out = json_array(), *g;
    const char *single = str(a, "TargetGroupArn");
    size_t i;

    if (out == NULL)
        return NULL;
    if (json_array_size(tgs) == 0 && single && *single)
        json_array_append_new(out, json_pack("{ss si}", "arn", single, "weight", 1));
    json_array_foreach(tgs, i, g) {
        const char *arn = str(g, "TargetGroupArn");
        long long w = num(json_object_get(g, "Weight"), 1);
        if (arn == NULL)
            continue;
        /* AWS: with one group its weight does not matter, even 0 */
        if (json_array_size(tgs) == 1 && w == 0)
            w = 1;
        json_array_append_new(out, json_pack("{ss sI}", "arn", arn, "weight", (json_int_t)w));
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *enc_redirect(json_t *rc, json_t *out)
{
    static const struct {
        const char *stored, *feed, *def;
    } parts[] = {{"Protocol", "protocol", "#{protocol}"}, {"Host", "host", "#{host}"},
                 {"Port", "port", "#{port}"},             {"Path", "path", "/#{path}"},
                 {"Query", "query", "#{query}"}};
    const char *code = str(rc, "StatusCode");
    size_t i;

    json_object_set_new(out, "status_code",
                        json_integer(code && strcmp(code, "HTTP_302") == 0 ? 302 : 301));
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const char *v = str(rc, parts[i].stored);
        json_object_set_new(out, parts[i].feed, json_string(v ? v : parts[i].def));
    }
    return out;
}

static json_t *enc_action(json_t *a)
{
    const char *type = str(a, "Type");
    json_t *out;

    if (type == NULL)
        return NULL;
    out = json_pack("{ss sI}", "type", type, "order",
                    (json_int_t)num(json_object_get(a, "Order"), 1));
    if (out == NULL)
        return NULL;
    if (strcmp(type, "forward") == 0) {
        json_t *tgs = enc_forward(a);
        json_t *st = json_object_get(json_object_get(a, "ForwardConfig"),
                                     "TargetGroupStickinessConfig");
        if (tgs == NULL)
            goto fail;
        json_object_set_new(out, "target_groups", tgs);
        if (json_is_true(json_object_get(st, "Enabled")))
            json_object_set_new(out, "stickiness",
                                json_pack("{sb sI}", "enabled", 1, "duration_seconds",
                                          (json_int_t)num(json_object_get(st, "DurationSeconds"),
                                                          3600)));
    } else if (strcmp(type, "redirect") == 0) {
        enc_redirect(json_object_get(a, "RedirectConfig"), out);
    } else if (strcmp(type, "fixed-response") == 0) {
        json_t *fc = json_object_get(a, "FixedResponseConfig");
        long long code = num(json_object_get(fc, "StatusCode"), 0);
        if (code < 200 || code > 599)
            goto fail;
        json_object_set_new(out, "status_code", json_integer(code));
        if (str(fc, "ContentType"))
            json_object_set_new(out, "content_type", json_string(str(fc, "ContentType")));
        if (str(fc, "MessageBody"))
            json_object_set_new(out, "message_body", json_string(str(fc, "MessageBody")));
    } else
        goto fail; /* the API refuses the other types: none is stored */
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int enc_rule(const char *id, json_t *o, json_t **out, struct sl_err *err)
{
    const char *arn = str(o, "arn"), *lid = str(o, "_listener_id");
    int is_default = json_is_true(json_object_get(o, "IsDefault"));
    long long prio = num(json_object_get(o, "Priority"), 0);
    json_t *conds, *acts, *c;
    size_t i;

    if (arn == NULL || lid == NULL)
        return missing(err, "rule", id, "arn or listener");
    if (!is_default && (prio < 1 || prio > 50000))
        return missing(err, "rule", id, "Priority");
    *out = json_pack("{ss ss ss sb s[] s[]}", "id", id, "arn", arn, "listener_id", lid,
                     "is_default", is_default, "conditions", "actions");
    if (*out == NULL)
        return SL_ENOMEM;
    if (!is_default)
        json_object_set_new(*out, "priority", json_integer(prio));
    conds = json_object_get(*out, "conditions");
    acts = json_object_get(*out, "actions");
    json_array_foreach(json_object_get(o, "Conditions"), i, c) {
        json_t *e = enc_condition(c);
        if (e == NULL) {
            json_decref(*out);
            *out = NULL;
            return missing(err, "rule", id, "condition");
        }
        json_array_append_new(conds, e);
    }
    json_array_foreach(json_object_get(o, "Actions"), i, c) {
        json_t *e = enc_action(c);
        if (e == NULL) {
            json_decref(*out);
            *out = NULL;
            return missing(err, "rule", id, "action");
        }
        json_array_append_new(acts, e);
    }
    return SL_OK;
}

static int enc_tg(const char *id, json_t *o, json_t **out, struct sl_err *err)
{
    const char *arn = str(o, "arn"), *proto = str(o, "Protocol");
    const char *algo = attr(o, "load_balancing.algorithm.type");
    const char *hproto = str(o, "HealthCheckProtocol"), *hport = str(o, "HealthCheckPort");
    const char *path = str(o, "HealthCheckPath");
    const char *matcher = str(json_object_get(o, "Matcher"), "HttpCode");
    json_t *hc;

    if (arn == NULL || proto == NULL)
        return missing(err, "target group", id, "arn or Protocol");
    hc = json_pack("{sb ss ss sI sI sI sI ss}", "enabled",
                   !json_is_false(json_object_get(o, "HealthCheckEnabled")), "protocol",
                   hproto ? hproto : "HTTP", "path", path ? path : "/", "interval_seconds",
                   (json_int_t)num(json_object_get(o, "HealthCheckIntervalSeconds"), 30),
                   "timeout_seconds",
                   (json_int_t)num(json_object_get(o, "HealthCheckTimeoutSeconds"), 5),
                   "healthy_threshold",
                   (json_int_t)num(json_object_get(o, "HealthyThresholdCount"), 5),
                   "unhealthy_threshold",
                   (json_int_t)num(json_object_get(o, "UnhealthyThresholdCount"), 2), "matcher",
                   matcher ? matcher : "200");
    if (hc == NULL)
        return SL_ENOMEM;
    if (json_is_integer(json_object_get(o, "HealthCheckPort")) ||
        (hport && strcmp(hport, "traffic-port") != 0)) {
        long long p = num(json_object_get(o, "HealthCheckPort"), 0);
        if (p < 1 || p > 65535) {
            json_decref(hc);
            return missing(err, "target group", id, "HealthCheckPort");
        }
        json_object_set_new(hc, "port", json_integer(p));
    }
    *out = json_pack("{ss ss ss ss sI so}", "id", id, "arn", arn, "protocol", proto,
                     "algorithm", algo ? algo : "round_robin", "slow_start_seconds",
                     (json_int_t)attr_num(o, "slow_start.duration_seconds", 0), "health_check",
                     hc);
    if (*out && json_object_set_new(*out, "stickiness", tg_stickiness(o)) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    if (*out && json_is_integer(json_object_get(o, "Port")))
        json_object_set(*out, "port", json_object_get(o, "Port"));
    return *out ? SL_OK : SL_ENOMEM;
}

static int enc_target(const char *id, json_t *o, json_t **out, struct sl_err *err)
{
    json_t *t = json_object_get(o, "Target");
    const char *addr = str(t, "Id"), *state = str(o, "_state"), *bar = strchr(id, '|');
    long long port = num(json_object_get(t, "Port"), 0);
    json_t *tg;

    if (bar == NULL || bar == id || addr == NULL || port < 1 || port > 65535)
        return missing(err, "target", id, "Target");
    if (state == NULL || (strcmp(state, "registered") != 0 && strcmp(state, "draining") != 0))
        return missing(err, "target", id, "state");
    if ((tg = json_stringn(id, (size_t)(bar - id))) == NULL)
        return SL_ENOMEM;
    *out = json_pack("{ss so ss sI ss}", "id", id, "target_group_id", tg, "address", addr, "port",
                     (json_int_t)port, "state", state);
    return *out ? SL_OK : SL_ENOMEM;
}

int feed_encode(enum feed_kind k, const char *id, json_t *obj, json_t **out, struct sl_err *err)
{
    *out = NULL;
    if (id == NULL || !json_is_object(obj))
        return missing(err, feed_kind_name(k), id ? id : "", "object");
    switch (k) {
    case FEED_CERTIFICATE: return enc_certificate(id, obj, out, err);
    case FEED_LOAD_BALANCER: return enc_lb(id, obj, out, err);
    case FEED_LISTENER: return enc_listener(id, obj, out, err);
    case FEED_RULE: return enc_rule(id, obj, out, err);
    case FEED_TARGET_GROUP: return enc_tg(id, obj, out, err);
    case FEED_TARGET: return enc_target(id, obj, out, err);
    case FEED_NKINDS: break;
    }
    return missing(err, "object", id, "kind");
}

/* ---- lines and the snapshot ---- */

static void put_line(struct buf *out, json_t *rec)
{
    char *line = json_dumps(rec, JSON_COMPACT);

    if (line == NULL) {
        out->failed = 1;
        return;
    }
    buf_puts(out, line);
    buf_putc(out, '\n');
    free(line);
}

int feed_line_change(json_t *rec, struct buf *out, struct sl_err *err)
{
    int k = feed_kind_of_store(str(rec, "kind"));
    const char *id = str(rec, "id"), *op = str(rec, "op");
    json_t *line, *obj = NULL;
    int rc;

    if (k < 0)
        return SL_ENOTFOUND;
    if (id == NULL || op == NULL)
        return missing(err, "change record", id ? id : "", "id or op");
    if (k == FEED_CERTIFICATE && !cert_in_use(json_object_get(rec, "obj")))
        op = "delete"; /* no listener uses it (any more): proxies drop it */
    line = json_pack("{si sI ss ss ss}", "feed_version", FEED_VERSION, "rev",
                     json_integer_value(json_object_get(rec, "rev")), "kind",
                     feed_kind_name((enum feed_kind)k), "op",
                     strcmp(op, "delete") == 0 ? FEED_OP_DELETE : FEED_OP_PUT, "id", id);
    if (line == NULL)
        return SL_ENOMEM;
    if (strcmp(op, "delete") != 0) {
        rc = feed_encode((enum feed_kind)k, id, json_object_get(rec, "obj"), &obj, err);
        if (rc != SL_OK) {
            json_decref(line);
            return rc;
        }
        json_object_set_new(line, "object", obj);
    }
    put_line(out, line);
    json_decref(line);
    return SL_OK;
}

void feed_line_marker(struct buf *out, const char *marker, uint64_t rev)
{
    buf_printf(out, "{\"feed_version\":%d,\"kind\":\"%s\",\"rev\":%llu}\n", FEED_VERSION, marker,
               (unsigned long long)rev);
}

struct scan_ctx {
    enum feed_kind kind;
    json_t *arr;
    int failed;
};

static int add_obj(const char *id, json_t *obj, void *arg)
{
    struct scan_ctx *s = arg;
    struct sl_err err = {0};
    json_t *o;
    int rc;

    if (s->kind == FEED_CERTIFICATE && !cert_in_use(obj))
        return 0;
    rc = feed_encode(s->kind, id, obj, &o, &err);

    if (rc == SL_ENOMEM) {
        s->failed = 1;
        return 1;
    }
    if (rc != SL_OK) {
        log_error("feed: %s; left out of the snapshot", err.message);
        return 0;
    }
    if (json_array_append_new(s->arr, o) != 0) {
        s->failed = 1;
        return 1;
    }
    return 0;
}

int feed_snapshot(struct store_txn *txn, json_t **out, struct sl_err *err)
{
    json_t *doc = json_pack("{si sI}", "feed_version", FEED_VERSION, "revision",
                            (json_int_t)store_txn_revision(txn));
    int k;

    for (k = 0; doc && k < FEED_NKINDS; k++) {
        struct scan_ctx s = {(enum feed_kind)k, json_array(), 0};
        if (s.arr == NULL || json_object_set_new(doc, feed_kind_plural(s.kind), s.arr) != 0)
            goto nomem;
        store_scan(txn, store_kinds[k], NULL, add_obj, &s);
        if (s.failed)
            goto nomem;
    }
    if (doc == NULL)
        goto nomem;
    *out = doc;
    return SL_OK;
nomem:
    json_decref(doc);
    *out = NULL;
    sl_err_set(err, 500, "InternalFailure", "out of memory building the snapshot");
    return SL_ENOMEM;
}
