/*
 * sched_task.h - one task's step in a scheduler pass: start it, adopt it
 * after a restart, poll the runtime, register its targets, drain and stop
 * it, and record how it ended (the walk is in sched_state.h).
 *
 * Caveats:
 * - Scheduler thread only; the only caller of the runtime besides
 *   scheduler.c's start and stop.
 * - Each step is at most a couple of store writes, each one transaction:
 *   RUNNING and the task's targets registered; DEACTIVATING and its targets
 *   deregistered; DEPROVISIONING with exit codes (and any target left
 *   deregistered); STOPPED once the runtime released its ports.
 * - Whatever the runtime changed in the task (containers, healthStatus,
 *   pullStartedAt/pullStoppedAt, its own '_' members) is stored with the
 *   step, or alone when the step writes nothing.
 * - A service task that stops on its own counts in its deployment's
 *   failedTasks (the circuit breaker) and, when it was a failed launch
 *   (sched_backoff.h), in the service's launch throttle.
 */
#ifndef SL_SERVER_SCHED_TASK_H
#define SL_SERVER_SCHED_TASK_H

#include "server/sched_pass.h"

/* Take task <t>'s next step. */
void sched_task_step(struct sched_pass *p, struct sched_task *t);

#endif
