/*
 * metrics.c - sluiced's exposition: the parts of metrics.h in one text.
 */
#include "server/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/prom.h"
#include "server/dataplane.h"
#include "server/metrics_agg.h"
#include "server/metrics_api.h"
#include "server/metrics_ecs.h"
#include "server/metrics_store.h"
#include "store/store.h"

struct srv_metrics {
    struct magg *agg;
    struct mapi *api;
};

int metrics_new(struct srv_metrics **out)
{
    struct srv_metrics *m = calloc(1, sizeof(*m));

    if (m == NULL || magg_new(&m->agg) != SL_OK || mapi_new(&m->api) != SL_OK) {
        metrics_free(m);
        return SL_ENOMEM;
    }
    *out = m;
    return SL_OK;
}

void metrics_free(struct srv_metrics *m)
{
    if (m == NULL)
        return;
    magg_free(m->agg);
    mapi_free(m->api);
    free(m);
}

struct magg *metrics_agg(struct srv_metrics *m)
{
    return m ? m->agg : NULL;
}

void metrics_api_observe(struct srv_metrics *m, const char *action, int status, uint64_t us)
{
    if (m)
        mapi_observe(m->api, action, status, us);
}

/* ---- the feed ---- */

struct lag {
    struct buf *out;
    struct buf lab;
    uint64_t rev;
    int which; /* 0: applied, 1: lag */
};

static void on_proxy(const char *id, uint64_t applied, void *arg)
{
    struct lag *l = arg;

    l->lab.len = 0;
    prom_label(&l->lab, "proxy", id);
    prom_sample(l->out, l->which ? "sluice_feed_lag_revisions" : "sluice_feed_applied_revision",
                l->lab.data, l->which ? (applied < l->rev ? l->rev - applied : 0) : applied);
}

static void render_feed(struct app *app, struct buf *out)
{
    static const struct prom_family fams[] = {
        {"sluice_store_revision", "gauge", "the store's current revision"},
        {"sluice_feed_applied_revision", "gauge",
         "the revision each reporting proxy's table reflects"},
        {"sluice_feed_lag_revisions", "gauge",
         "revisions each reporting proxy is behind the store (as of its last report)"},
    };
    struct lag l = {out, {0}, store_revision(app->store), 0};

    prom_family(out, &fams[0]);
    prom_sample(out, fams[0].name, NULL, l.rev);
    for (l.which = 0; l.which < 2; l.which++) {
        prom_family(out, &fams[1 + l.which]);
        dataplane_each_proxy(app->dataplane, on_proxy, &l);
    }
    buf_free(&l.lab);
}

int metrics_render(struct app *app, struct buf *out)
{
    struct srv_metrics *m = app->metrics;

    if (m && magg_render(m->agg, out) != SL_OK)
        return SL_ENOMEM;
    if (m)
        mapi_render(m->api, out);
    if (app->store) {
        render_feed(app, out);
        mstore_render(app->store, out);
        if (mecs_render(app->store, out) != SL_OK)
            log_warn("metrics: cannot read the ECS services");
    }
    return buf_failed(out) ? SL_ENOMEM : SL_OK;
}

void metrics_handle(struct app *app, const struct front_request *req, struct front_reply *out)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        snprintf(out->allow, sizeof(out->allow), "GET, HEAD");
        front_rest_error(405, "MethodNotAllowed", "use GET", out);
        return;
    }
    if (metrics_render(app, &out->body) != SL_OK) {
        buf_free(&out->body);
        front_rest_error(500, "InternalFailure", "out of memory", out);
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
