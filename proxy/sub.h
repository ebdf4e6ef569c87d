/*
 * sub.h - the subscription to the control plane: snapshot, then the NDJSON
 * watch stream applied into an in-memory model; every applied batch becomes
 * a new routing table (px_table_publish).  A second thread POSTs the report
 * every second.
 *
 * Caveats:
 *  - Both threads use plain blocking sockets with timeouts; nothing here runs
 *    on a worker's event loop, so a slow control plane never stalls traffic.
 *  - On a lost stream the last table keeps serving; reconnects back off
 *    exponentially with jitter (100 ms .. 5 s) from the last applied revision;
 *    a 410 or a {"kind":"gone"} line re-reads the snapshot.
 */
#ifndef SL_PROXY_SUB_H
#define SL_PROXY_SUB_H

#include <stdint.h>

#include "proxy/table.h"

struct px_sub_cfg {
    char host[256];
    int port;
    char token[512];   /* bearer token, empty for none */
    char proxy_id[129];
};

struct px_sub;

/* Parse "http://HOST:PORT" into <cfg>.  0 or SL_EINVAL. */
int px_sub_parse_url(const char *url, struct px_sub_cfg *cfg);

/* Start the subscription and reporter threads.  <on_table> is called (from
 * the subscription thread) after each publish, e.g. to wake workers.  <reg>
 * is owned by the subscription thread from now on.  0 or SL_E*. */
int px_sub_start(const struct px_sub_cfg *cfg, struct px_reg *reg,
                 void (*on_table)(void *arg), void *arg, struct px_sub **out);

/* Stop and join both threads, free <s> (NULL is a no-op). */
void px_sub_stop(struct px_sub *s);

/* The revision of the last applied batch (0 before the first snapshot). */
uint64_t px_sub_applied(struct px_sub *s);

/* The report body for the current table (new reference). */
json_t *px_sub_report(const char *proxy_id, uint64_t applied);

#endif
