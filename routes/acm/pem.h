/*
 * pem.h - certificates, keys and chains as ACM takes them: PEM text in,
 * checked with OpenSSL, the facts DescribeCertificate shows out.
 *
 * Caveats:
 * - Input is untrusted bytes (ImportCertificate's blobs): every failure is
 *   a 400 ValidationException whose message says what is wrong, and
 *   nothing is kept.  tests/fuzz/fuzz_acm_pem.c drives acm_pem_parse().
 * - A certificate must be exactly one PEM CERTIFICATE block; a key one
 *   unencrypted PEM private key (PKCS#8 "PRIVATE KEY", or the traditional
 *   "RSA PRIVATE KEY" / "EC PRIVATE KEY") of a type and size ACM imports
 *   (RSA 1024-4096, EC P-256/P-384/P-521); a chain zero or more
 *   CERTIFICATE blocks in order, each the issuer of the one before it,
 *   the first the issuer of the certificate.
 * - Thread-safe: no state of its own; OpenSSL 3 is thread-safe.
 */
#ifndef SL_ROUTES_ACM_PEM_H
#define SL_ROUTES_ACM_PEM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define ACM_CERT_MAX 32768      /* CertificateBodyBlob */
#define ACM_KEY_MAX 5120        /* PrivateKeyBlob */
#define ACM_CHAIN_MAX 2097152   /* CertificateChainBlob */
#define ACM_SANS_MAX 100

/* What a parsed certificate shows.  Every string is owned by the struct. */
struct acm_pem {
    char *cert_pem;             /* the leaf, re-encoded */
    char *chain_pem;            /* the intermediates, re-encoded; "" when none */
    char *key_pem;              /* PKCS#8, unencrypted; NULL when no key was given */
    char *domain;               /* subject CN, else the first DNS SAN */
    char *sans[ACM_SANS_MAX];   /* DNS names; the domain first */
    size_t nsans;
    char *subject, *issuer;     /* "CN=example.com,O=Example" */
    char serial[128];           /* "0a:1b:..." */
    char key_algorithm[16];     /* ACM's KeyAlgorithm: "RSA_2048", "EC_prime256v1" */
    char signature_algorithm[32]; /* "SHA256WITHRSA", "SHA256WITHECDSA" */
    time_t not_before, not_after;
    unsigned key_usage;         /* ACM_KU_* bits */
    unsigned ext_key_usage;     /* ACM_EKU_* bits */
};

/* KeyUsageName bits, in the model's order (acm_key_usage_names). */
enum {
    ACM_KU_DIGITAL_SIGNATURE = 1u << 0,
    ACM_KU_NON_REPUDIATION = 1u << 1,
    ACM_KU_KEY_ENCIPHERMENT = 1u << 2,
    ACM_KU_DATA_ENCIPHERMENT = 1u << 3,
    ACM_KU_KEY_AGREEMENT = 1u << 4,
    ACM_KU_CERTIFICATE_SIGNING = 1u << 5,
    ACM_KU_CRL_SIGNING = 1u << 6,
    ACM_KU_ENCIPHER_ONLY = 1u << 7,
    ACM_KU_DECIPHER_ONLY = 1u << 8,
};
extern const char *const acm_key_usage_names[]; /* NULL-terminated */

/* ExtendedKeyUsageName bits, in the model's order (acm_ext_key_usage_names). */
enum {
    ACM_EKU_TLS_WEB_SERVER_AUTHENTICATION = 1u << 0,
    ACM_EKU_TLS_WEB_CLIENT_AUTHENTICATION = 1u << 1,
    ACM_EKU_CODE_SIGNING = 1u << 2,
    ACM_EKU_EMAIL_PROTECTION = 1u << 3,
    ACM_EKU_TIME_STAMPING = 1u << 4,
    ACM_EKU_OCSP_SIGNING = 1u << 5,
};
extern const char *const acm_ext_key_usage_names[]; /* NULL-terminated */
extern const char *const acm_ext_key_usage_oids[];  /* the same order */

/* Parse and check <cert> (<cert_len> bytes), <key> and <chain> (either may
 * be NULL with length 0; a NULL key is for certificates whose key is
 * already stored: a re-import always carries one).  <now> decides expiry.
 * SL_OK with <out> filled (release with acm_pem_clear()), or SL_ERR with a
 * 400 ValidationException in <err> and <out> empty. */
int acm_pem_parse(const char *cert, size_t cert_len, const char *key, size_t key_len,
                  const char *chain, size_t chain_len, time_t now, struct acm_pem *out,
                  struct sl_err *err);

/* Free what <p> owns and zero it.  A zeroed struct is a no-op. */
void acm_pem_clear(struct acm_pem *p);

#endif
