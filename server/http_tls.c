/*
 * http_tls.c - the control plane's TLS credentials for libmicrohttpd.
 */
#include "server/http_tls.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_FILE_MAX (1024 * 1024)
/* TLS 1.2 and 1.3 only: what every AWS SDK and curl speak. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct http_tls {
    char *cert;
    char *key;
    struct MHD_OptionItem opts[4];
};

static struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};

static int read_file(const char *path, const char *flag, char **out, struct sl_err *err)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t n;

    *out = NULL;
    if (f == NULL)
        return sl_err_set(err, 500, "InternalFailure", "%s %s: %s", flag, path, strerror(errno));
    if ((buf = malloc(TLS_FILE_MAX + 1)) == NULL) {
        fclose(f);
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    }
    n = fread(buf, 1, TLS_FILE_MAX + 1, f);
    fclose(f);
    if (n == 0 || n > TLS_FILE_MAX) {
        free(buf);
        return sl_err_set(err, 500, "InternalFailure", "%s %s: empty or over 1 MiB", flag, path);
    }
    buf[n] = '\0';
    *out = buf;
    return SL_OK;
}

/* The first certificate of <cert> matches the key <key>. */
static int check_pair(const struct sl_config *cfg, const char *cert, const char *key,
                      struct sl_err *err)
{
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
    int rc = SL_OK;

    if (x == NULL)
        rc = sl_err_set(err, 500, "InternalFailure", "--tls-cert %s: not a PEM certificate",
                        cfg->tls_cert);
    else if (k == NULL)
        rc = sl_err_set(err, 500, "InternalFailure",
                        "--tls-key %s: not an unencrypted PEM private key", cfg->tls_key);
    else if (X509_check_private_key(x, k) != 1)
        rc = sl_err_set(err, 500, "InternalFailure",
                        "--tls-key %s does not match the certificate in --tls-cert %s",
                        cfg->tls_key, cfg->tls_cert);
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return rc;
}

int http_tls_load(const struct sl_config *cfg, struct http_tls **out, struct sl_err *err)
{
    struct http_tls *t;

    *out = NULL;
    if (cfg->tls_cert[0] == '\0')
        return SL_OK;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sl_err_set(err, 500, "InternalFailure",
                          "--tls-cert: this libmicrohttpd was built without TLS");
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (read_file(cfg->tls_cert, "--tls-cert", &t->cert, err) != SL_OK ||
        read_file(cfg->tls_key, "--tls-key", &t->key, err) != SL_OK ||
        check_pair(cfg, t->cert, t->key, err) != SL_OK) {
        http_tls_free(t);
        return SL_ERR;
    }
    t->opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->cert};
    t->opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->key};
    t->opts[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
    t->opts[3] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    *out = t;
    return SL_OK;
}

void http_tls_free(struct http_tls *t)
{
    if (t == NULL)
        return;
    free(t->cert);
    if (t->key) {
        OPENSSL_cleanse(t->key, strlen(t->key));
        free(t->key);
    }
    free(t);
}

unsigned http_tls_flags(const struct http_tls *t)
{
    return t ? MHD_USE_TLS : 0;
}

struct MHD_OptionItem *http_tls_options(struct http_tls *t)
{
    return t ? t->opts : no_options;
}
