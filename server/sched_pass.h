/*
 * sched_pass.h - what one scheduler pass knows, as C structs: the tasks,
 * services and task definitions read in one short read transaction, the
 * target groups' health (read once per group and pass), the events the pass
 * adds, and the per-service memory that outlives passes (launch throttle).
 *
 * Caveats:
 * - A pass belongs to the scheduler thread alone; nothing here locks.
 * - Each task keeps a private JSON copy of its stored record (<obj>): the
 *   runtime changes it in place (runtime.h) and every scheduler write puts
 *   the stored result back there, then sched_pass_refresh() derives the C
 *   fields again.  JSON is the storage shape only; decisions read the C
 *   fields.
 * - Stored members the scheduler owns on a task: "_targets"
 *   [{"tg","port","ip"}] (its registered targets; "ip" absent means
 *   127.0.0.1, as older sluiced wrote them) and "_drain_deadline_ms" (wall
 *   clock, once deregistered).  On a service: "_steady" (the last
 *   steady-state event still holds).
 * - Stopped tasks past the retention are listed in <expired> (deleted by
 *   sched_retention.c), not in <tasks>, unless the runtime still tracks them.
 */
#ifndef SL_SERVER_SCHED_PASS_H
#define SL_SERVER_SCHED_PASS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "routes/ecs/ecs.h"  /* ECS_* sizes, K_ECS_* kinds */
#include "store/store.h" /* STORE_ID_MAX */
#include "server/sched_backoff.h"
#include "server/sched_domain.h"
#include "server/sched_rollout.h"
#include "server/sched_state.h"

struct runtime;

struct sched_target {
    char tg[ECS_ARN_MAX];
    struct sched_addr addr;
};

struct sched_task {
    char key[STORE_ID_MAX + 1];  /* store id "<cluster>/<task id>" */
    const char *id;              /* the task id, inside <key> */
    json_t *obj;                 /* private copy of the stored task */
    json_t *td;                  /* its task definition (borrowed), or NULL */
    int svc;                     /* index into the pass's services, or -1 */
    char svc_id[ECS_ID_MAX + 1]; /* its service's store id, "" if RunTask's own */
    int dep;                     /* index into that service's deployments, or -1 */
    enum sched_status last, desired;
    enum sched_health health;
    double created_at, started_at;
    int has_targets;             /* "_targets" stored (registration was done) */
    struct sched_target targets[SCHED_MAX_LBS];
    size_t ntargets;
    uint64_t drain_deadline_ms;  /* 0: not deregistered */
    char stop_code[32];          /* "" when none yet */
};

struct sched_lb {
    char tg[ECS_ARN_MAX];
    char container[ECS_NAME_MAX + 1];
    long port;
};

struct sched_dep {
    char id[32];
    char td[ECS_ARN_MAX];
    enum sched_rollout_state rollout;
    long failed;                 /* stored failedTasks */
    long failed_now;             /* failures the task step found this pass */
    long desired, running, pending; /* as stored */
};

/* Per-service memory across passes (not stored). */
struct sched_memo {
    char svc_id[ECS_ID_MAX + 1];
    struct sched_backoff backoff;
    char place_error[512];       /* the last RunTask error reported as an event */
    char reg_error[512];         /* the last registration error reported */
    int seen;                    /* the service was in the last pass */
};

struct sched_memos {
    struct sched_memo *v;
    size_t n, cap;
};

struct sched_service {
    char id[ECS_ID_MAX + 1];     /* "<cluster>/<name>" */
    const char *name;            /* inside <id> */
    char cluster[ECS_NAME_MAX + 1];
    char launch[32];
    int draining;
    int instance_draining;       /* its cluster's container instance is DRAINING */
    long desired, max_percent, min_healthy_percent, grace_s;
    int cb_enable, cb_rollback;
    struct sched_lb lbs[SCHED_MAX_LBS];
    size_t nlbs;
    struct sched_dep *deps;      /* [0] is PRIMARY */
    size_t ndeps;
    long running, pending;       /* as stored */
    int steady;
    struct sched_memo *memo;     /* valid for the pass */
};

