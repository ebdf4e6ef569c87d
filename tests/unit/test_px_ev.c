/* Unit tests for proxy/ev.c: fd events, timer ordering, wake-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/ev.h"

struct rec {
    int order[8];
    int n;
};

struct tctx {
    struct rec *r;
    int id;
};

static void on_timer(struct ev_loop *l, void *arg)
{
    struct tctx *c = arg;
    struct rec *r = c->r;
    r->order[r->n++] = c->id;
    if (r->n == 3)
        ev_stop(l);
}


static void test_timers_fire_in_order(void **state)
{
    struct ev_loop *l;
    struct rec r = {0};
    struct tctx a[4] = {{&r, 1}, {&r, 2}, {&r, 3}, {&r, 4}};
    struct ev_timer t[4];
    int i;

    assert_int_equal(ev_new(&l), 0);
    for (i = 0; i < 4; i++)
        ev_timer_init(&t[i], on_timer, &a[i]);
    ev_timer_add(l, &t[0], 30);
    ev_timer_add(l, &t[1], 10);
    ev_timer_add(l, &t[2], 20);
    ev_timer_add(l, &t[3], 5);
    ev_timer_del(l, &t[3]); /* deleted timers never fire */
    ev_timer_add(l, &t[0], 1); /* re-arming moves it */
    assert_int_equal(ev_run(l), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 1);
    assert_int_equal(r.order[1], 2);
    assert_int_equal(r.order[2], 3);
    ev_free(l);
}

static int got_bytes;

static void on_read(struct ev_loop *l, int fd, void *arg, int mask)
{
    char b[16];
    ssize_t n = read(fd, b, sizeof(b));

    assert_true(mask & EV_READ);
    assert_false(mask & EV_ERROR);
    got_bytes += (int)n;
    ev_fd_del(l, fd);
    ev_stop(l);
}

static void test_fd_readable(void **state)
{
    struct ev_loop *l;
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(ev_fd_prepare(p[0]), 0);
    assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
    assert_int_equal(ev_new(&l), 0);
    assert_int_equal(ev_fd_set(l, p[0], EV_READ, on_read, NULL), 0);
    assert_int_equal(write(p[1], "hello", 5), 5);
    got_bytes = 0;
    ev_run(l);
    assert_int_equal(got_bytes, 5);
    close(p[0]);
    close(p[1]);
    ev_free(l);
}

static int got_mask;

static void on_any(struct ev_loop *l, int fd, void *arg, int mask)
{
    got_mask = mask;
    ev_fd_del(l, fd);
    ev_stop(l);
}

/* A TCP peer that sends and then resets: the callback gets EV_ERROR beside
 * EV_READ (the bytes are still readable). */
static void test_reset_is_an_error(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    struct linger lg = {1, 0};
    struct ev_loop *l;
    int ls = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
    char b[4];

    assert_true(ls >= 0 && c >= 0);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(ls, 1), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_true((s = accept(ls, NULL, NULL)) >= 0);
    assert_int_equal(write(c, "x", 1), 1);
    assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(c); /* SO_LINGER 0: a reset */
    assert_int_equal(ev_new(&l), 0);
    assert_int_equal(ev_fd_set(l, s, EV_READ, on_any, NULL), 0);
    got_mask = 0;
    ev_run(l);
    assert_int_equal(got_mask, EV_READ | EV_ERROR); /* EV_WRITE was not asked for */
    assert_int_equal(read(s, b, sizeof(b)), 1);
    close(s);
    close(ls);
    ev_free(l);
}

static int hook_calls;

static void hook(struct ev_loop *l, void *arg)
{
    if (++hook_calls >= 2)
        ev_stop(l);
}

static void *waker(void *arg)
{
    usleep(20000);
    ev_wake(arg);
    return NULL;
}

static void test_wake_from_other_thread(void **state)
{
    struct ev_loop *l;
    pthread_t th;
    uint64_t t0 = ev_mono_ms();

    assert_int_equal(ev_new(&l), 0);
    ev_set_before(l, hook, NULL);
    hook_calls = 0;
    pthread_create(&th, NULL, waker, l);
    ev_run(l); /* no timers, no fds: only the wake-up returns */
    pthread_join(th, NULL);
    assert_int_equal(hook_calls, 2);
    assert_true(ev_mono_ms() - t0 < 2000);
    ev_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_in_order),
        cmocka_unit_test(test_fd_readable),
        cmocka_unit_test(test_reset_is_an_error),
        cmocka_unit_test(test_wake_from_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
