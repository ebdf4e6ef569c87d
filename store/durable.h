/*
 * durable.h - the durable point: the last commit whose meta page is on
 * disk, and everything readers and waiters are allowed to see.
 *
 * A commit is visible in LMDB as soon as mdb_txn_commit() returns, but with
 * MDB_NOMETASYNC it is durable only once its meta page has been synced (see
 * writer.c).  Readers must not see it before: a read answered from a commit
 * that a power cut then undoes would show the client state that never
 * happened.  So every read transaction begins, notes the commit it reads,
 * and if that is newer than the durable point waits for it to be durable
 * (one sync at most, well under a millisecond here); and the revision
 * published to store_revision(), store_wait() and the change feed moves
 * only with the durable point.
 *
 * What it costs (bench/store, reads part): nothing when no commit is in
 * flight.  Beside 8 writers, a commit is not yet durable for roughly a
 * third of each commit cycle, and a read that begins then waits: 2 to 3 %
 * of reads in a tight loop take a sync's time (p99 about 300 us instead of
 * 10 to 30 us), and such a loop does a third of the reads.  The waiting
 * readers have a lock of their own (store_int.h), so writes are not slowed.
 *
 * Caveats:
 * - store_durable_publish() runs with s->mu held (writer.c).
 * - After a failed commit or sync, a reader whose snapshot is not durable
 *   fails (SL_EIO) instead of waiting for a sync that will never come.
 */
#ifndef SL_STORE_DURABLE_H
#define SL_STORE_DURABLE_H

#include <lmdb.h>
#include <stdint.h>

struct store;

/* Begin a read-only LMDB transaction of a durable commit.  0 or an LMDB
 * error (EIO after a failed sync).  The caller aborts it. */
int store_durable_read(struct store *s, MDB_txn **out);

/* With s->mu held: commits up to LMDB txn <txnid> are durable, and with
 * them revisions up to <rev>.  Wakes readers and store_wait() callers. */
void store_durable_publish(struct store *s, uint64_t txnid, uint64_t rev);

/* With s->mu held: a commit or sync failed with errno <rc>.  Wakes readers
 * waiting for a durable point that will not come. */
void store_durable_fail(struct store *s, int rc);

#endif
