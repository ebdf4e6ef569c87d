/*
 * drain.h - the end of a deregistration drain: the deadline passed, or
 * every proxy reports the target idle.  The drain starts in
 * elb_targets_deregister() (targets.h).
 *
 * Draining targets are found through the "drain:<deadline>:<target key>"
 * index, ordered by deadline, so finding what is due costs one index read.
 */
#ifndef SL_ROUTES_ELBV2_DRAIN_H
#define SL_ROUTES_ELBV2_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "routes/elbv2/elbv2.h"

/* Non-zero if some draining target's deadline is at or before <now_ms>
 * (wall clock).  Readers. */
int elb_drain_due(struct store_txn *txn, uint64_t now_ms);

/* Remove every draining target whose deadline is at or before <now_ms>;
 * *removed counts them.  Writers. */
int elb_drain_expire(struct store_txn *txn, const struct elb_env *env, uint64_t now_ms,
                     size_t *removed);

/* Call <cb> with the key of every draining target, in deadline order.
 * Readers. */
void elb_drain_each(struct store_txn *txn, void (*cb)(const char *target_key, void *arg),
                    void *arg);

/* End the drain of target <key> early, because every proxy reports it idle
 * and the oldest of them has applied revision <applied_rev>: removed only
 * if it is still draining and its deregistration is at or before that
 * revision (a proxy that has not seen the deregistration may still send to
 * it).  SL_OK when removed, SL_ENOTFOUND when not.  Writers. */
int elb_drain_finish(struct store_txn *txn, const struct elb_env *env, const char *key,
                     uint64_t applied_rev);

#endif
