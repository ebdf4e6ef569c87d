/*
 * sched_domain.h - the scheduler's one door into the ELBv2 and ECS domain:
 * a task's targets (register, deregister, their health, the drain delay),
 * task definitions, RunTask and new deployments.
 *
 * Caveats:
 * - sched_domain.c is the only scheduler code that calls into routes/ (the
 *   others use its constants only: store kinds, name and ARN sizes).  It
 *   calls the typed ELBv2 and ECS domain functions (routes/elbv2/targets.h,
 *   tg.h, routes/ecs/task.h, taskdef.h, service.h).
 * - Target writes run inside the caller's store write transaction, so that
 *   a task's targets and the task itself change in one transaction; when one
 *   fails the caller must fail its transaction (some targets may have been
 *   written).  Reads (health, RunTask) run their own short transactions and
 *   must not be called from inside a store_write() callback.
 * - A target is an address and a host port; the address is the task's
 *   binding address, 127.0.0.1 when it binds a wildcard.
 * - Not thread-safe beyond what the store is: one scheduler thread calls it.
 */
#ifndef SL_SERVER_SCHED_DOMAIN_H
#define SL_SERVER_SCHED_DOMAIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "routes/ecs/ecs.h"
#include "routes/elbv2/elbv2.h"
#include "server/sched_rollout.h" /* enum sched_target_state */

struct app;
struct store_txn;

#define SCHED_ADDR_MAX 64

struct sched_addr {
    char ip[SCHED_ADDR_MAX];
    long port;
};

struct sched_domain {
    struct store *store; /* borrowed pointers into the app */
    struct elb_env elb;
    struct ecs_env ecs;
};

/* Fill <d> for <app> (borrowed; must outlive <d>). */
void sched_domain_init(struct sched_domain *d, struct app *app);

/* ---- target groups, inside a write transaction ---- */

/* Register <a> in group <tg_arn>.  SL_OK; SL_ENOTFOUND when the group is
 * gone (nothing written); else an error in <err> (TooManyTargets, ...). */
int sched_domain_register(const struct sched_domain *d, struct store_txn *txn,
                          const char *tg_arn, const struct sched_addr *a, struct sl_err *err);

/* Deregister <a> from <tg_arn>; it drains from <now_ms> (wall) for the
 * group's deregistration_delay.timeout_seconds, returned in *delay_s.
 * SL_OK; SL_ENOTFOUND (delay 0) when the group is gone; else an error. */
int sched_domain_deregister(const struct sched_domain *d, struct store_txn *txn,
                            const char *tg_arn, const struct sched_addr *a, uint64_t now_ms,
                            long *delay_s, struct sl_err *err);

/* ---- target groups, reads ---- */

struct sched_target_health {
    struct sched_addr addr;
    enum sched_target_state state;
    char description[160]; /* DescribeTargetHealth's, e.g. "Request timed out" */
};

/* Every target of <tg_arn> with its state, as DescribeTargetHealth shows
 * it: SL_OK with *out (malloc'd, caller frees; NULL when empty) and *n;
 * SL_ENOTFOUND when the group is gone; SL_ENOMEM. */
int sched_domain_health(struct sched_domain *d, const char *tg_arn,
                        struct sched_target_health **out, size_t *n);

/* ---- ECS ---- */

/* Non-zero if cluster <cluster>'s container instance is DRAINING
 * (routes/ecs/instances.h).  Readers. */
int sched_domain_instance_draining(struct store_txn *txn, const char *cluster);

/* The task definition <arn> (new reference), or NULL when absent. */
json_t *sched_domain_taskdef(struct store_txn *txn, const char *arn);

struct sched_run {
    const char *cluster, *task_definition, *group, *started_by, *launch_type;
    long count;          /* 1-10 */
    const char *service; /* the service's name, whose placement settings apply; NULL: none */
};

/* RunTask as the service scheduler calls it: the new tasks are PENDING
 * (PROVISIONING for awsvpc).  SL_OK with their short ids in <ids> (at least
 * <count> slots) and *n (fewer than <count> when the container instance
 * could take no more); SL_EAGAIN when it could take none (DRAINING, or out
 * of CPU or memory: the reason in <err>); else SL_ERR with the ECS error
 * in <err>. */
int sched_domain_run_tasks(struct sched_domain *d, const struct sched_run *r, char (*ids)[33],
                           size_t *n, struct sl_err *err);

/* Bring the service deployment records of service <svc> (about to be
 * stored in <txn>) in step with its deployments; <rollback_from> is the id
 * of the failed deployment when this write adds the circuit breaker's
 * rollback as the new PRIMARY, else NULL (routes/ecs/deployments.h).
 * SL_OK or SL_EIO. */
int sched_domain_service_sync(struct store_txn *txn, json_t *svc, const char *rollback_from,
                              double now);

/* A new PRIMARY deployment object (new reference) of <td_arn> for
 * <desired> tasks, IN_PROGRESS (COMPLETED when <desired> is 0). */
json_t *sched_domain_deployment(const char *td_arn, long desired, const char *launch,
                                double now);

#endif
