/* Unit tests for common/tls_policy.c: the AWS security policies as data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/ssl.h>
#include <string.h>

#include "common/err.h"
#include "common/tls_policy.h"

/* Every name AWS documents for Application Load Balancers before the FIPS and
 * PQ families. */
static const char *const aws_names[] = {
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-2015-05",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
};
#define NNAMES (sizeof(aws_names) / sizeof(aws_names[0]))

static const struct tls_policy *must_find(const char *name)
{
    const struct tls_policy *p = tls_policy_find(name);

    if (!p)
        fail_msg("policy %s not found", name);
    return p;
}

/* The listed names are all there, exactly once, and nothing else is. */
static void test_names(void **state)
{
    size_t i, j;

    (void)state;
    assert_int_equal(tls_policy_count(), NNAMES);
    for (i = 0; i < NNAMES; i++) {
        const struct tls_policy *p = must_find(aws_names[i]);

        assert_string_equal(p->name, aws_names[i]);
    }
    for (i = 0; i < tls_policy_count(); i++)
        for (j = i + 1; j < tls_policy_count(); j++)
            assert_string_not_equal(tls_policy_at(i)->name, tls_policy_at(j)->name);
    assert_null(tls_policy_at(tls_policy_count()));
    assert_null(tls_policy_find(NULL));
    assert_null(tls_policy_find("elbsecuritypolicy-2016-08"));
    assert_null(tls_policy_find("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04"));
}

/* One default, ELBSecurityPolicy-2016-08, as the AWS CLI's. */
static void test_default(void **state)
{
    size_t i, n = 0;

    (void)state;
    for (i = 0; i < tls_policy_count(); i++)
        n += tls_policy_at(i)->is_default ? 1 : 0;
    assert_int_equal(n, 1);
    assert_string_equal(tls_policy_default()->name, "ELBSecurityPolicy-2016-08");
    assert_true(must_find("ELBSecurityPolicy-2016-08")->is_default);
}

static unsigned protos(const char *name)
{
    return must_find(name)->protocols;
}

/* Protocol sets and the version range OpenSSL gets. */
static void test_protocols(void **state)
{
    const struct tls_policy *p;

    (void)state;
    assert_int_equal(protos("ELBSecurityPolicy-2016-08"),
                     TLS_PROTO_TLS1 | TLS_PROTO_TLS1_1 | TLS_PROTO_TLS1_2);
    assert_int_equal(protos("ELBSecurityPolicy-TLS-1-2-2017-01"), TLS_PROTO_TLS1_2);
    assert_int_equal(protos("ELBSecurityPolicy-TLS-1-1-2017-01"),
                     TLS_PROTO_TLS1_1 | TLS_PROTO_TLS1_2);
    assert_int_equal(protos("ELBSecurityPolicy-FS-1-1-2019-08"),
                     TLS_PROTO_TLS1_1 | TLS_PROTO_TLS1_2);
    assert_int_equal(protos("ELBSecurityPolicy-TLS13-1-3-2021-06"), TLS_PROTO_TLS1_3);
    assert_int_equal(protos("ELBSecurityPolicy-TLS13-1-2-2021-06"),
                     TLS_PROTO_TLS1_2 | TLS_PROTO_TLS1_3);
    assert_int_equal(protos("ELBSecurityPolicy-TLS13-1-0-2021-06"),
                     TLS_PROTO_TLS1 | TLS_PROTO_TLS1_1 | TLS_PROTO_TLS1_2 | TLS_PROTO_TLS1_3);

    p = must_find("ELBSecurityPolicy-TLS-1-2-2017-01");
    assert_int_equal(tls_policy_min_version(p), TLS1_2_VERSION);
    assert_int_equal(tls_policy_max_version(p), TLS1_2_VERSION);
    p = must_find("ELBSecurityPolicy-TLS13-1-1-2021-06");
    assert_int_equal(tls_policy_min_version(p), TLS1_1_VERSION);
    assert_int_equal(tls_policy_max_version(p), TLS1_3_VERSION);
    p = must_find("ELBSecurityPolicy-2016-08");
    assert_int_equal(tls_policy_min_version(p), TLS1_VERSION);
    assert_int_equal(tls_policy_max_version(p), TLS1_2_VERSION);

    assert_string_equal(tls_proto_name(TLS_PROTO_TLS1), "TLSv1");
    assert_string_equal(tls_proto_name(TLS_PROTO_TLS1_3), "TLSv1.3");
    assert_null(tls_proto_name(TLS_PROTO_TLS1 | TLS_PROTO_TLS1_1));
}

static size_t count(const char *name)
{
    return must_find(name)->ncipher;
}

static const char *cipher(const char *name, size_t priority)
{
    const struct tls_policy *p = must_find(name);

    assert_true(priority >= 1 && priority <= p->ncipher);
    return p->ciphers[priority - 1]->name;
}

/* Cipher lists as AWS's tables show them: counts, and the order at a few
 * points (DescribeSSLPolicies' Priority). */
