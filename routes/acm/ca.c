/*
 * ca.c - the local certificate authority: an EC P-256 root made on the
 * first start, certificates signed with SHA-256.
 */
#include "routes/acm/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS 3650
#define LEAF_DAYS 395 /* ACM's public certificates: 13 months */

struct acm_ca {
    X509 *cert;
    EVP_PKEY *key;
    char *pem;
};

static int fail(struct sl_err *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";

    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return sl_err_set(err, 500, "ServiceException", "local certificate authority: %s%s%s",
                      what, buf[0] ? ": " : "", buf);
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

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = b && PEM_write_bio_X509(b, x) == 1 ? bio_text(b) : NULL;

    BIO_free(b);
    return out;
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1
                    ? bio_text(b) : NULL;

    BIO_free(b);
    return out;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A new certificate for <pub> named <cn>: random 128-bit serial, valid from
 * a minute ago (clock skew) for <days>. */
static X509 *new_cert(EVP_PKEY *pub, const char *cn, int days)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509_NAME *name;

    if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f; /* positive */
    if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        X509_set_version(x, 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) == NULL ||
        X509_set_pubkey(x, pub) != 1)
        goto fail;
    name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                   -1, 0) != 1)
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

static int create_root(struct acm_ca *ca, struct sl_err *err)
{
    char cn[64], hex[9];
    unsigned char r[4];
    int i;

    if ((ca->key = EVP_EC_gen("P-256")) == NULL || RAND_bytes(r, sizeof(r)) != 1)
        return fail(err, "cannot generate the root key");
    for (i = 0; i < 4; i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    snprintf(cn, sizeof(cn), "sluice local CA %s", hex);
    if ((ca->cert = new_cert(ca->key, cn, CA_DAYS)) == NULL ||
        X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert)) != 1 ||
        !add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        !add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") ||
        X509_sign(ca->cert, ca->key, EVP_sha256()) == 0)
        return fail(err, "cannot make the root certificate");
    return SL_OK;
}

/* Write <text> to <path> with <mode>, through a temporary file renamed into
 * place, so a crash leaves no half file. */
static int write_file(const char *path, const char *text, mode_t mode, struct sl_err *err)
{
    char tmp[4300];
    size_t len = strlen(text);
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0)
        return sl_err_set(err, 500, "ServiceException", "cannot create %s: %s", tmp,
                          strerror(errno));
    if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return sl_err_set(err, 500, "ServiceException", "cannot write %s: %s", tmp,
                          strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return sl_err_set(err, 500, "ServiceException", "cannot rename %s: %s", tmp,
                          strerror(errno));
    }
    return SL_OK;
}

static int load_root(struct acm_ca *ca, const char *cert_path, const char *key_path,
                     struct sl_err *err)
{
    FILE *f;

