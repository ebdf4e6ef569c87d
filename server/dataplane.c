/*
 * dataplane.c - snapshot, watch stream and reports for sluice-proxy.
 *
 * The snapshot and the watch records are the feed (server/feed.h encodes
 * them; openapi.yaml documents them).  The watch stream is NDJSON over a
 * chunked response, one change record per line in revision order, and a
 * heartbeat line after each batch of records and at least every
 * DATAPLANE_HEARTBEAT_MS.  A heartbeat's rev N means every record up to
 * revision N has been sent: a revision's records may span reads, and only
 * a heartbeat (or a record of a later revision) says it is complete.
 * The content reader runs on one of the front door's polling threads and
 * must not block: with nothing to send it parks its connection until the
 * next revision or heartbeat (server/park.h).
 */
#include "server/dataplane.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "server/dp_report.h"
#include "server/feed.h"
#include "server/park.h"
#include "store/store.h"

struct dataplane {
    struct app *app;
    pthread_mutex_t mu;
    struct dp_report *report; /* the proxies and what they report */
    int stopping;
};

int dataplane_new(struct app *app, struct dataplane **out)
{
    struct dataplane *dp = calloc(1, sizeof(*dp));

    if (dp == NULL || dp_report_new(app, &dp->report) != SL_OK) {
        free(dp);
        return SL_ENOMEM;
    }
    dp->app = app;
    pthread_mutex_init(&dp->mu, NULL);
    *out = dp;
    return SL_OK;
}

void dataplane_free(struct dataplane *dp)
{
    if (dp == NULL)
        return;
    dp_report_free(dp->report);
    pthread_mutex_destroy(&dp->mu);
    free(dp);
}

void dataplane_shutdown(struct dataplane *dp)
{
    pthread_mutex_lock(&dp->mu);
    dp->stopping = 1;
    pthread_mutex_unlock(&dp->mu);
    store_wake_all(dp->app->store);
}

static int is_stopping(struct dataplane *dp)
{
    int s;

    pthread_mutex_lock(&dp->mu);
    s = dp->stopping;
    pthread_mutex_unlock(&dp->mu);
    return s;
}

static void reply_json(struct front_reply *out, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);

    out->status = status;
    out->content_type = "application/json";
    buf_puts(&out->body, text ? text : "{}");
    buf_putc(&out->body, '\n');
    free(text);
    json_decref(body);
}

/* ---- snapshot ---- */

static void snapshot(struct dataplane *dp, struct front_reply *out)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *body;
    uint64_t rev;

    if (store_read_begin(dp->app->store, &txn, &err) != SL_OK) {
        front_rest_error(500, err.code, err.message, out);
        return;
    }
    rev = store_txn_revision(txn);
    if (feed_snapshot(txn, &body, &err) != SL_OK) {
        store_txn_end(txn);
        front_rest_error(500, err.code, err.message, out);
        return;
    }
    store_txn_end(txn);
    /* Never hand out a revision whose sync is still in flight: a crash
     * could lose it, and the watch would then skip its successor. */
    store_wait_durable(dp->app->store, rev, 5000);
    reply_json(out, 200, body);
}

/* ---- watch ---- */

struct watch {
    struct dataplane *dp;
    uint64_t since; /* every change up to this revision is in pending or sent */
    size_t batch;   /* change records scanned into pending */
    struct buf pending;
    size_t off;
    struct MHD_Connection *c;
    struct park_slot slot;
    uint64_t heartbeat_at; /* monotonic ms */
};

#define WATCH_BATCH 1000

static int append_change(json_t *rec, void *arg)
{
    struct watch *w = arg;
    uint64_t rev = (uint64_t)json_integer_value(json_object_get(rec, "rev"));
    struct sl_err err = {0};

    /* Cut batches only between revisions: since must never name a revision
     * whose records were only partly sent, or the rest would be skipped. */
    if (w->batch >= WATCH_BATCH && rev != w->since)
        return 1;
    w->batch++;
    /* Records of kinds outside the feed (ECS) are passed over; one that
     * cannot be encoded is logged and left out rather than sent in a shape
     * the proxy would refuse. */
    if (feed_line_change(rec, &w->pending, &err) == SL_EINVAL)
        log_error("dataplane: revision %llu: %s; not sent", (unsigned long long)rev,
                  err.message);
    w->since = rev;
    return 0;
}

