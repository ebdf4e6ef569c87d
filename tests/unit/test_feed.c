/* Unit tests for server/feed.c: stored ELBv2 shapes into feed objects (one
 * form per setting, no storage members), watch lines, markers; a stored
 * object lacking what the feed needs is refused, not sent half. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "server/feed.h"

static json_t *enc(enum feed_kind k, const char *id, const char *stored)
{
    json_error_t je;
    json_t *o = json_loads(stored, 0, &je), *out = NULL;
    struct sl_err err = {0};

    assert_non_null(o);
    if (feed_encode(k, id, o, &out, &err) != SL_OK)
        fail_msg("%s: %s", id, err.message);
    json_decref(o);
    return out;
}

static void assert_json(json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

    assert_non_null(want);
    if (!json_equal(got, want))
        fail_msg("got %s", g);
    free(g);
    json_decref(want);
    json_decref(got);
}

static void test_kinds(void **state)
{
    assert_json(enc(FEED_LOAD_BALANCER, "b",
                    "{\"id\":\"b\",\"arn\":\"arn:b\",\"LoadBalancerArn\":\"arn:b\",\"Scheme\":"
                    "\"internet-facing\",\"Attributes\":[{\"Key\":\"idle_timeout.timeout_seconds\","
                    "\"Value\":\"17\"}],\"Tags\":[],\"DNSName\":\"x\"}"),
                "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internet-facing\","
                "\"idle_timeout_seconds\":17,\"http2_enabled\":true,\"xff_mode\":\"append\","
                "\"xff_client_port\":false,\"preserve_host_header\":false,"
                "\"client_keep_alive_seconds\":3600}");
    /* the forwarding attributes, each away from its default */
    assert_json(enc(FEED_LOAD_BALANCER, "b",
                    "{\"id\":\"b\",\"arn\":\"arn:b\",\"Scheme\":\"internal\",\"Attributes\":["
                    "{\"Key\":\"routing.http.xff_header_processing.mode\",\"Value\":\"remove\"},"
                    "{\"Key\":\"routing.http.xff_client_port.enabled\",\"Value\":\"true\"},"
                    "{\"Key\":\"routing.http.preserve_host_header.enabled\",\"Value\":\"true\"},"
                    "{\"Key\":\"client_keep_alive.seconds\",\"Value\":\"120\"}]}"),
                "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                "\"idle_timeout_seconds\":60,\"http2_enabled\":true,\"xff_mode\":\"remove\","
                "\"xff_client_port\":true,\"preserve_host_header\":true,"
                "\"client_keep_alive_seconds\":120}");
    /* header hygiene: present only when not the default */
    assert_json(enc(FEED_LOAD_BALANCER, "b",
                    "{\"id\":\"b\",\"arn\":\"arn:b\",\"Scheme\":\"internal\",\"Attributes\":["
                    "{\"Key\":\"routing.http.drop_invalid_header_fields.enabled\",\"Value\":"
                    "\"true\"},{\"Key\":\"routing.http.desync_mitigation_mode\",\"Value\":"
                    "\"strictest\"}]}"),
                "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                "\"idle_timeout_seconds\":60,\"http2_enabled\":true,\"xff_mode\":\"append\","
                "\"xff_client_port\":false,\"preserve_host_header\":false,"
                "\"client_keep_alive_seconds\":3600,"
                "\"drop_invalid_header_fields\":true,\"desync_mitigation_mode\":\"strictest\"}");
    assert_json(enc(FEED_LOAD_BALANCER, "b",
                    "{\"id\":\"b\",\"arn\":\"arn:b\",\"Scheme\":\"internal\",\"Attributes\":["
                    "{\"Key\":\"routing.http.drop_invalid_header_fields.enabled\",\"Value\":"
                    "\"false\"},{\"Key\":\"routing.http.desync_mitigation_mode\",\"Value\":"
                    "\"defensive\"}]}"),
                "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                "\"idle_timeout_seconds\":60,\"http2_enabled\":true,\"xff_mode\":\"append\","
                "\"xff_client_port\":false,\"preserve_host_header\":false,"
                "\"client_keep_alive_seconds\":3600}");
    /* access logs on: the destination goes to the proxies; off: nothing */
    assert_json(enc(FEED_LOAD_BALANCER, "b",
                    "{\"id\":\"b\",\"arn\":\"arn:b\",\"Scheme\":\"internal\",\"Attributes\":["
                    "{\"Key\":\"access_logs.s3.enabled\",\"Value\":\"true\"},"
                    "{\"Key\":\"access_logs.s3.bucket\",\"Value\":\"my-logs\"},"
                    "{\"Key\":\"access_logs.s3.prefix\",\"Value\":\"p\"},"
                    "{\"Key\":\"connection_logs.s3.enabled\",\"Value\":\"false\"},"
                    "{\"Key\":\"connection_logs.s3.bucket\",\"Value\":\"my-logs\"}]}"),
                "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                "\"idle_timeout_seconds\":60,\"http2_enabled\":true,\"xff_mode\":\"append\","
                "\"xff_client_port\":false,\"preserve_host_header\":false,"
                "\"client_keep_alive_seconds\":3600,\"access_logs\":{\"enabled\":true,\"bucket\":\"my-logs\",\"prefix\":\"p\"}}");
    assert_json(enc(FEED_LOAD_BALANCER, "b",
                    "{\"id\":\"b\",\"arn\":\"arn:b\",\"Scheme\":\"internal\",\"Attributes\":["
                    "{\"Key\":\"routing.http2.enabled\",\"Value\":\"false\"},{\"Key\":"
                    "\"routing.http.x_amzn_tls_version_and_cipher_suite.enabled\",\"Value\":"
                    "\"true\"}]}"),
                "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                "\"idle_timeout_seconds\":60,\"http2_enabled\":false,"
                "\"x_amzn_tls_version_and_cipher_suite_enabled\":true,\"xff_mode\":\"append\","
                "\"xff_client_port\":false,\"preserve_host_header\":false,"
                "\"client_keep_alive_seconds\":3600}");
    assert_json(enc(FEED_LISTENER, "l",
                    "{\"id\":\"l\",\"arn\":\"arn:l\",\"Port\":8080,\"Protocol\":\"HTTP\","
                    "\"_lb_id\":\"b\",\"_default_rule\":\"d\",\"DefaultActions\":[]}"),
                "{\"id\":\"l\",\"arn\":\"arn:l\",\"load_balancer_id\":\"b\",\"port\":8080,"
                "\"protocol\":\"HTTP\",\"server_header\":true}");
    assert_json(enc(FEED_LISTENER, "l",
                    "{\"id\":\"l\",\"arn\":\"arn:l\",\"Port\":80,\"Protocol\":\"HTTP\","
                    "\"_lb_id\":\"b\",\"Attributes\":[{\"Key\":"
                    "\"routing.http.response.server.enabled\",\"Value\":\"false\"}]}"),
                "{\"id\":\"l\",\"arn\":\"arn:l\",\"load_balancer_id\":\"b\",\"port\":80,"
                "\"protocol\":\"HTTP\",\"server_header\":false}");
    assert_json(enc(FEED_TARGET, "g|10.0.0.1|80",
                    "{\"id\":\"g|10.0.0.1|80\",\"Target\":{\"Id\":\"10.0.0.1\",\"Port\":80},"
                    "\"_state\":\"draining\",\"_since\":\"x\",\"_deadline_ms\":5,\"_drain_rev\":6}"),
                "{\"id\":\"g|10.0.0.1|80\",\"target_group_id\":\"g\",\"address\":\"10.0.0.1\","
                "\"port\":80,\"state\":\"draining\"}");
    assert_json(enc(FEED_TARGET_GROUP, "g",
                    "{\"id\":\"g\",\"arn\":\"arn:g\",\"Protocol\":\"HTTP\",\"Port\":80,"
                    "\"HealthCheckPort\":\"8081\",\"HealthCheckEnabled\":false,"
                    "\"HealthCheckPath\":\"/hc\",\"HealthCheckIntervalSeconds\":6,"
                    "\"Matcher\":{\"HttpCode\":\"200-299\"},\"Attributes\":[{\"Key\":"
                    "\"load_balancing.algorithm.type\",\"Value\":\"weighted_random\"},{\"Key\":"
                    "\"slow_start.duration_seconds\",\"Value\":\"30\"}]}"),
                "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\",\"port\":80,"
                "\"algorithm\":\"weighted_random\",\"slow_start_seconds\":30,\"health_check\":{"
                "\"enabled\":false,\"protocol\":\"HTTP\",\"port\":8081,\"path\":\"/hc\","
                "\"interval_seconds\":6,\"timeout_seconds\":5,\"healthy_threshold\":5,"
                "\"unhealthy_threshold\":2,\"matcher\":\"200-299\"},\"stickiness\":{"
                "\"enabled\":false,\"type\":\"lb_cookie\",\"lb_cookie_duration_seconds\":86400,"
                "\"app_cookie_duration_seconds\":86400}}");
    /* stickiness with the group's cookie key */
    assert_json(enc(FEED_TARGET_GROUP, "g",
                    "{\"id\":\"g\",\"arn\":\"arn:g\",\"Protocol\":\"HTTP\",\"_cookie_key\":\""
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
                    "\"Attributes\":[{\"Key\":\"stickiness.enabled\",\"Value\":\"true\"},"
                    "{\"Key\":\"stickiness.type\",\"Value\":\"app_cookie\"},"
                    "{\"Key\":\"stickiness.app_cookie.cookie_name\",\"Value\":\"SESS\"},"
                    "{\"Key\":\"stickiness.app_cookie.duration_seconds\",\"Value\":\"60\"}]}"),
                "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\","
                "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,\"health_check\":{"
                "\"enabled\":true,\"protocol\":\"HTTP\",\"path\":\"/\","
                "\"interval_seconds\":30,\"timeout_seconds\":5,\"healthy_threshold\":5,"
                "\"unhealthy_threshold\":2,\"matcher\":\"200\"},\"stickiness\":{"
                "\"enabled\":true,\"type\":\"app_cookie\",\"lb_cookie_duration_seconds\":86400,"
                "\"app_cookie_name\":\"SESS\",\"app_cookie_duration_seconds\":60,\"cookie_key\":"
                "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}}");
    /* a forward action's target group stickiness */
    assert_json(enc(FEED_RULE, "r",
                    "{\"id\":\"r\",\"arn\":\"arn:r\",\"IsDefault\":true,\"_listener_id\":\"l\","
                    "\"Conditions\":[],\"Actions\":[{\"Type\":\"forward\",\"ForwardConfig\":{"
                    "\"TargetGroups\":[{\"TargetGroupArn\":\"arn:g\",\"Weight\":1},"
                    "{\"TargetGroupArn\":\"arn:h\",\"Weight\":2}],"
                    "\"TargetGroupStickinessConfig\":{\"Enabled\":true,\"DurationSeconds\":300}}}]}"),
                "{\"id\":\"r\",\"arn\":\"arn:r\",\"listener_id\":\"l\",\"is_default\":true,"
                "\"conditions\":[],\"actions\":[{\"type\":\"forward\",\"order\":1,"
                "\"target_groups\":[{\"arn\":\"arn:g\",\"weight\":1},{\"arn\":\"arn:h\","
                "\"weight\":2}],\"stickiness\":{\"enabled\":true,\"duration_seconds\":300}}]}");
}

