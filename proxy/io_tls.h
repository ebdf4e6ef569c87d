/*
 * io_tls.h - the TLS transport under a client or upstream connection
 * (struct px_io_ops over OpenSSL, non-blocking; see io.h).
 *
 * Caveats:
 *  - The handshake runs inside the first reads and writes: a connection
 *    needs no TLS state of its own.  When OpenSSL wants the other direction
 *    the transport sets io->want; px_io_buffered() counts decrypted bytes
 *    not yet read.
 *  - A write that returned SL_EAGAIN must be retried with the same bytes
 *    (px_outq keeps them), as OpenSSL requires; small pieces are gathered
 *    into one record.
 *  - Handshake failures (a version or cipher the policy refuses, no common
 *    ALPN under HTTP2Only) are logged at debug level and end the stream.
 */
#ifndef SL_PROXY_IO_TLS_H
#define SL_PROXY_IO_TLS_H

#include <stdint.h>

#include "proxy/io.h"

struct px_tls_srv;
struct px_target;

/* <io> becomes the server side of TLS on accepted socket <fd> with the
 * listener context <srv> (the stream takes a reference).  <fd> is owned by
 * <io> from now on, also on failure.  0 or SL_ENOMEM (then <io> is a closed
 * plain stream on <fd>: px_io_close() closes it). */
int px_io_tls_server(struct px_io *io, int fd, struct px_tls_srv *srv);

/* A server-side handshake's outcome (connection logs). */
struct px_tls_hs {
    int ok;
    const char *version, *cipher; /* ok: "TLSv1.3", OpenSSL's cipher name */
    int64_t latency_us;           /* from the stream's start to its end */
};

/* Call <cb>(<arg>, outcome) once when the server side of <io> ends its
 * handshake: on success, on failure, or when the stream closes first (from
 * px_io_close(): <arg> must live until then).  A no-op on other streams. */
void px_io_tls_on_handshake(struct px_io *io, void (*cb)(void *arg, const struct px_tls_hs *hs),
                            void *arg);

/* Non-zero while the server side of <io> has not finished its handshake. */
int px_io_tls_handshaking(const struct px_io *io);

/* <io> becomes the client side of TLS to HTTPS target <t> on socket <fd>
 * (connected or connecting), resuming <t>'s session when it has one.  Same
 * ownership and returns as px_io_tls_server(). */
int px_io_tls_client(struct px_io *io, int fd, struct px_target *t);

#endif
