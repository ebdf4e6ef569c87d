/*
 * param.c - strict JSON member access and the ECS error helpers.
 */
#include "routes/ecs/param.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- errors ---- */

static int verr(struct sl_err *err, const char *code, const char *fmt, va_list ap)
{
    char msg[sizeof(err->message)];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    return sl_err_set(err, 400, code, "%s", msg);
}

int ecs_invalid(struct sl_err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = verr(err, "InvalidParameterException", fmt, ap);
    va_end(ap);
    return rc;
}

int ecs_client(struct sl_err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = verr(err, "ClientException", fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- typed members ---- */

static json_t *member(json_t *obj, const char *name)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;

    return json_is_null(v) ? NULL : v;
}

static int absent(const char *name, int required, struct sl_err *err)
{
    if (required)
        return ecs_invalid(err, "%s can not be blank.", name);
    return SL_ENOTFOUND;
}

int ecs_mistyped(const char *name, const char *type, struct sl_err *err)
{
    return sl_err_set(err, 400, "SerializationException",
                      "Unable to deserialize '%s': expected %s", name, type);
}

int ecs_str(json_t *obj, const char *name, int required, const char **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_string(v))
        return ecs_mistyped(name, "a string", err);
    *out = json_string_value(v);
    return SL_OK;
}

int ecs_int(json_t *obj, const char *name, int required, long min, long max, long *out,
            struct sl_err *err)
{
    json_t *v = member(obj, name);
    json_int_t n;

    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_integer(v))
        return ecs_mistyped(name, "an integer", err);
    n = json_integer_value(v);
    if (n < min || n > max)
        return ecs_invalid(err, "%s must be between %ld and %ld (got %lld).", name, min, max,
                           (long long)n);
    *out = (long)n;
    return SL_OK;
}

int ecs_bool(json_t *obj, const char *name, int *out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    if (v == NULL)
        return SL_ENOTFOUND;
    if (!json_is_boolean(v))
        return ecs_mistyped(name, "a boolean", err);
    *out = json_is_true(v);
    return SL_OK;
}

int ecs_list(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_array(v))
        return ecs_mistyped(name, "a list", err);
    *out = v;
    return SL_OK;
}

int ecs_obj(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_object(v))
        return ecs_mistyped(name, "an object", err);
    *out = v;
    return SL_OK;
}

int ecs_strlist(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    size_t i;
    json_t *v;
    int rc = ecs_list(obj, name, required, out, err);

    if (rc != SL_OK)
        return rc;
    json_array_foreach(*out, i, v) {
        if (!json_is_string(v)) {
            *out = NULL;
            return ecs_mistyped(name, "a list of strings", err);
        }
    }
    return SL_OK;
}

int ecs_enum(json_t *obj, const char *name, int required, const char *const *allowed,
             const char **out, struct sl_err *err)
{
    size_t i;
    int rc = ecs_str(obj, name, required, out, err);

    if (rc != SL_OK)
        return rc;
    for (i = 0; allowed[i]; i++)
        if (strcmp(*out, allowed[i]) == 0)
            return SL_OK;
    rc = ecs_invalid(err, "Invalid value '%.100s' for %s.", *out, name);
    *out = NULL;
    return rc;
}

int ecs_includes(json_t *req, const char *what)
{
    json_t *inc = member(req, "include"), *v;
    size_t i;

    if (!json_is_array(inc))
        return 0;
    json_array_foreach(inc, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), what) == 0)
            return 1;
    return 0;
}

int ecs_enum_index(json_t *obj, const char *name, int required, const char *const *allowed,
                   int *out, struct sl_err *err)
{
    const char *s;
    int rc = ecs_enum(obj, name, required, allowed, &s, err), i;

    if (rc != SL_OK)
        return rc;
    for (i = 0; strcmp(allowed[i], s) != 0; i++)
        ;
    *out = i;
    return SL_OK;
}
