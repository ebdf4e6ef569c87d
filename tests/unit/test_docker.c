/* Unit tests for server/docker.c: engine addresses, image references, the
 * log demultiplexer, and whole exchanges against a fake engine on a unix
 * socket (Content-Length, chunked, a stream whose head comes late). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <poll.h>

#include "server/docker.h"

static void test_hosts(void **state)
{
    struct docker *d = NULL;
    struct sl_err err = {0};

    (void)state;
    assert_int_equal(docker_new("unix:///var/run/docker.sock", &d, &err), SL_OK);
    assert_string_equal(docker_host(d), "unix:///var/run/docker.sock");
    docker_free(d);
    assert_int_equal(docker_new("/run/podman.sock", &d, &err), SL_OK);
    docker_free(d);
    assert_int_equal(docker_new("tcp://127.0.0.1:2375", &d, &err), SL_OK);
    docker_free(d);
    assert_int_equal(docker_new("tcp://nohost", &d, &err), SL_EINVAL);
    assert_int_equal(docker_new("ssh://me@host", &d, &err), SL_EINVAL);
    assert_non_null(strstr(err.message, "only unix:// and tcp://"));
    assert_int_equal(docker_new("unix://relative", &d, &err), SL_EINVAL);
    assert_int_equal(docker_new("", &d, &err), SL_EINVAL);
}

static void ref(const char *image, const char *repo, const char *tag, const char *reg)
{
    char r[256], t[64], g[128];

    assert_int_equal(docker_image_ref(image, r, sizeof(r), t, sizeof(t), g, sizeof(g)), SL_OK);
    assert_string_equal(r, repo);
    assert_string_equal(t, tag);
    assert_string_equal(g, reg);
}

static void test_image_refs(void **state)
{
    char r[16], t[8], g[16];

    (void)state;
    ref("nginx", "nginx", "latest", "docker.io");
    ref("nginx:1.25", "nginx", "1.25", "docker.io");
    ref("library/nginx:1", "library/nginx", "1", "docker.io");
    ref("localhost:5000/app:v2", "localhost:5000/app", "v2", "localhost:5000");
    ref("localhost/app", "localhost/app", "latest", "localhost");
    ref("000000000000.dkr.ecr.us-east-1.amazonaws.com/web:1.4",
        "000000000000.dkr.ecr.us-east-1.amazonaws.com/web", "1.4",
        "000000000000.dkr.ecr.us-east-1.amazonaws.com");
    ref("app@sha256:abc", "app@sha256:abc", "", "docker.io");
    assert_int_equal(docker_image_ref("", r, sizeof(r), t, sizeof(t), g, sizeof(g)), SL_EINVAL);
    assert_int_equal(docker_image_ref("app:", r, sizeof(r), t, sizeof(t), g, sizeof(g)),
                     SL_EINVAL);
    assert_int_equal(docker_image_ref("a-very-long-repository-name", r, sizeof(r), t, sizeof(t),
                                      g, sizeof(g)),
                     SL_EINVAL);
}

struct collected {
    char out[256], err[256];
    size_t nout, nerr;
};

static void collect(void *arg, int stream, const char *p, size_t n)
{
    struct collected *c = arg;

    if (stream == 2) {
        memcpy(c->err + c->nerr, p, n);
        c->nerr += n;
    } else {
        memcpy(c->out + c->nout, p, n);
        c->nout += n;
    }
}

static void test_demux(void **state)
{
    static const char frames[] = "\x01\0\0\0\0\0\0\x06hello\n"
                                 "\x02\0\0\0\0\0\0\x04oops"
                                 "\x01\0\0\0\0\0\0\x03!!\n";
    size_t len = sizeof(frames) - 1, split;

    (void)state;
    /* Every split point gives the same streams: the demuxer is restartable. */
    for (split = 0; split <= len; split++) {
        struct docker_demux dm;
        struct collected c;
        memset(&dm, 0, sizeof(dm));
        memset(&c, 0, sizeof(c));
        assert_int_equal(docker_demux_feed(&dm, frames, split, collect, &c), SL_OK);
        assert_int_equal(docker_demux_feed(&dm, frames + split, len - split, collect, &c), SL_OK);
        assert_int_equal(c.nout, 9);
        assert_memory_equal(c.out, "hello\n!!\n", 9);
        assert_int_equal(c.nerr, 4);
        assert_memory_equal(c.err, "oops", 4);
    }
    {
        struct docker_demux dm;
        struct collected c;
        memset(&dm, 0, sizeof(dm));
        memset(&c, 0, sizeof(c));
        assert_int_equal(docker_demux_feed(&dm, "\x07\0\0\0\0\0\0\x01x", 9, collect, &c),
                         SL_EINVAL);
        assert_int_equal(docker_demux_feed(&dm, "\x01\0\0\0\0\0\0\x01x", 9, collect, &c),
                         SL_EINVAL); /* stays refused */
        assert_int_equal(c.nout, 0);
    }
}

/* ---- a fake engine ---- */

