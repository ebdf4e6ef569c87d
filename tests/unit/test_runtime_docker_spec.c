/* Unit tests for server/runtime_docker_spec.c: a task definition as Docker
 * Engine create bodies (dk_plan), and server/task_metadata.c's v4 container
 * document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/runtime_docker_int.h"
#include "server/task_metadata.h"

static const struct dk_plan_cfg CFG = {"127.0.0.1", "http://10.9.9.1:4000", "owner1", 0, 0};
/* An engine that can put a task's containers in a task cgroup. */
static const struct dk_plan_cfg CFG_CG = {"127.0.0.1", "http://10.9.9.1:4000", "owner1", 0, 1};

/* A stored task for <td> (containers named as its definitions). */
static json_t *task_for(json_t *td)
{
    json_t *task = json_pack("{ss ss s[] s{s[]}}", "taskArn",
                             "arn:aws:ecs:us-east-1:000000000000:task/prod/0123abcd", "clusterArn",
                             "arn:aws:ecs:us-east-1:000000000000:cluster/prod", "containers",
                             "overrides", "containerOverrides");
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        json_array_append_new(json_object_get(task, "containers"),
                              json_pack("{sO}", "name", json_object_get(c, "name")));
    return task;
}

static json_t *td_of(const char *defs, const char *mode)
{
    json_error_t e;
    json_t *d = json_loads(defs, 0, &e);

    assert_non_null(d);
    return json_pack("{ss si ss so s[]}", "family", "web", "revision", 3, "networkMode", mode,
                     "containerDefinitions", d, "volumes");
}

/* Plan <defs>; SL_OK or SL_ERR with <reason>.  <t> is zeroed first. */
static int plan(const char *defs, const char *mode, struct dk_task *t, char *reason, size_t rlen)
{
    json_t *td = td_of(defs, mode), *task = task_for(td);
    int rc;

    memset(t, 0, sizeof(*t));
    snprintf(t->key, sizeof(t->key), "prod/0123abcd");
    reason[0] = '\0';
    rc = dk_plan(&CFG, task, td, t, reason, rlen);
    json_decref(task);
    json_decref(td);
    return rc;
}

static const char *s(json_t *o, const char *path)
{
    char buf[256], *p, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
        o = json_object_get(o, p);
    return json_string_value(o) ? json_string_value(o) : "";
}

static const char *label(json_t *body, const char *k)
{
    const char *v = json_string_value(json_object_get(json_object_get(body, "Labels"), k));
    return v ? v : "";
}

static json_int_t n(json_t *o, const char *k1, const char *k2)
{
    return json_integer_value(json_object_get(json_object_get(o, k1), k2));
}

static int env_has(json_t *body, const char *kv)
{
    json_t *v;
    size_t i;

    json_array_foreach(json_object_get(body, "Env"), i, v)
        if (strcmp(json_string_value(v), kv) == 0)
            return 1;
    return 0;
}

