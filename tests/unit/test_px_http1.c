/* Unit tests for proxy/http1.c: request and response heads, the chunked
 * decoder, hop-by-hop fields, and the data-driven cases in px_http1_cases/. */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"

#define S(lit) lit, sizeof(lit) - 1

/* Every input is parsed from an exact-size heap copy, so ASan sees any read
 * past <len>. */
static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n > 0 ? n : 1);

    assert_non_null(p);
    if (n > 0)
        memcpy(p, s, n);
    return p;
}

static int parse_req(const char *s, size_t n, struct h1_request *req, int *status)
{
    struct h1_scan scan = {0};

    return h1_parse_request(s, n, &scan, req, status);
}

/* Feed <s> a byte at a time, each time from a fresh exact-size buffer (the
 * contract lets the buffer move between calls).  Every prefix shorter than
 * the final verdict must be H1_INCOMPLETE.  On success the pointers in <req>
 * point into <keep> (freed by the caller). */
static int parse_req_bytewise(const char *s, size_t n, struct h1_request *req, int *status,
                              char **keep)
{
    struct h1_scan scan = {0};
    size_t i;
    int rc = H1_INCOMPLETE;

    *keep = NULL;
    for (i = 1; i <= n; i++) {
        char *b = dup_exact(s, i);

        rc = h1_parse_request(b, i, &scan, req, status);
        if (rc > 0)
            *keep = b;
        else
            free(b);
        if (rc != H1_INCOMPLETE)
            return rc;
    }
    return rc;
}

