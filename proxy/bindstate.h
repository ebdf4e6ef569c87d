/*
 * bindstate.h - the listeners whose port a worker could not bind, for the
 * report to the control plane (which shows their load balancer as
 * active_impaired) and for the log.
 *
 * Caveats:
 *  - Process-wide, like the published table: workers write their own
 *    entries (replacing them at every listener sync), the reporter reads;
 *    one mutex, no I/O under it.
 *  - A listener counts as unbound when any worker could not bind it.
 */
#ifndef SL_PROXY_BINDSTATE_H
#define SL_PROXY_BINDSTATE_H

#include <jansson.h>

#include "proxy/table.h"

struct px_bind_error {
    char lid[PX_ID_MAX];
    char lb_id[PX_ID_MAX];
    int port;
    char addr[64];
    int err; /* errno of the failed bind() or listen() */
};

/* Worker <worker>'s unbound listeners are now <v>[0..<n>) (copied). */
void px_bind_set(int worker, const struct px_bind_error *v, int n);

/* Changes whenever some worker's set changes (the reporter reports at once). */
unsigned px_bind_generation(void);

/* The unbound listeners as the report's "unbound_listeners" array (a new
 * reference; NULL on allocation failure): one entry per listener,
 * {id, load_balancer_id, port, address, error}. */
json_t *px_bind_json(void);

#endif
