/*
 * sched_backoff.c - the service launch throttle (see sched_backoff.h).
 */
#include "server/sched_backoff.h"

#include <stdio.h>
#include <string.h>

#include "server/sched_state.h"

uint64_t sched_backoff_delay_ms(unsigned failures)
{
    uint64_t d;

    if (failures < 2)
        return 0;
    if (failures - 2 >= 21) /* 2^21 s is past the ceiling already */
        return SCHED_BACKOFF_MAX_MS;
    d = 1000ULL << (failures - 2);
    return d < SCHED_BACKOFF_MAX_MS ? d : SCHED_BACKOFF_MAX_MS;
}

void sched_backoff_deployment(struct sched_backoff *b, const char *primary)
{
    if (strcmp(b->deployment, primary) == 0)
        return;
    memset(b, 0, sizeof(*b));
    snprintf(b->deployment, sizeof(b->deployment), "%s", primary);
}

int sched_backoff_failure(struct sched_backoff *b, uint64_t now_ms)
{
    uint64_t delay;

    if (b->failures < 1000)
        b->failures++;
    b->last_failure_ms = now_ms;
    delay = sched_backoff_delay_ms(b->failures);
    b->next_launch_ms = now_ms + delay;
    if (delay > 0 && !b->throttled) {
        b->throttled = 1;
        return 1;
    }
    return 0;
}

void sched_backoff_success(struct sched_backoff *b)
{
    b->failures = 0;
    b->next_launch_ms = 0;
    b->throttled = 0;
}

int sched_backoff_may_launch(const struct sched_backoff *b, uint64_t now_ms)
{
    return now_ms >= b->next_launch_ms;
}

int sched_launch_failed(const char *stop_code, int requested, double started_at,
                        double stopped_at)
{
    if (requested || stop_code == NULL)
        return 0;
    if (strcmp(stop_code, SCHED_STOP_FAILED_TO_START) == 0)
        return 1;
    if (strcmp(stop_code, SCHED_STOP_ESSENTIAL_EXITED) != 0)
        return 0;
    return started_at <= 0 || stopped_at - started_at < SCHED_STARTUP_S;
}

int sched_launch_proven(const struct sched_backoff *b, double started_at, double now)
{
    if (b->failures == 0 || started_at <= 0)
        return 0;
    return started_at * 1000.0 >= (double)b->last_failure_ms &&
           now - started_at >= SCHED_STARTUP_S;
}
