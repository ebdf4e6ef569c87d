/*
 * conditions.h - the conditions of a listener rule, validated and
 * normalized before any store access.
 */
#ifndef SL_ROUTES_ELBV2_CONDITIONS_H
#define SL_ROUTES_ELBV2_CONDITIONS_H

#include <jansson.h>

#include "common/err.h"

#define ELB_VALUES_PER_RULE_MAX 5    /* condition values per rule, as on AWS */
#define ELB_WILDCARDS_PER_RULE_MAX 5 /* wildcards per rule, as on AWS */

/* Validate a RuleConditionList (borrowed) against AWS's rules for every
 * condition type, in both the legacy "Values" and the *Config forms, and the
 * per-rule limits (one each of host-header, path-pattern,
 * http-request-method, source-ip; 5 values; 5 wildcards).  Returns the
 * normalized list (new reference), each condition carrying its *Config form
 * (and "Values" too for host-header and path-pattern), as AWS returns it and
 * as the data plane reads it; or NULL with a ValidationError in <err>.
 * Pure: no store access; thread-safe. */
json_t *elb_conditions_normalize(json_t *conds, struct sl_err *err);

#endif
