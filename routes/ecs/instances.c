/*
 * instances.c - the host as every cluster's container instance (see
 * instances.h): its id, resources, state, attributes and placement.
 */
#include "routes/ecs/instances.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "version.h"

#define ATTRS_MAX 100 /* custom attributes per instance, as on ECS */

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ---- identity ---- */

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void ecs_instance_id(json_t *cluster, char out[ECS_INSTANCE_ID_LEN + 1])
{
    const char *arn = jstr(cluster, "clusterArn");

    snprintf(out, ECS_INSTANCE_ID_LEN + 1, "%016llx%016llx",
             (unsigned long long)fnv1a(arn, 14695981039346656037ULL),
             (unsigned long long)fnv1a(arn, 0x9e3779b97f4a7c15ULL));
}

/* "arn:...:container-instance/<cluster>/<id>" of <cluster>'s instance. */
static void instance_arn(json_t *cluster, char *out, size_t cap)
{
    const char *arn = jstr(cluster, "clusterArn"), *r = ecs_arn_resource(arn);
    char id[ECS_INSTANCE_ID_LEN + 1];

    ecs_instance_id(cluster, id);
    if (r == NULL || strncmp(r, "cluster/", 8) != 0) {
        snprintf(out, cap, "%s", id);
        return;
    }
    snprintf(out, cap, "%.*scontainer-instance/%s/%s", (int)(r - arn), arn, r + 8, id);
}

int ecs_instance_draining(json_t *cluster)
{
    return strcmp(jstr(cluster, "_instanceStatus"), "DRAINING") == 0;
}

int ecs_instance_is(json_t *cluster, const char *ref)
{
    char id[ECS_INSTANCE_ID_LEN + 1], arn[ECS_ARN_MAX];

    ecs_instance_id(cluster, id);
    instance_arn(cluster, arn, sizeof(arn));
    return ref && (strcmp(ref, id) == 0 || strcmp(ref, arn) == 0);
}

/* ---- resources ---- */

static void host_resources(long *cpu, long *memory)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);

    *cpu = (n > 0 ? n : 1) * 1024;
    *memory = pages > 0 && page > 0 ? (long)((long long)pages * page / (1024 * 1024)) : 0;
}

/* A task-level "cpu" or "memory" string: "256", "1 vCPU", "0.5 vcpu",
 * "512", "2 GB".  -1 when absent or unreadable. */
static long task_level(json_t *v, const char *unit, long per_unit)
{
    const char *s = json_string_value(v);
    char *end;
    double n;

    if (s == NULL || *s == '\0')
        return -1;
    n = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end == '\0')
        return (long)n;
    if (strncasecmp(end, unit, strlen(unit)) == 0 && end[strlen(unit)] == '\0')
        return (long)(n * per_unit);
    return -1;
}

void ecs_task_size(json_t *td, long *cpu, long *memory)
{
    *cpu = task_level(json_object_get(td, "cpu"), "vcpu", 1024);
    *memory = task_level(json_object_get(td, "memory"), "gb", 1024);
}

int ecs_task_size_check(json_t *o, const char *what, struct sl_err *err)
{
    static const char *const members[] = {"cpu", "memory"};
    long v[2];
    int k;

    ecs_task_size(o, &v[0], &v[1]);
    for (k = 0; k < 2; k++)
        if (json_object_get(o, members[k]) && v[k] < 0)
            return ecs_client(err, "Invalid '%s' %s.", members[k], what);
    return SL_OK;
}

void ecs_task_reservation(json_t *td, long *cpu, long *memory)
{
    long c, m, sc = 0, sm = 0;
    json_t *cd;
    size_t i;

    ecs_task_size(td, &c, &m);
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, cd) {
        json_t *mem = json_object_get(cd, "memory");
        sc += (long)json_integer_value(json_object_get(cd, "cpu"));
        if (!json_is_integer(mem))
            mem = json_object_get(cd, "memoryReservation");
        sm += (long)json_integer_value(mem);
    }
    *cpu = c >= 0 ? c : sc;
    *memory = m >= 0 ? m : sm;
}

struct usage {
    long cpu, memory, running, pending;
    json_t *tcp, *udp; /* host ports held, as strings */
};

static long json_num(json_t *v)
{
    return json_is_integer(v) ? (long)json_integer_value(v)
           : json_is_string(v) ? atol(json_string_value(v))
                               : 0;
}

