/*
 * cluster.h - clusters: CreateCluster, DescribeClusters, ListClusters,
 * DeleteCluster, and the lookups every other family makes.
 *
 * Counts (activeServicesCount, running/pendingTasksCount) are computed from
 * the cluster's service and task records at read time, so they never drift
 * from the records themselves; registeredContainerInstancesCount is 1, the
 * host (instances.h).  A cluster exists once CreateCluster made it, the
 * "default" one too, as on ECS.  Results are AWS Cluster objects (new
 * references) with tags.
 */
#ifndef SL_ROUTES_ECS_CLUSTER_H
#define SL_ROUTES_ECS_CLUSTER_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

/* The record of cluster <name> (a private copy), or NULL. */
json_t *ecs_cluster_get(struct store_txn *txn, const struct ecs_env *env, const char *name);

/* SL_OK when cluster <name> exists, else ClusterNotFoundException. */
int ecs_cluster_check(struct store_txn *txn, const struct ecs_env *env, const char *name,
                      struct sl_err *err);

/* As ecs_cluster_get(), NULL with ClusterNotFoundException when absent:
 * for writers that need the cluster's record. */
json_t *ecs_cluster_ensure(struct store_txn *txn, const struct ecs_env *env, const char *name,
                           struct sl_err *err);

/* A "settings" list: [{name: "containerInsights", value}] (Serialization-
 * or InvalidParameterException otherwise); only "disabled" is what sluice
 * does (it has no CloudWatch): "enabled" and "enhanced" are refused.
 * Pure. */
int ecs_cluster_settings_check(json_t *settings, struct sl_err *err);

/* A cluster as CreateCluster, UpdateCluster and PutClusterCapacityProviders
 * give it; NULL members are not given. */
struct ecs_cluster_spec {
    const char *name;      /* a valid cluster name */
    json_t *settings;      /* checked */
    json_t *providers;     /* capacityProviders, checked */
    json_t *strategy;      /* defaultCapacityProviderStrategy as
                              ecs_capacity_strategy_check() returned it */
    json_t *sc_defaults;   /* serviceConnectDefaults {namespace} */
    const struct ecs_tag *tags;
    size_t ntags;
};

/* The providers of <s>'s strategy are among its capacityProviders, and a
 * serviceConnectDefaults has a namespace.  Pure. */
int ecs_cluster_spec_check(const struct ecs_cluster_spec *s, struct sl_err *err);

/* CreateCluster <s> (checked); an existing cluster is answered as it is,
 * as on ECS.  *out: the cluster.  Writers. */
int ecs_cluster_create(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_cluster_spec *s, json_t **out, struct sl_err *err);

/* UpdateCluster / UpdateClusterSettings / PutClusterCapacityProviders: the
 * members of <s> that are given replace the cluster's.  A capacity provider
 * that a service's strategy uses cannot be removed
 * (ResourceInUseException), nor one the new default strategy names
 * (checked against the providers after the update).  *out: the cluster.
 * Writers. */
int ecs_cluster_update(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_cluster_spec *s, json_t **out, struct sl_err *err);

/* DescribeClusters of <refs> (names or ARNs; none: "default").  *out:
 * {clusters, failures}. */
int ecs_clusters_describe(struct store_txn *txn, const struct ecs_env *env,
                          const char *const *refs, size_t n, int with_tags, json_t **out);

/* ListClusters: *out the ARNs of every cluster. */
int ecs_clusters_list(struct store_txn *txn, const struct ecs_env *env, json_t **out);

/* DeleteCluster <name> with its INACTIVE services and STOPPED tasks;
 * ClusterContainsServicesException / ClusterContainsTasksException while
 * live ones remain (the host as its container instance does not count: it
 * is every cluster's).  *out: the cluster, INACTIVE.  Writers. */
int ecs_cluster_delete(struct store_txn *txn, const struct ecs_env *env, const char *name,
                       json_t **out, struct sl_err *err);

#endif
