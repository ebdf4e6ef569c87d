/*
 * stats.h - how the store's writes go, for sluiced's GET /metrics: each
 * store_write()'s latency as its caller sees it (queued, run in a batch,
 * durable: what an API write waits for), and the size of each batch the
 * writer commits together (group commit).
 *
 * Caveats:
 *  - Counters only (relaxed atomics, no lock): a reader may see a bucket
 *    counted before the sum that goes with it; Prometheus tolerates it.
 *  - Counted since the store was opened; nothing is persisted.
 */
#ifndef SL_STORE_STATS_H
#define SL_STORE_STATS_H

#include <stdatomic.h>
#include <stdint.h>

struct store;

#define STORE_COMMIT_BUCKETS 12 /* 11 bounds and +Inf */
#define STORE_BATCH_BUCKETS 9   /* 8 bounds and +Inf */

extern const uint64_t store_commit_bound_us[STORE_COMMIT_BUCKETS - 1];
extern const unsigned store_batch_bound[STORE_BATCH_BUCKETS - 1];

struct store_stats {
    atomic_uint_fast64_t commits, commit_sum_us, commit_bucket[STORE_COMMIT_BUCKETS];
    atomic_uint_fast64_t batches, batch_sum, batch_bucket[STORE_BATCH_BUCKETS];
};

/* A plain copy of the counters (buckets not cumulative). */
struct store_stats_view {
    uint64_t commits, commit_sum_us, commit_bucket[STORE_COMMIT_BUCKETS];
    uint64_t batches, batch_sum, batch_bucket[STORE_BATCH_BUCKETS];
};

/* The store's writer and store_write() (store/ only). */
void store_stats_commit(struct store_stats *st, uint64_t us);
void store_stats_batch(struct store_stats *st, unsigned n);
uint64_t store_stats_now_us(void);

/* The counters of open store <s> into *out. */
void store_stats_get(const struct store *s, struct store_stats_view *out);

#endif
