/*
 * xff.h - the load balancer's forwarding settings applied to the request
 * head a target gets: X-Forwarded-For (routing.http.xff_header_processing
 * .mode and .xff_client_port.enabled) and Host (routing.http
 * .preserve_host_header.enabled), as ALB applies them.
 *
 * Caveats:
 *  - append (the default): the client's X-Forwarded-For fields, joined, then
 *    the peer's address (with ":port", "[v6]:port", when the client port is
 *    on); preserve: the client's fields as sent (none if it sent none);
 *    remove: no X-Forwarded-For at all.
 *  - Host, when not preserved, is the client's host without its port, with
 *    ":<listener port>" appended unless the port is the scheme's default
 *    (80 for HTTP, 443 for HTTPS), as ALB rewrites it.  Preserved, it is
 *    sent as received.  A request without Host gets the target's address.
 *  - The settings are copied per request (struct px_fwd_conf) because a
 *    table may be replaced while the request is in flight.  Pure; thread-safe.
 */
#ifndef SL_PROXY_XFF_H
#define SL_PROXY_XFF_H

#include <sys/socket.h>

#include "proxy/hbuf.h"
#include "proxy/http1.h"
#include "proxy/table.h"

struct px_fwd_conf {
    unsigned char xff_mode; /* enum px_xff */
    unsigned char xff_port;
    unsigned char preserve_host;
    unsigned char https;
    unsigned char no_server; /* no Server on the proxy's own answers */
};

/* Copy listener <l>'s settings (NULL: the defaults). */
void px_xff_conf(struct px_fwd_conf *f, const struct px_listener *l);

/* The X-Forwarded-For field (or none) for request <r> from <peer> (whose
 * address text is <peer_ip>) into <b>. */
void px_xff_put(struct px_hbuf *b, const struct px_fwd_conf *f, const struct h1_request *r,
                const char *peer_ip, const struct sockaddr_storage *peer);

/* "Host: ...\r\n" for request <r> on listener port <lport> into <b>;
 * <fallback> when the request has no Host. */
void px_xff_host(struct px_hbuf *b, const struct px_fwd_conf *f, const struct h1_request *r,
                 int lport, const char *fallback);

#endif
