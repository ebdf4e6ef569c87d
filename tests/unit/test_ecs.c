/* Unit tests for the ECS domain (routes/ecs/) and its JSON 1.1 actions
 * (routes/api/ecs_*_actions.c): task definition validation, references and
 * ARNs, revisions, tags, and every action fed mistyped JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/api/ecs_actions.h"
#include "routes/api/front.h"
#include "routes/ecs/names.h"
#include "routes/ecs/task.h"
#include "routes/ecs/taskdef.h"

struct fixture {
    char dir[64];
    struct api_ctx ctx;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-ecs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->ctx.store, &err), SL_OK);
    api_ctx_init(&f->ctx, f->ctx.store, "eu-west-1", "123456789012", NULL, "r");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[96];

    store_close(f->ctx.store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Build a task definition from JSON text; returns NULL and fills <err> on
 * rejection. */
static json_t *build(const char *text, struct sl_err *err)
{
    json_t *req = json_loads(text, 0, NULL), *td;

    assert_non_null(req);
    memset(err, 0, sizeof(*err));
    td = ecs_taskdef_build(req, err);
    json_decref(req);
    return td;
}

static void expect_reject(const char *text, const char *code)
{
    struct sl_err err;
    json_t *td = build(text, &err);

    if (td != NULL)
        fail_msg("accepted: %s", text);
    assert_string_equal(err.code, code);
    assert_int_equal(err.status, 400);
}

static void test_taskdef_defaults(void **state)
{
    struct sl_err err;
    json_t *td, *c, *pm;

    (void)state;
    td = build("{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"app\",\"image\":\"i\","
               "\"memory\":64,"
               "\"portMappings\":[{\"containerPort\":8080},{\"containerPort\":53,"
               "\"hostPort\":5353,\"protocol\":\"udp\"}],"
               "\"healthCheck\":{\"command\":[\"CMD\",\"true\"]}}]}",
               &err);
    assert_non_null(td);
    assert_string_equal(json_string_value(json_object_get(td, "networkMode")), "bridge");
    c = json_array_get(json_object_get(td, "containerDefinitions"), 0);
    assert_true(json_is_true(json_object_get(c, "essential")));
    assert_int_equal(json_integer_value(json_object_get(c, "cpu")), 0);
    pm = json_array_get(json_object_get(c, "portMappings"), 0);
    assert_int_equal(json_integer_value(json_object_get(pm, "hostPort")), 0); /* dynamic */
    assert_string_equal(json_string_value(json_object_get(pm, "protocol")), "tcp");
    pm = json_array_get(json_object_get(c, "portMappings"), 1);
    assert_int_equal(json_integer_value(json_object_get(pm, "hostPort")), 5353);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(c, "healthCheck"), "interval")), 30);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(c, "healthCheck"), "retries")), 3);
    assert_int_equal(json_array_size(json_object_get(td, "tags")), 0);
    json_decref(td);

    /* host and awsvpc modes pin hostPort to containerPort */
    td = build("{\"family\":\"h\",\"networkMode\":\"awsvpc\",\"memory\":\"512\","
               "\"containerDefinitions\":[{\"name\":"
               "\"a\",\"image\":\"i\",\"portMappings\":[{\"containerPort\":81}]}]}",
               &err);
    assert_non_null(td);
    pm = json_array_get(json_object_get(json_array_get(json_object_get(td,
                                                                       "containerDefinitions"),
                                                       0),
                                        "portMappings"),
                        0);
    assert_int_equal(json_integer_value(json_object_get(pm, "hostPort")), 81);
    json_decref(td);
}

