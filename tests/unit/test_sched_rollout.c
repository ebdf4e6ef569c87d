/* Unit tests for server/sched_rollout.c: the rollout decisions of one
 * scheduler pass, as a pure function of a service's description.  Each test
 * walks a service through the passes a real rollout makes, feeding back what
 * the previous pass decided. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "server/sched_rollout.h"

#define NOW 1000000.0
#define TG "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/1"

/* A service under test: deployments and tasks that the tests edit between
 * passes. */
struct svc {
    struct sched_rollout_in in;
    struct sched_rollout_dep deps[4];
    struct sched_rollout_task tasks[32];
    char ids[32][8];
    struct sched_plan plan;
};

static void svc_init(struct svc *s, long desired, long maxp, long minp)
{
    memset(s, 0, sizeof(*s));
    s->in.name = "web";
    s->in.now = NOW;
    s->in.desired = desired;
    s->in.max_percent = maxp;
    s->in.min_healthy_percent = minp;
    s->in.may_launch = 1;
    s->in.deps = s->deps;
    s->in.tasks = s->tasks;
    s->deps[0].id = "ecs-svc/1";
    s->deps[0].rollout = SCHED_ROLLOUT_IN_PROGRESS;
    s->in.ndeps = 1;
}

static void with_lb(struct svc *s, long grace)
{
    s->in.nlbs = 1;
    s->in.lb_tg[0] = TG;
    s->in.grace_s = grace;
}

/* A new deployment in front of the existing ones (UpdateService). */
static void deploy(struct svc *s, const char *id)
{
    size_t i;

    for (i = s->in.ndeps; i > 0; i--)
        s->deps[i] = s->deps[i - 1];
    for (i = 0; i < s->in.ntasks; i++)
        if (s->tasks[i].dep >= 0)
            s->tasks[i].dep++;
    s->in.ndeps++;
    s->deps[0].id = id;
    s->deps[0].rollout = SCHED_ROLLOUT_IN_PROGRESS;
    s->deps[0].failed = 0;
}

/* A task of deployment <dep>, created <age> seconds ago; RUNNING and healthy
 * when <healthy>, else RUNNING with its target still `initial`. */
static size_t add_task(struct svc *s, int dep, double age, int healthy)
{
    size_t i = s->in.ntasks++;
    struct sched_rollout_task *t = &s->tasks[i];

    memset(t, 0, sizeof(*t));
    snprintf(s->ids[i], sizeof(s->ids[i]), "t%zu", i);
    t->id = s->ids[i];
    t->dep = dep;
    t->last = SCHED_ST_RUNNING;
    t->desired = SCHED_ST_RUNNING;
    t->created_at = NOW - age;
    t->started_at = NOW - age + 1;
    t->target[0] = healthy ? SCHED_TARGET_HEALTHY : SCHED_TARGET_INITIAL;
    t->port[0] = 50000 + (long)i;
    return i;
}

static void drop_task(struct svc *s, size_t i)
{
    memmove(&s->tasks[i], &s->tasks[i + 1], (s->in.ntasks - i - 1) * sizeof(s->tasks[0]));
    memmove(s->ids[i], s->ids[i + 1], (s->in.ntasks - i - 1) * sizeof(s->ids[0]));
    s->in.ntasks--;
    for (i = 0; i < s->in.ntasks; i++)
        s->tasks[i].id = s->ids[i];
}

static void decide(struct svc *s)
{
    sched_plan_free(&s->plan);
    assert_int_equal(sched_rollout_decide(&s->in, &s->plan), SL_OK);
}

static size_t count(const struct svc *s, enum sched_action_kind k)
{
    size_t i, n = 0;

    for (i = 0; i < s->plan.nacts; i++)
        n += s->plan.acts[i].kind == k;
    return n;
}

static const struct sched_action *find(const struct svc *s, enum sched_action_kind k)
{
    size_t i;

    for (i = 0; i < s->plan.nacts; i++)
        if (s->plan.acts[i].kind == k)
            return &s->plan.acts[i];
    return NULL;
}

static long started(const struct svc *s)
{
    const struct sched_action *a = find(s, SCHED_ACT_START);
    return a ? a->n : 0;
}

static int stopped(const struct svc *s, size_t task)
{
    size_t i;

    for (i = 0; i < s->plan.nacts; i++)
        if (s->plan.acts[i].kind == SCHED_ACT_STOP && s->plan.acts[i].task == task)
            return 1;
    return 0;
}

