/*
 * fuzz_tls_hello.c - libFuzzer target for what an HTTPS listener does with
 * a client's first flight (proxy/tls.c): OpenSSL parses the ClientHello,
 * then the proxy's SNI callback picks certificates by the server name (as
 * ALB: exact, wildcard, default; RSA and ECDSA side by side) and its ALPN
 * callback picks a protocol under the listener's AlpnPolicy and
 * routing.http2.enabled.
 *
 * The input is a selector byte (the listener: one of the five AlpnPolicy
 * values, h2 on or off, one of three security policies) and then the bytes
 * a client sends, fed to a server-side SSL of that listener through a
 * memory BIO; the handshake runs until it waits for more.  The listener
 * has four certificates made at start: the default (ECDSA,
 * default.example), an exact name (ECDSA, api.wild.example) and a wildcard
 * in both key types (*.wild.example).
 *
 * Invariants (a broken one aborts): a protocol chosen by ALPN is one the
 * listener offers (h2, http/1.1, http/1.0) - never h2 when routing.http2.enabled is false or the
 * policy is HTTP1Only - and a handshake that got as far as a certificate
 * has one of the listener's.
 *
 * tls.c is included rather than linked, so that it is instrumented for
 * coverage (see fuzz_feed.c).
 */
#define _GNU_SOURCE
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/table.h"
#include "proxy/tls.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NPOLICIES 3
static const char *const policies[NPOLICIES] = {
    "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS-1-0-2015-04"};

static struct px_tls_srv *srvs[5][2][NPOLICIES]; /* [alpn][http2][policy] */
static struct px_cert *certs[4];

/* <out> = the PEM of what <write> puts in a memory BIO (malloc'd). */
static char *pem_of(int (*write)(BIO *, const void *), const void *obj)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    CHECK(b != NULL && write(b, obj) == 1);
    n = BIO_get_mem_data(b, &p);
    CHECK(n > 0 && (out = malloc((size_t)n + 1)) != NULL);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static int write_cert(BIO *b, const void *x)
{
    return PEM_write_bio_X509(b, (X509 *)x);
}

static int write_key(BIO *b, const void *k)
{
    return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

/* A self-signed certificate for <cn> with dNSName <cn>. */
static struct px_cert *make_cert(const char *cn, int rsa)
{
    EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    char san[128];
    char *cp, *kp;
    struct px_cert *c = NULL;
    struct sl_err err = {0};

    CHECK(k != NULL && x != NULL);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), rsa ? 2 : 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    snprintf(san, sizeof(san), "DNS:%s", cn);
    CHECK((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san)) != NULL);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    CHECK(X509_sign(x, k, EVP_sha256()) > 0);
    cp = pem_of(write_cert, x);
    kp = pem_of(write_key, k);
    CHECK(px_cert_new(cp, "", kp, &c, &err) == SL_OK);
    free(cp);
    free(kp);
    X509_free(x);
    EVP_PKEY_free(k);
    return c;
}

static void setup(void)
{
    int a, h, p;
    struct sl_err err = {0};

    certs[0] = make_cert("default.example", 0);
    certs[1] = make_cert("api.wild.example", 0);
    certs[2] = make_cert("*.wild.example", 0);
    certs[3] = make_cert("*.wild.example", 1);
    for (a = 0; a < 5; a++)
        for (h = 0; h < 2; h++)
            for (p = 0; p < NPOLICIES; p++)
                CHECK(px_tls_srv_new(tls_policy_find(policies[p]), a, h, certs, 4,
                                     &srvs[a][h][p], &err) == SL_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const unsigned char *proto = NULL;
    unsigned plen = 0;
    int a, h, p, i, found;
    struct px_tls_srv *s;
    X509 *leaf;
    SSL *ssl;
    BIO *in, *out;

    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1)
        return 0;
    a = data[0] % 5;
    h = (data[0] / 5) % 2;
    p = (data[0] / 10) % NPOLICIES;
    s = srvs[a][h][p];
    CHECK((ssl = px_tls_srv_ssl(s)) != NULL);
    in = BIO_new_mem_buf(data + 1, (int)(size - 1));
    out = BIO_new(BIO_s_mem());
    CHECK(in != NULL && out != NULL);
    BIO_set_mem_eof_return(in, -1); /* the end of the input: wait for more */
    SSL_set_bio(ssl, in, out);
    for (i = 0; i < 4 && SSL_do_handshake(ssl) <= 0; i++)
        if (SSL_get_error(ssl, -1) != SSL_ERROR_WANT_READ)
            break;
    SSL_get0_alpn_selected(ssl, &proto, &plen);
    if (plen > 0) {
        CHECK((plen == 2 && memcmp(proto, "h2", 2) == 0) ||
              (plen == 8 && (memcmp(proto, "http/1.1", 8) == 0 ||
                             memcmp(proto, "http/1.0", 8) == 0))); /* AWS's lists have it */
        CHECK(plen != 2 || (h && a != PX_ALPN_HTTP1ONLY));
    }
    if ((leaf = SSL_get_certificate(ssl)) != NULL) {
        for (i = found = 0; i < 4; i++)
            found |= X509_cmp(leaf, certs[i]->leaf) == 0;
        CHECK(found);
    }
    SSL_free(ssl);
    ERR_clear_error();
    return 0;
}
