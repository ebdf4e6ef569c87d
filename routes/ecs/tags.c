/*
 * tags.c - ECS tag lists.
 */
#include "routes/ecs/tags.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "routes/ecs/param.h"

int ecs_tags_check(const struct ecs_tag *tags, size_t n, struct sl_err *err)
{
    size_t i, j;

    if (n > ECS_TAGS_MAX)
        return ecs_invalid(err, "A resource can have at most 50 tags.");
    for (i = 0; i < n; i++) {
        size_t kl = strlen(tags[i].key);
        if (kl < 1 || kl > 128)
            return ecs_invalid(err, "Tag keys must be between 1 and 128 characters.");
        if (strlen(tags[i].value) > 256)
            return ecs_invalid(err, "Tag values must be at most 256 characters.");
        if (strncasecmp(tags[i].key, "aws:", 4) == 0)
            return ecs_invalid(err, "Tag keys beginning with 'aws:' are reserved.");
        for (j = 0; j < i; j++)
            if (strcmp(tags[j].key, tags[i].key) == 0)
                return ecs_invalid(err, "Duplicate tag key '%.128s'.", tags[i].key);
    }
    return SL_OK;
}

int ecs_tags_decode(json_t *list, struct ecs_tag **out, size_t *n, struct sl_err *err)
{
    struct ecs_tag *tags;
    json_t *t, *k, *v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (list == NULL || json_is_null(list))
        return SL_OK;
    if (!json_is_array(list))
        return ecs_mistyped("tags", "a list", err);
    if (json_array_size(list) > ECS_TAGS_MAX)
        return ecs_invalid(err, "A resource can have at most 50 tags.");
    if ((tags = calloc(json_array_size(list) + 1, sizeof(*tags))) == NULL)
        return sl_err_set(err, 500, "ServerException", "out of memory");
    json_array_foreach(list, i, t) {
        k = json_object_get(t, "key");
        v = json_object_get(t, "value");
        if (!json_is_object(t) || !json_is_string(k) ||
            (v && !json_is_null(v) && !json_is_string(v))) {
            free(tags);
            return ecs_mistyped("tags", "a list of {key,value} strings", err);
        }
        tags[i].key = json_string_value(k);
        tags[i].value = json_is_string(v) ? json_string_value(v) : "";
    }
    if (ecs_tags_check(tags, json_array_size(list), err) != SL_OK) {
        free(tags);
        return SL_ERR;
    }
    *out = tags;
    *n = json_array_size(list);
    return SL_OK;
}

json_t *ecs_tags_json(const struct ecs_tag *tags, size_t n)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{ss ss}", "key", tags[i].key, "value",
                                             tags[i].value));
    return out;
}

json_t *ecs_tags_merge(json_t *cur, const struct ecs_tag *add, size_t n, struct sl_err *err)
{
    json_t *out = json_array(), *t;
    size_t i, j;

    json_array_foreach(cur, i, t) {
        const char *k = json_string_value(json_object_get(t, "key"));
        int replaced = 0;
        for (j = 0; j < n && k; j++)
            if (strcmp(add[j].key, k) == 0)
                replaced = 1;
        if (!replaced)
            json_array_append(out, t);
    }
    for (j = 0; j < n; j++)
        json_array_append_new(out, json_pack("{ss ss}", "key", add[j].key, "value",
                                             add[j].value));
    if (json_array_size(out) > ECS_TAGS_MAX) {
        json_decref(out);
        ecs_invalid(err, "A resource can have at most 50 tags.");
        return NULL;
    }
    return out;
}
