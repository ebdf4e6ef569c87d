/*
 * deployments.h - service deployments and service revisions:
 * ListServiceDeployments, DescribeServiceDeployments,
 * DescribeServiceRevisions, and the records behind them.
 *
 * Caveats:
 * - A service's "deployments" member (ECS's Deployment objects, kept by the
 *   ECS domain and the scheduler) says what runs now; a deployment leaves it
 *   once its tasks are gone.  The records here outlive that: one per
 *   deployment, kind K_ECS_SVCDEP, id "<cluster>/<service>/<number>", the
 *   number being the digits of the deployment id "ecs-svc/<number>".  The
 *   record is both the ServiceDeployment (what happened) and the
 *   ServiceRevision it deployed (the task definition, load balancers,
 *   launch type, ... of the service when it began), so the revision's ARN
 *   ("service-revision/<cluster>/<service>/<number>") contains the number,
 *   as the Terraform AWS provider's wait_for_steady_state expects.
 * - ecs_deployments_sync() keeps the records in step with the service: every
 *   writer of a service record (the ECS domain, the scheduler) calls it in
 *   the same transaction, before it stores the service.
 * - Statuses as ECS has them: IN_PROGRESS while the rollout runs;
 *   SUCCESSFUL once it completed; STOPPED when a newer deployment replaced
 *   it before it completed, or the circuit breaker failed it without
 *   rollback; ROLLBACK_IN_PROGRESS, then ROLLBACK_SUCCESSFUL or
 *   ROLLBACK_FAILED, when the breaker rolled it back.
 */
#ifndef SL_ROUTES_ECS_DEPLOYMENTS_H
#define SL_ROUTES_ECS_DEPLOYMENTS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

#define K_ECS_SVCDEP "ecs_svcdep"

/* Bring the records of service <svc> (a stored Service object with
 * serviceArn, clusterArn and deployments; borrowed, may gain internal
 * members) in step with its deployments at <now>.  Writers; SL_OK or
 * SL_EIO. */
int ecs_deployments_sync(struct store_txn *txn, json_t *svc, double now);

/* As ecs_deployments_sync(), for a write that has just made a new PRIMARY
 * deployment rolling back the deployment <failed_id> (the circuit
 * breaker's): the new deployment reports to the failed one's record. */
int ecs_deployments_sync_rollback(struct store_txn *txn, json_t *svc, const char *failed_id,
                                  double now);

/* ListServiceDeployments filters: <statuses> (NULL: any) of <nstatuses>;
 * createdAt after/before (0: no bound). */
struct ecs_deploy_filter {
    const char *const *statuses;
    size_t nstatuses;
    double after, before;
};

/* ListServiceDeployments of service <ref> (name or ARN) in <cluster>:
 * *out the ServiceDeploymentBrief list, newest first.  Cluster- or
 * ServiceNotFoundException. */
int ecs_deployments_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                         const char *ref, const struct ecs_deploy_filter *f, json_t **out,
                         struct sl_err *err);

/* DescribeServiceDeployments of the ARNs <arns>: *out
 * {serviceDeployments, failures}. */
int ecs_deployments_describe(struct store_txn *txn, const char *const *arns, size_t n,
                             json_t **out);

/* DescribeServiceRevisions of the ARNs <arns>: *out {serviceRevisions,
 * failures}. */
int ecs_revisions_describe(struct store_txn *txn, const char *const *arns, size_t n,
                           json_t **out);

/* Delete every record of the services of <cluster>.  Writers. */
void ecs_deployments_remove_cluster(struct store_txn *txn, const char *cluster);

#endif
