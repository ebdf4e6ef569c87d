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

#include "proxy/h1_util.h"

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
    int64_t cl;       /* the first Content-Length */
    int cl_bad;       /* one is not a single decimal number */
    int cl_differ;    /* they do not all say the same */
    int te_seen;
    int te_chunked_count;
    int te_last_chunked;
    int te_other;   /* codings other than chunked */
    int te_unknown; /* a coding that is none of RFC 9110's */
    int conn_close;
    int conn_keep_alive;
    int conn_upgrade;
    int has_upgrade;
    int expect_other; /* an Expect member other than 100-continue */
    int expect_continue;
};

/* One head's tolerance and what it met: passed to every line check. */
struct lctx {
    unsigned tol;     /* H1_DEV_* that may pass */
    unsigned dev;     /* H1_DEV_* met and passed */
    int fault;        /* enum h1_fault of a failure */
    unsigned refused; /* the H1_DEV_* bit that failed it */
};

/* Results of parse_field_line() besides SL_OK (a field). */
enum { PF_FOLD = 1, PF_SKIP = 2 };

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

/* A failure of kind <f> (enum h1_fault). */
static int fault(struct lctx *x, int f, int *status, int code)
{
    x->fault = f;
    return fail(status, code);
}

/* Deviation <bit>: recorded when tolerated (SL_OK), else the failure. */
static int deviate(struct lctx *x, unsigned bit, int *status)
{
    if (x->tol & bit) {
        x->dev |= bit;
        return SL_OK;
    }
    x->refused = bit;
    return fault(x, H1_F_DEVIATION, status, 400);
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

/* A request's version: HTTP/1.0 or 1.1; 1.2-1.9 as 1.1 when tolerated. */
static int request_version(const char *p, size_t n, struct lctx *x, int *status)
{
    int st = 0, minor = parse_version(p, n, &st);

    if (minor >= 0)
        return minor;
    if (st == 505 && p[5] == '1') { /* HTTP/1.2-1.9 */
        if (x->tol & H1_DEV_VERSION) {
            x->dev |= H1_DEV_VERSION;
            return 1;
        }
        x->refused = H1_DEV_VERSION;
        return fault(x, H1_F_DEVIATION, status, 505);
    }
    return fault(x, st == 505 ? H1_F_OTHER : H1_F_BAD_VERSION, status, st);
}

/* The request-target's bytes: visible ASCII but '#'; SP, CTLs, '#' and
 * non-ASCII only as tolerated deviations; NUL never. */
static int check_target(const char *t, size_t n, struct lctx *x, int *status)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (is_target_char(c))
            continue;
        if (c == '\0' || c == '\r')
            return fault(x, H1_F_BAD_URI, status, 400);
        if (deviate(x, c == ' ' ? H1_DEV_URI_SPACE : H1_DEV_URI_CHARS, status) != SL_OK)
            return H1_ERROR;
    }
    return SL_OK;
}

/* method SP request-target SP HTTP-version: single spaces, unless SP in
 * the target (it then runs to the last SP) or after the version are
 * tolerated. */
static int parse_request_line(const char *p, size_t n, struct start_line *sl, struct lctx *x,
                              int *status)
{
    size_t i = 0, t0, sp, end = n;
    int minor;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == n)
        return fault(x, i == 0 ? H1_F_BAD_METHOD : H1_F_BAD_VERSION, status, 400);
    if (i == 0 || p[i] != ' ')
        return fault(x, H1_F_BAD_METHOD, status, 400);
    sl->method = p;
    sl->method_len = i;
    t0 = i + 1;
    while (end > t0 && is_ows((unsigned char)p[end - 1]))
        end--;
    if (end < n && deviate(x, H1_DEV_VERSION, status) != SL_OK)
        return H1_ERROR;
    for (sp = end; sp > t0 && p[sp - 1] != ' '; sp--)
        ;
    if (sp <= t0) /* one word after the method: a version, or a target (0.9) */
        return fault(x, end - t0 >= 7 && memcmp(p + t0, "HTTP/1.", 7) == 0 ? H1_F_NO_URI
                        : end > t0                                       ? H1_F_HTTP09
                                                                         : H1_F_NO_URI,
                     status, 400);
    if (sp - 1 == t0)
        return fault(x, H1_F_NO_URI, status, 400);
    if (check_target(p + t0, sp - 1 - t0, x, status) != SL_OK)
        return H1_ERROR;
    sl->target = p + t0;
    sl->target_len = sp - 1 - t0;
    if ((minor = request_version(p + sp, end - sp, x, status)) < 0)
        return H1_ERROR;
    sl->minor_version = minor;
    if (classify_target(sl, status) != SL_OK)
        return fault(x, H1_F_OTHER, status, *status);
    return SL_OK;
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

