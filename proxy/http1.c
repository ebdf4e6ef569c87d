/*
 * http1.c - strict HTTP/1.1 head parsers and chunked decoder (see http1.h).
 *
 * A head goes through two passes.  scan_head() examines each byte once, as
 * it arrives, enforces the line and head limits at the byte that breaks them
 * and validates every line as soon as its CRLF is in, keeping only offsets in
 * struct h1_scan.  When the blank line arrives, parse_head() splits the head
 * once more into the caller's struct and the cross-field rules (framing,
 * Host, Connection) are applied.  Because the checks happen in byte order,
 * any split of the input gives the same verdict as the whole (the fuzz target
 * asserts this).
 */
#include "proxy/http1.h"

#include <string.h>

enum { KIND_REQUEST = 0, KIND_RESPONSE = 1 };

/* What a start line holds; a request fills the first part, a response the
 * last. */
struct start_line {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    enum h1_target_form form;
    const char *path;
    size_t path_len;
    const char *authority;
    size_t authority_len;
    int minor_version;
    int status;
    const char *reason;
    size_t reason_len;
};

/* The fields that drive framing and connection handling, gathered in one
 * walk over the headers. */
struct fields {
    int bad; /* a syntax error in one of the fields below: 400 */
    size_t host_count;
    const char *host;
    size_t host_len;
    size_t cl_count;
    int64_t cl;
    int te_seen;
    int te_chunked_count;
    int te_last_chunked;
    int te_other; /* codings other than chunked */
    int conn_close;
    int conn_keep_alive;
    int conn_upgrade;
    int has_upgrade;
    int expect_other; /* an Expect member other than 100-continue */
    int expect_continue;
};

static int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive ASCII equality of two counted strings; no locale. */
static int ci_eq_n(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;

    if (alen != blen)
        return 0;
    for (i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int ci_eq(const char *a, size_t alen, const char *lit)
{
    return ci_eq_n(a, alen, lit, strlen(lit));
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* tchar, RFC 9110 5.6.2. */
static int is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const char *p, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_tchar((unsigned char)p[i]))
            return 0;
    return 1;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* field-vchar, SP or HTAB: everything but CTLs and DEL (obs-text allowed). */
static int is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Visible ASCII except '#': a fragment never belongs in a request-target,
 * and raw non-ASCII bytes must be percent-encoded. */
static int is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '#';
}

static int fail(int *status, int code)
{
    *status = code;
    return H1_ERROR;
}

/*
 * uri-host [ ":" port ], narrower than RFC 3986: a reg-name of letters,
 * digits, '-', '.', '_' (no sub-delims, no percent-encoding, never empty) or
 * an IP literal of hex digits, ':' and '.' in brackets; a port, if any, is
 * 1-5 digits <= 65535.  <need_port> for CONNECT's authority-form.
 */
static int valid_authority(const char *p, size_t n, int need_port)
{
    size_t i = 0;
    unsigned long port = 0;

    if (n == 0)
        return 0;
    if (p[0] == '[') {
        for (i = 1; i < n && p[i] != ']'; i++)
            if (hex_value((unsigned char)p[i]) < 0 && p[i] != ':' && p[i] != '.')
                return 0;
        if (i == n || i < 3)
            return 0;
        i++;
    } else {
        while (i < n &&
               (is_alnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '.' || p[i] == '_'))
            i++;
        if (i == 0)
            return 0;
    }
    if (i == n)
        return !need_port;
    if (p[i] != ':' || n - i - 1 == 0 || n - i - 1 > 5)
        return 0;
    for (i++; i < n; i++) {
        if (!is_digit((unsigned char)p[i]))
            return 0;
        port = port * 10 + (unsigned long)(p[i] - '0');
    }
    return port <= 65535;
}

/* "HTTP/" DIGIT "." DIGIT.  Returns the minor version (0 or 1), or
 * H1_ERROR with *<status> 400 (malformed) or 505 (other version). */
static int parse_version(const char *p, size_t n, int *status)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !is_digit((unsigned char)p[5]) || p[6] != '.' ||
        !is_digit((unsigned char)p[7]))
        return fail(status, 400);
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
        return fail(status, 505);
    return p[7] - '0';
}

