/*
 * taskdef.h - task definitions: their validation, references,
 * RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions,
 * ListTaskDefinitionFamilies, DeregisterTaskDefinition.
 *
 * Caveats:
 * - A task definition is a nested document kept verbatim (container
 *   definitions included): ecs_taskdef_build() validates the request and
 *   builds it before any store access; it travels as a jansson object.
 * - Revisions count up per family from the "ecs:tdrev:<family>" index, so a
 *   revision number is never reused, even after deregistration.
 *   Deregistered revisions stay stored (INACTIVE) and describable, as on
 *   ECS.
 */
#ifndef SL_ROUTES_ECS_TASKDEF_H
#define SL_ROUTES_ECS_TASKDEF_H

#include <jansson.h>

#include "routes/ecs/ecs.h"

/* Validate a RegisterTaskDefinition request and build the stored task
 * definition without ARN, revision, status and timestamps.  New reference,
 * or NULL with ClientException / InvalidParameterException /
 * SerializationException in <err>.  Pure. */
json_t *ecs_taskdef_build(json_t *req, struct sl_err *err);

/* Parse "family", "family:rev" or a task-definition ARN: <family> gets the
 * family (ECS_NAME_MAX+1), *rev the revision or 0 when none was given.
 * SL_ERR when malformed.  Pure. */
int ecs_taskdef_ref(const char *ref, char *family, long *rev);

/* Store id of (family, rev) into <out> (ECS_ID_MAX). */
void ecs_taskdef_id(char *out, size_t cap, const char *family, long rev);

/* The task definition <ref> names: a bare family is its latest ACTIVE
 * revision.  A private copy, or NULL when absent. */
json_t *ecs_taskdef_find(struct store_txn *txn, const char *ref);

/* Non-zero if container <name> of task definition <td> maps <port>;
 * *has_container is set when the container exists. */
int ecs_taskdef_has_port(json_t *td, const char *name, long port, int *has_container);

/* SL_OK when a task of <td> can run on this host: InvalidParameterException
 * for what no task runtime here does (proxyConfiguration,
 * inferenceAccelerators, a runtimePlatform other than this host's Linux on
 * its architecture).  RunTask, StartTask, CreateService and UpdateService
 * check it; a definition that fails it can still be registered, as on ECS
 * for capacity an account lacks.  Pure. */
int ecs_taskdef_runnable(json_t *td, struct sl_err *err);

/* RegisterTaskDefinition of <td> (from ecs_taskdef_build(), completed here:
 * ARN, revision, status, registeredAt).  Writers. */
int ecs_taskdef_register(struct store_txn *txn, const struct ecs_env *env, json_t *td,
                         struct sl_err *err);

/* DescribeTaskDefinition: *out the task definition <ref> names (a private
 * copy, tags included); ClientException when absent. */
int ecs_taskdef_describe(struct store_txn *txn, const char *ref, json_t **out,
                         struct sl_err *err);

/* ListTaskDefinitions: the ARNs of <family>'s revisions (NULL: every
 * family) whose status is <status>, by family then revision, reversed when
 * <desc>.  *out: the list. */
int ecs_taskdefs_list(struct store_txn *txn, const char *family, const char *status, int desc,
                      json_t **out);

/* ListTaskDefinitionFamilies: the families starting with <prefix> (NULL:
 * all) with an ACTIVE revision ("ACTIVE"), with none ("INACTIVE"), or all
 * ("ALL").  *out: the list. */
int ecs_taskdef_families(struct store_txn *txn, const char *prefix, const char *status,
                         json_t **out);

/* DeregisterTaskDefinition of (<family>, <rev>): INACTIVE from now on.
 * *out: the task definition.  Writers. */
int ecs_taskdef_deregister(struct store_txn *txn, const char *family, long rev, json_t **out,
                           struct sl_err *err);

/* DeleteTaskDefinitions of <refs> (family:revision or ARNs; each INACTIVE):
 * DELETE_IN_PROGRESS, and deleted at once unless a task that has not
 * stopped or a service deployment still uses it.  *out {taskDefinitions,
 * failures}, with ECS's failure reasons.  Writers. */
int ecs_taskdefs_delete(struct store_txn *txn, const char *const *refs, size_t n, json_t **out,
                        struct sl_err *err);

#endif
