/*
 * fuzz_http1.c - libFuzzer target for proxy/http1.c.
 *
 * The input is fed to the request parser, the response parser and the
 * chunked decoder three ways: whole, split in two at a point derived from a
 * hash of the input (the first part from its own exact-size heap copy, so the
 * buffer also moves between calls and ASan sees reads past the part), and a
 * byte at a time.  All three must agree exactly: same verdict, same status,
 * same head length, same fields at the same offsets, same decoded bytes.
 * A request head that parses with a chunked body also has the rest of the
 * input decoded as its body.  The request parser runs strict or tolerating
 * every deviation (desync.h's defensive mode), chosen by the hash; a
 * tolerated parse records only deviations it was allowed.  Any disagreement
 * or broken invariant aborts.
 *
 * The parser is linked from sluice_proxy_core, which the fuzz build
 * (-DSLUICE_FUZZ=ON) instruments like every library.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char *dup_exact(const char *p, size_t n)
{
    char *q = malloc(n > 0 ? n : 1);

    CHECK(q != NULL);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

/* <p>[0..<n>) lies within <base>[0..<len>); NULL only with <n> == 0. */
static void check_within(const char *p, size_t n, const char *base, size_t len)
{
    if (p == NULL) {
        CHECK(n == 0);
        return;
    }
    CHECK(p >= base && n <= len && (size_t)(p - base) <= len - n);
}

/* Same span, at the same offset from each buffer. */
static void same_span(const char *a, size_t alen, const char *abase, const char *b, size_t blen,
                      const char *bbase)
{
    CHECK(alen == blen);
    CHECK((a == NULL) == (b == NULL));
    if (a != NULL)
        CHECK(a - abase == b - bbase);
}

static void same_headers(const struct h1_header *a, const struct h1_header *b, size_t n,
                         const char *abase, const char *bbase)
{
    size_t i;

    for (i = 0; i < n; i++) {
        same_span(a[i].name, a[i].name_len, abase, b[i].name, b[i].name_len, bbase);
        same_span(a[i].value, a[i].value_len, abase, b[i].value, b[i].value_len, bbase);
    }
}

static void check_request_result(int rc, int status, const struct h1_request *r, const char *buf,
                                 size_t len, unsigned tol)
{
    size_t i;

    if (rc == H1_INCOMPLETE) {
        CHECK(status == 0);
        return;
    }
    if (rc == H1_ERROR) {
        CHECK(status == 400 || status == 414 || status == 417 || status == 431 || status == 501 ||
              status == 505);
        return;
    }
    CHECK(rc > 0 && (size_t)rc <= len && (size_t)rc <= H1_MAX_REQUEST_HEAD && status == 0);
    CHECK(r->method_len > 0 && r->target_len > 0 && r->nheaders <= H1_MAX_HEADERS);
    CHECK(r->minor_version == 0 || r->minor_version == 1);
    check_within(r->method, r->method_len, buf, (size_t)rc);
    check_within(r->target, r->target_len, buf, (size_t)rc);
    check_within(r->path, r->path_len, buf, (size_t)rc);
    check_within(r->host, r->host_len, buf, (size_t)rc);
    CHECK(r->host != NULL || r->minor_version == 0);
    CHECK(r->content_length >= -1);
    CHECK(!(r->chunked && r->content_length >= 0));
    CHECK(!r->chunked || r->minor_version == 1 || (r->deviations & H1_DEV_TE_HTTP10));
    CHECK((r->deviations & ~tol) == 0);
    for (i = 0; i < r->nheaders; i++) {
        CHECK(r->headers[i].name_len > 0);
        check_within(r->headers[i].name, r->headers[i].name_len, buf, (size_t)rc);
        check_within(r->headers[i].value, r->headers[i].value_len, buf, (size_t)rc);
    }
}

static void same_request(int rc, const struct h1_request *a, const char *abase,
                         const struct h1_request *b, const char *bbase)
{
    if (rc <= 0)
        return;
    same_span(a->method, a->method_len, abase, b->method, b->method_len, bbase);
    same_span(a->target, a->target_len, abase, b->target, b->target_len, bbase);
    same_span(a->path, a->path_len, abase, b->path, b->path_len, bbase);
    same_span(a->host, a->host_len, abase, b->host, b->host_len, bbase);
    CHECK(a->form == b->form && a->minor_version == b->minor_version);
    CHECK(a->nheaders == b->nheaders);
    same_headers(a->headers, b->headers, a->nheaders, abase, bbase);
    CHECK(a->content_length == b->content_length && a->chunked == b->chunked);
    CHECK(a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue &&
          a->upgrade == b->upgrade && a->deviations == b->deviations);
}

