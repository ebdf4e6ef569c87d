/*
 * elbv2.h - the ELBv2 domain: what every part of it shares.
 *
 * The domain is a set of C functions over a store transaction, one per
 * operation, with typed arguments and a typed error (struct sl_err: AWS
 * code, message, HTTP status).  The headers beside this one declare them per
 * resource: lb.h, listener.h, rule.h (with conditions.h, actions.h), tg.h,
 * targets.h, tags.h, drain.h, view.h (the REST views), health.h (what the
 * data plane reports).
 *
 * Caveats:
 * - Writers take a write transaction and run inside a store_write()
 *   callback, on the store's writer thread: they must not block, and
 *   whatever they changed is discarded if they (or a later step of the same
 *   callback) fail, so a caller may run several in one transaction.  Readers
 *   take any transaction.  Validation that needs no store is done before,
 *   on the caller's thread, by the *_check() and *_normalize() functions:
 *   a writer assumes its arguments passed them, as each header says.
 * - Strings and arrays in argument structs are borrowed for the call.
 *   Results are new references the caller owns.  Describe-style functions
 *   return the AWS-shaped canonical response pieces (json_t) built here;
 *   the front doors only wrap and page them.
 * - Stored objects are the AWS API shapes (LoadBalancer, Listener, Rule,
 *   TargetGroup) plus "id" (the REST id), "arn", "Tags" [{Key,Value}],
 *   "Attributes" [{Key,Value}] and internal members whose names start with
 *   '_' (the data-plane feed and existing data directories read them; the
 *   store owns migrations).  No public view shows an '_' member.
 *
 * Store kinds: K_LB, K_TG, K_LISTENER, K_RULE keyed by REST id; K_TARGET
 * keyed "<tg id>|<Id>|<Port>".  Index keys (store_index_*):
 *   "arn:<arn>"                -> "<kind>/<id>"
 *   "name:<kind>:<name>"       -> id             (lb, tg names are unique)
 *   "port:<lb id>:<port>"      -> listener id
 *   "prio:<listener id>:<n>"   -> rule id
 *   "tgref:<tg id>:<rule id>"  -> load balancer ARN (the rule forwards to the tg)
 *   "ruleref:<rule id>:<tg id>"-> ""             (reverse of tgref)
 *   "drain:<deadline>:<target>"-> target key     (draining targets by deadline)
 */
#ifndef SL_ROUTES_ELBV2_ELBV2_H
#define SL_ROUTES_ELBV2_ELBV2_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "store/store.h"

#define K_LB "lb"
#define K_TG "tg"
#define K_LISTENER "listener"
#define K_RULE "rule"
#define K_TARGET "target"

#define ELB_ID_MAX 129 /* REST ids: 1-128 of [A-Za-z0-9._-], plus the NUL */
#define ELB_ARN_MAX 512
#define ELB_NAME_MAX 32 /* load balancer and target group names */
#define ELB_TAGS_MAX 50
#define ELB_TARGET_KEY_MAX (ELB_ID_MAX + 96)

struct elb_health;

/* Where a call comes from: the ARNs it mints, the health the data plane
 * reported.  Borrowed; <health> may be NULL (every target then shows the
 * state it would have before any report). */
struct elb_env {
    const char *region;
    const char *account;
    struct elb_health *health;
};

/* A {Key,Value} pair: a tag, or an attribute to set. */
struct elb_kv {
    const char *key;
    const char *value;
};

/* Validate a REST/ELB resource id: 1-128 of [A-Za-z0-9._-].  Non-zero when
 * valid.  Pure. */
int elb_valid_id(const char *id);

/* An LB or TG name per AWS: 1-32 alphanumerics or hyphens, no leading or
 * trailing hyphen.  <what> names it in the ValidationError.  Pure. */
int elb_name_check(const char *name, const char *what, struct sl_err *err);

/* A target group name: elb_name_check() and, as AWS's pattern
 * (?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$ says, no "--".  Pure. */
int elb_tg_name_check(const char *name, struct sl_err *err);

/* Kind and id of any resource <arn>; SL_ENOTFOUND if unknown.  <kind> gets
 * one of the K_* names. */
int elb_resolve_arn(struct store_txn *txn, const char *arn, char kind[16], char id[ELB_ID_MAX]);

/* Fill <err> with a 500 for a failed store call and return SL_EIO. */
int elb_store_fail(struct sl_err *err, const char *what);

#endif
