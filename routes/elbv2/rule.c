/*
 * elbv2_rule.c - listener rules: CreateRule, DescribeRules, ModifyRule,
 * SetRulePriorities, DeleteRule, and the validation of rule conditions and
 * of the actions of rules and listeners (elb_actions_param).
 *
 * Stored conditions and actions are normalized to what AWS returns: every
 * condition carries its *Config form (host-header and path-pattern also the
 * legacy Values), every action its Order, and a forward action both
 * TargetGroupArn (single group) and ForwardConfig.  The data plane reads only
 * the normalized forms.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "routes/elbv2/elbv2.h"
#include "routes/elbv2/rules.h"
#include "routes/wire/params.h"

#define MAX_RULES_PER_LB 100
#define MAX_VALUES_PER_RULE 5
#define MAX_WILDCARDS_PER_RULE 5
#define MAX_VALUE_LEN 128
#define MAX_TG_PER_FORWARD 5

/* ======================================================================
 * Conditions
 * ====================================================================== */

enum cond_kind { C_HOST, C_PATH, C_HEADER, C_METHOD, C_QUERY, C_SOURCE, C_COUNT };

static const struct cond_type {
    const char *field;
    const char *config;
    int legacy; /* the legacy top-level Values is allowed */
    int unique; /* at most one per rule */
} cond_types[C_COUNT] = {
    [C_HOST] = {"host-header", "HostHeaderConfig", 1, 1},
    [C_PATH] = {"path-pattern", "PathPatternConfig", 1, 1},
    [C_HEADER] = {"http-header", "HttpHeaderConfig", 0, 0},
    [C_METHOD] = {"http-request-method", "HttpRequestMethodConfig", 0, 1},
    [C_QUERY] = {"query-string", "QueryStringConfig", 0, 0},
    [C_SOURCE] = {"source-ip", "SourceIpConfig", 0, 1},
};

struct cond_budget {
    int values;
    int wildcards;
    int seen[C_COUNT];
};

#define cond_err(err, ...) sl_err_set(err, 400, "ValidationError", __VA_ARGS__)

/* A present member that is not null and not an empty Query list. */
static int present(json_t *obj, const char *name)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v) && json_string_length(v) == 0)
        return 0;
    if (json_is_array(v) && json_array_size(v) == 0)
        return 0;
    return 1;
}

static int count_wildcards(const char *s, int escapes)
{
    int n = 0;

    for (; *s; s++) {
        if (escapes && *s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '*' || *s == '?')
            n++;
    }
    return n;
}

/* Host names: A-Z a-z 0-9 - _ . * ?, at least one '.', only letters after the
 * last '.'. */
static const char *host_invalid(const char *s)
{
    const char *dot = strrchr(s, '.'), *p;

    for (p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.*?", *p))
            return "it may contain only A-Z, a-z, 0-9, '-', '_', '.', '*' and '?'";
    if (dot == NULL)
        return "it must contain at least one '.'";
    if (dot[1] == '\0')
        return "it must end with alphabetical characters after the final '.'";
    for (p = dot + 1; *p; p++)
        if (!isalpha((unsigned char)*p))
            return "only alphabetical characters may follow the final '.'";
    return NULL;
}

static const char *path_invalid(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.$/~\"'@:+&*?", *s))
            return "it may contain only A-Z, a-z, 0-9, the characters _-.$/~\"'@:+& and "
                   "the wildcards * and ?";
    return NULL;
}

static const char *header_value_invalid(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return "it may not contain control characters";
    return NULL;
}

/* RFC 7230 token characters, without the '*' wildcard. */
static const char *header_name_invalid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 40)
        return "it must be 1-40 characters";
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'+-.^_`|~", *s))
            return "it may contain only RFC 7230 token characters and no wildcards";
    return NULL;
}

static const char *method_invalid(const char *s)
{
    if (strlen(s) > 40)
        return "it must be at most 40 characters";
    for (; *s; s++)
        if (!(*s >= 'A' && *s <= 'Z') && *s != '-' && *s != '_')
            return "the allowed characters are A-Z, hyphen (-) and underscore (_)";
    return NULL;
}

/* Query string keys and values: RFC 3986 characters, '\' escapes, '%'
 * encodings and the wildcards. */
static const char *query_invalid(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.$/~\"'@:+&()!,;=*?\\%[]", *s))
            return "it may contain only A-Z, a-z, 0-9, the characters _-.$/~\"'@:+&()!,;= "
                   "and the wildcards * and ?";
    return NULL;
}

static const char *cidr_invalid(const char *s)
{
    const char *slash = strchr(s, '/');
    char addr[64], *end;
    unsigned char buf[16];
    long bits, max;
    int af;

    if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
        return "it must be an IPv4 or IPv6 CIDR block such as 10.0.0.0/8";
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    af = strchr(addr, ':') ? AF_INET6 : AF_INET;
    max = af == AF_INET6 ? 128 : 32;
    if (inet_pton(af, addr, buf) != 1)
        return "it must be an IPv4 or IPv6 CIDR block such as 10.0.0.0/8";
    if (!isdigit((unsigned char)slash[1]))
        return "the prefix length must be a number";
    bits = strtol(slash + 1, &end, 10);
    if (*end != '\0' || bits < 0 || bits > max)
        return "the prefix length is out of range";
    return NULL;
}

/* Check one string value of condition <field>; counts it in <b>. */
static int value_check(json_t *v, enum cond_kind kind, struct cond_budget *b,
                       struct sl_err *err)
{
    const char *field = cond_types[kind].field, *s, *why = NULL;