static void test_taskdef_rejects(void **state)
{
    (void)state;
    expect_reject("{}", "InvalidParameterException");
    expect_reject("{\"family\":\"bad name\",\"containerDefinitions\":[{\"name\":\"a\","
                  "\"image\":\"i\"}]}",
                  "ClientException");
    expect_reject("{\"family\":\"\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
                  "ClientException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[]}", "ClientException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"},"
                  "{\"name\":\"a\",\"image\":\"j\"}]}",
                  "ClientException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\"}]}",
                  "ClientException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"essential\":false}]}",
                  "ClientException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"portMappings\":[{\"containerPort\":0}]}]}",
                  "InvalidParameterException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"portMappings\":[{\"containerPort\":65536}]}]}",
                  "InvalidParameterException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"portMappings\":[{\"containerPort\":80,\"hostPort\":70000}]}]}",
                  "InvalidParameterException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"portMappings\":[{\"containerPort\":80,\"protocol\":\"sctp\"}]}]}",
                  "InvalidParameterException");
    expect_reject("{\"family\":\"f\",\"networkMode\":\"host\",\"containerDefinitions\":[{\"name\":"
                  "\"a\",\"image\":\"i\",\"portMappings\":[{\"containerPort\":80,"
                  "\"hostPort\":81}]}]}",
                  "ClientException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"healthCheck\":{\"command\":[]}}]}",
                  "ClientException");
    expect_reject("{\"family\":\"f\",\"networkMode\":\"bridge\",\"requiresCompatibilities\":"
                  "[\"FARGATE\"],\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
                  "ClientException");
    /* wrong JSON types are serialization errors, never crashes */
    expect_reject("{\"family\":7,\"containerDefinitions\":[]}", "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":{}}", "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[7]}", "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"portMappings\":[\"80\"]}]}",
                  "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"portMappings\":[{\"containerPort\":\"80\"}]}]}",
                  "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"command\":[1]}]}",
                  "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"environment\":[{\"name\":1}]}]}",
                  "SerializationException");
    expect_reject("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
                  "\"memory\":64}],\"tags\":[{\"key\":\"aws:x\",\"value\":\"\"}]}",
                  "InvalidParameterException");
}

/* What AWS refuses and sluice once let through, with AWS's words; and the
 * task-level members kept as given. */
