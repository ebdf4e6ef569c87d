/*
 * sigv4.c - SigV4 Authorization headers: parsing, date and scope checks, and
 * the signature over the canonical request.
 *
 * The canonical request is rebuilt the way botocore's SigV4Auth builds it
 * (auth.py: canonical_request, _normalize_url_path, canonical_headers), so a
 * request signed by the AWS CLI, boto3 or any SDK that follows the SigV4
 * spec verifies here.  tests/unit/auth_vectors/ holds requests signed by
 * botocore itself.
 */
#include "server/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/creds.h"

#define MAX_SECRET_LEN CREDS_MAX_SECRET
#define SHA256_LEN     32
#define SHA256_HEX_LEN 64
#define AMZ_DATE_LEN   SIGV4_AMZ_DATE_LEN

static const char MSG_MISMATCH[] =
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details.";

/* ---- small helpers ---------------------------------------------------- */

static int is_blank(int c)
{
    return c == ' ' || c == '\t';
}

/* Python's str.split() whitespace, ASCII part: what botocore trims. */
static int is_py_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static int is_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
    unsigned int len = 0;

    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != SHA256_LEN)
        return -1;
    return 0;
}

static int hmac256(const void *key, size_t keylen, const void *msg, size_t msglen,
                   unsigned char out[SHA256_LEN])
{
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &len) == NULL || len != SHA256_LEN)
        return -1;
    return 0;
}

