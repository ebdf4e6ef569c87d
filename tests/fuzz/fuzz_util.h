/*
 * fuzz_util.h - what the fuzz targets share: CHECK(), which aborts (a crash
 * libFuzzer records) when an invariant breaks, and a real store for the
 * targets that drive the API's front doors.
 *
 * Caveats:
 * - fuzz_store() opens one store per process in a fresh directory under
 *   $TMPDIR (tests/fuzz/run.sh points it at a tmpfs, so a durable write
 *   costs no disk flush) and removes it at exit.  Writes accumulate across
 *   inputs, as on a long-running server.
 * - Header-only (static inline functions): each target is one translation unit.
 */
#ifndef SL_TESTS_FUZZ_UTIL_H
#define SL_TESTS_FUZZ_UTIL_H

#include <dirent.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/api/api.h"
#include "routes/elbv2/health.h"
#include "store/store.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char fuzz_dir[512];
static struct store *fuzz_st;
static struct elb_health *fuzz_health;

/* The store's directory is flat: its files, then itself. */
static inline void fuzz_rmdir(const char *dir)
{
    char path[1024];
    struct dirent *e;
    DIR *d = opendir(dir);

    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static inline void fuzz_cleanup(void)
{
    store_close(fuzz_st);
    elb_health_free(fuzz_health);
    fuzz_st = NULL;
    fuzz_health = NULL;
    if (fuzz_dir[0])
        fuzz_rmdir(fuzz_dir);
}

/* A request context over the process's store (opened on first use). */
static inline struct api_ctx fuzz_ctx(void)
{
    struct api_ctx ctx;
    struct store_options opt = {0};
    struct sl_err err = {0};

    if (fuzz_st == NULL) {
        const char *tmp = getenv("TMPDIR");
        unsigned char byte;

        /* OpenSSL initialises here, as in sluiced's main thread, not first in
         * the store's writer thread (ids are random): its exit handler then
         * runs after ours, which joins that thread. */
        CHECK(RAND_bytes(&byte, 1) == 1);

        snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sluice-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        CHECK(mkdtemp(fuzz_dir) != NULL);
        opt.map_size = (size_t)256 << 20;
        opt.changes_keep = 1000;
        if (store_open(fuzz_dir, &opt, &fuzz_st, &err) != SL_OK) {
            fprintf(stderr, "fuzz: store_open(%s): %s\n", fuzz_dir, err.message);
            abort();
        }
        CHECK(elb_health_new(&fuzz_health) == SL_OK);
        atexit(fuzz_cleanup);
    }
    api_ctx_init(&ctx, fuzz_st, "us-east-1", "000000000000", fuzz_health,
                 "00000000-0000-4000-8000-000000000000");
    return ctx;
}

/* The first line of <data> (without its '\n') into <out> (<cap>), the rest
 * in *rest / *rest_len. */
static inline void fuzz_line(const char *data, size_t size, char *out, size_t cap,
                             const char **rest, size_t *rest_len)
{
    const char *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;

    if (n >= cap)
        n = cap - 1;
    memcpy(out, data, n);
    out[n] = '\0';
    *rest = nl ? nl + 1 : data + size;
    *rest_len = size - (size_t)(*rest - data);
}

#endif
