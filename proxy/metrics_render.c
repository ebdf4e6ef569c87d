/*
 * metrics_render.c - Prometheus text from the current table.
 *
 * Samples of a family must be contiguous, so families are the outer loop:
 * each object's label set and counter sums are computed once up front and
 * every family then walks them.  A proxy of 1,000 targets renders about
 * 20,000 lines per scrape (bench/metrics_render.c times it).
 */
#include "proxy/metrics_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/prom.h"
#include "proxy/accesslog.h"

struct row {
    struct buf labels; /* without the closing brace */
    uint64_t v[(int)PROM_L_N > (int)PROM_T_N ? (int)PROM_L_N : (int)PROM_T_N];
    uint64_t rt[PROM_RT_BUCKETS], rt_sum_us, rt_count;
};

void pxm_label_value(struct buf *out, const char *s)
{
    prom_label_value(out, s);
}

static void listener_vec(const struct pxm_lsum *s, uint64_t *v)
{
    int i;

    v[PROM_L_REQUESTS] = s->requests;
    for (i = 0; i < 3; i++)
        v[PROM_L_ELB_3XX + i] = s->elb[i];
    for (i = 0; i < 4; i++)
        v[PROM_L_ELB_500 + i] = s->elb5xx[i];
    v[PROM_L_ACTIVE] = s->active;
    v[PROM_L_NEW] = s->new_conns;
    v[PROM_L_REJECTED] = s->rejected;
    v[PROM_L_BYTES] = s->bytes;
    v[PROM_L_RULES] = s->rule_evals;
}

static void free_rows(struct row *rows, int n)
{
    int i;

    for (i = 0; i < n; i++)
        buf_free(&rows[i].labels);
    free(rows);
}

static int render_listeners(const struct px_table *t, struct buf *b)
{
    struct row *rows = calloc((size_t)t->nlisteners + 1, sizeof(*rows));
    struct pxm_lsum s;
    int f, i, n = 0;

    if (rows == NULL)
        return SL_ENOMEM;
    for (i = 0; i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        if (l->m == NULL)
            continue;
        prom_label(&rows[n].labels, "load_balancer", l->lb_name);
        prom_label(&rows[n].labels, "listener", l->name);
        pxm_listener_sum(l->m, &s);
        listener_vec(&s, rows[n].v);
        n++;
    }
    for (f = 0; f < PROM_L_N; f++) {
        prom_family(b, &prom_alb_listener[f]);
        for (i = 0; i < n; i++)
            prom_sample(b, prom_alb_listener[f].name, rows[i].labels.data, rows[i].v[f]);
    }
    free_rows(rows, n);
    return SL_OK;
}

/* ---- target groups and targets ---- */

/* The load balancer of each slot: of the first listener forwarding to it. */
static const char **slot_lbs(const struct px_table *t)
{
    const char **lb = calloc((size_t)t->nslots + 1, sizeof(*lb));
    int i, j, k;

    for (i = 0; lb && i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        for (j = 0; j < l->nrules; j++) {
            const struct px_action *a = l->rules[j].act;
            for (k = 0; a->type == PX_A_FORWARD && k < a->nfwd; k++)
                if (a->fwd[k].slot >= 0 && a->fwd[k].slot < t->nslots && !lb[a->fwd[k].slot])
                    lb[a->fwd[k].slot] = l->lb_name;
        }
    }
    return lb;
}

static void group_labels(struct buf *b, const char *lb, const char *arn)
{
    char dim[PX_ARN_MAX];

    pxm_arn_resource(arn, "", dim, sizeof(dim));
    prom_label(b, "load_balancer", lb ? lb : "");
    prom_label(b, "target_group", dim);
}

static void render_health(const struct px_table *t, const char **lbs, struct buf *b)
{
    struct buf labels;
    int want, i, j;

    buf_init(&labels);
    for (want = 0; want < PROM_G_N; want++) {
        prom_family(b, &prom_alb_group[want]);
        for (i = 0; i < t->nslots; i++) {
            const struct px_tg *g = t->slots[i];
            uint64_t n = 0;
            if (g == NULL)
                continue;
            for (j = 0; j < g->ntargets; j++) {
                struct px_target *x = g->targets[j];
                int h = atomic_load(&x->health);
                if (!atomic_load(&x->draining) &&
                    h == (want == PROM_G_HEALTHY ? PX_H_HEALTHY : PX_H_UNHEALTHY))
                    n++;
            }
            labels.len = 0;
            group_labels(&labels, lbs[i], g->conf.arn);
            prom_sample(b, prom_alb_group[want].name, labels.data, n);
        }
    }
    buf_free(&labels);
}

