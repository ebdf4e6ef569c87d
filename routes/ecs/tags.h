/*
 * tags.h - ECS tag lists [{key,value}]: the checks every tagged resource
 * shares.  Pure; thread-safe.  The TagResource family is resource_tags.h.
 */
#ifndef SL_ROUTES_ECS_TAGS_H
#define SL_ROUTES_ECS_TAGS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

/* A JSON tag list (borrowed; NULL or null: none): *out (free() it) gets *n
 * tags borrowed from <list>, type-checked (SerializationException) and
 * checked with ecs_tags_check(). */
int ecs_tags_decode(json_t *list, struct ecs_tag **out, size_t *n, struct sl_err *err);

/* At most ECS_TAGS_MAX tags, keys 1-128 characters and unique and not
 * starting with "aws:", values at most 256: InvalidParameterException
 * otherwise. */
int ecs_tags_check(const struct ecs_tag *tags, size_t n, struct sl_err *err);

/* The stored form [{key,value}] of <tags>.  New reference. */
json_t *ecs_tags_json(const struct ecs_tag *tags, size_t n);

/* <cur> (borrowed, may be NULL) with <add> merged in: existing keys get the
 * new values (moved last, as ECS lists them).  New reference, or NULL with
 * InvalidParameterException when the result exceeds ECS_TAGS_MAX. */
json_t *ecs_tags_merge(json_t *cur, const struct ecs_tag *add, size_t n, struct sl_err *err);

#endif
