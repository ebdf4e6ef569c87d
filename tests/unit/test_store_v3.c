/* Unit tests for store/convert.c: a schema-3 data directory (redo log,
 * snapshot, checkpoint) converted on open.  The fixture
 * (store_schema3/crashed.tar.xz, made by make_fixture.sh with the store of
 * commit 48759fc) is a directory left by two writers killed with SIGKILL,
 * whose data.mdb lost its first 64 KiB as after a power cut: only the
 * snapshot and the log hold its writes.  Every write it acknowledged must
 * be there after the conversion, however often the conversion itself is
 * cut short. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "store/store.h"
#include "store/v3log.h"

struct fixture {
    char tmp[64];
    char dir[128];  /* the data directory */
    char acked[128]; /* the writers' try/ack lines */
};

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void unpack(struct fixture *f)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");

    run("rm -rf %s/schema3 && tar -xJf %s/tests/unit/store_schema3/crashed.tar.xz -C %s",
        f->tmp, src ? src : "../..", f->tmp);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->tmp, "/tmp/sluice-store-v3-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->dir, sizeof(f->dir), "%s/schema3/data", f->tmp);
    snprintf(f->acked, sizeof(f->acked), "%s/schema3/acked.jsonl", f->tmp);
    unpack(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    run("rm -rf %s", f->tmp);
    free(f);
    return 0;
}

static int exists_in(const char *dir, const char *name)
{
    char path[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* ---- what the writers were told ---- */

struct expect {
    json_t *state;  /* id -> [v, size], or null once deleted */
    json_t *maybe;  /* id -> [state before, state after] of a write in flight */
    json_t *writes; /* [rev, id, op] of every acknowledged write with a revision */
    uint64_t top;   /* the highest acknowledged revision */
    size_t inflight;
};

static json_t *state_after(json_t *t)
{
    const char *op = json_string_value(json_object_get(t, "op"));

    if (strcmp(op, "put") != 0)
        return json_null();
    return json_pack("[OO]", json_object_get(t, "v"), json_object_get(t, "size"));
}

/* Read the try/ack lines in order: a writer's lines come in its own order,
 * and its ids are its own, so this applies each writer's writes in turn. */
static void expect_read(const char *path, struct expect *e)
{
    json_t *pending = json_object(), *t, *r;
    const char *w;
    char line[512];
    FILE *in = fopen(path, "r");

    assert_non_null(in);
    memset(e, 0, sizeof(*e));
    e->state = json_object();
    e->maybe = json_object();
    e->writes = json_array();
    while (fgets(line, sizeof(line), in)) {
        r = json_loads(line, 0, NULL);
        assert_non_null(r);
        w = json_string_value(json_object_get(r, "w"));
        if (strcmp(json_string_value(json_object_get(r, "t")), "try") == 0) {
            json_object_set(pending, w, r);
        } else {
            uint64_t rev = (uint64_t)json_integer_value(json_object_get(r, "rev"));
            const char *id;

            t = json_object_get(pending, w);
            assert_non_null(t);
            id = json_string_value(json_object_get(t, "id"));
            if (strcmp(json_string_value(json_object_get(t, "op")), "fail") != 0) {
                json_object_set_new(e->state, id, state_after(t));
                assert_true(rev > 0);
                json_array_append_new(e->writes, json_pack("[IsO]", (json_int_t)rev, id,
                                                           json_object_get(t, "op")));
            }
            if (rev > e->top)
                e->top = rev;
            json_object_del(pending, w);
        }
        json_decref(r);
    }
    fclose(in);
    json_object_foreach(pending, w, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        json_t *before = json_object_get(e->state, id);
        int fail = strcmp(json_string_value(json_object_get(t, "op")), "fail") == 0;

        json_object_set_new(e->maybe, id,
                            json_pack("[Oo]", before && !fail ? before : json_null(),
                                      fail ? json_null() : state_after(t)));
        e->inflight++;
    }
    json_decref(pending);
    assert_true(json_array_size(e->writes) > 1000);
}

static void expect_free(struct expect *e)
{
    json_decref(e->state);
    json_decref(e->maybe);
    json_decref(e->writes);
}

static int collect_id(const char *id, json_t *obj, void *arg)
{
    json_object_set_new(arg, id, json_pack("[OI]", json_object_get(obj, "v"),
                                           (json_int_t)json_string_length(
                                               json_object_get(obj, "pad"))));
    return 0;
}

static int count_index(const char *key, const char *val, void *arg)
{
    (*(size_t *)arg)++;
    return 0;
}

static int collect_rec(json_t *rec, void *arg)
{
    char key[512];

    snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT " %s %s",
             json_integer_value(json_object_get(rec, "rev")),
             json_string_value(json_object_get(rec, "id")),
             json_string_value(json_object_get(rec, "op")));
    json_object_set_new(arg, key, json_true());
    return 0;
}

/* The store holds every acknowledged write, whole, each in-flight one
 * wholly or not at all, nothing else; its index agrees; its revision and
 * change log cover the acknowledged writes. */
static void assert_store(struct store *s, const struct expect *e)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *got = json_object(), *want, *recs = json_object(), *w;
    const char *id;
    char key[256], val[256];
    size_t nindex = 0, i;

    assert_int_equal(store_read_begin(s, &txn, &err), SL_OK);
    store_scan(txn, "crash", NULL, collect_id, got);
    json_object_foreach(e->state, id, want)
        if (!json_object_get(got, id))
            json_object_set_new(got, id, json_null());
    json_object_foreach(got, id, w) {
        json_t *m = json_object_get(e->maybe, id);

        if (m)
            assert_true(json_equal(w, json_array_get(m, 0)) ||
                        json_equal(w, json_array_get(m, 1)));
        else
            assert_true(json_equal(w, (want = json_object_get(e->state, id)) ? want
                                                                             : json_null()));
        snprintf(key, sizeof(key), "name:%s", id);
        if (json_is_null(w)) {
            assert_int_equal(store_index_get(txn, key, val, sizeof(val)), SL_ENOTFOUND);
        } else {
            assert_int_equal(store_index_get(txn, key, val, sizeof(val)), SL_OK);
            assert_string_equal(val, id);
        }
    }
    store_index_scan(txn, "name:", count_index, &nindex);
    assert_int_equal(nindex, store_count(txn, "crash", NULL));
    store_txn_end(txn);
    assert_true(store_revision(s) >= e->top && store_revision(s) <= e->top + e->inflight);
    assert_int_equal(store_changes(s, 0, 0, collect_rec, recs), SL_OK);
    json_array_foreach(e->writes, i, w) {
        snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT " %s %s",
                 json_integer_value(json_array_get(w, 0)), json_string_value(json_array_get(w, 1)),
                 json_string_value(json_array_get(w, 2)));
        assert_non_null(json_object_get(recs, key));
    }
    json_decref(recs);
    json_decref(got);
}

