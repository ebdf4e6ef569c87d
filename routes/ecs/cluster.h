/*
 * cluster.h - clusters: CreateCluster, DescribeClusters, ListClusters,
 * DeleteCluster, and the lookups every other family makes.
 *
 * Counts (activeServicesCount, running/pendingTasksCount) are computed from
 * the cluster's service and task records at read time, so they never drift
 * from the records themselves.  Results are AWS Cluster objects (new
 * references) with tags.
 */
#ifndef SL_ROUTES_ECS_CLUSTER_H
#define SL_ROUTES_ECS_CLUSTER_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

/* The record of cluster <name> (a private copy), a synthesized "default"
 * cluster while it has none, or NULL. */
json_t *ecs_cluster_get(struct store_txn *txn, const struct ecs_env *env, const char *name);

/* SL_OK when cluster <name> exists, else ClusterNotFoundException. */
int ecs_cluster_check(struct store_txn *txn, const struct ecs_env *env, const char *name,
                      struct sl_err *err);

/* Writers: as ecs_cluster_get(), but a missing "default" cluster is stored
 * first.  NULL with ClusterNotFoundException when absent. */
json_t *ecs_cluster_ensure(struct store_txn *txn, const struct ecs_env *env, const char *name,
                           struct sl_err *err);

/* A CreateCluster "settings" list: [{name, value}] strings
 * (SerializationException otherwise).  Pure. */
int ecs_cluster_settings_check(json_t *settings, struct sl_err *err);

/* CreateCluster <name> (valid) with <settings> (checked, may be NULL) and
 * <tags> (checked); an existing cluster is answered as it is, as on ECS.
 * *out: the cluster.  Writers. */
int ecs_cluster_create(struct store_txn *txn, const struct ecs_env *env, const char *name,
                       json_t *settings, const struct ecs_tag *tags, size_t ntags, json_t **out,
                       struct sl_err *err);

/* DescribeClusters of <refs> (names or ARNs; none: "default").  *out:
 * {clusters, failures}. */
int ecs_clusters_describe(struct store_txn *txn, const struct ecs_env *env,
                          const char *const *refs, size_t n, int with_tags, json_t **out);

/* ListClusters: *out the ARNs of every cluster, "default" included. */
int ecs_clusters_list(struct store_txn *txn, const struct ecs_env *env, json_t **out);

/* DeleteCluster <name> with its INACTIVE services and STOPPED tasks;
 * ClusterContainsServicesException / ClusterContainsTasksException while
 * live ones remain.  *out: the cluster, INACTIVE.  Writers. */
int ecs_cluster_delete(struct store_txn *txn, const struct ecs_env *env, const char *name,
                       json_t **out, struct sl_err *err);

#endif
