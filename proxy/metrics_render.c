/*
 * metrics_render.c - Prometheus text from the current table.
 *
 * Samples of a family must be contiguous, so families are the outer loop:
 * each object's label set and counter sums are computed once up front and
 * every family then walks them.  Lines are assembled with memcpy and a
 * hand-written integer formatter: a proxy of 1,000 targets renders about
 * 20,000 lines per scrape (bench/metrics_render.c prints how long it takes).
 */
#include "proxy/metrics_render.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/accesslog.h"

struct lrow {
    struct buf labels; /* {load_balancer="..",listener=".." without the '}' */
    struct pxm_lsum s;
};

struct trow {
    const char *labels; /* into the group's label buffer */
    struct pxm_tsum s;
};

void pxm_label_value(struct buf *out, const char *s)
{
    const char *p = s;

    for (; *p; p++) {
        if (*p != '\\' && *p != '"' && *p != '\n')
            continue;
        buf_append(out, s, (size_t)(p - s));
        buf_append(out, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", 2);
        s = p + 1;
    }
    buf_append(out, s, (size_t)(p - s));
}

static void put_u64(struct buf *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_puts(b, "# HELP ");
    buf_puts(b, name);
    buf_putc(b, ' ');
    buf_puts(b, help);
    buf_puts(b, "\n# TYPE ");
    buf_puts(b, name);
    buf_putc(b, ' ');
    buf_puts(b, type);
    buf_putc(b, '\n');
}

/* name{labels} value */
static void sample(struct buf *b, const char *name, const char *labels, uint64_t v)
{
    buf_puts(b, name);
    buf_puts(b, labels);
    buf_append(b, "} ", 2);
    put_u64(b, v);
    buf_putc(b, '\n');
}

/* ---- listeners ---- */

#define LCOUNT(field) offsetof(struct pxm_lsum, field)

static const struct {
    const char *name, *type, *help;
    size_t off;
} lfams[] = {
    {"sluice_alb_request_count_total", "counter",
     "RequestCount: requests a rule was found for", LCOUNT(requests)},
    {"sluice_alb_httpcode_elb_3xx_count_total", "counter",
     "HTTPCode_ELB_3XX_Count: redirects the load balancer answered", LCOUNT(elb[0])},
    {"sluice_alb_httpcode_elb_4xx_count_total", "counter",
     "HTTPCode_ELB_4XX_Count: 4XX answers of the load balancer", LCOUNT(elb[1])},
    {"sluice_alb_httpcode_elb_5xx_count_total", "counter",
     "HTTPCode_ELB_5XX_Count: 5XX answers of the load balancer", LCOUNT(elb[2])},
    {"sluice_alb_httpcode_elb_500_count_total", "counter", "HTTPCode_ELB_500_Count",
     LCOUNT(elb5xx[0])},
    {"sluice_alb_httpcode_elb_502_count_total", "counter", "HTTPCode_ELB_502_Count",
     LCOUNT(elb5xx[1])},
    {"sluice_alb_httpcode_elb_503_count_total", "counter", "HTTPCode_ELB_503_Count",
     LCOUNT(elb5xx[2])},
    {"sluice_alb_httpcode_elb_504_count_total", "counter", "HTTPCode_ELB_504_Count",
     LCOUNT(elb5xx[3])},
    {"sluice_alb_active_connection_count", "gauge",
     "ActiveConnectionCount: client connections open now", LCOUNT(active)},
    {"sluice_alb_new_connection_count_total", "counter",
     "NewConnectionCount: client connections accepted", LCOUNT(new_conns)},
    {"sluice_alb_rejected_connection_count_total", "counter",
     "RejectedConnectionCount: client connections refused", LCOUNT(rejected)},
    {"sluice_alb_processed_bytes_total", "counter",
     "ProcessedBytes: bytes received from and sent to clients", LCOUNT(bytes)},
    {"sluice_alb_rule_evaluations_total", "counter", "RuleEvaluations: rules evaluated",
     LCOUNT(rule_evals)},
};

static int render_listeners(const struct px_table *t, struct buf *b)
{
    struct lrow *rows = calloc((size_t)t->nlisteners + 1, sizeof(*rows));
    size_t f;
    int i, n = 0;

    if (rows == NULL)
        return SL_ENOMEM;
    for (i = 0; i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        if (l->m == NULL)
            continue;
        buf_init(&rows[n].labels);
        buf_puts(&rows[n].labels, "{load_balancer=\"");
        pxm_label_value(&rows[n].labels, l->lb_name);
        buf_puts(&rows[n].labels, "\",listener=\"");
        pxm_label_value(&rows[n].labels, l->name);
        buf_putc(&rows[n].labels, '"');
        pxm_listener_sum(l->m, &rows[n].s);
        n++;
    }
    for (f = 0; f < sizeof(lfams) / sizeof(lfams[0]); f++) {
        family(b, lfams[f].name, lfams[f].type, lfams[f].help);
        for (i = 0; i < n; i++)
            sample(b, lfams[f].name, rows[i].labels.data ? rows[i].labels.data : "{",
                   *(const uint64_t *)(const void *)((const char *)&rows[i].s + lfams[f].off));
    }
    for (i = 0; i < n; i++)
        buf_free(&rows[i].labels);
    free(rows);
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
    buf_puts(b, "{load_balancer=\"");
    pxm_label_value(b, lb ? lb : "");
    buf_puts(b, "\",target_group=\"");
    pxm_label_value(b, dim);
    buf_putc(b, '"');
}

static void render_health(const struct px_table *t, const char **lbs, struct buf *b)
{
    static const char *const names[2] = {"sluice_alb_healthy_host_count",
                                         "sluice_alb_unhealthy_host_count"};
    static const char *const helps[2] = {
        "HealthyHostCount: targets passing health checks (draining ones not counted)",
        "UnHealthyHostCount: targets failing health checks (draining ones not counted)"};
    struct buf labels;
    int want, i, j;

    buf_init(&labels);
    for (want = 0; want < 2; want++) {
        family(b, names[want], "gauge", helps[want]);
        for (i = 0; i < t->nslots; i++) {
            const struct px_tg *g = t->slots[i];
            uint64_t n = 0;
            if (g == NULL)
                continue;
            for (j = 0; j < g->ntargets; j++) {
                struct px_target *x = g->targets[j];
                int h = atomic_load(&x->health);
                if (!atomic_load(&x->draining) &&
                    h == (want == 0 ? PX_H_HEALTHY : PX_H_UNHEALTHY))
                    n++;
            }
            labels.len = 0;
            group_labels(&labels, lbs[i], g->conf.arn);
            sample(b, names[want], labels.data ? labels.data : "{", n);
        }
    }
    buf_free(&labels);
}

#define TCOUNT(field) offsetof(struct pxm_tsum, field)

static const struct {
    const char *name, *help;
    size_t off;
} tfams[] = {
    {"sluice_alb_request_count_per_target_total",
     "RequestCountPerTarget: requests sent to the target", TCOUNT(requests)},
    {"sluice_alb_httpcode_target_2xx_count_total", "HTTPCode_Target_2XX_Count",
     TCOUNT(target[0])},
    {"sluice_alb_httpcode_target_3xx_count_total", "HTTPCode_Target_3XX_Count",
     TCOUNT(target[1])},
    {"sluice_alb_httpcode_target_4xx_count_total", "HTTPCode_Target_4XX_Count",
     TCOUNT(target[2])},
    {"sluice_alb_httpcode_target_5xx_count_total", "HTTPCode_Target_5XX_Count",
     TCOUNT(target[3])},
    {"sluice_alb_target_connection_error_count_total",
     "TargetConnectionErrorCount: connections to the target that failed",
     TCOUNT(conn_errors)},
};

static const char *const le_text[PXM_NBUCKETS] = {"0.001", "0.0025", "0.005", "0.01",
                                                  "0.025", "0.05",   "0.1",   "0.25",
                                                  "0.5",   "1",      "2.5",   "10"};

static void render_histogram(const struct trow *rows, int n, struct buf *b)
{
    static const char *const name = "sluice_alb_target_response_time_seconds";
    int i, k;

    family(b, name, "histogram",
           "TargetResponseTime: from the request sent to the target's response head");
    for (i = 0; i < n; i++) {
        for (k = 0; k <= PXM_NBUCKETS; k++) {
            buf_puts(b, name);
            buf_puts(b, "_bucket");
            buf_puts(b, rows[i].labels);
            buf_puts(b, ",le=\"");
            buf_puts(b, k < PXM_NBUCKETS ? le_text[k] : "+Inf");
            buf_append(b, "\"} ", 3);
            put_u64(b, rows[i].s.rt_bucket[k]);
            buf_putc(b, '\n');
        }
        buf_puts(b, name);
        buf_puts(b, "_sum");
        buf_puts(b, rows[i].labels);
        buf_printf(b, "} %llu.%06llu\n", (unsigned long long)(rows[i].s.rt_sum_us / 1000000),
                   (unsigned long long)(rows[i].s.rt_sum_us % 1000000));
        buf_puts(b, name);
        buf_puts(b, "_count");
        sample(b, "", rows[i].labels, rows[i].s.rt_count);
    }
}

static int render_targets(const struct px_table *t, const char **lbs, struct buf *b)
{
    struct buf labels;
    struct trow *rows;
    size_t *offs, f;
    int total = 0, n = 0, i, j;

    for (i = 0; i < t->nslots; i++)
        total += t->slots[i] ? t->slots[i]->ntargets : 0;
    rows = calloc((size_t)total + 1, sizeof(*rows));
    offs = calloc((size_t)total + 1, sizeof(*offs));
    if (rows == NULL || offs == NULL) {
        free(rows);
        free(offs);
        return SL_ENOMEM;
    }
    buf_init(&labels);
    for (i = 0; i < t->nslots; i++) {
        const struct px_tg *g = t->slots[i];
        for (j = 0; g && j < g->ntargets; j++) {
            const struct px_target *x = g->targets[j];
            char tgt[96];
            offs[n] = labels.len;
            group_labels(&labels, lbs[i], g->conf.arn);
            snprintf(tgt, sizeof(tgt), "%s:%d", x->host, x->port);
            buf_puts(&labels, ",target=\"");
            pxm_label_value(&labels, tgt);
            buf_putc(&labels, '"');
            buf_append(&labels, "", 1); /* each label set NUL-terminated */
            pxm_target_sum(&x->m, &rows[n].s);
            n++;
        }
    }
    for (i = 0; i < n && labels.data; i++)
        rows[i].labels = labels.data + offs[i];
    for (f = 0; labels.data && f < sizeof(tfams) / sizeof(tfams[0]); f++) {
        family(b, tfams[f].name, "counter", tfams[f].help);
        for (i = 0; i < n; i++)
            sample(b, tfams[f].name, rows[i].labels,
                   *(const uint64_t *)(const void *)((const char *)&rows[i].s + tfams[f].off));
    }
    if (labels.data)
        render_histogram(rows, n, b);
    buf_free(&labels);
    free(rows);
    free(offs);
    return SL_OK;
}

/* ---- the proxy's own ---- */

static void render_proxy(uint64_t applied, struct buf *b)
{
    struct pxa_stats st;

    pxa_stats(&st);
    family(b, "sluice_proxy_applied_revision", "gauge",
           "the control plane's revision this proxy's table reflects");
    buf_puts(b, "sluice_proxy_applied_revision ");
    put_u64(b, applied);
    buf_putc(b, '\n');
    family(b, "sluice_proxy_access_log_lines_total", "counter", "access log lines written");
    buf_puts(b, "sluice_proxy_access_log_lines_total ");
    put_u64(b, st.lines);
    buf_putc(b, '\n');
    family(b, "sluice_proxy_access_log_files_total", "counter", "access log files completed");
    buf_puts(b, "sluice_proxy_access_log_files_total ");
    put_u64(b, st.files);
    buf_putc(b, '\n');
    family(b, "sluice_proxy_access_log_dropped_lines_total", "counter",
           "access log lines lost: a worker's buffer was full, or the disk refused them");
    buf_puts(b, "sluice_proxy_access_log_dropped_lines_total{reason=\"buffer_full\"} ");
    put_u64(b, st.dropped_full);
    buf_puts(b, "\nsluice_proxy_access_log_dropped_lines_total{reason=\"write_failed\"} ");
    put_u64(b, st.dropped_write);
    buf_putc(b, '\n');
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
