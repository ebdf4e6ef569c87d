/*
 * store_restart.c - what a clean restart of a big store costs: fill a store
 * in DIR until data.mdb holds <mb> MiB (10 KB objects, 100 a write), close
 * it, then open it, read one object and close it again, <rounds> times with
 * the file in the page cache and <rounds> times with its pages dropped from
 * the cache first (posix_fadvise DONTNEED on data.mdb alone, which touches
 * nothing else of the machine).  Built and run by bench/store:
 *
 *   store_restart DIR [mb 100] [rounds 5]
 *
 * Prints "data_mb N", "fill_close_ms N" (the close right after the writes),
 * and the medians "open_warm_ms", "open_cold_ms" (store_open() to the first
 * object read), "close_ms", "restart_cold_ms" (close, then open and read).
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define PER_WRITE 100
#define OBJ_BYTES 10000

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int put_many(struct store_txn *txn, void *arg, struct sl_err *err)
{
    static char pad[OBJ_BYTES + 1];
    long base = *(long *)arg;
    char id[32];
    int i, rc = SL_OK;

    (void)err;
    if (pad[0] == '\0')
        memset(pad, 'p', OBJ_BYTES);
    for (i = 0; i < PER_WRITE && rc == SL_OK; i++) {
        json_t *o;

        snprintf(id, sizeof(id), "o%09ld", base + i);
        o = json_pack("{ss ss}", "id", id, "pad", pad);
        rc = store_put(txn, "bulk", id, o);
        json_decref(o);
    }
    return rc;
}

static off_t data_size(const char *dir)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void drop_cache(const char *dir)
{
    char path[4096];
    int fd;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if ((fd = open(path, O_RDONLY)) >= 0) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

/* Open, read one object, and return the milliseconds it took. */
static double open_and_read(const char *dir, struct store **s)
{
    struct sl_err err = {0};
    struct store_txn *txn;
    double t0 = now_ms();
    json_t *o;

    if (store_open(dir, NULL, s, &err) != SL_OK || store_read_begin(*s, &txn, &err) != SL_OK) {
        fprintf(stderr, "store_restart: %s\n", err.message);
        exit(1);
    }
    o = store_get(txn, "bulk", "o000000042");
    if (o == NULL) {
        fprintf(stderr, "store_restart: object o000000042 missing\n");
        exit(1);
    }
    json_decref(o);
    store_txn_end(txn);
    return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    long mb = argc > 2 ? atol(argv[2]) : 100, base = 0;
    int rounds = argc > 3 ? atoi(argv[3]) : 5, i;
    double warm[64], cold[64], closing[64], restart[64], t0;
    struct sl_err err = {0};
    struct store *s;

    if (argc < 2 || mb < 1 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: store_restart DIR [mb] [rounds 1-64]\n");
        return 2;
    }
    if (store_open(argv[1], NULL, &s, &err) != SL_OK) {
        fprintf(stderr, "store_restart: %s\n", err.message);
        return 1;
    }
    while (data_size(argv[1]) < (off_t)mb << 20) {
        if (store_write(s, put_many, &base, NULL, &err) != SL_OK) {
            fprintf(stderr, "store_restart: %s\n", err.message);
            return 1;
        }
        base += PER_WRITE;
    }
    t0 = now_ms();
    store_close(s);
    printf("data_mb %.0f\n", data_size(argv[1]) / 1048576.0);
    printf("fill_close_ms %.1f\n", now_ms() - t0);
    for (i = 0; i < rounds; i++) {
        warm[i] = open_and_read(argv[1], &s);
        t0 = now_ms();
        store_close(s);
        closing[i] = now_ms() - t0;
        drop_cache(argv[1]);
        cold[i] = open_and_read(argv[1], &s);
        store_close(s);
        restart[i] = closing[i] + cold[i];
    }
    printf("open_warm_ms %.1f\n", median(warm, rounds));
    printf("open_cold_ms %.1f\n", median(cold, rounds));
    printf("close_ms %.1f\n", median(closing, rounds));
    printf("restart_cold_ms %.1f\n", median(restart, rounds));
    return 0;
}
