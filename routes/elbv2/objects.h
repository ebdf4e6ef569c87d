/*
 * objects.h - stored ELBv2 objects and their index entries: the plumbing
 * every resource file of the domain shares.  Internal to routes/elbv2/.
 *
 * Caveats:
 * - Objects from elb_by_arn() are private copies the caller may change and
 *   store back; those from elb_by_arn_ro() are shared and READ-ONLY (see
 *   store_get_shared()).
 * - A listener's rules are found through the index, never by scanning: the
 *   non-default rules under "prio:<listener id>:", the default rule through
 *   the listener's "_default_rule" member.  A load balancer's listeners are
 *   under "port:<lb id>:".  Every write that adds or removes one of these
 *   objects keeps those entries in step.
 */
#ifndef SL_ROUTES_ELBV2_OBJECTS_H
#define SL_ROUTES_ELBV2_OBJECTS_H

#include <jansson.h>

#include "routes/elbv2/elbv2.h"

/* The random part of every ARN: 16 hex digits. */
#define ELB_HEX_LEN 16

/* The object of <kind> with <arn>: a new reference to a private copy, or
 * NULL.  Its id is copied to <id_out> (ELB_ID_MAX) when non-NULL. */
json_t *elb_by_arn(struct store_txn *txn, const char *kind, const char *arn, char *id_out);

/* As elb_by_arn(), but shared and READ-ONLY: for functions that only read. */
json_t *elb_by_arn_ro(struct store_txn *txn, const char *kind, const char *arn, char *id_out);

/* Store a new object (borrowed) and index its "arn" member. */
int elb_insert(struct store_txn *txn, const char *kind, const char *id, json_t *obj);

/* Delete an object and the index entry of <arn> (may be NULL). */
int elb_remove(struct store_txn *txn, const char *kind, const char *id, const char *arn);

/* "arn:aws:elasticloadbalancing:<region>:<account>:<resource>" into <out>. */
void elb_arn(char *out, size_t cap, const struct elb_env *env, const char *resource);

/* Child ARN of <parent>: the resource type <from> (":loadbalancer/",
 * ":listener/") replaced by <to>, then "/<hex>" appended.  SL_ERR if the
 * parent does not have that form or the result does not fit <cap>. */
int elb_child_arn(char *out, size_t cap, const char *parent, const char *from, const char *to,
                  const char *hex);

/* The AWS shape of a stored object: a copy without id, arn, Tags,
 * Attributes and '_' members.  New reference. */
json_t *elb_public(json_t *obj);

/* String member <key> of <obj>, "" when absent or not a string (borrowed). */
const char *elb_str(json_t *obj, const char *key);

/* The name index key "name:<kind>:<name>" into <out>. */
void elb_name_key(char *out, size_t cap, const char *kind, const char *name);

/* Ids of the listeners of load balancer <lb_id> (new array of strings), in
 * port order as text ("port:<lb>:80" < "port:<lb>:8080"). */
json_t *elb_lb_listener_ids(struct store_txn *txn, const char *lb_id);

/* Ids of the non-default rules of listener <listener_id> (new array). */
json_t *elb_listener_rule_ids(struct store_txn *txn, const char *listener_id);

/* Sort the array <arr> (in place) with <cmp> over its elements. */
void elb_sort(json_t *arr, int (*cmp)(const void *, const void *));

#endif
