/*
 * conntrack.h - deadlines for slow clients of the HTTP front door.
 *
 * libmicrohttpd only times out a connection that is idle; a client sending
 * one byte of its request head every few seconds would hold its connection
 * forever.  Each connection here has a deadline while the server waits on
 * the client: its request (head and body) must arrive within the timeout of
 * the connection opening or of the previous response, and a response must
 * be taken within the timeout of being queued.  While a request is being
 * processed or a stream is open there is no deadline.  A reaper thread
 * shuts down (shutdown(2)) the socket of every connection past its
 * deadline; libmicrohttpd then sees the end of the stream and closes it.
 *
 * Caveats:
 * - conntrack_close() must be called before the socket is closed (from
 *   libmicrohttpd's MHD_CONNECTION_NOTIFY_CLOSED, which comes first): the
 *   reaper and it share a lock, so the reaper never shuts down a descriptor
 *   number that was closed and reused.
 * - Every function is thread-safe.
 */
#ifndef SL_SERVER_CONNTRACK_H
#define SL_SERVER_CONNTRACK_H

#include <stdint.h>

struct conntrack;
struct ct_conn;

/* Start the reaper for connections that get <timeout_ms> per wait.
 * SL_OK with *out, or SL_ENOMEM / SL_ERR (no thread). */
int conntrack_start(int timeout_ms, struct conntrack **out);

/* Stop the reaper and free.  Every connection must be closed first.  NULL
 * is a no-op. */
void conntrack_stop(struct conntrack *ct);

/* Track socket <fd>, with a deadline from now.  NULL when out of memory
 * (the connection is then untracked). */
struct ct_conn *conntrack_open(struct conntrack *ct, int fd);

/* Stop tracking (before the socket closes).  NULL <c> is a no-op. */
void conntrack_close(struct conntrack *ct, struct ct_conn *c);

/* The server waits on the client again: a deadline from now.  NULL no-op. */
void conntrack_arm(struct conntrack *ct, struct ct_conn *c);

/* The server works or streams: no deadline.  NULL no-op. */
void conntrack_disarm(struct conntrack *ct, struct ct_conn *c);

/* Connections shut down so far (for logs and tests). */
uint64_t conntrack_reaped(struct conntrack *ct);

#endif
