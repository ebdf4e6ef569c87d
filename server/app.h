/*
 * app.h - the process-wide pieces of sluiced, built once in main() and
 * passed by pointer (no globals).
 */
#ifndef SL_SERVER_APP_H
#define SL_SERVER_APP_H

#include "server/config.h"

struct store;
struct auth_creds;
struct elb_health;
struct dataplane;
struct srv_metrics;
struct magg;
struct ui;
struct park;
struct guard;
struct acm_ca;

struct app {
    const struct sl_config *cfg;
    struct store *store;
    struct auth_creds *creds; /* NULL: unauthenticated (loopback only) */
    struct elb_health *health; /* data-plane reports; may be NULL */
    struct dataplane *dataplane;
    struct srv_metrics *metrics; /* GET /metrics (server/metrics.h); may be NULL */
    struct magg *agg; /* its proxies' counters summed (metrics_agg.h), fed by reports */
    struct ui *ui;               /* GET /ui (server/ui.h); may be NULL */
    struct park *park;   /* parked watch streams (server/park.h) */
    struct guard *guard; /* browser guard, NULL with credentials (server/guard.h) */
    struct acm_ca *ca;         /* the local certificate authority (RequestCertificate) */
};

#endif
