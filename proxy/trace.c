/*
 * trace.c - X-Amzn-Trace-Id values.
 */
#include "proxy/trace.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char hexd[] = "0123456789abcdef";

/* xorshift128+, one per thread, seeded by getrandom(). */
static uint64_t next64(void)
{
    static __thread uint64_t s[2];
    uint64_t x, y;

    if (s[0] == 0 && s[1] == 0) {
        if (getrandom(s, sizeof(s), 0) != (ssize_t)sizeof(s) || (s[0] == 0 && s[1] == 0)) {
            s[0] = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ULL;
            s[1] = (uint64_t)time(NULL) * 0xbf58476d1ce4e5b9ULL | 1;
        }
    }
    x = s[0];
    y = s[1];
    s[0] = y;
    x ^= x << 23;
    s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s[1] + y;
}

void px_trace_hex(char *out, size_t nbytes)
{
    uint64_t r = 0;
    size_t i;

    for (i = 0; i < nbytes; i++) {
        if (i % 8 == 0)
            r = next64();
        out[2 * i] = hexd[(r >> 4) & 15];
        out[2 * i + 1] = hexd[r & 15];
        r >>= 8;
    }
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int px_trace_id_ok(const char *v, size_t n)
{
    size_t i;

    if (n != 35 || v[0] != '1' || v[1] != '-' || v[10] != '-')
        return 0;
    for (i = 2; i < 35; i++)
        if (i != 10 && !is_hex(v[i]))
            return 0;
    return 1;
}

/* "<field>=1-<time>-<24 hex>" into <out>: 40 + strlen(field) bytes. */
static size_t put_id(char *out, const char *field, time_t now)
{
    size_t k = strlen(field), i;
    uint32_t t = (uint32_t)now;

    memcpy(out, field, k);
    out[k++] = '=';
    out[k++] = '1';
    out[k++] = '-';
    for (i = 0; i < 8; i++)
        out[k++] = hexd[(t >> (28 - 4 * i)) & 15];
    out[k++] = '-';
    px_trace_hex(out + k, 12);
    return k + 24;
}

/* The fields of <v> other than Self, after a new Self, into <out>; 0 when
 * <v> has no valid Root, a malformed field, or does not fit. */
static size_t extend(const char *v, size_t n, time_t now, char *out, size_t cap)
{
    size_t k, i = 0;
    int root = 0;

    if (cap < 45 + n)
        return 0;
    k = put_id(out, "Self", now);
    while (i < n) {
        const char *f = v + i, *semi = memchr(f, ';', n - i), *eq;
        size_t fl = semi ? (size_t)(semi - f) : n - i, j;
        i += fl + 1;
        if (fl == 0)
            continue;
        if ((eq = memchr(f, '=', fl)) == NULL || eq == f)
            return 0;
        for (j = 0; j < fl; j++)
            if ((unsigned char)f[j] <= 0x20 || (unsigned char)f[j] >= 0x7f || f[j] == '"')
                return 0;
        if ((size_t)(eq - f) == 4 && strncmp(f, "Self", 4) == 0)
            continue;
        if ((size_t)(eq - f) == 4 && strncmp(f, "Root", 4) == 0) {
            if (root || !px_trace_id_ok(eq + 1, fl - 5))
                return 0;
            root = 1;
        }
        out[k++] = ';';
        memcpy(out + k, f, fl);
        k += fl;
    }
    return root ? k : 0;
}

size_t px_trace_value(const struct h1_header *hdrs, size_t n, size_t head_len, time_t now,
                      char *out, size_t cap)
{
    size_t i, k = 0, found = 0;
    const struct h1_header *h = NULL;

    for (i = 0; i < n; i++)
        if (hdrs[i].name_len == 15 && strncasecmp(hdrs[i].name, "x-amzn-trace-id", 15) == 0) {
            h = &hdrs[i];
            found++;
        }
    if (found == 1 && head_len <= PX_TRACE_HEAD_MAX)
        k = extend(h->value, h->value_len, now, out, cap);
    return k ? k : put_id(out, "Root", now);
}
