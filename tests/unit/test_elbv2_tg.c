/* Unit tests for the target group and target actions
 * (routes/api/elbv2_tg_actions.c over routes/elbv2/tg.c, targets.c, drain.c):
 * target group ARNs and validation, target registration limits and
 * counters, draining and its expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/api/elbv2_actions.h"
#include "routes/elbv2/drain.h"

struct fixture {
    char dir[64];
    struct api_ctx ctx;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-tg-XXXXXX");
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

static json_t *call(struct fixture *f, api_action_fn fn, const char *req_text, struct sl_err *err)
{
    json_t *req = json_loads(req_text, 0, NULL), *out;

    assert_non_null(req);
    memset(err, 0, sizeof(*err));
    out = fn(&f->ctx, req, err);
    json_decref(req);
    return out;
}

static char *create_tg(struct fixture *f, const char *extra)
{
    char text[512];
    struct sl_err err;
    json_t *out;
    char *arn;

    snprintf(text, sizeof(text), "{\"Name\":\"web\",\"Port\":\"8080\",\"TargetType\":\"ip\"%s}",
             extra);
    out = call(f, api_elb_create_target_group, text, &err);
    assert_non_null(out);
    arn = strdup(json_string_value(
        json_object_get(json_array_get(json_object_get(out, "TargetGroups"), 0),
                        "TargetGroupArn")));
    json_decref(out);
    return arn;
}

static void test_arn_and_defaults(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    regex_t re;
    json_t *out, *tg;
    char *arn = create_tg(f, "");

    assert_int_equal(regcomp(&re,
                             "^arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
                             "targetgroup/web/[0-9a-f]{16}$",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regexec(&re, arn, 0, NULL, 0), 0);
    regfree(&re);
    out = call(f, api_elb_describe_target_groups, "{\"Names\":[\"web\"]}", &err);
    tg = json_array_get(json_object_get(out, "TargetGroups"), 0);
    assert_int_equal(json_integer_value(json_object_get(tg, "Port")), 8080);
    assert_string_equal(json_string_value(json_object_get(tg, "HealthCheckPort")),
                        "traffic-port");
    assert_int_equal(json_integer_value(json_object_get(tg, "HealthCheckIntervalSeconds")), 30);
    assert_int_equal(json_integer_value(json_object_get(tg, "HealthyThresholdCount")), 5);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(tg, "Matcher"), "HttpCode")), "200");
    assert_null(json_object_get(tg, "id")); /* internal members hidden */
    assert_null(json_object_get(tg, "Attributes"));
    json_decref(out);
    free(arn);
}

static void test_validation(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    static const char *const bad[] = {
        "{\"Name\":\"web\"}",
        "{\"Name\":\"we_b\",\"Port\":80}",
        "{\"Name\":\"-web\",\"Port\":80}",
        "{\"Name\":\"web\",\"Port\":0}",
        "{\"Name\":\"web\",\"Port\":\"8o\"}",
        "{\"Name\":\"web\",\"Port\":80,\"Protocol\":\"FTP\"}",
        "{\"Name\":\"web\",\"Port\":80,\"Matcher\":{\"HttpCode\":\"199\"}}",
        "{\"Name\":\"web\",\"Port\":80,\"Matcher\":{\"HttpCode\":\"200-\"}}",
        "{\"Name\":\"web\",\"Port\":80,\"Matcher\":{\"HttpCode\":\"300-200\"}}",
        "{\"Name\":\"web\",\"Port\":80,\"HealthCheckPath\":\"nopath\"}",
        "{\"Name\":\"web\",\"Port\":80,\"HealthCheckIntervalSeconds\":2,\"HealthCheckTimeoutSeconds\":3}",
        "{\"Name\":\"web\",\"Port\":80,\"HealthCheckIntervalSeconds\":0}",
        "{\"Name\":\"web\",\"Port\":80,\"HealthyThresholdCount\":11}",
        "{\"Name\":\"web\",\"Port\":80,\"TargetType\":\"lambda\"}",
        "{\"Name\":\"web\",\"Port\":80,\"HealthCheckEnabled\":\"yes\"}",
        "{\"Name\":[],\"Port\":80}",
        "{\"Name\":\"web\",\"Port\":80,\"Matcher\":\"200\"}",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *out = call(f, api_elb_create_target_group, bad[i], &err);
        if (out != NULL)
            fail_msg("accepted: %s", bad[i]);
        assert_string_equal(err.code, "ValidationError");
        assert_int_equal(err.status, 400);
    }
    /* A good matcher list and the 1-second extension pass. */
    json_decref(call(f, api_elb_create_target_group,
                     "{\"Name\":\"ok\",\"Port\":80,\"Matcher\":{\"HttpCode\":\"200-299,302\"},"
                     "\"HealthCheckIntervalSeconds\":1,\"HealthCheckTimeoutSeconds\":1}",
                     &err));
    assert_string_equal(err.code, "");
}

static int count_targets(struct fixture *f, const char *arn)
{
    char text[256];
    struct sl_err err;
    json_t *out;
    int n;

    snprintf(text, sizeof(text), "{\"TargetGroupArn\":\"%s\"}", arn);
    out = call(f, api_elb_describe_target_health, text, &err);
    assert_non_null(out);
    n = (int)json_array_size(json_object_get(out, "TargetHealthDescriptions"));
    json_decref(out);
    return n;
}

/* Run <fn> on the targets <ips> (port 80, comma-separated) of <arn>:
 * NULL when it succeeds, else the error code. */
