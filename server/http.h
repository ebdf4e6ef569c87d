/*
 * http.h - sluiced's HTTP front door (libmicrohttpd, a thread per
 * connection).  Routes `POST /` to the AWS protocols, `/v1/...` to the REST
 * API, and serves /healthz and /openapi.json.  Authenticates each request
 * when credentials are configured.
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

/* Stop accepting, let in-flight requests finish, release.  NULL no-op. */
void http_stop(struct http_server *h);

#endif
