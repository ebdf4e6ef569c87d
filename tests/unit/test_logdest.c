/* Unit tests for common/logdest.c: S3 bucket names and prefixes that may
 * become directories, and the ones that must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/logdest.h"

static void test_buckets(void **state)
{
    static const char *const ok[] = {"abc", "my-logs", "logs.example.com", "a1b", "0ab",
                                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    static const char *const bad[] = {"", "ab", "ABC", "my_logs", "-abc", "abc-", ".abc", "abc.",
                                      "a..b", "a/b", "../x", "192.168.1.1", "a b",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(logdest_bucket_ok(ok[i]));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (logdest_bucket_ok(bad[i]))
            fail_msg("accepted bucket '%s'", bad[i]);
    assert_false(logdest_bucket_ok(NULL));
}

static void test_prefixes(void **state)
{
    static const char *const ok[] = {"", "p", "a/b/c", "team-1/prod", "x.y", "..a", "a.."};
    static const char *const bad[] = {"/a", "a/", "a//b", ".", "..", "a/../b", "a/./b",
                                      "AWSLogs", "x/AWSLogs/y", "a b", "a\\b", "\x01", "\xc3\xa9"};
    char longp[LOGDEST_PREFIX_MAX + 2];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!logdest_prefix_ok(ok[i]))
            fail_msg("refused prefix '%s'", ok[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (logdest_prefix_ok(bad[i]))
            fail_msg("accepted prefix '%s'", bad[i]);
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_false(logdest_prefix_ok(longp));
    longp[LOGDEST_PREFIX_MAX] = '\0';
    assert_true(logdest_prefix_ok(longp));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
