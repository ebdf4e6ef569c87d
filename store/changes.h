/*
 * changes.h - the change log: one record per put or delete, keyed by
 * (revision, sequence), read by the data-plane feed (store_changes()) and
 * trimmed by count.
 *
 * Caveats:
 * - store_changelog_append() and store_changelog_trim() run on the writer
 *   thread, in a write transaction; the feed reads durable commits only
 *   (durable.h).
 */
#ifndef SL_STORE_CHANGES_H
#define SL_STORE_CHANGES_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;

/* Append the change record {"rev","kind","id","op","obj"} of the mutation
 * in <t>; <obj_text> is the object's stored JSON (NULL for a delete), so an
 * object is encoded once for both databases.  The mutation's first record
 * claims its revision.  SL_OK, SL_ENOMEM or SL_EIO. */
int store_changelog_append(struct store_txn *t, const char *kind, const char *id,
                           const char *op, const char *obj_text, size_t obj_len);

/* In the batch's parent transaction <txn>, whose committed revision will be
 * <rev_now>: drop the oldest records beyond s->changes_keep, in steps (see
 * changes.c).  *trimmed rises to the highest revision dropped.  SL_OK or
 * SL_EIO. */
int store_changelog_trim(struct store *s, MDB_txn *txn, uint64_t rev_now, uint64_t *trimmed);

#endif
