/*
 * wal.c - the store's redo log and checkpoint record (see wal.h).
 *
 * A record: a 32-byte header, then its payload of ops.
 *   0 magic "SLWR"   4 payload bytes   8 epoch   16 txnid
 *   24 CRC-32C of bytes 0..23 and the payload   28 zero
 * An op: type (1 byte), database (1), key bytes (4), value bytes (4), key,
 * value.  Integers are little-endian.
 *
 * Appending never changes a file's size on the way to an acknowledgement:
 * files grow ahead of the records by zero-filled steps (WAL_GROW), so a
 * record's fdatasync flushes its own pages and no inode.
 */
#define _GNU_SOURCE
#include "store/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_HDR 32
#define REC_MAGIC 0x52574c53u  /* "SLWR" */
#define CKPT_MAGIC 0x4b434c53u /* "SLCK" */
#define CKPT_VERSION 1
#define CKPT_SLOT 4096  /* one slot per page: a torn write spoils one */
#define CKPT_CRC_AT 48
#define OP_HDR 10
#define WAL_SWITCH_BYTES ((uint64_t)4 << 20) /* switch files past this, when allowed */
#define WAL_GROW ((uint64_t)1 << 20)
#define WAL_REC_MAX ((uint64_t)256 << 20)

struct wal {
    int fd[2];
    int ckpt_fd;
    uint64_t size[2]; /* file sizes: appends below them change no metadata */
    struct wal_pos pos;
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

uint32_t wal_crc32c(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;

    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
    int i;

    for (i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int open_in(const char *dir, const char *name, int *created)
{
    char path[4096];
    int fd;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        *created = 1;
    }
    return fd;
}

int wal_open(const char *dir, struct wal **out, struct sl_err *err)
{
    static const char *names[2] = {"wal-0.log", "wal-1.log"};
    struct wal *w = calloc(1, sizeof(*w));
    struct stat st;
    int created = 0, i, dfd;

    *out = NULL;
    if (w == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    w->fd[0] = w->fd[1] = w->ckpt_fd = -1;
    for (i = 0; i < 2; i++) {
        if ((w->fd[i] = open_in(dir, names[i], &created)) < 0 || fstat(w->fd[i], &st) != 0)
            goto fail;
        w->size[i] = (uint64_t)st.st_size;
    }
    if ((w->ckpt_fd = open_in(dir, "checkpoint", &created)) < 0)
        goto fail;
    if (created) { /* the new names must survive a crash too */
        if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
            goto fail;
        i = fsync(dfd);
        close(dfd);
        if (i != 0)
            goto fail;
    }
    *out = w;
    return SL_OK;
fail:
    sl_err_set(err, 500, "InternalFailure", "cannot open the redo log in %s: %s", dir,
               strerror(errno));
    wal_close(w);
    return SL_EIO;
}

void wal_close(struct wal *w)
{
    int i;

    if (w == NULL)
        return;
    for (i = 0; i < 2; i++)
        if (w->fd[i] >= 0)
            close(w->fd[i]);
    if (w->ckpt_fd >= 0)
        close(w->ckpt_fd);
    free(w);
}

int wal_reset(struct wal *w, struct sl_err *err)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (ftruncate(w->fd[i], 0) != 0 || fsync(w->fd[i]) != 0)
            return sl_err_set(err, 500, "InternalFailure", "cannot empty the redo log: %s",
                              strerror(errno));
        w->size[i] = 0;
    }
    w->pos.file = 0;
    w->pos.off = 0;
    return SL_OK;
}

int wal_ckpt_read(struct wal *w, struct wal_ckpt *out, struct sl_err *err)
{
    unsigned char slot[CKPT_SLOT];
    int i, found = 0;

    for (i = 0; i < 2; i++) {
        ssize_t n = pread(w->ckpt_fd, slot, sizeof(slot), (off_t)i * CKPT_SLOT);
        uint64_t seq;

        if (n < 0)
            return sl_err_set(err, 500, "InternalFailure", "cannot read the checkpoint: %s",
                              strerror(errno));
        if (n < CKPT_CRC_AT + 4 || get32(slot) != CKPT_MAGIC ||
            get32(slot + CKPT_CRC_AT) != wal_crc32c(0, slot, CKPT_CRC_AT))
            continue; /* never written, or torn: the other slot holds the last one */
        if (get32(slot + 4) != CKPT_VERSION)
            return sl_err_set(err, 500, "InternalFailure",
                              "the store's checkpoint has format %u, newer than this sluiced "
                              "understands; upgrade sluiced or use another --data-dir",
                              get32(slot + 4));
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
    return found ? SL_OK : SL_ENOTFOUND;
}

int wal_ckpt_write(struct wal *w, const struct wal_ckpt *c)
{
    unsigned char slot[CKPT_SLOT] = {0};

    put32(slot, CKPT_MAGIC);
    put32(slot + 4, CKPT_VERSION);
    put64(slot + 8, c->seq);
    put64(slot + 16, c->txnid);
    put64(slot + 24, c->epoch);
    put64(slot + 32, c->pos.off);
    put32(slot + 40, c->pos.file);
    put32(slot + 44, c->clean);
    put32(slot + CKPT_CRC_AT, wal_crc32c(0, slot, CKPT_CRC_AT));
    if (pwrite(w->ckpt_fd, slot, sizeof(slot), (off_t)(c->seq & 1) * CKPT_SLOT) !=
        (ssize_t)sizeof(slot))
        return errno ? errno : EIO;
    return fdatasync(w->ckpt_fd) == 0 ? 0 : errno;
}

void wal_rec_start(struct buf *b)
{
    static const char zero[REC_HDR];

    if (buf_failed(b)) {
        buf_free(b);
        buf_init(b);
    }
    b->len = 0;
    buf_append(b, zero, sizeof(zero));
}

int wal_rec_empty(const struct buf *b)
{
    return b->len <= REC_HDR;
}

void wal_rec_rewind(struct buf *b, size_t len)
{
    if (len >= REC_HDR && len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

static void rec_op(struct buf *b, unsigned type, unsigned db, const void *k, size_t kl,
                   const void *v, size_t vl)
{
    unsigned char h[OP_HDR];

    h[0] = (unsigned char)type;
    h[1] = (unsigned char)db;
    put32(h + 2, (uint32_t)kl);
    put32(h + 6, (uint32_t)vl);
    buf_append(b, h, sizeof(h));
    buf_append(b, k, kl);
    if (vl)
        buf_append(b, v, vl);
}

void wal_rec_put(struct buf *b, unsigned db, const void *k, size_t kl, const void *v, size_t vl)
{
    rec_op(b, WAL_OP_PUT, db, k, kl, v, vl);
}

void wal_rec_del(struct buf *b, unsigned db, const void *k, size_t kl)
{
    rec_op(b, WAL_OP_DEL, db, k, kl, NULL, 0);
}

void wal_rec_finish(struct buf *b, uint64_t epoch, uint64_t txnid)
{
    unsigned char *h = (unsigned char *)b->data;
    uint32_t crc;

    put32(h, REC_MAGIC);
    put32(h + 4, (uint32_t)(b->len - REC_HDR));
    put64(h + 8, epoch);
    put64(h + 16, txnid);
    crc = wal_crc32c(0, h, 24);
    put32(h + 24, wal_crc32c(crc, h + REC_HDR, b->len - REC_HDR));
    put32(h + 28, 0);
}

int wal_op_next(const unsigned char **p, size_t *n, struct wal_op *op)
{
    const unsigned char *q = *p;
    size_t kl, vl;

    if (*n == 0)
        return 0;
    if (*n < OP_HDR)
        return -1;
    kl = get32(q + 2);
    vl = get32(q + 6);
    if (kl > *n - OP_HDR || vl > *n - OP_HDR - kl || (q[0] != WAL_OP_PUT && q[0] != WAL_OP_DEL))
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

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Zero-fill file <f> up to at least <need> bytes, in WAL_GROW steps. */
static int grow(struct wal *w, uint32_t f, uint64_t need)
{
    static const char zero[64 << 10];
    uint64_t to = (need + WAL_GROW - 1) / WAL_GROW * WAL_GROW;
    int rc;

    while (w->size[f] < to) {
        size_t n = to - w->size[f] < sizeof(zero) ? (size_t)(to - w->size[f]) : sizeof(zero);
        if ((rc = pwrite_all(w->fd[f], zero, n, w->size[f])) != 0)
            return rc;
        w->size[f] += n;
    }
    return 0;
}

int wal_append(struct wal *w, const struct buf *b, uint32_t ckpt_file, struct wal_pos *end,
               unsigned *file_bit)
{
    uint64_t to;
    int rc;

    if (w->pos.off >= WAL_SWITCH_BYTES && ckpt_file == w->pos.file) {
        w->pos.file ^= 1;
        w->pos.off = 0;
    }
    to = w->pos.off + b->len;
    if (to > w->size[w->pos.file] && (rc = grow(w, w->pos.file, to)) != 0)
        return rc;
    if ((rc = pwrite_all(w->fd[w->pos.file], b->data, b->len, w->pos.off)) != 0)
        return rc;
    w->pos.off = to;
    *end = w->pos;
    *file_bit = 1u << w->pos.file;
    return 0;
}

struct wal_pos wal_position(const struct wal *w)
{
    return w->pos;
}

int wal_sync(struct wal *w, unsigned files)
{
    int i;

    for (i = 0; i < 2; i++)
        if ((files & (1u << i)) && fdatasync(w->fd[i]) != 0)
            return errno;
    return 0;
}

/* Read the record at <pos>, its payload into *data (grown as needed, size
 * *cap); 1 when it is whole and its checksum holds, with its payload size
 * and header fields in *len, *epoch and *txnid. */
static int read_record(struct wal *w, struct wal_pos pos, unsigned char **data, size_t *cap,
                       size_t *len, uint64_t *epoch, uint64_t *txnid)
{
    unsigned char h[REC_HDR];
    uint64_t n;

    if (pos.off + REC_HDR > w->size[pos.file] ||
        pread(w->fd[pos.file], h, sizeof(h), (off_t)pos.off) != (ssize_t)sizeof(h) ||
        get32(h) != REC_MAGIC)
        return 0;
    n = get32(h + 4);
    if (n > WAL_REC_MAX || pos.off + REC_HDR + n > w->size[pos.file])
        return 0;
    if (*cap < n + 1) {
        unsigned char *p = realloc(*data, n + 1);
        if (p == NULL)
            return 0;
        *data = p;
        *cap = n + 1;
    }
    if (pread(w->fd[pos.file], *data, n, (off_t)(pos.off + REC_HDR)) != (ssize_t)n ||
        get32(h + 24) != wal_crc32c(wal_crc32c(0, h, 24), *data, n))
        return 0;
    *len = n;
    *epoch = get64(h + 8);
    *txnid = get64(h + 16);
    return 1;
}

int wal_replay(struct wal *w, const struct wal_ckpt *c, uint64_t have, wal_replay_fn cb,
               void *arg, uint64_t *last)
{
    unsigned char *data = NULL;
    size_t cap = 0, len = 0;
    struct wal_pos pos = c->pos;
    uint64_t seen = c->txnid, epoch = 0, txnid = 0;
    int switched = 0, rc = 0;

    w->pos = c->pos;
    for (;;) {
        if (read_record(w, pos, &data, &cap, &len, &epoch, &txnid) && epoch == c->epoch &&
            txnid == seen + 1) {
            if (txnid > have && (rc = cb(txnid, data, len, arg)) != 0)
                break;
            pos.off += REC_HDR + len;
            w->pos = pos;
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
    free(data);
    *last = seen;
    return rc;
}
