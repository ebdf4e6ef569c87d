/*
 * rule.c - listener rules.
 *
 * A rule is a K_RULE object: the AWS Rule plus "_listener_id".  Its
 * priority is indexed as "prio:<listener id>:<n>" (non-default rules only),
 * the target groups it forwards to as tgref/ruleref entries (refs.h).
 */
#include "routes/elbv2/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/elbv2/actions.h"
#include "routes/elbv2/listener_tls.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/refs.h"
#include "routes/elbv2/tags.h"
#include "routes/wire/params.h"

static json_t *rule_by_arn(struct store_txn *txn, const char *arn, char id[ELB_ID_MAX],
                           struct sl_err *err)
{
    json_t *r = elb_by_arn(txn, K_RULE, arn, id);

    if (r == NULL)
        sl_err_set(err, 400, "RuleNotFound", "Rule '%.300s' not found", arn);
    return r;
}

static int is_default(json_t *r)
{
    return json_is_true(json_object_get(r, "IsDefault"));
}

static void prio_key(char *out, size_t cap, const char *listener_id, const char *prio)
{
    snprintf(out, cap, "prio:%s:%s", listener_id, prio);
}

int elb_rule_remove(struct store_txn *txn, const char *rule_id, struct sl_err *err)
{
    json_t *r = store_get_shared(txn, K_RULE, rule_id);
    char key[2 * ELB_ID_MAX + 16];
    int rc = SL_OK;

    if (r == NULL)
        return SL_OK;
    if (!is_default(r)) {
        prio_key(key, sizeof(key), elb_str(r, "_listener_id"), elb_str(r, "Priority"));
        store_index_del(txn, key);
    }
    if (elb_refs_update(txn, rule_id, "", NULL) != SL_OK ||
        elb_remove(txn, K_RULE, rule_id, json_string_value(json_object_get(r, "arn"))) != SL_OK)
        rc = elb_store_fail(err, "delete the rule");
    json_decref(r);
    return rc;
}

/* Number of non-default rules on load balancer <lb_id>. */
static size_t lb_rule_count(struct store_txn *txn, const char *lb_id)
{
    json_t *ls = elb_lb_listener_ids(txn, lb_id), *l, *rules;
    size_t i, n = 0;

    json_array_foreach(ls, i, l) {
        rules = elb_listener_rule_ids(txn, json_string_value(l));
        n += json_array_size(rules);
        json_decref(rules);
    }
    json_decref(ls);
    return n;
}

/* ---- CreateRule ---- */

int elb_rule_check(const struct elb_rule_spec *s, struct sl_err *err)
{
    if (s->priority < 1 || s->priority > ELB_PRIORITY_MAX)
        return p_out_of_range(err, "Priority", s->priority, 1, ELB_PRIORITY_MAX);
    if (s->id && !elb_valid_id(s->id))
        return sl_err_set(err, 400, "ValidationError",
                          "id '%.128s' must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' "
                          "and '-'",
                          s->id);
    return elb_tags_check(s->tags, s->ntags, err);
}

/* Room for a new rule at <s>'s priority on listener <l> (id <lid>). */
static int rule_room(struct store_txn *txn, json_t *l, const char *lid,
                     const struct elb_rule_spec *s, struct sl_err *err)
{
    char key[2 * ELB_ID_MAX + 16], prio[16], other[ELB_ID_MAX];

    snprintf(prio, sizeof(prio), "%ld", s->priority);
    prio_key(key, sizeof(key), lid, prio);
    if (store_index_get(txn, key, other, sizeof(other)) == SL_OK)
        return sl_err_set(err, 400, "PriorityInUse", "Priority '%ld' is currently in use",
                          s->priority);
    if (lb_rule_count(txn, elb_str(l, "_lb_id")) >= ELB_RULES_PER_LB_MAX)
        return sl_err_set(err, 400, "TooManyRules",
                          "You've reached the limit of %d rules per load balancer",
                          ELB_RULES_PER_LB_MAX);
    if (elb_redirect_protocol_check(s->actions, elb_str(l, "Protocol"), err) != SL_OK)
        return SL_ERR;
    return elb_actions_check(txn, s->actions, err);
}

