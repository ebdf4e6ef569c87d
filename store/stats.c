/*
 * stats.c - the store's write counters (stats.h).
 */
#include "store/stats.h"

#include <time.h>

#include "store/store_int.h"

const uint64_t store_commit_bound_us[STORE_COMMIT_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000};
const unsigned store_batch_bound[STORE_BATCH_BUCKETS - 1] = {1, 2, 4, 8, 16, 32, 64, 128};

uint64_t store_stats_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void store_stats_commit(struct store_stats *st, uint64_t us)
{
    int k;

    for (k = 0; k < STORE_COMMIT_BUCKETS - 1 && us > store_commit_bound_us[k]; k++)
        ;
    atomic_fetch_add_explicit(&st->commit_bucket[k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->commit_sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->commits, 1, memory_order_relaxed);
}

void store_stats_batch(struct store_stats *st, unsigned n)
{
    int k;

    for (k = 0; k < STORE_BATCH_BUCKETS - 1 && n > store_batch_bound[k]; k++)
        ;
    atomic_fetch_add_explicit(&st->batch_bucket[k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->batch_sum, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->batches, 1, memory_order_relaxed);
}

void store_stats_get(const struct store *s, struct store_stats_view *out)
{
    /* const in spirit: atomic loads take non-const pointers in C11 */
    struct store_stats *st = (struct store_stats *)&s->stats;
    int k;

    out->commits = atomic_load_explicit(&st->commits, memory_order_relaxed);
    out->commit_sum_us = atomic_load_explicit(&st->commit_sum_us, memory_order_relaxed);
    for (k = 0; k < STORE_COMMIT_BUCKETS; k++)
        out->commit_bucket[k] = atomic_load_explicit(&st->commit_bucket[k], memory_order_relaxed);
    out->batches = atomic_load_explicit(&st->batches, memory_order_relaxed);
    out->batch_sum = atomic_load_explicit(&st->batch_sum, memory_order_relaxed);
    for (k = 0; k < STORE_BATCH_BUCKETS; k++)
        out->batch_bucket[k] = atomic_load_explicit(&st->batch_bucket[k], memory_order_relaxed);
}
