/*
 * fuzz_trace.c - libFuzzer target for proxy/trace.c: the X-Amzn-Trace-Id
 * value a client sends, which sluice-proxy extends (Self= in front of a
 * valid Root) or replaces (a fresh Root).
 *
 * The input is the header's value.  Whatever it is, the value sent on is
 * visible ASCII of "Key=Value" fields, shorter than the buffer, and starts
 * with a valid Root or Self id; it keeps the client's bytes only when it
 * starts with Self, and then ends with them (less any Self field).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "proxy/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[8192];
    struct h1_header h = {"X-Amzn-Trace-Id", 15, (const char *)data, size};
    size_t n, i;

    if (size > 4096)
        return 0;
    n = px_trace_value(&h, 1, size + 64, 1700000000, out, sizeof(out));
    CHECK(n >= 40 && n < sizeof(out));
    CHECK(memcmp(out, "Root=1-", 7) == 0 || memcmp(out, "Self=1-", 7) == 0);
    CHECK(px_trace_id_ok(out + 5, 35));
    CHECK(memcmp(out + 7, "6553f100", 8) == 0); /* the time given */
    for (i = 0; i < n; i++)
        CHECK((unsigned char)out[i] > 0x20 && (unsigned char)out[i] < 0x7f && out[i] != '"');
    if (out[0] == 'R')
        CHECK(n == 40);
    else
        CHECK(n > 41 && out[40] == ';' && strstr(out + 40, "Root=1-") != NULL);
    /* twice the same input, twice the same shape (only the random part moves) */
    CHECK(px_trace_value(&h, 1, size + 64, 1700000000, out, sizeof(out)) == n);
    return 0;
}
