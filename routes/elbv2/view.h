/*
 * view.h - ELBv2 objects as the REST API shows them: the stored object
 * without internal '_' members, with "id", "arn", "Tags" and "Attributes"
 * always present and the computed members filled in (a target group's
 * LoadBalancerArns, a rule's ListenerArn, the attributes as
 * Describe*Attributes shows them).  Readers; results are new references.
 *
 * Caveats: the member ELB_VIEW_WRITTEN, the REST door's record of what a
 * REST client wrote (routes/api/rest_written.c), is passed through for the
 * door to apply and remove; nothing else '_' is.
 */
#ifndef SL_ROUTES_ELBV2_VIEW_H
#define SL_ROUTES_ELBV2_VIEW_H

#include <jansson.h>

#include "routes/elbv2/elbv2.h"

#define ELB_VIEW_WRITTEN "_rest"

/* The view of (<kind>, <id>); SL_ENOTFOUND when absent. */
int elb_view_get(struct store_txn *txn, const char *kind, const char *id, json_t **out);

/* The view of the object of <kind> with <arn>, its id into <id_out>
 * (ELB_ID_MAX) when non-NULL; SL_ENOTFOUND when absent. */
int elb_view_by_arn(struct store_txn *txn, const char *kind, const char *arn, char *id_out,
                    json_t **out);

/* The views of every object of <kind> (K_LB, K_TG, K_LISTENER, K_RULE) in
 * id order, or only those under <parent_arn> in Describe* order: the target
 * groups a load balancer forwards to, its listeners by port, a listener's
 * rules by priority.  The parent's NotFound when it is unknown. */
int elb_view_list(struct store_txn *txn, const char *kind, const char *parent_arn, json_t **out,
                  struct sl_err *err);

#endif
