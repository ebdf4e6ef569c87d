/*
 * decode.c - feed JSON (jansson) into the proxy's typed structs.
 *
 * Every getter checks presence, type and range and says which member of
 * which object was wrong: a message names what the control plane sent, so
 * a mismatch between the two binaries is plain from the proxy's log.
 */
#include "proxy/decode.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tls_policy.h"
#include "proxy/arena.h"
#include "proxy/sticky.h"

/* Fill <err> (may be NULL) with an InvalidFeed message; SL_EINVAL. */
static int inval(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int inval(struct sl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->status = 400;
        snprintf(err->code, sizeof(err->code), "InvalidFeed");
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return SL_EINVAL;
}

struct ctx {
    const char *kind;
    const char *id;
    struct sl_err *err;
};

static int bad(struct ctx *c, const char *member, const char *want)
{
    return inval(c->err, "%s '%s': member '%s' %s", c->kind, c->id ? c->id : "?", member, want);
}

/* A string member into <dst> (<cap> bytes, so at most cap-1 long); absent
 * and optional leaves <dst> as it is.  Empty strings are refused. */
static int get_str(struct ctx *c, json_t *o, const char *key, int required, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    size_t n;

    if (v == NULL && !required)
        return SL_OK;
    if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n >= cap ||
        memchr(json_string_value(v), '\0', n))
        return bad(c, key, "must be a non-empty string");
    memcpy(dst, json_string_value(v), n + 1);
    return SL_OK;
}

static int get_int(struct ctx *c, json_t *o, const char *key, int required, long long lo,
                   long long hi, int *out)
{
    json_t *v = json_object_get(o, key);
    char want[96];

    if (v == NULL && !required)
        return SL_OK;
    if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
        *out = (int)json_integer_value(v);
        return SL_OK;
    }
    snprintf(want, sizeof(want), "must be an integer %lld-%lld", lo, hi);
    return bad(c, key, want);
}

static int get_bool(struct ctx *c, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_boolean(v))
        return bad(c, key, "must be true or false");
    *out = json_is_true(v);
    return SL_OK;
}

/* An optional boolean: absent leaves *out as it is. */
static int opt_bool(struct ctx *c, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL)
        return SL_OK;
    if (!json_is_boolean(v))
        return bad(c, key, "must be true or false");
    *out = json_is_true(v);
    return SL_OK;
}

/* One of <names> (NULL-terminated): its index in *out. */
static int get_enum(struct ctx *c, json_t *o, const char *key, const char *const *names,
                    int *out)
{
    const char *s = json_string_value(json_object_get(o, key));
    int i;

    for (i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return SL_OK;
        }
    return bad(c, key, "has a value this proxy does not know");
}

static int hexv(int ch);
/* A PEM text member of at most <max> bytes, as a heap copy in *out (NULL
 * when absent and optional; "" allowed only when <may_be_empty>). */
static int get_pem(struct ctx *c, json_t *o, const char *key, int required, int may_be_empty,
                   size_t max, char **out)
{
    json_t *v = json_object_get(o, key);
    size_t n;

    *out = NULL;
    if (v == NULL && !required)
        return SL_OK;
    if (!json_is_string(v) || (n = json_string_length(v)) > max ||
        (n == 0 && !may_be_empty) || memchr(json_string_value(v), '\0', n) ||
        (n > 0 && strstr(json_string_value(v), "-----BEGIN ") == NULL))
        return bad(c, key, "must be PEM text");
    if ((*out = strdup(json_string_value(v))) == NULL) {
        sl_err_set(c->err, 500, "InternalFailure", "out of memory decoding certificate");
        return SL_ENOMEM;
    }
    return SL_OK;
}

/* ACM's limits, with room: a leaf and a key of some KiB, a chain of some. */
#define PEM_LEAF_MAX (64 * 1024)
#define PEM_CHAIN_MAX (2 * 1024 * 1024)

static void cert_clear(struct pxd_cert *x)
{
    free(x->cert_pem);
    free(x->chain_pem);
    free(x->key_pem);
    x->cert_pem = x->chain_pem = x->key_pem = NULL;
}

static int dec_cert(struct ctx *c, json_t *o, struct pxd_cert *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (get_str(c, o, "id", 1, out->id, sizeof(out->id)) != SL_OK ||
        get_str(c, o, "arn", 1, out->arn, sizeof(out->arn)) != SL_OK)
        return SL_EINVAL;
    if ((rc = get_pem(c, o, "certificate_pem", 1, 0, PEM_LEAF_MAX, &out->cert_pem)) != SL_OK ||
        (rc = get_pem(c, o, "chain_pem", 0, 1, PEM_CHAIN_MAX, &out->chain_pem)) != SL_OK ||
        (rc = get_pem(c, o, "private_key_pem", 1, 0, PEM_LEAF_MAX, &out->key_pem)) != SL_OK) {
        cert_clear(out);
        return rc;
    }
    return SL_OK;
}

