/*
 * rest.h - pieces shared by the REST front door's files: routes/front_rest.c
 * (router, generic create/read/list/delete), routes/rest_util.c (views,
 * error mapping, multi-step writes with undo) and routes/rest_kinds.c (what
 * differs per resource kind, and targets).  Internal to routes/; the public
 * entry is front_rest() in routes/front.h.  The contract is
 * openapi/openapi.yaml.
 *
 * Caveats:
 * - ELBv2 state changes only through ops_call() with canonical (AWS-shaped)
 *   requests.  The only direct store access is reading: an object by REST
 *   id, an ARN index entry, a scan of one kind for unfiltered lists.
 * - A REST write that needs several operations records the inverse of each
 *   completed step in an undo list; on a later failure rest_rollback() runs
 *   them newest first, so the object ends as it was.  Concurrent writers to
 *   the same object can still interleave (last writer wins, as on AWS).
 * - Every json_t read from a request body may have any type: use the
 *   rest_str()/params.h accessors, never json_string_value() into strcmp().
 */
#ifndef SL_ROUTES_REST_H
#define SL_ROUTES_REST_H

#include <jansson.h>

#include "common/err.h"
#include "routes/api/front.h"
#include "routes/elbv2/ops.h"

/* One REST collection (/v1/<path>) backed by one store kind. */
struct rest_kind {
    const char *path;            /* "target-groups" */
    const char *kind;            /* store kind: K_TG */
    const char *what;            /* "target group", for messages */
    const char *arn_member;      /* "TargetGroupArn" */
    const char *not_found;       /* "TargetGroupNotFound" */
    const char *create_op;       /* "CreateTargetGroup" */
    const char *create_list;     /* member of the create result: "TargetGroups" */
    const char *delete_op;       /* "DeleteTargetGroup" */
    const char *modify_attrs_op; /* "ModifyTargetGroupAttributes"; NULL: no attributes */
    /* Turn a REST create body (a private copy) into the canonical Create*
     * request in place: resolve REST-id conveniences, check name clashes.
     * Returns SL_OK or SL_ERR with <err>. */
    int (*prepare)(struct op_ctx *ctx, json_t *req, struct sl_err *err);
    /* PUT, the kind's own part: reject changes to immutable members (409)
     * and run the kind's Modify* steps for <body> against <cur> (a REST
     * view, borrowed), recording the inverse of each in <undo>.  The
     * generic part (Attributes, Tags, rollback) is in front_rest.c. */
    int (*put)(struct op_ctx *ctx, const struct rest_kind *k, json_t *cur, json_t *body,
               json_t *undo, struct sl_err *err);
    /* List filter: query argument naming an ARN (and one naming a REST id
     * of kind <filter_kind>), the Describe operation taking it and the
     * member of its result.  NULL filter_arg: no filter. */
    const char *filter_arg;      /* "LoadBalancerArn" */
    const char *filter_id_arg;   /* "LoadBalancerId" */
    const char *filter_kind;     /* K_LB */
    const char *describe_op;     /* "DescribeListeners" */
    const char *describe_list;   /* "Listeners" */
};

/* The collections, terminated by {NULL}.  Defined in rest_kinds.c. */
extern const struct rest_kind rest_kinds[];

/* ---- replies (rest_util.c) ---- */

/* HTTP status for an operation error: *NotFound 404; Duplicate* (except
 * DuplicateTagKeys), PriorityInUse, ResourceInUse, Conflict,
 * OperationNotPermitted and TooMany* 409; 401/403/405/413 and 5xx kept;
 * every other error 400. */
int rest_status(const struct sl_err *e);

/* Fill <out> with the REST error for <e> (status per rest_status()). */
void rest_reply_error(const struct sl_err *e, struct front_reply *out);

/* The request body as a JSON object (new reference), or NULL with a 400
 * InvalidJSON reply in <out> (empty, malformed, duplicate keys, not an
 * object).  Defined in front_rest.c. */
