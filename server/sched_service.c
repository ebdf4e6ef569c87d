/*
 * sched_service.c - a service's step in a pass (see sched_service.h): the
 * input of sched_rollout_decide() from the pass, and its actions applied.
 */
#include "server/sched_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/sched_write.h"

struct svc_input {
    struct sched_rollout_in in;
    struct sched_rollout_dep *deps;
    struct sched_rollout_task *tasks;
    size_t *index; /* tasks[i] describes p->tasks[index[i]] */
};

static void describe_task(struct sched_pass *p, const struct sched_service *s,
                          const struct sched_task *t, struct sched_rollout_task *rt)
{
    const struct sched_td *td = sched_pass_td(p, sched_jstr(t->obj, "taskDefinitionArn"));
    size_t i, j;

    memset(rt, 0, sizeof(*rt));
    rt->id = t->id;
    rt->dep = t->dep;
    rt->last = t->last;
    rt->desired = t->desired;
    rt->created_at = t->created_at;
    rt->started_at = t->started_at;
    rt->health = t->health;
    rt->health_checked = td && td->health_checked;
    for (i = 0; i < s->nlbs; i++)
        for (j = 0; j < t->ntargets; j++)
            if (strcmp(t->targets[j].tg, s->lbs[i].tg) == 0) {
                rt->port[i] = t->targets[j].addr.port;
                if (sched_pass_target_state(p, t->targets[j].tg, &t->targets[j].addr,
                                            &rt->target[i]) != SL_OK)
                    rt->target[i] = SCHED_TARGET_NONE; /* unknown counts as not healthy */
                rt->target_reason[i] =
                    sched_pass_target_description(p, t->targets[j].tg, &t->targets[j].addr);
                break;
            }
}

static void input_free(struct svc_input *x)
{
    free(x->deps);
    free(x->tasks);
    free(x->index);
}

static int describe(struct sched_pass *p, struct sched_service *s, struct svc_input *x)
{
    int me = (int)(s - p->svcs);
    size_t i, n = 0;

    memset(x, 0, sizeof(*x));
    for (i = 0; i < p->ntasks; i++)
        n += p->tasks[i].svc == me && p->tasks[i].last != SCHED_ST_STOPPED;
    x->deps = calloc(s->ndeps, sizeof(*x->deps));
    x->tasks = calloc(n ? n : 1, sizeof(*x->tasks));
    x->index = calloc(n ? n : 1, sizeof(*x->index));
    if (x->deps == NULL || x->tasks == NULL || x->index == NULL) {
        input_free(x);
        return SL_ENOMEM;
    }
    for (i = 0; i < s->ndeps; i++) {
        x->deps[i].id = s->deps[i].id;
        x->deps[i].rollout = s->deps[i].rollout;
        x->deps[i].failed = s->deps[i].failed + s->deps[i].failed_now;
    }
    for (i = 0; i < p->ntasks && x->in.ntasks < n; i++) {
        struct sched_task *t = &p->tasks[i];
        if (t->svc != me || t->last == SCHED_ST_STOPPED)
            continue;
        /* A task launched since the last failure that has kept running
         * ends the throttle. */
        if (t->last == SCHED_ST_RUNNING && t->desired == SCHED_ST_RUNNING &&
            sched_launch_proven(&s->memo->backoff, t->started_at, p->now))
            sched_backoff_success(&s->memo->backoff);
        x->index[x->in.ntasks] = i;
        describe_task(p, s, t, &x->tasks[x->in.ntasks++]);
    }
    x->in.name = s->name;
    x->in.now = p->now;
    x->in.draining = s->draining;
    x->in.instance_draining = s->instance_draining;
    x->in.desired = s->desired;
    x->in.max_percent = s->max_percent;
    x->in.min_healthy_percent = s->min_healthy_percent;
    x->in.grace_s = s->grace_s;
    x->in.cb_enable = s->cb_enable;
    x->in.cb_rollback = s->cb_rollback;
    x->in.may_launch = sched_backoff_may_launch(&s->memo->backoff, p->now_ms);
    x->in.steady = s->steady;
    x->in.had_events = sched_pass_events_for(p, s->id) > 0;
    x->in.nlbs = s->nlbs;
    for (i = 0; i < s->nlbs; i++)
        x->in.lb_tg[i] = s->lbs[i].tg;
    x->in.ndeps = s->ndeps;
    x->in.deps = x->deps;
    x->in.tasks = x->tasks;
    return SL_OK;
}

/* ---- actions ---- */

static void stop_task(struct sched_pass *p, struct sched_task *t, const struct sched_action *a)
{
    struct sched_change c = {0};

    c.set = json_pack("{ss sf ss ss}", "desiredStatus", "STOPPED", "stoppingAt", p->now,
                      "stopCode", a->stop_code, "stoppedReason", a->text);
    sched_write_task(p, t, &c);
}

