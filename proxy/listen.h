/*
 * listen.h - a worker's listening sockets: one per listener of the current
 * table (SO_REUSEPORT, so every worker has its own and the kernel spreads
 * connections), opened and closed to follow the table.
 *
 * Caveats:
 *  - Worker thread only.  The address is the worker's bind address, else
 *    0.0.0.0 for internet-facing load balancers and 127.0.0.1 for internal
 *    ones.  An HTTPS listener without a TLS context (no usable default
 *    certificate) is not opened.
 */
#ifndef SL_PROXY_LISTEN_H
#define SL_PROXY_LISTEN_H

#include "proxy/conn.h"

/* Open the sockets of listeners new in w->table, close those gone.  A
 * port that cannot be bound (taken, not permitted) is logged once and
 * recorded for the report (bindstate.h); px_listen_retry_due() says when
 * to call this again (the worker's tick does, every second). */
void px_listen_sync(struct px_worker *w);
/* 1 while some listener of the table has no socket yet. */
int px_listen_retry_due(const struct px_worker *w);
/* Close every listening socket (stop). */
void px_listen_close_all(struct px_worker *w);

#endif