static void assert_converted(const struct fixture *f)
{
    struct store *s;
    struct sl_err err = {0};
    struct expect e;
    static const char *const old[] = {"checkpoint", "wal-0.log", "wal-1.log", "snapshot.mdb",
                                      "snapshot.tmp", "data.mdb.convert"};
    size_t i;

    expect_read(f->acked, &e);
    assert_int_equal(store_open(f->dir, NULL, &s, &err), SL_OK);
    assert_store(s, &e);
    for (i = 0; i < sizeof(old) / sizeof(old[0]); i++)
        assert_false(exists_in(f->dir, old[i]));
    store_close(s);
    expect_free(&e);
}

/* Read meta "schema_version" of the closed store in <dir>. */
static int raw_schema(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    MDB_val k = {14, "schema_version"}, v;
    char val[8] = "";

    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    if (v.mv_size < sizeof(val))
        memcpy(val, v.mv_data, v.mv_size);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return atoi(val);
}

/* ---- the tests ---- */

static int put_named(struct store_txn *txn, void *arg, struct sl_err *err)
{
    json_t *o = json_pack("{ss}", "name", (const char *)arg);
    int rc = store_put(txn, "tg", arg, o);

    json_decref(o);
    return rc;
}

static void test_crashed_store_converted(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct sl_err err = {0};
    struct expect e;
    uint64_t rev = 0;

    assert_true(exists_in(f->dir, "checkpoint"));
    assert_converted(f);
    assert_int_equal(raw_schema(f->dir), STORE_SCHEMA_VERSION);
    /* Opened again it is a store like any other, and writes go on. */
    expect_read(f->acked, &e);
    assert_int_equal(store_open(f->dir, NULL, &s, &err), SL_OK);
    assert_store(s, &e);
    assert_int_equal(store_write(s, put_named, "after", &rev, &err), SL_OK);
    assert_true(rev > e.top);
    store_close(s);
    expect_free(&e);
}

/* The states a crash can leave the conversion in, each converted again. */
static void test_conversion_resumes(void **state)
{
    struct fixture *f = *state;

    /* Cut short while rebuilding: a partial copy beside the old files. */
    run("head -c 100000 /dev/urandom > %s/data.mdb.convert", f->dir);
    assert_converted(f);

    /* Cut short after data.mdb was replaced, before the old files went. */
    run("mv %s/data.mdb %s/converted.mdb", f->dir, f->tmp);
    unpack(f);
    run("mv %s/converted.mdb %s/data.mdb", f->tmp, f->dir);
    assert_converted(f);

    /* Cut short after the checkpoint went: only leftovers remain. */
    run("cp %s/data.mdb %s/converted.mdb", f->dir, f->tmp);
    unpack(f);
    run("mv %s/converted.mdb %s/data.mdb && rm %s/checkpoint", f->tmp, f->dir, f->dir);
    assert_converted(f);
}

