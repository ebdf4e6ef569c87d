/* Unit tests for store/: objects, revisions, the change log, atomicity,
 * group commit, schema versions, the data directory's lock, reads that see
 * durable commits only, failed commits and syncs, and crashes: a child
 * writes, is killed, and what it had synced is all the disk keeps.
 *
 * The crash and failure tests run LMDB over a simulated disk: this
 * executable defines pwrite(), writev(), fdatasync() and fsync(), which
 * LMDB's calls resolve to (symbol interposition), and passes them on to
 * the C library.  While the simulation is on, every write to data.mdb is
 * also recorded, and each completed sync applies the writes issued before
 * it began to an image of the file: the image is what a disk keeps through
 * a power cut, by POSIX's promise and no more.  A test can also make one
 * sync fail, or hold the syncer's syncs until it lets them go. */
#define _GNU_SOURCE /* RTLD_NEXT, pthread_getname_np */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

/* ---- the simulated disk ---- */

struct pending {
    off_t off;
    size_t len;
    char *data;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int on;              /* record data.mdb's writes and keep the image */
    int data_fd;         /* data.mdb's descriptor, once seen; -1 before */
    int image_fd;        /* data.mdb as of its last completed sync */
    struct pending *pend;
    size_t npend, applied, cap;
    int failing;          /* fail_thread is set */
    char fail_thread[16]; /* the next sync of data.mdb by this thread fails */
    int hold;             /* the syncer's syncs of data.mdb wait for release */
    int held;             /* the syncer is waiting */
} disk = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1, -1, NULL, 0, 0, 0, 0, "",
          0, 0};

static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fdatasync)(int);
static int (*real_fsync)(int);
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void find_real(void)
{
    real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
}

static int watching(void)
{
    return __atomic_load_n(&disk.on, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&disk.hold, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&disk.failing, __ATOMIC_ACQUIRE);
}

/* Whether <fd> is a data.mdb.  Called with disk.mu held. */
static int is_data(int fd)
{
    char link[64], path[4096];
    ssize_t n;

    if (disk.data_fd >= 0)
        return fd == disk.data_fd;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n < 9)
        return 0;
    path[n] = '\0';
    if (strcmp(path + n - 9, "/data.mdb") != 0)
        return 0;
    disk.data_fd = fd;
    return 1;
}

/* Called with disk.mu held. */
static void record(off_t off, const void *p, size_t len)
{
    if (!disk.on)
        return;
    if (disk.npend == disk.cap) {
        disk.cap = disk.cap ? disk.cap * 2 : 256;
        disk.pend = realloc(disk.pend, disk.cap * sizeof(*disk.pend));
        if (disk.pend == NULL)
            abort(); /* store threads call this: no cmocka assertions */
    }
    disk.pend[disk.npend].off = off;
    disk.pend[disk.npend].len = len;
    if ((disk.pend[disk.npend].data = malloc(len)) == NULL)
        abort();
    memcpy(disk.pend[disk.npend].data, p, len);
    disk.npend++;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r;

    pthread_once(&real_once, find_real);
    if (!watching())
        return real_pwrite(fd, buf, n, off);
    pthread_mutex_lock(&disk.mu);
    r = real_pwrite(fd, buf, n, off);
    if (r > 0 && is_data(fd))
        record(off, buf, (size_t)r);
    pthread_mutex_unlock(&disk.mu);
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    ssize_t r, left;
    off_t off;
    int i;

    pthread_once(&real_once, find_real);
    if (!watching())
        return real_writev(fd, iov, cnt);
    pthread_mutex_lock(&disk.mu);
    off = lseek(fd, 0, SEEK_CUR);
    r = real_writev(fd, iov, cnt);
    if (r > 0 && off >= 0 && is_data(fd))
        for (i = 0, left = r; i < cnt && left > 0; i++) {
            size_t n = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
            record(off, iov[i].iov_base, n);
            off += (off_t)n;
            left -= (ssize_t)n;
        }
    pthread_mutex_unlock(&disk.mu);
    return r;
}