    if (!json_is_string(v))
        return cond_err(err, "The '%s' condition values must be strings", field);
    s = json_string_value(v);
    if (s[0] == '\0')
        return cond_err(err, "A '%s' condition value cannot be empty", field);
    if (strlen(s) > MAX_VALUE_LEN)
        return cond_err(err, "The '%s' value is too long; the limit is '128'", field);
    switch (kind) {
    case C_HOST: why = host_invalid(s); break;
    case C_PATH: why = path_invalid(s); break;
    case C_HEADER: why = header_value_invalid(s); break;
    case C_METHOD: why = method_invalid(s); break;
    case C_QUERY: why = query_invalid(s); break;
    case C_SOURCE: why = cidr_invalid(s); break;
    default: break;
    }
    if (why)
        return sl_err_set(err, 400, "ValidationError", "The '%s' value '%s' is not valid: %s",
                          field, s, why);
    if (kind != C_METHOD && kind != C_SOURCE)
        b->wildcards += count_wildcards(s, kind == C_QUERY);
    return SL_OK;
}

/* Validate a list of string values; returns a copy. */
static json_t *values_check(json_t *list, enum cond_kind kind, struct cond_budget *b,
                            struct sl_err *err)
{
    json_t *v;
    size_t i;

    if (json_array_size(list) == 0) {
        cond_err(err, "A condition value must be specified for '%s'", cond_types[kind].field);
        return NULL;
    }
    json_array_foreach(list, i, v)
        if (value_check(v, kind, b, err) != SL_OK)
            return NULL;
    b->values += (int)json_array_size(list);
    return json_deep_copy(list);
}