static void add_ports(struct usage *u, json_t *task)
{
    json_t *c, *b;
    size_t i, j;
    char port[16];

    json_array_foreach(json_object_get(task, "containers"), i, c)
        json_array_foreach(json_object_get(c, "networkBindings"), j, b) {
            snprintf(port, sizeof(port), "%ld", json_num(json_object_get(b, "hostPort")));
            json_array_append_new(strcmp(jstr(b, "protocol"), "udp") == 0 ? u->udp : u->tcp,
                                  json_string(port));
        }
}

static int add_task(const char *id, json_t *task, void *arg)
{
    struct usage *u = arg;
    const char *st = jstr(task, "lastStatus");
    json_t *r = json_object_get(task, "_reserved"), *c;
    size_t i;

    if (strcmp(st, "STOPPED") == 0 || strcmp(st, "DELETED") == 0)
        return 0;
    if (strcmp(st, "RUNNING") == 0)
        u->running++;
    else if (strcmp(st, "PROVISIONING") == 0 || strcmp(st, "PENDING") == 0 ||
             strcmp(st, "ACTIVATING") == 0)
        u->pending++;
    if (r) {
        u->cpu += json_num(json_object_get(r, "cpu"));
        u->memory += json_num(json_object_get(r, "memory"));
    } else { /* a task recorded before reservations were: its own members */
        long tc = task_level(json_object_get(task, "cpu"), "vcpu", 1024);
        long tm = task_level(json_object_get(task, "memory"), "gb", 1024);
        long sc = 0, sm = 0;
        json_array_foreach(json_object_get(task, "containers"), i, c) {
            sc += json_num(json_object_get(c, "cpu"));
            sm += json_num(json_object_get(c, "memory"));
        }
        u->cpu += tc >= 0 ? tc : sc;
        u->memory += tm >= 0 ? tm : sm;
    }
    add_ports(u, task);
    return 0;
}

static void usage_of(struct store_txn *txn, json_t *cluster, struct usage *u)
{
    char prefix[ECS_NAME_MAX + 2];

    memset(u, 0, sizeof(*u));
    u->tcp = json_array();
    u->udp = json_array();
    snprintf(prefix, sizeof(prefix), "%s/", jstr(cluster, "clusterName"));
    store_scan(txn, K_ECS_TASK, prefix, add_task, u);
}

static json_t *resources_json(long cpu, long memory, json_t *tcp, json_t *udp)
{
    return json_pack("[{ss ss sI} {ss ss sI} {ss ss sO} {ss ss sO}]", "name", "CPU", "type",
                     "INTEGER", "integerValue", (json_int_t)cpu, "name", "MEMORY", "type",
                     "INTEGER", "integerValue", (json_int_t)memory, "name", "PORTS", "type",
                     "STRINGSET", "stringSetValue", tcp, "name", "PORTS_UDP", "type",
                     "STRINGSET", "stringSetValue", udp);
}

int ecs_instance_place(struct store_txn *txn, const struct ecs_env *env, json_t *cluster,
                       json_t *td, long count, long *placed, json_t **failures)
{
    long cpu, mem, need_cpu, need_mem, i;
    struct usage u;
    char arn[ECS_ARN_MAX];

    (void)env;
    *placed = 0;
    *failures = json_array();
    instance_arn(cluster, arn, sizeof(arn));
    host_resources(&cpu, &mem);
    ecs_task_reservation(td, &need_cpu, &need_mem);
    usage_of(txn, cluster, &u);
    for (i = 0; i < count; i++) {
        const char *why = ecs_instance_draining(cluster)                    ? "DRAINING"
                          : u.cpu + need_cpu > cpu                          ? "RESOURCE:CPU"
                          : mem > 0 && u.memory + need_mem > mem ? "RESOURCE:MEMORY"
                                                                            : NULL;
        if (why) {
            json_array_append_new(*failures, json_pack("{ss ss}", "arn", arn, "reason", why));
            continue;
        }
        u.cpu += need_cpu;
        u.memory += need_mem;
        (*placed)++;
    }
    json_decref(u.tcp);
    json_decref(u.udp);
    return SL_OK;
}

/* ---- views ---- */

static const char *arch_name(void)
{
    struct utsname n;

    if (uname(&n) != 0)
        return "x86_64";
    return strcmp(n.machine, "aarch64") == 0 ? "arm64" : "x86_64";
}