static const char *targets_op(struct fixture *f, api_action_fn fn, const char *arn, const char *ips)
{
    static struct sl_err err;
    json_t *targets = json_array(), *req, *out;
    char ip[32];
    size_t l;

    for (; *ips; ips += l + (ips[l] == ',')) {
        l = strcspn(ips, ",");
        snprintf(ip, sizeof(ip), "%.*s", (int)l, ips);
        json_array_append_new(targets, json_pack("{ss si}", "Id", ip, "Port", 80));
    }
    req = json_pack("{ss so}", "TargetGroupArn", arn, "Targets", targets);
    memset(&err, 0, sizeof(err));
    out = fn(&f->ctx, req, &err);
    json_decref(req);
    json_decref(out);
    return out ? NULL : err.code;
}

static void test_limit_and_counter(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    char *arn = create_tg(f, "");
    json_t *req, *targets, *out;
    char ip[32];
    int i;

    req = json_pack("{ss}", "TargetGroupArn", arn);
    targets = json_array();
    for (i = 0; i < 1000; i++) {
        snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250 + 1);
        json_array_append_new(targets, json_pack("{ss si}", "Id", ip, "Port", 80));
    }
    json_object_set_new(req, "Targets", targets);
    out = api_elb_register_targets(&f->ctx, req, &err);
    assert_non_null(out);
    json_decref(out);
    /* Registering the same targets again is a no-op, not a limit breach. */
    out = api_elb_register_targets(&f->ctx, req, &err);
    assert_non_null(out);
    json_decref(out);
    json_decref(req);
    assert_int_equal(count_targets(f, arn), 1000);
    assert_string_equal(targets_op(f, api_elb_register_targets, arn, "10.9.9.9"), "TooManyTargets");

    /* Group unused by any rule: deregistration removes at once, and the
     * counter follows, so a new target fits again. */
    assert_null(targets_op(f, api_elb_deregister_targets, arn, "10.0.0.1"));
    assert_int_equal(count_targets(f, arn), 999);
    assert_null(targets_op(f, api_elb_register_targets, arn, "10.9.9.9"));
    assert_int_equal(count_targets(f, arn), 1000);

    /* The count lives in memory: a restarted store derives it again, and a
     * refused registration leaves it as it was. */
    store_close(f->ctx.store);
    assert_int_equal(store_open(f->dir, NULL, &f->ctx.store, &err), SL_OK);
    assert_string_equal(targets_op(f, api_elb_register_targets, arn, "10.9.9.8,10.9.9.7"),
                        "TooManyTargets");
    assert_null(targets_op(f, api_elb_deregister_targets, arn, "10.0.0.2"));
    /* 1,001: still too many */
    assert_string_equal(targets_op(f, api_elb_register_targets, arn, "10.9.9.8,10.9.9.7"),
                        "TooManyTargets");
    assert_null(targets_op(f, api_elb_register_targets, arn, "10.9.9.8"));
    assert_int_equal(count_targets(f, arn), 1000);
    free(arn);
}

static int expire_all(struct store_txn *txn, void *arg, struct sl_err *err)
{
    static const struct elb_env env = {"eu-west-1", "123456789012", NULL};

    return elb_drain_expire(txn, &env, *(uint64_t *)arg, (size_t *)((uint64_t *)arg + 1));
}

static void test_drain_and_expire(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    char *arn = create_tg(f, "");
    char text[1024];
    json_t *out, *lb, *d;
    uint64_t args[2] = {0, 0};

    /* Put the group in use: LB + listener forwarding to it. */
    lb = call(f, api_elb_create_load_balancer, "{\"Name\":\"lb\"}", &err);
    assert_non_null(lb);
    snprintf(text, sizeof(text),
             "{\"LoadBalancerArn\":\"%s\",\"Protocol\":\"HTTP\",\"Port\":80,"
             "\"DefaultActions\":[{\"Type\":\"forward\",\"TargetGroupArn\":\"%s\"}]}",
             json_string_value(json_object_get(
                 json_array_get(json_object_get(lb, "LoadBalancers"), 0), "LoadBalancerArn")),
             arn);
    json_decref(lb);
    out = call(f, api_elb_create_listener, text, &err);
    assert_non_null(out);
    json_decref(out);

    snprintf(text, sizeof(text), "{\"TargetGroupArn\":\"%s\",\"Targets\":[{\"Id\":\"10.0.0.7\"}]}",
             arn);
    json_decref(call(f, api_elb_register_targets, text, &err));
    json_decref(call(f, api_elb_deregister_targets, text, &err));
    snprintf(text, sizeof(text), "{\"TargetGroupArn\":\"%s\"}", arn);
    out = call(f, api_elb_describe_target_health, text, &err);
    d = json_object_get(json_array_get(json_object_get(out, "TargetHealthDescriptions"), 0),
                        "TargetHealth");
    assert_string_equal(json_string_value(json_object_get(d, "State")), "draining");
    assert_string_equal(json_string_value(json_object_get(d, "Reason")),
                        "Target.DeregistrationInProgress");
    json_decref(out);

    /* Not yet due: stays. */
    args[0] = 1;
    assert_int_equal(store_write(f->ctx.store, expire_all, args, NULL, &err), SL_OK);
    assert_int_equal(args[1], 0);
    assert_int_equal(count_targets(f, arn), 1);
    /* Far in the future: the 300 s default delay has passed. */
    args[0] = UINT64_MAX / 2;
    assert_int_equal(store_write(f->ctx.store, expire_all, args, NULL, &err), SL_OK);
    assert_int_equal(args[1], 1);
    assert_int_equal(count_targets(f, arn), 0);
    free(arn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arn_and_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_and_expire, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