static json_t *query_values_check(json_t *list, struct cond_budget *b, struct sl_err *err)
{
    json_t *out, *kv;
    size_t i;

    if (json_array_size(list) == 0) {
        cond_err(err, "A condition value must be specified for 'query-string'");
        return NULL;
    }
    out = json_array();
    json_array_foreach(list, i, kv) {
        json_t *key, *val, *pair;
        if (!json_is_object(kv)) {
            p_invalid(err, "QueryStringConfig.Values",
                      "Member must be a list of QueryStringKeyValuePair structures");
            goto fail;
        }
        key = json_object_get(kv, "Key");
        val = json_object_get(kv, "Value");
        if (val == NULL || json_is_null(val)) {
            cond_err(err, "A 'Value' must be specified in 'QueryStringKeyValuePair'");
            goto fail;
        }
        if (value_check(val, C_QUERY, b, err) != SL_OK)
            goto fail;
        pair = json_object();
        if (key && !json_is_null(key)) {
            if (value_check(key, C_QUERY, b, err) != SL_OK) {
                json_decref(pair);
                goto fail;
            }
            json_object_set(pair, "Key", key);
        }
        json_object_set(pair, "Value", val);
        json_array_append_new(out, pair);
    }
    b->values += (int)json_array_size(list);
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* A ListOfString member of <obj>; *out borrowed, NULL when absent. */
static int str_list(json_t *obj, const char *name, json_t **out, struct sl_err *err)
{
    return p_list(obj, name, P_OPTIONAL, 0, 1000, out, err) == SL_ERR ? SL_ERR : SL_OK;
}

static json_t *condition_param(json_t *c, struct cond_budget *b, struct sl_err *err)
{
    const struct cond_type *t;
    const char *field, *name = NULL;
    json_t *legacy = NULL, *cfg = NULL, *vals = NULL, *cv = NULL, *out;
    enum cond_kind kind;
    int k;

    if (!json_is_object(c)) {
        p_invalid(err, "Conditions", "Member must be a list of RuleCondition structures");
        return NULL;
    }
    if (p_str(c, "Field", P_REQUIRED, &field, err) != SL_OK)
        return NULL;
    for (k = 0; k < C_COUNT; k++)
        if (strcmp(cond_types[k].field, field) == 0)
            break;
    if (k == C_COUNT) {
        sl_err_set(err, 400, "ValidationError",
                   "Condition field '%.64s' must be one of '[http-header, http-request-method, "
                   "host-header, path-pattern, query-string, source-ip]'",
                   field);
        return NULL;
    }
    kind = (enum cond_kind)k;
    t = &cond_types[kind];
    for (k = 0; k < C_COUNT; k++)
        if (k != (int)kind && present(c, cond_types[k].config)) {
            cond_err(err, "The '%s' field is not compatible with '%s'", cond_types[k].config,
                     field);
            return NULL;
        }
    if (present(c, "RegexValues")) {
        cond_err(err, "RegexValues is not supported by sluice ('%s'); use Values", field);
        return NULL;
    }
    if (str_list(c, "Values", &legacy, err) != SL_OK ||
        p_obj(c, t->config, P_OPTIONAL, &cfg, err) == SL_ERR)
        return NULL;
    if (legacy && json_array_size(legacy) == 0)
        legacy = NULL;
    if (legacy && !t->legacy) {
        cond_err(err, "The 'Values' field is not compatible with '%s'; use '%s'", field,
                 t->config);
        return NULL;
    }
    if (cfg && present(cfg, "RegexValues")) {
        cond_err(err, "RegexValues is not supported by sluice ('%s'); use Values", field);
        return NULL;
    }
    if (b->seen[kind]++ && t->unique) {
        cond_err(err, "A rule can have only one '%s' condition", field);
        return NULL;
    }
    if (cfg && str_list(cfg, "Values", &vals, err) != SL_OK)
        return NULL;
    switch (kind) {
    case C_HOST:
    case C_PATH:
        if (legacy && cfg) {
            /* Both forms are accepted only when they agree, as in a Rule
             * read back from DescribeRules. */
            if (!json_equal(legacy, vals)) {
                cond_err(err,
                         "You cannot provide both Values and '%s' for a condition of type "
                         "'%s'",
                         t->config, field);
                return NULL;
            }
            legacy = NULL;
        }
        if (legacy) {
            if (json_array_size(legacy) > 1) {
                cond_err(err, "The '%s' field contains too many values; the limit is '1'",
                         field);
                return NULL;
            }
            vals = legacy;
        }
        if ((cv = values_check(vals, kind, b, err)) == NULL)
            return NULL;
        out = json_pack("{ss so s{sO}}", "Field", field, "Values", json_deep_copy(cv), t->config,
                        "Values", cv);
        break;
    case C_HEADER:
        if (cfg == NULL) {
            cond_err(err, "A '%s' must be specified with '%s'", t->config, field);
            return NULL;
        }
        if (p_str(cfg, "HttpHeaderName", P_REQUIRED, &name, err) != SL_OK)
            return NULL;
        if (header_name_invalid(name)) {
            cond_err(err, "The 'HttpHeaderName' value '%.64s' is not valid: %s", name,
                     header_name_invalid(name));
            return NULL;
        }
        if (strcasecmp(name, "host") == 0) {
            cond_err(err, "An 'http-header' condition cannot match the Host header; use a "
                          "'host-header' condition");
            return NULL;
        }
        if ((cv = values_check(vals, kind, b, err)) == NULL)
            return NULL;
        out = json_pack("{ss s{ss sO}}", "Field", field, t->config, "HttpHeaderName", name,
                        "Values", cv);
        break;
    case C_QUERY:
        if (cfg == NULL) {
            cond_err(err, "A '%s' must be specified with '%s'", t->config, field);
            return NULL;
        }
        if ((cv = query_values_check(vals, b, err)) == NULL)
            return NULL;
        out = json_pack("{ss s{sO}}", "Field", field, t->config, "Values", cv);
        break;
    default: /* C_METHOD, C_SOURCE */
        if (cfg == NULL) {
            cond_err(err, "A '%s' must be specified with '%s'", t->config, field);
            return NULL;
        }
        if ((cv = values_check(vals, kind, b, err)) == NULL)
            return NULL;
        out = json_pack("{ss s{sO}}", "Field", field, t->config, "Values", cv);
        break;
    }
    json_decref(cv);
    return out;
}

json_t *elb_conditions_param(json_t *conds, struct sl_err *err)
{
    struct cond_budget b = {0};
    json_t *out, *c, *n;
    size_t i;

    if (!json_is_array(conds)) {
        p_invalid(err, "Conditions", "Member must be a list");
        return NULL;
    }
    if (json_array_size(conds) == 0) {
        sl_err_set(err, 400, "ValidationError", "A rule must have at least one condition");
        return NULL;
    }
    out = json_array();
    json_array_foreach(conds, i, c) {
        if ((n = condition_param(c, &b, err)) == NULL)
            goto fail;
        json_array_append_new(out, n);
    }
    if (b.values > MAX_VALUES_PER_RULE) {
        sl_err_set(err, 400, "ValidationError", "A rule can only have '%d' condition values",
                   MAX_VALUES_PER_RULE);
        goto fail;
    }
    if (b.wildcards > MAX_WILDCARDS_PER_RULE) {
        sl_err_set(err, 400, "ValidationError", "A rule can only have '%d' wildcards",
                   MAX_WILDCARDS_PER_RULE);
        goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* ======================================================================
 * Actions
 * ====================================================================== */

static const char *const action_types[] = {"forward",          "authenticate-oidc",
                                           "authenticate-cognito", "redirect",
                                           "fixed-response",   "jwt-validation",
                                           NULL};
static const char *const redirect_codes[] = {"HTTP_301", "HTTP_302", NULL};
static const char *const content_types[] = {"text/plain", "text/css", "text/html",
                                            "application/javascript", "application/json",
                                            NULL};

/* Members that belong to one action type only. */
static const struct {
    const char *member, *type;
} action_members[] = {
    {"TargetGroupArn", "forward"},
    {"ForwardConfig", "forward"},
    {"RedirectConfig", "redirect"},
    {"FixedResponseConfig", "fixed-response"},
    {"AuthenticateOidcConfig", "authenticate-oidc"},
    {"AuthenticateCognitoConfig", "authenticate-cognito"},
    {"JwtValidationConfig", "jwt-validation"},
};

#define action_err(err, ...) sl_err_set(err, 400, "InvalidLoadBalancerAction", __VA_ARGS__)

/* A target group ARN that must name an existing target group.  <txn> NULL
 * skips the store check (pure validation). */
static int tg_check(struct store_txn *txn, const char *arn, struct sl_err *err)
{
    char kind[16], id[ELB_ID_MAX];

    if (arn[0] == '\0')
        return p_invalid(err, "TargetGroupArn", "Member must not be empty");
    if (txn == NULL)
        return SL_OK;
    if (elb_resolve_arn(txn, arn, kind, id) != SL_OK || strcmp(kind, K_TG) != 0)
        return sl_err_set(err, 400, "TargetGroupNotFound", "Target group '%.300s' not found",
                          arn);
    return SL_OK;
}

static json_t *forward_param(struct store_txn *txn, json_t *a, struct sl_err *err)
{
    const char *single = NULL;
    json_t *fc = NULL, *tgs = NULL, *stick = NULL, *out_tgs, *t, *out_stick, *out;
    size_t i, j;

    if (p_str(a, "TargetGroupArn", P_OPTIONAL, &single, err) == SL_ERR ||
        p_obj(a, "ForwardConfig", P_OPTIONAL, &fc, err) == SL_ERR)
        return NULL;
    if (single && single[0] == '\0')
        single = NULL;
    if (fc && (p_list(fc, "TargetGroups", P_OPTIONAL, 0, 1000, &tgs, err) == SL_ERR ||
               p_obj(fc, "TargetGroupStickinessConfig", P_OPTIONAL, &stick, err) == SL_ERR))
        return NULL;
    if (single == NULL && json_array_size(tgs) == 0) {
        sl_err_set(err, 400, "ValidationError",
                   "A forward action must specify a TargetGroupArn or "
                   "ForwardConfig.TargetGroups");
        return NULL;
    }
    if (json_array_size(tgs) > MAX_TG_PER_FORWARD) {
        sl_err_set(err, 400, "ValidationError",
                   "A forward action can have at most %d target groups", MAX_TG_PER_FORWARD);
        return NULL;
    }
    out_tgs = json_array();
    if (json_array_size(tgs) == 0) {
        if (tg_check(txn, single, err) != SL_OK)
            goto fail;
        json_array_append_new(out_tgs, json_pack("{ss si}", "TargetGroupArn", single, "Weight",
                                                 1));
    }
    json_array_foreach(tgs, i, t) {
        const char *arn;
        long weight = 1;
        if (!json_is_object(t)) {
            p_invalid(err, "ForwardConfig.TargetGroups",
                      "Member must be a list of TargetGroupTuple structures");
            goto fail;
        }
        if (p_str(t, "TargetGroupArn", P_REQUIRED, &arn, err) != SL_OK ||
            p_int(t, "Weight", P_OPTIONAL, 0, 999, &weight, err) == SL_ERR ||
            tg_check(txn, arn, err) != SL_OK)
            goto fail;
        for (j = 0; j < json_array_size(out_tgs); j++)
            if (strcmp(json_string_value(json_object_get(json_array_get(out_tgs, j),
                                                         "TargetGroupArn")),
                       arn) == 0) {
                action_err(err, "Target group '%.300s' is specified more than once", arn);
                goto fail;
            }
        json_array_append_new(out_tgs, json_pack("{ss sI}", "TargetGroupArn", arn, "Weight",
                                                 (json_int_t)weight));
    }
    if (single && json_array_size(tgs) > 0 &&
        (json_array_size(tgs) != 1 ||
         strcmp(json_string_value(json_object_get(json_array_get(out_tgs, 0),
                                                  "TargetGroupArn")),
                single) != 0)) {
        action_err(err, "When TargetGroupArn and ForwardConfig are both given, ForwardConfig "
                        "must name exactly that one target group");
        goto fail;
    }
    out_stick = json_pack("{sb}", "Enabled", 0);
    if (stick) {
        int enabled = 0;
        long dur = 0;
        int rd = SL_ENOTFOUND;
        if (p_bool(stick, "Enabled", P_OPTIONAL, &enabled, err) == SL_ERR ||
            (rd = p_int(stick, "DurationSeconds", P_OPTIONAL, 1, 604800, &dur, err)) ==
                SL_ERR) {
            json_decref(out_stick);
            goto fail;
        }
        if (enabled && rd != SL_OK) {
            json_decref(out_stick);
            sl_err_set(err, 400, "ValidationError",
                       "DurationSeconds must be specified when target group stickiness is "
                       "enabled");
            goto fail;
        }
        json_object_set_new(out_stick, "Enabled", json_boolean(enabled));
        if (rd == SL_OK)
            json_object_set_new(out_stick, "DurationSeconds", json_integer(dur));
    }
    out = json_pack("{ss}", "Type", "forward");
    if (json_array_size(out_tgs) == 1)
        json_object_set(out, "TargetGroupArn",
                        json_object_get(json_array_get(out_tgs, 0), "TargetGroupArn"));
    json_object_set_new(out, "ForwardConfig",
                        json_pack("{so so}", "TargetGroups", out_tgs,
                                  "TargetGroupStickinessConfig", out_stick));
    return out;
fail:
    json_decref(out_tgs);
    return NULL;
}

/* A string member that may also arrive as a JSON integer (RedirectConfig.Port,
 * FixedResponseConfig.StatusCode).  Writes into <buf>; *out NULL if absent. */
static int str_or_int(json_t *obj, const char *name, char *buf, size_t cap, const char **out,
                      struct sl_err *err)
{
    json_t *v = json_object_get(obj, name);
    int rc;

    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        *out = buf;
        return SL_OK;
    }
    rc = p_str(obj, name, P_OPTIONAL, out, err);
    return rc == SL_ERR ? SL_ERR : SL_OK;
}

static int str_len_check(const char *s, const char *name, size_t min, size_t max,
                         struct sl_err *err)
{
    size_t n = strlen(s);

    if (n < min || n > max)
        return sl_err_set(err, 400, "ValidationError",
                          "1 validation error detected: Value at '%s' failed to satisfy "
                          "constraint: Member must have length between %zu and %zu",
                          name, min, max);
    return SL_OK;
}

static json_t *redirect_param(json_t *a, struct sl_err *err)
{
    json_t *rc_obj;
    const char *proto = NULL, *port = NULL, *host = NULL, *path = NULL, *query = NULL, *code;
    char portbuf[32];
    char *end;
    long n;

    if (p_obj(a, "RedirectConfig", P_REQUIRED, &rc_obj, err) != SL_OK ||
        p_enum(rc_obj, "StatusCode", P_REQUIRED, redirect_codes, &code, err) != SL_OK ||
        p_str(rc_obj, "Protocol", P_OPTIONAL, &proto, err) == SL_ERR ||
        str_or_int(rc_obj, "Port", portbuf, sizeof(portbuf), &port, err) != SL_OK ||
        p_str(rc_obj, "Host", P_OPTIONAL, &host, err) == SL_ERR ||
        p_str(rc_obj, "Path", P_OPTIONAL, &path, err) == SL_ERR ||
        p_str(rc_obj, "Query", P_OPTIONAL, &query, err) == SL_ERR)
        return NULL;
    if (proto && strcmp(proto, "HTTP") != 0 && strcmp(proto, "HTTPS") != 0 &&
        strcmp(proto, "#{protocol}") != 0) {
        sl_err_set(err, 400, "ValidationError",
                   "1 validation error detected: Value '%.64s' at 'RedirectConfig.Protocol' "
                   "failed to satisfy constraint: Member must satisfy regular expression "
                   "pattern: ^(HTTPS?|#\\{protocol\\})$",
                   proto);
        return NULL;
    }
    if (port && strcmp(port, "#{port}") != 0) {
        n = strtol(port, &end, 10);
        if (!isdigit((unsigned char)port[0]) || *end != '\0' || n < 1 || n > 65535) {
            sl_err_set(err, 400, "ValidationError",
                       "The redirect port '%.32s' must be a number from 1 to 65535 or #{port}",
                       port);
            return NULL;
        }
    }
    if ((host && str_len_check(host, "RedirectConfig.Host", 1, 128, err) != SL_OK) ||
        (path && str_len_check(path, "RedirectConfig.Path", 1, 128, err) != SL_OK) ||
        (query && str_len_check(query, "RedirectConfig.Query", 0, 128, err) != SL_OK))
        return NULL;
    if (path && path[0] != '/') {
        sl_err_set(err, 400, "ValidationError",
                   "The redirect path '%.128s' must start with '/'", path);
        return NULL;
    }
    proto = proto ? proto : "#{protocol}";
    port = port ? port : "#{port}";
    host = host ? host : "#{host}";
    path = path ? path : "/#{path}";
    query = query ? query : "#{query}";
    if (strcmp(proto, "#{protocol}") == 0 && strcmp(port, "#{port}") == 0 &&
        strcmp(host, "#{host}") == 0 && strcmp(path, "/#{path}") == 0) {
        sl_err_set(err, 400, "ValidationError",
                   "The redirect configuration is not valid: it must change at least one of "
                   "protocol, host, port or path, or it would redirect to itself");
        return NULL;
    }
    return json_pack("{ss s{ss ss ss ss ss ss}}", "Type", "redirect", "RedirectConfig",
                     "Protocol", proto, "Port", port, "Host", host, "Path", path, "Query",
                     query, "StatusCode", code);
}

static json_t *fixed_param(json_t *a, struct sl_err *err)
{
    json_t *fc, *cfg;
    const char *code = NULL, *ctype = NULL, *body = NULL;
    char codebuf[32];
    size_t i;

    if (p_obj(a, "FixedResponseConfig", P_REQUIRED, &fc, err) != SL_OK ||
        str_or_int(fc, "StatusCode", codebuf, sizeof(codebuf), &code, err) != SL_OK ||
        p_str(fc, "ContentType", P_OPTIONAL, &ctype, err) == SL_ERR ||
        p_str(fc, "MessageBody", P_OPTIONAL, &body, err) == SL_ERR)
        return NULL;
    if (code == NULL) {
        sl_err_set(err, 400, "ValidationError",
                   "1 validation error detected: Value null at "
                   "'FixedResponseConfig.StatusCode' failed to satisfy constraint: Member must "
                   "not be null");
        return NULL;
    }
    if (strlen(code) != 3 || !strchr("245", code[0]) || !isdigit((unsigned char)code[1]) ||
        !isdigit((unsigned char)code[2])) {
        sl_err_set(err, 400, "ValidationError",
                   "1 validation error detected: Value '%.32s' at "
                   "'FixedResponseConfig.StatusCode' failed to satisfy constraint: Member must "
                   "satisfy regular expression pattern: ^(2|4|5)\\d\\d$",
                   code);
        return NULL;
    }
    if (ctype && ctype[0] == '\0')
        ctype = NULL;
    if (ctype) {
        for (i = 0; content_types[i]; i++)
            if (strcmp(ctype, content_types[i]) == 0)
                break;
        if (content_types[i] == NULL) {
            action_err(err, "The ContentType must be one of: 'text/plain', 'text/css', "
                            "'text/html', 'application/javascript', 'application/json'");
            return NULL;
        }
    }
    if (body && str_len_check(body, "FixedResponseConfig.MessageBody", 0, 1024, err) != SL_OK)
        return NULL;
    cfg = json_object();
    if (body)
        json_object_set_new(cfg, "MessageBody", json_string(body));
    json_object_set_new(cfg, "StatusCode", json_string(code));
    if (ctype)
        json_object_set_new(cfg, "ContentType", json_string(ctype));
    return json_pack("{ss so}", "Type", "fixed-response", "FixedResponseConfig", cfg);
}

static json_t *action_param(struct store_txn *txn, json_t *a, size_t n, struct sl_err *err)
{
    const char *type;
    json_t *out;
    long order = 0;
    int ro;
    size_t i;

    if (!json_is_object(a)) {
        p_invalid(err, "Actions", "Member must be a list of Action structures");
        return NULL;
    }
    if (p_enum(a, "Type", P_REQUIRED, action_types, &type, err) != SL_OK)
        return NULL;
    if ((ro = p_int(a, "Order", P_OPTIONAL, 1, 50000, &order, err)) == SL_ERR)
        return NULL;
    if (strncmp(type, "authenticate-", 13) == 0 || strcmp(type, "jwt-validation") == 0) {
        sl_err_set(err, 400, "ValidationError",
                   "Action type '%s' is not supported by sluice; use forward, redirect or "
                   "fixed-response",
                   type);
        return NULL;
    }
    if (n > 1 && ro != SL_OK) {
        sl_err_set(err, 400, "ValidationError",
                   "An action order must be specified for every action when there are "
                   "multiple actions");
        return NULL;
    }
    for (i = 0; i < sizeof(action_members) / sizeof(action_members[0]); i++)
        if (strcmp(action_members[i].type, type) != 0 && present(a, action_members[i].member)) {
            action_err(err, "'%s' cannot be specified with an action of type '%s'",
                       action_members[i].member, type);
            return NULL;
        }
    if (strcmp(type, "forward") == 0)
        out = forward_param(txn, a, err);
    else if (strcmp(type, "redirect") == 0)
        out = redirect_param(a, err);
    else
        out = fixed_param(a, err);
    if (out)
        json_object_set_new(out, "Order", json_integer(ro == SL_OK ? order : 1));
    return out;
}

static int by_order(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "Order"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "Order"));

    return a < b ? -1 : a > b;
}