static int has_event(const struct svc *s, const char *text)
{
    size_t i;

    for (i = 0; i < s->plan.nacts; i++)
        if (s->plan.acts[i].kind == SCHED_ACT_EVENT && strcmp(s->plan.acts[i].text, text) == 0)
            return 1;
    return 0;
}

/* What the scheduler does with the plan before the next pass: started tasks
 * appear (not yet healthy), stopped ones are wanted no more, retired
 * deployments go, a completed one says so. */
static void apply(struct svc *s, double age_of_new)
{
    size_t i, j;

    for (i = 0; i < s->plan.nacts; i++) {
        const struct sched_action *a = &s->plan.acts[i];
        if (a->kind == SCHED_ACT_STOP)
            s->tasks[a->task].desired = SCHED_ST_STOPPED;
        else if (a->kind == SCHED_ACT_ROLLOUT)
            s->deps[a->dep].rollout = a->rollout;
    }
    for (i = 0; i < s->plan.nacts; i++)
        if (s->plan.acts[i].kind == SCHED_ACT_START)
            for (j = 0; j < (size_t)s->plan.acts[i].n; j++)
                add_task(s, 0, age_of_new, 0);
    /* Retire from the last deployment down, so indices stay valid. */
    for (int d = (int)s->in.ndeps - 1; d > 0; d--) {
        int retire = 0;
        for (i = 0; i < s->plan.nacts; i++)
            retire |= s->plan.acts[i].kind == SCHED_ACT_RETIRE && s->plan.acts[i].dep == d;
        if (!retire)
            continue;
        memmove(&s->deps[d], &s->deps[d + 1],
                (s->in.ndeps - (size_t)d - 1) * sizeof(s->deps[0]));
        s->in.ndeps--;
        for (j = 0; j < s->in.ntasks; j++)
            if (s->tasks[j].dep > d)
                s->tasks[j].dep--;
    }
    s->in.steady = s->plan.steady;
}

/* Tasks that were told to stop are gone (drained and STOPPED). */
static void reap(struct svc *s)
{
    size_t i;

    for (i = s->in.ntasks; i-- > 0;)
        if (s->tasks[i].desired == SCHED_ST_STOPPED)
            drop_task(s, i);
}

static void become_healthy(struct svc *s, int dep)
{
    size_t i;

    for (i = 0; i < s->in.ntasks; i++)
        if (s->tasks[i].dep == dep && s->tasks[i].desired == SCHED_ST_RUNNING)
            s->tasks[i].target[0] = SCHED_TARGET_HEALTHY;
}

static long wanted_of(const struct svc *s, int dep)
{
    size_t i;
    long n = 0;

    for (i = 0; i < s->in.ntasks; i++)
        n += s->tasks[i].dep == dep && s->tasks[i].desired == SCHED_ST_RUNNING;
    return n;
}

static int teardown(void **state)
{
    struct svc *s = *state;

    if (s) {
        sched_plan_free(&s->plan);
        free(s);
    }
    return 0;
}

static struct svc *new_svc(void **state, long desired, long maxp, long minp)
{
    struct svc *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    svc_init(s, desired, maxp, minp);
    *state = s;
    return s;
}

/* ---- scale up and down ---- */

static void test_scale_up(void **state)
{
    struct svc *s = new_svc(state, 3, 200, 100);

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    add_task(s, 0, 100, 1);
    decide(s);
    assert_int_equal(started(s), 2);
    assert_int_equal(find(s, SCHED_ACT_START)->dep, 0);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0);
    assert_int_equal(s->plan.deps[0].desired, 3);
    assert_int_equal(s->plan.running, 1);

    /* RunTask takes at most 10 at a time. */
    s->in.desired = 25;
    decide(s);
    assert_int_equal(started(s), 10);
    /* The throttle says wait: nothing starts. */
    s->in.may_launch = 0;
    decide(s);
    assert_int_equal(started(s), 0);
}

