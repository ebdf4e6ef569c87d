/* Unit tests for server/sched_backoff.c: ECS's launch throttle for a service
 * whose tasks keep failing to start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "server/sched_backoff.h"
#include "server/sched_state.h"

static void test_delays(void **state)
{
    (void)state;
    assert_int_equal(sched_backoff_delay_ms(0), 0);
    assert_int_equal(sched_backoff_delay_ms(1), 0); /* the first retry is at once */
    assert_int_equal(sched_backoff_delay_ms(2), 1000);
    assert_int_equal(sched_backoff_delay_ms(3), 2000);
    assert_int_equal(sched_backoff_delay_ms(4), 4000);
    assert_int_equal(sched_backoff_delay_ms(11), 512000);
    assert_int_equal(sched_backoff_delay_ms(12), 1024000);
    assert_int_equal(sched_backoff_delay_ms(13), SCHED_BACKOFF_MAX_MS); /* 2048 s > 27 min */
    assert_int_equal(sched_backoff_delay_ms(200), SCHED_BACKOFF_MAX_MS);
    assert_int_equal(sched_backoff_delay_ms(~0u), SCHED_BACKOFF_MAX_MS);
}

static void test_episode(void **state)
{
    struct sched_backoff b;
    uint64_t now = 5000000;

    (void)state;
    memset(&b, 0, sizeof(b));
    sched_backoff_deployment(&b, "ecs-svc/1");
    assert_true(sched_backoff_may_launch(&b, now));
    assert_int_equal(sched_backoff_failure(&b, now), 0); /* one failure: no throttle */
    assert_true(sched_backoff_may_launch(&b, now));
    assert_int_equal(sched_backoff_failure(&b, now), 1); /* the event is due now ... */
    assert_false(sched_backoff_may_launch(&b, now + 999));
    assert_true(sched_backoff_may_launch(&b, now + 1000));
    assert_int_equal(sched_backoff_failure(&b, now + 1000), 0); /* ... and once */
    assert_false(sched_backoff_may_launch(&b, now + 2999));
    assert_true(sched_backoff_may_launch(&b, now + 3000));
    /* The same deployment keeps its count; a new one starts over. */
    sched_backoff_deployment(&b, "ecs-svc/1");
    assert_int_equal(b.failures, 3);
    sched_backoff_deployment(&b, "ecs-svc/2");
    assert_int_equal(b.failures, 0);
    assert_true(sched_backoff_may_launch(&b, now));
    assert_int_equal(sched_backoff_failure(&b, now), 0);
    assert_int_equal(sched_backoff_failure(&b, now), 1); /* a new episode, a new event */
    sched_backoff_success(&b);
    assert_true(sched_backoff_may_launch(&b, now));
    assert_int_equal(sched_backoff_failure(&b, now), 0);
}

/* Launches per minute of a task that fails at once, retried whenever
 * allowed: bounded by the doubling delays. */
static void test_bounded_launches(void **state)
{
    struct sched_backoff b;
    uint64_t t = 0;
    int launches = 0;

    (void)state;
    memset(&b, 0, sizeof(b));
    for (t = 0; t < 60000; t += 200) /* a pass every 200 ms for a minute */
        if (sched_backoff_may_launch(&b, t)) {
            launches++;
            sched_backoff_failure(&b, t);
        }
    /* at once, at once, +1, +2, +4, +8, +16, +32 s: 7 within the minute */
    assert_int_equal(launches, 7);
}

static void test_classify(void **state)
{
    (void)state;
    assert_true(sched_launch_failed(SCHED_STOP_FAILED_TO_START, 0, 0, 100));
    assert_true(sched_launch_failed(SCHED_STOP_ESSENTIAL_EXITED, 0, 100, 101));
    assert_true(sched_launch_failed(SCHED_STOP_ESSENTIAL_EXITED, 0, 0, 101));
    assert_false(sched_launch_failed(SCHED_STOP_ESSENTIAL_EXITED, 0, 100, 100 + SCHED_STARTUP_S));
    assert_false(sched_launch_failed(SCHED_STOP_ESSENTIAL_EXITED, 1, 100, 101)); /* asked */
    assert_false(sched_launch_failed(SCHED_STOP_USER, 0, 100, 101));
    assert_false(sched_launch_failed(SCHED_STOP_SCHEDULER, 0, 100, 101));
    assert_false(sched_launch_failed(NULL, 0, 100, 101));
}

static void test_proven(void **state)
{
    struct sched_backoff b;

    (void)state;
    memset(&b, 0, sizeof(b));
    assert_false(sched_launch_proven(&b, 100, 200)); /* nothing to prove */
    sched_backoff_failure(&b, 150000);
    sched_backoff_failure(&b, 150000);
    /* A task older than the failures proves nothing about new launches. */
    assert_false(sched_launch_proven(&b, 100, 1000));
    assert_false(sched_launch_proven(&b, 151, 151 + SCHED_STARTUP_S - 1));
    assert_true(sched_launch_proven(&b, 151, 151 + SCHED_STARTUP_S));
    assert_false(sched_launch_proven(&b, 0, 1000)); /* never started */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delays),
        cmocka_unit_test(test_episode),
        cmocka_unit_test(test_bounded_launches),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_proven),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
