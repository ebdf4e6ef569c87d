/*
 * writer.c - group commit on one writer thread, durability by LMDB's own
 * syncs, acknowledgement by a syncer thread.
 *
 * Callers queue a request and sleep.  The writer takes every queued request
 * (MAX_BATCH at most), runs each in its own nested transaction of one
 * parent transaction, and commits the parent once: a failing callback
 * aborts only its nested transaction, and the whole batch shares one
 * commit.
 *
 * The environment runs with MDB_NOMETASYNC: a commit fdatasyncs its data
 * pages, then writes its meta page without syncing it.  That meta page
 * becomes durable with the next fdatasync of the file: the syncer's,
 * started as soon as the commit returns, or the next commit's own,
 * whichever ends first.  A request is acknowledged (and its revision
 * published: durable.h) only once the last transaction committed when its
 * batch ended is durable: its own, or for a batch that wrote nothing,
 * whatever it may have read.  So a commit costs one fsync on the writer's
 * path; the meta page's sync overlaps the next batch instead of waiting
 * for its commit.
 *
 * The writer also starts the meta page's writeback itself, right after the
 * commit: the page is then on its way to the disk while the syncer wakes
 * up, and the syncer's fdatasync is left with waiting for it and the cache
 * flush.  Only the fdatasync makes it durable; an early write is no
 * different from one the kernel could start at any moment on its own.
 */
#define _GNU_SOURCE /* sync_file_range, pthread_setname_np */
#include "store/writer.h"

#include "store/changes.h"
#include "store/counters.h"
#include "store/durable.h"
#include "store/layout.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_BATCH 256

int store_write(struct store *s, store_write_fn fn, void *arg, uint64_t *rev_out,
                struct sl_err *err)
{
    struct write_req req = {.fn = fn, .arg = arg, .err = err, .rc = SL_OK};
    uint64_t t0 = store_stats_now_us();

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return sl_err_set(err, 503, "ServiceUnavailable", "sluiced is shutting down");
    }
    if (s->sync_error) {
        pthread_mutex_unlock(&s->mu);
        return sl_err_set(err, 500, "InternalFailure",
                          "store: a write to disk failed (%s); restart sluiced",
                          mdb_strerror(s->sync_error));
    }
    sem_init(&req.done, 0, 0);
    if (s->tail)
        s->tail->next = &req;
    else
        s->head = &req;
    s->tail = &req;
    pthread_mutex_unlock(&s->mu);
    pthread_cond_signal(&s->queue_cv);
    while (sem_wait(&req.done) != 0)
        ; /* EINTR */
    sem_destroy(&req.done);
    store_stats_commit(&s->stats, store_stats_now_us() - t0);
    if (rev_out)
        *rev_out = req.rev;
    return req.rc;
}

/* Run request <r> in a nested transaction of <parent>, as the mutation
 * after revision <rev>; returns the revision committed after it. */
static uint64_t run_one(struct store *s, MDB_txn *parent, struct store_undo *undo,
                        struct write_req *r, uint64_t rev)
{
    struct store_txn t = {.s = s, .write = 1, .rev = rev, .base_rev = rev, .undo = undo};
    int rc;

    if ((rc = mdb_txn_begin(s->env, parent, 0, &t.txn)) != 0) {
        r->rc = store_mdb_fail(r->err, "begin nested", rc);
        return rev;
    }
    store_undo_reset(undo);
    r->rc = r->fn(&t, r->arg, r->err);
    if (r->rc == SL_OK && (rc = mdb_txn_commit(t.txn)) != 0) {
        r->rc = store_mdb_fail(r->err, "commit nested", rc);
    } else if (r->rc != SL_OK) {
        mdb_txn_abort(t.txn);
        if (r->err && r->err->code[0] == '\0')
            sl_err_set(r->err, 500, "InternalFailure", "store: %s", sl_strerror(r->rc));
    }
    if (r->rc != SL_OK) {
        store_undo_apply(undo, s->counters);
        return rev;
    }
    r->rev = t.rev != rev ? t.rev : 0;
    return t.rev;
}

/* Run <batch> in one parent transaction starting from revision *committed
 * and commit it; *committed becomes the last revision it gave out.
 * Returns 0, or the LMDB error that lost the whole batch: then *fatal gets
 * it too if the loss may have come from a failed write or fdatasync.  A
 * failed commit may have been a failed fdatasync, and the kernel may have
 * dropped the pages: a later sync could report success for a meta page
 * that never reached the disk.  MDB_MAP_FULL and MDB_TXN_FULL, and any
 * failure before the commit, lose the batch before any I/O. */
