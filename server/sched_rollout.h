/*
 * sched_rollout.h - what one scheduler pass does to one ECS service, decided
 * as a pure function: a description of the service in, a list of actions out.
 *
 * Caveats:
 * - Pure: no store, no runtime, no clock (the input carries "now"), no I/O.
 *   server/sched_service.c builds the input from the store and the target
 *   groups' health and applies the actions.
 * - The rules, ECS's:
 *   - A task is healthy (counts toward minimumHealthyPercent) when it is
 *     RUNNING and wanted, its healthStatus is HEALTHY if an essential
 *     container has a health check (else not UNHEALTHY), and behind load
 *     balancers its target is `healthy` (or `unavailable`: checks disabled)
 *     in every group.
 *   - healthCheckGracePeriodSeconds from startedAt: failed container and ELB
 *     health checks are ignored; after it, a task UNHEALTHY or `unhealthy` in
 *     a group is stopped (it counts as failed) and replaced.
 *   - Tasks are started for the PRIMARY deployment (deps[0]) up to
 *     desiredCount, within maximumPercent of it counting every wanted task
 *     (at most 10 per pass, RunTask's limit), unless the launch throttle
 *     says wait.  Surplus PRIMARY tasks (scale-down), and tasks of older
 *     deployments, are stopped, unhealthy ones first, healthy ones only while
 *     the healthy count stays at ceil(desired * minimumHealthyPercent / 100);
 *     among equals the newest goes first.  Stopping means: deregister, drain,
 *     then stop (server/sched_task.c).
 *   - Circuit breaker: while the PRIMARY deployment is IN_PROGRESS, when its
 *     failed tasks reach min(max(ceil(desired / 2), 3), 200) it is FAILED and
 *     starts no more tasks; with rollback, the newest older deployment that
 *     completed (else the newest that did not fail) is deployed again.
 *   - An older deployment without tasks is retired; a FAILED one stays
 *     listed while the rollback that replaced it is IN_PROGRESS.  The PRIMARY
 *     deployment COMPLETES when it is the only one left (FAILED ones apart),
 *     all of its desiredCount tasks are healthy and nothing was started or
 *     stopped in the pass.
 *   - "(service NAME) has reached a steady state." once the service is
 *     settled, again only after something changed.
 *   - While the container instance is DRAINING, every task is one to
 *     replace, like an older deployment's: stopped within
 *     minimumHealthyPercent.  Its replacements cannot be placed (RunTask
 *     refuses a DRAINING instance), so with one instance the service keeps
 *     ceil(desired * minimumHealthyPercent / 100) tasks until it is ACTIVE
 *     again.
 * - Events naming things that exist only once applied (the tasks RunTask
 *   creates, a rollback's deployment id) are the applier's to write.
 */
#ifndef SL_SERVER_SCHED_ROLLOUT_H
#define SL_SERVER_SCHED_ROLLOUT_H

#include <stddef.h>

#include "server/sched_state.h"

#define SCHED_MAX_LBS 5     /* loadBalancers per service (CreateService's limit) */
#define SCHED_START_MAX 10  /* tasks per RunTask */
#define SCHED_TEXT_MAX 1024 /* an event or reason, NUL included */

enum sched_rollout_state {
    SCHED_ROLLOUT_NONE = 0,
    SCHED_ROLLOUT_IN_PROGRESS,
    SCHED_ROLLOUT_COMPLETED,
    SCHED_ROLLOUT_FAILED,
};

/* A target's state in one group, as DescribeTargetHealth shows it;
 * SCHED_TARGET_NONE when the task has no target there. */
enum sched_target_state {
    SCHED_TARGET_NONE = 0,
    SCHED_TARGET_INITIAL,
    SCHED_TARGET_HEALTHY,
    SCHED_TARGET_UNHEALTHY,
    SCHED_TARGET_UNUSED,
    SCHED_TARGET_DRAINING,
    SCHED_TARGET_UNAVAILABLE,
};

/* "IN_PROGRESS" etc. to the enum (unknown: NONE), and back (static). */
enum sched_rollout_state sched_rollout_parse(const char *s);
const char *sched_rollout_name(enum sched_rollout_state st);
/* "healthy" etc. to the enum (NULL or unknown: NONE). */
enum sched_target_state sched_target_parse(const char *s);

