/* Unit tests for routes/query.c: the Query protocol's form decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "routes/wire/query.h"

static json_t *decode(const char *body, struct sl_err *err)
{
    return query_decode(body, strlen(body), err);
}

static void test_lists_and_structures(void **state)
{
    struct sl_err err = {0};
    json_t *q = decode("Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=arn%3Aaws%3Ax"
                       "&Targets.member.2.Id=10.0.0.6&Targets.member.1.Id=10.0.0.5"
                       "&Targets.member.1.Port=8080&Targets.member.10.Id=z",
                       &err);
    json_t *t;

    assert_non_null(q);
    assert_string_equal(json_string_value(json_object_get(q, "TargetGroupArn")), "arn:aws:x");
    t = json_object_get(q, "Targets");
    assert_true(json_is_array(t));
    assert_int_equal(json_array_size(t), 3);
    /* Ordered by index numerically, not lexically. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "Id")),
                        "10.0.0.5");
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "Id")),
                        "10.0.0.6");
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 2), "Id")), "z");
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "Port")), "8080");
    json_decref(q);
}

static void test_nested_config_lists(void **state)
{
    struct sl_err err = {0};
    json_t *q = decode("Conditions.member.1.Field=path-pattern"
                       "&Conditions.member.1.PathPatternConfig.Values.member.1=%2Fapi%2F%2A"
                       "&Conditions.member.1.PathPatternConfig.Values.member.2=%2Fv%3F%2Fx+y",
                       &err);
    json_t *vals;

    assert_non_null(q);
    vals = json_object_get(
        json_object_get(json_array_get(json_object_get(q, "Conditions"), 0), "PathPatternConfig"),
        "Values");
    assert_int_equal(json_array_size(vals), 2);
    assert_string_equal(json_string_value(json_array_get(vals, 0)), "/api/*");
    assert_string_equal(json_string_value(json_array_get(vals, 1)), "/v?/x y");
    json_decref(q);
}

static void test_empty_list_and_map(void **state)
{
    struct sl_err err = {0};
    json_t *q = decode("Tags=&M.entry.1.key=a&M.entry.1.value=b", &err);

    assert_non_null(q);
    assert_string_equal(json_string_value(json_object_get(q, "Tags")), "");
    assert_string_equal(json_string_value(json_object_get(json_object_get(q, "M"), "a")), "b");
    json_decref(q);
}

static void test_malformed(void **state)
{
    struct sl_err err = {0};

    assert_null(decode("A=%zz", &err));
    assert_string_equal(err.code, "MalformedQueryString");
    assert_null(decode("A=%4", &err));
    assert_null(decode("A=%00", &err));
    assert_null(decode("A=1&A.B=2", &err));
    assert_string_equal(err.code, "ValidationError");
    assert_null(decode("A.B=2&A=1", &err));
    assert_null(decode("A=1&A=2", &err));
    assert_null(decode("L.member.x=1", &err));
    assert_null(decode("L.member.0=1", &err));
    assert_null(decode("A..B=1", &err));
    assert_null(decode("=1", &err));
}

static void test_unescape(void **state)
{
    char out[32];

    assert_int_equal(query_unescape("a+b%2Fc", 7, out), 5);
    assert_string_equal(out, "a b/c");
    assert_int_equal(query_unescape("%", 1, out), -1);
    assert_int_equal(query_unescape("%a", 2, out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_and_structures), cmocka_unit_test(test_nested_config_lists),
        cmocka_unit_test(test_empty_list_and_map),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
