/*
 * sched_task.c - a task's step in a pass (see sched_task.h and the walk in
 * sched_state.h).
 */
#include "server/sched_task.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/runtime.h"
#include "server/sched_write.h"

static struct sched_service *service_of(struct sched_pass *p, const struct sched_task *t)
{
    return t->svc >= 0 ? &p->svcs[t->svc] : NULL;
}

static const char *svc_name(const struct sched_task *t)
{
    const char *slash = strchr(t->svc_id, '/');
    return slash ? slash + 1 : "";
}

/* What the runtime keeps in the task: stored with every step. */
static json_t *runtime_members(json_t *task)
{
    json_t *set = json_object(), *v;
    const char *k;

    json_object_foreach(task, k, v)
        if ((k[0] == '_' && strcmp(k, "_targets") != 0 &&
             strcmp(k, "_drain_deadline_ms") != 0) ||
            strcmp(k, "containers") == 0 || strcmp(k, "healthStatus") == 0 ||
            strcmp(k, "pullStartedAt") == 0 || strcmp(k, "pullStoppedAt") == 0)
            json_object_set(set, k, v);
    return set;
}

/* sched_write_task() with the runtime's members added to <c->set>. */
static int change(struct sched_pass *p, struct sched_task *t, struct sched_change *c)
{
    json_t *rt = runtime_members(t->obj);

    if (c->set == NULL)
        c->set = json_object();
    json_object_update_missing(c->set, rt);
    json_decref(rt);
    return sched_write_task(p, t, c);
}

/* Only what the runtime changed. */
static int change_runtime(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};

    return change(p, t, &c);
}

static int wildcard(const char *ip)
{
    return ip == NULL || ip[0] == '\0' || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

/* The targets task <t> has for service <s>'s load balancers, from its
 * containers' network bindings (a wildcard bindIP: the host address the
 * data plane reaches), into <out>; returns how many. */
static size_t task_targets(const struct sched_pass *p, const struct sched_service *s,
                           const struct sched_task *t, struct sched_target out[SCHED_MAX_LBS])
{
    size_t i, j, k, n = 0;
    json_t *c, *b;

    for (i = 0; i < s->nlbs; i++)
        json_array_foreach(json_object_get(t->obj, "containers"), j, c) {
            if (strcmp(sched_jstr(c, "name"), s->lbs[i].container) != 0)
                continue;
            json_array_foreach(json_object_get(c, "networkBindings"), k, b) {
                long hp = (long)json_integer_value(json_object_get(b, "hostPort"));
                const char *ip = json_string_value(json_object_get(b, "bindIP"));
                if (json_integer_value(json_object_get(b, "containerPort")) != s->lbs[i].port ||
                    hp <= 0 || n == SCHED_MAX_LBS)
                    continue;
                snprintf(out[n].tg, sizeof(out[n].tg), "%s", s->lbs[i].tg);
                snprintf(out[n].addr.ip, sizeof(out[n].addr.ip), "%s",
                         wildcard(ip) ? p->ctx->target_ip : ip);
                out[n].addr.port = hp;
                n++;
                break;
            }
        }
    return n;
}

/* A service task stopped on its own: its deployment's failedTasks, and the
 * launch throttle when it failed to start. */
static void record_failure(struct sched_pass *p, struct sched_task *t, int launch)
{
    struct sched_service *s = service_of(p, t);

    if (s == NULL)
        return;
    if (t->dep >= 0)
        s->deps[t->dep].failed_now++;
    if (launch && s->memo && sched_backoff_failure(&s->memo->backoff, p->now_ms))
        sched_pass_event(p, s->id, "(service %s) is unable to consistently start tasks "
                                   "successfully.",
                         s->name);
}

static void registration_events(struct sched_pass *p, struct sched_task *t,
                                const struct sched_change *c)
{
    struct sched_service *s = service_of(p, t);
    size_t i;

    for (i = 0; i < c->nreg; i++)
        if (c->registered[i]) {
            sched_pass_health_forget(p, c->reg[i].tg);
            if (s)
                sched_pass_event(p, s->id, "(service %s) registered 1 targets in "
                                           "(target-group %s)",
                                 s->name, c->reg[i].tg);
        }
    if (s && s->memo)
        s->memo->reg_error[0] = '\0';
}

static void registration_failed(struct sched_pass *p, struct sched_task *t,
                                const struct sched_change *c)
{
    struct sched_service *s = service_of(p, t);
    char why[sizeof(s->memo->reg_error)];

    snprintf(why, sizeof(why), "%s", c->err.message);
    /* Tried again every pass: said once per cause. */
    if (s == NULL || s->memo == NULL || strcmp(s->memo->reg_error, why) == 0)
        return;
    log_warn("scheduler: task %s: cannot register its targets: %s", t->key, why);
    snprintf(s->memo->reg_error, sizeof(s->memo->reg_error), "%s", why);
    sched_pass_event(p, s->id, "(service %s) failed to register targets in (target-group %s) "
                               "with (error %s).",
                     s->name, c->failed_reg >= 0 ? c->reg[c->failed_reg].tg : "", why);
}

static void deregistration_events(struct sched_pass *p, struct sched_task *t,
                                  const struct sched_change *c)
{
    size_t i;

    for (i = 0; i < t->ntargets; i++) {
        if (!c->deregistered[i])
            continue;
        sched_pass_health_forget(p, t->targets[i].tg);
        if (t->svc_id[0])
            sched_pass_event(p, t->svc_id, "(service %s) deregistered 1 targets in "
                                           "(target-group %s)",
                             svc_name(t), t->targets[i].tg);
    }
}

/* ---- never started ---- */

static void containers_stopped(json_t *task, const char *reason)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(task, "containers"), i, c) {
        json_object_set_new(c, "lastStatus", json_string("STOPPED"));
        if (reason && !json_object_get(c, "reason") && !json_object_get(c, "exitCode"))
            json_object_set_new(c, "reason", json_string(reason));
    }
}

