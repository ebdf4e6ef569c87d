/*
 * store.h - durable state of sluiced in one LMDB environment.
 *
 * Caveats:
 * - One process per data directory: store_open() locks it first (lock.h)
 *   and refuses, with SL_EAGAIN, a directory another process (or another
 *   open store in this one) holds.
 * - An MDB_env must not be used across fork(): a child of this process
 *   must exec (posix_spawn) before it does anything, and never touches the
 *   store.  The store's files are opened close-on-exec.
 * - Every mutation runs through store_write(): the callback executes on the
 *   store's single writer thread inside its own nested transaction.  It either
 *   applies whole (one new revision, its change records, durable on disk
 *   before store_write() returns) or not at all.  Concurrent store_write()
 *   callers share one commit (group commit).
 * - Durable means in LMDB's data file, synced by LMDB's own commit and the
 *   meta page's sync (writer.c).  The store's files in the directory are
 *   data.mdb, lock.mdb and sluiced.lock: no copies, no second log.  A
 *   schema-3 directory (with a redo log) is converted once on open
 *   (convert.h).
 * - Readers see durable commits only: a read transaction that would see a
 *   commit still being synced waits for that sync (durable.h).  So do the
 *   change feed and the revision (store_revision(), store_wait()).
 * - After a failed commit or sync every later store_write() fails (500):
 *   the kernel may have dropped pages, so nothing written since can be
 *   called durable.  Restart sluiced.
 * - A store_write() callback must not block on I/O or call store_write().
 * - Read transactions are short: begin, read, end; never hold one across I/O.
 * - Objects are jansson values stored as compact JSON text, keyed by
 *   (kind, id).  Change records carry (revision, kind, id, op, object).
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define STORE_SCHEMA_VERSION 4 /* schema.h lists them */
#define STORE_KIND_MAX 32
#define STORE_ID_MAX 400

struct store;
struct store_txn;

struct store_options {
    size_t map_size;       /* bytes: the most data.mdb may hold; 0 = default (4 GiB) */
    uint64_t changes_keep; /* change records kept at least; 0 = default (100000).
                            * Trimmed in steps of up to 1/8 of it (1,024 at most). */
};

/* Open or create the store in directory <dir> (created if missing).  No
 * copy of the data: the cost does not grow with the store's size (a
 * schema-3 directory's one-time conversion aside).  SL_EAGAIN, with <err>'s
 * message exactly "data directory DIR is in use by pid N", when another
 * process holds <dir>; SL_ERR for a store whose schema version is newer
 * than this build's and other failures, with a message in <err>.  On
 * success *out owns the store; free with store_close(). */
int store_open(const char *dir, const struct store_options *opt, struct store **out,
               struct sl_err *err);

/* Stop the writer thread (queued writes finish first and are made
 * durable), close the environment and release the directory.  NULL is a
 * no-op. */
void store_close(struct store *s);

/* Begin a read-only snapshot of the last durable commit (it may wait for a
 * sync in flight: well under a millisecond).  SL_EIO after a failed sync.
 * End it with store_txn_end(). */
int store_read_begin(struct store *s, struct store_txn **out, struct sl_err *err);
void store_txn_end(struct store_txn *txn);

/* A mutation.  Return SL_OK to apply it; anything else (with <err> filled)
 * discards every change the callback made. */
typedef int (*store_write_fn)(struct store_txn *txn, void *arg, struct sl_err *err);

/* Run <fn> on the writer thread in its own transaction and wait until it is
 * durable.  Returns the callback's status; on storage failure SL_EIO with a
 * 500 InternalFailure in <err>.  *rev_out (may be NULL) gets the revision the
 * mutation was given (0 if it wrote nothing).  Thread-safe. */
int store_write(struct store *s, store_write_fn fn, void *arg, uint64_t *rev_out,
                struct sl_err *err);

/* Revision visible in <txn>: the snapshot's for readers, the one being
 * written for writers. */
uint64_t store_txn_revision(const struct store_txn *txn);
int store_txn_is_write(const struct store_txn *txn);

/* Writers only: the revision this mutation gets if it writes anything. */
uint64_t store_txn_next_revision(const struct store_txn *txn);

/* Fetch object (kind, id).  Returns a new reference to a private copy the
 * caller may modify, or NULL if absent. */
