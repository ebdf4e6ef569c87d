/*
 * rest_util.c - helpers of the REST front door: error replies, bodies, and
 * comparing a request body with the stored object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/rest.h"
#include "routes/wire/params.h"

/* ---- replies ---- */

void front_rest_error(int status, const char *code, const char *message,
                      struct front_reply *out)
{
    json_t *body = json_pack("{s{ss ss}}", "error", "code", code, "message", message);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    out->status = status ? status : 500;
    out->content_type = "application/json";
    buf_free(&out->body);
    buf_puts(&out->body,
             text ? text : "{\"error\":{\"code\":\"InternalFailure\",\"message\":\"\"}}");
    buf_putc(&out->body, '\n');
    free(text);
    json_decref(body);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int rest_status(const struct sl_err *e)
{
    static const char *const conflicts[] = {"PriorityInUse", "ResourceInUse", "Conflict",
                                            "OperationNotPermitted", NULL};
    const char *c = e->code;
    size_t i;

    if (c[0] == '\0' || e->status >= 500)
        return e->status >= 500 ? e->status : 500;
    if (e->status == 401 || e->status == 403 || e->status == 405 || e->status == 413)
        return e->status;
    if (ends_with(c, "NotFound"))
        return 404;
    if (strcmp(c, "DuplicateTagKeys") == 0)
        return 400;
    if (strncmp(c, "Duplicate", 9) == 0 || strncmp(c, "TooMany", 7) == 0)
        return 409;
    for (i = 0; conflicts[i]; i++)
        if (strcmp(c, conflicts[i]) == 0)
            return 409;
    return 400;
}

void rest_reply_error(const struct sl_err *e, struct front_reply *out)
{
    front_rest_error(rest_status(e), e->code[0] ? e->code : "InternalFailure",
                     e->code[0] ? e->message : "the operation failed without detail", out);
}

void rest_reply_json(struct front_reply *out, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    json_decref(body);
    if (text == NULL) {
        front_rest_error(500, "InternalFailure", "out of memory", out);
        return;
    }
    out->status = status;
    out->content_type = "application/json";
    buf_free(&out->body);
    buf_puts(&out->body, text);
    buf_putc(&out->body, '\n');
    free(text);
}

static void reply_invalid_json(struct front_reply *out, const char *message)
{
    struct sl_err e = {0};

    sl_err_set(&e, 400, "InvalidJSON", "%s", message);
    rest_reply_error(&e, out);
}

json_t *rest_parse_body(const struct front_request *req, struct front_reply *out)
{
    json_error_t jerr;
    json_t *body;
    char msg[256];

    if (req->body_len == 0) {
        reply_invalid_json(out, "the request needs a JSON object body");
        return NULL;
    }
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        snprintf(msg, sizeof(msg), "the body is not valid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        reply_invalid_json(out, msg);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        reply_invalid_json(out, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* ---- request members ---- */

const char *rest_str(json_t *obj, const char *name)
{
    return json_string_value(json_is_object(obj) ? json_object_get(obj, name) : NULL);
}

static int is_absent(json_t *v)
{
    return v == NULL || json_is_null(v);
}

static int same_containers(json_t *a, json_t *b)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (i = 0; i < json_array_size(a); i++)
            if (!rest_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach(a, k, v)
            if (!rest_same(v, json_object_get(b, k)))
                return 0;
        return 1;
    }
    return 0;
}

int rest_same(json_t *a, json_t *b)
{
    char num[32];
    const char *s = NULL;
    json_t *other = NULL;

    if (is_absent(a) || is_absent(b))
        return (is_absent(a) && is_absent(b)) ||
               (is_absent(a) && json_is_array(b) && json_array_size(b) == 0);
    if (json_equal(a, b))
        return 1;
    if (json_is_string(a)) {
        s = json_string_value(a);
        other = b;
    } else if (json_is_string(b)) {
        s = json_string_value(b);
        other = a;
    }
    if (s && json_is_integer(other)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(other));
        return strcmp(s, num) == 0;
    }
    if (s && json_is_boolean(other))
        return strcmp(s, json_is_true(other) ? "true" : "false") == 0;
    return same_containers(a, b);
}

int rest_check_immutable(json_t *cur, json_t *body, const char *const *members,
                         struct sl_err *err)
{
    size_t i;

    for (i = 0; members[i]; i++) {
        char name[64], alias[64];
        const char *bar = strchr(members[i], '|');
        json_t *want[2], *have;
        int j;

        if (bar) {
            snprintf(name, sizeof(name), "%.*s", (int)(bar - members[i]), members[i]);
            snprintf(alias, sizeof(alias), "%s", bar + 1);
        } else {
            snprintf(name, sizeof(name), "%s", members[i]);
            alias[0] = '\0';
        }
        want[0] = json_object_get(body, name);
        want[1] = alias[0] ? json_object_get(body, alias) : NULL;
        have = json_object_get(cur, alias[0] ? alias : name);
        for (j = 0; j < 2; j++) {
            char *text;
            if (is_absent(want[j]) || rest_same(have, want[j]))
                continue;
            text = have ? json_dumps(have, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            sl_err_set(err, 409, "Conflict",
                       "Member '%s' cannot be changed (it is %.200s); delete the resource and "
                       "create it again to change it",
                       j == 0 ? name : alias, text ? text : "unset");
            free(text);
            return SL_ERR;
        }
    }
    return SL_OK;
}

json_t *rest_changes(json_t *cur, json_t *body, const char *const *members)
{
    json_t *out = json_object();
    size_t i;

    for (i = 0; members[i]; i++) {
        json_t *want = json_object_get(body, members[i]);

        if (!is_absent(want) && !rest_same(json_object_get(cur, members[i]), want))
            json_object_set(out, members[i], want);
    }
    return out;
}

int rest_attrs_param(json_t *body, struct elb_kv **out, size_t *n, struct sl_err *err)
{
    json_t *v = json_object_get(body, "Attributes"), *a;
    size_t i;

    *out = NULL;
    *n = 0;
    if (is_absent(v))
        return SL_OK;
    if (!json_is_array(v))
        return p_invalid(err, "Attributes", "Member must be a list");
    if (json_array_size(v) > 100)
        return p_invalid(err, "Attributes", "Member must have length less than or equal to 100");
    json_array_foreach(v, i, a)
        if (rest_str(a, "Key") == NULL || rest_str(a, "Value") == NULL)
            return p_invalid(err, "Attributes.member",
                             "Member must be an object with string Key and Value");
    if ((*out = calloc(json_array_size(v) + 1, sizeof(**out))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(v, i, a) {
        (*out)[i].key = rest_str(a, "Key");
        (*out)[i].value = rest_str(a, "Value");
    }
    *n = json_array_size(v);
    return SL_OK;
}

size_t rest_attrs_changed(json_t *cur, struct elb_kv *kv, size_t n)
{
    size_t i, j, m = 0;
    json_t *e;

    for (i = 0; i < n; i++) {
        int same = 0;
        json_array_foreach(cur, j, e) {
            const char *k = rest_str(e, "Key"), *v = rest_str(e, "Value");
            if (k && v && strcmp(k, kv[i].key) == 0 && strcmp(v, kv[i].value) == 0)
                same = 1;
        }
        if (!same) {
            struct elb_kv t = kv[m];
            kv[m++] = kv[i];
            kv[i] = t;
        }
    }
    return m;
}