json_t *elb_actions_param(struct store_txn *txn, json_t *actions, const char *member,
                          struct sl_err *err)
{
    json_t *vec[16], *out, *a;
    size_t n, i;

    if (!json_is_array(actions)) {
        p_invalid(err, member, "Member must be a list");
        return NULL;
    }
    n = json_array_size(actions);
    if (n == 0) {
        sl_err_set(err, 400, "ValidationError", "At least one action must be specified in '%s'",
                   member);
        return NULL;
    }
    if (n > sizeof(vec) / sizeof(vec[0])) {
        sl_err_set(err, 400, "TooManyActions", "'%s' has %zu actions; the limit is %zu", member,
                   n, sizeof(vec) / sizeof(vec[0]));
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if ((vec[i] = action_param(txn, json_array_get(actions, i), n, err)) == NULL) {
            while (i > 0)
                json_decref(vec[--i]);
            return NULL;
        }
    }
    qsort(vec, n, sizeof(vec[0]), by_order);
    out = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(out, vec[i]);
    json_array_foreach(out, i, a) {
        if (i > 0 && by_order(&vec[i - 1], &vec[i]) == 0) {
            sl_err_set(err, 400, "InvalidLoadBalancerAction",
                       "The action order '%lld' is used by more than one action",
                       (long long)json_integer_value(json_object_get(a, "Order")));
            goto fail;
        }
    }
    if (n > 1) {
        /* Every supported type is terminal: only one may appear, and last. */
        sl_err_set(err, 400, "InvalidLoadBalancerAction",
                   "'%s' can contain only one forward, redirect or fixed-response action, and "
                   "it must be the last action",
                   member);
        goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* ======================================================================
 * Index walks and deletion
 * ====================================================================== */

static int collect_val(const char *key, const char *val, void *arg)
{
    json_array_append_new(arg, json_string(val));
    return 0;
}

json_t *elb_listener_rule_ids(struct store_txn *txn, const char *listener_id)
{
    char prefix[ELB_ID_MAX + 16];
    json_t *out = json_array();

    snprintf(prefix, sizeof(prefix), "prio:%s:", listener_id);
    store_index_scan(txn, prefix, collect_val, out);
    return out;
}

int elb_rule_delete(struct store_txn *txn, const char *rule_id, struct sl_err *err)
{
    json_t *r = store_get(txn, K_RULE, rule_id);
    char key[ELB_ID_MAX + 32];
    int rc = SL_OK;

    if (r == NULL)
        return SL_OK;
    if (!json_is_true(json_object_get(r, "IsDefault"))) {
        snprintf(key, sizeof(key), "prio:%s:%s", elb_str(r, "_listener_id"),
                 elb_str(r, "Priority"));
        store_index_del(txn, key);
    }
    elb_refs_update(txn, rule_id, "", NULL);
    if (elb_remove(txn, K_RULE, rule_id, json_string_value(json_object_get(r, "arn"))) != SL_OK)
        rc = elb_store_fail(err, "delete the rule");
    json_decref(r);
    return rc;
}

/* Number of non-default rules on load balancer <lb_id>. */
static size_t lb_rule_count(struct store_txn *txn, const char *lb_id)
{
    json_t *ls = elb_lb_listener_ids(txn, lb_id), *l, *rules;
    size_t i, n = 0;

    json_array_foreach(ls, i, l) {
        rules = elb_listener_rule_ids(txn, json_string_value(l));
        n += json_array_size(rules);
        json_decref(rules);
    }
    json_decref(ls);
    return n;
}

static json_t *rule_by_arn(struct store_txn *txn, const char *arn, char id[ELB_ID_MAX],
                           struct sl_err *err)
{
    json_t *r = elb_by_arn(txn, K_RULE, arn, id);

    if (r == NULL)
        sl_err_set(err, 400, "RuleNotFound", "Rule '%.300s' not found", arn);
    return r;
}

/* Priority for sorting: the default rule last. */
static long rule_prio(json_t *r)
{
    const char *p = elb_str(r, "Priority");

    if (json_is_true(json_object_get(r, "IsDefault")) || p == NULL)
        return 100000;
    return strtol(p, NULL, 10);
}

static int by_priority(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    long pa = rule_prio(a), pb = rule_prio(b);

    if (pa != pb)
        return pa < pb ? -1 : 1;
    return strcmp(elb_str(a, "RuleArn"), elb_str(b, "RuleArn"));
}

/* ======================================================================
 * Operations
 * ====================================================================== */

struct r_create {
    struct op_ctx *ctx;
    const char *listener_arn;
    long priority;
    json_t *conditions; /* owned, normalized */
    json_t *actions_in; /* borrowed */
    json_t *tags;       /* owned */
    char id[ELB_ID_MAX];
    json_t *out;
};

static int r_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct r_create *a = arg;
    char lid[ELB_ID_MAX], key[ELB_ID_MAX + 32], other[ELB_ID_MAX], hex[ELB_HEX_LEN + 1],
        arn[ELB_ARN_MAX], prio[16];
    json_t *l, *actions = NULL, *rule = NULL;
    const char *lb_arn, *lb_id;
    int rc = SL_ERR;

    l = elb_by_arn(txn, K_LISTENER, a->listener_arn, lid);
    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found",
                          a->listener_arn);
    lb_arn = elb_str(l, "LoadBalancerArn");
    lb_id = elb_str(l, "_lb_id");
    snprintf(key, sizeof(key), "prio:%s:%ld", lid, a->priority);
    if (store_index_get(txn, key, other, sizeof(other)) == SL_OK) {
        sl_err_set(err, 400, "PriorityInUse", "Priority '%ld' is currently in use", a->priority);
        goto out;
    }
    if (lb_id && lb_rule_count(txn, lb_id) >= MAX_RULES_PER_LB) {
        sl_err_set(err, 400, "TooManyRules",
                   "You've reached the limit of %d rules per load balancer", MAX_RULES_PER_LB);
        goto out;
    }
    if ((actions = elb_actions_param(txn, a->actions_in, "Actions", err)) == NULL)
        goto out;
    util_random_hex(hex, ELB_HEX_LEN / 2);
    if (a->id[0] == '\0')
        snprintf(a->id, sizeof(a->id), "%s", hex);
    if ((rule = store_get(txn, K_RULE, a->id)) != NULL) {
        sl_err_set(err, 409, "Conflict", "A rule with id '%s' already exists", a->id);
        goto out;
    }
    if (elb_child_arn(arn, sizeof(arn), a->listener_arn, ":listener/", ":listener-rule/", hex) !=
        SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "cannot derive the rule ARN");
        goto out;
    }
    snprintf(prio, sizeof(prio), "%ld", a->priority);
    rule = json_pack("{ss ss sO sO sb ss ss sO ss}", "RuleArn", arn, "Priority", prio,
                     "Conditions", a->conditions, "Actions", actions, "IsDefault", 0, "id",
                     a->id, "arn", arn, "Tags", a->tags, "_listener_id", lid);
    if (rule == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        goto out;
    }
    if (elb_insert(txn, K_RULE, a->id, rule) != SL_OK ||
        store_index_put(txn, key, a->id) != SL_OK ||
        elb_refs_update(txn, a->id, lb_arn ? lb_arn : "", actions) != SL_OK) {
        rc = elb_store_fail(err, "store the rule");
        goto out;
    }
    a->out = json_pack("{s[o]}", "Rules", elb_public(rule));
    rc = SL_OK;