/* ---- load balancers, listeners, targets ---- */

/* The optional header hygiene members: false and defensive when absent. */
static int dec_lb_hygiene(struct ctx *c, json_t *o, struct pxd_lb *out)
{
    static const char *const modes[] = {"defensive", "monitor", "strictest", NULL};

    if (json_object_get(o, "drop_invalid_header_fields") &&
        get_bool(c, o, "drop_invalid_header_fields", &out->drop_invalid) != SL_OK)
        return SL_EINVAL;
    if (json_object_get(o, "desync_mitigation_mode") &&
        get_enum(c, o, "desync_mitigation_mode", modes, &out->desync_mode) != SL_OK)
        return SL_EINVAL;
    return SL_OK;
}

/* An optional log destination {enabled, bucket, prefix}; absent is off. */
static int dec_logs(struct ctx *c, json_t *o, const char *key, struct pxd_logs *out)
{
    json_t *l = json_object_get(o, key), *b, *p;

    memset(out, 0, sizeof(*out));
    if (l == NULL)
        return SL_OK;
    b = json_object_get(l, "bucket");
    p = json_object_get(l, "prefix");
    if (!json_is_object(l) || get_bool(c, l, "enabled", &out->enabled) != SL_OK)
        return bad(c, key, "must be an object with enabled, bucket and prefix");
    if (!out->enabled)
        return SL_OK;
    if (!json_is_string(b) || !logdest_bucket_ok(json_string_value(b)))
        return bad(c, key, "bucket must be an S3 bucket name");
    if (p && (!json_is_string(p) || !logdest_prefix_ok(json_string_value(p))))
        return bad(c, key, "prefix must be an S3 prefix without '.', '..' or empty segments");
    snprintf(out->bucket, sizeof(out->bucket), "%s", json_string_value(b));
    snprintf(out->prefix, sizeof(out->prefix), "%s", p ? json_string_value(p) : "");
    return SL_OK;
}

static int dec_lb(struct ctx *c, json_t *o, struct pxd_lb *out)
{
    static const char *const schemes[] = {"internal", "internet-facing", NULL};
    static const char *const xff_modes[] = {"append", "preserve", "remove", NULL};

    memset(out, 0, sizeof(*out));
    out->http2 = 1;
    if (get_str(c, o, "id", 1, out->id, sizeof(out->id)) != SL_OK ||
        get_str(c, o, "arn", 1, out->arn, sizeof(out->arn)) != SL_OK ||
        get_enum(c, o, "scheme", schemes, &out->internet) != SL_OK ||
        get_int(c, o, "idle_timeout_seconds", 1, 1, 4000, &out->idle_timeout_s) != SL_OK ||
        dec_logs(c, o, "access_logs", &out->access_logs) != SL_OK ||
        dec_logs(c, o, "connection_logs", &out->connection_logs) != SL_OK ||
        opt_bool(c, o, "http2_enabled", &out->http2) != SL_OK ||
        opt_bool(c, o, "x_amzn_tls_version_and_cipher_suite_enabled", &out->tls_headers) !=
            SL_OK)
        return SL_EINVAL;
    out->keep_alive_s = 3600;
    if ((json_object_get(o, "xff_mode") &&
         get_enum(c, o, "xff_mode", xff_modes, &out->xff_mode) != SL_OK) ||
        opt_bool(c, o, "xff_client_port", &out->xff_port) != SL_OK ||
        opt_bool(c, o, "preserve_host_header", &out->preserve_host) != SL_OK ||
        get_int(c, o, "client_keep_alive_seconds", 0, 60, 604800, &out->keep_alive_s) != SL_OK)
        return SL_EINVAL;
    return dec_lb_hygiene(c, o, out);
}

/* An HTTPS listener's certificate list: each {certificate_id, default}, at
 * most one default, which is moved first. */