static void test_ciphers(void **state)
{
    (void)state;
    assert_int_equal(count("ELBSecurityPolicy-2016-08"), 18);
    assert_int_equal(count("ELBSecurityPolicy-2015-05"), 18);
    assert_int_equal(count("ELBSecurityPolicy-TLS-1-0-2015-04"), 19);
    assert_int_equal(count("ELBSecurityPolicy-TLS-1-1-2017-01"), 18);
    assert_int_equal(count("ELBSecurityPolicy-TLS-1-2-2017-01"), 12);
    assert_int_equal(count("ELBSecurityPolicy-TLS-1-2-Ext-2018-06"), 18);
    assert_int_equal(count("ELBSecurityPolicy-FS-2018-06"), 12);
    assert_int_equal(count("ELBSecurityPolicy-FS-1-2-Res-2019-08"), 8);
    assert_int_equal(count("ELBSecurityPolicy-FS-1-2-Res-2020-10"), 4);
    assert_int_equal(count("ELBSecurityPolicy-TLS13-1-3-2021-06"), 3);
    assert_int_equal(count("ELBSecurityPolicy-TLS13-1-2-2021-06"), 11);
    assert_int_equal(count("ELBSecurityPolicy-TLS13-1-2-Res-2021-06"), 7);
    assert_int_equal(count("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06"), 15);
    assert_int_equal(count("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06"), 21);
    assert_int_equal(count("ELBSecurityPolicy-TLS13-1-0-2021-06"), 21);

    assert_string_equal(cipher("ELBSecurityPolicy-2016-08", 1), "ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_string_equal(cipher("ELBSecurityPolicy-2016-08", 11), "ECDHE-RSA-AES256-SHA");
    assert_string_equal(cipher("ELBSecurityPolicy-2016-08", 18), "AES256-SHA");
    assert_string_equal(cipher("ELBSecurityPolicy-TLS-1-0-2015-04", 19), "DES-CBC3-SHA");
    assert_string_equal(cipher("ELBSecurityPolicy-TLS13-1-2-2021-06", 1), "TLS_AES_128_GCM_SHA256");
    assert_string_equal(cipher("ELBSecurityPolicy-TLS13-1-2-2021-06", 3),
                        "TLS_CHACHA20_POLY1305_SHA256");
    assert_string_equal(cipher("ELBSecurityPolicy-TLS13-1-2-2021-06", 4),
                        "ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_string_equal(cipher("ELBSecurityPolicy-TLS13-1-2-2021-06", 11),
                        "ECDHE-RSA-AES256-SHA384");
    assert_string_equal(cipher("ELBSecurityPolicy-FS-1-2-Res-2020-10", 3),
                        "ECDHE-ECDSA-AES256-GCM-SHA384");
    assert_string_equal(cipher("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", 21), "AES256-SHA");
}

/* A TLS 1.3 suite belongs to a policy exactly when it allows TLS 1.3, and
 * no policy without TLS 1.2 or older lists an older cipher. */
static void test_suites_match_protocols(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < tls_policy_count(); i++) {
        const struct tls_policy *p = tls_policy_at(i);
        int has13 = 0, hasold = 0;

        for (j = 0; j < p->ncipher; j++) {
            if (p->ciphers[j]->tls13)
                has13 = 1;
            else
                hasold = 1;
        }
        assert_int_equal(has13, (p->protocols & TLS_PROTO_TLS1_3) != 0);
        assert_int_equal(hasold, (p->protocols & ~(unsigned)TLS_PROTO_TLS1_3) != 0);
    }
}

/* The two lists OpenSSL gets, and every name in them is one this OpenSSL
 * knows (a typo would be refused here, not at a listener), except 3DES,
 * which Debian's OpenSSL 3.0 does not build. */
static void test_openssl_lists(void **state)
{
    char list[1024], suites[256], small[8];
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    size_t i, j;

    (void)state;
    assert_non_null(ctx);
    assert_int_equal(tls_policy_openssl_lists(must_find("ELBSecurityPolicy-TLS13-1-2-Res-2021-06"),
                                              list, sizeof(list), suites, sizeof(suites)),
                     0);
    assert_string_equal(
        suites, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    assert_string_equal(list, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");
    assert_int_equal(tls_policy_openssl_lists(must_find("ELBSecurityPolicy-TLS13-1-3-2021-06"),
                                              list, sizeof(list), suites, sizeof(suites)),
                     0);
    assert_string_equal(list, "");
    assert_int_equal(tls_policy_openssl_lists(must_find("ELBSecurityPolicy-2016-08"), small,
                                              sizeof(small), suites, sizeof(suites)),
                     SL_EINVAL);
    assert_string_equal(small, "");

    for (i = 0; i < tls_policy_count(); i++) {
        const struct tls_policy *p = tls_policy_at(i);

        for (j = 0; j < p->ncipher; j++) {
            const struct tls_cipher *c = p->ciphers[j];
            char one[128];

            if (strcmp(c->name, "DES-CBC3-SHA") == 0)
                continue;
            if (c->tls13) {
                assert_int_equal(SSL_CTX_set_ciphersuites(ctx, c->name), 1);
                continue;
            }
            snprintf(one, sizeof(one), "%s:@SECLEVEL=0", c->name);
            if (SSL_CTX_set_cipher_list(ctx, one) != 1)
                fail_msg("%s: OpenSSL does not know %s", p->name, c->name);
        }
    }
    SSL_CTX_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_ciphers),
        cmocka_unit_test(test_suites_match_protocols),
        cmocka_unit_test(test_openssl_lists),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
