/* Unit tests for proxy/rindex.c through route_match(): on listeners of many
 * random rules (wildcard and exact hosts in mixed case, path prefixes,
 * rules without host or path, every other condition type, several host
 * conditions ANDed) the indexed answer is the brute-force one for random
 * requests; and the index really narrows (few candidates per request on a
 * 1,000-rule listener). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/apply.h"
#include "proxy/route.h"

static uint32_t seed = 12345;

static uint32_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

#define PICK(arr) (arr[rnd() % (sizeof(arr) / sizeof(arr[0]))])

static const char *const host_pats[] = {
    "a.example.com", "B.Example.com", "x.org", "*.example.com", "?.example.com", "*",
    "a.*", "*.org", "*x*", "b.example.co?", "api.example.com", "*.EXAMPLE.COM", "a?", "*a",
    "[::1]", "?", "c.example.com", "**.org"};
static const char *const hosts[] = {
    "a.example.com", "b.example.com", "B.EXAMPLE.COM", "x.org", "api.example.com", "example.com",
    "c.example.com", "a.b", "ab", "zz.org", "ax", "", "[::1]", "a", "c.example.co"};
static const char *const path_pats[] = {
    "/api/*", "/api*", "/img/*.png", "*", "/*", "/static/?.js", "/api/v1/users", "/API/*",
    "*.png", "/", "/api/v?/*", "/img/a.png", "/a", "/a*b", "/static/*"};
static const char *const paths[] = {
    "/", "/api", "/api/", "/api/v1/users", "/api/v2/x", "/API/x", "/img/a.png", "/img/b.gif",
    "/static/x.js", "/static/xy.js", "/a", "/ab", "/axb", "/img/a.pngx", "/apix"};

static json_t *values(const char *const *pool, size_t npool)
{
    json_t *a = json_array();
    int n = 1 + (int)(rnd() % 3), i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(pool[rnd() % npool]));
    return a;
}

static json_t *cond(const char *field, json_t *vals)
{
    return json_pack("{ss so}", "field", field, "values", vals);
}

/* A random rule at <prio>: host and path conditions often, others now and
 * then, sometimes none at all. */
static json_t *random_rule(int i, int prio)
{
    char id[32];
    json_t *conds = json_array();
    int shape = (int)(rnd() % 10);

    snprintf(id, sizeof(id), "r%d", i);
    if (shape < 7)
        json_array_append_new(conds, cond("host-header", values(host_pats, sizeof(host_pats) / sizeof(host_pats[0]))));
    if (shape == 3)
        json_array_append_new(conds, cond("host-header", values(host_pats, sizeof(host_pats) / sizeof(host_pats[0]))));
    if (shape >= 2 && shape != 8)
        json_array_append_new(conds, cond("path-pattern", values(path_pats, sizeof(path_pats) / sizeof(path_pats[0]))));
    if (rnd() % 5 == 0)
        json_array_append_new(conds, cond("http-request-method", json_pack("[s]", rnd() % 2 ? "GET" : "POST")));
    if (rnd() % 6 == 0)
        json_array_append_new(conds, json_pack("{ss ss s[s]}", "field", "http-header", "header_name",
                                               "X-Env", "values", rnd() % 2 ? "beta*" : "prod"));
    if (rnd() % 7 == 0)
        json_array_append_new(conds, json_pack("{ss s[{ss ss}]}", "field", "query-string", "values",
                                               "key", "v", "value", rnd() % 2 ? "1" : "*"));
    if (rnd() % 8 == 0)
        json_array_append_new(conds, cond("source-ip", json_pack("[s]", rnd() % 2 ? "10.0.0.0/8" : "192.168.0.0/16")));
    return json_pack("{ss ss ss sb si so s[{ss si si}]}", "id", id, "arn", id, "listener_id", "L",
                     "is_default", 0, "priority", prio, "conditions", conds, "actions", "type",
                     "fixed-response", "order", 1, "status_code", 200 + i % 300);
}

static struct px_table *table_of(struct px_apply *a, json_t *rules)
{
    json_t *doc = json_pack(
        "{si si s[{ss ss ss si}] s[{ss ss ss si ss}] so s[] s[]}", "feed_version", 1, "revision",
        3, "load_balancers", "id", "B", "arn", "arn:B", "scheme", "internal",
        "idle_timeout_seconds", 60, "listeners", "id", "L", "arn", "arn:L", "load_balancer_id", "B",
        "port", 80, "protocol", "HTTP", "rules", rules, "target_groups", "targets");
    struct sl_err err = {0};
    struct px_table *t;
    char *text;

    json_array_append_new(rules, json_pack("{ss ss ss sb s[] s[{ss si si}]}", "id", "D", "arn", "D",
                                           "listener_id", "L", "is_default", 1, "conditions",
                                           "actions", "type", "fixed-response", "order", 1,
                                           "status_code", 404));
    text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    assert_int_equal(px_apply_snapshot(a, text, strlen(text), &err), SL_OK);
    free(text);
    json_decref(doc);
    assert_int_equal(px_apply_commit(a, &t), 1);
    assert_int_equal(t->nlisteners, 1);
    return t;
}

static void random_request(struct px_req_view *v, char *host, char *path, struct h1_header *hd,
                           struct sockaddr_in *peer)
{
    const char *h = PICK(hosts), *p = PICK(paths);
    size_t i;

