/*
 * tls.c - certificates, listener contexts with SNI and ALPN, and the
 * client context for HTTPS targets (see tls.h).
 */
#include "proxy/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "proxy/table.h"

struct px_cert {
    atomic_int refs;
    X509 *leaf;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    int ecdsa;
    int nnames;
    char **names; /* lowercase dNSNames (else the CN), "*.x" wildcards kept */
    char arn[PX_ARN_MAX]; /* the ACM certificate's, for the access log */
};

struct px_tls_srv {
    atomic_int refs;
    SSL_CTX *ctx;
    int h2_only;
    unsigned char alpn[32]; /* the server's preference list, wire format */
    unsigned alpn_len;
    int ncerts;
    struct px_cert *certs[PX_MAX_CERTS]; /* the default first */
};

/* ---- certificates ---- */

/* The last OpenSSL error as text into <err>; SL_EINVAL. */
static int ossl_fail(struct sl_err *err, const char *what)
{
    char detail[256] = "";
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    return sl_err_set(err, 400, "InvalidCertificate", "%s%s%s", what, detail[0] ? ": " : "",
                      detail);
}

static int add_name(struct px_cert *c, const char *s, size_t n)
{
    char **p, *d;
    size_t i;

    if (n == 0 || n > 253 || memchr(s, '\0', n))
        return SL_OK; /* not a host name: never matched */
    if ((p = realloc(c->names, sizeof(*p) * (size_t)(c->nnames + 1))) == NULL)
        return SL_ENOMEM;
    c->names = p;
    if ((d = malloc(n + 1)) == NULL)
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    d[n] = '\0';
    c->names[c->nnames++] = d;
    return SL_OK;
}

/* The names SNI matches: subjectAltName dNSNames, or the CN without them. */
static int collect_names(struct px_cert *c)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
    int i, rc = SL_OK;

    for (i = 0; sans && i < sk_GENERAL_NAME_num(sans) && rc == SL_OK; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
            rc = add_name(c, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                          (size_t)ASN1_STRING_length(g->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
    if (rc == SL_OK && c->nnames == 0) {
        X509_NAME *subj = X509_get_subject_name(c->leaf);
        int k = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        if (k >= 0) {
            ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, k));
            rc = add_name(c, (const char *)ASN1_STRING_get0_data(cn), (size_t)ASN1_STRING_length(cn));
        }
    }
    return rc;
}

static int read_chain(struct px_cert *c, const char *pem, struct sl_err *err)
{
    BIO *b;
    X509 *x;

    if ((c->chain = sk_X509_new_null()) == NULL)
        return SL_ENOMEM;
    if (pem == NULL || pem[0] == '\0')
        return SL_OK;
    if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
        return SL_ENOMEM;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(c->chain, x)) {
            X509_free(x);
            BIO_free(b);
            return SL_ENOMEM;
        }
    BIO_free(b);
    ERR_clear_error(); /* the end of the PEM text */
    return sk_X509_num(c->chain) > 0 ? SL_OK : ossl_fail(err, "chain_pem holds no certificate");
}

int px_cert_new(const char *cert_pem, const char *chain_pem, const char *key_pem,
                struct px_cert **out, struct sl_err *err)
{
    struct px_cert *c = calloc(1, sizeof(*c));
    BIO *b = NULL;
    int rc = SL_ENOMEM;

