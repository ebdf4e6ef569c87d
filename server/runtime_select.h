/*
 * runtime_select.h - the task runtime --runtime names: "docker", "process",
 * or "auto" (docker when a Docker Engine API answers at --docker-host, else
 * process).  One log line says which was chosen and why.
 *
 * Caveats:
 * - Talks to the engine (a ping, then the docker runtime's start-up
 *   inventory): call it once at start-up, before the scheduler's loop.
 */
#ifndef SL_SERVER_RUNTIME_SELECT_H
#define SL_SERVER_RUNTIME_SELECT_H

#include "common/err.h"
#include "server/runtime.h"

struct app;

/* The runtime for <app>'s configuration, working in <rc> (borrowed for the
 * call).  SL_OK with *out; SL_ERR with <err> (an explicit --runtime docker
 * whose engine does not answer, or the runtime cannot start). */
int runtime_select(struct app *app, const struct runtime_config *rc, struct runtime **out,
                   struct sl_err *err);

#endif