static void check_response_result(int rc, const struct h1_response *r, const char *buf, size_t len)
{
    size_t i;

    if (rc == H1_INCOMPLETE || rc == H1_ERROR)
        return;
    CHECK(rc > 0 && (size_t)rc <= len && (size_t)rc <= H1_MAX_RESPONSE_HEAD);
    CHECK(r->status >= 100 && r->status <= 599 && r->nheaders <= H1_MAX_HEADERS);
    check_within(r->reason, r->reason_len, buf, (size_t)rc);
    CHECK(r->no_body + r->chunked + r->close_delimited <= 1);
    CHECK(!r->close_delimited || !r->keep_alive);
    for (i = 0; i < r->nheaders; i++) {
        check_within(r->headers[i].name, r->headers[i].name_len, buf, (size_t)rc);
        check_within(r->headers[i].value, r->headers[i].value_len, buf, (size_t)rc);
    }
}

static void same_response(int rc, const struct h1_response *a, const char *abase,
                          const struct h1_response *b, const char *bbase)
{
    if (rc <= 0)
        return;
    CHECK(a->status == b->status && a->minor_version == b->minor_version);
    same_span(a->reason, a->reason_len, abase, b->reason, b->reason_len, bbase);
    CHECK(a->nheaders == b->nheaders);
    same_headers(a->headers, b->headers, a->nheaders, abase, bbase);
    CHECK(a->no_body == b->no_body && a->chunked == b->chunked &&
          a->content_length == b->content_length && a->close_delimited == b->close_delimited &&
          a->keep_alive == b->keep_alive);
}

/* Request: whole, split at <k>, byte at a time.  Returns the whole verdict. */
static int fuzz_request(const char *buf, size_t n, size_t k, unsigned tol,
                        struct h1_request *whole)
{
    struct h1_request part;
    struct h1_scan scan = {0};
    int rc, st, rc2, st2;
    char *pre;
    size_t i;

    rc = h1_parse_request_tol(buf, n, &scan, tol, whole, &st);
    check_request_result(rc, st, whole, buf, n, tol);
    if (rc == H1_ERROR)
        CHECK(scan.fault != H1_F_NONE && (scan.fault != H1_F_DEVIATION || (scan.refused & ~tol)));
    if (rc == H1_INCOMPLETE)
        CHECK(scan.pos == n);

    memset(&scan, 0, sizeof(scan));
    pre = dup_exact(buf, k);
    rc2 = h1_parse_request_tol(pre, k, &scan, tol, &part, &st2);
    check_request_result(rc2, st2, &part, pre, k, tol);
    if (rc2 != H1_INCOMPLETE) {
        CHECK(rc2 == rc && st2 == st);
        same_request(rc, whole, buf, &part, pre);
    }
    free(pre);
    if (rc2 == H1_INCOMPLETE) {
        rc2 = h1_parse_request_tol(buf, n, &scan, tol, &part, &st2);
        CHECK(rc2 == rc && st2 == st);
        same_request(rc, whole, buf, &part, buf);
    }

    memset(&scan, 0, sizeof(scan));
    rc2 = H1_INCOMPLETE;
    for (i = 1; i <= n && rc2 == H1_INCOMPLETE; i++)
        rc2 = h1_parse_request_tol(buf, i, &scan, tol, &part, &st2);
    CHECK(rc2 == rc && st2 == st);
    same_request(rc, whole, buf, &part, buf);
    return rc;
}

