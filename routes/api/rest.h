/*
 * rest.h - pieces shared by the REST front door's files: front_rest.c
 * (router, and the create/read/list/replace/delete flow every collection
 * shares), rest_kinds.c (what differs per resource kind), rest_targets.c
 * (/v1/target-groups/{id}/targets) and rest_util.c (replies, body checks).
 * Internal to routes/api/; the public entry is front_rest() in front.h.
 * The contract is openapi/openapi.yaml.
 *
 * Caveats:
 * - Every REST write is one store transaction: a create with Attributes
 *   (Create* then Modify*Attributes), a PUT of several members (Modify*,
 *   SetRulePriorities, attributes, tags) either applies whole or changes
 *   nothing.  Concurrent writers to the same object are serialized by the
 *   store (last writer wins, as on AWS).
 * - A body is decoded before its transaction, except the members of a PUT
 *   that differ from the current object: which those are is known only
 *   inside the transaction that read it.
 * - Every json_t read from a request body may have any type: use rest_str()
 *   or the params.h accessors, never json_string_value() into strcmp().
 */
#ifndef SL_ROUTES_API_REST_H
#define SL_ROUTES_API_REST_H

#include <jansson.h>

#include "common/err.h"
#include "routes/api/elbv2_actions.h"
#include "routes/api/front.h"

/* A REST create: the body and what the kind decoded from it. */
struct rest_create {
    json_t *req;                   /* private copy of the body: no Attributes, no null id */
    const char *id;                /* the REST id asked for, or NULL */
    struct elb_kv *attrs;          /* Attributes to set in the same transaction */
    size_t nattrs;
    json_t *parent;                /* the parent's view a REST id reference named */
    union {
        struct api_lb lb;
        struct api_tg tg;
        struct api_listener listener;
        struct api_rule rule;
    } u;
};

/* One REST collection (/v1/<path>) backed by one store kind. */
struct rest_kind {
    const char *path;            /* "target-groups" */
    const char *kind;            /* store kind: K_TG */
    const char *what;            /* "target group", for messages */
    const char *arn_member;      /* "TargetGroupArn" */
    const char *not_found;       /* "TargetGroupNotFound" */
    /* Create: decode c->req into c->u before the transaction (REST
     * conveniences included), then create in it; *created is the AWS
     * object.  create_free releases c->u. */
    int (*create_decode)(struct rest_create *c, struct sl_err *err);
    int (*create)(struct store_txn *txn, const struct api_ctx *ctx, struct rest_create *c,
                  json_t **created, struct sl_err *err);
    void (*create_free)(struct rest_create *c);
    /* Modify*Attributes; NULL: the kind has no attributes. */
    int (*attrs_modify)(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                        size_t n, json_t **out, struct sl_err *err);
    /* PUT, the kind's own part, inside the transaction: reject changes to
     * immutable members (409) and apply the members of <body> that differ
     * from <cur> (the REST view, borrowed).  The generic part (id,
     * Attributes, Tags) is in front_rest.c. */
    int (*put)(struct store_txn *txn, const struct api_ctx *ctx, json_t *cur, json_t *body,
               struct sl_err *err);
    /* DELETE of the object with <arn>. */
    int (*destroy)(struct store_txn *txn, const struct api_ctx *ctx, const char *arn,
                   struct sl_err *err);
    /* List filter: query argument naming an ARN, and one naming a REST id of
     * kind <filter_kind>.  NULL filter_arg: no filter. */
    const char *filter_arg;      /* "LoadBalancerArn" */
    const char *filter_id_arg;   /* "LoadBalancerId" */
    const char *filter_kind;     /* K_LB */
};

/* The collections, terminated by {NULL}.  Defined in rest_kinds.c. */
extern const struct rest_kind rest_kinds[];

/* The collection of store kind <kind>, or NULL. */
const struct rest_kind *rest_kind_of(const char *kind);

/* ---- replies (rest_util.c) ---- */

/* HTTP status for an operation error: *NotFound 404; Duplicate* (except
 * DuplicateTagKeys), PriorityInUse, ResourceInUse, Conflict,
 * OperationNotPermitted and TooMany* 409; 401/403/405/413 and 5xx kept;
 * every other error 400. */
int rest_status(const struct sl_err *e);

/* Fill <out> with the REST error for <e> (status per rest_status()). */
void rest_reply_error(const struct sl_err *e, struct front_reply *out);

/* Fill <out> with <status> and <body> as compact JSON; steals <body>. */
void rest_reply_json(struct front_reply *out, int status, json_t *body);

/* The request body as a JSON object (new reference), or NULL with a 400
 * InvalidJSON reply in <out> (empty, malformed, duplicate keys, not an
 * object). */
json_t *rest_parse_body(const struct front_request *req, struct front_reply *out);

/* ---- request members (rest_util.c) ---- */

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

/* The members of <members> (NULL-terminated) whose <body> value differs
 * from <cur>: a new object (empty when none). */
json_t *rest_changes(json_t *cur, json_t *body, const char *const *members);

/* An "Attributes" member: absent/null, or a list of at most 100 {Key,Value}
 * with string values.  *out (free() it) gets *n pairs. */
int rest_attrs_param(json_t *body, struct elb_kv **out, size_t *n, struct sl_err *err);

/* The pairs of <kv> whose value differs from the [{Key,Value}] list <cur>,
 * moved to the front of <kv>; returns how many. */
size_t rest_attrs_changed(json_t *cur, struct elb_kv *kv, size_t n);

/* ---- the shape written (rest_written.c) ---- */

/* Record the members of <body> (a POST or PUT body, borrowed) as the REST
 * client wrote them on object (<kind>, <id>), with their canonical form now;
 * members earlier writes recorded and <body> does not name stay recorded.
 * Writers. */
int rest_written_record(struct store_txn *txn, const char *kind, const char *id, json_t *body,
                        struct sl_err *err);

/* Show the members recorded on <view> (an elb_view_*() result, changed in
 * place) as written while their canonical form is unchanged, and remove the
 * record.  Every view the REST door answers with goes through it. */
void rest_written_apply(json_t *view);

/* ---- targets (rest_targets.c) ---- */

/* /v1/target-groups/{id}/targets[/{target}]; <target> NULL for the
 * collection.  Fills <out>. */
void rest_targets(const struct api_ctx *ctx, const struct front_request *req, const char *tg_id,
                  const char *target, struct front_reply *out);

#endif