static ssize_t watch_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct watch *w = cls;
    size_t n;

    while (w->off >= w->pending.len) {
        uint64_t before = w->since, head;
        int rc;

        buf_free(&w->pending);
        w->off = 0;
        w->batch = 0;
        if (is_stopping(w->dp))
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* Committed before the scan: every record up to head is visible to it. */
        head = store_revision(w->dp->app->store);
        rc = store_changes(w->dp->app->store, w->since, 0, append_change, w);
        if (rc == SL_ENOTFOUND) {
            /* Fell behind the retained log: the proxy re-reads the snapshot. */
            feed_line_marker(&w->pending, FEED_GONE, before);
            w->since = UINT64_MAX;
            break;
        }
        if (w->batch > 0) {
            /* Batches end between revisions: tell the proxy that all up to
             * since is complete, so it can resume from there (also when
             * every record scanned was outside the feed, so its applied
             * revision keeps up). */
            feed_line_marker(&w->pending, FEED_HEARTBEAT, w->since);
            break;
        }
        if (w->since == UINT64_MAX)
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* Nothing after since up to head: revisions without data-plane
         * records are passed, or store_wait() would return at once forever. */
        if (head > w->since)
            w->since = head;
        /* Parked until a revision after since or the heartbeat is due; a
         * revision moved on meanwhile is scanned again. */
        rc = park_wait(w->dp->app->park, &w->slot, w->c, w->since, w->heartbeat_at);
        if (rc > 0)
            return 0;
        if (rc < 0 || is_stopping(w->dp))
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* The heartbeat names only what was scanned: a revision committed
         * after the scan must not be claimed as sent. */
        if (util_mono_ms() >= w->heartbeat_at && store_revision(w->dp->app->store) <= w->since)
            feed_line_marker(&w->pending, FEED_HEARTBEAT, w->since);
    }
    w->heartbeat_at = util_mono_ms() + DATAPLANE_HEARTBEAT_MS;
    n = w->pending.len - w->off;
    if (n > max)
        n = max;
    memcpy(out, w->pending.data + w->off, n);
    w->off += n;
    return (ssize_t)n;
}

static void watch_free(void *cls)
{
    struct watch *w = cls;

    park_cancel(w->dp->app->park, &w->slot);
    buf_free(&w->pending);
    free(w);
}

static int no_op(json_t *rec, void *arg)
{
    return 1;
}

static enum MHD_Result watch(struct dataplane *dp, struct MHD_Connection *c,
                             const struct front_request *req, struct front_reply *out)
{
    const char *since_s = req->arg(req->arg_cls, "since");
    struct watch *w;
    char *end;
    unsigned long long since = 0;

    if (since_s) {
        since = strtoull(since_s, &end, 10);
        if (*since_s == '\0' || *end != '\0') {
            front_rest_error(400, "ValidationError", "since must be a revision number", out);
            return MHD_YES;
        }
    }
    if (store_changes(dp->app->store, since, 1, no_op, NULL) == SL_ENOTFOUND) {
        front_rest_error(410, "Gone",
                         "revision is older than the retained change log; re-read the "
                         "snapshot",
                         out);
        return MHD_YES;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return MHD_NO;
    w->dp = dp;
    w->since = since;
    w->c = c;
    w->heartbeat_at = util_mono_ms() + DATAPLANE_HEARTBEAT_MS;
    buf_init(&w->pending);
    out->status = 0; /* answered here */
    /* The stream lives as long as the proxy; heartbeats keep it active. */
    return park_stream_respond(c, "application/x-ndjson", 16 * 1024, watch_read, watch_free, w);
}

enum MHD_Result dataplane_handle(struct dataplane *dp, struct MHD_Connection *c,
                                 const struct front_request *req, struct front_reply *out)
{
    const char *what = req->path + strlen("/v1/dataplane/");
    const char *want = strcmp(what, "report") == 0 ? "POST" : "GET";

    if (strcmp(what, "snapshot") != 0 && strcmp(what, "watch") != 0 &&
        strcmp(what, "report") != 0) {
        front_rest_error(404, "NotFound", "no such path", out);
        return MHD_YES;
    }
    if (strcmp(req->method, want) != 0) {
        front_rest_error(405, "MethodNotAllowed", "wrong method for this path", out);
        snprintf(out->allow, sizeof(out->allow), "%s", want);
        return MHD_YES;
    }
    if (strcmp(what, "snapshot") == 0)
        snapshot(dp, out);
    else if (strcmp(what, "watch") == 0)
        return watch(dp, c, req, out);
    else
        dp_report_handle(dp->report, req, out);
    return MHD_YES;
}

void dataplane_each_proxy(struct dataplane *dp, void (*fn)(const char *, uint64_t, void *),
                          void *arg)
{
    if (dp)
        dp_report_each_proxy(dp->report, fn, arg);
}