out:
    json_decref(rule);
    json_decref(actions);
    json_decref(l);
    return rc;
}

json_t *op_create_rule(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct r_create a = {.ctx = ctx};
    json_t *conds, *out = NULL;

    if (p_str(req, "ListenerArn", P_REQUIRED, &a.listener_arn, err) != SL_OK ||
        p_list(req, "Conditions", P_REQUIRED, 0, 100, &conds, err) != SL_OK ||
        p_int(req, "Priority", P_REQUIRED, 1, 50000, &a.priority, err) != SL_OK ||
        p_list(req, "Actions", P_REQUIRED, 1, 10, &a.actions_in, err) != SL_OK)
        return NULL;
    if (present(req, "Transforms")) {
        sl_err_set(err, 400, "ValidationError", "Transforms are not supported by sluice");
        return NULL;
    }
    if (elb_new_id(req, "", a.id, err) != SL_OK)
        return NULL;
    if ((a.conditions = elb_conditions_param(conds, err)) == NULL)
        return NULL;
    if ((a.tags = elb_tags_param(req, err)) == NULL)
        goto out;
    if (store_write(ctx->store, r_create_tx, &a, NULL, err) == SL_OK)
        out = a.out;
out:
    json_decref(a.conditions);
    json_decref(a.tags);
    return out;
}

