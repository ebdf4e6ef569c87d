/*
 * pem.c - ImportCertificate's checks with OpenSSL: one certificate, a key
 * that matches it, not expired, a chain that leads to it; and the facts
 * DescribeCertificate shows.
 */
#define _GNU_SOURCE /* memmem */
#include "routes/acm/pem.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const acm_key_usage_names[] = {
    "DIGITAL_SIGNATURE", "NON_REPUDIATION", "KEY_ENCIPHERMENT", "DATA_ENCIPHERMENT",
    "KEY_AGREEMENT",     "CERTIFICATE_SIGNING", "CRL_SIGNING", "ENCIPHER_ONLY",
    "DECIPHER_ONLY",     NULL};

const char *const acm_ext_key_usage_names[] = {
    "TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION", "CODE_SIGNING",
    "EMAIL_PROTECTION", "TIME_STAMPING", "OCSP_SIGNING", NULL};

const char *const acm_ext_key_usage_oids[] = {
    "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3",
    "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.8", "1.3.6.1.5.5.7.3.9", NULL};

static int invalid(struct sl_err *err, const char *what)
{
    ERR_clear_error();
    return sl_err_set(err, 400, "ValidationException", "%s", what);
}

/* Never prompt: an encrypted key fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static char *bio_text(BIO *b)
{
    char *data, *out;
    long n = BIO_get_mem_data(b, &data);

    if (n < 0 || (out = malloc((size_t)n + 1)) == NULL)
        return NULL;
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    return out;
}

/* Every certificate of <text>, in order, into a new stack (NULL: none or
 * not PEM). */
static STACK_OF(X509) *read_certs(const char *text, size_t len)
{
    BIO *b = BIO_new_mem_buf(text, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;

    if (b == NULL || sk == NULL)
        goto fail;
    while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL)
        if (sk_X509_push(sk, x) == 0) {
            X509_free(x);
            goto fail;
        }
    ERR_clear_error(); /* the read that found no more */
    BIO_free(b);
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
fail:
    BIO_free(b);
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

static char *name_text(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        out = bio_text(b);
    BIO_free(b);
    return out;
}

static time_t asn1_epoch(const ASN1_TIME *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

/* ACM's KeyAlgorithm of <pk>, or SL_ERR for a key ACM does not import. */
static int key_algorithm(EVP_PKEY *pk, char out[16], struct sl_err *err)
{
    char group[64];
    size_t glen = 0;

    if (pk == NULL)
        return invalid(err, "The certificate's public key cannot be read");
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        switch (EVP_PKEY_get_bits(pk)) {
        case 1024: case 2048: case 3072: case 4096:
            snprintf(out, 16, "RSA_%d", EVP_PKEY_get_bits(pk));
            return SL_OK;
        }
        return invalid(err, "The RSA key size is not supported: ACM imports RSA keys of 1024, "
                            "2048, 3072 or 4096 bits");
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group), &glen) == 1 &&
            (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 ||
             strcmp(group, "secp521r1") == 0)) {
            snprintf(out, 16, "EC_%.12s", group);
            return SL_OK;
        }
        return invalid(err, "The EC curve is not supported: ACM imports P-256 (prime256v1), "
                            "P-384 (secp384r1) and P-521 (secp521r1) keys");
    }
    return invalid(err, "The key algorithm is not supported: ACM imports RSA and EC keys");
}

static void signature_algorithm(X509 *x, char out[32])
{
    int md = NID_undef, pk = NID_undef, i;
    const char *mds, *alg;

    snprintf(out, 32, "UNKNOWN");
    if (OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk) != 1)
        return;
    alg = pk == NID_rsaEncryption ? "RSA" : pk == NID_X9_62_id_ecPublicKey ? "ECDSA"
                                                                            : OBJ_nid2sn(pk);
    mds = md == NID_undef ? "NONE" : OBJ_nid2sn(md);
    snprintf(out, 32, "%sWITH%s", mds ? mds : "NONE", alg ? alg : "UNKNOWN");
    for (i = 0; out[i]; i++)
        if (out[i] >= 'a' && out[i] <= 'z')
            out[i] = (char)(out[i] - 'a' + 'A');
        else if (out[i] == '-')
            memmove(out + i, out + i + 1, strlen(out + i)); /* "SHA-256" style names */
}

