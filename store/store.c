/*
 * store.c - LMDB persistence with a group-committing writer thread.
 *
 * Layout: four named databases in one environment.
 *   meta     "schema_version", "trimmed", "revision" -> decimal text
 *   objects  kind '\0' id -> compact JSON
 *   index    key -> value (strings)
 *   changes  be64(revision) be32(seq) -> {"rev","kind","id","op","obj"}
 *
 * The revision is the key of the newest change record (schema 2): a
 * mutation writes no meta record, which keeps one more page out of every
 * commit.  meta "revision" is only a floor: written when the log is trimmed
 * and left by schema 1, which kept it current.
 *
 * Writes: callers queue a request and sleep; the writer thread takes every
 * queued request, runs each in a nested transaction of one parent
 * transaction, and commits the parent once.  A failing callback aborts only
 * its nested transaction.  The commit does not sync LMDB's data file: the
 * batch's puts and deletes also go into one redo record (wal.h), and the
 * batch is durable once that record's log sync is.  Durability,
 * acknowledgement and checkpoints: see writer_main().
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store/store.h"

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "store/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)4 << 30)
#define CACHE_STRIPES 64
#define CACHE_STRIPE_MAX 4096 /* entries per stripe before it is cleared */
#define DEFAULT_CHANGES_KEEP 100000
#define MAX_BATCH 256
/* A snapshot of the data file is taken once the log has grown by this
 * much or by the file's size, whichever is more, since the last one. */
#define SNAPSHOT_LOG_BYTES ((uint64_t)32 << 20)

struct write_req {
    store_write_fn fn;
    void *arg;
    struct sl_err *err;
    int rc;
    uint64_t rev;
    sem_t done;             /* posted once, outside s->mu: see acks_post() */
    uint64_t need_txnid;    /* LMDB txn whose redo record must be durable first */
    uint64_t head_rev;      /* revision committed when its batch ended */
    struct write_req *next;
};

/* Decode cache: parsing JSON costs about six times a deep copy, so decoded
 * objects are kept per key together with the exact bytes they came from.
 * A lookup compares the bytes LMDB returns with the cached ones; any change
 * of the stored value is a miss.  Callers always get a private copy. */
struct cache_stripe {
    pthread_mutex_t mu;
    json_t *map; /* key -> [bytes, object] */
};

struct store {
    MDB_env *env;
    int fd;                  /* the data file, synced at a clean close */
    char *dir;
    struct wal *wal;
    uint64_t epoch;          /* this run's, in every redo record it writes */
    struct buf rec;          /* writer: the batch's redo record */
    int logging;             /* writer: puts and deletes go into <rec> */
    struct cache_stripe cache[CACHE_STRIPES];
    MDB_dbi meta, objects, index, changes;
    uint64_t changes_keep;
    json_t *counters; /* writer thread only: name -> integer, see store_counter_get() */

    pthread_mutex_t mu;
    pthread_cond_t queue_cv;  /* writer waits for work */
    pthread_cond_t sync_cv;   /* syncer waits for a redo record to sync */
    pthread_cond_t ckpt_cv;   /* checkpointer waits for a snapshot to be due */
    pthread_cond_t rev_cv;    /* store_wait() */
    struct write_req *head, *tail;     /* queued for the writer */
    struct write_req *unsynced, *unsynced_tail; /* run, awaiting durability */
    uint64_t logged_txnid;    /* last LMDB txn committed and its redo record written */
    struct wal_pos logged_pos; /* the log position after that record */
    uint64_t logged_bytes;    /* log bytes written by this run */
    unsigned wal_dirty;       /* log files written since the syncer last looked */
    uint64_t durable_txnid;   /* last LMDB txn whose redo record is on disk */
    uint64_t snap_bytes;      /* logged_bytes when the last snapshot began */
    uint64_t snap_due;        /* log bytes after it that call for the next */
    uint64_t snap_min;        /* store_options.snapshot_bytes */
    uint32_t ckpt_file;       /* the log file of the last checkpoint's position */
    uint64_t ckpt_seq;        /* checkpointing thread only */
    int stopping;
    int writer_done;
    int ckpt_stop;
    int sync_error;           /* errno of a failed sync: writes refused */
    uint64_t rev;             /* last durable revision */
    uint64_t trimmed;         /* highest revision with trimmed records */
    unsigned wake_gen;
    pthread_t writer, syncer, ckpter;
    int writer_started, syncer_started, ckpter_started;
};

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    int write;
    uint64_t rev;      /* snapshot revision (read) or revision being written */
    uint64_t base_rev; /* writer: revision before this mutation */
    uint32_t seq;      /* next change-record sequence within <rev> */
    json_t *undo;      /* writer: [name, previous value or null] per counter set */
};

static int mdb_fail(struct sl_err *err, const char *what, int rc)
{
    sl_err_set(err, 500, "InternalFailure", "store: %s: %s", what, mdb_strerror(rc));
    return SL_EIO;
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    char tmp[32];
    int rc = mdb_get(txn, dbi, &k, &v);

    *out = 0;
    if (rc == MDB_NOTFOUND)
        return SL_ENOTFOUND;
    if (rc != 0 || v.mv_size >= sizeof(tmp))
        return SL_EIO;
    memcpy(tmp, v.mv_data, v.mv_size);
    tmp[v.mv_size] = '\0';
    *out = strtoull(tmp, NULL, 10);
    return SL_OK;
}

/* The databases as redo records name them. */
enum { DB_META, DB_OBJECTS, DB_INDEX, DB_CHANGES, DB_COUNT };

static MDB_dbi db_handle(const struct store *s, unsigned db)
{
    const MDB_dbi h[DB_COUNT] = {s->meta, s->objects, s->index, s->changes};

    return h[db];
}

/* Every put and delete goes through these two: on the writer, during a
 * batch, they also go into its redo record.  LMDB's return code. */
