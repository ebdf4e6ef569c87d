/*
 * capacity.h - capacity providers and capacity provider strategies.
 *
 * Caveats:
 * - The capacity providers are FARGATE and FARGATE_SPOT, as every ECS
 *   account has them; they cannot be created or deleted (no Auto Scaling
 *   groups here).  Both run tasks on this host's task runtime, as Fargate
 *   tasks (launch type FARGATE); a FARGATE_SPOT task is never interrupted.
 * - A strategy ([{capacityProvider, weight, base}]) is kept and shown as
 *   given (weight and base default to 0, as ECS shows them).  A task
 *   started under one is placed on the strategy's base provider first, then
 *   on the providers in proportion to their weights, and shows it as its
 *   capacityProviderName.
 * - Pure: no store access; thread-safe.
 */
#ifndef SL_ROUTES_ECS_CAPACITY_H
#define SL_ROUTES_ECS_CAPACITY_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

/* The capacity providers, NULL-terminated. */
extern const char *const ecs_capacity_provider_names[];

/* A capacityProviders list <list> (borrowed): strings naming capacity
 * providers, no repeats.  InvalidParameterException otherwise. */
int ecs_capacity_providers_check(json_t *list, struct sl_err *err);

/* A capacityProviderStrategy <list> (borrowed): 1-20 items
 * {capacityProvider, weight 0-1000, base 0-100000}, at most one with a base,
 * not all weights 0, each provider once and (when <allowed> is not NULL) in
 * <allowed>.  *out: the strategy as ECS shows it (new reference). */
int ecs_capacity_strategy_check(json_t *list, json_t *allowed, json_t **out, struct sl_err *err);

/* The provider the <index>th task (0-based) started under <strategy> runs
 * on: the base provider for the first <base> tasks, then by weight.
 * Borrowed from <strategy>; NULL for an empty strategy. */
const char *ecs_capacity_pick(json_t *strategy, long index);

/* DescribeCapacityProviders of <names> (none: all): *out {capacityProviders,
 * failures}. */
int ecs_capacity_describe(const struct ecs_env *env, const char *const *names, size_t n,
                          json_t **out);

#endif
