/*
 * Unit tests for server/guard.c (the browser guard of unauthenticated mode)
 * and the front door's small threads: server/workers.c (the pool) and
 * server/conntrack.c (slow-client deadlines).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/conntrack.h"
#include "server/guard.h"
#include "server/workers.h"

static struct guard *guard_of(const char *listen, const char *allowed)
{
    struct guard *g = NULL;
    char msg[256] = "";

    if (guard_new(listen, allowed, &g, msg, sizeof(msg)) != SL_OK)
        fail_msg("guard_new(%s): %s", allowed ? allowed : "NULL", msg);
    return g;
}

static int check(const struct guard *g, const char *host, const char *origin, const char *site)
{
    struct guard_request r = {host, origin, site, host != NULL, origin != NULL};
    struct sl_err err = {0};
    int rc = guard_check(g, &r, &err);

    if (rc != SL_OK) {
        assert_int_equal(err.status, 403);
        assert_string_equal(err.code, "AccessDenied");
        assert_non_null(strstr(err.message, "--allowed-hosts"));
    }
    return rc == SL_OK;
}

static void test_hosts(void **state)
{
    static const char *const ok[] = {
        "localhost",        "localhost:7070",   "LocalHost.",      "api.localhost:1",
        "127.0.0.1",        "127.1.2.3:80",     "[::1]",           "[::1]:7070",
        "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]:9", "sluice.test",  "SLUICE.TEST:8080",
        "10.0.0.9",         "[fd00::1]:7070",
    };
    static const char *const bad[] = {
        "evil.example",     "evil.example:7070", "localhost.evil.example", "127.0.0.1.nip.io",
        "[::2]",            "128.0.0.1",         "0.0.0.0",                "localhost:",
        "localhost:80x",    "[::1",              "::1",                    "",
        "local host",       "sub.sluice.test",   "[::1]x",                 "xlocalhost",
    };
    struct guard *g = guard_of("127.0.0.1", "sluice.test, 10.0.0.9,fd00::1");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!check(g, ok[i], NULL, NULL))
            fail_msg("Host %s refused", ok[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (check(g, bad[i], NULL, NULL))
            fail_msg("Host '%s' admitted", bad[i]);
    assert_true(check(g, NULL, NULL, NULL)); /* HTTP/1.0 without Host */
    guard_free(g);
    /* the listen address counts as a name of this machine */
    g = guard_of("localhost", NULL);
    assert_true(check(g, "localhost", NULL, NULL));
    guard_free(g);
}

static void test_origin_and_fetch_site(void **state)
{
    struct guard *g = guard_of("127.0.0.1", "dev.box");
    struct guard_request two = {"localhost", "http://localhost", NULL, 2, 1};
    struct sl_err err;

    (void)state;
    assert_true(check(g, "localhost", "http://localhost:3000", "same-origin"));
    assert_true(check(g, "localhost", "https://[::1]", "same-site"));
    assert_true(check(g, "localhost", "http://dev.box:8080", "none"));
    assert_false(check(g, "localhost", "https://evil.example", NULL));
    assert_false(check(g, "localhost", "null", NULL));
    assert_false(check(g, "localhost", "file://", NULL));
    assert_false(check(g, "localhost", "chrome-extension://abc", NULL));
    assert_false(check(g, "localhost", "http://localhost.evil.example", NULL));
    assert_false(check(g, "localhost", "http://localhost", "cross-site"));
    assert_false(check(g, "localhost", NULL, "Cross-Site"));
    assert_int_equal(guard_check(g, &two, &err), SL_ERR);
    assert_non_null(strstr(err.message, "more than once"));
    guard_free(g);
}

static void test_allowed_list(void **state)
{
    static const char *const bad[] = {"a.test:80", "http://a.test", "a.test,,b", "a/b",
                                      "a b",       "a.test,",       ",",         "[::1",
                                      "fe80::1%eth0"};
    struct guard *g;
    char msg[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        g = (struct guard *)1;
        msg[0] = '\0';
        if (guard_new("127.0.0.1", bad[i], &g, msg, sizeof(msg)) == SL_OK)
            fail_msg("--allowed-hosts '%s' taken", bad[i]);
        assert_null(g);
        assert_non_null(strstr(msg, "--allowed-hosts"));
    }
    g = guard_of("127.0.0.1", "");
    assert_false(check(g, "a.test", NULL, NULL));
    guard_free(g);
    g = guard_of("127.0.0.1", " a.test ,\tB.test.,[fd00::2]");
    assert_true(check(g, "a.test", NULL, NULL));
    assert_true(check(g, "b.test", NULL, NULL));
    assert_true(check(g, "[fd00::2]:1", NULL, NULL));
    guard_free(g);
}

/* ---- workers ------------------------------------------------------------ */

struct counted {
    struct workers_job job;
    pthread_mutex_t *mu;
    int *count;
};

static void count_run(struct workers_job *j)
{
    struct counted *c = (struct counted *)j;

    pthread_mutex_lock(c->mu);
    ++*c->count;
    pthread_mutex_unlock(c->mu);
}

static void test_workers(void **state)
{
    struct workers *w;
    struct counted jobs[200];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int count = 0, i;

    (void)state;
    assert_int_equal(workers_start(0, &w), SL_EINVAL);
    assert_int_equal(workers_start(4, &w), SL_OK);
    for (i = 0; i < 200; i++) {
        jobs[i].job.run = count_run;
        jobs[i].mu = &mu;
        jobs[i].count = &count;
        assert_int_equal(workers_push(w, &jobs[i].job), SL_OK);
    }
    workers_stop(w); /* runs every queued job first */
    assert_int_equal(count, 200);
}

/* ---- conntrack ---------------------------------------------------------- */

/* 1 when <fd> sees end of stream within <ms>. */
static int eof_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;

    if (poll(&p, 1, ms) != 1)
        return 0;
    return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_conntrack(void **state)
{
    struct conntrack *ct;
    struct ct_conn *a, *b, *c;
    int pa[2], pb[2], pc[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pa), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pb), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pc), 0);
    assert_int_equal(conntrack_start(300, &ct), SL_OK);
    a = conntrack_open(ct, pa[0]); /* waits on its client: cut off */
    b = conntrack_open(ct, pb[0]);
    conntrack_disarm(ct, b); /* being served: kept */
    assert_true(eof_within(pa[1], 3000));
    assert_false(eof_within(pb[1], 600));
    conntrack_arm(ct, b); /* waits again: cut off in turn */
    assert_true(eof_within(pb[1], 3000));
    c = conntrack_open(ct, pc[0]);
    conntrack_close(ct, c); /* closed before its deadline: left alone */
    assert_false(eof_within(pc[1], 600));
    assert_int_equal(conntrack_reaped(ct), 2);
    conntrack_close(ct, a);
    conntrack_close(ct, b);
    conntrack_stop(ct);
    close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]), close(pc[0]), close(pc[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts),    cmocka_unit_test(test_origin_and_fetch_site),
        cmocka_unit_test(test_allowed_list), cmocka_unit_test(test_workers),
        cmocka_unit_test(test_conntrack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