static void test_rules(void **state)
{
    /* legacy Values and <Field>Config, single TargetGroupArn, redirect
     * defaults, the default rule without a priority */
    assert_json(
        enc(FEED_RULE, "r",
            "{\"id\":\"r\",\"arn\":\"arn:r\",\"Priority\":\"12\",\"IsDefault\":false,"
            "\"_listener_id\":\"l\",\"Conditions\":["
            "{\"Field\":\"path-pattern\",\"Values\":[\"/a*\"]},"
            "{\"Field\":\"host-header\",\"Values\":[\"old\"],\"HostHeaderConfig\":{\"Values\":"
            "[\"new\"]}},"
            "{\"Field\":\"http-header\",\"HttpHeaderConfig\":{\"HttpHeaderName\":\"X\",\"Values\":"
            "[\"v\"]}},"
            "{\"Field\":\"query-string\",\"QueryStringConfig\":{\"Values\":[{\"Key\":\"k\","
            "\"Value\":\"v\"},{\"Value\":\"w\"}]}}],"
            "\"Actions\":[{\"Type\":\"forward\",\"TargetGroupArn\":\"arn:g\"},"
            "{\"Type\":\"redirect\",\"Order\":2,\"RedirectConfig\":{\"StatusCode\":\"HTTP_302\","
            "\"Path\":\"/n\"}}]}"),
        "{\"id\":\"r\",\"arn\":\"arn:r\",\"listener_id\":\"l\",\"is_default\":false,"
        "\"priority\":12,\"conditions\":["
        "{\"field\":\"path-pattern\",\"values\":[\"/a*\"]},"
        "{\"field\":\"host-header\",\"values\":[\"new\"]},"
        "{\"field\":\"http-header\",\"header_name\":\"X\",\"values\":[\"v\"]},"
        "{\"field\":\"query-string\",\"values\":[{\"key\":\"k\",\"value\":\"v\"},{\"value\":\"w\"}]}],"
        "\"actions\":[{\"type\":\"forward\",\"order\":1,\"target_groups\":[{\"arn\":\"arn:g\","
        "\"weight\":1}]},{\"type\":\"redirect\",\"order\":2,\"status_code\":302,\"protocol\":"
        "\"#{protocol}\",\"host\":\"#{host}\",\"port\":\"#{port}\",\"path\":\"/n\",\"query\":"
        "\"#{query}\"}]}");
    assert_json(
        enc(FEED_RULE, "d",
            "{\"id\":\"d\",\"arn\":\"arn:d\",\"Priority\":\"default\",\"IsDefault\":true,"
            "\"_listener_id\":\"l\",\"Conditions\":[],\"Actions\":[{\"Type\":\"forward\","
            "\"ForwardConfig\":{\"TargetGroups\":[{\"TargetGroupArn\":\"arn:g\",\"Weight\":0}]},"
            "\"Order\":1},{\"Type\":\"fixed-response\",\"Order\":3,\"FixedResponseConfig\":{"
            "\"StatusCode\":\"503\",\"ContentType\":\"text/plain\"}}]}"),
        "{\"id\":\"d\",\"arn\":\"arn:d\",\"listener_id\":\"l\",\"is_default\":true,"
        "\"conditions\":[],\"actions\":[{\"type\":\"forward\",\"order\":1,\"target_groups\":[{"
        "\"arn\":\"arn:g\",\"weight\":1}]},{\"type\":\"fixed-response\",\"order\":3,"
        "\"status_code\":503,\"content_type\":\"text/plain\"}]}");
}

