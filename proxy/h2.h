/*
 * h2.h - HTTP/2 to clients (nghttp2's framer), on HTTPS listeners whose
 * ALPN chose h2.
 *
 * A client connection that negotiated h2 becomes a session (state S_H2;
 * client.c calls in here).  Each request stream runs as a px_conn of its
 * own over a stream transport (struct px_io_ops with no socket): its head
 * is written as an HTTP/1.1 request into that connection's input, its body
 * follows as the client sends DATA, and what the connection writes back -
 * the HTTP/1.1 response head and the unframed body - becomes HEADERS and
 * DATA.  So routing, balancing, retries, timeouts, drains and the proxy's
 * own answers are the HTTP/1.1 code's, and targets are spoken to in
 * HTTP/1.1 (as ALB does).  Apache's mod_http2 works the same way.
 *
 * Caveats:
 *  - A stream's request obeys HTTP/1.1's limits: its head is parsed by
 *    http1.c (431 past 64 KiB or 128 fields, 400 for what it refuses).
 *    Header fields are validated by nghttp2 first (RFC 9113: lowercase
 *    names, no connection-specific fields, no CR/LF/NUL).
 *  - Flow control is backpressure both ways: a stream's DATA is
 *    acknowledged (WINDOW_UPDATE) only as its connection reads it on to the
 *    target, so a client can have at most a stream window (256 KiB) per
 *    stream and a connection window (1 MiB) in total unread; a response is
 *    read from the target only while the stream's buffer (64 KiB) has room,
 *    and that drains only as the client's window allows.
 *  - Floods are bounded: at most 128 concurrent streams; RST_STREAM at
 *    most 100 a second (CVE-2023-44487, rapid reset; nghttp2's own limit,
 *    200 at once then 33 a second, behind it); PING and SETTINGS at most 50
 *    a second each and empty DATA frames 100 a second (CVE-2019-9512/9515/
 *    9518); at most 8 CONTINUATION frames per header block (CVE-2024-27983,
 *    nghttp2's limit); over any of them the session ends with GOAWAY
 *    ENHANCE_YOUR_CALM.
 *  - One worker thread per session, nothing locked.
 */
#ifndef SL_PROXY_H2_H
#define SL_PROXY_H2_H

struct px_conn;

/* <c>'s TLS handshake chose h2: make it a session (c->state S_H2) and feed
 * it the bytes already read.  PX_STEP_PROGRESS, or SL_EIO (close). */
int px_h2_start(struct px_conn *c);

/* One step of session <c>: read what came, run the streams that can move,
 * queue what is to be written in c->to_cl.  PX_STEP_*, or SL_EIO (close). */
int px_h2_step(struct px_conn *c);

/* Whether session <c> wants to read its socket. */
int px_h2_wants_read(const struct px_conn *c);

/* The idle timer of session <c> fired: 1 when it is to close (no stream
 * open), 0 to wait again. */
int px_h2_idle(struct px_conn *c);

/* End session <c>: its streams' connections close, the session is freed
 * (px_conn_close()). */
void px_h2_free(struct px_conn *c);

#endif
