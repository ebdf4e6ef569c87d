/*
 * tls_policy.h - the AWS ELB security policies (SslPolicy) as data: which
 * TLS protocol versions and which ciphers, in AWS's order, each policy names.
 *
 * Both binaries use it: sluiced for DescribeSSLPolicies and to validate the
 * SslPolicy of a listener, sluice-proxy to configure OpenSSL for an HTTPS
 * listener.  The table follows AWS's "Security policies for your Application
 * Load Balancer" page; a policy name is immutable at AWS, so the data never
 * changes for a name, only new names are added.
 *
 * Caveats:
 *  - Cipher names are AWS's (DescribeSSLPolicies' Ciphers[].Name), which are
 *    OpenSSL's names too; the TLS 1.3 suites carry a flag because OpenSSL
 *    takes them in a separate list (SSL_CTX_set_ciphersuites).
 *  - A cipher the local OpenSSL does not build is still listed here (AWS
 *    lists it); DES-CBC3-SHA of ELBSecurityPolicy-TLS-1-0-2015-04 is one on
 *    Debian 12, whose OpenSSL 3.0 has no 3DES suite.  The proxy offers the
 *    rest of the policy and says so in its log.
 *  - The FIPS and post-quantum (PQ) policies of 2023 and later are not
 *    listed: the proxy cannot honour them with Debian's OpenSSL 3.0 (no FIPS
 *    provider, no ML-KEM), so sluiced refuses their names.
 *  - Static data, no state: every function is thread-safe.
 */
#ifndef SL_COMMON_TLS_POLICY_H
#define SL_COMMON_TLS_POLICY_H

#include <stddef.h>

/* Protocol versions as bits of tls_policy.protocols. */
enum tls_proto {
    TLS_PROTO_TLS1 = 1 << 0,   /* "TLSv1" */
    TLS_PROTO_TLS1_1 = 1 << 1, /* "TLSv1.1" */
    TLS_PROTO_TLS1_2 = 1 << 2, /* "TLSv1.2" */
    TLS_PROTO_TLS1_3 = 1 << 3, /* "TLSv1.3" */
};
#define TLS_PROTO_COUNT 4

struct tls_cipher {
    const char *name; /* AWS's and OpenSSL's name, e.g. "ECDHE-RSA-AES128-GCM-SHA256" */
    int tls13;        /* a TLS 1.3 suite (OpenSSL: SSL_CTX_set_ciphersuites) */
};

struct tls_policy {
    const char *name;                        /* "ELBSecurityPolicy-2016-08" */
    unsigned protocols;                      /* enum tls_proto bits */
    const struct tls_cipher *const *ciphers; /* AWS's order: Priority = index + 1 */
    size_t ncipher;
    int is_default; /* the policy a listener gets without SslPolicy */
};

/* The policy named <name> (exact, case-sensitive as at AWS), or NULL when
 * unknown or <name> is NULL.  Borrowed static data. */
const struct tls_policy *tls_policy_find(const char *name);

/* The policies in a fixed order (DescribeSSLPolicies lists them so):
 * tls_policy_at(i) for i < tls_policy_count(), NULL past the end. */
size_t tls_policy_count(void);
const struct tls_policy *tls_policy_at(size_t i);

/* ELBSecurityPolicy-2016-08. */
const struct tls_policy *tls_policy_default(void);

/* AWS's name of protocol bit <proto> ("TLSv1.2"), or NULL for anything but
 * one enum tls_proto bit. */
const char *tls_proto_name(unsigned proto);

/* The lowest and highest protocol of <p> as the wire's version numbers
 * (0x0301 TLS 1.0 ... 0x0304 TLS 1.3, equal to OpenSSL's TLS1_VERSION ...
 * TLS1_3_VERSION).  Every policy's versions are contiguous, so the pair
 * says all of it. */
int tls_policy_min_version(const struct tls_policy *p);
int tls_policy_max_version(const struct tls_policy *p);

/* OpenSSL's two lists for <p>: <list> the TLS 1.2-and-older ciphers joined
 * by ':' (SSL_CTX_set_cipher_list), <suites> the TLS 1.3 suites
 * (SSL_CTX_set_ciphersuites), each in AWS's order, "" when the policy has
 * none.  Returns 0, or SL_EINVAL when a buffer is too small (it then holds
 * an empty string). */
int tls_policy_openssl_lists(const struct tls_policy *p, char *list, size_t list_len, char *suites,
                             size_t suites_len);

#endif