struct sched_td {
    char arn[ECS_ARN_MAX];
    json_t *td;
    int health_checked;          /* an essential container has a health check */
};

struct sched_tg_health {
    char tg[ECS_ARN_MAX];
    int gone;                    /* the group does not exist */
    struct sched_target_health *t;
    size_t n;
};

struct sched_event {
    char svc_id[ECS_ID_MAX + 1];
    char text[SCHED_TEXT_MAX];
};

/* What the scheduler hands every pass. */
struct sched_ctx {
    struct store *store;
    struct runtime *rt;
    struct sched_domain dom;
    char tasks_dir[4096 + 16];   /* PATH_MAX and "/tasks" */
    uint64_t retention_ms;       /* stopped tasks are deleted this long after stoppedAt */
    char target_ip[SCHED_ADDR_MAX]; /* the target address of a wildcard binding */
    struct sched_memos memos;
};

struct sched_pass {
    struct sched_ctx *ctx;
    uint64_t now_ms;             /* wall clock at the start of the pass */
    double now;                  /* the same in epoch seconds */
    uint64_t rev;                /* the store revision the pass read */
    struct sched_task *tasks;
    size_t ntasks, ctasks;
    struct sched_service *svcs;
    size_t nsvcs, csvcs;
    struct sched_td *tds;
    size_t ntds, ctds;
    struct sched_tg_health *health;
    size_t nhealth, chealth;
    struct sched_event *events;
    size_t nevents, cevents;
    char (*expired)[STORE_ID_MAX + 1];
    size_t nexpired, cexpired;
};

/* Read the pass: SL_OK with <p> filled (free with sched_pass_free()), else
 * an error with <p> holding nothing. */
int sched_pass_load(struct sched_pass *p, struct sched_ctx *ctx);
void sched_pass_free(struct sched_pass *p);

/* Derive <t>'s C fields from t->obj again (after a write or a runtime call). */
void sched_pass_refresh(struct sched_pass *p, struct sched_task *t);

/* Add the event <fmt> for service <svc_id> (written with the service). */
void sched_pass_event(struct sched_pass *p, const char *svc_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Number of events added for <svc_id> this pass. */
size_t sched_pass_events_for(const struct sched_pass *p, const char *svc_id);

/* The state of target <a> in group <tg> this pass into *out
 * (SCHED_TARGET_NONE when the group does not hold it, or is gone): SL_OK,
 * or SL_ERR when the group's health could not be read.  Reads a group's
 * health once per pass; sched_pass_health_forget() makes the next call read
 * it again. */
int sched_pass_target_state(struct sched_pass *p, const char *tg, const struct sched_addr *a,
                            enum sched_target_state *out);
/* The same target's health description (DescribeTargetHealth's words),
 * borrowed until the pass ends; "" when unknown. */
const char *sched_pass_target_description(struct sched_pass *p, const char *tg,
                                          const struct sched_addr *a);
void sched_pass_health_forget(struct sched_pass *p, const char *tg);

/* The task definition <arn> read with the pass, or NULL. */
const struct sched_td *sched_pass_td(const struct sched_pass *p, const char *arn);

/* Drop the memos of services the last pass did not see; mark all unseen. */
void sched_memos_prune(struct sched_memos *m);
void sched_memos_free(struct sched_memos *m);

/* The wall clock in epoch seconds, millisecond precision (the precision of
 * ECS timestamps); *ms (may be NULL) gets it in milliseconds. */
double sched_clock(uint64_t *ms);

/* String member <k> of <o>, "" when absent. */
static inline const char *sched_jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Epoch seconds of member <k> (a JSON real or integer), 0 when absent. */
static inline double sched_jtime(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

#endif