static int sync_data(int fd, int (*real)(int))
{
    char name[16] = "";
    size_t mark, i;
    int rc;

    pthread_mutex_lock(&disk.mu);
    if (!is_data(fd)) {
        pthread_mutex_unlock(&disk.mu);
        return real(fd);
    }
    pthread_getname_np(pthread_self(), name, sizeof(name));
    if (disk.failing && strcmp(name, disk.fail_thread) == 0) {
        __atomic_store_n(&disk.failing, 0, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&disk.mu);
        errno = EIO;
        return -1;
    }
    while (disk.hold && strcmp(name, "store-syncer") == 0) {
        disk.held = 1;
        pthread_cond_broadcast(&disk.cv);
        pthread_cond_wait(&disk.cv, &disk.mu);
    }
    mark = disk.npend; /* what this sync covers */
    pthread_mutex_unlock(&disk.mu);
    rc = real(fd);
    pthread_mutex_lock(&disk.mu);
    for (i = disk.applied; rc == 0 && disk.on && i < mark; i++) {
        if (real_pwrite(disk.image_fd, disk.pend[i].data, disk.pend[i].len, disk.pend[i].off) !=
            (ssize_t)disk.pend[i].len)
            abort();
        free(disk.pend[i].data);
        disk.pend[i].data = NULL;
    }
    if (rc == 0 && mark > disk.applied)
        disk.applied = mark;
    pthread_mutex_unlock(&disk.mu);
    return rc;
}

int fdatasync(int fd)
{
    pthread_once(&real_once, find_real);
    return watching() ? sync_data(fd, real_fdatasync) : real_fdatasync(fd);
}

int fsync(int fd)
{
    pthread_once(&real_once, find_real);
    return watching() ? sync_data(fd, real_fsync) : real_fsync(fd);
}

/* Start keeping the image of <dir>/data.mdb, as it is now (synced by
 * store_open()), in <dir>/disk.img. */
static void disk_start(const char *dir)
{
    char cmd[256], path[128];

    snprintf(cmd, sizeof(cmd), "cp %s/data.mdb %s/disk.img", dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/disk.img", dir);
    pthread_mutex_lock(&disk.mu);
    disk.image_fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(disk.image_fd >= 0);
    disk.data_fd = -1;
    disk.npend = disk.applied = 0;
    __atomic_store_n(&disk.on, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&disk.mu);
}

/* After the power cut: data.mdb is what the disk kept. */
static void disk_restore(const char *dir)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "mv %s/disk.img %s/data.mdb", dir, dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- fixtures and helpers ---- */

struct fixture {
    char dir[64];
    struct store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_close(f->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void reopen(struct fixture *f, const struct store_options *opt)
{
    struct sl_err err = {0};

    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->dir, opt, &f->s, &err), SL_OK);
}

static int put_one(struct store_txn *txn, void *arg, struct sl_err *err)
{
    json_t *o = json_pack("{ss}", "name", (const char *)arg);
    int rc = store_put(txn, "tg", (const char *)arg, o);

    json_decref(o);
    return rc;
}

static int put_then_fail(struct store_txn *txn, void *arg, struct sl_err *err)
{
    json_t *o = json_pack("{ss}", "name", "ghost");

    store_put(txn, "tg", "ghost", o);
    store_index_put(txn, "name:ghost", "ghost");
    json_decref(o);
    return sl_err_set(err, 400, "ValidationError", "refused after writing");
}

static int noop(struct store_txn *txn, void *arg, struct sl_err *err)
{
    return SL_OK;
}

/* Whether object tg/<id> is there for a reader now. */
static int has_tg(struct store *s, const char *id)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *o;

    assert_int_equal(store_read_begin(s, &txn, &err), SL_OK);
    o = store_get(txn, "tg", id);
    store_txn_end(txn);
    json_decref(o);
    return o != NULL;
}

/* ---- objects, revisions, the change log ---- */

static void test_put_get_revision(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    struct sl_err err = {0};
    uint64_t rev = 0;
    json_t *o;

    assert_int_equal(store_revision(f->s), 0);
    assert_int_equal(store_write(f->s, put_one, "web", &rev, &err), SL_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(store_write(f->s, put_one, "api", &rev, &err), SL_OK);
    assert_int_equal(rev, 2);
    assert_int_equal(store_write(f->s, noop, NULL, &rev, &err), SL_OK);
    assert_int_equal(rev, 0); /* wrote nothing: no revision */
    assert_int_equal(store_revision(f->s), 2);

    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(store_txn_revision(txn), 2);
    o = store_get(txn, "tg", "web");
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "web");
    json_decref(o);
    assert_null(store_get(txn, "tg", "nope"));
    assert_null(store_get(txn, "lb", "web")); /* kinds are separate */
    assert_int_equal(store_count(txn, "tg", NULL), 2);
    assert_int_equal(store_count(txn, "tg", "w"), 1);
    store_txn_end(txn);
}

