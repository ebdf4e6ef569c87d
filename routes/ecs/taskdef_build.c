/*
 * taskdef_build.c - the validation of a RegisterTaskDefinition request into
 * the task definition sluice stores: container definitions, port mappings,
 * health checks, compatibilities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ecs/instances.h"
#include "routes/ecs/names.h"
#include "routes/ecs/param.h"
#include "routes/ecs/tags.h"
#include "routes/ecs/taskdef.h"

static const char *const net_modes[] = {"bridge", "host", "awsvpc", "none", NULL};
static const char *const compat_names[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES",
                                           NULL};
static const char *const protocols[] = {"tcp", "udp", NULL};
static const char *const app_protocols[] = {"http", "http2", "grpc", NULL};

#define TD_MAX_CONTAINERS 10

static int name_list_ok(json_t *env, const char *what, struct sl_err *err)
{
    size_t i;
    json_t *e;

    json_array_foreach(env, i, e) {
        json_t *n = json_object_get(e, "name"), *v = json_object_get(e, "value");
        if (!json_is_object(e) || !json_is_string(n) || (v && !json_is_string(v)))
            return sl_err_set(err, 400, "SerializationException",
                              "Unable to deserialize '%s': expected a list of {name,value} "
                              "strings",
                              what);
    }
    return SL_OK;
}

static json_t *build_port_mapping(json_t *pm, const char *cname, const char *mode,
                                  struct sl_err *err)
{
    const char *proto = "tcp", *s;
    long cport, hport = 0;
    int rc, fixed;
    json_t *out;

    if (!json_is_object(pm)) {
        sl_err_set(err, 400, "SerializationException",
                   "Unable to deserialize 'portMappings': expected a list of objects");
        return NULL;
    }
    if (ecs_int(pm, "containerPort", P_REQUIRED, 1, 65535, &cport, err) != SL_OK)
        return NULL;
    if ((rc = ecs_int(pm, "hostPort", P_OPTIONAL, 0, 65535, &hport, err)) == SL_ERR)
        return NULL;
    if (ecs_enum(pm, "protocol", P_OPTIONAL, protocols, &s, err) == SL_ERR)
        return NULL;
    if (s)
        proto = s;
    fixed = strcmp(mode, "host") == 0 || strcmp(mode, "awsvpc") == 0;
    if (fixed && rc == SL_OK && hport != 0 && hport != cport) {
        ecs_client(err, "When networkMode=%s, the host ports and container ports in port "
                        "mappings must match (container %s).",
                   mode, cname);
        return NULL;
    }
    if (fixed)
        hport = cport;
    out = json_pack("{sI sI ss}", "containerPort", (json_int_t)cport, "hostPort",
                    (json_int_t)hport, "protocol", proto);
    if (ecs_str(pm, "name", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(out, "name", json_string(s));
    if (ecs_enum(pm, "appProtocol", P_OPTIONAL, app_protocols, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(out, "appProtocol", json_string(s));
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *build_health_check(json_t *hc, struct sl_err *err)
{
    json_t *cmd;
    long interval = 30, timeout = 5, retries = 3, start = 0;

    if (ecs_strlist(hc, "command", P_REQUIRED, &cmd, err) != SL_OK)
        return NULL;
    if (json_array_size(cmd) == 0) {
        ecs_client(err, "healthCheck.command should not be empty.");
        return NULL;
    }
    /* interval and timeout go down to 1 s (ECS: 5 and 2), an extension for
     * fast local rollouts, as for target groups. */
    if (ecs_int(hc, "interval", P_OPTIONAL, 1, 300, &interval, err) == SL_ERR ||
        ecs_int(hc, "timeout", P_OPTIONAL, 1, 120, &timeout, err) == SL_ERR ||
        ecs_int(hc, "retries", P_OPTIONAL, 1, 10, &retries, err) == SL_ERR ||
        ecs_int(hc, "startPeriod", P_OPTIONAL, 0, 300, &start, err) == SL_ERR)
        return NULL;
    return json_pack("{sO sI sI sI sI}", "command", cmd, "interval", (json_int_t)interval,
                     "timeout", (json_int_t)timeout, "retries", (json_int_t)retries,
                     "startPeriod", (json_int_t)start);
}

