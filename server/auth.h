/*
 * auth.h - sluiced's authentication: the key pairs, REST bearer tokens and
 * roles of an AWS shared-credentials file (common/creds.h reads it), SigV4
 * header verification that matches what botocore / the AWS CLI sign
 * (sigv4.h), and the co-process's own key.
 *
 * A request is checked twice: auth_precheck() from its head alone, so a
 * request without credentials, with an unknown key or a bad bearer token is
 * refused before its body is read, then auth_verify_sigv4() with the body.
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
 * - A loaded struct auth_creds is read-only once the server runs (only
 *   auth_add_coprocess_token() changes it, before): every other function
 *   here may be called from many threads at once without locking.
 */
#ifndef SL_SERVER_AUTH_H
#define SL_SERVER_AUTH_H

#include <stddef.h>
#include <time.h>

#include "common/creds.h"
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
    enum creds_role role; /* the key's sluice_role */
};

/* Read the AWS shared-credentials file at <path> into *out: the grammar,
 * roles and refusals are creds_parse()'s (common/creds.h), with "path:line:
 * why" in <errbuf>.  A file readable or writable by other users loads, with
 * a one-line warning in <warnbuf> (empty otherwise).
 *
 * Returns SL_OK and a struct the caller frees with auth_free(), or SL_ERR
 * (SL_ENOMEM, SL_EIO) with *out set to NULL. */
int auth_load(const char *path, struct auth_creds **out, char *errbuf, size_t errlen, char *warnbuf,
              size_t warnlen);

/* auth_load() from memory: <text> of <len> bytes, <origin> names it in
 * messages.  Same rules and ownership; a fuzzing and test entry point. */
int auth_parse(const char *text, size_t len, const char *origin, struct auth_creds **out,
               char *errbuf, size_t errlen);

/* Release <c> and wipe its secrets.  NULL is a no-op. */
void auth_free(struct auth_creds *c);

/* Number of key pairs (sections with credentials, and the co-process's
 * token once added) in <c>; 0 for NULL. */
size_t auth_count(const struct auth_creds *c);

/* The secret for <access_key_id>, or NULL if unknown.  Borrowed: valid until
 * auth_free(c). */
const char *auth_secret_for(const struct auth_creds *c, const char *access_key_id);

/* Give <c> a bearer token for the sluice-proxy co-process sluiced starts,
 * role proxy, access key id "sluiced/co-process" (no file can name it), and
 * copy the token to <out> (<cap> >= 65): the one <out> holds already (64
 * lower-case hex digits: a running proxy's, supervise.h), else a fresh
 * random one.  Call before the server starts.  SL_OK, SL_EINVAL, SL_ENOMEM
 * or SL_ERR (no randomness). */
int auth_add_coprocess_token(struct auth_creds *c, char *out, size_t cap);

/* Check what <r>'s head alone can tell: with <bearer_ok> (the REST API) an
 * `Authorization: Bearer` header is verified in full here; otherwise the
 * SigV4 header is parsed, its key looked up and its date checked against
 * r->now (sigv4_parse(), sigv4_check_skew()).  r->body is not used.
 * Returns SL_OK with *out (may be NULL) filled, access key and role
 * included, or SL_ERR with <err> as auth_verify_sigv4() documents
 * (InvalidClientTokenId also for a wrong bearer token).  Thread-safe. */
int auth_precheck(const struct auth_creds *c, const struct auth_request *r, int bearer_ok,
                  struct auth_identity *out, struct sl_err *err);

/* Verify the SigV4 Authorization header of <r> against the key pairs in <c>,
 * using the request's own SignedHeaders list.
 *
 * Returns SL_OK and fills *out (may be NULL) with the access key id, the
 * credential scope's region and service, and the key's role.  Otherwise
 * SL_ERR with <err> (may be NULL) set to the AWS error, status 403 unless
 * said:
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
 * id and role, or SL_ERR.  Thread-safe. */
int auth_verify_bearer(const struct auth_creds *c, const char *token, struct auth_identity *out);

#endif
