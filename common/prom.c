/*
 * prom.c - exposition text and the data plane's families.
 */
#include "common/prom.h"

#include <stdio.h>
#include <string.h>

const struct prom_family prom_alb_listener[PROM_L_N] = {
    {"sluice_alb_request_count_total", "counter",
     "RequestCount: requests a rule was found for"},
    {"sluice_alb_httpcode_elb_3xx_count_total", "counter",
     "HTTPCode_ELB_3XX_Count: redirects the load balancer answered"},
    {"sluice_alb_httpcode_elb_4xx_count_total", "counter",
     "HTTPCode_ELB_4XX_Count: 4XX answers of the load balancer"},
    {"sluice_alb_httpcode_elb_5xx_count_total", "counter",
     "HTTPCode_ELB_5XX_Count: 5XX answers of the load balancer"},
    {"sluice_alb_httpcode_elb_500_count_total", "counter", "HTTPCode_ELB_500_Count"},
    {"sluice_alb_httpcode_elb_502_count_total", "counter", "HTTPCode_ELB_502_Count"},
    {"sluice_alb_httpcode_elb_503_count_total", "counter", "HTTPCode_ELB_503_Count"},
    {"sluice_alb_httpcode_elb_504_count_total", "counter", "HTTPCode_ELB_504_Count"},
    {"sluice_alb_active_connection_count", "gauge",
     "ActiveConnectionCount: client connections open now"},
    {"sluice_alb_new_connection_count_total", "counter",
     "NewConnectionCount: client connections accepted"},
    {"sluice_alb_rejected_connection_count_total", "counter",
     "RejectedConnectionCount: client connections refused"},
    {"sluice_alb_processed_bytes_total", "counter",
     "ProcessedBytes: bytes received from and sent to clients"},
    {"sluice_alb_rule_evaluations_total", "counter", "RuleEvaluations: rules evaluated"},
};

const struct prom_family prom_alb_group[PROM_G_N] = {
    {"sluice_alb_healthy_host_count", "gauge",
     "HealthyHostCount: targets passing health checks (draining ones not counted)"},
    {"sluice_alb_unhealthy_host_count", "gauge",
     "UnHealthyHostCount: targets failing health checks (draining ones not counted)"},
};

const struct prom_family prom_alb_target[PROM_T_N] = {
    {"sluice_alb_request_count_per_target_total", "counter",
     "RequestCountPerTarget: requests sent to the target"},
    {"sluice_alb_httpcode_target_2xx_count_total", "counter", "HTTPCode_Target_2XX_Count"},
    {"sluice_alb_httpcode_target_3xx_count_total", "counter", "HTTPCode_Target_3XX_Count"},
    {"sluice_alb_httpcode_target_4xx_count_total", "counter", "HTTPCode_Target_4XX_Count"},
    {"sluice_alb_httpcode_target_5xx_count_total", "counter", "HTTPCode_Target_5XX_Count"},
    {"sluice_alb_target_connection_error_count_total", "counter",
     "TargetConnectionErrorCount: connections to the target that failed"},
};

const struct prom_family prom_alb_response_time = {
    "sluice_alb_target_response_time_seconds", "histogram",
    "TargetResponseTime: from the request sent to the target until its response head"};

const char *const prom_rt_le[PROM_RT_BUCKETS] = {"0.001", "0.0025", "0.005", "0.01", "0.025",
                                                 "0.05",  "0.1",    "0.25",  "0.5",  "1",
                                                 "2.5",   "10",     "+Inf"};

void prom_u64(struct buf *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void prom_family(struct buf *b, const struct prom_family *f)
{
    buf_puts(b, "# HELP ");
    buf_puts(b, f->name);
    buf_putc(b, ' ');
    buf_puts(b, f->help);
    buf_puts(b, "\n# TYPE ");
    buf_puts(b, f->name);
    buf_putc(b, ' ');
    buf_puts(b, f->type);
    buf_putc(b, '\n');
}

void prom_sample(struct buf *b, const char *name, const char *labels, uint64_t v)
{
    buf_puts(b, name);
    if (labels && *labels) {
        buf_puts(b, labels);
        buf_append(b, "} ", 2);
    } else
        buf_putc(b, ' ');
    prom_u64(b, v);
    buf_putc(b, '\n');
}

void prom_histogram(struct buf *b, const char *name, const char *labels,
                    const char *const *le, int nb, const uint64_t *buckets, uint64_t sum_us,
                    uint64_t count)
{
    char sum[48];
    int k;

    for (k = 0; k < nb; k++) {
        buf_puts(b, name);
        buf_puts(b, "_bucket");
        buf_puts(b, labels && *labels ? labels : "{");
        buf_puts(b, labels && *labels ? ",le=\"" : "le=\"");
        buf_puts(b, le[k]);
        buf_append(b, "\"} ", 3);
        prom_u64(b, buckets[k]);
        buf_putc(b, '\n');
    }
    snprintf(sum, sizeof(sum), "%llu.%06llu", (unsigned long long)(sum_us / 1000000),
             (unsigned long long)(sum_us % 1000000));
    buf_puts(b, name);
    buf_puts(b, "_sum");
    if (labels && *labels) {
        buf_puts(b, labels);
        buf_putc(b, '}');
    }
    buf_putc(b, ' ');
    buf_puts(b, sum);
    buf_putc(b, '\n');
    buf_puts(b, name);
    buf_puts(b, "_count");
    prom_sample(b, "", labels, count);
}

void prom_label_value(struct buf *b, const char *s)
{
    const char *p = s;

    for (; *p; p++) {
        if (*p != '\\' && *p != '"' && *p != '\n')
            continue;
        buf_append(b, s, (size_t)(p - s));
        buf_append(b, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", 2);
        s = p + 1;
    }
    buf_append(b, s, (size_t)(p - s));
}

void prom_label(struct buf *b, const char *key, const char *value)
{
    buf_putc(b, b->len ? ',' : '{');
    buf_puts(b, key);
    buf_append(b, "=\"", 2);
    prom_label_value(b, value ? value : "");
    buf_putc(b, '"');
}