struct sched_rollout_dep {
    const char *id;                   /* ecs-svc/... */
    enum sched_rollout_state rollout;
    long failed;                      /* failedTasks, with failures found this pass */
};

struct sched_rollout_task {
    const char *id;                   /* short task id, for events */
    int dep;                          /* index into deps; -1: none of them */
    enum sched_status last, desired;
    double created_at, started_at;    /* epoch seconds; 0: not yet */
    enum sched_health health;         /* the task's healthStatus */
    int health_checked;               /* an essential container has a health check */
    enum sched_target_state target[SCHED_MAX_LBS]; /* per loadBalancers[i] */
    const char *target_reason[SCHED_MAX_LBS]; /* its health description there
                                               * (DescribeTargetHealth's), or NULL */
    long port[SCHED_MAX_LBS];         /* its host port there */
};

struct sched_rollout_in {
    const char *name;                 /* serviceName */
    double now;                       /* epoch seconds */
    int draining;                     /* status DRAINING: desired 0 */
    int instance_draining;            /* the container instance is DRAINING: every task is
                                         to be replaced, within minimumHealthyPercent */
    long desired, max_percent, min_healthy_percent, grace_s;
    int cb_enable, cb_rollback;       /* deploymentCircuitBreaker */
    int may_launch;                   /* the launch throttle allows starts now */
    int steady;                       /* the last steady-state event still holds */
    int had_events;                   /* events about it were added this pass */
    size_t nlbs;
    const char *lb_tg[SCHED_MAX_LBS]; /* loadBalancers[i].targetGroupArn */
    size_t ndeps;                     /* >= 1; deps[0] is PRIMARY */
    const struct sched_rollout_dep *deps;
    size_t ntasks;                    /* the service's tasks that are not STOPPED */
    const struct sched_rollout_task *tasks;
};

enum sched_action_kind {
    SCHED_ACT_START,    /* start <n> tasks for deployment <dep> */
    SCHED_ACT_STOP,     /* deregister, drain and stop task <task>: <stop_code>, reason <text> */
    SCHED_ACT_ROLLOUT,  /* set deployment <dep>'s rolloutState <rollout>, reason <text> */
    SCHED_ACT_TRIP,     /* the circuit breaker failed deployment <dep>: reason <text> */
    SCHED_ACT_ROLLBACK, /* a new PRIMARY deployment of deployment <dep>'s task definition */
    SCHED_ACT_RETIRE,   /* remove deployment <dep> (its tasks are gone) */
    SCHED_ACT_EVENT,    /* add the service event <text> */
};

struct sched_action {
    enum sched_action_kind kind;
    int dep;
    size_t task;
    long n;
    enum sched_rollout_state rollout;
    const char *stop_code;            /* static */
    int failed;                       /* STOP: the task counts as failed */
    char text[SCHED_TEXT_MAX];
};

struct sched_rollout_dep_out {
    long running, pending;            /* its tasks RUNNING, PENDING/PROVISIONING/ACTIVATING */
    long desired;                     /* PRIMARY: desiredCount; others: tasks still wanted */
    long failed;                      /* failedTasks to store */
};

struct sched_plan {
    struct sched_action *acts;        /* in the order to apply them */
    size_t nacts, cap;
    struct sched_rollout_dep_out *deps; /* one per input deployment */
    long running, pending;            /* the service's counts */
    int steady;                       /* the steady-state flag to store */
    int inactive;                     /* DRAINING and no task left: INACTIVE */
    int changed;                      /* something was started, stopped or decided */
};

/* Decide the pass for <in> (borrowed; strings must outlive <out>) into <out>
 * (caller-owned, filled here; free with sched_plan_free()).  SL_OK, or
 * SL_ENOMEM (then <out> holds nothing to free) or SL_EINVAL (no deployment). */
int sched_rollout_decide(const struct sched_rollout_in *in, struct sched_plan *out);

/* Free what <p> holds; safe on a zeroed plan. */
void sched_plan_free(struct sched_plan *p);

/* min(max(ceil(desired / 2), 3), 200): failed tasks that trip the breaker. */
long sched_breaker_threshold(long desired);

#endif