static int dec_listener_certs(struct ctx *c, json_t *arr, struct pxd_listener *out)
{
    json_t *e;
    size_t i;
    int ndef = 0;

    if (arr == NULL)
        return SL_OK;
    if (!json_is_array(arr) || json_array_size(arr) > PX_MAX_CERTS)
        return bad(c, "certificates", "must be an array of at most 64 certificates");
    json_array_foreach(arr, i, e) {
        int def = 0, k = out->ncerts;
        if (!json_is_object(e) ||
            get_str(c, e, "certificate_id", 1, out->certs[k].id, sizeof(out->certs[k].id)) !=
                SL_OK ||
            get_bool(c, e, "default", &def) != SL_OK)
            return json_is_object(e) ? SL_EINVAL : bad(c, "certificates", "must hold objects");
        out->certs[k].is_default = def;
        out->ncerts++;
        if (def && ndef++ == 0 && k > 0) { /* the default first */
            char id[PX_ID_MAX];
            memcpy(id, out->certs[0].id, sizeof(id));
            memcpy(out->certs[0].id, out->certs[k].id, sizeof(id));
            memcpy(out->certs[k].id, id, sizeof(id));
            out->certs[0].is_default = 1;
            out->certs[k].is_default = 0;
        }
    }
    return ndef > 1 ? bad(c, "certificates", "must have at most one default") : SL_OK;
}

static int dec_listener(struct ctx *c, json_t *o, struct pxd_listener *out)
{
    static const char *const protocols[] = {"HTTP", "HTTPS", NULL};
    static const char *const alpns[] = {"None", "HTTP1Only", "HTTP2Only", "HTTP2Optional",
                                        "HTTP2Preferred", NULL};
    char policy[128] = "";

    memset(out, 0, sizeof(*out));
    if (get_str(c, o, "id", 1, out->id, sizeof(out->id)) != SL_OK ||
        get_str(c, o, "arn", 1, out->arn, sizeof(out->arn)) != SL_OK ||
        get_str(c, o, "load_balancer_id", 1, out->lb_id, sizeof(out->lb_id)) != SL_OK ||
        get_int(c, o, "port", 1, 1, 65535, &out->port) != SL_OK ||
        get_enum(c, o, "protocol", protocols, &out->https) != SL_OK)
        return SL_EINVAL;
    out->server_header = 1;
    if (opt_bool(c, o, "server_header", &out->server_header) != SL_OK)
        return SL_EINVAL;
    if (!out->https)
        return SL_OK;
    out->policy = tls_policy_default();
    if (get_str(c, o, "ssl_policy", 0, policy, sizeof(policy)) != SL_OK)
        return SL_EINVAL;
    if (policy[0] && (out->policy = tls_policy_find(policy)) == NULL)
        return bad(c, "ssl_policy", "names a security policy this proxy does not know");
    if (json_object_get(o, "alpn_policy") &&
        get_enum(c, o, "alpn_policy", alpns, &out->alpn) != SL_OK)
        return SL_EINVAL;
    return dec_listener_certs(c, json_object_get(o, "certificates"), out);
}

static int dec_target(struct ctx *c, json_t *o, struct pxd_target *out)
{
    static const char *const states[] = {"registered", "draining", NULL};

    memset(out, 0, sizeof(*out));
    if (get_str(c, o, "id", 1, out->id, sizeof(out->id)) != SL_OK ||
        get_str(c, o, "target_group_id", 1, out->tg_id, sizeof(out->tg_id)) != SL_OK ||
        get_str(c, o, "address", 1, out->address, sizeof(out->address)) != SL_OK ||
        get_int(c, o, "port", 1, 1, 65535, &out->port) != SL_OK ||
        get_enum(c, o, "state", states, &out->draining) != SL_OK)
        return SL_EINVAL;
    return SL_OK;
}

/* ---- target groups ---- */

/* "200", "200,202", "200-299" (codes 100-599) into <g>'s ranges. */
static int parse_matcher(struct ctx *c, const char *m, struct px_tg_conf *g)
{
    const char *p = m;

    g->ncodes = 0;
    while (p && *p) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || *p == '-' || *p == '+' || *p == ' ')
            break;
        p = end;
        if (*p == '-') {
            hi = strtol(p + 1, &end, 10);
            if (end == p + 1)
                break;
            p = end;
        }
        if (lo < 100 || hi > 599 || hi < lo || g->ncodes == PX_MAX_CODES)
            break;
        g->codes[g->ncodes].lo = (int)lo;
        g->codes[g->ncodes].hi = (int)hi;
        g->ncodes++;
        if (*p == '\0')
            return SL_OK;
        if (*p++ != ',')
            break;
    }
    return bad(c, "health_check.matcher", "must be codes or ranges like 200,202-299");
}

