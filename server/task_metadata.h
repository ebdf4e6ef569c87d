/*
 * task_metadata.h - the ECS task metadata endpoint, version 4, served to the
 * containers of the docker runtime: GET /v4/<id> (the container) and
 * GET /v4/<id>/task (its task), the shapes ECS's agent serves at
 * $ECS_CONTAINER_METADATA_URI_V4.
 *
 * Caveats:
 * - Its own small listener, read-only, on an address a bridge container can
 *   reach (the bridge's gateway): sluiced's API stays on loopback, and
 *   nothing of it is served here.  Bound with IP_FREEBIND, so an address that
 *   appears only with the first container (Podman's bridge) still works.
 * - <id> is an unguessable 128-bit hex token per container; an unknown one
 *   gets 404.  /stats paths are not served (404).
 * - Answers come from the store (task status, ports, health) plus the
 *   Docker facts the runtime registered (container id and name, image id,
 *   addresses, timestamps).
 * - Thread-safety: every function may be called from any thread.
 */
#ifndef SL_SERVER_TASK_METADATA_H
#define SL_SERVER_TASK_METADATA_H

#include <jansson.h>

#include "common/err.h"

struct store;
struct task_metadata;

/* Listen on <addr>:<port> (port 0: any free one).  <store> is borrowed and
 * must outlive the endpoint.  SL_OK with *out, or SL_ERR with <err>. */
int task_metadata_start(struct store *store, const char *addr, int port,
                        struct task_metadata **out, struct sl_err *err);

/* "http://ADDR:PORT", for ECS_CONTAINER_METADATA_URI_V4 (borrowed). */
const char *task_metadata_base(const struct task_metadata *tm);

int task_metadata_port(const struct task_metadata *tm);

/* Register container <name> of task <task_key> under <id>, with <facts>
 * (stolen): DockerId, DockerName, Image, ImageID, Labels, CreatedAt,
 * StartedAt, Networks, LogDriver, LogOptions.  Replaces an earlier entry. */
void task_metadata_put(struct task_metadata *tm, const char *id, const char *task_key,
                       const char *name, json_t *facts);

void task_metadata_del(struct task_metadata *tm, const char *id);

/* Stop listening and free everything.  NULL is a no-op. */
void task_metadata_stop(struct task_metadata *tm);

/* The v4 shapes, for tests: the container document of <name> in stored task
 * <task> with task definition <td> (may be NULL) and <facts> (borrowed). */
json_t *task_metadata_container(json_t *task, json_t *td, const char *name, json_t *facts);

#endif
