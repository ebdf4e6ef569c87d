/*
 * accesslog_file.h - one gzip log file being written by the access log's
 * writer thread: lines go in, a round (every PXA_DRAIN_MS) compresses and
 * writes what came, a finish completes the gzip stream and gives the file
 * its final name.
 *
 * Caveats:
 *  - Blocking I/O: the writer thread's only; never a worker's.
 *  - A round ends on a deflate sync point, so the file up to its last
 *    round is a gzip stream that only lacks its end.  When a round's write
 *    fails (a full disk), the file is cut back to its last round and ended
 *    there (an empty final block and the trailer of what it holds), renamed
 *    as complete, and closed: the round's lines are lost, the file is
 *    valid.  pxa_file_round() then returns SL_EIO.
 *  - zlib (Debian's zlib1g) does the compression.
 */
#ifndef SL_PROXY_ACCESSLOG_FILE_H
#define SL_PROXY_ACCESSLOG_FILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <zlib.h>

#include "common/err.h"

struct pxa_file {
    int fd; /* -1: no file open */
    z_stream z;
    char path[PATH_MAX];  /* "<final>.partial" while written */
    char final[PATH_MAX];
    time_t start, end;    /* the interval it holds */
    off_t good;           /* bytes written up to the last complete round */
    uint32_t good_crc;    /* CRC-32 and length of the data up to there */
    uint32_t good_isize;
    uint64_t lines;       /* lines fed since the last round */
    unsigned char *ob;    /* this round's compressed bytes */
    size_t ob_len, ob_cap;
};

/* A closed file (fd -1). */
void pxa_file_init(struct pxa_file *f);

/* Open <dir>/<name>.partial (making <dir> and its parents) for interval
 * [<start>, <end>).  0, or SL_EIO with <err> saying what failed. */
int pxa_file_open(struct pxa_file *f, const char *dir, const char *name, time_t start,
                  time_t end, struct sl_err *err);

/* Feed one line.  0 or SL_ENOMEM (the line is lost). */
int pxa_file_add(struct pxa_file *f, const char *line, size_t n);

/* Write what was fed since the last round.  0, or SL_EIO: the round's
 * lines (f->lines before the call) are lost and the file is closed. */
int pxa_file_round(struct pxa_file *f, struct sl_err *err);

/* Write the rest, end the stream, sync, close and rename to the final
 * name.  0, or SL_EIO (the file was cut back as for a failed round). */
int pxa_file_finish(struct pxa_file *f, struct sl_err *err);

#endif
