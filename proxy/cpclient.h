/*
 * cpclient.h - the proxy's HTTP/1.1 client to the control plane (sluiced):
 * blocking sockets with timeouts, used by the subscription and the
 * reporter threads, never by a worker.
 *
 * Caveats:
 *  - Responses are parsed with the data plane's strict parser (http1.h);
 *    a response the parser refuses is an error like a lost connection.
 *  - A struct px_cp_resp owns its socket and buffer: px_cp_resp_close().
 *  - https://: TLS with the control plane's certificate verified (the CA
 *    given with px_cp_tls_init(), else the system's) and its name checked
 *    against HOST (an IP address against the certificate's IP SANs).  The
 *    context is shared by the threads that use the client; OpenSSL's
 *    SSL_CTX allows that.
 */
#ifndef SL_PROXY_CPCLIENT_H
#define SL_PROXY_CPCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proxy/http1.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

struct px_cp_cfg {
    char host[256];
    int port;
    int tls;      /* https:// */
    SSL_CTX *ctx; /* https: from px_cp_tls_init(), owned by the caller */
    char token[512]; /* bearer token, empty for none */
    char proxy_id[129];
};

/* Parse "http://HOST:PORT", "https://HOST:PORT" (443 by default) or
 * "HOST[:PORT]" into <cfg>.  0 or SL_EINVAL. */
int px_cp_parse_url(const char *url, struct px_cp_cfg *cfg);

/* The TLS context for an https:// control plane: peers verified against
 * the PEM CA bundle <ca_file>, or the system's trust store when NULL.  0,
 * or SL_EINVAL with the reason in <err>. */
int px_cp_tls_init(struct px_cp_cfg *cfg, const char *ca_file, struct sl_err *err);

/* Whether <host> is a loopback address or name (tokens may cross it in
 * plain HTTP without warning). */
int px_cp_host_is_loopback(const char *host);

/* A response being read from a blocking socket. */
struct px_cp_resp {
    int fd;
    SSL *ssl; /* https */
    char *buf;
    size_t len, cap, off; /* off: first unconsumed byte after the head */
    struct h1_response r;
    struct h1_chunked ch;
    int64_t left; /* Content-Length bytes left, -1 for chunked/close */
    int done;
};

/* Connect to the control plane with send/receive timeouts of <timeout_s>
 * and send the request: *rs owns the socket on success.  <body> may be NULL
 * (an empty JSON body).  0 or SL_EIO. */
int px_cp_open(const struct px_cp_cfg *cfg, int timeout_s, const char *method, const char *path,
               const char *body, struct px_cp_resp *rs);

/* Read the response head (1xx skipped).  0 or SL_EIO. */
int px_cp_read_head(struct px_cp_resp *rs);

/* The next piece of body, borrowed from rs's buffer until the next call:
 * 1 with *data and *n set, 0 at the end, SL_EIO on error or a lost
 * connection. */
int px_cp_read_body(struct px_cp_resp *rs, const char **data, size_t *n);

/* Close the socket and free the buffer; *rs is zeroed (fd -1). */
void px_cp_resp_close(struct px_cp_resp *rs);

/* Shut the socket of <fd> down from another thread, so that a blocked read
 * returns (stop). */
void px_cp_abort(int fd);

/* A whole request: *status and the body (NUL-terminated, caller frees with
 * free(); <out> may be NULL to drop it).  0, SL_EIO or SL_ENOMEM. */
int px_cp_request(const struct px_cp_cfg *cfg, const char *method, const char *path,
                  const char *body, int *status, char **out, size_t *out_len);

#endif
