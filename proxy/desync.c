/*
 * desync.c - request classification and header hygiene (see desync.h).
 * The classes and reasons are http_desync_guardian's as ALB documents
 * them; the checks are this parser's (http1.h's H1_DEV_* and faults) plus
 * the few rules about a parsed request (GET/HEAD bodies, look-alike names).
 */
#include "proxy/desync.h"

#include <string.h>

#include "common/err.h"

static const char *const reason_names[PX_DSR_COUNT] = {
    [PX_DSR_NONE] = "-",
    [PX_DSR_NON_COMPLIANT_HEADER] = "NonCompliantHeader",
    [PX_DSR_SPACE_IN_URI] = "SpaceInUri",
    [PX_DSR_NON_COMPLIANT_VERSION] = "NonCompliantVersion",
    [PX_DSR_GET_HEAD_ZERO_CL] = "GetHeadZeroContentLength",
    [PX_DSR_NON_CRLF] = "NonCrLfLineTermination",
    [PX_DSR_EMPTY_HEADER] = "EmptyHeader",
    [PX_DSR_AMBIGUOUS_URI] = "AmbiguousUri",
    [PX_DSR_UNDEFINED_CL] = "UndefinedContentLengthSemantics",
    [PX_DSR_UNDEFINED_TE] = "UndefinedTransferEncodingSemantics",
    [PX_DSR_DUPLICATE_CL] = "DuplicateContentLength",
    [PX_DSR_BOTH_TE_CL] = "BothTeClPresent",
    [PX_DSR_SUSPICIOUS_HEADER] = "SuspiciousHeader",
    [PX_DSR_MULTILINE_HEADER] = "MultilineHeader",
    [PX_DSR_MISSING_COLON] = "MissingHeaderColon",
    [PX_DSR_MISSING_URI] = "MissingUri",
    [PX_DSR_BAD_HEADER] = "BadHeader",
    [PX_DSR_BAD_URI] = "BadUri",
    [PX_DSR_BAD_VERSION] = "BadVersion",
    [PX_DSR_MULTIPLE_CL] = "MultipleContentLength",
    [PX_DSR_BAD_CL] = "BadContentLength",
    [PX_DSR_MULTIPLE_TE_CHUNKED] = "MultipleTransferEncodingChunked",
    [PX_DSR_BAD_TE] = "BadTransferEncoding",
    [PX_DSR_BAD_METHOD] = "BadMethod",
};

/* Each deviation the parser may pass, in the order they are looked at
 * (raw lines, then fields, framing, version, target), with its class. */