static void test_refused(void **state)
{
    static const struct {
        enum feed_kind k;
        const char *stored, *msg;
    } cases[] = {
        {FEED_TARGET, "{\"Target\":{\"Id\":\"x\",\"Port\":80}}", "state"},
        {FEED_TARGET, "{\"Target\":{\"Id\":\"x\"},\"_state\":\"registered\"}", "Target"},
        {FEED_LISTENER, "{\"arn\":\"a\",\"Port\":80,\"Protocol\":\"HTTP\"}", "load balancer"},
        {FEED_RULE, "{\"arn\":\"a\",\"_listener_id\":\"l\",\"Priority\":\"x\"}", "Priority"},
        {FEED_RULE, "{\"arn\":\"a\",\"_listener_id\":\"l\",\"IsDefault\":true,\"Actions\":[{"
                    "\"Type\":\"authenticate-oidc\"}]}", "action"},
        {FEED_LOAD_BALANCER, "{\"arn\":\"a\",\"Scheme\":\"public\"}", "Scheme"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = json_loads(cases[i].stored, 0, NULL), *out = (json_t *)1;
        struct sl_err err = {0};
        assert_non_null(o);
        assert_int_equal(feed_encode(cases[i].k, "t|x|80", o, &out, &err), SL_EINVAL);
        assert_null(out);
        if (strstr(err.message, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].msg);
        json_decref(o);
    }
}

static void test_lines(void **state)
{
    struct sl_err err = {0};
    struct buf b;
    json_t *rec;

    buf_init(&b);
    rec = json_pack("{si ss ss ss s{ss s{ss si} ss}}", "rev", 7, "kind", "target", "id",
                    "g|10.0.0.1|80", "op", "put", "obj", "id", "g|10.0.0.1|80", "Target", "Id",
                    "10.0.0.1", "Port", 80, "_state", "registered");
    assert_int_equal(feed_line_change(rec, &b, &err), SL_OK);
    json_decref(rec);
    rec = json_pack("{si ss ss ss sn}", "rev", 8, "kind", "rule", "id", "r", "op", "delete", "obj");
    assert_int_equal(feed_line_change(rec, &b, &err), SL_OK);
    json_decref(rec);
    rec = json_pack("{si ss ss ss s{}}", "rev", 9, "kind", "ecs_task", "id", "t", "op", "put", "obj");
    assert_int_equal(feed_line_change(rec, &b, &err), SL_ENOTFOUND);
    json_decref(rec);
    feed_line_marker(&b, FEED_HEARTBEAT, 9);
    assert_false(buf_failed(&b));
    assert_string_equal(
        b.data,
        "{\"feed_version\":1,\"rev\":7,\"kind\":\"target\",\"op\":\"put\",\"id\":\"g|10.0.0.1|80\","
        "\"object\":{\"id\":\"g|10.0.0.1|80\",\"target_group_id\":\"g\",\"address\":\"10.0.0.1\","
        "\"port\":80,\"state\":\"registered\"}}\n"
        "{\"feed_version\":1,\"rev\":8,\"kind\":\"rule\",\"op\":\"delete\",\"id\":\"r\"}\n"
        "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":9}\n");
    buf_free(&b);
    assert_int_equal(feed_kind_of_store("tg"), FEED_TARGET_GROUP);
    assert_int_equal(feed_kind_of_store("ecs_service"), -1);
    assert_int_equal(feed_kind_parse(feed_kind_name(FEED_TARGET_GROUP)), FEED_TARGET_GROUP);
    assert_string_equal(feed_kind_plural(FEED_TARGET_GROUP), "target_groups");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