static void test_bridge_ports_labels_env(void **state)
{
    struct dk_task t;
    char reason[512];
    json_t *b;

    (void)state;
    setenv("SLUICE_UNIT_SECRET", "pw", 1);
    assert_int_equal(plan("[{\"name\":\"web\",\"image\":\"web:1\",\"essential\":true,"
                          "\"cpu\":0,\"memory\":64,"
                          "\"portMappings\":[{\"containerPort\":8080,\"hostPort\":0},"
                          "{\"containerPort\":53,\"hostPort\":5353,\"protocol\":\"udp\"}],"
                          "\"environment\":[{\"name\":\"A\",\"value\":\"1\"}],"
                          "\"secrets\":[{\"name\":\"P\",\"valueFrom\":\"env:SLUICE_UNIT_SECRET\"}],"
                          "\"dockerLabels\":{\"team\":\"a\",\"com.amazonaws.ecs.cluster\":\"x\"},"
                          "\"stopTimeout\":7}]",
                          "bridge", &t, reason, sizeof(reason)),
                     SL_OK);
    b = t.c[0].create;
    assert_string_equal(t.c[0].dname, "ecs-web-3-web-0123abcd");
    assert_string_equal(s(b, "Image"), "web:1");
    assert_string_equal(s(b, "HostConfig.NetworkMode"), "bridge");
    assert_non_null(json_object_get(json_object_get(b, "ExposedPorts"), "8080/tcp"));
    assert_string_equal(s(json_array_get(json_object_get(json_object_get(json_object_get(
                                                             b, "HostConfig"),
                                                                         "PortBindings"),
                                                         "8080/tcp"),
                                         0),
                          "HostIp"),
                        "127.0.0.1");
    assert_string_equal(
        s(json_array_get(json_object_get(json_object_get(json_object_get(b, "HostConfig"),
                                                         "PortBindings"),
                                         "53/udp"),
                         0),
          "HostPort"),
        "5353");
    assert_int_equal(t.c[0].nports, 2);
    assert_int_equal(t.c[0].ports[1].hport, 5353);
    assert_string_equal(t.c[0].ports[1].proto, "udp");
    /* ECS's labels win over user labels of the same name. */
    assert_string_equal(s(b, "Labels.team"), "a");
    assert_string_equal(label(b, "com.amazonaws.ecs.cluster"), "prod");
    assert_string_equal(label(b, "com.amazonaws.ecs.task-definition-version"),
                        "3");
    assert_string_equal(label(b, "sluice.owner"), "owner1");
    assert_string_equal(label(b, "sluice.task"), "prod/0123abcd");
    assert_int_equal(strlen(t.c[0].meta_id), 32);
    assert_true(env_has(b, "A=1"));
    assert_true(env_has(b, "P=pw"));
    {
        char want[128];
        snprintf(want, sizeof(want), "ECS_CONTAINER_METADATA_URI_V4=http://10.9.9.1:4000/v4/%s",
                 t.c[0].meta_id);
        assert_true(env_has(b, want));
    }
    assert_int_equal(n(b, "HostConfig", "CpuShares"), 2); /* ECS's minimum */
    assert_int_equal(n(b, "HostConfig", "Memory"), 64 << 20);
    assert_int_equal(t.c[0].stop_ms, 7000);
    assert_true(t.c[0].essential);
    dk_plan_free(&t);
}

static void test_host_and_awsvpc_ports(void **state)
{
    struct dk_task t;
    char reason[512];

    (void)state;
    assert_int_equal(plan("[{\"name\":\"web\",\"image\":\"w\",\"portMappings\":"
                          "[{\"containerPort\":9000,\"hostPort\":9000}]}]",
                          "host", &t, reason, sizeof(reason)),
                     SL_OK);
    assert_string_equal(s(t.c[0].create, "HostConfig.NetworkMode"), "host");
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "PortBindings"));
    assert_int_equal(t.c[0].ports[0].hport, 9000);
    dk_plan_free(&t);
    assert_int_equal(plan("[{\"name\":\"web\",\"image\":\"w\",\"portMappings\":"
                          "[{\"containerPort\":8080,\"hostPort\":8080}]}]",
                          "awsvpc", &t, reason, sizeof(reason)),
                     SL_OK);
    /* awsvpc runs on the bridge, each containerPort on a dynamic host port. */
    assert_string_equal(s(t.c[0].create, "HostConfig.NetworkMode"), "bridge");
    assert_int_equal(t.c[0].ports[0].hport, 0);
    dk_plan_free(&t);
    assert_int_equal(plan("[{\"name\":\"web\",\"image\":\"w\",\"hostname\":\"h\"}]", "host", &t,
                          reason, sizeof(reason)),
                     SL_ERR);
    assert_non_null(strstr(reason, "hostname is not supported with networkMode host"));
}

