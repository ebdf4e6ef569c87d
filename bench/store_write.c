/*
 * store_write.c - the store's durable write rate on its own, without HTTP:
 * <writers> threads each call store_write() in a loop for <seconds>, every
 * write one RegisterTargets-like target object.  With <keys> "spread" the
 * targets go round-robin over 200 groups, as in bench/api (each write lands
 * in another B-tree leaf); with "sequential" every key follows the last
 * (all writes land in one leaf).  Built and run by bench/store against
 * build-release/libsluice_core.a:
 *
 *   store_write DIR [writers 8] [seconds 3] [spread|sequential]
 *
 * Prints "writes_per_s N" (after a 1 s warm-up) and "writes_per_commit N"
 * (every write of the run over the environment's transactions).
 */
#include <jansson.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define GROUPS 200

static struct store *S;
static int sequential;
static int stop;
static long next_seq;

struct writer {
    pthread_t th;
    long done;
};

static int put_target(struct store_txn *txn, void *arg, struct sl_err *err)
{
    long n = *(long *)arg;
    char key[96], ip[32];
    json_t *obj;
    int rc;

    (void)err;
    snprintf(ip, sizeof(ip), "10.%ld.%ld.%ld", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    if (sequential)
        snprintf(key, sizeof(key), "tg0000000000000000|%012ld|80", n);
    else
        snprintf(key, sizeof(key), "tg%016ld|%s|80", n % GROUPS, ip);
    obj = json_pack("{ss s{ss si} ss ss}", "id", key, "Target", "Id", ip, "Port", 80, "_state",
                    "registered", "_since", "2026-01-01T00:00:00.000Z");
    rc = store_put(txn, "target", key, obj);
    json_decref(obj);
    return rc;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;

    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        struct sl_err err = {0};
        long n = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);

        if (store_write(S, put_target, &n, NULL, &err) != SL_OK) {
            fprintf(stderr, "store_write: %s\n", err.message);
            exit(1);
        }
        __atomic_fetch_add(&w->done, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static size_t last_txnid(const char *dir)
{
    MDB_env *env;
    MDB_envinfo info = {0};

    if (mdb_env_create(&env) != 0)
        return 0;
    mdb_env_set_maxdbs(env, 8);
    if (mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0)
        mdb_env_info(env, &info);
    mdb_env_close(env);
    return info.me_last_txnid;
}

static long total(struct writer *w, int n)
{
    long sum = 0;
    int i;

    for (i = 0; i < n; i++)
        sum += __atomic_load_n(&w[i].done, __ATOMIC_RELAXED);
    return sum;
}

int main(int argc, char **argv)
{
    int writers = argc > 2 ? atoi(argv[2]) : 8, seconds = argc > 3 ? atoi(argv[3]) : 3, i;
    struct sl_err err = {0};
    struct writer *w;
    size_t txns;
    long before, after;

    if (argc < 2 || writers < 1 || writers > 256 || seconds < 1) {
        fprintf(stderr, "usage: store_write DIR [writers 1-256] [seconds] [spread|sequential]\n");
        return 2;
    }
    sequential = argc > 4 && strcmp(argv[4], "sequential") == 0;
    if (store_open(argv[1], NULL, &S, &err) != SL_OK) {
        fprintf(stderr, "store_open: %s\n", err.message);
        return 1;
    }
    w = calloc((size_t)writers, sizeof(*w));
    if (w == NULL)
        return 1;
    for (i = 0; i < writers; i++)
        pthread_create(&w[i].th, NULL, writer_main, &w[i]);
    sleep(1); /* warm up: the first commits also create the tree */
    before = total(w, writers);
    sleep((unsigned)seconds);
    after = total(w, writers);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < writers; i++)
        pthread_join(w[i].th, NULL);
    store_close(S);
    txns = last_txnid(argv[1]); /* LMDB allows one handle per process: after the close */
    printf("writes_per_s %.0f\n", (after - before) / (double)seconds);
    printf("writes_per_commit %.2f\n", txns ? (double)total(w, writers) / (double)txns : 0.0);
    free(w);
    return 0;
}
