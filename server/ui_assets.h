/*
 * ui_assets.h - the dashboard's files (ui/), embedded at build time by
 * cmake/embed_assets.py: the binary serves them, nothing is fetched.
 */
#ifndef SL_SERVER_UI_ASSETS_H
#define SL_SERVER_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
    const char *path; /* "/ui/" for index.html, "/ui/app.js", ... */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

/* Terminated by an entry with a NULL path. */
extern const struct ui_asset ui_assets[];

#endif
