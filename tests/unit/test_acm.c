/*
 * test_acm.c - the ACM domain below the wire: PEM checks (pem.c), the
 * local CA (ca.c), base64 (wire/base64.c), domain names and tags, and a
 * certificate's use by listeners (cert.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/acm/acm.h"
#include "routes/acm/ca.h"
#include "routes/acm/pem.h"
#include "routes/wire/base64.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct acm_ca *ca;
    struct store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err e = {0};

    strcpy(f->dir, "/tmp/sluice-acm-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(acm_ca_open(f->dir, &f->ca, &e), SL_OK);
    assert_int_equal(store_open(f->dir, NULL, &f->s, &e), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_close(f->s);
    acm_ca_free(f->ca);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void issue(struct fixture *f, const char *alg, char **cert, char **key)
{
    const char *sans[] = {"*.example.com", "api.example.com"};
    struct sl_err e = {0};

    assert_int_equal(acm_ca_issue(f->ca, "www.example.com", sans, 2, alg, cert, key, &e), SL_OK);
}

static void test_issue_and_parse(void **state)
{
    struct fixture *f = *state;
    const char *algs[] = {"EC_prime256v1", "EC_secp384r1", "RSA_2048"};
    const char *ca = acm_ca_pem(f->ca);
    struct sl_err e = {0};
    struct acm_pem p;
    char *cert, *key;
    size_t i;

    for (i = 0; i < 3; i++) {
        issue(f, algs[i], &cert, &key);
        assert_int_equal(acm_pem_parse(cert, strlen(cert), key, strlen(key), ca, strlen(ca),
                                       time(NULL), &p, &e), SL_OK);
        assert_string_equal(p.key_algorithm, algs[i]);
        assert_string_equal(p.domain, "www.example.com");
        assert_int_equal(p.nsans, 3);
        assert_string_equal(p.sans[1], "*.example.com");
        assert_true(p.ext_key_usage & ACM_EKU_TLS_WEB_SERVER_AUTHENTICATION);
        assert_true(p.not_after - p.not_before > 390L * 86400);
        assert_non_null(strstr(p.key_pem, "BEGIN PRIVATE KEY"));
        assert_non_null(strstr(p.issuer, "sluice local CA"));
        /* expired once the clock passes NotAfter */
        assert_int_equal(acm_pem_parse(cert, strlen(cert), key, strlen(key), NULL, 0,
                                       p.not_after + 10, &(struct acm_pem){0}, &e), SL_ERR);
        assert_string_equal(e.code, "ValidationException");
        assert_non_null(strstr(e.message, "expired"));
        acm_pem_clear(&p);
        free(cert);
        free(key);
    }
    memset(&e, 0, sizeof(e));
    assert_int_equal(acm_ca_issue(f->ca, "x.example.com", NULL, 0, "RSA_4096", &cert, &key, &e),
                     SL_ERR);
    assert_string_equal(e.code, "ValidationException");
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    char *c1, *k1, *c2, *k2, two[16384];
    struct sl_err e = {0};
    struct acm_pem p;

    issue(f, "EC_prime256v1", &c1, &k1);
    issue(f, "EC_prime256v1", &c2, &k2);
    assert_int_equal(acm_pem_parse(c1, strlen(c1), k2, strlen(k2), NULL, 0, time(NULL), &p, &e),
                     SL_ERR);
    assert_non_null(strstr(e.message, "does not match"));
    /* the chain must issue the certificate: a leaf does not */
    assert_int_equal(acm_pem_parse(c1, strlen(c1), k1, strlen(k1), c2, strlen(c2), time(NULL),
                                   &p, &e), SL_ERR);
    assert_non_null(strstr(e.message, "chain"));
    snprintf(two, sizeof(two), "%s%s", c1, c2);
    assert_int_equal(acm_pem_parse(two, strlen(two), k1, strlen(k1), NULL, 0, time(NULL), &p, &e),
                     SL_ERR);
    assert_non_null(strstr(e.message, "exactly one"));
    assert_int_equal(acm_pem_parse("junk", 4, k1, strlen(k1), NULL, 0, time(NULL), &p, &e), SL_ERR);
    assert_int_equal(acm_pem_parse(c1, strlen(c1), "junk", 4, NULL, 0, time(NULL), &p, &e), SL_ERR);
    assert_non_null(strstr(e.message, "private key"));
    assert_null(p.cert_pem); /* nothing kept */
    free(c1);
    free(k1);
    free(c2);
    free(k2);
}

