/*
 * table_build.c - micro-benchmark of the data plane's routing table, fed
 * as sluiced feeds it (proxy/apply.h): the snapshot of <rules> rules on one
 * listener and <targets> targets over <groups> groups decoded and built,
 * the cost of one RegisterTargets applied to that table (a watch record and
 * its heartbeat, decoded, applied, a new table committed and published),
 * and route_match() per request for the first, middle and last rule and
 * the default.  Built and run by bench/proxy against
 * build-release/libsluice_proxy_core.a:
 *
 *   table_build [rules 1000] [targets 10000] [groups 100] [registers 1000]
 *
 * Prints one "key value" line per measurement (ms, us or ns as named).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/apply.h"
#include "proxy/route.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static json_t *target(int i, int ngroups)
{
    char ip[32], key[96], tg[16];

    snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    snprintf(tg, sizeof(tg), "tg%d", i % ngroups);
    snprintf(key, sizeof(key), "%s|%s|80", tg, ip);
    return json_pack("{ss ss ss si ss}", "id", key, "target_group_id", tg, "address", ip, "port",
                     80, "state", "registered");
}

/* The feed snapshot: one listener of <nrules> rules (rule i: host
 * h<i%50>.example.com and path /svc<i>/ and anything after, forwarding
 * to a group), the
 * groups, the targets. */
static char *make_snapshot(int nrules, int ntargets, int ngroups)
{
    json_t *doc = json_pack("{si si s[{ss ss ss si}] s[{ss ss ss si ss}] s[] s[] s[]}",
                            "feed_version", 1, "revision", 1, "load_balancers", "id", "lb1", "arn",
                            "arn:lb1", "scheme", "internal", "idle_timeout_seconds", 60,
                            "listeners", "id", "l1", "arn", "arn:l1", "load_balancer_id", "lb1",
                            "port", 80, "protocol", "HTTP", "rules", "target_groups", "targets");
    json_t *rules = json_object_get(doc, "rules"), *tgs = json_object_get(doc, "target_groups");
    json_t *targets = json_object_get(doc, "targets");
    char id[64], arn[160], path[64], host[64], *text;
    int i;

    for (i = 0; i < ngroups; i++) {
        snprintf(id, sizeof(id), "tg%d", i);
        snprintf(arn, sizeof(arn),
                 "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/g%d/%016x", i, i);
        json_array_append_new(
            tgs, json_pack("{ss ss ss si ss si s{sb ss ss si si si si ss}}", "id", id, "arn", arn,
                           "protocol", "HTTP", "port", 80, "algorithm", "round_robin",
                           "slow_start_seconds", 0, "health_check", "enabled", 0, "protocol",
                           "HTTP", "path", "/health", "interval_seconds", 30, "timeout_seconds",
                           5, "healthy_threshold", 5, "unhealthy_threshold", 2, "matcher", "200"));
    }
    for (i = 0; i < ntargets; i++)
        json_array_append_new(targets, target(i, ngroups));
    for (i = 0; i < nrules; i++) {
        snprintf(id, sizeof(id), "r%d", i);
        snprintf(path, sizeof(path), "/svc%d/*", i);
        snprintf(host, sizeof(host), "h%d.example.com", i % 50);
        snprintf(arn, sizeof(arn),
                 "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/g%d/%016x",
                 i % ngroups, i % ngroups);
        json_array_append_new(
            rules, json_pack("{ss ss ss sb si s[{ss s[s]} {ss s[s]}] s[{ss si s[{ss si}]}]}", "id",
                             id, "arn", id, "listener_id", "l1", "is_default", 0, "priority",
                             i + 1, "conditions", "field", "host-header", "values", host, "field",
                             "path-pattern", "values", path, "actions", "type", "forward",
                             "order", 1, "target_groups", "arn", arn, "weight", 1));
    }
    json_array_append_new(rules, json_pack("{ss ss ss sb s[] s[{ss si si}]}", "id", "default",
                                           "arn", "default", "listener_id", "l1", "is_default", 1,
                                           "conditions", "actions", "type", "fixed-response",
                                           "order", 1, "status_code", 404));
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* ns per route_match() of a request that matches rule <which> (or none). */
static double match_ns(const struct px_listener *l, int which, const struct px_rule **hit)
{
    struct sockaddr_in peer = {.sin_family = AF_INET};
    struct px_req_view v = {0};
    char path[64], host[64];
    const struct px_rule *r = NULL;
    int i, n = 200000;
    double t0;

    snprintf(path, sizeof(path), "/svc%d/items/42", which);
    snprintf(host, sizeof(host), "h%d.example.com", which % 50);
    inet_pton(AF_INET, "127.0.0.1", &peer.sin_addr);
    v.method = "GET";
    v.method_len = 3;
    v.path = path;
    v.path_len = strlen(path);
    v.host = host;
    v.host_len = strlen(host);
    v.peer = (const struct sockaddr *)&peer;
    t0 = now_ms();
    for (i = 0; i < n; i++)
        r = route_match(l, &v);
    *hit = r;
    return (now_ms() - t0) * 1e6 / n;
}

/* One RegisterTargets as the watch brings it: its record and the heartbeat
 * that completes it, then the commit and the publish.  Returns us. */
static double register_one(struct px_apply *a, int i, int ngroups, uint64_t rev)
{
    struct px_table *t;
    struct sl_err err = {0};
    json_t *o = target(i, ngroups);
    char *obj = json_dumps(o, JSON_COMPACT), line[512], hb[128];
    double t0;
    int n, m;

    n = snprintf(line, sizeof(line),
                 "{\"feed_version\":1,\"rev\":%llu,\"kind\":\"target\",\"op\":\"put\","
                 "\"id\":\"%s\",\"object\":%s}",
                 (unsigned long long)rev, json_string_value(json_object_get(o, "id")), obj);
    m = snprintf(hb, sizeof(hb), "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":%llu}",
                 (unsigned long long)rev);
    free(obj);
    json_decref(o);
    t0 = now_ms();
    if (px_apply_line(a, line, (size_t)n, &err) != SL_OK ||
        px_apply_line(a, hb, (size_t)m, &err) != SL_OK || px_apply_commit(a, &t) != 1) {
        fprintf(stderr, "table_build: register failed: %s\n", err.message);
        exit(1);
    }
    px_table_publish(t);
    return (now_ms() - t0) * 1e3;
}