/* Classify a request-target against its method (RFC 9112 3.2). */
static int classify_target(struct start_line *sl, int *status)
{
    const char *t = sl->target;
    size_t n = sl->target_len, skip, i;

    sl->path = NULL;
    sl->path_len = 0;
    sl->authority = NULL;
    sl->authority_len = 0;
    if (sl->method_len == 7 && memcmp(sl->method, "CONNECT", 7) == 0) {
        if (!valid_authority(t, n, 1))
            return fail(status, 400);
        sl->form = H1_TARGET_AUTHORITY;
        sl->authority = t;
        sl->authority_len = n;
        return SL_OK;
    }
    if (t[0] == '/') {
        sl->form = H1_TARGET_ORIGIN;
        sl->path = t;
        sl->path_len = n;
        return SL_OK;
    }
    if (n == 1 && t[0] == '*') {
        if (sl->method_len != 7 || memcmp(sl->method, "OPTIONS", 7) != 0)
            return fail(status, 400);
        sl->form = H1_TARGET_ASTERISK;
        sl->path = t;
        sl->path_len = 1;
        return SL_OK;
    }
    if (n > 7 && ci_eq(t, 7, "http://"))
        skip = 7;
    else if (n > 8 && ci_eq(t, 8, "https://"))
        skip = 8;
    else
        return fail(status, 400);
    for (i = skip; i < n && t[i] != '/' && t[i] != '?'; i++)
        ;
    if (!valid_authority(t + skip, i - skip, 0))
        return fail(status, 400);
    sl->form = H1_TARGET_ABSOLUTE;
    sl->authority = t + skip;
    sl->authority_len = i - skip;
    sl->path = t + i;
    sl->path_len = n - i;
    return SL_OK;
}

/* method SP request-target SP HTTP-version, single spaces only. */
static int parse_request_line(const char *p, size_t n, struct start_line *sl, int *status)
{
    size_t i = 0, t0;
    int minor;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ' ')
        return fail(status, 400);
    sl->method = p;
    sl->method_len = i;
    t0 = ++i;
    while (i < n && is_target_char((unsigned char)p[i]))
        i++;
    if (i == t0 || i == n || p[i] != ' ')
        return fail(status, 400);
    sl->target = p + t0;
    sl->target_len = i - t0;
    minor = parse_version(p + i + 1, n - i - 1, status);
    if (minor < 0)
        return H1_ERROR;
    sl->minor_version = minor;
    return classify_target(sl, status);
}

/* HTTP-version SP 3DIGIT SP reason-phrase; "HTTP/1.1 200" without the
 * second SP is tolerated (seen from real servers, not ambiguous). */
static int parse_status_line(const char *p, size_t n, struct start_line *sl, int *status)
{
    size_t i;
    int minor;

    if (n < 12 || p[8] != ' ')
        return fail(status, 400);
    minor = parse_version(p, 8, status);
    if (minor < 0)
        return H1_ERROR;
    if (p[9] < '1' || p[9] > '5' || !is_digit((unsigned char)p[10]) ||
        !is_digit((unsigned char)p[11]))
        return fail(status, 400);
    sl->minor_version = minor;
    sl->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    sl->reason = p + n;
    sl->reason_len = 0;
    if (n == 12)
        return SL_OK;
    if (p[12] != ' ')
        return fail(status, 400);
    for (i = 13; i < n; i++)
        if (!is_field_char((unsigned char)p[i]))
            return fail(status, 400);
    sl->reason = p + 13;
    sl->reason_len = n - 13;
    return SL_OK;
}

/* field-name ":" OWS field-value OWS.  A leading SP/HTAB (obs-fold) or any
 * whitespace before the colon fails the token scan. */
static int parse_field_line(const char *p, size_t n, struct h1_header *h, int *status)
{
    size_t i = 0, colon, vs, ve;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ':')
        return fail(status, 400);
    colon = i;
    vs = i + 1;
    ve = n;
    while (vs < ve && is_ows((unsigned char)p[vs]))
        vs++;
    while (ve > vs && is_ows((unsigned char)p[ve - 1]))
        ve--;
    for (i = vs; i < ve; i++)
        if (!is_field_char((unsigned char)p[i]))
            return fail(status, 400);
    h->name = p;
    h->name_len = colon;
    h->value = p + vs;
    h->value_len = ve - vs;
    return SL_OK;
}

static int check_line(const char *p, size_t n, size_t index, int kind, int *status)
{
    struct start_line sl;
    struct h1_header h;

    if (index == 0)
        return kind == KIND_REQUEST ? parse_request_line(p, n, &sl, status)
                                    : parse_status_line(p, n, &sl, status);
    if (index > H1_MAX_HEADERS)
        return fail(status, 431);
    return parse_field_line(p, n, &h, status);
}

