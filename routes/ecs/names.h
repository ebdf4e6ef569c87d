/*
 * names.h - ECS names, ARNs and references, the clock, and the public view
 * of stored objects.  Pure unless a store transaction is passed; thread-safe.
 */
#ifndef SL_ROUTES_ECS_NAMES_H
#define SL_ROUTES_ECS_NAMES_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

/* 1-255 of [A-Za-z0-9_-]: cluster, service, family and container names. */
int ecs_valid_name(const char *s);

/* "arn:aws:ecs:<region>:<account>:<resource>" into <out>. */
void ecs_arn(char *out, size_t cap, const struct ecs_env *env, const char *resource);

/* The resource part of an ECS ARN (after the fifth ':'), or NULL when <s>
 * is not an "arn:..." string.  Borrowed from <s>. */
const char *ecs_arn_resource(const char *s);

/* The cluster a request's "cluster" names (a name or an ARN; NULL means
 * "default") into <out> (ECS_NAME_MAX+1).  SL_ERR with
 * ClusterNotFoundException when it cannot name a cluster. */
int ecs_cluster_name(const char *ref, char *out, struct sl_err *err);

/* The last '/'-separated segment of a name-or-ARN reference (service,
 * task), if it is a valid name; NULL if malformed.  Borrowed from <ref>. */
const char *ecs_ref_name(const char *ref);

/* "<a>/<b>" into <out> (<cap> bytes).  SL_OK, or SL_EINVAL and an empty
 * <out> when it does not fit (such an id can match nothing). */
int ecs_join(char *out, size_t cap, const char *a, const char *b);

/* Wall-clock now as epoch seconds, millisecond precision. */
double ecs_now(void);

/* A copy of <obj> without '_' members, and without "tags" unless
 * <with_tags>.  New reference. */
json_t *ecs_public(json_t *obj, int with_tags);

/* Finds the object a reference names in <cluster>: a shared (read-only)
 * reference or NULL when absent. */
typedef json_t *(*ecs_lookup_fn)(struct store_txn *txn, const char *cluster, const char *ref);

/* DescribeServices / DescribeTasks: each of <refs> looked up with <lookup>;
 * *out is {<key>: [...], "failures": [{"arn", "reason": "MISSING"}]}, where
 * a missing one's ARN is "<type>/<cluster>/<ref>" unless the reference is
 * an ARN already.  The caller checked the cluster. */
int ecs_describe_refs(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                      const char *const *refs, size_t n, int with_tags, const char *key,
                      const char *type, ecs_lookup_fn lookup, json_t **out);

#endif