/* A process killed at any point of the conversion leaves a directory that
 * converts on the next open.  The kills land from the start to past the
 * end of a conversion, in ten steps of one conversion's time. */
static void test_conversion_killed_anywhere(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct sl_err err = {0};
    uint64_t t0, took;
    int i, status;

    t0 = util_mono_ms();
    assert_int_equal(store_open(f->dir, NULL, &s, &err), SL_OK);
    took = util_mono_ms() - t0 + 1;
    store_close(s);
    for (i = 0; i <= 10; i++) {
        struct timespec d = {0, (long)(took * (uint64_t)i * 100000)}; /* took * i / 10 ms */
        pid_t pid;

        unpack(f);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            store_open(f->dir, NULL, &s, &err);
            for (;;)
                pause();
        }
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_converted(f);
    }
}

/* A record in the middle of the log that does not check out, with later
 * ones that do: converting would drop acknowledged writes.  Refused, and
 * the directory left as it was. */
static void test_damaged_log_refused(void **state)
{
    struct fixture *f = *state;
    struct store *s = NULL;
    struct sl_err err = {0};
    struct v3_ckpt ck;
    char path[256];
    int fd;

    assert_int_equal(v3_ckpt_read(f->dir, &ck, &err), SL_OK);
    assert_false(ck.clean);
    snprintf(path, sizeof(path), "%s/wal-%u.log", f->dir, ck.pos.file);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    /* A byte of the payload of the first record after the checkpoint. */
    assert_int_equal(pwrite(fd, "\x42", 1, (off_t)ck.pos.off + 40), 1);
    close(fd);
    assert_int_equal(store_open(f->dir, NULL, &s, &err), SL_ERR);
    assert_null(s);
    assert_non_null(strstr(err.message, "redo log is damaged after transaction"));
    assert_true(exists_in(f->dir, "checkpoint"));
    assert_true(exists_in(f->dir, "snapshot.mdb"));
    assert_false(exists_in(f->dir, "data.mdb.convert"));
}

static void write_ckpt(const char *dir, uint32_t version, uint32_t clean)
{
    unsigned char slot[4096] = {0};
    char path[256];
    uint32_t crc;
    int fd, i;

    memcpy(slot, "SLCK", 4);
    for (i = 0; i < 4; i++)
        slot[4 + i] = (unsigned char)(version >> (8 * i));
    slot[8] = 5;                     /* seq */
    slot[16] = 9;                    /* txnid */
    slot[24] = 1;                    /* epoch */
    slot[44] = (unsigned char)clean; /* clean */
    crc = v3_crc32c(0, slot, 48);
    for (i = 0; i < 4; i++)
        slot[48 + i] = (unsigned char)(crc >> (8 * i));
    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, slot, sizeof(slot)), (ssize_t)sizeof(slot));
    close(fd);
}

/* A directory a schema-3 sluiced closed cleanly (or that never got a
 * checkpoint): data.mdb is current as it is, and only the old files go. */
static void test_clean_store_keeps_data(void **state)
{
    struct fixture *f = *state;
    static const uint32_t cleanliness[2] = {1, 2}; /* 2: no valid slot at all */
    struct store *s;
    struct sl_err err = {0};
    struct store_txn *txn;
    char dir[128];
    json_t *o;
    int i;

    snprintf(dir, sizeof(dir), "%s/clean", f->tmp);
    assert_int_equal(store_open(dir, NULL, &s, &err), SL_OK);
    assert_int_equal(store_write(s, put_named, "kept", NULL, &err), SL_OK);
    store_close(s);
    for (i = 0; i < 2; i++) {
        if (cleanliness[i] == 1)
            write_ckpt(dir, 1, 1);
        else
            run("head -c 8192 /dev/zero > %s/checkpoint", dir);
        run("echo junk > %s/wal-0.log && echo junk > %s/wal-1.log && "
            "echo junk > %s/snapshot.mdb", dir, dir, dir);
        assert_int_equal(store_open(dir, NULL, &s, &err), SL_OK);
        assert_int_equal(store_read_begin(s, &txn, &err), SL_OK);
        o = store_get(txn, "tg", "kept");
        assert_non_null(o);
        json_decref(o);
        store_txn_end(txn);
        store_close(s);
        assert_false(exists_in(dir, "checkpoint"));
        assert_false(exists_in(dir, "wal-0.log"));
        assert_false(exists_in(dir, "snapshot.mdb"));
    }
}

static void test_newer_checkpoint_format_refused(void **state)
{
    struct fixture *f = *state;
    struct store *s = NULL;
    struct sl_err err = {0};

    write_ckpt(f->dir, 2, 0);
    assert_int_equal(store_open(f->dir, NULL, &s, &err), SL_ERR);
    assert_non_null(strstr(err.message, "newer than this sluiced understands"));
    assert_true(exists_in(f->dir, "wal-0.log"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crashed_store_converted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversion_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversion_killed_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_log_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_store_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_checkpoint_format_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
