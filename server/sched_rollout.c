/*
 * sched_rollout.c - one service's pass decided as a pure function (see
 * sched_rollout.h for the rules).
 */
#define _GNU_SOURCE /* qsort_r */
#include "server/sched_rollout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static const char *const rollout_names[] = {
    [SCHED_ROLLOUT_NONE] = "",
    [SCHED_ROLLOUT_IN_PROGRESS] = "IN_PROGRESS",
    [SCHED_ROLLOUT_COMPLETED] = "COMPLETED",
    [SCHED_ROLLOUT_FAILED] = "FAILED",
};

static const char *const target_names[] = {
    [SCHED_TARGET_NONE] = "",
    [SCHED_TARGET_INITIAL] = "initial",
    [SCHED_TARGET_HEALTHY] = "healthy",
    [SCHED_TARGET_UNHEALTHY] = "unhealthy",
    [SCHED_TARGET_UNUSED] = "unused",
    [SCHED_TARGET_DRAINING] = "draining",
    [SCHED_TARGET_UNAVAILABLE] = "unavailable",
};

enum sched_rollout_state sched_rollout_parse(const char *s)
{
    size_t i;

    for (i = 1; s && i < sizeof(rollout_names) / sizeof(rollout_names[0]); i++)
        if (strcmp(s, rollout_names[i]) == 0)
            return (enum sched_rollout_state)i;
    return SCHED_ROLLOUT_NONE;
}

const char *sched_rollout_name(enum sched_rollout_state st)
{
    return (size_t)st < sizeof(rollout_names) / sizeof(rollout_names[0]) ? rollout_names[st]
                                                                           : "";
}

enum sched_target_state sched_target_parse(const char *s)
{
    size_t i;

    for (i = 1; s && i < sizeof(target_names) / sizeof(target_names[0]); i++)
        if (strcmp(s, target_names[i]) == 0)
            return (enum sched_target_state)i;
    return SCHED_TARGET_NONE;
}

long sched_breaker_threshold(long desired)
{
    long t = (desired + 1) / 2;

    if (t < 3)
        t = 3;
    return t > 200 ? 200 : t;
}

/* Working state of one decision. */
struct decide {
    const struct sched_rollout_in *in;
    struct sched_plan *out;
    long desired, max_total, min_healthy;
    long live, p_live, healthy, p_healthy;
    long started, stopped;
    int tripped, rollback, events, oom;
    unsigned char *up; /* per task: still wanted after this pass */
    unsigned char *ok; /* per task: healthy */
};

static struct sched_action *act(struct decide *d, enum sched_action_kind kind)
{
    struct sched_plan *p = d->out;
    struct sched_action *a;

