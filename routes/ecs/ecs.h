/*
 * ecs.h - the ECS operation table (JSON 1.1) and helpers shared by the
 * operation families in routes/ecs_*.c.
 *
 * Caveats:
 * - This is the API layer only.  Nothing here starts processes: RunTask
 *   stores PENDING task records for a task runtime to pick up, CreateService
 *   stores the desired state for a service scheduler to reconcile.  Counts
 *   (runningCount, deployments[].runningCount, rolloutState of non-empty
 *   deployments) stay as written here until that scheduler updates them.
 * - Stored objects are the ECS API shapes (lowerCamelCase members) plus
 *   "tags" [{key,value}], which Describe* returns only with include TAGS, and
 *   internal members whose names start with '_' (never returned).
 * - Timestamps are stored and returned as epoch seconds (JSON reals with
 *   millisecond precision); the front door prints them with 13 digits.
 *
 * Store kinds and ids:
 *   "ecs_cluster"  <cluster name>
 *   "ecs_service"  <cluster name>/<service name>
 *   "ecs_task"     <cluster name>/<32 hex task id>
 *   "ecs_taskdef"  <family>:<revision, 8 digits>   (scans in revision order)
 * Index keys:
 *   "ecs:tdrev:<family>" -> last revision number registered for the family
 *
 * The "default" cluster exists without being created: reads synthesize it
 * while it has no record, and writes that need it create its record in the
 * same transaction (ecs_cluster_ensure()).
 */
#ifndef SL_ROUTES_ECS_H
#define SL_ROUTES_ECS_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "routes/elbv2/ops.h"
#include "routes/wire/params.h" /* P_OPTIONAL, P_REQUIRED */
#include "store/store.h"

#define K_ECS_CLUSTER "ecs_cluster"
#define K_ECS_SERVICE "ecs_service"
#define K_ECS_TASK "ecs_task"
#define K_ECS_TASKDEF "ecs_taskdef"

#define ECS_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."
#define ECS_NAME_MAX 255
#define ECS_ID_MAX 300
#define ECS_ARN_MAX 512

/* The ECS operation table, terminated by {NULL, NULL}. */
extern const struct op_def ecs_ops[];

/* ---- errors ---- */

/* 400 InvalidParameterException / ClientException with a message; return
 * SL_ERR. */