static int db_put(struct store *s, MDB_txn *txn, unsigned db, MDB_val *k, MDB_val *v,
                  unsigned flags)
{
    int rc = mdb_put(txn, db_handle(s, db), k, v, flags);

    if (rc == 0 && s->logging)
        wal_rec_put(&s->rec, db, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
    return rc;
}

static int db_del(struct store *s, MDB_txn *txn, unsigned db, MDB_val *k)
{
    int rc = mdb_del(txn, db_handle(s, db), k, NULL);

    if (rc == 0 && s->logging)
        wal_rec_del(&s->rec, db, k->mv_data, k->mv_size);
    return rc;
}

static int meta_put_u64(struct store *s, MDB_txn *txn, const char *key, uint64_t val)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, val);
    MDB_val k = {strlen(key), (void *)key}, v = {(size_t)n, tmp};

    return db_put(s, txn, DB_META, &k, &v, 0) == 0 ? SL_OK : SL_EIO;
}

static uint64_t change_key_rev(const MDB_val *k)
{
    uint64_t rev = 0;
    int i;

    for (i = 0; i < 8 && k->mv_size == 12; i++)
        rev = (rev << 8) | ((const unsigned char *)k->mv_data)[i];
    return rev;
}

/* The revision committed in <txn>: the newest change record's, or the
 * meta floor when that is higher (see the layout note above). */
static uint64_t txn_revision(MDB_txn *txn, const struct store *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t rev = 0, floor = 0;

    if (mdb_cursor_open(txn, s->changes, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0)
            rev = change_key_rev(&k);
        mdb_cursor_close(cur);
    }
    meta_get_u64(txn, s->meta, "revision", &floor);
    return rev > floor ? rev : floor;
}

static void *writer_main(void *arg);
static void *syncer_main(void *arg);
static void *ckpter_main(void *arg);

/* The id of the last committed LMDB transaction. */
static uint64_t last_txnid(MDB_env *env)
{
    MDB_envinfo info;

    return mdb_env_info(env, &info) == 0 ? (uint64_t)info.me_last_txnid : 0;
}

static void cache_destroy(struct store *s)
{
    int i;

    for (i = 0; i < CACHE_STRIPES; i++) {
        json_decref(s->cache[i].map);
        s->cache[i].map = NULL;
        pthread_mutex_destroy(&s->cache[i].mu);
    }
}

static unsigned stripe_of(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h % CACHE_STRIPES;
}

/* Decode the value <v> stored under object key <key>/<klen> ("kind\0id"),
 * through the cache.  Returns a new reference: a private copy, or with
 * <shared> the cached object itself, which the caller must not modify. */
static json_t *decode(struct store *s, const char *key, size_t klen, const MDB_val *v,
                      int shared)
{
    struct cache_stripe *cs = &s->cache[stripe_of(key, klen)];
    char ckey[512];
    json_t *entry, *obj = NULL, *fresh;
    size_t i;

    /* jansson keys are C strings: map the kind's NUL separator to '\x1f'. */
    if (klen >= sizeof(ckey))
        return json_loadb(v->mv_data, v->mv_size, 0, NULL);
    for (i = 0; i < klen; i++)
        ckey[i] = key[i] ? key[i] : '\x1f';
    ckey[klen] = '\0';
    pthread_mutex_lock(&cs->mu);
    entry = json_object_get(cs->map, ckey);
    if (entry) {
        json_t *bytes = json_array_get(entry, 0);
        if (json_string_length(bytes) == v->mv_size &&
            memcmp(json_string_value(bytes), v->mv_data, v->mv_size) == 0)
            obj = json_incref(json_array_get(entry, 1));
    }
    pthread_mutex_unlock(&cs->mu);
    if (obj) {
        if (shared)
            return obj;
        fresh = json_deep_copy(obj);
        json_decref(obj);
        return fresh;
    }
    obj = json_loadb(v->mv_data, v->mv_size, 0, NULL);
    if (obj == NULL)
        return NULL;
    entry = json_pack("[s#O]", (const char *)v->mv_data, (int)v->mv_size, obj);
    if (shared) {
        fresh = json_incref(obj);
    } else {
        fresh = json_deep_copy(obj);
    }
    json_decref(obj);
    if (entry) {
        pthread_mutex_lock(&cs->mu);
        if (json_object_size(cs->map) >= CACHE_STRIPE_MAX)
            json_object_clear(cs->map);
        json_object_set_new(cs->map, ckey, entry);
        pthread_mutex_unlock(&cs->mu);
    }
    return fresh;
}

static int mkdir_p(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);

    if (n == 0 || n >= sizeof(path))
        return -1;
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0700) == -1 && errno != EEXIST)
                return -1;
            path[i] = c;
        }
    }
    return 0;
}

/* Bring a store of schema <from> up to STORE_SCHEMA_VERSION in <txn>.
 * 1 -> 2: schema 1 kept meta "revision" current, and it stays as the
 * floor; its per-group target counters ("tgcount:<tg id>" in the index)
 * are kept in memory now (store_counter_get()), so they go.  Schema 1 code
 * must not open the store once they no longer are current, hence the
 * version bump.
 * 2 -> 3: nothing to convert, but from here on the data file is only
 * current together with the redo log after a crash, which schema 2 code
 * would not replay.  Returns 0 or an LMDB error. */
static int migrate(MDB_txn *txn, struct store *s, uint64_t from)
{
    static const char counters[] = "tgcount:";
    MDB_cursor *cur;
    MDB_val k = {sizeof(counters) - 1, (void *)counters}, v;
    int rc;

    if (from < 2) {
        if ((rc = mdb_cursor_open(txn, s->index, &cur)) != 0)
            return rc;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size < sizeof(counters) - 1 ||
                memcmp(k.mv_data, counters, sizeof(counters) - 1) != 0)
                break;
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    return meta_put_u64(s, txn, "schema_version", STORE_SCHEMA_VERSION) == SL_OK ? 0 : EIO;
}

