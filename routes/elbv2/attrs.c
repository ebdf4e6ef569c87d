/*
 * attrs.c - attribute lists: defaults, checked merges, lookups.
 */
#include "routes/elbv2/attrs.h"

#include <stdlib.h>
#include <string.h>

json_t *elb_attrs_default(const struct elb_attr *table)
{
    json_t *out = json_array();

    for (; table->key; table++)
        json_array_append_new(out, json_pack("{ss ss}", "Key", table->key, "Value", table->def));
    return out;
}

const char *elb_attr_get(json_t *attrs, const char *key)
{
    size_t i;
    json_t *a;

    json_array_foreach(attrs, i, a) {
        const char *k = json_string_value(json_object_get(a, "Key"));
        if (k && strcmp(k, key) == 0)
            return json_string_value(json_object_get(a, "Value"));
    }
    return NULL;
}

static int attr_check(const struct elb_attr *a, const char *v, struct sl_err *err)
{
    char *end;
    long n;
    size_t i;

    switch (a->type) {
    case ATTR_INT:
        n = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n < a->min || n > a->max)
            return sl_err_set(err, 400, "ValidationError",
                              "The value of '%s' must be an integer between %ld and %ld",
                              a->key, a->min, a->max);
        return SL_OK;
    case ATTR_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return sl_err_set(err, 400, "ValidationError",
                              "The value of '%s' must be 'true' or 'false'", a->key);
        return SL_OK;
    case ATTR_ENUM:
        for (i = 0; a->values[i]; i++)
            if (strcmp(v, a->values[i]) == 0)
                return SL_OK;
        return sl_err_set(err, 400, "ValidationError", "The value '%s' of '%s' is not valid", v,
                          a->key);
    case ATTR_STR:
        if ((long)strlen(v) > a->max)
            return sl_err_set(err, 400, "ValidationError", "The value of '%s' is too long",
                              a->key);
        return SL_OK;
    }
    return SL_OK;
}

json_t *elb_attrs_merge(json_t *current, const struct elb_kv *kv, size_t n,
                        const struct elb_attr *table, struct sl_err *err)
{
    json_t *out = json_deep_copy(current), *e;
    size_t i, j;

    if (out == NULL)
        out = json_array();
    for (i = 0; i < n; i++) {
        const struct elb_attr *a;
        int found = 0;

        for (a = table; a->key; a++)
            if (strcmp(a->key, kv[i].key) == 0)
                break;
        if (a->key == NULL) {
            sl_err_set(err, 400, "ValidationError", "Attribute key '%s' is not recognized",
                       kv[i].key);
            goto fail;
        }
        if (attr_check(a, kv[i].value, err) != SL_OK)
            goto fail;
        json_array_foreach(out, j, e) {
            const char *k = json_string_value(json_object_get(e, "Key"));
            if (k && strcmp(k, kv[i].key) == 0) {
                json_object_set_new(e, "Value", json_string(kv[i].value));
                found = 1;
                break;
            }
        }
        if (!found)
            json_array_append_new(out, json_pack("{ss ss}", "Key", kv[i].key, "Value",
                                                 kv[i].value));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}
