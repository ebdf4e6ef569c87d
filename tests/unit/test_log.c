/* Unit tests for common/log.c: text lines for people, JSON lines (one
 * object a line, fields after "msg", strings escaped) for machines, and a
 * message too long for a line cut into a JSON line that still parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Run <fn> with stderr going to a file; its output, NUL-terminated. */
static char *captured(void (*fn)(void))
{
    static char out[65536];
    FILE *f = tmpfile();
    int saved = dup(2);
    size_t n;

    fflush(stderr);
    dup2(fileno(f), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void api_line(void)
{
    struct log_field f[] = {LOG_S("action", "RegisterTargets"), LOG_I("status", 200),
                            LOG_F("duration_ms", 0.4), LOG_S("principal", "AKID\"x"),
                            LOG_S("request_id", NULL)};

    log_event(LOG_INFO, f, 5, "RegisterTargets 200 %.1f ms", 0.4);
}

static void test_text(void **state)
{
    char *out;

    log_set_name("sluiced");
    log_set_format(LOG_TEXT);
    out = captured(api_line);
    assert_non_null(strstr(out, " sluiced info RegisterTargets 200 0.4 ms\n"));
    assert_null(strstr(out, "principal"));
}

static void test_json(void **state)
{
    json_error_t e;
    json_t *o;
    char *out;

    log_set_name("sluiced");
    log_set_format(LOG_JSON);
    out = captured(api_line);
    log_set_format(LOG_TEXT);
    assert_int_equal(strchr(out, '\n')[1], '\0'); /* one line */
    o = json_loads(out, 0, &e);
    if (o == NULL)
        fail_msg("not JSON: %s: %s", e.text, out);
    assert_string_equal(json_string_value(json_object_get(o, "process")), "sluiced");
    assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "RegisterTargets 200 0.4 ms");
    assert_string_equal(json_string_value(json_object_get(o, "action")), "RegisterTargets");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
    assert_true(json_real_value(json_object_get(o, "duration_ms")) == 0.4);
    assert_string_equal(json_string_value(json_object_get(o, "principal")), "AKID\"x");
    assert_true(json_is_null(json_object_get(o, "request_id")));
    assert_non_null(json_string_value(json_object_get(o, "time")));
    json_decref(o);
}

static void long_line(void)
{
    static char big[LOG_LINE_MAX];
    struct log_field f[] = {LOG_S("path", big)};

    memset(big, '"', sizeof(big) - 1); /* every byte escapes to two */
    log_event(LOG_WARN, f, 1, "%s", big);
}

static void test_json_cut(void **state)
{
    json_t *o;
    char *out;

    log_set_format(LOG_JSON);
    out = captured(long_line);
    log_set_format(LOG_TEXT);
    o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_true(strlen(json_string_value(json_object_get(o, "msg"))) <= 512);
    json_decref(o);
}

static void test_parse(void **state)
{
    assert_int_equal(log_parse_format("json"), LOG_JSON);
    assert_int_equal(log_parse_format("text"), LOG_TEXT);
    assert_int_equal(log_parse_format("xml"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_cut),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