static int dec_hc(struct ctx *c, json_t *h, struct px_tg_conf *g)
{
    static const char *const protocols[] = {"HTTP", "HTTPS", "TCP", NULL};
    char matcher[128];
    int sec = 0;

    if (!json_is_object(h))
        return bad(c, "health_check", "must be an object");
    if (get_bool(c, h, "enabled", &g->hc_enabled) != SL_OK ||
        get_enum(c, h, "protocol", protocols, &g->hc_proto) != SL_OK ||
        get_int(c, h, "port", 0, 1, 65535, &g->hc_port) != SL_OK ||
        get_str(c, h, "path", 1, g->hc_path, sizeof(g->hc_path)) != SL_OK ||
        get_int(c, h, "healthy_threshold", 1, 1, 10, &g->hc_healthy) != SL_OK ||
        get_int(c, h, "unhealthy_threshold", 1, 1, 10, &g->hc_unhealthy) != SL_OK ||
        get_str(c, h, "matcher", 1, matcher, sizeof(matcher)) != SL_OK ||
        parse_matcher(c, matcher, g) != SL_OK)
        return SL_EINVAL;
    if (get_int(c, h, "interval_seconds", 1, 1, 300, &sec) != SL_OK)
        return SL_EINVAL;
    g->hc_interval_ms = sec * 1000;
    if (get_int(c, h, "timeout_seconds", 1, 1, 120, &sec) != SL_OK)
        return SL_EINVAL;
    g->hc_timeout_ms = sec * 1000;
    return SL_OK;
}

