/* Unit tests for store/wal.c: checksums, records, checkpoint slots, and
 * which records replay follows (epochs, gaps, a switch of files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/wal.h"

struct fixture {
    char dir[64];
    struct wal *w;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-wal-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(wal_open(f->dir, &f->w, &err), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    wal_close(f->w);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Append a record of one put "k<txnid>" -> "v" to the log. */
static void append(struct wal *w, uint64_t epoch, uint64_t txnid, uint32_t ckpt_file)
{
    struct buf b;
    struct wal_pos end;
    unsigned bit;
    char key[32];

    buf_init(&b);
    wal_rec_start(&b);
    snprintf(key, sizeof(key), "k%llu", (unsigned long long)txnid);
    wal_rec_put(&b, 1, key, strlen(key), "v", 1);
    wal_rec_finish(&b, epoch, txnid);
    assert_int_equal(wal_append(w, &b, ckpt_file, &end, &bit), 0);
    buf_free(&b);
}

static int collect(uint64_t txnid, const unsigned char *p, size_t n, void *arg)
{
    json_t *got = arg;
    struct wal_op op;
    char key[32];

    assert_int_equal(wal_op_next(&p, &n, &op), 1);
    assert_int_equal(op.type, WAL_OP_PUT);
    snprintf(key, sizeof(key), "k%llu", (unsigned long long)txnid);
    assert_int_equal(op.kl, strlen(key));
    assert_memory_equal(op.k, key, op.kl);
    assert_int_equal(wal_op_next(&p, &n, &op), 0);
    json_array_append_new(got, json_integer((json_int_t)txnid));
    return 0;
}

/* Replay from checkpoint <c>, for records above <have>: the txnids seen. */
static json_t *replay(struct wal *w, const struct wal_ckpt *c, uint64_t have, uint64_t *last)
{
    json_t *got = json_array();

    assert_int_equal(wal_replay(w, c, have, collect, got, last), 0);
    return got;
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(wal_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(wal_crc32c(wal_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

static void test_ops_and_rewind(void **state)
{
    struct buf b;
    struct wal_op op;
    const unsigned char *p;
    size_t n, mark;

    (void)state;
    buf_init(&b);
    wal_rec_start(&b);
    assert_true(wal_rec_empty(&b));
    wal_rec_put(&b, 2, "key", 3, "value", 5);
    mark = b.len;
    wal_rec_del(&b, 3, "gone", 4);
    wal_rec_rewind(&b, mark);
    wal_rec_del(&b, 1, "x", 1);
    p = (const unsigned char *)b.data + 32;
    n = b.len - 32;
    assert_int_equal(wal_op_next(&p, &n, &op), 1);
    assert_int_equal(op.type, WAL_OP_PUT);
    assert_int_equal(op.db, 2);
    assert_memory_equal(op.v, "value", 5);
    assert_int_equal(wal_op_next(&p, &n, &op), 1);
    assert_int_equal(op.type, WAL_OP_DEL);
    assert_memory_equal(op.k, "x", 1);
    assert_int_equal(wal_op_next(&p, &n, &op), 0);
    /* A length past the end is malformed, not read. */
    p = (const unsigned char *)b.data + 32;
    n = 12;
    assert_int_equal(wal_op_next(&p, &n, &op), -1);
    buf_free(&b);
}

static void test_checkpoint_slots(void **state)
{
    struct fixture *f = *state;
    struct wal_ckpt c = {0}, got;
    struct sl_err err = {0};

    assert_int_equal(wal_ckpt_read(f->w, &got, &err), SL_ENOTFOUND);
    c.seq = 1;
    c.epoch = 7;
    c.txnid = 40;
    c.pos.file = 1;
    c.pos.off = 4096;
    assert_int_equal(wal_ckpt_write(f->w, &c), 0);
    c.seq = 2;
    c.txnid = 41;
    c.clean = 1;
    assert_int_equal(wal_ckpt_write(f->w, &c), 0);
    assert_int_equal(wal_ckpt_read(f->w, &got, &err), SL_OK);
    assert_int_equal(got.seq, 2);
    assert_int_equal(got.txnid, 41);
    assert_int_equal(got.epoch, 7);
    assert_int_equal(got.pos.file, 1);
    assert_int_equal(got.pos.off, 4096);
    assert_int_equal(got.clean, 1);
}

static void test_replay_follows_chain(void **state)
{
    struct fixture *f = *state;
    struct wal_ckpt c = {0};
    uint64_t last;
    json_t *got;

    /* Epoch 1 wrote 1..3; a checkpoint after 1; the snapshot has 2. */
    append(f->w, 1, 1, 0);
    c.epoch = 1;
    c.txnid = 1;
    c.pos = wal_position(f->w);
    append(f->w, 1, 2, 0);
    append(f->w, 1, 3, 0);
    append(f->w, 1, 5, 0); /* a gap: never followed */
    got = replay(f->w, &c, 2, &last);
    assert_int_equal(json_array_size(got), 1);
    assert_int_equal(json_integer_value(json_array_get(got, 0)), 3);
    assert_int_equal(last, 3);
    json_decref(got);
    /* The write position is after 3: a new epoch's records go there, and
     * the stale 5 beyond them is never taken for one of them. */
    c.epoch = 2;
    c.txnid = 3;
    c.pos = wal_position(f->w);
    append(f->w, 2, 4, 0);
    append(f->w, 1, 5, 0);
    got = replay(f->w, &c, 3, &last);
    assert_int_equal(json_array_size(got), 1);
    assert_int_equal(last, 4);
    json_decref(got);
}

static void test_replay_follows_switch(void **state)
{
    struct fixture *f = *state;
    struct wal_ckpt c = {0};
    struct wal_pos pos;
    uint64_t t, last;
    json_t *got;

    /* Fill file 0 past its budget; with the checkpoint in file 0 the
     * writer moves on to file 1. */
    for (t = 1; wal_position(f->w).off < ((uint64_t)4 << 20); t++) {
        struct buf b;
        struct wal_pos end;
        unsigned bit;
        static char big[65536];

        buf_init(&b);
        wal_rec_start(&b);
        wal_rec_put(&b, 1, "k", 1, big, sizeof(big));
        wal_rec_finish(&b, 1, t);
        assert_int_equal(wal_append(f->w, &b, 0, &end, &bit), 0);
        assert_int_equal(bit, 1);
        buf_free(&b);
    }
    c.epoch = 1;
    c.txnid = t - 1;
    c.pos = wal_position(f->w);
    append(f->w, 1, t, 0);
    pos = wal_position(f->w);
    assert_int_equal(pos.file, 1);
    append(f->w, 1, t + 1, 1);
    got = replay(f->w, &c, 0, &last);
    assert_int_equal(json_array_size(got), 2);
    assert_int_equal(last, t + 1);
    assert_int_equal(wal_position(f->w).file, 1);
    json_decref(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_ops_and_rewind),
        cmocka_unit_test_setup_teardown(test_checkpoint_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_follows_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_follows_switch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
