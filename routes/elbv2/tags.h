/*
 * tags.h - tags of load balancers, target groups, listeners and rules:
 * AddTags, RemoveTags, DescribeTags, and the replacement a REST PUT makes.
 *
 * Tags are stored in the object's "Tags" member as [{Key,Value}].  A missing
 * resource is reported by the NotFound code of its ARN's kind
 * (TargetGroupNotFound for ":targetgroup/", RuleNotFound, ListenerNotFound,
 * LoadBalancerNotFound otherwise), as AWS does.
 */
#ifndef SL_ROUTES_ELBV2_TAGS_H
#define SL_ROUTES_ELBV2_TAGS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

/* A tag list from a request: keys 1-128 characters, values at most 256, at
 * most ELB_TAGS_MAX, keys unique (DuplicateTagKeys).  Pure. */
int elb_tags_check(const struct elb_kv *tags, size_t n, struct sl_err *err);

/* The stored form [{Key,Value}] of a checked tag list.  New reference. */
json_t *elb_tags_json(const struct elb_kv *tags, size_t n);

/* AddTags: add or overwrite <tags> (checked) on each of <arns>; more than
 * ELB_TAGS_MAX on one resource is TooManyTags.  Writers. */
int elb_tags_add(struct store_txn *txn, const char *const *arns, size_t narns,
                 const struct elb_kv *tags, size_t n, struct sl_err *err);

/* RemoveTags: remove the tags named by <keys> from each of <arns>; keys a
 * resource does not have are ignored.  Writers. */
int elb_tags_remove(struct store_txn *txn, const char *const *arns, size_t narns,
                    const char *const *keys, size_t nkeys, struct sl_err *err);

/* Make the tags of <arn> exactly <tags> (checked), in that order; no write
 * when they already are.  Writers. */
int elb_tags_set(struct store_txn *txn, const char *arn, const struct elb_kv *tags, size_t n,
                 struct sl_err *err);

/* DescribeTags: *out gets the TagDescriptions list
 * [{ResourceArn, Tags:[{Key,Value}]}], one per ARN in order. */
int elb_tags_describe(struct store_txn *txn, const char *const *arns, size_t narns,
                      json_t **out, struct sl_err *err);

#endif
