/*
 * writer.h - the writer and syncer threads: group commit, durability and
 * acknowledgement of store_write() (see writer.c).
 */
#ifndef SL_STORE_WRITER_H
#define SL_STORE_WRITER_H

#include "common/err.h"

struct store;

/* Start the syncer and the writer on an open store whose last commit is
 * durable.  SL_OK, or SL_ERR with <err> filled (call store_writer_stop()
 * all the same). */
int store_writer_start(struct store *s, struct sl_err *err);

/* Run every queued write, make it durable, and join the threads, whichever
 * started.  Later store_write() calls fail (503).  Returns the errno of a
 * failed commit or sync, or 0. */
int store_writer_stop(struct store *s);

#endif
