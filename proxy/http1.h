/*
 * http1.h - strict, zero-copy, restartable HTTP/1.1 head parsers (request and
 * response) and chunked-body decoder for the data plane.
 *
 * Caveats:
 * - Nothing is allocated or copied.  Every `const char *` in the structs
 *   below points into the caller's buffer and is valid only while that buffer
 *   holds the same bytes at the same address as in the call that filled it.
 * - Restartable: zero a struct h1_scan before the first call for a message
 *   and pass it again with the grown buffer after each read.  Only offsets are
 *   kept between calls, so the buffer may move (realloc, compaction), but the
 *   bytes already examined (scan->pos) must not change.  Each byte is scanned
 *   once and the complete head is parsed once more: a head fed a byte at a
 *   time costs O(n).  Malformed lines are refused as soon as their CRLF (or
 *   the byte that breaks a limit) arrives, not when the head completes.
 * - Strict on purpose (request smuggling, RFC 9112): a refused request must be
 *   answered with *http_status and "Connection: close", and the connection
 *   closed; the framing of whatever follows cannot be trusted.  Refused:
 *   bare CR, bare LF, obs-fold, whitespace before ':', CTLs in values,
 *   non-token names/methods, CL+TE, bad or duplicate Content-Length (even
 *   identical duplicates, "5, 5" included), TE on HTTP/1.0, TE not ending in
 *   chunked or naming chunked twice, missing (1.1) or duplicate Host.
 * - Only the "chunked" transfer coding is implemented: a request whose TE
 *   ends in chunked but applies another coding first gets 501 (RFC 9112 6.1).
 * - A well-formed version other than HTTP/1.0 and HTTP/1.1 gets 505.
 * - Host and absolute-form/authority-form authorities are restricted to
 *   letters, digits, '-', '.', '_' or a bracketed IP literal, with an
 *   optional non-empty decimal port <= 65535; an empty host is refused
 *   (RFC 9110 4.2.1).  With absolute-form, req->host is the target's
 *   authority and the Host field is ignored (RFC 9112 3.2.2): a forwarder
 *   must send req->host as Host.
 * - Framing is derived, never trusted downstream: a forwarder must re-frame
 *   and drop hop-by-hop fields (h1_is_hop_by_hop), never copy
 *   Content-Length/Transfer-Encoding verbatim.
 * - Responses come from our own targets but are parsed as strictly; a
 *   refused response (H1_ERROR) maps to 502.  A response Transfer-Encoding
 *   other than exactly chunked is refused rather than read until close.
 * - Chunk extensions and trailer fields are validated, bounded and discarded.
 * - Thread-safety: no shared state; distinct objects may be used from
 *   different threads, one object from one thread at a time.
 */
#ifndef SL_PROXY_HTTP1_H
#define SL_PROXY_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define H1_MAX_HEADERS       128   /* field lines per head; 431 beyond */
#define H1_MAX_LINE          16384 /* start line or one field line, CRLF excluded */
#define H1_MAX_REQUEST_HEAD  65536 /* whole request head incl. the blank line; 431 */
#define H1_MAX_RESPONSE_HEAD 32768 /* whole response head (ALB's quota) */
#define H1_MAX_CHUNK_LINE    4096  /* chunk-size line with extensions and CRLF */
#define H1_MAX_TRAILER       16384 /* trailer section bytes incl. final CRLF */
#define H1_MAX_TRAILERS      64    /* trailer field lines */

enum {
    H1_ERROR = SL_ERR,         /* refuse: malformed or over a limit */
    H1_INCOMPLETE = SL_EAGAIN, /* need more bytes */
    H1_DONE = 1,               /* h1_chunked_decode: body complete */
};

enum h1_target_form {
    H1_TARGET_ORIGIN = 0, /* "/path?query" */
    H1_TARGET_ABSOLUTE,   /* "http://host[:port]/path?query" (http, https) */
    H1_TARGET_AUTHORITY,  /* "host:port", CONNECT only */
    H1_TARGET_ASTERISK,   /* "*", OPTIONS only */
};

struct h1_header {
    const char *name; /* a token, case as received */
    size_t name_len;
    const char *value; /* leading and trailing SP/HTAB removed; may be empty */
    size_t value_len;
};

/*
 * Deviations from RFC 9112 that a request parse may tolerate instead of
 * refusing (ALB's desync mitigation modes decide which: proxy/desync.h).
 * Each has one normalization, so what is forwarded is always compliant:
 */
