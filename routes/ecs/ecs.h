/*
 * ecs.h - the ECS domain: what every part of it shares.
 *
 * The domain is a set of C functions over a store transaction, one per
 * operation, with typed arguments and a typed error (struct sl_err), as in
 * the ELBv2 domain (routes/elbv2/elbv2.h, whose caveats on writers,
 * readers and ownership hold here too).  The headers beside this one
 * declare them per resource: cluster.h, taskdef.h, service.h, task.h,
 * resource_tags.h; param.h has the strict JSON member access that request
 * decoding and task-definition validation share, names.h names and ARNs.
 *
 * Caveats:
 * - Nothing here starts processes: RunTask stores PENDING task records for
 *   the service scheduler and its task runtime (server/scheduler.c) to
 *   start, CreateService stores the desired state the scheduler reconciles.
 *   Counts (runningCount, deployments[].runningCount, the rolloutState of
 *   non-empty deployments) are the scheduler's to update.
 * - Stored objects are the ECS API shapes (lowerCamelCase members) plus
 *   "tags" [{key,value}], which Describe* returns only with include TAGS,
 *   and internal members whose names start with '_' (never returned).
 *   Describe-style functions return the AWS-shaped response pieces.
 * - Timestamps are stored and returned as epoch seconds (JSON reals with
 *   millisecond precision); the JSON 1.1 door prints them with 13 digits.
 *
 * Store kinds and ids:
 *   "ecs_cluster"  <cluster name>
 *   "ecs_service"  <cluster name>/<service name>
 *   "ecs_task"     <cluster name>/<32 hex task id>
 *   "ecs_taskdef"  <family>:<revision, 8 digits>   (scans in revision order)
 * Index keys:
 *   "ecs:tdrev:<family>" -> last revision number registered for the family
 *
 * The "default" cluster is what a request without "cluster" names; like
 * any other it exists once CreateCluster made it (cluster.h).
 */
#ifndef SL_ROUTES_ECS_ECS_H
#define SL_ROUTES_ECS_ECS_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "store/store.h"

#define K_ECS_CLUSTER "ecs_cluster"
#define K_ECS_SERVICE "ecs_service"
#define K_ECS_TASK "ecs_task"
#define K_ECS_TASKDEF "ecs_taskdef"

#define ECS_NAME_MAX 255
#define ECS_ID_MAX 300
#define ECS_ARN_MAX 512
#define ECS_TAGS_MAX 50

/* Where a call comes from: the ARNs it mints.  Borrowed. */
struct ecs_env {
    const char *region;
    const char *account;
};

/* A {key,value} tag. */
struct ecs_tag {
    const char *key;
    const char *value;
};

/* Launch types, as the wire names them (NULL-terminated, by value). */
extern const char *const ecs_launch_type_names[];
enum ecs_launch_type { ECS_LT_EC2, ECS_LT_FARGATE, ECS_LT_EXTERNAL, ECS_LT_MANAGED_INSTANCES };

#endif