static int path_in(char *out, size_t n, const char *dir, const char *name)
{
    if (snprintf(out, n, "%s/%s", dir, name) >= (int)n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
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

/* Copy file <from> over file <to> (created or truncated) and fdatasync it.
 * 0 or an errno. */
static int copy_file(const char *from, const char *to)
{
    char buf[1 << 16];
    int in, out, rc = 0;
    ssize_t n;

    if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
        return errno;
    if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        rc = errno;
        close(in);
        return rc;
    }
    while ((n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = errno;
            break;
        }
        if (write(out, buf, (size_t)n) != n) {
            rc = errno ? errno : EIO;
            break;
        }
    }
    if (rc == 0 && fdatasync(out) != 0)
        rc = errno;
    close(in);
    close(out);
    return rc;
}

/* The last transaction of the LMDB file <path>, opened read-only. */
static int file_txnid(const char *path, uint64_t *out)
{
    MDB_env *env;
    MDB_envinfo info;
    int rc;

    if ((rc = mdb_env_create(&env)) != 0)
        return rc;
    mdb_env_set_maxdbs(env, 8);
    rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK, 0600);
    if (rc == 0)
        rc = mdb_env_info(env, &info);
    if (rc == 0)
        *out = (uint64_t)info.me_last_txnid;
    mdb_env_close(env);
    return rc;
}

/* Apply one redo record as one LMDB transaction: the one it describes. */
static int replay_record(uint64_t txnid, const unsigned char *p, size_t n, void *arg)
{
    struct store *s = arg;
    struct wal_op op;
    MDB_txn *txn;
    int rc, more;

    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return rc;
    while ((more = wal_op_next(&p, &n, &op)) == 1) {
        MDB_val k = {op.kl, (void *)op.k}, v = {op.vl, (void *)op.v};

        if (op.db >= DB_COUNT) {
            more = -1;
            break;
        }
        rc = op.type == WAL_OP_PUT ? mdb_put(txn, db_handle(s, op.db), &k, &v, 0)
                                   : mdb_del(txn, db_handle(s, op.db), &k, NULL);
        if (rc != 0)
            break;
    }
    if (rc == 0 && more < 0)
        rc = MDB_CORRUPTED;
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return rc;
    return last_txnid(s->env) == txnid ? 0 : MDB_CORRUPTED;
}

/* The log bytes after which a snapshot is due: the data file's size, so
 * that snapshots cost at most about one more write per logged byte, and
 * at least SNAPSHOT_LOG_BYTES. */
static uint64_t snapshot_due(const struct store *s)
{
    struct stat st;

    if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size > s->snap_min)
        return (uint64_t)st.st_size;
    return s->snap_min;
}

/* Record a checkpoint at log position <pos>, the end of transaction
 * <txnid>'s record.  Run by one thread at a time.  0 or an errno. */
static int checkpoint(struct store *s, uint64_t txnid, struct wal_pos pos, int clean)
{
    struct wal_ckpt c = {0};
    int rc;

    c.seq = s->ckpt_seq + 1;
    c.epoch = s->epoch;
    c.pos = pos;
    c.txnid = txnid;
    c.clean = (uint32_t)clean;
    if ((rc = wal_ckpt_write(s->wal, &c)) != 0)
        return rc;
    s->ckpt_seq = c.seq;
    return 0;
}

/* Snapshot the data file into "snapshot.mdb", durably, then record a
 * checkpoint at log position <pos> (the end of <txnid>'s record, taken
 * before the copy began).  The copy is a whole LMDB file of the last
 * commit when it began, <txnid> or later: replay skips what it holds.
 * 0 or an errno. */
static int snapshot(struct store *s, uint64_t txnid, struct wal_pos pos)
{
    char tmp[4096], path[4096];
    int fd, rc;

    if (path_in(tmp, sizeof(tmp), s->dir, "snapshot.tmp") ||
        path_in(path, sizeof(path), s->dir, "snapshot.mdb"))
        return errno;
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return errno;
    rc = mdb_env_copyfd2(s->env, fd, 0);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = errno;
    close(fd);
    if (rc == 0 && (rename(tmp, path) != 0 || fsync_dir(s->dir) != 0))
        rc = errno;
    return rc ? rc : checkpoint(s, txnid, pos, 0);
}

/* Stop and join the store's threads, whichever started: the writer runs
 * every queued write first, the syncer makes them durable, and the
 * checkpointer stops.  Returns the sync error, if any. */
static int stop_threads(struct store *s)
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
    pthread_mutex_lock(&s->mu);
    s->ckpt_stop = 1;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->ckpter_started)
        pthread_join(s->ckpter, NULL);
    s->writer_started = s->syncer_started = s->ckpter_started = 0;
    pthread_mutex_lock(&s->mu);
    rc = s->sync_error;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void store_free(struct store *s)
{
    if (s->env)
        mdb_env_close(s->env);
    wal_close(s->wal);
    buf_free(&s->rec);
    free(s->dir);
    cache_destroy(s);
    json_decref(s->counters);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->queue_cv);
    pthread_cond_destroy(&s->sync_cv);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_cond_destroy(&s->rev_cv);
    free(s);
}

static int start_thread(struct store *s, pthread_t *t, int *started, void *(*fn)(void *),
                        const char *what, struct sl_err *err)
{
    if (pthread_create(t, NULL, fn, s) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot start the store's %s thread",
                          what);
    *started = 1;
    return SL_OK;
}

/*
 * Opening.  A store whose last checkpoint is not marked clean was not
 * closed cleanly: its data file may hold commits whose pages never reached
 * the disk, so it is rebuilt from the last snapshot and the redo records
 * after it.  A new store, or one closed cleanly, is whole as it is; its
 * opening writes are synced commits.  Either way the run starts with a
 * snapshot and a checkpoint of its own, under a new epoch, before any
 * commit stops syncing.
 */
int store_open(const char *dir, const struct store_options *opt, struct store **out,
               struct sl_err *err)
{
    struct store *s;
    struct wal_ckpt ck = {0};
    MDB_txn *txn = NULL;
    char data[4096], snap[4096];
    uint64_t ver = 0, have = 0, last = 0;
    int rc, i, have_ckpt, dirty;

    *out = NULL;
    if (mkdir_p(dir) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot create data directory %s: %s",
                          dir, strerror(errno));
    if (path_in(data, sizeof(data), dir, "data.mdb") ||
        path_in(snap, sizeof(snap), dir, "snapshot.mdb"))
        return sl_err_set(err, 500, "InternalFailure", "data directory path too long: %s", dir);
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->queue_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    pthread_cond_init(&s->rev_cv, NULL);
    buf_init(&s->rec);
    s->changes_keep = opt && opt->changes_keep ? opt->changes_keep : DEFAULT_CHANGES_KEEP;
    s->snap_min = opt && opt->snapshot_bytes ? opt->snapshot_bytes : SNAPSHOT_LOG_BYTES;
    s->counters = json_object();
    for (i = 0; i < CACHE_STRIPES; i++) {
        pthread_mutex_init(&s->cache[i].mu, NULL);
        s->cache[i].map = json_object();
    }

