/*
 * elbv2_rules.h - pieces shared by the load balancer, listener and rule
 * operations (routes/elbv2_lb.c, elbv2_listener.c, elbv2_rule.c).
 *
 * Caveats:
 * - A listener's rules are found through the index, never by scanning: the
 *   non-default rules under "prio:<listener id>:", the default rule through
 *   the listener's "_default_rule" member.  A load balancer's listeners are
 *   found under "port:<lb id>:".  Every write that adds or removes one of
 *   these objects must keep those entries in step.
 * - The *_delete helpers run inside a store_write() callback only.
 */
#ifndef SL_ROUTES_ELBV2_RULES_H
#define SL_ROUTES_ELBV2_RULES_H

#include <jansson.h>

#include "common/err.h"
#include "routes/elbv2/elbv2.h"

/* The load balancer's random part of every ARN is 16 hex digits. */
#define ELB_HEX_LEN 16

/* Validate a RuleConditionList (borrowed; the caller has checked it is a
 * list) against AWS's rules for every condition type, in both the legacy
 * "Values" and the *Config forms, and the per-rule limits (one each of
 * host-header, path-pattern, http-request-method, source-ip; 5 values; 5
 * wildcards).  Returns a normalized copy, each condition carrying its *Config
 * form (and "Values" too for host-header and path-pattern), or NULL with a
 * ValidationError in <err>.  Pure: no store access; thread-safe. */
json_t *elb_conditions_param(json_t *conds, struct sl_err *err);

/* Child ARN of <parent>: the resource type <from> (":loadbalancer/",
 * ":listener/") replaced by <to>, then "/<hex>" appended.  SL_ERR if the
 * parent does not have that form or the result does not fit <cap>. */
int elb_child_arn(char *out, size_t cap, const char *parent, const char *from, const char *to,
                  const char *hex);

/* Resolve the REST id of a new object: the request's "id" when given (must
 * pass elb_valid_id; ValidationError otherwise), else <fallback>.  Copies
 * into <out> (ELB_ID_MAX).  SL_ENOTFOUND never: SL_OK or SL_ERR. */
int elb_new_id(json_t *req, const char *fallback, char out[ELB_ID_MAX], struct sl_err *err);

/* Delete rule <rule_id> (its object, ARN and priority index entries and its
 * target-group references).  A missing rule is not an error. */
int elb_rule_delete(struct store_txn *txn, const char *rule_id, struct sl_err *err);

/* Delete listener <listener_id> with all its rules and its port entry. */
int elb_listener_delete(struct store_txn *txn, const char *listener_id, struct sl_err *err);

/* Ids of the listeners of load balancer <lb_id> (new array of strings). */
json_t *elb_lb_listener_ids(struct store_txn *txn, const char *lb_id);

/* Ids of the non-default rules of listener <listener_id> (new array). */
json_t *elb_listener_rule_ids(struct store_txn *txn, const char *listener_id);

/* String member <key> of a stored object, "" when absent or not a string
 * (borrowed from <obj>). */
const char *elb_str(json_t *obj, const char *key);

/* Fill <err> with a 500 for a failed store call and return SL_EIO. */
int elb_store_fail(struct sl_err *err, const char *what);

#endif
