/*
 * fuzz_acm_pem.c - libFuzzer target for ImportCertificate's parser
 * (routes/acm/pem.c) and the base64 of its blobs (routes/wire/base64.c).
 *
 * The input is split at the first two NUL bytes into certificate, private
 * key and chain (a missing part is absent, as when the member is not
 * given), parsed as PEM; every part is also base64-decoded.  A parse that
 * succeeds must describe a certificate: a domain, its names, PEM text that
 * parses again to the same facts.  ASan and UBSan watch the rest (and
 * LeakSanitizer what OpenSSL allocates).
 *
 * The modules are included rather than linked so that libFuzzer gets
 * coverage from them (the build instruments the target's own sources).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/acm/pem.c"
#include "routes/wire/base64.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void reparse(const struct acm_pem *p)
{
    struct acm_pem q;
    struct sl_err err = {0};

    CHECK(acm_pem_parse(p->cert_pem, strlen(p->cert_pem), p->key_pem,
                        p->key_pem ? strlen(p->key_pem) : 0, p->chain_pem,
                        strlen(p->chain_pem), 0, &q, &err) == SL_OK);
    CHECK(strcmp(q.domain, p->domain) == 0 && q.nsans == p->nsans);
    CHECK(strcmp(q.key_algorithm, p->key_algorithm) == 0 && q.not_after == p->not_after);
    acm_pem_clear(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0}, i, n = 0, start = 0;
    struct acm_pem p;
    struct sl_err err = {0};

    for (i = 0; i <= size && n < 3; i++)
        if (i == size || (data[i] == 0 && n < 2)) {
            part[n] = (const char *)data + start;
            len[n] = i - start;
            n++;
            start = i + 1;
        }
    for (i = 0; i < n; i++) {
        char *out;
        size_t olen;
        if (b64_decode(part[i], len[i], &out, &olen) == SL_OK) {
            CHECK(olen <= len[i] / 4 * 3 && out[olen] == '\0');
            free(out);
        }
    }
    /* time 0: the parser's own checks, not the clock, decide */
    if (acm_pem_parse(part[0], len[0], n > 1 ? part[1] : NULL, n > 1 ? len[1] : 0,
                      n > 2 ? part[2] : NULL, n > 2 ? len[2] : 0, 0, &p, &err) == SL_OK) {
        CHECK(p.domain && p.domain[0] && p.nsans >= 1 && strcmp(p.sans[0], p.domain) == 0);
        reparse(&p);
        acm_pem_clear(&p);
    } else {
        CHECK(err.code[0] != '\0' && err.message[0] != '\0');
    }
    return 0;
}
