/*
 * workers.h - a fixed pool of threads for the API's blocking work.
 *
 * The HTTP front door's polling threads never block: an operation that
 * reads LMDB or waits for the store's group commit runs here, while its
 * connection is suspended.  Jobs are intrusive (embedded in the caller's
 * request state), so queueing allocates nothing; they run in FIFO order.
 *
 * Caveats:
 * - A job's function owns nothing of the pool; it must not call
 *   workers_stop().
 * - Every function is thread-safe.
 */
#ifndef SL_SERVER_WORKERS_H
#define SL_SERVER_WORKERS_H

#include <stddef.h>

struct workers_job {
    struct workers_job *next;           /* the pool's */
    void (*run)(struct workers_job *j); /* called once, on a pool thread */
};

struct workers;

/* Start <n> threads.  SL_OK with *out, SL_ENOMEM or SL_ERR (no thread). */
int workers_start(int n, struct workers **out);

/* Queue <j> (borrowed until its run() returns).  SL_OK, or SL_ERR once the
 * pool is stopping (the job is not queued). */
int workers_push(struct workers *w, struct workers_job *j);

/* Jobs queued or running. */
size_t workers_pending(struct workers *w);

/* Refuse new jobs, run every queued one, join the threads, free.  NULL is a
 * no-op. */
void workers_stop(struct workers *w);

#endif
