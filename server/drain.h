/*
 * drain.h - the drain finalizer: a thread of sluiced that removes draining
 * targets once their deregistration delay has passed (elb_drain_expire()),
 * and drops reported health that no target owns any more
 * (elb_targets_sweep()).  The early end of a drain, when every proxy
 * reports a target idle, is the report handler's (dp_report.h).
 */
#ifndef SL_SERVER_DRAIN_H
#define SL_SERVER_DRAIN_H

#include "common/err.h"

struct store;
struct elb_health;
struct drainer;

/* Start the finalizer over <s> and <health> (may be NULL), checking every
 * <period_ms>.  Both are borrowed until drain_stop(). */
int drain_start(struct store *s, struct elb_health *health, int period_ms, struct drainer **out);

/* Stop and join the thread.  NULL is a no-op. */
void drain_stop(struct drainer *d);

#endif