    if (wal_open(dir, &s->wal, err) != SL_OK)
        goto fail;
    rc = wal_ckpt_read(s->wal, &ck, err);
    if (rc != SL_OK && rc != SL_ENOTFOUND)
        goto fail;
    have_ckpt = rc == SL_OK;
    dirty = have_ckpt && !ck.clean;
    if (!have_ckpt && wal_reset(s->wal, err) != SL_OK)
        goto fail; /* records of no checkpoint: nothing could ever replay them */
    if (dirty) {
        /* The snapshot holds ck.txnid or later (see snapshot()). */
        if ((rc = file_txnid(snap, &have)) != 0 || have < ck.txnid) {
            sl_err_set(err, 500, "InternalFailure",
                       "store in %s was not closed cleanly and its snapshot %s is unusable: %s",
                       dir, snap, rc ? mdb_strerror(rc) : "older than its checkpoint");
            goto fail;
        }
        if ((rc = copy_file(snap, data)) != 0) {
            sl_err_set(err, 500, "InternalFailure", "store in %s: cannot restore %s: %s", dir,
                       data, strerror(rc));
            goto fail;
        }
    }

    if ((rc = mdb_env_create(&s->env)) != 0)
        goto fail_mdb;
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_maxreaders(s->env, 510);
    mdb_env_set_mapsize(s->env, opt && opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE);
    /* Restored, the file is rebuilt again after a crash: no need to sync. */
    if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS | (dirty ? MDB_NOSYNC : 0), 0600)) != 0) {
        sl_err_set(err, 500, "InternalFailure", "cannot open store in %s: %s", dir,
                   mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto fail_mdb;
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &s->objects)) != 0 ||
        (rc = mdb_dbi_open(txn, "index", MDB_CREATE, &s->index)) != 0 ||
        (rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &s->changes)) != 0)
        goto fail_mdb;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0)
        goto fail_mdb;
    if (dirty && (last_txnid(s->env) != have ||
                  (rc = wal_replay(s->wal, &ck, have, replay_record, s, &last)) != 0)) {
        sl_err_set(err, 500, "InternalFailure", "store in %s: cannot replay its redo log: %s",
                   dir, rc ? mdb_strerror(rc) : "the snapshot's databases are missing");
        goto fail;
    }

    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto fail_mdb;
    if (meta_get_u64(txn, s->meta, "schema_version", &ver) == SL_ENOTFOUND) {
        if (meta_put_u64(s, txn, "schema_version", STORE_SCHEMA_VERSION) != SL_OK) {
            rc = EIO;
            goto fail_mdb;
        }
        ver = STORE_SCHEMA_VERSION;
    }
    if (ver > STORE_SCHEMA_VERSION) {
        sl_err_set(err, 500, "InternalFailure",
                   "store in %s has schema version %" PRIu64
                   ", newer than this sluiced understands (%d); upgrade sluiced or use "
                   "another --data-dir",
                   dir, ver, STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (ver < STORE_SCHEMA_VERSION && (rc = migrate(txn, s, ver)) != 0)
        goto fail_mdb;
    s->rev = txn_revision(txn, s);
    meta_get_u64(txn, s->meta, "trimmed", &s->trimmed);
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0)
        goto fail_mdb;
    if ((rc = mdb_env_get_fd(s->env, &s->fd)) != 0 ||
        (rc = mdb_env_set_flags(s->env, MDB_NOSYNC, 1)) != 0)
        goto fail_mdb;

    /* This run's own snapshot and checkpoint, under a new epoch: records
     * of this run start after everything so far. */
    s->epoch = (have_ckpt ? ck.epoch : 0) + 1;
    s->ckpt_seq = have_ckpt ? ck.seq : 0;
    s->logged_txnid = s->durable_txnid = last_txnid(s->env);
    s->logged_pos = wal_position(s->wal);
    s->ckpt_file = s->logged_pos.file;
    s->snap_due = snapshot_due(s);
    if ((rc = snapshot(s, s->logged_txnid, s->logged_pos)) != 0) {
        sl_err_set(err, 500, "InternalFailure", "store in %s: cannot snapshot: %s", dir,
                   mdb_strerror(rc));
        goto fail;
    }

    if (start_thread(s, &s->syncer, &s->syncer_started, syncer_main, "syncer", err) ||
        start_thread(s, &s->ckpter, &s->ckpter_started, ckpter_main, "checkpoint", err) ||
        start_thread(s, &s->writer, &s->writer_started, writer_main, "writer", err))
        goto fail;
    *out = s;
    return SL_OK;

fail_mdb:
    mdb_fail(err, "open", rc);
fail:
    if (txn)
        mdb_txn_abort(txn);
    stop_threads(s);
    store_free(s);
    return SL_ERR;
}

/* After the last write: sync the data file, then a checkpoint marked
 * clean.  The file is then a whole LMDB environment on its own, as a new
 * one would be, and the snapshot is not needed. */
void store_close(struct store *s)
{
    char snap[4096];
    int rc;

    if (s == NULL)
        return;
    if (stop_threads(s) == 0) {
        rc = fdatasync(s->fd) != 0 ? errno : checkpoint(s, s->logged_txnid, s->logged_pos, 1);
        if (rc != 0)
            log_warn("store: the closing checkpoint failed (%s); the next open restores the "
                     "snapshot and replays the redo log", strerror(rc));
        else if (path_in(snap, sizeof(snap), s->dir, "snapshot.mdb") == 0)
            unlink(snap);
    }
    store_free(s);
}

int store_read_begin(struct store *s, struct store_txn **out, struct sl_err *err)
{
    struct store_txn *t = calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    t->s = s;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t->txn)) != 0) {
        free(t);
        return mdb_fail(err, "read", rc);
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
    return t->write ? t->rev : txn_revision(t->txn, t->s);
}

