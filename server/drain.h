/*
 * drain.h - the drain finalizer: a thread of sluiced that removes draining
 * targets once their deregistration delay has passed.
 */
#ifndef SL_SERVER_DRAIN_H
#define SL_SERVER_DRAIN_H

#include "common/err.h"

struct store;
struct drainer;

/* Start the finalizer over <s>, checking every <period_ms>. */
int drain_start(struct store *s, int period_ms, struct drainer **out);

/* Stop and join the thread.  NULL is a no-op. */
void drain_stop(struct drainer *d);

#endif
