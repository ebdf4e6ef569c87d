/*
 * lbstate.h - load balancers that a data-plane proxy cannot fully serve,
 * as the proxies report them: a listener whose port it cannot bind (taken
 * by another process, an address it may not use).  DescribeLoadBalancers
 * shows such a load balancer as State active_impaired with the reason, and
 * active again once every proxy that reported it has bound the port.
 *
 * Caveats:
 * - In memory only, like target health (health.h): a fact about running
 *   proxies, replaced by each report of a proxy and forgotten with it.
 * - Reached through the health registry (elb_health_lbstate()), which
 *   owns it, so every holder of an elb_env has it.
 * - Thread-safe: one mutex, held briefly, no I/O.
 */
#ifndef SL_ROUTES_ELBV2_LBSTATE_H
#define SL_ROUTES_ELBV2_LBSTATE_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

#define ELB_LBSTATE_ARN_MAX 512
#define ELB_LBSTATE_REASON_MAX 256
#define ELB_LBSTATE_PER_PROXY 64 /* impaired load balancers kept per proxy */

struct elb_lbstate;
struct elb_health;

struct elb_lb_impaired {
    char arn[ELB_LBSTATE_ARN_MAX];       /* the load balancer */
    char reason[ELB_LBSTATE_REASON_MAX]; /* e.g. "Listener port 8080 ..." */
};

int elb_lbstate_new(struct elb_lbstate **out);
/* NULL is a no-op. */
void elb_lbstate_free(struct elb_lbstate *s);

/* The registry that <h> owns; NULL when <h> is NULL. */
struct elb_lbstate *elb_health_lbstate(struct elb_health *h);

/* What proxy <proxy_id> reports now: <v>[0..<n>) (copied; at most
 * ELB_LBSTATE_PER_PROXY kept) replaces all it said before; n == 0 clears
 * it.  SL_ENOMEM keeps the old state. */
int elb_lbstate_report(struct elb_lbstate *s, const char *proxy_id,
                       const struct elb_lb_impaired *v, size_t n);

/* Forget proxy <proxy_id> (it stopped reporting). */
void elb_lbstate_forget(struct elb_lbstate *s, const char *proxy_id);

/* Set State {Code active_impaired, Reason} in the DescribeLoadBalancers
 * entry <lb> (modified in place) when a proxy reports its LoadBalancerArn
 * impaired; an entry in another state than active is left alone. */
void elb_lbstate_apply(struct elb_lbstate *s, json_t *lb);

#endif
