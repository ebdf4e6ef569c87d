/*
 * sticky.c - sticky-session cookies: the codec, the choice of a group and
 * a target from a request's cookies, and the Set-Cookie fields of the
 * response.  The why of each rule is in sticky.h.
 */
#include "proxy/sticky.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "proxy/route.h"

#define VERSION 1
#define TAG_LEN 12
#define RAW_LEN (1 + 4 + PX_STICK_ID_LEN + TAG_LEN)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void hmac(const unsigned char *key, const void *d1, size_t n1, const void *d2, size_t n2,
                 unsigned char *out32)
{
    unsigned char buf[1 + PX_KEY_MAX + PX_ARN_MAX];
    unsigned int len = 32;

    /* both parts are short: one buffer, one call */
    if (n1 + n2 > sizeof(buf))
        n2 = sizeof(buf) - n1;
    memcpy(buf, d1, n1);
    memcpy(buf + n1, d2, n2);
    HMAC(EVP_sha256(), key, PX_STICK_KEY_LEN, buf, n1 + n2, out32, &len);
}

/* ---- the codec ---- */

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        out[o++] = b64[in[i] >> 2];
        out[o++] = b64[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
        out[o++] = b64[v >> 10];
        out[o++] = b64[(v >> 4) & 63];
        out[o++] = b64[(v & 15) << 2];
    }
    out[o] = '\0';
    return o;
}

static int b64_val(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '-' ? 62 : ch == '_' ? 63 : -1;
}

/* Exactly RAW_LEN bytes from the base64url text <v>[0..<n>). */
static int b64_decode_raw(const char *v, size_t n, unsigned char *out)
{
    uint32_t acc = 0;
    size_t i, o = 0;
    int bits = 0;

    if (n != (RAW_LEN * 4 + 2) / 3)
        return SL_EINVAL;
    for (i = 0; i < n; i++) {
        int x = b64_val((unsigned char)v[i]);
        if (x < 0)
            return SL_EINVAL;
        acc = (acc << 6) | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* the bits past the last byte must be zero: one text per value */
    return o == RAW_LEN && (acc & ((1u << bits) - 1)) == 0 ? SL_OK : SL_EINVAL;
}

size_t px_sticky_encode(const unsigned char *key, const unsigned char *id, uint32_t expires,
                        char *out)
{
    unsigned char raw[RAW_LEN], mac[32];

    raw[0] = VERSION;
    raw[1] = (unsigned char)(expires >> 24);
    raw[2] = (unsigned char)(expires >> 16);
    raw[3] = (unsigned char)(expires >> 8);
    raw[4] = (unsigned char)expires;
    memcpy(raw + 5, id, PX_STICK_ID_LEN);
    hmac(key, raw, 5 + PX_STICK_ID_LEN, "", 0, mac);
    memcpy(raw + 5 + PX_STICK_ID_LEN, mac, TAG_LEN);
    return b64_encode(raw, RAW_LEN, out);
}

int px_sticky_decode(const unsigned char *key, const char *v, size_t n, unsigned char *id,
                     uint32_t *expires)
{
    unsigned char raw[RAW_LEN], mac[32];

    if (v == NULL || b64_decode_raw(v, n, raw) != SL_OK || raw[0] != VERSION)
        return SL_EINVAL;
    hmac(key, raw, 5 + PX_STICK_ID_LEN, "", 0, mac);
    if (CRYPTO_memcmp(mac, raw + 5 + PX_STICK_ID_LEN, TAG_LEN) != 0)
        return SL_EINVAL;
    *expires = (uint32_t)raw[1] << 24 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 8 | raw[4];
    memcpy(id, raw + 5, PX_STICK_ID_LEN);
    return SL_OK;
}

/* <name> in one Cookie field value "a=b; c=d" (RFC 6265 5.4). */
static const char *cookie_in(const char *s, size_t n, const char *name, size_t nl, size_t *vlen)
{
    size_t i = 0;

    while (i < n) {
        size_t start, eq = 0, end;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ';'))
            i++;
        start = i;
        while (i < n && s[i] != ';') {
            if (s[i] == '=' && eq == 0)
                eq = i;
            i++;
        }
        end = i;
        while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
            end--;
        if (eq > start && eq - start == nl && memcmp(s + start, name, nl) == 0) {
            const char *v = s + eq + 1;
            size_t vl = end - eq - 1;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v++;
                vl -= 2;
            }
            *vlen = vl;
            return v;
        }
    }
    return NULL;
}