/* ---- ModifyRule ---- */

struct r_modify {
    const char *arn;
    json_t *conditions; /* owned; NULL to keep */
    json_t *actions_in; /* borrowed; NULL to keep */
    json_t *out;
};

static int r_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct r_modify *a = arg;
    char id[ELB_ID_MAX];
    json_t *r, *l = NULL, *actions = NULL;
    int rc = SL_ERR;

    if ((r = rule_by_arn(txn, a->arn, id, err)) == NULL)
        return SL_ERR;
    if (json_is_true(json_object_get(r, "IsDefault"))) {
        sl_err_set(err, 400, "OperationNotPermitted",
                   "The default rule cannot be modified; change the listener's DefaultActions "
                   "with ModifyListener");
        goto out;
    }
    if (a->conditions)
        json_object_set(r, "Conditions", a->conditions);
    if (a->actions_in) {
        if ((actions = elb_actions_param(txn, a->actions_in, "Actions", err)) == NULL)
            goto out;
        json_object_set(r, "Actions", actions);
        l = store_get(txn, K_LISTENER, elb_str(r, "_listener_id"));
        if (elb_refs_update(txn, id,
                            l ? elb_str(l, "LoadBalancerArn") : "",
                            actions) != SL_OK) {
            rc = elb_store_fail(err, "update the rule references");
            goto out;
        }
    }
    if (store_put(txn, K_RULE, id, r) != SL_OK) {
        rc = elb_store_fail(err, "update the rule");
        goto out;
    }
    a->out = json_pack("{s[o]}", "Rules", elb_public(r));
    rc = SL_OK;
