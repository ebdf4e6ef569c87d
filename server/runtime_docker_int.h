/*
 * runtime_docker_int.h - what the docker runtime's files share: a task's
 * containers as the runtime tracks them, and the plan that turns a task
 * definition into Docker Engine create bodies.  Not for other modules.
 *
 * Caveats:
 * - Every member of struct dk_task and struct dk_ctr that a worker or the
 *   event reader may change is guarded by the runtime's mutex (struct dk_rt
 *   mu); the plan members (create bodies, names, ports wanted, dependencies)
 *   are written once by dk_plan() before the task is shared and only read
 *   afterwards.
 * - Engine calls are made with the mutex released.  A task is driven by at
 *   most one worker at a time (busy), so engine calls for one task never
 *   race each other.
 */
#ifndef SL_SERVER_RUNTIME_DOCKER_INT_H
#define SL_SERVER_RUNTIME_DOCKER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "server/docker.h"
#include "server/runtime.h"
#include "server/runtime_docker.h"
#include "server/task_cgroup.h"

#define DK_MAX_CONTAINERS 10
#define DK_MAX_PORTS 32
#define DK_DEFAULT_STOP_MS 30000
#define DK_WORKERS 8 /* tasks started in parallel: the engine overlaps their starts */
#define DK_LABEL_OWNER "sluice.owner"
#define DK_LABEL_TASK "sluice.task"
#define DK_LABEL_META "sluice.metadata-id"
#define DK_OOM_REASON "OutOfMemoryError: Container killed due to memory usage"

enum dk_cstate { DC_NONE = 0, DC_CREATED, DC_RUNNING, DC_EXITED };
enum dk_phase { DP_STARTING = 0, DP_RUNNING, DP_FAILED };
enum dk_cond { DEP_START = 0, DEP_COMPLETE, DEP_SUCCESS, DEP_HEALTHY };

/* Work a task waits for (struct dk_task want). */
enum {
    W_START = 1,   /* pull, create volumes and containers */
    W_ADVANCE = 2, /* start what dependsOn allows; finish the start */
    W_STOP = 4,    /* signal the containers whose dependents are down */
    W_KILL = 8,    /* SIGKILL what is left */
    W_REMOVE = 16, /* save logs, remove containers and task volumes */
};

struct dk_port {
    int cport, hport; /* hport: wanted (0 dynamic), then assigned */
    char proto[4];
};

struct dk_dep {
    int idx;
    enum dk_cond cond;
};

struct dk_ctr {
    /* plan */
    char name[256];
    char dname[224];      /* Docker container name */
    char image[512];
    char cred_param[512]; /* repositoryCredentials.credentialsParameter or "" */
    char meta_id[33];
    json_t *create;       /* POST /containers/create body */
    int essential, has_hc, tty;
    int shared_cg;        /* runs in its task's cgroup (struct dk_task cgroup) */
    long stop_ms;         /* stopTimeout: signal, then SIGKILL after this */
    long start_ms;        /* startTimeout: dependsOn must hold within this */
    struct dk_port ports[DK_MAX_PORTS];
    int nports;
    struct dk_dep deps[DK_MAX_CONTAINERS];
    int ndeps;
    /* state */
    char id[80];          /* Docker container id, "" before create */
    enum dk_cstate st;
    int start_sent;
    int exit_code;        /* -1: unknown */
    char reason[256];
    const char *health;   /* "UNKNOWN" | "HEALTHY" | "UNHEALTHY" (static strings) */
    char stop_signal[32]; /* the image's STOPSIGNAL, or SIGTERM */
    int signalled, killed;
    int oom_seen;         /* an oom event came while it ran (shared_cg only) */
    int pid;              /* its main process (State.Pid), 0 when not running */
    uint64_t kill_at;     /* monotonic ms, once signalled */
    char ip[64], image_id[160], created_at[40], started_at[40];
};

struct dk_task {
    struct dk_task *next;  /* in r->tasks or r->draining */
    struct dk_task *qnext; /* in the work queue */
    char key[512];
    char tid[80];
    char net_mode[16];
    /* The cgroup its containers share (task_cgroup.h), "" for none: a task
     * of several containers with a task-level size, on an engine that can
     * put them there.  Bounded by cg_cpu units and cg_mem MiB. */
    char cgroup[TASK_CGROUP_PATH_MAX];
    long cg_cpu, cg_mem;
    int refs;
    int n;
    struct dk_ctr c[DK_MAX_CONTAINERS];
    enum dk_phase phase;
    char reason[512];            /* why the start failed */
    int essential_exited;        /* an essential container exited while RUNNING */
    uint64_t created_ms;         /* monotonic ms the containers were created */
    json_t *volumes;             /* [{Name, Driver, DriverOpts, Labels, task}] to create */
    unsigned want;
    int queued, busy, forgotten, stop_asked, retries;
    unsigned gen, synced;        /* state changes, and those written to the task */
    double pull_started, pull_stopped; /* wall seconds, 0 if no pull */
};