    if ((f = fopen(cert_path, "re")) != NULL) {
        ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if ((f = fopen(key_path, "re")) != NULL) {
        ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (ca->cert == NULL || ca->key == NULL || X509_check_private_key(ca->cert, ca->key) != 1) {
        ERR_clear_error();
        return sl_err_set(err, 500, "ServiceException",
                          "the local certificate authority in %s and %s cannot be read or its "
                          "key does not match (move both away to make a new one)",
                          cert_path, key_path);
    }
    return SL_OK;
}

int acm_ca_open(const char *data_dir, struct acm_ca **out, struct sl_err *err)
{
    char dir[4096], cert_path[4200], key_path[4200];
    struct acm_ca *ca = calloc(1, sizeof(*ca));
    char *kp = NULL;
    int rc = SL_ERR;

    *out = NULL;
    if (ca == NULL)
        return sl_err_set(err, 500, "ServiceException", "out of memory");
    snprintf(dir, sizeof(dir), "%s/ca", data_dir);
    snprintf(cert_path, sizeof(cert_path), "%s/ca.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        sl_err_set(err, 500, "ServiceException", "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    if (chmod(dir, 0700) != 0) {
        sl_err_set(err, 500, "ServiceException", "cannot restrict %s: %s", dir, strerror(errno));
        goto out;
    }
    if (access(key_path, F_OK) == 0 || access(cert_path, F_OK) == 0) {
        if (load_root(ca, cert_path, key_path, err) != SL_OK)
            goto out;
    } else if (create_root(ca, err) != SL_OK || (kp = key_pem(ca->key)) == NULL ||
               (ca->pem = cert_pem(ca->cert)) == NULL ||
               write_file(key_path, kp, 0600, err) != SL_OK ||
               write_file(cert_path, ca->pem, 0644, err) != SL_OK) {
        if (err->code[0] == '\0')
            fail(err, "cannot encode the root");
        goto out;
    }
    if (ca->pem == NULL && (ca->pem = cert_pem(ca->cert)) == NULL) {
        fail(err, "cannot encode the root");
        goto out;
    }
    *out = ca;
    rc = SL_OK;
out:
    if (kp) {
        OPENSSL_cleanse(kp, strlen(kp));
        free(kp);
    }
    if (rc != SL_OK)
        acm_ca_free(ca);
    return rc;
}

void acm_ca_free(struct acm_ca *ca)
{
    if (ca == NULL)
        return;
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    free(ca->pem);
    free(ca);
}

const char *acm_ca_pem(const struct acm_ca *ca)
{
    return ca->pem;
}

/* RequestCertificate's KeyAlgorithm values ACM issues public certificates
 * with. */
static EVP_PKEY *gen_key(const char *alg, struct sl_err *err)
{
    if (strcmp(alg, "RSA_2048") == 0)
        return EVP_RSA_gen(2048);
    if (strcmp(alg, "EC_prime256v1") == 0)
        return EVP_EC_gen("P-256");
    if (strcmp(alg, "EC_secp384r1") == 0)
        return EVP_EC_gen("P-384");
    sl_err_set(err, 400, "ValidationException",
               "Key algorithm '%.32s' is not supported for requested certificates: use "
               "RSA_2048, EC_prime256v1 or EC_secp384r1",
               alg);
    return NULL;
}

/* subjectAltName "DNS:a,DNS:b" for <domain> and <sans>. */
static char *san_value(const char *domain, const char *const *sans, size_t nsans)
{
    size_t i, cap = strlen(domain) + 8, off;
    char *s;

    for (i = 0; i < nsans; i++)
        cap += strlen(sans[i]) + 8;
    if ((s = malloc(cap)) == NULL)
        return NULL;
    off = (size_t)snprintf(s, cap, "DNS:%s", domain);
    for (i = 0; i < nsans; i++)
        if (strcmp(sans[i], domain) != 0)
            off += (size_t)snprintf(s + off, cap - off, ",DNS:%s", sans[i]);
    return s;
}

int acm_ca_issue(const struct acm_ca *ca, const char *domain, const char *const *sans,
                 size_t nsans, const char *key_algorithm, char **cert_out, char **key_out,
                 struct sl_err *err)
{
    EVP_PKEY *k;
    X509 *x = NULL;
    char *san = NULL;
    int rsa, rc = SL_ERR;

    *cert_out = *key_out = NULL;
    if ((k = gen_key(key_algorithm, err)) == NULL) {
        if (err->code[0] == '\0')
            fail(err, "cannot generate the key");
        return SL_ERR;
    }
    rsa = EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
    if ((san = san_value(domain, sans, nsans)) == NULL ||
        (x = new_cert(k, domain, LEAF_DAYS)) == NULL ||
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
        !add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, ca->cert, NID_key_usage,
                 rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature") ||
        !add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth") ||
        !add_ext(x, ca->cert, NID_subject_alt_name, san) ||
        !add_ext(x, ca->cert, NID_subject_key_identifier, "hash") ||
        !add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") ||
        X509_sign(x, ca->key, EVP_sha256()) == 0) {
        fail(err, "cannot issue the certificate");
        goto out;
    }
    if ((*cert_out = cert_pem(x)) == NULL || (*key_out = key_pem(k)) == NULL) {
        free(*cert_out);
        *cert_out = NULL;
        fail(err, "cannot encode the certificate");
        goto out;
    }
    rc = SL_OK;
out:
    free(san);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}
