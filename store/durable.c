/*
 * durable.c - the durable point, read transactions gated on it, and waits
 * for revisions (see durable.h).
 */
#include "store/durable.h"

#include "common/util.h"
#include "store/layout.h"
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int store_durable_read(struct store *s, MDB_txn **out)
{
    MDB_txn *txn;
    uint64_t id;
    int rc;

    *out = NULL;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return rc;
    id = (uint64_t)mdb_txn_id(txn);
    if (id > __atomic_load_n(&s->durable_txnid, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&s->mu);
        while (s->durable_txnid < id && !s->sync_error)
            pthread_cond_wait(&s->durable_cv, &s->mu);
        rc = s->durable_txnid < id ? EIO : 0;
        pthread_mutex_unlock(&s->mu);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return rc;
        }
    }
    *out = txn;
    return 0;
}

void store_durable_publish(struct store *s, uint64_t txnid, uint64_t rev)
{
    int moved = 0;

    if (txnid > s->durable_txnid) {
        __atomic_store_n(&s->durable_txnid, txnid, __ATOMIC_RELEASE);
        moved = 1;
    }
    if (rev > s->rev) {
        s->rev = rev;
        moved = 1;
    }
    if (moved)
        pthread_cond_broadcast(&s->durable_cv);
}

void store_durable_fail(struct store *s, int rc)
{
    if (s->sync_error == 0)
        s->sync_error = rc ? rc : EIO;
    pthread_cond_broadcast(&s->durable_cv);
}

int store_read_begin(struct store *s, struct store_txn **out, struct sl_err *err)
{
    struct store_txn *t = calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    t->s = s;
    if ((rc = store_durable_read(s, &t->txn)) != 0) {
        free(t);
        return store_mdb_fail(err, "read", rc);
    }
    *out = t;
    return SL_OK;
}

void store_txn_end(struct store_txn *t)
{
    if (t == NULL)
        return;
    if (t->txn)
        mdb_txn_abort(t->txn);
    free(t);
}

uint64_t store_txn_revision(const struct store_txn *t)
{
    return t->write ? t->rev : store_committed_rev(t->txn, t->s->meta, t->s->changes);
}

int store_txn_is_write(const struct store_txn *t)
{
    return t->write;
}

uint64_t store_txn_next_revision(const struct store_txn *t)
{
    return t->base_rev + 1;
}

uint64_t store_revision(struct store *s)
{
    uint64_t r;

    pthread_mutex_lock(&s->mu);
    r = s->rev;
    pthread_mutex_unlock(&s->mu);
    return r;
}

uint64_t store_wait(struct store *s, uint64_t since, int timeout_ms)
{
    struct timespec ts;
    uint64_t r;
    unsigned gen;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    gen = s->wake_gen;
    while (s->rev <= since && !s->stopping && gen == s->wake_gen)
        if (pthread_cond_timedwait(&s->durable_cv, &s->mu, &ts) == ETIMEDOUT)
            break;
    r = s->rev;
    pthread_mutex_unlock(&s->mu);
    return r;
}

int store_wait_durable(struct store *s, uint64_t rev, int timeout_ms)
{
    uint64_t deadline = util_mono_ms() + (uint64_t)timeout_ms;

    while (store_revision(s) < rev) {
        uint64_t now = util_mono_ms();
        if (now >= deadline)
            return 0;
        store_wait(s, store_revision(s), (int)(deadline - now));
    }
    return 1;
}

void store_wake_all(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    s->wake_gen++;
    pthread_cond_broadcast(&s->durable_cv);
    pthread_mutex_unlock(&s->mu);
}
