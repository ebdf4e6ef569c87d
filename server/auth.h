/*
 * auth.h - sluiced's authentication: an AWS shared-credentials file of key
 * pairs (and optional REST bearer tokens), and SigV4 header verification
 * that matches what botocore / the AWS CLI sign.
 *
 * Caveats:
 * - Only the Authorization-header form of SigV4 (AWS4-HMAC-SHA256) is
 *   verified; presigned URLs (X-Amz-Signature in the query), SigV4a and
 *   chunked S3 payloads are not, and come back as MissingAuthenticationToken
 *   or XAmzContentSHA256Mismatch.
 * - <path> in struct auth_request must be the path exactly as it arrived,
 *   still percent-encoded: for non-S3 services SigV4 encodes that string a
 *   second time (botocore's `_normalize_url_path`), so a decoded path does
 *   not verify.  The query may be any consistent percent-encoding ('+' is
 *   read as a space); it is decoded and re-encoded the AWS way.
 * - X-Amz-Security-Token is covered by the signature when sent but is not
 *   checked against anything: sluice has no STS, the key pair is what counts.
 * - When X-Amz-Content-SHA256 is sent, it must equal the SHA-256 of the body
 *   (UNSIGNED-PAYLOAD is refused), so a signed header cannot vouch for a body
 *   that was swapped after signing.
 * - The scope's region and service are reported, not enforced; callers that
 *   care compare struct auth_identity against what they serve.
 * - Header values are trimmed on ASCII whitespace only (botocore's
 *   str.split() also knows Unicode spaces; no SDK sends those).
 * - A loaded struct auth_creds is read-only: every function here may be
 *   called from many threads at once without locking.
 */
#ifndef SL_SERVER_AUTH_H
#define SL_SERVER_AUTH_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

/* Allowed distance between X-Amz-Date (or Date) and the server clock. */
#define AUTH_MAX_SKEW_SECONDS (15 * 60)

struct auth_creds; /* opaque: the key pairs of one credentials file */

/* A request header as received; <name> in any case, a name may repeat. */
struct auth_header {
    const char *name;
    const char *value;
};

/* The parts of an HTTP request SigV4 covers.  Everything is borrowed for the
 * duration of the call. */
struct auth_request {
    const char *method; /* "POST" */
    const char *path;   /* raw path as sent, percent-encoding intact: "/v1/a%20b" */
    const char *query;  /* raw query after '?'; NULL or "" when none */
    const struct auth_header *headers;
    size_t nheaders;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    time_t now; /* the server clock, for the skew check */
};

/* Who a request was signed by.  For bearer tokens region and service are
 * empty. */
struct auth_identity {
    char access_key[128];
    char region[32];
    char service[64];
};

/* Read the AWS shared-credentials file at <path> into *out.
 *
 * Accepts `[name]` and `[profile name]` sections, `key = value` (or
 * `key: value`) lines with any whitespace around key and value, `#` and `;`
 * comment lines, blank lines, CRLF endings and a UTF-8 BOM.  Keys are
 * case-insensitive.  Per section it takes aws_access_key_id,
 * aws_secret_access_key and the optional sluice_api_token; other keys
 * (region, aws_session_token, ...) are ignored, and a section with none of
 * the three is skipped.
 *
 * Rejects, with "path:line: why" in <errbuf>: a section with only one of key
 * id / secret, a token without a key pair, a key line outside a section, a
 * line that is neither section, comment nor key = value, a key repeated in a
 * section or a section repeated, an access key id reused across sections, a
 * token reused across sections, and a file without any key pair.
 *
 * Returns SL_OK and a struct the caller frees with auth_free(), or SL_ERR
 * (SL_ENOMEM, SL_EIO) with *out set to NULL. */
int auth_load(const char *path, struct auth_creds **out, char *errbuf, size_t errlen);

/* auth_load() from memory: <text> of <len> bytes, <origin> names it in
 * messages.  Same rules and ownership; a fuzzing and test entry point. */
int auth_parse(const char *text, size_t len, const char *origin, struct auth_creds **out,
               char *errbuf, size_t errlen);

/* Release <c> and wipe its secrets.  NULL is a no-op. */
void auth_free(struct auth_creds *c);

/* Number of key pairs (sections with credentials) in <c>; 0 for NULL. */
size_t auth_count(const struct auth_creds *c);

/* The secret for <access_key_id>, or NULL if unknown.  Borrowed: valid until
 * auth_free(c). */
const char *auth_secret_for(const struct auth_creds *c, const char *access_key_id);

/* Verify the SigV4 Authorization header of <r> against the key pairs in <c>,
 * using the request's own SignedHeaders list.
 *
 * Returns SL_OK and fills *out (may be NULL) with the access key id and the
 * credential scope's region and service.  Otherwise SL_ERR with <err> (may be
 * NULL) set to the AWS error, status 403 unless said:
 *   MissingAuthenticationToken  no Authorization header, or not AWS4-HMAC-SHA256
 *   IncompleteSignature         malformed: missing Credential / SignedHeaders /
 *                               Signature, bad scope shape, host not signed,
 *                               neither X-Amz-Date nor Date present
 *   InvalidClientTokenId        access key id not in <c>
 *   RequestExpired              the date is unparseable or more than
 *                               AUTH_MAX_SKEW_SECONDS away from r->now
 *   SignatureDoesNotMatch       wrong signature, scope date != request date,
 *                               a signed header absent from the request
 *   XAmzContentSHA256Mismatch   (400) X-Amz-Content-SHA256 is not the body's hash
 *   InternalFailure             (500) out of memory or a crypto failure
 * Signatures are compared in constant time.  Thread-safe. */
int auth_verify_sigv4(const struct auth_creds *c, const struct auth_request *r,
                      struct auth_identity *out, struct sl_err *err);

/* Check a REST bearer token (the text after "Bearer ", surrounding blanks
 * ignored) against every section's sluice_api_token in constant time.
 * Returns SL_OK and fills *out (may be NULL) with that section's access key
 * id, or SL_ERR.  Thread-safe. */
int auth_verify_bearer(const struct auth_creds *c, const char *token, struct auth_identity *out);

#endif