static void serial_text(X509 *x, char *out, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    unsigned char bytes[48];
    int n = bn ? BN_num_bytes(bn) : 0, i;
    size_t off = 0;

    out[0] = '\0';
    if (bn && n > 0 && n <= (int)sizeof(bytes) && BN_bn2bin(bn, bytes) == n)
        for (i = 0; i < n && off + 4 <= cap; i++)
            off += (size_t)snprintf(out + off, cap - off, "%s%02x", i ? ":" : "", bytes[i]);
    BN_free(bn);
}

static void usages(X509 *x, struct acm_pem *p)
{
    static const uint32_t ku[] = {KU_DIGITAL_SIGNATURE, KU_NON_REPUDIATION, KU_KEY_ENCIPHERMENT,
                                  KU_DATA_ENCIPHERMENT, KU_KEY_AGREEMENT, KU_KEY_CERT_SIGN,
                                  KU_CRL_SIGN, KU_ENCIPHER_ONLY, KU_DECIPHER_ONLY};
    static const uint32_t xku[] = {XKU_SSL_SERVER, XKU_SSL_CLIENT, XKU_CODE_SIGN,
                                   XKU_SMIME, XKU_TIMESTAMP, XKU_OCSP_SIGN};
    uint32_t k = X509_get_key_usage(x), e = X509_get_extended_key_usage(x);
    size_t i;

    for (i = 0; k != UINT32_MAX && i < sizeof(ku) / sizeof(ku[0]); i++)
        if (k & ku[i])
            p->key_usage |= 1u << i;
    for (i = 0; e != UINT32_MAX && i < sizeof(xku) / sizeof(xku[0]); i++)
        if (e & xku[i])
            p->ext_key_usage |= 1u << i;
}

static char *asn1_utf8(const ASN1_STRING *s)
{
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, s);
    char *out;

    if (n < 0)
        return NULL;
    out = strndup((const char *)u, (size_t)n);
    OPENSSL_free(u);
    return out;
}

static int add_san(struct acm_pem *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nsans; i++)
        if (strcmp(p->sans[i], name) == 0)
            return SL_OK;
    if (p->nsans == ACM_SANS_MAX)
        return SL_ERR;
    return (p->sans[p->nsans++] = strdup(name)) ? SL_OK : SL_ENOMEM;
}

/* DomainName (the CN, else the first DNS name) and SubjectAlternativeNames
 * (the domain first, then each DNS name once). */
static int names(X509 *x, struct acm_pem *p, struct sl_err *err)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1), rc = SL_OK;

    if (i >= 0)
        p->domain = asn1_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char *dns;
        if (g->type != GEN_DNS || (dns = asn1_utf8(g->d.dNSName)) == NULL)
            continue;
        if (p->domain == NULL)
            p->domain = strdup(dns);
        if (add_san(p, p->domain ? p->domain : dns) != SL_OK || add_san(p, dns) != SL_OK)
            rc = SL_ERR;
        free(dns);
    }
    GENERAL_NAMES_free(gens);
    if (rc != SL_OK)
        return invalid(err, "The certificate has more subject alternative names than ACM's "
                            "limit of 100");
    if (p->domain == NULL || p->domain[0] == '\0')
        return invalid(err, "The certificate names no domain: it has neither a subject "
                            "common name (CN) nor a DNS subject alternative name");
    return add_san(p, p->domain) == SL_OK ? SL_OK : invalid(err, "out of memory");
}

/* Each certificate of <chain> issued the one before it, the first <leaf>. */
static int chain_leads(X509 *leaf, STACK_OF(X509) *chain, struct sl_err *err)
{
    X509 *child = leaf;
    int i;

    for (i = 0; i < sk_X509_num(chain); i++) {
        X509 *issuer = sk_X509_value(chain, i);
        char msg[160];
        if (X509_check_issued(issuer, child) != X509_V_OK || X509_get0_pubkey(issuer) == NULL ||
            X509_verify(child, X509_get0_pubkey(issuer)) != 1) {
            snprintf(msg, sizeof(msg),
                     "The certificate chain does not lead to the certificate: chain "
                     "certificate %d did not issue %s",
                     i + 1, i == 0 ? "the certificate" : "the chain certificate before it");
            return invalid(err, msg);
        }
        child = issuer;
    }
    return SL_OK;
}

static int load_key(const char *key, size_t key_len, EVP_PKEY **out, struct sl_err *err)
{
    BIO *b = BIO_new_mem_buf(key, (int)key_len);

    *out = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    if (*out)
        return SL_OK;
    if (memmem(key, key_len, "ENCRYPTED", 9))
        return invalid(err, "The private key is encrypted: ACM imports unencrypted private "
                            "keys only");
    return invalid(err, "The private key is not a PEM-encoded private key");
}

