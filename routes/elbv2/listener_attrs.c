/*
 * listener_attrs.c - DescribeListenerAttributes and
 * ModifyListenerAttributes: a listener's attribute list, stored as its
 * "Attributes" member, checked against the table of its protocol.
 */
#include "routes/elbv2/listener.h"

#include <string.h>

#include "routes/elbv2/attrs.h"
#include "routes/elbv2/objects.h"

static const struct elb_attr_table *table_of(json_t *listener)
{
    return strcmp(elb_str(listener, "Protocol"), "HTTPS") == 0 ? &elb_listener_https_attr_table
                                                                : &elb_listener_http_attr_table;
}

static int not_found(struct sl_err *err, const char *arn)
{
    return sl_err_set(err, 400, "ListenerNotFound", "Listener '%.300s' not found", arn);
}

int elb_listener_attrs(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err)
{
    json_t *l = elb_by_arn_ro(txn, K_LISTENER, arn, NULL);

    if (l == NULL)
        return not_found(err, arn);
    *out = elb_attrs_view(table_of(l), json_object_get(l, "Attributes"));
    json_decref(l);
    return SL_OK;
}

int elb_listener_attrs_modify(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                              size_t n, json_t **out, struct sl_err *err)
{
    char id[ELB_ID_MAX];
    json_t *l = elb_by_arn(txn, K_LISTENER, arn, id), *merged;
    int rc = SL_ERR;

    if (l == NULL)
        return not_found(err, arn);
    merged = elb_attrs_merge(json_object_get(l, "Attributes"), kv, n, table_of(l), err);
    if (merged == NULL)
        goto out;
    json_object_set(l, "Attributes", merged);
    if (store_put(txn, K_LISTENER, id, l) != SL_OK) {
        rc = elb_store_fail(err, "update the listener");
        goto out;
    }
    *out = elb_attrs_view(table_of(l), merged);
    rc = SL_OK;
out:
    json_decref(merged);
    json_decref(l);
    return rc;
}
