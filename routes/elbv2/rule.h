/*
 * rule.h - listener rules: CreateRule, DescribeRules, ModifyRule,
 * SetRulePriorities, DeleteRule.
 *
 * Caveats:
 * - Conditions and actions travel as normalized jansson lists
 *   (elb_conditions_normalize(), elb_actions_normalize()); the writers check
 *   against the store only that their target groups exist.
 * - Results are AWS Rule objects (new references).  A listener's default
 *   rule (IsDefault, Priority "default") is created and deleted with the
 *   listener (listener.h) and cannot be modified, moved or deleted here.
 */
#ifndef SL_ROUTES_ELBV2_RULE_H
#define SL_ROUTES_ELBV2_RULE_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

#define ELB_RULES_PER_LB_MAX 100
#define ELB_PRIORITY_MAX 50000

struct elb_rule_spec {
    const char *listener_arn;
    long priority;          /* 1-50000 */
    json_t *conditions;     /* normalized */
    json_t *actions;        /* normalized */
    const char *id;         /* REST id; NULL: a random one */
    const struct elb_kv *tags;
    size_t ntags;
};

/* Priority, id and tags.  Pure. */
int elb_rule_check(const struct elb_rule_spec *s, struct sl_err *err);

/* CreateRule (<s> checked).  *out: the rule.  Writers. */
int elb_rule_create(struct store_txn *txn, const struct elb_env *env,
                    const struct elb_rule_spec *s, json_t **out, struct sl_err *err);

/* ModifyRule: replace the conditions and/or actions (NULL keeps them).
 * *out: the rule.  Writers. */
int elb_rule_modify(struct store_txn *txn, const char *arn, json_t *conditions, json_t *actions,
                    json_t **out, struct sl_err *err);

struct elb_rule_priority {
    const char *arn;
    long priority;          /* 1-50000 */
};

/* SetRulePriorities: all moves at once (a priority is free if its holder
 * moves too).  *out: the moved rules, in request order.  Writers. */
int elb_rule_priorities_set(struct store_txn *txn, const struct elb_rule_priority *p, size_t n,
                            json_t **out, struct sl_err *err);

/* DeleteRule.  Writers. */
int elb_rule_delete(struct store_txn *txn, const char *arn, struct sl_err *err);

/* DescribeRules: the rules of <listener_arn> (the default last), or the
 * rules <arns>; sorted by priority.  *out: the list. */
int elb_rule_describe(struct store_txn *txn, const char *listener_arn, const char *const *arns,
                      size_t narns, json_t **out, struct sl_err *err);

/* Delete rule <rule_id> (any rule, the default too) with its index
 * entries; a missing rule is not an error.  For listener.c.  Writers. */
int elb_rule_remove(struct store_txn *txn, const char *rule_id, struct sl_err *err);

#endif
