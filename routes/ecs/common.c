/*
 * ecs.c - the ECS operation table and helpers shared by routes/ecs_*.c:
 * strict JSON member access, names and ARNs, the default cluster, tags and
 * pagination.
 */
#include "routes/ecs/ecs.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const struct op_def ecs_ops[] = {
    {"RegisterTaskDefinition", ecs_op_register_task_definition},
    {"DescribeTaskDefinition", ecs_op_describe_task_definition},
    {"ListTaskDefinitions", ecs_op_list_task_definitions},
    {"ListTaskDefinitionFamilies", ecs_op_list_task_definition_families},
    {"DeregisterTaskDefinition", ecs_op_deregister_task_definition},
    {"CreateCluster", ecs_op_create_cluster},
    {"DescribeClusters", ecs_op_describe_clusters},
    {"ListClusters", ecs_op_list_clusters},
    {"DeleteCluster", ecs_op_delete_cluster},
    {"CreateService", ecs_op_create_service},
    {"UpdateService", ecs_op_update_service},
    {"DescribeServices", ecs_op_describe_services},
    {"ListServices", ecs_op_list_services},
    {"DeleteService", ecs_op_delete_service},
    {"RunTask", ecs_op_run_task},
    {"StopTask", ecs_op_stop_task},
    {"ListTasks", ecs_op_list_tasks},
    {"DescribeTasks", ecs_op_describe_tasks},
    {"TagResource", ecs_op_tag_resource},
    {"UntagResource", ecs_op_untag_resource},
    {"ListTagsForResource", ecs_op_list_tags_for_resource},
    {NULL, NULL},
};

/* ---- errors ---- */

static int verr(struct sl_err *err, const char *code, const char *fmt, va_list ap)
{
    char msg[sizeof(err->message)];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    return sl_err_set(err, 400, code, "%s", msg);
}

int ecs_invalid(struct sl_err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = verr(err, "InvalidParameterException", fmt, ap);
    va_end(ap);
    return rc;
}

int ecs_client(struct sl_err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = verr(err, "ClientException", fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- typed members ---- */

static json_t *member(json_t *obj, const char *name)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;

    return json_is_null(v) ? NULL : v;
}

static int absent(const char *name, int required, struct sl_err *err)
{
    if (required)
        return ecs_invalid(err, "%s can not be blank.", name);
    return SL_ENOTFOUND;
}

static int mistyped(const char *name, const char *type, struct sl_err *err)
{
    return sl_err_set(err, 400, "SerializationException",
                      "Unable to deserialize '%s': expected %s", name, type);
}

int ecs_str(json_t *obj, const char *name, int required, const char **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_string(v))
        return mistyped(name, "a string", err);
    *out = json_string_value(v);
    return SL_OK;
}

int ecs_int(json_t *obj, const char *name, int required, long min, long max, long *out,
            struct sl_err *err)
{
    json_t *v = member(obj, name);
    json_int_t n;

    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_integer(v))
        return mistyped(name, "an integer", err);
    n = json_integer_value(v);
    if (n < min || n > max)
        return ecs_invalid(err, "%s must be between %ld and %ld (got %lld).", name, min, max,
                           (long long)n);
    *out = (long)n;
    return SL_OK;
}

int ecs_bool(json_t *obj, const char *name, int *out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    if (v == NULL)
        return SL_ENOTFOUND;
    if (!json_is_boolean(v))
        return mistyped(name, "a boolean", err);
    *out = json_is_true(v);
    return SL_OK;
}

int ecs_list(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_array(v))
        return mistyped(name, "a list", err);
    *out = v;
    return SL_OK;
}

int ecs_obj(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    json_t *v = member(obj, name);

    *out = NULL;
    if (v == NULL)
        return absent(name, required, err);
    if (!json_is_object(v))
        return mistyped(name, "an object", err);
    *out = v;
    return SL_OK;
}

int ecs_strlist(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err)
{
    size_t i;
    json_t *v;
    int rc = ecs_list(obj, name, required, out, err);

    if (rc != SL_OK)
        return rc;
    json_array_foreach(*out, i, v) {
        if (!json_is_string(v)) {
            *out = NULL;
            return mistyped(name, "a list of strings", err);
        }
    }
    return SL_OK;
}

int ecs_enum(json_t *obj, const char *name, int required, const char *const *allowed,
             const char **out, struct sl_err *err)
{
    size_t i;
    int rc = ecs_str(obj, name, required, out, err);

    if (rc != SL_OK)
        return rc;
    for (i = 0; allowed[i]; i++)
        if (strcmp(*out, allowed[i]) == 0)
            return SL_OK;
    rc = ecs_invalid(err, "Invalid value '%.100s' for %s.", *out, name);
    *out = NULL;
    return rc;
}

int ecs_includes(json_t *req, const char *what)
{
    json_t *inc = member(req, "include"), *v;
    size_t i;

    if (!json_is_array(inc))
        return 0;
    json_array_foreach(inc, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), what) == 0)
            return 1;
    return 0;
}