static json_t *attributes_json(json_t *cluster)
{
    json_t *out = json_pack("[{ss ss} {ss ss} {ss ss}]", "name", "ecs.os-type", "value", "linux",
                            "name", "ecs.os-family", "value", "LINUX", "name",
                            "ecs.cpu-architecture", "value", arch_name()), *a;
    size_t i;

    json_array_foreach(json_object_get(cluster, "_attributes"), i, a)
        json_array_append(out, a);
    return out;
}

static json_t *instance_view(struct store_txn *txn, json_t *cluster, int with_tags)
{
    char arn[ECS_ARN_MAX];
    long cpu, mem;
    struct usage u;
    json_t *out, *none = json_array();

    instance_arn(cluster, arn, sizeof(arn));
    host_resources(&cpu, &mem);
    usage_of(txn, cluster, &u);
    out = json_pack("{ss si s{ss ss ss} so so ss sb si si so s[] s{ss s[]}}",
                    "containerInstanceArn", arn, "version", 1, "versionInfo", "agentVersion",
                    SLUICE_VERSION, "agentHash", "sluice", "dockerVersion", "",
                    "remainingResources",
                    resources_json(cpu - u.cpu, mem - u.memory, u.tcp, u.udp),
                    "registeredResources", resources_json(cpu, mem, none, none),
                    "status", ecs_instance_draining(cluster) ? "DRAINING" : "ACTIVE",
                    "agentConnected", 1, "runningTasksCount", (int)u.running,
                    "pendingTasksCount", (int)u.pending, "attributes",
                    attributes_json(cluster), "attachments", "healthStatus", "overallStatus",
                    "OK", "details");
    json_decref(u.tcp);
    json_decref(u.udp);
    json_decref(none);
    if (json_object_get(cluster, "_createdAt"))
        json_object_set(out, "registeredAt", json_object_get(cluster, "_createdAt"));
    if (with_tags)
        json_object_set_new(out, "tags", json_array());
    return out;
}

static json_t *cluster_of(struct store_txn *txn, const char *cluster, struct sl_err *err)
{
    json_t *c = store_get(txn, K_ECS_CLUSTER, cluster);

    if (c == NULL)
        sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    return c;
}

int ecs_instances_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                       const char *status, json_t **out, struct sl_err *err)
{
    char arn[ECS_ARN_MAX];
    json_t *c = cluster_of(txn, cluster, err);

    (void)env;
    if (c == NULL)
        return SL_ERR;
    *out = json_array();
    if (status == NULL ||
        strcmp(status, ecs_instance_draining(c) ? "DRAINING" : "ACTIVE") == 0) {
        instance_arn(c, arn, sizeof(arn));
        json_array_append_new(*out, json_string(arn));
    }
    json_decref(c);
    return SL_OK;
}

/* {containerInstances, failures} for <refs>: the instance for each ref that
 * names it, MISSING for the others. */
static json_t *refs_reply(struct store_txn *txn, json_t *c, const char *const *refs, size_t n,
                          int with_tags)
{
    json_t *found = json_array(), *failures = json_array();
    size_t i;

    for (i = 0; i < n; i++) {
        if (ecs_instance_is(c, refs[i]))
            json_array_append_new(found, instance_view(txn, c, with_tags));
        else
            json_array_append_new(failures,
                                  json_pack("{ss ss}", "arn", refs[i], "reason", "MISSING"));
    }
    return json_pack("{so so}", "containerInstances", found, "failures", failures);
}

int ecs_instances_describe(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                           const char *const *refs, size_t n, int with_tags, json_t **out,
                           struct sl_err *err)
{
    json_t *c = cluster_of(txn, cluster, err);

    (void)env;
    if (c == NULL)
        return SL_ERR;
    *out = refs_reply(txn, c, refs, n, with_tags);
    json_decref(c);
    return SL_OK;
}

int ecs_instances_set_state(struct store_txn *txn, const struct ecs_env *env,
                            const char *cluster, const char *const *refs, size_t n,
                            const char *status, json_t **out, struct sl_err *err)
{
    json_t *c = cluster_of(txn, cluster, err);
    size_t i;
    int hit = 0, rc = SL_OK;

    (void)env;
    if (c == NULL)
        return SL_ERR;
    for (i = 0; i < n; i++)
        hit |= ecs_instance_is(c, refs[i]);
    if (hit) {
        json_object_set_new(c, "_instanceStatus", json_string(status));
        if (store_put(txn, K_ECS_CLUSTER, cluster, c) != SL_OK)
            rc = sl_err_set(err, 500, "ServerException", "storage failure");
    }
    if (rc == SL_OK)
        *out = refs_reply(txn, c, refs, n, 0);
    json_decref(c);
    return rc;
}