static void test_members(void **state)
{
    struct dk_task t;
    char reason[512];
    json_t *hc, *b;

    (void)state;
    assert_int_equal(
        plan("[{\"name\":\"app\",\"image\":\"a\",\"memory\":128,\"memoryReservation\":64,"
             "\"entryPoint\":[\"/bin/sh\",\"-c\"],\"command\":[\"run\"],\"user\":\"1000\","
             "\"workingDirectory\":\"/srv\",\"readonlyRootFilesystem\":true,"
             "\"privileged\":true,\"interactive\":true,\"pseudoTerminal\":true,"
             "\"disableNetworking\":true,\"dnsServers\":[\"1.1.1.1\"],"
             "\"dnsSearchDomains\":[\"x\"],\"dockerSecurityOptions\":[\"no-new-privileges\"],"
             "\"extraHosts\":[{\"hostname\":\"db\",\"ipAddress\":\"10.0.0.2\"}],"
             "\"systemControls\":[{\"namespace\":\"net.core.somaxconn\",\"value\":\"512\"}],"
             "\"ulimits\":[{\"name\":\"nofile\",\"softLimit\":10,\"hardLimit\":20}],"
             "\"logConfiguration\":{\"logDriver\":\"local\",\"options\":{\"max-size\":\"1m\"}},"
             "\"healthCheck\":{\"command\":[\"CMD\",\"/bin/true\"],\"interval\":2,"
             "\"timeout\":1,\"retries\":4,\"startPeriod\":3},"
             "\"linuxParameters\":{\"initProcessEnabled\":true,\"sharedMemorySize\":16,"
             "\"maxSwap\":32,\"swappiness\":5,\"capabilities\":{\"add\":[\"NET_ADMIN\"]},"
             "\"devices\":[{\"hostPath\":\"/dev/null\",\"permissions\":[\"read\",\"write\"]}],"
             "\"tmpfs\":[{\"containerPath\":\"/t\",\"size\":4}]}}]",
             "bridge", &t, reason, sizeof(reason)),
        SL_OK);
    b = t.c[0].create;
    hc = json_object_get(b, "HostConfig");
    assert_string_equal(s(b, "User"), "1000");
    assert_string_equal(s(b, "WorkingDir"), "/srv");
    assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Cmd"), 0)), "run");
    assert_true(json_is_true(json_object_get(b, "Tty")) && t.c[0].tty);
    assert_true(json_is_true(json_object_get(b, "OpenStdin")));
    assert_true(json_is_true(json_object_get(b, "NetworkDisabled")));
    assert_true(json_is_true(json_object_get(hc, "ReadonlyRootfs")));
    assert_true(json_is_true(json_object_get(hc, "Privileged")));
    assert_true(json_is_true(json_object_get(hc, "Init")));
    assert_int_equal(json_integer_value(json_object_get(hc, "MemoryReservation")), 64 << 20);
    assert_int_equal(json_integer_value(json_object_get(hc, "MemorySwap")), 160 << 20);
    assert_int_equal(json_integer_value(json_object_get(hc, "MemorySwappiness")), 5);
    assert_int_equal(json_integer_value(json_object_get(hc, "ShmSize")), 16 << 20);
    assert_string_equal(s(hc, "Tmpfs./t"), "size=4m");
    assert_string_equal(s(json_array_get(json_object_get(hc, "Devices"), 0), "CgroupPermissions"),
                        "rw");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "ExtraHosts"), 0)),
                        "db:10.0.0.2");
    assert_string_equal(s(hc, "Sysctls.net.core.somaxconn"), ""); /* dots: look it up whole */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(hc, "Sysctls"), "net.core.somaxconn")),
        "512");
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(hc, "Ulimits"), 0), "Hard")),
                     20);
    assert_string_equal(s(hc, "LogConfig.Type"), "local");
    assert_string_equal(s(hc, "LogConfig.Config.max-size"), "1m");
    assert_int_equal(n(b, "Healthcheck", "Interval"), 2000000000LL);
    assert_int_equal(n(b, "Healthcheck", "StartPeriod"), 3000000000LL);
    assert_int_equal(n(b, "Healthcheck", "Retries"), 4);
    assert_true(t.c[0].has_hc);
    dk_plan_free(&t);
}

