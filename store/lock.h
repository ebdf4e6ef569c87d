/*
 * lock.h - one process per data directory.
 *
 * The lock is an exclusive flock(2) on DIR/sluiced.lock, which holds the
 * owner's pid.  flock locks belong to the open file, not the process, so a
 * second store_open() in the same process is refused too; the file is
 * opened O_CLOEXEC, so no co-process started with fork+exec (sluice-proxy,
 * tasks) ever holds it, and it goes with the process however it ends.
 *
 * Caveats:
 * - Taken before anything in the directory is read or written; a refused
 *   caller has changed nothing (the directory and the lock file exist
 *   already whenever someone holds the lock).
 * - Also refused: a directory whose LMDB environment another process has
 *   open (LMDB's own lock on lock.mdb, found with F_GETLK), such as a
 *   sluiced from before this lock, or an mdb_* tool.
 * - The lock file stays when the lock is released: removing it would let
 *   a starting process lock a file that is no longer the directory's.
 */
#ifndef SL_STORE_LOCK_H
#define SL_STORE_LOCK_H

#include "common/err.h"

struct store_lock;

/* Create <dir> if missing and lock it.  SL_OK with *out owning the lock;
 * SL_EAGAIN when another process (or another store in this one) holds it,
 * with <err>'s message exactly "data directory DIR is in use by pid N";
 * SL_ERR on other failures. */
int store_lock_take(const char *dir, struct store_lock **out, struct sl_err *err);

/* Release the lock.  NULL is a no-op. */
void store_lock_release(struct store_lock *l);

#endif