static int span_eq(struct sigv4_span s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static int span_ieq(struct sigv4_span a, struct sigv4_span b)
{
    return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

static const char *find_header(const struct auth_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (r->headers[i].name && strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value ? r->headers[i].value : "";
    return NULL;
}

static size_t count_header(const struct auth_request *r, const char *name)
{
    size_t i, n = 0;

    for (i = 0; i < r->nheaders; i++)
        n += r->headers[i].name && strcasecmp(r->headers[i].name, name) == 0;
    return n;
}

static int copy_span(char *dst, size_t cap, struct sigv4_span s)
{
    if (s.n == 0 || s.n >= cap)
        return -1;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return 0;
}

/* "<key>/<yyyymmdd>/<region>/<service>/aws4_request" */
static int parse_credential(struct sigv4_auth *a, struct sl_err *err)
{
    struct sigv4_span part[5];
    const char *p = a->credential.p, *end = p + a->credential.n, *slash;
    size_t i, k = 0;

    for (;;) {
        slash = memchr(p, '/', (size_t)(end - p));
        if (k < 5) {
            part[k].p = p;
            part[k].n = (size_t)((slash ? slash : end) - p);
        }
        k++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    if (k != 5 || part[0].n == 0 || part[2].n == 0 || part[3].n == 0)
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Credential must have exactly 5 slash-delimited elements, e.g. "
                          "keyid/date/region/service/term, got '%.*s'",
                          (int)(a->credential.n > 200 ? 200 : a->credential.n), a->credential.p);
    for (i = 0; i < part[1].n; i++)
        if (part[1].p[i] < '0' || part[1].p[i] > '9')
            break;
    if (part[1].n != 8 || i != 8)
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Invalid credential date \"%.*s\". Date is not the required "
                          "format: yyyyMMdd.",
                          (int)(part[1].n > 32 ? 32 : part[1].n), part[1].p);
    if (!span_eq(part[4], "aws4_request"))
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Credential should be scoped with a valid terminator: "
                          "'aws4_request', not '%.*s'.",
                          (int)(part[4].n > 32 ? 32 : part[4].n), part[4].p);
    if (copy_span(a->region, sizeof(a->region), part[2]) != 0)
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Credential should be scoped to a valid region.");
    if (copy_span(a->service, sizeof(a->service), part[3]) != 0)
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Credential should be scoped to a valid service.");
    if (copy_span(a->key, sizeof(a->key), part[0]) != 0)
        return sl_err_set(err, 403, "InvalidClientTokenId",
                          "The security token included in the request is invalid.");
    memcpy(a->date, part[1].p, 8);
    a->date[8] = '\0';
    return SL_OK;
}

/* "host;x-amz-date;..." into a->names. */
static int parse_signed_headers(struct sigv4_auth *a, struct sl_err *err)
{
    const char *p = a->signed_headers.p, *end = p + a->signed_headers.n, *semi;
    struct sigv4_span host = {"host", 4};
    size_t i;
    int has_host = 0;

    for (;;) {
        struct sigv4_span s;

        semi = memchr(p, ';', (size_t)(end - p));
        s.p = p;
        s.n = (size_t)((semi ? semi : end) - p);
        if (s.n == 0)
            return sl_err_set(err, 403, "IncompleteSignature",
                              "SignedHeaders has an empty header name.");
        if (a->nnames == SIGV4_MAX_SIGNED_HEADERS)
            return sl_err_set(err, 403, "IncompleteSignature",
                              "SignedHeaders lists more than %d headers.",
                              SIGV4_MAX_SIGNED_HEADERS);
        for (i = 0; i < a->nnames; i++)
            if (span_ieq(a->names[i], s))
                return sl_err_set(err, 403, "IncompleteSignature",
                                  "SignedHeaders lists '%.*s' twice.", (int)(s.n > 64 ? 64 : s.n),
                                  s.p);
        has_host |= span_ieq(s, host);
        a->names[a->nnames++] = s;
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    if (!has_host)
        return sl_err_set(err, 403, "IncompleteSignature",
                          "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                          "Authorization.");
    return SL_OK;
}

static void add_missing(char *dst, size_t cap, const char *what)
{
    size_t n = strlen(dst);

    snprintf(dst + n, cap - n, " Authorization header requires '%s' parameter.", what);
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
static int parse_authorization(const char *v, struct sigv4_auth *a, struct sl_err *err)
{
    static const char scheme[] = "AWS4-HMAC-SHA256";
    const char *p, *end, *comma, *eq;
    char missing[256] = "";
    int rc;

    memset(a, 0, sizeof(*a));
    while (is_blank(*v))
        v++;
    if (strncmp(v, scheme, sizeof(scheme) - 1) != 0 ||
        (v[sizeof(scheme) - 1] != '\0' && !is_blank(v[sizeof(scheme) - 1])))
        return sl_err_set(err, 403, "MissingAuthenticationToken",
                          "Request is missing Authentication Token");
    p = v + sizeof(scheme) - 1;
    end = p + strlen(p);
    while (p < end) {
        struct sigv4_span name, val, *slot;

        comma = memchr(p, ',', (size_t)(end - p));
        val.p = p;
        val.n = (size_t)((comma ? comma : end) - p);
        p = comma ? comma + 1 : end;
        while (val.n && is_blank(*val.p))
            val.p++, val.n--;
        while (val.n && is_blank(val.p[val.n - 1]))
            val.n--;
        if (val.n == 0)
            continue;
        eq = memchr(val.p, '=', val.n);
        if (eq == NULL)
            continue;
        name.p = val.p;
        name.n = (size_t)(eq - val.p);
        val.n -= name.n + 1;
        val.p = eq + 1;
        if (span_eq(name, "Credential"))
            slot = &a->credential;
        else if (span_eq(name, "SignedHeaders"))
            slot = &a->signed_headers;
        else if (span_eq(name, "Signature"))
            slot = &a->signature;
        else
            continue;
        if (slot->p)
            return sl_err_set(err, 403, "IncompleteSignature",
                              "Authorization header has '%.*s' more than once.", (int)name.n,
                              name.p);
        *slot = val;
    }
    if (a->credential.n == 0)
        add_missing(missing, sizeof(missing), "Credential");
    if (a->signature.n == 0)
        add_missing(missing, sizeof(missing), "Signature");
    if (a->signed_headers.n == 0)
        add_missing(missing, sizeof(missing), "SignedHeaders");
    if (missing[0])
        return sl_err_set(err, 403, "IncompleteSignature", "%s", missing + 1);
    if ((rc = parse_credential(a, err)) != SL_OK)
        return rc;
    return parse_signed_headers(a, err);
}

static int digits(const char *p, int n)
{
    int v = 0;

    while (n-- > 0) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p++ - '0');
    }
    return v;
}

/* timegm() normalises out-of-range fields; a real date survives the round trip. */
static int tm_to_time(struct tm *tm, time_t *out)
{
    struct tm want = *tm, back;
    time_t t = timegm(tm);

    if (gmtime_r(&t, &back) == NULL || back.tm_year != want.tm_year || back.tm_mon != want.tm_mon ||
        back.tm_mday != want.tm_mday || back.tm_hour != want.tm_hour ||
        back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
        return -1;
    *out = t;
    return 0;
}

/* X-Amz-Date: "20261124T085322Z". */
static int parse_amz_date(const char *s, time_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (strlen(s) != AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        return -1;
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_mon = digits(s + 4, 2) - 1;
    tm.tm_mday = digits(s + 6, 2);
    tm.tm_hour = digits(s + 9, 2);
    tm.tm_min = digits(s + 11, 2);
    tm.tm_sec = digits(s + 13, 2);
    if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
        tm.tm_sec < 0)
        return -1;
    return tm_to_time(&tm, out);
}

/* Date: "Tue, 24 Nov 2026 08:53:22 GMT", or the "-0000"/"+hhmm" zone that
 * botocore's email.utils.formatdate() writes. */
static int parse_http_date(const char *s, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    const char *comma = strchr(s, ','), *m;
    int day, offset = 0, n;

    memset(&tm, 0, sizeof(tm));
    if (comma)
        s = comma + 1;
    while (*s == ' ')
        s++;
    for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
        ;
    if (n < 1 || n > 2 || s[n] != ' ')
        return -1;
    day = digits(s, n);
    s += n + 1;
    if (strlen(s) < 4 || s[3] != ' ')
        return -1;
    for (m = months; *m; m += 3)
        if (strncasecmp(m, s, 3) == 0)
            break;
    if (*m == '\0')
        return -1;
    tm.tm_mon = (int)(m - months) / 3;
    s += 4;
    if (strlen(s) < 14 || s[4] != ' ' || s[7] != ':' || s[10] != ':' || s[13] != ' ')
        return -1;
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_hour = digits(s + 5, 2);
    tm.tm_min = digits(s + 8, 2);
    tm.tm_sec = digits(s + 11, 2);
    tm.tm_mday = day;
    if (tm.tm_year < 0 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
        return -1;
    s += 14;
    if (strcmp(s, "GMT") == 0 || strcmp(s, "UTC") == 0 || strcmp(s, "UT") == 0 ||
        strcmp(s, "Z") == 0) {
        offset = 0;
    } else if ((s[0] == '+' || s[0] == '-') && strlen(s) == 5) {
        int hh = digits(s + 1, 2), mm = digits(s + 3, 2);

        if (hh < 0 || mm < 0 || hh > 23 || mm > 59)
            return -1;
        offset = (hh * 60 + mm) * 60 * (s[0] == '-' ? -1 : 1);
    } else {
        return -1;
    }
    if (tm_to_time(&tm, out) != 0)
        return -1;
    *out -= offset;
    return 0;
}

static void format_amz_date(time_t t, char out[AMZ_DATE_LEN + 1])
{
    struct tm tm;

    /* years past 9999 do not fit; such a date fails the scope check */
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != AMZ_DATE_LEN)
        snprintf(out, AMZ_DATE_LEN + 1, "%s", "00000000T000000Z");
}

/* Percent-encode every byte outside the unreserved set (and '/', if kept),
 * upper-case hex: Python's quote() as botocore calls it. */
static void uri_encode(struct buf *b, const char *p, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* botocore: quote(remove_dot_segments(path), safe='/~'); the path is the raw,
 * still-encoded one, so "%20" becomes "%2520". */
static int canonical_path(struct buf *b, const char *path)
{
    struct sigv4_span *seg;
    const char *p, *end, *slash;
    size_t n = 1, k = 0, i, len;

    if (path == NULL || *path == '\0') {
        buf_putc(b, '/');
        return 0;
    }
    len = strlen(path);
    for (p = path; *p; p++)
        n += *p == '/';
    if ((seg = malloc(n * sizeof(*seg))) == NULL)
        return -1;
    for (p = path, end = path + len; p <= end; p = slash + 1) {
        struct sigv4_span s;

        slash = memchr(p, '/', (size_t)(end - p));
        if (slash == NULL)
            slash = end;
        s.p = p;
        s.n = (size_t)(slash - p);
        if (span_eq(s, "..")) {
            if (k)
                k--;
        } else if (s.n && !span_eq(s, ".")) {
            seg[k++] = s;
        }
    }
    if (path[0] == '/')
        buf_putc(b, '/');
    for (i = 0; i < k; i++) {
        if (i)
            buf_putc(b, '/');
        uri_encode(b, seg[i].p, seg[i].n, 0);
    }
    if (path[len - 1] == '/' && k)
        buf_putc(b, '/');
    free(seg);
    return 0;
}

/* Decode a query component ('+' is a space, bad escapes stay literal) and
 * encode it the SigV4 way, into a fresh string. */
static char *query_component(const char *p, size_t n)
{
    struct buf b;
    size_t i;

    buf_init(&b);
    buf_putc(&b, '\0'); /* allocated and NUL-terminated even when empty */
    b.len = 0;
    for (i = 0; i < n; i++) {
        char c = p[i];
        int hi, lo;

        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && (hi = hex_val((unsigned char)p[i + 1])) >= 0 &&
                   (lo = hex_val((unsigned char)p[i + 2])) >= 0) {
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        uri_encode(&b, &c, 1, 0);
    }
    if (buf_failed(&b)) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, NULL);
}

struct qpair {
    char *k;
    char *v;
};

static int qpair_cmp(const void *x, const void *y)
{
    const struct qpair *a = x, *b = y;
    int c = strcmp(a->k, b->k);

    return c ? c : strcmp(a->v, b->v);
}

/* Pairs re-encoded, sorted by key then value, joined with '&'. */
static int canonical_query(struct buf *b, const char *q)
{
    struct qpair *v = NULL;
    const char *p, *end, *amp, *eq;
    size_t n = 1, k = 0, i;
    int rc = -1;

    if (q == NULL || *q == '\0')
        return 0;
    for (p = q; *p; p++)
        n += *p == '&';
    if ((v = calloc(n, sizeof(*v))) == NULL)
        return -1;
    for (p = q, end = q + strlen(q); p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL)
            amp = end;
        if (amp == p)
            continue;
        eq = memchr(p, '=', (size_t)(amp - p));
        v[k].k = query_component(p, (size_t)((eq ? eq : amp) - p));
        v[k].v = eq ? query_component(eq + 1, (size_t)(amp - eq - 1)) : query_component("", 0);
        k++;
        if (v[k - 1].k == NULL || v[k - 1].v == NULL)
            goto out;
    }
    qsort(v, k, sizeof(*v), qpair_cmp);
    for (i = 0; i < k; i++) {
        if (i)
            buf_putc(b, '&');
        buf_puts(b, v[i].k);
        buf_putc(b, '=');
        buf_puts(b, v[i].v);
    }
    rc = 0;
out:
    for (i = 0; i < k; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
    return rc;
}

/* "name:v1,v2\n" with each value trimmed and inner blank runs collapsed.
 * Returns -1 if the request has no such header. */
static int canonical_header(struct buf *b, const struct auth_request *r, struct sigv4_span name)
{
    size_t i, j, found = 0;

    for (j = 0; j < name.n; j++) {
        char c = name.p[j];
        buf_putc(b, (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
    }
    buf_putc(b, ':');
    for (i = 0; i < r->nheaders; i++) {
        const char *h = r->headers[i].name, *v = r->headers[i].value;
        int pending = 0, any = 0;

        if (h == NULL || strlen(h) != name.n || strncasecmp(h, name.p, name.n) != 0)
            continue;
        if (found++)
            buf_putc(b, ',');
        for (; v && *v; v++) {
            if (is_py_space((unsigned char)*v)) {
                pending = any;
                continue;
            }
            if (pending)
                buf_putc(b, ' ');
            pending = 0;
            any = 1;
            buf_putc(b, *v);
        }
    }
    buf_putc(b, '\n');
    return found ? 0 : -1;
}

static int internal(struct sl_err *err, const char *what)
{
    return sl_err_set(err, 500, "InternalFailure", "Request authentication failed: %s.", what);
}

/* Build the canonical request of <r> under <a>.  <payload> is the hash line
 * (X-Amz-Content-SHA256's value or the body's hex digest). */
static int canonical_request(struct buf *b, const struct auth_request *r,
                             const struct sigv4_auth *a, const char *payload, struct sl_err *err)
{
    const char *m;
    size_t i;

    for (m = r->method ? r->method : ""; *m; m++)
        buf_putc(b, (char)((*m >= 'a' && *m <= 'z') ? *m - 'a' + 'A' : *m));
    buf_putc(b, '\n');
    if (canonical_path(b, r->path) != 0)
        return internal(err, "out of memory");
    buf_putc(b, '\n');
    if (canonical_query(b, r->query) != 0)
        return internal(err, "out of memory");
    buf_putc(b, '\n');
    for (i = 0; i < a->nnames; i++)
        if (canonical_header(b, r, a->names[i]) != 0)
            return sl_err_set(err, 403, "SignatureDoesNotMatch",
                              "%s Signed header '%.*s' is not in the request.", MSG_MISMATCH,
                              (int)(a->names[i].n > 64 ? 64 : a->names[i].n), a->names[i].p);
    buf_putc(b, '\n');
    buf_append(b, a->signed_headers.p, a->signed_headers.n);
    buf_putc(b, '\n');
    buf_puts(b, payload);
    if (buf_failed(b))
        return internal(err, "out of memory");
    return SL_OK;
}

/* hex HMAC(kSigning, string to sign), kSigning derived from <secret>. */
static int compute_signature(const char *secret, const struct sigv4_auth *a, const char *amz_date,
                             const struct buf *creq, char out[SHA256_HEX_LEN + 1])
{
    unsigned char k[SHA256_LEN], h[SHA256_LEN];
    char seed[4 + MAX_SECRET_LEN + 1], creq_hex[SHA256_HEX_LEN + 1];
    struct buf sts;
    size_t slen = strlen(secret);
    int rc = -1;

    buf_init(&sts);
    if (slen > MAX_SECRET_LEN)
        goto out;
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, slen);
    if (sha256(creq->data, creq->len, h) != 0)
        goto out;
    to_hex(h, SHA256_LEN, creq_hex);
    buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, a->date,
               a->region, a->service, creq_hex);
    if (buf_failed(&sts))
        goto out;
    if (hmac256(seed, 4 + slen, a->date, strlen(a->date), k) != 0 ||
        hmac256(k, SHA256_LEN, a->region, strlen(a->region), k) != 0 ||
        hmac256(k, SHA256_LEN, a->service, strlen(a->service), k) != 0 ||
        hmac256(k, SHA256_LEN, "aws4_request", 12, k) != 0 ||
        hmac256(k, SHA256_LEN, sts.data, sts.len, h) != 0)
        goto out;
    to_hex(h, SHA256_LEN, out);
    rc = 0;
out:
    OPENSSL_cleanse(seed, sizeof(seed));
    OPENSSL_cleanse(k, sizeof(k));
    buf_free(&sts);
    return rc;
}

/* "Signature expired: ... is now earlier than ... (... - 15 min.)" */
static int check_skew(time_t t, time_t now, const char *amz_date, struct sl_err *err)
{
    char now_s[AMZ_DATE_LEN + 1], edge[AMZ_DATE_LEN + 1];
    long long d = (long long)t - (long long)now;

    if (d >= -AUTH_MAX_SKEW_SECONDS && d <= AUTH_MAX_SKEW_SECONDS)
        return SL_OK;
    format_amz_date(now, now_s);
    if (d < 0) {
        format_amz_date(now - AUTH_MAX_SKEW_SECONDS, edge);
        return sl_err_set(err, 403, "RequestExpired",
                          "Signature expired: %s is now earlier than %s (%s - 15 min.)", amz_date,
                          edge, now_s);
    }
    format_amz_date(now + AUTH_MAX_SKEW_SECONDS, edge);
    return sl_err_set(err, 403, "RequestExpired",
                      "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                      amz_date, edge, now_s);
}


int sigv4_parse(const struct auth_request *r, struct sigv4_auth *a, struct sl_err *err)
{
    const char *authz, *xdate;
    int rc;

    memset(a, 0, sizeof(*a));
    if (r == NULL)
        return internal(err, "no request");
    authz = find_header(r, "authorization");
    if (authz == NULL)
        return sl_err_set(err, 403, "MissingAuthenticationToken",
                          "Request is missing Authentication Token");
    if (count_header(r, "authorization") > 1)
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Only one Authorization header is allowed.");
    if ((rc = parse_authorization(authz, a, err)) != SL_OK)
        return rc;
    if ((xdate = find_header(r, "x-amz-date")) != NULL) {
        if (parse_amz_date(xdate, &a->t) != 0)
            return sl_err_set(err, 403, "RequestExpired",
                              "Invalid X-Amz-Date '%.32s': expected yyyyMMdd'T'HHmmss'Z'.", xdate);
        memcpy(a->amz_date, xdate, sizeof(a->amz_date));
    } else if ((xdate = find_header(r, "date")) != NULL) {
        if (parse_http_date(xdate, &a->t) != 0)
            return sl_err_set(err, 403, "RequestExpired",
                              "Invalid Date header '%.40s': expected an RFC 7231 date.", xdate);
        format_amz_date(a->t, a->amz_date);
    } else {
        return sl_err_set(err, 403, "IncompleteSignature",
                          "Authorization header requires existence of either a 'X-Amz-Date' "
                          "or a 'Date' header.");
    }
    if (memcmp(a->date, a->amz_date, 8) != 0)
        return sl_err_set(err, 403, "SignatureDoesNotMatch",
                          "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                          "version of date from HTTP: '%s' != '%.8s', from '%s'.",
                          a->date, a->amz_date,
                          find_header(r, "x-amz-date") ? "X-Amz-Date" : "Date");
    return SL_OK;
}

int sigv4_check_skew(const struct sigv4_auth *a, time_t now, struct sl_err *err)
{
    return check_skew(a->t, now, a->amz_date, err);
}

int sigv4_check_signature(const struct sigv4_auth *a, const char *secret,
                          const struct auth_request *r, struct sl_err *err)
{
    const char *content_sha;
    char body_hex[SHA256_HEX_LEN + 1], sig[SHA256_HEX_LEN + 1];
    unsigned char h[SHA256_LEN];
    struct buf creq;
    int rc;

    if (secret == NULL)
        return sl_err_set(err, 403, "InvalidClientTokenId",
                          "The security token included in the request is invalid.");
    buf_init(&creq);
    if (sha256(r->body_len ? r->body : "", r->body_len, h) != 0)
        return internal(err, "SHA-256 failed");
    to_hex(h, SHA256_LEN, body_hex);
    content_sha = find_header(r, "x-amz-content-sha256");
    if ((rc = canonical_request(&creq, r, a, content_sha ? content_sha : body_hex, err)) != SL_OK)
        goto out;
    if (compute_signature(secret, a, a->amz_date, &creq, sig) != 0) {
        rc = internal(err, "HMAC-SHA256 failed");
        goto out;
    }
    if (a->signature.n != SHA256_HEX_LEN ||
        CRYPTO_memcmp(sig, a->signature.p, SHA256_HEX_LEN) != 0) {
        rc = sl_err_set(err, 403, "SignatureDoesNotMatch", "%s", MSG_MISMATCH);
        goto out;
    }
    /* A signed X-Amz-Content-SHA256 only vouches for the body if it is the
     * body's hash; otherwise the body could be swapped after signing. */
    if (content_sha && strcasecmp(content_sha, body_hex) != 0) {
        rc = sl_err_set(err, 400, "XAmzContentSHA256Mismatch", "%s",
                        strcmp(content_sha, "UNSIGNED-PAYLOAD") == 0
                            ? "UNSIGNED-PAYLOAD is not accepted: sign the request body."
                            : "The provided 'x-amz-content-sha256' header does not match what "
                              "was computed.");
        goto out;
    }
    rc = SL_OK;
out:
    buf_free(&creq);
    return rc;
}