static void test_taskdef_aws_rules(void **state)
{
    struct sl_err err;
    json_t *td;

    (void)state;
    /* EC2 without a task-level memory: every container needs one. */
    td = build("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
               &err);
    assert_null(td);
    assert_string_equal(err.code, "ClientException");
    assert_string_equal(err.message, "Invalid setting for container 'a'. At least one of "
                                     "'memory' or 'memoryReservation' must be specified.");
    td = build("{\"family\":\"f\",\"memory\":\"512\",\"containerDefinitions\":[{\"name\":"
               "\"a\",\"image\":\"i\"},{\"name\":\"b\",\"image\":\"i\"}]}",
               &err);
    assert_non_null(td);
    json_decref(td);
    td = build("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
               "\"memoryReservation\":32}]}",
               &err);
    assert_non_null(td);
    json_decref(td);
    /* A task size in units or ECS's words ("1 vCPU", "2 GB"), nothing else. */
    td = build("{\"family\":\"f\",\"cpu\":\"1 vCPU\",\"memory\":\"2 GB\","
               "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
               &err);
    assert_non_null(td);
    /* kept in units, as ECS keeps them */
    assert_string_equal(json_string_value(json_object_get(td, "cpu")), "1024");
    assert_string_equal(json_string_value(json_object_get(td, "memory")), "2048");
    json_decref(td);
    td = build("{\"family\":\"f\",\"cpu\":\"lots\",\"memory\":\"512\","
               "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
               &err);
    assert_null(td);
    assert_string_equal(err.code, "ClientException");
    assert_string_equal(err.message, "Invalid 'cpu' setting for task.");
    /* Fargate and pidMode host. */
    td = build("{\"family\":\"f\",\"networkMode\":\"awsvpc\",\"cpu\":\"256\",\"memory\":"
               "\"512\",\"requiresCompatibilities\":[\"FARGATE\"],\"pidMode\":\"host\","
               "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
               &err);
    assert_null(td);
    assert_string_equal(err.code, "ClientException");
    assert_non_null(strstr(err.message, "do not support pidMode 'host'"));
    /* Members no task here could honour are refused, not dropped. */
    expect_reject("{\"family\":\"f\",\"memory\":\"512\",\"placementConstraints\":[{\"type\":"
                  "\"memberOf\",\"expression\":\"attribute:x == y\"}],"
                  "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
                  "InvalidParameterException");
    expect_reject("{\"family\":\"f\",\"memory\":\"512\",\"enableFaultInjection\":true,"
                  "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
                  "InvalidParameterException");
    /* The task-level members a definition keeps. */
    td = build("{\"family\":\"f\",\"memory\":\"512\",\"pidMode\":\"task\",\"ipcMode\":"
               "\"host\",\"runtimePlatform\":{\"cpuArchitecture\":\"X86_64\","
               "\"operatingSystemFamily\":\"LINUX\"},\"ephemeralStorage\":{\"sizeInGiB\":30},"
               "\"proxyConfiguration\":{\"type\":\"APPMESH\",\"containerName\":\"a\"},"
               "\"inferenceAccelerators\":[{\"deviceName\":\"d\",\"deviceType\":\"eia2.medium\"}],"
               "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\"}]}",
               &err);
    assert_non_null(td);
    assert_string_equal(json_string_value(json_object_get(td, "pidMode")), "task");
    assert_string_equal(json_string_value(json_object_get(td, "ipcMode")), "host");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(td, "ephemeralStorage"),
                                                        "sizeInGiB")),
                     30);
    assert_non_null(json_object_get(td, "runtimePlatform"));
    assert_non_null(json_object_get(td, "proxyConfiguration"));
    assert_int_equal(json_array_size(json_object_get(td, "inferenceAccelerators")), 1);
    /* ... and a task of it is refused where nothing here can honour them. */
    assert_int_equal(ecs_taskdef_runnable(td, &err), SL_ERR);
    assert_non_null(strstr(err.message, "proxyConfiguration is not supported by sluice"));
    json_object_del(td, "proxyConfiguration");
    assert_int_equal(ecs_taskdef_runnable(td, &err), SL_ERR);
    assert_non_null(strstr(err.message, "inferenceAccelerators is not supported by sluice"));
    json_object_del(td, "inferenceAccelerators");
    assert_int_equal(ecs_taskdef_runnable(td, &err), SL_OK);
    json_decref(td);
}

static void test_refs_and_arns(void **state)
{
    char fam[ECS_NAME_MAX + 1], id[ECS_ID_MAX];
    long rev;

    (void)state;
    assert_int_equal(ecs_taskdef_ref("web", fam, &rev), SL_OK);
    assert_string_equal(fam, "web");
    assert_int_equal(rev, 0);
    assert_int_equal(ecs_taskdef_ref("web:12", fam, &rev), SL_OK);
    assert_int_equal(rev, 12);
    assert_int_equal(
        ecs_taskdef_ref("arn:aws:ecs:us-east-1:1:task-definition/web-2:3", fam, &rev), SL_OK);
    assert_string_equal(fam, "web-2");
    assert_int_equal(rev, 3);
    assert_int_equal(ecs_taskdef_ref("arn:aws:ecs:us-east-1:1:task-definition/web", fam, &rev),
                     SL_ERR);
    assert_int_equal(ecs_taskdef_ref("arn:aws:ecs:us-east-1:1:cluster/web", fam, &rev), SL_ERR);
    assert_int_equal(ecs_taskdef_ref("web:0", fam, &rev), SL_ERR);
    assert_int_equal(ecs_taskdef_ref("web:x", fam, &rev), SL_ERR);
    assert_int_equal(ecs_taskdef_ref("web:", fam, &rev), SL_ERR);
    assert_int_equal(ecs_taskdef_ref(":1", fam, &rev), SL_ERR);
    assert_int_equal(ecs_taskdef_ref("we b", fam, &rev), SL_ERR);
    ecs_taskdef_id(id, sizeof(id), "web", 7);
    assert_string_equal(id, "web:00000007");
    assert_string_equal(ecs_arn_resource("arn:aws:ecs:r:1:service/c/s"), "service/c/s");
    assert_null(ecs_arn_resource("service/c/s"));
    assert_string_equal(ecs_ref_name("arn:aws:ecs:r:1:service/c/s"), "s");
    assert_string_equal(ecs_ref_name("plain"), "plain");
    assert_null(ecs_ref_name("bad/name"));
    assert_true(ecs_valid_name("a_b-C9"));
    assert_false(ecs_valid_name(""));
    assert_false(ecs_valid_name("a.b"));
}

