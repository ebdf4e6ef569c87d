/*
 * convert.h - the one-time conversion of a schema-3 data directory (LMDB
 * data file plus redo log, snapshot and checkpoint: v3log.h) into one whose
 * data.mdb alone is the store.
 *
 * A directory that a schema-3 sluiced closed cleanly, or that never had a
 * checkpoint, has a current data.mdb already: only the old files go.  One
 * it did not close cleanly is rebuilt as that sluiced would have on open:
 * snapshot.mdb is copied to data.mdb.convert, the log records after the
 * checkpoint are replayed into the copy, and the copy, synced, is renamed
 * over data.mdb.  Then the old files are removed, the checkpoint first and
 * wal-0.log last.
 *
 * Caveats:
 * - Crash-safe: until data.mdb is replaced nothing of the old store has
 *   changed; after, the snapshot and log are still there and the rebuild
 *   gives the same data.mdb again; once the checkpoint is gone, data.mdb
 *   is current and only leftovers remain, removed on the next open.  Any
 *   of these states converts on the next open.
 * - Refused (the directory left as it is): a checkpoint of a newer format,
 *   a missing or older snapshot, a record that fails to apply, and a log
 *   damaged in the middle (a record of the run checks out after the one
 *   where replay stopped: converting would drop acknowledged writes).
 * - Run with the directory locked (lock.h), before the environment opens.
 */
#ifndef SL_STORE_CONVERT_H
#define SL_STORE_CONVERT_H

#include <stddef.h>

#include "common/err.h"

/* Convert the schema-3 files of <dir>, if it has any, opening LMDB files
 * with a map of <map_size> bytes.  SL_OK (also when there was nothing to
 * convert), or SL_ERR with <err> filled. */
int store_convert_v3(const char *dir, size_t map_size, struct sl_err *err);

#endif