/* A field value's bytes from <vs> to <ve>: CTLs only as a tolerated
 * deviation (NUL never). */
static int check_value(const char *p, size_t vs, size_t ve, struct lctx *x, int *status)
{
    size_t i;

    for (i = vs; i < ve; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_field_char(c))
            continue;
        if (c == '\0' || c == '\r' || c == '\n')
            return fault(x, H1_F_BAD_HEADER, status, 400);
        if (deviate(x, H1_DEV_HDR_CTL, status) != SL_OK)
            return H1_ERROR;
    }
    return SL_OK;
}

/* field-name ":" OWS field-value OWS.  SL_OK with <h> filled; PF_FOLD for
 * a tolerated obs-fold line (after a field: <prev>); PF_SKIP for a
 * tolerated line that is dropped (no colon, no name); H1_ERROR. */
static int parse_field_line(const char *p, size_t n, int prev, struct h1_header *h,
                            struct lctx *x, int *status)
{
    size_t i = 0, colon, vs, ve;
    int odd = 0;

    if (n > 0 && is_ows((unsigned char)p[0]) && prev) {
        if (deviate(x, H1_DEV_OBS_FOLD, status) != SL_OK)
            return H1_ERROR;
        return check_value(p, 0, n, x, status) == SL_OK ? PF_FOLD : H1_ERROR;
    }
    for (; i < n && p[i] != ':'; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\0' || c == '\r' || c == '\n')
            return fault(x, H1_F_BAD_HEADER, status, 400);
        odd |= !is_tchar(c);
    }
    if (i == n)
        return deviate(x, H1_DEV_NO_COLON, status) == SL_OK ? PF_SKIP : H1_ERROR;
    if (i == 0)
        return deviate(x, H1_DEV_EMPTY_NAME, status) == SL_OK ? PF_SKIP : H1_ERROR;
    if (odd && deviate(x, H1_DEV_HDR_NAME, status) != SL_OK)
        return H1_ERROR;
    colon = i;
    vs = i + 1;
    ve = n;
    while (vs < ve && is_ows((unsigned char)p[vs]))
        vs++;
    while (ve > vs && is_ows((unsigned char)p[ve - 1]))
        ve--;
    if (check_value(p, vs, ve, x, status) != SL_OK)
        return H1_ERROR;
    h->name = p;
    h->name_len = colon;
    h->value = p + vs;
    h->value_len = ve - vs;
    return SL_OK;
}

/* A response's field line: no deviation passes. */
static int response_field(const char *p, size_t n, struct h1_header *h, int *status)
{
    struct lctx strict = {0, 0, 0, 0};
    int rc = parse_field_line(p, n, 0, h, &strict, status);

    return rc == SL_OK ? SL_OK : fail(status, 400);
}

static int check_line(const char *p, size_t n, struct h1_scan *sc, int kind, struct lctx *x,
                      int *status)
{
    struct start_line sl;
    struct h1_header h;
    int rc;

    if (sc->lines == 0)
        return kind == KIND_REQUEST ? parse_request_line(p, n, &sl, x, status)
                                    : parse_status_line(p, n, &sl, status);
    if (kind == KIND_RESPONSE) {
        rc = response_field(p, n, &h, status);
    } else {
        rc = parse_field_line(p, n, sc->fields > 0, &h, x, status);
        if (rc < 0)
            return rc;
    }
    if (rc == SL_OK && sc->fields++ == H1_MAX_HEADERS)
        return fault(x, H1_F_OTHER, status, 431);
    return rc < 0 ? rc : SL_OK;
}

/*
 * First pass: examine <buf>[<sc>->pos..<len>).  Returns the head length once
 * the blank line is in, H1_INCOMPLETE, or H1_ERROR with *<status>.
 */
static int scan_head(const char *buf, size_t len, struct h1_scan *sc, int kind, struct lctx *x,
                     int *status)
{
    size_t max = kind == KIND_REQUEST ? H1_MAX_REQUEST_HEAD : H1_MAX_RESPONSE_HEAD;
    size_t end = len < max ? len : max;
    size_t i;

    for (i = sc->pos; i < end; i++) {
        unsigned char c = (unsigned char)buf[i];
        size_t k = i - sc->line_start, ll;

        if (k > 0 && buf[i - 1] == '\r' && c != '\n') /* bare CR */
            return fault(x, sc->lines == 0 ? H1_F_BAD_URI : H1_F_BAD_HEADER, status, 400);
        if (c != '\n') {
            if (c != '\r' && k >= H1_MAX_LINE)
                return fault(x, H1_F_OTHER, status,
                             sc->lines == 0 && kind == KIND_REQUEST ? 414 : 431);
            continue;
        }
        ll = k > 0 && buf[i - 1] == '\r' ? k - 1 : k;
        if (ll == k && deviate(x, H1_DEV_BARE_LF, status) != SL_OK)
            return H1_ERROR;
        if (ll == 0) {
            if (sc->lines > 0) {
                sc->pos = i + 1;
                return (int)(i + 1);
            }
            if (kind == KIND_RESPONSE)
                return fail(status, 400);
            sc->line_start = i + 1; /* empty line before the request line */
            continue;
        }
        if (check_line(buf + sc->line_start, ll, sc, kind, x, status) != SL_OK)
            return H1_ERROR;
        sc->lines++;
        sc->line_start = i + 1;
    }
    sc->pos = i;
    if (end < len)
        return fault(x, H1_F_OTHER, status, 431);
    return H1_INCOMPLETE;
}

