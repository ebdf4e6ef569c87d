/*
 * h1_util.h - small text helpers shared by http1.c and h1fields.c (the
 * data plane's HTTP/1.1 parser and its field helpers); not a public API.
 *
 * Caveats: ASCII only, no locale; pure.
 */
#ifndef SL_PROXY_H1_UTIL_H
#define SL_PROXY_H1_UTIL_H

#include <stddef.h>
#include <string.h>

static inline int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive ASCII equality of two counted strings; no locale. */
static inline int ci_eq_n(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;

    if (alen != blen)
        return 0;
    for (i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static inline int ci_eq(const char *a, size_t alen, const char *lit)
{
    return ci_eq_n(a, alen, lit, strlen(lit));
}

static inline int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Next element of a comma-separated list, OWS trimmed, possibly empty.
 * Start with *<pos> = 0; returns 0 when the list is exhausted. */
static inline int list_next(const char *p, size_t n, size_t *pos, const char **e, size_t *elen)
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

#endif
