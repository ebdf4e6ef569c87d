/*
 * scheduler.h - the ECS service scheduler: one thread of sluiced that runs
 * tasks through the task runtime and reconciles every service to its
 * desired state.
 *
 * Caveats:
 * - The thread owns the runtime; nothing else calls it.
 * - Every state change is one store_write(); reads are short read
 *   transactions that end before any process, socket or sleep.  A task's
 *   targets are registered (deregistered) in the same transaction that
 *   makes it RUNNING (DEACTIVATING), through sched_domain.h, so ELBv2
 *   semantics (drain, health from the data plane) apply unchanged.
 * - Stopping sluiced leaves tasks running: the next sluiced adopts the ones
 *   the runtime finds alive and replaces the rest.  Their targets stay
 *   registered throughout.
 * - Wake-ups: a pass at most 200 ms after the previous one ended, and at
 *   once when the store changed since the previous pass read it (an API
 *   call, or the previous pass's own writes), but never two pass starts
 *   closer than 20 ms.  Target health from the data plane is not a store
 *   change: it is seen within 200 ms.
 * - The modules: sched_pass (what a pass reads, as C structs), sched_task
 *   (a task's lifecycle step), sched_service (a service's step), with the
 *   decisions as pure functions in sched_state, sched_rollout and
 *   sched_backoff; sched_write (the transactions), sched_domain (the only
 *   door to routes/), sched_retention (stopped tasks' end).
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
