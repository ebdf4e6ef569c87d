/*
 * layout.h - how the store lays its data out in LMDB.
 *
 * Four named databases in one environment:
 *   meta     "schema_version", "trimmed", "revision" -> decimal text
 *   objects  kind '\0' id -> compact JSON
 *   index    key -> value (strings)
 *   changes  be64(revision) be32(seq) -> {"rev","kind","id","op","obj"}
 *
 * Caveats:
 * - The revision is the key of the newest change record (schema 2 on): a
 *   mutation writes no meta record, which keeps a page out of every
 *   commit.  meta "revision" is only a floor, written when the change log
 *   is trimmed (and left by schema 1, which kept it current).
 * - Big-endian revisions make the change log's keys grow with every
 *   record, so appends (MDB_APPEND) fill its pages instead of splitting them.
 */
#ifndef SL_STORE_LAYOUT_H
#define SL_STORE_LAYOUT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_CHANGE_KEY 12 /* be64 revision, be32 sequence */
#define STORE_OBJ_KEY_MAX 511

/* meta record <key> as a number into *out: SL_OK, SL_ENOTFOUND (0 in *out),
 * or SL_EIO. */
int store_meta_get(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *out);
/* Write meta record <key> = <val>: SL_OK or SL_EIO. */
int store_meta_put(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t val);

void store_change_key(unsigned char key[STORE_CHANGE_KEY], uint64_t rev, uint32_t seq);
/* The revision of change key <k>; 0 if it is not one. */
uint64_t store_change_key_rev(const MDB_val *k);

/* The revision committed in <txn>: the newest change record's, or the meta
 * floor when that is higher. */
uint64_t store_committed_rev(MDB_txn *txn, MDB_dbi meta, MDB_dbi changes);

/* Build the object key "kind\0id" into <key> (<cap> bytes); its length, or
 * 0 if it does not fit (or exceeds LMDB's key size). */
size_t store_obj_key(char *key, size_t cap, const char *kind, const char *id);

/* The id of the last committed LMDB transaction of <env>. */
uint64_t store_last_txnid(MDB_env *env);

#endif
