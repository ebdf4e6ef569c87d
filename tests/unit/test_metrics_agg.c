/* Unit tests for server/metrics_agg.c: proxies' report totals summed per
 * object; a proxy that restarts (totals going down), stops reporting an
 * object, or is forgotten never makes a sum go down; an object no proxy
 * reports leaves the output; HealthyHostCount counts healthy, non-draining
 * targets per group; request rates per target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics_agg.h"

#define LBL "load_balancer=\"app/demo/1\""
#define TGL "target_group=\"targetgroup/web/2\""

/* A report of one listener with <lreq> requests and targets t1 (<t1>
 * requests, healthy) and, when <t2> >= 0, t2 (unhealthy, draining). */
static json_t *report(int lreq, int t1, int t2)
{
    json_t *b = json_pack(
        "{ss si s[{ss ss ss}] s[{ss ss ss s{si si s[iii] s[iiii]}}] s[{ss ss}] s{si si si si}}",
        "proxy_id", "x", "applied_revision", 1, "groups", "id", "web", "target_group",
        "targetgroup/web/2", "load_balancer", "app/demo/1", "listeners", "id", "l1",
        "load_balancer", "app/demo/1", "listener", "app/demo/1/3", "m", "requests", lreq,
        "active_connections", 2, "elb", 0, lreq / 2, 0, "elb_5xx", 0, 0, 0, 0, "targets", "key",
        "web|10.0.0.1|80", "state", "healthy", "access_log", "lines", lreq, "dropped_full", 0,
        "dropped_write", 1, "files", 0);
    json_t *t = json_array_get(json_object_get(b, "targets"), 0);

    json_object_set_new(t, "m", json_pack("{si s[iiii] si si si}", "requests", t1, "target", t1,
                                           0, 0, 0, "connection_errors", 0, "rt_count", t1,
                                           "rt_sum_us", t1 * 1000));
    if (t2 >= 0) {
        json_t *u = json_pack("{ss ss sb}", "key", "web|10.0.0.2|80", "state", "unhealthy",
                              "draining", 1);
        json_object_set_new(u, "m", json_pack("{si}", "requests", t2));
        json_array_append_new(json_object_get(b, "targets"), u);
    }
    return b;
}

static char *render(struct magg *a)
{
    struct buf b;

    buf_init(&b);
    assert_int_equal(magg_render(a, &b), 0);
    return b.data;
}

static void has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("missing: %s\nin:\n%.3000s", line, text);
}

static void ingest(struct magg *a, const char *proxy, json_t *body, uint64_t now)
{
    magg_ingest(a, proxy, body, now);
    json_decref(body);
}

static void test_sums_and_restarts(void **state)
{
    struct magg *a;
    char *t;

    assert_int_equal(magg_new(&a), 0);
    ingest(a, "p1", report(10, 6, 4), 1000);
    ingest(a, "p2", report(5, 5, -1), 1000);
    t = render(a);
    has(t, "sluice_alb_request_count_total{" LBL ",listener=\"app/demo/1/3\"} 15\n");
    has(t, "sluice_alb_httpcode_elb_4xx_count_total{" LBL ",listener=\"app/demo/1/3\"} 7\n");
    has(t, "sluice_alb_active_connection_count{" LBL ",listener=\"app/demo/1/3\"} 4\n");
    has(t, "sluice_alb_request_count_per_target_total{" LBL "," TGL ",target=\"10.0.0.1:80\"} 11\n");
    has(t, "sluice_alb_request_count_per_target_total{" LBL "," TGL ",target=\"10.0.0.2:80\"} 4\n");
    has(t, "sluice_alb_healthy_host_count{" LBL "," TGL "} 1\n");
    has(t, "sluice_alb_unhealthy_host_count{" LBL "," TGL "} 0\n"); /* draining: not counted */
    has(t, "sluice_alb_target_response_time_seconds_sum{" LBL "," TGL
           ",target=\"10.0.0.1:80\"} 0.011000\n");
    has(t, "sluice_proxy_access_log_lines_total 15\n");
    free(t);

    /* p1 restarts under the same id: its totals start again from 1 */
    ingest(a, "p1", report(1, 1, 1), 2000);
    t = render(a);
    has(t, "sluice_alb_request_count_total{" LBL ",listener=\"app/demo/1/3\"} 16\n");
    has(t, "target=\"10.0.0.1:80\"} 12\n");
    has(t, "sluice_alb_active_connection_count{" LBL ",listener=\"app/demo/1/3\"} 4\n");
    free(t);

    /* p1 is forgotten: what it counted stays */
    magg_forget(a, "p1");
    t = render(a);
    has(t, "sluice_alb_request_count_total{" LBL ",listener=\"app/demo/1/3\"} 16\n");
    has(t, "sluice_alb_active_connection_count{" LBL ",listener=\"app/demo/1/3\"} 2\n");
    /* 10.0.0.2 was only on p1: nobody reports it, it is gone */
    assert_null(strstr(t, "10.0.0.2"));
    free(t);
    magg_free(a);
}

static void test_target_leaves(void **state)
{
    struct magg *a;
    char *t;

    assert_int_equal(magg_new(&a), 0);
    ingest(a, "p1", report(3, 2, 1), 1000);
    ingest(a, "p1", report(4, 3, -1), 2000); /* 10.0.0.2 deregistered */
    t = render(a);
    assert_null(strstr(t, "10.0.0.2"));
    has(t, "target=\"10.0.0.1:80\"} 3\n");
    free(t);
    magg_free(a);
}

struct rate {
    double rps;
    uint64_t total;
};

static void on_target(const char *key, uint64_t total, double rps, void *arg)
{
    struct rate *r = arg;

    if (strcmp(key, "web|10.0.0.1|80") == 0) {
        r->rps = rps;
        r->total = total;
    }
}

static void test_rates(void **state)
{
    struct magg *a;
    struct rate r = {0, 0};

    assert_int_equal(magg_new(&a), 0);
    ingest(a, "p1", report(0, 100, -1), 10000);
    ingest(a, "p1", report(0, 300, -1), 12000);
    magg_each_target(a, on_target, &r);
    assert_int_equal(r.total, 300);
    assert_true(r.rps > 99.9 && r.rps < 100.1);
    magg_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_and_restarts),
        cmocka_unit_test(test_target_leaves),
        cmocka_unit_test(test_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
