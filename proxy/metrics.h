/*
 * metrics.h - the data plane's counters, under ALB's CloudWatch metric names
 * (README "Metrics"): per listener (RequestCount, HTTPCode_ELB_*,
 * connections, ProcessedBytes, RuleEvaluations) and per target
 * (RequestCountPerTarget, HTTPCode_Target_*, TargetResponseTime,
 * TargetConnectionErrorCount), rendered as Prometheus text (metrics_render.c)
 * and sent in the reports (metrics_report.c).
 *
 * Caveats:
 *  - Counting never locks: every cell has one slot per worker, each slot on
 *    its own cache lines and written by its worker alone with relaxed
 *    atomic loads and stores (no read-modify-write instruction).  Readers
 *    (the renderer, the reporter) sum the slots; a sum may miss increments
 *    made while it is taken, never sees a torn value.
 *  - pxm_init() is configuration: called once, before the first cell and
 *    the first worker, with the number of workers.
 *  - A listener's cell outlives the listener part that points to it: cells
 *    are kept by listener id while any part or connection holds them, so a
 *    rebuilt listener keeps counting where the old one stopped.  A target's
 *    counters live in its px_target record (pxm_target_new()), which lives
 *    as long as the target stays registered.  What leaves the table leaves
 *    the metrics: the renderer only walks the current table.
 *  - Thread-safety: pxm_listener_get/put from any thread (a mutex, taken
 *    when parts are built and freed, never per request); the slot accessors
 *    from the owning worker only.
 */
#ifndef SL_PROXY_METRICS_H
#define SL_PROXY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* TargetResponseTime histogram: upper bounds in seconds, +Inf implied. */
#define PXM_NBUCKETS 12
extern const double pxm_bucket_le[PXM_NBUCKETS];

typedef _Atomic uint64_t pxm_counter;

/* One worker's counts of one listener. */
struct pxm_lslot {
    pxm_counter requests;   /* RequestCount */
    pxm_counter new_conns;  /* NewConnectionCount */
    pxm_counter rejected;   /* RejectedConnectionCount */
    pxm_counter closed;     /* ActiveConnectionCount = new_conns - closed */
    pxm_counter bytes;      /* ProcessedBytes */
    pxm_counter rule_evals; /* RuleEvaluations */
    pxm_counter elb[3];     /* HTTPCode_ELB_3XX/4XX/5XX_Count */
    pxm_counter elb5xx[4];  /* HTTPCode_ELB_500/502/503/504_Count */
} __attribute__((aligned(64)));

/* One worker's counts of one target. */
struct pxm_tslot {
    pxm_counter requests;    /* RequestCountPerTarget */
    pxm_counter target[4];   /* HTTPCode_Target_2XX..5XX_Count */
    pxm_counter conn_errors; /* TargetConnectionErrorCount */
    pxm_counter rt_count;    /* TargetResponseTime: observations, */
    pxm_counter rt_sum_us;   /* their sum in microseconds, */
    pxm_counter rt_bucket[PXM_NBUCKETS + 1]; /* and per bucket (not cumulative) */
} __attribute__((aligned(64)));

/* Sums over the workers, for readers. */
struct pxm_lsum {
    uint64_t requests, new_conns, rejected, active, bytes, rule_evals;
    uint64_t elb[3], elb5xx[4];
};
struct pxm_tsum {
    uint64_t requests, target[4], conn_errors, rt_count, rt_sum_us;
    uint64_t rt_bucket[PXM_NBUCKETS + 1]; /* cumulative, as Prometheus wants */
};

struct pxm_listener;

/* The counters of a target record. */
struct pxm_target {
    struct pxm_tslot *slots; /* pxm_nworkers() of them */
};

/* Configuration: the number of worker slots of every cell (1..64). */
void pxm_init(int nworkers);
int pxm_nworkers(void);

/* The cell of listener <id>, created at zero if none is kept (one new
 * reference), or NULL on allocation failure. */
struct pxm_listener *pxm_listener_get(const char *id);
void pxm_listener_ref(struct pxm_listener *m);
/* Drop a reference; the last one forgets the cell.  NULL is a no-op. */
void pxm_listener_put(struct pxm_listener *m);
/* Worker <w>'s slot of <m>. */
struct pxm_lslot *pxm_lslot(struct pxm_listener *m, int w);
void pxm_listener_sum(const struct pxm_listener *m, struct pxm_lsum *out);

/* Zeroed target counters: 0 or SL_ENOMEM.  pxm_target_free() releases
 * them (a zeroed struct is a no-op). */
int pxm_target_init(struct pxm_target *t);
void pxm_target_free(struct pxm_target *t);
void pxm_target_sum(const struct pxm_target *t, struct pxm_tsum *out);

/* The part of <arn> after <after> ("loadbalancer/" gives a load balancer's
 * CloudWatch dimension "app/NAME/ID"; "" gives what follows the last ':'),
 * or the whole ARN when <after> is not in it, into <out>. */
void pxm_arn_resource(const char *arn, const char *after, char *out, size_t cap);

/* The histogram bucket of a response time of <us> microseconds. */
int pxm_bucket_of(uint64_t us);

/* Increment a counter of the caller's own slot: a plain load and store. */
static inline void pxm_add(pxm_counter *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t pxm_get(const pxm_counter *c)
{
    return atomic_load_explicit((pxm_counter *)c, memory_order_relaxed);
}

#endif