static json_t *call(struct fixture *f, api_action_fn fn, const char *text, struct sl_err *err)
{
    json_t *req = json_loads(text, 0, NULL), *out;

    assert_non_null(req);
    memset(err, 0, sizeof(*err));
    out = fn(&f->ctx, req, err);
    json_decref(req);
    return out;
}

static void test_register_revisions(void **state)
{
    struct fixture *f = *state;
    const char *body =
        "{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
        "\"memory\":64}]}";
    struct sl_err err;
    json_t *out;

    out = call(f, api_ecs_register_task_definition, body, &err);
    assert_non_null(out);
    json_decref(out);
    out = call(f, api_ecs_register_task_definition, body, &err);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "taskDefinition"),
                                                          "taskDefinitionArn")),
                        "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2");
    json_decref(out);
    /* deregistering the latest makes a bare family resolve to revision 1 */
    out = call(f, api_ecs_deregister_task_definition, "{\"taskDefinition\":\"web:2\"}", &err);
    assert_non_null(out);
    json_decref(out);
    out = call(f, api_ecs_describe_task_definition, "{\"taskDefinition\":\"web\"}", &err);
    assert_non_null(out);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "taskDefinition"),
                                                        "revision")),
                     1);
    json_decref(out);
    /* revision numbers are never reused */
    out = call(f, api_ecs_register_task_definition, body, &err);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "taskDefinition"),
                                                        "revision")),
                     3);
    json_decref(out);
    assert_null(call(f, api_ecs_describe_task_definition, "{\"taskDefinition\":\"nope\"}", &err));
    assert_string_equal(err.code, "ClientException");
}

struct run_call {
    struct fixture *f;
    struct ecs_run_spec spec;
    json_t *tasks;
};

static int run_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct run_call *c = arg;

    return ecs_tasks_run(txn, &c->f->ctx.ecs, &c->spec, &c->tasks, err);
}

/* RunTask as the scheduler calls it: typed arguments, one transaction for
 * all the tasks, and the task definition's state checked in it. */
static void test_run_typed(void **state)
{
    struct fixture *f = *state;
    struct run_call c;
    struct sl_err err = {0};
    uint64_t rev = 0;
    json_t *t;
    size_t i;

    memset(&c, 0, sizeof(c));
    c.f = f;
    c.spec.cluster = "default";
    c.spec.td_ref = "job";
    c.spec.count = 3;
    c.spec.group = "service:web";
    c.spec.started_by = "ecs-svc/1";
    c.spec.launch = ECS_LT_EC2;
    /* The default cluster exists once created, as on ECS. */
    assert_int_equal(store_write(f->ctx.store, run_tx, &c, NULL, &err), SL_ERR);
    assert_string_equal(err.code, "ClusterNotFoundException");
    json_decref(call(f, api_ecs_create_cluster, "{}", &err));
    assert_int_equal(store_write(f->ctx.store, run_tx, &c, NULL, &err), SL_ERR);
    assert_string_equal(err.code, "ClientException"); /* no task definition yet */
    json_decref(call(f, api_ecs_register_task_definition,
                     "{\"family\":\"job\",\"containerDefinitions\":[{\"name\":\"a\","
                     "\"image\":\"i\",\"memory\":64}]}",
                     &err));
    assert_int_equal(ecs_run_check(&c.spec, &err), SL_OK);
    assert_int_equal(store_write(f->ctx.store, run_tx, &c, &rev, &err), SL_OK);
    assert_true(rev > 0);
    assert_int_equal(json_array_size(json_object_get(c.tasks, "tasks")), 3);
    assert_int_equal(json_array_size(json_object_get(c.tasks, "failures")), 0);
    json_array_foreach(json_object_get(c.tasks, "tasks"), i, t) {
        assert_string_equal(json_string_value(json_object_get(t, "lastStatus")), "PENDING");
        assert_string_equal(json_string_value(json_object_get(t, "group")), "service:web");
        assert_string_equal(json_string_value(json_object_get(t, "startedBy")), "ecs-svc/1");
        assert_null(json_object_get(t, "_pgid")); /* public views only */
    }
    json_decref(c.tasks);
    c.tasks = NULL;
    c.spec.cluster = "nope";
    assert_int_equal(store_write(f->ctx.store, run_tx, &c, NULL, &err), SL_ERR);
    assert_string_equal(err.code, "ClusterNotFoundException");
    c.spec.count = 11;
    assert_int_equal(ecs_run_check(&c.spec, &err), SL_ERR);
    assert_string_equal(err.code, "InvalidParameterException");
}

