/*
 * fuzz_h2.c - libFuzzer target for the proxy's HTTP/2 glue (proxy/h2.c,
 * proxy/h2_stream.c): client frames through nghttp2 into the request head
 * each stream's HTTP/1.1 exchange reads, and a target's HTTP/1.1 response
 * back into HEADERS and DATA.
 *
 * The input is <n> (2 bytes, big-endian), <n> bytes of the response every
 * stream's target answers (capped at what follows), then the client's
 * bytes after the connection preface (prepended here, so the fuzzer need
 * not find it).  The worker's three hooks are fakes: conn_stream checks the
 * head it is given and makes a bare px_conn over the stream transport;
 * conn_pump reads the request body and writes the response as far as the
 * stream takes it; conn_close closes it.  The session then runs step by
 * step, its frames dropped as if written, until it is done or stalls.
 *
 * Invariants (a broken one aborts): a head the glue builds is no larger
 * than HTTP/1.1's limit allows it to build, ends with the blank line, and
 * when http1.c accepts it, it is one request exactly - nothing a client
 * sends in HEADERS can make a second request (or a body) inside the head.
 * ASan, UBSan and LeakSanitizer watch the streams' lifetimes.
 *
 * The two modules are included rather than linked, so that they are
 * instrumented for coverage (see fuzz_feed.c).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/ev.h"
#include "proxy/h2.c"
#include "proxy/h2_stream.c"
#include "proxy/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static const char *resp; /* this input's target response */
static size_t resp_len;

/* A stream's exchange: only what the fakes need (res_state for st_close,
 * the transport, how much of the response went out). */
struct fake {
    struct px_conn c; /* first: the io sits where conn_of() finds it */
    size_t sent;
};

static struct px_conn *fake_stream(struct px_conn *parent, const struct px_io *io,
                                   const char *head, size_t n)
{
    struct h1_scan scan;
    struct h1_request *req = malloc(sizeof(*req));
    struct fake *f;
    int status = 0, rc;

    (void)parent;
    CHECK(req != NULL);
    CHECK(n >= 4 && n <= H1_MAX_REQUEST_HEAD + 4096);
    CHECK(memcmp(head + n - 4, "\r\n\r\n", 4) == 0);
    memset(&scan, 0, sizeof(scan));
    rc = h1_parse_request(head, n, &scan, req, &status);
    CHECK(rc == H1_ERROR || (rc > 0 && (size_t)rc == n));
    free(req);
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return NULL;
    f->c.io = *io;
    f->c.res_state = R_HEAD;
    return &f->c;
}

static void fake_close(struct px_conn *c)
{
    px_io_close(&c->io, NULL); /* no socket: the stream transport's close */
    free(c);
}

static void fake_pump(struct px_conn *c)
{
    struct fake *f = (struct fake *)(void *)c;
    char buf[4096];
    ssize_t n;

    while ((n = px_io_read(&c->io, buf, sizeof(buf))) > 0)
        ;
    if (n == SL_EIO) {
        fake_close(c);
        return;
    }
    while (f->sent < resp_len) {
        struct iovec iov = {(void *)(resp + f->sent), resp_len - f->sent};
        ssize_t w = px_io_writev(&c->io, &iov, 1);
        if (w == SL_EAGAIN) {
            px_io_wait(&c->io, NULL, EV_WRITE);
            return;
        }
        if (w < 0) {
            fake_close(c);
            return;
        }
        f->sent += (size_t)w;
    }
    c->res_state = R_DONE;
    fake_close(c); /* "Connection: close": the response ends with it */
}

static ssize_t sock_read(struct px_io *io, char *buf, size_t n)
{
    (void)io, (void)buf, (void)n;
    return SL_EAGAIN; /* everything came with the first bytes */
}

static ssize_t sock_writev(struct px_io *io, const struct iovec *iov, int n)
{
    (void)io, (void)iov, (void)n;
    return SL_EIO; /* never called: frames go through to_cl */
}

static size_t sock_buffered(const struct px_io *io)
{
    (void)io;
    return 0;
}

static void sock_close(struct px_io *io)
{
    (void)io;
}

static const struct px_io_ops sock_ops = {
    .read = sock_read, .writev = sock_writev, .buffered = sock_buffered, .close = sock_close};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct px_worker w;
    struct px_conn *c;
    size_t n, k;
    int steps, rc;

    if (size < 2)
        return 0;
    n = (size_t)data[0] << 8 | data[1];
    if (n > size - 2)
        n = size - 2;
    resp = (const char *)data + 2;
    resp_len = n;
    data += 2 + n;
    size -= 2 + n;
    if (w.loop == NULL)
        CHECK(ev_new(&w.loop) == SL_OK); /* for its clock (flood budgets); kept for the run */
    w.conn_stream = fake_stream;
    w.conn_pump = fake_pump;
    w.conn_close = fake_close;
    CHECK((c = calloc(1, sizeof(*c))) != NULL);
    c->w = &w;
    c->defer_up = 1; /* the step loop below pumps: no worker to defer to */
    c->io.fd = -1;
    c->io.ops = &sock_ops;
    snprintf(c->peer_ip, sizeof(c->peer_ip), "fuzz");
    k = sizeof(PREFACE) - 1;
    c->cb_cap = k + size + 1;
    CHECK((c->cb = malloc(c->cb_cap)) != NULL);
    memcpy(c->cb, PREFACE, k);
    memcpy(c->cb + k, data, size);
    c->cb_len = k + size;
    CHECK(px_h2_start(c) == PX_STEP_PROGRESS);
    for (steps = 0; steps < 256; steps++) {
        c->to_cl.n = 0; /* the frames are out */
        rc = px_h2_step(c);
        if (rc == SL_EIO || rc == PX_STEP_NONE)
            break;
    }
    px_h2_free(c);
    free(c->cb);
    free(c);
    return 0;
}
