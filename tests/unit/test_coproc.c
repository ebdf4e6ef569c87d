/* Unit tests for server/coproc.c: the co-process record round-trips, is
 * private, and names a process only while that same process (pid and
 * start time) runs that same binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/coproc.h"

static int setup(void **state)
{
    static char dir[] = "/tmp/sluice-test-coproc-XXXXXX";

    strcpy(dir, "/tmp/sluice-test-coproc-XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/proxy.pid", (char *)*state);
    unlink(path);
    rmdir(*state);
    return 0;
}

static void put(const char *dir, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/proxy.pid", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip(void **state)
{
    const char *dir = *state;
    struct coproc_rec r = {.pid = 4242, .start = 123456789ULL}, back;
    char path[256];
    struct stat st;

    assert_int_equal(coproc_read(dir, &back), SL_ENOTFOUND);
    snprintf(r.url, sizeof(r.url), "http://127.0.0.1:7070");
    snprintf(r.token, sizeof(r.token), "%064d", 7);
    assert_int_equal(coproc_write(dir, &r), SL_OK);
    snprintf(path, sizeof(path), "%s/proxy.pid", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* it holds a bearer token */
    assert_int_equal(coproc_read(dir, &back), SL_OK);
    assert_int_equal(back.pid, 4242);
    assert_true(back.start == 123456789ULL);
    assert_string_equal(back.url, r.url);
    assert_string_equal(back.token, r.token);
    /* without a token */
    r.token[0] = '\0';
    assert_int_equal(coproc_write(dir, &r), SL_OK);
    assert_int_equal(coproc_read(dir, &back), SL_OK);
    assert_string_equal(back.token, "");
    coproc_remove(dir);
    assert_int_equal(coproc_read(dir, &back), SL_ENOTFOUND);
    coproc_remove(dir); /* none: no error */
}

static void test_malformed(void **state)
{
    const char *dir = *state;
    struct coproc_rec r;

    put(dir, "pid x\nstart 1\nurl http://a:1\n");
    assert_int_equal(coproc_read(dir, &r), SL_EINVAL);
    put(dir, "pid 1\nstart 1\nurl http://a:1\n"); /* init is never a proxy */
    assert_int_equal(coproc_read(dir, &r), SL_EINVAL);
    put(dir, "pid 100\nstart 1\n"); /* no URL */
    assert_int_equal(coproc_read(dir, &r), SL_EINVAL);
    put(dir, "garbage\n");
    assert_int_equal(coproc_read(dir, &r), SL_EINVAL);
    put(dir, "pid 100\nstart 5\nurl http://a:1\nlater_key whatever\n");
    assert_int_equal(coproc_read(dir, &r), SL_OK); /* keys of a later version are skipped */
    assert_int_equal(r.pid, 100);
}

static void test_identity(void **state)
{
    struct coproc_rec r = {.pid = (long)getpid()};
    unsigned long long start;
    pid_t child;
    int status;

    (void)state;
    assert_int_equal(coproc_start_time(r.pid, &r.start), SL_OK);
    assert_true(r.start > 0);
    assert_int_equal(coproc_runs(&r, "/proc/self/exe"), 1);
    assert_int_equal(coproc_runs(&r, "/bin/sh"), 0); /* another binary */
    r.start++;
    assert_int_equal(coproc_runs(&r, "/proc/self/exe"), 0); /* a pid reused since */
    /* a zombie is gone (waited for without reaping), a reaped child too */
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    {
        siginfo_t si;
        assert_int_equal(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0);
    }
    assert_int_equal(coproc_start_time((long)child, &start), SL_ENOTFOUND);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(coproc_start_time((long)child, &start), SL_ENOTFOUND);
}

static char **self_argv;

/* The arguments of a running proxy decide whether it is taken back: one
 * started with another --log-format or --ca is not. */
static void test_args(void **state)
{
    char *shorter[] = {self_argv[0], NULL};
    char *other[] = {self_argv[0], "--log-format", "json", NULL};
    char *none[] = {NULL};

    (void)state;
    assert_int_equal(coproc_args_are((long)getpid(), self_argv), 1);
    assert_int_equal(coproc_args_are((long)getpid(), other), 0);
    assert_int_equal(coproc_args_are((long)getpid(), none), 0);
    if (self_argv[1]) /* ctest gives none: then shorter is argv itself */
        assert_int_equal(coproc_args_are((long)getpid(), shorter), 0);
    assert_int_equal(coproc_args_are(999999999L, self_argv), 0); /* no such process */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_args),
    };

    (void)argc;
    self_argv = argv;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
