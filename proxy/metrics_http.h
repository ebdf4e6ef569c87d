/*
 * metrics_http.h - sluice-proxy --metrics-listen ADDR: GET /metrics in
 * Prometheus text (metrics_render.h) on a socket of its own, off by
 * default.
 *
 * Caveats:
 *  - One thread, one connection at a time, blocking I/O with a 2 s limit
 *    per connection, "Connection: close" after each answer: scrapes are
 *    rare, and nothing here touches the workers' loops.
 *  - Requests are parsed by the data plane's strict parser (http1.h); only
 *    GET and HEAD of /metrics are served (404 for other paths, 405 for
 *    other methods, 400 for what does not parse).
 */
#ifndef SL_PROXY_METRICS_HTTP_H
#define SL_PROXY_METRICS_HTTP_H

#include <stdint.h>

#include "common/err.h"

struct pxm_http;

/* Listen on <addr> ("HOST:PORT", "[V6]:PORT"; port 0 picks one, see
 * pxm_http_port()) and serve; <applied>(<arg>) is the revision applied, for
 * sluice_proxy_applied_revision.  0, or SL_EINVAL/SL_EIO with <err>. */
int pxm_http_start(const char *addr, uint64_t (*applied)(void *), void *arg,
                   struct pxm_http **out, struct sl_err *err);
int pxm_http_port(const struct pxm_http *h);
/* Stop and join; NULL is a no-op. */
void pxm_http_stop(struct pxm_http *h);

#endif