static void test_failed_write_applies_nothing(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    struct sl_err err = {0};
    char val[32];

    assert_int_equal(store_write(f->s, put_then_fail, NULL, NULL, &err), SL_ERR);
    assert_string_equal(err.code, "ValidationError");
    assert_int_equal(store_revision(f->s), 0);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_null(store_get(txn, "tg", "ghost"));
    assert_int_equal(store_index_get(txn, "name:ghost", val, sizeof(val)), SL_ENOTFOUND);
    store_txn_end(txn);
}

static int count_rec(json_t *rec, void *arg)
{
    json_array_append(arg, rec);
    return 0;
}

static void test_change_log(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    json_t *recs = json_array();

    store_write(f->s, put_one, "a", NULL, &err);
    store_write(f->s, put_one, "b", NULL, &err);
    assert_int_equal(store_changes(f->s, 0, 0, count_rec, recs), SL_OK);
    assert_int_equal(json_array_size(recs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "rev")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "id")), "b");
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "op")), "put");
    json_array_clear(recs);
    assert_int_equal(store_changes(f->s, 1, 0, count_rec, recs), SL_OK);
    assert_int_equal(json_array_size(recs), 1);
    json_decref(recs);
}

/* Store objects "t<from>" up to "t<to - 1>", one write (revision) each. */
static void put_range(struct fixture *f, int from, int to)
{
    struct sl_err err = {0};
    char name[16];

    for (; from < to; from++) {
        snprintf(name, sizeof(name), "t%d", from);
        assert_int_equal(store_write(f->s, put_one, name, NULL, &err), SL_OK);
    }
}

static void test_trim_gives_gone(void **state)
{
    struct fixture *f = *state;
    struct store_options opt = {.changes_keep = 3};
    json_t *recs = json_array();

    reopen(f, &opt);
    put_range(f, 0, 6);
    assert_int_equal(store_changes(f->s, 0, 0, count_rec, recs), SL_ENOTFOUND);
    assert_int_equal(store_changes(f->s, 3, 0, count_rec, recs), SL_OK);
    assert_int_equal(json_array_size(recs), 3);
    json_decref(recs);
}

/* Trimming waits for an excess of 1/8 of the count, then goes back to it. */
static void test_trim_in_steps(void **state)
{
    struct fixture *f = *state;
    struct store_options opt = {.changes_keep = 16};
    json_t *recs = json_array();

    reopen(f, &opt);
    put_range(f, 0, 18);
    assert_int_equal(store_oldest_change(f->s), 1); /* 18 <= 16 + 2: all kept */
    assert_int_equal(store_changes(f->s, 0, 0, count_rec, recs), SL_OK);
    assert_int_equal(json_array_size(recs), 18);
    put_range(f, 18, 19);
    assert_int_equal(store_oldest_change(f->s), 4); /* back to the newest 16 */
    assert_int_equal(store_changes(f->s, 0, 0, count_rec, recs), SL_ENOTFOUND);
    json_decref(recs);
}

/* The revision survives trimming the log down to its newest record. */
static void test_revision_after_trim_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct store_options opt = {.changes_keep = 1};
    struct sl_err err = {0};
    struct store_txn *txn;

    reopen(f, &opt);
    put_range(f, 0, 5);
    reopen(f, &opt);
    assert_int_equal(store_revision(f->s), 5);
    assert_int_equal(store_oldest_change(f->s), 5);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(store_txn_revision(txn), 5);
    store_txn_end(txn);
}

static void test_reopen_keeps_everything(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};

    store_write(f->s, put_one, "durable", NULL, &err);
    reopen(f, NULL);
    assert_int_equal(store_revision(f->s), 1);
    assert_true(has_tg(f->s, "durable"));
}

/* The directory holds the store and its locks, nothing else. */
static void test_directory_holds_data_only(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    char cmd[160], names[256] = "";
    FILE *p;

    store_write(f->s, put_one, "x", NULL, &err);
    snprintf(cmd, sizeof(cmd), "ls %s | tr '\\n' ' '", f->dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(names, sizeof(names), p));
    pclose(p);
    assert_string_equal(names, "data.mdb lock.mdb sluiced.lock ");
}

static int count_then_fail(struct store_txn *txn, void *arg, struct sl_err *err)
{
    assert_int_equal(store_counter_set(txn, "c", 7), SL_OK);
    assert_int_equal(store_counter_set(txn, "d", 1), SL_OK);
    return sl_err_set(err, 400, "ValidationError", "refused after counting");
}

