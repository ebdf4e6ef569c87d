/*
 * scheduler.c - the scheduler thread: its wake-ups and the order of a pass
 * (see scheduler.h).  A pass reads the store once (sched_pass.c), takes
 * every task's step (sched_task.c), then every service's (sched_service.c),
 * stores the events of services it did not step, and deletes the stopped
 * tasks past the retention (sched_retention.c).
 */
#include "server/scheduler.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "server/app.h"
#include "server/runtime.h"
#include "server/runtime_select.h"
#include "server/sched_pass.h"
#include "server/sched_retention.h"
#include "server/sched_service.h"
#include "server/sched_task.h"
#include "store/store.h"

#define PERIOD_MS 200 /* the longest wait between passes */
#define MIN_GAP_MS 20 /* the shortest time between pass starts */

struct scheduler {
    struct app *app;
    struct sched_ctx ctx;
    pthread_t thread;
    atomic_int stopping;
};

static void pass(struct scheduler *s, uint64_t *rev)
{
    struct sched_pass p;
    size_t i;

    if (sched_pass_load(&p, &s->ctx) != SL_OK) {
        *rev = store_revision(s->ctx.store);
        return;
    }
    for (i = 0; i < p.ntasks; i++)
        sched_task_step(&p, &p.tasks[i]);
    for (i = 0; i < p.nsvcs; i++)
        sched_service_step(&p, &p.svcs[i]);
    sched_service_other_events(&p);
    sched_retention_sweep(&p);
    sched_memos_prune(&s->ctx.memos);
    *rev = p.rev;
    sched_pass_free(&p);
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void *sched_main(void *arg)
{
    struct scheduler *s = arg;
    uint64_t rev = 0, began, took;

    while (!atomic_load(&s->stopping)) {
        began = util_mono_ms();
        pass(s, &rev);
        if (atomic_load(&s->stopping))
            break;
        /* Returns at once when anything was written since the pass read
         * the store, including the pass's own writes: they moved a task or
         * a service on, and the next step is due. */
        store_wait(s->ctx.store, rev, PERIOD_MS);
        took = util_mono_ms() - began;
        if (took < MIN_GAP_MS && !atomic_load(&s->stopping))
            sleep_ms(MIN_GAP_MS - took);
    }
    return NULL;
}

int scheduler_start(struct app *app, struct scheduler **out, struct sl_err *err)
{
    struct scheduler *s = calloc(1, sizeof(*s));
    const struct sl_config *cfg = app->cfg;
    struct runtime_config rc;
    char abs[PATH_MAX];

    if (s == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (cfg->task_dir[0])
        snprintf(s->ctx.tasks_dir, sizeof(s->ctx.tasks_dir), "%s", cfg->task_dir);
    else if (realpath(cfg->data_dir, abs) != NULL)
        snprintf(s->ctx.tasks_dir, sizeof(s->ctx.tasks_dir), "%s/tasks", abs);
    else
        snprintf(s->ctx.tasks_dir, sizeof(s->ctx.tasks_dir), "%s/tasks", cfg->data_dir);
    rc.tasks_dir = s->ctx.tasks_dir;
    rc.port_lo = cfg->task_port_lo;
    rc.port_hi = cfg->task_port_hi;
    if (runtime_select(app, &rc, &s->ctx.rt, err) != SL_OK) { /* logs which and why */
        free(s);
        return SL_ERR;
    }
    s->app = app;
    s->ctx.store = app->store;
    s->ctx.retention_ms = (uint64_t)cfg->stopped_task_retention_s * 1000;
    /* Where a port bound on every address is reached (--task-host-address,
     * 127.0.0.1 by default: where the co-process proxy runs). */
    snprintf(s->ctx.target_ip, sizeof(s->ctx.target_ip), "%s", cfg->task_host_address);
    sched_domain_init(&s->ctx.dom, app);
    atomic_init(&s->stopping, 0);
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        runtime_free(s->ctx.rt);
        free(s);
        return sl_err_set(err, 500, "InternalFailure", "cannot start the scheduler thread");
    }
    *out = s;
    return SL_OK;
}

void scheduler_stop(struct scheduler *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stopping, 1);
    store_wake_all(s->ctx.store); /* out of store_wait() at once */
    pthread_join(s->thread, NULL);
    runtime_free(s->ctx.rt);
    sched_memos_free(&s->ctx.memos);
    free(s);
}
