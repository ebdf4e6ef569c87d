/*
 * resource_tags.h - TagResource, UntagResource, ListTagsForResource over
 * clusters, services, tasks and task definitions, addressed by ARN.
 *
 * An ARN that is not one of a taggable ECS resource is an
 * InvalidParameterException; a resource that does not exist is a
 * ResourceNotFoundException for the writers (ECS's word) and an
 * InvalidParameterException for ListTagsForResource (ECS's too).
 */
#ifndef SL_ROUTES_ECS_RESOURCE_TAGS_H
#define SL_ROUTES_ECS_RESOURCE_TAGS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

/* TagResource: add or overwrite <tags> (checked).  Writers. */
int ecs_resource_tag(struct store_txn *txn, const struct ecs_env *env, const char *arn,
                     const struct ecs_tag *tags, size_t n, struct sl_err *err);

/* UntagResource: remove the tags named by <keys>.  Writers. */
int ecs_resource_untag(struct store_txn *txn, const struct ecs_env *env, const char *arn,
                       const char *const *keys, size_t n, struct sl_err *err);

/* ListTagsForResource: *out the [{key,value}] list. */
int ecs_resource_tags(struct store_txn *txn, const struct ecs_env *env, const char *arn,
                      json_t **out, struct sl_err *err);

#endif
