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
 * A connection owns its thread (see http.c), so the content reader may block
 * in store_wait().
 */
#include "server/dataplane.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "routes/elbv2.h"
#include "routes/health.h"
#include "server/feed.h"
#include "store/store.h"

struct dataplane {
    struct app *app;
    pthread_mutex_t mu;
    json_t *proxies; /* id -> {"rev":N,"seen":ms,"busy":{key:1}} */
    int stopping;
};

int dataplane_new(struct app *app, struct dataplane **out)
{
    struct dataplane *dp = calloc(1, sizeof(*dp));

    if (dp == NULL || (dp->proxies = json_object()) == NULL) {
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
    json_decref(dp->proxies);
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
        /* The heartbeat names only what was scanned: a revision committed
         * after the scan must not be claimed as sent. */
        if (store_wait(w->dp->app->store, w->since, DATAPLANE_HEARTBEAT_MS) <= w->since &&
            !is_stopping(w->dp))
            feed_line_marker(&w->pending, FEED_HEARTBEAT, w->since);
    }
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
    struct MHD_Response *resp;
    struct watch *w;
    enum MHD_Result ret;
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
    buf_init(&w->pending);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, watch_read, w,
                                             watch_free);
    if (resp == NULL) {
        watch_free(w);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/x-ndjson");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    /* The stream lives as long as the proxy; heartbeats keep it active. */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
    ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    out->status = 0;
    return ret;
}

/* ---- report ---- */

struct early {
    struct dataplane *dp;
    json_t *live;   /* proxies seen recently: borrowed snapshot */
    json_t *remove; /* target keys to remove */
};

static int check_drained(const char *key, const char *target_key, void *arg)
{
    struct early *e = arg;
    const char *pid;
    json_t *p;

    (void)key;
    json_object_foreach(e->live, pid, p) {
        json_t *busy = json_object_get(p, "busy");
        /* The drain revision is checked by the caller per target. */
        if (json_object_get(busy, target_key))
            return 0;
    }
    json_array_append_new(e->remove, json_string(target_key));
    return 0;
}

struct remove_args {
    json_t *keys;
    json_t *live;
    size_t removed;
};

static int remove_drained_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct remove_args *r = arg;
    json_t *k, *p;
    const char *pid;
    size_t i;

    json_array_foreach(r->keys, i, k) {
        json_t *t = store_get(txn, K_TARGET, json_string_value(k));
        uint64_t drain_rev;
        int applied = 1;

        if (t == NULL)
            continue;
        drain_rev = (uint64_t)json_integer_value(json_object_get(t, "_drain_rev"));
        if (strcmp(json_string_value(json_object_get(t, "_state")), "draining") != 0)
            drain_rev = UINT64_MAX;
        json_decref(t);
        json_object_foreach(r->live, pid, p)
            if ((uint64_t)json_integer_value(json_object_get(p, "rev")) < drain_rev)
                applied = 0;
        if (!applied)
            continue;
        if (elb_target_remove(txn, json_string_value(k)) == SL_OK)
            r->removed++;
    }
    return SL_OK;
}

static void finish_idle_drains(struct dataplane *dp)
{
    struct early e = {dp, NULL, json_array()};
    struct remove_args r = {0};
    struct store_txn *txn;
    struct sl_err err = {0};
    uint64_t now = util_mono_ms();
    const char *pid;
    json_t *p, *live = json_object();
    void *tmp;

    pthread_mutex_lock(&dp->mu);
    json_object_foreach_safe(dp->proxies, tmp, pid, p) {
        if (now - (uint64_t)json_integer_value(json_object_get(p, "seen")) >
            DATAPLANE_PROXY_TTL_MS) {
            log_info("dataplane: proxy %s stopped reporting; forgetting it", pid);
            json_object_del(dp->proxies, pid);
            continue;
        }
        json_object_set_new(live, pid, json_deep_copy(p));
    }
    pthread_mutex_unlock(&dp->mu);
    if (json_object_size(live) == 0)
        goto out;
    e.live = live;
    if (store_read_begin(dp->app->store, &txn, &err) != SL_OK)
        goto out;
    store_index_scan(txn, "drain:", check_drained, &e);
    store_txn_end(txn);
    if (json_array_size(e.remove) == 0)
        goto out;
    r.keys = e.remove;
    r.live = live;
    if (store_write(dp->app->store, remove_drained_tx, &r, NULL, &err) != SL_OK)
        log_warn("dataplane: removing drained targets: %s", err.message);
    else if (r.removed)
        log_info("dataplane: %zu drained target(s) idle on every proxy; removed", r.removed);
out:
    json_decref(live);
    json_decref(e.remove);
}

static void report(struct dataplane *dp, const struct front_request *req,
                   struct front_reply *out)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, 0, &jerr), *targets, *t, *busy;
    const char *pid;
    json_int_t rev;
    uint64_t now = util_mono_ms();
    size_t i;

    if (!json_is_object(body)) {
        json_decref(body);
        front_rest_error(400, "InvalidJSON", "report must be a JSON object", out);
        return;
    }
    pid = json_string_value(json_object_get(body, "proxy_id"));
    rev = json_integer_value(json_object_get(body, "applied_revision"));
    targets = json_object_get(body, "targets");
    if (pid == NULL || *pid == '\0' || strlen(pid) > 128 ||
        !json_is_integer(json_object_get(body, "applied_revision")) || rev < 0 ||
        (targets && !json_is_array(targets))) {
        json_decref(body);
        front_rest_error(400, "ValidationError",
                         "report needs proxy_id (string), applied_revision (integer) and "
                         "targets (array)",
                         out);
        return;
    }
    busy = json_object();
    json_array_foreach(targets, i, t) {
        const char *key = json_string_value(json_object_get(t, "key"));
        const char *state = json_string_value(json_object_get(t, "state"));
        struct health_state hs;

        if (key == NULL)
            continue;
        if (json_integer_value(json_object_get(t, "in_flight")) > 0 ||
            json_integer_value(json_object_get(t, "connections")) > 0)
            json_object_set_new(busy, key, json_true());
        if (state && (strcmp(state, "healthy") == 0 || strcmp(state, "unhealthy") == 0 ||
                      strcmp(state, "initial") == 0)) {
            memset(&hs, 0, sizeof(hs));
            snprintf(hs.state, sizeof(hs.state), "%s", state);
            snprintf(hs.reason, sizeof(hs.reason), "%s",
                     json_string_value(json_object_get(t, "reason"))
                         ? json_string_value(json_object_get(t, "reason"))
                         : "");
            snprintf(hs.description, sizeof(hs.description), "%s",
                     json_string_value(json_object_get(t, "description"))
                         ? json_string_value(json_object_get(t, "description"))
                         : "");
            hs.updated_ms = now;
            health_set(dp->app->health, key, &hs);
        }
    }
    pthread_mutex_lock(&dp->mu);
    json_object_set_new(dp->proxies, pid,
                        json_pack("{sI sI so}", "rev", rev, "seen", (json_int_t)now, "busy",
                                  busy));
    pthread_mutex_unlock(&dp->mu);
    json_decref(body);
    finish_idle_drains(dp);
    reply_json(out, 200, json_pack("{sI}", "revision",
                                   (json_int_t)store_revision(dp->app->store)));
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
        report(dp, req, out);
    return MHD_YES;
}
