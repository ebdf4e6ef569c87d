/*
 * actions.c - listener and rule actions: validation, normalization, and
 * the check that their target groups exist.
 */
#include "routes/elbv2/actions.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/wire/params.h"



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

/* A target group ARN of a forward action: its shape only (the store check
 * is elb_actions_check()). */
static int tg_check(const char *arn, struct sl_err *err)
{
    if (arn[0] == '\0')
        return p_invalid(err, "TargetGroupArn", "Member must not be empty");
    return SL_OK;
}

static json_t *forward_param(json_t *a, struct sl_err *err)
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
    if (json_array_size(tgs) > ELB_TGS_PER_FORWARD_MAX) {
        sl_err_set(err, 400, "ValidationError",
                   "A forward action can have at most %d target groups", ELB_TGS_PER_FORWARD_MAX);
        return NULL;
    }
    out_tgs = json_array();
    if (json_array_size(tgs) == 0) {
        if (tg_check(single, err) != SL_OK)
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
            tg_check(arn, err) != SL_OK)
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

static json_t *action_param(json_t *a, size_t n, struct sl_err *err)
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
        if (strcmp(action_members[i].type, type) != 0 && p_present(a, action_members[i].member)) {
            action_err(err, "'%s' cannot be specified with an action of type '%s'",
                       action_members[i].member, type);
            return NULL;
        }
    if (strcmp(type, "forward") == 0)
        out = forward_param(a, err);
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

json_t *elb_actions_normalize(json_t *actions, const char *member, struct sl_err *err)
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
        if ((vec[i] = action_param(json_array_get(actions, i), n, err)) == NULL) {
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

int elb_actions_check(struct store_txn *txn, json_t *actions, struct sl_err *err)
{
    char kind[16], id[ELB_ID_MAX];
    json_t *a, *t;
    size_t i, j;

    json_array_foreach(actions, i, a)
        json_array_foreach(json_object_get(json_object_get(a, "ForwardConfig"), "TargetGroups"),
                           j, t) {
            const char *arn = json_string_value(json_object_get(t, "TargetGroupArn"));
            if (elb_resolve_arn(txn, arn, kind, id) != SL_OK || strcmp(kind, K_TG) != 0)
                return sl_err_set(err, 400, "TargetGroupNotFound",
                                  "Target group '%.300s' not found", arn ? arn : "");
        }
    return SL_OK;
}
