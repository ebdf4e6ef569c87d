/*
 * store.c - opening and closing the store: the data directory's lock, the
 * conversion of a schema-3 directory, the LMDB environment, the schema
 * check, and the writer's threads.
 *
 * The rest lives beside it: layout.h (how data sits in LMDB), objects.c
 * and cache.h (objects), index.c, counters.h, changes.h (the change log),
 * durable.h (what readers and waiters see), writer.h (group commit).
 */
#include "store/store.h"

#include "store/cache.h"
#include "store/convert.h"
#include "store/counters.h"
#include "store/layout.h"
#include "store/lock.h"
#include "store/schema.h"
#include "store/store_int.h"
#include "store/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)4 << 30)
#define DEFAULT_CHANGES_KEEP 100000

static void store_free(struct store *s)
{
    if (s->env)
        mdb_env_close(s->env);
    store_lock_release(s->lock); /* after the environment is closed */
    store_cache_free(s->cache);
    store_counters_free(s->counters);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->queue_cv);
    pthread_cond_destroy(&s->sync_cv);
    pthread_cond_destroy(&s->rev_cv);
    pthread_mutex_destroy(&s->gate_mu);
    pthread_cond_destroy(&s->gate_cv);
    free(s);
}

static struct store *store_new(const struct store_options *opt)
{
    struct store *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->queue_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    pthread_cond_init(&s->rev_cv, NULL);
    pthread_mutex_init(&s->gate_mu, NULL);
    pthread_cond_init(&s->gate_cv, NULL);
    s->changes_keep = opt && opt->changes_keep ? opt->changes_keep : DEFAULT_CHANGES_KEEP;
    if (store_cache_new(&s->cache) != SL_OK || store_counters_new(&s->counters) != SL_OK) {
        store_free(s);
        return NULL;
    }
    return s;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Open the environment in <dir> and its databases, check the schema, and
 * read where the store stands.  SL_OK, or SL_ERR with <err> filled. */
static int open_env(struct store *s, const char *dir, size_t map_size, struct sl_err *err)
{
    MDB_txn *txn = NULL;
    MDB_stat st;
    int rc;

    if ((rc = mdb_env_create(&s->env)) != 0)
        goto fail_mdb;
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_maxreaders(s->env, 510);
    mdb_env_set_mapsize(s->env, map_size);
    if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0600)) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot open store in %s: %s", dir,
                          mdb_strerror(rc));
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto fail_mdb;
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &s->objects)) != 0 ||
        (rc = mdb_dbi_open(txn, "index", MDB_CREATE, &s->index)) != 0 ||
        (rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &s->changes)) != 0)
        goto fail_mdb;
    if (store_schema_check(txn, s->meta, s->index, dir, &rc, err) != SL_OK) {
        mdb_txn_abort(txn);
        return rc ? store_mdb_fail(err, "open", rc) : SL_ERR;
    }
    s->rev = store_committed_rev(txn, s->meta, s->changes);
    store_meta_get(txn, s->meta, "trimmed", &s->trimmed);
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0 || (rc = mdb_env_get_fd(s->env, &s->fd)) != 0 ||
        (rc = mdb_env_stat(s->env, &st)) != 0)
        goto fail_mdb;
    s->psize = st.ms_psize;
    /* LMDB 0.9 opens its lock file and meta descriptor close-on-exec, but
     * not the data file's: a co-process (sluice-proxy outlives sluiced)
     * would keep it open. */
    if (fcntl(s->fd, F_SETFD, fcntl(s->fd, F_GETFD) | FD_CLOEXEC) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot set close-on-exec on %s: %s",
                          "data.mdb", strerror(errno));
    /* With MDB_NOMETASYNC the opening commits' meta pages are not synced:
     * make them durable, and a new data.mdb's name with them, before
     * anything is read or acknowledged. */
    if ((rc = mdb_env_sync(s->env, 1)) != 0)
        goto fail_mdb;
    if (fsync_dir(dir) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot sync data directory %s: %s",
                          dir, strerror(errno));
    s->committed_txnid = s->durable_txnid = store_last_txnid(s->env);
    return SL_OK;
fail_mdb:
    if (txn)
        mdb_txn_abort(txn);
    return store_mdb_fail(err, "open", rc);
}

int store_open(const char *dir, const struct store_options *opt, struct store **out,
               struct sl_err *err)
{
    size_t map_size = opt && opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
    struct store *s;
    int rc;

    *out = NULL;
    if ((s = store_new(opt)) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    /* The lock first: until it is ours, nothing in <dir> is read or written. */
    if ((rc = store_lock_take(dir, &s->lock, err)) != SL_OK) {
        store_free(s);
        return rc;
    }
    if (store_convert_v3(dir, map_size, err) != SL_OK || open_env(s, dir, map_size, err) != SL_OK ||
        store_writer_start(s, err) != SL_OK) {
        store_writer_stop(s);
        store_free(s);
        return SL_ERR;
    }
    *out = s;
    return SL_OK;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    store_writer_stop(s); /* the syncer makes the last commit durable */
    store_free(s);
}
