/* Unit tests for routes/xml.c: the Query protocol's XML responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "routes/wire/xml.h"

static void test_envelope_and_lists(void **state)
{
    struct buf b;
    json_t *r = json_pack("{s[{ss si sb s[s]}]}", "TargetGroups", "TargetGroupName", "a<b&c",
                          "Port", 80, "HealthCheckEnabled", 1, "LoadBalancerArns", "arn:1");

    buf_init(&b);
    xml_response(&b, XML_NS_ELBV2, "DescribeTargetGroups", r, "rid-1");
    assert_non_null(strstr(b.data, "<DescribeTargetGroupsResponse xmlns=\"" XML_NS_ELBV2 "\">"));
    assert_non_null(strstr(b.data, "<DescribeTargetGroupsResult><TargetGroups><member>"
                                   "<TargetGroupName>a&lt;b&amp;c</TargetGroupName><Port>80</Port>"
                                   "<HealthCheckEnabled>true</HealthCheckEnabled>"
                                   "<LoadBalancerArns><member>arn:1</member></LoadBalancerArns>"
                                   "</member></TargetGroups></DescribeTargetGroupsResult>"));
    assert_non_null(strstr(b.data, "<RequestId>rid-1</RequestId>"));
    buf_free(&b);
    json_decref(r);
}

static void test_empty_result(void **state)
{
    struct buf b;
    json_t *r = json_object();

    buf_init(&b);
    xml_response(&b, XML_NS_ELBV2, "RegisterTargets", r, "x");
    assert_non_null(strstr(b.data, "<RegisterTargetsResult/>"));
    buf_free(&b);
    json_decref(r);
}

static void test_error(void **state)
{
    struct buf b;
    struct sl_err e = {0};

    sl_err_set(&e, 400, "TargetGroupNotFound", "One or more target groups not found: '%s'", "x");
    buf_init(&b);
    xml_error(&b, XML_NS_ELBV2, &e, "r");
    assert_non_null(strstr(b.data, "<Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>"
                                   "<Message>One or more target groups not found: &apos;x&apos;"
                                   "</Message></Error><RequestId>r</RequestId>"));
    buf_free(&b);
    sl_err_set(&e, 500, "InternalFailure", "boom");
    buf_init(&b);
    xml_error(&b, XML_NS_ELBV2, &e, "r");
    assert_non_null(strstr(b.data, "<Type>Receiver</Type>"));
    buf_free(&b);
}

static void test_escape_controls(void **state)
{
    struct buf b;

    buf_init(&b);
    xml_escape(&b, "a\x01" "b\"", 4);
    assert_string_equal(b.data, "a\\u0001b&quot;");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_and_lists),
        cmocka_unit_test(test_empty_result),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_escape_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
