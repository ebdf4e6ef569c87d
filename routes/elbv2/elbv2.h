/*
 * elbv2.h - shared pieces of the ELBv2 operations (routes/elbv2_*.c).
 *
 * Stored objects are the AWS API shapes (TargetGroup, LoadBalancer,
 * Listener, Rule) plus "id" (the REST id), "arn", "Tags" [{Key,Value}],
 * "Attributes" [{Key,Value}] and internal members whose names start with
 * '_'.  elb_public() strips the extras for Describe* output.
 *
 * Index keys (store_index_*):
 *   "arn:<arn>"                -> "<kind>/<id>"
 *   "name:<kind>:<name>"       -> id            (lb, tg names are unique)
 *   "port:<lb id>:<port>"      -> listener id
 *   "prio:<listener id>:<n>"   -> rule id
 *   "tgref:<tg id>:<rule id>"  -> load balancer ARN (rule forwards to tg)
 *   "ruleref:<rule id>:<tg id>"-> ""             (reverse of tgref)
 *   "drain:<deadline>:<target>"-> target key     (draining targets by deadline)
 */
#ifndef SL_ROUTES_ELBV2_H
#define SL_ROUTES_ELBV2_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "routes/elbv2/ops.h"
#include "store/store.h"

#define K_LB "lb"
#define K_TG "tg"
#define K_LISTENER "listener"
#define K_RULE "rule"
#define K_TARGET "target"

#define ELB_ID_MAX 128
#define ELB_ARN_MAX 512

/* Begin a read transaction, filling <err> on failure. */
int elb_read(struct op_ctx *ctx, struct store_txn **txn, struct sl_err *err);

/* The selector of DescribeListeners / DescribeRules: either the parent ARN
 * <pname> or the list <lname> of at most <max> ARNs, exactly one of them.
 * <lwhat> and <pwhat> name them in AWS's messages ("listener ARNs", "a load
 * balancer ARN").  SL_OK with *parent or *list set (borrowed), else SL_ERR. */
int elb_parent_or_arns(json_t *req, const char *pname, const char *lname, size_t max,
                       const char *lwhat, const char *pwhat, const char **parent, json_t **list,
                       struct sl_err *err);

/* Fetch the object of <kind> with <arn>; new reference or NULL.  The id is
 * copied to <id_out> (ELB_ID_MAX) when non-NULL. */
json_t *elb_by_arn(struct store_txn *txn, const char *kind, const char *arn, char *id_out);

/* As elb_by_arn(), but the object is shared and READ-ONLY (see
 * store_get_shared()): for operations that only read it. */
json_t *elb_by_arn_ro(struct store_txn *txn, const char *kind, const char *arn, char *id_out);

/* Kind and id of any resource <arn>; SL_ENOTFOUND if unknown. */
int elb_resolve_arn(struct store_txn *txn, const char *arn, char kind[16], char id[ELB_ID_MAX]);

/* Store a new object and index its ARN. */
int elb_insert(struct store_txn *txn, const char *kind, const char *id, json_t *obj);

/* Delete an object and its ARN index entry. */
int elb_remove(struct store_txn *txn, const char *kind, const char *id, const char *arn);

/* "arn:aws:elasticloadbalancing:<region>:<account>:<resource>" into <out>. */
void elb_arn(char *out, size_t cap, const struct op_ctx *ctx, const char *resource);

/* A copy of <obj> without id, arn, Tags, Attributes and '_' members. */
json_t *elb_public(json_t *obj);

/* Apply Marker/PageSize (1-400) from <req> to <all> (borrowed).  Returns the
 * page (new reference) and sets *next (new string reference or NULL). */
json_t *elb_page(json_t *req, json_t *all, json_t **next, struct sl_err *err);

/* Validate a REST/ELB resource id: 1-128 of [A-Za-z0-9._-]. */
int elb_valid_id(const char *id);

/* Validate an LB / TG name per AWS: 1-32 alphanumerics or hyphens, no
 * leading/trailing hyphen.  <what> names the member in the error. */
int elb_valid_name(const char *name, const char *what, struct sl_err *err);

