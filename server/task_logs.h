/*
 * task_logs.h - a task container's stdout or stderr over REST:
 *   GET /v1/ecs/clusters/{cluster}/tasks/{task}/containers/{name}/logs
 *       [?stream=stdout|stderr]
 * answered as text/plain (the last TASK_LOGS_MAX bytes).
 *
 * Caveats:
 * - The files are the ones the runtime names in the container's "logs"
 *   member: the process runtime writes them as the process runs, the docker
 *   runtime when it removes a stopped container.  While a docker container
 *   runs, its log is read from the engine at --docker-host instead.
 * - Blocking (a file read, or one engine call of up to 10 s): it runs on the
 *   HTTP connection's own thread.
 */
#ifndef SL_SERVER_TASK_LOGS_H
#define SL_SERVER_TASK_LOGS_H

#include "routes/api/front.h"
#include "server/app.h"

#define TASK_LOGS_PREFIX "/v1/ecs/"
#define TASK_LOGS_MAX (4u << 20)

/* Serve <req> (a GET under TASK_LOGS_PREFIX) into <out>, errors in the REST
 * API's format. */
void task_logs_handle(struct app *app, const struct front_request *req, struct front_reply *out);

#endif