static void test_scale_down_unhealthy_first(void **state)
{
    struct svc *s = new_svc(state, 3, 200, 100);
    size_t old_ok, young_ok, sick;
    const struct sched_action *a;

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    with_lb(s, 0);
    old_ok = add_task(s, 0, 300, 1);
    sick = add_task(s, 0, 200, 0); /* target still initial */
    young_ok = add_task(s, 0, 100, 1);
    s->in.desired = 1;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 2);
    assert_true(stopped(s, sick));     /* the not-healthy one first ... */
    assert_true(stopped(s, young_ok)); /* ... then the newest healthy one */
    assert_false(stopped(s, old_ok));
    a = find(s, SCHED_ACT_STOP);
    assert_string_equal(a->stop_code, "ServiceSchedulerInitiated");
    assert_string_equal(a->text, "Scaling activity initiated by (deployment ecs-svc/1)");
    assert_int_equal(a->failed, 0);
    assert_int_equal(started(s), 0);
    /* The stopped tasks are still RUNNING (draining) until they stop: no
     * replacement and no second stop meanwhile. */
    apply(s, 0);
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0);
    assert_int_equal(started(s), 0);
    assert_int_equal(s->plan.running, 3);
    reap(s);
    decide(s);
    assert_int_equal(s->plan.nacts, 1);
    assert_true(has_event(s, "(service web) has reached a steady state."));
    apply(s, 0);
    decide(s);
    assert_int_equal(s->plan.nacts, 0); /* said once */
    assert_true(s->plan.steady);
}

/* ---- rollouts ---- */

/* Run an UpdateService from deployment 1 to 2 for <desired> tasks to the end,
 * checking at every pass that the healthy count never drops below
 * minimumHealthyPercent and the total never exceeds maximumPercent. */
static int roll(struct svc *s, long desired, long maxp, long minp)
{
    long min_healthy = (desired * minp + 99) / 100, max_total = desired * maxp / 100;
    int passes;
    size_t i;

    for (passes = 0; passes < 40; passes++) {
        long healthy = 0, total = 0;
        decide(s);
        apply(s, 0);
        for (i = 0; i < s->in.ntasks; i++) {
            total += s->tasks[i].desired == SCHED_ST_RUNNING;
            healthy += s->tasks[i].desired == SCHED_ST_RUNNING &&
                       s->tasks[i].target[0] == SCHED_TARGET_HEALTHY;
        }
        assert_true(total <= (max_total > desired ? max_total : desired));
        assert_true(healthy >= min_healthy);
        if (s->in.ndeps == 1 && s->deps[0].rollout == SCHED_ROLLOUT_COMPLETED)
            return passes;
        /* Between passes: the new tasks pass their health checks, the
         * stopped ones drain and stop. */
        reap(s);
        become_healthy(s, 0);
    }
    fail_msg("rollout did not complete in 40 passes");
    return -1;
}

static void setup_rollout(struct svc *s, long desired)
{
    long i;

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    with_lb(s, 0);
    for (i = 0; i < desired; i++)
        add_task(s, 0, 500 + (double)i, 1);
    deploy(s, "ecs-svc/2");
}

static void test_rollout_200_100(void **state)
{
    struct svc *s = new_svc(state, 4, 200, 100);

    setup_rollout(s, 4);
    decide(s);
    /* Surge: every new task at once, no old task stops before one is healthy. */
    assert_int_equal(started(s), 4);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0);
    apply(s, 0);
    decide(s);
    assert_int_equal(s->plan.nacts, 0);
    assert_int_equal(s->plan.pending, 0);
    assert_int_equal(s->plan.deps[0].running, 4);
    assert_int_equal(s->plan.deps[1].running, 4);
    /* One new task healthy: one old task may go. */
    s->tasks[4].target[0] = SCHED_TARGET_HEALTHY;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 1);
    assert_int_equal(s->tasks[find(s, SCHED_ACT_STOP)->task].dep, 1);
    apply(s, 0);
    reap(s);
    become_healthy(s, 0);
    assert_true(roll(s, 4, 200, 100) >= 1);
    assert_int_equal(wanted_of(s, 0), 4);
    assert_int_equal(s->in.ntasks, 4);
}

static void test_rollout_100_50(void **state)
{
    struct svc *s = new_svc(state, 4, 100, 50);

    setup_rollout(s, 4);
    decide(s);
    /* No room to surge: half the old tasks stop first. */
    assert_int_equal(started(s), 0);
    assert_int_equal(count(s, SCHED_ACT_STOP), 2);
    apply(s, 0);
    decide(s);
    /* The stopping ones (draining) no longer count: two new ones start. */
    assert_int_equal(started(s), 2);
    apply(s, 0);
    reap(s);
    become_healthy(s, 0);
    assert_true(roll(s, 4, 100, 50) >= 1);
    assert_int_equal(wanted_of(s, 0), 4);
}