const char *px_sticky_cookie(const struct h1_header *hdrs, size_t n, const char *name, size_t *vlen)
{
    size_t i, nl = strlen(name);

    for (i = 0; i < n; i++) {
        const char *v;
        if (hdrs[i].name_len != 6 || strncasecmp(hdrs[i].name, "cookie", 6) != 0)
            continue;
        if ((v = cookie_in(hdrs[i].value, hdrs[i].value_len, name, nl, vlen)) != NULL)
            return v;
    }
    return NULL;
}

/* ---- ids and keys ---- */

void px_sticky_id(const unsigned char *key, const char *prefix, const char *what, unsigned char *id)
{
    unsigned char mac[32];

    hmac(key, prefix, strlen(prefix), what, strlen(what), mac);
    memcpy(id, mac, PX_STICK_ID_LEN);
}

void px_sticky_derive_key(const char *arn, unsigned char *key)
{
    unsigned int len = 32;

    EVP_Digest(arn, strlen(arn), key, &len, EVP_sha256(), NULL);
}

int px_sticky_tg_ids(struct px_tg *g)
{
    int i;

    g->stick_ids = NULL;
    if (g->conf.stick == PX_STICK_NONE || g->ntargets == 0)
        return SL_OK;
    if ((g->stick_ids = malloc(sizeof(*g->stick_ids) * (size_t)g->ntargets)) == NULL)
        return SL_ENOMEM;
    for (i = 0; i < g->ntargets; i++)
        px_sticky_id(g->conf.stick_key, "t|", g->targets[i]->key, g->stick_ids[i]);
    return SL_OK;
}

/* ---- per request ---- */

/* The request's cookie <name>, decoded under <key> and not stale at <now>:
 * SL_OK with <id>. */
static int one_cookie(const struct h1_request *r, const char *name, const unsigned char *key,
                      uint32_t now, unsigned char *id)
{
    const char *v;
    size_t n = 0;
    uint32_t exp = 0;

    v = px_sticky_cookie(r->headers, r->nheaders, name, &n);
    if (v == NULL || px_sticky_decode(key, v, n, id, &exp) != SL_OK)
        return SL_EINVAL;
    return exp > now ? SL_OK : SL_EINVAL;
}

/* <name>, or else its CORS twin <alt> (may be NULL). */
static int valid_cookie(const struct h1_request *r, const char *name, const char *alt,
                        const unsigned char *key, uint32_t now, unsigned char *id)
{
    if (one_cookie(r, name, key, now, id) == SL_OK)
        return SL_OK;
    return alt ? one_cookie(r, alt, key, now, id) : SL_EINVAL;
}

struct px_tg *px_sticky_group(struct px_stick *s, const struct px_table *t,
                              const struct px_action *a, const struct h1_request *r, uint32_t now,
                              uint32_t rnd)
{
    int i;

    s->tg_s = a->tg_stick_s;
    if (a->tg_stick_s > 0 && a->nfwd > 1)
        for (i = 0; i < a->nfwd; i++) {
            struct px_tg *g = px_table_slot(t, a->fwd[i].slot);
            unsigned char id[PX_STICK_ID_LEN], want[PX_STICK_ID_LEN];
            if (g == NULL || a->fwd[i].weight == 0 ||
                valid_cookie(r, "AWSALBTG", "AWSALBTGCORS", g->conf.stick_key, now, id) != SL_OK)
                continue;
            px_sticky_id(g->conf.stick_key, "g|", g->conf.id, want);
            if (memcmp(id, want, sizeof(id)) == 0)
                return g;
        }
    return route_pick_group(t, a, rnd);
}

static int healthy(const struct px_target *t)
{
    return t->addrlen && !atomic_load(&t->draining) && atomic_load(&t->health) == PX_H_HEALTHY;
}

struct px_target *px_sticky_target(const struct px_tg *g, const struct h1_request *r, uint32_t now)
{
    unsigned char id[PX_STICK_ID_LEN];
    int i, rc;

    if (g->conf.stick == PX_STICK_NONE || g->stick_ids == NULL)
        return NULL;
    if (g->conf.stick == PX_STICK_LB)
        rc = valid_cookie(r, "AWSALB", "AWSALBCORS", g->conf.stick_key, now, id);
    else
        rc = valid_cookie(r, "AWSALBAPP-0", NULL, g->conf.stick_key, now, id);
    if (rc != SL_OK)
        return NULL;
    for (i = 0; i < g->ntargets; i++) {
        struct px_target *t = g->targets[i];
        int k;
        if (memcmp(g->stick_ids[i], id, sizeof(id)) != 0)
            continue;
        if (healthy(t))
            return t;
        /* unhealthy: stay only while no target is healthy (fail-open) */
        for (k = 0; k < g->ntargets; k++)
            if (healthy(g->targets[k]))
                return NULL;
        return t->addrlen && !atomic_load(&t->draining) ? t : NULL;
    }
    return NULL;
}