static const struct {
    unsigned dev;
    int cls, reason;
} dev_class[] = {
    {H1_DEV_BARE_LF, PX_DSC_ACCEPTABLE, PX_DSR_NON_CRLF},
    {H1_DEV_NO_COLON, PX_DSC_AMBIGUOUS, PX_DSR_MISSING_COLON},
    {H1_DEV_OBS_FOLD, PX_DSC_AMBIGUOUS, PX_DSR_MULTILINE_HEADER},
    {H1_DEV_HDR_CTL, PX_DSC_ACCEPTABLE, PX_DSR_NON_COMPLIANT_HEADER},
    {H1_DEV_HDR_NAME, PX_DSC_ACCEPTABLE, PX_DSR_NON_COMPLIANT_HEADER},
    {H1_DEV_EMPTY_NAME, PX_DSC_AMBIGUOUS, PX_DSR_EMPTY_HEADER},
    {H1_DEV_TE_HTTP10, PX_DSC_AMBIGUOUS, PX_DSR_UNDEFINED_TE},
    {H1_DEV_DUP_CL, PX_DSC_AMBIGUOUS, PX_DSR_DUPLICATE_CL},
    {H1_DEV_TE_CL, PX_DSC_AMBIGUOUS, PX_DSR_BOTH_TE_CL},
    {H1_DEV_VERSION, PX_DSC_ACCEPTABLE, PX_DSR_NON_COMPLIANT_VERSION},
    {H1_DEV_URI_SPACE, PX_DSC_ACCEPTABLE, PX_DSR_SPACE_IN_URI},
    {H1_DEV_URI_CHARS, PX_DSC_AMBIGUOUS, PX_DSR_AMBIGUOUS_URI},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The drop mask has a bit for every field a head may hold. */
_Static_assert(H1_MAX_HEADERS <= 128, "px_desync_drop_mask() covers 128 fields");

int px_desync_mode_parse(const char *s, int *mode)
{
    if (s && strcmp(s, "defensive") == 0)
        *mode = PX_DSM_DEFENSIVE;
    else if (s && strcmp(s, "monitor") == 0)
        *mode = PX_DSM_MONITOR;
    else if (s && strcmp(s, "strictest") == 0)
        *mode = PX_DSM_STRICTEST;
    else
        return SL_EINVAL;
    return SL_OK;
}

unsigned px_desync_tolerance(int mode)
{
    unsigned all = 0;
    size_t i;

    if (mode == PX_DSM_STRICTEST)
        return 0;
    for (i = 0; i < NELEM(dev_class); i++)
        all |= dev_class[i].dev;
    return all;
}

/* Raise <d> to <cls> for <reason>: the first reason of the worst class. */
static void up(struct px_dsc *d, int cls, int reason)
{
    if (cls > d->cls) {
        d->cls = cls;
        d->reason = reason;
    }
}

static int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int px_desync_looks_like(const char *p, size_t n, const char *canon)
{
    size_t i, k = 0, clen = strlen(canon);
    int exact = n == clen;

    for (i = 0; exact && i < n; i++)
        exact = lower((unsigned char)p[i]) == (unsigned char)canon[i];
    if (exact)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i], want;
        while (k < clen && canon[k] == '-')
            k++;
        want = k < clen ? (unsigned char)canon[k] : 0;
        /* letters that become ASCII ones when upper-cased: the long s
         * (U+017F) and the dotless i (U+0131) */
        if (i + 1 < n && ((c == 0xc5 && (unsigned char)p[i + 1] == 0xbf && want == 's') ||
                          (c == 0xc4 && (unsigned char)p[i + 1] == 0xb1 && want == 'i'))) {
            i++;
            k++;
            continue;
        }
        if (!alnum(c))
            continue; /* separators, whitespace, CTLs: set aside */
        if (want == 0 || lower(c) != want)
            return 0;
        k++;
    }
    while (k < clen && canon[k] == '-')
        k++;
    return k == clen;
}

