/*
 * runtime.h - the task runtime: starts the containers of an ECS task, reports
 * their state, stops them, and adopts them again after sluiced restarts.
 *
 * Caveats:
 * - Not thread-safe: one runtime belongs to the scheduler thread, which is
 *   the only caller.  No call blocks (on a child process or a container
 *   engine); runtime_poll() does the waiting, one non-blocking step per
 *   call.  A runtime whose start takes time (the docker runtime's engine
 *   calls take 0.03-0.5 s each) starts in the background: runtime_start()
 *   answers SL_EAGAIN and runtime_poll() RT_STARTING until it is done.
 * - The runtime works on the stored task object (the ECS Task shape plus
 *   '_' members), changing it in place: containers[].lastStatus, runtimeId,
 *   networkBindings, exitCode, reason, healthStatus, logs; the task's
 *   healthStatus; and internal members ("_pid", "_start", "_pgid") that let
 *   a later sluiced adopt the processes.  The caller stores the result.
 * - Host ports are held from runtime_start() until the task is forgotten
 *   (runtime_forget()), so two tasks never get the same port.
 * - An implementation embeds struct runtime first and fills <ops>; the
 *   inline wrappers below dispatch.  "process" (runtime_process.c) runs
 *   containers as host processes; "docker" (runtime_docker.h) runs them
 *   through the Docker Engine API.
 */
#ifndef SL_SERVER_RUNTIME_H
#define SL_SERVER_RUNTIME_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

enum rt_state { RT_GONE = 0, RT_RUNNING = 1, RT_STOPPED = 2, RT_STARTING = 3 };

struct runtime;

struct runtime_ops {
    const char *name;
    int (*start)(struct runtime *rt, const char *key, json_t *task, json_t *td, char *reason,
                 size_t rlen);
    int (*adopt)(struct runtime *rt, const char *key, json_t *task, json_t *td);
    int (*poll)(struct runtime *rt, const char *key, json_t *task, int *changed);
    int (*stop)(struct runtime *rt, const char *key);
    void (*forget)(struct runtime *rt, const char *key, int kill_now);
    int (*known)(struct runtime *rt, const char *key);
    void (*free)(struct runtime *rt);
};

struct runtime {
    const struct runtime_ops *ops;
};

struct runtime_config {
    const char *tasks_dir; /* work dirs and logs in <tasks_dir>/<task id>/<container>/ */
    int port_lo, port_hi; /* dynamic host ports, inclusive */
};

/* The host-process runtime.  SL_OK with *out, or SL_ENOMEM. */
int runtime_process_new(const struct runtime_config *cfg, struct runtime **out);

/* Start every container of <task> (stored object, changed in place) per
 * task definition <td> (borrowed).  <key> is the task's store id.  SL_OK:
 * the task is RUNNING.  SL_ERR: nothing is left running or held, and
 * <reason> says why (for stoppedReason).  SL_EAGAIN: the start goes on in
 * the background and the task stays PENDING; runtime_poll() answers
 * RT_STARTING meanwhile, then RT_RUNNING with *changed (containers,
 * networkBindings, runtimeId filled in) or RT_STOPPED with the task's
 * stopCode (TaskFailedToStart) and stoppedReason set.  Calling it again
 * for a task still starting answers SL_EAGAIN and changes nothing. */
static inline int runtime_start(struct runtime *rt, const char *key, json_t *task, json_t *td,
                                char *reason, size_t rlen)
{
    return rt->ops->start(rt, key, task, td, reason, rlen);
}

/* Take over a task a previous sluiced started, from the "_pid"/"_start"
 * members of its containers.  Returns RT_RUNNING when its essential
 * containers are still alive (same pid and start time), else RT_STOPPED
 * with <task> updated (exit codes unknown).  <td> (borrowed, may be NULL)
 * brings back the containers' health checks. */
static inline int runtime_adopt(struct runtime *rt, const char *key, json_t *task, json_t *td)
{
    return rt->ops->adopt(rt, key, task, td);
}

/* One non-blocking step: reap exited containers, run due health checks,
 * escalate a stop to SIGKILL after stopTimeout.  Returns RT_RUNNING,
 * RT_STOPPED (every container has exited; an essential container's exit
 * stops the others first), RT_STARTING (a background start is under way,
 * see runtime_start) or RT_GONE (unknown key).  *changed is set when
 * <task> was updated. */
static inline int runtime_poll(struct runtime *rt, const char *key, json_t *task, int *changed)
{
    return rt->ops->poll(rt, key, task, changed);
}

/* Begin stopping: SIGTERM to the task's process group; SIGKILL follows
 * after the containers' stopTimeout (default 30 s).  Idempotent. */
static inline int runtime_stop(struct runtime *rt, const char *key)
{
    return rt->ops->stop(rt, key);
}

/* Drop the task from memory and release its ports; with <kill_now>, SIGKILL
 * its process group first. */
static inline void runtime_forget(struct runtime *rt, const char *key, int kill_now)
{
    rt->ops->forget(rt, key, kill_now);
}

/* Non-zero if the runtime tracks task <key>. */
static inline int runtime_known(struct runtime *rt, const char *key)
{
    return rt->ops->known(rt, key);
}

/* Forget every task without stopping it (they keep running for the next
 * sluiced to adopt).  NULL is a no-op. */
static inline void runtime_free(struct runtime *rt)
{
    if (rt)
        rt->ops->free(rt);
}

#endif
