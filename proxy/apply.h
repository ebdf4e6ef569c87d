/*
 * apply.h - the feed as a sequence of revisions: a snapshot, then watch
 * lines, applied to the model (model.h) one whole revision at a time.
 * No I/O here: the subscription (sub.h) feeds bytes in and publishes the
 * tables that come out, and the tests feed lines directly.
 *
 * A revision is known complete when a heartbeat names it (or a later one)
 * or a record of a later revision arrives; until then its records wait,
 * decoded, outside the model, so a table never holds part of a revision.
 *
 * Caveats:
 *  - A line that does not decode (or breaks the revision order) fails with
 *    SL_EINVAL and a message: the caller should re-read the snapshot rather
 *    than go on without that change.  The records waiting are dropped then;
 *    the model keeps every complete revision.
 *  - One thread at a time.
 */
#ifndef SL_PROXY_APPLY_H
#define SL_PROXY_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proxy/model.h"
#include "proxy/table.h"

/* px_apply_line(): the stream says the client fell behind the change log. */
#define PX_APPLY_GONE 1

struct px_apply;

int px_apply_new(struct px_apply **out);
void px_apply_free(struct px_apply *a);

/* Replace the state with the snapshot document <body>[0..<n>) (all its
 * objects decode, or nothing changes).  Objects missing from it are
 * deleted; target records of targets still present are kept.  0,
 * SL_EINVAL or SL_ENOMEM with <err> filled. */
int px_apply_snapshot(struct px_apply *a, const char *body, size_t n, struct sl_err *err);

/* Apply one watch line.  0, PX_APPLY_GONE, or SL_EINVAL / SL_ENOMEM with
 * <err> filled. */
int px_apply_line(struct px_apply *a, const char *line, size_t n, struct sl_err *err);

/* The newest revision known complete and applied to the model. */
uint64_t px_apply_done(const struct px_apply *a);

/* When the model changed: *out = a new table at px_apply_done() (one
 * reference) and 1; else *out = NULL and 0.  SL_ENOMEM when building
 * failed (a later call retries). */
int px_apply_commit(struct px_apply *a, struct px_table **out);

/* The model, for tests and the bench (borrowed). */
struct px_model *px_apply_model(struct px_apply *a);

#endif
