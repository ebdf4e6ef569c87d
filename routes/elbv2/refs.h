/*
 * refs.h - which rules forward to which target groups: the "tgref:" and
 * "ruleref:" index entries kept by every write of a rule's actions, read to
 * answer TargetGroup.LoadBalancerArns, "is the group in use" and
 * DeleteTargetGroup's ResourceInUse.  Internal to routes/elbv2/.
 */
#ifndef SL_ROUTES_ELBV2_REFS_H
#define SL_ROUTES_ELBV2_REFS_H

#include <jansson.h>

#include "routes/elbv2/elbv2.h"

/* Record which target groups rule <rule_id> of load balancer <lb_arn>
 * forwards to, per <actions> (normalized; NULL removes every record).
 * Writers only. */
int elb_refs_update(struct store_txn *txn, const char *rule_id, const char *lb_arn,
                    json_t *actions);

/* ARNs of the load balancers whose rules forward to target group <tg_id>
 * (unique, in index order).  New array. */
json_t *elb_tg_lb_arns(struct store_txn *txn, const char *tg_id);

/* Non-zero if some rule forwards to <tg_id>. */
int elb_tg_in_use(struct store_txn *txn, const char *tg_id);

#endif
