/*
 * sticky.h - sticky sessions as ALB keeps them: the AWSALB/AWSALBCORS
 * cookies of duration-based stickiness, the AWSALBAPP-0..3 cookies of
 * application-based stickiness, and the AWSALBTG/AWSALBTGCORS cookies that
 * keep a client on one of a forward action's weighted target groups.
 *
 * Caveats:
 *  - A cookie value is opaque to clients: base64url (no padding) of a
 *    version byte, the moment it goes stale (Unix seconds, big-endian), an
 *    8-byte id and a 12-byte HMAC-SHA256 tag over the three, keyed with the
 *    target group's cookie key.  The id is HMAC(key, "t|" target key) for a
 *    target and HMAC(key, "g|" group id) for a group, so a cookie names no
 *    address.  Every proxy gets the same key in the feed (sluiced makes one
 *    per group), so any proxy reads any proxy's cookie.
 *  - A cookie that does not decode, carries a bad tag, is stale, or names a
 *    target that is gone, draining or unhealthy (while a healthy one
 *    exists) is ignored: the request is balanced as usual and the response
 *    carries a new cookie.
 *  - The expiry inside the cookie is what stickiness obeys; the cookie's
 *    Expires attribute matches it for AWSALB and AWSALBTG (renewed on
 *    every response).  AWSALBAPP-0..3 expire after 7 days, as on ALB, while
 *    the value inside holds for stickiness.app_cookie.duration_seconds
 *    after the response that last set the application's cookie.
 *  - Per exchange, struct px_stick holds a reference on the group whose
 *    cookies the response gets; px_sticky_release() drops it.  Everything
 *    else is pure and thread-safe.
 */
#ifndef SL_PROXY_STICKY_H
#define SL_PROXY_STICKY_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/hbuf.h"
#include "proxy/http1.h"
#include "proxy/table.h"

#define PX_STICK_ID_LEN        8
#define PX_STICK_VALUE_MAX     48 /* an encoded value and its NUL */
#define PX_STICK_APP_EXPIRES_S (7 * 86400)

/* One exchange's cookies to set. */
struct px_stick {
    struct px_tg *g; /* a reference, or NULL: no cookie to set */
    int tg_s;        /* > 0: AWSALBTG for g with this lifetime */
};

/* ---- the codec (tests/unit/test_px_sticky.c, tests/fuzz/fuzz_sticky.c) ---- */

/* The cookie value for <id> staying valid until <expires> (Unix seconds)
 * into <out> (PX_STICK_VALUE_MAX bytes, NUL-terminated); returns its
 * length. */
size_t px_sticky_encode(const unsigned char *key, const unsigned char *id, uint32_t expires,
                        char *out);

/* Decode cookie value <v>[0..<n>) (untrusted) under <key>: SL_OK with
 * <id> and *expires filled, or SL_EINVAL when it is malformed or its tag is
 * not <key>'s.  Staleness is the caller's (compare *expires). */
int px_sticky_decode(const unsigned char *key, const char *v, size_t n, unsigned char *id,
                     uint32_t *expires);

/* The value of cookie <name> in the request's Cookie fields (the first one
 * of that name), or NULL. */
const char *px_sticky_cookie(const struct h1_header *hdrs, size_t n, const char *name,
                             size_t *vlen);

/* ---- ids and keys ---- */

/* The 8-byte id of <what> ("t|" target key or "g|" group id) under <key>. */
void px_sticky_id(const unsigned char *key, const char *prefix, const char *what,
                  unsigned char *id);

/* A key for group <arn> when the feed gives none (a group stored before
 * sluiced made keys): the same in every proxy. */
void px_sticky_derive_key(const char *arn, unsigned char *key);

/* Fill g->stick_ids (one id per target) when the group is sticky (builder;
 * px_tg_release() frees them).  SL_OK or SL_ENOMEM. */
int px_sticky_tg_ids(struct px_tg *g);

/* ---- per request ---- */

/* The group of forward action <a> for request <r>: the one its AWSALBTG
 * cookie names when the action's group stickiness is on and the cookie is
 * valid at <now> (Unix seconds), else route_pick_group() with <rnd>.
 * Sets s->tg_s.  Borrowed from <t>. */
struct px_tg *px_sticky_group(struct px_stick *s, const struct px_table *t,
                              const struct px_action *a, const struct h1_request *r, uint32_t now,
                              uint32_t rnd);

/* The target of sticky group <g> that the request's cookie names, if it is
 * still a good choice at <now>; NULL: balance as usual.  Borrowed. */
struct px_target *px_sticky_target(const struct px_tg *g, const struct h1_request *r, uint32_t now);

/* Remember to set <g>'s cookies on the response (a reference on <g> when
 * it is sticky or s->tg_s is set). */
void px_sticky_hold(struct px_stick *s, struct px_tg *g);
void px_sticky_release(struct px_stick *s);

/* Append the Set-Cookie fields the response from target <t> gets to <b>:
 * AWSALB(CORS), AWSALBTG(CORS), and AWSALBAPP-0..3 when <res> sets the
 * application's cookie. */
void px_sticky_response(const struct px_stick *s, const struct px_target *t,
                        const struct h1_response *res, uint32_t now, struct px_hbuf *b);

#endif