json_t *rest_parse_body(const struct front_request *req, struct front_reply *out);

/* Fill <out> with <status> and <body> as compact JSON; steals <body>. */
void rest_reply_json(struct front_reply *out, int status, json_t *body);

/* ---- request members ---- */

/* String member <name> of <obj>, or NULL when absent or not a string. */
const char *rest_str(json_t *obj, const char *name);

/* Non-zero if the request value <b> denotes the stored value <a>: equal
 * JSON, or the same scalar spelled as string/number/bool. */
int rest_same(json_t *a, json_t *b);

/* 409 Conflict when <body> names a value for an immutable member that
 * differs from <cur>.  <members> is NULL-terminated; an entry "A|B" means
 * body member A or its alias B, compared with cur member B. */
int rest_check_immutable(json_t *cur, json_t *body, const char *const *members,
                         struct sl_err *err);

/* Validate an "Attributes" member: absent/null, or a list of at most 100
 * {Key,Value} with string values.  *out borrowed (NULL when absent). */
int rest_attrs_param(json_t *body, json_t **out, struct sl_err *err);

/* ---- reading (one short read transaction each) ---- */

/* The REST view of stored <obj> of <kind>: the object without internal
 * '_' members, with "Tags" and "Attributes" always present, computed
 * members filled in.  New reference. */
json_t *rest_view(struct store_txn *txn, const char *kind, json_t *obj);

/* The view of object (<kind>, <id>), or NULL with a 404 <not_found> error. */
json_t *rest_load(struct op_ctx *ctx, const char *kind, const char *id, const char *not_found,
                  const char *what, struct sl_err *err);

/* The view of the object of <kind> with <arn>; id into <id_out>
 * (ELB_ID_MAX) when non-NULL.  NULL with a 404 error when absent. */
json_t *rest_load_arn(struct op_ctx *ctx, const char *kind, const char *arn, char *id_out,
                      struct sl_err *err);

/* ---- calling operations ---- */

/* ops_call() that consumes <req>.  A NULL result always has <err> set. */
json_t *rest_op(struct op_ctx *ctx, const char *name, json_t *req, struct sl_err *err);

/* Run <name>(<req>) as one step of a multi-step write; consumes <req>.
 * SL_OK or SL_ERR. */
int rest_step(struct op_ctx *ctx, const char *name, json_t *req, struct sl_err *err);

/* Record that <name>(<req>) undoes the step just taken; steals <req>. */
void rest_undo_push(json_t *undo, const char *name, json_t *req);

/* Run the recorded undo steps newest first (failures are logged). */
void rest_rollback(struct op_ctx *ctx, json_t *undo);

/* Modify operation <op> for the members of <members> (NULL-terminated)
 * whose <body> value differs from <cur>; one call, undo recorded.  No call
 * when nothing differs. */
int rest_modify_members(struct op_ctx *ctx, const char *op, const char *arn_member,
                        const char *arn, json_t *cur, json_t *body, const char *const *members,
                        json_t *undo, struct sl_err *err);

/* Apply <attrs> (validated by rest_attrs_param) with <op>: only the keys
 * whose value differs from <cur_attrs>; undo recorded. */
int rest_attrs_apply(struct op_ctx *ctx, const char *op, const char *arn_member,
                     const char *arn, json_t *cur_attrs, json_t *attrs, json_t *undo,
                     struct sl_err *err);

/* Make the tags of <arn> exactly <tags> (validated, [{Key,Value}]) with
 * RemoveTags/AddTags; undo recorded. */
int rest_tags_apply(struct op_ctx *ctx, const char *arn, json_t *cur_tags, json_t *tags,
                    json_t *undo, struct sl_err *err);

/* ---- targets (rest_kinds.c) ---- */

/* /v1/target-groups/{id}/targets[/{target}]; <target> NULL for the
 * collection.  Fills <out>. */
void rest_targets(struct op_ctx *ctx, const struct front_request *req, const char *tg_id,
                  const char *target, struct front_reply *out);

#endif
