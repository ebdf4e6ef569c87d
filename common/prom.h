/*
 * prom.h - writing the Prometheus text exposition format (version 0.0.4),
 * and the data plane's metric families under ALB's CloudWatch names, which
 * sluice-proxy's GET /metrics and sluiced's aggregate of every proxy both
 * render (README "Metrics" maps each name to its CloudWatch metric).
 *
 * Caveats:
 *  - Label sets are passed as text without the closing brace
 *    ("{load_balancer=\"app/x/1\"" or NULL for none), so a histogram can
 *    add its le label; prom_labels_begin()/prom_label() build them.
 *  - Pure functions over a struct buf (poisoned on allocation failure,
 *    checked once at the end).
 */
#ifndef SL_COMMON_PROM_H
#define SL_COMMON_PROM_H

#include <stdint.h>

#include "common/buf.h"

struct prom_family {
    const char *name, *type, *help;
};

/* Per listener, labelled load_balancer and listener (vector order). */
enum {
    PROM_L_REQUESTS = 0,
    PROM_L_ELB_3XX,
    PROM_L_ELB_4XX,
    PROM_L_ELB_5XX,
    PROM_L_ELB_500,
    PROM_L_ELB_502,
    PROM_L_ELB_503,
    PROM_L_ELB_504,
    PROM_L_ACTIVE, /* a gauge */
    PROM_L_NEW,
    PROM_L_REJECTED,
    PROM_L_BYTES,
    PROM_L_RULES,
    PROM_L_N
};
extern const struct prom_family prom_alb_listener[PROM_L_N];

/* Per target group, labelled load_balancer and target_group: gauges. */
enum { PROM_G_HEALTHY = 0, PROM_G_UNHEALTHY, PROM_G_N };
extern const struct prom_family prom_alb_group[PROM_G_N];

/* Per target, labelled load_balancer, target_group and target. */
enum {
    PROM_T_REQUESTS = 0,
    PROM_T_2XX,
    PROM_T_3XX,
    PROM_T_4XX,
    PROM_T_5XX,
    PROM_T_CONN_ERRORS,
    PROM_T_N
};
extern const struct prom_family prom_alb_target[PROM_T_N];

/* TargetResponseTime, a histogram per target. */
#define PROM_RT_BUCKETS 13 /* 12 bounds and +Inf */
extern const struct prom_family prom_alb_response_time;
extern const char *const prom_rt_le[PROM_RT_BUCKETS];

void prom_family(struct buf *b, const struct prom_family *f);
/* "<name><labels>} <v>\n", or "<name> <v>\n" when <labels> is NULL. */
void prom_sample(struct buf *b, const char *name, const char *labels, uint64_t v);
/* A histogram's _bucket lines (cumulative <buckets>[0..<nb>) at the
 * bounds <le>, the last "+Inf"), _sum (<sum_us> as seconds) and _count. */
void prom_histogram(struct buf *b, const char *name, const char *labels,
                    const char *const *le, int nb, const uint64_t *buckets, uint64_t sum_us,
                    uint64_t count);
void prom_u64(struct buf *b, uint64_t v);
/* <s> escaped as a label value (\\, \", \n). */
void prom_label_value(struct buf *b, const char *s);
/* Append ',key="value"' (or '{key="value"' when <b> is empty). */
void prom_label(struct buf *b, const char *key, const char *value);

#endif
