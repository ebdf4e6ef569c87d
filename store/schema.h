/*
 * schema.h - the store's schema version, checked and brought up to date on
 * every open.
 *
 * Versions:
 *   1  meta "revision" kept current; per-group target counts in the index
 *   2  the revision from the change log; counts in memory (store_counter_*)
 *   3  a redo log beside LMDB (data.mdb current only with it after a crash)
 *   4  LMDB's own durability: data.mdb alone is the store
 *
 * Caveats:
 * - A schema-3 directory's log is converted (convert.h) before the
 *   environment opens; by the time store_schema_check() runs, data.mdb is
 *   current on its own whatever its version.
 * - A newer version than STORE_SCHEMA_VERSION is refused, never touched.
 */
#ifndef SL_STORE_SCHEMA_H
#define SL_STORE_SCHEMA_H

#include <lmdb.h>

#include "common/err.h"

/* In write transaction <txn>: record the current version in a new store,
 * refuse a newer one (SL_ERR, message naming <dir>), or migrate an older
 * one.  SL_OK; SL_EIO (LMDB error in *mdb_rc) on a failed read or write. */
int store_schema_check(MDB_txn *txn, MDB_dbi meta, MDB_dbi index, const char *dir,
                       int *mdb_rc, struct sl_err *err);

#endif
