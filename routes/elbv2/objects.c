/*
 * elbv2.c - the ELBv2 operation table, helpers shared by the operation
 * families, and the tag operations (which span every resource kind).
 */
#include "routes/elbv2/elbv2.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/wire/params.h"

const struct op_def elbv2_ops[] = {
    {"CreateLoadBalancer", op_create_load_balancer},
    {"DescribeLoadBalancers", op_describe_load_balancers},
    {"DeleteLoadBalancer", op_delete_load_balancer},
    {"DescribeLoadBalancerAttributes", op_describe_load_balancer_attributes},
    {"ModifyLoadBalancerAttributes", op_modify_load_balancer_attributes},
    {"CreateTargetGroup", op_create_target_group},
    {"DescribeTargetGroups", op_describe_target_groups},
    {"ModifyTargetGroup", op_modify_target_group},
    {"DeleteTargetGroup", op_delete_target_group},
    {"DescribeTargetGroupAttributes", op_describe_target_group_attributes},
    {"ModifyTargetGroupAttributes", op_modify_target_group_attributes},
    {"RegisterTargets", op_register_targets},
    {"DeregisterTargets", op_deregister_targets},
    {"DescribeTargetHealth", op_describe_target_health},
    {"CreateListener", op_create_listener},
    {"DescribeListeners", op_describe_listeners},
    {"ModifyListener", op_modify_listener},
    {"DeleteListener", op_delete_listener},
    {"CreateRule", op_create_rule},
    {"DescribeRules", op_describe_rules},
    {"ModifyRule", op_modify_rule},
    {"SetRulePriorities", op_set_rule_priorities},
    {"DeleteRule", op_delete_rule},
    {"AddTags", op_add_tags},
    {"RemoveTags", op_remove_tags},
    {"DescribeTags", op_describe_tags},
    {NULL, NULL},
};

int elb_read(struct op_ctx *ctx, struct store_txn **txn, struct sl_err *err)
{
    return store_read_begin(ctx->store, txn, err);
}

int elb_parent_or_arns(json_t *req, const char *pname, const char *lname, size_t max,
                       const char *lwhat, const char *pwhat, const char **parent, json_t **list,
                       struct sl_err *err)
{
    json_t *v;
    size_t i;

    *list = NULL;
    if (p_str(req, pname, P_OPTIONAL, parent, err) == SL_ERR ||
        p_list(req, lname, P_OPTIONAL, 0, max, list, err) == SL_ERR)
        return SL_ERR;
    if (*parent && json_array_size(*list) > 0)
        return sl_err_set(err, 400, "ValidationError",
                          "%c%s and %s cannot be specified at the same time", toupper(lwhat[0]),
                          lwhat + 1, pwhat);
    if (*parent == NULL && json_array_size(*list) == 0)
        return sl_err_set(err, 400, "ValidationError", "You must specify either %s or %s", lwhat,
                          pwhat);
    json_array_foreach(*list, i, v) if (!json_is_string(v)) return p_invalid(
        err, lname, "Member must be a list of strings");
    return SL_OK;
}

int elb_resolve_arn(struct store_txn *txn, const char *arn, char kind[16], char id[ELB_ID_MAX])
{
    char key[ELB_ARN_MAX + 8], val[ELB_ID_MAX + 20];
    char *slash;

    if (strlen(arn) > ELB_ARN_MAX)
        return SL_ENOTFOUND;
    snprintf(key, sizeof(key), "arn:%s", arn);
    if (store_index_get(txn, key, val, sizeof(val)) != SL_OK)
        return SL_ENOTFOUND;
    slash = strchr(val, '/');
    if (slash == NULL || (size_t)(slash - val) >= 16)
        return SL_ENOTFOUND;
    memcpy(kind, val, (size_t)(slash - val));
    kind[slash - val] = '\0';
    snprintf(id, ELB_ID_MAX, "%s", slash + 1);
    return SL_OK;
}

json_t *elb_by_arn(struct store_txn *txn, const char *kind, const char *arn, char *id_out)
{
    char k[16], id[ELB_ID_MAX];

    if (arn == NULL || elb_resolve_arn(txn, arn, k, id) != SL_OK || strcmp(k, kind) != 0)
        return NULL;
    if (id_out)
        strcpy(id_out, id);
    return store_get(txn, kind, id);
}

