/*
 * counters.h - the writer's in-memory counters (store_counter_get/set()),
 * and the undo log that takes back what a failed mutation set.
 *
 * Caveats:
 * - Writer thread only: no locks.
 * - Nothing is persisted; after a restart or a failed commit every counter
 *   is gone, and callers derive their figures again.
 */
#ifndef SL_STORE_COUNTERS_H
#define SL_STORE_COUNTERS_H

#include <stdint.h>

struct store_counters;
struct store_undo;

/* SL_OK or SL_ENOMEM.  *_free(NULL) is a no-op. */
int store_counters_new(struct store_counters **out);
void store_counters_free(struct store_counters *c);
/* Forget every counter (a batch was lost). */
void store_counters_clear(struct store_counters *c);

/* An undo log, reused mutation after mutation: store_undo_reset() before
 * each, store_undo_apply() to put back, newest first, every counter set
 * since. */
int store_undo_new(struct store_undo **out);
void store_undo_free(struct store_undo *u);
void store_undo_reset(struct store_undo *u);
void store_undo_apply(struct store_undo *u, struct store_counters *c);

#endif