/* ---- names, ARNs, time ---- */

int ecs_valid_name(const char *s)
{
    size_t n;

    for (n = 0; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_')
            return 0;
    return n > 0 && n <= ECS_NAME_MAX;
}

void ecs_arn(char *out, size_t cap, const struct op_ctx *ctx, const char *resource)
{
    snprintf(out, cap, "arn:aws:ecs:%s:%s:%s", ctx->region, ctx->account, resource);
}

const char *ecs_arn_resource(const char *s)
{
    int colons = 0;

    if (s == NULL || strncmp(s, "arn:", 4) != 0)
        return NULL;
    for (; *s; s++)
        if (*s == ':' && ++colons == 5)
            return s + 1;
    return NULL;
}

int ecs_cluster_param(json_t *req, char *out, struct sl_err *err)
{
    const char *c, *res;
    int rc = ecs_str(req, "cluster", P_OPTIONAL, &c, err);

    if (rc == SL_ERR)
        return SL_ERR;
    if (c == NULL) {
        strcpy(out, "default");
        return SL_OK;
    }
    if ((res = ecs_arn_resource(c)) != NULL) {
        if (strncmp(res, "cluster/", 8) != 0)
            return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
        c = res + 8;
    }
    if (!ecs_valid_name(c))
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    strcpy(out, c);
    return SL_OK;
}

const char *ecs_ref_name(const char *ref)
{
    const char *slash;

    if (ref == NULL)
        return NULL;
    if (ecs_arn_resource(ref) != NULL) {
        slash = strrchr(ref, '/');
        ref = slash ? slash + 1 : NULL;
    }
    return ref && ecs_valid_name(ref) ? ref : NULL;
}

double ecs_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

/* ---- clusters ---- */

json_t *ecs_cluster_new(const struct op_ctx *ctx, const char *name)
{
    char res[ECS_NAME_MAX + 16], arn[ECS_ARN_MAX];

    snprintf(res, sizeof(res), "cluster/%s", name);
    ecs_arn(arn, sizeof(arn), ctx, res);
    return json_pack("{ss ss ss s[] s[{ss ss}] s[] s[]}", "clusterArn", arn, "clusterName", name,
                     "status", "ACTIVE", "tags", "settings", "name", "containerInsights",
                     "value", "disabled", "capacityProviders",
                     "defaultCapacityProviderStrategy");
}

json_t *ecs_cluster_get(struct store_txn *txn, const struct op_ctx *ctx, const char *name)
{
    json_t *c = store_get(txn, K_ECS_CLUSTER, name);

    if (c == NULL && strcmp(name, "default") == 0)
        c = ecs_cluster_new(ctx, name);
    return c;
}

int ecs_cluster_check(struct store_txn *txn, const struct op_ctx *ctx, const char *name,
                      struct sl_err *err)
{
    json_t *c = ecs_cluster_get(txn, ctx, name);

    if (c == NULL)
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    json_decref(c);
    return SL_OK;
}

int ecs_cluster_read(struct op_ctx *ctx, const char *name, struct store_txn **txn,
                     struct sl_err *err)
{
    if (store_read_begin(ctx->store, txn, err) != SL_OK)
        return SL_ERR;
    if (ecs_cluster_check(*txn, ctx, name, err) != SL_OK) {
        store_txn_end(*txn);
        return SL_ERR;
    }
    return SL_OK;
}

json_t *ecs_cluster_ensure(struct store_txn *txn, const struct op_ctx *ctx, const char *name,
                           struct sl_err *err)
{
    json_t *c = store_get(txn, K_ECS_CLUSTER, name);

    if (c != NULL)
        return c;
    if (strcmp(name, "default") != 0) {
        sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
        return NULL;
    }
    c = ecs_cluster_new(ctx, name);
    if (store_put(txn, K_ECS_CLUSTER, name, c) != SL_OK) {
        json_decref(c);
        sl_err_set(err, 500, "ServerException", "storage failure");
        return NULL;
    }
    return c;
}

/* ---- tags ---- */

json_t *ecs_tags_param(json_t *list, struct sl_err *err)
{
    json_t *out, *t, *k, *v;
    size_t i, j;

    if (list == NULL || json_is_null(list))
        return json_array();
    if (!json_is_array(list)) {
        mistyped("tags", "a list", err);
        return NULL;
    }
    if (json_array_size(list) > 50) {
        ecs_invalid(err, "A resource can have at most 50 tags.");
        return NULL;
    }
    out = json_array();
    json_array_foreach(list, i, t) {
        k = json_object_get(t, "key");
        v = json_object_get(t, "value");
        if (!json_is_object(t) || !json_is_string(k) || (v && !json_is_null(v) &&
                                                         !json_is_string(v))) {
            mistyped("tags", "a list of {key,value} strings", err);
            goto fail;
        }
        if (json_string_length(k) < 1 || json_string_length(k) > 128) {
            ecs_invalid(err, "Tag keys must be between 1 and 128 characters.");
            goto fail;
        }
        if (json_is_string(v) && json_string_length(v) > 256) {
            ecs_invalid(err, "Tag values must be at most 256 characters.");
            goto fail;
        }
        if (strncasecmp(json_string_value(k), "aws:", 4) == 0) {
            ecs_invalid(err, "Tag keys beginning with 'aws:' are reserved.");
            goto fail;
        }
        for (j = 0; j < i; j++)
            if (json_equal(json_object_get(json_array_get(list, j), "key"), k)) {
                ecs_invalid(err, "Duplicate tag key '%.128s'.", json_string_value(k));
                goto fail;
            }
        json_array_append_new(out, json_pack("{sO ss}", "key", k, "value",
                                             json_is_string(v) ? json_string_value(v) : ""));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *ecs_tags_merge(json_t *tags, json_t *add, struct sl_err *err)
{
    json_t *out = json_array(), *t, *a;
    size_t i, j;

    json_array_foreach(tags, i, t) {
        int replaced = 0;
        json_array_foreach(add, j, a)
            if (json_equal(json_object_get(a, "key"), json_object_get(t, "key")))
                replaced = 1;
        if (!replaced)
            json_array_append(out, t);
    }
    json_array_foreach(add, j, a)
        json_array_append(out, a);
    if (json_array_size(out) > 50) {
        json_decref(out);
        ecs_invalid(err, "A resource can have at most 50 tags.");
        return NULL;
    }
    return out;
}

/* ---- pagination ---- */

json_t *ecs_page(json_t *req, json_t *all, long max, json_t **next, struct sl_err *err)
{
    const char *token = NULL;
    long size = max, start = 0;
    size_t i, n = json_array_size(all);
    json_t *page;

    *next = NULL;
    if (ecs_int(req, "maxResults", P_OPTIONAL, 1, max, &size, err) == SL_ERR)
        return NULL;
    if (ecs_str(req, "nextToken", P_OPTIONAL, &token, err) == SL_ERR)
        return NULL;
    if (token) {
        char *end;
        start = strtol(token, &end, 10);
        if (*token == '\0' || *end != '\0' || start < 0 || (size_t)start > n) {
            ecs_invalid(err, "Invalid nextToken.");
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

json_t *ecs_public(json_t *obj, int with_tags)
{
    json_t *out = json_object(), *v;
    const char *k;

    json_object_foreach(obj, k, v) {
        if (k[0] == '_' || (!with_tags && strcmp(k, "tags") == 0))
            continue;
        json_object_set(out, k, v);
    }
    return out;
}

int ecs_join(char *out, size_t cap, const char *a, const char *b)
{
    size_t al = strlen(a), bl = strlen(b);

    if (al + 1 + bl >= cap) {
        if (cap)
            out[0] = '\0';
        return SL_EINVAL;
    }
    memcpy(out, a, al);
    out[al] = '/';
    memcpy(out + al + 1, b, bl + 1);
    return SL_OK;
}

json_t *ecs_describe(struct op_ctx *ctx, json_t *req, const char *key, size_t max,
                     const char *type, ecs_lookup_fn lookup, struct sl_err *err)
{
    /* res leaves room in arn for the "arn:aws:ecs:REGION:ACCOUNT:" prefix. */
    char cluster[ECS_NAME_MAX + 1], res[ECS_ARN_MAX - 64], arn[ECS_ARN_MAX];
    struct store_txn *txn;
    json_t *list, *found, *failures, *v, *obj;
    int tags = ecs_includes(req, "TAGS");
    size_t i;

    if (ecs_cluster_param(req, cluster, err) != SL_OK ||
        ecs_strlist(req, key, P_REQUIRED, &list, err) != SL_OK ||
        ecs_strlist(req, "include", P_OPTIONAL, &v, err) == SL_ERR)
        return NULL;
    if (json_array_size(list) < 1 || json_array_size(list) > max) {
        ecs_invalid(err, "%s must have between 1 and %zu items.", key, max);
        return NULL;
    }
    if (ecs_cluster_read(ctx, cluster, &txn, err) != SL_OK)
        return NULL;
    found = json_array();
    failures = json_array();
    json_array_foreach(list, i, v) {
        const char *ref = json_string_value(v);
        if ((obj = lookup(txn, cluster, ref)) == NULL) {
            if (ecs_arn_resource(ref)) {
                snprintf(arn, sizeof(arn), "%s", ref);
            } else {
                snprintf(res, sizeof(res), "%s/%s/%.160s", type, cluster, ref);
                ecs_arn(arn, sizeof(arn), ctx, res);
            }
            json_array_append_new(failures,
                                  json_pack("{ss ss}", "arn", arn, "reason", "MISSING"));
            continue;
        }
        json_array_append_new(found, ecs_public(obj, tags));
        json_decref(obj);
    }
    store_txn_end(txn);
    return json_pack("{so so}", key, found, "failures", failures);
}