/* A removed task's cgroup still in use (an engine's helper, such as
 * Podman's conmon, still exiting): retried until <until_ms>. */
struct dk_cg_pending {
    struct dk_cg_pending *next;
    char path[TASK_CGROUP_PATH_MAX];
    uint64_t until_ms;
};

/* An adopted container seen at start-up, waiting for its task's adoption. */
struct dk_seen {
    struct dk_seen *next;
    char key[512], name[256], id[80], meta_id[33];
    json_t *inspect; /* GET /containers/{id}/json */
};

struct dk_rt {
    struct runtime base; /* first */
    struct docker *eng;
    struct runtime_docker_config cfg;
    char tasks_dir[1024], host_addr[64], owner[40], meta_base[128];
    char engine_desc[160];
    struct task_metadata *meta;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct dk_task *tasks;       /* tracked by the scheduler */
    struct dk_task *draining;    /* forgotten, being removed */
    struct dk_task *qhead, *qtail; /* tasks with work (each holds a reference) */
    struct dk_seen *seen;
    int nworkers;
    pthread_t workers[DK_WORKERS], events;
    int events_started;
    int stopping;
    int wake[2];                 /* wakes the event reader to stop */
    uint32_t held[65536 / 32];   /* host ports of tracked tasks (bitmap) */
    struct task_cgroups cg;      /* task cgroups on this engine, or why not */
    struct dk_cg_pending *cg_pending; /* removals to retry */
    int cg_retrying;             /* a worker retries them (a timed wait) */
};

/* What dk_plan needs besides the task. */
struct dk_plan_cfg {
    const char *host_addr; /* address ports are published on */
    const char *meta_base; /* "http://GW:PORT" of the task metadata endpoint */
    const char *owner;     /* DK_LABEL_OWNER value */
    int adopting;          /* plan an adopted task: read no files, build no bodies */
    int task_cgroups;      /* the engine can put a task's containers in a task cgroup */
};

/* Fill <t> (zeroed, key set) from stored task <task> and task definition
 * <td> (both borrowed): container names, create bodies, ports, dependencies,
 * volumes.  Reads environmentFiles and file secrets.  SL_OK, or SL_ERR with
 * <reason> in ECS's wording (the task then stops with TaskFailedToStart).
 * Pure apart from those file reads; on failure <t>'s bodies are freed. */
int dk_plan(const struct dk_plan_cfg *cfg, json_t *task, json_t *td, struct dk_task *t,
            char *reason, size_t rlen);

/* Release what dk_plan allocated in <t> (not <t> itself). */
void dk_plan_free(struct dk_task *t);

/* ---- runtime_docker_work.c: the worker side ---- */

/* One engine call with a JSON body (borrowed, may be NULL) and answer (*out,
 * new reference or NULL; <out> may be NULL), cancelled when the runtime
 * stops.  See docker_json(). */
int dk_call(struct dk_rt *r, const char *method, const char *path, json_t *body, int ms,
            int *status, json_t **out, struct sl_err *err);

/* Percent-encode <s> for a URL path segment or query value. */
void dk_url_encode(char *out, size_t cap, const char *s);

/* Worker thread body (arg: struct dk_rt). */
void *dk_worker_main(void *arg);

/* ---- runtime_docker_events.c ---- */

/* Event reader thread body (arg: struct dk_rt). */
void *dk_events_main(void *arg);

/* Queue <t> for a worker with <bits> of work; mu held. */
void dk_want(struct dk_rt *r, struct dk_task *t, unsigned bits);

/* Drop a reference; frees the task when it was the last; mu held. */
void dk_unref(struct dk_rt *r, struct dk_task *t);

/* Container of <t> with Docker id <id> (a prefix of 12+ is enough), or NULL. */
struct dk_ctr *dk_find_ctr(struct dk_task *t, const char *id);

/* Update a container from a GET /containers/{id}/json answer; mu held. */
void dk_apply_inspect(struct dk_ctr *c, json_t *insp);

/* The engine's list of our containers at start-up into r->seen; removes those
 * of tasks <live> says are gone (after saving their logs).  Blocking: runs
 * before the worker threads start. */
int dk_inventory(struct dk_rt *r, struct sl_err *err);

/* The Docker facts the metadata endpoint serves for <c> (new reference),
 * from its inspect <insp> (borrowed). */
json_t *dk_facts(struct dk_task *t, struct dk_ctr *c, json_t *insp);

/* Host port bitmap of tracked tasks; mu held. */
int dk_port_held(const struct dk_rt *r, int port);
void dk_port_hold(struct dk_rt *r, int port, int on);

#endif