static void expect_run_refused(struct fixture *f, const char *overrides, const char *code,
                               const char *message)
{
    char body[1024];
    struct sl_err err;
    json_t *out;

    snprintf(body, sizeof(body), "{\"taskDefinition\":\"pair\",\"overrides\":%s}", overrides);
    out = call(f, api_ecs_run_task, body, &err);
    assert_null(out);
    assert_string_equal(err.code, code);
    if (message)
        assert_string_equal(err.message, message);
}

/* RunTask's overrides: a container override names a container of the
 * definition and carries what the runtimes apply; what nothing here
 * honours is refused, nothing is dropped. */
static void test_run_overrides(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    json_t *out;

    json_decref(call(f, api_ecs_create_cluster, "{}", &err));
    json_decref(call(f, api_ecs_register_task_definition,
                     "{\"family\":\"pair\",\"memory\":\"256\",\"containerDefinitions\":["
                     "{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\",\"image\":\"i\"}]}",
                     &err));
    expect_run_refused(f, "{\"containerOverrides\":[{\"name\":\"c\",\"command\":[\"x\"]}]}",
                       "InvalidParameterException",
                       "Override for container named c is not a container in the TaskDefinition.");
    expect_run_refused(f, "{\"containerOverrides\":[{\"command\":[\"x\"]}]}",
                       "InvalidParameterException", NULL);
    expect_run_refused(f, "{\"containerOverrides\":[{\"name\":\"a\",\"memory\":\"64\"}]}",
                       "SerializationException", NULL);
    expect_run_refused(f, "{\"containerOverrides\":[{\"name\":\"a\",\"command\":[1]}]}",
                       "SerializationException", NULL);
    expect_run_refused(f, "{\"containerOverrides\":[\"a\"]}", "SerializationException", NULL);
    expect_run_refused(f,
                       "{\"containerOverrides\":[{\"name\":\"a\",\"resourceRequirements\":"
                       "[{\"type\":\"GPU\",\"value\":\"1\"}]}]}",
                       "InvalidParameterException", NULL);
    expect_run_refused(f,
                       "{\"inferenceAcceleratorOverrides\":[{\"deviceName\":\"d\","
                       "\"deviceType\":\"eia2.medium\"}]}",
                       "InvalidParameterException", NULL);
    expect_run_refused(f, "{\"ephemeralStorage\":{\"sizeInGiB\":10}}",
                       "InvalidParameterException", NULL);
    expect_run_refused(f, "{\"taskRoleArn\":5}", "SerializationException", NULL);
    out = call(f, api_ecs_run_task,
               "{\"taskDefinition\":\"pair\",\"overrides\":{\"containerOverrides\":[{\"name\":"
               "\"b\",\"command\":[\"x\"],\"memory\":64,\"environment\":[]}],"
               "\"inferenceAcceleratorOverrides\":[],\"ephemeralStorage\":{\"sizeInGiB\":30},"
               "\"taskRoleArn\":\"arn:aws:iam::1:role/r\"}}",
               &err);
    assert_non_null(out);
    assert_int_equal(json_array_size(json_object_get(out, "tasks")), 1);
    json_decref(out);
}