static void check_hit(const struct px_listener *l, const struct px_rule *hit, int want)
{
    if (hit != &l->rules[want]) {
        fprintf(stderr, "table_build: request for rule %d matched another\n", want);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int nrules = argc > 1 ? atoi(argv[1]) : 1000;
    int ntargets = argc > 2 ? atoi(argv[2]) : 10000;
    int ngroups = argc > 3 ? atoi(argv[3]) : 100;
    int nreg = argc > 4 ? atoi(argv[4]) : 1000;
    struct px_model_stats st;
    struct px_apply *a;
    struct px_table *t;
    const struct px_listener *l;
    const struct px_rule *hit;
    struct sl_err err = {0};
    double t0, snap_ms, resnap_ms, *us;
    char *snap;
    int i;

    if (nrules < 1 || ntargets < 1 || ngroups < 1 || nreg < 1 || nreg > 100000)
        return 2;
    if ((us = calloc((size_t)nreg, sizeof(*us))) == NULL || px_apply_new(&a) != SL_OK)
        return 1;
    snap = make_snapshot(nrules, ntargets, ngroups);
    t0 = now_ms();
    if (px_apply_snapshot(a, snap, strlen(snap), &err) != SL_OK || px_apply_commit(a, &t) != 1) {
        fprintf(stderr, "table_build: %s\n", err.message);
        return 1;
    }
    snap_ms = now_ms() - t0;
    px_table_publish(t);
    t0 = now_ms(); /* a 410: the same snapshot again, every part rebuilt */
    if (px_apply_snapshot(a, snap, strlen(snap), &err) != SL_OK || px_apply_commit(a, &t) != 1)
        return 1;
    resnap_ms = now_ms() - t0;
    px_table_publish(t);
    for (i = 0; i < nreg; i++)
        us[i] = register_one(a, ntargets + i, ngroups, (uint64_t)i + 2);
    px_model_stats(px_apply_model(a), &st);
    qsort(us, (size_t)nreg, sizeof(*us), dbl_cmp);
    t = px_table_acquire();
    if (t->nlisteners != 1 || t->listeners[0]->nrules != nrules + 1) {
        fprintf(stderr, "table_build: unexpected table\n");
        return 1;
    }
    l = t->listeners[0];
    printf("rules %d\ntargets %d\ngroups %d\n", nrules, ntargets, ngroups);
    printf("snapshot_ms %.2f\nresnapshot_ms %.2f\n", snap_ms, resnap_ms);
    printf("register_apply_p50_us %.1f\nregister_apply_p99_us %.1f\nregister_apply_max_us %.1f\n",
           us[nreg / 2], us[(nreg * 99) / 100], us[nreg - 1]);
    printf("register_groups_built %u\nregister_listeners_built %u\n", st.groups_built,
           st.listeners_built);
    printf("match_first_ns %.1f\n", match_ns(l, 0, &hit));
    check_hit(l, hit, 0);
    printf("match_mid_ns %.1f\n", match_ns(l, nrules / 2, &hit));
    check_hit(l, hit, nrules / 2);
    printf("match_last_ns %.1f\n", match_ns(l, nrules - 1, &hit));
    check_hit(l, hit, nrules - 1);
    printf("match_default_ns %.1f\n", match_ns(l, nrules + 7, &hit));
    check_hit(l, hit, nrules);
    px_table_release(t);
    px_table_publish(NULL);
    px_apply_free(a);
    free(snap);
    free(us);
    return 0;
}