static int count_one(struct store_txn *txn, void *arg, struct sl_err *err)
{
    uint64_t n = 0;

    store_counter_get(txn, "c", &n);
    *(uint64_t *)arg = n;
    return store_counter_set(txn, "c", n + 1);
}

/* Many counters, so the table grows and deletions shift entries back. */
static int count_many(struct store_txn *txn, void *arg, struct sl_err *err)
{
    char name[32];
    uint64_t v;
    int i;

    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        assert_int_equal(store_counter_set(txn, name, (uint64_t)i), SL_OK);
    }
    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        assert_int_equal(store_counter_get(txn, name, &v), SL_OK);
        assert_int_equal(v, i);
    }
    return arg ? sl_err_set(err, 400, "ValidationError", "refused") : SL_OK;
}

static int counters_gone(struct store_txn *txn, void *arg, struct sl_err *err)
{
    char name[32];
    uint64_t v;
    int i;

    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        assert_int_equal(store_counter_get(txn, name, &v), SL_ENOTFOUND);
    }
    return store_counter_get(txn, "c", &v) == SL_OK && v == 2 ? SL_OK : SL_ERR;
}

static void test_counters(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    struct store_txn *txn;
    uint64_t seen = 99;

    assert_int_equal(store_write(f->s, count_one, &seen, NULL, &err), SL_OK);
    assert_int_equal(seen, 0);
    assert_int_equal(store_write(f->s, count_then_fail, NULL, NULL, &err), SL_ERR);
    assert_int_equal(store_write(f->s, count_one, &seen, NULL, &err), SL_OK);
    assert_int_equal(seen, 1); /* the failed mutation's sets were undone */
    assert_int_equal(store_write(f->s, count_many, "fail", NULL, &err), SL_ERR);
    assert_int_equal(store_write(f->s, counters_gone, NULL, NULL, &err), SL_OK);
    assert_int_equal(store_write(f->s, count_many, NULL, NULL, &err), SL_OK);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(store_counter_get(txn, "c", &seen), SL_EINVAL);
    store_txn_end(txn);
    reopen(f, NULL);
    assert_int_equal(store_write(f->s, count_one, &seen, NULL, &err), SL_OK);
    assert_int_equal(seen, 0); /* not persisted */
}

#define WRITERS 8
#define PER_WRITER 50