int store_txn_is_write(const struct store_txn *t)
{
    return t->write;
}

uint64_t store_txn_next_revision(const struct store_txn *t)
{
    return t->base_rev + 1;
}

/* Build "kind\0id" into <key>; returns its length or 0 if too long. */
static size_t obj_key(char *key, size_t cap, const char *kind, const char *id)
{
    size_t kl = strlen(kind), il = strlen(id);

    if (kl + 1 + il > cap || kl + 1 + il > 511)
        return 0;
    memcpy(key, kind, kl);
    key[kl] = '\0';
    memcpy(key + kl + 1, id, il);
    return kl + 1 + il;
}

json_t *store_get(struct store_txn *t, const char *kind, const char *id)
{
    char key[512];
    size_t kl = obj_key(key, sizeof(key), kind, id);
    MDB_val k = {kl, key}, v;

    if (kl == 0 || mdb_get(t->txn, t->s->objects, &k, &v) != 0)
        return NULL;
    return decode(t->s, key, kl, &v, 0);
}

json_t *store_get_shared(struct store_txn *t, const char *kind, const char *id)
{
    char key[512];
    size_t kl = obj_key(key, sizeof(key), kind, id);
    MDB_val k = {kl, key}, v;

    if (kl == 0 || mdb_get(t->txn, t->s->objects, &k, &v) != 0)
        return NULL;
    return decode(t->s, key, kl, &v, 1);
}

/* Append <str> to <b> as a JSON string literal.  <str> is UTF-8 (ids and
 * kinds come from jansson strings), so only quotes, backslashes and control
 * characters need escapes. */
static void put_json_string(struct buf *b, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = str;

    buf_putc(b, '"');
    for (; *str; str++) {
        unsigned char c = (unsigned char)*str;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, run, (size_t)(str - run));
        run = str + 1;
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, sizeof(esc));
        }
    }
    buf_append(b, run, (size_t)(str - run));
    buf_putc(b, '"');
}

/* Append the change record {"rev","kind","id","op","obj"} of the current
 * mutation; <obj_text> is the object's stored JSON (NULL for a delete), so
 * the object is encoded once for both databases. */
static int append_change(struct store_txn *t, const char *kind, const char *id, const char *op,
                         const char *obj_text, size_t obj_len)
{
    unsigned char key[12];
    char num[24];
    struct buf rec;
    MDB_val k = {sizeof(key), key}, v;
    int i, n, rc;

    if (t->rev == t->base_rev)
        t->rev = t->base_rev + 1; /* first record of this mutation claims a revision */
    for (i = 0; i < 8; i++)
        key[i] = (unsigned char)(t->rev >> (56 - 8 * i));
    for (i = 0; i < 4; i++)
        key[8 + i] = (unsigned char)(t->seq >> (24 - 8 * i));
    t->seq++;
    n = snprintf(num, sizeof(num), "%" PRIu64, t->rev);
    buf_init(&rec);
    buf_append(&rec, "{\"rev\":", 7);
    buf_append(&rec, num, (size_t)n);
    buf_append(&rec, ",\"kind\":", 8);
    put_json_string(&rec, kind);
    buf_append(&rec, ",\"id\":", 6);
    put_json_string(&rec, id);
    buf_append(&rec, ",\"op\":", 6);
    put_json_string(&rec, op);
    buf_append(&rec, ",\"obj\":", 7);
    if (obj_text)
        buf_append(&rec, obj_text, obj_len);
    else
        buf_append(&rec, "null", 4);
    buf_putc(&rec, '}');
    if (buf_failed(&rec)) {
        buf_free(&rec);
        return SL_ENOMEM;
    }
    v.mv_size = rec.len;
    v.mv_data = rec.data;
    /* Keys only grow (revision, then sequence): appending skips the search
     * and fills each page of the log instead of splitting it in half. */
    rc = db_put(t->s, t->txn, DB_CHANGES, &k, &v, MDB_APPEND);
    buf_free(&rec);
    return rc == 0 ? SL_OK : SL_EIO;
}

int store_put(struct store_txn *t, const char *kind, const char *id, json_t *obj)
{
    char key[512];
    size_t kl;
    char *text;
    MDB_val k, v;
    int rc;

    if (!t->write)
        return SL_EINVAL;
    kl = obj_key(key, sizeof(key), kind, id);
    if (kl == 0)
        return SL_EINVAL;
    text = json_dumps(obj, JSON_COMPACT);
    if (text == NULL)
        return SL_ENOMEM;
    k.mv_size = kl;
    k.mv_data = key;
    v.mv_size = strlen(text);
    v.mv_data = text;
    rc = db_put(t->s, t->txn, DB_OBJECTS, &k, &v, 0);
    if (rc == 0)
        rc = append_change(t, kind, id, "put", text, v.mv_size);
    else
        rc = SL_EIO;
    free(text);
    return rc;
}

int store_del(struct store_txn *t, const char *kind, const char *id)
{
    char key[512];
    size_t kl;
    MDB_val k;
    int rc;

    if (!t->write)
        return SL_EINVAL;
    kl = obj_key(key, sizeof(key), kind, id);
    if (kl == 0)
        return SL_ENOTFOUND;
    k.mv_size = kl;
    k.mv_data = key;
    rc = db_del(t->s, t->txn, DB_OBJECTS, &k);
    if (rc == MDB_NOTFOUND)
        return SL_ENOTFOUND;
    if (rc != 0)
        return SL_EIO;
    return append_change(t, kind, id, "delete", NULL, 0);
}

static int scan(struct store_txn *t, const char *kind, const char *prefix, store_scan_fn cb,
                void *arg, size_t *count)
{
    char key[512], idbuf[512];
    size_t kl = obj_key(key, sizeof(key), kind, prefix ? prefix : "");
    size_t kindlen = strlen(kind) + 1;
    MDB_cursor *cur;
    MDB_val k = {kl, key}, v;
    int rc, ret = 0;

    if (kl == 0)
        return 0;
    if (mdb_cursor_open(t->txn, t->s->objects, &cur) != 0)
        return SL_EIO;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *obj;
        size_t il;

        if (k.mv_size < kl || memcmp(k.mv_data, key, kl) != 0)
            break;
        if (count) {
            (*count)++;
            continue;
        }
        il = k.mv_size - kindlen;
        if (il >= sizeof(idbuf))
            continue;
        memcpy(idbuf, (char *)k.mv_data + kindlen, il);
        idbuf[il] = '\0';
        obj = decode(t->s, k.mv_data, k.mv_size, &v, 1);
        if (obj == NULL)
            continue;
        ret = cb(idbuf, obj, arg);
        json_decref(obj);
        if (ret != 0)
            break;
    }
    mdb_cursor_close(cur);
    return ret;
}

