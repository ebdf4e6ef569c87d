/* Unit tests for proxy/metrics.c and proxy/metrics_render.c: a listener's
 * cell survives the rebuild of its listener and goes with its last
 * reference; per-worker slots sum; the Prometheus text of a table names
 * load balancer, listener, target group and target as CloudWatch does,
 * with cumulative histogram buckets; a target that leaves the table leaves
 * the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/apply.h"
#include "proxy/metrics.h"
#include "proxy/metrics_render.h"

#define LB_ARN "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/demo/50dc6c495c0c9188"
#define L_ARN "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2"
#define TG_ARN "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
#define LBL "load_balancer=\"app/demo/50dc6c495c0c9188\""
#define TGL "target_group=\"targetgroup/web/73e2d6bc24d8a067\""

static int setup(void **state)
{
    pxm_init(2);
    return 0;
}

static void test_listener_cell_lifetime(void **state)
{
    struct pxm_listener *a = pxm_listener_get("l1"), *b = pxm_listener_get("l1"), *c;
    struct pxm_lsum s;

    assert_non_null(a);
    assert_ptr_equal(a, b); /* a rebuilt listener finds the same cell */
    pxm_add(&pxm_lslot(a, 0)->requests, 3);
    pxm_add(&pxm_lslot(a, 1)->requests, 4);
    pxm_add(&pxm_lslot(a, 1)->new_conns, 5);
    pxm_add(&pxm_lslot(a, 0)->closed, 2);
    pxm_listener_put(a);
    pxm_listener_sum(b, &s);
    assert_int_equal(s.requests, 7);
    assert_int_equal(s.active, 3);
    pxm_listener_put(b);
    c = pxm_listener_get("l1"); /* the last reference went: a fresh cell */
    pxm_listener_sum(c, &s);
    assert_int_equal(s.requests, 0);
    pxm_listener_put(c);
}

static void test_buckets(void **state)
{
    assert_int_equal(pxm_bucket_of(0), 0);
    assert_int_equal(pxm_bucket_of(1000), 0);
    assert_int_equal(pxm_bucket_of(1001), 1);
    assert_int_equal(pxm_bucket_of(10000000), PXM_NBUCKETS - 1);
    assert_int_equal(pxm_bucket_of(10000001), PXM_NBUCKETS);
}

static void test_label_escape(void **state)
{
    struct buf b;

    buf_init(&b);
    pxm_label_value(&b, "a\"b\\c\nd");
    assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
    buf_free(&b);
}

/* ---- rendering a table ---- */

static const char *snapshot(int ntargets)
{
    static char text[8192];
    json_t *targets = json_array(), *doc;
    char *s;
    int i;

    for (i = 0; i < ntargets; i++) {
        char id[64], ip[32];
        snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
        snprintf(id, sizeof(id), "web|%s|80", ip);
        json_array_append_new(targets,
                              json_pack("{ss ss ss si ss}", "id", id, "target_group_id", "web",
                                        "address", ip, "port", 80, "state", "registered"));
    }
    doc = json_pack(
        "{si si s[{ss ss ss si}] s[{ss ss ss si ss}] s[{ss ss ss sb s[] s[{ss si s[{ss si}]}]}]"
        " s[{ss ss ss si ss si s{sb ss ss si si si si ss}}] so}",
        "feed_version", 1, "revision", 3, "load_balancers", "id", "demo", "arn", LB_ARN,
        "scheme", "internal", "idle_timeout_seconds", 60, "listeners", "id", "l1", "arn", L_ARN,
        "load_balancer_id", "demo", "port", 8080, "protocol", "HTTP", "rules", "id", "r0", "arn",
        "r0", "listener_id", "l1", "is_default", 1, "conditions", "actions", "type", "forward",
        "order", 1, "target_groups", "arn", TG_ARN, "weight", 1, "target_groups", "id", "web",
        "arn", TG_ARN, "protocol", "HTTP", "port", 80, "algorithm", "round_robin",
        "slow_start_seconds", 0, "health_check", "enabled", 1, "protocol", "HTTP", "path", "/",
        "interval_seconds", 5, "timeout_seconds", 2, "healthy_threshold", 2,
        "unhealthy_threshold", 2, "matcher", "200", "targets", targets);
    s = json_dumps(doc, JSON_COMPACT);
    snprintf(text, sizeof(text), "%s", s);
    free(s);
    json_decref(doc);
    return text;
}

static struct px_table *table_of(struct px_apply *a, int ntargets)
{
    struct sl_err err = {0};
    struct px_table *t = NULL;
    const char *text = snapshot(ntargets);

    if (px_apply_snapshot(a, text, strlen(text), &err) != SL_OK)
        fail_msg("snapshot: %s", err.message);
    assert_int_equal(px_apply_commit(a, &t), 1);
    return t;
}