static void start_failed(struct sched_pass *p, struct sched_task *t, const char *reason)
{
    struct sched_change c = {0};

    /* A background start that failed is still the runtime's: release it. */
    if (runtime_known(p->ctx->rt, t->key))
        runtime_forget(p->ctx->rt, t->key, 1);
    containers_stopped(t->obj, reason);
    c.set = json_pack("{ss ss ss ss sf sf sf}", "lastStatus", "STOPPED", "desiredStatus",
                      "STOPPED", "stopCode", SCHED_STOP_FAILED_TO_START, "stoppedReason",
                      reason, "stoppingAt", p->now, "executionStoppedAt", p->now, "stoppedAt",
                      p->now);
    c.guard = SCHED_GUARD_UNSTARTED;
    if (change(p, t, &c) == SL_OK && c.applied)
        record_failure(p, t, 1);
}

/* The runtime has started <t>'s containers: RUNNING, its targets registered
 * in the same transaction. */
static void started(struct sched_pass *p, struct sched_task *t)
{
    struct sched_service *s = service_of(p, t);
    struct sched_target targets[SCHED_MAX_LBS];
    struct sched_change c = {0};
    json_t *set, *retry;
    double now = sched_clock(NULL); /* the pass's clock is older than the start */
    int rc;

    set = json_pack("{ss sf ss sf}", "lastStatus", "RUNNING", "startedAt", now,
                    "connectivity", "CONNECTED", "connectivityAt", now);
    retry = json_copy(set);
    c.set = set;
    c.guard = SCHED_GUARD_UNSTARTED;
    if (s && s->nlbs > 0) {
        c.set_targets = 1;
        c.reg = targets;
        c.nreg = task_targets(p, s, t, targets);
    }
    rc = change(p, t, &c);
    if (rc != SL_OK && c.set_targets) {
        /* RUNNING without targets: registration is tried again each pass. */
        registration_failed(p, t, &c);
        memset(&c, 0, sizeof(c));
        c.set = retry;
        retry = NULL;
        c.guard = SCHED_GUARD_UNSTARTED;
        rc = change(p, t, &c);
    }
    json_decref(retry);
    if (rc != SL_OK || !c.applied) {
        runtime_forget(p->ctx->rt, t->key, 1); /* stopped meanwhile (StopTask) */
        return;
    }
    if (c.set_targets)
        registration_events(p, t, &c);
}

