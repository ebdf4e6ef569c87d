/*
 * v3log.c - reading a schema-3 redo log (see v3log.h).
 */
#define _GNU_SOURCE /* memmem */
#include "store/v3log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_HDR 32
#define REC_MAGIC 0x52574c53u  /* "SLWR" */
#define CKPT_MAGIC 0x4b434c53u /* "SLCK" */
#define CKPT_VERSION 1
#define CKPT_SLOT 4096
#define CKPT_CRC_AT 48
#define OP_HDR 10
#define REC_MAX ((uint64_t)256 << 20)

struct v3_log {
    const unsigned char *map[2];
    size_t size[2];
};

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    uint32_t i, j, c;

    for (i = 0; i < 256; i++) {
        for (c = i, j = 0; j < 8; j++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t v3_crc32c(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;

    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int v3_ckpt_read(const char *dir, struct v3_ckpt *out, struct sl_err *err)
{
    unsigned char slot[CKPT_SLOT];
    char path[4096];
    int fd, i, found = 0;

    if (snprintf(path, sizeof(path), "%s/checkpoint", dir) >= (int)sizeof(path))
        return sl_err_set(err, 500, "InternalFailure", "data directory path too long: %s", dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return SL_ENOTFOUND;
        sl_err_set(err, 500, "InternalFailure", "cannot read %s: %s", path, strerror(errno));
        return SL_EIO;
    }
    for (i = 0; i < 2; i++) {
        ssize_t n = pread(fd, slot, sizeof(slot), (off_t)i * CKPT_SLOT);
        uint64_t seq;

        if (n < 0) {
            sl_err_set(err, 500, "InternalFailure", "cannot read %s: %s", path,
                       strerror(errno));
            close(fd);
            return SL_EIO;
        }
        if (n < CKPT_CRC_AT + 4 || get32(slot) != CKPT_MAGIC ||
            get32(slot + CKPT_CRC_AT) != v3_crc32c(0, slot, CKPT_CRC_AT))
            continue; /* never written, or torn: the other slot holds the last one */
        if (get32(slot + 4) != CKPT_VERSION) {
            close(fd);
            return sl_err_set(err, 500, "InternalFailure",
                              "%s has format %u, newer than this sluiced understands; "
                              "upgrade sluiced or use another --data-dir",
                              path, get32(slot + 4));
        }
        seq = get64(slot + 8);
        if (found && seq <= out->seq)
            continue;
        found = 1;
        out->seq = seq;
        out->txnid = get64(slot + 16);
        out->epoch = get64(slot + 24);
        out->pos.off = get64(slot + 32);
        out->pos.file = get32(slot + 40) & 1;
        out->clean = get32(slot + 44);
    }
    close(fd);
    return found ? SL_OK : SL_ENOTFOUND;
}

int v3_log_open(const char *dir, struct v3_log **out, struct sl_err *err)
{
    struct v3_log *l = calloc(1, sizeof(*l));
    char path[4096];
    struct stat st;
    int i, fd;

    *out = NULL;
    if (l == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/wal-%d.log", dir, i);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            if (errno == ENOENT)
                continue;
            goto fail;
        }
        if (fstat(fd, &st) != 0) {
            close(fd);
            goto fail;
        }
        if (st.st_size > 0) {
            void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m == MAP_FAILED) {
                close(fd);
                goto fail;
            }
            l->map[i] = m;
            l->size[i] = (size_t)st.st_size;
        }
        close(fd);
    }
    *out = l;
    return SL_OK;
fail:
    sl_err_set(err, 500, "InternalFailure", "cannot read %s: %s", path, strerror(errno));
    v3_log_close(l);
    return SL_EIO;
}

void v3_log_close(struct v3_log *l)
{
    int i;

    if (l == NULL)
        return;
    for (i = 0; i < 2; i++)
        if (l->map[i])
            munmap((void *)l->map[i], l->size[i]);
    free(l);
}

/* The record at <pos>, if one checks out there: 1 with its payload
 * (borrowed from the mapping), size, epoch and txnid. */
static int record_at(const struct v3_log *l, struct v3_pos pos, const unsigned char **payload,
                     size_t *len, uint64_t *epoch, uint64_t *txnid)
{
    const unsigned char *h;
    uint64_t n;

    if (pos.off > l->size[pos.file] || l->size[pos.file] - pos.off < REC_HDR)
        return 0;
    h = l->map[pos.file] + pos.off;
    if (get32(h) != REC_MAGIC)
        return 0;
    n = get32(h + 4);
    if (n > REC_MAX || n > l->size[pos.file] - pos.off - REC_HDR)
        return 0;
    if (get32(h + 24) != v3_crc32c(v3_crc32c(0, h, 24), h + REC_HDR, (size_t)n))
        return 0;
    *payload = h + REC_HDR;
    *len = (size_t)n;
    *epoch = get64(h + 8);
    *txnid = get64(h + 16);
    return 1;
}

int v3_log_replay(struct v3_log *l, const struct v3_ckpt *c, uint64_t have, v3_apply_fn cb,
                  void *arg, uint64_t *last, struct v3_pos *end)
{
    const unsigned char *payload;
    struct v3_pos pos = c->pos;
    uint64_t seen = c->txnid, epoch, txnid;
    size_t len;
    int switched = 0, rc = 0;

    *end = c->pos;
    for (;;) {
        if (record_at(l, pos, &payload, &len, &epoch, &txnid) && epoch == c->epoch &&
            txnid == seen + 1) {
            if (txnid > have && (rc = cb(txnid, payload, len, arg)) != 0)
                break;
            pos.off += REC_HDR + len;
            *end = pos;
            seen = txnid;
            switched = 0;
            continue;
        }
        /* Not the next record here: the writer may have gone on in the
         * other file, from its start.  Otherwise this is the end. */
        if (switched)
            break;
        switched = 1;
        pos.file ^= 1;
        pos.off = 0;
    }
    *last = seen;
    return rc;
}

int v3_log_later(const struct v3_log *l, uint64_t epoch, uint64_t last, struct v3_pos *where)
{
    static const unsigned char magic[4] = {'S', 'L', 'W', 'R'};
    const unsigned char *payload;
    uint64_t e, txnid;
    size_t len;
    uint32_t f;

    for (f = 0; f < 2; f++) {
        const unsigned char *p = l->map[f], *hit;
        size_t left = l->size[f];

        while (p && left >= REC_HDR && (hit = memmem(p, left, magic, sizeof(magic)))) {
            struct v3_pos pos = {f, (uint64_t)(hit - l->map[f])};

            if (record_at(l, pos, &payload, &len, &e, &txnid) && e == epoch && txnid > last) {
                *where = pos;
                return 1;
            }
            left -= (size_t)(hit - p) + 1;
            p = hit + 1;
        }
    }
    return 0;
}

int v3_op_next(const unsigned char **p, size_t *n, struct v3_op *op)
{
    const unsigned char *q = *p;
    size_t kl, vl;

    if (*n == 0)
        return 0;
    if (*n < OP_HDR)
        return -1;
    kl = get32(q + 2);
    vl = get32(q + 6);
    if (kl > *n - OP_HDR || vl > *n - OP_HDR - kl || (q[0] != V3_OP_PUT && q[0] != V3_OP_DEL))
        return -1;
    op->type = q[0];
    op->db = q[1];
    op->k = q + OP_HDR;
    op->kl = kl;
    op->v = q + OP_HDR + kl;
    op->vl = vl;
    *p = q + OP_HDR + kl + vl;
    *n -= OP_HDR + kl + vl;
    return 1;
}