/* 64 hex digits into <key>. */
static int hex_key(const char *s, unsigned char *key)
{
    int i;

    if (s == NULL || strlen(s) != 2 * PX_STICK_KEY_LEN)
        return SL_EINVAL;
    for (i = 0; i < PX_STICK_KEY_LEN; i++) {
        int hi = hexv((unsigned char)s[2 * i]), lo = hexv((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return SL_EINVAL;
        key[i] = (unsigned char)(hi * 16 + lo);
    }
    return SL_OK;
}

/* The group's stickiness (absent: none).  A group without a cookie key
 * (stored before keys existed, never modified since) gets one derived from
 * its ARN, so every proxy still agrees on it. */
static int dec_stick(struct ctx *c, json_t *s, struct px_tg_conf *g)
{
    static const char *const types[] = {"lb_cookie", "app_cookie", NULL};
    json_t *key;
    int enabled = 0, type = 0;

    g->stick = PX_STICK_NONE;
    g->stick_lb_s = g->stick_app_s = 86400;
    if (s == NULL)
        return SL_OK;
    if (!json_is_object(s))
        return bad(c, "stickiness", "must be an object");
    if (get_bool(c, s, "enabled", &enabled) != SL_OK ||
        get_enum(c, s, "type", types, &type) != SL_OK ||
        get_int(c, s, "lb_cookie_duration_seconds", 0, 1, 604800, &g->stick_lb_s) != SL_OK ||
        get_int(c, s, "app_cookie_duration_seconds", 0, 1, 604800, &g->stick_app_s) != SL_OK ||
        get_str(c, s, "app_cookie_name", 0, g->stick_app_name, sizeof(g->stick_app_name)) !=
            SL_OK)
        return SL_EINVAL;
    if (enabled && type == 1 && g->stick_app_name[0] == '\0')
        return bad(c, "stickiness.app_cookie_name", "must be set for app_cookie");
    key = json_object_get(s, "cookie_key");
    if (key && hex_key(json_string_value(key), g->stick_key) != SL_OK)
        return bad(c, "stickiness.cookie_key", "must be 64 hex digits");
    if (key == NULL)
        px_sticky_derive_key(g->arn, g->stick_key);
    g->stick = enabled ? (type == 1 ? PX_STICK_APP : PX_STICK_LB) : PX_STICK_NONE;
    return SL_OK;
}

static int dec_tg(struct ctx *c, json_t *o, struct px_tg_conf *out)
{
    static const char *const algos[] = {"round_robin", "least_outstanding_requests",
                                        "weighted_random", NULL};
    char proto[16];
    int port = 0, slow = 0;

    memset(out, 0, sizeof(*out));
    if (get_str(c, o, "id", 1, out->id, sizeof(out->id)) != SL_OK ||
        get_str(c, o, "arn", 1, out->arn, sizeof(out->arn)) != SL_OK ||
        get_str(c, o, "protocol", 1, proto, sizeof(proto)) != SL_OK ||
        get_int(c, o, "port", 0, 1, 65535, &port) != SL_OK ||
        get_enum(c, o, "algorithm", algos, &out->algo) != SL_OK ||
        get_int(c, o, "slow_start_seconds", 1, 0, 900, &slow) != SL_OK ||
        dec_hc(c, json_object_get(o, "health_check"), out) != SL_OK)
        return SL_EINVAL;
    out->slow_start_ms = (uint32_t)slow * 1000u;
    out->https = strcmp(proto, "HTTPS") == 0; /* anything else is spoken as HTTP */
    return dec_stick(c, json_object_get(o, "stickiness"), out);
}

/* ---- rules ---- */

static int hexv(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode a query-string pattern (a request's pairs are decoded
 * before matching), keeping '\' escapes. */
static const char *pct_decode(struct px_arena *a, const char *s)
{
    size_t n = strlen(s), i, o = 0;
    char *d = px_arena_alloc(a, n + 1);

    if (d == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexv((unsigned char)s[i + 1]) >= 0 &&
            hexv((unsigned char)s[i + 2]) >= 0) {
            d[o++] = (char)(hexv((unsigned char)s[i + 1]) * 16 + hexv((unsigned char)s[i + 2]));
            i += 2;
        } else
            d[o++] = s[i];
    }
    d[o] = '\0';
    return d;
}

static int parse_cidr(const char *s, struct px_cidr *c)
{
    char ip[64], *end;
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    long bits;

    if (n >= sizeof(ip))
        return SL_EINVAL;
    memcpy(ip, s, n);
    ip[n] = '\0';
    if (inet_pton(AF_INET, ip, c->addr) == 1)
        c->family = AF_INET;
    else if (inet_pton(AF_INET6, ip, c->addr) == 1)
        c->family = AF_INET6;
    else
        return SL_EINVAL;
    bits = c->family == AF_INET ? 32 : 128;
    if (slash) {
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || bits < 0 || bits > (c->family == AF_INET ? 32 : 128))
            return SL_EINVAL;
    }
    c->bits = (int)bits;
    return SL_OK;
}

static const char *const cond_fields[] = {"host-header",         "path-pattern", "http-header",
                                          "http-request-method", "query-string", "source-ip",
                                          NULL};

static int dec_cond(struct ctx *c, json_t *o, struct px_cond *out, struct px_arena *a)
{
    json_t *vals = json_object_get(o, "values"), *v;
    size_t i, n = json_array_size(vals);

    if (!json_is_object(o) || get_enum(c, o, "field", cond_fields, &out->type) != SL_OK)
        return json_is_object(o) ? SL_EINVAL : bad(c, "conditions", "must hold objects");
    if (!json_is_array(vals) || n == 0 || n > 1000)
        return bad(c, "conditions.values", "must be a non-empty array");
    out->nvals = (int)n;
    out->vals = px_arena_alloc(a, sizeof(char *) * n);
    if (out->type == PX_C_QUERY)
        out->keys = px_arena_alloc(a, sizeof(char *) * n);
    if (out->type == PX_C_SOURCE)
        out->cidrs = px_arena_alloc(a, sizeof(struct px_cidr) * n);
    if (out->vals == NULL || (out->type == PX_C_QUERY && out->keys == NULL) ||
        (out->type == PX_C_SOURCE && out->cidrs == NULL))
        return SL_ENOMEM;
    if (out->type == PX_C_HEADER) {
        char name[64];
        if (get_str(c, o, "header_name", 1, name, sizeof(name)) != SL_OK)
            return SL_EINVAL;
        if ((out->name = px_arena_strdup(a, name)) == NULL)
            return SL_ENOMEM;
    }
    json_array_foreach(vals, i, v) {
        if (out->type == PX_C_QUERY) {
            json_t *key = json_object_get(v, "key"), *val = json_object_get(v, "value");
            if (!json_is_object(v) || !json_is_string(val) || (key && !json_is_string(key)))
                return bad(c, "conditions.values", "must be {key, value} pairs for query-string");
            out->keys[i] = key ? pct_decode(a, json_string_value(key)) : NULL;
            out->vals[i] = pct_decode(a, json_string_value(val));
            if (out->vals[i] == NULL || (key && out->keys[i] == NULL))
                return SL_ENOMEM;
            continue;
        }
        if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v)))
            return bad(c, "conditions.values", "must be strings");
        if ((out->vals[i] = px_arena_strdup(a, json_string_value(v))) == NULL)
            return SL_ENOMEM;
        if (out->type == PX_C_SOURCE && parse_cidr(out->vals[i], &out->cidrs[i]) != SL_OK)
            return bad(c, "conditions.values", "must be CIDR blocks for source-ip");
    }
    return SL_OK;
}