static char *render(struct px_table *t)
{
    struct buf b;

    buf_init(&b);
    assert_int_equal(pxm_render(t, 3, &b), SL_OK);
    return b.data;
}

static void has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("missing: %s\nin:\n%.4000s", line, text);
}

static void test_render(void **state)
{
    struct px_apply *a;
    struct px_table *t;
    struct px_target *x;
    char *text;

    assert_int_equal(px_apply_new(&a), SL_OK);
    t = table_of(a, 2);
    x = t->slots[0]->targets[0];
    atomic_store(&x->health, PX_H_HEALTHY);
    atomic_store(&t->slots[0]->targets[1]->health, PX_H_UNHEALTHY);
    pxm_add(&x->m.slots[0].requests, 2);
    pxm_add(&x->m.slots[1].requests, 1);
    pxm_add(&x->m.slots[0].target[0], 3);
    pxm_add(&x->m.slots[1].rt_bucket[pxm_bucket_of(2000)], 2); /* 2 ms */
    pxm_add(&x->m.slots[0].rt_bucket[pxm_bucket_of(700000)], 1); /* 0.7 s */
    pxm_add(&x->m.slots[0].rt_count, 3);
    pxm_add(&x->m.slots[0].rt_sum_us, 704000);
    pxm_add(&pxm_lslot(t->listeners[0]->m, 1)->elb[1], 4);
    text = render(t);
    has(text, "# TYPE sluice_alb_request_count_total counter\n");
    has(text, "sluice_alb_httpcode_elb_4xx_count_total{" LBL
              ",listener=\"app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2\"} 4\n");
    has(text, "sluice_alb_healthy_host_count{" LBL "," TGL "} 1\n");
    has(text, "sluice_alb_unhealthy_host_count{" LBL "," TGL "} 1\n");
    has(text, "sluice_alb_request_count_per_target_total{" LBL "," TGL
              ",target=\"10.0.0.1:80\"} 3\n");
    has(text, "sluice_alb_httpcode_target_2xx_count_total{" LBL "," TGL
              ",target=\"10.0.0.1:80\"} 3\n");
    has(text, "# TYPE sluice_alb_target_response_time_seconds histogram\n");
    has(text, "sluice_alb_target_response_time_seconds_bucket{" LBL "," TGL
              ",target=\"10.0.0.1:80\",le=\"0.001\"} 0\n");
    has(text, "sluice_alb_target_response_time_seconds_bucket{" LBL "," TGL
              ",target=\"10.0.0.1:80\",le=\"0.0025\"} 2\n");
    has(text, "sluice_alb_target_response_time_seconds_bucket{" LBL "," TGL
              ",target=\"10.0.0.1:80\",le=\"0.5\"} 2\n");
    has(text, "sluice_alb_target_response_time_seconds_bucket{" LBL "," TGL
              ",target=\"10.0.0.1:80\",le=\"1\"} 3\n");
    has(text, "sluice_alb_target_response_time_seconds_bucket{" LBL "," TGL
              ",target=\"10.0.0.1:80\",le=\"+Inf\"} 3\n");
    has(text, "sluice_alb_target_response_time_seconds_sum{" LBL "," TGL
              ",target=\"10.0.0.1:80\"} 0.704000\n");
    has(text, "sluice_alb_target_response_time_seconds_count{" LBL "," TGL
              ",target=\"10.0.0.1:80\"} 3\n");
    has(text, "sluice_proxy_applied_revision 3\n");
    has(text, "target=\"10.0.0.2:80\"");
    free(text);
    px_table_release(t);

    /* the second target deregistered and gone: it leaves the metrics */
    t = table_of(a, 1);
    text = render(t);
    assert_null(strstr(text, "10.0.0.2"));
    has(text, "sluice_alb_request_count_per_target_total{" LBL "," TGL
              ",target=\"10.0.0.1:80\"} 3\n");
    free(text);
    px_table_release(t);
    px_apply_free(a);
}

/* Every sample line is "name{labels} value" or "name value" with a family
 * declared before it: what a Prometheus text parser needs. */
static void test_render_shape(void **state)
{
    struct px_apply *a;
    struct px_table *t;
    char *text, *line, *save = NULL, family[128] = "";

    assert_int_equal(px_apply_new(&a), SL_OK);
    t = table_of(a, 3);
    text = render(t);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        size_t n = strcspn(line, "{ ");
        if (strncmp(line, "# TYPE ", 7) == 0) {
            snprintf(family, sizeof(family), "%.*s", (int)strcspn(line + 7, " "), line + 7);
            continue;
        }
        if (line[0] == '#')
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)n, line);
        assert_true(strncmp(name, family, strlen(family)) == 0);
        assert_non_null(strrchr(line, ' '));
        assert_true(strchr("0123456789", strrchr(line, ' ')[1]) != NULL);
    }
    free(text);
    px_table_release(t);
    px_apply_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_cell_lifetime),
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_label_escape),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_shape),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