static void test_refusals(void **state)
{
    static const struct {
        const char *defs, *why;
    } cases[] = {
        {"[{\"name\":\"a\",\"image\":\"a\",\"firelensConfiguration\":{\"type\":\"fluentd\"}}]",
         "firelensConfiguration is not supported"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"resourceRequirements\":[{\"type\":\"GPU\","
         "\"value\":\"1\"}]}]",
         "resourceRequirements GPU is not supported"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"logConfiguration\":{\"logDriver\":\"splunk\"}}]",
         "logDriver splunk is not supported"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"secrets\":[{\"name\":\"x\",\"valueFrom\":"
         "\"arn:aws:ssm:us-east-1:1:parameter/x\"}]}]",
         "not Secrets Manager or SSM"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"environmentFiles\":[{\"value\":"
         "\"arn:aws:s3:::b/k.env\",\"type\":\"s3\"}]}]",
         "not S3"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"mountPoints\":[{\"sourceVolume\":\"nope\","
         "\"containerPath\":\"/x\"}]}]",
         "'nope' is not a volume"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"dependsOn\":[{\"containerName\":\"b\","
         "\"condition\":\"START\"}]},{\"name\":\"b\",\"image\":\"b\",\"dependsOn\":"
         "[{\"containerName\":\"a\",\"condition\":\"START\"}]}]",
         "dependsOn forms a cycle"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"dependsOn\":[{\"containerName\":\"b\","
         "\"condition\":\"HEALTHY\"}]},{\"name\":\"b\",\"image\":\"b\"}]",
         "b has no healthCheck"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"links\":[\"zz\"]}]", "'zz' is not a container"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"linuxParameters\":{\"maxSwap\":1}}]",
         "maxSwap needs the container's memory"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"restartPolicy\":{\"enabled\":true}}]",
         "restartPolicy is not supported"},
        {"[{\"name\":\"a\",\"image\":\"a\",\"credentialSpecs\":[\"credentialspec:x\"]}]",
         "credentialSpecs is not supported"},
    };
    struct dk_task t;
    char reason[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(plan(cases[i].defs, "bridge", &t, reason, sizeof(reason)), SL_ERR);
        if (strstr(reason, cases[i].why) == NULL)
            fail_msg("case %zu: reason '%s' lacks '%s'", i, reason, cases[i].why);
        assert_null(t.c[0].create); /* freed on failure */
    }
}

static void test_deps_links_volumes(void **state)
{
    struct dk_task t;
    char reason[512], envf[] = "/tmp/sl-unit-envXXXXXX";
    char defs[1400];
    int fd = mkstemp(envf);
    json_t *td, *task, *hc;

    (void)state;
    assert_true(fd >= 0);
    assert_true(write(fd, "# c\nB=file\nA=file\n", 18) == 18);
    close(fd);
    snprintf(defs, sizeof(defs),
             "[{\"name\":\"app\",\"image\":\"a\",\"links\":[\"db:database\"],"
             "\"volumesFrom\":[{\"sourceContainer\":\"db\",\"readOnly\":true}],"
             "\"environmentFiles\":[{\"value\":\"file://%s\",\"type\":\"s3\"}],"
             "\"environment\":[{\"name\":\"A\",\"value\":\"env\"}],"
             "\"mountPoints\":[{\"sourceVolume\":\"h\",\"containerPath\":\"/h\","
             "\"readOnly\":true},{\"sourceVolume\":\"d\",\"containerPath\":\"/d\"}],"
             "\"dependsOn\":[{\"containerName\":\"db\",\"condition\":\"HEALTHY\"}]},"
             "{\"name\":\"db\",\"image\":\"d\",\"essential\":false,"
             "\"healthCheck\":{\"command\":[\"CMD-SHELL\",\"true\"]}}]",
             envf);
    td = td_of(defs, "bridge");
    json_object_set_new(td, "volumes",
                        json_pack("[{ss s{ss}} {ss s{ss}}]", "name", "h", "host", "sourcePath",
                                  "/srv/data", "name", "d", "dockerVolumeConfiguration",
                                  "scope", "shared"));
    task = task_for(td);
    memset(&t, 0, sizeof(t));
    snprintf(t.key, sizeof(t.key), "prod/0123abcd");
    assert_int_equal(dk_plan(&CFG, task, td, &t, reason, sizeof(reason)), SL_OK);
    hc = json_object_get(t.c[0].create, "HostConfig");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "Links"), 0)),
                        "ecs-web-3-db-0123abcd:database");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "VolumesFrom"), 0)),
                        "ecs-web-3-db-0123abcd:ro");
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "Binds"), 0)),
                        "/srv/data:/h:ro");
    assert_string_equal(s(json_array_get(json_object_get(hc, "Mounts"), 0), "Source"), "d");
    assert_int_equal(json_array_size(t.volumes), 1);
    assert_true(json_is_true(json_object_get(json_array_get(t.volumes, 0), "shared")));
    /* environment wins over environmentFiles, as on ECS */
    assert_true(env_has(t.c[0].create, "A=env"));
    assert_true(env_has(t.c[0].create, "B=file"));
    assert_int_equal(t.c[0].ndeps, 1);
    assert_int_equal(t.c[0].deps[0].idx, 1);
    assert_int_equal(t.c[0].deps[0].cond, DEP_HEALTHY);
    assert_false(t.c[1].essential);
    dk_plan_free(&t);
    json_decref(task);
    json_decref(td);
    unlink(envf);
}