static void *writer(void *arg)
{
    struct store *s = arg;
    struct sl_err err = {0};
    char name[32];
    int i;

    for (i = 0; i < PER_WRITER; i++) {
        uint64_t rev = 0;

        snprintf(name, sizeof(name), "w%p-%d", (void *)&name, i & 0xffff);
        if (store_write(s, put_one, name, &rev, &err) != SL_OK || rev == 0)
            return (void *)1;
        /* Acknowledged means durable, and durable revisions are published
         * before their writers are told. */
        if (store_revision(s) < rev)
            return (void *)2;
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    struct fixture *f = *state;
    pthread_t th[WRITERS];
    struct store_txn *txn;
    struct sl_err err = {0};
    void *ret;
    int i;

    for (i = 0; i < WRITERS; i++)
        pthread_create(&th[i], NULL, writer, f->s);
    for (i = 0; i < WRITERS; i++) {
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    /* Every mutation got its own revision even when commits were shared. */
    assert_int_equal(store_revision(f->s), WRITERS * PER_WRITER);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(store_count(txn, "tg", NULL), WRITERS * PER_WRITER);
    store_txn_end(txn);
}

/* ---- schema versions ---- */

/* Open the store's LMDB environment directly (the store closed), and begin
 * a transaction in it, as older or newer sluiced versions would. */
static MDB_env *raw_open(const char *dir, unsigned flags, MDB_txn **txn)
{
    MDB_env *env;

    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    mdb_env_set_mapsize(env, (size_t)4 << 30);
    assert_int_equal(mdb_env_open(env, dir, flags, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, flags, txn), 0);
    return env;
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {14, "schema_version"}, v = {2, "99"};
    struct stat before, after;
    char path[128];

    store_write(f->s, put_one, "kept", NULL, &err);
    store_close(f->s);
    f->s = NULL;
    env = raw_open(f->dir, 0, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_ERR);
    assert_non_null(strstr(err.message, "schema version 99, newer"));
    assert_null(f->s);
    /* Refused without a write: the file is as it was. */
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    assert_int_equal(after.st_size, before.st_size);
}

/* Read meta "schema_version" of the closed store in <dir>. */
static int raw_schema(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    MDB_val k = {14, "schema_version"}, v;
    char val[8];

    env = raw_open(dir, MDB_RDONLY, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    assert_true(v.mv_size < sizeof(val));
    memcpy(val, v.mv_data, v.mv_size);
    val[v.mv_size] = '\0';
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return atoi(val);
}

/* A schema 1 store kept its revision in meta; opening it upgrades it to the
 * current schema and keeps counting from that revision. */
static void test_schema1_upgraded(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, changes, index;
    MDB_val k = {14, "schema_version"}, v = {1, "1"};
    MDB_val rk = {8, "revision"}, rv = {2, "41"};
    MDB_val ck = {11, "tgcount:abc"}, cv = {1, "5"};
    uint64_t rev = 0;

    store_close(f->s);
    f->s = NULL;
    env = raw_open(f->dir, 0, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_dbi_open(txn, "changes", 0, &changes), 0);
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_put(txn, meta, &rk, &rv, 0), 0);
    assert_int_equal(mdb_drop(txn, changes, 0), 0); /* schema 1 may have trimmed it all */
    assert_int_equal(mdb_dbi_open(txn, "index", 0, &index), 0);
    assert_int_equal(mdb_put(txn, index, &ck, &cv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 41);
    assert_int_equal(store_write(f->s, put_one, "next", &rev, &err), SL_OK);
    assert_int_equal(rev, 42);
    store_close(f->s);
    f->s = NULL;

    assert_int_equal(raw_schema(f->dir), STORE_SCHEMA_VERSION);
    env = raw_open(f->dir, MDB_RDONLY, &txn);
    assert_int_equal(mdb_dbi_open(txn, "index", 0, &index), 0);
    assert_int_equal(mdb_get(txn, index, &ck, &cv), MDB_NOTFOUND); /* counters went */
    mdb_txn_abort(txn);
    mdb_env_close(env);

    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 42); /* from the change log now */
}

/* ---- one process per data directory ---- */

static void assert_in_use(const char *dir, long pid)
{
    struct store *s = NULL;
    struct sl_err err = {0};
    char want[256];

    assert_int_equal(store_open(dir, NULL, &s, &err), SL_EAGAIN);
    assert_null(s);
    snprintf(want, sizeof(want), "data directory %s is in use by pid %ld", dir, pid);
    assert_string_equal(err.message, want);
}

/* Fork a child that runs <fn>(<dir>), then tells the parent through a pipe
 * and waits to be killed; returns its pid once it has told. */
static pid_t child_holding(const char *dir, void (*fn)(const char *))
{
    int p[2];
    pid_t pid;
    char c;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        fn(dir);
        if (write(p[1], "x", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    close(p[1]);
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static void kill_child(pid_t pid)
{
    int status;

    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void hold_store(const char *dir)
{
    struct store *s;
    struct sl_err err = {0};

    if (store_open(dir, NULL, &s, &err) != SL_OK)
        _exit(4);
}

static void hold_env(const char *dir)
{
    MDB_env *env;

    if (mdb_env_create(&env) != 0 || mdb_env_open(env, dir, 0, 0600) != 0)
        _exit(4);
}

static void test_lock_one_store_per_directory(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    pid_t pid;

    assert_int_equal(store_write(f->s, put_one, "first", NULL, &err), SL_OK);
    assert_in_use(f->dir, (long)getpid()); /* in this very process, too */
    store_close(f->s);
    f->s = NULL;

    pid = child_holding(f->dir, hold_store);
    assert_in_use(f->dir, (long)pid);
    kill_child(pid); /* the lock goes with its process */
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_true(has_tg(f->s, "first"));
    store_close(f->s);
    f->s = NULL;

    /* Another program with the environment open: LMDB's own lock shows. */
    pid = child_holding(f->dir, hold_env);
    assert_in_use(f->dir, (long)pid);
    kill_child(pid);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
}

/* The store's descriptors are all close-on-exec: sluice-proxy and tasks,
 * started with fork+exec, never hold the lock or the files. */
static void test_files_close_on_exec(void **state)
{
    char link[64], path[4096];
    int fd, seen = 0;

    (void)state;
    for (fd = 0; fd < 1024; fd++) {
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
            continue;
        path[n] = '\0';
        if (strstr(path, "/sluice-store-") == NULL)
            continue;
        seen++;
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
    assert_true(seen >= 3); /* sluiced.lock, data.mdb, lock.mdb */
}

/* ---- readers see durable commits only ---- */

struct gate_reader {
    struct store *s;
    int feed;            /* read the change feed instead of an object */
    int released_before; /* the syncer had been let go when the read returned */
    int saw;             /* the late object, or its change record */
};

static int released;

static void *gate_read(void *arg)
{
    struct gate_reader *r = arg;
    struct sl_err err = {0};
    struct store_txn *txn;
    json_t *o, *recs = json_array();

    if (r->feed) {
        assert_int_equal(store_changes(r->s, 3, 0, count_rec, recs), SL_OK);
        r->released_before = __atomic_load_n(&released, __ATOMIC_ACQUIRE);
        r->saw = (int)json_array_size(recs);
    } else {
        assert_int_equal(store_read_begin(r->s, &txn, &err), SL_OK);
        r->released_before = __atomic_load_n(&released, __ATOMIC_ACQUIRE);
        o = store_get(txn, "tg", "late");
        r->saw = o != NULL;
        json_decref(o);
        store_txn_end(txn);
    }
    json_decref(recs);
    return NULL;
}

static void *gate_write(void *arg)
{
    struct sl_err err = {0};

    return (void *)(intptr_t)store_write(arg, put_one, "late", NULL, &err);
}

/* While the syncer is held, a commit is in LMDB and not durable: no reader
 * and no feed may show it, and the revision stays where it was. */
static void test_readers_see_durable_commits_only(void **state)
{
    struct fixture *f = *state;
    struct gate_reader r[2] = {{f->s, 0, 0, 0}, {f->s, 1, 0, 0}};
    struct timespec pause = {0, 200 * 1000 * 1000}, until;
    pthread_t w, rd[2];
    void *ret;
    int i;

    put_range(f, 0, 3);
    pthread_mutex_lock(&disk.mu);
    disk.data_fd = -1;
    disk.held = 0;
    __atomic_store_n(&disk.hold, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&disk.mu);
    pthread_create(&w, NULL, gate_write, f->s);
    /* Once the syncer waits, the write is committed. */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&disk.mu);
    while (!disk.held && pthread_cond_timedwait(&disk.cv, &disk.mu, &until) == 0)
        ;
    i = disk.held;
    pthread_mutex_unlock(&disk.mu);
    assert_true(i); /* a syncer that never syncs acknowledged without it */

    assert_int_equal(store_revision(f->s), 3);
    assert_int_equal(store_wait(f->s, 3, 50), 3);
    for (i = 0; i < 2; i++)
        pthread_create(&rd[i], NULL, gate_read, &r[i]);
    nanosleep(&pause, NULL); /* time enough for readers that are not held back */

    __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&disk.mu);
    __atomic_store_n(&disk.hold, 0, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&disk.cv);
    pthread_mutex_unlock(&disk.mu);
    for (i = 0; i < 2; i++) {
        pthread_join(rd[i], NULL);
        assert_true(r[i].released_before); /* it waited for the sync */
        assert_int_equal(r[i].saw, 1);     /* and then saw the write */
    }
    pthread_join(w, &ret);
    assert_int_equal((intptr_t)ret, SL_OK);
    assert_int_equal(store_revision(f->s), 4);
}

/* ---- failed commits and syncs ---- */

static void fail_next_sync_by(const char *thread)
{
    pthread_mutex_lock(&disk.mu);
    disk.data_fd = -1;
    snprintf(disk.fail_thread, sizeof(disk.fail_thread), "%s", thread);
    __atomic_store_n(&disk.failing, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&disk.mu);
}

static void test_failed_commit_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    uint64_t rev = 0;

    put_range(f, 0, 3);
    /* The commit's own fdatasync fails: LMDB aborts the transaction. */
    fail_next_sync_by("store-writer");
    assert_int_equal(store_write(f->s, put_one, "lost", &rev, &err), SL_EIO);
    assert_int_equal(err.status, 500);
    assert_int_equal(rev, 0);
    assert_false(has_tg(f->s, "lost"));
    assert_int_equal(store_revision(f->s), 3);
    /* The kernel may have dropped pages: nothing more is called durable. */
    assert_int_equal(store_write(f->s, put_one, "after", NULL, &err), SL_ERR);
    assert_non_null(strstr(err.message, "restart sluiced"));
    reopen(f, NULL);
    assert_false(has_tg(f->s, "lost"));
    assert_true(has_tg(f->s, "t2"));
    assert_int_equal(store_revision(f->s), 3);
    assert_int_equal(store_write(f->s, put_one, "again", &rev, &err), SL_OK);
    assert_int_equal(rev, 4);
}

static void test_failed_sync_acknowledges_nothing(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    struct sl_err err = {0};
    uint64_t rev = 0;

    put_range(f, 0, 3);
    /* The commit succeeds, the sync of its meta page does not. */
    fail_next_sync_by("store-syncer");
    assert_int_equal(store_write(f->s, put_one, "unsure", &rev, &err), SL_EIO);
    assert_int_equal(rev, 0);
    assert_int_equal(store_revision(f->s), 3);
    /* Its commit is in LMDB but was never durable: no reader gets it. */
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_EIO);
    assert_int_equal(store_write(f->s, put_one, "after", NULL, &err), SL_ERR);
    assert_non_null(strstr(err.message, "restart sluiced"));
    reopen(f, NULL);
    assert_true(has_tg(f->s, "t2"));
    assert_false(has_tg(f->s, "after"));
}

static int put_huge(struct store_txn *txn, void *arg, struct sl_err *err)
{
    size_t n = 4u << 20;
    char *pad = malloc(n + 1);
    json_t *o;
    int rc;

    memset(pad, 'h', n);
    pad[n] = '\0';
    o = json_pack("{ss}", "pad", pad);
    free(pad);
    rc = store_put(txn, "tg", "huge", o);
    json_decref(o);
    return rc;
}

/* A write that does not fit the map fails alone, before any I/O: the
 * store goes on. */
static void test_map_full_fails_one_write(void **state)
{
    struct fixture *f = *state;
    struct store_options opt = {.map_size = 2u << 20};
    struct sl_err err = {0};

    reopen(f, &opt);
    put_range(f, 0, 3);
    assert_int_equal(store_write(f->s, put_huge, NULL, NULL, &err), SL_EIO);
    assert_int_equal(err.status, 500);
    assert_false(has_tg(f->s, "huge"));
    put_range(f, 3, 6);
    assert_int_equal(store_revision(f->s), 6);
}

/* ---- crashes ---- */

/* Object "c<i>" with a pad of <size> bytes. */
struct sized {
    int i;
    size_t size;
};

static int put_sized(struct store_txn *txn, void *arg, struct sl_err *err)
{
    const struct sized *z = arg;
    char id[16], *pad = malloc(z->size + 1);
    json_t *o;
    int rc;

    memset(pad, 'a' + z->i % 26, z->size);
    pad[z->size] = '\0';
    snprintf(id, sizeof(id), "c%d", z->i);
    o = json_pack("{sisi}", "i", z->i, "n", (int)z->size);
    json_object_set_new(o, "pad", json_string(pad));
    rc = store_put(txn, "crash", id, o);
    json_decref(o);
    free(pad);
    return rc;
}

struct crash_run {
    const char *dir;
    int first; /* objects c<first> on */
    int threads, per_thread, kill_after; /* the process dies at thread 0's kill_after'th ack */
    size_t size;
    int ack_fd; /* the parent reads "<i> <rev>\n" for every acknowledged write */
};

static struct store *crash_store;

static void *crash_thread(void *arg)
{
    const struct crash_run *c = arg;
    static int next;
    int t = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % c->threads, n;

    for (n = 0; n < c->per_thread; n++) {
        struct sized z = {c->first + t * c->per_thread + n, c->size};
        struct sl_err err = {0};
        uint64_t rev = 0;
        char line[48];
        int len;

        if (store_write(crash_store, put_sized, &z, &rev, &err) != SL_OK)
            _exit(4);
        len = snprintf(line, sizeof(line), "%d %llu\n", z.i, (unsigned long long)rev);
        if (write(c->ack_fd, line, (size_t)len) != len)
            _exit(5);
        if (t == 0 && n + 1 == c->kill_after)
            raise(SIGKILL); /* with the other threads' writes in flight */
    }
    return NULL;
}

/* In a child process over the simulated disk: open the store in c->dir,
 * write from c->threads threads (every acknowledgement reported), and die
 * by SIGKILL: no close, no final sync.  Then data.mdb becomes what the
 * disk kept.  Returns the acknowledged objects' numbers and revisions. */
static json_t *crash_after_writes(struct crash_run *c)
{
    int p[2], status, i;
    pthread_t th[16];
    json_t *acked = json_object();
    char buf[64], *line;
    FILE *in;
    pid_t pid;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sl_err err = {0};

        close(p[0]);
        c->ack_fd = p[1];
        if (store_open(c->dir, NULL, &crash_store, &err) != SL_OK)
            _exit(3);
        disk_start(c->dir);
        for (i = 0; i < c->threads; i++)
            pthread_create(&th[i], NULL, crash_thread, c);
        for (i = 0; i < c->threads; i++)
            pthread_join(th[i], NULL);
        raise(SIGKILL);
        _exit(6);
    }
    close(p[1]);
    in = fdopen(p[0], "r");
    while ((line = fgets(buf, sizeof(buf), in)) != NULL) {
        char *rev = strchr(line, ' ');
        assert_non_null(rev);
        *rev++ = '\0';
        json_object_set_new(acked, line, json_integer(atoll(rev)));
    }
    fclose(in);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    disk_restore(c->dir);
    return acked;
}

/* Every acknowledged object is there, whole; the revision covers them all;
 * and so does the change log. */
static void assert_acked(struct store *s, json_t *acked, size_t size)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *recs = json_array(), *rev_json, *rec;
    uint64_t top = 0;
    const char *num;
    char id[16];
    size_t i;

    assert_true(json_object_size(acked) > 0);
    assert_int_equal(store_read_begin(s, &txn, &err), SL_OK);
    json_object_foreach(acked, num, rev_json) {
        json_t *o;

        snprintf(id, sizeof(id), "c%s", num);
        o = store_get(txn, "crash", id);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "i")), atoi(num));
        assert_int_equal(json_string_length(json_object_get(o, "pad")), size);
        json_decref(o);
        if ((uint64_t)json_integer_value(rev_json) > top)
            top = (uint64_t)json_integer_value(rev_json);
    }
    store_txn_end(txn);
    assert_true(store_revision(s) >= top);
    assert_int_equal(store_changes(s, 0, 0, count_rec, recs), SL_OK);
    json_object_foreach(acked, num, rev_json) {
        int found = 0;

        snprintf(id, sizeof(id), "c%s", num);
        json_array_foreach(recs, i, rec)
            if (json_integer_value(json_object_get(rec, "rev")) ==
                    json_integer_value(rev_json) &&
                strcmp(json_string_value(json_object_get(rec, "id")), id) == 0)
                found = 1;
        assert_true(found);
    }
    json_decref(recs);
}

