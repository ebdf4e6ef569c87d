/* Unit tests for proxy/pathnorm.c: the normal form path-pattern rules
 * match (decoded once, '\' as '/', '/' runs merged, dot segments removed),
 * and the fast check that spares the copy agrees with it on every case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proxy/pathnorm.h"

static const struct {
    const char *in, *out;
} cases[] = {
    {"", "/"},
    {"/", "/"},
    {"/admin", "/admin"},
    {"/%61dmin", "/admin"},
    {"/%61%64%6D%69%6e", "/admin"},
    {"//admin", "/admin"},
    {"///admin//x", "/admin/x"},
    {"/x/../admin", "/admin"},
    {"/x/%2e%2e/admin", "/admin"},
    {"/x/%2E%2E%2Fadmin", "/admin"},
    {"/x/y/../../admin", "/admin"},
    {"/../admin", "/admin"},
    {"/../../a", "/a"},
    {"/a/..", "/"},
    {"/x/../", "/"},
    {"/admin/.", "/admin/"},
    {"/./admin", "/admin"},
    {"/a/./b/../c", "/a/c"},
    {"/a\\..\\admin", "/admin"},
    {"/a%5c..%5cadmin", "/admin"},
    {"%2F%2Fadmin", "/admin"},
    {"/a/b/", "/a/b/"},
    {"/a/.b", "/a/.b"},
    {"/..a", "/..a"},
    {"/a..", "/a.."},
    {"/%2561dmin", "/%61dmin"}, /* decoded once only */
    {"/a%", "/a%"},
    {"/a%2", "/a%2"},
    {"/a%zz", "/a%zz"},
    {"/a%20b", "/a b"},
    {"/Admin", "/Admin"}, /* case is kept: path patterns are case sensitive */
};

static void test_normal_forms(void **state)
{
    char out[256];
    size_t i, n;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = px_path_normalize(cases[i].in, strlen(cases[i].in), out);
        assert_true(n <= strlen(cases[i].in) + 1);
        out[n] = '\0';
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("'%s' normalized to '%s', want '%s'", cases[i].in, out, cases[i].out);
    }
}

/* px_path_is_normal() says yes only when normalizing changes nothing. */
static void test_fast_check_agrees(void **state)
{
    static const char alphabet[] = "/a.%2e5cF\\";
    char in[8], out[16];
    unsigned long k, total = 1;
    size_t len, i, n;
    int same;

    for (i = 0; i < 6; i++)
        total *= sizeof(alphabet) - 1;
    for (len = 0; len <= 6; len++) {
        unsigned long combos = 1;
        for (i = 0; i < len; i++)
            combos *= sizeof(alphabet) - 1;
        for (k = 0; k < combos && k < total; k++) {
            unsigned long v = k;
            for (i = 0; i < len; i++) {
                in[i] = alphabet[v % (sizeof(alphabet) - 1)];
                v /= sizeof(alphabet) - 1;
            }
            n = px_path_normalize(in, len, out);
            same = n == len && memcmp(in, out, len) == 0;
            /* never a normal verdict on a path that changes; and without a
             * '%' (which it does not try to judge) never a needless copy */
            if ((px_path_is_normal(in, len) && !same) ||
                (!px_path_is_normal(in, len) && same && memchr(in, '%', len) == NULL))
                fail_msg("fast check disagrees on '%.*s' (normal form '%.*s')", (int)len, in,
                         (int)n, out);
            /* normalizing twice changes nothing more, except a second
             * decoding of what the first produced */
            if (memchr(out, '%', n) == NULL) {
                char again[16];
                size_t m = px_path_normalize(out, n, again);
                assert_int_equal(m, n);
                assert_memory_equal(again, out, n);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_forms),
        cmocka_unit_test(test_fast_check_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
