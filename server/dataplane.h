/*
 * dataplane.h - the control plane's side of the data-plane feed:
 *   GET  /v1/dataplane/snapshot          whole view at one revision
 *   GET  /v1/dataplane/watch?since=REV   NDJSON change stream, heartbeats
 *   POST /v1/dataplane/report            proxy health / in-flight reports
 *                                        (server/dp_report.h)
 */
#ifndef SL_SERVER_DATAPLANE_H
#define SL_SERVER_DATAPLANE_H

#include <microhttpd.h>

#include "routes/api/front.h"
#include "server/app.h"

#define DATAPLANE_HEARTBEAT_MS 5000

struct dataplane;

int dataplane_new(struct app *app, struct dataplane **out);
void dataplane_free(struct dataplane *dp);

/* Serve one /v1/dataplane/ request.  Either fills <out> (plain replies and
 * errors) or queues a streaming response itself and returns MHD_YES with
 * out->status left 0. */
enum MHD_Result dataplane_handle(struct dataplane *dp, struct MHD_Connection *c,
                                 const struct front_request *req, struct front_reply *out);

/* <fn>(proxy id, applied revision, <arg>) for every proxy reporting now. */
void dataplane_each_proxy(struct dataplane *dp, void (*fn)(const char *, uint64_t, void *),
                          void *arg);

/* Wake and end every watch stream (shutdown). */
void dataplane_shutdown(struct dataplane *dp);

#endif
