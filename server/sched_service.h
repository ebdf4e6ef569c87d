/*
 * sched_service.h - one service's step in a scheduler pass: describe it to
 * the rollout decision (sched_rollout.h), then carry out the actions it
 * returns: mark tasks to stop, start tasks through RunTask, and store the
 * counts, deployments and events in one transaction.
 *
 * Caveats:
 * - Runs after every task's step in the pass, so it sees this pass's
 *   failures and the tasks that stopped.
 * - A task marked to stop here is deregistered, drained and stopped by its
 *   own steps in the passes that follow (sched_task.h).
 * - The service is written only when something changed: counts, a
 *   deployment, an event.
 */
#ifndef SL_SERVER_SCHED_SERVICE_H
#define SL_SERVER_SCHED_SERVICE_H

#include "server/sched_pass.h"

/* Take service <s>'s step (s is one of p->svcs). */
void sched_service_step(struct sched_pass *p, struct sched_service *s);

/* Store the events of services the pass did not step (a task of a deleted
 * service, say). */
void sched_service_other_events(struct sched_pass *p);

#endif
