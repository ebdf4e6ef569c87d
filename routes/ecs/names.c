/*
 * names.c - ECS names, ARNs, references, time and public views.
 */
#include "routes/ecs/names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const ecs_launch_type_names[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES",
                                             NULL};

int ecs_valid_name(const char *s)
{
    size_t n;

    for (n = 0; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_')
            return 0;
    return n > 0 && n <= ECS_NAME_MAX;
}

void ecs_arn(char *out, size_t cap, const struct ecs_env *env, const char *resource)
{
    snprintf(out, cap, "arn:aws:ecs:%s:%s:%s", env->region, env->account, resource);
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

int ecs_cluster_name(const char *ref, char *out, struct sl_err *err)
{
    const char *res;

    if (ref == NULL) {
        strcpy(out, "default");
        return SL_OK;
    }
    if ((res = ecs_arn_resource(ref)) != NULL) {
        if (strncmp(res, "cluster/", 8) != 0)
            return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
        ref = res + 8;
    }
    if (!ecs_valid_name(ref))
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    strcpy(out, ref);
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

int ecs_describe_refs(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                      const char *const *refs, size_t n, int with_tags, const char *key,
                      const char *type, ecs_lookup_fn lookup, json_t **out)
{
    /* res leaves room in arn for the "arn:aws:ecs:REGION:ACCOUNT:" prefix. */
    char res[ECS_ARN_MAX - 64], arn[ECS_ARN_MAX];
    json_t *found = json_array(), *failures = json_array(), *obj;
    size_t i;

    for (i = 0; i < n; i++) {
        if ((obj = lookup(txn, cluster, refs[i])) == NULL) {
            if (ecs_arn_resource(refs[i])) {
                snprintf(arn, sizeof(arn), "%s", refs[i]);
            } else {
                snprintf(res, sizeof(res), "%s/%s/%.160s", type, cluster, refs[i]);
                ecs_arn(arn, sizeof(arn), env, res);
            }
            json_array_append_new(failures,
                                  json_pack("{ss ss}", "arn", arn, "reason", "MISSING"));
            continue;
        }
        json_array_append_new(found, ecs_public(obj, with_tags));
        json_decref(obj);
    }
    *out = json_pack("{so so}", key, found, "failures", failures);
    return SL_OK;
}
