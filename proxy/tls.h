/*
 * tls.h - the proxy's TLS configuration objects: parsed certificates, a
 * listener's server context (security policy, ALPN, certificates chosen by
 * SNI), and the one client context for HTTPS targets.  The byte streams
 * that use them are io_tls.h's.
 *
 * Caveats:
 *  - Built by the subscription thread (model.c) from the feed, immutable once
 *    built, reference counted, used by every worker: an OpenSSL SSL_CTX is
 *    safe to share for SSL_new().  A connection holds a reference on its
 *    listener's context for its whole life, so the SNI and ALPN callbacks
 *    always find the context they were set up with; a rebuilt context (a
 *    re-imported certificate, a changed policy) serves new handshakes only.
 *  - SNI as ALB: a certificate whose name (subjectAltName dNSName, else the
 *    subject CN) equals the server name, case-insensitive; else one whose
 *    wildcard "*.rest" matches a single leftmost label; else the listener's
 *    default.  When both an ECDSA and an RSA certificate match at the best
 *    level, both are offered and OpenSSL picks the one the client can use
 *    (ECDSA first).
 *  - Policies with TLS 1.0 or 1.1 run at OpenSSL security level 0: Debian
 *    12's OpenSSL 3.0 refuses those versions (SHA-1 signatures) at any
 *    higher level.  Ciphers this OpenSSL does not build (3DES) are left out
 *    and logged once per context.
 *  - ALPN: None (the default) offers h2 then http/1.1 when routing.http2
 *    is enabled (what ALB does), http/1.1 alone when not; HTTP1Only,
 *    HTTP2Optional and HTTP2Preferred are AWS's lists; HTTP2Only refuses a
 *    client that offers ALPN without h2 (alert no_application_protocol)
 *    and takes one that offers no ALPN as speaking h2.  With routing.http2
 *    disabled no list includes h2.
 *  - HTTPS targets are not verified (as ALB); sessions are resumed per
 *    target (px_target.tls_sess).
 */
#ifndef SL_PROXY_TLS_H
#define SL_PROXY_TLS_H

#include <stddef.h>

#include "common/err.h"
#include "common/tls_policy.h"

struct px_target;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

struct px_cert;
struct px_tls_srv;

/* Parse a certificate: the leaf <cert_pem>, the intermediates <chain_pem>
 * (NULL or "" for none) and the key <key_pem> (PKCS#8 or traditional), the
 * key matching the leaf.  *out has one reference.  0, SL_EINVAL with the
 * reason in <err>, or SL_ENOMEM. */
int px_cert_new(const char *cert_pem, const char *chain_pem, const char *key_pem,
                struct px_cert **out, struct sl_err *err);
/* Name <c> by its ACM certificate ARN (copied; before <c> is shared). */
void px_cert_set_arn(struct px_cert *c, const char *arn);
void px_cert_ref(struct px_cert *c);
void px_cert_release(struct px_cert *c); /* NULL is a no-op */

/* A listener's server context: <policy>, AlpnPolicy <alpn> (enum px_alpn),
 * <http2> (routing.http2.enabled), the certificates <certs>[0..<n>), the
 * default first (borrowed: the context takes its own references).  *out
 * has one reference.  0, SL_EINVAL (<err>: a policy or certificate OpenSSL
 * refused) or SL_ENOMEM. */
int px_tls_srv_new(const struct tls_policy *policy, int alpn, int http2,
                   struct px_cert *const *certs, int n, struct px_tls_srv **out,
                   struct sl_err *err);
void px_tls_srv_ref(struct px_tls_srv *s);
void px_tls_srv_release(struct px_tls_srv *s); /* NULL is a no-op */

/* A new server-side SSL for an accepted connection (NULL on failure). */
SSL *px_tls_srv_ssl(struct px_tls_srv *s);
/* The ARN of the certificate handshaken <ssl> (of <s>) presented, as the
 * access log's chosen_cert_arn: "session-reused" for a resumed session,
 * NULL when it has none.  Valid while <s> lives. */
const char *px_tls_srv_chosen_arn(const struct px_tls_srv *s, SSL *ssl);
/* HTTP2Only: the connection speaks h2 even without ALPN. */
int px_tls_srv_h2_only(const struct px_tls_srv *s);

/* A new client-side SSL for a connection to HTTPS target <t>, resuming its
 * last session when there is one (NULL on failure).  Thread-safe. */
SSL *px_tls_client_ssl(struct px_target *t);

/* The handshake of a client-side SSL finished: a resumed TLS 1.2 session
 * is kept for the next connection (a TLS 1.3 one arrives as a new ticket). */
void px_tls_client_handshaken(SSL *ssl);

/* Free a session stored in a px_target (table.c, at the last release). */
void px_tls_session_free(void *sess);

#endif
