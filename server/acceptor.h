/*
 * acceptor.h - the API's listening socket and the thread that accepts on
 * it, handing each connection to libmicrohttpd (MHD_add_connection()).
 *
 * libmicrohttpd's own accept loop takes up to ten connections per wake-up
 * on whichever polling thread wakes first, so a burst of clients all land
 * on one thread and share one core.  Handed over one at a time,
 * libmicrohttpd spreads them over its polling threads by descriptor number.
 * The acceptor also holds the total: with <max_open> connections open it
 * stops accepting, and new clients wait in the kernel's backlog until one
 * closes (the per-address limit stays libmicrohttpd's).
 *
 * Caveats:
 * - A connection counts from its accept; acceptor_closed() must be called
 *   once for each the server took, as it closes
 *   (MHD_CONNECTION_NOTIFY_CLOSED).  One libmicrohttpd accepts and then
 *   drops without that notice (out of memory) stays counted.
 * - Every function is thread-safe.
 */
#ifndef SL_SERVER_ACCEPTOR_H
#define SL_SERVER_ACCEPTOR_H

#include <sys/socket.h>

#include "common/err.h"

struct acceptor;

/* Hands <fd> (owned from then on: it closes it on failure) to the server;
 * returns 0 when taken, non-zero when refused (then not counted). */
typedef int (*acceptor_add_fn)(void *arg, int fd, const struct sockaddr *sa, socklen_t len);

/* Listen on <sa> (port 0: any free one) and accept on a thread of its own,
 * at most <max_open> connections open at once.  *port gets the bound port.
 * SL_OK with *out, or SL_ERR with <err> (address in use, no thread). */
int acceptor_start(const struct sockaddr *sa, socklen_t len, int max_open, acceptor_add_fn add,
                   void *arg, int *port, struct acceptor **out, struct sl_err *err);

/* A connection the server took was closed. */
void acceptor_closed(struct acceptor *a);

/* Stop accepting and close the listening socket (open connections stay).
 * Idempotent; NULL is a no-op. */
void acceptor_close(struct acceptor *a);

/* acceptor_close() and free.  NULL is a no-op. */
void acceptor_free(struct acceptor *a);

#endif
