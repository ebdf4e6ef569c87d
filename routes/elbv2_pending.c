/* Temporary weak definitions so the tree links while operation families are
 * written; each real definition overrides its weak one. */
#include "routes/elbv2.h"

#define PENDING(fn)                                                                             \
    __attribute__((weak)) json_t *fn(struct op_ctx *c, json_t *r, struct sl_err *e)             \
    {                                                                                           \
        sl_err_set(e, 400, "InvalidAction", "%s is not available yet", #fn);                    \
        return NULL;                                                                            \
    }
PENDING(op_create_load_balancer)
PENDING(op_describe_load_balancers)
PENDING(op_delete_load_balancer)
PENDING(op_describe_load_balancer_attributes)
PENDING(op_modify_load_balancer_attributes)
PENDING(op_create_listener)
PENDING(op_describe_listeners)
PENDING(op_modify_listener)
PENDING(op_delete_listener)
PENDING(op_create_rule)
PENDING(op_describe_rules)
PENDING(op_modify_rule)
PENDING(op_set_rule_priorities)
PENDING(op_delete_rule)
PENDING(op_create_target_group)
PENDING(op_describe_target_groups)
PENDING(op_modify_target_group)
PENDING(op_delete_target_group)
PENDING(op_describe_target_group_attributes)
PENDING(op_modify_target_group_attributes)
PENDING(op_register_targets)
PENDING(op_deregister_targets)
PENDING(op_describe_target_health)

__attribute__((weak)) json_t *elb_actions_param(struct store_txn *txn, json_t *actions,
                                                const char *member, struct sl_err *err)
{
    return json_incref(actions);
}
