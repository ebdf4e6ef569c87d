/* Unit tests for server/sched_state.c: ECS task states and the lifecycle
 * step the scheduler takes for each task. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "server/sched_state.h"

static void test_names(void **state)
{
    static const char *const all[] = {"PROVISIONING", "PENDING",  "ACTIVATING",
                                      "RUNNING",      "DEACTIVATING", "STOPPING",
                                      "DEPROVISIONING", "STOPPED"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        assert_string_equal(sched_status_name(sched_status_parse(all[i])), all[i]);
    assert_int_equal(sched_status_parse("running"), SCHED_ST_UNKNOWN);
    assert_int_equal(sched_status_parse(NULL), SCHED_ST_UNKNOWN);
    assert_string_equal(sched_status_name((enum sched_status)99), "");
    assert_int_equal(sched_health_parse("HEALTHY"), SCHED_HEALTH_HEALTHY);
    assert_int_equal(sched_health_parse("UNHEALTHY"), SCHED_HEALTH_UNHEALTHY);
    assert_int_equal(sched_health_parse("UNKNOWN"), SCHED_HEALTH_UNKNOWN);
    assert_true(sched_status_unstarted(SCHED_ST_PROVISIONING));
    assert_false(sched_status_unstarted(SCHED_ST_RUNNING));
    assert_true(sched_status_running(SCHED_ST_STOPPING));
    assert_false(sched_status_running(SCHED_ST_DEPROVISIONING));
}

static struct sched_task_view view(enum sched_status last, enum sched_status desired)
{
    struct sched_task_view v;

    memset(&v, 0, sizeof(v));
    v.last = last;
    v.desired = desired;
    v.known = 1;
    return v;
}

/* The whole walk of a service task behind a load balancer. */
static void test_walk_with_targets(void **state)
{
    struct sched_task_view v = view(SCHED_ST_PROVISIONING, SCHED_ST_RUNNING);

    (void)state;
    v.known = 0;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_PROVISION);
    v.last = SCHED_ST_PENDING;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_START);
    v.last = SCHED_ST_RUNNING;
    v.known = 1;
    v.registered = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_NONE); /* running as desired */
    v.desired = SCHED_ST_STOPPED;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_DEACTIVATE); /* drain first */
    v.last = SCHED_ST_DEACTIVATING;
    v.deregistered = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_NONE); /* draining */
    v.drained = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_STOP);
    v.last = SCHED_ST_STOPPING;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_STOP); /* idempotent re-signal */
    v.exited = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_DEPROVISION);
    v.last = SCHED_ST_DEPROVISIONING;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_FINISH);
    v.last = SCHED_ST_STOPPED;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_FORGET);
    v.known = 0;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_NONE);
}

static void test_other_paths(void **state)
{
    struct sched_task_view v;

    (void)state;
    /* Asked to stop before it started. */
    v = view(SCHED_ST_PENDING, SCHED_ST_STOPPED);
    assert_int_equal(sched_task_next(&v), SCHED_STEP_CANCEL);
    v = view(SCHED_ST_PROVISIONING, SCHED_ST_STOPPED);
    assert_int_equal(sched_task_next(&v), SCHED_STEP_CANCEL);
    /* No targets: straight to the stop signal. */
    v = view(SCHED_ST_RUNNING, SCHED_ST_STOPPED);
    assert_int_equal(sched_task_next(&v), SCHED_STEP_STOP);
    /* Targets still to register. */
    v = view(SCHED_ST_RUNNING, SCHED_ST_RUNNING);
    v.needs_targets = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_ACTIVATE);
    v.last = SCHED_ST_ACTIVATING;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_ACTIVATE);
    v.desired = SCHED_ST_STOPPED; /* never registered: nothing to drain */
    assert_int_equal(sched_task_next(&v), SCHED_STEP_STOP);
    /* A crash while running, registered or not. */
    v = view(SCHED_ST_RUNNING, SCHED_ST_RUNNING);
    v.registered = 1;
    v.exited = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_DEPROVISION);
    /* After a restart: adopt first, whatever else is due. */
    v = view(SCHED_ST_DEACTIVATING, SCHED_ST_STOPPED);
    v.known = 0;
    v.registered = v.deregistered = v.drained = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_ADOPT);
    v.known = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_STOP);
    v = view(SCHED_ST_UNKNOWN, SCHED_ST_RUNNING);
    assert_int_equal(sched_task_next(&v), SCHED_STEP_NONE);
}

/* A runtime that starts in the background: PENDING while it works. */
static void test_background_start(void **state)
{
    struct sched_task_view v = view(SCHED_ST_PENDING, SCHED_ST_RUNNING);

    (void)state;
    v.known = 0;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_START);
    v.known = 1; /* it said SL_EAGAIN */
    assert_int_equal(sched_task_next(&v), SCHED_STEP_NONE);
    v.started = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_STARTED);
    v.started = 0;
    v.exited = 1;
    assert_int_equal(sched_task_next(&v), SCHED_STEP_START_FAILED);
    v.exited = 0;
    v.desired = SCHED_ST_STOPPED; /* stopped while starting */
    assert_int_equal(sched_task_next(&v), SCHED_STEP_CANCEL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_walk_with_targets),
        cmocka_unit_test(test_other_paths),
        cmocka_unit_test(test_background_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