int ecs_invalid(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ecs_client(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- typed request members ----
 * JSON types are strict (this is a JSON protocol): a member of the wrong
 * type is a 400 SerializationException, a missing required member or a
 * value out of range a 400 InvalidParameterException.  JSON null counts as
 * absent.  All return SL_OK, SL_ENOTFOUND (absent and optional) or SL_ERR;
 * pointers out are borrowed from <obj>. */
int ecs_str(json_t *obj, const char *name, int required, const char **out, struct sl_err *err);
int ecs_int(json_t *obj, const char *name, int required, long min, long max, long *out,
            struct sl_err *err);
int ecs_bool(json_t *obj, const char *name, int *out, struct sl_err *err);
int ecs_list(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);
int ecs_obj(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);
/* A list whose every element is a string. */
int ecs_strlist(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);
/* A string that must be one of the NULL-terminated <allowed>. */
int ecs_enum(json_t *obj, const char *name, int required, const char *const *allowed,
             const char **out, struct sl_err *err);
/* Non-zero if <include> (borrowed list, may be NULL) holds the string <what>. */
int ecs_includes(json_t *req, const char *what);

/* ---- names, ARNs, time ---- */

/* 1-255 of [A-Za-z0-9_-]: cluster, service and family names. */
int ecs_valid_name(const char *s);

/* "arn:aws:ecs:<region>:<account>:<resource>" into <out>. */
void ecs_arn(char *out, size_t cap, const struct op_ctx *ctx, const char *resource);

/* The resource part of an ECS ARN (after the fifth ':'), or NULL when <s>
 * is not an "arn:...:ecs:..." string.  Borrowed from <s>. */
const char *ecs_arn_resource(const char *s);

/* Cluster name from a request's "cluster" (name or ARN; absent = "default")
 * into <out> (ECS_NAME_MAX+1).  SL_ERR with ClusterNotFoundException when it
 * cannot name a cluster. */
int ecs_cluster_param(json_t *req, char *out, struct sl_err *err);

/* The last '/'-separated segment of a name-or-ARN reference (service,
 * task), validated against <max> characters; NULL if malformed. */
const char *ecs_ref_name(const char *ref);

/* Wall-clock now as epoch seconds, millisecond precision. */
double ecs_now(void);

/* ---- clusters ---- */

/* The cluster record for <name> (new reference, a private copy), or a
 * synthesized default cluster for "default" when it has no record, or NULL. */
json_t *ecs_cluster_get(struct store_txn *txn, const struct op_ctx *ctx, const char *name);

/* SL_OK when cluster <name> exists (see ecs_cluster_get()), else SL_ERR with
 * ClusterNotFoundException in <err>. */
int ecs_cluster_check(struct store_txn *txn, const struct op_ctx *ctx, const char *name,
                      struct sl_err *err);

/* Begin a read transaction in *txn for an operation on cluster <name>:
 * SL_OK, or SL_ERR (no transaction left open) when it cannot begin or the
 * cluster does not exist. */
int ecs_cluster_read(struct op_ctx *ctx, const char *name, struct store_txn **txn,
                     struct sl_err *err);

/* Writers: as ecs_cluster_get(), but a missing "default" cluster is stored
 * first.  NULL with ClusterNotFoundException in <err> when absent. */
json_t *ecs_cluster_ensure(struct store_txn *txn, const struct op_ctx *ctx, const char *name,
                           struct sl_err *err);

/* A new cluster object for <name> (not stored). */
json_t *ecs_cluster_new(const struct op_ctx *ctx, const char *name);

/* ---- task definitions ---- */

/* Parse "family", "family:rev" or a task-definition ARN.  <family> gets the
 * family (ECS_NAME_MAX+1), *rev the revision or 0 when none was given.
 * SL_ERR when malformed. */
int ecs_taskdef_ref(const char *ref, char *family, long *rev);

/* Store id of (family, rev) into <out> (ECS_ID_MAX). */
void ecs_taskdef_id(char *out, size_t cap, const char *family, long rev);

/* Look up a task definition reference: a bare family resolves to its latest
 * ACTIVE revision.  New reference or NULL when absent. */
json_t *ecs_taskdef_find(struct store_txn *txn, const char *ref);

/* Validate a RegisterTaskDefinition request and build the stored task
 * definition without ARN, revision, status and timestamps (pure: no store).
 * New reference, or NULL with ClientException / InvalidParameterException /
 * SerializationException in <err>. */
json_t *ecs_taskdef_build(json_t *req, struct sl_err *err);

/* Non-zero if container <name> of task definition <td> maps <port>.
 * *has_container is set when the container exists. */
int ecs_taskdef_has_port(json_t *td, const char *name, long port, int *has_container);

/* ---- services ---- */

/* A new PRIMARY deployment (ecs-svc/<19 digits>) of task definition
 * <td_arn> for <desired> tasks: rolloutState IN_PROGRESS until the scheduler
 * completes it, or COMPLETED at once when <desired> is 0. */
json_t *ecs_deployment_new(const char *td_arn, long desired, const char *launch, double now);

/* ---- tags ---- */

/* Validate an ECS tag list [{key,value}] (keys 1-128, values 0-256, at most
 * 50, unique keys, no "aws:" prefix).  New reference ([] when <list> is
 * NULL), or NULL with <err>. */
json_t *ecs_tags_param(json_t *list, struct sl_err *err);

/* Merge <add> into <tags> (both borrowed); new reference.  NULL with
 * InvalidParameterException if the result exceeds 50 tags. */
json_t *ecs_tags_merge(json_t *tags, json_t *add, struct sl_err *err);

/* ---- pagination ---- */

/* Apply nextToken / maxResults (1-<max>, default <max>) to <all>
 * (borrowed).  Returns the page (new reference) and sets *next to a new
 * string reference or NULL. */
json_t *ecs_page(json_t *req, json_t *all, long max, json_t **next, struct sl_err *err);

/* A copy of <obj> without '_' members, and without "tags" unless
 * <with_tags>. */
json_t *ecs_public(json_t *obj, int with_tags);

/* Looks up the object a Describe* reference names in <cluster>: a shared
 * (read-only) reference or NULL when absent. */
typedef json_t *(*ecs_lookup_fn)(struct store_txn *txn, const char *cluster, const char *ref);

/* DescribeServices / DescribeTasks: the request's cluster, its list <key> of
 * 1-<max> references, each found with <lookup> in one read transaction;
 * returns {<key>: [...], "failures": [{"arn", "reason": "MISSING"}]} where a
 * missing one's ARN is "<type>/<cluster>/<ref>" unless the reference is an
 * ARN already. */
json_t *ecs_describe(struct op_ctx *ctx, json_t *req, const char *key, size_t max,
                     const char *type, ecs_lookup_fn lookup, struct sl_err *err);

/* ---- operations ---- */
json_t *ecs_op_register_task_definition(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_describe_task_definition(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_list_task_definitions(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_list_task_definition_families(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_deregister_task_definition(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_create_cluster(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_describe_clusters(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_list_clusters(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_delete_cluster(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_create_service(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_update_service(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_describe_services(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_list_services(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_delete_service(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_run_task(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_stop_task(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_list_tasks(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_describe_tasks(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_tag_resource(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_untag_resource(struct op_ctx *, json_t *, struct sl_err *);
json_t *ecs_op_list_tags_for_resource(struct op_ctx *, json_t *, struct sl_err *);

/* "<a>/<b>" into <out> (<cap> bytes).  Returns SL_OK, or SL_EINVAL and an
 * empty <out> when it does not fit (such an id can match nothing). */
int ecs_join(char *out, size_t cap, const char *a, const char *b);

#endif