static void assert_span(const char *p, size_t n, const char *want)
{
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

/* Run the decoder over <s>, splitting the input at <split> (feeding the two
 * parts from separate exact-size buffers); decoded bytes go to <out>. */
static int decode_split(const char *s, size_t n, size_t split, char *out, size_t *out_len,
                        size_t *used)
{
    struct h1_chunked st = {0};
    size_t part, off = 0;
    int rc = H1_INCOMPLETE;

    *out_len = 0;
    *used = 0;
    for (part = 0; part < 2; part++) {
        size_t lo = part == 0 ? 0 : split, hi = part == 0 ? split : n;
        char *b = dup_exact(s + lo, hi - lo);

        off = 0;
        for (;;) {
            const char *d;
            size_t dl, c;

            rc = h1_chunked_decode(&st, b + off, hi - lo - off, &c, &d, &dl);
            assert_true(c <= hi - lo - off);
            off += c;
            if (dl > 0) {
                assert_true(d >= b && d + dl <= b + (hi - lo));
                memcpy(out + *out_len, d, dl);
                *out_len += dl;
            }
            if (rc == H1_ERROR || rc == H1_DONE) {
                free(b);
                *used = lo + off;
                return rc;
            }
            if (rc == H1_INCOMPLETE)
                break;
            assert_int_equal(rc, SL_OK);
        }
        assert_int_equal(off, hi - lo);
        free(b);
    }
    *used = n;
    return rc;
}

static void test_get(void **state)
{
    static const char r[] = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n"
                            "User-Agent: t\r\nX-Empty:\r\nX-Pad: \t padded \t\r\n\r\n";
    struct h1_request req;
    int status = -1;

    assert_int_equal(parse_req(S(r), &req, &status), sizeof(r) - 1);
    assert_int_equal(status, 0);
    assert_span(req.method, req.method_len, "GET");
    assert_span(req.target, req.target_len, "/index.html?x=1");
    assert_span(req.path, req.path_len, "/index.html?x=1");
    assert_int_equal(req.form, H1_TARGET_ORIGIN);
    assert_int_equal(req.minor_version, 1);
    assert_int_equal(req.nheaders, 4);
    assert_span(req.headers[1].name, req.headers[1].name_len, "User-Agent");
    assert_span(req.headers[1].value, req.headers[1].value_len, "t");
    assert_int_equal(req.headers[2].value_len, 0);
    assert_span(req.headers[3].value, req.headers[3].value_len, "padded");
    assert_span(req.host, req.host_len, "example.com");
    assert_int_equal(req.content_length, -1);
    assert_false(req.chunked);
    assert_true(req.keep_alive);
    assert_false(req.expect_continue);
    assert_false(req.upgrade);
    /* Pointers borrow from the buffer, nothing is copied. */
    assert_ptr_equal(req.method, r);
    assert_ptr_equal(req.host, strstr(r, "example.com"));
}

static void test_post_content_length(void **state)
{
    static const char r[] = "POST /f HTTP/1.1\r\nhost: a.example:8080\r\nContent-Length: 0005\r\n"
                            "Expect: 100-continue\r\n\r\nhello";
    struct h1_request req;
    int status;

    assert_int_equal(parse_req(S(r), &req, &status), sizeof(r) - 1 - 5);
    assert_int_equal(req.content_length, 5);
    assert_false(req.chunked);
    assert_true(req.expect_continue);
    assert_span(req.host, req.host_len, "a.example:8080");
    assert_true(parse_req(S("PUT / HTTP/1.1\r\nHost: a\r\nExpect: , 100-Continue\r\n\r\n"), &req,
                          &status) > 0);
    assert_true(req.expect_continue);
}

static void test_post_chunked(void **state)
{
    static const char r[] =
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip-not, chunked\r\n\r\n";
    static const char r2[] = "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n"
                             "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\nGET";
    struct h1_request req;
    int status, head;
    char out[64];
    size_t out_len, used;

    assert_int_equal(parse_req(S(r), &req, &status), H1_ERROR);
    assert_int_equal(status, 501);

    head = parse_req(S(r2), &req, &status);
    assert_true(head > 0);
    assert_true(req.chunked);
    assert_int_equal(req.content_length, -1);
    assert_int_equal(
        decode_split(r2 + head, sizeof(r2) - 1 - (size_t)head, 0, out, &out_len, &used), H1_DONE);
    assert_span(out, out_len, "Wikipedia");
    /* The decoder stops at the end of the body: "GET" is the next request. */
    assert_int_equal(used, sizeof(r2) - 1 - (size_t)head - 3);
}

static void test_http10(void **state)
{
    struct h1_request req;
    int status;

    assert_true(parse_req(S("GET / HTTP/1.0\r\n\r\n"), &req, &status) > 0);
    assert_int_equal(req.minor_version, 0);
    assert_false(req.keep_alive);
    assert_null(req.host);
    assert_true(parse_req(S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), &req, &status) >
                0);
    assert_true(req.keep_alive);
    assert_true(
        parse_req(S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), &req, &status) > 0);
    assert_false(req.keep_alive);
    /* Expect and Upgrade mean nothing in 1.0 (RFC 9110 10.1.1, 7.8). */
    assert_true(parse_req(S("GET / HTTP/1.0\r\nExpect: x\r\nUpgrade: ws\r\nConnection: upgrade"
                            "\r\n\r\n"),
                          &req, &status) > 0);
    assert_false(req.expect_continue);
    assert_false(req.upgrade);
}