struct fake {
    char path[108];
    int lfd;
    const char *reply;  /* sent after the request head */
    int delay_ms;       /* before replying */
    char got[4096];     /* the request as received */
    pthread_t th;
};

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    size_t n = 0;

    if (fd < 0)
        return NULL;
    /* The whole request, body included: closing with unread bytes would
     * reset the connection under a client still writing its body. */
    for (;;) {
        const char *end = strstr(f->got, "\r\n\r\n"), *cl = strstr(f->got, "Content-Length: ");
        ssize_t r;

        if (end && (cl == NULL || cl > end ||
                    n >= (size_t)(end + 4 - f->got) + strtoul(cl + 16, NULL, 10)))
            break;
        if (n >= sizeof(f->got) - 1)
            break;
        r = read(fd, f->got + n, sizeof(f->got) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        f->got[n] = '\0';
    }
    if (f->delay_ms)
        usleep((useconds_t)f->delay_ms * 1000);
    if (write(fd, f->reply, strlen(f->reply)) < 0)
        n = 0;
    close(fd);
    return NULL;
}

static void fake_start(struct fake *f, const char *reply)
{
    struct sockaddr_un a;

    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(f->path, sizeof(f->path), "/tmp/sl-test-docker-%d.sock", (int)getpid());
    unlink(f->path);
    memcpy(a.sun_path, f->path, strlen(f->path) + 1);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    f->reply = reply;
    pthread_create(&f->th, NULL, fake_main, f);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
    unlink(f->path);
}

static struct docker *client(struct fake *f)
{
    char host[128];
    struct docker *d = NULL;
    struct sl_err err = {0};

    snprintf(host, sizeof(host), "unix://%s", f->path);
    assert_int_equal(docker_new(host, &d, &err), SL_OK);
    return d;
}

static void test_json_call(void **state)
{
    struct fake f = {0};
    struct docker *d;
    struct sl_err err = {0};
    json_t *body = json_pack("{ss}", "Image", "web:v1"), *out = NULL;
    int status = 0;

    (void)state;
    fake_start(&f, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                   "Content-Length: 15\r\n\r\n{\"Id\":\"abc123\"}");
    d = client(&f);
    assert_int_equal(docker_json(d, "POST", "/containers/create?name=x", body, 2000, &status,
                                 &out, &err),
                     SL_OK);
    fake_stop(&f);
    assert_int_equal(status, 201);
    assert_string_equal(json_string_value(json_object_get(out, "Id")), "abc123");
    assert_non_null(strstr(f.got, "POST /v1.41/containers/create?name=x HTTP/1.1\r\n"));
    assert_non_null(strstr(f.got, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(f.got, "Connection: close\r\n"));
    json_decref(out);
    json_decref(body);
    docker_free(d);
}

static void test_chunked_error(void **state)
{
    struct fake f = {0};
    struct docker *d;
    struct sl_err err = {0};
    json_t *out = NULL;
    int status = 0;

    (void)state;
    fake_start(&f, "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "b\r\n{\"message\":\r\n10\r\n\"No such image\"}\r\n0\r\n\r\n");
    d = client(&f);
    assert_int_equal(docker_json(d, "GET", "/images/x/json", NULL, 2000, &status, &out, &err),
                     SL_OK);
    fake_stop(&f);
    assert_int_equal(status, 404);
    assert_string_equal(docker_message(out, "?"), "No such image");
    json_decref(out);
    docker_free(d);
}

static void test_truncated_and_unreachable(void **state)
{
    struct fake f = {0};
    struct docker *d;
    struct sl_err err = {0};
    json_t *out = NULL;
    int status = 0;

    (void)state;
    fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"short\":");
    d = client(&f);
    assert_int_equal(docker_json(d, "GET", "/version", NULL, 2000, &status, &out, &err), SL_EIO);
    fake_stop(&f);
    assert_non_null(strstr(err.message, "closed the connection"));
    docker_free(d);
    assert_int_equal(docker_new("unix:///nonexistent/sluice.sock", &d, &err), SL_OK);
    assert_int_equal(docker_json(d, "GET", "/version", NULL, 500, &status, &out, &err), SL_EIO);
    assert_non_null(strstr(err.message, "connect /nonexistent/sluice.sock"));
    docker_free(d);
}

struct lines {
    char text[4][128];
    int n;
};

static void on_line(void *arg, const char *text)
{
    struct lines *l = arg;

    if (l->n < 4)
        snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", text);
}

static void test_stream_late_head(void **state)
{
    struct fake f = {0};
    struct docker *d;
    struct docker_stream *s = NULL;
    struct sl_err err = {0};
    struct lines l = {0};
    int rc = SL_OK;

    (void)state;
    f.delay_ms = 300; /* the engine sends nothing, head included, until an event */
    fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"
                   "16\r\n{\"Action\":\"start\"}\n{\"A\r\n"
                   "f\r\nction\":\"die\"}\n\n\r\n0\r\n\r\n");
    d = client(&f);
    assert_int_equal(docker_stream_open(d, "/events", &s, &err), SL_OK);
    while (rc == SL_OK) {
        struct pollfd p = {docker_stream_fd(s), POLLIN, 0};
        assert_true(poll(&p, 1, 5000) > 0);
        rc = docker_stream_read(s, on_line, &l, &err);
    }
    fake_stop(&f);
    assert_int_equal(rc, SL_EIO); /* the engine ended it */
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "{\"Action\":\"start\"}");
    assert_string_equal(l.text[1], "{\"Action\":\"die\"}");
    assert_non_null(strstr(f.got, "GET /v1.41/events HTTP/1.1"));
    docker_stream_close(s);
    docker_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_image_refs),
        cmocka_unit_test(test_demux),
        cmocka_unit_test(test_json_call),
        cmocka_unit_test(test_chunked_error),
        cmocka_unit_test(test_truncated_and_unreachable),
        cmocka_unit_test(test_stream_late_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
