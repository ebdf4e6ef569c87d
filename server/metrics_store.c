/*
 * metrics_store.c - the store's commit latency and batch sizes as
 * Prometheus histograms (metrics_store.h).
 */
#include "server/metrics_store.h"

#include <stdio.h>

#include "common/prom.h"
#include "store/stats.h"

static const char *const commit_le[STORE_COMMIT_BUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",   "0.025",   "0.05",   "0.1",   "1",      "+Inf"};

void mstore_render(const struct store *s, struct buf *out)
{
    static const struct prom_family commit = {
        "sluice_store_commit_duration_seconds", "histogram",
        "store writes from queued to durable (what an API write waits for)"};
    static const struct prom_family batch = {
        "sluice_store_commit_batch_size", "histogram",
        "writes the store's writer committed together (group commit)"};
    struct store_stats_view v;
    uint64_t cum = 0;
    int k;

    store_stats_get(s, &v);
    for (k = 1; k < STORE_COMMIT_BUCKETS; k++)
        v.commit_bucket[k] += v.commit_bucket[k - 1];
    prom_family(out, &commit);
    prom_histogram(out, commit.name, NULL, commit_le, STORE_COMMIT_BUCKETS, v.commit_bucket,
                   v.commit_sum_us, v.commits);
    /* a count, not seconds: its _sum is written here rather than by
     * prom_histogram(), which writes microseconds as seconds */
    prom_family(out, &batch);
    for (k = 0; k < STORE_BATCH_BUCKETS; k++) {
        cum += v.batch_bucket[k];
        if (k < STORE_BATCH_BUCKETS - 1)
            buf_printf(out, "%s_bucket{le=\"%u\"} %llu\n", batch.name, store_batch_bound[k],
                       (unsigned long long)cum);
        else
            buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", batch.name,
                       (unsigned long long)cum);
    }
    buf_printf(out, "%s_sum %llu\n%s_count %llu\n", batch.name,
               (unsigned long long)v.batch_sum, batch.name, (unsigned long long)v.batches);
}
