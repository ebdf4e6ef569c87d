/* Unit tests for proxy/route.c and proxy/table.c: ALB matching semantics,
 * rule order, weighted groups, balancing, redirects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proxy/route.h"

static struct px_reg *reg;

static int setup(void **state)
{
    return px_reg_new(&reg);
}

static int teardown(void **state)
{
    px_reg_free(reg);
    return 0;
}

/* A model with one listener "L" whose rules are given as JSON. */
static struct px_table *table_with_rules(const char *rules_json)
{
    json_error_t e;
    char buf[8192];
    json_t *m;
    struct px_table *t;

    snprintf(buf, sizeof(buf),
             "{\"lb\":{\"B\":{\"Scheme\":\"internal\",\"Attributes\":[{\"Key\":\"idle_timeout."
             "timeout_seconds\",\"Value\":\"7\"}]}},"
             "\"listener\":{\"L\":{\"Port\":8080,\"Protocol\":\"HTTP\",\"_lb_id\":\"B\","
             "\"DefaultActions\":[{\"Type\":\"fixed-response\",\"FixedResponseConfig\":"
             "{\"StatusCode\":\"404\"}}]}},"
             "\"tg\":{\"g1\":{\"TargetGroupArn\":\"arn:g1\"},\"g2\":{\"TargetGroupArn\":\"arn:g2\","
             "\"Matcher\":{\"HttpCode\":\"200-299,302\"},\"HealthCheckPort\":\"81\"}},"
             "\"target\":{\"g1|10.0.0.1|80\":{\"Target\":{\"Id\":\"10.0.0.1\",\"Port\":80},"
             "\"_state\":\"registered\"},"
             "\"g1|10.0.0.2|80\":{\"Target\":{\"Id\":\"10.0.0.2\",\"Port\":80},"
             "\"_state\":\"registered\"},"
             "\"g1|10.0.0.3|80\":{\"Target\":{\"Id\":\"10.0.0.3\",\"Port\":80},"
             "\"_state\":\"draining\"}},"
             "\"rule\":%s}",
             rules_json);
    m = json_loads(buf, 0, &e);
    assert_non_null(m);
    t = px_table_build(m, 7, reg);
    json_decref(m);
    assert_non_null(t);
    return t;
}

static struct px_req_view view(const char *method, const char *target, const char *host)
{
    struct px_req_view r = {0};
    const char *q = strchr(target, '?');

    r.method = method;
    r.method_len = strlen(method);
    r.path = target;
    r.path_len = q ? (size_t)(q - target) : strlen(target);
    r.query = q ? q + 1 : NULL;
    r.query_len = q ? strlen(q + 1) : 0;
    r.host = host;
    r.host_len = host ? strlen(host) : 0;
    return r;
}

static int matched_prio(struct px_table *t, const struct px_req_view *r)
{
    const struct px_rule *ru = route_match(&t->listeners[0], r);

    assert_non_null(ru);
    return ru->prio;
}

static void test_glob(void **state)
{
    assert_true(route_glob("*.example.com", "a.b.example.com", 15, 1, 0));
    assert_true(route_glob("*.EXAMPLE.com", "www.example.COM", 15, 1, 0));
    assert_false(route_glob("*.example.com", "example.com", 11, 1, 0));
    assert_true(route_glob("a?c", "abc", 3, 0, 0));
    assert_false(route_glob("a?c", "ac", 2, 0, 0));
    assert_false(route_glob("/API/*", "/api/x", 6, 0, 0));
    assert_true(route_glob("/api/*", "/api/", 5, 0, 0));
    assert_true(route_glob("*a*b*c", "xxaxxbxxbc", 10, 0, 0));
    assert_false(route_glob("*a*b*c", "xxaxxbxxbcd", 11, 0, 0));
    assert_true(route_glob("", "", 0, 0, 0));
    assert_false(route_glob("", "x", 1, 0, 0));
    /* '\' escapes only when asked (query-string) */
    assert_true(route_glob("a\\*", "a*", 2, 1, 1));
    assert_false(route_glob("a\\*", "ab", 2, 1, 1));
    assert_true(route_glob("a\\?", "a?", 2, 1, 1));
    assert_false(route_glob("a\\?", "ab", 2, 1, 1));
    assert_true(route_glob("a\\\\b", "a\\b", 3, 1, 1));
}

