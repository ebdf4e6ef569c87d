/*
 * http_tls.h - HTTPS for the control plane (sluiced --tls-cert/--tls-key):
 * the certificate and key checked with OpenSSL at start-up, handed to
 * libmicrohttpd's TLS.
 *
 * Caveats:
 * - Debian's libmicrohttpd does TLS with GnuTLS, not OpenSSL: the protocols
 *   and ciphers are GnuTLS's "NORMAL" set less everything before TLS 1.2
 *   (TLS 1.2 and 1.3, AEAD ciphers with forward secrecy first).  Its build
 *   is checked at start-up (MHD_FEATURE_TLS); one without TLS is refused.
 * - The certificate file may hold the leaf followed by intermediates; all
 *   of it is sent.  The key must be unencrypted PEM (PKCS#8 or traditional)
 *   and must match the leaf.  Read once at start-up: replacing the files
 *   takes effect at the next start.
 * - The co-process sluice-proxy gets --tls-cert's file as its --ca, so the
 *   certificate must name the address it reaches sluiced on (127.0.0.1 or
 *   ::1 as an IP SAN, or localhost) or be signed by a CA in that file.
 */
#ifndef SL_SERVER_HTTP_TLS_H
#define SL_SERVER_HTTP_TLS_H

#include <microhttpd.h>

#include "common/err.h"
#include "server/config.h"

struct http_tls;

/* Load --tls-cert and --tls-key of <cfg>.  *out is NULL when TLS is off,
 * else owned by the caller (http_tls_free()).  SL_ERR with a message in
 * <err> when a file cannot be read, is not PEM, or the key does not match
 * the certificate. */
int http_tls_load(const struct sl_config *cfg, struct http_tls **out, struct sl_err *err);

/* NULL is a no-op. */
void http_tls_free(struct http_tls *t);

/* The daemon flags TLS adds (0 when <t> is NULL). */
unsigned http_tls_flags(const struct http_tls *t);

/* The options for MHD_OPTION_ARRAY, ending in MHD_OPTION_END (only that
 * when <t> is NULL).  Borrowed for the life of <t>. */
struct MHD_OptionItem *http_tls_options(struct http_tls *t);

#endif
