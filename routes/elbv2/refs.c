/*
 * refs.c - the rule -> target group reference index.
 */
#include "routes/elbv2/refs.h"

#include <stdio.h>
#include <string.h>

static int collect_key(const char *key, const char *val, void *arg)
{
    json_array_append_new(arg, json_string(key));
    return 0;
}

static int add_tg_ref(struct store_txn *txn, const char *rule_id, const char *lb_arn,
                      const char *tg_arn)
{
    char kind[16], tg_id[ELB_ID_MAX], key[2 * ELB_ID_MAX + 16];

    if (tg_arn == NULL || elb_resolve_arn(txn, tg_arn, kind, tg_id) != SL_OK ||
        strcmp(kind, K_TG) != 0)
        return SL_OK;
    snprintf(key, sizeof(key), "tgref:%s:%s", tg_id, rule_id);
    if (store_index_put(txn, key, lb_arn) != SL_OK)
        return SL_EIO;
    snprintf(key, sizeof(key), "ruleref:%s:%s", rule_id, tg_id);
    return store_index_put(txn, key, "") == SL_OK ? SL_OK : SL_EIO;
}

int elb_refs_update(struct store_txn *txn, const char *rule_id, const char *lb_arn,
                    json_t *actions)
{
    char prefix[ELB_ID_MAX + 16], key[2 * ELB_ID_MAX + 16];
    json_t *old = json_array(), *k, *a, *tg;
    size_t i, j;
    int rc = SL_OK;

    snprintf(prefix, sizeof(prefix), "ruleref:%s:", rule_id);
    store_index_scan(txn, prefix, collect_key, old);
    json_array_foreach(old, i, k) {
        const char *tg_id = json_string_value(k) + strlen(prefix);
        snprintf(key, sizeof(key), "tgref:%s:%s", tg_id, rule_id);
        store_index_del(txn, key);
        store_index_del(txn, json_string_value(k));
    }
    json_decref(old);
    json_array_foreach(actions, i, a) {
        /* A normalized forward names each group in ForwardConfig too; the
         * single TargetGroupArn is one of them. */
        json_array_foreach(json_object_get(json_object_get(a, "ForwardConfig"), "TargetGroups"),
                           j, tg)
            if (rc == SL_OK)
                rc = add_tg_ref(txn, rule_id, lb_arn,
                                json_string_value(json_object_get(tg, "TargetGroupArn")));
        if (rc == SL_OK)
            rc = add_tg_ref(txn, rule_id, lb_arn,
                            json_string_value(json_object_get(a, "TargetGroupArn")));
    }
    return rc;
}

static int collect_lb(const char *key, const char *val, void *arg)
{
    json_t *arr = arg, *e;
    size_t i;

    json_array_foreach(arr, i, e)
        if (strcmp(json_string_value(e), val) == 0)
            return 0;
    json_array_append_new(arr, json_string(val));
    return 0;
}

json_t *elb_tg_lb_arns(struct store_txn *txn, const char *tg_id)
{
    char prefix[ELB_ID_MAX + 16];
    json_t *out = json_array();

    snprintf(prefix, sizeof(prefix), "tgref:%s:", tg_id);
    store_index_scan(txn, prefix, collect_lb, out);
    return out;
}

static int stop_at_first(const char *key, const char *val, void *arg)
{
    return 1;
}

int elb_tg_in_use(struct store_txn *txn, const char *tg_id)
{
    char prefix[ELB_ID_MAX + 16];

    snprintf(prefix, sizeof(prefix), "tgref:%s:", tg_id);
    return store_index_scan(txn, prefix, stop_at_first, NULL) == 1;
}
