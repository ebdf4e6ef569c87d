/*
 * taskdef.c - task definitions in the store: references, registration,
 * listing, deregistration.
 */
#include "routes/ecs/taskdef.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "routes/ecs/names.h"
#include "routes/ecs/param.h"

/* ---- references and ids ---- */

int ecs_taskdef_ref(const char *ref, char *family, long *rev)
{
    const char *res = ecs_arn_resource(ref), *colon;
    size_t flen;
    char *end;

    *rev = 0;
    if (ref == NULL)
        return SL_ERR;
    if (res != NULL) {
        if (strncmp(res, "task-definition/", 16) != 0)
            return SL_ERR;
        ref = res + 16;
        if (strchr(ref, ':') == NULL)
            return SL_ERR;
    }
    colon = strchr(ref, ':');
    flen = colon ? (size_t)(colon - ref) : strlen(ref);
    if (flen == 0 || flen > ECS_NAME_MAX)
        return SL_ERR;
    memcpy(family, ref, flen);
    family[flen] = '\0';
    if (!ecs_valid_name(family))
        return SL_ERR;
    if (colon) {
        if (colon[1] < '1' || colon[1] > '9' || strlen(colon + 1) > 10)
            return SL_ERR;
        *rev = strtol(colon + 1, &end, 10);
        if (*end != '\0' || *rev <= 0 || *rev > 2147483647L)
            return SL_ERR;
    }
    return SL_OK;
}

void ecs_taskdef_id(char *out, size_t cap, const char *family, long rev)
{
    snprintf(out, cap, "%s:%08ld", family, rev);
}

struct latest_scan {
    json_t *found;
};

static int keep_latest_active(const char *id, json_t *obj, void *arg)
{
    struct latest_scan *l = arg;
    const char *st = json_string_value(json_object_get(obj, "status"));

    (void)id;
    if (st && strcmp(st, "ACTIVE") == 0) {
        json_decref(l->found);
        l->found = json_incref(obj);
    }
    return 0;
}

json_t *ecs_taskdef_find(struct store_txn *txn, const char *ref)
{
    char family[ECS_NAME_MAX + 1], id[ECS_ID_MAX], prefix[ECS_NAME_MAX + 2];
    struct latest_scan l = {NULL};
    json_t *copy;
    long rev;

    if (ecs_taskdef_ref(ref, family, &rev) != SL_OK)
        return NULL;
    if (rev > 0) {
        ecs_taskdef_id(id, sizeof(id), family, rev);
        return store_get(txn, K_ECS_TASKDEF, id);
    }
    snprintf(prefix, sizeof(prefix), "%s:", family);
    store_scan(txn, K_ECS_TASKDEF, prefix, keep_latest_active, &l);
    if (l.found == NULL)
        return NULL;
    copy = json_deep_copy(l.found);
    json_decref(l.found);
    return copy;
}

int ecs_taskdef_has_port(json_t *td, const char *name, long port, int *has_container)
{
    json_t *c, *pm;
    size_t i, j;

    *has_container = 0;
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c) {
        const char *cn = json_string_value(json_object_get(c, "name"));
        if (cn == NULL || strcmp(cn, name) != 0)
            continue;
        *has_container = 1;
        json_array_foreach(json_object_get(c, "portMappings"), j, pm)
            if (json_integer_value(json_object_get(pm, "containerPort")) == port)
                return 1;
    }
    return 0;
}

/* ---- RegisterTaskDefinition ---- */

int ecs_taskdef_register(struct store_txn *txn, const struct ecs_env *env, json_t *td,
                         struct sl_err *err)
{
    const char *family = json_string_value(json_object_get(td, "family"));
    char key[ECS_NAME_MAX + 16], val[32], id[ECS_ID_MAX], res[ECS_NAME_MAX + 40],
        arn[ECS_ARN_MAX];
    long rev = 0;

    snprintf(key, sizeof(key), "ecs:tdrev:%s", family);
    if (store_index_get(txn, key, val, sizeof(val)) == SL_OK)
        rev = strtol(val, NULL, 10);
    if (rev >= 1000000) /* ECS's per-family limit */
        return ecs_client(err, "Too many revisions of family '%s'.", family);
    rev++;
    snprintf(val, sizeof(val), "%ld", rev);
    snprintf(res, sizeof(res), "task-definition/%s:%ld", family, rev);
    ecs_arn(arn, sizeof(arn), env, res);
    json_object_set_new(td, "taskDefinitionArn", json_string(arn));
    json_object_set_new(td, "revision", json_integer(rev));
    json_object_set_new(td, "status", json_string("ACTIVE"));
    json_object_set_new(td, "registeredAt", json_real(ecs_now()));
    ecs_taskdef_id(id, sizeof(id), family, rev);
    if (store_put(txn, K_ECS_TASKDEF, id, td) != SL_OK ||
        store_index_put(txn, key, val) != SL_OK)
        return sl_err_set(err, 500, "ServerException", "storage failure");
    return SL_OK;
}

/* ---- DescribeTaskDefinition ---- */

