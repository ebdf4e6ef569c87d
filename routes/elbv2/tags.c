/*
 * tags.c - tags of every taggable ELBv2 resource.
 */
#include "routes/elbv2/tags.h"

#include <stdio.h>
#include <string.h>

#include "routes/elbv2/objects.h"

int elb_tags_check(const struct elb_kv *tags, size_t n, struct sl_err *err)
{
    size_t i, j;

    if (n > ELB_TAGS_MAX)
        return sl_err_set(err, 400, "ValidationError",
                          "1 validation error detected: Value at 'Tags' failed to satisfy "
                          "constraint: Member must have length between 0 and %d",
                          ELB_TAGS_MAX);
    for (i = 0; i < n; i++) {
        size_t kl = strlen(tags[i].key), vl = strlen(tags[i].value);
        if (kl == 0 || kl > 128 || vl > 256)
            return sl_err_set(err, 400, "ValidationError",
                              "1 validation error detected: Value at 'Tags.member.Key' failed "
                              "to satisfy constraint: Key 1-128 characters, Value at most 256");
        for (j = 0; j < i; j++)
            if (strcmp(tags[j].key, tags[i].key) == 0)
                return sl_err_set(err, 400, "DuplicateTagKeys", "Tag key '%s' is duplicated",
                                  tags[i].key);
    }
    return SL_OK;
}

json_t *elb_tags_json(const struct elb_kv *tags, size_t n)
{
    json_t *out = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{ss ss}", "Key", tags[i].key, "Value",
                                             tags[i].value));
    return out;
}

static const char *const taggable[] = {K_LB, K_TG, K_LISTENER, K_RULE, NULL};

static int not_found(const char *arn, struct sl_err *err)
{
    if (strstr(arn, ":targetgroup/"))
        return sl_err_set(err, 400, "TargetGroupNotFound", "Target group '%.300s' not found",
                          arn);
    if (strstr(arn, ":listener-rule/"))
        return sl_err_set(err, 400, "RuleNotFound", "Rule '%.300s' not found", arn);
    if (strstr(arn, ":listener/"))
        return sl_err_set(err, 400, "ListenerNotFound", "Listener '%.300s' not found", arn);
    return sl_err_set(err, 400, "LoadBalancerNotFound", "Load balancer '%.300s' not found", arn);
}

/* The taggable object <arn> names (a private copy), its kind and id; NULL
 * with the NotFound of the ARN's kind. */
static json_t *load(struct store_txn *txn, const char *arn, char kind[16], char id[ELB_ID_MAX],
                    struct sl_err *err)
{
    json_t *obj = NULL;
    size_t i;

    if (elb_resolve_arn(txn, arn, kind, id) == SL_OK)
        for (i = 0; taggable[i]; i++)
            if (strcmp(kind, taggable[i]) == 0) {
                obj = store_get(txn, kind, id);
                break;
            }
    if (obj == NULL)
        not_found(arn, err);
    return obj;
}

static json_t *tags_of(json_t *obj)
{
    json_t *cur = json_object_get(obj, "Tags");

    if (!json_is_array(cur)) {
        cur = json_array();
        json_object_set_new(obj, "Tags", cur);
    }
    return cur;
}

static json_t *find_key(json_t *list, const char *key)
{
    json_t *e;
    size_t i;

    json_array_foreach(list, i, e) {
        const char *k = json_string_value(json_object_get(e, "Key"));
        if (k && strcmp(k, key) == 0)
            return e;
    }
    return NULL;
}

static int store_back(struct store_txn *txn, const char *kind, const char *id, json_t *obj,
                      struct sl_err *err)
{
    int rc = store_put(txn, kind, id, obj) == SL_OK ? SL_OK
                                                     : elb_store_fail(err, "update the tags");

    json_decref(obj);
    return rc;
}

int elb_tags_add(struct store_txn *txn, const char *const *arns, size_t narns,
                 const struct elb_kv *tags, size_t n, struct sl_err *err)
{
    char kind[16], id[ELB_ID_MAX];
    size_t i, j;

    for (i = 0; i < narns; i++) {
        json_t *obj = load(txn, arns[i], kind, id, err), *cur, *e;

        if (obj == NULL)
            return SL_ERR;
        cur = tags_of(obj);
        for (j = 0; j < n; j++) {
            if ((e = find_key(cur, tags[j].key)) != NULL)
                json_object_set_new(e, "Value", json_string(tags[j].value));
            else
                json_array_append_new(cur, json_pack("{ss ss}", "Key", tags[j].key, "Value",
                                                     tags[j].value));
        }
        if (json_array_size(cur) > ELB_TAGS_MAX) {
            json_decref(obj);
            return sl_err_set(err, 400, "TooManyTags", "You've reached the limit on the "
                                                       "number of tags for this resource");
        }
        if (store_back(txn, kind, id, obj, err) != SL_OK)
            return SL_EIO;
    }
    return SL_OK;
}

int elb_tags_remove(struct store_txn *txn, const char *const *arns, size_t narns,
                    const char *const *keys, size_t nkeys, struct sl_err *err)
{
    char kind[16], id[ELB_ID_MAX];
    size_t i, j, k;

    for (i = 0; i < narns; i++) {
        json_t *obj = load(txn, arns[i], kind, id, err), *keep, *e;

        if (obj == NULL)
            return SL_ERR;
        keep = json_array();
        json_array_foreach(tags_of(obj), j, e) {
            const char *key = json_string_value(json_object_get(e, "Key"));
            int drop = 0;
            for (k = 0; k < nkeys && key; k++)
                if (strcmp(keys[k], key) == 0)
                    drop = 1;
            if (!drop)
                json_array_append(keep, e);
        }
        json_object_set_new(obj, "Tags", keep);
        if (store_back(txn, kind, id, obj, err) != SL_OK)
            return SL_EIO;
    }
    return SL_OK;
}

int elb_tags_set(struct store_txn *txn, const char *arn, const struct elb_kv *tags, size_t n,
                 struct sl_err *err)
{
    char kind[16], id[ELB_ID_MAX];
    json_t *obj = load(txn, arn, kind, id, err), *want;

    if (obj == NULL)
        return SL_ERR;
    want = elb_tags_json(tags, n);
    if (json_equal(want, json_object_get(obj, "Tags")) ||
        (n == 0 && json_object_get(obj, "Tags") == NULL)) {
        json_decref(want);
        json_decref(obj);
        return SL_OK;
    }
    json_object_set_new(obj, "Tags", want);
    return store_back(txn, kind, id, obj, err);
}

int elb_tags_describe(struct store_txn *txn, const char *const *arns, size_t narns,
                      json_t **out, struct sl_err *err)
{
    char kind[16], id[ELB_ID_MAX];
    json_t *descs = json_array();
    size_t i;

    for (i = 0; i < narns; i++) {
        json_t *obj = load(txn, arns[i], kind, id, err), *tags;

        if (obj == NULL) {
            json_decref(descs);
            return SL_ERR;
        }
        tags = json_object_get(obj, "Tags");
        json_array_append_new(descs, json_pack("{ss so}", "ResourceArn", arns[i], "Tags",
                                               json_is_array(tags) ? json_incref(tags)
                                                                   : json_array()));
        json_decref(obj);
    }
    *out = descs;
    return SL_OK;
}