static char *pem_of(X509 *x, EVP_PKEY *pk)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (b && (x ? PEM_write_bio_X509(b, x)
                : PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL)) == 1)
        out = bio_text(b);
    BIO_free(b);
    return out;
}

static char *chain_text(STACK_OF(X509) *chain)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    int i;

    for (i = 0; b && i < sk_X509_num(chain); i++)
        if (PEM_write_bio_X509(b, sk_X509_value(chain, i)) != 1)
            goto out;
    if (b)
        out = bio_text(b);
out:
    BIO_free(b);
    return out;
}

/* The checks once the leaf, key and chain are loaded. */
static int check_and_fill(X509 *x, EVP_PKEY *pk, STACK_OF(X509) *chain, time_t now,
                          struct acm_pem *out, struct sl_err *err)
{
    if (key_algorithm(X509_get0_pubkey(x), out->key_algorithm, err) != SL_OK)
        return SL_ERR;
    if (pk && X509_check_private_key(x, pk) != 1)
        return invalid(err, "The private key does not match the public key in the "
                            "certificate");
    if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0)
        return invalid(err, "The certificate has expired (its NotAfter is in the past)");
    if (chain && chain_leads(x, chain, err) != SL_OK)
        return SL_ERR;
    if (names(x, out, err) != SL_OK)
        return SL_ERR;
    out->not_before = asn1_epoch(X509_get0_notBefore(x));
    out->not_after = asn1_epoch(X509_get0_notAfter(x));
    signature_algorithm(x, out->signature_algorithm);
    serial_text(x, out->serial, sizeof(out->serial));
    usages(x, out);
    out->subject = name_text(X509_get_subject_name(x));
    out->issuer = name_text(X509_get_issuer_name(x));
    out->cert_pem = pem_of(x, NULL);
    out->chain_pem = chain ? chain_text(chain) : strdup("");
    if (pk)
        out->key_pem = pem_of(NULL, pk);
    if (!out->subject || !out->issuer || !out->cert_pem || !out->chain_pem ||
        (pk && !out->key_pem))
        return sl_err_set(err, 500, "ServiceException", "out of memory");
    return SL_OK;
}

int acm_pem_parse(const char *cert, size_t cert_len, const char *key, size_t key_len,
                  const char *chain, size_t chain_len, time_t now, struct acm_pem *out,
                  struct sl_err *err)
{
    STACK_OF(X509) *leaf = NULL, *ch = NULL;
    EVP_PKEY *pk = NULL;
    int rc = SL_ERR;

    memset(out, 0, sizeof(*out));
    if (cert == NULL || cert_len == 0 || cert_len > ACM_CERT_MAX)
        return invalid(err, "The certificate must be 1 to 32768 bytes of PEM");
    if (key && (key_len == 0 || key_len > ACM_KEY_MAX))
        return invalid(err, "The private key must be 1 to 5120 bytes of PEM");
    if (chain && chain_len > ACM_CHAIN_MAX)
        return invalid(err, "The certificate chain must be at most 2097152 bytes of PEM");
    if ((leaf = read_certs(cert, cert_len)) == NULL) {
        invalid(err, "The certificate is not a PEM-encoded X.509 certificate");
        goto out;
    }
    if (sk_X509_num(leaf) != 1) {
        invalid(err, "The certificate field must contain exactly one certificate (put "
                     "intermediates in the certificate chain)");
        goto out;
    }
    if (chain && chain_len > 0 && (ch = read_certs(chain, chain_len)) == NULL) {
        invalid(err, "The certificate chain is not a list of PEM-encoded X.509 certificates");
        goto out;
    }
    if (key && load_key(key, key_len, &pk, err) != SL_OK)
        goto out;
    rc = check_and_fill(sk_X509_value(leaf, 0), pk, ch, now, out, err);
out:
    if (rc != SL_OK)
        acm_pem_clear(out);
    EVP_PKEY_free(pk);
    sk_X509_pop_free(ch, X509_free);
    sk_X509_pop_free(leaf, X509_free);
    ERR_clear_error();
    return rc;
}

void acm_pem_clear(struct acm_pem *p)
{
    size_t i;

    free(p->cert_pem);
    free(p->chain_pem);
    if (p->key_pem) {
        OPENSSL_cleanse(p->key_pem, strlen(p->key_pem));
        free(p->key_pem);
    }
    free(p->domain);
    for (i = 0; i < p->nsans; i++)
        free(p->sans[i]);
    free(p->subject);
    free(p->issuer);
    memset(p, 0, sizeof(*p));
}