static void start_tasks(struct sched_pass *p, struct sched_service *s, long n)
{
    char ids[SCHED_START_MAX][33], group[ECS_NAME_MAX + 16], msg[SCHED_TEXT_MAX];
    struct sched_run r = {s->cluster, s->deps[0].td, group, s->deps[0].id, s->launch, n,
                          s->name};
    struct sl_err err = {0};
    size_t got = 0, i, len;
    int rc;

    snprintf(group, sizeof(group), "service:%s", s->name);
    if ((rc = sched_domain_run_tasks(&p->ctx->dom, &r, ids, &got, &err)) != SL_OK) {
        log_warn("scheduler: service %s: cannot start tasks: %s", s->id, err.message);
        /* Nowhere to place them is no failure of the tasks: no backoff. */
        if (rc != SL_EAGAIN && sched_backoff_failure(&s->memo->backoff, p->now_ms))
            sched_pass_event(p, s->id, "(service %s) is unable to consistently start tasks "
                                       "successfully.",
                             s->name);
        if (strcmp(s->memo->place_error, err.message) != 0) {
            snprintf(s->memo->place_error, sizeof(s->memo->place_error), "%s", err.message);
            sched_pass_event(p, s->id, "(service %s) was unable to place a task. Reason: %s.",
                             s->name, err.message);
        }
        return;
    }
    s->memo->place_error[0] = '\0';
    len = (size_t)snprintf(msg, sizeof(msg), "(service %s) has started %zu tasks:", s->name, got);
    for (i = 0; i < got && len < sizeof(msg); i++)
        len += (size_t)snprintf(msg + len, sizeof(msg) - len, " (task %s)", ids[i]);
    if (len < sizeof(msg))
        snprintf(msg + len, sizeof(msg) - len, ".");
    sched_pass_event(p, s->id, "%s", msg);
}

static void rollback(struct sched_pass *p, struct sched_service *s, int to,
                     struct sched_svc_update *u)
{
    json_t *d = sched_domain_deployment(s->deps[to].td, s->desired,
                                        s->launch, p->now);

    if (d == NULL)
        return;
    u->rollback = d;
    u->rollback_from = s->deps[0].id;
    sched_pass_event(p, s->id, "(service %s) rolling back to deployment %s.", s->name,
                     sched_jstr(d, "id"));
}

static int dirty(struct sched_pass *p, const struct sched_service *s,
                 const struct sched_plan *plan, const struct sched_svc_update *u)
{
    size_t i;

    if (plan->changed || plan->inactive || u->rollback || sched_pass_events_for(p, s->id) ||
        plan->running != s->running || plan->pending != s->pending || plan->steady != s->steady)
        return 1;
    for (i = 0; i < u->ndeps; i++) {
        const struct sched_dep_update *d = &u->deps[i];
        const struct sched_dep *o = &s->deps[i];
        if (d->running != o->running || d->pending != o->pending || d->desired != o->desired ||
            d->failed != o->failed || d->rollout != SCHED_ROLLOUT_NONE || d->retire)
            return 1;
    }
    return 0;
}

static void apply(struct sched_pass *p, struct sched_service *s, const struct svc_input *x,
                  const struct sched_plan *plan)
{
    struct sched_svc_update u = {0};
    size_t i;

    if ((u.deps = calloc(s->ndeps, sizeof(*u.deps))) == NULL)
        return;
    u.ndeps = s->ndeps;
    for (i = 0; i < s->ndeps; i++) {
        u.deps[i].id = s->deps[i].id;
        u.deps[i].running = plan->deps[i].running;
        u.deps[i].pending = plan->deps[i].pending;
        u.deps[i].desired = plan->deps[i].desired;
        u.deps[i].failed = plan->deps[i].failed;
    }
    for (i = 0; i < plan->nacts; i++) {
        const struct sched_action *a = &plan->acts[i];
        switch (a->kind) {
        case SCHED_ACT_STOP: stop_task(p, &p->tasks[x->index[a->task]], a); break;
        case SCHED_ACT_START: start_tasks(p, s, a->n); break;
        case SCHED_ACT_EVENT: sched_pass_event(p, s->id, "%s", a->text); break;
        case SCHED_ACT_ROLLBACK: rollback(p, s, a->dep, &u); break;
        case SCHED_ACT_RETIRE: u.deps[a->dep].retire = 1; break;
        case SCHED_ACT_ROLLOUT:
        case SCHED_ACT_TRIP:
            u.deps[a->dep].rollout = a->rollout;
            u.deps[a->dep].reason = a->text;
            break;
        }
    }
    u.counts = 1;
    u.running = plan->running;
    u.pending = plan->pending;
    u.steady = plan->steady;
    u.inactive = plan->inactive;
    if (dirty(p, s, plan, &u))
        sched_write_service(p, s->id, &u);
    json_decref(u.rollback);
    free(u.deps);
}

void sched_service_step(struct sched_pass *p, struct sched_service *s)
{
    struct svc_input x;
    struct sched_plan plan;

    if (describe(p, s, &x) != SL_OK)
        return;
    if (sched_rollout_decide(&x.in, &plan) == SL_OK) {
        apply(p, s, &x, &plan);
        sched_plan_free(&plan);
    }
    input_free(&x);
}

void sched_service_other_events(struct sched_pass *p)
{
    struct sched_svc_update u = {0};
    size_t i, j, k;

    for (i = 0; i < p->nevents; i++) {
        const char *id = p->events[i].svc_id;
        for (k = 0; k < p->nsvcs && strcmp(p->svcs[k].id, id) != 0; k++)
            ;
        for (j = 0; j < i && strcmp(p->events[j].svc_id, id) != 0; j++)
            ;
        if (k == p->nsvcs && j == i) /* not stepped; the first of its events */
            sched_write_service(p, id, &u);
    }
}
