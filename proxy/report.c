/*
 * report.c - report bodies and the thread that sends them.
 */
#include "proxy/report.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/bindstate.h"
#include "proxy/ev.h"
#include "proxy/metrics_log.h"
#include "proxy/metrics_report.h"
#include "proxy/table.h"

/* Nothing the control plane acts on changed: a report this often keeps the
 * proxy alive there (sluiced forgets a proxy after 15 s of silence).  Each
 * names every target, a megabyte a time for 10,000 of them, to parse on
 * both sides: a refresh every second cost a busy table's registrations
 * their tail latency. */
#define PX_REPORT_REFRESH_MS 5000
#define PX_REPORT_RETRY_MS 1000
/* Counters moved: the control plane's /metrics and dashboard see them at
 * most this late (a report names every target: not every 100 ms). */
#define PX_REPORT_METRICS_MS 2000

struct px_report {
    struct px_cp_cfg cfg;
    uint64_t (*applied)(void *);
    void *arg;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static const char *const state_names[] = {"initial", "healthy", "unhealthy", "unavailable"};

static json_t *target_entry(struct px_target *x)
{
    int h = atomic_load(&x->health), r = atomic_load(&x->reason);
    char dbuf[96];
    const char *reason = pxm_reason_text(r, atomic_load(&x->status), dbuf, sizeof(dbuf)),
               *desc = dbuf;

    json_t *e;

    if (h == PX_H_HEALTHY)
        reason = desc = "";
    e = json_pack("{ss ss ss ss sI sI}", "key", x->key, "state", state_names[h & 3], "reason",
                  reason, "description", desc, "in_flight",
                  (json_int_t)atomic_load(&x->in_flight), "connections",
                  (json_int_t)atomic_load(&x->conns));
    if (e)
        pxm_report_target(e, x);
    return e;
}

json_t *px_report_body(const char *proxy_id, uint64_t applied)
{
    struct px_table *t = px_table_acquire();
    json_t *arr = json_array(), *body, *unbound;
    int i, j;

    for (i = 0; arr && t && i < t->nslots; i++) {
        const struct px_tg *g = t->slots[i];
        for (j = 0; g && j < g->ntargets; j++)
            json_array_append_new(arr, target_entry(g->targets[j]));
    }
    body = arr ? json_pack("{ss sI so}", "proxy_id", proxy_id, "applied_revision",
                           (json_int_t)applied, "targets", arr)
               : NULL;
    if (body && pxm_report_add(body, t) != SL_OK) {
        json_decref(body);
        body = NULL;
    }
    px_table_release(t);
    /* Listeners whose port no worker could bind: their load balancers are
     * shown active_impaired until they are bound. */
    if (body && (unbound = px_bind_json()) != NULL)
        json_object_set_new(body, "unbound_listeners", unbound);
    return body;
}

/* What a report says that the control plane acts on: the applied revision,
 * the unbound listeners, each target's health and reason, and whether a
 * draining target is idle. */
static uint64_t signature(uint64_t applied)
{
    struct px_table *t = px_table_acquire();
    uint64_t h = (1469598103934665603ULL ^ applied) * 1099511628211ULL ^ px_bind_generation();
    int i, j;

    for (i = 0; t && i < t->nslots; i++) {
        const struct px_tg *g = t->slots[i];
        for (j = 0; g && j < g->ntargets; j++) {
            struct px_target *x = g->targets[j];
            int idle = atomic_load(&x->draining) && atomic_load(&x->in_flight) == 0 &&
                       atomic_load(&x->conns) == 0;
            h = (h ^ (uint64_t)(uintptr_t)x) * 1099511628211ULL;
            h = (h ^ (uint64_t)(atomic_load(&x->health) << 8 | atomic_load(&x->reason) << 1 |
                                idle)) *
                1099511628211ULL;
        }
    }
    px_table_release(t);
    return h;
}

static uint64_t metrics_signature(void)
{
    struct px_table *t = px_table_acquire();
    uint64_t h = pxm_report_signature(t);

    px_table_release(t);
    return h;
}

/* Sleep up to <ms> unless stopped; returns 1 when stopping. */
static int nap(struct px_report *r, uint64_t ms)
{
    struct timespec ts;
    int v;

    util_deadline(&ts, ms);
    pthread_mutex_lock(&r->mu);
    if (!r->stop)
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    v = r->stop;
    pthread_mutex_unlock(&r->mu);
    return v;
}

static void *report_main(void *arg)
{
    struct px_report *r = arg;
    uint64_t last_sig = 0, last_ms = 0, last_msig = 0;
    int failed = 0; /* the last report did not go through: retry after 1 s */

    while (!nap(r, 100)) {
        json_t *body;
        char *text;
        int status = 0;
        uint64_t applied = r->applied(r->arg), sig, msig, now = ev_mono_ms();
        if (applied == 0 && px_table_generation() == 0)
            continue;
        sig = signature(applied);
        msig = metrics_signature();
        if (sig == last_sig && now - last_ms < PX_REPORT_REFRESH_MS &&
            (msig == last_msig || now - last_ms < PX_REPORT_METRICS_MS))
            continue;
        if (failed && now - last_ms < PX_REPORT_RETRY_MS)
            continue;
        body = px_report_body(r->cfg.proxy_id, applied);
        text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        failed = text == NULL || px_cp_request(&r->cfg, "POST", "/v1/dataplane/report", text,
                                               &status, NULL, NULL) != SL_OK;
        if (failed)
            log_debug("report: failed");
        else {
            last_sig = sig;
            last_msig = msig;
        }
        last_ms = now;
        free(text);
    }
    return NULL;
}

int px_report_start(const struct px_cp_cfg *cfg, uint64_t (*applied)(void *), void *arg,
                    struct px_report **out)
{
    struct px_report *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return SL_ENOMEM;
    r->cfg = *cfg;
    r->applied = applied;
    r->arg = arg;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->th, NULL, report_main, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return SL_ERR;
    }
    *out = r;
    return SL_OK;
}

void px_report_stop(struct px_report *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
