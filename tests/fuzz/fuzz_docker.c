/*
 * fuzz_docker.c - libFuzzer target for the engine-facing parsers of
 * server/docker.c that are not the shared HTTP/1.1 parser (fuzz_http1 covers
 * that): the container-log demultiplexer and image-reference splitting.
 *
 * The log stream is demultiplexed whole, split in two at a point derived from
 * the input, and a byte at a time; all three must yield the same stdout and
 * stderr bytes and the same verdict.  The input is also split as an image
 * reference (up to its first NUL) into small buffers: no overflow, and on
 * success every part is NUL-terminated within its buffer.
 *
 * docker.c is included rather than linked so that libFuzzer gets coverage
 * from it (the build instruments only the target's own sources).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/docker.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct streams {
    struct buf out, err;
};

static void take(void *arg, int stream, const char *p, size_t n)
{
    struct streams *s = arg;

    CHECK(stream == 1 || stream == 2);
    buf_append(stream == 2 ? &s->err : &s->out, p, n);
}

static int demux(const char *p, size_t n, size_t split, int bytewise, struct streams *s)
{
    struct docker_demux dm;
    int rc = SL_OK;
    size_t i;

    memset(&dm, 0, sizeof(dm));
    buf_init(&s->out);
    buf_init(&s->err);
    if (bytewise) {
        for (i = 0; i < n; i++)
            rc = docker_demux_feed(&dm, p + i, 1, take, s);
        return rc;
    }
    docker_demux_feed(&dm, p, split, take, s);
    return docker_demux_feed(&dm, p + split, n - split, take, s);
}

static int same(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct streams whole, split, bytes;
    size_t cut = size ? (size_t)data[0] * 131 % (size + 1) : 0;
    int a, b, c;
    char repo[32], tag[16], reg[24], img[96];

    a = demux(p, size, size, 0, &whole);
    b = demux(p, size, cut, 0, &split);
    c = demux(p, size, 0, 1, &bytes);
    CHECK(a == b && b == c);
    CHECK(same(&whole.out, &split.out) && same(&whole.err, &split.err));
    CHECK(same(&whole.out, &bytes.out) && same(&whole.err, &bytes.err));
    CHECK(whole.out.len + whole.err.len <= size);
    buf_free(&whole.out);
    buf_free(&whole.err);
    buf_free(&split.out);
    buf_free(&split.err);
    buf_free(&bytes.out);
    buf_free(&bytes.err);

    snprintf(img, sizeof(img), "%.*s", (int)(size < sizeof(img) - 1 ? size : sizeof(img) - 1), p);
    if (docker_image_ref(img, repo, sizeof(repo), tag, sizeof(tag), reg, sizeof(reg)) == SL_OK) {
        CHECK(memchr(repo, '\0', sizeof(repo)) && memchr(tag, '\0', sizeof(tag)) &&
              memchr(reg, '\0', sizeof(reg)));
        CHECK(repo[0] != '\0' && reg[0] != '\0');
    }
    return 0;
}