int store_scan(struct store_txn *t, const char *kind, const char *id_prefix, store_scan_fn cb,
               void *arg)
{
    return scan(t, kind, id_prefix, cb, arg, NULL);
}

size_t store_count(struct store_txn *t, const char *kind, const char *id_prefix)
{
    size_t n = 0;

    scan(t, kind, id_prefix, NULL, NULL, &n);
    return n;
}

int store_index_get(struct store_txn *t, const char *key, char *val, size_t vlen)
{
    MDB_val k = {strlen(key), (void *)key}, v;

    if (k.mv_size == 0 || k.mv_size > 511 || mdb_get(t->txn, t->s->index, &k, &v) != 0)
        return SL_ENOTFOUND;
    if (v.mv_size >= vlen)
        return SL_EINVAL;
    memcpy(val, v.mv_data, v.mv_size);
    val[v.mv_size] = '\0';
    return SL_OK;
}

int store_index_put(struct store_txn *t, const char *key, const char *val)
{
    MDB_val k = {strlen(key), (void *)key}, v = {strlen(val), (void *)val};

    if (!t->write || k.mv_size == 0 || k.mv_size > 511)
        return SL_EINVAL;
    return db_put(t->s, t->txn, DB_INDEX, &k, &v, 0) == 0 ? SL_OK : SL_EIO;
}

int store_index_del(struct store_txn *t, const char *key)
{
    MDB_val k = {strlen(key), (void *)key};
    int rc;

    if (!t->write || k.mv_size == 0 || k.mv_size > 511)
        return SL_EINVAL;
    rc = db_del(t->s, t->txn, DB_INDEX, &k);
    return rc == 0 ? SL_OK : rc == MDB_NOTFOUND ? SL_ENOTFOUND : SL_EIO;
}