/*
 * First pass: examine <buf>[<sc>->pos..<len>).  Returns the head length once
 * the blank line is in, H1_INCOMPLETE, or H1_ERROR with *<status>.
 */
static int scan_head(const char *buf, size_t len, struct h1_scan *sc, int kind, int *status)
{
    size_t max = kind == KIND_REQUEST ? H1_MAX_REQUEST_HEAD : H1_MAX_RESPONSE_HEAD;
    size_t end = len < max ? len : max;
    size_t i;

    for (i = sc->pos; i < end; i++) {
        unsigned char c = (unsigned char)buf[i];
        size_t k = i - sc->line_start;

        if (k > 0 && buf[i - 1] == '\r' && c != '\n')
            return fail(status, 400); /* bare CR */
        if (c != '\n') {
            if (c != '\r' && k >= H1_MAX_LINE)
                return fail(status, sc->lines == 0 && kind == KIND_REQUEST ? 414 : 431);
            continue;
        }
        if (k == 0 || buf[i - 1] != '\r')
            return fail(status, 400); /* bare LF */
        if (k == 1) {
            if (sc->lines > 0) {
                sc->pos = i + 1;
                return (int)(i + 1);
            }
            if (kind == KIND_RESPONSE)
                return fail(status, 400);
            sc->line_start = i + 1; /* empty line before the request line */
            continue;
        }
        if (check_line(buf + sc->line_start, k - 1, sc->lines, kind, status) != SL_OK)
            return H1_ERROR;
        sc->lines++;
        sc->line_start = i + 1;
    }
    sc->pos = i;
    if (end < len)
        return fail(status, 431);
    return H1_INCOMPLETE;
}

/*
 * Second pass over a complete head of <head_len> bytes: the start line into
 * <sl>, the field lines into <hdrs>.  The first pass validated every line, so
 * failures here would be bugs; they are still reported, never ignored.
 */
static int parse_head(const char *buf, size_t head_len, int kind, struct start_line *sl,
                      struct h1_header *hdrs, size_t *nhdrs, int *status)
{
    size_t pos = 0, n = 0, line_len;
    const char *eol;
    int rc;

    if (kind == KIND_REQUEST)
        while (pos + 1 < head_len && buf[pos] == '\r' && buf[pos + 1] == '\n')
            pos += 2;
    eol = memchr(buf + pos, '\n', head_len - pos);
    if (eol == NULL)
        return fail(status, 400);
    line_len = (size_t)(eol - (buf + pos)) - 1;
    rc = kind == KIND_REQUEST ? parse_request_line(buf + pos, line_len, sl, status)
                              : parse_status_line(buf + pos, line_len, sl, status);
    if (rc != SL_OK)
        return rc;
    pos += line_len + 2;
    for (;;) {
        eol = memchr(buf + pos, '\n', head_len - pos);
        if (eol == NULL)
            return fail(status, 400);
        line_len = (size_t)(eol - (buf + pos)) - 1;
        if (line_len == 0)
            break;
        if (n == H1_MAX_HEADERS)
            return fail(status, 431);
        if (parse_field_line(buf + pos, line_len, &hdrs[n], status) != SL_OK)
            return H1_ERROR;
        n++;
        pos += line_len + 2;
    }
    *nhdrs = n;
    return SL_OK;
}

/* Next element of a comma-separated list, OWS trimmed, possibly empty.
 * Start with *<pos> = 0; returns 0 when the list is exhausted. */
static int list_next(const char *p, size_t n, size_t *pos, const char **e, size_t *elen)
{
    size_t i = *pos, s, t;

    if (i > n)
        return 0;
    s = i;
    while (i < n && p[i] != ',')
        i++;
    t = i;
    while (s < t && is_ows((unsigned char)p[s]))
        s++;
    while (t > s && is_ows((unsigned char)p[t - 1]))
        t--;
    *e = p + s;
    *elen = t - s;
    *pos = i + 1;
    return 1;
}

