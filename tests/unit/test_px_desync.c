/* Unit tests for proxy/desync.c with proxy/http1.c: requests classified as
 * http_desync_guardian (and ALB's access log) names them, in the parser's
 * defensive tolerance and in strictest (no tolerance); the mode table;
 * look-alike header names; the fields that are not forwarded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/desync.h"

#define S(lit) lit, sizeof(lit) - 1

static const struct {
    const char *req;
    size_t len;
    const char *cls, *reason; /* as parsed with the defensive tolerance */
    int refused;              /* the parser refuses it even then */
} cases[] = {
    {S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "-", "-", 0},
    {S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), "-", "-", 0},
    /* Acceptable */
    {S("GET / HTTP/1.1\nHost: a\n\n"), "Acceptable", "NonCrLfLineTermination", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n"), "Acceptable", "NonCompliantHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX\x7f: z\r\n\r\n"), "Acceptable", "NonCompliantHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n"), "Acceptable", "NonCompliantHeader", 0},
    {S("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), "Acceptable", "SpaceInUri", 0},
    {S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), "Acceptable", "NonCompliantVersion", 0},
    {S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), "Acceptable", "NonCompliantVersion", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), "Acceptable",
     "GetHeadZeroContentLength", 0},
    {S("HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), "Acceptable",
     "GetHeadZeroContentLength", 0},
    /* Ambiguous */
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"),
     "Ambiguous", "BothTeClPresent", 0},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"),
     "Ambiguous", "DuplicateContentLength", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), "Ambiguous",
     "UndefinedContentLengthSemantics", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), "Ambiguous",
     "UndefinedTransferEncodingSemantics", 0},
    {S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), "Ambiguous",
     "UndefinedTransferEncodingSemantics", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), "Ambiguous", "MultilineHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n"), "Ambiguous",
     "SuspiciousHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n"), "Ambiguous",
     "SuspiciousHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encod\xc4\xb1ng: chunked\r\n\r\n"), "Ambiguous",
     "SuspiciousHeader", 0},
    {S("GET / HTTP/1.1\r\n Content-Length: 5\r\nHost: a\r\n\r\n"), "Ambiguous",
     "SuspiciousHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), "Ambiguous", "EmptyHeader", 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), "Ambiguous", "MissingHeaderColon", 0},
    {S("GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n"), "Ambiguous", "AmbiguousUri", 0},
    {S("GET /a\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), "Ambiguous", "AmbiguousUri", 0},
    {S("GET HTTP/1.1\r\nHost: a\r\n\r\n"), "Ambiguous", "MissingUri", 1},
    /* Severe: refused in every mode */
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
     "Severe", "MultipleContentLength", 1},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), "Severe",
     "BadContentLength", 1},
    {S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), "Severe", "BadContentLength",
     1},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), "Severe",
     "MultipleTransferEncodingChunked", 1},
    {S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), "Severe",
     "BadTransferEncoding", 1},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), "Severe", "BadHeader", 1},
    {S("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), "Severe", "BadHeader", 1},
    {S("GET /a\0 HTTP/1.1\r\nHost: a\r\n\r\n"), "Severe", "BadUri", 1},
    {S("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), "Severe", "BadMethod", 1},
    {S("GET / HTTX/1.1\r\nHost: a\r\n\r\n"), "Severe", "BadVersion", 1},
    {S("GET /\r\nHost: a\r\n\r\n"), "Acceptable", "NonCompliantVersion", 1}, /* HTTP/0.9 */
    /* refused, but not a desync matter */
    {S("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), "-", "-", 1},
};

/* Parse <req> from an exact-size copy (ASan sees reads past it) and
 * classify it, accepted or refused.  The parse's result. */
static int classify(const char *req, size_t len, unsigned tol, struct h1_request *r,
                    struct px_dsc *d)
{
    char *copy = malloc(len);
    struct h1_scan sc = {0};
    int rc, status;

    assert_non_null(copy);
    memcpy(copy, req, len);
    rc = h1_parse_request_tol(copy, len, &sc, tol, r, &status);
    if (rc > 0)
        px_desync_classify(r, d);
    else
        px_desync_classify_refusal(&sc, copy, len, d);
    free(copy);
    return rc;
}

static void test_classes(void **state)
{
    struct h1_request *r = malloc(sizeof(*r));
    struct px_dsc d;
    size_t i;
    int rc;

    assert_non_null(r);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = classify(cases[i].req, cases[i].len, px_desync_tolerance(PX_DSM_DEFENSIVE), r, &d);
        if ((rc == H1_ERROR) != cases[i].refused ||
            strcmp(px_desync_class_name(d.cls), cases[i].cls) != 0 ||
            strcmp(px_desync_reason_name(d.reason), cases[i].reason) != 0)
            fail_msg("case %zu (%.40s): rc %d, %s/%s; want %s/%s%s", i, cases[i].req, rc,
                     px_desync_class_name(d.cls), px_desync_reason_name(d.reason), cases[i].cls,
                     cases[i].reason, cases[i].refused ? " refused" : "");
        /* strictest: the parser lets no deviation through, and what it
         * refuses is classified the same */
        rc = classify(cases[i].req, cases[i].len, px_desync_tolerance(PX_DSM_STRICTEST), r, &d);
        if (strcmp(px_desync_class_name(d.cls), cases[i].cls) != 0)
            fail_msg("case %zu strict: %s, want %s", i, px_desync_class_name(d.cls),
                     cases[i].cls);
        if (rc > 0 && r->deviations != 0)
            fail_msg("case %zu: strictest passed deviations %x", i, r->deviations);
        if (d.cls != PX_DSC_COMPLIANT && rc > 0)
            assert_int_equal(px_desync_verdict(PX_DSM_STRICTEST, d.cls), PX_DSV_BLOCK);
    }
    free(r);
}

static void test_modes(void **state)
{
    int m;

    assert_int_equal(px_desync_mode_parse("monitor", &m), SL_OK);
    assert_int_equal(m, PX_DSM_MONITOR);
    assert_int_equal(px_desync_mode_parse("defensive", &m), SL_OK);
    assert_int_equal(m, PX_DSM_DEFENSIVE);
    assert_int_equal(px_desync_mode_parse("strictest", &m), SL_OK);
    assert_int_equal(m, PX_DSM_STRICTEST);
    assert_int_equal(px_desync_mode_parse("Strictest", &m), SL_EINVAL);
    /* ALB's table (Severe refused in monitor too: desync.h) */
    assert_int_equal(px_desync_verdict(PX_DSM_MONITOR, PX_DSC_COMPLIANT), PX_DSV_FORWARD);
    assert_int_equal(px_desync_verdict(PX_DSM_MONITOR, PX_DSC_ACCEPTABLE), PX_DSV_FORWARD);
    assert_int_equal(px_desync_verdict(PX_DSM_MONITOR, PX_DSC_AMBIGUOUS), PX_DSV_FORWARD);
    assert_int_equal(px_desync_verdict(PX_DSM_MONITOR, PX_DSC_SEVERE), PX_DSV_BLOCK);
    assert_int_equal(px_desync_verdict(PX_DSM_DEFENSIVE, PX_DSC_ACCEPTABLE), PX_DSV_FORWARD);
    assert_int_equal(px_desync_verdict(PX_DSM_DEFENSIVE, PX_DSC_AMBIGUOUS),
                     PX_DSV_FORWARD_CLOSE);
    assert_int_equal(px_desync_verdict(PX_DSM_DEFENSIVE, PX_DSC_SEVERE), PX_DSV_BLOCK);
    assert_int_equal(px_desync_verdict(PX_DSM_STRICTEST, PX_DSC_COMPLIANT), PX_DSV_FORWARD);
    assert_int_equal(px_desync_verdict(PX_DSM_STRICTEST, PX_DSC_ACCEPTABLE), PX_DSV_BLOCK);
    assert_int_equal(px_desync_verdict(PX_DSM_STRICTEST, PX_DSC_AMBIGUOUS), PX_DSV_BLOCK);
    assert_int_equal(px_desync_tolerance(PX_DSM_STRICTEST), 0);
    assert_int_equal(px_desync_tolerance(PX_DSM_MONITOR), px_desync_tolerance(PX_DSM_DEFENSIVE));
}

static void test_look_alikes(void **state)
{
    static const struct {
        const char *name;
        int te, cl;
    } names[] = {
        {"Transfer-Encoding", 0, 0}, {"transfer-encoding", 0, 0}, {"TRANSFER-ENCODING", 0, 0},
        {"Transfer_Encoding", 1, 0}, {"TransferEncoding", 1, 0},  {"Transfer-Encoding ", 1, 0},
        {" Transfer-Encoding", 1, 0}, {"Transfer.Encoding", 1, 0}, {"\x01Transfer-Encoding", 1, 0},
        {"Tran\xc5\xbf" "fer-Encoding", 1, 0}, {"Content-Length", 0, 0}, {"content_length", 0, 1},
        {"Content-Lengt", 0, 0},     {"Content-Lengths", 0, 0},   {"X-Content-Length", 0, 0},
        {"Accept-Encoding", 0, 0},   {"Content-Type", 0, 0},      {"TE", 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i].name);
        if (px_desync_looks_like(names[i].name, n, "transfer-encoding") != names[i].te ||
            px_desync_looks_like(names[i].name, n, "content-length") != names[i].cl)
            fail_msg("'%s': looks like TE %d, CL %d", names[i].name,
                     px_desync_looks_like(names[i].name, n, "transfer-encoding"),
                     px_desync_looks_like(names[i].name, n, "content-length"));
    }
}

static void test_drop_mask(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 1.2.3.4\r\n"
                              "X-Good: 1\r\nTransfer_Encoding: chunked\r\nX Bad: 2\r\n"
                              "X.Dot: 3\r\n\r\n";
    struct h1_request *r = malloc(sizeof(*r));
    struct h1_scan sc = {0};
    uint64_t drop[2];
    int status;

    assert_non_null(r);
    assert_true(h1_parse_request_tol(req, sizeof(req) - 1, &sc,
                                     px_desync_tolerance(PX_DSM_DEFENSIVE), r, &status) > 0);
    assert_int_equal(r->nheaders, 6);
    /* never: the look-alike (3) and the non-token name (4) */
    assert_int_equal(px_desync_drop_mask(r, 0, drop), 2);
    assert_int_equal(drop[0], (1u << 3) | (1u << 4));
    /* drop_invalid_header_fields: also '_' (1) and '.' (5) */
    assert_int_equal(px_desync_drop_mask(r, 1, drop), 4);
    assert_int_equal(drop[0], (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_look_alikes),
        cmocka_unit_test(test_drop_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
