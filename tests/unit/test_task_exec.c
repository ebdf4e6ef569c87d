/*
 * test_task_exec.c - the process runtime's shim, run in a child: it joins
 * each cgroup.procs file it is given (regular files here), sets ulimits,
 * becomes the user, execs the program; and fails as a shell does when it
 * cannot.  What the runtime checks a definition with beforehand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "server/task_exec.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_task_exec.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* Run the shim with <argv> in a child: its exit status. */
static int shim(char **argv)
{
    pid_t pid = fork();
    int st, argc = 0;

    while (argv[argc])
        argc++;
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2); /* its complaints */
        _exit(task_exec_main(argc, argv));
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *slurp(const char *path)
{
    static char buf[64];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_join_and_exec(void **state)
{
    char a[128], b[128], gone[128];
    FILE *f;

    (void)state;
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    snprintf(gone, sizeof(gone), "%s/missing/cgroup.procs", dir);
    fclose(f = fopen(a, "w"));
    fclose(f = fopen(b, "w"));
    {
        char *ok[] = {"-j", a, "-j", b, "--", "/bin/true", NULL};
        assert_int_equal(shim(ok), 0);
    }
    assert_string_equal(slurp(a), "0"); /* "0": the writer itself */
    assert_string_equal(slurp(b), "0");
    {
        char *args[] = {"--", "/bin/sh", "-c", "exit 7", NULL}; /* its arguments passed on */
        assert_int_equal(shim(args), 7);
    }
    {
        char *no_prog[] = {"-j", a, "--", "/nonexistent/prog", NULL};
        assert_int_equal(shim(no_prog), 127);
    }
    {
        char *no_join[] = {"-j", gone, "--", "/bin/true", NULL};
        assert_int_equal(shim(no_join), 126);
    }
    {
        char *no_dashes[] = {"-j", a, "/bin/true", NULL};
        assert_int_equal(shim(no_dashes), 126);
    }
    {
        char *unknown[] = {"-x", "y", "--", "/bin/true", NULL};
        assert_int_equal(shim(unknown), 126);
    }
}

static void test_ulimits(void **state)
{
    char *set[] = {"-r", "nofile=123:456", "--", "/bin/sh", "-c",
                   "test \"$(ulimit -n)\" = 123 && test \"$(ulimit -Hn)\" = 456", NULL};
    char *unlimited[] = {"-r", "core=-1:-1", "--", "/bin/sh", "-c",
                         "test \"$(ulimit -c)\" = unlimited", NULL};
    char *bad[] = {"-r", "bogus=1:2", "--", "/bin/true", NULL};
    char *above[] = {"-r", "nofile=10:5", "--", "/bin/true", NULL}; /* soft above hard */

    (void)state;
    assert_int_equal(shim(set), 0);
    assert_int_equal(shim(unlimited), 0);
    assert_int_equal(shim(bad), 126);
    assert_int_equal(shim(above), 126);
    assert_int_equal(task_exec_rlimit("nofile"), RLIMIT_NOFILE);
    assert_int_equal(task_exec_rlimit("stack"), RLIMIT_STACK);
    assert_int_equal(task_exec_rlimit("nofiles"), -1);
}

/* A user spec resolved as Docker resolves it; the shim becomes it (as
 * root; the suite runs as root). */
static void test_user(void **state)
{
    char out[300], reason[512], u[300];

    (void)state;
    assert_int_equal(task_exec_user("0", out, sizeof(out), reason, sizeof(reason)), SL_OK);
    assert_string_equal(out, "0:0:root");
    assert_int_equal(task_exec_user("root:65534", out, sizeof(out), reason, sizeof(reason)),
                     SL_OK);
    assert_string_equal(out, "0:65534:root");
    assert_int_equal(task_exec_user("4321", out, sizeof(out), reason, sizeof(reason)), SL_OK);
    assert_string_equal(out, "4321:0"); /* no such entry: group 0, as Docker */
    assert_int_equal(task_exec_user("4321:99", out, sizeof(out), reason, sizeof(reason)), SL_OK);
    assert_string_equal(out, "4321:99");
    assert_int_equal(task_exec_user("nosuchuser", out, sizeof(out), reason, sizeof(reason)),
                     SL_ERR);
    assert_non_null(strstr(reason, "no such user on this host"));
    assert_int_equal(task_exec_user("0:nosuchgroup", out, sizeof(out), reason, sizeof(reason)),
                     SL_ERR);
    assert_non_null(strstr(reason, "no such group"));
    assert_int_equal(task_exec_user("0:", out, sizeof(out), reason, sizeof(reason)), SL_ERR);
    if (geteuid() != 0)
        return; /* becoming another user needs root */
    assert_int_equal(task_exec_user("4321:99", u, sizeof(u), reason, sizeof(reason)), SL_OK);
    {
        char *as[] = {"-u", u, "--", "/bin/sh", "-c",
                      "test \"$(id -u):$(id -g):$(id -G)\" = 4321:99:99", NULL};
        assert_int_equal(shim(as), 0);
    }
    assert_int_equal(task_exec_user("root:65534", u, sizeof(u), reason, sizeof(reason)), SL_OK);
    {
        char *named[] = {"-u", u, "--", "/bin/sh", "-c", "test \"$(id -u):$(id -g)\" = 0:65534",
                         NULL};
        assert_int_equal(shim(named), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_and_exec, setup, teardown),
        cmocka_unit_test(test_ulimits),
        cmocka_unit_test(test_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