/* The line at *<pos> of <buf>[0..<n>): its length without CRLF or LF into
 * *<ll>, *<pos> past its end.  0 when no LF is left. */
static int next_line(const char *buf, size_t n, size_t *pos, const char **line, size_t *ll)
{
    const char *eol = memchr(buf + *pos, '\n', n - *pos);

    if (eol == NULL)
        return 0;
    *line = buf + *pos;
    *ll = (size_t)(eol - *line);
    if (*ll > 0 && eol[-1] == '\r')
        (*ll)--;
    *pos = (size_t)(eol - buf) + 1;
    return 1;
}

/* An obs-fold line <p>[0..<n>) continues field <h>: its value runs on to
 * the end of the line (a forwarder writes the fold as one SP). */
static void fold_into(struct h1_header *h, const char *p, size_t n)
{
    while (n > 0 && is_ows((unsigned char)p[n - 1]))
        n--;
    if (n > 0 && p + n > h->value + h->value_len)
        h->value_len = (size_t)(p + n - h->value);
}

/*
 * Second pass over a complete head of <head_len> bytes: the start line into
 * <sl>, the field lines into <hdrs>.  The first pass validated every line, so
 * failures here would be bugs; they are still reported, never ignored.
 */
static int parse_head(const char *buf, size_t head_len, int kind, struct start_line *sl,
                      struct h1_header *hdrs, size_t *nhdrs, struct lctx *x, int *status)
{
    size_t pos = 0, n = 0, ll;
    const char *line;
    int rc;

    if (kind == KIND_REQUEST)
        while (pos < head_len && (buf[pos] == '\n' ||
                                  (buf[pos] == '\r' && pos + 1 < head_len && buf[pos + 1] == '\n')))
            pos += buf[pos] == '\n' ? 1 : 2;
    if (!next_line(buf, head_len, &pos, &line, &ll))
        return fail(status, 400);
    rc = kind == KIND_REQUEST ? parse_request_line(line, ll, sl, x, status)
                              : parse_status_line(line, ll, sl, status);
    if (rc != SL_OK)
        return rc;
    for (;;) {
        if (!next_line(buf, head_len, &pos, &line, &ll))
            return fail(status, 400);
        if (ll == 0)
            break;
        if (n == H1_MAX_HEADERS)
            return fail(status, 431);
        rc = kind == KIND_REQUEST ? parse_field_line(line, ll, n > 0, &hdrs[n], x, status)
                                  : response_field(line, ll, &hdrs[n], status);
        if (rc == PF_FOLD)
            fold_into(&hdrs[n - 1], line, ll);
        else if (rc == SL_OK)
            n++;
        else if (rc != PF_SKIP)
            return H1_ERROR;
    }
    *nhdrs = n;
    return SL_OK;
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
            if (!ci_eq(e, elen, "gzip") && !ci_eq(e, elen, "deflate") &&
                !ci_eq(e, elen, "compress") && !ci_eq(e, elen, "identity"))
                f->te_unknown = 1;
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
            int64_t cl;
            if (parse_content_length(v, vl, &cl) != SL_OK)
                f->cl_bad = 1;
            else if (f->cl_count == 0 || f->cl < 0)
                f->cl = cl;
            else if (cl != f->cl)
                f->cl_differ = 1;
            f->cl_count++;
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

/* The cross-field rules of a request (RFC 9112 6, 7.1; RFC 9110 7.2):
 * framing, Host, Expect.  SL_OK or H1_ERROR. */
static int check_request_fields(const struct fields *f, int minor, struct lctx *x, int *status)
{
    if (f->cl_bad)
        return fault(x, H1_F_BAD_CL, status, 400);
    if (f->cl_differ)
        return fault(x, H1_F_MULTI_CL, status, 400);
    if (f->te_chunked_count > 1)
        return fault(x, H1_F_MULTI_CHUNKED, status, 400);
    if (f->te_seen && !f->te_last_chunked) /* no framing: 400; RFC 9112 6.3 */
        return fault(x, f->te_unknown ? H1_F_BAD_TE : H1_F_OTHER, status, 400);
    if (f->te_unknown) /* a coding before chunked that nobody knows */
        return fault(x, H1_F_BAD_TE, status, 501);
    if (f->bad || f->host_count > 1 || (f->host_count == 0 && minor == 1) ||
        (f->host_count == 1 && !valid_authority(f->host, f->host_len, 0)))
        return fault(x, H1_F_OTHER, status, 400);
    if (f->cl_count > 1 && deviate(x, H1_DEV_DUP_CL, status) != SL_OK)
        return H1_ERROR;
    if (f->te_seen) {
        if (f->cl_count > 0 && deviate(x, H1_DEV_TE_CL, status) != SL_OK)
            return H1_ERROR;
        if (minor == 0 && deviate(x, H1_DEV_TE_HTTP10, status) != SL_OK)
            return H1_ERROR;
        if (f->te_other)
            return fault(x, H1_F_OTHER, status, 501);
    }
    if (minor == 1 && f->expect_other)
        return fault(x, H1_F_OTHER, status, 417);
    return SL_OK;
}

/* H1_ERROR after a failure of <x>: the scan records what failed. */
static int refuse(struct h1_scan *scan, const struct lctx *x, int *http_status, int st)
{
    scan->fault = x->fault ? x->fault : H1_F_OTHER;
    scan->refused = x->refused;
    return fail(http_status, st ? st : 400);
}

int h1_parse_request_tol(const char *buf, size_t len, struct h1_scan *scan, unsigned tolerate,
                         struct h1_request *req, int *http_status)
{
    struct lctx x = {tolerate, scan->dev, 0, 0};
    struct start_line sl;
    struct fields f;
    int head_len, st = 0;

