/*
 * health.h - target health as the data plane reports it: the registry that
 * DescribeTargetHealth reads.
 *
 * Caveats:
 * - In memory only: health is a fact about the running proxies, re-reported
 *   every second or so, so it is not worth a durable write.  After a restart
 *   of sluiced every target shows "initial" until the next report.
 * - Keyed by target key ("<tg id>|<Id>|<Port>", see targets.h).  The
 *   registry holds only targets that exist: the report handler records a
 *   target only after finding it in the store (elb_target_exists()), the
 *   domain forgets a target when it removes it, and elb_targets_sweep()
 *   drops what a race between the two left behind.  So it is bounded by the
 *   targets the store knows.
 * - Thread-safe: one mutex; every call holds it briefly, none does I/O.
 */
#ifndef SL_ROUTES_ELBV2_HEALTH_H
#define SL_ROUTES_ELBV2_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct elb_health;

/* A target's state as DescribeTargetHealth names it. */
enum elb_target_state {
    ELB_TS_INITIAL,
    ELB_TS_HEALTHY,
    ELB_TS_UNHEALTHY,
    ELB_TS_UNUSED,
    ELB_TS_DRAINING,
    ELB_TS_UNAVAILABLE,
};

/* ALB's reason codes (TargetHealth.Reason). */
enum elb_reason {
    ELB_R_NONE,
    ELB_R_REGISTRATION_IN_PROGRESS, /* Elb.RegistrationInProgress */
    ELB_R_INITIAL_HEALTH_CHECKING,  /* Elb.InitialHealthChecking */
    ELB_R_RESPONSE_CODE_MISMATCH,   /* Target.ResponseCodeMismatch */
    ELB_R_TIMEOUT,                  /* Target.Timeout */
    ELB_R_FAILED_HEALTH_CHECKS,     /* Target.FailedHealthChecks */
    ELB_R_NOT_REGISTERED,           /* Target.NotRegistered */
    ELB_R_NOT_IN_USE,               /* Target.NotInUse */
    ELB_R_DEREGISTRATION_IN_PROGRESS, /* Target.DeregistrationInProgress */
    ELB_R_INVALID_STATE,            /* Target.InvalidState */
    ELB_R_IP_UNUSABLE,              /* Target.IpUnusable */
    ELB_R_HEALTH_CHECK_DISABLED,    /* Target.HealthCheckDisabled */
    ELB_R_INTERNAL_ERROR,           /* Elb.InternalError */
};

#define ELB_HEALTH_DESC_MAX 160

/* What one report said about one target. */
struct elb_health_report {
    enum elb_target_state state; /* initial, healthy or unhealthy */
    enum elb_reason reason;      /* ELB_R_NONE when healthy */
    char description[ELB_HEALTH_DESC_MAX];
    uint64_t updated_ms;         /* monotonic */
};

/* "healthy", "Target.Timeout": the wire names.  Static strings. */
const char *elb_target_state_name(enum elb_target_state s);
const char *elb_reason_name(enum elb_reason r);

/* Parse a wire name; SL_OK, or SL_EINVAL when <s> names none. */
int elb_target_state_parse(const char *s, enum elb_target_state *out);
int elb_reason_parse(const char *s, enum elb_reason *out);

int elb_health_new(struct elb_health **out);
/* NULL is a no-op. */
void elb_health_free(struct elb_health *h);

/* Record what was reported about target <key> (copied).  SL_ENOMEM when the
 * entry cannot be made (the registry keeps its old state). */
int elb_health_set(struct elb_health *h, const char *key, const struct elb_health_report *r);

/* Record <r> about <key> only if the registry knows <key> already:
 * SL_ENOTFOUND (nothing recorded) when it does not. */
int elb_health_update(struct elb_health *h, const char *key, const struct elb_health_report *r);

/* Copy the last report about <key> into *out; SL_ENOTFOUND when none, or
 * when <h> is NULL. */
int elb_health_get(struct elb_health *h, const char *key, struct elb_health_report *out);

/* Forget target <key>, if known.  NULL <h> is a no-op. */
void elb_health_forget(struct elb_health *h, const char *key);

/* Call <cb> for a copy of every key (taken under the lock, called without
 * it, so <cb> may call elb_health_forget()).  Returns SL_ENOMEM when the
 * copy cannot be made. */
int elb_health_keys(struct elb_health *h, void (*cb)(const char *key, void *arg), void *arg);

/* Number of targets known. */
size_t elb_health_count(struct elb_health *h);

#endif