static void test_host_and_path(void **state)
{
    struct px_table *t = table_with_rules(
        "{\"r1\":{\"Priority\":\"10\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"host-header\",\"HostHeaderConfig\":{\"Values\":[\"*.example.com\"]}}],"
        "\"Actions\":[{\"Type\":\"fixed-response\",\"FixedResponseConfig\":{\"StatusCode\":"
        "\"200\"}}]},"
        "\"r2\":{\"Priority\":\"5\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"path-pattern\",\"Values\":[\"/api/*\",\"/v?/x\"]}],"
        "\"Actions\":[{\"Type\":\"fixed-response\",\"FixedResponseConfig\":{\"StatusCode\":"
        "\"201\"}}]}}");
    struct px_req_view r;

    r = view("GET", "/", "www.EXAMPLE.com:8080");
    assert_int_equal(matched_prio(t, &r), 10); /* port stripped, case folded */
    r = view("GET", "/api/users?x=1", "other.org");
    assert_int_equal(matched_prio(t, &r), 5);
    r = view("GET", "/API/users", "other.org"); /* path is case-sensitive */
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    r = view("GET", "/v2/x", "a.example.com"); /* priority 5 wins over 10 */
    assert_int_equal(matched_prio(t, &r), 5);
    r = view("GET", "/x?/api/y", "other.org"); /* the query is not the path */
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    r = view("GET", "/", "[::1]:80");
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    /* default rule: listener DefaultActions */
    assert_int_equal(t->listeners[0].rules[t->listeners[0].nrules - 1].act.code, 404);
    assert_int_equal(t->listeners[0].idle_timeout_s, 7);
    assert_int_equal(t->listeners[0].port, 8080);
    assert_int_equal(t->listeners[0].internet, 0);
    px_table_release(t);
}

static void test_header_method_query_source(void **state)
{
    struct px_table *t = table_with_rules(
        "{\"h\":{\"Priority\":\"1\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"http-header\",\"HttpHeaderConfig\":{\"HttpHeaderName\":\"X-Env\",\"Values\":"
        "[\"beta*\"]}}],\"Actions\":[]},"
        "\"m\":{\"Priority\":\"2\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"http-request-method\",\"HttpRequestMethodConfig\":{\"Values\":[\"PUT\"]}}],"
        "\"Actions\":[]},"
        "\"q\":{\"Priority\":\"3\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"query-string\",\"QueryStringConfig\":{\"Values\":[{\"Key\":\"ver\",\"Value\":"
        "\"v1*\"},{\"Value\":\"a\\\\*b\"},{\"Key\":\"sp\",\"Value\":\"x y\"}]}}],"
        "\"Actions\":[]},"
        "\"s\":{\"Priority\":\"4\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"source-ip\",\"SourceIpConfig\":{\"Values\":[\"192.168.0.0/16\",\"2001:db8::/32\"]}}],"
        "\"Actions\":[]},"
        "\"and\":{\"Priority\":\"5\",\"_listener_id\":\"L\",\"Conditions\":[{\"Field\":"
        "\"http-request-method\",\"HttpRequestMethodConfig\":{\"Values\":[\"POST\"]}},"
        "{\"Field\":\"path-pattern\",\"PathPatternConfig\":{\"Values\":[\"/p\"]}}],"
        "\"Actions\":[]}}");
    struct h1_header hd[2] = {{"x-ENV", 5, "BETA-2", 6}, {"Other", 5, "z", 1}};
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    struct px_req_view r;

    r = view("GET", "/", "h");
    r.hdrs = hd;
    r.nhdrs = 2;
    assert_int_equal(matched_prio(t, &r), 1);
    hd[0].value = "gamma";
    hd[0].value_len = 5;
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    r = view("PUT", "/", "h");
    assert_int_equal(matched_prio(t, &r), 2);
    r = view("put", "/", "h"); /* method is exact */
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    r = view("GET", "/?a=1&VER=V1.2", "h"); /* key and value case-insensitive */
    assert_int_equal(matched_prio(t, &r), 3);
    r = view("GET", "/?ver=v2", "h");
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    r = view("GET", "/?any=a*b", "h"); /* escaped '*' is literal */
    assert_int_equal(matched_prio(t, &r), 3);
    r = view("GET", "/?any=axxb", "h");
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    r = view("GET", "/?sp=x%20y", "h"); /* percent-decoded */
    assert_int_equal(matched_prio(t, &r), 3);
    r = view("GET", "/", "h");
    a4.sin_family = AF_INET;
    inet_pton(AF_INET, "192.168.7.9", &a4.sin_addr);
    r.peer = (struct sockaddr *)&a4;
    assert_int_equal(matched_prio(t, &r), 4);
    inet_pton(AF_INET, "192.169.0.1", &a4.sin_addr);
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    a6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:1::5", &a6.sin6_addr);
    r.peer = (struct sockaddr *)&a6;
    assert_int_equal(matched_prio(t, &r), 4);
    inet_pton(AF_INET6, "::ffff:192.168.1.1", &a6.sin6_addr); /* v4-mapped peer */
    assert_int_equal(matched_prio(t, &r), 4);
    r = view("POST", "/p", "h"); /* conditions AND */
    assert_int_equal(matched_prio(t, &r), 5);
    r = view("POST", "/q", "h");
    assert_int_equal(matched_prio(t, &r), INT32_MAX);
    px_table_release(t);
}