out:
    json_decref(actions);
    json_decref(l);
    json_decref(r);
    return rc;
}

json_t *op_modify_rule(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct r_modify a = {0};
    json_t *conds = NULL;

    if (p_str(req, "RuleArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        p_list(req, "Conditions", P_OPTIONAL, 0, 100, &conds, err) == SL_ERR ||
        p_list(req, "Actions", P_OPTIONAL, 1, 10, &a.actions_in, err) == SL_ERR)
        return NULL;
    if (present(req, "Transforms")) {
        sl_err_set(err, 400, "ValidationError", "Transforms are not supported by sluice");
        return NULL;
    }
    if (conds && (a.conditions = elb_conditions_param(conds, err)) == NULL)
        return NULL;
    if (store_write(ctx->store, r_modify_tx, &a, NULL, err) != SL_OK)
        a.out = NULL;
    json_decref(a.conditions);
    return a.out;
}

/* ---- SetRulePriorities ---- */

struct prio_change {
    const char *arn;
    long prio;
    char id[ELB_ID_MAX];
    char listener[ELB_ID_MAX];
    json_t *rule;
};

struct r_prio {
    struct prio_change *ch;
    size_t n;
    json_t *out;
};

static int r_prio_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct r_prio *a = arg;
    char key[ELB_ID_MAX + 32], holder[ELB_ID_MAX], prio[16];
    size_t i, j;
    int rc = SL_ERR;

    for (i = 0; i < a->n; i++) {
        struct prio_change *c = &a->ch[i];
        if ((c->rule = rule_by_arn(txn, c->arn, c->id, err)) == NULL)
            goto out;
        if (json_is_true(json_object_get(c->rule, "IsDefault"))) {
            sl_err_set(err, 400, "OperationNotPermitted",
                       "The priority of the default rule cannot be changed");
            goto out;
        }
        snprintf(c->listener, sizeof(c->listener), "%s",
                 elb_str(c->rule, "_listener_id"));
        for (j = 0; j < i; j++) {
            if (strcmp(a->ch[j].id, c->id) == 0) {
                sl_err_set(err, 400, "ValidationError", "Rule '%.300s' was provided multiple "
                           "times", c->arn);
                goto out;
            }
            if (strcmp(a->ch[j].listener, c->listener) == 0 && a->ch[j].prio == c->prio) {
                sl_err_set(err, 400, "ValidationError",
                           "Priority '%ld' was provided multiple times", c->prio);
                goto out;
            }
        }
    }
    /* A priority is free if nobody holds it, or its holder moves too. */
    for (i = 0; i < a->n; i++) {
        struct prio_change *c = &a->ch[i];
        snprintf(key, sizeof(key), "prio:%s:%ld", c->listener, c->prio);
        if (store_index_get(txn, key, holder, sizeof(holder)) != SL_OK)
            continue;
        for (j = 0; j < a->n; j++)
            if (strcmp(a->ch[j].id, holder) == 0)
                break;
        if (j == a->n) {
            sl_err_set(err, 400, "PriorityInUse", "Priority '%ld' is currently in use",
                       c->prio);
            goto out;
        }
    }
    for (i = 0; i < a->n; i++) {
        snprintf(key, sizeof(key), "prio:%s:%s", a->ch[i].listener,
                 elb_str(a->ch[i].rule, "Priority"));
        store_index_del(txn, key);
    }
    a->out = json_array();
    for (i = 0; i < a->n; i++) {
        struct prio_change *c = &a->ch[i];
        snprintf(key, sizeof(key), "prio:%s:%ld", c->listener, c->prio);
        snprintf(prio, sizeof(prio), "%ld", c->prio);
        json_object_set_new(c->rule, "Priority", json_string(prio));
        if (store_index_put(txn, key, c->id) != SL_OK ||
            store_put(txn, K_RULE, c->id, c->rule) != SL_OK) {
            rc = elb_store_fail(err, "update the rule priority");
            goto out;
        }
        json_array_append_new(a->out, elb_public(c->rule));
    }
    rc = SL_OK;
out:
    for (i = 0; i < a->n; i++) {
        json_decref(a->ch[i].rule);
        a->ch[i].rule = NULL;
    }
    if (rc != SL_OK) {
        json_decref(a->out);
        a->out = NULL;
    }
    return rc;
}

