#include "routes/wire/params.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int p_invalid(struct sl_err *err, const char *name, const char *why)
{
    return sl_err_set(err, 400, "ValidationError",
                      "1 validation error detected: Value at '%s' failed to satisfy constraint: %s",
                      name, why);
}

int p_out_of_range(struct sl_err *err, const char *name, long n, long min, long max)
{
    return sl_err_set(err, 400, "ValidationError",
                      "1 validation error detected: Value '%ld' at '%s' failed to satisfy "
                      "constraint: Member must have value between %ld and %ld",
                      n, name, min, max);
}

static int missing(struct sl_err *err, const char *name)
{
    return sl_err_set(err, 400, "ValidationError",
                      "1 validation error detected: Value null at '%s' failed to satisfy "
                      "constraint: Member must not be null",
                      name);
}

static json_t *member(json_t *obj, const char *name)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;

    return json_is_null(v) ? NULL : v;
}

int p_str(json_t *obj, const char *name, int required, const char **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return required ? missing(err, name) : SL_ENOTFOUND;
    if (!json_is_string(v))
        return p_invalid(err, name, "Member must be a string");
    *out = json_string_value(v);
    return SL_OK;
}

int p_int(json_t *obj, const char *name, int required, long min, long max, long *out,
          struct sl_err *err)
{
    json_t *v = member(obj, name);
    long n;

    if (v == NULL)
        return required ? missing(err, name) : SL_ENOTFOUND;
    if (json_is_integer(v)) {
        n = (long)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;

        errno = 0;
        n = strtol(s, &end, 10);
        if (*s == '\0' || *end != '\0' || errno == ERANGE || (*s == '+'))
            return p_invalid(err, name, "Member must be an integer");
    } else {
        return p_invalid(err, name, "Member must be an integer");
    }
    if (n < min || n > max)
        return p_out_of_range(err, name, n, min, max);
    *out = n;
    return SL_OK;
}

int p_bool(json_t *obj, const char *name, int required, int *out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    if (v == NULL)
        return required ? missing(err, name) : SL_ENOTFOUND;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return SL_OK;
    }
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "true") == 0) {
            *out = 1;
            return SL_OK;
        }
        if (strcmp(json_string_value(v), "false") == 0) {
            *out = 0;
            return SL_OK;
        }
    }
    return p_invalid(err, name, "Member must be a boolean (true or false)");
}

int p_list(json_t *obj, const char *name, int required, size_t min, size_t max, json_t **out,
           struct sl_err *err)
{
    static json_t *empty;
    json_t *v = member(obj, name);
    size_t n;

    *out = NULL;
    if (v == NULL)
        return required ? missing(err, name) : SL_ENOTFOUND;
    if (json_is_string(v) && json_string_length(v) == 0) {
        /* An empty Query list.  The shared empty array is never modified. */
        if (empty == NULL) {
            json_t *e = json_array();
            if (!__atomic_compare_exchange_n(&empty, &(json_t *){NULL}, e, 0, __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST))
                json_decref(e);
        }
        v = empty;
    }
    if (!json_is_array(v))
        return p_invalid(err, name, "Member must be a list");
    n = json_array_size(v);
    if (n < min || n > max)
        return sl_err_set(err, 400, "ValidationError",
                          "1 validation error detected: Value at '%s' failed to satisfy "
                          "constraint: Member must have length between %zu and %zu",
                          name, min, max);
    *out = v;
    return SL_OK;
}

int p_obj(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return required ? missing(err, name) : SL_ENOTFOUND;
    if (!json_is_object(v))
        return p_invalid(err, name, "Member must be a structure");
    *out = v;
    return SL_OK;
}

int p_enum(json_t *obj, const char *name, int required, const char *const *allowed,
           const char **out, struct sl_err *err)
{
    const char *s;
    int rc = p_str(obj, name, required, &s, err);
    size_t i;

    *out = NULL;
    if (rc != SL_OK)
        return rc;
    for (i = 0; allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0) {
            *out = allowed[i];
            return SL_OK;
        }
    return sl_err_set(err, 400, "ValidationError",
                      "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                      "constraint: Member must satisfy enum value set",
                      s, name);
}

int p_enum_index(json_t *obj, const char *name, int required, const char *const *allowed,
                 int *out, struct sl_err *err)
{
    const char *s;
    int rc = p_enum(obj, name, required, allowed, &s, err), i;

    if (rc != SL_OK)
        return rc;
    for (i = 0; allowed[i] != s; i++)
        ;
    *out = i;
    return SL_OK;
}

int p_strv(json_t *obj, const char *name, int required, size_t min, size_t max,
           const char ***out, size_t *n, struct sl_err *err)
{
    json_t *list, *v;
    const char **vec;
    size_t i;
    int rc = p_list(obj, name, required, min, max, &list, err);

    *out = NULL;
    *n = 0;
    if (rc != SL_OK)
        return rc;
    if ((vec = calloc(json_array_size(list) + 1, sizeof(*vec))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, v) {
        if (!json_is_string(v)) {
            free(vec);
            return p_invalid(err, name, "Member must be a list of strings");
        }
        vec[i] = json_string_value(v);
    }
    *out = vec;
    *n = json_array_size(list);
    return SL_OK;
}

int p_present(json_t *obj, const char *name)
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
