/*
 * accesslog_conn.h - connection logs as ALB writes them: one line per TLS
 * connection attempt on an HTTPS listener, in ALB's documented order (AWS
 * "Connection log entries"; Athena's documented RegexSerDe parses it):
 *
 *   time client_ip client_port listener_port tls_protocol tls_cipher
 *   tls_handshake_latency "leaf_client_cert_subject"
 *   leaf_client_cert_validity leaf_client_cert_serial_number
 *   tls_verify_status conn_trace_id
 *
 * The lines go through the access log's rings and writer (accesslog.h) to
 * the load balancer's connection log sink ("conn_log_" files).
 *
 * Caveats:
 *  - There is no mutual TLS: the three leaf_client_cert fields are "-".
 *  - tls_verify_status is "Success" for a finished handshake and
 *    "Failed:UnmappedConnectionError" (ALB's code for a failure that is not
 *    a client certificate's) for one that failed or that the client left;
 *    protocol and cipher are then "-".
 *  - conn_trace_id is the connection's: its access log lines carry the same.
 */
#ifndef SL_PROXY_ACCESSLOG_CONN_H
#define SL_PROXY_ACCESSLOG_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct px_conn;

struct pxa_conn_fields {
    struct timespec time;          /* the handshake ended (or failed) */
    const char *client_ip;
    int client_port, listener_port;
    const char *protocol, *cipher; /* NULL: "-" */
    int64_t latency_us;            /* < 0: "-" */
    int ok;                        /* the handshake finished */
    const char *conn_trace_id;     /* NULL: "-" */
};

/* The line for <f> with its '\n' into <out> (<cap> >= 256 bytes). Returns
 * its length.  Pure; thread-safe. */
size_t pxa_conn_format(char *out, size_t cap, const struct pxa_conn_fields *f);

/* Accepted HTTPS connection <c> (its TLS stream set up): when its
 * listener's load balancer writes connection logs, its handshake's line is
 * logged when the handshake ends.  The worker's thread. */
void pxa_conn_watch(struct px_conn *c);

/* <c>'s conn_trace_id ("TID_" and 16 hex digits), made on first use. */
const char *pxa_conn_trace(struct px_conn *c);

#endif
