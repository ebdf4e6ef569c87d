/*
 * hbuf.h - appending to a head being built in a growable buffer (the heads
 * the proxy sends on, and its own answers), without snprintf on the
 * per-request path.
 *
 * Caveats:
 *  - <*len> is the fill; the buffer grows (px_buf_ensure()) and stays
 *    allocated for the connection's next heads.
 *  - A failed append leaves the buffer as it was and returns SL_ENOMEM; a
 *    builder may check once at the end with px_hbuf_ok().
 */
#ifndef SL_PROXY_HBUF_H
#define SL_PROXY_HBUF_H

#include <stddef.h>
#include <string.h>

struct px_hbuf {
    char **b;
    size_t *cap;
    size_t len;
    int failed;
};

/* Start building into <*b> (capacity <*cap>) from its first byte. */
static inline struct px_hbuf px_hbuf_at(char **b, size_t *cap)
{
    struct px_hbuf h = {b, cap, 0, 0};

    return h;
}

void px_hput(struct px_hbuf *h, const char *s, size_t n);

static inline void px_hputs(struct px_hbuf *h, const char *s)
{
    px_hput(h, s, strlen(s));
}

/* "<name><decimal of v, negative as 0>\r\n" (<name> of <nlen> bytes). */
void px_hput_num(struct px_hbuf *h, const char *name, size_t nlen, long long v);

/* 0, or SL_ENOMEM if an append failed. */
int px_hbuf_ok(const struct px_hbuf *h);

/* The decimal of <v> into <out> (>= 20 bytes); returns its length. */
size_t px_fmt_u64(char *out, unsigned long long v);

#endif