    if (p->nacts == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct sched_action *n = realloc(p->acts, cap * sizeof(*n));
        if (n == NULL) {
            d->oom = 1;
            return NULL;
        }
        p->acts = n;
        p->cap = cap;
    }
    a = &p->acts[p->nacts++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->dep = -1;
    if (kind != SCHED_ACT_EVENT)
        p->changed = 1;
    return a;
}

static void event(struct decide *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void event(struct decide *d, const char *fmt, ...)
{
    struct sched_action *a = act(d, SCHED_ACT_EVENT);
    va_list ap;

    if (a == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof(a->text), fmt, ap);
    va_end(ap);
    d->events++;
}

static void stop(struct decide *d, size_t i, int failed, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void stop(struct decide *d, size_t i, int failed, const char *fmt, ...)
{
    struct sched_action *a = act(d, SCHED_ACT_STOP);
    va_list ap;

    d->up[i] = 0;
    d->stopped++;
    if (a == NULL)
        return;
    a->task = i;
    a->stop_code = SCHED_STOP_SCHEDULER;
    a->failed = failed;
    a->dep = d->in->tasks[i].dep;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof(a->text), fmt, ap);
    va_end(ap);
}

static int in_grace(const struct decide *d, const struct sched_rollout_task *t)
{
    return t->started_at + (double)d->in->grace_s > d->in->now;
}

static int task_healthy(const struct decide *d, const struct sched_rollout_task *t)
{
    size_t i;

    if (t->last != SCHED_ST_RUNNING || t->desired != SCHED_ST_RUNNING)
        return 0;
    if (t->health_checked ? t->health != SCHED_HEALTH_HEALTHY
                          : t->health == SCHED_HEALTH_UNHEALTHY)
        return 0;
    for (i = 0; i < d->in->nlbs; i++)
        if (t->target[i] != SCHED_TARGET_HEALTHY && t->target[i] != SCHED_TARGET_UNAVAILABLE)
            return 0;
    return 1;
}

/* The group where RUNNING task <t> is `unhealthy` past the grace period,
 * or -1. */
static int elb_unhealthy(const struct decide *d, const struct sched_rollout_task *t)
{
    size_t i;

    if (t->last != SCHED_ST_RUNNING || in_grace(d, t))
        return -1;
    for (i = 0; i < d->in->nlbs; i++)
        if (t->target[i] == SCHED_TARGET_UNHEALTHY)
            return (int)i;
    return -1;
}

/* Counts, and the stops health and membership call for. */
static void classify(struct decide *d)
{
    const struct sched_rollout_in *in = d->in;
    size_t i;
    int lb;

    for (i = 0; i < in->ntasks; i++) {
        const struct sched_rollout_task *t = &in->tasks[i];
        int up = t->desired == SCHED_ST_RUNNING;

        d->up[i] = (unsigned char)up;
        if (t->dep < 0 && up) {
            stop(d, i, 0, "Task is not part of any deployment");
        } else if (up && t->last == SCHED_ST_RUNNING && t->health == SCHED_HEALTH_UNHEALTHY &&
                   !in_grace(d, t)) {
            stop(d, i, 1, "Task failed container health checks");
            d->out->deps[t->dep].failed++;
        } else if (up && (lb = elb_unhealthy(d, t)) >= 0) {
            /* ECS quotes the target's health description: "(reason Health
             * checks failed with these codes: [404])" */
            const char *why = t->target_reason[lb] && t->target_reason[lb][0]
                                  ? t->target_reason[lb]
                                  : "Health checks failed";
            event(d,
                  "(service %s) (task %s) (port %ld) is unhealthy in (target-group %s) due to "
                  "(reason %s).",
                  in->name, t->id, t->port[lb], in->lb_tg[lb], why);
            stop(d, i, 1, "Task failed ELB health checks in (target-group %s)", in->lb_tg[lb]);
            d->out->deps[t->dep].failed++;
        }
        if (t->dep >= 0 && t->last == SCHED_ST_RUNNING) {
            d->out->deps[t->dep].running++;
            d->out->running++;
        } else if (t->dep >= 0 && (sched_status_unstarted(t->last) ||
                                   t->last == SCHED_ST_ACTIVATING)) {
            d->out->deps[t->dep].pending++;
            d->out->pending++;
        }
        if (!d->up[i])
            continue;
        d->live++;
        if (t->dep == 0)
            d->p_live++;
        if (task_healthy(d, t)) {
            d->ok[i] = 1;
            d->healthy++;
            if (t->dep == 0)
                d->p_healthy++;
        }
    }
}

/* The deployment a rollback returns to: the newest older one that
 * completed, else the newest older one that did not fail; -1 if none. */
static int rollback_target(const struct sched_rollout_in *in)
{
    size_t i;

    for (i = 1; i < in->ndeps; i++)
        if (in->deps[i].rollout == SCHED_ROLLOUT_COMPLETED)
            return (int)i;
    for (i = 1; i < in->ndeps; i++)
        if (in->deps[i].rollout != SCHED_ROLLOUT_FAILED)
            return (int)i;
    return -1;
}

static void breaker(struct decide *d)
{
    const struct sched_rollout_in *in = d->in;
    struct sched_action *a;
    int to;

    if (!in->cb_enable || in->deps[0].rollout != SCHED_ROLLOUT_IN_PROGRESS ||
        d->out->deps[0].failed < sched_breaker_threshold(d->desired))
        return;
    d->tripped = 1;
    if ((a = act(d, SCHED_ACT_TRIP)) != NULL) {
        a->dep = 0;
        a->rollout = SCHED_ROLLOUT_FAILED;
        snprintf(a->text, sizeof(a->text),
                 "ECS deployment circuit breaker: tasks failed to start.");
    }
    event(d, "(service %s) (deployment %s) deployment failed: tasks failed to start.", in->name,
          in->deps[0].id);
    if (in->cb_rollback && (to = rollback_target(in)) >= 0 &&
        (a = act(d, SCHED_ACT_ROLLBACK)) != NULL) {
        a->dep = to;
        d->rollback = 1;
    }
}

static void starts(struct decide *d)
{
    const struct sched_rollout_in *in = d->in;
    struct sched_action *a;
    long n = d->desired - d->p_live;

    if (d->tripped || d->rollback || in->deps[0].rollout == SCHED_ROLLOUT_FAILED ||
        !in->may_launch)
        return;
    if (n > d->max_total - d->live)
        n = d->max_total - d->live;
    if (n > SCHED_START_MAX)
        n = SCHED_START_MAX;
    if (n <= 0 || (a = act(d, SCHED_ACT_START)) == NULL)
        return;
    a->dep = 0;
    a->n = n;
    d->started = n;
}

/* Newest first, by createdAt. */
static int cmp_newest(const void *a, const void *b, void *arg)
{
    const struct sched_rollout_task *tasks = arg;
    double x = tasks[*(const size_t *)a].created_at;
    double y = tasks[*(const size_t *)b].created_at;

    return x < y ? 1 : x > y ? -1 : 0;
}

/* Scale-down and the old deployments' tasks, within minimumHealthyPercent. */
static void stops(struct decide *d)
{
    const struct sched_rollout_in *in = d->in;
    size_t *order, n = 0, i;
    long surplus = d->p_live - d->desired, can = d->healthy - d->min_healthy;
    int pass;

    if ((order = malloc((in->ntasks ? in->ntasks : 1) * sizeof(*order))) == NULL) {
        d->oom = 1;
        return;
    }
    for (i = 0; i < in->ntasks; i++)
        if (d->up[i])
            order[n++] = i;
    qsort_r(order, n, sizeof(*order), cmp_newest, (void *)in->tasks);
    /* Unhealthy tasks first: stopping them costs no capacity. */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < n; i++) {
            size_t k = order[i];
            int h = d->ok[k], old = in->tasks[k].dep != 0 || in->instance_draining;

            if (h != pass || !d->up[k])
                continue;
            if (old && (!h || can > 0 || d->desired == 0)) {
                if (h)
                    can--;
            } else if (!old && surplus > 0) {
                surplus--;
                if (h)
                    can--;
            } else {
                continue;
            }
            stop(d, k, 0, "Scaling activity initiated by (deployment %s)", in->deps[0].id);
        }
    free(order);
}

/* Retire emptied deployments; complete the PRIMARY one. */
static void retire(struct decide *d)
{
    const struct sched_rollout_in *in = d->in;
    size_t i, j, retired = 0, lingering = 0;
    long others = 0;
    struct sched_action *a;

    for (j = 0; j < in->ntasks; j++)
        if (in->tasks[j].dep != 0)
            others++;
    d->out->deps[0].desired = d->desired;
    for (i = 1; i < in->ndeps; i++) {
        long any = 0, wanted = 0;
        for (j = 0; j < in->ntasks; j++)
            if (in->tasks[j].dep == (int)i) {
                any++;
                wanted += d->up[j];
            }
        d->out->deps[i].desired = wanted;
        if (any)
            continue;
        if (in->deps[i].rollout == SCHED_ROLLOUT_FAILED &&
            in->deps[0].rollout == SCHED_ROLLOUT_IN_PROGRESS) {
            lingering++; /* shows why the rollback happened until it completes */
            continue;
        }
        if ((a = act(d, SCHED_ACT_RETIRE)) != NULL)
            a->dep = (int)i;
        retired++;
    }
    if (in->deps[0].rollout != SCHED_ROLLOUT_IN_PROGRESS || d->tripped || others > 0 ||
        in->ndeps - retired - lingering != 1 || d->p_healthy != d->desired || d->started ||
        d->stopped)
        return;
    for (i = 1; i < in->ndeps && lingering; i++) {
        for (j = 0; j < in->ntasks && in->tasks[j].dep != (int)i; j++)
            ;
        if (j == in->ntasks && in->deps[i].rollout == SCHED_ROLLOUT_FAILED &&
            (a = act(d, SCHED_ACT_RETIRE)) != NULL)
            a->dep = (int)i;
    }
    if ((a = act(d, SCHED_ACT_ROLLOUT)) != NULL) {
        a->dep = 0;
        a->rollout = SCHED_ROLLOUT_COMPLETED;
        snprintf(a->text, sizeof(a->text), "ECS deployment %s completed.", in->deps[0].id);
    }
    event(d, "(service %s) (deployment %s) deployment completed.", in->name, in->deps[0].id);
}

static void settle(struct decide *d)
{
    const struct sched_rollout_in *in = d->in;
    struct sched_plan *p = d->out;
    int quiet = !p->changed && !in->had_events && d->events == 0;

    p->steady = in->steady && quiet;
    if (!p->steady && quiet && in->deps[0].rollout == SCHED_ROLLOUT_COMPLETED &&
        in->ndeps == 1 && p->running == d->desired && p->pending == 0 &&
        d->live == d->desired && (long)in->ntasks == d->desired) {
        event(d, "(service %s) has reached a steady state.", in->name);
        p->steady = 1;
    }
    p->inactive = in->draining && in->ntasks == 0 && d->started == 0;
}

int sched_rollout_decide(const struct sched_rollout_in *in, struct sched_plan *out)
{
    struct decide d;
    long maxp = in->max_percent > 0 ? in->max_percent : 200;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (in->ndeps == 0)
        return SL_EINVAL;
    memset(&d, 0, sizeof(d));
    d.in = in;
    d.out = out;
    d.desired = in->draining ? 0 : in->desired;
    d.max_total = d.desired * maxp / 100;
    if (d.max_total < d.desired)
        d.max_total = d.desired;
    d.min_healthy = (d.desired * in->min_healthy_percent + 99) / 100;
    out->deps = calloc(in->ndeps, sizeof(*out->deps));
    d.up = calloc(in->ntasks ? in->ntasks : 1, 1);
    d.ok = calloc(in->ntasks ? in->ntasks : 1, 1);
    if (out->deps == NULL || d.up == NULL || d.ok == NULL) {
        d.oom = 1;
        goto out;
    }
    for (i = 0; i < in->ndeps; i++)
        out->deps[i].failed = in->deps[i].failed;
    classify(&d);
    breaker(&d);
    starts(&d);
    stops(&d);
    retire(&d);
    settle(&d);
out:
    free(d.up);
    free(d.ok);
    if (d.oom) {
        sched_plan_free(out);
        return SL_ENOMEM;
    }
    return SL_OK;
}

void sched_plan_free(struct sched_plan *p)
{
    free(p->acts);
    free(p->deps);
    memset(p, 0, sizeof(*p));
}
