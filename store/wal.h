/*
 * wal.h - the store's redo log and its checkpoint record.
 *
 * The store commits to LMDB without syncing the data file and makes each
 * commit durable by appending one redo record to this log and syncing the
 * log alone: one flush of one or two sequential pages per group of writes
 * instead of LMDB's two flushes of scattered pages.  A checkpoint record
 * names the log position from which the records that a durable snapshot
 * of the data file lacks can be found (see store.c).
 *
 * Files in the data directory:
 *   wal-0.log, wal-1.log  records, appended to one file at a time
 *   checkpoint            two 4 KiB slots, written alternately
 *
 * Caveats:
 * - Not thread-safe: one thread appends (the store's writer); syncing
 *   (wal_sync()) and checkpoint writes may run on other threads, each on
 *   its own, as they touch no state that wal_append() changes.
 * - A record is (epoch, txnid, ops).  Replay follows the records of the
 *   checkpoint's epoch whose txnids follow its position's without a gap,
 *   and stops at the first that does not: a torn tail, a stale record of
 *   an earlier run (each open starts a new epoch) or of an earlier lap
 *   through a file.
 * - The log switches to the other file only once a durable checkpoint lies
 *   in the current one: nothing the other file holds is needed any more.
 */
#ifndef SL_STORE_WAL_H
#define SL_STORE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct wal;

struct wal_pos {
    uint32_t file; /* 0 or 1 */
    uint64_t off;
};

struct wal_ckpt {
    uint64_t seq;       /* slot sequence: the highest valid one is current */
    uint64_t epoch;     /* records after <pos> carry this epoch */
    struct wal_pos pos; /* the end of the record of transaction <txnid> */
    uint64_t txnid;
    uint32_t clean;     /* the data file alone is current (closed cleanly) */
};

/* Open (creating as needed) the log files and checkpoint file in <dir>.
 * The write position starts at file 0, offset 0; wal_replay() moves it. */
int wal_open(const char *dir, struct wal **out, struct sl_err *err);
void wal_close(struct wal *w);

/* Empty both log files, durably: for a store without a checkpoint. */
int wal_reset(struct wal *w, struct sl_err *err);

/* The newest valid checkpoint into <out>: SL_OK, SL_ENOTFOUND when there
 * is none, SL_EINVAL (message in <err>) when it was written by a newer
 * format, SL_EIO on a read error. */
int wal_ckpt_read(struct wal *w, struct wal_ckpt *out, struct sl_err *err);

/* Write <c> into the slot its seq selects and fdatasync it.  0 or an errno. */
int wal_ckpt_write(struct wal *w, const struct wal_ckpt *c);

/* Records.  Build one in <b>: wal_rec_start(), then ops, then
 * wal_rec_finish() seals it (header and checksum).  Ops name one of the
 * store's databases by a small code the store chooses. */
enum { WAL_OP_PUT = 1, WAL_OP_DEL = 2 };
void wal_rec_start(struct buf *b);
int wal_rec_empty(const struct buf *b);
/* Drop every op added since the record was <len> bytes long (b->len). */
void wal_rec_rewind(struct buf *b, size_t len);
void wal_rec_put(struct buf *b, unsigned db, const void *k, size_t kl, const void *v, size_t vl);
void wal_rec_del(struct buf *b, unsigned db, const void *k, size_t kl);
void wal_rec_finish(struct buf *b, uint64_t epoch, uint64_t txnid);

/* One op of a record's payload, decoded by wal_op_next(): borrowed
 * pointers into the payload.  Returns 1 with <op> filled, 0 at the end,
 * -1 on a malformed payload. */
struct wal_op {
    unsigned type, db;
    const void *k, *v;
    size_t kl, vl;
};
int wal_op_next(const unsigned char **p, size_t *n, struct wal_op *op);

/* Append the sealed record <b> at the write position, switching files
 * first when the current one is past its size budget and <ckpt_file>
 * (the file of the last durable checkpoint's position) is the current
 * one.  The record is written, not synced.  0 or an errno; *end gets the
 * position after it and *file_bit the bit (1 << file) of the file written. */
int wal_append(struct wal *w, const struct buf *b, uint32_t ckpt_file, struct wal_pos *end,
               unsigned *file_bit);

/* The write position. */
struct wal_pos wal_position(const struct wal *w);

/* fdatasync every file whose bit is set in <files>.  0 or an errno. */
int wal_sync(struct wal *w, unsigned files);

/* Follow the records after checkpoint <c> (same epoch, txnids c->txnid
 * + 1, + 2, ... without a gap) and call <cb> for each whose txnid is above
 * <have> (the snapshot has the others), in order, with the record's
 * payload; then leave the write position after the last one.  *last gets
 * the last txnid followed (c->txnid if none).  A non-zero return from <cb>
 * stops the replay and is returned. */
typedef int (*wal_replay_fn)(uint64_t txnid, const unsigned char *payload, size_t n, void *arg);
int wal_replay(struct wal *w, const struct wal_ckpt *c, uint64_t have, wal_replay_fn cb,
               void *arg, uint64_t *last);

/* CRC-32C (Castagnoli) of <n> bytes, continuing from <crc> (0 to start). */
uint32_t wal_crc32c(uint32_t crc, const void *p, size_t n);

#endif
