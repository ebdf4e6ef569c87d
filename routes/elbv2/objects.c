/*
 * objects.c - stored ELBv2 objects, their ARN and name index entries, and
 * the index walks from a load balancer to its listeners and from a
 * listener to its rules.
 */
#include "routes/elbv2/objects.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int elb_valid_id(const char *id)
{
    size_t n = 0;

    for (; id[n]; n++) {
        unsigned char c = (unsigned char)id[n];
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0 && n < ELB_ID_MAX;
}

int elb_name_check(const char *name, const char *what, struct sl_err *err)
{
    size_t n = strlen(name), i;

    if (n == 0)
        return sl_err_set(err, 400, "ValidationError", "%s cannot be empty", what);
    if (n > ELB_NAME_MAX)
        return sl_err_set(err, 400, "ValidationError",
                          "%s '%.64s' cannot be longer than '32' characters", what, name);
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-')
            return sl_err_set(err, 400, "ValidationError",
                              "%s '%s' can only contain characters that are alphanumeric "
                              "characters or hyphens(-)",
                              what, name);
    if (name[0] == '-' || name[n - 1] == '-')
        return sl_err_set(err, 400, "ValidationError", "%s '%s' cannot begin or end with '-'",
                          what, name);
    return SL_OK;
}

int elb_tg_name_check(const char *name, struct sl_err *err)
{
    if (elb_name_check(name, "Target group name", err) != SL_OK)
        return SL_ERR;
    if (strstr(name, "--"))
        return sl_err_set(err, 400, "ValidationError",
                          "1 validation error detected: Value '%s' at "
                          "'targetGroup.targetGroupArn.targetGroupName' failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "(?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$",
                          name);
    return SL_OK;
}

int elb_store_fail(struct sl_err *err, const char *what)
{
    sl_err_set(err, 500, "InternalFailure", "store: cannot %s", what);
    return SL_EIO;
}

int elb_resolve_arn(struct store_txn *txn, const char *arn, char kind[16], char id[ELB_ID_MAX])
{
    char key[ELB_ARN_MAX + 8], val[ELB_ID_MAX + 20];
    char *slash;

    if (arn == NULL || strlen(arn) > ELB_ARN_MAX)
        return SL_ENOTFOUND;
    snprintf(key, sizeof(key), "arn:%s", arn);
    if (store_index_get(txn, key, val, sizeof(val)) != SL_OK)
        return SL_ENOTFOUND;
    slash = strchr(val, '/');
    if (slash == NULL || (size_t)(slash - val) >= 16 || strlen(slash + 1) >= ELB_ID_MAX)
        return SL_ENOTFOUND;
    memcpy(kind, val, (size_t)(slash - val));
    kind[slash - val] = '\0';
    snprintf(id, ELB_ID_MAX, "%s", slash + 1);
    return SL_OK;
}

static int lookup(struct store_txn *txn, const char *kind, const char *arn, char id[ELB_ID_MAX])
{
    char k[16];

    return elb_resolve_arn(txn, arn, k, id) == SL_OK && strcmp(k, kind) == 0 ? SL_OK
                                                                               : SL_ENOTFOUND;
}

json_t *elb_by_arn(struct store_txn *txn, const char *kind, const char *arn, char *id_out)
{
    char id[ELB_ID_MAX];

    if (lookup(txn, kind, arn, id) != SL_OK)
        return NULL;
    if (id_out)
        memcpy(id_out, id, ELB_ID_MAX);
    return store_get(txn, kind, id);
}

json_t *elb_by_arn_ro(struct store_txn *txn, const char *kind, const char *arn, char *id_out)
{
    char id[ELB_ID_MAX];

    if (lookup(txn, kind, arn, id) != SL_OK)
        return NULL;
    if (id_out)
        memcpy(id_out, id, ELB_ID_MAX);
    return store_get_shared(txn, kind, id);
}

int elb_insert(struct store_txn *txn, const char *kind, const char *id, json_t *obj)
{
    char key[ELB_ARN_MAX + 8], val[ELB_ID_MAX + 20];
    const char *arn = json_string_value(json_object_get(obj, "arn"));
    int rc;

    if ((rc = store_put(txn, kind, id, obj)) != SL_OK)
        return rc;
    if (arn == NULL)
        return SL_OK;
    snprintf(key, sizeof(key), "arn:%s", arn);
    snprintf(val, sizeof(val), "%s/%s", kind, id);
    return store_index_put(txn, key, val);
}

int elb_remove(struct store_txn *txn, const char *kind, const char *id, const char *arn)
{
    char key[ELB_ARN_MAX + 8];
    int rc;

    if ((rc = store_del(txn, kind, id)) != SL_OK)
        return rc;
    if (arn) {
        snprintf(key, sizeof(key), "arn:%s", arn);
        store_index_del(txn, key);
    }
    return SL_OK;
}

void elb_arn(char *out, size_t cap, const struct elb_env *env, const char *resource)
{
    snprintf(out, cap, "arn:aws:elasticloadbalancing:%s:%s:%s", env->region, env->account,
             resource);
}

int elb_child_arn(char *out, size_t cap, const char *parent, const char *from, const char *to,
                  const char *hex)
{
    const char *at = strstr(parent, from);
    int n;

    if (at == NULL)
        return SL_ERR;
    n = snprintf(out, cap, "%.*s%s%s/%s", (int)(at - parent), parent, to, at + strlen(from),
                 hex);
    return n > 0 && (size_t)n < cap ? SL_OK : SL_ERR;
}

json_t *elb_public(json_t *obj)
{
    json_t *out = json_object(), *v;
    const char *k;

    json_object_foreach(obj, k, v) {
        if (k[0] == '_' || strcmp(k, "id") == 0 || strcmp(k, "arn") == 0 ||
            strcmp(k, "Tags") == 0 || strcmp(k, "Attributes") == 0)
            continue;
        json_object_set(out, k, v);
    }
    return out;
}

const char *elb_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}

void elb_name_key(char *out, size_t cap, const char *kind, const char *name)
{
    snprintf(out, cap, "name:%s:%s", kind, name);
}

static int collect_val(const char *key, const char *val, void *arg)
{
    json_array_append_new(arg, json_string(val));
    return 0;
}

json_t *elb_lb_listener_ids(struct store_txn *txn, const char *lb_id)
{
    char prefix[ELB_ID_MAX + 16];
    json_t *out = json_array();

    snprintf(prefix, sizeof(prefix), "port:%s:", lb_id);
    store_index_scan(txn, prefix, collect_val, out);
    return out;
}

json_t *elb_listener_rule_ids(struct store_txn *txn, const char *listener_id)
{
    char prefix[ELB_ID_MAX + 16];
    json_t *out = json_array();

    snprintf(prefix, sizeof(prefix), "prio:%s:", listener_id);
    store_index_scan(txn, prefix, collect_val, out);
    return out;
}

void elb_sort(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr), i;
    json_t **v;

    if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
        return;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), cmp);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}
