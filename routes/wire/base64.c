/*
 * base64.c - strict RFC 4648 base64 decoding.
 */
#include "routes/wire/base64.h"

#include <stdlib.h>

#include "common/err.h"

static int value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int b64_decode(const char *in, size_t len, char **out, size_t *out_len)
{
    size_t i, o = 0, pad = 0;
    unsigned char *buf;

    *out = NULL;
    *out_len = 0;
    if (len % 4 != 0)
        return SL_EINVAL;
    if (len > 0 && in[len - 1] == '=')
        pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
    if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
        return SL_ENOMEM;
    for (i = 0; i < len; i += 4) {
        int v[4], k, last = i + 4 == len;
        for (k = 0; k < 4; k++) {
            if (last && k >= 4 - (int)pad) {
                v[k] = 0;
                continue;
            }
            if ((v[k] = value((unsigned char)in[i + (size_t)k])) < 0) {
                free(buf);
                return SL_EINVAL;
            }
        }
        buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (!last || pad < 2)
            buf[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (!last || pad < 1)
            buf[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    buf[o] = '\0';
    *out = (char *)buf;
    *out_len = o;
    return SL_OK;
}