static void test_ca_kept(void **state)
{
    struct fixture *f = *state;
    struct acm_ca *again;
    struct sl_err e = {0};
    char path[128];
    FILE *fp;

    assert_int_equal(acm_ca_open(f->dir, &again, &e), SL_OK);
    assert_string_equal(acm_ca_pem(again), acm_ca_pem(f->ca));
    acm_ca_free(again);
    /* a damaged key is refused, never replaced */
    snprintf(path, sizeof(path), "%s/ca/ca.key", f->dir);
    assert_non_null(fp = fopen(path, "w"));
    fputs("broken", fp);
    fclose(fp);
    assert_int_equal(acm_ca_open(f->dir, &again, &e), SL_ERR);
    assert_non_null(strstr(e.message, "move both away"));
}

static void test_base64(void **state)
{
    static const struct {
        const char *in, *out;
    } ok[] = {{"", ""}, {"YQ==", "a"}, {"YWI=", "ab"}, {"YWJj", "abc"}, {"YWJjZA==", "abcd"}};
    static const char *const bad[] = {"Y", "YQ=", "YQ", "Y===", "YW=j", "YW j", "YQ==YQ==", "%%%%"};
    char *out;
    size_t n, i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(b64_decode(ok[i].in, strlen(ok[i].in), &out, &n), SL_OK);
        assert_int_equal(n, strlen(ok[i].out));
        assert_string_equal(out, ok[i].out);
        free(out);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (b64_decode(bad[i], strlen(bad[i]), &out, &n) != SL_EINVAL)
            fail_msg("'%s' decoded", bad[i]);
}

static void test_names_tags(void **state)
{
    static const char *const good[] = {"example.com", "*.example.com", "a-b.c.example.org"};
    static const char *const bad[] = {"", "com", "-a.example.com", "a..b", "*.*.example.com",
                                      "a_b.example.com", "a.example.com,DNS:evil.com",
                                      "IP:1.2.3.4"};
    struct acm_tag tags[] = {{"aws:x", "1"}};
    struct sl_err e = {0};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(acm_domain_check(good[i], "domainName", &e), SL_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (acm_domain_check(bad[i], "domainName", &e) == SL_OK)
            fail_msg("'%s' accepted", bad[i]);
    assert_int_equal(acm_tags_check(tags, 1, &e), SL_ERR);
    assert_string_equal(e.code, "InvalidTagException");
}

struct use_call {
    const struct acm_pem *p;
    const char *arn;
    int in_use;
    json_t *out;
};

static int import_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct use_call *c = arg;
    struct acm_env env = {"us-east-1", "123456789012", NULL};

    return acm_import(txn, &env, NULL, c->p, NULL, 0, &c->out, err);
}

static int use_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct use_call *c = arg;

    return acm_cert_use(txn, c->arn, "arn:listener/1", c->in_use, err);
}

static int delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct use_call *c = arg;

    return acm_delete(txn, c->arn, err);
}

static void test_in_use(void **state)
{
    struct fixture *f = *state;
    struct use_call c = {NULL, NULL, 1, NULL};
    struct sl_err e = {0};
    struct acm_pem p;
    char *cert, *key;
    uint64_t rev, rev2;

    issue(f, "EC_prime256v1", &cert, &key);
    assert_int_equal(acm_pem_parse(cert, strlen(cert), key, strlen(key), NULL, 0, time(NULL), &p,
                                   &e), SL_OK);
    c.p = &p;
    assert_int_equal(store_write(f->s, import_tx, &c, NULL, &e), SL_OK);
    c.arn = json_string_value(c.out);
    assert_int_equal(store_write(f->s, use_tx, &c, &rev, &e), SL_OK);
    assert_true(rev > 0); /* the use is a change: the feed sends the certificate */
    assert_int_equal(store_write(f->s, use_tx, &c, &rev2, &e), SL_OK);
    assert_int_equal(rev2, 0); /* the same use again changes nothing */
    assert_int_equal(store_write(f->s, delete_tx, &c, NULL, &e), SL_ERR);
    assert_string_equal(e.code, "ResourceInUseException");
    c.in_use = 0;
    assert_int_equal(store_write(f->s, use_tx, &c, NULL, &e), SL_OK);
    assert_int_equal(store_write(f->s, delete_tx, &c, NULL, &e), SL_OK);
    c.in_use = 1;
    assert_int_equal(store_write(f->s, use_tx, &c, NULL, &e), SL_ENOTFOUND);
    json_decref(c.out);
    acm_pem_clear(&p);
    free(cert);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_and_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_kept, setup, teardown),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_names_tags),
        cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
