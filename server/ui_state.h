/*
 * ui_state.h - what the dashboard (GET /ui) shows, as one JSON document:
 * load balancers with their listeners and rules in priority order, target
 * groups with each target's health, reason and live request rate, and ECS
 * clusters with their services (counts, deployments with rolloutState,
 * recent events) and tasks.
 *
 *   {"revision": N, "time": "...",
 *    "load_balancers": [{name, arn, dns, scheme, state,
 *        "listeners": [{port, protocol, arn, "rules": [{priority, conditions,
 *                                                      actions}]}]}],
 *    "target_groups": [{name, arn, id, protocol, port, health_check,
 *        "targets": [{id, port, state, reason, description, rps, requests}]}],
 *    "clusters": [{name, arn, "services": [{name, status, desired, running,
 *        pending, "deployments": [{id, status, rolloutState, rolloutStateReason,
 *        taskDefinition, desired, running, pending, failed}],
 *        "events": [{createdAt, message}], "tasks": [{id, lastStatus,
 *        desiredStatus, taskDefinition, hostPort, healthStatus}]}]}]}
 *
 * Caveats:
 *  - A read-only projection, built per request from one read transaction,
 *    the health registry and the proxies' aggregate; its size grows with
 *    the configuration (a dashboard of 10,000 targets reads megabytes).
 *  - Conditions and actions are rendered as short text the page shows as
 *    is ("path-pattern /api/...", "forward web").
 *  - Thread-safe.
 */
#ifndef SL_SERVER_UI_STATE_H
#define SL_SERVER_UI_STATE_H

#include <jansson.h>

#include "common/err.h"
#include "server/app.h"

/* The document (new reference), or NULL with <err>. */
json_t *ui_state(struct app *app, struct sl_err *err);

#endif
