/*
 * runtime_process_int.h - what the process runtime's files share: a task's
 * containers as host processes, and how one is made (runtime_process_spawn.c:
 * its environment, cgroups, shim and health check).  Not for other modules.
 *
 * Caveats:
 * - The runtime is driven from the scheduler's thread only: nothing here
 *   locks.
 */
#ifndef SL_SERVER_RUNTIME_PROCESS_INT_H
#define SL_SERVER_RUNTIME_PROCESS_INT_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/runtime.h"
#include "server/task_cgroup.h"
#include "server/task_dir.h"

#define RT_MAX_CONTAINERS 10
#define RT_MAX_PORTS 64
#define RT_DEFAULT_STOP_MS 30000
#define RT_DEFAULT_START_MS 180000 /* how long dependsOn may hold a container back */

enum rp_cond { RP_START = 0, RP_COMPLETE, RP_SUCCESS, RP_HEALTHY };

struct rt_ctr {
    char name[256];
    pid_t pid;
    unsigned long long start; /* /proc start time, clock ticks since boot */
    int essential, child, exited;
    int started;              /* its process was spawned (dependsOn may hold it back) */
    struct {
        int idx, cond;        /* the container waited on; enum rp_cond */
    } deps[RT_MAX_CONTAINERS];
    int ndeps;
    long start_ms;            /* startTimeout: its dependencies hold within this */
    json_t *bindings;         /* its networkBindings */
    int code; /* -1: unknown */
    int oom;  /* the kernel's OOM killer ended it */
    char **envp;
    char **opts; /* the shim's (task_exec.h), also its health check's; NULL: none */
    char cwd[2048];
    /* health check */
    char **hc_argv;
    long hc_interval_ms, hc_timeout_ms, hc_retries;
    uint64_t hc_grace_until, hc_next, hc_deadline;
    pid_t hc_pid;
    int hc_fails;
    const char *hc_status; /* UNKNOWN | HEALTHY | UNHEALTHY */
};

struct rt_task {
    struct rt_task *next;
    char key[512];
    pid_t pgid;
    int n;
    struct rt_ctr c[RT_MAX_CONTAINERS];
    int ports[RT_MAX_PORTS];
    int nports;
    int stopping, killed;
    uint64_t kill_at;
    long stop_ms;
    char cgroup[TASK_CGROUP_PATH_MAX]; /* "" when the runtime makes no cgroups */
    int starting;                      /* containers wait on dependsOn (RT_STARTING) */
    uint64_t created_ms;               /* when the start began */
    json_t *td;                        /* its definition, while starting */
};

struct rt_process {
    struct runtime base; /* first */
    char tasks_dir[1024];
    int lo, hi, cursor;
    unsigned char held[65536];
    struct rt_task *tasks;
    struct task_cgroups cg;     /* task cgroups, or why not */
    char owner[TASK_DIR_OWNER_LEN + 1];
    char self_exe[1024];        /* sluiced, the shim of task_exec.h; "" if unknown */
};

/* ---- runtime_process_deps.c ---- */

extern const char *const rp_cond_names[]; /* by enum rp_cond: "START", ... */

/* Container <i>'s dependsOn (in <td>) into t->c[i], and its startTimeout:
 * SL_OK, or SL_ERR with <reason> (CannotCreateContainerError) for one on
 * no other container of the task, an unknown condition, HEALTHY on one
 * without a healthCheck, COMPLETE or SUCCESS on an essential one. */
int rp_plan_deps(struct rt_task *t, int i, json_t *td, char *reason, size_t rlen);

/* 1 if the containers' dependencies form a cycle. */
int rp_has_cycle(const struct rt_task *t);

/* 1: dependency <j> of container <c> of <t> holds, 0: not yet, -1: it
 * never will. */
int rp_dep_state(const struct rt_task *t, const struct rt_ctr *c, int j);

/* ---- runtime_process_spawn.c ---- */

/* Free a NULL-terminated vector of malloc'd strings; NULL is a no-op. */
void rp_strv_free(char **v);

/* Append the strings of JSON array <a> (may be NULL) to <v> of length *n. */
char **rp_strv_add_json(char **v, size_t *n, json_t *a);

/* The environment of container definition <cd> (and its override <ov>)
 * with its ports <bindings>, over sluiced's own; NULL, with <reason>, when
 * one of its files or secrets cannot be read. */
char **rp_container_env(json_t *cd, json_t *ov, json_t *bindings, char *reason, size_t rlen);

/* The cgroup of the <i>th container of <t> (<cd>, override <ov>) into
 * <out>, made and bounded, and the task's own before the first: "" when
 * this runtime makes none. */
int rp_cgroups_for(struct rt_process *p, struct rt_task *t, int i, json_t *task, json_t *cd,
                   json_t *ov, char *out, size_t cap, char *reason, size_t rlen);

/* The shim's options (task_exec.h) for container definition <cd> in
 * cgroup <cg> ("" for none): its cgroup, its ulimits, its user.  *out NULL
 * when it needs none; SL_ERR (*out NULL) with <reason> for a setting this
 * host cannot apply. */
int rp_shim_opts(struct rt_process *p, const char *cg, json_t *cd, char ***out, char *reason,
                 size_t rlen);

/* posix_spawnp <argv> with <envp> in <cwd>, output to <out>/<errp> (NULL:
 * /dev/null), in process group <pgid> (0: a new group led by the child);
 * with shim options <opts> (NULL for none: task_exec.h) through the shim
 * <self_exe>, which execs <argv> once it has applied them.  SL_OK with
 * *pid, or SL_ERR with <reason>. */
int rp_spawn(const char *self_exe, char **opts, char **argv, char **envp, const char *cwd,
             const char *out, const char *errp, pid_t pgid, pid_t *pid, char *reason,
             size_t rlen);

/* Set up container <c>'s health check from definition <cd> (none: its
 * status stays UNKNOWN), the first one due at <now>. */
void rp_hc_setup(struct rt_ctr *c, json_t *cd, uint64_t now);

/* Advance <c>'s health check at <now>: reap the running one, start the
 * next when due (through the shim <self_exe>, as the container runs). */
void rp_hc_step(const char *self_exe, struct rt_ctr *c, uint64_t now);

#endif