    *out = NULL;
    if (c == NULL)
        return SL_ENOMEM;
    atomic_init(&c->refs, 1);
    if ((b = BIO_new_mem_buf(cert_pem, -1)) == NULL)
        goto fail;
    if ((c->leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
        rc = ossl_fail(err, "certificate_pem is not a PEM certificate");
        goto fail;
    }
    BIO_free(b);
    if ((b = BIO_new_mem_buf(key_pem, -1)) == NULL)
        goto fail;
    if ((c->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
        rc = ossl_fail(err, "private_key_pem is not a PEM private key");
        goto fail;
    }
    if (X509_check_private_key(c->leaf, c->key) != 1) {
        rc = ossl_fail(err, "the private key does not match the certificate");
        goto fail;
    }
    c->ecdsa = EVP_PKEY_get_base_id(c->key) == EVP_PKEY_EC;
    if ((rc = read_chain(c, chain_pem, err)) != SL_OK || (rc = collect_names(c)) != SL_OK)
        goto fail;
    BIO_free(b);
    *out = c;
    return SL_OK;
fail:
    BIO_free(b);
    px_cert_release(c);
    return rc;
}

void px_cert_set_arn(struct px_cert *c, const char *arn)
{
    snprintf(c->arn, sizeof(c->arn), "%s", arn ? arn : "");
}

void px_cert_ref(struct px_cert *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
}

void px_cert_release(struct px_cert *c)
{
    int i;

    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    X509_free(c->leaf);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->key);
    free(c);
}

/* ---- SNI ---- */

/* 2 when <c> names <host> exactly, 1 by a wildcard, 0 not at all.  <host>
 * is lowercase. */
static int cert_match(const struct px_cert *c, const char *host)
{
    const char *dot = strchr(host, '.');
    int i, best = 0;

    for (i = 0; i < c->nnames; i++) {
        const char *n = c->names[i];
        if (strcmp(n, host) == 0)
            return 2;
        if (n[0] == '*' && n[1] == '.' && dot && dot != host && strcmp(n + 1, dot) == 0)
            best = 1;
    }
    return best;
}

/* Serve <c> on <ssl> beside what it has (one certificate per key type). */
static int use_cert(SSL *ssl, const struct px_cert *c)
{
    return SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1) == 1 ? 0 : -1;
}

