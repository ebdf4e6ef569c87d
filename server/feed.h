/*
 * feed.h - the encoder of the data-plane feed: stored ELBv2 objects (the
 * control plane's own shapes, `_`-members and all) into the documented feed
 * objects of common/feed.h and openapi.yaml (components/schemas/Feed*).
 *
 * Caveats:
 *  - The one place that knows both shapes.  Encoding is a pure function of
 *    one stored object and its id: a change record read back from the log is
 *    encoded as it was stored at its revision, with no look-up in the current
 *    state.
 *  - Stored objects are borrowed and never modified (store_scan() and
 *    store_changes() hand out shared, read-only values).
 *  - An object that lacks what the feed requires (a corrupt or foreign
 *    store) fails with SL_EINVAL and a message in <err>; callers log it and
 *    leave the object out rather than send a shape the decoder would refuse.
 *  - Thread-safe: no state.
 */
#ifndef SL_SERVER_FEED_H
#define SL_SERVER_FEED_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/feed.h"
#include "store/store.h"

/* The feed kind (enum feed_kind) whose objects are stored under
 * <store_kind>, or -1 when that kind is not part of the feed (ECS). */
int feed_kind_of_store(const char *store_kind);

/* The store kind holding feed objects of kind <k>. */
const char *feed_store_kind(enum feed_kind k);

/* Encode the stored object <obj> (borrowed) of feed kind <k> stored under
 * <id>.  SL_OK with *out a new reference, or SL_EINVAL with <err> filled. */
int feed_encode(enum feed_kind k, const char *id, json_t *obj, json_t **out, struct sl_err *err);

/* Append the watch line (JSON and '\n') for the store change record <rec>
 * ({"rev","kind","id","op","obj"} as store_changes() yields it, borrowed).
 * SL_OK with a line appended, SL_ENOTFOUND (nothing appended) when the
 * record's kind is not part of the feed, SL_EINVAL with <err> filled when
 * its object cannot be encoded. */
int feed_line_change(json_t *rec, struct buf *out, struct sl_err *err);

/* Append a FEED_HEARTBEAT or FEED_GONE line naming revision <rev>. */
void feed_line_marker(struct buf *out, const char *marker, uint64_t rev);

/* The snapshot document of the read transaction <txn>: feed_version,
 * revision and every feed object by kind.  Objects that fail to encode are
 * logged and left out.  SL_OK with *out a new reference, or SL_ENOMEM. */
int feed_snapshot(struct store_txn *txn, json_t **out, struct sl_err *err);

#endif