static const char *dup_member(struct ctx *c, json_t *o, const char *key, struct px_arena *a,
                              int *rc)
{
    json_t *v = json_object_get(o, key);
    const char *s;

    if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v))) {
        *rc = bad(c, key, "must be a string");
        return NULL;
    }
    if ((s = px_arena_strdup(a, json_string_value(v))) == NULL)
        *rc = SL_ENOMEM;
    return s;
}

static int dec_forward(struct ctx *c, json_t *o, struct px_action *act)
{
    json_t *tgs = json_object_get(o, "target_groups"), *g, *st;
    size_t i;
    int on = 0, dur = 0;

    if (!json_is_array(tgs) || json_array_size(tgs) == 0 || json_array_size(tgs) > PX_MAX_FWD)
        return bad(c, "actions.target_groups", "must hold 1-5 groups");
    act->type = PX_A_FORWARD;
    json_array_foreach(tgs, i, g) {
        const char *arn = json_string_value(json_object_get(g, "arn"));
        int w = 0;
        if (arn == NULL || *arn == '\0')
            return bad(c, "actions.target_groups.arn", "must be a string");
        if (get_int(c, g, "weight", 1, 0, 999, &w) != SL_OK)
            return SL_EINVAL;
        act->fwd[i].arn = arn; /* borrowed until dec_action() copies it */
        act->fwd[i].weight = w;
        act->fwd[i].slot = -1;
        act->total_weight += w;
        act->nfwd++;
    }
    st = json_object_get(o, "stickiness");
    if (st && (!json_is_object(st) || get_bool(c, st, "enabled", &on) != SL_OK ||
               get_int(c, st, "duration_seconds", 1, 1, 604800, &dur) != SL_OK))
        return json_is_object(st) ? SL_EINVAL : bad(c, "actions.stickiness", "must be an object");
    act->tg_stick_s = on ? dur : 0;
    return SL_OK;
}

static int dec_action(struct ctx *c, json_t *o, struct px_action *act, struct px_arena *a)
{
    static const char *const types[] = {"forward", "redirect", "fixed-response", NULL};
    int type = -1, code = 0, rc = SL_OK, i;

    memset(act, 0, sizeof(*act));
    if (get_enum(c, o, "type", types, &type) != SL_OK)
        return SL_EINVAL;
    if (type == 0) {
        if ((rc = dec_forward(c, o, act)) != SL_OK)
            return rc;
        for (i = 0; i < act->nfwd; i++)
            if ((act->fwd[i].arn = px_arena_strdup(a, act->fwd[i].arn)) == NULL)
                return SL_ENOMEM;
        return SL_OK;
    }
    if (type == 1) {
        if (get_int(c, o, "status_code", 1, 301, 302, &code) != SL_OK)
            return SL_EINVAL;
        act->type = PX_A_REDIRECT;
        act->code = code;
        act->proto = dup_member(c, o, "protocol", a, &rc);
        act->host = rc == SL_OK ? dup_member(c, o, "host", a, &rc) : NULL;
        act->port = rc == SL_OK ? dup_member(c, o, "port", a, &rc) : NULL;
        act->path = rc == SL_OK ? dup_member(c, o, "path", a, &rc) : NULL;
        act->query = rc == SL_OK ? dup_member(c, o, "query", a, &rc) : NULL;
        return rc;
    }
    if (get_int(c, o, "status_code", 1, 200, 599, &code) != SL_OK)
        return SL_EINVAL;
    act->type = PX_A_FIXED;
    act->code = code;
    if (json_object_get(o, "content_type"))
        act->ctype = dup_member(c, o, "content_type", a, &rc);
    if (rc == SL_OK && json_object_get(o, "message_body"))
        act->body = dup_member(c, o, "message_body", a, &rc);
    return rc;
}

/* The terminal action: the forward, redirect or fixed-response of highest
 * order (authenticate actions, should a later version send them, precede
 * it).  Actions of types this version does not know are passed over. */
static int dec_actions(struct ctx *c, json_t *acts, struct px_action *out, struct px_arena *a)
{
    json_t *o;
    size_t i;
    int best = 0, rc;

    if (!json_is_array(acts))
        return bad(c, "actions", "must be an array");
    out->type = PX_A_NONE;
    json_array_foreach(acts, i, o) {
        const char *type = json_string_value(json_object_get(o, "type"));
        int order = 0;
        if (!json_is_object(o) || type == NULL)
            return bad(c, "actions", "must hold objects with a type");
        if (strcmp(type, "forward") != 0 && strcmp(type, "redirect") != 0 &&
            strcmp(type, "fixed-response") != 0)
            continue;
        if (get_int(c, o, "order", 1, 1, 50000, &order) != SL_OK)
            return SL_EINVAL;
        if (out->type != PX_A_NONE && order < best)
            continue;
        if ((rc = dec_action(c, o, out, a)) != SL_OK)
            return rc;
        best = order;
    }
    return SL_OK;
}