static void test_forward_groups_and_balancing(void **state)
{
    struct px_table *t = table_with_rules(
        "{\"w\":{\"Priority\":\"1\",\"_listener_id\":\"L\",\"Conditions\":[],\"Actions\":[{"
        "\"Type\":\"forward\",\"Order\":1,\"ForwardConfig\":{\"TargetGroups\":[{"
        "\"TargetGroupArn\":\"arn:g1\",\"Weight\":1},{\"TargetGroupArn\":\"arn:g2\","
        "\"Weight\":3}]}}]}}");
    const struct px_action *a = &t->listeners[0].rules[0].act;
    struct px_tg *g1 = (struct px_tg *)px_table_tg(t, "g1");
    int c1 = 0, c2 = 0, i, seen[3] = {0};

    assert_int_equal(a->type, PX_A_FORWARD);
    assert_int_equal(a->nfwd, 2);
    for (i = 0; i < 4000; i++) {
        struct px_tg *g = route_pick_group(a, route_rand());
        if (strcmp(g->id, "g1") == 0)
            c1++;
        else
            c2++;
    }
    assert_true(c1 > 800 && c1 < 1200);
    assert_true(c2 > 2800 && c2 < 3200);
    /* health: g2's matcher and port */
    assert_int_equal(px_table_tg(t, "g2")->ncodes, 2);
    assert_int_equal(px_table_tg(t, "g2")->codes[0].hi, 299);
    assert_int_equal(px_table_tg(t, "g2")->hc_port, 81);
    /* fail-open: no healthy target -> non-draining ones in turn */
    assert_int_equal(g1->ntargets, 3);
    for (i = 0; i < 6; i++) {
        struct px_target *x = route_pick_target(g1, 1000, route_rand());
        assert_non_null(x);
        assert_false(atomic_load(&x->draining));
        seen[x->key[10] - '1']++;
    }
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[1], 3);
    assert_int_equal(seen[2], 0);
    /* only healthy ones once one is healthy */
    atomic_store(&g1->targets[1]->health, PX_H_HEALTHY);
    for (i = 0; i < 5; i++)
        assert_ptr_equal(route_pick_target(g1, 1000, route_rand()), g1->targets[1]);
    /* least outstanding requests */
    atomic_store(&g1->targets[0]->health, PX_H_HEALTHY);
    g1->algo = PX_ALGO_LOR;
    atomic_store(&g1->targets[0]->in_flight, 5);
    for (i = 0; i < 5; i++)
        assert_ptr_equal(route_pick_target(g1, 1000, route_rand()), g1->targets[1]);
    /* slow start: a target just made eligible gets a small share */
    g1->algo = PX_ALGO_RR;
    g1->slow_start_ms = 100000;
    atomic_store(&g1->targets[0]->in_flight, 0);
    atomic_store(&g1->targets[0]->eligible_ms, 1000);
    atomic_store(&g1->targets[1]->eligible_ms, 0);
    c1 = 0;
    for (i = 0; i < 1000; i++)
        c1 += route_pick_target(g1, 1000 + 10000, route_rand()) == g1->targets[0];
    assert_true(c1 > 40 && c1 < 170); /* weight ~0.1 vs 1.0 */
    px_table_release(t);
}

static void test_round_robin_even(void **state)
{
    struct px_table *t = table_with_rules("{}");
    struct px_tg *g1 = (struct px_tg *)px_table_tg(t, "g1");
    int n0 = 0, n1 = 0, i;

    for (i = 0; i < 3; i++)
        atomic_store(&g1->targets[i]->health, PX_H_HEALTHY);
    for (i = 0; i < 101; i++) {
        struct px_target *x = route_pick_target(g1, 0, route_rand());
        n0 += x == g1->targets[0];
        n1 += x == g1->targets[1];
    }
    assert_true(n0 - n1 <= 1 && n1 - n0 <= 1);
    assert_int_equal(n0 + n1, 101); /* the draining third never */
    px_table_release(t);
}

static void test_redirect(void **state)
{
    struct px_action a = {0};
    struct px_req_view r = view("GET", "/a/b?x=1", "Host.example:8080");
    char out[512];

    a.proto = "HTTPS";
    a.port = "443";
    a.host = "#{host}";
    a.path = "/new/#{path}";
    a.query = "#{query}&y=2";
    assert_true(route_redirect_location(&a, &r, 8080, 0, out, sizeof(out)) > 0);
    assert_string_equal(out, "https://Host.example/new/a/b?x=1&y=2");
    a.proto = "#{protocol}";
    a.port = "#{port}";
    a.host = "x.org";
    a.path = "/#{path}";
    a.query = "#{query}";
    r = view("GET", "/p", "h");
    assert_true(route_redirect_location(&a, &r, 8080, 0, out, sizeof(out)) > 0);
    assert_string_equal(out, "http://x.org:8080/p");
    assert_int_equal(route_redirect_location(&a, &r, 8080, 0, out, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob),
        cmocka_unit_test_setup_teardown(test_host_and_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_method_query_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_groups_and_balancing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_robin_even, setup, teardown),
        cmocka_unit_test(test_redirect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
