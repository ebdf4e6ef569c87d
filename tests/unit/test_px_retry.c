/* Unit tests for px_xchg_may_resend() (proxy/exchange.c): when a request
 * whose target failed may go to the target again.  ALB's rule: only if
 * none of it reached the target, or if it is a GET, HEAD or OPTIONS
 * without a body; never once the response began or after one retry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proxy/conn.h"

static void request(struct px_conn *c, const char *method, int64_t cl, int chunked)
{
    memset(c, 0, sizeof(*c));
    c->req.method = method;
    c->req.method_len = strlen(method);
    c->req.content_length = cl;
    c->req.chunked = chunked;
    c->res_state = R_HEAD;
}

static void test_nothing_sent_any_method(void **state)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    struct px_conn c;
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        request(&c, methods[i], 5, 0);
        assert_int_equal(px_xchg_may_resend(&c), 1); /* connect failed: nothing went */
        request(&c, methods[i], -1, 1);
        assert_int_equal(px_xchg_may_resend(&c), 1);
    }
}

static void test_sent_only_safe_without_body(void **state)
{
    struct px_conn c;

    request(&c, "POST", -1, 0); /* the body-less POST of issue 13 */
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "POST", 0, 0);
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "DELETE", -1, 0);
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "GET", -1, 0);
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 1);
    request(&c, "HEAD", 0, 0);
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 1);
    request(&c, "OPTIONS", -1, 0);
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 1);
    request(&c, "GET", 3, 0); /* a GET with a body is not repeated */
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "GET", -1, 1);
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "get", -1, 0); /* methods are case-sensitive */
    c.up_sent = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
}

static void test_body_taken_is_sent(void **state)
{
    struct px_conn c;

    /* body bytes left the client buffer for the target: they cannot be
     * sent again even if the write never happened */
    request(&c, "PUT", 5, 0);
    c.body_sent_any = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
}

static void test_never_twice_or_after_a_response(void **state)
{
    struct px_conn c;

    request(&c, "GET", -1, 0);
    c.retried = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "GET", -1, 0);
    c.resp_started = 1;
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "GET", -1, 0);
    c.ub_len = 10; /* part of a response head came */
    assert_int_equal(px_xchg_may_resend(&c), 0);
    request(&c, "GET", -1, 0);
    c.res_state = R_BODY;
    assert_int_equal(px_xchg_may_resend(&c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_sent_any_method),
        cmocka_unit_test(test_sent_only_safe_without_body),
        cmocka_unit_test(test_body_taken_is_sent),
        cmocka_unit_test(test_never_twice_or_after_a_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
