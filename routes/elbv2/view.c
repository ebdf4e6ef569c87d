/*
 * view.c - REST views of stored ELBv2 objects.
 */
#include "routes/elbv2/view.h"

#include <string.h>

#include "routes/elbv2/attrs.h"
#include "routes/elbv2/listener.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/refs.h"
#include "routes/elbv2/rule.h"
#include "routes/elbv2/tg.h"

/* The attribute table of <obj> of <kind>, or NULL for kinds without. */
static const struct elb_attr_table *attr_table(const char *kind, json_t *obj)
{
    if (strcmp(kind, K_LB) == 0)
        return &elb_lb_attr_table;
    if (strcmp(kind, K_TG) == 0)
        return &elb_tg_attr_table;
    if (strcmp(kind, K_LISTENER) == 0)
        return strcmp(elb_str(obj, "Protocol"), "HTTPS") == 0 ? &elb_listener_https_attr_table
                                                               : &elb_listener_http_attr_table;
    return NULL;
}

static json_t *view(struct store_txn *txn, const char *kind, json_t *obj)
{
    const struct elb_attr_table *t = attr_table(kind, obj);
    json_t *v = json_object(), *val;
    const char *k;

    json_object_foreach(obj, k, val)
        if (k[0] != '_' || strcmp(k, ELB_VIEW_WRITTEN) == 0)
            json_object_set(v, k, val);
    if (!json_is_array(json_object_get(v, "Tags")))
        json_object_set_new(v, "Tags", json_array());
    /* The attributes as Describe*Attributes shows them: the keys sluice
     * accepts, with their defaults. */
    json_object_set_new(v, "Attributes", t ? elb_attrs_view(t, json_object_get(obj, "Attributes"))
                                           : json_array());
    if (strcmp(kind, K_TG) == 0 && json_is_string(json_object_get(v, "id")))
        json_object_set_new(v, "LoadBalancerArns", elb_tg_lb_arns(txn, elb_str(v, "id")));
    if (strcmp(kind, K_RULE) == 0 && json_object_get(v, "ListenerArn") == NULL) {
        /* The AWS Rule shape has no ListenerArn; REST users need it. */
        json_t *l = store_get_shared(txn, K_LISTENER, elb_str(obj, "_listener_id"));
        if (json_is_string(json_object_get(l, "arn")))
            json_object_set(v, "ListenerArn", json_object_get(l, "arn"));
        json_decref(l);
    }
    return v;
}

int elb_view_get(struct store_txn *txn, const char *kind, const char *id, json_t **out)
{
    json_t *obj = store_get_shared(txn, kind, id);

    if (obj == NULL)
        return SL_ENOTFOUND;
    *out = view(txn, kind, obj);
    json_decref(obj);
    return SL_OK;
}

int elb_view_by_arn(struct store_txn *txn, const char *kind, const char *arn, char *id_out,
                    json_t **out)
{
    json_t *obj = elb_by_arn_ro(txn, kind, arn, id_out);

    if (obj == NULL)
        return SL_ENOTFOUND;
    *out = view(txn, kind, obj);
    json_decref(obj);
    return SL_OK;
}

struct scan {
    struct store_txn *txn;
    const char *kind;
    json_t *items;
};

static int scan_one(const char *id, json_t *obj, void *arg)
{
    struct scan *s = arg;

    json_array_append_new(s->items, view(s->txn, s->kind, obj));
    return 0;
}

int elb_view_list(struct store_txn *txn, const char *kind, const char *parent_arn, json_t **out,
                  struct sl_err *err)
{
    struct scan s = {txn, kind, json_array()};
    const char *member = "";
    json_t *found = NULL, *e, *v;
    size_t i;
    int rc = SL_OK;

    if (parent_arn == NULL) {
        store_scan(txn, kind, NULL, scan_one, &s);
        *out = s.items;
        return SL_OK;
    }
    if (strcmp(kind, K_TG) == 0) {
        struct elb_tg_select sel = {NULL, 0, NULL, 0, parent_arn};
        rc = elb_tg_describe(txn, &sel, &found, err);
        member = "TargetGroupArn";
    } else if (strcmp(kind, K_LISTENER) == 0) {
        rc = elb_listener_describe(txn, parent_arn, NULL, 0, &found, err);
        member = "ListenerArn";
    } else if (strcmp(kind, K_RULE) == 0) {
        rc = elb_rule_describe(txn, parent_arn, NULL, 0, &found, err);
        member = "RuleArn";
    } else {
        rc = sl_err_set(err, 400, "ValidationError", "this collection has no parent filter");
    }
    if (rc != SL_OK) {
        json_decref(s.items);
        return SL_ERR;
    }
    json_array_foreach(found, i, e)
        if (elb_view_by_arn(txn, kind, elb_str(e, member), NULL, &v) == SL_OK)
            json_array_append_new(s.items, v);
    json_decref(found);
    *out = s.items;
    return SL_OK;
}
