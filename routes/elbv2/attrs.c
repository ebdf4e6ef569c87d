/*
 * attrs.c - attribute lists: the Describe view, checked merges, lookups.
 */
#include "routes/elbv2/attrs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

static int listed(const struct elb_attr *a)
{
    return a->support == ATTR_DONE || a->support == ATTR_VALUES;
}

json_t *elb_attrs_view(const struct elb_attr_table *t, json_t *stored)
{
    const struct elb_attr *a;
    json_t *out = json_array();

    for (a = t->attrs; a->key; a++) {
        const char *v = elb_attr_get(stored, a->key);
        if (listed(a))
            json_array_append_new(out, json_pack("{ss ss}", "Key", a->key, "Value",
                                                 v ? v : a->def));
    }
    return out;
}

/* "Load balancer" -> "load balancer", for messages in mid-sentence. */
static void lower_what(const char *what, char *out, size_t cap)
{
    size_t i;

    for (i = 0; what[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)what[i]);
    out[i] = '\0';
}

static int type_check(const struct elb_attr *a, const char *v, struct sl_err *err)
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

/* Whether sluice takes key <a> with value <v>: the refusals the caveats in
 * attrs.h describe. */
static int support_check(const struct elb_attr_table *t, const struct elb_attr *a,
                         const char *v, struct sl_err *err)
{
    char what[32];
    size_t i;

    lower_what(t->what, what, sizeof(what));
    switch (a->support) {
    case ATTR_DONE:
        return SL_OK;
    case ATTR_OTHER_TYPE:
        return sl_err_set(err, 400, "ValidationError", "%s attribute key '%s' is not supported %s",
                          t->what, a->key, t->other_type);
    case ATTR_FIXED:
        return sl_err_set(err, 400, "ValidationError",
                          "%s attribute key '%s' is not supported by sluice: %s", t->what, a->key,
                          a->why);
    case ATTR_VALUES:
        break;
    }
    if (type_check(a, v, err) != SL_OK)
        return SL_ERR;
    for (i = 0; a->ok[i]; i++)
        if (strcmp(v, a->ok[i]) == 0)
            return SL_OK;
    return sl_err_set(err, 400, "ValidationError",
                      "The value '%.200s' of %s attribute '%s' is not supported by sluice: %s", v,
                      what, a->key, a->why);
}

static void set_value(json_t *list, const char *key, const char *value)
{
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e) {
        const char *k = json_string_value(json_object_get(e, "Key"));
        if (k && strcmp(k, key) == 0) {
            json_object_set_new(e, "Value", json_string(value));
            return;
        }
    }
    json_array_append_new(list, json_pack("{ss ss}", "Key", key, "Value", value));
}

json_t *elb_attrs_merge(json_t *current, const struct elb_kv *kv, size_t n,
                        const struct elb_attr_table *t, struct sl_err *err)
{
    json_t *out = json_deep_copy(current);
    size_t i;

    if (out == NULL)
        out = json_array();
    for (i = 0; i < n; i++) {
        const struct elb_attr *a;

        for (a = t->attrs; a->key; a++)
            if (strcmp(a->key, kv[i].key) == 0)
                break;
        if (a->key == NULL) {
            sl_err_set(err, 400, "ValidationError", "%s attribute key '%.200s' is not recognized",
                       t->what, kv[i].key);
            goto fail;
        }
        if (support_check(t, a, kv[i].value, err) != SL_OK ||
            type_check(a, kv[i].value, err) != SL_OK)
            goto fail;
        set_value(out, kv[i].key, kv[i].value);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}
