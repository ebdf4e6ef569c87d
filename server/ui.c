/*
 * ui.c - the dashboard's paths: embedded assets, the state document, and
 * its event stream.
 */
#include "server/ui.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "server/park.h"
#include "server/ui_assets.h"
#include "server/ui_state.h"
#include "store/store.h"

struct ui {
    struct app *app;
    atomic_int stopping;
};

int ui_new(struct app *app, struct ui **out)
{
    struct ui *u = calloc(1, sizeof(*u));

    if (u == NULL)
        return SL_ENOMEM;
    u->app = app;
    *out = u;
    return SL_OK;
}

void ui_free(struct ui *u)
{
    free(u);
}

void ui_shutdown(struct ui *u)
{
    if (u == NULL)
        return;
    atomic_store(&u->stopping, 1);
    park_close(u->app->park); /* parked streams are resumed and end */
}

int ui_path(const char *path)
{
    return strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0;
}

int ui_needs_auth(const char *path)
{
    return strncmp(path, "/ui/api/", 8) == 0;
}

static const struct ui_asset *asset(const char *path)
{
    const struct ui_asset *a;

    for (a = ui_assets; a->path; a++)
        if (strcmp(a->path, strcmp(path, "/ui") == 0 ? "/ui/" : path) == 0)
            return a;
    return NULL;
}

static void state_reply(struct ui *u, struct front_reply *out)
{
    struct sl_err err = {0};
    json_t *doc = ui_state(u->app, &err);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

    json_decref(doc);
    if (text == NULL) {
        front_rest_error(500, "InternalFailure", err.message[0] ? err.message : "out of memory",
                         out);
        return;
    }
    out->status = 200;
    out->content_type = "application/json";
    buf_puts(&out->body, text);
    buf_putc(&out->body, '\n');
    free(text);
}

/* ---- the event stream ---- */

struct stream {
    struct ui *u;
    uint64_t rev;  /* the store revision the last push showed */
    uint64_t next; /* monotonic ms of the next push without a change */
    struct buf pending;
    size_t off;
    struct MHD_Connection *c;
    struct park_slot slot; /* between pushes: no polling thread is held */
};

/* The next "event: state" frame into s->pending; 0 or SL_ENOMEM. */
static int push(struct stream *s)
{
    struct sl_err err = {0};
    json_t *doc;
    char *text;

    s->rev = store_revision(s->u->app->store);
    s->next = util_mono_ms() + UI_PUSH_MS;
    if ((doc = ui_state(s->u->app, &err)) == NULL) {
        log_warn("ui: %s", err.message);
        buf_puts(&s->pending, ": the state could not be read\n\n");
        return SL_OK;
    }
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL)
        return SL_ENOMEM;
    buf_puts(&s->pending, "event: state\ndata: ");
    buf_puts(&s->pending, text); /* compact JSON holds no newline */
    buf_puts(&s->pending, "\n\n");
    free(text);
    return buf_failed(&s->pending) ? SL_ENOMEM : SL_OK;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;
    size_t n;

    while (s->off >= s->pending.len) {
        int rc;

        buf_free(&s->pending);
        s->off = 0;
        if (atomic_load(&s->u->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (s->rev == 0 || store_revision(s->u->app->store) > s->rev ||
            util_mono_ms() >= s->next) {
            if (push(s) != SL_OK)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            break;
        }
        /* The reader runs on a polling thread and may not block: parked
         * until a revision after the one shown, or the next push is due. */
        rc = park_wait(s->u->app->park, &s->slot, s->c, s->rev, s->next);
        if (rc > 0)
            return 0;
        if (rc < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    n = s->pending.len - s->off;
    if (n > max)
        n = max;
    memcpy(out, s->pending.data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;

    park_cancel(s->u->app->park, &s->slot);
    buf_free(&s->pending);
    free(s);
}

static enum MHD_Result events(struct ui *u, struct MHD_Connection *c, struct front_reply *out)
{
    struct stream *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return MHD_NO;
    s->u = u;
    s->c = c;
    buf_init(&s->pending);
    out->status = 0; /* answered here */
    return park_stream_respond(c, "text/event-stream", 64 * 1024, stream_read, stream_free, s);
}

enum MHD_Result ui_handle(struct ui *u, struct MHD_Connection *c,
                          const struct front_request *req, struct front_reply *out)
{
    const struct ui_asset *a;

    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        snprintf(out->allow, sizeof(out->allow), "GET, HEAD");
        front_rest_error(405, "MethodNotAllowed", "the dashboard is read-only: use GET", out);
        return MHD_YES;
    }
    if (strcmp(req->path, "/ui/api/state") == 0) {
        state_reply(u, out);
        return MHD_YES;
    }
    if (strcmp(req->path, "/ui/api/events") == 0)
        return events(u, c, out);
    if ((a = asset(req->path)) == NULL) {
        front_rest_error(404, "NotFound", "no such dashboard path", out);
        return MHD_YES;
    }
    out->status = 200;
    out->content_type = a->type;
    buf_append(&out->body, a->data, a->len);
    return MHD_YES;
}
