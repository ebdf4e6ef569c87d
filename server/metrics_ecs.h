/*
 * metrics_ecs.h - ECS gauges for GET /metrics, read from the store at each
 * scrape: running, desired and pending tasks of every active service, and
 * its deployments counted by rolloutState (COMPLETED, IN_PROGRESS, FAILED).
 *
 * Caveats: one read transaction per scrape; labels cluster and service.
 */
#ifndef SL_SERVER_METRICS_ECS_H
#define SL_SERVER_METRICS_ECS_H

#include "common/buf.h"

struct store;

/* Append the ECS families to <out>.  0 or SL_E* (store failure). */
int mecs_render(struct store *s, struct buf *out);

#endif
