/*
 * sched_state.c - ECS task states and the lifecycle step (see sched_state.h).
 */
#include "server/sched_state.h"

#include <stddef.h>
#include <string.h>

static const char *const names[] = {
    [SCHED_ST_UNKNOWN] = "",
    [SCHED_ST_PROVISIONING] = "PROVISIONING",
    [SCHED_ST_PENDING] = "PENDING",
    [SCHED_ST_ACTIVATING] = "ACTIVATING",
    [SCHED_ST_RUNNING] = "RUNNING",
    [SCHED_ST_DEACTIVATING] = "DEACTIVATING",
    [SCHED_ST_STOPPING] = "STOPPING",
    [SCHED_ST_DEPROVISIONING] = "DEPROVISIONING",
    [SCHED_ST_STOPPED] = "STOPPED",
};

const char *sched_status_name(enum sched_status st)
{
    return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] : "";
}

enum sched_status sched_status_parse(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0')
        return SCHED_ST_UNKNOWN;
    for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], s) == 0)
            return (enum sched_status)i;
    return SCHED_ST_UNKNOWN;
}

enum sched_health sched_health_parse(const char *s)
{
    if (s && strcmp(s, "HEALTHY") == 0)
        return SCHED_HEALTH_HEALTHY;
    if (s && strcmp(s, "UNHEALTHY") == 0)
        return SCHED_HEALTH_UNHEALTHY;
    return SCHED_HEALTH_UNKNOWN;
}

int sched_status_unstarted(enum sched_status st)
{
    return st == SCHED_ST_PROVISIONING || st == SCHED_ST_PENDING;
}

int sched_status_running(enum sched_status st)
{
    return st >= SCHED_ST_ACTIVATING && st <= SCHED_ST_STOPPING;
}

enum sched_step sched_task_next(const struct sched_task_view *v)
{
    int stop = v->desired == SCHED_ST_STOPPED;

    switch (v->last) {
    case SCHED_ST_STOPPED:
        return v->known ? SCHED_STEP_FORGET : SCHED_STEP_NONE;
    case SCHED_ST_PROVISIONING:
        return stop ? SCHED_STEP_CANCEL : SCHED_STEP_PROVISION;
    case SCHED_ST_PENDING:
        if (stop)
            return SCHED_STEP_CANCEL;
        if (!v->known)
            return SCHED_STEP_START;
        if (v->exited)
            return SCHED_STEP_START_FAILED;
        return v->started ? SCHED_STEP_STARTED : SCHED_STEP_NONE; /* still starting */
    case SCHED_ST_DEPROVISIONING:
        return SCHED_STEP_FINISH;
    case SCHED_ST_ACTIVATING:
    case SCHED_ST_RUNNING:
    case SCHED_ST_DEACTIVATING:
    case SCHED_ST_STOPPING:
        if (!v->known)
            return SCHED_STEP_ADOPT;
        if (v->exited)
            return SCHED_STEP_DEPROVISION;
        if (!stop)
            return v->needs_targets && v->last <= SCHED_ST_RUNNING ? SCHED_STEP_ACTIVATE
                                                                   : SCHED_STEP_NONE;
        if (v->registered && !v->deregistered)
            return SCHED_STEP_DEACTIVATE;
        /* STOP again while STOPPING: runtime_stop() is idempotent, and an
         * adopted task needs its signal sent by this runtime. */
        if (v->last == SCHED_ST_STOPPING || !v->deregistered || v->drained)
            return SCHED_STEP_STOP;
        return SCHED_STEP_NONE; /* draining */
    case SCHED_ST_UNKNOWN:
        break;
    }
    return SCHED_STEP_NONE;
}
