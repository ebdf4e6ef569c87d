/*
 * runtime_docker.h - the task runtime that runs ECS tasks as real containers
 * through the Docker Engine REST API (Docker Engine, or Podman's Docker-
 * compatible service), behind the interface of runtime.h.
 *
 * Caveats:
 * - No runtime call blocks the scheduler thread: engine calls run on a few
 *   worker threads, and a reader thread follows GET /events, so a container
 *   that dies is seen within milliseconds.  runtime_start() therefore answers
 *   SL_EAGAIN and runtime_poll() reports RT_STARTING until the containers
 *   run (see runtime.h).
 * - Containers carry the ECS agent's labels plus sluice's own (an owner id
 *   kept in <tasks_dir>/runtime-owner, the task's store key, the metadata
 *   id): a restarted sluiced adopts them, and removes those of tasks its
 *   store no longer runs.  Containers of other owners are never touched.
 * - runtime_docker_new() talks to the engine before returning (ping, list
 *   and inspect our containers, the bridge's gateway): call it at start-up,
 *   not from the scheduler's loop.
 * - Ports are published on <host_addr>; hostPort 0 takes the port the engine
 *   assigns (never one another tracked task holds: such a container is
 *   recreated).  --task-port-range does not apply.
 * - Logs: a stopped container's stdout and stderr are copied to
 *   <tasks_dir>/<task id>/<container>/stdout.log and stderr.log before it is
 *   removed.
 */
#ifndef SL_SERVER_RUNTIME_DOCKER_H
#define SL_SERVER_RUNTIME_DOCKER_H

#include <stddef.h>

#include "common/err.h"
#include "server/runtime.h"

struct store;

struct runtime_docker_config {
    struct runtime_config base;
    const char *docker_host;   /* "unix:///var/run/docker.sock" */
    const char *host_addr;     /* where ports are published; "127.0.0.1" */
    const char *metadata_addr; /* task metadata listener "ADDR[:PORT]"; "" or NULL:
                                * the bridge network's gateway, port remembered
                                * in <tasks_dir>/metadata-port */
    struct store *store;       /* read by the metadata endpoint (borrowed) */
    /* Whether task <key> is still meant to run (in the store, not STOPPED);
     * asked at start-up for each container found.  NULL: every one is. */
    int (*task_live)(void *arg, const char *key);
    void *live_arg;
};

/* Does an engine answer GET /_ping at <host>?  1 with <desc> ("Docker Engine
 * 20.10.24, API 1.41"), or 0 with <why>.  Blocks up to about 2 s. */
int runtime_docker_probe(const char *host, char *desc, size_t dcap, char *why, size_t wcap);

/* The docker runtime.  SL_OK with *out; SL_ERR with <err> when the engine
 * cannot be reached or the metadata listener cannot bind. */
int runtime_docker_new(const struct runtime_docker_config *cfg, struct runtime **out,
                       struct sl_err *err);

#endif