int ecs_taskdef_describe(struct store_txn *txn, const char *ref, json_t **out,
                         struct sl_err *err)
{
    if ((*out = ecs_taskdef_find(txn, ref)) == NULL)
        return ecs_client(err, "Unable to describe task definition.");
    return SL_OK;
}

/* ---- ListTaskDefinitions / ListTaskDefinitionFamilies ---- */

struct td_list {
    json_t *items; /* shared objects, read-only */
    const char *family_prefix;
};

static int collect_td(const char *id, json_t *obj, void *arg)
{
    struct td_list *l = arg;
    const char *fam = json_string_value(json_object_get(obj, "family"));

    if (l->family_prefix && (fam == NULL || strncmp(fam, l->family_prefix,
                                                    strlen(l->family_prefix)) != 0))
        return 0;
    json_array_append(l->items, obj);
    return 0;
}

static int td_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *fx = json_string_value(json_object_get(x, "family"));
    const char *fy = json_string_value(json_object_get(y, "family"));
    int c = strcmp(fx ? fx : "", fy ? fy : "");
    json_int_t rx = json_integer_value(json_object_get(x, "revision"));
    json_int_t ry = json_integer_value(json_object_get(y, "revision"));

    if (c != 0)
        return c;
    return rx < ry ? -1 : rx > ry;
}

/* All task definitions (of one family, or whose family starts with
 * <family>), sorted by family then revision: an array of shared objects. */
static json_t *all_tds(struct store_txn *txn, const char *family, int exact)
{
    struct td_list l = {json_array(), NULL};
    char prefix[ECS_NAME_MAX + 2];
    json_t **v, *sorted;
    size_t i, n;

    if (family && exact) {
        snprintf(prefix, sizeof(prefix), "%s:", family);
        store_scan(txn, K_ECS_TASKDEF, prefix, collect_td, &l);
    } else {
        l.family_prefix = family;
        store_scan(txn, K_ECS_TASKDEF, NULL, collect_td, &l);
    }
    n = json_array_size(l.items);
    v = calloc(n ? n : 1, sizeof(*v));
    if (v == NULL)
        return l.items;
    for (i = 0; i < n; i++)
        v[i] = json_array_get(l.items, i);
    qsort(v, n, sizeof(*v), td_cmp);
    sorted = json_array();
    for (i = 0; i < n; i++)
        json_array_append(sorted, v[i]);
    free(v);
    json_decref(l.items);
    return sorted;
}

int ecs_taskdefs_list(struct store_txn *txn, const char *family, const char *status, int desc,
                      json_t **out)
{
    json_t *all = all_tds(txn, family, 1), *arns = json_array(), *td;
    const char *s;
    size_t i, n = json_array_size(all);

    for (i = 0; i < n; i++) {
        td = json_array_get(all, desc ? n - 1 - i : i);
        s = json_string_value(json_object_get(td, "status"));
        if (s && strcmp(s, status) == 0)
            json_array_append(arns, json_object_get(td, "taskDefinitionArn"));
    }
    json_decref(all);
    *out = arns;
    return SL_OK;
}

int ecs_taskdef_families(struct store_txn *txn, const char *prefix, const char *status,
                         json_t **out)
{
    json_t *all = all_tds(txn, prefix, 0), *fams = json_array(), *td;
    const char *fam, *prev = NULL, *next;
    size_t i, n = json_array_size(all);
    int any_active = 0;

    /* Families are runs of the sorted list; decide each at its last item. */
    for (i = 0; i < n; i++) {
        td = json_array_get(all, i);
        fam = json_string_value(json_object_get(td, "family"));
        if (fam == NULL)
            continue;
        if (prev == NULL || strcmp(prev, fam) != 0)
            any_active = 0;
        prev = fam;
        if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") == 0)
            any_active = 1;
        next = i + 1 < n ? json_string_value(json_object_get(json_array_get(all, i + 1),
                                                             "family"))
                         : NULL;
        if (next && strcmp(next, fam) == 0)
            continue;
        if (strcmp(status, "ALL") == 0 || (strcmp(status, "ACTIVE") == 0) == any_active)
            json_array_append_new(fams, json_string(fam));
    }
    json_decref(all);
    *out = fams;
    return SL_OK;
}

/* ---- DeregisterTaskDefinition ---- */

int ecs_taskdef_deregister(struct store_txn *txn, const char *family, long rev, json_t **out,
                           struct sl_err *err)
{
    char id[ECS_ID_MAX];
    json_t *td;

    ecs_taskdef_id(id, sizeof(id), family, rev);
    if ((td = store_get(txn, K_ECS_TASKDEF, id)) == NULL)
        return ecs_client(err, "The specified task definition does not exist.");
    if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") == 0) {
        json_object_set_new(td, "status", json_string("INACTIVE"));
        json_object_set_new(td, "deregisteredAt", json_real(ecs_now()));
        if (store_put(txn, K_ECS_TASKDEF, id, td) != SL_OK) {
            json_decref(td);
            return sl_err_set(err, 500, "ServerException", "storage failure");
        }
    }
    *out = td;
    return SL_OK;
}

/* ---- what this host can run ---- */