static int run_batch(struct store *s, struct write_req *batch, struct store_undo *undo,
                     uint64_t *committed, int *fatal)
{
    struct write_req *r;
    MDB_txn *parent;
    uint64_t rev = *committed, trim = s->trimmed;
    int rc;

    *fatal = 0;
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &parent)) == 0) {
        for (r = batch; r; r = r->next)
            rev = run_one(s, parent, undo, r, rev);
        if (store_changelog_trim(s, parent, rev, &trim) != SL_OK) {
            mdb_txn_abort(parent);
            rc = EIO;
        } else if ((rc = mdb_txn_commit(parent)) != 0) {
            *fatal = rc != MDB_MAP_FULL && rc != MDB_TXN_FULL ? rc : 0;
        }
    }
    if (rc != 0) {
        /* The batch is lost: forget every counter rather than undo it. */
        store_counters_clear(s->counters);
        for (r = batch; r; r = r->next)
            if (r->rc == SL_OK) {
                r->rc = store_mdb_fail(r->err, "commit", rc);
                r->rev = 0;
            }
        return rc;
    }
    s->trimmed = trim;
    *committed = rev;
    return 0;
}

/* Requests whose outcome is settled, waiting to be told.  They are
 * collected under s->mu and posted after it is released: a caller woken
 * while the poster still holds s->mu would only block again on it. */
struct acks {
    struct write_req *head, *tail;
};

static void acks_add(struct acks *a, struct write_req *r)
{
    r->next = NULL;
    if (a->tail)
        a->tail->next = r;
    else
        a->head = r;
    a->tail = r;
}

/* Wake every caller in <a>, oldest first.  Call without s->mu. */
static void acks_post(struct acks *a)
{
    struct write_req *r = a->head, *next;

    for (; r; r = next) {
        next = r->next;
        sem_post(&r->done); /* <r> lives on its caller's stack: gone from here on */
    }
    a->head = a->tail = NULL;
}

/* LMDB transaction <txnid> is durable, and every one before it: settle,
 * oldest first, every run request that needed no more, into <a>, and
 * publish the durable point.  Called with s->mu held. */
static void make_durable(struct store *s, uint64_t txnid, struct acks *a)
{
    struct write_req *r;
    uint64_t rev = s->rev;

    if (txnid < s->durable_txnid)
        txnid = s->durable_txnid;
    while ((r = s->unsynced) && r->need_txnid <= txnid) {
        s->unsynced = r->next;
        if (r->head_rev > rev)
            rev = r->head_rev;
        acks_add(a, r);
    }
    if (s->unsynced == NULL)
        s->unsynced_tail = NULL;
    store_durable_publish(s, txnid, rev);
}

/* A commit or sync failed with <rc>: fail every run request still waiting,
 * into <a>, since none of them can be called durable, and refuse every
 * later write.  Called with s->mu held. */
static void fail_unsynced(struct store *s, int rc, struct acks *a)
{
    struct write_req *r;

    store_durable_fail(s, rc);
    while ((r = s->unsynced)) {
        s->unsynced = r->next;
        if (r->rc == SL_OK)
            r->rc = store_mdb_fail(r->err, "sync", s->sync_error);
        r->rev = 0;
        acks_add(a, r);
    }
    s->unsynced_tail = NULL;
}

/* Name the calling store thread and, when the process may (root or
 * CAP_SYS_NICE), run it 5 nice levels above the process: every durable
 * write waits on these two threads, and a busy front end should not keep
 * them off the CPU once their I/O completes (7% more durable writes/s
 * under bench/api here).  Otherwise they keep the process's priority. */
static void thread_init(const char *name)
{
    id_t tid = (id_t)syscall(SYS_gettid);
    int prio;

    pthread_setname_np(pthread_self(), name);
    errno = 0;
    prio = getpriority(PRIO_PROCESS, tid);
    if (errno == 0)
        setpriority(PRIO_PROCESS, tid, prio - 5);
}

/* Take the queued requests, MAX_BATCH at most; NULL once stopping and the
 * queue is empty.  Called with s->mu held. */
static struct write_req *take_batch(struct store *s)
{
    struct write_req *batch, *last;
    int n;

    while (s->head == NULL && !s->stopping)
        pthread_cond_wait(&s->queue_cv, &s->mu);
    if ((batch = s->head) == NULL)
        return NULL;
    for (n = 1, last = batch; last->next && n < MAX_BATCH; n++)
        last = last->next;
    store_stats_batch(&s->stats, (unsigned)n);
    s->head = last->next;
    if (s->head == NULL)
        s->tail = NULL;
    last->next = NULL;
    return batch;
}

