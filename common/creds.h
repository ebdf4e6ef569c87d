/*
 * creds.h - the AWS shared-credentials file, as both binaries read it:
 * sluiced's key pairs and REST bearer tokens, and the token sluice-proxy
 * authenticates with.  One parser, so a file one binary accepts the other
 * reads the same way.
 *
 * Caveats:
 * - A loaded struct creds is read-only once shared between threads; only
 *   creds_add() changes it, and only before it is shared.
 * - Secrets and tokens are wiped (OPENSSL_cleanse) when the struct is freed;
 *   the file's text is wiped after parsing.
 * - Roles are sluice's own key (`sluice_role`); AWS tools ignore it.
 */
#ifndef SL_COMMON_CREDS_H
#define SL_COMMON_CREDS_H

#include <stddef.h>

#include "common/err.h"

#define CREDS_MAX_KEY_ID 127 /* characters in aws_access_key_id */
#define CREDS_MAX_SECRET 1024

/* What a key may do.  Admin: the whole API.  Proxy: the data-plane feed
 * (/v1/dataplane/...) only, and the only role whose reports are taken. */
enum creds_role { CREDS_ROLE_ADMIN = 0, CREDS_ROLE_PROXY = 1 };

/* One section with a key pair.  Strings are owned by the struct creds. */
struct creds_entry {
    char *profile; /* section name, without "profile " */
    char *key_id;
    char *secret; /* NULL only for entries added by creds_add() without one */
    char *token;  /* sluice_api_token, NULL when the section has none */
    enum creds_role role;
    unsigned char token_digest[32]; /* SHA-256 of token, for constant-time matching */
};

struct creds; /* opaque: the entries of one file */

/* Parse credentials text: <text> of <len> bytes, <origin> names it in
 * messages ("path:line: why").
 *
 * Accepts `[name]` and `[profile name]` sections, `key = value` or
 * `key: value` lines with any blanks around key and value, `#` and `;`
 * comment lines, blank lines, CRLF endings and a UTF-8 BOM.  Keys are
 * case-insensitive.  Per section it takes aws_access_key_id,
 * aws_secret_access_key, the optional sluice_api_token and the optional
 * sluice_role (`admin`, the default, or `proxy`); other keys (region,
 * aws_session_token, ...) are ignored, and a section with none of them is
 * skipped.
 *
 * Rejects: a section with only one of key id / secret, a token or role
 * without a key pair, an unknown role, a key line outside a section, a line
 * that is neither section, comment nor key = value, a key repeated in a
 * section or a section repeated, an access key id reused across sections, a
 * token reused across sections, a NUL byte, and a file without any key pair.
 *
 * Returns SL_OK and a struct the caller frees with creds_free(), or SL_ERR /
 * SL_ENOMEM with *out NULL and the reason in <errbuf>. */
int creds_parse(const char *text, size_t len, const char *origin, struct creds **out, char *errbuf,
                size_t errlen);

/* creds_parse() on the file at <path> (a regular file of at most 1 MiB).
 * When the file is readable or writable by other users, <warnbuf> gets a
 * one-line warning (empty otherwise); loading still succeeds.  SL_EIO when
 * the file cannot be read. */
int creds_load(const char *path, struct creds **out, char *errbuf, size_t errlen, char *warnbuf,
               size_t warnlen);

/* Release <c>, wiping its secrets.  NULL is a no-op. */
void creds_free(struct creds *c);

/* Number of entries; 0 for NULL. */
size_t creds_count(const struct creds *c);

/* Entry <i> (< creds_count), borrowed until creds_free(c). */
const struct creds_entry *creds_get(const struct creds *c, size_t i);

/* The entry whose key id is <key_id>, or NULL.  Borrowed. */
const struct creds_entry *creds_find_key(const struct creds *c, const char *key_id);

/* The entry whose token is <token> (<len> bytes), or NULL.  Compares
 * SHA-256 digests of every entry in constant time, with no early exit. */
const struct creds_entry *creds_match_token(const struct creds *c, const char *token, size_t len);

/* The entry a proxy authenticates with: the first with role proxy and a
 * token, else the first with a token, else NULL.  Borrowed. */
const struct creds_entry *creds_proxy_entry(const struct creds *c);

/* Add an entry that no file can hold (sluiced's own co-process key): its
 * <key_id> must contain a '/', which file key ids may not, so it never
 * collides.  <secret> may be NULL (bearer token only).  Copies everything.
 * Returns SL_OK, SL_EINVAL or SL_ENOMEM.  Not thread-safe: call before the
 * struct is shared. */
int creds_add(struct creds *c, const char *profile, const char *key_id, const char *secret,
              const char *token, enum creds_role role);

#endif