static void fuzz_response(const char *buf, size_t n, size_t k, int head)
{
    struct h1_response whole, part;
    struct h1_scan scan = {0};
    int rc, rc2;
    char *pre;
    size_t i;

    rc = h1_parse_response(buf, n, &scan, head, &whole);
    check_response_result(rc, &whole, buf, n);

    memset(&scan, 0, sizeof(scan));
    pre = dup_exact(buf, k);
    rc2 = h1_parse_response(pre, k, &scan, head, &part);
    check_response_result(rc2, &part, pre, k);
    if (rc2 != H1_INCOMPLETE) {
        CHECK(rc2 == rc);
        same_response(rc, &whole, buf, &part, pre);
    }
    free(pre);
    if (rc2 == H1_INCOMPLETE) {
        rc2 = h1_parse_response(buf, n, &scan, head, &part);
        CHECK(rc2 == rc);
        same_response(rc, &whole, buf, &part, buf);
    }

    memset(&scan, 0, sizeof(scan));
    rc2 = H1_INCOMPLETE;
    for (i = 1; i <= n && rc2 == H1_INCOMPLETE; i++)
        rc2 = h1_parse_response(buf, i, &scan, head, &part);
    CHECK(rc2 == rc);
    same_response(rc, &whole, buf, &part, buf);
}

struct decoded {
    int rc;
    size_t used; /* input bytes consumed when done or failed, else all */
    size_t len;
    char *out;
};

/* Feed <seg> (one piece of the body, in its own buffer) to <st>. */
static void decode_piece(struct h1_chunked *st, const char *seg, size_t n, size_t base,
                         struct decoded *d)
{
    size_t off = 0;

    while (d->rc != H1_DONE && d->rc != H1_ERROR) {
        const char *p;
        size_t pl, c;
        uint64_t before = st->body_len;

        d->rc = h1_chunked_decode(st, seg + off, n - off, &c, &p, &pl);
        CHECK(c <= n - off);
        check_within(p, pl, seg + off, c);
        CHECK(st->body_len == before + pl);
        if (d->rc == SL_OK)
            CHECK(pl > 0);
        else
            CHECK(pl == 0);
        if (d->rc == H1_INCOMPLETE)
            CHECK(c == n - off);
        if (pl > 0)
            memcpy(d->out + d->len, p, pl);
        d->len += pl;
        off += c;
        if (d->rc == H1_DONE || d->rc == H1_ERROR)
            d->used = base + off;
        else if (d->rc == H1_INCOMPLETE)
            break;
    }
}

/* Decode <buf> whole, split at <k> and a byte at a time; all must agree. */
static void fuzz_chunked(const char *buf, size_t n, size_t k)
{
    struct decoded d[3];
    struct h1_chunked st;
    size_t i, j;
    char *seg;

    for (j = 0; j < 3; j++) {
        d[j].rc = H1_INCOMPLETE;
        d[j].used = n;
        d[j].len = 0;
        d[j].out = malloc(n > 0 ? n : 1);
        CHECK(d[j].out != NULL);
        memset(&st, 0, sizeof(st));
        if (j == 0) {
            decode_piece(&st, buf, n, 0, &d[j]);
        } else if (j == 1) {
            seg = dup_exact(buf, k);
            decode_piece(&st, seg, k, 0, &d[j]);
            free(seg);
            seg = dup_exact(buf + k, n - k);
            decode_piece(&st, seg, n - k, k, &d[j]);
            free(seg);
        } else {
            for (i = 0; i < n; i++)
                decode_piece(&st, buf + i, 1, i, &d[j]);
        }
    }
    for (j = 1; j < 3; j++) {
        CHECK(d[j].rc == d[0].rc && d[j].used == d[0].used && d[j].len == d[0].len);
        CHECK(memcmp(d[j].out, d[0].out, d[0].len) == 0);
    }
    CHECK(d[0].len <= d[0].used);
    for (j = 0; j < 3; j++)
        free(d[j].out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct h1_request *req = malloc(sizeof(*req));
    uint32_t h = 2166136261u;
    size_t i, k;
    int rc;

    CHECK(req != NULL);
    for (i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    k = size > 0 ? h % (size + 1) : 0;

    rc = fuzz_request(buf, size, k, (h & 1) ? H1_DEV_TE_HTTP10 * 2 - 1 : 0u, req);
    fuzz_response(buf, size, k, (int)(h >> 31));
    fuzz_chunked(buf, size, k);
    if (rc > 0 && req->chunked) {
        size_t rest = size - (size_t)rc;

        fuzz_chunked(buf + rc, rest, rest > 0 ? h % (rest + 1) : 0);
    }
    free(req);
    return 0;
}
