/*
 * desync.h - ALB's header hygiene: the desync mitigation mode
 * (routing.http.desync_mitigation_mode) with http_desync_guardian's
 * classes, and routing.http.drop_invalid_header_fields.
 *
 * A request is Compliant, Acceptable (not RFC 9112 but harmless),
 * Ambiguous (servers may read it differently) or Severe (its framing or
 * syntax is broken), with one reason named as ALB's access log names it
 * (classification / classification_reason).  What each mode does:
 *
 *                 monitor    defensive (default)    strictest
 *   Compliant     forward    forward                forward
 *   Acceptable    forward    forward                400, close
 *   Ambiguous     forward    forward, then close    400, close
 *                            client and target
 *   Severe        400        400, close             400, close
 *
 * Caveats:
 *  - Forwarded always means re-framed and normalized (http1.h H1_DEV_*):
 *    the target gets a compliant request whatever the client sent.
 *  - Severe requests are refused in monitor mode too, unlike ALB: each is
 *    one whose length or line structure cannot be known, which sluice will
 *    not guess at.  HTTP/0.9 and a request line without a target are
 *    refused in every mode for the same reason.
 *  - A header whose name looks like Transfer-Encoding or Content-Length
 *    but is not (SuspiciousHeader: "Transfer_Encoding", "Content-Length "),
 *    and any name that is not a token, is never forwarded: it could only
 *    make a lenient target frame the body differently.
 *  - Transfer-Encoding with Content-Length, and Transfer-Encoding in an
 *    HTTP/1.0 request, close the connection after the response in every
 *    mode, monitor included: RFC 9112 6.1 requires it of a server.
 *  - Pure functions; thread-safe.
 */
#ifndef SL_PROXY_DESYNC_H
#define SL_PROXY_DESYNC_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/http1.h"

enum px_desync_mode { PX_DSM_DEFENSIVE = 0, PX_DSM_MONITOR, PX_DSM_STRICTEST };

enum px_dsc_class { PX_DSC_COMPLIANT = 0, PX_DSC_ACCEPTABLE, PX_DSC_AMBIGUOUS, PX_DSC_SEVERE };

/* http_desync_guardian's classification reasons. */
enum px_dsc_reason {
    PX_DSR_NONE = 0,
    PX_DSR_NON_COMPLIANT_HEADER, /* Acceptable */
    PX_DSR_SPACE_IN_URI,
    PX_DSR_NON_COMPLIANT_VERSION,
    PX_DSR_GET_HEAD_ZERO_CL,
    PX_DSR_NON_CRLF,
    PX_DSR_EMPTY_HEADER, /* Ambiguous */
    PX_DSR_AMBIGUOUS_URI,
    PX_DSR_UNDEFINED_CL,
    PX_DSR_UNDEFINED_TE,
    PX_DSR_DUPLICATE_CL,
    PX_DSR_BOTH_TE_CL,
    PX_DSR_SUSPICIOUS_HEADER,
    PX_DSR_MULTILINE_HEADER,
    PX_DSR_MISSING_COLON,
    PX_DSR_MISSING_URI,
    PX_DSR_BAD_HEADER, /* Severe */
    PX_DSR_BAD_URI,
    PX_DSR_BAD_VERSION,
    PX_DSR_MULTIPLE_CL,
    PX_DSR_BAD_CL,
    PX_DSR_MULTIPLE_TE_CHUNKED,
    PX_DSR_BAD_TE,
    PX_DSR_BAD_METHOD,
    PX_DSR_COUNT
};

struct px_dsc {
    int cls;    /* enum px_dsc_class */
    int reason; /* enum px_dsc_reason; PX_DSR_NONE when compliant */
};

/* What the proxy does with a request of a class. */
enum px_dsc_verdict { PX_DSV_FORWARD, PX_DSV_FORWARD_CLOSE, PX_DSV_BLOCK };

/* The attribute's value ("monitor", "defensive", "strictest") as a mode;
 * SL_EINVAL for anything else. */
int px_desync_mode_parse(const char *s, int *mode);

/* The H1_DEV_* deviations the parser may let through in <mode>: every one
 * but in strictest mode, none. */
unsigned px_desync_tolerance(int mode);

/* The class and reason of an accepted request <r>. */
void px_desync_classify(const struct h1_request *r, struct px_dsc *out);

/* The class and reason of a request head the parser refused (<sc> after
 * H1_ERROR on <buf>[0..<len>), the bytes it was given); Compliant when the
 * refusal is not a desync matter (Host, limits). */
void px_desync_classify_refusal(const struct h1_scan *sc, const char *buf, size_t len,
                                struct px_dsc *out);

int px_desync_verdict(int mode, int cls);

/* "-" for Compliant, else "Acceptable", "Ambiguous" or "Severe". */
const char *px_desync_class_name(int cls);
/* "-" for none, else e.g. "BothTeClPresent". */
const char *px_desync_reason_name(int reason);

/* The fields of <r> not to forward, as bits of <drop> (index i is bit
 * i % 64 of drop[i / 64]): names that are not tokens, names that look like
 * Transfer-Encoding or Content-Length, and with <drop_invalid>
 * (drop_invalid_header_fields) every name with a byte outside [-A-Za-z0-9].
 * Returns how many. */
int px_desync_drop_mask(const struct h1_request *r, int drop_invalid, uint64_t drop[2]);

/* 1 when header name <p>[0..<n>) looks like <canon> ("transfer-encoding"
 * or "content-length") without being it: the same letters once case,
 * separators, whitespace and look-alike letters are set aside. */
int px_desync_looks_like(const char *p, size_t n, const char *canon);

#endif
