/*
 * auth.c - who a request comes from: the credentials file's key pairs and
 * tokens (common/creds.c), SigV4 (sigv4.c) and bearer tokens, and the
 * co-process's own token.
 */
#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/sigv4.h"

#define COPROCESS_KEY "sluiced/co-process"

struct auth_creds {
    struct creds *c;
};

static int wrap(struct creds *c, struct auth_creds **out)
{
    if (c == NULL)
        return SL_ERR;
    if ((*out = calloc(1, sizeof(**out))) == NULL) {
        creds_free(c);
        return SL_ENOMEM;
    }
    (*out)->c = c;
    return SL_OK;
}

int auth_parse(const char *text, size_t len, const char *origin, struct auth_creds **out,
               char *errbuf, size_t errlen)
{
    struct creds *c;
    int rc;

    *out = NULL;
    if ((rc = creds_parse(text, len, origin, &c, errbuf, errlen)) != SL_OK)
        return rc;
    return wrap(c, out);
}

int auth_load(const char *path, struct auth_creds **out, char *errbuf, size_t errlen, char *warnbuf,
              size_t warnlen)
{
    struct creds *c;
    int rc;

    *out = NULL;
    if ((rc = creds_load(path, &c, errbuf, errlen, warnbuf, warnlen)) != SL_OK)
        return rc;
    return wrap(c, out);
}

void auth_free(struct auth_creds *c)
{
    if (c == NULL)
        return;
    creds_free(c->c);
    free(c);
}

size_t auth_count(const struct auth_creds *c)
{
    return c ? creds_count(c->c) : 0;
}

const char *auth_secret_for(const struct auth_creds *c, const char *access_key_id)
{
    const struct creds_entry *e = c ? creds_find_key(c->c, access_key_id) : NULL;

    return e ? e->secret : NULL;
}

int auth_add_coprocess_token(struct auth_creds *c, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    char token[2 * sizeof(raw) + 1];
    size_t i;
    int rc;

    if (c == NULL || cap < sizeof(token))
        return SL_EINVAL;
    if (strlen(out) == 2 * sizeof(raw) && strspn(out, hex) == 2 * sizeof(raw)) {
        memcpy(token, out, sizeof(token)); /* a running co-process's (supervise.h) */
    } else {
        if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
            return SL_ERR;
        for (i = 0; i < sizeof(raw); i++) {
            token[2 * i] = hex[raw[i] >> 4];
            token[2 * i + 1] = hex[raw[i] & 15];
        }
        token[2 * sizeof(raw)] = '\0';
    }
    rc = creds_add(c->c, "sluiced co-process", COPROCESS_KEY, NULL, token, CREDS_ROLE_PROXY);
    if (rc == SL_OK)
        memcpy(out, token, sizeof(token));
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(token, sizeof(token));
    return rc;
}

static void identify(const struct creds_entry *e, struct auth_identity *out)
{
    if (out) {
        snprintf(out->access_key, sizeof(out->access_key), "%s", e->key_id);
        out->role = e->role;
    }
}

int auth_verify_bearer(const struct auth_creds *c, const char *token, struct auth_identity *out)
{
    const struct creds_entry *e;
    size_t n;

    if (out)
        memset(out, 0, sizeof(*out));
    if (c == NULL || token == NULL)
        return SL_ERR;
    while (*token == ' ' || *token == '\t')
        token++;
    n = strlen(token);
    while (n && (token[n - 1] == ' ' || token[n - 1] == '\t'))
        n--;
    if ((e = creds_match_token(c->c, token, n)) == NULL)
        return SL_ERR;
    identify(e, out);
    return SL_OK;
}

/* The one Authorization header of <r>, NULL when there is none or several. */
static const char *authorization(const struct auth_request *r, int *several)
{
    const char *v = NULL;
    size_t i;

    *several = 0;
    for (i = 0; i < r->nheaders; i++)
        if (r->headers[i].name && strcasecmp(r->headers[i].name, "authorization") == 0) {
            *several |= v != NULL;
            v = r->headers[i].value ? r->headers[i].value : "";
        }
    return v;
}

/* The SigV4 checks that need no body; *e gets the signing key's entry. */
static int sigv4_head(const struct auth_creds *c, const struct auth_request *r,
                      struct sigv4_auth *a, const struct creds_entry **e, struct sl_err *err)
{
    int rc;

    if (c == NULL || r == NULL)
        return sl_err_set(err, 500, "InternalFailure",
                          "Request authentication failed: no credentials loaded.");
    if ((rc = sigv4_parse(r, a, err)) != SL_OK)
        return rc;
    *e = creds_find_key(c->c, a->key);
    if (*e == NULL || (*e)->secret == NULL)
        return sl_err_set(err, 403, "InvalidClientTokenId",
                          "The security token included in the request is invalid.");
    return sigv4_check_skew(a, r->now, err);
}

int auth_precheck(const struct auth_creds *c, const struct auth_request *r, int bearer_ok,
                  struct auth_identity *out, struct sl_err *err)
{
    const struct creds_entry *e = NULL;
    struct sigv4_auth a;
    const char *v;
    int several, rc;

    if (out)
        memset(out, 0, sizeof(*out));
    v = r ? authorization(r, &several) : NULL;
    if (bearer_ok && v && !several && strncasecmp(v, "Bearer ", 7) == 0) {
        if (auth_verify_bearer(c, v + 7, out) == SL_OK)
            return SL_OK;
        return sl_err_set(err, 403, "InvalidClientTokenId", "The bearer token is not valid.");
    }
    if ((rc = sigv4_head(c, r, &a, &e, err)) != SL_OK)
        return rc;
    identify(e, out);
    return SL_OK;
}

int auth_verify_sigv4(const struct auth_creds *c, const struct auth_request *r,
                      struct auth_identity *out, struct sl_err *err)
{
    const struct creds_entry *e = NULL;
    struct sigv4_auth a;
    int rc;

    if (out)
        memset(out, 0, sizeof(*out));
    if ((rc = sigv4_head(c, r, &a, &e, err)) != SL_OK)
        return rc;
    if ((rc = sigv4_check_signature(&a, e->secret, r, err)) != SL_OK)
        return rc;
    if (out) {
        identify(e, out);
        snprintf(out->region, sizeof(out->region), "%s", a.region);
        snprintf(out->service, sizeof(out->service), "%s", a.service);
    }
    return SL_OK;
}
