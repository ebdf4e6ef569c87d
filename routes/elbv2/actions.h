/*
 * actions.h - the actions of a listener (DefaultActions) or rule
 * (Actions): forward, redirect and fixed-response.
 *
 * Normalized actions are what AWS returns and what the data plane reads:
 * every action has its Order, a forward both TargetGroupArn (when it names
 * one group) and ForwardConfig {TargetGroups:[{TargetGroupArn,Weight}],
 * TargetGroupStickinessConfig}.
 */
#ifndef SL_ROUTES_ELBV2_ACTIONS_H
#define SL_ROUTES_ELBV2_ACTIONS_H

#include <jansson.h>

#include "routes/elbv2/elbv2.h"

#define ELB_TGS_PER_FORWARD_MAX 5 /* target groups per forward action, as on AWS */

/* Validate an action list (borrowed) of request member <member> against
 * AWS's limits and the action types sluice serves (authenticate-* and
 * jwt-validation are refused); returns the normalized list (new
 * reference), sorted by Order, or NULL with <err>.  Pure: thread-safe. */
json_t *elb_actions_normalize(json_t *actions, const char *member, struct sl_err *err);

/* Every target group a normalized list forwards to exists:
 * TargetGroupNotFound otherwise. */
int elb_actions_check(struct store_txn *txn, json_t *actions, struct sl_err *err);

#endif