    *http_status = 0;
    head_len = scan_head(buf, len, scan, KIND_REQUEST, &x, &st);
    scan->dev = x.dev;
    if (head_len == H1_ERROR)
        return refuse(scan, &x, http_status, st);
    if (head_len < 0)
        return head_len;
    memset(&sl, 0, sizeof(sl));
    if (parse_head(buf, (size_t)head_len, KIND_REQUEST, &sl, req->headers, &req->nheaders, &x,
                   &st) != SL_OK)
        return refuse(scan, &x, http_status, st);
    req->method = sl.method;
    req->method_len = sl.method_len;
    req->target = sl.target;
    req->target_len = sl.target_len;
    req->form = sl.form;
    req->path = sl.path;
    req->path_len = sl.path_len;
    req->minor_version = sl.minor_version;

    collect_fields(req->headers, req->nheaders, &f);
    if (check_request_fields(&f, sl.minor_version, &x, &st) != SL_OK)
        return refuse(scan, &x, http_status, st);
    req->content_length = f.te_seen ? -1 : f.cl; /* TE wins (RFC 9112 6.3) */
    req->chunked = f.te_seen;
    req->keep_alive = sl.minor_version == 1 ? !f.conn_close : f.conn_keep_alive && !f.conn_close;
    if (x.dev & (H1_DEV_TE_CL | H1_DEV_TE_HTTP10))
        req->keep_alive = 0; /* faulty framing: close after (RFC 9112 6.1, 6.3) */
    req->expect_continue = sl.minor_version == 1 && f.expect_continue;
    req->upgrade = sl.minor_version == 1 && f.has_upgrade && f.conn_upgrade;
    if (sl.authority != NULL) {
        req->host = sl.authority;
        req->host_len = sl.authority_len;
    } else {
        req->host = f.host;
        req->host_len = f.host_len;
    }
    req->deviations = x.dev;
    return head_len;
}

int h1_parse_request(const char *buf, size_t len, struct h1_scan *scan, struct h1_request *req,
                     int *http_status)
{
    return h1_parse_request_tol(buf, len, scan, 0, req, http_status);
}

int h1_parse_response(const char *buf, size_t len, struct h1_scan *scan, int head_request,
                      struct h1_response *res)
{
    struct lctx strict = {0, 0, 0, 0};
    struct start_line sl;
    struct fields f;
    int head_len, st = 0;

    head_len = scan_head(buf, len, scan, KIND_RESPONSE, &strict, &st);
    if (head_len < 0)
        return head_len;
    memset(&sl, 0, sizeof(sl));
    if (parse_head(buf, (size_t)head_len, KIND_RESPONSE, &sl, res->headers, &res->nheaders,
                   &strict, &st) != SL_OK)
        return H1_ERROR;
    collect_fields(res->headers, res->nheaders, &f);
    if (f.bad || f.cl_bad || f.cl_count > 1)
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
