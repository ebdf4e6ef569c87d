/*
 * metrics_report.c - counters as report members.
 */
#include "proxy/metrics_report.h"

#include <stdlib.h>

#include "common/err.h"
#include "proxy/accesslog.h"

static json_t *u64s(const uint64_t *v, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

static json_t *listener_m(const struct pxm_lsum *s)
{
    return json_pack("{sI sI sI sI sI sI so so}", "requests", (json_int_t)s->requests,
                     "new_connections", (json_int_t)s->new_conns, "rejected_connections",
                     (json_int_t)s->rejected, "active_connections", (json_int_t)s->active,
                     "processed_bytes", (json_int_t)s->bytes, "rule_evaluations",
                     (json_int_t)s->rule_evals, "elb", u64s(s->elb, 3), "elb_5xx",
                     u64s(s->elb5xx, 4));
}

void pxm_report_target(json_t *entry, const struct px_target *x)
{
    struct pxm_tsum s;

    if (atomic_load(&((struct px_target *)x)->draining))
        json_object_set_new(entry, "draining", json_true());
    pxm_target_sum(&x->m, &s);
    if (s.requests == 0 && s.conn_errors == 0 && s.rt_count == 0)
        return;
    json_object_set_new(entry, "m",
                        json_pack("{sI so sI sI sI so}", "requests", (json_int_t)s.requests,
                                  "target", u64s(s.target, 4), "connection_errors",
                                  (json_int_t)s.conn_errors, "rt_count",
                                  (json_int_t)s.rt_count, "rt_sum_us",
                                  (json_int_t)s.rt_sum_us, "rt_buckets",
                                  u64s(s.rt_bucket, PXM_NBUCKETS + 1)));
}

/* The load balancer of each slot, as the renderer finds it. */
static const char *slot_lb(const struct px_table *t, int slot)
{
    int i, j, k;

    for (i = 0; i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        for (j = 0; j < l->nrules; j++)
            for (k = 0; l->rules[j].act->type == PX_A_FORWARD && k < l->rules[j].act->nfwd; k++)
                if (l->rules[j].act->fwd[k].slot == slot)
                    return l->lb_name;
    }
    return "";
}

int pxm_report_add(json_t *body, const struct px_table *t)
{
    json_t *groups = json_array(), *ls = json_array();
    struct pxa_stats st;
    char dim[PX_ARN_MAX];
    int i;

    for (i = 0; t && groups && i < t->nslots; i++) {
        const struct px_tg *g = t->slots[i];
        if (g == NULL)
            continue;
        pxm_arn_resource(g->conf.arn, "", dim, sizeof(dim));
        json_array_append_new(groups, json_pack("{ss ss ss}", "id", g->conf.id, "target_group",
                                                dim, "load_balancer", slot_lb(t, i)));
    }
    for (i = 0; t && ls && i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        struct pxm_lsum s;
        if (l->m == NULL)
            continue;
        pxm_listener_sum(l->m, &s);
        json_array_append_new(ls, json_pack("{ss ss ss so}", "id", l->id, "load_balancer",
                                            l->lb_name, "listener", l->name, "m",
                                            listener_m(&s)));
    }
    pxa_stats(&st);
    if (groups == NULL || ls == NULL ||
        json_object_set_new(body, "groups", groups) != 0 ||
        json_object_set_new(body, "listeners", ls) != 0 ||
        json_object_set_new(body, "access_log",
                            json_pack("{sI sI sI sI}", "lines", (json_int_t)st.lines,
                                      "dropped_full", (json_int_t)st.dropped_full,
                                      "dropped_write", (json_int_t)st.dropped_write, "files",
                                      (json_int_t)st.files)) != 0)
        return SL_ENOMEM;
    return SL_OK;
}

uint64_t pxm_report_signature(const struct px_table *t)
{
    uint64_t h = 0;
    int i;

    for (i = 0; t && i < t->nlisteners; i++) {
        struct pxm_lsum s;
        if (t->listeners[i]->m == NULL)
            continue;
        pxm_listener_sum(t->listeners[i]->m, &s);
        /* every request and connection moves one of these */
        h = h * 31 + s.requests + s.new_conns + s.bytes + s.rejected;
    }
    return h;
}
