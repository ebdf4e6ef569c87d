/*
 * elbv2_account_actions.c - the ELBv2 account-wide reads: DescribeAccountLimits
 * (the quotas sluice enforces, under AWS's names) and DescribeTrustStores
 * (mutual TLS trust stores: sluice has none, so the list is empty and a
 * named one is not found).
 */
#include <stdio.h>
#include <stdlib.h>

#include "routes/api/elbv2_actions.h"
#include "routes/elbv2/actions.h"
#include "routes/elbv2/conditions.h"
#include "routes/elbv2/listener.h"
#include "routes/elbv2/rule.h"
#include "routes/wire/params.h"

/* The quotas of Application Load Balancers that sluice enforces, with the
 * names DescribeAccountLimits gives them on AWS.  Quotas sluice does not
 * enforce (load balancers and target groups per account) are not listed. */
static const struct {
    const char *name;
    long max;
} limits[] = {
    {"condition-values-per-alb-rule", ELB_VALUES_PER_RULE_MAX},
    {"condition-wildcards-per-alb-rule", ELB_WILDCARDS_PER_RULE_MAX},
    {"listeners-per-application-load-balancer", ELB_LISTENERS_PER_LB_MAX},
    {"rules-per-application-load-balancer", ELB_RULES_PER_LB_MAX},
    {"target-groups-per-action-on-application-load-balancer", ELB_TGS_PER_FORWARD_MAX},
};

json_t *api_elb_describe_account_limits(const struct api_ctx *ctx, json_t *req,
                                        struct sl_err *err)
{
    json_t *all = json_array(), *page, *next, *out = NULL;
    char max[24];
    size_t i;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        snprintf(max, sizeof(max), "%ld", limits[i].max);
        json_array_append_new(all, json_pack("{ss ss}", "Name", limits[i].name, "Max", max));
    }
    if ((page = api_page(req, all, &next, err)) != NULL) {
        out = json_pack("{so}", "Limits", page);
        if (next)
            json_object_set_new(out, "NextMarker", next);
    }
    json_decref(all);
    return out;
}

json_t *api_elb_describe_trust_stores(const struct api_ctx *ctx, json_t *req,
                                      struct sl_err *err)
{
    const char **arns = NULL, **names = NULL;
    size_t narns = 0, nnames = 0;
    json_t *empty = json_array(), *page = NULL, *next = NULL;

    if (p_strv(req, "TrustStoreArns", P_OPTIONAL, 0, 20, &arns, &narns, err) != SL_ERR &&
        p_strv(req, "Names", P_OPTIONAL, 0, 20, &names, &nnames, err) != SL_ERR) {
        if (narns + nnames > 0)
            sl_err_set(err, 400, "TrustStoreNotFound", "One or more trust stores not found");
        else
            page = api_page(req, empty, &next, err);
    }
    free(arns);
    free(names);
    json_decref(empty);
    json_decref(next);
    return page ? json_pack("{so}", "TrustStores", page) : NULL;
}
