/*
 * hbuf.c - head appends.
 */
#include "proxy/hbuf.h"

#include "common/err.h"
#include "proxy/io.h"

void px_hput(struct px_hbuf *h, const char *s, size_t n)
{
    if (h->failed || px_buf_ensure(h->b, h->cap, h->len + n + 1) != SL_OK) {
        h->failed = 1;
        return;
    }
    memcpy(*h->b + h->len, s, n);
    h->len += n;
}

size_t px_fmt_u64(char *out, unsigned long long v)
{
    char t[24];
    size_t n = 0, i;

    do
        t[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

void px_hput_num(struct px_hbuf *h, const char *name, size_t nlen, long long v)
{
    char line[96];
    size_t n = nlen;

    if (nlen > sizeof(line) - 24) {
        h->failed = 1;
        return;
    }
    memcpy(line, name, nlen);
    n += px_fmt_u64(line + n, v < 0 ? 0 : (unsigned long long)v);
    line[n++] = '\r';
    line[n++] = '\n';
    px_hput(h, line, n);
}

int px_hbuf_ok(const struct px_hbuf *h)
{
    return h->failed ? SL_ENOMEM : SL_OK;
}
