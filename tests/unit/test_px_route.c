/* Unit tests for proxy/route.c over tables made from feed snapshots
 * (proxy/apply.c): ALB matching semantics, rule order, weighted groups,
 * balancing, redirects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proxy/apply.h"
#include "proxy/route.h"

static struct px_apply *feed;

static int setup(void **state)
{
    return px_apply_new(&feed);
}

static int teardown(void **state)
{
    px_apply_free(feed);
    return 0;
}

#define TG(id, extra)                                                                       \
    "{\"id\":\"" id "\",\"arn\":\"arn:" id "\",\"protocol\":\"HTTP\",\"port\":80,"        \
    "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,\"health_check\":{\"enabled\":"  \
    "true,\"protocol\":\"HTTP\",\"path\":\"/\",\"interval_seconds\":30,\"timeout_seconds\":5," \
    "\"healthy_threshold\":5,\"unhealthy_threshold\":2,\"matcher\":" extra "}}"
#define TARGET(ip, state)                                                                 \
    "{\"id\":\"g1|" ip "|80\",\"target_group_id\":\"g1\",\"address\":\"" ip "\",\"port\":80," \
    "\"state\":\"" state "\"}"

/* A feed with one listener "L" whose non-default rules are given (a JSON
 * array body) and a default rule answering 404. */
static struct px_table *table_with_rules(const char *rules_json)
{
    static char buf[16384];
    struct sl_err err = {0};
    struct px_table *t;

    snprintf(buf, sizeof(buf),
             "{\"feed_version\":1,\"revision\":7,"
             "\"load_balancers\":[{\"id\":\"B\",\"arn\":\"arn:B\",\"scheme\":\"internal\","
             "\"idle_timeout_seconds\":7}],"
             "\"listeners\":[{\"id\":\"L\",\"arn\":\"arn:L\",\"load_balancer_id\":\"B\","
             "\"port\":8080,\"protocol\":\"HTTP\"}],"
             "\"target_groups\":[" TG("g1", "\"200\"") "," TG("g2", "\"200-299,302\"") "],"
             "\"targets\":[" TARGET("10.0.0.1", "registered") "," TARGET("10.0.0.2", "registered")
             "," TARGET("10.0.0.3", "draining") "],"
             "\"rules\":[{\"id\":\"D\",\"arn\":\"arn:D\",\"listener_id\":\"L\","
             "\"is_default\":true,\"conditions\":[],\"actions\":[{\"type\":\"fixed-response\","
             "\"order\":1,\"status_code\":404}]}%s%s]}",
             rules_json[0] ? "," : "", rules_json);
    assert_int_equal(px_apply_snapshot(feed, buf, strlen(buf), &err), SL_OK);
    assert_int_equal(px_apply_commit(feed, &t), 1);
    assert_non_null(t);
    return t;
}

#define RULE(id, prio, conds, acts)                                                         \
    "{\"id\":\"" id "\",\"arn\":\"arn:" id "\",\"listener_id\":\"L\",\"is_default\":false," \
    "\"priority\":" #prio ",\"conditions\":[" conds "],\"actions\":[" acts "]}"
#define FIXED(code) "{\"type\":\"fixed-response\",\"order\":1,\"status_code\":" #code "}"
#define COND(field, vals) "{\"field\":\"" field "\",\"values\":[" vals "]}"

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
    const struct px_rule *ru = route_match(t->listeners[0], r);

    assert_non_null(ru);
    assert_ptr_equal(ru, route_match_linear(t->listeners[0], r));
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
        RULE("r1", 10, COND("host-header", "\"*.example.com\""), FIXED(200)) ","
        RULE("r2", 5, COND("path-pattern", "\"/api/*\",\"/v?/x\""), FIXED(201)));
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
    assert_int_equal(t->listeners[0]->rules[t->listeners[0]->nrules - 1].act->code, 404);
    assert_int_equal(t->listeners[0]->idle_timeout_s, 7);
    assert_int_equal(t->listeners[0]->port, 8080);
    assert_int_equal(t->listeners[0]->internet, 0);
    px_table_release(t);
}

static void test_header_method_query_source(void **state)
{
    struct px_table *t = table_with_rules(
        RULE("h", 1, "{\"field\":\"http-header\",\"header_name\":\"X-Env\",\"values\":[\"beta*\"]}",
             FIXED(200)) ","
        RULE("m", 2, COND("http-request-method", "\"PUT\""), FIXED(200)) ","
        RULE("q", 3, "{\"field\":\"query-string\",\"values\":[{\"key\":\"ver\",\"value\":\"v1*\"},"
                     "{\"value\":\"a\\\\*b\"},{\"key\":\"sp\",\"value\":\"x y\"}]}",
             FIXED(200)) ","
        RULE("s", 4, COND("source-ip", "\"192.168.0.0/16\",\"2001:db8::/32\""), FIXED(200)) ","
        RULE("and", 5, COND("http-request-method", "\"POST\"") "," COND("path-pattern", "\"/p\""),
             FIXED(200)));
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
    struct px_table *t = table_with_rules(RULE(
        "w", 1, "",
        "{\"type\":\"forward\",\"order\":1,\"target_groups\":[{\"arn\":\"arn:g1\",\"weight\":1},"
        "{\"arn\":\"arn:g2\",\"weight\":3}]}"));
    const struct px_action *a = t->listeners[0]->rules[0].act;
    struct px_tg *g1 = (struct px_tg *)px_table_tg(t, "g1");
    int c1 = 0, c2 = 0, i, seen[3] = {0};

    assert_int_equal(a->type, PX_A_FORWARD);
    assert_int_equal(a->nfwd, 2);
    for (i = 0; i < 4000; i++) {
        struct px_tg *g = route_pick_group(t, a, route_rand());
        if (strcmp(g->conf.id, "g1") == 0)
            c1++;
        else
            c2++;
    }
    assert_true(c1 > 800 && c1 < 1200);
    assert_true(c2 > 2800 && c2 < 3200);
    /* health: g2's matcher and port */
    assert_int_equal(px_table_tg(t, "g2")->conf.ncodes, 2);
    assert_int_equal(px_table_tg(t, "g2")->conf.codes[0].hi, 299);
    assert_int_equal(px_table_tg(t, "g2")->conf.codes[1].lo, 302);
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
    g1->conf.algo = PX_ALGO_LOR;
    atomic_store(&g1->targets[0]->in_flight, 5);
    for (i = 0; i < 5; i++)
        assert_ptr_equal(route_pick_target(g1, 1000, route_rand()), g1->targets[1]);
    /* slow start: a target just made eligible gets a small share */
    g1->conf.algo = PX_ALGO_RR;
    g1->conf.slow_start_ms = 100000;
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
    struct px_table *t = table_with_rules("");
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
    assert_int_equal(route_redirect_location(&a, &r, 8080, 0, out, 8), SL_EINVAL);
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
