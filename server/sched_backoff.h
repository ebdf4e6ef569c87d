/*
 * sched_backoff.h - ECS's service throttle: a service whose tasks keep
 * failing to start launches new ones ever more slowly.
 *
 * Caveats:
 * - Pure: the caller passes the clock (wall milliseconds).  One struct per
 *   service, kept by the scheduler in memory: a restarted sluiced starts
 *   over (first retries at once, then slower again).
 * - A failed launch is a task that stopped without being asked to before it
 *   had run SCHED_STARTUP_S seconds: its start failed (TaskFailedToStart) or
 *   its essential container exited (EssentialContainerExited) that soon.  ECS
 *   counts only tasks that never reached RUNNING; sluice's process runtime
 *   reports RUNNING as soon as the process is spawned, so "reached RUNNING"
 *   here means "kept running for SCHED_STARTUP_S".  Tasks the scheduler
 *   stops (failed health checks, scaling) are not launch failures.
 * - Delays: none after the first failure; from the second consecutive one
 *   1 s, doubling with each further failure, at most 27 minutes (ECS's
 *   documented ceiling).  The event "(service NAME) is unable to
 *   consistently start tasks successfully." is due once per throttled
 *   episode, when the delays begin.
 * - The throttle ends when a task launched after the last failure has run
 *   SCHED_STARTUP_S, or when the service gets a new PRIMARY deployment
 *   (UpdateService, a rollback), as on ECS.
 */
#ifndef SL_SERVER_SCHED_BACKOFF_H
#define SL_SERVER_SCHED_BACKOFF_H

#include <stdint.h>

#define SCHED_STARTUP_S 10
#define SCHED_BACKOFF_MAX_MS (27ULL * 60 * 1000)

struct sched_backoff {
    char deployment[32];      /* the PRIMARY deployment the count is about */
    unsigned failures;        /* consecutive failed launches */
    uint64_t last_failure_ms; /* wall clock */
    uint64_t next_launch_ms;  /* no launch before this */
    int throttled;            /* the event of this episode is due or written */
};

/* The delay after <failures> consecutive failed launches. */
uint64_t sched_backoff_delay_ms(unsigned failures);

/* Start over when <primary> (a deployment id) is not the one counted. */
void sched_backoff_deployment(struct sched_backoff *b, const char *primary);

/* Record a failed launch at <now_ms>.  Returns 1 when this failure begins a
 * throttled episode (write the event), else 0. */
int sched_backoff_failure(struct sched_backoff *b, uint64_t now_ms);

/* A launch succeeded: no more delays. */
void sched_backoff_success(struct sched_backoff *b);

/* Non-zero when the service may launch tasks at <now_ms>. */
int sched_backoff_may_launch(const struct sched_backoff *b, uint64_t now_ms);

/* Non-zero if a task that stopped with <stop_code> (NULL: none) was a failed
 * launch: not <requested> (desiredStatus STOPPED before it stopped), and it
 * failed to start or ran less than SCHED_STARTUP_S (epoch seconds
 * <started_at>, 0 when it never started, to <stopped_at>). */
int sched_launch_failed(const char *stop_code, int requested, double started_at,
                        double stopped_at);

/* Non-zero if a task RUNNING since <started_at> proves launches work again
 * at <now> (epoch seconds): it started after the last failure and has run
 * SCHED_STARTUP_S. */
int sched_launch_proven(const struct sched_backoff *b, double started_at, double now);

#endif
