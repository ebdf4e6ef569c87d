/*
 * docker.h - a small Docker Engine API client (v1.41): one HTTP/1.1 request
 * per connection over a unix socket (or plain TCP), the response framed by
 * the data plane's strict parser (proxy/http1.h), bodies buffered or handed
 * to a sink, and long-lived streams (GET /events) read without blocking.
 * Works against Docker Engine and Podman's Docker-compatible service.
 *
 * Caveats:
 * - Blocking: docker_call() waits for the engine, up to its timeout.  Engine
 *   calls take 0.03-0.5 s, so callers on latency-sensitive threads (the
 *   scheduler) must not make them; the docker runtime runs them on its own
 *   worker threads.
 * - The engine is trusted as the local administrator is, but its bytes are
 *   still parsed strictly: a malformed response is an error, never a crash,
 *   and buffered bodies stop at DOCKER_MAX_BODY.
 * - TLS (tcp:// with DOCKER_TLS_VERIFY) is not supported: unix:// and plain
 *   tcp:// only.
 * - A stream (docker_stream_open) gets no response head until the engine
 *   has something to send: GET /events sends no headers before its first
 *   event, so a stream must never time out waiting for them.
 * - Thread-safety: a struct docker is read-only after docker_new() and may be
 *   shared by threads; each call uses its own connection.  A stream belongs
 *   to one thread.
 */
#ifndef SL_SERVER_DOCKER_H
#define SL_SERVER_DOCKER_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

#define DOCKER_API "/v1.41"
#define DOCKER_MAX_BODY (16u << 20)

struct docker;

/* Parse <host> ("unix:///path", "tcp://HOST:PORT", or a bare absolute socket
 * path) into *out (free with docker_free).  SL_OK, or SL_EINVAL with <err>. */
int docker_new(const char *host, struct docker **out, struct sl_err *err);

void docker_free(struct docker *d);

/* The host string docker_new() was given (borrowed). */
const char *docker_host(const struct docker *d);

/* Receives a response body piece by piece; returns 0 to go on, -1 to stop
 * (the call then fails with SL_ERR). */
typedef int (*docker_sink)(void *arg, const char *data, size_t len);

struct docker_req {
    const char *method;     /* "GET", "POST", "DELETE" */
    const char *path;       /* after the API prefix: "/containers/json?all=1" */
    const char *body;       /* may be NULL */
    size_t body_len;
    const char *ctype;      /* Content-Type of <body>; NULL: application/json */
    const char *extra;      /* extra header lines, each ending "\r\n"; may be NULL */
    int timeout_ms;         /* whole exchange */
    docker_sink sink;       /* NULL: buffer the body into <out_body> */
    void *sink_arg;
    int cancel_fd;          /* > 0: the call gives up once this fd is readable */
    int *status_early;      /* may be NULL: set to the status before any body byte
                             * reaches <sink>, so it can tell an error body apart */
};

/* One request and its response.  SL_OK with *<status> and, without a sink,
 * the body in <out_body> (caller-initialised buf, appended to; caller frees);
 * SL_EIO when the engine cannot be reached or the exchange fails, with <err>
 * saying why. */
int docker_call(const struct docker *d, const struct docker_req *req, int *status,
                struct buf *out_body, struct sl_err *err);

/* docker_call() with a JSON body (borrowed, may be NULL) and a JSON response:
 * *<out> is the parsed body (new reference) or NULL when it is empty or not
 * JSON.  A status >= 400 is still SL_OK: the caller reads *<status> and
 * docker_message(*<out>). */
int docker_json(const struct docker *d, const char *method, const char *path, json_t *body,
                int timeout_ms, int *status, json_t **out, struct sl_err *err);

/* The engine's error text in a response body ({"message": ...}), or <dflt>. */
const char *docker_message(json_t *body, const char *dflt);

/* ---- streams ---- */

struct docker_stream;

/* Send GET <path> and return at once, before any response arrives.  The
 * stream's fd (docker_stream_fd) becomes readable as data comes. */
int docker_stream_open(const struct docker *d, const char *path, struct docker_stream **out,
                       struct sl_err *err);

int docker_stream_fd(const struct docker_stream *s);

/* Read what the socket holds without blocking and hand each complete line of
 * the body (newline-delimited JSON, the framing of /events) to <line> (NUL-
 * terminated, borrowed for the call).  SL_OK: still open; SL_EIO: closed by
 * the engine, a non-2xx status, or a framing error (<err> says which). */
int docker_stream_read(struct docker_stream *s, void (*line)(void *arg, const char *text),
                       void *arg, struct sl_err *err);

void docker_stream_close(struct docker_stream *s);

/* ---- pure helpers (also fuzzed) ---- */

/* Demultiplexer for GET /containers/{id}/logs of a container without a TTY:
 * frames of [stream (1 stdin, 1 stdout, 2 stderr), 0, 0, 0, length (4 bytes
 * big-endian)] then the payload.  Restartable across calls; zero it first. */
struct docker_demux {
    unsigned char hdr[8];
    size_t hdr_len;
    size_t left; /* payload bytes left in the current frame */
    int stream;
    int bad;     /* a malformed header was seen: everything after is dropped */
};

/* Feed <data>[0..<len>); each payload span goes to <out>(arg, stream, p, n)
 * with stream 1 (stdout) or 2 (stderr).  Returns SL_OK, or SL_EINVAL once a
 * header is malformed (stream byte other than 0-2 or non-zero padding). */
int docker_demux_feed(struct docker_demux *dm, const char *data, size_t len,
                      void (*out)(void *arg, int stream, const char *p, size_t n), void *arg);

/* Split an image reference into the fromImage and tag parameters of
 * POST /images/create: "repo:tag" -> ("repo", "tag"), "repo" -> ("repo",
 * "latest"), "host:5000/repo" -> ("host:5000/repo", "latest"), "repo@sha256:x"
 * -> ("repo@sha256:x", "").  Also the registry host for credentials
 * ("docker.io" when the first part has no '.', ':' and is not "localhost").
 * SL_OK, or SL_EINVAL when a part does not fit. */
int docker_image_ref(const char *image, char *repo, size_t rcap, char *tag, size_t tcap,
                     char *registry, size_t gcap);

#endif
