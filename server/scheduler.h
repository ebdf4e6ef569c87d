/*
 * scheduler.h - the ECS service scheduler: one thread of sluiced that runs
 * tasks through the task runtime and reconciles every service to its
 * desired state.
 *
 * Caveats:
 * - The thread owns the runtime; nothing else calls it.
 * - Every state change is one store_write(); reads are short read
 *   transactions that end before any process, socket or sleep.  Target
 *   registration goes through the ELBv2 operations (RegisterTargets,
 *   DeregisterTargets, DescribeTargetHealth), so ELBv2 semantics (drain,
 *   health from the data plane) apply unchanged.
 * - Stopping sluiced leaves tasks running: the next sluiced adopts the ones
 *   whose processes are still alive (pid and start time match) and replaces
 *   the rest.  Their targets stay registered throughout.
 * - One pass every 200 ms, or sooner after a change to the store.
 */
#ifndef SL_SERVER_SCHEDULER_H
#define SL_SERVER_SCHEDULER_H

#include "common/err.h"

struct app;
struct scheduler;

/* Start the scheduler for <app> (borrowed; must outlive the scheduler),
 * with the runtime named in its configuration.  SL_OK with *out. */
int scheduler_start(struct app *app, struct scheduler **out, struct sl_err *err);

/* Stop and join the thread; tasks keep running.  NULL is a no-op. */
void scheduler_stop(struct scheduler *s);

#endif
