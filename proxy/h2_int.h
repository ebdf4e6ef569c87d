/*
 * h2_int.h - what the two halves of the HTTP/2 module share: the session
 * (h2.c: nghttp2's callbacks, the socket, floods) and the stream (h2_stream.c:
 * the transport a stream's px_conn runs over, the HTTP/1.1 request head
 * made from HEADERS, the response converted back).
 *
 * Lifetimes: a stream lives until both nghttp2 has closed it (h2_closed)
 * and its px_conn is gone (c == NULL).  Nothing calls into a px_conn from
 * inside an nghttp2 callback: streams that must be pumped or closed are put
 * on the session's ready queue, which h2.c runs between nghttp2 calls.
 */
#ifndef SL_PROXY_H2_INT_H
#define SL_PROXY_H2_INT_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/conn.h"

#define H2_STREAM_WINDOW (256 * 1024)
#define H2_CONN_WINDOW (1024 * 1024)
#define H2_MAX_STREAMS 128
#define H2_OUT_MAX (64 * 1024) /* response bytes buffered per stream */
#define H2_OUT_MIN 1024        /* ... in a buffer that starts this small */

struct px_h2s;

struct px_h2 {
    nghttp2_session *ng;
    struct px_conn *c; /* the client connection carrying the session */
    struct px_h2s *streams;
    int nstreams;
    struct px_h2s *ready, *ready_tail;
    char *obuf; /* frames for the socket, in c->to_cl while being written */
    size_t olen, ocap;
    int goaway_sent, freeing;
    /* flood accounting, per second */
    uint64_t win_start;
    int pings, settings, empties, resets;
};

struct px_h2s {
    struct px_h2 *h;
    int32_t id;
    struct px_conn *c; /* the request's exchange; NULL once closed */
    struct px_h2s *next, *prev; /* h->streams */
    struct px_h2s *rnext;       /* h->ready */
    int queued, kill;           /* on the ready queue; close c when run */
    int h2_closed;              /* nghttp2 closed the stream */
    /* the request head, collected from HEADERS */
    char *method, *path, *authority;
    char *fields, *cookie; /* "name: value\r\n" lines; cookie crumbs "; "-joined */
    size_t flen, fcap, clen, ccap, hbytes;
    int over, has_cl, is_head, started;
    /* the request body from DATA, chunk-framed when no content-length */
    char *in;
    size_t in_off, in_len, in_cap;
    size_t unconsumed; /* DATA bytes not yet acknowledged to the peer */
    int chunked, in_end;
    int want; /* what c waits for (EV_READ/EV_WRITE) */
    /* the response */
    int head_done, deferred, out_eof;
    int64_t res_left; /* body bytes still to come, -1 unknown */
    char *out;
    size_t out_off, out_len, out_cap;
};

/* ---- h2_stream.c ---- */

/* A stream for HEADERS opening <id> (NULL when out of memory). */
struct px_h2s *h2s_new(struct px_h2 *h, int32_t id);
void h2s_free(struct px_h2s *s);
/* One header field of the request (or of trailers, ignored). */
void h2s_header(struct px_h2s *s, const uint8_t *name, size_t nlen, const uint8_t *value,
                size_t vlen);
/* The request head is complete (<end>: no body follows): make the
 * stream's px_conn, or answer a head over the limits with 431.  0, or -1
 * (reset the stream). */
int h2s_begin(struct px_h2s *s, int end);
/* DATA for the request body, and its end. */
void h2s_data(struct px_h2s *s, const uint8_t *data, size_t len);
void h2s_end(struct px_h2s *s);
/* nghttp2 closed the stream. */
void h2s_closed(struct px_h2s *s);
/* Run <s> (pump or close its connection) in the session's next step (h2.c
 * runs the queue). */
void h2_ready(struct px_h2s *s);
/* The session has frames to send: pump it before the loop sleeps. */
void h2_kick(struct px_h2 *h);

#endif
