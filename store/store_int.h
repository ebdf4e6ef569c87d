/*
 * store_int.h - the store's private types, shared by its modules (the .c files of store/);
 * nothing outside store/ includes it.
 *
 * Caveats:
 * - s->mu guards the queue, the durability state (committed_txnid,
 *   durable_txnid, rev, sync_error) and the flags.  Readers read
 *   durable_txnid and sync_error atomically, and wait for them under
 *   gate_mu; whoever moves them takes gate_mu after s->mu (never the other
 *   way round) to wake the readers.
 * - Fields marked "writer" belong to the writer thread: no lock.
 */
#ifndef SL_STORE_INT_H
#define SL_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

#include "store/stats.h"
#include "store/store.h"

struct store_lock;
struct store_cache;
struct store_counters;
struct store_undo;

/* A queued store_write(): lives on its caller's stack until posted. */
struct write_req {
    store_write_fn fn;
    void *arg;
    struct sl_err *err;
    int rc;
    uint64_t rev;
    sem_t done;          /* posted once, outside s->mu (see writer.c) */
    uint64_t need_txnid; /* LMDB txn that must be durable before the ack */
    uint64_t head_rev;   /* revision committed when its batch ended */
    struct write_req *next;
};

struct store {
    MDB_env *env;
    int fd;       /* the data file: the writer starts its meta page's writeback */
    size_t psize; /* LMDB page size: the meta pages are the file's first two */
    MDB_dbi meta, objects, index, changes;
    uint64_t changes_keep;
    struct store_lock *lock;
    struct store_cache *cache;
    struct store_counters *counters; /* writer */
    struct store_undo *undo;         /* writer: the running mutation's counter sets */

    pthread_mutex_t mu;
    pthread_cond_t queue_cv;   /* writer waits for work */
    pthread_cond_t sync_cv;    /* syncer waits for a commit to make durable */
    pthread_cond_t rev_cv;     /* store_wait(): rev moved, or woken */
    /* Readers waiting for a commit to be durable use a lock of their own, so
     * that they never contend with the writer and the syncer for s->mu. */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    unsigned gate_waiters;     /* readers in the gate: under gate_mu, read atomically */
    struct write_req *head, *tail;              /* queued for the writer */
    struct write_req *unsynced, *unsynced_tail; /* run, awaiting durability */
    uint64_t committed_txnid; /* last LMDB txn committed (its meta page written) */
    uint64_t durable_txnid;   /* last LMDB txn whose meta page is on disk */
    uint64_t rev;             /* last durable revision */
    uint64_t trimmed;         /* writer: highest revision with trimmed records */
    int stopping;
    int writer_done;
    int sync_error; /* errno of a failed commit or sync: writes and some reads refused */
    unsigned wake_gen;
    pthread_t writer, syncer;
    int writer_started, syncer_started;
    struct store_stats stats; /* for GET /metrics (stats.h) */
};

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    int write;
    uint64_t rev;            /* snapshot revision (read) or revision being written */
    uint64_t base_rev;       /* writer: revision before this mutation */
    uint32_t seq;            /* next change-record sequence within <rev> */
    struct store_undo *undo; /* writer: counters this mutation set */
};

/* Fill <err> with a 500 naming LMDB's error <rc> during <what>; SL_EIO. */
int store_mdb_fail(struct sl_err *err, const char *what, int rc);

#endif
