/*
 * metrics_store.h - the store's part of GET /metrics (server/metrics.h):
 * sluice_store_commit_duration_seconds (a histogram of store_write()'s
 * latency: queued, run, durable) and sluice_store_commit_batch_size (a
 * histogram of the writes the writer committed together), from
 * store/stats.h.
 *
 * Caveats: counted since sluiced started.
 */
#ifndef SL_SERVER_METRICS_STORE_H
#define SL_SERVER_METRICS_STORE_H

#include "common/buf.h"

struct store;

/* Append the store's families for <s> (borrowed) to <out>. */
void mstore_render(const struct store *s, struct buf *out);

#endif
