/*
 * accesslog_file.c - gzip files cut at deflate sync points.
 */
#include "proxy/accesslog_file.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* <err> filled, SL_EIO returned. */
static int io_fail(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int io_fail(struct sl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->status = 500;
        snprintf(err->code, sizeof(err->code), "AccessLog");
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return SL_EIO;
}

void pxa_file_init(struct pxa_file *f)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
}

/* mkdir -p <dir> (0755). */
static int make_dirs(const char *dir)
{
    char p[PATH_MAX];
    size_t i, n = strlen(dir);

    if (n >= sizeof(p))
        return SL_EINVAL;
    memcpy(p, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        p[i] = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return SL_EIO;
        p[i] = i < n ? '/' : '\0';
    }
    return SL_OK;
}

int pxa_file_open(struct pxa_file *f, const char *dir, const char *name, time_t start,
                  time_t end, struct sl_err *err)
{
    int n;

    pxa_file_init(f);
    n = snprintf(f->final, sizeof(f->final), "%s/%s", dir, name);
    if (n < 0 || (size_t)n + 9 >= sizeof(f->path))
        return io_fail(err, "log path too long under %s", dir);
    memcpy(f->path, f->final, (size_t)n);
    memcpy(f->path + n, ".partial", 9);
    if (make_dirs(dir) != SL_OK)
        return io_fail(err, "cannot make %s: %s", dir, strerror(errno));
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0)
        return io_fail(err, "cannot open %s: %s", f->path, strerror(errno));
    /* level 1: the lines are repetitive enough that it gets most of level
     * 6's ratio at several times its speed; 31: a gzip wrapper */
    if (deflateInit2(&f->z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        close(f->fd);
        unlink(f->path);
        f->fd = -1;
        return io_fail(err, "out of memory for a log file");
    }
    f->start = start;
    f->end = end;
    return SL_OK;
}

/* Run deflate with <flush> until it has taken all its input and, for a
 * flush, emitted everything, appending to f->ob. */
static int pump(struct pxa_file *f, int flush)
{
    int rc;

    do {
        if (f->ob_cap - f->ob_len < 16384) {
            size_t cap = f->ob_cap ? f->ob_cap * 2 : 65536;
            unsigned char *p = realloc(f->ob, cap);
            if (p == NULL)
                return SL_ENOMEM;
            f->ob = p;
            f->ob_cap = cap;
        }
        f->z.next_out = f->ob + f->ob_len;
        f->z.avail_out = (uInt)(f->ob_cap - f->ob_len);
        rc = deflate(&f->z, flush);
        f->ob_len = f->ob_cap - f->z.avail_out;
        if (rc == Z_STREAM_ERROR)
            return SL_EIO;
    } while (f->z.avail_in > 0 || (flush != Z_NO_FLUSH && f->z.avail_out == 0) ||
             (flush == Z_FINISH && rc != Z_STREAM_END));
    return SL_OK;
}

int pxa_file_add(struct pxa_file *f, const char *line, size_t n)
{
    f->z.next_in = (unsigned char *)(uintptr_t)line;
    f->z.avail_in = (uInt)n;
    f->lines++;
    return pump(f, Z_NO_FLUSH);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return SL_EIO;
        p += k;
        n -= (size_t)k;
    }
    return SL_OK;
}

static void close_file(struct pxa_file *f)
{
    deflateEnd(&f->z);
    close(f->fd);
    f->fd = -1;
    free(f->ob);
    f->ob = NULL;
    f->ob_len = f->ob_cap = 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* A write failed: keep the file up to its last round (a sync point), end
 * the deflate stream there with an empty final block (03 00) and the gzip
 * trailer of what it holds, publish and close it.  Best effort: if even
 * that fails, the file stays cut at the sync point, readable up to it. */
static void cut_back(struct pxa_file *f)
{
    unsigned char tail[10] = {0x03, 0x00};

    put_le32(tail + 2, f->good_crc);
    put_le32(tail + 6, f->good_isize);
    if (ftruncate(f->fd, f->good) == 0 && lseek(f->fd, f->good, SEEK_SET) == f->good &&
        f->good > 0 && write_all(f->fd, tail, sizeof(tail)) == SL_OK)
        rename(f->path, f->final);
    else if (f->good == 0)
        unlink(f->path); /* nothing of it was complete */
    close_file(f);
}

int pxa_file_round(struct pxa_file *f, struct sl_err *err)
{
    int e;

    if (f->fd < 0 || f->lines == 0)
        return SL_OK;
    if (pump(f, Z_SYNC_FLUSH) != SL_OK || write_all(f->fd, f->ob, f->ob_len) != SL_OK) {
        e = errno;
        io_fail(err, "writing %s: %s", f->path, strerror(e));
        cut_back(f);
        return SL_EIO;
    }
    f->good += (off_t)f->ob_len;
    f->good_crc = (uint32_t)f->z.adler; /* the gzip wrapper's running CRC-32 */
    f->good_isize = (uint32_t)f->z.total_in;
    f->ob_len = 0;
    f->lines = 0;
    return SL_OK;
}

int pxa_file_finish(struct pxa_file *f, struct sl_err *err)
{
    int e;

    if (f->fd < 0)
        return SL_OK;
    if (pump(f, Z_FINISH) != SL_OK || write_all(f->fd, f->ob, f->ob_len) != SL_OK ||
        fdatasync(f->fd) != 0) {
        e = errno;
        io_fail(err, "finishing %s: %s", f->path, strerror(e));
        cut_back(f);
        return SL_EIO;
    }
    if (rename(f->path, f->final) != 0) {
        e = errno;
        io_fail(err, "renaming %s: %s", f->path, strerror(e));
        close_file(f);
        return SL_EIO;
    }
    close_file(f);
    return SL_OK;
}
