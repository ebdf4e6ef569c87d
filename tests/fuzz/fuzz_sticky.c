/*
 * fuzz_sticky.c - libFuzzer target for proxy/sticky.c's readers of client
 * bytes: the Cookie field parser and the stickiness cookie decoder.
 *
 * The input is a Cookie field value.  Each of the proxy's cookie names is
 * looked up in it and decoded under a fixed key; the input is also decoded
 * whole as a value.  A value that decodes must encode back to the same text
 * (one text per value: nothing forged by re-spelling), and a found value
 * lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "fuzz_util.h"
#include "proxy/sticky.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[PX_STICK_KEY_LEN] = {0};

static void decode_one(const char *v, size_t n)
{
    unsigned char id[PX_STICK_ID_LEN];
    char again[PX_STICK_VALUE_MAX];
    uint32_t exp = 0;

    if (px_sticky_decode(key, v, n, id, &exp) != SL_OK)
        return;
    CHECK(px_sticky_encode(key, id, exp, again) == n);
    CHECK(memcmp(again, v, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"AWSALB",   "AWSALBCORS",   "AWSALBAPP-0",
                                        "AWSALBTG", "AWSALBTGCORS", NULL};
    char *buf = malloc(size + 1);
    struct h1_header h;
    int i;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    h.name = "Cookie";
    h.name_len = 6;
    h.value = buf;
    h.value_len = size;
    for (i = 0; names[i]; i++) {
        size_t n = 0;
        const char *v = px_sticky_cookie(&h, 1, names[i], &n);
        if (v == NULL)
            continue;
        CHECK(v >= buf && v + n <= buf + size);
        decode_one(v, n);
    }
    decode_one(buf, size);
    free(buf);
    return 0;
}
