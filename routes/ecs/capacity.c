/*
 * capacity.c - the FARGATE and FARGATE_SPOT capacity providers and the
 * strategies that name them.
 */
#include "routes/ecs/capacity.h"

#include <stdio.h>
#include <string.h>

#include "routes/ecs/names.h"
#include "routes/ecs/param.h"

const char *const ecs_capacity_provider_names[] = {"FARGATE", "FARGATE_SPOT", NULL};

#define STRATEGY_MAX 20

static int known(const char *name)
{
    size_t i;

    for (i = 0; ecs_capacity_provider_names[i]; i++)
        if (strcmp(ecs_capacity_provider_names[i], name) == 0)
            return 1;
    return 0;
}

static int list_has(json_t *list, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

int ecs_capacity_providers_check(json_t *list, struct sl_err *err)
{
    json_t *v;
    size_t i, j;

    if (!json_is_array(list))
        return ecs_mistyped("capacityProviders", "a list of strings", err);
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            return ecs_mistyped("capacityProviders", "a list of strings", err);
        if (!known(json_string_value(v)))
            return ecs_invalid(err,
                               "The specified capacity provider '%.255s' does not exist. The "
                               "capacity providers are FARGATE and FARGATE_SPOT (sluice has no "
                               "Auto Scaling groups to back others).",
                               json_string_value(v));
        for (j = 0; j < i; j++)
            if (json_equal(json_array_get(list, j), v))
                return ecs_invalid(err, "The capacity provider '%s' is listed more than once.",
                                   json_string_value(v));
    }
    return SL_OK;
}

static int item_check(json_t *it, json_t *allowed, json_t *seen, json_t **norm, long *base,
                      long *weight, struct sl_err *err)
{
    const char *name;

    *base = *weight = 0;
    if (!json_is_object(it))
        return ecs_mistyped("capacityProviderStrategy", "a list of objects", err);
    if (ecs_str(it, "capacityProvider", P_REQUIRED, &name, err) != SL_OK ||
        ecs_int(it, "weight", P_OPTIONAL, 0, 1000, weight, err) == SL_ERR ||
        ecs_int(it, "base", P_OPTIONAL, 0, 100000, base, err) == SL_ERR)
        return SL_ERR;
    if (!known(name))
        return ecs_invalid(err, "The specified capacity provider '%.255s' does not exist.", name);
    if (allowed && !list_has(allowed, name))
        return ecs_invalid(err,
                           "The specified capacity provider strategy cannot contain a capacity "
                           "provider that is not associated with the cluster. Associate the "
                           "capacity provider with the cluster or specify a valid capacity "
                           "provider and try again.");
    if (list_has(seen, name))
        return ecs_invalid(err, "The capacity provider '%s' is listed more than once.", name);
    json_array_append_new(seen, json_string(name));
    *norm = json_pack("{ss sI sI}", "capacityProvider", name, "weight", (json_int_t)*weight,
                      "base", (json_int_t)*base);
    return SL_OK;
}

int ecs_capacity_strategy_check(json_t *list, json_t *allowed, json_t **out, struct sl_err *err)
{
    json_t *seen = json_array(), *norm = json_array(), *it, *n = NULL;
    long base, weight, weights = 0;
    size_t i, bases = 0;
    int rc = SL_ERR;

    *out = NULL;
    if (!json_is_array(list)) {
        ecs_mistyped("capacityProviderStrategy", "a list of objects", err);
        goto out;
    }
    if (json_array_size(list) > STRATEGY_MAX) {
        ecs_invalid(err, "A capacity provider strategy can have at most %d items.",
                    STRATEGY_MAX);
        goto out;
    }
    json_array_foreach(list, i, it) {
        if (item_check(it, allowed, seen, &n, &base, &weight, err) != SL_OK)
            goto out;
        json_array_append_new(norm, n);
        bases += base > 0;
        weights += weight;
    }
    if (bases > 1) {
        ecs_invalid(err, "Only one capacity provider in a strategy can have a base defined.");
        goto out;
    }
    if (json_array_size(list) > 0 && weights == 0) {
        ecs_invalid(err, "At least one capacity provider in a strategy must have a weight "
                         "greater than zero.");
        goto out;
    }
    *out = json_incref(norm);
    rc = SL_OK;
out:
    json_decref(norm);
    json_decref(seen);
    return rc;
}

const char *ecs_capacity_pick(json_t *strategy, long index)
{
    json_t *it;
    size_t i;
    long total = 0, slot;

    json_array_foreach(strategy, i, it) {
        long base = (long)json_integer_value(json_object_get(it, "base"));
        if (index < base)
            return json_string_value(json_object_get(it, "capacityProvider"));
        if (base > 0)
            index -= base;
        total += (long)json_integer_value(json_object_get(it, "weight"));
    }
    if (total <= 0)
        return json_string_value(json_object_get(json_array_get(strategy, 0), "capacityProvider"));
    slot = index % total;
    json_array_foreach(strategy, i, it) {
        slot -= (long)json_integer_value(json_object_get(it, "weight"));
        if (slot < 0)
            return json_string_value(json_object_get(it, "capacityProvider"));
    }
    return NULL;
}

static json_t *provider_json(const struct ecs_env *env, const char *name)
{
    char res[64], arn[ECS_ARN_MAX];

    snprintf(res, sizeof(res), "capacity-provider/%s", name);
    ecs_arn(arn, sizeof(arn), env, res);
    return json_pack("{ss ss ss ss s[]}", "capacityProviderArn", arn, "name", name, "status",
                     "ACTIVE", "type", "FARGATE", "tags");
}

int ecs_capacity_describe(const struct ecs_env *env, const char *const *names, size_t n,
                          json_t **out)
{
    json_t *found = json_array(), *failures = json_array();
    char res[ECS_ARN_MAX - 64], arn[ECS_ARN_MAX];
    size_t i;

    for (i = 0; ecs_capacity_provider_names[i] && n == 0; i++)
        json_array_append_new(found, provider_json(env, ecs_capacity_provider_names[i]));
    for (i = 0; i < n; i++) {
        const char *r = ecs_arn_resource(names[i]), *name = names[i];
        if (r && strncmp(r, "capacity-provider/", 18) == 0)
            name = r + 18;
        if (known(name)) {
            json_array_append_new(found, provider_json(env, name));
            continue;
        }
        if (r) {
            snprintf(arn, sizeof(arn), "%s", names[i]);
        } else {
            snprintf(res, sizeof(res), "capacity-provider/%.255s", names[i]);
            ecs_arn(arn, sizeof(arn), env, res);
        }
        json_array_append_new(failures, json_pack("{ss ss}", "arn", arn, "reason", "MISSING"));
    }
    *out = json_pack("{so so}", "capacityProviders", found, "failures", failures);
    return SL_OK;
}