json_t *op_set_rule_priorities(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct r_prio a = {0};
    json_t *list, *p, *out = NULL;
    size_t i;

    if (p_list(req, "RulePriorities", P_REQUIRED, 1, 1000, &list, err) != SL_OK)
        return NULL;
    a.n = json_array_size(list);
    a.ch = calloc(a.n, sizeof(*a.ch));
    if (a.ch == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        return NULL;
    }
    json_array_foreach(list, i, p) {
        if (!json_is_object(p)) {
            p_invalid(err, "RulePriorities", "Member must be a list of RulePriorityPair "
                      "structures");
            goto out;
        }
        if (p_str(p, "RuleArn", P_REQUIRED, &a.ch[i].arn, err) != SL_OK ||
            p_int(p, "Priority", P_REQUIRED, 1, 50000, &a.ch[i].prio, err) != SL_OK)
            goto out;
    }
    if (store_write(ctx->store, r_prio_tx, &a, NULL, err) == SL_OK)
        out = json_pack("{so}", "Rules", a.out);
out:
    free(a.ch);
    return out;
}

/* ---- DeleteRule ---- */

struct r_delete {
    const char *arn;
};

static int r_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct r_delete *a = arg;
    char id[ELB_ID_MAX];
    json_t *r = rule_by_arn(txn, a->arn, id, err);
    int is_default;

    if (r == NULL)
        return SL_ERR;
    is_default = json_is_true(json_object_get(r, "IsDefault"));
    json_decref(r);
    if (is_default)
        return sl_err_set(err, 400, "OperationNotPermitted",
                          "The default rule cannot be deleted; delete the listener instead");
    return elb_rule_delete(txn, id, err);
}

json_t *op_delete_rule(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct r_delete a;

    if (p_str(req, "RuleArn", P_REQUIRED, &a.arn, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, r_delete_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}

/* ---- DescribeRules ---- */

json_t *op_describe_rules(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    const char *larn;
    json_t *arns = NULL, *all, *page, *next, *v, *out = NULL, **vec = NULL, *pub;
    char lid[ELB_ID_MAX];
    size_t i, n;

    if (elb_parent_or_arns(req, "ListenerArn", "RuleArns", 1000, "listener rule ARNs",
                           "a listener ARN", &larn, &arns, err) != SL_OK)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    all = json_array();
    if (larn) {
        json_t *l = elb_by_arn(txn, K_LISTENER, larn, lid), *ids;
        const char *def;

        if (l == NULL) {
            sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", larn);
            goto done;
        }
        ids = elb_listener_rule_ids(txn, lid);
        if ((def = json_string_value(json_object_get(l, "_default_rule"))) != NULL)
            json_array_append_new(ids, json_string(def));
        json_decref(l);
        json_array_foreach(ids, i, v) {
            json_t *r = store_get(txn, K_RULE, json_string_value(v));
            if (r)
                json_array_append_new(all, r);
        }
        json_decref(ids);
    } else {
        json_array_foreach(arns, i, v) {
            json_t *r = rule_by_arn(txn, json_string_value(v), lid, err);
            if (r == NULL)
                goto done;
            json_array_append_new(all, r);
        }
    }
    n = json_array_size(all);
    if (n > 0 && (vec = calloc(n, sizeof(*vec))) != NULL) {
        for (i = 0; i < n; i++)
            vec[i] = json_array_get(all, i);
        qsort(vec, n, sizeof(*vec), by_priority);
        pub = json_array();
        for (i = 0; i < n; i++)
            json_array_append_new(pub, elb_public(vec[i]));
        free(vec);
        json_decref(all);
        all = pub;
    }
    page = elb_page(req, all, &next, err);
    if (page == NULL)
        goto done;
    out = json_pack("{so}", "Rules", page);
    if (next)
        json_object_set_new(out, "NextMarker", next);
done:
    store_txn_end(txn);
    json_decref(all);
    return out;
}
