/*
 * metrics_log.h - the data plane's log lines a person reads: a target's
 * health transition names its target group, the target and ALB's reason
 * (code and description, as DescribeTargetHealth shows them); with
 * --log-format json the same as fields (target_group, target, state,
 * reason, description).
 *
 * Caveats: thread-safe; reads the table it is given.
 */
#ifndef SL_PROXY_METRICS_LOG_H
#define SL_PROXY_METRICS_LOG_H

#include <stddef.h>

#include "proxy/table.h"

/* ALB's reason code for <reason> (enum px_reason; "" for none) and its
 * description into <desc>; <status> is the last health-check status. */
const char *pxm_reason_text(int reason, int status, char *desc, size_t cap);

/* Log that target <t> of the group in slot <slot> of table <tab> (NULL:
 * unknown) turned <state> (enum px_health_state) for <reason>. */
void pxm_log_health(const struct px_table *tab, int slot, const struct px_target *t, int state,
                    int reason);

#endif
