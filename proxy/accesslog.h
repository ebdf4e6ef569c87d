/*
 * accesslog.h - access logs as ALB writes them: one line per request
 * (accesslog_line.h), and connection logs: one line per TLS handshake
 * (accesslog_conn.h); gzip files named and laid out as ALB names them under
 * <dir>/<bucket>[/<prefix>]/AWSLogs/..., one file per load balancer and
 * interval (5 minutes), written by a thread of their own.
 *
 * Workers never block on a log: a line is formatted into the worker's ring
 * buffer (single producer, single consumer) and the writer thread drains
 * the rings every PXA_DRAIN_MS, compresses, and writes.  A full ring drops
 * the line; a write the disk refuses (ENOSPC, EIO) drops the lines of that
 * round: the file is cut back to its last complete round and closed as a
 * valid gzip file, and a new one is opened a second later.  Both are
 * counted (pxa_stats()), and traffic goes on.
 *
 * Caveats:
 *  - A file is written as "<name>.partial" and renamed to its ALB name when
 *    its interval ends, when its load balancer stops logging, or at
 *    pxa_stop(); a reader never sees a file grow.  After a crash the
 *    .partial file holds every round written before it (a gzip stream
 *    without its trailer: zcat reads it and warns).
 *  - pxa_stop() writes everything the rings hold: call it after the workers
 *    have stopped, and no line of a clean shutdown is lost.
 *  - Sinks are reference counted: listener parts hold them (the
 *    subscription thread makes them, any thread may release them); the
 *    writer keeps a sink until every reference is gone and the rings have
 *    been drained once more, since lines in the rings point to it.
 *  - Without pxa_start() (unit tests, tools) there is no sink and no line.
 *  - Connection log lines share the rings, the writer and the counters of
 *    pxa_stats() (and so the access log metrics) with access log lines.
 */
#ifndef SL_PROXY_ACCESSLOG_H
#define SL_PROXY_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proxy/decode.h"

#define PXA_DRAIN_MS 100
#define PXA_ROTATE_S 300            /* ALB publishes every 5 minutes */
#define PXA_RING_BYTES (4u << 20)   /* per worker: ~10,000 lines */
#define PXA_LINE_MAX (32u * 1024)   /* a line never exceeds this */

struct pxa_sink;

struct pxa_stats {
    uint64_t lines;         /* written to a file */
    uint64_t dropped_full;  /* a worker's ring was full */
    uint64_t dropped_write; /* the disk refused them */
    uint64_t files;         /* files completed */
};

/* Start the writer: logs go under <dir> (made when needed), files rotate
 * every <rotate_s> seconds (PXA_ROTATE_S; a divisor of a day is best),
 * <nworkers> rings; <node_ip> names the files' node (NULL: the address the
 * load balancer's listeners bind).  0 or SL_E*.  Process-wide: once. */
int pxa_start(const char *dir, int rotate_s, int nworkers, const char *node_ip);
/* Drain the rings, finish and rename every file, join.  Safe without
 * pxa_start(). */
void pxa_stop(void);

/* The sink of load balancer <lb>'s access logs (one new reference), or
 * NULL when they are off, the writer is not started, or memory ran out. */
struct pxa_sink *pxa_sink_get(const struct pxd_lb *lb);
/* The same for its connection logs (ALB's "conn_log_" files, the lines
 * accesslog_conn.h formats): another sink, with files of its own. */
struct pxa_sink *pxa_conn_sink_get(const struct pxd_lb *lb);
void pxa_sink_put(struct pxa_sink *s);

/* Worker <w>: room for a line of up to PXA_LINE_MAX bytes, or NULL when
 * the ring is full (the line is counted as dropped).  Then
 * pxa_line_commit() with the line's length and the time it belongs to (its
 * file's interval), or nothing to give the room back. */
char *pxa_line_room(int w);
void pxa_line_commit(int w, struct pxa_sink *s, size_t len, time_t when);

void pxa_stats(struct pxa_stats *out);

/* Make the writer drain now (tests: a line is on disk within a round). */
void pxa_kick(void);

#endif
