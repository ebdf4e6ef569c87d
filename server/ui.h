/*
 * ui.h - the dashboard: GET /ui (its page and assets, embedded in the
 * binary: ui_assets.h), GET /ui/api/state (the document of ui_state.h) and
 * GET /ui/api/events, a text/event-stream that sends the document as an
 * "event: state" at once, again within UI_PUSH_MS of any change, and at
 * least every UI_PUSH_MS (the request rates and health the proxies report
 * move without a store revision).
 *
 * Caveats:
 *  - Read-only: every path answers GET (and HEAD); other methods get 405.
 *  - The page and its assets are public (they hold no data); the api/
 *    paths are authenticated as the REST API is when sluiced has
 *    credentials (Authorization: Bearer or SigV4) - the page asks for the
 *    token.
 *  - Each events stream builds the whole document once per push.
 */
#ifndef SL_SERVER_UI_H
#define SL_SERVER_UI_H

#include <microhttpd.h>

#include "routes/api/front.h"
#include "server/app.h"

#define UI_PUSH_MS 1000

struct ui;

int ui_new(struct app *app, struct ui **out);
void ui_free(struct ui *u);

/* 1 if <path> is one of the dashboard's. */
int ui_path(const char *path);
/* 1 if <path> is one that needs credentials (its data). */
int ui_needs_auth(const char *path);

/* Answer a /ui request: fills <out>, or for the events stream queues the
 * response itself and leaves out->status 0 (returns MHD_YES/MHD_NO). */
enum MHD_Result ui_handle(struct ui *u, struct MHD_Connection *c,
                          const struct front_request *req, struct front_reply *out);

/* End every events stream (shutdown): their readers return at once. */
void ui_shutdown(struct ui *u);

#endif
