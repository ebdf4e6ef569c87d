/*
 * metrics_agg.h - every proxy's counters, from their reports
 * (POST /v1/dataplane/report, see proxy/metrics_report.h), summed into the
 * data plane's families of GET /metrics (common/prom.h) and the dashboard's
 * per-target request rates.
 *
 * A proxy reports totals since it started.  Per object (listener or
 * target) the aggregate is a base plus each live proxy's latest totals;
 * a proxy whose totals go down (it restarted under the same id), that
 * stops reporting an object, or that is forgotten, has what it had counted
 * folded into the base, so a sum never goes down while the object exists.
 *
 * Caveats:
 *  - Cardinality is what the proxies report: an object no live proxy
 *    reports any more is dropped with its base (a target that leaves
 *    leaves the metrics).
 *  - Thread-safe (one mutex; reports and scrapes are not per request).
 */
#ifndef SL_SERVER_METRICS_AGG_H
#define SL_SERVER_METRICS_AGG_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"

struct magg;

int magg_new(struct magg **out);
void magg_free(struct magg *a);

/* Take in proxy <proxy>'s report <body> (borrowed), received at <now_ms>
 * (monotonic).  Members that do not parse are skipped. */
void magg_ingest(struct magg *a, const char *proxy, json_t *body, uint64_t now_ms);
/* Proxy <proxy> is gone (its counts stay in the totals). */
void magg_forget(struct magg *a, const char *proxy);

/* The data plane's families, summed, appended to <out>.  0 or SL_ENOMEM. */
int magg_render(struct magg *a, struct buf *out);

/* Per target of <tg_id>... for the dashboard: <fn>(key, requests total,
 * requests per second over the last reports, arg) for every target. */
void magg_each_target(struct magg *a,
                      void (*fn)(const char *key, uint64_t total, double rps, void *arg),
                      void *arg);

#endif
