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
        pthread_mutex_lock(&s->gate_mu);
        __atomic_add_fetch(&s->gate_waiters, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&s->durable_txnid, __ATOMIC_SEQ_CST) < id &&
               !__atomic_load_n(&s->sync_error, __ATOMIC_SEQ_CST))
            pthread_cond_wait(&s->gate_cv, &s->gate_mu);
        __atomic_sub_fetch(&s->gate_waiters, 1, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&s->gate_mu);
        if (__atomic_load_n(&s->durable_txnid, __ATOMIC_SEQ_CST) < id) {
            mdb_txn_abort(txn);
            return EIO;
        }
    }
    *out = txn;
    return 0;
}

/* Wake the readers in the gate, if any.  Called after durable_txnid or
 * sync_error moved (a reader that counted itself in before it looked at
 * them is woken; one that comes later sees the new values). */
static void gate_open(struct store *s)
{
    if (__atomic_load_n(&s->gate_waiters, __ATOMIC_SEQ_CST) == 0)
        return;
    pthread_mutex_lock(&s->gate_mu);
    pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
}

void store_durable_publish(struct store *s, uint64_t txnid, uint64_t rev)
{
    if (txnid > s->durable_txnid) {
        __atomic_store_n(&s->durable_txnid, txnid, __ATOMIC_SEQ_CST);
        gate_open(s);
    }
    if (rev > s->rev) {
        s->rev = rev;
        pthread_cond_broadcast(&s->rev_cv);
    }
}

void store_durable_fail(struct store *s, int rc)
{
    if (s->sync_error == 0)
        __atomic_store_n(&s->sync_error, rc ? rc : EIO, __ATOMIC_SEQ_CST);
    gate_open(s);
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

    util_deadline(&ts, (uint64_t)timeout_ms);
    pthread_mutex_lock(&s->mu);
    gen = s->wake_gen;
    while (s->rev <= since && !s->stopping && gen == s->wake_gen)
        if (pthread_cond_timedwait(&s->rev_cv, &s->mu, &ts) == ETIMEDOUT)
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
    pthread_cond_broadcast(&s->rev_cv);
    pthread_mutex_unlock(&s->mu);
}
