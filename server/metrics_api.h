/*
 * metrics_api.h - API requests by action and status, with a latency
 * histogram per action (part of server/metrics.h).
 *
 * Caveats: <action> is copied (up to MAPI_ACTION_MAX - 1 bytes): callers
 * keep its values to a bounded set (api_log.h); one mutex; the table grows
 * by (action, status) pairs seen.
 */
#ifndef SL_SERVER_METRICS_API_H
#define SL_SERVER_METRICS_API_H

#include <stdint.h>

#include "common/buf.h"

#define MAPI_BUCKETS 14
#define MAPI_ACTION_MAX 96

struct mapi;

int mapi_new(struct mapi **out);
void mapi_free(struct mapi *m);
void mapi_observe(struct mapi *m, const char *action, int status, uint64_t us);
void mapi_render(struct mapi *m, struct buf *out);

#endif
