#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at <s> (1-4), or 0 when it is not a valid,
 * shortest-form one within <n> bytes. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Messages quote what clients sent, and every wire format is UTF-8 (a JSON
 * encoder refuses anything else): invalid bytes, and a sequence cut by the
 * buffer's end, become '?'. */
static void utf8_scrub(char *text)
{
    unsigned char *p = (unsigned char *)text;
    size_t n = strlen(text), k;

    while (n > 0) {
        k = utf8_len(p, n);
        if (k == 0) {
            *p = '?';
            k = 1;
        }
        p += k;
        n -= k;
    }
}

int sl_err_set(struct sl_err *e, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return SL_ERR;
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    utf8_scrub(e->code);
    utf8_scrub(e->message);
    return SL_ERR;
}

const char *sl_strerror(int rc)
{
    switch (rc) {
    case SL_OK: return "success";
    case SL_ERR: return "failure";
    case SL_EAGAIN: return "try again";
    case SL_ENOTFOUND: return "not found";
    case SL_EEXIST: return "already exists";
    case SL_ENOMEM: return "out of memory";
    case SL_EIO: return "I/O error";
    case SL_EINVAL: return "invalid input";
    default: return "unknown status";
    }
}