static void test_crash_keeps_acknowledged(void **state)
{
    struct fixture *f = *state;
    struct crash_run c = {f->dir, 0, 1, 200, 200, 10, -1};
    struct sl_err err = {0};
    json_t *acked;

    store_close(f->s);
    f->s = NULL;
    acked = crash_after_writes(&c);
    assert_int_equal(json_object_size(acked), 200);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 200);
    assert_acked(f->s, acked, 10);
    json_decref(acked);
}

static void test_crash_with_writes_in_flight(void **state)
{
    struct fixture *f = *state;
    struct crash_run c = {f->dir, 0, 8, 100, 60, 300, -1};
    struct sl_err err = {0};
    json_t *acked;

    store_close(f->s);
    f->s = NULL;
    acked = crash_after_writes(&c);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_acked(f->s, acked, 300);
    json_decref(acked);
}

static void test_crash_large_objects_then_twice(void **state)
{
    struct fixture *f = *state;
    struct crash_run c = {f->dir, 0, 2, 60, 60, 60000, -1};
    struct sl_err err = {0};
    json_t *acked, *more, *v;
    const char *k;

    store_close(f->s);
    f->s = NULL;
    acked = crash_after_writes(&c); /* about 7 MB, overflow pages */
    /* The next run starts on what the disk kept, and crashes in turn. */
    c.first = 1000;
    more = crash_after_writes(&c);
    json_object_foreach(more, k, v)
        json_object_set(acked, k, v);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_acked(f->s, acked, 60000);
    /* And a clean close after it leaves a whole store. */
    reopen(f, NULL);
    assert_acked(f->s, acked, 60000);
    json_decref(more);
    json_decref(acked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim_gives_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim_in_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revision_after_trim_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_holds_data_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema1_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_one_store_per_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_close_on_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_see_durable_commits_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_sync_acknowledges_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_fails_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_keeps_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_with_writes_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_large_objects_then_twice, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