    memset(v, 0, sizeof(*v));
    snprintf(host, 128, "%s%s", h, rnd() % 4 == 0 ? ":8080" : "");
    for (i = 0; host[i]; i++) /* Host is case-insensitive: vary it */
        if (rnd() % 3 == 0 && host[i] >= 'a' && host[i] <= 'z')
            host[i] = (char)(host[i] - 32);
    snprintf(path, 128, "%s%s", p, rnd() % 4 == 0 ? "?v=1" : "");
    v->method = rnd() % 2 ? "GET" : "POST";
    v->method_len = strlen(v->method);
    v->path = path;
    v->path_len = strcspn(path, "?");
    if (path[v->path_len] == '?') {
        v->query = path + v->path_len + 1;
        v->query_len = strlen(v->query);
    }
    if (rnd() % 10 != 0) { /* sometimes no Host at all (HTTP/1.0) */
        v->host = host;
        v->host_len = strlen(host);
    }
    hd->name = "x-env";
    hd->name_len = 5;
    hd->value = rnd() % 2 ? "beta-1" : "prod";
    hd->value_len = strlen(hd->value);
    v->hdrs = hd;
    v->nhdrs = rnd() % 2;
    peer->sin_family = AF_INET;
    inet_pton(AF_INET, rnd() % 2 ? "10.1.2.3" : "192.168.1.1", &peer->sin_addr);
    v->peer = (const struct sockaddr *)peer;
}

static void test_random_against_brute_force(void **state)
{
    int round;

    for (round = 0; round < 60; round++) {
        struct px_apply *a;
        struct px_table *t;
        json_t *rules = json_array();
        int n = 1 + (int)(rnd() % (round < 40 ? 40 : 400)), i, hits = 0;

        assert_int_equal(px_apply_new(&a), SL_OK);
        for (i = 0; i < n; i++) /* priorities unique, not in id order */
            json_array_append_new(rules, random_rule(i, 1 + (int)((uint32_t)(i * 7919) % 50000)));
        t = table_of(a, rules);
        for (i = 0; i < 3000; i++) {
            char host[128], path[128];
            struct h1_header hd;
            struct sockaddr_in peer;
            struct px_req_view v;
            const struct px_rule *got, *want;
            random_request(&v, host, path, &hd, &peer);
            got = route_match(t->listeners[0], &v);
            want = route_match_linear(t->listeners[0], &v);
            if (got != want)
                fail_msg("round %d (%d rules): host '%s' path '%s': index gives %s, "
                         "brute force %s",
                         round, n, v.host ? host : "(none)", path, got ? got->def->id : "none",
                         want ? want->def->id : "none");
            hits += !want->def->is_default;
        }
        assert_true(hits > 0); /* the requests do reach rules */
        px_table_release(t);
        px_apply_free(a);
    }
}

/* Candidates a request gets from the index of <l>. */
static int candidates(const struct px_listener *l, const char *host, const char *path)
{
    struct px_rcand it;
    int n = 0;

    rindex_begin(&l->index, host, strlen(host), path, strlen(path), &it);
    while (rindex_next(&it) >= 0)
        n++;
    return n;
}

static void test_index_narrows(void **state)
{
    struct px_apply *a;
    struct px_table *t;
    json_t *rules = json_array();
    char path[64], host[64];
    int i;

    assert_int_equal(px_apply_new(&a), SL_OK);
    /* the bench's listener: 50 hosts, a path prefix per rule */
    for (i = 0; i < 1000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "r%d", i);
        snprintf(path, sizeof(path), "/svc%d/*", i);
        snprintf(host, sizeof(host), "h%d.example.com", i % 50);
        json_array_append_new(
            rules, json_pack("{ss ss ss sb si s[{ss s[s]} {ss s[s]}] s[{ss si si}]}", "id", id,
                             "arn", id, "listener_id", "L", "is_default", 0, "priority", i + 1,
                             "conditions", "field", "host-header", "values", host, "field",
                             "path-pattern", "values", path, "actions", "type", "fixed-response",
                             "order", 1, "status_code", 200));
    }
    /* and rules only a host names, exact and wildcard */
    for (i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof(id), "w%d", i);
        snprintf(host, sizeof(host), i % 2 ? "*.zone%d.example.org" : "app%d.example.org", i);
        json_array_append_new(
            rules, json_pack("{ss ss ss sb si s[{ss s[s]}] s[{ss si si}]}", "id", id, "arn", id,
                             "listener_id", "L", "is_default", 0, "priority", 2000 + i,
                             "conditions", "field", "host-header", "values", host, "actions",
                             "type", "fixed-response", "order", 1, "status_code", 200));
    }
    t = table_of(a, rules);
    assert_int_equal(candidates(t->listeners[0], "h7.example.com", "/svc7/items/1"), 1);
    assert_int_equal(candidates(t->listeners[0], "h49.example.com", "/svc999/x"), 1);
    assert_int_equal(candidates(t->listeners[0], "h1.example.com", "/svc1000/x"), 0);
    assert_int_equal(candidates(t->listeners[0], "APP4.example.org", "/"), 1);
    assert_int_equal(candidates(t->listeners[0], "a.zone5.EXAMPLE.org", "/"), 1);
    assert_int_equal(candidates(t->listeners[0], "zone5.example.org", "/"), 0);
    px_table_release(t);
    px_apply_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_index_narrows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