/* Tags from a request ("Tags":[{Key,Value}]): validated (keys 1-128, values
 * 0-256, at most 50, keys unique).  New reference ([] when absent). */
json_t *elb_tags_param(json_t *req, struct sl_err *err);

/* Attribute tables: key, default, type and range. */
enum elb_attr_type { ATTR_INT, ATTR_BOOL, ATTR_ENUM, ATTR_STR };
struct elb_attr {
    const char *key;
    const char *def;
    enum elb_attr_type type;
    long min, max;
    const char *const *values; /* ATTR_ENUM */
};

/* Default attribute list [{Key,Value}] for <table> (NULL-key terminated). */
json_t *elb_attrs_default(const struct elb_attr *table);

/* Merge the request's Attributes [{Key,Value}] into <current> (borrowed),
 * validating each against <table>.  New reference or NULL with <err>
 * (ValidationError / InvalidConfigurationRequest). */
json_t *elb_attrs_merge(json_t *current, json_t *changes, const struct elb_attr *table,
                        struct sl_err *err);

/* Value of attribute <key> in a [{Key,Value}] list; NULL if absent. */
const char *elb_attr_get(json_t *attrs, const char *key);

/* Record which target groups <rule_id> on load balancer <lb_arn> forwards to,
 * per <actions> (the rule's Actions; NULL removes every record). */
int elb_refs_update(struct store_txn *txn, const char *rule_id, const char *lb_arn,
                    json_t *actions);

/* ARNs of the load balancers whose rules forward to target group <tg_id>
 * (unique, new array). */
json_t *elb_tg_lb_arns(struct store_txn *txn, const char *tg_id);

/* Non-zero if some rule forwards to <tg_id>. */
int elb_tg_in_use(struct store_txn *txn, const char *tg_id);

/* Index key of a draining target, ordered by deadline:
 * "drain:<deadline ms, 16 digits>:<target key>" -> target key. */
void elb_drain_key(char *out, size_t cap, uint64_t deadline_ms, const char *target_key);

/* Delete target <key> and its drain index entry, if any. */
int elb_target_remove(struct store_txn *txn, const char *key);

/* Remove every draining target whose deadline is at or before <now_ms>.
 * Runs inside a write transaction; *removed counts them. */
int elb_drain_expire(struct store_txn *txn, uint64_t now_ms, size_t *removed);

/* RegisterTargets / DeregisterTargets inside the caller's write transaction
 * (the ECS scheduler registers a task's targets and updates the task in one
 * transaction).  <targets> (borrowed) is [{"Id","Port"}]; a deregistered
 * target drains from <now_ms> (wall clock).  SL_OK, or an error in <err>
 * (TargetGroupNotFound, InvalidTarget, TooManyTargets) after which the
 * caller must fail its transaction: some targets may have been written. */
int elb_targets_register_txn(struct store_txn *txn, const char *tg_arn, json_t *targets,
                             struct sl_err *err);
int elb_targets_deregister_txn(struct store_txn *txn, const char *tg_arn, json_t *targets,
                               uint64_t now_ms, struct sl_err *err);

/* Validate the Actions list of a listener or rule against the store (target
 * groups must exist) and AWS limits; returns a normalized copy (Order set,
 * ForwardConfig filled for single-TG forwards) or NULL with <err>.
 * Defined in elbv2_rule.c. */
json_t *elb_actions_param(struct store_txn *txn, json_t *actions, const char *member,
                          struct sl_err *err);

/* Per-family operations, registered in elbv2_ops[]. */
json_t *op_create_load_balancer(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_load_balancers(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_delete_load_balancer(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_load_balancer_attributes(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_modify_load_balancer_attributes(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_create_target_group(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_target_groups(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_modify_target_group(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_delete_target_group(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_target_group_attributes(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_modify_target_group_attributes(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_register_targets(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_deregister_targets(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_target_health(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_create_listener(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_listeners(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_modify_listener(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_delete_listener(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_create_rule(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_rules(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_modify_rule(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_set_rule_priorities(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_delete_rule(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_add_tags(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_remove_tags(struct op_ctx *, json_t *, struct sl_err *);
json_t *op_describe_tags(struct op_ctx *, json_t *, struct sl_err *);

#endif