void px_sticky_hold(struct px_stick *s, struct px_tg *g)
{
    px_sticky_release(s);
    if (g && (g->conf.stick != PX_STICK_NONE || s->tg_s > 0)) {
        atomic_fetch_add(&g->refs, 1);
        s->g = g;
    }
}

void px_sticky_release(struct px_stick *s)
{
    if (s->g) {
        px_tg_release(s->g);
        s->g = NULL;
    }
}

/* ---- the response ---- */

/* "; Expires=<IMF-fixdate>; Path=/" for <when>. */
static void put_expires(struct px_hbuf *b, uint32_t when)
{
    char d[64];
    time_t tt = (time_t)when;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(d, sizeof(d), "; Expires=%a, %d %b %Y %H:%M:%S GMT; Path=/", &tm);
    px_hputs(b, d);
}

static void put_cookie(struct px_hbuf *b, const char *name, const char *value, uint32_t expires,
                       int cors)
{
    px_hputs(b, "Set-Cookie: ");
    px_hputs(b, name);
    px_hput(b, "=", 1);
    px_hputs(b, value);
    put_expires(b, expires);
    if (cors)
        px_hputs(b, "; SameSite=None; Secure");
    px_hput(b, "\r\n", 2);
}

/* Whether <res> sets cookie <name> (Set-Cookie: name=...). */
static int sets_cookie(const struct h1_response *res, const char *name)
{
    size_t i, nl = strlen(name);

    for (i = 0; i < res->nheaders; i++) {
        const struct h1_header *h = &res->headers[i];
        if (h->name_len == 10 && strncasecmp(h->name, "set-cookie", 10) == 0 && h->value_len > nl &&
            memcmp(h->value, name, nl) == 0 && h->value[nl] == '=')
            return 1;
    }
    return 0;
}

static int target_index(const struct px_tg *g, const struct px_target *t)
{
    int i;

    for (i = 0; i < g->ntargets; i++)
        if (g->targets[i] == t)
            return i;
    return -1;
}

void px_sticky_response(const struct px_stick *s, const struct px_target *t,
                        const struct h1_response *res, uint32_t now, struct px_hbuf *b)
{
    const struct px_tg *g = s->g;
    char v[PX_STICK_VALUE_MAX];
    unsigned char id[PX_STICK_ID_LEN];
    int i;

    if (g == NULL)
        return;
    if (s->tg_s > 0) {
        px_sticky_id(g->conf.stick_key, "g|", g->conf.id, id);
        px_sticky_encode(g->conf.stick_key, id, now + (uint32_t)s->tg_s, v);
        put_cookie(b, "AWSALBTG", v, now + (uint32_t)s->tg_s, 0);
        put_cookie(b, "AWSALBTGCORS", v, now + (uint32_t)s->tg_s, 1);
    }
    if (g->conf.stick == PX_STICK_NONE || g->stick_ids == NULL || t == NULL ||
        (i = target_index(g, t)) < 0)
        return;
    if (g->conf.stick == PX_STICK_LB) {
        px_sticky_encode(g->conf.stick_key, g->stick_ids[i], now + (uint32_t)g->conf.stick_lb_s, v);
        put_cookie(b, "AWSALB", v, now + (uint32_t)g->conf.stick_lb_s, 0);
        put_cookie(b, "AWSALBCORS", v, now + (uint32_t)g->conf.stick_lb_s, 1);
        return;
    }
    if (!sets_cookie(res, g->conf.stick_app_name))
        return;
    px_sticky_encode(g->conf.stick_key, g->stick_ids[i], now + (uint32_t)g->conf.stick_app_s, v);
    put_cookie(b, "AWSALBAPP-0", v, now + PX_STICK_APP_EXPIRES_S, 0);
    put_cookie(b, "AWSALBAPP-1", "_remove_", now + PX_STICK_APP_EXPIRES_S, 0);
    put_cookie(b, "AWSALBAPP-2", "_remove_", now + PX_STICK_APP_EXPIRES_S, 0);
    put_cookie(b, "AWSALBAPP-3", "_remove_", now + PX_STICK_APP_EXPIRES_S, 0);
}
