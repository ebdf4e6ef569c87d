/*
 * pathnorm.c - the path rules match (see pathnorm.h).
 */
#include "proxy/pathnorm.h"

#include <string.h>

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int px_path_is_normal(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || p[0] != '/')
        return 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '%' || p[i] == '\\')
            return 0;
        if (p[i] == '/' && i + 1 < n) {
            if (p[i + 1] == '/')
                return 0;
            /* a "." or ".." segment */
            if (p[i + 1] == '.' && (i + 2 == n || p[i + 2] == '/' ||
                                    (p[i + 2] == '.' && (i + 3 == n || p[i + 3] == '/'))))
                return 0;
        }
    }
    return 1;
}

/* The next byte of <p>[*i..<n>), a %XX escape decoded; *i moves past it. */
static unsigned char next_byte(const char *p, size_t n, size_t *i)
{
    unsigned char c = (unsigned char)p[*i];
    int hi, lo;

    if (c == '%' && *i + 2 < n && (hi = hexv((unsigned char)p[*i + 1])) >= 0 &&
        (lo = hexv((unsigned char)p[*i + 2])) >= 0) {
        *i += 3;
        return (unsigned char)(hi * 16 + lo);
    }
    (*i)++;
    return c;
}

size_t px_path_normalize(const char *p, size_t n, char *out)
{
    size_t i = 0, o = 1, seg = 1; /* out[0..seg) is the path so far, ending in '/' */

    out[0] = '/';
    for (;;) {
        int more = 0; /* the segment ended at a separator, not at the end */
        size_t len;

        o = seg;
        while (i < n) {
            unsigned char c = next_byte(p, n, &i);
            if (c == '/' || c == '\\') {
                more = 1;
                break;
            }
            out[o++] = (char)c;
        }
        len = o - seg;
        if (len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
            /* back over the segment before, never above the root */
            if (seg > 1) {
                seg--;
                while (out[seg - 1] != '/')
                    seg--;
            }
            o = seg;
        } else if (len == 0 || (len == 1 && out[seg] == '.')) {
            o = seg; /* an empty segment ("//") or ".": nothing */
        } else if (more) {
            out[o++] = '/';
            seg = o;
        }
        if (!more)
            break;
    }
    return o;
}
