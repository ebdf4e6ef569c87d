#include "common/util.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void util_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t i;

    if (nbytes > sizeof(raw))
        nbytes = sizeof(raw);
    if (RAND_bytes(raw, (int)nbytes) != 1)
        abort(); /* no entropy: identifiers would collide */
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
}

static void uuid_format(char out[37], unsigned char r[16])
{
    static const char hex[] = "0123456789abcdef";
    int i, o = 0;

    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
}

void util_uuid(char out[37])
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        abort();
    uuid_format(out, r);
}

static unsigned char request_id_base[16];
static uint64_t request_id_seq;

static void request_id_init(void)
{
    if (RAND_bytes(request_id_base, sizeof(request_id_base)) != 1)
        abort();
}

void util_request_id(char out[37])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    unsigned char r[16];
    uint64_t low = 0;
    int i;

    pthread_once(&once, request_id_init);
    memcpy(r, request_id_base, sizeof(r));
    for (i = 8; i < 16; i++)
        low = low << 8 | r[i];
    low += __atomic_fetch_add(&request_id_seq, 1, __ATOMIC_RELAXED);
    for (i = 15; i >= 8; i--, low >>= 8)
        r[i] = (unsigned char)low;
    uuid_format(out, r);
}

void util_iso_time(char out[32], const struct timespec *ts)
{
    struct tm tm;
    size_t n;

    gmtime_r(&ts->tv_sec, &tm);
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ts->tv_nsec / 1000000) % 1000);
}

void util_iso_now(char out[32])
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    util_iso_time(out, &ts);
}

void util_deadline(struct timespec *ts, uint64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

uint64_t util_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int util_parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    size_t hl;
    char *end;
    long p;

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':')
            return -1;
        hl = (size_t)(rb - s - 1);
        s++;
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}
