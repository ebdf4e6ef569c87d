/*
 * convert.c - converting a schema-3 data directory (see convert.h).
 */
#include "store/convert.h"

#include "common/log.h"
#include "store/layout.h"
#include "store/v3log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files a schema-3 store kept beside data.mdb, in the order they go:
 * the checkpoint first (from then on data.mdb is current), wal-0.log last
 * (while it is there, the next open knows to finish the removal). */
static const char *const old_files[] = {"checkpoint",   "snapshot.tmp",     "snapshot.mdb",
                                        "wal-1.log",    "data.mdb.convert", "wal-0.log"};

struct rebuild {
    MDB_env *env;
    MDB_dbi dbi[4]; /* as v3 ops name them: meta, objects, index, changes */
    uint64_t applied;
};

static int path_in(char *out, size_t n, const char *dir, const char *name)
{
    return snprintf(out, n, "%s/%s", dir, name) >= (int)n ? -1 : 0;
}

static int exists_in(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;

    return path_in(path, sizeof(path), dir, name) == 0 && stat(path, &st) == 0;
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

/* Copy file <from> over file <to> (created or truncated), synced.  0 or an
 * errno. */
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

/* Remove the old files that exist, in old_files' order.  0 or an errno. */
static int remove_old_files(const char *dir)
{
    char path[4096];
    size_t i;

    for (i = 0; i < sizeof(old_files) / sizeof(old_files[0]); i++) {
        if (path_in(path, sizeof(path), dir, old_files[i]) != 0)
            return ENAMETOOLONG;
        if (unlink(path) != 0 && errno != ENOENT)
            return errno;
        /* Nothing may outlive the checkpoint's removal unsynced. */
        if (i == 0 && fsync_dir(dir) != 0)
            return errno;
    }
    return fsync_dir(dir) != 0 ? errno : 0;
}

/* Apply one record as one LMDB transaction: the one it describes. */
static int apply_record(uint64_t txnid, const unsigned char *p, size_t n, void *arg)
{
    struct rebuild *b = arg;
    struct v3_op op;
    MDB_txn *txn;
    int rc, more;

    if ((rc = mdb_txn_begin(b->env, NULL, 0, &txn)) != 0)
        return rc;
    while ((more = v3_op_next(&p, &n, &op)) == 1) {
        MDB_val k = {op.kl, (void *)op.k}, v = {op.vl, (void *)op.v};

        if (op.db >= 4) {
            more = -1;
            break;
        }
        rc = op.type == V3_OP_PUT ? mdb_put(txn, b->dbi[op.db], &k, &v, 0)
                                  : mdb_del(txn, b->dbi[op.db], &k, NULL);
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
    b->applied++;
    return store_last_txnid(b->env) == txnid ? 0 : MDB_CORRUPTED;
}

/* Open the LMDB file <path> alone (no lock file) into b->env, with its
 * four databases.  0 or an LMDB error. */
static int open_file(struct rebuild *b, const char *path, size_t map_size, unsigned flags)
{
    static const char *const names[4] = {"meta", "objects", "index", "changes"};
    MDB_txn *txn;
    int rc, i;

    if ((rc = mdb_env_create(&b->env)) != 0)
        return rc;
    mdb_env_set_maxdbs(b->env, 8);
    mdb_env_set_mapsize(b->env, map_size);
    if ((rc = mdb_env_open(b->env, path, MDB_NOSUBDIR | MDB_NOLOCK | flags, 0600)) != 0)
        return rc;
    if ((rc = mdb_txn_begin(b->env, NULL, flags & MDB_RDONLY, &txn)) != 0)
        return rc;
    for (i = 0; i < 4 && rc == 0; i++)
        rc = mdb_dbi_open(txn, names[i], 0, &b->dbi[i]);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* Replay the log of <dir> after checkpoint <ck> into the copy opened in
 * <b>, whose last transaction is <have>.  SL_OK or SL_ERR. */
static int replay(const char *dir, const struct v3_ckpt *ck, struct rebuild *b, uint64_t have,
                  struct sl_err *err)
{
    struct v3_log *log;
    struct v3_pos end, later;
    uint64_t last = 0;
    int rc;

    if (v3_log_open(dir, &log, err) != SL_OK)
        return SL_ERR;
    rc = v3_log_replay(log, ck, have, apply_record, b, &last, &end);
    if (rc != 0) {
        v3_log_close(log);
        return sl_err_set(err, 500, "InternalFailure",
                          "store in %s: cannot replay its schema-3 redo log after transaction "
                          "%" PRIu64 ": %s",
                          dir, last, mdb_strerror(rc));
    }
    /* The snapshot may hold a commit or two whose records never reached the
     * log: the chain may end below <have>, and records up to it are no loss. */
    if (v3_log_later(log, ck->epoch, last > have ? last : have, &later)) {
        v3_log_close(log);
        return sl_err_set(err, 500, "InternalFailure",
                          "store in %s: its schema-3 redo log is damaged after transaction "
                          "%" PRIu64 " (wal-%u.log at byte %" PRIu64
                          "), and a later record at wal-%u.log byte %" PRIu64
                          " checks out: not converted, as that would drop acknowledged writes",
                          dir, last, end.file, end.off, later.file, later.off);
    }
    v3_log_close(log);
    return SL_OK;
}

/* Rebuild data.mdb from snapshot.mdb and the log after checkpoint <ck>. */
static int rebuild(const char *dir, const struct v3_ckpt *ck, size_t map_size, struct sl_err *err)
{
    char snap[4096], tmp[4096], data[4096];
    struct rebuild b = {0};
    uint64_t have;
    int rc;

    if (path_in(snap, sizeof(snap), dir, "snapshot.mdb") ||
        path_in(tmp, sizeof(tmp), dir, "data.mdb.convert") ||
        path_in(data, sizeof(data), dir, "data.mdb"))
        return sl_err_set(err, 500, "InternalFailure", "data directory path too long: %s", dir);
    /* The snapshot holds ck->txnid or later. */
    rc = open_file(&b, snap, map_size, MDB_RDONLY);
    have = rc == 0 ? store_last_txnid(b.env) : 0;
    mdb_env_close(b.env);
    b.env = NULL;
    if (rc != 0 || have < ck->txnid)
        return sl_err_set(err, 500, "InternalFailure",
                          "store in %s was not closed cleanly by a schema-3 sluiced and its "
                          "snapshot %s is unusable: %s",
                          dir, snap, rc ? mdb_strerror(rc) : "older than its checkpoint");
    if ((rc = copy_file(snap, tmp)) != 0) {
        sl_err_set(err, 500, "InternalFailure", "store in %s: cannot copy %s: %s", dir, snap,
                   strerror(rc));
        goto fail;
    }
    /* Unsynced commits: the copy is synced once, whole, before it
     * replaces data.mdb, and discarded if anything goes wrong first. */
    if ((rc = open_file(&b, tmp, map_size, MDB_NOSYNC)) != 0) {
        sl_err_set(err, 500, "InternalFailure", "store in %s: cannot open %s: %s", dir, tmp,
                   mdb_strerror(rc));
        goto fail;
    }
    if (replay(dir, ck, &b, have, err) != SL_OK)
        goto fail;
    if ((rc = mdb_env_sync(b.env, 1)) != 0) {
        sl_err_set(err, 500, "InternalFailure", "store in %s: cannot sync %s: %s", dir, tmp,
                   mdb_strerror(rc));
        goto fail;
    }
    mdb_env_close(b.env);
    b.env = NULL;
    if (rename(tmp, data) != 0 || fsync_dir(dir) != 0) {
        sl_err_set(err, 500, "InternalFailure", "store in %s: cannot replace %s: %s", dir, data,
                   strerror(errno));
        goto fail;
    }
    log_info("store in %s: rebuilt from its schema-3 snapshot and %" PRIu64 " redo records",
             dir, b.applied);
    return SL_OK;
fail:
    mdb_env_close(b.env);
    unlink(tmp);
    return SL_ERR;
}

int store_convert_v3(const char *dir, size_t map_size, struct sl_err *err)
{
    struct v3_ckpt ck = {0};
    int rc;

    if (!exists_in(dir, "checkpoint") && !exists_in(dir, "wal-0.log"))
        return SL_OK; /* not schema 3, or converted */
    rc = v3_ckpt_read(dir, &ck, err);
    if (rc == SL_OK && !ck.clean) {
        if (rebuild(dir, &ck, map_size, err) != SL_OK)
            return SL_ERR;
    } else if (rc != SL_OK && rc != SL_ENOTFOUND) {
        return SL_ERR;
    }
    /* Clean, never checkpointed, rebuilt, or a conversion that got as far
     * as removing the checkpoint: data.mdb is current on its own. */
    if ((rc = remove_old_files(dir)) != 0)
        return sl_err_set(err, 500, "InternalFailure",
                          "store in %s: cannot remove the schema-3 redo log files: %s", dir,
                          strerror(rc));
    return SL_OK;
}