static int dec_rule(struct ctx *c, json_t *o, struct px_rule_def **out)
{
    struct px_rule_def *d = calloc(1, sizeof(*d));
    json_t *conds = json_object_get(o, "conditions"), *x;
    int rc = SL_ENOMEM;
    size_t i;

    *out = NULL;
    if (d == NULL || (d->arena = px_arena_new()) == NULL)
        goto fail;
    atomic_init(&d->refs, 1);
    rc = SL_EINVAL;
    if (get_str(c, o, "id", 1, d->id, sizeof(d->id)) != SL_OK ||
        get_str(c, o, "listener_id", 1, d->listener_id, sizeof(d->listener_id)) != SL_OK ||
        get_bool(c, o, "is_default", &d->is_default) != SL_OK)
        goto fail;
    if (d->is_default)
        d->prio = INT32_MAX;
    else if (get_int(c, o, "priority", 1, 1, 50000, &d->prio) != SL_OK)
        goto fail;
    if (!json_is_array(conds) || json_array_size(conds) > 1000) {
        rc = bad(c, "conditions", "must be an array");
        goto fail;
    }
    d->conds = px_arena_alloc(d->arena, sizeof(*d->conds) * (json_array_size(conds) + 1));
    if (d->conds == NULL) {
        rc = SL_ENOMEM;
        goto fail;
    }
    json_array_foreach(conds, i, x) {
        if ((rc = dec_cond(c, x, &d->conds[i], d->arena)) != SL_OK)
            goto fail;
        d->nconds++;
    }
    if ((rc = dec_actions(c, json_object_get(o, "actions"), &d->act, d->arena)) != SL_OK)
        goto fail;
    *out = d;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM)
        sl_err_set(c->err, 500, "InternalFailure", "out of memory decoding rule");
    px_rule_def_release(d);
    return rc;
}

/* ---- objects, records, snapshots ---- */

static int dec_obj(enum feed_kind k, json_t *o, struct pxd_obj *out, struct sl_err *err)
{
    struct ctx c = {feed_kind_name(k), json_string_value(json_object_get(o, "id")), err};

    memset(out, 0, sizeof(*out));
    out->kind = k;
    if (!json_is_object(o))
        return bad(&c, "object", "must be an object");
    switch (k) {
    case FEED_CERTIFICATE: return dec_cert(&c, o, &out->u.cert);
    case FEED_LOAD_BALANCER: return dec_lb(&c, o, &out->u.lb);
    case FEED_LISTENER: return dec_listener(&c, o, &out->u.listener);
    case FEED_RULE: return dec_rule(&c, o, &out->u.rule);
    case FEED_TARGET_GROUP: return dec_tg(&c, o, &out->u.tg);
    case FEED_TARGET: return dec_target(&c, o, &out->u.target);
    case FEED_NKINDS: break;
    }
    return bad(&c, "kind", "is unknown");
}

const char *pxd_obj_id(const struct pxd_obj *o)
{
    switch (o->kind) {
    case FEED_CERTIFICATE: return o->u.cert.id;
    case FEED_LOAD_BALANCER: return o->u.lb.id;
    case FEED_LISTENER: return o->u.listener.id;
    case FEED_RULE: return o->u.rule ? o->u.rule->id : "";
    case FEED_TARGET_GROUP: return o->u.tg.id;
    case FEED_TARGET: return o->u.target.id;
    case FEED_NKINDS: break;
    }
    return "";
}

void pxd_obj_clear(struct pxd_obj *o)
{
    if (o->kind == FEED_RULE) {
        px_rule_def_release(o->u.rule);
        o->u.rule = NULL;
    } else if (o->kind == FEED_CERTIFICATE)
        cert_clear(&o->u.cert);
}

static int check_version(json_t *doc, struct sl_err *err)
{
    json_t *v = json_object_get(doc, "feed_version");

    if (json_is_integer(v) && json_integer_value(v) == FEED_VERSION)
        return SL_OK;
    if (json_is_integer(v))
        return inval(err,
                     "feed_version %lld: this proxy reads feed_version %d (upgrade the older "
                     "of sluiced and sluice-proxy)",
                     (long long)json_integer_value(v), FEED_VERSION);
    return inval(err, "no feed_version: not a feed document");
}

