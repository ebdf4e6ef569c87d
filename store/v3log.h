/*
 * v3log.h - the redo log of schema-3 stores, read-only, for their one-time
 * conversion (convert.h).  Nothing writes this format any more.
 *
 * Files in a schema-3 data directory:
 *   wal-0.log, wal-1.log  records, appended to one file at a time
 *   checkpoint            two 4 KiB slots, written alternately
 *   snapshot.mdb          a synced copy of data.mdb at the checkpoint or later
 * A record: a 32-byte header (magic "SLWR", payload bytes, epoch, txnid,
 * CRC-32C of the header's first 24 bytes and the payload), then its payload
 * of ops: type (1 byte), database (1), key bytes (4), value bytes (4), key,
 * value.  Integers are little-endian.
 *
 * Caveats:
 * - Replay follows, from the checkpoint's position, the records of its
 *   epoch whose txnids follow its own without a gap, going on in the other
 *   file from its start when the next one is not found in this one; it
 *   stops at the first that is not there (a torn tail).
 * - A stop is an end only if no record of that epoch with a higher txnid
 *   checks out anywhere in either file: v3_log_later() finds one when a
 *   damaged record sits in the middle of the log.
 */
#ifndef SL_STORE_V3LOG_H
#define SL_STORE_V3LOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct v3_pos {
    uint32_t file; /* 0 or 1 */
    uint64_t off;
};

struct v3_ckpt {
    uint64_t seq;       /* slot sequence: the highest valid one is current */
    uint64_t epoch;     /* records after <pos> carry this epoch */
    struct v3_pos pos;  /* the end of the record of transaction <txnid> */
    uint64_t txnid;
    uint32_t clean;     /* data.mdb alone was current (closed cleanly) */
};

/* The newest valid checkpoint of <dir> into <out>: SL_OK; SL_ENOTFOUND
 * when no slot checks out (then no commit ever went unsynced); SL_EINVAL
 * (message in <err>) when written by a newer format; SL_EIO on a read
 * error. */
int v3_ckpt_read(const char *dir, struct v3_ckpt *out, struct sl_err *err);

/* The two log files of <dir>, mapped read-only (a missing file is empty).
 * SL_OK or SL_EIO.  v3_log_close(NULL) is a no-op. */
struct v3_log;
int v3_log_open(const char *dir, struct v3_log **out, struct sl_err *err);
void v3_log_close(struct v3_log *l);

/* Follow the records after checkpoint <c> and call <cb> for each whose
 * txnid is above <have> (the snapshot holds the others), in order, with
 * the record's payload (borrowed for the call).  *last gets the last txnid
 * followed (c->txnid if none), *end the position after it.  A non-zero
 * return from <cb> stops the replay and is returned. */
typedef int (*v3_apply_fn)(uint64_t txnid, const unsigned char *payload, size_t n, void *arg);
int v3_log_replay(struct v3_log *l, const struct v3_ckpt *c, uint64_t have, v3_apply_fn cb,
                  void *arg, uint64_t *last, struct v3_pos *end);

/* 1 with *where set if a record of <epoch> with a txnid above <last>
 * checks out anywhere in the log, else 0. */
int v3_log_later(const struct v3_log *l, uint64_t epoch, uint64_t last, struct v3_pos *where);

/* One op of a record's payload: borrowed pointers into it.  v3_op_next()
 * returns 1 with <op> filled, 0 at the end, -1 on a malformed payload. */
enum { V3_OP_PUT = 1, V3_OP_DEL = 2 };
struct v3_op {
    unsigned type, db; /* db: 0 meta, 1 objects, 2 index, 3 changes */
    const void *k, *v;
    size_t kl, vl;
};
int v3_op_next(const unsigned char **p, size_t *n, struct v3_op *op);

/* CRC-32C (Castagnoli) of <n> bytes, continuing from <crc> (0 to start). */
uint32_t v3_crc32c(uint32_t crc, const void *p, size_t n);

#endif