enum {
    H1_DEV_BARE_LF = 1u << 0,   /* LF alone ends a line (never CR alone) */
    H1_DEV_HDR_CTL = 1u << 1,   /* a CTL other than NUL, CR, LF in a field value */
    H1_DEV_HDR_NAME = 1u << 2,  /* a field name of bytes outside tchar (whitespace
                                 * before ':' included; not NUL, CR, LF): kept in
                                 * headers[] for classification, never forwarded */
    H1_DEV_EMPTY_NAME = 1u << 3, /* a field line with an empty name: dropped */
    H1_DEV_NO_COLON = 1u << 4,  /* a field line without ':': dropped */
    H1_DEV_OBS_FOLD = 1u << 5,  /* obs-fold: the value then spans lines; a
                                 * forwarder writes each CRLF+SP run as one SP */
    H1_DEV_URI_SPACE = 1u << 6, /* SP in the request-target (it runs to the last
                                 * SP of the line); forwarded percent-encoded */
    H1_DEV_URI_CHARS = 1u << 7, /* a CTL (not NUL), '#' or a byte >= 0x80 in the
                                 * request-target; forwarded percent-encoded */
    H1_DEV_VERSION = 1u << 8,   /* HTTP/1.2-1.9 (served as 1.1), or SP after it */
    H1_DEV_DUP_CL = 1u << 9,    /* Content-Length repeated with the same value */
    H1_DEV_TE_CL = 1u << 10,    /* Transfer-Encoding and Content-Length: TE frames
                                 * the body, CL is dropped; close after */
    H1_DEV_TE_HTTP10 = 1u << 11, /* Transfer-Encoding in an HTTP/1.0 request:
                                  * chunked framing; close after */
};

/* What made a request head fail (h1_scan.fault), for classification. */
enum h1_fault {
    H1_F_NONE = 0,
    H1_F_DEVIATION,    /* a deviation not tolerated: h1_scan.refused says which */
    H1_F_BAD_HEADER,   /* NUL, bare CR or LF in a field line */
    H1_F_BAD_URI,      /* NUL or bare CR in the request line's target */
    H1_F_BAD_METHOD,   /* not a token */
    H1_F_BAD_VERSION,  /* malformed */
    H1_F_HTTP09,       /* no version: an HTTP/0.9 request line */
    H1_F_NO_URI,       /* no request-target */
    H1_F_MULTI_CL,     /* Content-Length fields with different values */
    H1_F_BAD_CL,       /* a Content-Length that is not one decimal number */
    H1_F_MULTI_CHUNKED, /* chunked applied more than once */
    H1_F_BAD_TE,       /* a transfer coding nobody knows */
    H1_F_OTHER,        /* any other refusal: Host, size limits, target forms, codings */
};

/* Caller-owned progress of one head; zero it before each new message. */
struct h1_scan {
    size_t pos;        /* bytes of the buffer already examined */
    size_t line_start; /* offset of the line being examined */
    size_t lines;      /* complete lines so far, start line included */
    size_t fields;     /* field lines kept so far (folds and dropped lines aside) */
    unsigned dev;      /* H1_DEV_* tolerated so far */
    int fault;         /* after H1_ERROR: enum h1_fault */
    unsigned refused;  /* after H1_ERROR with H1_F_DEVIATION: the H1_DEV_* bit */
};

struct h1_request {
    const char *method;
    size_t method_len;
    const char *target; /* the request-target as received */
    size_t target_len;
    enum h1_target_form form;
    const char *path; /* path and query: origin-form target, the part of an
                       * absolute-form target after its authority (empty or
                       * starting with '?': forward with a '/' in front),
                       * "*" for asterisk-form, NULL for CONNECT */
    size_t path_len;
    int minor_version; /* 0 or 1 */
    struct h1_header headers[H1_MAX_HEADERS];
    size_t nheaders;
    /* Derived framing and connection semantics. */
    int64_t content_length; /* -1 if absent: then no body unless chunked */
    int chunked;            /* body is chunked: run h1_chunked_decode */
    int keep_alive;         /* RFC 9112 9.3: 1.1 unless close, 1.0 only keep-alive */
    int expect_continue;    /* HTTP/1.1 "Expect: 100-continue" */
    int upgrade;            /* HTTP/1.1, Upgrade field and "upgrade" in Connection */
    const char *host;       /* Host field, or the target's authority for absolute-
                             * and authority-form; NULL for HTTP/1.0 without Host */
    size_t host_len;
    unsigned deviations;    /* H1_DEV_* this request was accepted with */
};