static int rec_body(json_t *rec, struct pxd_record *out, struct sl_err *err)
{
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    const char *op = json_string_value(json_object_get(rec, "op"));
    json_t *rev = json_object_get(rec, "rev"), *id = json_object_get(rec, "id");
    int k;

    if (kind == NULL || !json_is_integer(rev) || json_integer_value(rev) < 0)
        return inval(err, "record without kind or rev");
    out->rev = (uint64_t)json_integer_value(rev);
    if (strcmp(kind, FEED_HEARTBEAT) == 0 || strcmp(kind, FEED_GONE) == 0) {
        out->type = strcmp(kind, FEED_GONE) == 0 ? PXD_GONE : PXD_HEARTBEAT;
        return SL_OK;
    }
    if ((k = feed_kind_parse(kind)) < 0) {
        out->type = PXD_SKIP;
        return SL_OK;
    }
    out->kind = (enum feed_kind)k;
    if (out->rev == 0 || !json_is_string(id) || json_string_length(id) == 0 ||
        json_string_length(id) >= sizeof(out->id) || op == NULL ||
        (strcmp(op, FEED_OP_PUT) != 0 && strcmp(op, FEED_OP_DELETE) != 0))
        return inval(err, "%s record at revision %llu without a valid rev, id or op", kind,
                     (unsigned long long)out->rev);
    memcpy(out->id, json_string_value(id), json_string_length(id) + 1);
    if (strcmp(op, FEED_OP_DELETE) == 0) {
        out->type = PXD_DELETE;
        return SL_OK;
    }
    out->type = PXD_PUT;
    if (dec_obj(out->kind, json_object_get(rec, "object"), &out->obj, err) != SL_OK)
        return SL_EINVAL;
    if (strcmp(pxd_obj_id(&out->obj), out->id) != 0) {
        inval(err, "%s record '%s' carries object '%s'", kind, out->id, pxd_obj_id(&out->obj));
        pxd_obj_clear(&out->obj);
        return SL_EINVAL;
    }
    return SL_OK;
}

int pxd_record(const char *line, size_t n, struct pxd_record *out, struct sl_err *err)
{
    json_error_t je;
    json_t *rec = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(rec)) {
        json_decref(rec);
        sl_err_set(err, 400, "InvalidFeed", "record is not a JSON object: %s", je.text);
        return SL_EINVAL;
    }
    rc = check_version(rec, err);
    if (rc == SL_OK)
        rc = rec_body(rec, out, err);
    json_decref(rec);
    if (rc != SL_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* Decode every object of <doc>; with <cb> NULL each is checked and
 * cleared, else handed to <cb>. */
static int walk(json_t *doc, pxd_snapshot_fn cb, void *arg, struct sl_err *err)
{
    int k, rc;

    for (k = 0; k < FEED_NKINDS; k++) {
        json_t *arr = json_object_get(doc, feed_kind_plural((enum feed_kind)k)), *o;
        size_t i;
        if (arr == NULL && k == FEED_CERTIFICATE)
            continue; /* a control plane from before certificates */
        if (!json_is_array(arr))
            return inval(err, "snapshot has no array '%s'", feed_kind_plural((enum feed_kind)k));
        json_array_foreach(arr, i, o) {
            struct pxd_obj obj;
            if ((rc = dec_obj((enum feed_kind)k, o, &obj, err)) != SL_OK)
                return rc;
            if (cb == NULL)
                pxd_obj_clear(&obj);
            else if ((rc = cb(&obj, arg)) != 0)
                return rc;
        }
    }
    return SL_OK;
}

int pxd_snapshot(const char *body, size_t n, uint64_t *rev, pxd_snapshot_fn cb, void *arg,
                 struct sl_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je), *r;
    int rc;

    if (!json_is_object(doc)) {
        json_decref(doc);
        sl_err_set(err, 400, "InvalidFeed", "snapshot is not a JSON object: %s", je.text);
        return SL_EINVAL;
    }
    r = json_object_get(doc, "revision");
    rc = check_version(doc, err);
    if (rc == SL_OK && (!json_is_integer(r) || json_integer_value(r) < 0))
        rc = inval(err, "snapshot without a revision");
    if (rc == SL_OK)
        rc = walk(doc, NULL, NULL, err); /* all or nothing */
    if (rc == SL_OK) {
        *rev = (uint64_t)json_integer_value(r);
        rc = walk(doc, cb, arg, err);
    }
    json_decref(doc);
    return rc;
}
