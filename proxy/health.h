/*
 * health.h - active HTTP health checks, one thread with its own ev loop.
 *
 * Caveats:
 *  - Settings come from the current table's target groups; a check record
 *    lives in px_target.hc and is touched by this thread only.
 *  - Transitions (AWS): initial -> healthy after one passing check, or ->
 *    unhealthy after UnhealthyThresholdCount failures; healthy -> unhealthy
 *    after UnhealthyThresholdCount consecutive failures; unhealthy -> healthy
 *    after HealthyThresholdCount consecutive passes.  Draining targets are not
 *    checked.  Disabled checks leave the target "unavailable".
 */
#ifndef SL_PROXY_HEALTH_H
#define SL_PROXY_HEALTH_H

struct px_health;

int px_health_start(struct px_health **out);
/* Thread-safe: re-read the current table. */
void px_health_wake(struct px_health *h);
void px_health_stop(struct px_health *h);

#endif