static void test_task_namespaces(void **state)
{
    struct dk_task t;
    char reason[512];
    json_t *td = td_of("[{\"name\":\"a\",\"image\":\"a\"},{\"name\":\"b\",\"image\":\"b\"}]",
                       "bridge"), *task;

    (void)state;
    json_object_set_new(td, "pidMode", json_string("task"));
    json_object_set_new(td, "ipcMode", json_string("host"));
    task = task_for(td);
    memset(&t, 0, sizeof(t));
    snprintf(t.key, sizeof(t.key), "prod/0123abcd");
    assert_int_equal(dk_plan(&CFG, task, td, &t, reason, sizeof(reason)), SL_OK);
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "PidMode"));
    assert_string_equal(s(t.c[1].create, "HostConfig.PidMode"), "container:ecs-web-3-a-0123abcd");
    assert_string_equal(s(t.c[1].create, "HostConfig.IpcMode"), "host");
    assert_int_equal(t.c[1].ndeps, 1); /* b starts once a has */
    dk_plan_free(&t);
    json_decref(task);
    json_decref(td);
}

/* Plan <defs> for a task of size <cpu> and <memory> (NULL: none). */
static void plan_sized_on(const struct dk_plan_cfg *cfg, const char *defs, const char *cpu,
                          const char *memory, struct dk_task *t)
{
    json_t *td = td_of(defs, "bridge"), *task;
    char reason[512];

    task = task_for(td);
    if (cpu) /* copied to the task from its definition, or RunTask's override */
        json_object_set_new(task, "cpu", json_string(cpu));
    if (memory)
        json_object_set_new(task, "memory", json_string(memory));
    memset(t, 0, sizeof(*t));
    snprintf(t->key, sizeof(t->key), "prod/0123abcd");
    assert_int_equal(dk_plan(cfg, task, td, t, reason, sizeof(reason)), SL_OK);
    json_decref(task);
    json_decref(td);
}

static void plan_sized(const char *defs, const char *cpu, const char *memory, struct dk_task *t)
{
    plan_sized_on(&CFG, defs, cpu, memory, t);
}

/* A task of one container: the task-level size bounds that container (the
 * lower memory wins); of several: only their own limits. */
static void test_task_size(void **state)
{
    struct dk_task t;
    json_t *hc;

    (void)state;
    plan_sized("[{\"name\":\"a\",\"image\":\"a\"}]", "512", "256", &t);
    hc = json_object_get(t.c[0].create, "HostConfig");
    assert_int_equal(n(t.c[0].create, "HostConfig", "Memory"), 256 << 20);
    assert_int_equal(json_integer_value(json_object_get(hc, "NanoCpus")), 500000000);
    dk_plan_free(&t);
    plan_sized("[{\"name\":\"a\",\"image\":\"a\",\"memory\":128}]", "1 vCPU", "0.5 GB", &t);
    assert_int_equal(n(t.c[0].create, "HostConfig", "Memory"), 128 << 20);
    assert_int_equal(n(t.c[0].create, "HostConfig", "NanoCpus"), 1000000000);
    dk_plan_free(&t);
    plan_sized("[{\"name\":\"a\",\"image\":\"a\",\"memory\":1024,"
               "\"memoryReservation\":768}]", NULL, "512", &t);
    assert_int_equal(n(t.c[0].create, "HostConfig", "Memory"), 512 << 20);
    assert_int_equal(n(t.c[0].create, "HostConfig", "MemoryReservation"), 512 << 20);
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "NanoCpus"));
    dk_plan_free(&t);
    plan_sized("[{\"name\":\"a\",\"image\":\"a\"},{\"name\":\"b\",\"image\":\"b\","
               "\"memory\":64}]", "512", "256", &t);
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "Memory"));
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "NanoCpus"));
    assert_int_equal(n(t.c[1].create, "HostConfig", "Memory"), 64 << 20);
    assert_string_equal(t.cgroup, ""); /* this engine has no task cgroups */
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "CgroupParent"));
    dk_plan_free(&t);
}