static void start(struct sched_pass *p, struct sched_task *t)
{
    char reason[512] = "";
    int rc;

    if (t->td == NULL) {
        snprintf(reason, sizeof(reason), "TaskDefinition %.400s not found",
                 sched_jstr(t->obj, "taskDefinitionArn"));
        start_failed(p, t, reason);
        return;
    }
    rc = runtime_start(p->ctx->rt, t->key, t->obj, t->td, reason, sizeof(reason));
    if (rc == SL_OK)
        started(p, t);
    else if (rc != SL_EAGAIN) /* SL_EAGAIN: PENDING while the runtime works, polled */
        start_failed(p, t, reason);
}

/* A background start ended badly: the runtime put its reason in the task. */
static void background_failed(struct sched_pass *p, struct sched_task *t)
{
    const char *why = sched_jstr(t->obj, "stoppedReason");
    char reason[512];

    snprintf(reason, sizeof(reason), "%s", why[0] ? why : "Task failed to start");
    start_failed(p, t, reason);
}

static void provision(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};

    /* Nothing to attach beyond the host ports runtime_start() takes. */
    c.set = json_pack("{ss}", "lastStatus", "PENDING");
    c.guard = SCHED_GUARD_UNSTARTED;
    if (change(p, t, &c) == SL_OK && c.applied)
        start(p, t);
}

static void cancel(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};

    if (runtime_known(p->ctx->rt, t->key)) /* stopped while starting in the background */
        runtime_forget(p->ctx->rt, t->key, 1);
    containers_stopped(t->obj, NULL);
    c.set = json_pack("{ss sf sf sf}", "lastStatus", "STOPPED", "stoppingAt", p->now,
                      "executionStoppedAt", p->now, "stoppedAt", p->now);
    change(p, t, &c);
}

/* ---- running ---- */

static void adopt(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};
    int rc = runtime_adopt(p->ctx->rt, t->key, t->obj, t->td);

    c.set = json_object();
    if (rc != RT_RUNNING && t->stop_code[0] == '\0') {
        json_object_set_new(c.set, "stopCode", json_string(SCHED_STOP_ESSENTIAL_EXITED));
        json_object_set_new(c.set, "stoppedReason",
                            json_string("Essential container in task exited (while sluiced "
                                        "was not running)"));
    }
    change(p, t, &c);
}

static void activate(struct sched_pass *p, struct sched_task *t)
{
    struct sched_service *s = service_of(p, t);
    struct sched_target targets[SCHED_MAX_LBS];
    struct sched_change c = {0};

    c.set = t->last == SCHED_ST_ACTIVATING ? json_pack("{ss}", "lastStatus", "RUNNING")
                                           : json_object();
    c.guard = SCHED_GUARD_WANTED;
    c.set_targets = 1;
    c.reg = targets;
    c.nreg = s ? task_targets(p, s, t, targets) : 0;
    if (change(p, t, &c) != SL_OK)
        registration_failed(p, t, &c);
    else if (c.applied)
        registration_events(p, t, &c);
}

static void deactivate(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};

    c.set = json_pack("{ss}", "lastStatus", "DEACTIVATING");
    c.deregister = 1;
    if (change(p, t, &c) != SL_OK || !c.applied)
        return;
    if (t->svc_id[0])
        sched_pass_event(p, t->svc_id,
                         "(service %s, taskSet %s) has begun draining connections on 1 tasks.",
                         svc_name(t), sched_jstr(t->obj, "startedBy"));
    deregistration_events(p, t, &c);
}

static int drained(struct sched_pass *p, struct sched_task *t)
{
    enum sched_target_state st;
    size_t i;

    if (p->now_ms >= t->drain_deadline_ms)
        return 1;
    for (i = 0; i < t->ntargets; i++)
        if (sched_pass_target_state(p, t->targets[i].tg, &t->targets[i].addr, &st) != SL_OK ||
            st != SCHED_TARGET_NONE)
            return 0;
    return 1;
}

static void stop(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};

    runtime_stop(p->ctx->rt, t->key); /* idempotent; again after an adoption */
    if (t->last == SCHED_ST_STOPPING)
        return;
    c.set = json_pack("{ss}", "lastStatus", "STOPPING");
    change(p, t, &c);
}

/* ---- stopped ---- */

