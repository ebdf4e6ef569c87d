/*
 * targets.h - the targets of a target group: RegisterTargets,
 * DeregisterTargets, DescribeTargetHealth, and what the scheduler, the drain
 * finalizer and the data-plane report handler need of them.
 *
 * Caveats:
 * - A target is an object of kind K_TARGET keyed "<tg id>|<Id>|<Port>" (its
 *   target key), so a prefix scan lists one group's targets:
 *     {"id","Target":{"Id","Port"[,"AvailabilityZone"]},
 *      "_state":"registered"|"draining","_since":ISO,"_deadline_ms":N,
 *      "_drain_rev":N}
 *   The group's ARN is not repeated in each: registrations are the hot
 *   write, and every byte of a record is written twice (object and change
 *   record).
 * - A deregistered target drains until its deadline (now + the group's
 *   deregistration_delay.timeout_seconds) or until every proxy reports it
 *   idle (drain.h), then it is deleted.  A group no rule forwards to, or
 *   one with a delay of 0, loses the target at once.
 * - Removing a target forgets its reported health (health.h).
 */
#ifndef SL_ROUTES_ELBV2_TARGETS_H
#define SL_ROUTES_ELBV2_TARGETS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "routes/elbv2/elbv2.h"
#include "routes/elbv2/health.h"

#define ELB_TARGETS_MAX 1000 /* per target group, as on AWS */
#define ELB_TARGET_ID_MAX 63

/* A target as a request names it. */
struct elb_target {
    const char *id;     /* instance id ("i-...") or IP address */
    long port;          /* 1-65535, or 0 for the group's port */
    const char *az;     /* AvailabilityZone, or NULL */
};

/* The shape every target must have whatever its group: an Id of 1-63
 * characters without '|', a port 0-65535.  InvalidTarget otherwise.  Pure.
 * The writers below also check each Id against the group's TargetType. */
int elb_targets_check(const struct elb_target *t, size_t n, struct sl_err *err);

/* RegisterTargets on group <tg_arn>: each target checked, registered (again
 * a no-op; a draining one stops draining).  More than ELB_TARGETS_MAX is
 * TooManyTargets.  Writers. */
int elb_targets_register(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                         const struct elb_target *t, size_t n, struct sl_err *err);

/* DeregisterTargets: each known target starts draining with a deadline of
 * <now_ms> (wall clock) plus the group's delay, or goes at once (see the
 * caveats); unknown ones are ignored, as on AWS.  Writers. */
int elb_targets_deregister(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                           const struct elb_target *t, size_t n, uint64_t now_ms,
                           struct sl_err *err);

/* DescribeTargetHealth: *out gets the TargetHealthDescriptions list, for
 * targets <t> (a target not registered shows unused/Target.NotRegistered),
 * or for every target of the group when <n> is 0. */
int elb_targets_health(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                       const struct elb_target *t, size_t n, json_t **out, struct sl_err *err);

/* One target's state, for callers that act on it (the scheduler). */
struct elb_target_status {
    char id[ELB_TARGET_ID_MAX + 1];
    long port;
    enum elb_target_state state;
    enum elb_reason reason;
    char description[ELB_HEALTH_DESC_MAX]; /* as DescribeTargetHealth words it */
};

/* The state of every target of group <tg_arn>: *out (free() it) gets *n
 * entries in target-key order.  TargetGroupNotFound when the group is gone. */
int elb_targets_status(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                       struct elb_target_status **out, size_t *n, struct sl_err *err);

/* The group's deregistration_delay.timeout_seconds: how long a target of
 * <tg_arn> drains at most. */
int elb_targets_drain_delay(struct store_txn *txn, const char *tg_arn, long *seconds,
                            struct sl_err *err);

/* ---- for the rest of the domain and the data-plane report handler ---- */

/* Non-zero if target <key> is registered or draining. */
int elb_target_exists(struct store_txn *txn, const char *key);

/* Delete target <key>, its drain index entry and its reported health.
 * SL_ENOTFOUND when absent.  Writers. */
int elb_target_remove(struct store_txn *txn, const struct elb_env *env, const char *key);

/* Delete every target of group <tg_id>.  Writers. */
int elb_targets_remove_all(struct store_txn *txn, const struct elb_env *env, const char *tg_id);

/* Forget the reported health of every target <txn> does not know: what a
 * report that raced with a removal may have left.  A target registered
 * after <txn> began loses its health until the next report (about a
 * second).  Returns how many were forgotten. */
size_t elb_targets_sweep(struct store_txn *txn, struct elb_health *h);

/* Index key of a draining target, ordered by deadline:
 * "drain:<deadline ms, 16 digits>:<target key>". */
void elb_drain_key(char *out, size_t cap, uint64_t deadline_ms, const char *target_key);

#endif