static void test_rollout_0_100(void **state)
{
    struct svc *s = new_svc(state, 2, 100, 0);

    setup_rollout(s, 2);
    decide(s);
    /* minimumHealthyPercent 0: every old task stops at once. */
    assert_int_equal(count(s, SCHED_ACT_STOP), 2);
    assert_int_equal(started(s), 0);
    apply(s, 0);
    reap(s);
    decide(s);
    assert_int_equal(started(s), 2);
    /* The old deployment has no task left: it goes. */
    assert_int_equal(count(s, SCHED_ACT_RETIRE), 1);
    assert_int_equal(find(s, SCHED_ACT_RETIRE)->dep, 1);
    assert_null(find(s, SCHED_ACT_ROLLOUT)); /* not before the new tasks are healthy */
    apply(s, 0);
    decide(s);
    assert_null(find(s, SCHED_ACT_ROLLOUT));
    become_healthy(s, 0);
    decide(s);
    assert_non_null(find(s, SCHED_ACT_ROLLOUT));
    assert_int_equal(find(s, SCHED_ACT_ROLLOUT)->rollout, SCHED_ROLLOUT_COMPLETED);
    assert_string_equal(find(s, SCHED_ACT_ROLLOUT)->text, "ECS deployment ecs-svc/2 completed.");
    assert_true(has_event(s, "(service web) (deployment ecs-svc/2) deployment completed."));
}

/* ---- health ---- */

static void test_grace_period(void **state)
{
    struct svc *s = new_svc(state, 1, 200, 100);
    size_t t;
    const struct sched_action *a;

    with_lb(s, 30);
    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    t = add_task(s, 0, 11, 0); /* started 10 s ago */
    s->tasks[t].target[0] = SCHED_TARGET_UNHEALTHY;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0); /* within the grace period: ignored */
    s->tasks[t].health = SCHED_HEALTH_UNHEALTHY;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0); /* container checks too */
    s->tasks[t].health = SCHED_HEALTH_UNKNOWN;
    s->in.now = NOW + 25; /* 35 s after the start */
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 1);
    a = find(s, SCHED_ACT_STOP);
    assert_int_equal(a->failed, 1);
    assert_string_equal(a->stop_code, "ServiceSchedulerInitiated");
    assert_string_equal(a->text, "Task failed ELB health checks in (target-group " TG ")");
    assert_int_equal(s->plan.deps[0].failed, 1);
    assert_true(has_event(s, "(service web) (task t0) (port 50000) is unhealthy in "
                             "(target-group " TG ") due to (reason Health checks failed)."));
    /* The replacement is started in the same pass: the stopping task no
     * longer counts. */
    assert_int_equal(started(s), 1);
    /* With the target's description, ECS's event quotes it. */
    s->tasks[t].target_reason[0] = "Health checks failed with these codes: [404]";
    decide(s);
    assert_true(has_event(s, "(service web) (task t0) (port 50000) is unhealthy in "
                             "(target-group " TG ") due to (reason Health checks failed with "
                             "these codes: [404])."));
    s->tasks[t].target_reason[0] = NULL;

    /* A target healthy during the grace period counts at once. */
    s->in.now = NOW;
    s->tasks[t].target[0] = SCHED_TARGET_HEALTHY;
    deploy(s, "ecs-svc/2");
    add_task(s, 0, 2, 1);
    decide(s);
    assert_true(stopped(s, t)); /* the old one may go */
}

static void test_container_health(void **state)
{
    struct svc *s = new_svc(state, 1, 200, 100);
    size_t t;

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    t = add_task(s, 0, 100, 1);
    s->tasks[t].health_checked = 1;
    s->tasks[t].health = SCHED_HEALTH_HEALTHY;
    deploy(s, "ecs-svc/2");
    t = add_task(s, 0, 100, 1);
    s->tasks[t].health_checked = 1; /* UNKNOWN: not healthy yet */
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0);
    s->tasks[t].health = SCHED_HEALTH_HEALTHY;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 1);
    s->tasks[t].health = SCHED_HEALTH_UNHEALTHY;
    decide(s);
    assert_true(stopped(s, t));
    assert_string_equal(find(s, SCHED_ACT_STOP)->text, "Task failed container health checks");
    assert_int_equal(s->plan.deps[0].failed, 1);
}

/* A new deployment whose tasks never become healthy: the old tasks keep
 * serving, the rollout neither completes nor fails without the breaker. */
static void test_never_healthy(void **state)
{
    struct svc *s = new_svc(state, 2, 200, 100);
    int pass;

    setup_rollout(s, 2);
    for (pass = 0; pass < 10; pass++) {
        decide(s);
        assert_int_equal(count(s, SCHED_ACT_ROLLOUT), 0);
        assert_int_equal(count(s, SCHED_ACT_TRIP), 0);
        assert_int_equal(count(s, SCHED_ACT_RETIRE), 0);
        assert_int_equal(wanted_of(s, 1), 2);
        apply(s, 0);
    }
    assert_int_equal(wanted_of(s, 0), 2); /* started once, not again and again */
    assert_int_equal(s->in.ndeps, 2);
}

