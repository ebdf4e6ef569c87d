/*
 * sched_write.h - the scheduler's store transactions: every state change of
 * a task or a service is one store_write().
 *
 * Caveats:
 * - A task change re-reads the stored task inside the transaction and
 *   applies only while its guard holds, so that an API call made meanwhile
 *   (StopTask) is never overwritten: the first stoppedReason, stopCode and
 *   stoppingAt stay.  Deregistering and registering the task's targets
 *   happen in the same transaction as the task change (sched_domain.h).
 * - After an applied write, t->obj is the stored result and its C fields
 *   are derived again; members the runtime changed in t->obj must be in
 *   the change's <set>, or they are lost from the copy as from the store.
 * - A service change applies the pass's decisions to the stored service by
 *   deployment id, so an UpdateService made meanwhile keeps its deployment.
 * - Scheduler thread only; never inside another store_write() callback.
 */
#ifndef SL_SERVER_SCHED_WRITE_H
#define SL_SERVER_SCHED_WRITE_H

#include <jansson.h>

#include "server/sched_pass.h"

enum sched_guard {
    SCHED_GUARD_LIVE = 0,  /* the stored task is not STOPPED */
    SCHED_GUARD_UNSTARTED, /* ... is PROVISIONING/PENDING with desiredStatus RUNNING */
    SCHED_GUARD_WANTED,    /* ... has desiredStatus RUNNING */
};

struct sched_change {
    json_t *set;                        /* members to set (stolen; may be NULL) */
    enum sched_guard guard;
    int deregister;                     /* deregister the stored "_targets"; set the drain deadline */
    int set_targets;                    /* register <reg> and store them as "_targets" */
    const struct sched_target *reg;
    size_t nreg;
    /* out */
    int applied;                        /* the guard held and the change is durable */
    int registered[SCHED_MAX_LBS];      /* reg[i] was registered (its group exists) */
    int deregistered[SCHED_MAX_LBS];    /* stored target i was deregistered */
    int failed_reg;                     /* the reg[] entry whose registration failed, or -1 */
    long drain_s;                       /* the longest deregistration delay met */
    struct sl_err err;                  /* why it failed, when it did */
};

/* Apply <c> to task <t> in one transaction.  SL_OK (c->applied says
 * whether the guard held), else an error in c->err (nothing changed). */
int sched_write_task(struct sched_pass *p, struct sched_task *t, struct sched_change *c);

struct sched_dep_update {
    const char *id;
    long running, pending, desired, failed;
    enum sched_rollout_state rollout;   /* NONE: unchanged */
    const char *reason;                 /* its rolloutStateReason */
    int retire;                         /* remove it (never the PRIMARY one) */
};

struct sched_svc_update {
    int counts;                         /* write running/pending/steady and <deps> */
    struct sched_dep_update *deps;
    size_t ndeps;
    json_t *rollback;                   /* a new PRIMARY deployment (stolen), or NULL */
    const char *rollback_from;          /* ... placed only while this one is PRIMARY */
    long running, pending;
    int steady, inactive;
};

/* Apply <u> and the pass's events for <svc_id> to the stored service in one
 * transaction (nothing when the service is gone or INACTIVE).  SL_OK or an
 * error (logged). */
int sched_write_service(struct sched_pass *p, const char *svc_id, struct sched_svc_update *u);

/* Delete the stored tasks <keys> that are still STOPPED, in one
 * transaction.  SL_OK or an error (logged). */
int sched_write_forget(struct sched_pass *p, char (*keys)[STORE_ID_MAX + 1], size_t n);

#endif
