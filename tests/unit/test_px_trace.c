/* Unit tests for proxy/trace.c: X-Amzn-Trace-Id as ALB adds and extends
 * it (a Root when there is none or it does not parse, a Self in front of a
 * valid Root, Self replaced, other fields kept in order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proxy/trace.h"

#define NOW ((time_t)0x6b0f61b1)
#define ROOT "Root=1-5759e988-bd862e3fe1be46a994272793"

static size_t value(const char *header, size_t head_len, char *out, size_t cap)
{
    struct h1_header h = {"X-Amzn-Trace-Id", 15, header, header ? strlen(header) : 0};
    size_t n = px_trace_value(header ? &h : NULL, header ? 1 : 0, head_len, NOW, out, cap);

    out[n] = '\0';
    return n;
}

/* "<field>=1-6b0f61b1-<24 hex>" at <p>. */
static void assert_id(const char *p, const char *field)
{
    size_t k = strlen(field);

    assert_memory_equal(p, field, k);
    assert_int_equal(p[k], '=');
    assert_true(px_trace_id_ok(p + k + 1, 35));
    assert_memory_equal(p + k + 1, "1-6b0f61b1-", 11);
}

static void test_no_header_gets_a_root(void **state)
{
    char out[320];

    assert_int_equal(value(NULL, 100, out, sizeof(out)), 40);
    assert_id(out, "Root");
}

static void test_root_gets_a_self(void **state)
{
    char out[320];

    value(ROOT, 100, out, sizeof(out));
    assert_id(out, "Self");
    assert_string_equal(out + 40, ";" ROOT);
}

static void test_self_is_replaced_and_fields_kept(void **state)
{
    char out[320];

    value("Self=1-00000000-000000000000000000000000;" ROOT ";CalledFrom=app", 100, out,
          sizeof(out));
    assert_id(out, "Self");
    assert_string_equal(out + 40, ";" ROOT ";CalledFrom=app");
    assert_null(strstr(out + 1, "Self=1-00000000"));
}

static void test_unparsable_is_treated_as_absent(void **state)
{
    static const char *const bad[] = {
        "Root=1-5759e988-bd862e3fe1be46a99427279",     /* 23 digits */
        "Root=2-5759e988-bd862e3fe1be46a994272793",    /* version */
        "Root=1-5759e98g-bd862e3fe1be46a994272793",    /* not hex */
        "Foo=bar",                                     /* no Root */
        ROOT ";" ROOT,                                 /* two Roots */
        ROOT ";novalue",                               /* not Key=Value */
        ROOT ";Bad=a b",                               /* a space */
        ROOT ";Bad=\"q\"",                             /* a quote */
        "",
    };
    char out[320];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(value(bad[i], 100, out, sizeof(out)), 40);
        assert_id(out, "Root");
        assert_true(strcmp(out, ROOT) != 0);
    }
}

static void test_large_head_gets_a_fresh_root(void **state)
{
    char out[320];

    assert_int_equal(value(ROOT, PX_TRACE_HEAD_MAX + 1, out, sizeof(out)), 40);
    assert_id(out, "Root");
}

static void test_too_long_to_extend(void **state)
{
    char big[400], out[320];

    memset(big, 'a', sizeof(big));
    memcpy(big, ROOT ";X=", 43);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(value(big, 1000, out, sizeof(out)), 40);
    assert_id(out, "Root");
}

static void test_two_headers_are_not_merged(void **state)
{
    struct h1_header h[2] = {{"x-amzn-trace-id", 15, ROOT, strlen(ROOT)},
                             {"X-AMZN-TRACE-ID", 15, ROOT, strlen(ROOT)}};
    char out[320];
    size_t n = px_trace_value(h, 2, 100, NOW, out, sizeof(out));

    out[n] = '\0';
    assert_id(out, "Root");
}

static void test_ids_differ(void **state)
{
    char a[320], b[320];

    value(NULL, 0, a, sizeof(a));
    value(NULL, 0, b, sizeof(b));
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_header_gets_a_root),
        cmocka_unit_test(test_root_gets_a_self),
        cmocka_unit_test(test_self_is_replaced_and_fields_kept),
        cmocka_unit_test(test_unparsable_is_treated_as_absent),
        cmocka_unit_test(test_large_head_gets_a_fresh_root),
        cmocka_unit_test(test_too_long_to_extend),
        cmocka_unit_test(test_two_headers_are_not_merged),
        cmocka_unit_test(test_ids_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