static void test_connection_tokens(void **state)
{
    struct h1_request req;
    int status;

    assert_true(parse_req(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-foo, ,CLOSE\r\n\r\n"), &req,
                          &status) > 0);
    assert_false(req.keep_alive);
    assert_true(
        parse_req(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"), &req, &status) > 0);
    assert_true(req.keep_alive);
    assert_true(parse_req(S("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\n\r\n"),
                          &req, &status) > 0);
    assert_true(req.upgrade);
    assert_true(parse_req(S("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n"), &req, &status) >
                0);
    assert_false(req.upgrade);
}

static void test_pipelined(void **state)
{
    static const char r[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                            "POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi"
                            "GET /3 HTTP/1.1\r\nHost: c\r\n\r\n";
    struct h1_request req;
    size_t off = 0;
    int status, n;

    n = parse_req(r + off, sizeof(r) - 1 - off, &req, &status);
    assert_true(n > 0);
    assert_span(req.target, req.target_len, "/1");
    off += (size_t)n;
    n = parse_req(r + off, sizeof(r) - 1 - off, &req, &status);
    assert_true(n > 0);
    assert_span(req.target, req.target_len, "/2");
    assert_int_equal(req.content_length, 2);
    off += (size_t)n + 2;
    n = parse_req(r + off, sizeof(r) - 1 - off, &req, &status);
    assert_true(n > 0);
    assert_span(req.target, req.target_len, "/3");
    assert_span(req.host, req.host_len, "c");
    assert_int_equal(off + (size_t)n, sizeof(r) - 1);
}

static void test_bytewise_matches_whole(void **state)
{
    static const char r[] = "\r\nPUT http://h.example/p?q HTTP/1.1\r\nHost: other\r\n"
                            "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    struct h1_request whole, part;
    int s1, s2, n1, n2;
    size_t i;
    char *keep;

    n1 = parse_req(S(r), &whole, &s1);
    n2 = parse_req_bytewise(S(r), &part, &s2, &keep);
    assert_true(n1 > 0);
    assert_int_equal(n1, n2);
    assert_int_equal(s1, s2);
    assert_int_equal(n1, sizeof(r) - 1 - 5);
    assert_int_equal(whole.nheaders, part.nheaders);
    assert_int_equal(part.form, H1_TARGET_ABSOLUTE);
    assert_span(part.host, part.host_len, "h.example");
    assert_span(part.path, part.path_len, "/p?q");
    assert_true(part.chunked);
    for (i = 0; i < whole.nheaders; i++) {
        assert_int_equal(whole.headers[i].name - r, part.headers[i].name - keep);
        assert_int_equal(whole.headers[i].value_len, part.headers[i].value_len);
    }
    free(keep);
}

static void test_restart_is_linear(void **state)
{
    /* A long header fed a byte at a time: the scan position only grows, so
     * each byte is examined once by the incremental pass. */
    size_t n = 16000, i;
    char *r = malloc(n + 64);
    struct h1_scan scan = {0};
    struct h1_request req;
    int status, rc = H1_INCOMPLETE;
    size_t len;

    assert_non_null(r);
    len = (size_t)sprintf(r, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(r + len, 'v', n - len);
    memcpy(r + n, "\r\n\r\n", 4);
    n += 4;
    for (i = 1; i <= n; i++) {
        size_t before = scan.pos;

        rc = h1_parse_request(r, i, &scan, &req, &status);
        if (rc != H1_INCOMPLETE)
            break;
        assert_int_equal(scan.pos, i);
        assert_true(scan.pos == before + 1);
    }
    assert_int_equal(rc, (int)n);
    free(r);
}

static void test_target_forms(void **state)
{
    struct h1_request req;
    int status;

    assert_true(parse_req(S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status) > 0);
    assert_int_equal(req.form, H1_TARGET_ASTERISK);
    assert_true(parse_req(S("CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n"),
                          &req, &status) > 0);
    assert_int_equal(req.form, H1_TARGET_AUTHORITY);
    assert_null(req.path);
    assert_span(req.host, req.host_len, "db.example:5432");
    assert_true(parse_req(S("GET HTTPS://[::1]:443?x HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status) >
                0);
    assert_int_equal(req.form, H1_TARGET_ABSOLUTE);
    assert_span(req.host, req.host_len, "[::1]:443");
    assert_span(req.path, req.path_len, "?x");
    assert_true(parse_req(S("GET http://a.example HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status) >
                0);
    assert_int_equal(req.path_len, 0);
    assert_true(parse_req(S("GET //double HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status) > 0);

    assert_int_equal(parse_req(S("GET http:// HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status),
                     H1_ERROR);
    assert_int_equal(parse_req(S("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status),
                     H1_ERROR);
    assert_int_equal(parse_req(S("OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n"), &req, &status),
                     H1_ERROR);
    assert_int_equal(status, 400);
}

static void test_limits(void **state)
{
    size_t cap = H1_MAX_REQUEST_HEAD + 16384, n, i;
    char *r = malloc(cap);
    struct h1_request req;
    struct h1_scan scan = {0};
    int status;

    assert_non_null(r);
    /* Request line of exactly H1_MAX_LINE bytes: accepted. */
    memcpy(r, "GET /", 5);
    n = H1_MAX_LINE - strlen(" HTTP/1.1");
    memset(r + 5, 'a', n - 5);
    n += (size_t)sprintf(r + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(parse_req(r, n, &req, &status), (int)n);
    assert_int_equal(req.target_len, H1_MAX_LINE - 4 - 9);

    /* One byte more: 414, and already before the CRLF arrives. */
    memset(r + 5, 'a', H1_MAX_LINE);
    assert_int_equal(h1_parse_request(r, H1_MAX_LINE + 1, &scan, &req, &status), H1_ERROR);
    assert_int_equal(status, 414);

    /* Field line over H1_MAX_LINE: 431 before its end arrives. */
    n = (size_t)sprintf(r, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(r + n, 'b', H1_MAX_LINE);
    memset(&scan, 0, sizeof(scan));
    assert_int_equal(h1_parse_request(r, n + H1_MAX_LINE, &scan, &req, &status), H1_ERROR);
    assert_int_equal(status, 431);

    /* Whole head over H1_MAX_REQUEST_HEAD from lines within limits: 431. */
    n = (size_t)sprintf(r, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (i = 0; n <= H1_MAX_REQUEST_HEAD; i++) {
        n += (size_t)sprintf(r + n, "X%zu: ", i);
        memset(r + n, 'c', 7000);
        n += 7000;
        memcpy(r + n, "\r\n", 2);
        n += 2;
    }
    memset(&scan, 0, sizeof(scan));
    assert_int_equal(h1_parse_request(r, n, &scan, &req, &status), H1_ERROR);
    assert_int_equal(status, 431);
    /* Incomplete but under the limit: keep reading. */
    memset(&scan, 0, sizeof(scan));
    assert_int_equal(h1_parse_request(r, H1_MAX_REQUEST_HEAD, &scan, &req, &status), H1_INCOMPLETE);

    /* H1_MAX_HEADERS fields pass, one more is 431. */
    n = (size_t)sprintf(r, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (i = 1; i < H1_MAX_HEADERS; i++)
        n += (size_t)sprintf(r + n, "X-%zu: v\r\n", i);
    memcpy(r + n, "\r\n", 2);
    assert_int_equal(parse_req(r, n + 2, &req, &status), (int)n + 2);
    assert_int_equal(req.nheaders, H1_MAX_HEADERS);
    n += (size_t)sprintf(r + n, "X-last: v\r\n\r\n");
    assert_int_equal(parse_req(r, n, &req, &status), H1_ERROR);
    assert_int_equal(status, 431);
    /* ... as soon as the extra field line is in, before the blank line. */
    assert_int_equal(parse_req(r, n - 2, &req, &status), H1_ERROR);
    assert_int_equal(status, 431);
    free(r);
}

struct refusal {
    const char *req;
    int status;
};

static void test_refusals(void **state)
{
    static const struct refusal cases[] = {
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -0\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
         "chunked\r\n\r\n",
         501},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost:a\r\nX : y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[0m\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX{: y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX\"y: z\r\n\r\n", 400},
        {"G\xc3T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400},
        {"GET / HTTP/1.0\r\nHost: \r\n\r\n", 400},
        {"GET /a\\b\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/1.1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/11\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /\r\n\r\n", 400},
        {"GET\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: \"close\"\r\n\r\n", 400},
        {"CONNECT a:b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"OPTIONS http://a/ * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct h1_request req;
        int status = 0, rc;
        char *keep;

        rc = parse_req(cases[i].req, strlen(cases[i].req), &req, &status);
        if (rc != H1_ERROR || status != cases[i].status)
            fail_msg("case %zu: rc %d status %d, want status %d: %s", i, rc, status,
                     cases[i].status, cases[i].req);
        rc = parse_req_bytewise(cases[i].req, strlen(cases[i].req), &req, &status, &keep);
        assert_int_equal(rc, H1_ERROR);
        assert_int_equal(status, cases[i].status);
        assert_null(keep);
    }
}

/* A malformed line is refused when its CRLF arrives, not when the head
 * completes. */
static void test_early_refusal(void **state)
{
    static const char r[] = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n";
    struct h1_request req;
    int status;

    assert_int_equal(parse_req(S(r), &req, &status), H1_ERROR);
    assert_int_equal(status, 400);
    assert_int_equal(parse_req(S("GET / HTTP/7.0\r\n"), &req, &status), H1_ERROR);
    assert_int_equal(status, 505);
    assert_int_equal(parse_req(S("GET / HTTP/1.1\r\nHost: a\r\nX: y\r"), &req, &status),
                     H1_INCOMPLETE);
    assert_int_equal(parse_req(S("GET / HTTP/1.1\r\nHost: a\r\nX: y\rZ"), &req, &status), H1_ERROR);
}

static void test_hop_by_hop(void **state)
{
    static const char r[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Trace , keep-alive\r\n"
                            "connection: x-other\r\nX-Trace: 1\r\nKeep-Alive: 5\r\n\r\n";
    struct h1_request req;
    int status;

    assert_true(parse_req(S(r), &req, &status) > 0);
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("x-trace")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("X-OTHER")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("Keep-Alive")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("Transfer-Encoding")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("te")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("Trailer")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("Upgrade")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("Proxy-Connection")));
    assert_true(h1_is_hop_by_hop(req.headers, req.nheaders, S("connection")));
    assert_false(h1_is_hop_by_hop(req.headers, req.nheaders, S("Host")));
    assert_false(h1_is_hop_by_hop(req.headers, req.nheaders, S("X-Trac")));
    assert_false(h1_is_hop_by_hop(req.headers, req.nheaders, S("Content-Length")));
    assert_false(h1_is_hop_by_hop(NULL, 0, S("X-Trace")));

    assert_int_equal(h1_find_header(req.headers, req.nheaders, 0, "CONNECTION"), 1);
    assert_int_equal(h1_find_header(req.headers, req.nheaders, 2, "connection"), 2);
    assert_int_equal(h1_find_header(req.headers, req.nheaders, 3, "connection"), SL_ENOTFOUND);
}

static int parse_res(const char *s, size_t n, int head, struct h1_response *res)
{
    struct h1_scan scan = {0};

    return h1_parse_response(s, n, &scan, head, res);
}

static void test_responses(void **state)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: x\r\n\r\nabc";
    struct h1_response res;
    struct h1_scan scan = {0};
    size_t i;
    int rc = H1_INCOMPLETE;

    assert_int_equal(parse_res(S(ok), 0, &res), sizeof(ok) - 1 - 3);
    assert_int_equal(res.status, 200);
    assert_span(res.reason, res.reason_len, "OK");
    assert_int_equal(res.content_length, 3);
    assert_false(res.no_body);
    assert_false(res.chunked);
    assert_false(res.close_delimited);
    assert_true(res.keep_alive);
    assert_int_equal(res.nheaders, 2);
    for (i = 1; i <= sizeof(ok) - 1 && rc == H1_INCOMPLETE; i++)
        rc = h1_parse_response(ok, i, &scan, 0, &res);
    assert_int_equal(rc, sizeof(ok) - 1 - 3);
    assert_int_equal(i - 1, (size_t)rc);

    /* HEAD: no body even with Content-Length. */
    assert_true(parse_res(S(ok), 1, &res) > 0);
    assert_true(res.no_body);
    assert_true(res.keep_alive);

    assert_true(parse_res(S("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"), 0, &res) > 0);
    assert_true(res.no_body);
    assert_false(res.keep_alive);
    assert_true(parse_res(S("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"), 0, &res) >
                0);
    assert_true(res.no_body);
    assert_int_equal(res.content_length, 99);
    assert_true(parse_res(S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), 0, &res) ==
                (int)strlen("HTTP/1.1 100 Continue\r\n\r\n"));
    assert_true(res.no_body);
    assert_true(parse_res(S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\n\r\n"),
                          0, &res) > 0);
    assert_int_equal(res.status, 101);
    assert_true(res.no_body);

    assert_true(parse_res(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, &res) > 0);
    assert_true(res.chunked);
    assert_true(res.keep_alive);
    assert_true(parse_res(S("HTTP/1.1 200 OK\r\n\r\n"), 0, &res) > 0);
    assert_true(res.close_delimited);
    assert_false(res.keep_alive);
    assert_true(parse_res(S("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), 0, &res) > 0);
    assert_false(res.keep_alive);
    assert_true(parse_res(S("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"
                            "\r\n"),
                          0, &res) > 0);
    assert_true(res.keep_alive);
    assert_true(parse_res(S("HTTP/1.1 404\r\n\r\n"), 0, &res) > 0);
    assert_int_equal(res.reason_len, 0);
    assert_true(parse_res(S("HTTP/1.1 500 \r\n\r\n"), 0, &res) > 0);
    assert_true(parse_res(S("HTTP/1.1 200 Fine \xe9t\xe9\r\n\r\n"), 0, &res) > 0);

    assert_int_equal(parse_res(S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: "
                                 "chunked\r\n\r\n"),
                               0, &res),
                     H1_ERROR);
    assert_int_equal(
        parse_res(S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 0, &res),
        H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 0, &res),
                     H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, &res),
                     H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 20 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 600 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 099 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1  200 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/2 200 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/2.0 200 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 2000 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 200 O\x01K\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("\r\nHTTP/1.1 200 OK\r\n\r\n"), 0, &res), H1_ERROR);
    assert_int_equal(parse_res(S("HTTP/1.1 200 OK\r\nX: y\r\n"), 0, &res), H1_INCOMPLETE);
}

static void test_response_limits(void **state)
{
    size_t cap = H1_MAX_RESPONSE_HEAD + 8192, n;
    char *r = malloc(cap);
    struct h1_response res;

    assert_non_null(r);
    n = (size_t)sprintf(r, "HTTP/1.1 200 OK\r\n");
    while (n < H1_MAX_RESPONSE_HEAD) {
        n += (size_t)sprintf(r + n, "Set-Cookie: ");
        memset(r + n, 'k', 4000);
        n += 4000;
        n += (size_t)sprintf(r + n, "\r\n");
    }
    n += (size_t)sprintf(r + n, "\r\n");
    assert_int_equal(parse_res(r, n, 0, &res), H1_ERROR);
    assert_int_equal(parse_res(r, H1_MAX_RESPONSE_HEAD, 0, &res), H1_INCOMPLETE);
    /* A status line over H1_MAX_LINE. */
    n = (size_t)sprintf(r, "HTTP/1.1 200 ");
    memset(r + n, 'r', H1_MAX_LINE);
    assert_int_equal(parse_res(r, n + H1_MAX_LINE, 0, &res), H1_ERROR);
    free(r);
}

static const char body[] = "4\r\nWiki\r\n"
                           "5;a=b;c;d=\"q\\\"t \\\\\"\r\npedia\r\n"
                           "E\r\n in\r\n\r\nchunks.\r\n"
                           "000\r\nX-Sum: 1\r\nX-Empty:\r\n\r\n";

static void test_chunked_every_split(void **state)
{
    char out[64];
    size_t out_len, used, split;

    for (split = 0; split <= sizeof(body) - 1; split++) {
        assert_int_equal(decode_split(S(body), split, out, &out_len, &used), H1_DONE);
        assert_span(out, out_len, "Wikipedia in\r\n\r\nchunks.");
        assert_int_equal(used, sizeof(body) - 1);
    }
}

static void test_chunked_bytewise(void **state)
{
    struct h1_chunked st = {0};
    char out[64];
    size_t i, out_len = 0;
    int rc = H1_INCOMPLETE;

    for (i = 0; i < sizeof(body) - 1; i++) {
        char *b = dup_exact(body + i, 1);
        const char *d;
        size_t dl, c;

        rc = h1_chunked_decode(&st, b, 1, &c, &d, &dl);
        assert_int_equal(c, 1);
        if (dl > 0) {
            assert_int_equal(rc, SL_OK);
            out[out_len++] = *d;
        }
        free(b);
        if (i + 1 < sizeof(body) - 1)
            assert_int_not_equal(rc, H1_DONE);
    }
    assert_int_equal(rc, H1_DONE);
    assert_span(out, out_len, "Wikipedia in\r\n\r\nchunks.");
    assert_int_equal(st.body_len, out_len);
    {
        const char *d;
        size_t dl, c;

        /* Done is sticky and consumes nothing. */
        assert_int_equal(h1_chunked_decode(&st, S("5\r\n"), &c, &d, &dl), H1_DONE);
        assert_int_equal(c, 0);
    }
}

static void test_chunked_refusals(void **state)
{
#define B(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        B("0x5\r\nhello\r\n0\r\n\r\n"),
        B("+5\r\nhello\r\n0\r\n\r\n"),
        B("-5\r\n"),
        B("5_0\r\n"),
        B(" 5\r\n"),
        B("5 \r\n"),
        B("5\t;a\r\n"),
        B("\r\n"),
        B("5\nhello\n0\n\n"),
        B("5\rhello\r\n"),
        B("5\r\nhelloX\r\n0\r\n\r\n"),
        B("5\r\nhello\n0\r\n\r\n"),
        B("10000000000000000\r\n"),
        B("00000000000000001\r\n"),
        B("8000000000000000\r\n"),
        B("5;\r\n"),
        B("5;=a\r\n"),
        B("5;a=\r\n"),
        B("5;a=\"x\r\n"),
        B("5;a=\"\x01\"\r\n"),
        B("5;a b\r\n"),
        B("5;a=b c\r\n"),
        B("g\r\n"),
        B("0\r\n X: y\r\n\r\n"),
        B("0\r\nX : y\r\n\r\n"),
        B("0\r\n: y\r\n\r\n"),
        B("0\r\nX: \x00\r\n\r\n"),
        B("0\r\nX: y\n\r\n"),
        B("0\r\n\n"),
        B("0\r\n\r\r"),
        B("1\r\na\r\n0\r\nX: y\rz\r\n\r\n"),
    };
#undef B
    size_t i;
    char out[64];
    size_t out_len, used;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t split;

        for (split = 0; split <= bad[i].n; split++)
            if (decode_split(bad[i].s, bad[i].n, split, out, &out_len, &used) != H1_ERROR)
                fail_msg("chunk case %zu split %zu not refused", i, split);
    }
    /* Failure is sticky. */
    {
        struct h1_chunked st = {0};
        const char *d;
        size_t dl, c;

        assert_int_equal(h1_chunked_decode(&st, S("z"), &c, &d, &dl), H1_ERROR);
        assert_int_equal(h1_chunked_decode(&st, S("0\r\n\r\n"), &c, &d, &dl), H1_ERROR);
        assert_int_equal(c, 0);
    }
    /* Largest size accepted: INT64_MAX, 16 digits. */
    {
        struct h1_chunked st = {0};
        const char *d;
        size_t dl, c;

        assert_int_equal(h1_chunked_decode(&st, S("7fffffffffffffff\r\nab"), &c, &d, &dl), SL_OK);
        assert_int_equal(dl, 2);
        assert_int_equal(st.remaining, (uint64_t)INT64_MAX - 2);
    }
}

static void test_chunked_bounds(void **state)
{
    char *b = malloc(H1_MAX_TRAILER + 256);
    char out[8];
    size_t n, out_len, used, i;

    assert_non_null(b);
    /* Extension line at the limit passes, one byte over fails. */
    n = (size_t)sprintf(b, "1;x=");
    memset(b + n, 'e', H1_MAX_CHUNK_LINE - n - 2);
    memcpy(b + H1_MAX_CHUNK_LINE - 2, "\r\na\r\n0\r\n\r\n", 10);
    assert_int_equal(decode_split(b, H1_MAX_CHUNK_LINE + 8, 0, out, &out_len, &used), H1_DONE);
    n = (size_t)sprintf(b, "1;x=");
    memset(b + n, 'e', H1_MAX_CHUNK_LINE - n - 1);
    memcpy(b + H1_MAX_CHUNK_LINE - 1, "\r\na\r\n0\r\n\r\n", 10);
    assert_int_equal(decode_split(b, H1_MAX_CHUNK_LINE + 9, 0, out, &out_len, &used), H1_ERROR);

    /* Trailer section over H1_MAX_TRAILER bytes, and over H1_MAX_TRAILERS fields. */
    n = (size_t)sprintf(b, "0\r\nX: ");
    memset(b + n, 't', H1_MAX_TRAILER);
    n += H1_MAX_TRAILER;
    n += (size_t)sprintf(b + n, "\r\n\r\n");
    assert_int_equal(decode_split(b, n, n / 2, out, &out_len, &used), H1_ERROR);
    n = (size_t)sprintf(b, "0\r\n");
    for (i = 0; i < H1_MAX_TRAILERS; i++)
        n += (size_t)sprintf(b + n, "T: v\r\n");
    memcpy(b + n, "\r\n", 2);
    assert_int_equal(decode_split(b, n + 2, 7, out, &out_len, &used), H1_DONE);
    n += (size_t)sprintf(b + n, "T: v\r\n\r\n");
    assert_int_equal(decode_split(b, n, 7, out, &out_len, &used), H1_ERROR);
    free(b);
}

/* ---- data-driven cases: tests/unit/px_http1_cases/ ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    assert_int_equal(fclose(f), 0);
    *len = (size_t)n;
    return p;
}

/* The verdict on one case: 0 if it parses (and its chunked body decodes to
 * the end), else the refusal status. */
static int run_case(const char *data, size_t n, size_t chunk_split, int bytewise)
{
    struct h1_request req;
    int status, head;
    char *keep = NULL;
    char *out;
    size_t out_len, used, rest;

    if (bytewise) {
        head = parse_req_bytewise(data, n, &req, &status, &keep);
        free(keep);
    } else {
        head = parse_req(data, n, &req, &status);
    }
    if (head == H1_ERROR)
        return status;
    if (head == H1_INCOMPLETE)
        return -1;
    if (!req.chunked)
        return req.content_length > 0 && (size_t)req.content_length > n - (size_t)head ? -1 : 0;
    rest = n - (size_t)head;
    out = malloc(rest + 1);
    assert_non_null(out);
    if (chunk_split > rest)
        chunk_split = rest;
    switch (decode_split(data + head, rest, chunk_split, out, &out_len, &used)) {
    case H1_DONE:
        status = 0;
        break;
    case H1_ERROR:
        status = 400;
        break;
    default:
        status = -1;
    }
    free(out);
    return status;
}

static void test_case_folder(void **state)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char dir[4096], path[8192], line[512];
    char *listed;
    size_t listed_len, ncases = 0, nvalid = 0;
    DIR *d;
    struct dirent *e;
    FILE *f;

    if (src == NULL)
        src = ".";
    snprintf(dir, sizeof(dir), "%s/tests/unit/px_http1_cases", src);
    snprintf(path, sizeof(path), "%s/cases.txt", dir);
    listed = read_file(path, &listed_len);

    /* Every case listed in cases.txt gets its verdict. */
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char name[256], want[16], *data;
        size_t n, split;
        int expect, got;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(sscanf(line, "%255s %15s", name, want), 2);
        expect = strcmp(want, "ok") == 0 ? 0 : atoi(want);
        assert_true(expect == 0 || (expect >= 400 && expect <= 505));
        assert_true((strncmp(name, "valid_", 6) == 0) == (expect == 0));
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        data = read_file(path, &n);
        got = run_case(data, n, 0, 0);
        if (got != expect)
            fail_msg("%s: got %d, want %d", name, got, expect);
        /* Same verdict fed a byte at a time and with the body split anywhere. */
        assert_int_equal(run_case(data, n, 0, 1), expect);
        for (split = 1; split < n; split += 3)
            assert_int_equal(run_case(data, n, split, 0), expect);
        free(data);
        ncases++;
        nvalid += expect == 0;
    }
    assert_int_equal(fclose(f), 0);
    assert_true(ncases >= 20);
    assert_true(nvalid >= 3);

    /* And no case file is left out of cases.txt. */
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char key[300];

        if (l < 6 || strcmp(e->d_name + l - 5, ".http") != 0)
            continue;
        snprintf(key, sizeof(key), "\n%s ", e->d_name);
        if (strstr(listed, key) == NULL)
            fail_msg("%s is not listed in cases.txt", e->d_name);
        ncases--;
    }
    assert_int_equal(closedir(d), 0);
    assert_int_equal(ncases, 0);
    free(listed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post_content_length),
        cmocka_unit_test(test_post_chunked),
        cmocka_unit_test(test_http10),
        cmocka_unit_test(test_connection_tokens),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_bytewise_matches_whole),
        cmocka_unit_test(test_restart_is_linear),
        cmocka_unit_test(test_target_forms),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_early_refusal),
        cmocka_unit_test(test_hop_by_hop),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_response_limits),
        cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_chunked_bytewise),
        cmocka_unit_test(test_chunked_refusals),
        cmocka_unit_test(test_chunked_bounds),
        cmocka_unit_test(test_case_folder),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