static const char *host_arch(void)
{
    struct utsname u;

    if (uname(&u) != 0)
        return "X86_64";
    return strcmp(u.machine, "aarch64") == 0 || strcmp(u.machine, "arm64") == 0 ? "ARM64"
                                                                                 : "X86_64";
}

int ecs_taskdef_runnable(json_t *td, struct sl_err *err)
{
    json_t *rp = json_object_get(td, "runtimePlatform");
    const char *os = json_string_value(json_object_get(rp, "operatingSystemFamily"));
    const char *arch = json_string_value(json_object_get(rp, "cpuArchitecture"));

    if (json_object_get(td, "proxyConfiguration"))
        return ecs_invalid(err, "proxyConfiguration is not supported by sluice: no App Mesh "
                                "proxy is set up for its tasks.");
    if (json_array_size(json_object_get(td, "inferenceAccelerators")) > 0)
        return ecs_invalid(err, "inferenceAccelerators is not supported by sluice: this host "
                                "has no Elastic Inference accelerators.");
    if (os && strcmp(os, "LINUX") != 0)
        return ecs_invalid(err, "runtimePlatform.operatingSystemFamily %s is not supported by "
                                "sluice: its container instance runs Linux tasks.",
                           os);
    if (arch && strcmp(arch, host_arch()) != 0)
        return ecs_invalid(err, "runtimePlatform.cpuArchitecture %s is not supported by sluice "
                                "on this host: its container instance is %s.",
                           arch, host_arch());
    return SL_OK;
}

/* ---- DeleteTaskDefinitions ---- */

struct ref_scan {
    const char *arn;
    int used;
};

static int task_uses(const char *id, json_t *task, void *arg)
{
    struct ref_scan *r = arg;
    const char *st = json_string_value(json_object_get(task, "lastStatus"));

    if (st && strcmp(st, "STOPPED") != 0 &&
        strcmp(json_string_value(json_object_get(task, "taskDefinitionArn")) ?: "", r->arn) == 0)
        r->used = 1;
    return r->used;
}

static int service_uses(const char *id, json_t *svc, void *arg)
{
    struct ref_scan *r = arg;
    const char *st = json_string_value(json_object_get(svc, "status"));
    json_t *d;
    size_t i;

    if (st && strcmp(st, "INACTIVE") == 0)
        return 0;
    json_array_foreach(json_object_get(svc, "deployments"), i, d)
        if (strcmp(json_string_value(json_object_get(d, "taskDefinition")) ?: "", r->arn) == 0)
            r->used = 1;
    return r->used;
}

static json_t *delete_failure(const char *ref, const char *reason)
{
    return json_pack("{ss ss}", "arn", ref, "reason", reason);
}

int ecs_taskdefs_delete(struct store_txn *txn, const char *const *refs, size_t n, json_t **out,
                        struct sl_err *err)
{
    char family[ECS_NAME_MAX + 1], id[ECS_ID_MAX];
    json_t *done = json_array(), *failures = json_array(), *td;
    struct ref_scan r;
    long rev;
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        if (ecs_taskdef_ref(refs[i], family, &rev) != SL_OK || rev == 0) {
            json_array_append_new(failures,
                                  delete_failure(refs[i], "The specified task definition "
                                                          "identifier is invalid. Specify a valid "
                                                          "name or ARN and try again."));
            continue;
        }
        ecs_taskdef_id(id, sizeof(id), family, rev);
        if ((td = store_get(txn, K_ECS_TASKDEF, id)) == NULL) {
            json_array_append_new(failures,
                                  delete_failure(refs[i], "The specified task definition does "
                                                          "not exist. Specify a valid account, "
                                                          "family, revision and try again."));
            continue;
        }
        if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") == 0) {
            json_array_append_new(failures,
                                  delete_failure(refs[i], "The specified task definition is "
                                                          "still in ACTIVE status. Please "
                                                          "deregister the target and try "
                                                          "again."));
            json_decref(td);
            continue;
        }
        /* Gone at once when nothing runs it; while a task or service still
         * does, it stays DELETE_IN_PROGRESS (and is deleted by a later
         * DeleteTaskDefinitions once nothing does). */
        r.arn = json_string_value(json_object_get(td, "taskDefinitionArn"));
        r.used = 0;
        store_scan(txn, K_ECS_TASK, NULL, task_uses, &r);
        if (!r.used)
            store_scan(txn, K_ECS_SERVICE, NULL, service_uses, &r);
        json_object_set_new(td, "status", json_string("DELETE_IN_PROGRESS"));
        json_object_set_new(td, "deleteRequestedAt", json_real(ecs_now()));
        rc = r.used ? store_put(txn, K_ECS_TASKDEF, id, td) : store_del(txn, K_ECS_TASKDEF, id);
        if (rc != SL_OK && rc != SL_ENOTFOUND) {
            json_decref(td);
            json_decref(done);
            json_decref(failures);
            return sl_err_set(err, 500, "ServerException", "storage failure");
        }
        json_array_append_new(done, ecs_public(td, 0));
        json_decref(td);
    }
    *out = json_pack("{so so}", "taskDefinitions", done, "failures", failures);
    return SL_OK;
}