/* ---- circuit breaker ---- */

static void test_breaker_threshold(void **state)
{
    (void)state;
    assert_int_equal(sched_breaker_threshold(0), 3);
    assert_int_equal(sched_breaker_threshold(1), 3);
    assert_int_equal(sched_breaker_threshold(6), 3);
    assert_int_equal(sched_breaker_threshold(7), 4);
    assert_int_equal(sched_breaker_threshold(10), 5);
    assert_int_equal(sched_breaker_threshold(399), 200);
    assert_int_equal(sched_breaker_threshold(400), 200);
    assert_int_equal(sched_breaker_threshold(100000), 200);
}

static void test_breaker_rollback(void **state)
{
    struct svc *s = new_svc(state, 8, 200, 100);
    const struct sched_action *a;

    s->in.cb_enable = 1;
    s->in.cb_rollback = 1;
    setup_rollout(s, 8);
    s->deps[0].failed = 3; /* threshold for 8 is 4 */
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_TRIP), 0);
    assert_int_equal(started(s), 8);
    s->deps[0].failed = 4;
    decide(s);
    a = find(s, SCHED_ACT_TRIP);
    assert_non_null(a);
    assert_int_equal(a->dep, 0);
    assert_string_equal(a->text, "ECS deployment circuit breaker: tasks failed to start.");
    assert_true(has_event(s, "(service web) (deployment ecs-svc/2) deployment failed: tasks "
                             "failed to start."));
    a = find(s, SCHED_ACT_ROLLBACK);
    assert_non_null(a);
    assert_int_equal(a->dep, 1); /* back to the completed deployment */
    assert_int_equal(started(s), 0);
    assert_int_equal(count(s, SCHED_ACT_ROLLOUT), 0);

    /* A failure found in this very pass counts toward the threshold. */
    s->deps[0].failed = 3;
    add_task(s, 0, 100, 0);
    s->tasks[s->in.ntasks - 1].target[0] = SCHED_TARGET_UNHEALTHY;
    decide(s);
    assert_non_null(find(s, SCHED_ACT_TRIP));
    assert_int_equal(s->plan.deps[0].failed, 4);
}

static void test_breaker_without_rollback(void **state)
{
    struct svc *s = new_svc(state, 2, 200, 100);

    s->in.cb_enable = 1;
    setup_rollout(s, 2);
    s->deps[0].failed = 3;
    decide(s);
    assert_non_null(find(s, SCHED_ACT_TRIP));
    assert_null(find(s, SCHED_ACT_ROLLBACK));
    assert_int_equal(started(s), 0);
    /* FAILED: it starts nothing more, the old tasks keep serving. */
    s->deps[0].rollout = SCHED_ROLLOUT_FAILED;
    decide(s);
    assert_int_equal(started(s), 0);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0);
    assert_null(find(s, SCHED_ACT_TRIP));
    /* Breaker off: failures alone change nothing. */
    s->deps[0].rollout = SCHED_ROLLOUT_IN_PROGRESS;
    s->in.cb_enable = 0;
    s->deps[0].failed = 100;
    decide(s);
    assert_null(find(s, SCHED_ACT_TRIP));
    assert_int_equal(started(s), 2);
}

/* The rollback deployment replaces the failed one, which stays listed
 * (FAILED) until the rollback completes. */
static void test_rollback_completes(void **state)
{
    struct svc *s = new_svc(state, 2, 200, 100);

    s->in.cb_enable = 1;
    s->in.cb_rollback = 1;
    setup_rollout(s, 2); /* [2 IN_PROGRESS, 1 COMPLETED + 2 tasks] */
    s->deps[0].rollout = SCHED_ROLLOUT_FAILED;
    deploy(s, "ecs-svc/3"); /* the rollback: [3, 2 FAILED, 1] */
    decide(s);
    assert_int_equal(started(s), 2);
    assert_null(find(s, SCHED_ACT_RETIRE)); /* 2 lingers while 3 runs */
    apply(s, 0);
    become_healthy(s, 0);
    assert_true(roll(s, 2, 200, 100) >= 1);
    assert_int_equal(s->in.ndeps, 1);
    assert_string_equal(s->deps[0].id, "ecs-svc/3");
}

