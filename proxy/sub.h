/*
 * sub.h - the subscription to the control plane's feed: the snapshot, then
 * the NDJSON watch stream, applied revision by revision (apply.h); every
 * batch of whole revisions becomes a new routing table (px_table_publish).
 *
 * Caveats:
 *  - One thread with plain blocking sockets and timeouts; nothing here runs
 *    on a worker's event loop, so a slow control plane never stalls traffic.
 *  - On a lost stream the last table keeps serving; reconnects back off
 *    exponentially with jitter (100 ms .. 5 s) from the last applied
 *    revision.  A 410, a gone record, or a record the proxy cannot decode
 *    (logged) re-reads the snapshot; a snapshot that does not decode is
 *    logged and retried, the last table serving meanwhile.
 */
#ifndef SL_PROXY_SUB_H
#define SL_PROXY_SUB_H

#include <stdint.h>

#include "proxy/cpclient.h"

struct px_sub;

/* Start the subscription thread.  <on_table> is called (from it) after each
 * publish, e.g. to wake workers.  0 or SL_E*. */
int px_sub_start(const struct px_cp_cfg *cfg, void (*on_table)(void *arg), void *arg,
                 struct px_sub **out);

/* Stop and join the thread, free <s> (NULL is a no-op). */
void px_sub_stop(struct px_sub *s);

/* The revision of the last applied batch (0 before the first snapshot);
 * thread-safe.  Takes a struct px_sub * (void * to serve as a callback). */
uint64_t px_sub_applied(void *s);

#endif
