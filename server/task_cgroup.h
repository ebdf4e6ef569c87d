/*
 * task_cgroup.h - a cgroup that a task's containers share, bounded by the
 * task-level cpu and memory, as the ECS agent's task cgroup is.
 *
 * sluiced makes the cgroup and writes its limits; the engine puts each of
 * the task's containers in it (HostConfig.CgroupParent, the engine's
 * cgroupfs driver), or the process runtime starts each container's
 * process in a cgroup of its own below it (task_exec.h), so
 * the limits bound the task as a whole.  The cgroup is
 * <hierarchy>/sluice/<owner>/<task id>: on cgroup v1 in the memory and cpu
 * hierarchies (the engine makes it in the others), on v2 in the unified
 * one.
 *
 * Caveats:
 * - Only an engine on this host, rootful, with the cgroupfs driver, sees
 *   the cgroup filesystem sluiced writes: task_cgroup_probe() says whether
 *   this one can, and why not.  The runtime also checks that each started
 *   container really runs in the task's cgroup (task_cgroup_holds()).
 * - On cgroup v1 an out-of-memory in the task cgroup is reported to every
 *   container of it; only the one the kernel killed exited with 137.
 * - Every function is thread-safe (no state but what the caller passes);
 *   they block on the cgroup filesystem only.
 */
#ifndef SL_SERVER_TASK_CGROUP_H
#define SL_SERVER_TASK_CGROUP_H

#include <stddef.h>

#define TASK_CGROUP_MAX_MOUNTS 16
#define TASK_CGROUP_PATH_MAX   160

struct task_cgroups {
    int version;             /* 1 or 2; 0: task cgroups cannot be used */
    char mem[256], cpu[256]; /* where the limits are written (v2: both the unified mount) */
    char mounts[TASK_CGROUP_MAX_MOUNTS][256]; /* every hierarchy, for removal */
    int nmounts;
    char why[256]; /* version 0: why not */
};

/* What the engine says of itself (GET /info); for the process runtime,
 * cgroupfs and local, the version NULL: the one this host mounts. */
struct task_cgroup_engine {
    const char *driver;  /* CgroupDriver: "cgroupfs" is needed */
    const char *version; /* CgroupVersion: "1" or "2"; NULL: v1 if mounted, else v2 */
    int rootless;        /* SecurityOptions holds name=rootless */
    int local;           /* reached on a unix socket */
};

/* Fill <g> for an engine <e>, from the cgroup mounts of /proc/self/mountinfo
 * (<mountinfo> names another file, for tests; NULL for that one).  Always
 * returns with <g> filled: version 0 and <why> when task cgroups cannot be
 * used. */
void task_cgroup_probe(struct task_cgroups *g, const struct task_cgroup_engine *e,
                       const char *mountinfo);

/* The engine's CgroupParent for task <tid> of runtime owner <owner>:
 * "/sluice/<owner>/<tid>".  SL_OK, or SL_EINVAL if it does not fit or a name
 * holds a '/' or is "." or "..". */
int task_cgroup_path(char *out, size_t cap, const char *owner, const char *tid);

/* What bounds one cgroup; 0 for no bound. */
struct task_cgroup_limits {
    long cpu_units;  /* a CFS quota, 1024 units a vCPU (a task's cpu) */
    long cpu_shares; /* a weight against its siblings (a container's cpu) */
    long mem_mib;    /* a hard memory limit */
    long soft_mib;   /* a soft one (memoryReservation): v1's soft limit, v2's memory.low */
};

/* Make cgroup <path> (from task_cgroup_path(), or below one) and bound it
 * by <lim>.  An existing cgroup is bounded again.  SL_OK, or SL_ERR with
 * <reason> in ECS's wording. */
int task_cgroup_make(const struct task_cgroups *g, const char *path,
                     const struct task_cgroup_limits *lim, char *reason, size_t rlen);

/* The cgroup.procs files a process writes itself into to join cgroup
 * <path>: one on v2, the memory and the cpu hierarchy's on v1.  Their
 * number (0 without task cgroups), names in <out>. */
int task_cgroup_procs(const struct task_cgroups *g, const char *path, char out[2][300]);

/* How many processes of cgroup <path> (and below) the kernel's OOM killer
 * has killed: >= 0, or SL_ENOTFOUND when it cannot be read. */
long task_cgroup_oom_kills(const struct task_cgroups *g, const char *path);

/* 1 if process <pid> runs in cgroup <path> or below it, 0 if it runs
 * elsewhere, SL_ENOTFOUND if it cannot be told: the process is gone (a
 * container that exits at once), or shown at the root, where cgroup v1
 * shows a process that is exiting; or no task cgroups. */
int task_cgroup_holds(const struct task_cgroups *g, const char *path, int pid);

/* Remove cgroup <path>, the empty cgroups below it (the engine's, once
 * their containers are gone) and its parents up to "sluice" when empty, in
 * every hierarchy.  A cgroup still in use stays: SL_OK when none is left,
 * SL_EAGAIN when one is (a process in it still exiting, say). */
int task_cgroup_remove(const struct task_cgroups *g, const char *path);

/* Remove every empty task cgroup of <owner> (left by a sluiced that
 * stopped before removing them), and its parents when empty. */
void task_cgroup_sweep(const struct task_cgroups *g, const char *owner);

#endif
