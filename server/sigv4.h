/*
 * sigv4.h - AWS Signature Version 4 over the Authorization header, in three
 * steps so the server can refuse a request from its head alone and check
 * the signature once the body is in:
 *   sigv4_parse()            header only: scheme, Credential, SignedHeaders,
 *                            Signature, the request date and its scope
 *   sigv4_check_skew()       the date against the server clock
 *   sigv4_check_signature()  the canonical request, body included
 * Who the key belongs to (the secret) is the caller's business (auth.c).
 *
 * Caveats:
 * - See auth.h for what is and is not verified (presigned URLs, SigV4a,
 *   UNSIGNED-PAYLOAD, session tokens, trimming).
 * - struct sigv4_auth's spans point into the Authorization header value of
 *   the request it was parsed from: valid as long as that request.
 * - Everything here is reentrant and thread-safe.
 */
#ifndef SL_SERVER_SIGV4_H
#define SL_SERVER_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "server/auth.h"

#define SIGV4_MAX_SIGNED_HEADERS 128
#define SIGV4_AMZ_DATE_LEN       16 /* 20261124T085322Z */

struct sigv4_span {
    const char *p;
    size_t n;
};

/* A parsed Authorization header and the request date it is checked against. */
struct sigv4_auth {
    struct sigv4_span credential, signed_headers, signature;
    struct sigv4_span names[SIGV4_MAX_SIGNED_HEADERS];
    size_t nnames;
    char key[128]; /* access key id from the scope */
    char date[9];  /* scope date, yyyymmdd */
    char region[32];
    char service[64];
    char amz_date[SIGV4_AMZ_DATE_LEN + 1]; /* X-Amz-Date, or Date rewritten */
    time_t t;                              /* the same as a time */
};

/* Parse and check everything of <r>'s signature that needs no secret and no
 * body: exactly one Authorization header of scheme AWS4-HMAC-SHA256 with
 * Credential (5 parts, a yyyymmdd date, terminator aws4_request),
 * SignedHeaders (host among them, no repeats) and Signature; an X-Amz-Date
 * or Date header that parses; the scope date equal to the request's.
 * Returns SL_OK with *a filled, or SL_ERR with <err> set as
 * auth_verify_sigv4() documents (MissingAuthenticationToken,
 * IncompleteSignature, InvalidClientTokenId for an unusable key id,
 * RequestExpired for an unparseable date, SignatureDoesNotMatch for a scope
 * date mismatch). */
int sigv4_parse(const struct auth_request *r, struct sigv4_auth *a, struct sl_err *err);

/* RequestExpired unless <a>'s date is within AUTH_MAX_SKEW_SECONDS of <now>. */
int sigv4_check_skew(const struct sigv4_auth *a, time_t now, struct sl_err *err);

/* Rebuild <r>'s canonical request under <a> and compare the signature made
 * with <secret> (NULL: InvalidClientTokenId) in constant time; then check a
 * sent X-Amz-Content-SHA256 against the body.  SL_OK or SL_ERR with <err>:
 * SignatureDoesNotMatch (also for a signed header missing from <r>),
 * XAmzContentSHA256Mismatch (400), InternalFailure (500). */
int sigv4_check_signature(const struct sigv4_auth *a, const char *secret,
                          const struct auth_request *r, struct sl_err *err);

#endif
