/*
 * sched_state.h - an ECS task's lifecycle as the scheduler walks it: the
 * lastStatus/desiredStatus values, the stop codes, and the next step for one
 * task, decided from what the store and the runtime say about it.
 *
 * Caveats:
 * - Pure: no store, no runtime, no clock.  server/sched_task.c performs the
 *   steps (one store_write() each) and calls the runtime.
 * - The walk, as ECS shows it in DescribeTasks:
 *     PROVISIONING (awsvpc tasks, as RunTask stores them) -> PENDING
 *       -> RUNNING (containers started; targets registered in the same
 *          transaction for a service behind load balancers)
 *       -> DEACTIVATING (desiredStatus STOPPED: targets deregistered, draining)
 *       -> STOPPING (stop signal sent; the runtime kills after stopTimeout)
 *       -> DEPROVISIONING (the essential containers have exited; exit codes
 *          recorded, any target still registered is deregistered)
 *       -> STOPPED (the runtime released the task's host ports)
 *   A task that never started goes from PENDING (or PROVISIONING) straight to
 *   STOPPED: with stopCode TaskFailedToStart when its start failed, or when
 *   it was asked to stop before it started.  A runtime that starts in the
 *   background (runtime_start() says SL_EAGAIN) keeps the task PENDING, known
 *   to the runtime, until runtime_poll() says how the start ended.
 * - ACTIVATING is stored by no current code; a stored ACTIVATING task (and a
 *   RUNNING service task without "_targets", as older sluiced left them) is
 *   RUNNING whose targets are still to be registered.
 */
#ifndef SL_SERVER_SCHED_STATE_H
#define SL_SERVER_SCHED_STATE_H

/* ECS stopCode values. */
#define SCHED_STOP_FAILED_TO_START "TaskFailedToStart"
#define SCHED_STOP_ESSENTIAL_EXITED "EssentialContainerExited"
#define SCHED_STOP_USER "UserInitiated"
#define SCHED_STOP_SCHEDULER "ServiceSchedulerInitiated"

enum sched_status {
    SCHED_ST_UNKNOWN = 0,
    SCHED_ST_PROVISIONING,
    SCHED_ST_PENDING,
    SCHED_ST_ACTIVATING,
    SCHED_ST_RUNNING,
    SCHED_ST_DEACTIVATING,
    SCHED_ST_STOPPING,
    SCHED_ST_DEPROVISIONING,
    SCHED_ST_STOPPED,
};

/* Container/task healthStatus. */
enum sched_health { SCHED_HEALTH_UNKNOWN = 0, SCHED_HEALTH_HEALTHY, SCHED_HEALTH_UNHEALTHY };

/* The ECS name of <st> ("RUNNING"); "" for SCHED_ST_UNKNOWN.  Static. */
const char *sched_status_name(enum sched_status st);

/* The status named <s> (NULL or unknown: SCHED_ST_UNKNOWN). */
enum sched_status sched_status_parse(const char *s);

/* "HEALTHY", "UNHEALTHY", anything else UNKNOWN. */
enum sched_health sched_health_parse(const char *s);

/* Non-zero for PROVISIONING and PENDING: the task's containers never ran. */
int sched_status_unstarted(enum sched_status st);

/* Non-zero while the runtime runs the task: ACTIVATING to STOPPING. */
int sched_status_running(enum sched_status st);

enum sched_step {
    SCHED_STEP_NONE = 0,
    SCHED_STEP_FORGET,       /* STOPPED but the runtime still tracks it: kill and forget */
    SCHED_STEP_PROVISION,    /* PROVISIONING -> PENDING */
    SCHED_STEP_START,        /* PENDING -> RUNNING (or STOPPED, TaskFailedToStart); a
                              * runtime may go on starting in the background */
    SCHED_STEP_STARTED,      /* the background start is done: -> RUNNING */
    SCHED_STEP_START_FAILED, /* the background start failed: -> STOPPED, TaskFailedToStart */
    SCHED_STEP_CANCEL,       /* asked to stop before it started: -> STOPPED */
    SCHED_STEP_ADOPT,        /* running per the store, unknown to this runtime */
    SCHED_STEP_ACTIVATE,     /* register the targets of a RUNNING task */
    SCHED_STEP_DEACTIVATE,   /* deregister its targets: -> DEACTIVATING */
    SCHED_STEP_STOP,         /* stop signal: -> STOPPING (again after an adoption) */
    SCHED_STEP_DEPROVISION,  /* its containers exited: -> DEPROVISIONING */
    SCHED_STEP_FINISH,       /* release its ports: -> STOPPED */
};

/* What is known about one task at a step. */
struct sched_task_view {
    enum sched_status last, desired;
    int known;         /* the runtime tracks the task */
    int started;       /* runtime_poll() said RT_RUNNING */
    int exited;        /* runtime_poll() said RT_STOPPED or RT_GONE */
    int needs_targets; /* ACTIVATING, or a RUNNING service task behind load
                        * balancers without "_targets" */
    int registered;    /* it has targets in some group */
    int deregistered;  /* they were deregistered ("_drain_deadline_ms" set) */
    int drained;       /* every target has left its group, or the deadline passed */
};

/* The next step for <v>; SCHED_STEP_NONE when the task waits (draining, or
 * running as desired). */
enum sched_step sched_task_next(const struct sched_task_view *v);

#endif
