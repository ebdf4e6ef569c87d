/*
 * writer.c - leaves a schema-3 store (redo log and snapshots) as a killed
 * sluiced would, for test_store's conversion test.  Built by
 * make_fixture.sh against the store of commit 48759fc, the last with the
 * redo log; it does not build against today's store.
 *
 *   writer DIR RUN THREADS KILL_AFTER SNAPSHOT_BYTES
 *
 * THREADS threads each run a fixed pseudo-random sequence of mutations on
 * ids of their own ("r<RUN>t<T>-<K>"): new objects of 50 bytes to 60 KB
 * (each with an index entry "name:<id>" -> id), overwrites, deletes (with
 * the index entry) and mutations that write and then fail (nothing of
 * them may survive).  Before each one a thread prints a "try" line and
 * after its acknowledgement an "ack" line with the revision it got, both
 * JSON, one write(2) each.  Once thread 0 has had KILL_AFTER
 * acknowledgements the process sends itself SIGKILL with the other
 * threads' writes in flight.  A snapshot is due once the log has grown by
 * the data file's size or SNAPSHOT_BYTES, whichever is more (store_options'
 * snapshot_bytes); every open takes one.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static struct store *S;
static int run_no, kill_after;

struct op {
    const char *what; /* put, delete, fail */
    char id[48];
    int version;
    int size;
};

static int apply(struct store_txn *txn, void *arg, struct sl_err *err)
{
    const struct op *op = arg;
    char key[64];
    json_t *o;
    char *pad;
    int rc;

    snprintf(key, sizeof(key), "name:%s", op->id);
    if (strcmp(op->what, "delete") == 0) {
        if ((rc = store_del(txn, "crash", op->id)) != SL_OK)
            return rc;
        return store_index_del(txn, key);
    }
    pad = malloc((size_t)op->size + 1);
    if (pad == NULL)
        return SL_ENOMEM;
    memset(pad, 'a' + op->version % 26, (size_t)op->size);
    pad[op->size] = '\0';
    o = json_pack("{sssiss}", "id", op->id, "v", op->version, "pad", pad);
    free(pad);
    rc = o ? store_put(txn, "crash", op->id, o) : SL_ENOMEM;
    json_decref(o);
    if (rc == SL_OK)
        rc = store_index_put(txn, key, op->id);
    if (rc == SL_OK && strcmp(op->what, "fail") == 0)
        return sl_err_set(err, 400, "ValidationError", "refused after writing");
    return rc;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    if (write(1, line, (size_t)n) != n)
        abort();
}

static void *thread_main(void *arg)
{
    int t = (int)(long)arg, live[4096], nlive = 0, next = 0, acks = 0, n;
    unsigned seed = (unsigned)(run_no * 7919 + t * 104729);
    int versions[4096] = {0};

    for (n = 0;; n++) {
        struct op op = {0};
        struct sl_err err = {0};
        uint64_t rev = 0;
        int r = rand_r(&seed) % 100, pick = -1, rc;

        if (next >= 4096)
            _exit(4); /* KILL_AFTER too large for these arrays */
        if (r < 60 || nlive == 0) {
            op.what = "put";
            pick = next++;
            live[nlive++] = pick;
        } else if (r < 77) {
            op.what = "put";
            pick = live[rand_r(&seed) % nlive];
        } else if (r < 95) {
            int i = rand_r(&seed) % nlive;
            op.what = "delete";
            pick = live[i];
            live[i] = live[--nlive];
        } else {
            op.what = "fail";
            pick = -1;
        }
        if (pick >= 0) {
            snprintf(op.id, sizeof(op.id), "r%dt%d-%d", run_no, t, pick);
            op.version = ++versions[pick];
        } else {
            snprintf(op.id, sizeof(op.id), "ghost-r%dt%d-%d", run_no, t, n);
            op.version = 1;
        }
        op.size = rand_r(&seed) % 100 < 15 ? 20000 + rand_r(&seed) % 40000
                                           : 50 + rand_r(&seed) % 250;
        say("{\"t\":\"try\",\"w\":\"r%dt%d\",\"n\":%d,\"op\":\"%s\",\"id\":\"%s\",\"v\":%d,"
            "\"size\":%d}",
            run_no, t, n, op.what, op.id, op.version, op.size);
        rc = store_write(S, apply, &op, &rev, &err);
        if (strcmp(op.what, "fail") == 0 ? rc == SL_OK : rc != SL_OK) {
            fprintf(stderr, "writer: %s %s: %s\n", op.what, op.id, err.message);
            _exit(3);
        }
        say("{\"t\":\"ack\",\"w\":\"r%dt%d\",\"n\":%d,\"rev\":%llu}", run_no, t, n,
            (unsigned long long)rev);
        if (t == 0 && ++acks >= kill_after)
            raise(SIGKILL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct store_options opt = {0};
    struct sl_err err = {0};
    pthread_t th[16];
    int threads, i;

    if (argc != 6 || (threads = atoi(argv[3])) < 1 || threads > 16) {
        fprintf(stderr, "usage: writer DIR RUN THREADS KILL_AFTER SNAPSHOT_BYTES\n");
        return 2;
    }
    run_no = atoi(argv[2]);
    kill_after = atoi(argv[4]);
    opt.snapshot_bytes = strtoull(argv[5], NULL, 10);
    if (store_open(argv[1], &opt, &S, &err) != SL_OK) {
        fprintf(stderr, "writer: %s\n", err.message);
        return 1;
    }
    for (i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, thread_main, (void *)(long)i);
    for (i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return 0;
}