int elb_rule_create(struct store_txn *txn, const struct elb_env *env,
                    const struct elb_rule_spec *s, json_t **out, struct sl_err *err)
{
    char lid[ELB_ID_MAX], key[2 * ELB_ID_MAX + 16], hex[ELB_HEX_LEN + 1], arn[ELB_ARN_MAX],
        prio[16];
    json_t *l, *rule = NULL;
    const char *id, *lb_arn;
    int rc = SL_ERR;

    if ((l = elb_by_arn_ro(txn, K_LISTENER, s->listener_arn, lid)) == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found",
                          s->listener_arn);
    lb_arn = elb_str(l, "LoadBalancerArn");
    if (rule_room(txn, l, lid, s, err) != SL_OK)
        goto out;
    util_random_hex(hex, ELB_HEX_LEN / 2);
    id = s->id ? s->id : hex;
    if ((rule = store_get_shared(txn, K_RULE, id)) != NULL) {
        sl_err_set(err, 409, "Conflict", "A rule with id '%s' already exists", id);
        goto out;
    }
    if (elb_child_arn(arn, sizeof(arn), s->listener_arn, ":listener/", ":listener-rule/", hex) !=
        SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "cannot derive the rule ARN");
        goto out;
    }
    snprintf(prio, sizeof(prio), "%ld", s->priority);
    rule = json_pack("{ss ss sO sO sb ss ss so ss}", "RuleArn", arn, "Priority", prio,
                     "Conditions", s->conditions, "Actions", s->actions, "IsDefault", 0, "id", id,
                     "arn", arn, "Tags", elb_tags_json(s->tags, s->ntags), "_listener_id", lid);
    if (rule == NULL) {
        sl_err_set(err, 500, "InternalFailure", "out of memory");
        goto out;
    }
    prio_key(key, sizeof(key), lid, prio);
    if (elb_insert(txn, K_RULE, id, rule) != SL_OK || store_index_put(txn, key, id) != SL_OK ||
        elb_refs_update(txn, id, lb_arn, s->actions) != SL_OK) {
        rc = elb_store_fail(err, "store the rule");
        goto out;
    }
    *out = elb_public(rule);
    rc = SL_OK;
out:
    json_decref(rule);
    json_decref(l);
    return rc;
}

/* ---- ModifyRule ---- */

int elb_rule_modify(struct store_txn *txn, const char *arn, json_t *conditions, json_t *actions,
                    json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *r, *l = NULL;
    int rc = SL_ERR;

    if ((r = rule_by_arn(txn, arn, id, err)) == NULL)
        return SL_ERR;
    if (is_default(r)) {
        sl_err_set(err, 400, "OperationNotPermitted",
                   "The default rule cannot be modified; change the listener's DefaultActions "
                   "with ModifyListener");
        goto out;
    }
    if (conditions)
        json_object_set(r, "Conditions", conditions);
    if (actions) {
        l = store_get_shared(txn, K_LISTENER, elb_str(r, "_listener_id"));
        if (elb_actions_check(txn, actions, err) != SL_OK ||
            elb_redirect_protocol_check(actions, elb_str(l, "Protocol"), err) != SL_OK)
            goto out;
        json_object_set(r, "Actions", actions);
        if (elb_refs_update(txn, id, elb_str(l, "LoadBalancerArn"), actions) != SL_OK) {
            rc = elb_store_fail(err, "update the rule references");
            goto out;
        }
    }
    if (store_put(txn, K_RULE, id, r) != SL_OK) {
        rc = elb_store_fail(err, "update the rule");
        goto out;
    }
    *out = elb_public(r);
    rc = SL_OK;
out:
    json_decref(l);
    json_decref(r);
    return rc;
}

/* ---- SetRulePriorities ---- */

struct move {
    char id[ELB_ID_MAX];
    char listener[ELB_ID_MAX];
    json_t *rule;
};

/* Load the rules to move and check the request against itself. */
static int moves_load(struct store_txn *txn, const struct elb_rule_priority *p, struct move *m,
                      size_t n, struct sl_err *err)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        if (p[i].priority < 1 || p[i].priority > ELB_PRIORITY_MAX)
            return p_out_of_range(err, "Priority", p[i].priority, 1, ELB_PRIORITY_MAX);
        if ((m[i].rule = rule_by_arn(txn, p[i].arn, m[i].id, err)) == NULL)
            return SL_ERR;
        if (is_default(m[i].rule))
            return sl_err_set(err, 400, "OperationNotPermitted",
                              "The priority of the default rule cannot be changed");
        snprintf(m[i].listener, sizeof(m[i].listener), "%s", elb_str(m[i].rule, "_listener_id"));
        for (j = 0; j < i; j++) {
            if (strcmp(m[j].id, m[i].id) == 0)
                return sl_err_set(err, 400, "ValidationError",
                                  "Rule '%.300s' was provided multiple times", p[i].arn);
            if (strcmp(m[j].listener, m[i].listener) == 0 && p[j].priority == p[i].priority)
                return sl_err_set(err, 400, "ValidationError",
                                  "Priority '%ld' was provided multiple times", p[i].priority);
        }
    }
    return SL_OK;
}

