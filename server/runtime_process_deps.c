/*
 * runtime_process_deps.c - the process runtime's dependsOn: each
 * container's dependencies read from its definition and checked as the
 * docker runtime checks them, and whether one holds.
 */
#include "server/runtime_process_int.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

static json_t *container_def(json_t *td, const char *name)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "name")) ?: "", name) == 0)
            return c;
    return NULL;
}

const char *const rp_cond_names[] = {"START", "COMPLETE", "SUCCESS", "HEALTHY"};

/* Container <i>'s dependsOn (in <td>), checked as the docker runtime checks
 * them: SL_OK, or SL_ERR with <reason>. */
int rp_plan_deps(struct rt_task *t, int i, json_t *td, char *reason, size_t rlen)
{
    struct rt_ctr *c = &t->c[i];
    json_t *cd = container_def(td, c->name), *d;
    size_t k;
    int j, cond;

    c->start_ms = json_is_integer(json_object_get(cd, "startTimeout"))
                      ? (long)json_integer_value(json_object_get(cd, "startTimeout")) * 1000
                      : RT_DEFAULT_START_MS;
    json_array_foreach(json_object_get(cd, "dependsOn"), k, d) {
        const char *on = json_string_value(json_object_get(d, "containerName"));
        const char *cs = json_string_value(json_object_get(d, "condition"));
        for (j = 0; j < t->n && (on == NULL || strcmp(t->c[j].name, on) != 0); j++)
            ;
        for (cond = 0; cond < 4 && (cs == NULL || strcmp(rp_cond_names[cond], cs) != 0); cond++)
            ;
        if (j == t->n || j == i) {
            snprintf(reason, rlen, "CannotCreateContainerError: dependsOn: '%.100s' is not "
                     "another container of the task", on ? on : "");
            return SL_ERR;
        }
        if (cond == 4) {
            snprintf(reason, rlen, "CannotCreateContainerError: dependsOn: condition must be "
                     "START, COMPLETE, SUCCESS or HEALTHY");
            return SL_ERR;
        }
        if (cond == RP_HEALTHY &&
            !json_object_get(container_def(td, t->c[j].name), "healthCheck")) {
            snprintf(reason, rlen, "CannotCreateContainerError: dependsOn: %.100s has no "
                     "healthCheck to wait for", t->c[j].name);
            return SL_ERR;
        }
        if ((cond == RP_COMPLETE || cond == RP_SUCCESS) && t->c[j].essential) {
            snprintf(reason, rlen, "CannotCreateContainerError: dependsOn: %.100s is essential "
                     "and cannot be waited on to %s", t->c[j].name, rp_cond_names[cond]);
            return SL_ERR;
        }
        c->deps[c->ndeps].idx = j;
        c->deps[c->ndeps].cond = cond;
        c->ndeps++;
    }
    return SL_OK;
}

/* 1 if the containers' dependencies form a cycle. */
int rp_has_cycle(const struct rt_task *t)
{
    int done[RT_MAX_CONTAINERS] = {0}, i, j, left, progress;

    do {
        for (progress = left = i = 0; i < t->n; i++) {
            int ready = 1;
            if (done[i])
                continue;
            left++;
            for (j = 0; j < t->c[i].ndeps; j++)
                ready &= done[t->c[i].deps[j].idx];
            if (ready)
                done[i] = progress = 1;
        }
    } while (progress);
    return left > 0;
}

/* 1: dependency <j> of container <c> holds, 0: not yet, -1: it never will. */
int rp_dep_state(const struct rt_task *t, const struct rt_ctr *c, int j)
{
    const struct rt_ctr *x = &t->c[c->deps[j].idx];

    switch (c->deps[j].cond) {
    case RP_START:
        return x->started;
    case RP_COMPLETE:
        return x->exited;
    case RP_SUCCESS:
        return x->exited ? (x->code == 0 ? 1 : -1) : 0;
    default: /* RP_HEALTHY */
        if (strcmp(x->hc_status, "HEALTHY") == 0)
            return 1;
        return x->exited || strcmp(x->hc_status, "UNHEALTHY") == 0 ? -1 : 0;
    }
}