json_t *store_get(struct store_txn *txn, const char *kind, const char *id);

/* Fetch object (kind, id) READ-ONLY: the returned reference may be shared
 * with the decode cache and other threads, so the caller must not modify
 * it (json_deep_copy() first).  NULL if absent. */
json_t *store_get_shared(struct store_txn *txn, const char *kind, const char *id);

/* Insert or replace (kind, id) with <obj> (borrowed) and append a change
 * record with op "put".  Write transactions only. */
int store_put(struct store_txn *txn, const char *kind, const char *id, json_t *obj);

/* Delete (kind, id), appending a change record with op "delete".
 * SL_ENOTFOUND when absent (nothing recorded). */
int store_del(struct store_txn *txn, const char *kind, const char *id);

/* Call <cb> for each object of <kind> whose id starts with <id_prefix>
 * (NULL or "" = all), in id order.  <obj> is borrowed and READ-ONLY: it is
 * shared with the store's decode cache and with other threads.  Keep it
 * with json_incref() (still read-only) or modify a json_deep_copy().
 * A non-zero return from <cb> stops the scan and is returned. */
typedef int (*store_scan_fn)(const char *id, json_t *obj, void *arg);
int store_scan(struct store_txn *txn, const char *kind, const char *id_prefix, store_scan_fn cb,
               void *arg);

/* Count objects of <kind> with the id prefix. */
size_t store_count(struct store_txn *txn, const char *kind, const char *id_prefix);

/* Secondary index: <key> -> <val> strings (name -> id, arn -> kind/id).
 * store_index_get copies into <val> (size <vlen>); SL_ENOTFOUND if absent. */
int store_index_get(struct store_txn *txn, const char *key, char *val, size_t vlen);
int store_index_put(struct store_txn *txn, const char *key, const char *val);
int store_index_del(struct store_txn *txn, const char *key);

/* Call <cb> for each index entry whose key starts with <prefix>, in key
 * order; key and value are borrowed NUL-terminated copies valid for the call.
 * A non-zero return from <cb> stops the scan and is returned. */
typedef int (*store_index_fn)(const char *key, const char *val, void *arg);
int store_index_scan(struct store_txn *txn, const char *prefix, store_index_fn cb, void *arg);

/* Writers only: a count kept in memory by the writer thread, for figures
 * that are cheap to derive once but would cost every mutation a dirty page
 * to store (the targets of a group).  Nothing is persisted: after a restart
 * (or a failed commit) store_counter_get() answers SL_ENOTFOUND and the
 * caller derives the figure again.  A store_counter_set() made by a
 * mutation that fails is undone with it.  SL_EINVAL in a read transaction. */
int store_counter_get(struct store_txn *txn, const char *name, uint64_t *out);
int store_counter_set(struct store_txn *txn, const char *name, uint64_t value);

/* Latest durable revision: every mutation up to it is on disk (and
 * acknowledged, or about to be).  Read transactions see no newer one. */
uint64_t store_revision(struct store *s);

/* Oldest revision still in the change log (records with rev >= it are all
 * present), as of the last durable commit; 0 when the log is empty. */
uint64_t store_oldest_change(struct store *s);

/* Call <cb> for every durable change record with revision > <since>, in
 * order, up to <limit> records (0 = no limit).  <rec> is borrowed for the
 * call: {"rev":N,"kind":..,"id":..,"op":"put"|"delete","obj":{..}|null}.
 * Returns SL_ENOTFOUND (HTTP 410 for watchers) when <since> is older than the
 * retained log, i.e. records after <since> were trimmed; SL_EIO after a
 * failed sync; else the last non-zero return of <cb>, or SL_OK. */
typedef int (*store_change_fn)(json_t *rec, void *arg);
int store_changes(struct store *s, uint64_t since, size_t limit, store_change_fn cb, void *arg);

/* Block until the durable revision exceeds <since> or <timeout_ms> passes,
 * or store_wake_all() is called.  Returns the durable revision. */
uint64_t store_wait(struct store *s, uint64_t since, int timeout_ms);

/* Block until revision <rev> is durable (or <timeout_ms> passes).  Returns
 * non-zero when it is. */
int store_wait_durable(struct store *s, uint64_t rev, int timeout_ms);

/* Wake every store_wait() caller (used at shutdown). */
void store_wake_all(struct store *s);

#endif