/* ---- replacing, orphans, draining ---- */

static void test_stopped_replaced(void **state)
{
    struct svc *s = new_svc(state, 2, 200, 100);
    size_t t;

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    add_task(s, 0, 100, 1);
    t = add_task(s, 0, 100, 1);
    decide(s);
    assert_int_equal(s->plan.nacts, 1); /* steady state */
    /* Its container exited: STOPPING/DEPROVISIONING, desiredStatus STOPPED. */
    s->tasks[t].last = SCHED_ST_DEPROVISIONING;
    s->tasks[t].desired = SCHED_ST_STOPPED;
    decide(s);
    assert_int_equal(started(s), 1);
    assert_int_equal(s->plan.running, 1);
    /* Gone from the list (STOPPED): still one to start, once. */
    drop_task(s, t);
    decide(s);
    assert_int_equal(started(s), 1);
    /* A PENDING one counts as live. */
    add_task(s, 0, 0, 0);
    s->tasks[1].last = SCHED_ST_PENDING;
    decide(s);
    assert_int_equal(started(s), 0);
    assert_int_equal(s->plan.pending, 1);
    assert_int_equal(s->plan.deps[0].pending, 1);
}

static void test_orphan_and_draining(void **state)
{
    struct svc *s = new_svc(state, 1, 200, 100);
    size_t orphan;

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    add_task(s, 0, 100, 1);
    orphan = add_task(s, -1, 50, 1);
    decide(s);
    assert_true(stopped(s, orphan));
    assert_string_equal(find(s, SCHED_ACT_STOP)->text, "Task is not part of any deployment");
    apply(s, 0);
    reap(s);
    /* DeleteService: DRAINING, every task goes, then INACTIVE. */
    s->in.draining = 1;
    decide(s);
    assert_true(stopped(s, 0));
    assert_false(s->plan.inactive);
    apply(s, 0);
    reap(s);
    decide(s);
    assert_true(s->plan.inactive);
    assert_int_equal(started(s), 0);
}

/* The container instance DRAINING: tasks go within minimumHealthyPercent
 * (their replacements cannot be placed), and come back once it is ACTIVE. */
static void test_instance_draining(void **state)
{
    struct svc *s = new_svc(state, 4, 200, 50);
    size_t i;

    s->deps[0].rollout = SCHED_ROLLOUT_COMPLETED;
    for (i = 0; i < 4; i++)
        add_task(s, 0, 100 - (double)i, 1);
    s->in.instance_draining = 1;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 2); /* 4 healthy, 2 must stay */
    assert_true(stopped(s, 3) && stopped(s, 2));   /* the newest first */
    apply(s, 0);
    reap(s);
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 0); /* at the floor */
    assert_int_equal(started(s), 2); /* asked for; RunTask will refuse a DRAINING instance */
    sched_plan_free(&s->plan);
    /* minimumHealthyPercent 0: everything goes. */
    s->in.min_healthy_percent = 0;
    decide(s);
    assert_int_equal(count(s, SCHED_ACT_STOP), 2);
    apply(s, 0);
    for (i = 2; i < s->in.ntasks; i++) /* the starts that were refused */
        s->tasks[i].desired = SCHED_ST_STOPPED;
    reap(s);
    assert_int_equal(s->in.ntasks, 0);
    /* ACTIVE again: the service is brought back to desiredCount. */
    s->in.instance_draining = 0;
    decide(s);
    assert_int_equal(started(s), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_scale_up, teardown),
        cmocka_unit_test_teardown(test_scale_down_unhealthy_first, teardown),
        cmocka_unit_test_teardown(test_rollout_200_100, teardown),
        cmocka_unit_test_teardown(test_rollout_100_50, teardown),
        cmocka_unit_test_teardown(test_rollout_0_100, teardown),
        cmocka_unit_test_teardown(test_grace_period, teardown),
        cmocka_unit_test_teardown(test_container_health, teardown),
        cmocka_unit_test_teardown(test_never_healthy, teardown),
        cmocka_unit_test(test_breaker_threshold),
        cmocka_unit_test_teardown(test_breaker_rollback, teardown),
        cmocka_unit_test_teardown(test_breaker_without_rollback, teardown),
        cmocka_unit_test_teardown(test_rollback_completes, teardown),
        cmocka_unit_test_teardown(test_stopped_replaced, teardown),
        cmocka_unit_test_teardown(test_orphan_and_draining, teardown),
        cmocka_unit_test_teardown(test_instance_draining, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