/* Several containers on an engine with task cgroups: they share one,
 * bounded by the task's size; one container, or no task size: none. */
static void test_task_cgroup(void **state)
{
    static const char two[] = "[{\"name\":\"a\",\"image\":\"a\"},{\"name\":\"b\","
                              "\"image\":\"b\",\"memory\":64}]";
    struct dk_task t;
    int i;

    (void)state;
    plan_sized_on(&CFG_CG, two, "1 vCPU", "256", &t);
    assert_string_equal(t.cgroup, "/sluice/owner1/0123abcd");
    assert_int_equal(t.cg_cpu, 1024);
    assert_int_equal(t.cg_mem, 256);
    for (i = 0; i < 2; i++) {
        assert_string_equal(s(json_object_get(t.c[i].create, "HostConfig"), "CgroupParent"),
                            "/sluice/owner1/0123abcd");
        assert_true(t.c[i].shared_cg);
    }
    assert_int_equal(n(t.c[1].create, "HostConfig", "Memory"), 64 << 20); /* its own, too */
    dk_plan_free(&t);
    plan_sized_on(&CFG_CG, two, NULL, NULL, &t);
    assert_string_equal(t.cgroup, "");
    assert_null(json_object_get(json_object_get(t.c[0].create, "HostConfig"), "CgroupParent"));
    dk_plan_free(&t);
    plan_sized_on(&CFG_CG, "[{\"name\":\"a\",\"image\":\"a\"}]", "512", "256", &t);
    assert_string_equal(t.cgroup, "");
    assert_int_equal(n(t.c[0].create, "HostConfig", "Memory"), 256 << 20);
    dk_plan_free(&t);
}

static void test_metadata_document(void **state)
{
    json_t *task = json_pack("{ss s[{ss ss ss si s[{ss si si ss}]}]}", "desiredStatus",
                             "RUNNING", "containers", "name", "web", "lastStatus", "STOPPED",
                             "containerArn", "arn:c", "exitCode", 3, "networkBindings", "bindIP",
                             "127.0.0.1", "containerPort", 80, "hostPort", 32768, "protocol",
                             "tcp");
    json_t *td = json_pack("{s[{ss si si}]}", "containerDefinitions", "name", "web", "cpu", 256,
                           "memory", 128);
    json_t *facts = json_pack("{ss ss}", "DockerId", "abc", "KnownStatus", "RUNNING");
    json_t *doc = task_metadata_container(task, td, "web", facts);

    (void)state;
    assert_string_equal(s(doc, "DockerId"), "abc");
    assert_string_equal(s(doc, "Name"), "web");
    assert_string_equal(s(doc, "KnownStatus"), "STOPPED"); /* the store knows it stopped */
    assert_string_equal(s(doc, "ContainerARN"), "arn:c");
    assert_int_equal(n(doc, "Limits", "CPU"), 256);
    assert_int_equal(n(doc, "Limits", "Memory"), 128);
    assert_int_equal(json_integer_value(json_object_get(doc, "ExitCode")), 3);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(doc, "Ports"), 0), "HostPort")),
                     32768);
    assert_null(json_object_get(doc, "Health")); /* no healthCheck defined */
    json_decref(doc);
    json_decref(facts);
    json_decref(td);
    json_decref(task);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bridge_ports_labels_env),
        cmocka_unit_test(test_host_and_awsvpc_ports),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_deps_links_volumes),
        cmocka_unit_test(test_task_namespaces),
        cmocka_unit_test(test_task_size),
        cmocka_unit_test(test_task_cgroup),
        cmocka_unit_test(test_metadata_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