/* A priority is free if nobody holds it, or its holder moves too. */
static int moves_free(struct store_txn *txn, const struct elb_rule_priority *p,
                      const struct move *m, size_t n, struct sl_err *err)
{
    char key[2 * ELB_ID_MAX + 16], holder[ELB_ID_MAX], prio[16];
    size_t i, j;

    for (i = 0; i < n; i++) {
        snprintf(prio, sizeof(prio), "%ld", p[i].priority);
        prio_key(key, sizeof(key), m[i].listener, prio);
        if (store_index_get(txn, key, holder, sizeof(holder)) != SL_OK)
            continue;
        for (j = 0; j < n; j++)
            if (strcmp(m[j].id, holder) == 0)
                break;
        if (j == n)
            return sl_err_set(err, 400, "PriorityInUse", "Priority '%ld' is currently in use",
                              p[i].priority);
    }
    return SL_OK;
}

int elb_rule_priorities_set(struct store_txn *txn, const struct elb_rule_priority *p, size_t n,
                            json_t **out, struct sl_err *err)
{
    char key[2 * ELB_ID_MAX + 16], prio[16];
    struct move *m = calloc(n ? n : 1, sizeof(*m));
    json_t *list = NULL;
    size_t i;
    int rc = SL_ERR;

    if (m == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (moves_load(txn, p, m, n, err) != SL_OK || moves_free(txn, p, m, n, err) != SL_OK)
        goto out;
    for (i = 0; i < n; i++) {
        prio_key(key, sizeof(key), m[i].listener, elb_str(m[i].rule, "Priority"));
        store_index_del(txn, key);
    }
    list = json_array();
    for (i = 0; i < n; i++) {
        snprintf(prio, sizeof(prio), "%ld", p[i].priority);
        prio_key(key, sizeof(key), m[i].listener, prio);
        json_object_set_new(m[i].rule, "Priority", json_string(prio));
        if (store_index_put(txn, key, m[i].id) != SL_OK ||
            store_put(txn, K_RULE, m[i].id, m[i].rule) != SL_OK) {
            rc = elb_store_fail(err, "update the rule priority");
            goto out;
        }
        json_array_append_new(list, elb_public(m[i].rule));
    }
    *out = list;
    list = NULL;
    rc = SL_OK;
out:
    for (i = 0; i < n; i++)
        json_decref(m[i].rule);
    free(m);
    json_decref(list);
    return rc;
}

/* ---- DeleteRule ---- */

int elb_rule_delete(struct store_txn *txn, const char *arn, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *r = rule_by_arn(txn, arn, id, err);
    int def;

    if (r == NULL)
        return SL_ERR;
    def = is_default(r);
    json_decref(r);
    if (def)
        return sl_err_set(err, 400, "OperationNotPermitted",
                          "The default rule cannot be deleted; delete the listener instead");
    return elb_rule_remove(txn, id, err);
}

/* ---- DescribeRules ---- */

/* Priority for sorting: the default rule last. */
static long rule_prio(json_t *r)
{
    if (is_default(r))
        return 100000;
    return strtol(elb_str(r, "Priority"), NULL, 10);
}

static int by_priority(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    long pa = rule_prio(a), pb = rule_prio(b);

    if (pa != pb)
        return pa < pb ? -1 : 1;
    return strcmp(elb_str(a, "RuleArn"), elb_str(b, "RuleArn"));
}

/* The rules of listener <arn>, the default one too (shared objects). */
static int listener_rules(struct store_txn *txn, const char *arn, json_t *all,
                          struct sl_err *err)
{
    char lid[ELB_ID_MAX];
    json_t *l = elb_by_arn_ro(txn, K_LISTENER, arn, lid), *ids, *v;
    const char *def;
    size_t i;

    if (l == NULL)
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", arn);
    ids = elb_listener_rule_ids(txn, lid);
    if ((def = json_string_value(json_object_get(l, "_default_rule"))) != NULL)
        json_array_append_new(ids, json_string(def));
    json_decref(l);
    json_array_foreach(ids, i, v) {
        json_t *r = store_get_shared(txn, K_RULE, json_string_value(v));
        if (r)
            json_array_append_new(all, r);
    }
    json_decref(ids);
    return SL_OK;
}

int elb_rule_describe(struct store_txn *txn, const char *listener_arn, const char *const *arns,
                      size_t narns, json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *all = json_array(), *pub, *r;
    size_t i;

    if (listener_arn && listener_rules(txn, listener_arn, all, err) != SL_OK)
        goto fail;
    for (i = 0; listener_arn == NULL && i < narns; i++) {
        if ((r = elb_by_arn_ro(txn, K_RULE, arns[i], id)) == NULL) {
            sl_err_set(err, 400, "RuleNotFound", "Rule '%.300s' not found", arns[i]);
            goto fail;
        }
        json_array_append_new(all, r);
    }
    elb_sort(all, by_priority);
    pub = json_array();
    json_array_foreach(all, i, r)
        json_array_append_new(pub, elb_public(r));
    json_decref(all);
    *out = pub;
    return SL_OK;
fail:
    json_decref(all);
    return SL_ERR;
}
