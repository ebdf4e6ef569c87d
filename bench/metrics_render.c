/*
 * metrics_render.c - how long a proxy takes to render GET /metrics
 * (proxy/metrics_render.h) for a table of <targets> targets in <groups>
 * groups behind one load balancer, every counter and histogram bucket
 * non-zero (as after traffic), over <renders> renders.  Built and run by
 * bench/proxy against build-release/libsluice_proxy_core.a:
 *
 *   metrics_render [targets 1000] [groups 10] [renders 200]
 *
 * Prints "key value" lines: the bytes and lines of one exposition, and the
 * render time p50, p99 and max in ms (issue 16's target: under 10 ms for
 * 1,000 targets).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/apply.h"
#include "proxy/metrics.h"
#include "proxy/metrics_render.h"

#define LB_ARN "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/bench/50dc6c495c0c9188"

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

static char *make_snapshot(int ntargets, int ngroups)
{
    json_t *doc = json_pack("{si si s[{ss ss ss si}] s[{ss ss ss si ss}] s[] s[] s[]}",
                            "feed_version", 1, "revision", 1, "load_balancers", "id", "lb1", "arn",
                            LB_ARN, "scheme", "internal", "idle_timeout_seconds", 60, "listeners",
                            "id", "l1", "arn", LB_ARN "/f2f7dc8efc522ab2", "load_balancer_id",
                            "lb1", "port", 80, "protocol", "HTTP", "rules", "target_groups",
                            "targets");
    json_t *rules = json_object_get(doc, "rules"), *tgs = json_object_get(doc, "target_groups");
    json_t *targets = json_object_get(doc, "targets");
    char id[64], arn[160], ip[32], key[128], path[32], *text;
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
        snprintf(path, sizeof(path), "/g%d/*", i);
        json_array_append_new(
            rules, json_pack("{ss ss ss sb si s[{ss s[s]}] s[{ss si s[{ss si}]}]}", "id", id,
                             "arn", id, "listener_id", "l1", "is_default", 0, "priority", i + 1,
                             "conditions", "field", "path-pattern", "values", path, "actions",
                             "type", "forward", "order", 1, "target_groups", "arn", arn,
                             "weight", 1));
    }
    json_array_append_new(rules, json_pack("{ss ss ss sb s[] s[{ss si si}]}", "id", "default",
                                           "arn", "default", "listener_id", "l1", "is_default", 1,
                                           "conditions", "actions", "type", "fixed-response",
                                           "order", 1, "status_code", 404));
    for (i = 0; i < ntargets; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        snprintf(id, sizeof(id), "tg%d", i % ngroups);
        snprintf(key, sizeof(key), "%s|%s|80", id, ip);
        json_array_append_new(targets, json_pack("{ss ss ss si ss}", "id", key, "target_group_id",
                                                 id, "address", ip, "port", 80, "state",
                                                 "registered"));
    }
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* Every counter of every target and listener non-zero, large numbers. */
static void fill(struct px_table *t)
{
    int i, j, k, w;

    for (i = 0; i < t->nslots; i++)
        for (j = 0; t->slots[i] && j < t->slots[i]->ntargets; j++) {
            struct px_target *x = t->slots[i]->targets[j];
            atomic_store(&x->health, PX_H_HEALTHY);
            for (w = 0; w < pxm_nworkers(); w++) {
                struct pxm_tslot *s = &x->m.slots[w];
                pxm_add(&s->requests, 123456789);
                for (k = 0; k < 4; k++)
                    pxm_add(&s->target[k], 1234567 + (uint64_t)k);
                pxm_add(&s->conn_errors, 42);
                pxm_add(&s->rt_count, 123456789);
                pxm_add(&s->rt_sum_us, 98765432109ull);
                for (k = 0; k <= PXM_NBUCKETS; k++)
                    pxm_add(&s->rt_bucket[k], 1000000 + (uint64_t)k);
            }
        }
    for (i = 0; i < t->nlisteners; i++)
        pxm_add(&pxm_lslot(t->listeners[i]->m, 0)->requests, 123456789);
}

int main(int argc, char **argv)
{
    int ntargets = argc > 1 ? atoi(argv[1]) : 1000, ngroups = argc > 2 ? atoi(argv[2]) : 10;
    int renders = argc > 3 ? atoi(argv[3]) : 200, i, lines = 0;
    struct px_apply *a;
    struct px_table *t = NULL;
    struct sl_err err = {0};
    char *snap;
    double *ms;
    size_t bytes = 0;

    if (ntargets < 1 || ngroups < 1 || renders < 1 || (ms = calloc((size_t)renders, sizeof(*ms))) == NULL)
        return 2;
    pxm_init(2); /* two workers' slots, as --workers 2 */
    snap = make_snapshot(ntargets, ngroups);
    if (px_apply_new(&a) != SL_OK || px_apply_snapshot(a, snap, strlen(snap), &err) != SL_OK ||
        px_apply_commit(a, &t) != 1) {
        fprintf(stderr, "metrics_render: the table did not build: %s\n", err.message);
        return 1;
    }
    free(snap);
    fill(t);
    for (i = 0; i < renders; i++) {
        struct buf b;
        double t0;
        buf_init(&b);
        t0 = now_ms();
        if (pxm_render(t, 1, &b) != SL_OK)
            return 1;
        ms[i] = now_ms() - t0;
        if (i == 0) {
            const char *p;
            bytes = b.len;
            for (p = b.data; (p = strchr(p, '\n')) != NULL; p++)
                lines++;
        }
        buf_free(&b);
    }
    qsort(ms, (size_t)renders, sizeof(*ms), dbl_cmp);
    printf("targets %d\ngroups %d\nrenders %d\nbytes %zu\nlines %d\n", ntargets, ngroups, renders,
           bytes, lines);
    printf("render_p50_ms %.3f\nrender_p99_ms %.3f\nrender_max_ms %.3f\n", ms[renders / 2],
           ms[(renders * 99) / 100], ms[renders - 1]);
    px_table_release(t);
    px_apply_free(a);
    free(ms);
    return 0;
}
