/*
 * store_write.c - the store's durable write rate on its own, without HTTP,
 * and what reads cost beside it: <writers> threads each call store_write()
 * in a loop for <seconds>, every write one RegisterTargets-like target
 * object, while <readers> threads each read one target at a time (begin,
 * get, end) as fast as they can.  With <keys> "spread" the targets go
 * round-robin over 200 groups, as in bench/api (each write lands in another
 * B-tree leaf); with "sequential" every key follows the last (all writes
 * land in one leaf).  Built and run by bench/store against
 * build-release/libsluice_store.a:
 *
 *   store_write DIR [writers 8] [seconds 3] [spread|sequential] [readers 0]
 *
 * Prints, after a 1 s warm-up: "writes_per_s N", "writes_per_commit N"
 * (every write of the run over the environment's transactions), and with
 * readers "reads_per_s N" and the read latency "read_p50_us", "read_p90_us",
 * "read_p99_us", "read_max_us", and "read_slow_pct", the share of reads
 * that took 50 us or more.  A read that would see a commit not yet durable waits for
 * its sync (store/durable.h): that wait is in these latencies.
 */
#include <jansson.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define GROUPS 200
#define LAT_MAX 1000000 /* read latencies kept per reader */

static struct store *S;
static int sequential;
static int stop, measuring;
static long next_seq;

struct worker {
    pthread_t th;
    long done;
    unsigned *lat_us; /* readers: latencies while measuring */
    size_t nlat;
};

static void target_key(char *key, size_t cap, char *ip, size_t ipcap, long n)
{
    snprintf(ip, ipcap, "10.%ld.%ld.%ld", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    if (sequential)
        snprintf(key, cap, "tg0000000000000000|%012ld|80", n);
    else
        snprintf(key, cap, "tg%016ld|%s|80", n % GROUPS, ip);
}

static int put_target(struct store_txn *txn, void *arg, struct sl_err *err)
{
    long n = *(long *)arg;
    char key[96], ip[32];
    json_t *obj;
    int rc;

    (void)err;
    target_key(key, sizeof(key), ip, sizeof(ip), n);
    obj = json_pack("{ss s{ss si} ss ss}", "id", key, "Target", "Id", ip, "Port", 80, "_state",
                    "registered", "_since", "2026-01-01T00:00:00.000Z");
    rc = store_put(txn, "target", key, obj);
    json_decref(obj);
    return rc;
}

static void *writer_main(void *arg)
{
    struct worker *w = arg;

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

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *reader_main(void *arg)
{
    struct worker *w = arg;
    unsigned seed = (unsigned)(size_t)arg;

    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        struct sl_err err = {0};
        struct store_txn *txn;
        long top = __atomic_load_n(&next_seq, __ATOMIC_RELAXED);
        long n = top > 0 ? rand_r(&seed) % top : 0;
        char key[96], ip[32];
        uint64_t t0 = now_ns();

        target_key(key, sizeof(key), ip, sizeof(ip), n);
        if (store_read_begin(S, &txn, &err) != SL_OK) {
            fprintf(stderr, "store_read_begin: %s\n", err.message);
            exit(1);
        }
        json_decref(store_get_shared(txn, "target", key));
        store_txn_end(txn);
        if (__atomic_load_n(&measuring, __ATOMIC_RELAXED) && w->nlat < LAT_MAX)
            w->lat_us[w->nlat++] = (unsigned)((now_ns() - t0) / 1000);
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

static long total(struct worker *w, int n)
{
    long sum = 0;
    int i;

    for (i = 0; i < n; i++)
        sum += __atomic_load_n(&w[i].done, __ATOMIC_RELAXED);
    return sum;
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return x < y ? -1 : x > y;
}

static void print_reads(struct worker *r, int readers, long reads, int seconds)
{
    size_t n = 0, i;
    unsigned *all;
    int k;

    for (k = 0; k < readers; k++)
        n += r[k].nlat;
    if (n == 0 || (all = malloc(n * sizeof(*all))) == NULL)
        return;
    for (n = 0, k = 0; k < readers; k++)
        for (i = 0; i < r[k].nlat; i++)
            all[n++] = r[k].lat_us[i];
    qsort(all, n, sizeof(*all), cmp_unsigned);
    printf("reads_per_s %.0f\n", reads / (double)seconds);
    printf("read_p50_us %u\n", all[n / 2]);
    printf("read_p90_us %u\n", all[n * 9 / 10]);
    printf("read_p99_us %u\n", all[n * 99 / 100]);
    printf("read_max_us %u\n", all[n - 1]);
    for (i = n; i > 0 && all[i - 1] >= 50; i--)
        ;
    printf("read_slow_pct %.2f\n", 100.0 * (double)(n - i) / (double)n);
    free(all);
}

int main(int argc, char **argv)
{
    int writers = argc > 2 ? atoi(argv[2]) : 8, seconds = argc > 3 ? atoi(argv[3]) : 3;
    int readers = argc > 5 ? atoi(argv[5]) : 0, i;
    struct sl_err err = {0};
    struct worker *w, *r;
    size_t txns;
    long before, after, rbefore, rafter;

    if (argc < 2 || writers < 0 || writers > 256 || seconds < 1 || readers < 0 ||
        readers > 64 || writers + readers == 0) {
        fprintf(stderr, "usage: store_write DIR [writers 0-256] [seconds] [spread|sequential] "
                        "[readers 0-64]\n");
        return 2;
    }
    sequential = argc > 4 && strcmp(argv[4], "sequential") == 0;
    if (store_open(argv[1], NULL, &S, &err) != SL_OK) {
        fprintf(stderr, "store_open: %s\n", err.message);
        return 1;
    }
    w = calloc((size_t)writers + 1, sizeof(*w));
    r = calloc((size_t)readers + 1, sizeof(*r));
    if (w == NULL || r == NULL)
        return 1;
    for (i = 0; i < readers; i++)
        if ((r[i].lat_us = malloc(LAT_MAX * sizeof(unsigned))) == NULL)
            return 1;
    if (writers == 0) { /* readers alone: something to read first */
        for (next_seq = 0; next_seq < 20000; next_seq++)
            store_write(S, put_target, &next_seq, NULL, &err);
    }
    for (i = 0; i < writers; i++)
        pthread_create(&w[i].th, NULL, writer_main, &w[i]);
    for (i = 0; i < readers; i++)
        pthread_create(&r[i].th, NULL, reader_main, &r[i]);
    sleep(1); /* warm up: the first commits also create the tree */
    before = total(w, writers);
    rbefore = total(r, readers);
    __atomic_store_n(&measuring, 1, __ATOMIC_RELAXED);
    sleep((unsigned)seconds);
    __atomic_store_n(&measuring, 0, __ATOMIC_RELAXED);
    after = total(w, writers);
    rafter = total(r, readers);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < writers; i++)
        pthread_join(w[i].th, NULL);
    for (i = 0; i < readers; i++)
        pthread_join(r[i].th, NULL);
    store_close(S);
    txns = last_txnid(argv[1]); /* LMDB allows one handle per process: after the close */
    printf("writes_per_s %.0f\n", (after - before) / (double)seconds);
    printf("writes_per_commit %.2f\n", txns ? (double)total(w, writers) / (double)txns : 0.0);
    if (readers)
        print_reads(r, readers, rafter - rbefore, seconds);
    for (i = 0; i < readers; i++)
        free(r[i].lat_us);
    free(w);
    free(r);
    return 0;
}