struct h1_response {
    int minor_version;  /* 0 or 1 */
    int status;         /* 100..599 */
    const char *reason; /* may be empty */
    size_t reason_len;
    struct h1_header headers[H1_MAX_HEADERS];
    size_t nheaders;
    /* Body framing, in this order of precedence: no_body means zero bytes
     * (1xx, 204, 304, reply to HEAD); else chunked; else content_length >= 0
     * bytes; else close_delimited (read until the upstream closes). */
    int no_body;
    int chunked;
    int64_t content_length; /* -1 if absent; reported even when no_body */
    int close_delimited;
    int keep_alive; /* upstream connection reusable after this response */
};

/* Restartable chunked-body decoder; zero it before each body.  Private. */
struct h1_chunked {
    int state;
    unsigned ndigits;
    uint64_t remaining; /* size being read, then data left in the chunk */
    size_t line_len;    /* bytes of the current chunk-size line */
    size_t trailer_len; /* bytes of the trailer section so far */
    size_t ntrailers;
    uint64_t body_len; /* decoded data bytes so far */
};

/*
 * Parse a request head from <buf>[0..<len>).  <scan> carries progress between
 * calls (zeroed for a new message); <req> is meaningful only on success.
 * Empty lines before the request line are skipped (RFC 9112 2.2).
 * Returns the head's length in bytes (> 0, the body or the next request
 * starts there), H1_INCOMPLETE, or H1_ERROR with *<http_status> set to 400,
 * 414 (request line over H1_MAX_LINE), 417 (Expect other than 100-continue),
 * 431 (field line, head or field count over limits), 501 (unimplemented
 * transfer coding) or 505 (well-formed version other than 1.0/1.1); the
 * caller answers it and closes.  *<http_status> is 0 unless H1_ERROR.
 * Pointers in <req> borrow from <buf>.
 */
int h1_parse_request(const char *buf, size_t len, struct h1_scan *scan, struct h1_request *req,
                     int *http_status);

/*
 * h1_parse_request() tolerating the deviations in <tolerate> (H1_DEV_*, the
 * same in every call for one head): each one met is recorded in
 * req->deviations instead of failing the head.  On H1_ERROR, scan->fault
 * (and scan->refused for a deviation not tolerated) says what was wrong.
 * Everything outside <tolerate> stays as strict as h1_parse_request().
 */
int h1_parse_request_tol(const char *buf, size_t len, struct h1_scan *scan, unsigned tolerate,
                         struct h1_request *req, int *http_status);

/*
 * Parse an upstream response head from <buf>[0..<len>), restartable through
 * <scan> like h1_parse_request.  <head_request> is non-zero when the request
 * was HEAD (so the response has no body whatever its fields say).  Returns
 * the head's length (> 0), H1_INCOMPLETE or H1_ERROR (answer the client 502
 * and close the upstream connection).  A 1xx head is complete by itself: the
 * caller parses the next head after it.  Pointers in <res> borrow from <buf>.
 */
int h1_parse_response(const char *buf, size_t len, struct h1_scan *scan, int head_request,
                      struct h1_response *res);

/*
 * Decode a chunked body from <buf>[0..<len>), the bytes that follow those
 * already fed to <st>.  Strict: chunk sizes are 1 to 16 hex digits up to
 * INT64_MAX, no sign, "0x", "_" or whitespace; extensions must be
 * ";token[=token|quoted-string]" within H1_MAX_CHUNK_LINE; trailer fields are
 * validated within H1_MAX_TRAILER/H1_MAX_TRAILERS and discarded; CRLF only.
 * Yields at most one span of body data per call, in place: *<data> points
 * into <buf> (NULL when *<data_len> is 0).  *<consumed> is how many bytes of
 * <buf> were used; call again with the rest.  Returns SL_OK (a data span was
 * yielded, maybe with bytes left), H1_INCOMPLETE (all <len> bytes consumed,
 * need more), H1_DONE (body and trailers complete; bytes after *<consumed>
 * belong to the next message) or H1_ERROR (400 for a request, 502 for a
 * response; close).  Once done or failed, it stays so.
 */
int h1_chunked_decode(struct h1_chunked *st, const char *buf, size_t len, size_t *consumed,
                      const char **data, size_t *data_len);

/*
 * Tell whether the field <name>[0..<len>) must not be forwarded: Connection,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, and
 * any field named in a Connection field of <hdrs>[0..<nhdrs>) (case-
 * insensitive).  Content-Length is end-to-end but must be regenerated by
 * the re-framing forwarder.  Returns 1 or 0.
 */
int h1_is_hop_by_hop(const struct h1_header *hdrs, size_t nhdrs, const char *name, size_t len);

/*
 * Index of the first field of <hdrs>[<from>..<nhdrs>) named <name> (NUL-
 * terminated, case-insensitive), or SL_ENOTFOUND.
 */
int h1_find_header(const struct h1_header *hdrs, size_t nhdrs, size_t from, const char *name);

#endif
