/*
 * table_build.c - micro-benchmark of the data plane's routing table: the
 * time px_table_build() takes for a model of <rules> rules and <targets>
 * targets (spread over <groups> target groups), and the cost of route_match()
 * per request against that table.  Built and run by bench/proxy against
 * build-release/libsluice_proxy_core.a:
 *
 *   table_build [rules 1000] [targets 10000] [groups 100] [builds 10]
 *
 * Prints one "key value" line per measurement (milliseconds / nanoseconds).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/route.h"
#include "proxy/table.h"

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

/* The shape sluiced's /v1/dataplane/snapshot model has (see table.h). */
static json_t *make_model(int nrules, int ntargets, int ngroups)
{
    json_t *m = json_object(), *tgs = json_object(), *targets = json_object();
    json_t *rules = json_object(), *ls = json_object(), *lbs = json_object();
    char id[64], arn[160], key[256], ip[32];
    int i;

    json_object_set_new(lbs, "lb1", json_pack("{s:s}", "Scheme", "internal"));
    for (i = 0; i < ngroups; i++) {
        snprintf(id, sizeof(id), "tg%d", i);
        snprintf(arn, sizeof(arn),
                 "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/g%d/%016x", i, i);
        json_object_set_new(tgs, id, json_pack("{s:s,s:s,s:i,s:s}", "TargetGroupArn", arn,
                                               "Protocol", "HTTP", "Port", 80,
                                               "HealthCheckPath", "/health"));
    }
    for (i = 0; i < ntargets; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        snprintf(key, sizeof(key), "tg%d|%s|80", i % ngroups, ip);
        json_object_set_new(targets, key,
                            json_pack("{s:{s:s,s:i},s:s}", "Target", "Id", ip, "Port", 80,
                                      "_state", "healthy"));
    }
    for (i = 0; i < nrules; i++) {
        char path[64], host[64];
        snprintf(id, sizeof(id), "r%d", i);
        snprintf(path, sizeof(path), "/svc%d/*", i);
        snprintf(host, sizeof(host), "h%d.example.com", i % 50);
        snprintf(arn, sizeof(arn),
                 "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/g%d/%016x",
                 i % ngroups, i % ngroups);
        json_object_set_new(
            rules, id,
            json_pack("{s:s,s:i,s:b,s:[{s:s,s:{s:[s]}},{s:s,s:{s:[s]}}],s:[{s:s,s:s}]}",
                      "_listener_id", "l1", "Priority", i + 1, "IsDefault", 0, "Conditions",
                      "Field", "host-header", "HostHeaderConfig", "Values", host, "Field",
                      "path-pattern", "PathPatternConfig", "Values", path, "Actions", "Type",
                      "forward", "TargetGroupArn", arn));
    }
    json_object_set_new(ls, "l1", json_pack("{s:s,s:i,s:s,s:[{s:s,s:i,s:{s:s}}]}", "_lb_id", "lb1",
                                            "Port", 80, "Protocol", "HTTP", "DefaultActions",
                                            "Type", "fixed-response", "Order", 1,
                                            "FixedResponseConfig", "StatusCode", "404"));
    json_object_set_new(m, "lb", lbs);
    json_object_set_new(m, "listener", ls);
    json_object_set_new(m, "rule", rules);
    json_object_set_new(m, "tg", tgs);
    json_object_set_new(m, "target", targets);
    return m;
}

/* ns per route_match() of a request that matches rule <which> (or none). */
static double match_ns(const struct px_listener *l, int which, const struct px_rule **hit)
{
    struct sockaddr_in peer = {.sin_family = AF_INET};
    struct px_req_view v = {0};
    char path[64], host[64];
    const struct px_rule *r = NULL;
    int i, n = 20000;
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

int main(int argc, char **argv)
{
    int nrules = argc > 1 ? atoi(argv[1]) : 1000;
    int ntargets = argc > 2 ? atoi(argv[2]) : 10000;
    int ngroups = argc > 3 ? atoi(argv[3]) : 100;
    int nbuilds = argc > 4 ? atoi(argv[4]) : 10;
    struct px_reg *reg = NULL;
    struct px_table *t = NULL;
    const struct px_rule *hit;
    double first, *ms;
    json_t *model;
    int i;

    if (nrules < 1 || ntargets < 1 || ngroups < 1 || nbuilds < 1 || nbuilds > 1000)
        return 2;
    if ((ms = calloc((size_t)nbuilds, sizeof(*ms))) == NULL || px_reg_new(&reg) != 0)
        return 1;
    model = make_model(nrules, ntargets, ngroups);
    /* The first build also creates every target record in the registry. */
    first = now_ms();
    t = px_table_build(model, 1, reg);
    first = now_ms() - first;
    if (t == NULL || t->nlisteners != 1 || t->listeners[0].nrules != nrules + 1) {
        fprintf(stderr, "table_build: unexpected table\n");
        return 1;
    }
    for (i = 0; i < t->ntgs; i++)
        if (t->tgs[i].ntargets != ntargets / ngroups + (i < ntargets % ngroups)) {
            fprintf(stderr, "table_build: group %s has %d targets\n", t->tgs[i].id,
                    t->tgs[i].ntargets);
            return 1;
        }
    for (i = 0; i < nbuilds; i++) {
        struct px_table *n;
        double t0 = now_ms();
        n = px_table_build(model, (uint64_t)i + 2, reg);
        ms[i] = now_ms() - t0;
        if (n == NULL)
            return 1;
        px_table_release(n);
    }
    qsort(ms, (size_t)nbuilds, sizeof(*ms), dbl_cmp);
    printf("rules %d\ntargets %d\ngroups %d\n", nrules, ntargets, ngroups);
    printf("build_first_ms %.2f\n", first);
    printf("build_p50_ms %.2f\nbuild_max_ms %.2f\n", ms[nbuilds / 2], ms[nbuilds - 1]);
    printf("match_first_ns %.1f\n", match_ns(&t->listeners[0], 0, &hit));
    if (hit != &t->listeners[0].rules[0])
        return 1;
    printf("match_mid_ns %.1f\n", match_ns(&t->listeners[0], nrules / 2, &hit));
    printf("match_last_ns %.1f\n", match_ns(&t->listeners[0], nrules - 1, &hit));
    if (hit != &t->listeners[0].rules[nrules - 1])
        return 1;
    printf("match_default_ns %.1f\n", match_ns(&t->listeners[0], nrules + 7, &hit));
    px_table_release(t);
    px_table_publish(NULL);
    px_reg_free(reg);
    json_decref(model);
    free(ms);
    return 0;
}