static void deprovision(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};
    const char *code = sched_jstr(t->obj, "stopCode"), *why = sched_jstr(t->obj, "stoppedReason");

    /* The runtime names the cause when an essential container exited; the
     * first stopCode stored (StopTask's, the scheduler's) wins over it. */
    c.set = json_pack("{ss ss sf sf ss ss}", "lastStatus", "DEPROVISIONING", "desiredStatus",
                      "STOPPED", "executionStoppedAt", p->now, "stoppingAt", p->now, "stopCode",
                      code[0] ? code : SCHED_STOP_ESSENTIAL_EXITED, "stoppedReason",
                      why[0] ? why : "Essential container in task exited");
    c.deregister = t->ntargets > 0 && t->drain_deadline_ms == 0; /* died while registered */
    if (change(p, t, &c) != SL_OK || !c.applied)
        return;
    deregistration_events(p, t, &c);
    if (strcmp(t->stop_code, SCHED_STOP_ESSENTIAL_EXITED) == 0)
        record_failure(p, t,
                       sched_launch_failed(t->stop_code, 0, t->started_at, p->now));
}

static void finish(struct sched_pass *p, struct sched_task *t)
{
    struct sched_change c = {0};

    runtime_forget(p->ctx->rt, t->key, 0); /* its host ports are free again */
    c.set = json_pack("{ss ss sf}", "lastStatus", "STOPPED", "desiredStatus", "STOPPED",
                      "stoppedAt", p->now);
    if (change(p, t, &c) != SL_OK || !c.applied || t->svc_id[0] == '\0')
        return;
    if (strcmp(t->stop_code, SCHED_STOP_USER) == 0 || strcmp(t->stop_code, SCHED_STOP_SCHEDULER) == 0)
        sched_pass_event(p, t->svc_id, "(service %s) has stopped 1 running tasks: (task %s).",
                         svc_name(t), t->id);
}

/* ---- the step ---- */

static void view_of(struct sched_pass *p, struct sched_task *t, struct sched_task_view *v)
{
    struct sched_service *s = service_of(p, t);

    v->last = t->last;
    v->desired = t->desired;
    v->needs_targets = t->last == SCHED_ST_ACTIVATING ||
                       (t->last == SCHED_ST_RUNNING && !t->has_targets && s && s->nlbs > 0);
    v->registered = t->ntargets > 0;
    v->deregistered = t->drain_deadline_ms != 0;
    v->drained = v->deregistered && drained(p, t);
}

void sched_task_step(struct sched_pass *p, struct sched_task *t)
{
    struct runtime *rt = p->ctx->rt;
    struct sched_task_view v = {0};
    json_int_t written;
    int changed = 0;

    v.known = runtime_known(rt, t->key);
    if (sched_status_running(t->last) && !v.known) {
        adopt(p, t);
        v.known = runtime_known(rt, t->key);
    }
    written = json_integer_value(json_object_get(t->obj, "version")); /* every write bumps it */
    if (v.known && (sched_status_running(t->last) || sched_status_unstarted(t->last))) {
        /* Anything else (RT_STARTING) is a background start still going. */
        int rc = runtime_poll(rt, t->key, t->obj, &changed);
        v.started = rc == RT_RUNNING;
        v.exited = rc == RT_STOPPED || rc == RT_GONE;
    }
    view_of(p, t, &v);
    switch (sched_task_next(&v)) {
    case SCHED_STEP_FORGET:
        runtime_forget(rt, t->key, 1); /* stopped behind the runtime's back */
        break;
    case SCHED_STEP_PROVISION: provision(p, t); break;
    case SCHED_STEP_START: start(p, t); break;
    case SCHED_STEP_STARTED: started(p, t); break;
    case SCHED_STEP_START_FAILED: background_failed(p, t); break;
    case SCHED_STEP_CANCEL: cancel(p, t); break;
    case SCHED_STEP_ACTIVATE: activate(p, t); break;
    case SCHED_STEP_DEACTIVATE: deactivate(p, t); break;
    case SCHED_STEP_STOP: stop(p, t); break;
    case SCHED_STEP_DEPROVISION: deprovision(p, t); break;
    case SCHED_STEP_FINISH: finish(p, t); break;
    case SCHED_STEP_ADOPT: /* the runtime could not take it: next pass */
    case SCHED_STEP_NONE:
        break;
    }
    /* Health or exits the poll saw, when the step stored nothing. */
    if (changed && json_integer_value(json_object_get(t->obj, "version")) == written)
        change_runtime(p, t);
}