/* Every action, fed members of every wrong JSON type through the JSON 1.1
 * door, answers with a result or an error in the protocol's format, and
 * never crashes (run under ASan+UBSan). */
static void test_mistyped_members(void **state)
{
    struct fixture *f = *state;
    static const char *const actions[] = {
        "RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions",
        "ListTaskDefinitionFamilies", "DeregisterTaskDefinition", "CreateCluster",
        "DescribeClusters", "ListClusters", "DeleteCluster", "CreateService", "UpdateService",
        "DescribeServices", "ListServices", "DeleteService", "RunTask", "StopTask", "ListTasks",
        "DescribeTasks", "TagResource", "UntagResource", "ListTagsForResource",
        "DeleteTaskDefinitions", "UpdateCluster", "UpdateClusterSettings",
        "PutClusterCapacityProviders", "DescribeCapacityProviders", "ListServiceDeployments",
        "DescribeServiceDeployments", "DescribeServiceRevisions", "StartTask",
        "ListContainerInstances", "DescribeContainerInstances", "UpdateContainerInstancesState",
        "PutAttributes", "DeleteAttributes", "ListAttributes", "PutAccountSetting",
        "PutAccountSettingDefault", "DeleteAccountSetting", "ListAccountSettings", NULL};
    static const char *const members[] = {
        "cluster", "clusterName", "serviceName", "service", "taskDefinition", "desiredCount",
        "loadBalancers", "deploymentConfiguration", "tags", "tagKeys", "resourceArn", "task",
        "tasks", "services", "clusters", "include", "maxResults", "nextToken", "family",
        "familyPrefix", "status", "sort", "count", "force", "forceNewDeployment",
        "containerDefinitions", "overrides", "desiredStatus", "startedBy", "reason",
        "capacityProviders", "defaultCapacityProviderStrategy", "capacityProviderStrategy",
        "settings", "serviceConnectDefaults", "containerInstances", "containerInstance",
        "attributes", "targetType", "name", "value", "principalArn", "effectiveSettings",
        "serviceDeploymentArns", "serviceRevisionArns", "createdAt", "taskDefinitions",
        "pidMode", "ipcMode", "runtimePlatform", "ephemeralStorage", "proxyConfiguration",
        "placementStrategy", "clientToken", "role", NULL};
    static const char *const values[] = {"1", "true", "null", "\"x\"", "[]", "{}", "[1]",
                                         "[{}]", "{\"a\":[]}", "-1", "1e300", NULL};
    char text[512], target[128];
    struct front_request req;
    struct front_reply reply;
    size_t a, m, v;
    json_t *body;

    for (a = 0; actions[a]; a++)
        for (m = 0; members[m]; m++)
            for (v = 0; values[v]; v++) {
                snprintf(text, sizeof(text), "{\"%s\":%s}", members[m], values[v]);
                snprintf(target, sizeof(target), "AmazonEC2ContainerServiceV20141113.%s",
                         actions[a]);
                memset(&req, 0, sizeof(req));
                req.method = "POST";
                req.path = "/";
                req.body = text;
                req.body_len = strlen(text);
                front_reply_init(&reply);
                front_json11(&f->ctx, target, &req, &reply);
                body = json_loads(reply.body.data ? reply.body.data : "", 0, NULL);
                assert_non_null(body);
                if (reply.status != 200) {
                    assert_true(reply.status >= 400 && reply.status < 600);
                    assert_non_null(json_string_value(json_object_get(body, "__type")));
                }
                json_decref(body);
                front_reply_free(&reply);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taskdef_defaults),
        cmocka_unit_test(test_taskdef_rejects),
        cmocka_unit_test(test_refs_and_arns),
        cmocka_unit_test_setup_teardown(test_register_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_typed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_overrides, setup, teardown),
        cmocka_unit_test(test_taskdef_aws_rules),
        cmocka_unit_test_setup_teardown(test_mistyped_members, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
