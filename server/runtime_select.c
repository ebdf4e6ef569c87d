/*
 * runtime_select.c - choosing the task runtime (see runtime_select.h).
 */
#include "server/runtime_select.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "routes/ecs/ecs.h"
#include "server/app.h"
#include "server/runtime_docker.h"
#include "store/store.h"

/* A task the store still means to run: present and not STOPPED. */
static int task_live(void *arg, const char *key)
{
    struct store *st = arg;
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *t;
    int live;

    if (store_read_begin(st, &txn, &err) != SL_OK)
        return 1; /* when in doubt, keep the container */
    t = store_get(txn, K_ECS_TASK, key);
    store_txn_end(txn);
    live = t && strcmp(json_string_value(json_object_get(t, "lastStatus")) ?: "", "STOPPED") != 0;
    json_decref(t);
    return live;
}

int runtime_select(struct app *app, const struct runtime_config *rc, struct runtime **out,
                   struct sl_err *err)
{
    const struct sl_config *cfg = app->cfg;
    struct runtime_docker_config dc;
    char desc[160] = "", why[512] = "";

    if (strcmp(cfg->runtime, "process") == 0) {
        log_info("runtime: process (--runtime process): containers run as host processes");
        return runtime_process_new(rc, out) == SL_OK
                   ? SL_OK
                   : sl_err_set(err, 500, "InternalFailure", "out of memory");
    }
    if (strcmp(cfg->runtime, "auto") == 0 &&
        !runtime_docker_probe(cfg->docker_host, desc, sizeof(desc), why, sizeof(why))) {
        log_info("runtime: process (--runtime auto: no Docker Engine API at %s: %s)",
                 cfg->docker_host, why);
        return runtime_process_new(rc, out) == SL_OK
                   ? SL_OK
                   : sl_err_set(err, 500, "InternalFailure", "out of memory");
    }
    memset(&dc, 0, sizeof(dc));
    dc.base = *rc;
    dc.docker_host = cfg->docker_host;
    dc.host_addr = cfg->task_host_address;
    dc.metadata_addr = cfg->task_metadata_address;
    dc.store = app->store;
    dc.task_live = task_live;
    dc.live_arg = app->store;
    if (runtime_docker_new(&dc, out, err) != SL_OK)
        return SL_ERR;
    log_info("runtime: docker (--runtime %s%s%s)", cfg->runtime,
             desc[0] ? ": the engine answered at " : "", desc[0] ? cfg->docker_host : "");
    return SL_OK;
}