int store_index_scan(struct store_txn *t, const char *prefix, store_index_fn cb, void *arg)
{
    char kbuf[512], vbuf[1024];
    size_t pl = strlen(prefix);
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, v;
    int rc, ret = 0;

    if (pl == 0 || pl > 511)
        return SL_EINVAL;
    if (mdb_cursor_open(t->txn, t->s->index, &cur) != 0)
        return SL_EIO;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) != 0)
            break;
        if (k.mv_size >= sizeof(kbuf) || v.mv_size >= sizeof(vbuf))
            continue;
        memcpy(kbuf, k.mv_data, k.mv_size);
        kbuf[k.mv_size] = '\0';
        memcpy(vbuf, v.mv_data, v.mv_size);
        vbuf[v.mv_size] = '\0';
        if ((ret = cb(kbuf, vbuf, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return ret;
}

int store_counter_get(struct store_txn *t, const char *name, uint64_t *out)
{
    json_t *v;

    if (!t->write)
        return SL_EINVAL;
    v = json_object_get(t->s->counters, name);
    if (v == NULL)
        return SL_ENOTFOUND;
    *out = (uint64_t)json_integer_value(v);
    return SL_OK;
}

int store_counter_set(struct store_txn *t, const char *name, uint64_t value)
{
    json_t *old;

    if (!t->write)
        return SL_EINVAL;
    old = json_object_get(t->s->counters, name);
    if (json_array_append_new(t->undo, json_pack("[sO]", name, old ? old : json_null())) != 0 ||
        json_object_set_new(t->s->counters, name, json_integer((json_int_t)value)) != 0)
        return SL_ENOMEM;
    return SL_OK;
}

/* Put back the counters a failed mutation set, newest first. */
static void undo_counters(struct store *s, json_t *undo)
{
    size_t i = json_array_size(undo);

    while (i-- > 0) {
        json_t *u = json_array_get(undo, i), *old = json_array_get(u, 1);
        const char *name = json_string_value(json_array_get(u, 0));

        if (json_is_null(old))
            json_object_del(s->counters, name);
        else
            json_object_set(s->counters, name, old);
    }
}

uint64_t store_revision(struct store *s)
{
    uint64_t r;

    pthread_mutex_lock(&s->mu);
    r = s->rev;
    pthread_mutex_unlock(&s->mu);
    return r;
}

uint64_t store_oldest_change(struct store *s)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t rev = 0;
    int i;

    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    if (mdb_cursor_open(txn, s->changes, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 12)
            for (i = 0; i < 8; i++)
                rev = (rev << 8) | ((unsigned char *)k.mv_data)[i];
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return rev;
}

int store_changes(struct store *s, uint64_t since, size_t limit, store_change_fn cb, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char key[12] = {0};
    uint64_t trimmed = 0, from = since + 1, durable = store_revision(s);
    size_t n = 0;
    int i, rc, ret = SL_OK;

    /* Only durable revisions leave the store: a committed revision is
     * published once its sync completes (see writer_main()). */
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return SL_EIO;
    meta_get_u64(txn, s->meta, "trimmed", &trimmed);
    if (since < trimmed) {
        mdb_txn_abort(txn);
        return SL_ENOTFOUND;
    }
    if (mdb_cursor_open(txn, s->changes, &cur) != 0) {
        mdb_txn_abort(txn);
        return SL_EIO;
    }
    for (i = 0; i < 8; i++)
        key[i] = (unsigned char)(from >> (56 - 8 * i));
    k.mv_size = sizeof(key);
    k.mv_data = key;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *rec;
        uint64_t rev = 0;

        for (i = 0; i < 8 && k.mv_size == 12; i++)
            rev = (rev << 8) | ((unsigned char *)k.mv_data)[i];
        if (rev > durable)
            break;
        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (rec == NULL)
            continue;
        ret = cb(rec, arg);
        json_decref(rec);
        if (ret != 0 || (limit && ++n >= limit))
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return ret;
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

int store_write(struct store *s, store_write_fn fn, void *arg, uint64_t *rev_out,
                struct sl_err *err)
{
    struct write_req req = {.fn = fn, .arg = arg, .err = err, .rc = SL_OK};

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return sl_err_set(err, 503, "ServiceUnavailable", "sluiced is shutting down");
    }
    if (s->sync_error) {
        pthread_mutex_unlock(&s->mu);
        return sl_err_set(err, 500, "InternalFailure",
                          "store: a sync to disk failed (%s); restart sluiced",
                          strerror(s->sync_error));
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
    if (rev_out)
        *rev_out = req.rev;
    return req.rc;
}

/* Drop the oldest change records beyond the retention count; the newest,
 * which carries the revision, always stays.  <rev_now> is the revision
 * committed in <txn>, recorded as the floor whenever records go.  Trimming
 * dirties the log's leftmost pages and two meta records, so it waits until
 * the excess reaches 1/8 of the count (at most 1,024 records) rather
 * than costing every commit at the retention limit four more pages. */
static int trim_changes(struct store *s, MDB_txn *txn, uint64_t rev_now, uint64_t *trimmed)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t slack = s->changes_keep / 8 < 1024 ? s->changes_keep / 8 : 1024;
    size_t excess;
    int i;

    if (mdb_stat(txn, s->changes, &st) != 0 || st.ms_entries <= s->changes_keep + slack)
        return SL_OK;
    excess = st.ms_entries - s->changes_keep;
    if (mdb_cursor_open(txn, s->changes, &cur) != 0)
        return SL_EIO;
    while (excess-- > 0 && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 12) {
        unsigned char key[12];
        MDB_val dk = {sizeof(key), key};
        uint64_t rev = 0;

        memcpy(key, k.mv_data, sizeof(key));
        for (i = 0; i < 8; i++)
            rev = (rev << 8) | key[i];
        if (rev > *trimmed)
            *trimmed = rev;
        if (db_del(s, txn, DB_CHANGES, &dk) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (meta_put_u64(s, txn, "revision", rev_now) != SL_OK)
        return SL_EIO;
    return meta_put_u64(s, txn, "trimmed", *trimmed);
}

/* Run <batch> in one parent transaction starting from revision *committed
 * and commit it; *committed becomes the last revision it gave out. */
static void run_batch(struct store *s, struct write_req *batch, uint64_t *committed,
                      uint64_t *trimmed)
{
    struct store_txn t;
    struct write_req *r;
    MDB_txn *parent;
    uint64_t rev = *committed, trim = *trimmed;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, 0, &parent);
    for (r = batch; r; r = r->next) {
        size_t mark = s->rec.len;

        if (rc != 0) {
            r->rc = mdb_fail(r->err, "begin", rc);
            continue;
        }
        memset(&t, 0, sizeof(t));
        t.s = s;
        t.write = 1;
        t.base_rev = rev;
        t.rev = rev;
        if ((rc = mdb_txn_begin(s->env, parent, 0, &t.txn)) != 0) {
            r->rc = mdb_fail(r->err, "begin nested", rc);
            rc = 0;
            continue;
        }
        t.undo = json_array();
        r->rc = t.undo ? r->fn(&t, r->arg, r->err) : SL_ENOMEM;
        if (r->rc == SL_OK && (rc = mdb_txn_commit(t.txn)) != 0) {
            r->rc = mdb_fail(r->err, "commit nested", rc);
            rc = 0;
        } else if (r->rc != SL_OK) {
            mdb_txn_abort(t.txn);
            if (r->err && r->err->code[0] == '\0')
                sl_err_set(r->err, 500, "InternalFailure", "store: %s", sl_strerror(r->rc));
        }
        if (r->rc != SL_OK) {
            undo_counters(s, t.undo);
            wal_rec_rewind(&s->rec, mark);
        }
        json_decref(t.undo);
        if (r->rc != SL_OK)
            continue;
        r->rev = t.rev != rev ? t.rev : 0;
        rev = t.rev;
    }
    if (rc != 0)
        return;
    if (trim_changes(s, parent, rev, &trim) != SL_OK || (rc = mdb_txn_commit(parent)) != 0) {
        if (rc == 0)
            mdb_txn_abort(parent);
        /* The batch is lost: forget every counter rather than undo it. */
        json_object_clear(s->counters);
        for (r = batch; r; r = r->next)
            if (r->rc == SL_OK) {
                r->rc = mdb_fail(r->err, "commit", rc ? rc : EIO);
                r->rev = 0;
            }
        return;
    }
    *trimmed = trim;
    *committed = rev;
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

/* Settle, oldest first, every run request whose transaction is durable
 * once LMDB transaction <txnid> is, into <a>, and publish its revision.
 * Called with s->mu held. */
static void make_durable(struct store *s, uint64_t txnid, struct acks *a)
{
    struct write_req *r;
    uint64_t rev = s->rev;

    if (txnid > s->durable_txnid)
        s->durable_txnid = txnid;
    while ((r = s->unsynced) && r->need_txnid <= s->durable_txnid) {
        s->unsynced = r->next;
        if (r->head_rev > rev)
            rev = r->head_rev;
        acks_add(a, r);
    }
    if (s->unsynced == NULL)
        s->unsynced_tail = NULL;
    if (rev != s->rev) {
        s->rev = rev;
        pthread_cond_broadcast(&s->rev_cv);
    }
}

/* Fail every run request still waiting, into <a>: a sync failed, so none
 * of them can be called durable.  Called with s->mu held. */
static void fail_unsynced(struct store *s, int rc, struct acks *a)
{
    struct write_req *r;

    while ((r = s->unsynced)) {
        s->unsynced = r->next;
        if (r->rc == SL_OK)
            r->rc = mdb_fail(r->err, "sync", rc);
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
static void store_thread_init(const char *name)
{
    id_t tid = (id_t)syscall(SYS_gettid);
    int prio;

    pthread_setname_np(pthread_self(), name);
    errno = 0;
    prio = getpriority(PRIO_PROCESS, tid);
    if (errno == 0)
        setpriority(PRIO_PROCESS, tid, prio - 5);
}

/*
 * The writer, the syncer and the checkpointer.
 *
 * LMDB commits without syncing anything (MDB_NOSYNC): a commit is visible
 * to readers at once and durable only through its redo record.  The
 * writer appends each commit's record to the log (written, not synced) and
 * the syncer fdatasyncs the log, settling every request whose record it
 * covered.  A request is acknowledged (and its revision published to
 * store_revision(), store_wait() and the change feed) only once the record
 * of the last transaction committed when its batch ended is durable: its
 * own, or for a batch that wrote nothing, whatever it may have read.  So a
 * write costs one flush of a page or two of sequential log, shared by
 * every write the sync covers, and the writer runs the next batch while
 * the syncer waits for it.
 *
 * The data file is only synced at a clean close, so after a crash it may
 * hold commits whose pages never reached the disk.  The log is therefore
 * kept back to the last snapshot: a whole copy of the data file, synced,
 * that the checkpointer takes (mdb_env_copyfd2) whenever the log has grown
 * by the file's size since the last one, and a checkpoint naming the log
 * position from which the records after it are found.  store_open()
 * rebuilds an uncleanly closed store from the two.  Between snapshots the
 * data file's pages are rewritten in the page cache as often as commits
 * touch them and reach the disk once, when the kernel writes them back.
 */
static void *writer_main(void *arg)
{
    struct store *s = arg;
    struct write_req *batch, *last;
    struct acks acks = {0};
    struct wal_pos end = {0};
    uint64_t committed, trimmed, txnid, logged;
    uint32_t ckpt_file;
    unsigned file_bit = 0;
    int n, rc, fresh, kick;

    store_thread_init("store-writer");
    committed = s->rev;
    trimmed = s->trimmed;
    logged = s->logged_txnid;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->head == NULL && !s->stopping)
            pthread_cond_wait(&s->queue_cv, &s->mu);
        if (s->head == NULL)
            break; /* stopping, and every queued write has run */
        batch = s->head;
        for (n = 1, last = batch; last->next && n < MAX_BATCH; n++)
            last = last->next;
        s->head = last->next;
        if (s->head == NULL)
            s->tail = NULL;
        last->next = NULL;
        ckpt_file = s->ckpt_file;
        pthread_mutex_unlock(&s->mu);

        wal_rec_start(&s->rec);
        s->logging = 1;
        run_batch(s, batch, &committed, &trimmed);
        s->logging = 0;
        txnid = last_txnid(s->env);
        fresh = txnid != logged;
        rc = kick = 0;
        if (fresh) {
            /* One commit, described by the record: anything else means a
             * commit the log cannot replay. */
            if (txnid != logged + 1 || wal_rec_empty(&s->rec) || buf_failed(&s->rec)) {
                rc = EIO;
            } else {
                wal_rec_finish(&s->rec, s->epoch, txnid);
                rc = wal_append(s->wal, &s->rec, ckpt_file, &end, &file_bit);
            }
        }

        pthread_mutex_lock(&s->mu);
        if (fresh && rc == 0) {
            s->logged_txnid = logged = txnid;
            s->logged_pos = end;
            s->logged_bytes += s->rec.len;
            s->wal_dirty |= file_bit;
            kick = s->logged_bytes - s->snap_bytes >= s->snap_due;
        } else if (rc != 0 && !s->sync_error) {
            s->sync_error = rc;
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
            fail_unsynced(s, s->sync_error, &acks);
        else
            make_durable(s, s->durable_txnid, &acks); /* a batch may need nothing new */
        pthread_mutex_unlock(&s->mu);
        /* Signalled after the unlock: woken under s->mu, they would only
         * block on it. */
        if (fresh)
            pthread_cond_signal(&s->sync_cv);
        if (kick)
            pthread_cond_signal(&s->ckpt_cv);
        acks_post(&acks);
    }
    s->writer_done = 1;
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Make the log durable up to the last record written, again and again; at
 * shutdown, once the writer is done, the last time. */
static void *syncer_main(void *arg)
{
    struct store *s = arg;
    struct acks acks = {0};
    uint64_t target;
    unsigned files;
    int rc;

    store_thread_init("store-syncer");
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->logged_txnid <= s->durable_txnid && !s->writer_done)
            pthread_cond_wait(&s->sync_cv, &s->mu);
        if (s->logged_txnid <= s->durable_txnid)
            break; /* the writer is done and everything is durable */
        target = s->logged_txnid;
        files = s->wal_dirty;
        s->wal_dirty = 0;
        pthread_mutex_unlock(&s->mu);
        rc = wal_sync(s->wal, files);
        pthread_mutex_lock(&s->mu);
        if (rc != 0) {
            /* After a failed fdatasync the kernel may have dropped the
             * pages, and a retry can report success all the same: refuse
             * every write from now on instead (see store_write()). */
            s->sync_error = rc;
            fail_unsynced(s, rc, &acks);
            pthread_mutex_unlock(&s->mu);
            acks_post(&acks);
            return NULL;
        }
        make_durable(s, target, &acks);
        pthread_mutex_unlock(&s->mu);
        acks_post(&acks);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Snapshot the data file each time the log has grown enough. */
static void *ckpter_main(void *arg)
{
    struct store *s = arg;
    struct wal_pos pos;
    uint64_t txnid, bytes;
    int rc;

    store_thread_init("store-snapshot");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->logged_bytes - s->snap_bytes < s->snap_due && !s->ckpt_stop)
            pthread_cond_wait(&s->ckpt_cv, &s->mu);
        if (s->ckpt_stop)
            break;
        txnid = s->logged_txnid;
        pos = s->logged_pos;
        bytes = s->logged_bytes;
        pthread_mutex_unlock(&s->mu);
        rc = snapshot(s, txnid, pos);
        if (rc != 0) {
            /* Nothing is lost: the log still holds every record since the
             * last checkpoint, and stays until one succeeds. */
            log_warn("store: snapshot failed (%s); trying again in a second",
                     mdb_strerror(rc));
            sleep(1);
        }
        pthread_mutex_lock(&s->mu);
        s->snap_due = snapshot_due(s);
        if (rc == 0) {
            s->ckpt_file = pos.file;
            s->snap_bytes = bytes;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