static int is_tchar(unsigned char c)
{
    return alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int suspicious(const struct h1_header *h)
{
    return px_desync_looks_like(h->name, h->name_len, "transfer-encoding") ||
           px_desync_looks_like(h->name, h->name_len, "content-length");
}

void px_desync_classify(const struct h1_request *r, struct px_dsc *out)
{
    int body_less = (r->method_len == 3 && memcmp(r->method, "GET", 3) == 0) ||
                    (r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0);
    size_t i;

    out->cls = PX_DSC_COMPLIANT;
    out->reason = PX_DSR_NONE;
    for (i = 0; r->deviations && i < NELEM(dev_class); i++)
        if (r->deviations & dev_class[i].dev)
            up(out, dev_class[i].cls, dev_class[i].reason);
    for (i = 0; i < r->nheaders; i++)
        if (suspicious(&r->headers[i])) {
            up(out, PX_DSC_AMBIGUOUS, PX_DSR_SUSPICIOUS_HEADER);
            break;
        }
    /* RFC 9110 9.3.1/9.3.2: a body on GET or HEAD has no meaning */
    if (body_less && r->chunked)
        up(out, PX_DSC_AMBIGUOUS, PX_DSR_UNDEFINED_TE);
    else if (body_less && r->content_length > 0)
        up(out, PX_DSC_AMBIGUOUS, PX_DSR_UNDEFINED_CL);
    else if (body_less && r->content_length == 0)
        up(out, PX_DSC_ACCEPTABLE, PX_DSR_GET_HEAD_ZERO_CL);
}

/* A field name refused for its bytes: does it look like TE or CL?  The
 * scan stopped at its line (sc->line_start). */
static int refused_name_suspicious(const struct h1_scan *sc, const char *buf, size_t len)
{
    const char *line = buf + sc->line_start, *colon;
    size_t n = sc->line_start < len ? len - sc->line_start : 0;

    if (sc->refused != H1_DEV_HDR_NAME || n == 0 || (colon = memchr(line, ':', n)) == NULL)
        return 0;
    n = (size_t)(colon - line);
    return px_desync_looks_like(line, n, "transfer-encoding") ||
           px_desync_looks_like(line, n, "content-length");
}

void px_desync_classify_refusal(const struct h1_scan *sc, const char *buf, size_t len,
                                struct px_dsc *out)
{
    static const struct {
        int fault, reason;
    } severe[] = {
        {H1_F_BAD_HEADER, PX_DSR_BAD_HEADER},   {H1_F_BAD_URI, PX_DSR_BAD_URI},
        {H1_F_BAD_METHOD, PX_DSR_BAD_METHOD},   {H1_F_BAD_VERSION, PX_DSR_BAD_VERSION},
        {H1_F_MULTI_CL, PX_DSR_MULTIPLE_CL},    {H1_F_BAD_CL, PX_DSR_BAD_CL},
        {H1_F_MULTI_CHUNKED, PX_DSR_MULTIPLE_TE_CHUNKED}, {H1_F_BAD_TE, PX_DSR_BAD_TE},
    };
    size_t i;

    out->cls = PX_DSC_COMPLIANT;
    out->reason = PX_DSR_NONE;
    if (sc->fault == H1_F_NO_URI) {
        out->cls = PX_DSC_AMBIGUOUS;
        out->reason = PX_DSR_MISSING_URI;
    } else if (sc->fault == H1_F_HTTP09) {
        out->cls = PX_DSC_ACCEPTABLE;
        out->reason = PX_DSR_NON_COMPLIANT_VERSION;
    }
    for (i = 0; sc->fault == H1_F_DEVIATION && i < NELEM(dev_class); i++)
        if (sc->refused == dev_class[i].dev)
            up(out, dev_class[i].cls, dev_class[i].reason);
    if (sc->fault == H1_F_DEVIATION && refused_name_suspicious(sc, buf, len))
        up(out, PX_DSC_AMBIGUOUS, PX_DSR_SUSPICIOUS_HEADER);
    for (i = 0; i < NELEM(severe); i++)
        if (sc->fault == severe[i].fault)
            up(out, PX_DSC_SEVERE, severe[i].reason);
}

int px_desync_verdict(int mode, int cls)
{
    if (cls == PX_DSC_COMPLIANT)
        return PX_DSV_FORWARD;
    if (cls == PX_DSC_SEVERE || mode == PX_DSM_STRICTEST)
        return PX_DSV_BLOCK;
    if (cls == PX_DSC_AMBIGUOUS && mode == PX_DSM_DEFENSIVE)
        return PX_DSV_FORWARD_CLOSE;
    return PX_DSV_FORWARD;
}

const char *px_desync_class_name(int cls)
{
    switch (cls) {
    case PX_DSC_ACCEPTABLE: return "Acceptable";
    case PX_DSC_AMBIGUOUS: return "Ambiguous";
    case PX_DSC_SEVERE: return "Severe";
    default: return "-";
    }
}

const char *px_desync_reason_name(int reason)
{
    return reason > 0 && reason < PX_DSR_COUNT ? reason_names[reason] : "-";
}

/* ALB's rule for a valid header name: letters, digits and hyphens. */
static int alb_valid_name(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!alnum((unsigned char)p[i]) && p[i] != '-')
            return 0;
    return n > 0;
}

static int token(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_tchar((unsigned char)p[i]))
            return 0;
    return n > 0;
}

int px_desync_drop_mask(const struct h1_request *r, int drop_invalid, uint64_t drop[2])
{
    int check_tokens = (r->deviations & H1_DEV_HDR_NAME) != 0, n = 0;
    size_t i;

    drop[0] = drop[1] = 0;
    for (i = 0; i < r->nheaders && i < 128; i++) {
        const struct h1_header *h = &r->headers[i];
        if ((check_tokens && !token(h->name, h->name_len)) || suspicious(h) ||
            (drop_invalid && !alb_valid_name(h->name, h->name_len))) {
            drop[i / 64] |= (uint64_t)1 << (i % 64);
            n++;
        }
    }
    return n;
}