static int sni_cb(SSL *ssl, int *alert, void *arg)
{
    const struct px_tls_srv *s = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char host[256];
    int i, level = 0, pick[2] = {-1, -1}; /* best RSA, best ECDSA */
    size_t n;

    if (name == NULL || s->ncerts < 2 || (n = strlen(name)) == 0 || n >= sizeof(host))
        return SSL_TLSEXT_ERR_OK; /* the default, already in place */
    for (i = 0; i <= (int)n; i++)
        host[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    if (n > 0 && host[n - 1] == '.')
        host[n - 1] = '\0'; /* a fully qualified name */
    for (i = 0; i < s->ncerts; i++) {
        int m = cert_match(s->certs[i], host), k = s->certs[i]->ecdsa;
        if (m > level) {
            level = m;
            pick[0] = pick[1] = -1;
        }
        if (m == level && m > 0 && pick[k] < 0)
            pick[k] = i;
    }
    if (level == 0 || (pick[0] == 0 && pick[1] < 0) || (pick[1] == 0 && pick[0] < 0))
        return SSL_TLSEXT_ERR_OK; /* no match, or just the default */
    SSL_certs_clear(ssl);
    for (i = 0; i < 2; i++)
        if (pick[i] >= 0 && use_cert(ssl, s->certs[pick[i]]) != 0) {
            *alert = SSL_AD_INTERNAL_ERROR;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
    return SSL_TLSEXT_ERR_OK;
}

/* ---- ALPN ---- */

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned inlen, void *arg)
{
    const struct px_tls_srv *s = arg;
    unsigned char *o;

    if (s->alpn_len > 0 &&
        SSL_select_next_proto(&o, outlen, s->alpn, s->alpn_len, in, inlen) ==
            OPENSSL_NPN_NEGOTIATED) {
        *out = o;
        return SSL_TLSEXT_ERR_OK;
    }
    return s->h2_only ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

/* The server's list for AlpnPolicy <alpn>, h2 dropped unless <http2>. */
static void alpn_list(struct px_tls_srv *s, int alpn, int http2)
{
    static const char *const lists[] = {
        [PX_ALPN_NONE] = "h2 http/1.1",
        [PX_ALPN_HTTP1ONLY] = "http/1.1 http/1.0",
        [PX_ALPN_HTTP2ONLY] = "h2",
        [PX_ALPN_HTTP2OPTIONAL] = "http/1.1 http/1.0 h2",
        [PX_ALPN_HTTP2PREFERRED] = "h2 http/1.1 http/1.0",
    };
    const char *p = alpn >= 0 && alpn <= PX_ALPN_HTTP2PREFERRED ? lists[alpn] : lists[0];

    s->alpn_len = 0;
    s->h2_only = alpn == PX_ALPN_HTTP2ONLY && http2;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (http2 || n != 2 || memcmp(p, "h2", 2) != 0) {
            s->alpn[s->alpn_len++] = (unsigned char)n;
            memcpy(s->alpn + s->alpn_len, p, n);
            s->alpn_len += (unsigned)n;
        }
        p += n + (p[n] == ' ');
    }
}

/* ---- server contexts ---- */

/* <policy>'s versions and ciphers on <ctx>, leaving out (and logging) what
 * this OpenSSL does not build. */
static int apply_policy(SSL_CTX *ctx, const struct tls_policy *policy, struct sl_err *err)
{
    char list[1024], suites[256], kept[1024] = "";
    size_t i;

    if (tls_policy_openssl_lists(policy, list, sizeof(list), suites, sizeof(suites)) != SL_OK)
        return sl_err_set(err, 500, "InternalFailure", "policy %s: lists too long", policy->name);
    if (policy->protocols & (TLS_PROTO_TLS1 | TLS_PROTO_TLS1_1))
        SSL_CTX_set_security_level(ctx, 0);
    if (!SSL_CTX_set_min_proto_version(ctx, tls_policy_min_version(policy)) ||
        !SSL_CTX_set_max_proto_version(ctx, tls_policy_max_version(policy)))
        return ossl_fail(err, "protocol versions");
    for (i = 0; i < policy->ncipher; i++) {
        const struct tls_cipher *c = policy->ciphers[i];
        if (c->tls13)
            continue;
        if (!SSL_CTX_set_cipher_list(ctx, c->name)) {
            ERR_clear_error();
            log_warn("tls: %s lists %s, which this OpenSSL does not build: left out",
                     policy->name, c->name);
            continue;
        }
        if (kept[0])
            strcat(kept, ":");
        strcat(kept, c->name);
    }
    /* TLS 1.3-only: an empty TLS 1.2 list is refused, and unused anyway */
    if (kept[0] && !SSL_CTX_set_cipher_list(ctx, kept))
        return ossl_fail(err, "cipher list");
    if (!SSL_CTX_set_ciphersuites(ctx, suites))
        return ossl_fail(err, "TLS 1.3 suites");
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    return SL_OK;
}

int px_tls_srv_new(const struct tls_policy *policy, int alpn, int http2,
                   struct px_cert *const *certs, int n, struct px_tls_srv **out,
                   struct sl_err *err)
{
    struct px_tls_srv *s;
    int i, rc = SL_ENOMEM;

    *out = NULL;
    if (n < 1 || n > PX_MAX_CERTS)
        return sl_err_set(err, 400, "InvalidCertificate", "no default certificate");
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return SL_ENOMEM;
    atomic_init(&s->refs, 1);
    for (i = 0; i < n; i++) {
        px_cert_ref(certs[i]);
        s->certs[s->ncerts++] = certs[i];
    }
    if ((s->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
        goto fail;
    if ((rc = apply_policy(s->ctx, policy, err)) != SL_OK)
        goto fail;
    if (SSL_CTX_use_cert_and_key(s->ctx, certs[0]->leaf, certs[0]->key, certs[0]->chain, 1) != 1) {
        rc = ossl_fail(err, "default certificate");
        goto fail;
    }
    SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(s->ctx, 1); /* a read() for many records, not two a record */
    SSL_CTX_set_session_id_context(s->ctx, (const unsigned char *)"sluice", 6);
    SSL_CTX_set_tlsext_servername_callback(s->ctx, sni_cb);
    SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
    alpn_list(s, alpn, http2);
    SSL_CTX_set_alpn_select_cb(s->ctx, alpn_cb, s);
    *out = s;
    return SL_OK;
fail:
    px_tls_srv_release(s);
    return rc;
}

void px_tls_srv_ref(struct px_tls_srv *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
}

void px_tls_srv_release(struct px_tls_srv *s)
{
    int i;

    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    SSL_CTX_free(s->ctx);
    for (i = 0; i < s->ncerts; i++)
        px_cert_release(s->certs[i]);
    free(s);
}

SSL *px_tls_srv_ssl(struct px_tls_srv *s)
{
    SSL *ssl = SSL_new(s->ctx);

    if (ssl)
        SSL_set_accept_state(ssl);
    return ssl;
}

int px_tls_srv_h2_only(const struct px_tls_srv *s)
{
    return s->h2_only;
}

const char *px_tls_srv_chosen_arn(const struct px_tls_srv *s, SSL *ssl)
{
    X509 *x = SSL_get_certificate(ssl); /* the one the handshake used */
    int i;

    if (SSL_session_reused(ssl))
        return "session-reused"; /* as ALB: no certificate was presented */
    for (i = 0; x && i < s->ncerts; i++)
        if (s->certs[i]->leaf == x)
            return s->certs[i]->arn[0] ? s->certs[i]->arn : NULL;
    return NULL;
}

/* ---- the client context ---- */

static SSL_CTX *client_ctx;
static int target_idx = -1;
static pthread_once_t client_once = PTHREAD_ONCE_INIT;

/* A new session for the target of <ssl>: kept for the next connection. */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct px_target *t = SSL_get_ex_data(ssl, target_idx);
    void *old;

    if (t == NULL)
        return 0;
    old = atomic_exchange(&t->tls_sess, (void *)sess);
    px_tls_session_free(old);
    return 1; /* the reference is ours */
}

/* As ALB towards targets: no verification, ELBSecurityPolicy-TLS13-1-0's
 * versions and ciphers (what ALB uses under a TLS 1.3 listener policy; the
 * broadest it has). */
static void client_init(void)
{
    const struct tls_policy *p = tls_policy_find("ELBSecurityPolicy-TLS13-1-0-2021-06");
    struct sl_err err = {0};
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || p == NULL || apply_policy(ctx, p, &err) != SL_OK) {
        log_error("tls: no client context for HTTPS targets: %s", err.message);
        SSL_CTX_free(ctx);
        return;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, new_session);
    target_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    client_ctx = ctx;
}

SSL *px_tls_client_ssl(struct px_target *t)
{
    SSL_SESSION *sess;
    SSL *ssl;

    pthread_once(&client_once, client_init);
    if (client_ctx == NULL || (ssl = SSL_new(client_ctx)) == NULL)
        return NULL;
    SSL_set_connect_state(ssl);
    SSL_set_ex_data(ssl, target_idx, t);
    /* taken, so that two connections never resume one TLS 1.3 ticket */
    if ((sess = atomic_exchange(&t->tls_sess, NULL)) != NULL) {
        SSL_set_session(ssl, sess);
        SSL_SESSION_free(sess);
    }
    return ssl;
}

void px_tls_client_handshaken(SSL *ssl)
{
    struct px_target *t = SSL_get_ex_data(ssl, target_idx);
    SSL_SESSION *sess;
    void *expect = NULL;

    if (t == NULL || !SSL_session_reused(ssl) || SSL_version(ssl) >= TLS1_3_VERSION ||
        (sess = SSL_get1_session(ssl)) == NULL)
        return;
    if (!atomic_compare_exchange_strong(&t->tls_sess, &expect, (void *)sess))
        SSL_SESSION_free(sess);
}

void px_tls_session_free(void *sess)
{
    SSL_SESSION_free(sess);
}
