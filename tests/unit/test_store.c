/* Unit tests for store/: objects, revisions, the change log, atomicity,
 * group commit, schema-version refusal and rebuilding a store from its
 * snapshot and redo log after a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

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

/* Reopen the fixture's store keeping <keep> change records. */
static void reopen_keeping(struct fixture *f, uint64_t keep)
{
    struct store_options opt = {.changes_keep = keep};
    struct sl_err err = {0};

    store_close(f->s);
    assert_int_equal(store_open(f->dir, &opt, &f->s, &err), SL_OK);
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
    json_t *recs = json_array();

    reopen_keeping(f, 3);
    put_range(f, 0, 6);
    assert_int_equal(store_changes(f->s, 0, 0, count_rec, recs), SL_ENOTFOUND);
    assert_int_equal(store_changes(f->s, 3, 0, count_rec, recs), SL_OK);
    assert_int_equal(json_array_size(recs), 3);
    json_decref(recs);
}

static void test_reopen_keeps_everything(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *o;

    store_write(f->s, put_one, "durable", NULL, &err);
    store_close(f->s);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 1);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    o = store_get(txn, "tg", "durable");
    assert_non_null(o);
    json_decref(o);
    store_txn_end(txn);
}

/* Open the store's LMDB environment directly (the store closed), and begin
 * a transaction in it, as older or newer sluiced versions would. */
static MDB_env *raw_open(struct fixture *f, unsigned flags, MDB_txn **txn)
{
    MDB_env *env;

    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    mdb_env_set_mapsize(env, (size_t)4 << 30);
    assert_int_equal(mdb_env_open(env, f->dir, flags, 0600), 0);
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

    store_close(f->s);
    f->s = NULL;
    env = raw_open(f, 0, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_ERR);
    assert_non_null(strstr(err.message, "newer"));
    assert_null(f->s);
}

/* A schema 1 store kept its revision in meta; opening it upgrades it to the
 * current schema and keeps counting from that revision. */
static void test_schema1_upgraded(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, changes;
    MDB_val k = {14, "schema_version"}, v = {1, "1"};
    MDB_val rk = {8, "revision"}, rv = {2, "41"};
    MDB_val ck = {11, "tgcount:abc"}, cv = {1, "5"};
    MDB_dbi index;
    char val[8];
    uint64_t rev = 0;

    store_close(f->s);
    f->s = NULL;
    env = raw_open(f, 0, &txn);
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

    env = raw_open(f, MDB_RDONLY, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    assert_true(v.mv_size < sizeof(val));
    memcpy(val, v.mv_data, v.mv_size);
    val[v.mv_size] = '\0';
    assert_int_equal(atoi(val), STORE_SCHEMA_VERSION);
    assert_int_equal(mdb_dbi_open(txn, "index", 0, &index), 0);
    assert_int_equal(mdb_get(txn, index, &ck, &cv), MDB_NOTFOUND); /* counters went */
    mdb_txn_abort(txn);
    mdb_env_close(env);

    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 42); /* from the change log now */
}

/* Trimming waits for an excess of 1/8 of the count, then goes back to it. */
static void test_trim_in_steps(void **state)
{
    struct fixture *f = *state;
    json_t *recs = json_array();

    reopen_keeping(f, 16);
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
    struct sl_err err = {0};
    struct store_txn *txn;

    reopen_keeping(f, 1);
    put_range(f, 0, 5);
    reopen_keeping(f, 1);
    assert_int_equal(store_revision(f->s), 5);
    assert_int_equal(store_oldest_change(f->s), 5);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(store_txn_revision(txn), 5);
    store_txn_end(txn);
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
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(store_counter_get(txn, "c", &seen), SL_EINVAL);
    store_txn_end(txn);
    store_close(f->s);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
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

/* Object "c<i>" with a pad of <size> bytes: enough log to force snapshots
 * and a switch of log files in a few writes. */
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

/* In a child process: open the store in <dir>, write objects c<from> ..
 * c<to - 1> of <size> bytes each (every one acknowledged before the next),
 * and die by SIGKILL: no close, no final sync. */
static void crash_after_writes(const char *dir, int from, int to, size_t size,
                               uint64_t snapshot_bytes)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct store_options opt = {0};
        struct sl_err err = {0};
        struct store *s;
        struct sized z = {0, size};

        opt.snapshot_bytes = snapshot_bytes;
        if (store_open(dir, &opt, &s, &err) != SL_OK)
            _exit(3);
        for (z.i = from; z.i < to; z.i++)
            if (store_write(s, put_sized, &z, NULL, &err) != SL_OK)
                _exit(4);
        raise(SIGKILL);
        _exit(5);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Overwrite the start of the data file, meta pages and all: as if none of
 * its unsynced pages had reached the disk before a power cut. */
static void clobber_data_file(const char *dir)
{
    char path[128], junk[65536];
    int fd;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    memset(junk, 0x5a, sizeof(junk));
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
    close(fd);
}

/* Every object c0 .. c<n - 1> is there, whole, and nothing else. */
static void assert_crash_objects(struct store *s, int n, size_t size)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    char id[16];
    int i;

    assert_int_equal(store_read_begin(s, &txn, &err), SL_OK);
    assert_int_equal(store_count(txn, "crash", NULL), n);
    for (i = 0; i < n; i++) {
        json_t *o;

        snprintf(id, sizeof(id), "c%d", i);
        o = store_get(txn, "crash", id);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "i")), i);
        assert_int_equal(json_string_length(json_object_get(o, "pad")), size);
        json_decref(o);
    }
    store_txn_end(txn);
}

static void test_crash_replays_log(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};

    store_close(f->s);
    f->s = NULL;
    crash_after_writes(f->dir, 0, 200, 10, 0);
    clobber_data_file(f->dir);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 200);
    assert_crash_objects(f->s, 200, 10);
}

static void test_crash_after_snapshots_and_log_switch(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    struct stat st;
    char path[128];

    store_close(f->s);
    f->s = NULL;
    /* About 8 MiB of log: snapshots every data file's worth, and the log
     * moves on to its second file past 4 MiB. */
    crash_after_writes(f->dir, 0, 130, 60000, 1);
    snprintf(path, sizeof(path), "%s/wal-1.log", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 0);
    clobber_data_file(f->dir);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 130);
    assert_crash_objects(f->s, 130, 60000);
}

static void test_crash_twice(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};

    store_close(f->s);
    f->s = NULL;
    crash_after_writes(f->dir, 0, 60, 100, 0);
    /* The second run recovers, writes on after the first run's records and
     * crashes in turn: both runs' writes are there. */
    crash_after_writes(f->dir, 60, 120, 100, 0);
    clobber_data_file(f->dir);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(store_revision(f->s), 120);
    assert_crash_objects(f->s, 120, 100);
    /* And a clean close after a recovery leaves a whole store. */
    store_close(f->s);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_crash_objects(f->s, 120, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim_gives_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema1_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim_in_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revision_after_trim_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_replays_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_snapshots_and_log_switch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crash_twice, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