/* 1*DIGIT without sign, within int64_t. */
static int parse_content_length(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (n == 0)
        return SL_EINVAL;
    for (i = 0; i < n; i++) {
        int d;

        if (!is_digit((unsigned char)p[i]))
            return SL_EINVAL;
        d = p[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return SL_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return SL_OK;
}

/* Transfer-Encoding elements accumulate across field lines, in order.
 * Empty elements and parameters are refused: neither is ever needed here
 * and both are where parsers disagree. */
static void collect_te(const char *v, size_t n, struct fields *f)
{
    size_t pos = 0, elen;
    const char *e;

    f->te_seen = 1;
    while (list_next(v, n, &pos, &e, &elen)) {
        if (!is_token(e, elen)) {
            f->bad = 1;
            return;
        }
        if (ci_eq(e, elen, "chunked")) {
            f->te_chunked_count++;
            f->te_last_chunked = 1;
        } else {
            f->te_other = 1;
            f->te_last_chunked = 0;
        }
    }
}

/* Connection options: tokens, case-insensitive; empty elements ignored
 * (RFC 9110 5.6.1). */
static void collect_connection(const char *v, size_t n, struct fields *f)
{
    size_t pos = 0, elen;
    const char *e;

    while (list_next(v, n, &pos, &e, &elen)) {
        if (elen == 0)
            continue;
        if (!is_token(e, elen)) {
            f->bad = 1;
            return;
        }
        if (ci_eq(e, elen, "close"))
            f->conn_close = 1;
        else if (ci_eq(e, elen, "keep-alive"))
            f->conn_keep_alive = 1;
        else if (ci_eq(e, elen, "upgrade"))
            f->conn_upgrade = 1;
    }
}

static void collect_expect(const char *v, size_t n, struct fields *f)
{
    size_t pos = 0, elen;
    const char *e;

    while (list_next(v, n, &pos, &e, &elen)) {
        if (elen == 0)
            continue;
        if (ci_eq(e, elen, "100-continue"))
            f->expect_continue = 1;
        else
            f->expect_other = 1;
    }
}

static void collect_fields(const struct h1_header *h, size_t nh, struct fields *f)
{
    size_t i;

    memset(f, 0, sizeof(*f));
    f->cl = -1;
    for (i = 0; i < nh; i++) {
        const char *n = h[i].name, *v = h[i].value;
        size_t nl = h[i].name_len, vl = h[i].value_len;

        if (ci_eq(n, nl, "host")) {
            f->host_count++;
            f->host = v;
            f->host_len = vl;
        } else if (ci_eq(n, nl, "content-length")) {
            if (f->cl_count++ > 0 || parse_content_length(v, vl, &f->cl) != SL_OK)
                f->bad = 1;
        } else if (ci_eq(n, nl, "transfer-encoding")) {
            collect_te(v, vl, f);
        } else if (ci_eq(n, nl, "connection")) {
            collect_connection(v, vl, f);
        } else if (ci_eq(n, nl, "upgrade")) {
            f->has_upgrade = 1;
        } else if (ci_eq(n, nl, "expect")) {
            collect_expect(v, vl, f);
        }
    }
}

int h1_parse_request(const char *buf, size_t len, struct h1_scan *scan, struct h1_request *req,
                     int *http_status)
{
    struct start_line sl;
    struct fields f;
    int head_len, st = 0;

    *http_status = 0;
    head_len = scan_head(buf, len, scan, KIND_REQUEST, &st);
    if (head_len < 0) {
        *http_status = st;
        return head_len;
    }
    memset(&sl, 0, sizeof(sl));
    if (parse_head(buf, (size_t)head_len, KIND_REQUEST, &sl, req->headers, &req->nheaders, &st) !=
        SL_OK)
        return fail(http_status, st);
    req->method = sl.method;
    req->method_len = sl.method_len;
    req->target = sl.target;
    req->target_len = sl.target_len;
    req->form = sl.form;
    req->path = sl.path;
    req->path_len = sl.path_len;
    req->minor_version = sl.minor_version;

    collect_fields(req->headers, req->nheaders, &f);
    if (f.bad || f.host_count > 1)
        return fail(http_status, 400);
    if (f.host_count == 0 && sl.minor_version == 1)
        return fail(http_status, 400);
    if (f.host_count == 1 && !valid_authority(f.host, f.host_len, 0))
        return fail(http_status, 400);
    if (f.te_seen) {
        if (sl.minor_version == 0 || f.cl_count > 0 || !f.te_last_chunked || f.te_chunked_count > 1)
            return fail(http_status, 400);
        if (f.te_other)
            return fail(http_status, 501);
    }
    if (sl.minor_version == 1 && f.expect_other)
        return fail(http_status, 417);

    req->content_length = f.cl;
    req->chunked = f.te_seen;
    req->keep_alive = sl.minor_version == 1 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
    req->expect_continue = sl.minor_version == 1 && f.expect_continue;
    req->upgrade = sl.minor_version == 1 && f.has_upgrade && f.conn_upgrade;
    if (sl.authority != NULL) {
        req->host = sl.authority;
        req->host_len = sl.authority_len;
    } else {
        req->host = f.host;
        req->host_len = f.host_len;
    }
    return head_len;
}

int h1_parse_response(const char *buf, size_t len, struct h1_scan *scan, int head_request,
                      struct h1_response *res)
{
    struct start_line sl;
    struct fields f;
    int head_len, st = 0;

    head_len = scan_head(buf, len, scan, KIND_RESPONSE, &st);
    if (head_len < 0)
        return head_len;
    memset(&sl, 0, sizeof(sl));
    if (parse_head(buf, (size_t)head_len, KIND_RESPONSE, &sl, res->headers, &res->nheaders, &st) !=
        SL_OK)
        return H1_ERROR;
    collect_fields(res->headers, res->nheaders, &f);
    if (f.bad)
        return H1_ERROR;
    if (f.te_seen &&
        (sl.minor_version == 0 || f.cl_count > 0 || f.te_other || f.te_chunked_count != 1))
        return H1_ERROR;

    res->minor_version = sl.minor_version;
    res->status = sl.status;
    res->reason = sl.reason;
    res->reason_len = sl.reason_len;
    res->content_length = f.cl;
    res->no_body = head_request || sl.status < 200 || sl.status == 204 || sl.status == 304;
    res->chunked = !res->no_body && f.te_seen;
    res->close_delimited = !res->no_body && !res->chunked && f.cl < 0;
    res->keep_alive = !res->close_delimited &&
                      (sl.minor_version == 1 ? !f.conn_close : f.conn_keep_alive && !f.conn_close);
    return head_len;
}

/* Chunked decoder states; zero is the start of a chunk-size line. */
enum {
    CK_SIZE = 0,        /* first hex digit of a chunk size */
    CK_SIZE_MORE,       /* more hex digits, ';' or CR */
    CK_EXT_NAME_START,  /* after ';' */
    CK_EXT_NAME,        /* in an extension name */
    CK_EXT_VALUE_START, /* after '=' */
    CK_EXT_VALUE,       /* in a token value */
    CK_EXT_QUOTED,      /* in a quoted-string value */
    CK_EXT_QUOTED_ESC,  /* after a backslash in a quoted-string */
    CK_EXT_QUOTED_END,  /* after the closing quote */
    CK_SIZE_LF,         /* CR seen on the chunk-size line */
    CK_DATA,            /* chunk data */
    CK_DATA_CR,         /* CRLF after chunk data */
    CK_DATA_LF,
    CK_TRAILER_START, /* start of a trailer line or of the final CRLF */
    CK_TRAILER_NAME,
    CK_TRAILER_VALUE,
    CK_TRAILER_LF,
    CK_END_LF, /* LF of the final CRLF */
    CK_DONE,
    CK_FAILED,
};

/* qdtext or the second byte of a quoted-pair (RFC 9110 5.6.4). */
static int is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/* Advance <st> over one byte <c> outside chunk data; returns the new state. */
static int chunk_step(struct h1_chunked *st, unsigned char c)
{
    int s = st->state;

    if (s <= CK_SIZE_LF && ++st->line_len > H1_MAX_CHUNK_LINE)
        return CK_FAILED;
    if (s >= CK_TRAILER_START && ++st->trailer_len > H1_MAX_TRAILER)
        return CK_FAILED;
    switch (s) {
    case CK_SIZE:
    case CK_SIZE_MORE: {
        int d = hex_value(c);

        if (d >= 0) {
            if (++st->ndigits > 16 || st->remaining > ((uint64_t)INT64_MAX >> 4))
                return CK_FAILED;
            st->remaining = st->remaining * 16 + (uint64_t)d;
            return CK_SIZE_MORE;
        }
        if (s == CK_SIZE)
            return CK_FAILED;
        return c == ';' ? CK_EXT_NAME_START : c == '\r' ? CK_SIZE_LF : CK_FAILED;
    }
    case CK_EXT_NAME_START:
        return is_tchar(c) ? CK_EXT_NAME : CK_FAILED;
    case CK_EXT_NAME:
    case CK_EXT_VALUE:
        if (is_tchar(c))
            return s;
        if (c == '=' && s == CK_EXT_NAME)
            return CK_EXT_VALUE_START;
        return c == ';' ? CK_EXT_NAME_START : c == '\r' ? CK_SIZE_LF : CK_FAILED;
    case CK_EXT_VALUE_START:
        if (c == '"')
            return CK_EXT_QUOTED;
        return is_tchar(c) ? CK_EXT_VALUE : CK_FAILED;
    case CK_EXT_QUOTED:
        if (c == '"')
            return CK_EXT_QUOTED_END;
        if (c == '\\')
            return CK_EXT_QUOTED_ESC;
        return is_qdtext(c) ? CK_EXT_QUOTED : CK_FAILED;
    case CK_EXT_QUOTED_ESC:
        return is_qdtext(c) || c == '"' || c == '\\' ? CK_EXT_QUOTED : CK_FAILED;
    case CK_EXT_QUOTED_END:
        return c == ';' ? CK_EXT_NAME_START : c == '\r' ? CK_SIZE_LF : CK_FAILED;
    case CK_SIZE_LF:
        if (c != '\n')
            return CK_FAILED;
        st->line_len = 0;
        st->ndigits = 0;
        return st->remaining == 0 ? CK_TRAILER_START : CK_DATA;
    case CK_DATA_CR:
        return c == '\r' ? CK_DATA_LF : CK_FAILED;
    case CK_DATA_LF:
        return c == '\n' ? CK_SIZE : CK_FAILED;
    case CK_TRAILER_START:
        if (c == '\r')
            return CK_END_LF;
        if (st->ntrailers == H1_MAX_TRAILERS)
            return CK_FAILED;
        return is_tchar(c) ? CK_TRAILER_NAME : CK_FAILED; /* SP/HTAB: obs-fold */
    case CK_TRAILER_NAME:
        if (is_tchar(c))
            return CK_TRAILER_NAME;
        return c == ':' ? CK_TRAILER_VALUE : CK_FAILED;
    case CK_TRAILER_VALUE:
        if (c == '\r')
            return CK_TRAILER_LF;
        return is_field_char(c) ? CK_TRAILER_VALUE : CK_FAILED;
    case CK_TRAILER_LF:
        if (c != '\n')
            return CK_FAILED;
        st->ntrailers++;
        return CK_TRAILER_START;
    case CK_END_LF:
        return c == '\n' ? CK_DONE : CK_FAILED;
    }
    return CK_FAILED;
}

int h1_chunked_decode(struct h1_chunked *st, const char *buf, size_t len, size_t *consumed,
                      const char **data, size_t *data_len)
{
    size_t i = 0;

    *data = NULL;
    *data_len = 0;
    *consumed = 0;
    if (st->state == CK_DONE)
        return H1_DONE;
    if (st->state == CK_FAILED)
        return H1_ERROR;
    while (i < len) {
        if (st->state == CK_DATA) {
            size_t avail = len - i;
            size_t n = st->remaining < avail ? (size_t)st->remaining : avail;

            *data = buf + i;
            *data_len = n;
            st->remaining -= n;
            st->body_len += n;
            if (st->remaining == 0)
                st->state = CK_DATA_CR;
            *consumed = i + n;
            return SL_OK;
        }
        st->state = chunk_step(st, (unsigned char)buf[i]);
        if (st->state == CK_FAILED) {
            *consumed = i;
            return H1_ERROR;
        }
        i++;
        if (st->state == CK_DONE) {
            *consumed = i;
            return H1_DONE;
        }
    }
    *consumed = i;
    return H1_INCOMPLETE;
}

static int is_hop_name(const char *name, size_t len)
{
    static const char *const hop[] = {"connection", "keep-alive",        "proxy-connection", "te",
                                      "trailer",    "transfer-encoding", "upgrade"};
    size_t i;

    for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
        if (ci_eq(name, len, hop[i]))
            return 1;
    return 0;
}

int h1_is_hop_by_hop(const struct h1_header *hdrs, size_t nhdrs, const char *name, size_t len)
{
    size_t i, pos, elen;
    const char *e;

    if (is_hop_name(name, len))
        return 1;
    for (i = 0; i < nhdrs; i++) {
        if (!ci_eq(hdrs[i].name, hdrs[i].name_len, "connection"))
            continue;
        pos = 0;
        while (list_next(hdrs[i].value, hdrs[i].value_len, &pos, &e, &elen))
            if (elen > 0 && ci_eq_n(e, elen, name, len))
                return 1;
    }
    return 0;
}

int h1_find_header(const struct h1_header *hdrs, size_t nhdrs, size_t from, const char *name)
{
    size_t i;

    for (i = from; i < nhdrs; i++)
        if (ci_eq(hdrs[i].name, hdrs[i].name_len, name))
            return (int)i;
    return SL_ENOTFOUND;
}