/* ---- attributes ---- */

static int name_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 128)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_/\\.", s[i]))
            return 0;
    return 1;
}

static int value_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.@/\\: ", s[i]))
            return 0;
    return 1;
}

int ecs_attrs_check(const struct ecs_attr *a, size_t n, int put, struct sl_err *err)
{
    size_t i;

    if (n == 0 || n > 10)
        return ecs_invalid(err, "attributes must have between 1 and 10 items.");
    for (i = 0; i < n; i++) {
        if (!name_ok(a[i].name))
            return ecs_invalid(err, "Attribute name '%.128s' is invalid: up to 128 letters, "
                                    "numbers, hyphens, underscores, periods and slashes.",
                               a[i].name);
        if (a[i].value && !value_ok(a[i].value))
            return ecs_invalid(err, "The value of attribute '%.128s' is invalid.", a[i].name);
        if (put && strncmp(a[i].name, "ecs.", 4) == 0)
            return ecs_invalid(err, "Attribute '%.128s' is a built-in attribute of the "
                                    "container instance and cannot be changed.",
                               a[i].name);
    }
    return SL_OK;
}

static void attr_del(json_t *list, const char *name)
{
    json_t *e;
    size_t i;

    json_array_foreach(list, i, e)
        if (strcmp(jstr(e, "name"), name) == 0) {
            json_array_remove(list, i);
            return;
        }
}

int ecs_attrs_put(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                  const struct ecs_attr *a, size_t n, int del, json_t **out, struct sl_err *err)
{
    char arn[ECS_ARN_MAX];
    json_t *c = cluster_of(txn, cluster, err), *list, *given = json_array(), *e;
    size_t i;
    int rc = SL_ERR;

    (void)env;
    if (c == NULL)
        goto out;
    instance_arn(c, arn, sizeof(arn));
    if ((list = json_object_get(c, "_attributes")) == NULL) {
        list = json_array();
        json_object_set_new(c, "_attributes", list);
    }
    for (i = 0; i < n; i++) {
        if (a[i].target_id && !ecs_instance_is(c, a[i].target_id)) {
            sl_err_set(err, 400, "TargetNotFoundException", "Could not find %.300s",
                       a[i].target_id);
            goto out;
        }
        attr_del(list, a[i].name);
        e = json_pack("{ss}", "name", a[i].name);
        if (a[i].value)
            json_object_set_new(e, "value", json_string(a[i].value));
        if (!del)
            json_array_append_new(list, json_deep_copy(e));
        json_object_set_new(e, "targetType", json_string("container-instance"));
        json_object_set_new(e, "targetId", json_string(arn));
        json_array_append_new(given, e);
    }
    if (json_array_size(list) > ATTRS_MAX) {
        sl_err_set(err, 400, "AttributeLimitExceededException",
                   "A container instance can have at most %d custom attributes.", ATTRS_MAX);
        goto out;
    }
    if (store_put(txn, K_ECS_CLUSTER, cluster, c) != SL_OK) {
        sl_err_set(err, 500, "ServerException", "storage failure");
        goto out;
    }
    *out = json_incref(given);
    rc = SL_OK;
out:
    json_decref(given);
    json_decref(c);
    return rc;
}

int ecs_attrs_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                   const char *name, const char *value, json_t **out, struct sl_err *err)
{
    char arn[ECS_ARN_MAX];
    json_t *c = cluster_of(txn, cluster, err), *all, *a;
    size_t i;

    (void)env;
    if (c == NULL)
        return SL_ERR;
    instance_arn(c, arn, sizeof(arn));
    all = attributes_json(c);
    *out = json_array();
    json_array_foreach(all, i, a) {
        if ((name && strcmp(jstr(a, "name"), name) != 0) ||
            (value && strcmp(jstr(a, "value"), value) != 0))
            continue;
        a = json_deep_copy(a);
        json_object_set_new(a, "targetType", json_string("container-instance"));
        json_object_set_new(a, "targetId", json_string(arn));
        json_array_append_new(*out, a);
    }
    json_decref(all);
    json_decref(c);
    return SL_OK;
}