static void target_row(struct row *r, const char *lb, const struct px_tg *g,
                       const struct px_target *x)
{
    struct pxm_tsum s;
    char tgt[96];
    int i;

    group_labels(&r->labels, lb, g->conf.arn);
    snprintf(tgt, sizeof(tgt), "%s:%d", x->host, x->port);
    prom_label(&r->labels, "target", tgt);
    pxm_target_sum(&x->m, &s);
    r->v[PROM_T_REQUESTS] = s.requests;
    for (i = 0; i < 4; i++)
        r->v[PROM_T_2XX + i] = s.target[i];
    r->v[PROM_T_CONN_ERRORS] = s.conn_errors;
    memcpy(r->rt, s.rt_bucket, sizeof(r->rt));
    r->rt_sum_us = s.rt_sum_us;
    r->rt_count = s.rt_count;
}

static int render_targets(const struct px_table *t, const char **lbs, struct buf *b)
{
    struct row *rows;
    int total = 0, n = 0, f, i, j;

    for (i = 0; i < t->nslots; i++)
        total += t->slots[i] ? t->slots[i]->ntargets : 0;
    if ((rows = calloc((size_t)total + 1, sizeof(*rows))) == NULL)
        return SL_ENOMEM;
    for (i = 0; i < t->nslots; i++)
        for (j = 0; t->slots[i] && j < t->slots[i]->ntargets; j++)
            target_row(&rows[n++], lbs[i], t->slots[i], t->slots[i]->targets[j]);
    for (f = 0; f < PROM_T_N; f++) {
        prom_family(b, &prom_alb_target[f]);
        for (i = 0; i < n; i++)
            prom_sample(b, prom_alb_target[f].name, rows[i].labels.data, rows[i].v[f]);
    }
    prom_family(b, &prom_alb_response_time);
    for (i = 0; i < n; i++)
        prom_histogram(b, prom_alb_response_time.name, rows[i].labels.data, prom_rt_le,
                       PROM_RT_BUCKETS, rows[i].rt, rows[i].rt_sum_us, rows[i].rt_count);
    free_rows(rows, n);
    return SL_OK;
}

/* ---- the proxy's own ---- */

static void render_proxy(uint64_t applied, struct buf *b)
{
    static const struct prom_family fams[] = {
        {"sluice_proxy_applied_revision", "gauge",
         "the control plane's revision this proxy's table reflects"},
        {"sluice_proxy_access_log_lines_total", "counter", "access log lines written"},
        {"sluice_proxy_access_log_files_total", "counter", "access log files completed"},
        {"sluice_proxy_access_log_dropped_lines_total", "counter",
         "access log lines lost: a worker's buffer was full, or the disk refused them"},
    };
    struct pxa_stats st;

    pxa_stats(&st);
    prom_family(b, &fams[0]);
    prom_sample(b, fams[0].name, NULL, applied);
    prom_family(b, &fams[1]);
    prom_sample(b, fams[1].name, NULL, st.lines);
    prom_family(b, &fams[2]);
    prom_sample(b, fams[2].name, NULL, st.files);
    prom_family(b, &fams[3]);
    prom_sample(b, fams[3].name, "{reason=\"buffer_full\"", st.dropped_full);
    prom_sample(b, fams[3].name, "{reason=\"write_failed\"", st.dropped_write);
}

int pxm_render(const struct px_table *t, uint64_t applied, struct buf *out)
{
    const char **lbs = NULL;
    int rc = SL_OK;

    if (t) {
        if ((lbs = slot_lbs(t)) == NULL)
            return SL_ENOMEM;
        if ((rc = render_listeners(t, out)) == SL_OK) {
            render_health(t, lbs, out);
            rc = render_targets(t, lbs, out);
        }
        free(lbs);
    }
    render_proxy(applied, out);
    return rc == SL_OK && !buf_failed(out) ? SL_OK : SL_ENOMEM;
}
