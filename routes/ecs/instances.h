/*
 * instances.h - the container instance: the host sluiced runs on, a
 * container instance of every cluster.  ListContainerInstances,
 * DescribeContainerInstances, UpdateContainerInstancesState, placement for
 * RunTask and StartTask, and the custom attributes of PutAttributes.
 *
 * Caveats:
 * - Each ACTIVE cluster has exactly one container instance, this host; its
 *   id is derived from the cluster's ARN, so it is stable across restarts
 *   and the same for every reader.  It needs no registration and cannot be
 *   deregistered: DeleteCluster does not count it.
 * - Registered resources: CPU 1024 units per online processor, MEMORY the
 *   host's physical memory in MiB.  Every task of the cluster that has not
 *   stopped reserves its task-level cpu and memory, else the sum of its
 *   containers' cpu and memory (or memoryReservation); remaining is what
 *   they leave.  A task that does not fit is not placed (RESOURCE:CPU,
 *   RESOURCE:MEMORY), as on ECS.  Other clusters' tasks run on the same
 *   host but reserve only in their own cluster.
 * - Status (stored on the cluster record as "_instanceStatus"): ACTIVE, or
 *   DRAINING, when no new task is placed (reason DRAINING) and the service
 *   scheduler stops the cluster's service tasks within their
 *   minimumHealthyPercent, as ECS does; standalone tasks keep running.
 * - Custom attributes (PutAttributes) are stored on the cluster record as
 *   "_attributes" [{name, value}]; the built-in ones (ecs.os-type, ...)
 *   are listed with them and cannot be changed.
 */
#ifndef SL_ROUTES_ECS_INSTANCES_H
#define SL_ROUTES_ECS_INSTANCES_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

#define ECS_INSTANCE_ID_LEN 32

/* The instance id of cluster record <cluster> (32 hex digits) into <out>. */
void ecs_instance_id(json_t *cluster, char out[ECS_INSTANCE_ID_LEN + 1]);

/* Non-zero if <cluster>'s instance is DRAINING. */
int ecs_instance_draining(json_t *cluster);

/* Whether <ref> (an instance ARN or id) names <cluster>'s instance. */
int ecs_instance_is(json_t *cluster, const char *ref);

/* <td>'s task-level cpu units and memory in MiB ("256", "1 vCPU", "512",
 * "2 GB"), each -1 when absent or unreadable. */
void ecs_task_size(json_t *td, long *cpu, long *memory);

/* SL_OK if <o>'s "cpu" and "memory", where present, are strings
 * ecs_task_size() reads; else ClientException "Invalid 'cpu' <what>." */
int ecs_task_size_check(json_t *o, const char *what, struct sl_err *err);

/* What a task of <td> reserves: cpu units and MiB. */
void ecs_task_reservation(json_t *td, long *cpu, long *memory);

/* Placement of <count> tasks of <td> on <cluster>'s instance: *placed gets
 * how many fit; *failures (new reference) one Failure per task that does
 * not, with its reason (DRAINING, RESOURCE:CPU, RESOURCE:MEMORY). */
int ecs_instance_place(struct store_txn *txn, const struct ecs_env *env, json_t *cluster,
                       json_t *td, long count, long *placed, json_t **failures);

/* ListContainerInstances of <cluster> (status NULL: any).  *out: ARNs. */
int ecs_instances_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                       const char *status, json_t **out, struct sl_err *err);

/* DescribeContainerInstances of <refs>: *out {containerInstances,
 * failures}. */
int ecs_instances_describe(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                           const char *const *refs, size_t n, int with_tags, json_t **out,
                           struct sl_err *err);

/* UpdateContainerInstancesState of <refs> to <status> (ACTIVE or
 * DRAINING).  *out {containerInstances, failures}.  Writers. */
int ecs_instances_set_state(struct store_txn *txn, const struct ecs_env *env,
                            const char *cluster, const char *const *refs, size_t n,
                            const char *status, json_t **out, struct sl_err *err);

/* One attribute of PutAttributes / DeleteAttributes. */
struct ecs_attr {
    const char *name;
    const char *value;     /* NULL: none */
    const char *target_id; /* instance ARN or id; NULL: (DeleteAttributes) any */
};

/* Attribute names and values as ECS allows them; PutAttributes only (a
 * built-in "ecs." name cannot be set).  Pure. */
int ecs_attrs_check(const struct ecs_attr *a, size_t n, int put, struct sl_err *err);

/* PutAttributes / DeleteAttributes on <cluster>'s instance.  *out: the
 * attributes as given back.  Writers. */
int ecs_attrs_put(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                  const struct ecs_attr *a, size_t n, int del, json_t **out, struct sl_err *err);

/* ListAttributes of <cluster> (targetType container-instance), filtered by
 * <name> and <value> (NULL: any).  *out: [{name, value, targetType,
 * targetId}]. */
int ecs_attrs_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                   const char *name, const char *value, json_t **out, struct sl_err *err);

#endif
