/*
 * conditions.c - rule conditions: host-header, path-pattern, http-header,
 * http-request-method, query-string and source-ip, each value checked as
 * AWS checks it.
 */
#include "routes/elbv2/conditions.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "routes/wire/params.h"

#define MAX_VALUE_LEN 128

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
        if (k != (int)kind && p_present(c, cond_types[k].config)) {
            cond_err(err, "The '%s' field is not compatible with '%s'", cond_types[k].config,
                     field);
            return NULL;
        }
    if (p_present(c, "RegexValues")) {
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
    if (cfg && p_present(cfg, "RegexValues")) {
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

json_t *elb_conditions_normalize(json_t *conds, struct sl_err *err)
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
    if (b.values > ELB_VALUES_PER_RULE_MAX) {
        sl_err_set(err, 400, "ValidationError", "A rule can only have '%d' condition values",
                   ELB_VALUES_PER_RULE_MAX);
        goto fail;
    }
    if (b.wildcards > ELB_WILDCARDS_PER_RULE_MAX) {
        sl_err_set(err, 400, "ValidationError", "A rule can only have '%d' wildcards",
                   ELB_WILDCARDS_PER_RULE_MAX);
        goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