static json_t *build_container(json_t *c, const char *mode, struct sl_err *err)
{
    const char *name, *image, *s;
    json_t *out, *v, *list, *pms;
    long n;
    int b;
    size_t i;

    if (!json_is_object(c)) {
        sl_err_set(err, 400, "SerializationException",
                   "Unable to deserialize 'containerDefinitions': expected a list of objects");
        return NULL;
    }
    if (ecs_str(c, "name", P_OPTIONAL, &name, err) == SL_ERR)
        return NULL;
    if (name == NULL || name[0] == '\0') {
        ecs_client(err, "Container.name should not be null or empty.");
        return NULL;
    }
    if (!ecs_valid_name(name)) {
        ecs_client(err, "Container name '%.255s' is invalid: up to 255 letters (uppercase and "
                        "lowercase), numbers, hyphens, and underscores are allowed.",
                   name);
        return NULL;
    }
    if (ecs_str(c, "image", P_OPTIONAL, &image, err) == SL_ERR)
        return NULL;
    if (image == NULL || image[0] == '\0') {
        ecs_client(err, "Container.image should not be null or empty.");
        return NULL;
    }
    /* Members this layer does not interpret pass through as given. */
    out = json_deep_copy(c);
    json_object_set_new(out, "name", json_string(name));
    json_object_set_new(out, "image", json_string(image));
    n = 0;
    if (ecs_int(c, "cpu", P_OPTIONAL, 0, 196608, &n, err) == SL_ERR)
        goto fail;
    json_object_set_new(out, "cpu", json_integer(n));
    if (ecs_int(c, "memory", P_OPTIONAL, 6, 1L << 30, &n, err) == SL_ERR)
        goto fail;
    if (ecs_int(c, "memoryReservation", P_OPTIONAL, 6, 1L << 30, &n, err) == SL_ERR)
        goto fail;
    b = 1;
    if (ecs_bool(c, "essential", &b, err) == SL_ERR)
        goto fail;
    json_object_set_new(out, "essential", json_boolean(b));
    if (ecs_list(c, "portMappings", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    pms = json_array();
    json_object_set_new(out, "portMappings", pms);
    json_array_foreach(list, i, v) {
        json_t *pm = build_port_mapping(v, name, mode, err);
        size_t j;
        json_t *o;
        if (pm == NULL)
            goto fail;
        json_array_foreach(pms, j, o)
            if (json_equal(json_object_get(o, "containerPort"),
                           json_object_get(pm, "containerPort")) &&
                json_equal(json_object_get(o, "protocol"), json_object_get(pm, "protocol"))) {
                json_decref(pm);
                ecs_client(err, "Container '%s' maps containerPort %lld/%s more than once.",
                           name, (long long)json_integer_value(json_object_get(o, "containerPort")),
                           json_string_value(json_object_get(o, "protocol")));
                goto fail;
            }
        json_array_append_new(pms, pm);
    }
    if (ecs_list(c, "environment", P_OPTIONAL, &list, err) == SL_ERR ||
        (list && name_list_ok(list, "environment", err) != SL_OK))
        goto fail;
    if (list == NULL)
        json_object_set_new(out, "environment", json_array());
    if (ecs_strlist(c, "command", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_strlist(c, "entryPoint", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    if (ecs_str(c, "workingDirectory", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (ecs_obj(c, "healthCheck", P_OPTIONAL, &v, err) == SL_ERR)
        goto fail;
    if (v) {
        json_t *hc = build_health_check(v, err);
        if (hc == NULL)
            goto fail;
        json_object_set_new(out, "healthCheck", hc);
    }
    if (ecs_int(c, "stopTimeout", P_OPTIONAL, 2, 120, &n, err) == SL_ERR)
        goto fail;
    if (json_object_get(out, "mountPoints") == NULL)
        json_object_set_new(out, "mountPoints", json_array());
    if (json_object_get(out, "volumesFrom") == NULL)
        json_object_set_new(out, "volumesFrom", json_array());
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int list_has(json_t *list, const char *s);

/* The task-level members kept as given once checked: what the task
 * runtimes apply (pidMode, ipcMode: see server/runtime_docker_spec.c),
 * check when a task starts (runtimePlatform, proxyConfiguration,
 * inferenceAccelerators: ecs_taskdef_runnable()) or record
 * (ephemeralStorage: tasks get the host's disk). */
static int task_level_members(json_t *req, json_t *td, struct sl_err *err)
{
    static const char *const pid_modes[] = {"host", "task", NULL};
    static const char *const ipc_modes[] = {"host", "task", "none", NULL};
    static const char *const archs[] = {"X86_64", "ARM64", NULL};
    static const char *const families[] = {
        "WINDOWS_SERVER_2019_FULL", "WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2016_FULL",
        "WINDOWS_SERVER_2004_CORE", "WINDOWS_SERVER_2022_CORE", "WINDOWS_SERVER_2022_FULL",
        "WINDOWS_SERVER_2025_CORE", "WINDOWS_SERVER_2025_FULL", "WINDOWS_SERVER_20H2_CORE",
        "LINUX", NULL};
    json_t *compat = json_object_get(req, "requiresCompatibilities"), *v, *o;
    const char *pid, *ipc, *s;
    long size;
    int fault = 0;

    if (ecs_enum(req, "pidMode", P_OPTIONAL, pid_modes, &pid, err) == SL_ERR ||
        ecs_enum(req, "ipcMode", P_OPTIONAL, ipc_modes, &ipc, err) == SL_ERR)
        return SL_ERR;
    if (list_has(compat, "FARGATE") && pid && strcmp(pid, "task") != 0)
        return ecs_client(err, "Tasks using the Fargate launch type do not support pidMode "
                               "'%s'. The supported value for pidMode is 'task'.",
                          pid);
    if (list_has(compat, "FARGATE") && ipc)
        return ecs_client(err, "Tasks using the Fargate launch type do not support ipcMode.");
    if (pid)
        json_object_set_new(td, "pidMode", json_string(pid));
    if (ipc)
        json_object_set_new(td, "ipcMode", json_string(ipc));
    if (ecs_obj(req, "runtimePlatform", P_OPTIONAL, &o, err) == SL_ERR ||
        (o && (ecs_enum(o, "cpuArchitecture", P_OPTIONAL, archs, &s, err) == SL_ERR ||
               ecs_enum(o, "operatingSystemFamily", P_OPTIONAL, families, &s, err) == SL_ERR)))
        return SL_ERR;
    if (o)
        json_object_set_new(td, "runtimePlatform", json_deep_copy(o));
    if (ecs_obj(req, "ephemeralStorage", P_OPTIONAL, &o, err) == SL_ERR ||
        (o && ecs_int(o, "sizeInGiB", P_REQUIRED, 21, 200, &size, err) != SL_OK))
        return SL_ERR;
    if (o)
        json_object_set_new(td, "ephemeralStorage",
                            json_pack("{sI}", "sizeInGiB", (json_int_t)size));
    if (ecs_obj(req, "proxyConfiguration", P_OPTIONAL, &o, err) == SL_ERR ||
        (o && ecs_str(o, "containerName", P_REQUIRED, &s, err) != SL_OK))
        return SL_ERR;
    if (o)
        json_object_set_new(td, "proxyConfiguration", json_deep_copy(o));
    if (ecs_list(req, "inferenceAccelerators", P_OPTIONAL, &v, err) == SL_ERR)
        return SL_ERR;
    if (json_array_size(v) > 0)
        json_object_set_new(td, "inferenceAccelerators", json_deep_copy(v));
    if (ecs_bool(req, "enableFaultInjection", &fault, err) == SL_ERR)
        return SL_ERR;
    if (fault)
        return ecs_invalid(err, "enableFaultInjection is not supported by sluice: there is no "
                                "fault injection endpoint.");
    return SL_OK;
}

/* EC2 tasks: without a task-level memory, every container needs memory or
 * memoryReservation (AWS's rule and message). */
static int memory_rule(json_t *req, json_t *td, struct sl_err *err)
{
    json_t *c;
    size_t i;

    if (json_is_string(json_object_get(req, "memory")))
        return SL_OK;
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (!json_is_integer(json_object_get(c, "memory")) &&
            !json_is_integer(json_object_get(c, "memoryReservation")))
            return ecs_client(err, "Invalid setting for container '%s'. At least one of "
                                   "'memory' or 'memoryReservation' must be specified.",
                              json_string_value(json_object_get(c, "name")));
    return SL_OK;
}

static int list_has(json_t *list, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

/* A task size as ECS keeps it: in units ("1 vCPU" is "1024", "2 GB" is
 * "2048"), checked readable before. */
static void normalize_size(json_t *td)
{
    static const char *const members[] = {"cpu", "memory"};
    long v[2];
    char buf[24];
    int k;

    ecs_task_size(td, &v[0], &v[1]);
    for (k = 0; k < 2; k++)
        if (v[k] >= 0) {
            snprintf(buf, sizeof(buf), "%ld", v[k]);
            json_object_set_new(td, members[k], json_string(buf));
        }
}

json_t *ecs_taskdef_build(json_t *req, struct sl_err *err)
{
    const char *family, *mode = "bridge", *s;
    json_t *td = NULL, *defs, *list, *v, *c, *compat;
    struct ecs_tag *tags;
    int essential = 0;
    size_t i, j, ntags;

    if (!json_is_object(req)) {
        sl_err_set(err, 400, "SerializationException", "the request must be a JSON object");
        return NULL;
    }
    if (ecs_str(req, "family", P_REQUIRED, &family, err) != SL_OK)
        return NULL;
    if (!ecs_valid_name(family)) {
        ecs_client(err, "Family '%.255s' is invalid: up to 255 letters (uppercase and "
                        "lowercase), numbers, hyphens, and underscores are allowed.",
                   family);
        return NULL;
    }
    if (ecs_enum(req, "networkMode", P_OPTIONAL, net_modes, &s, err) == SL_ERR)
        return NULL;
    if (s)
        mode = s;
    if (ecs_list(req, "containerDefinitions", P_REQUIRED, &list, err) != SL_OK)
        return NULL;
    if (json_array_size(list) == 0) {
        ecs_client(err, "Container list cannot be empty.");
        return NULL;
    }
    if (json_array_size(list) > TD_MAX_CONTAINERS) {
        ecs_client(err, "Too many containers: a task definition can have at most %d.",
                   TD_MAX_CONTAINERS);
        return NULL;
    }
    td = json_object();
    json_object_set_new(td, "family", json_string(family));
    defs = json_array();
    json_object_set_new(td, "containerDefinitions", defs);
    json_array_foreach(list, i, v) {
        if ((c = build_container(v, mode, err)) == NULL)
            goto fail;
        for (j = 0; j < json_array_size(defs); j++)
            if (json_equal(json_object_get(json_array_get(defs, j), "name"),
                           json_object_get(c, "name"))) {
                ecs_client(err, "Duplicate container name '%s': container names must be "
                                "unique within a task definition.",
                           json_string_value(json_object_get(c, "name")));
                json_decref(c);
                goto fail;
            }
        if (json_is_true(json_object_get(c, "essential")))
            essential = 1;
        json_array_append_new(defs, c);
    }
    if (!essential) {
        ecs_client(err, "Container list must include at least one essential container.");
        goto fail;
    }
    json_object_set_new(td, "networkMode", json_string(mode));
    if (ecs_str(req, "taskRoleArn", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "taskRoleArn", json_string(s));
    if (ecs_str(req, "executionRoleArn", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "executionRoleArn", json_string(s));
    if (ecs_str(req, "cpu", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "cpu", json_string(s));
    if (ecs_str(req, "memory", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "memory", json_string(s));
    if (ecs_task_size_check(td, "setting for task", err) != SL_OK)
        goto fail;
    normalize_size(td);
    if (ecs_strlist(req, "requiresCompatibilities", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    compat = json_pack("[s]", "EC2");
    json_object_set_new(td, "compatibilities", compat);
    if (list) {
        json_array_foreach(list, i, v) {
            for (j = 0; compat_names[j]; j++)
                if (strcmp(json_string_value(v), compat_names[j]) == 0)
                    break;
            if (compat_names[j] == NULL) {
                ecs_invalid(err, "Invalid value '%.64s' for requiresCompatibilities.",
                            json_string_value(v));
                goto fail;
            }
            if (!list_has(compat, json_string_value(v)))
                json_array_append(compat, v);
        }
        json_object_set(td, "requiresCompatibilities", list);
        if (list_has(list, "FARGATE") && strcmp(mode, "awsvpc") != 0) {
            ecs_client(err, "Fargate only supports network mode 'awsvpc'.");
            goto fail;
        }
    }
    if (ecs_list(req, "volumes", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    json_object_set_new(td, "volumes", list ? json_deep_copy(list) : json_array());
    if (ecs_list(req, "placementConstraints", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    if (json_array_size(list) > 0) {
        ecs_invalid(err, "placementConstraints is not supported by sluice: tasks run on its one "
                         "container instance, which no attribute expression selects among.");
        goto fail;
    }
    json_object_set_new(td, "placementConstraints", json_array());
    if (task_level_members(req, td, err) != SL_OK || memory_rule(req, td, err) != SL_OK)
        goto fail;
    json_object_set_new(td, "requiresAttributes", json_array());
    if (ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_tags_decode(list, &tags, &ntags, err) != SL_OK)
        goto fail;
    json_object_set_new(td, "tags", ecs_tags_json(tags, ntags));
    free(tags);
    return td;
fail:
    json_decref(td);
    return NULL;
}