/* Queue <batch>, run and committed up to LMDB txn <txnid> (revision
 * <committed>), for the syncer; settle what is already durable or failed.
 * Called with s->mu held. */
static void batch_ran(struct store *s, struct write_req *batch, uint64_t txnid,
                      uint64_t committed, int fresh, struct acks *acks)
{
    struct write_req *last;

    if (fresh) {
        /* This commit's fdatasync also made the meta page of every
         * earlier commit durable. */
        make_durable(s, s->committed_txnid, acks);
        s->committed_txnid = txnid;
    }
    for (last = batch;; last = last->next) {
        last->need_txnid = txnid;
        last->head_rev = committed;
        if (last->next == NULL)
            break;
    }
    if (s->unsynced_tail)
        s->unsynced_tail->next = batch;
    else
        s->unsynced = batch;
    s->unsynced_tail = last;
    if (s->sync_error)
        fail_unsynced(s, s->sync_error, acks);
    else
        make_durable(s, s->durable_txnid, acks); /* a batch may need nothing new */
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    struct write_req *batch;
    struct acks acks = {0};
    uint64_t committed, txnid;
    int fatal, fresh;

    thread_init("store-writer");
    committed = s->rev;
    pthread_mutex_lock(&s->mu);
    while ((batch = take_batch(s)) != NULL) {
        int failed = s->sync_error;

        pthread_mutex_unlock(&s->mu);
        /* After a failure nothing more is committed: batch_ran() fails it. */
        fatal = 0;
        if (!failed)
            run_batch(s, batch, s->undo, &committed, &fatal);
        txnid = store_last_txnid(s->env);
        /* Only this thread changes committed_txnid. */
        fresh = txnid != s->committed_txnid;
        if (fresh)
            sync_file_range(s->fd, 0, (off_t)(2 * s->psize), SYNC_FILE_RANGE_WRITE);

        pthread_mutex_lock(&s->mu);
        if (fatal)
            store_durable_fail(s, fatal); /* every later write is refused */
        batch_ran(s, batch, txnid, committed, fresh, &acks);
        pthread_mutex_unlock(&s->mu);
        /* Signalled after the unlock: woken under s->mu, the syncer would
         * only block on it. */
        if (fresh)
            pthread_cond_signal(&s->sync_cv);
        acks_post(&acks);
        pthread_mutex_lock(&s->mu);
    }
    s->writer_done = 1;
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Make the last written meta page durable, again and again; at shutdown,
 * once the writer is done, the last time. */
static void *syncer_main(void *arg)
{
    struct store *s = arg;
    struct acks acks = {0};
    uint64_t target;
    int rc;

    thread_init("store-syncer");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->committed_txnid <= s->durable_txnid && !s->writer_done && !s->sync_error)
            pthread_cond_wait(&s->sync_cv, &s->mu);
        if (s->sync_error || s->committed_txnid <= s->durable_txnid)
            break; /* failed, or the writer is done and everything is durable */
        target = s->committed_txnid;
        pthread_mutex_unlock(&s->mu);
        rc = mdb_env_sync(s->env, 1);
        pthread_mutex_lock(&s->mu);
        if (rc != 0) {
            /* After a failed fdatasync the kernel may have dropped the
             * pages, and a retry can report success all the same: refuse
             * every write from now on instead (see store_write()). */
            fail_unsynced(s, rc, &acks);
        } else if (s->sync_error) {
            fail_unsynced(s, s->sync_error, &acks); /* a commit failed meanwhile */
        } else {
            make_durable(s, target, &acks);
        }
        pthread_mutex_unlock(&s->mu);
        acks_post(&acks);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int store_writer_start(struct store *s, struct sl_err *err)
{
    if (s->undo == NULL && store_undo_new(&s->undo) != SL_OK)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (pthread_create(&s->syncer, NULL, syncer_main, s) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot start the store's syncer thread");
    s->syncer_started = 1;
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot start the store's writer thread");
    s->writer_started = 1;
    return SL_OK;
}

int store_writer_stop(struct store *s)
{
    int rc;

    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    if (!s->writer_started)
        s->writer_done = 1;
    pthread_cond_broadcast(&s->queue_cv);
    pthread_cond_broadcast(&s->rev_cv);
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    if (s->syncer_started)
        pthread_join(s->syncer, NULL);
    s->writer_started = s->syncer_started = 0;
    store_undo_free(s->undo);
    s->undo = NULL;
    pthread_mutex_lock(&s->mu);
    rc = s->sync_error;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
