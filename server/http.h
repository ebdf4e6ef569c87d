/*
 * http.h - sluiced's HTTP front door (libmicrohttpd on a fixed set of epoll
 * threads, connections handed over by an accept thread of its own).  Routes `POST /` to the AWS
 * protocols, `/v1/...` to the REST API, and serves /healthz and
 * /openapi.json.  Authenticates each request when credentials are
 * configured, keeps web pages out when they are not (guard.h), bounds
 * connections in total and per client address, and cuts off slow clients.
 *
 * Caveats:
 * - app->park must exist (park.h) and outlive http_stop(); app->guard is
 *   used when set.
 * - The open-file soft limit is raised to fit --max-connections.
 */
#ifndef SL_SERVER_HTTP_H
#define SL_SERVER_HTTP_H

#include "common/err.h"
#include "server/app.h"

struct http_server;

/* Bind and start serving.  On success *out owns the server. */
int http_start(struct app *app, struct http_server **out, struct sl_err *err);

/* The bound port (useful with --listen HOST:0). */
int http_port(const struct http_server *h);

/* Stop accepting, let requests on the pool finish and their answers go out
 * (up to 5 s), end watch streams, release.  NULL no-op. */
void http_stop(struct http_server *h);

#endif
