/*
 * task.h - tasks: RunTask, StopTask, ListTasks, DescribeTasks.
 *
 * RunTask stores task records in PROVISIONING (awsvpc) or PENDING with
 * desiredStatus RUNNING; the scheduler's task runtime picks them up, starts
 * their containers and moves lastStatus on (RUNNING, then STOPPED with exit
 * codes).  StopTask sets desiredStatus STOPPED for the runtime to act on; a
 * task that never started (still PROVISIONING/PENDING) has nothing to stop,
 * so it is STOPPED here at once with its stoppedReason.  Results are AWS
 * Task objects (new references), tags included.
 */
#ifndef SL_ROUTES_ECS_TASK_H
#define SL_ROUTES_ECS_TASK_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

#define ECS_RUN_TASK_MAX 10

struct ecs_run_spec {
    const char *cluster;       /* a valid cluster name */
    const char *td_ref;
    long count;                /* 1-10 */
    const char *group;         /* 1-255 characters; NULL: "family:<family>" */
    const char *started_by;    /* at most 128 characters; may be NULL */
    enum ecs_launch_type launch;
    json_t *overrides;         /* kept verbatim; may be NULL */
    const struct ecs_tag *tags;
    size_t ntags;
    json_t *strategy;          /* capacityProviderStrategy, checked against the
                                  providers only; NULL: launch type */
    const char *instance;      /* StartTask: the container instance named; NULL: RunTask */
    const char *reference_id;  /* referenceId; may be NULL */
    int launch_given;          /* launchType was given (else a default strategy applies) */
    int managed_tags;          /* enableECSManagedTags: aws:ecs:clusterName (and
                                  aws:ecs:serviceName for a service's tasks) */
    int propagate_td;          /* propagateTags TASK_DEFINITION: its tags too */
    const char *platform;      /* platformVersion, recorded; may be NULL */
    const char *client_token;  /* clientToken: the same token answers the same tasks */
    json_t *network;           /* networkConfiguration, recorded; may be NULL */
    json_t *extra_tags;        /* [{key,value}] added (a service's, propagateTags SERVICE) */
};

/* Count, group, startedBy, tags.  Pure. */
int ecs_run_check(const struct ecs_run_spec *s, struct sl_err *err);

/* RunTask / StartTask (<s> checked): the task definition must be ACTIVE
 * and runnable here, a strategy's providers associated with the cluster
 * (else the cluster's default strategy applies when no launch type was
 * given), and each task is placed on the cluster's container instance
 * (instances.h).  *out: {tasks, failures}, a failure for each task that
 * could not be placed.  Writers. */
int ecs_tasks_run(struct store_txn *txn, const struct ecs_env *env, const struct ecs_run_spec *s,
                  json_t **out, struct sl_err *err);

/* StopTask <ref> (a task id or ARN) of <cluster> with <reason> (at most 255
 * characters; NULL: "Task stopped by user").  *out: the task.  Writers. */
int ecs_task_stop(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                  const char *ref, const char *reason, json_t **out, struct sl_err *err);

/* ListTasks filters; NULL members do not filter. */
struct ecs_task_filter {
    const char *family;
    const char *service;       /* name or ARN */
    const char *started_by;
    const char *launch;
    const char *desired;       /* "RUNNING" unless told otherwise, as on ECS */
    const char *instance;      /* containerInstance: tasks placed on it (not Fargate's) */
};

/* ListTasks: *out the ARNs of the tasks of <cluster> that pass <f>. */
int ecs_tasks_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                   const struct ecs_task_filter *f, json_t **out, struct sl_err *err);

/* DescribeTasks of <refs> in <cluster>: *out {tasks, failures}. */
int ecs_tasks_describe(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                       const char *const *refs, size_t n, int with_tags, json_t **out,
                       struct sl_err *err);

#endif