json_t *elb_by_arn_ro(struct store_txn *txn, const char *kind, const char *arn, char *id_out)
{
    char k[16], id[ELB_ID_MAX];

    if (arn == NULL || elb_resolve_arn(txn, arn, k, id) != SL_OK || strcmp(k, kind) != 0)
        return NULL;
    if (id_out)
        strcpy(id_out, id);
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

void elb_arn(char *out, size_t cap, const struct op_ctx *ctx, const char *resource)
{
    snprintf(out, cap, "arn:aws:elasticloadbalancing:%s:%s:%s", ctx->region, ctx->account,
             resource);
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

json_t *elb_page(json_t *req, json_t *all, json_t **next, struct sl_err *err)
{
    const char *marker = NULL;
    long size = 400, start = 0;
    size_t i, n = json_array_size(all);
    json_t *page;
    int rc;

    *next = NULL;
    if ((rc = p_int(req, "PageSize", P_OPTIONAL, 1, 400, &size, err)) == SL_ERR)
        return NULL;
    if ((rc = p_str(req, "Marker", P_OPTIONAL, &marker, err)) == SL_ERR)
        return NULL;
    if (marker) {
        char *end;
        start = strtol(marker, &end, 10);
        if (*marker == '\0' || *end != '\0' || start < 0) {
            sl_err_set(err, 400, "ValidationError", "The marker '%s' is not valid", marker);
            return NULL;
        }
    }
    page = json_array();
    for (i = (size_t)start; i < n && i < (size_t)start + (size_t)size; i++)
        json_array_append(page, json_array_get(all, i));
    if (i < n) {
        char m[32];
        snprintf(m, sizeof(m), "%zu", i);
        *next = json_string(m);
    }
    return page;
}

int elb_valid_id(const char *id)
{
    size_t n = 0;

    for (; id[n]; n++) {
        unsigned char c = (unsigned char)id[n];
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0 && n <= 128;
}

int elb_valid_name(const char *name, const char *what, struct sl_err *err)
{
    size_t n = strlen(name), i;

    if (n == 0 || n > 32)
        return sl_err_set(err, 400, "ValidationError",
                          "%s '%s' must be between 1 and 32 characters", what, name);
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-')
            return sl_err_set(err, 400, "ValidationError",
                              "%s '%s' can only contain characters that are alphanumeric "
                              "characters or hyphens(-)",
                              what, name);
    if (name[0] == '-' || name[n - 1] == '-')
        return sl_err_set(err, 400, "ValidationError",
                          "%s '%s' cannot begin or end with a hyphen", what, name);
    return SL_OK;
}

json_t *elb_tags_param(json_t *req, struct sl_err *err)
{
    json_t *tags, *out, *t;
    size_t i, j;

    if (p_list(req, "Tags", P_OPTIONAL, 0, 50, &tags, err) == SL_ERR)
        return NULL;
    out = json_array();
    json_array_foreach(tags, i, t) {
        const char *k, *v = "";
        if (p_str(t, "Key", P_REQUIRED, &k, err) != SL_OK ||
            p_str(t, "Value", P_OPTIONAL, &v, err) == SL_ERR)
            goto fail;
        if (v == NULL)
            v = "";
        if (strlen(k) == 0 || strlen(k) > 128 || strlen(v) > 256) {
            p_invalid(err, "Tags.member.Key", "Key 1-128 characters, Value at most 256");
            goto fail;
        }
        for (j = 0; j < json_array_size(out); j++)
            if (strcmp(json_string_value(json_object_get(json_array_get(out, j), "Key")), k) ==
                0) {
                sl_err_set(err, 400, "DuplicateTagKeys", "Tag key '%s' is duplicated", k);
                goto fail;
            }
        json_array_append_new(out, json_pack("{ss ss}", "Key", k, "Value", v));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *elb_attrs_default(const struct elb_attr *table)
{
    json_t *out = json_array();

    for (; table->key; table++)
        json_array_append_new(out, json_pack("{ss ss}", "Key", table->key, "Value", table->def));
    return out;
}

const char *elb_attr_get(json_t *attrs, const char *key)
{
    size_t i;
    json_t *a;

    json_array_foreach(attrs, i, a)
        if (strcmp(json_string_value(json_object_get(a, "Key")), key) == 0)
            return json_string_value(json_object_get(a, "Value"));
    return NULL;
}

static int attr_check(const struct elb_attr *a, const char *v, struct sl_err *err)
{
    char *end;
    long n;
    size_t i;

    switch (a->type) {
    case ATTR_INT:
        n = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n < a->min || n > a->max)
            return sl_err_set(err, 400, "ValidationError",
                              "The value of '%s' must be an integer between %ld and %ld",
                              a->key, a->min, a->max);
        return SL_OK;
    case ATTR_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return sl_err_set(err, 400, "ValidationError",
                              "The value of '%s' must be 'true' or 'false'", a->key);
        return SL_OK;
    case ATTR_ENUM:
        for (i = 0; a->values[i]; i++)
            if (strcmp(v, a->values[i]) == 0)
                return SL_OK;
        return sl_err_set(err, 400, "ValidationError", "The value '%s' of '%s' is not valid", v,
                          a->key);
    case ATTR_STR:
        if ((long)strlen(v) > a->max)
            return sl_err_set(err, 400, "ValidationError", "The value of '%s' is too long",
                              a->key);
        return SL_OK;
    }
    return SL_OK;
}

json_t *elb_attrs_merge(json_t *current, json_t *changes, const struct elb_attr *table,
                        struct sl_err *err)
{
    json_t *out = json_deep_copy(current), *c;
    size_t i, j;

    json_array_foreach(changes, i, c) {
        const char *k, *v;
        const struct elb_attr *a;
        json_t *e;
        int found = 0;

        if (p_str(c, "Key", P_REQUIRED, &k, err) != SL_OK ||
            p_str(c, "Value", P_REQUIRED, &v, err) != SL_OK)
            goto fail;
        for (a = table; a->key; a++)
            if (strcmp(a->key, k) == 0)
                break;
        if (a->key == NULL) {
            sl_err_set(err, 400, "ValidationError", "Attribute key '%s' is not recognized", k);
            goto fail;
        }
        if (attr_check(a, v, err) != SL_OK)
            goto fail;
        json_array_foreach(out, j, e) {
            if (strcmp(json_string_value(json_object_get(e, "Key")), k) == 0) {
                json_object_set_new(e, "Value", json_string(v));
                found = 1;
                break;
            }
        }
        if (!found)
            json_array_append_new(out, json_pack("{ss ss}", "Key", k, "Value", v));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

struct ref_ctx {
    struct store_txn *txn;
    const char *rule_id;
    json_t *keys;
};

static int collect_key(const char *key, const char *val, void *arg)
{
    json_array_append_new(arg, json_string(key));
    return 0;
}

static void add_tg_ref(struct store_txn *txn, const char *rule_id, const char *lb_arn,
                       const char *tg_arn)
{
    char kind[16], tg_id[ELB_ID_MAX], key[512];

    if (tg_arn == NULL || elb_resolve_arn(txn, tg_arn, kind, tg_id) != SL_OK ||
        strcmp(kind, K_TG) != 0)
        return;
    snprintf(key, sizeof(key), "tgref:%s:%s", tg_id, rule_id);
    store_index_put(txn, key, lb_arn);
    snprintf(key, sizeof(key), "ruleref:%s:%s", rule_id, tg_id);
    store_index_put(txn, key, "");
}

int elb_refs_update(struct store_txn *txn, const char *rule_id, const char *lb_arn,
                    json_t *actions)
{
    char prefix[256], key[512];
    json_t *old = json_array(), *k, *a, *tgs, *tg;
    size_t i, j;

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
        add_tg_ref(txn, rule_id, lb_arn, json_string_value(json_object_get(a, "TargetGroupArn")));
        tgs = json_object_get(json_object_get(a, "ForwardConfig"), "TargetGroups");
        json_array_foreach(tgs, j, tg)
            add_tg_ref(txn, rule_id, lb_arn,
                       json_string_value(json_object_get(tg, "TargetGroupArn")));
    }
    return SL_OK;
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
    char prefix[256];
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
    char prefix[256];

    snprintf(prefix, sizeof(prefix), "tgref:%s:", tg_id);
    return store_index_scan(txn, prefix, stop_at_first, NULL) == 1;
}

/* ---- tags: AddTags, RemoveTags, DescribeTags ---- */

static const char *const taggable[] = {K_LB, K_TG, K_LISTENER, K_RULE, NULL};

static int resolve_taggable(struct store_txn *txn, const char *arn, char kind[16],
                            char id[ELB_ID_MAX], struct sl_err *err)
{
    size_t i;

    if (elb_resolve_arn(txn, arn, kind, id) == SL_OK)
        for (i = 0; taggable[i]; i++)
            if (strcmp(kind, taggable[i]) == 0)
                return SL_OK;
    if (strstr(arn, ":targetgroup/"))
        return sl_err_set(err, 400, "TargetGroupNotFound", "Target group '%s' not found", arn);
    if (strstr(arn, ":listener-rule/"))
        return sl_err_set(err, 400, "RuleNotFound", "Rule '%s' not found", arn);
    if (strstr(arn, ":listener/"))
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%s' not found", arn);
    return sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%s' not found", arn);
}

struct tag_args {
    json_t *arns;
    json_t *tags;     /* AddTags */
    json_t *keys;     /* RemoveTags */
};

static int add_tags_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tag_args *a = arg;
    json_t *arn, *obj, *cur, *t, *e;
    char kind[16], id[ELB_ID_MAX];
    size_t i, j, k;

    json_array_foreach(a->arns, i, arn) {
        if (!json_is_string(arn))
            return p_invalid(err, "ResourceArns", "Member must be a string");
        if (resolve_taggable(txn, json_string_value(arn), kind, id, err) != SL_OK)
            return SL_ERR;
        obj = store_get(txn, kind, id);
        if (obj == NULL)
            return sl_err_set(err, 400, "LoadBalancerNotFound", "resource not found");
        cur = json_object_get(obj, "Tags");
        if (!json_is_array(cur)) {
            cur = json_array();
            json_object_set_new(obj, "Tags", cur);
        }
        json_array_foreach(a->tags, j, t) {
            const char *key = json_string_value(json_object_get(t, "Key"));
            int found = 0;
            json_array_foreach(cur, k, e) {
                if (strcmp(json_string_value(json_object_get(e, "Key")), key) == 0) {
                    json_object_set(e, "Value", json_object_get(t, "Value"));
                    found = 1;
                }
            }
            if (!found)
                json_array_append(cur, t);
        }
        if (json_array_size(cur) > 50) {
            json_decref(obj);
            return sl_err_set(err, 400, "TooManyTags", "You've reached the limit on the "
                                                       "number of tags for this resource");
        }
        if (store_put(txn, kind, id, obj) != SL_OK) {
            json_decref(obj);
            return SL_EIO;
        }
        json_decref(obj);
    }
    return SL_OK;
}

json_t *op_add_tags(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tag_args a = {0};

    if (p_list(req, "ResourceArns", P_REQUIRED, 1, 20, &a.arns, err) != SL_OK)
        return NULL;
    if (p_list(req, "Tags", P_REQUIRED, 1, 50, &a.tags, err) != SL_OK)
        return NULL;
    a.tags = elb_tags_param(req, err);
    if (a.tags == NULL)
        return NULL;
    if (store_write(ctx->store, add_tags_tx, &a, NULL, err) != SL_OK) {
        json_decref(a.tags);
        return NULL;
    }
    json_decref(a.tags);
    return json_object();
}

static int remove_tags_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tag_args *a = arg;
    json_t *arn, *obj, *cur, *key, *keep, *e;
    char kind[16], id[ELB_ID_MAX];
    size_t i, j, k;

    json_array_foreach(a->arns, i, arn) {
        if (!json_is_string(arn))
            return p_invalid(err, "ResourceArns", "Member must be a string");
        if (resolve_taggable(txn, json_string_value(arn), kind, id, err) != SL_OK)
            return SL_ERR;
        obj = store_get(txn, kind, id);
        if (obj == NULL)
            return sl_err_set(err, 400, "LoadBalancerNotFound", "resource not found");
        cur = json_object_get(obj, "Tags");
        keep = json_array();
        json_array_foreach(cur, j, e) {
            int drop = 0;
            json_array_foreach(a->keys, k, key)
                if (json_is_string(key) &&
                    strcmp(json_string_value(key),
                           json_string_value(json_object_get(e, "Key"))) == 0)
                    drop = 1;
            if (!drop)
                json_array_append(keep, e);
        }
        json_object_set_new(obj, "Tags", keep);
        if (store_put(txn, kind, id, obj) != SL_OK) {
            json_decref(obj);
            return SL_EIO;
        }
        json_decref(obj);
    }
    return SL_OK;
}

json_t *op_remove_tags(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tag_args a = {0};

    if (p_list(req, "ResourceArns", P_REQUIRED, 1, 20, &a.arns, err) != SL_OK)
        return NULL;
    if (p_list(req, "TagKeys", P_REQUIRED, 1, 50, &a.keys, err) != SL_OK)
        return NULL;
    if (store_write(ctx->store, remove_tags_tx, &a, NULL, err) != SL_OK)
        return NULL;
    return json_object();
}

json_t *op_describe_tags(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    json_t *arns, *arn, *out, *descs, *obj, *tags;
    char kind[16], id[ELB_ID_MAX];
    size_t i;

    if (p_list(req, "ResourceArns", P_REQUIRED, 1, 20, &arns, err) != SL_OK)
        return NULL;
    if (elb_read(ctx, &txn, err) != SL_OK)
        return NULL;
    descs = json_array();
    json_array_foreach(arns, i, arn) {
        if (!json_is_string(arn) ||
            resolve_taggable(txn, json_string_value(arn), kind, id, err) != SL_OK) {
            if (!json_is_string(arn))
                p_invalid(err, "ResourceArns", "Member must be a string");
            json_decref(descs);
            store_txn_end(txn);
            return NULL;
        }
        obj = store_get(txn, kind, id);
        tags = obj ? json_object_get(obj, "Tags") : NULL;
        json_array_append_new(descs, json_pack("{sO so}", "ResourceArn", arn, "Tags",
                                               json_is_array(tags) ? json_incref(tags)
                                                                   : json_array()));
        json_decref(obj);
    }
    store_txn_end(txn);
    out = json_object();
    json_object_set_new(out, "TagDescriptions", descs);
    return out;
}
