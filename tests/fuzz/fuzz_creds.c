/*
 * fuzz_creds.c - libFuzzer target for common/creds.c, the credentials file
 * both binaries read (sluiced's --credentials, sluice-proxy's).
 *
 * The input is a file's text.  creds_parse() either refuses it with a
 * "origin:line: why" message or returns entries that all have a profile, a
 * key id and a secret; every key id finds its own entry, every token matches
 * its own entry (and only it), and the proxy's entry has a token.
 */
#include <stdint.h>
#include <string.h>

#include "common/creds.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char added[] = "fuzz-token\x01";
    struct creds *c = NULL;
    const struct creds_entry *e, *p;
    char err[256];
    size_t i, n;

    err[0] = 'x';
    if (creds_parse((const char *)data, size, "fuzz", &c, err, sizeof(err)) != SL_OK) {
        CHECK(c == NULL);
        CHECK(strncmp(err, "fuzz", 4) == 0);
        return 0;
    }
    n = creds_count(c);
    CHECK(n > 0);
    for (i = 0; i < n; i++) {
        e = creds_get(c, i);
        CHECK(e && e->profile && e->key_id && e->secret && e->key_id[0] && e->secret[0]);
        CHECK(strlen(e->key_id) <= CREDS_MAX_KEY_ID && strchr(e->key_id, '/') == NULL);
        CHECK(e->role == CREDS_ROLE_ADMIN || e->role == CREDS_ROLE_PROXY);
        CHECK(creds_find_key(c, e->key_id) == e);
        if (e->token)
            CHECK(creds_match_token(c, e->token, strlen(e->token)) == e);
    }
    p = creds_proxy_entry(c);
    CHECK(p == NULL || p->token != NULL);
    /* a control character: no file's token can be this one */
    CHECK(creds_add(c, "x", "fuzz/added", NULL, added, CREDS_ROLE_PROXY) == SL_OK);
    CHECK(creds_match_token(c, added, strlen(added))->role == CREDS_ROLE_PROXY);
    creds_free(c);
    return 0;
}
