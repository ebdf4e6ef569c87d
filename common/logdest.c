/*
 * logdest.c - bucket and prefix rules.
 */
#include "common/logdest.h"

#include <string.h>

static int alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Four dot-separated runs of digits: S3 refuses such names. */
static int ipv4_like(const char *s)
{
    int dots = 0, digits = 0;

    for (; *s; s++) {
        if (*s == '.') {
            if (digits == 0)
                return 0;
            dots++;
            digits = 0;
        } else if (*s >= '0' && *s <= '9')
            digits++;
        else
            return 0;
    }
    return dots == 3 && digits > 0;
}

int logdest_bucket_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0, i;

    if (n < 3 || n > LOGDEST_BUCKET_MAX || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
        return 0;
    for (i = 0; i < n; i++) {
        if (!alnum_lower(s[i]) && s[i] != '.' && s[i] != '-')
            return 0;
        if (s[i] == '.' && s[i + 1] == '.')
            return 0;
    }
    return !ipv4_like(s);
}

int logdest_prefix_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0, i, seg = 0;

    if (n == 0)
        return 1;
    if (n > LOGDEST_PREFIX_MAX || strstr(s, "AWSLogs") || s[0] == '/' || s[n - 1] == '/')
        return 0;
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            size_t len = i - seg;
            if (len == 0 || (len == 1 && s[seg] == '.') ||
                (len == 2 && s[seg] == '.' && s[seg + 1] == '.'))
                return 0;
            seg = i + 1;
            continue;
        }
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '\\')
            return 0;
    }
    return 1;
}
