/*
 * test_task_cgroup.c - the task cgroup on a cgroup tree laid out in a
 * temporary directory (a cgroup filesystem of its own cannot be mounted
 * here): what the probe accepts, what is written where, what is removed.
 * tests/integration/test_ecs_docker_task.py runs it on the real one.
 */
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

#include "common/err.h"
#include "server/task_cgroup.h"

static char root[64];

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
}

static void make_dir(const char *rel)
{
    char p[300], *s;

    path_of(p, sizeof(p), rel);
    for (s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, 0755);
}

static void make_file(const char *rel, const char *text)
{
    char p[300];
    FILE *f;

    path_of(p, sizeof(p), rel);
    assert_non_null(f = fopen(p, "w"));
    fputs(text, f);
    fclose(f);
}

static const char *read_file(const char *rel)
{
    static char buf[256];
    char p[300];
    FILE *f;
    size_t n;

    path_of(p, sizeof(p), rel);
    if ((f = fopen(p, "r")) == NULL)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *rel)
{
    char p[300];
    struct stat st;

    path_of(p, sizeof(p), rel);
    return stat(p, &st) == 0;
}

/* A mountinfo naming cgroup v1 hierarchies memory, cpu,cpuacct and pids,
 * one seen from a subtree, and a v2 mount, all under <root>. */
static void v1_tree(void)
{
    char mi[4096];

    make_dir("memory");
    make_dir("cpu");
    make_dir("pids");
    make_dir("unified");
    make_dir("other");
    snprintf(mi, sizeof(mi),
             "30 23 0:27 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
             "31 23 0:28 / %s/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
             "32 23 0:29 / %s/pids rw,relatime - cgroup cgroup rw,pids\n"
             "33 23 0:30 /sub %s/other rw,relatime - cgroup cgroup rw,blkio\n"
             "34 23 0:31 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n"
             "35 23 0:32 / /tmp rw,relatime - ext4 /dev/vda rw\n",
             root, root, root, root, root);
    make_file("mountinfo", mi);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/test_task_cgroup.XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int make(const struct task_cgroups *g, const char *path, long cpu, long shares, long mem,
                char reason[512])
{
    struct task_cgroup_limits lim = {cpu, shares, mem, mem / 2};

    return task_cgroup_make(g, path, &lim, reason, 512);
}

static void probe(struct task_cgroups *g, const char *driver, const char *version, int rootless,
                  int local)
{
    struct task_cgroup_engine e = {driver, version, rootless, local};
    char mi[300];

    path_of(mi, sizeof(mi), "mountinfo");
    task_cgroup_probe(g, &e, mi);
}

static void test_probe(void **state)
{
    struct task_cgroups g;
    char want[300];

    (void)state;
    v1_tree();
    probe(&g, "cgroupfs", "1", 0, 1);
    assert_int_equal(g.version, 1);
    path_of(want, sizeof(want), "memory");
    assert_string_equal(g.mem, want);
    path_of(want, sizeof(want), "cpu");
    assert_string_equal(g.cpu, want);
    assert_int_equal(g.nmounts, 4); /* not the subtree, not ext4 */
    probe(&g, "cgroupfs", "1", 0, 0);
    assert_int_equal(g.version, 0);
    assert_non_null(strstr(g.why, "unix socket"));
    probe(&g, "cgroupfs", "1", 1, 1);
    assert_int_equal(g.version, 0);
    assert_non_null(strstr(g.why, "rootless"));
    probe(&g, "systemd", "1", 0, 1);
    assert_int_equal(g.version, 0);
    assert_non_null(strstr(g.why, "systemd, not cgroupfs"));
    probe(&g, "cgroupfs", "2", 0, 1); /* the v2 mount offers no controller */
    assert_int_equal(g.version, 0);
    assert_non_null(strstr(g.why, "cgroup v2"));
    make_file("unified/cgroup.controllers", "cpuset cpu io memory pids\n");
    probe(&g, "cgroupfs", "2", 0, 1);
    assert_int_equal(g.version, 2);
    path_of(want, sizeof(want), "unified");
    assert_string_equal(g.mem, want);
    assert_string_equal(g.cpu, want);
    /* The process runtime's: the version this host mounts, v1 first. */
    probe(&g, "cgroupfs", NULL, 0, 1);
    assert_int_equal(g.version, 1);
    probe(&g, "cgroupfs", NULL, 1, 1); /* not root */
    assert_int_equal(g.version, 0);
    assert_string_equal(g.why, "sluiced does not run as root");
}

/* Only a unified hierarchy: the process runtime takes v2. */
static void test_probe_v2_only(void **state)
{
    struct task_cgroups g;
    char mi[512];

    (void)state;
    make_dir("unified");
    make_file("unified/cgroup.controllers", "cpu memory\n");
    snprintf(mi, sizeof(mi), "34 23 0:31 / %s/unified rw - cgroup2 cgroup2 rw\n", root);
    make_file("mountinfo", mi);
    probe(&g, "cgroupfs", NULL, 0, 1);
    assert_int_equal(g.version, 2);
}

/* What a process writes itself into, and what the OOM killer did. */
static void test_procs_and_oom_kills(void **state)
{
    struct task_cgroups g;
    char files[2][300], want[300];

    (void)state;
    v1_tree();
    probe(&g, "cgroupfs", "1", 0, 1);
    assert_int_equal(task_cgroup_procs(&g, "/sluice/o/t/c0", files), 2);
    path_of(want, sizeof(want), "memory/sluice/o/t/c0/cgroup.procs");
    assert_string_equal(files[0], want);
    path_of(want, sizeof(want), "cpu/sluice/o/t/c0/cgroup.procs");
    assert_string_equal(files[1], want);
    assert_int_equal(task_cgroup_oom_kills(&g, "/sluice/o/t/c0"), SL_ENOTFOUND);
    make_dir("memory/sluice/o/t/c0");
    make_file("memory/sluice/o/t/c0/memory.oom_control",
              "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    assert_int_equal(task_cgroup_oom_kills(&g, "/sluice/o/t/c0"), 2);
    make_file("unified/cgroup.controllers", "cpu memory\n");
    probe(&g, "cgroupfs", "2", 0, 1);
    assert_int_equal(task_cgroup_procs(&g, "/sluice/o/t/c0", files), 1);
    make_dir("unified/sluice/o/t/c0");
    make_file("unified/sluice/o/t/c0/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    assert_int_equal(task_cgroup_oom_kills(&g, "/sluice/o/t/c0"), 1);
    g.version = 0;
    assert_int_equal(task_cgroup_procs(&g, "/sluice/o/t/c0", files), 0);
}

static void test_path(void **state)
{
    char p[TASK_CGROUP_PATH_MAX];

    (void)state;
    assert_int_equal(task_cgroup_path(p, sizeof(p), "own", "t1"), SL_OK);
    assert_string_equal(p, "/sluice/own/t1");
    assert_int_equal(task_cgroup_path(p, sizeof(p), "own", "../x"), SL_EINVAL);
    assert_int_equal(task_cgroup_path(p, sizeof(p), "..", "t1"), SL_EINVAL);
    assert_int_equal(task_cgroup_path(p, sizeof(p), "own", ""), SL_EINVAL);
    assert_int_equal(task_cgroup_path(p, 8, "own", "t1"), SL_EINVAL);
}

/* v1: limits in the memory and cpu hierarchies; an existing cgroup is
 * bounded again, "no bound" included. */
static void test_make_v1(void **state)
{
    struct task_cgroups g;
    char reason[512];

    (void)state;
    v1_tree();
    probe(&g, "cgroupfs", "1", 0, 1);
    /* The files a cgroup filesystem would show in a new cgroup. */
    make_dir("memory/sluice/own/t1");
    make_file("memory/sluice/own/t1/memory.limit_in_bytes", "");
    make_file("memory/sluice/own/t1/memory.soft_limit_in_bytes", "");
    make_dir("cpu/sluice/own/t1");
    make_file("cpu/sluice/own/t1/cpu.cfs_period_us", "");
    make_file("cpu/sluice/own/t1/cpu.cfs_quota_us", "");
    make_file("cpu/sluice/own/t1/cpu.shares", "");
    assert_int_equal(make(&g, "/sluice/own/t1", 512, 0, 96, reason),
                     SL_OK);
    assert_string_equal(read_file("memory/sluice/own/t1/memory.limit_in_bytes"), "100663296");
    assert_string_equal(read_file("memory/sluice/own/t1/memory.soft_limit_in_bytes"), "50331648");
    assert_string_equal(read_file("cpu/sluice/own/t1/cpu.cfs_period_us"), "100000");
    assert_string_equal(read_file("cpu/sluice/own/t1/cpu.cfs_quota_us"), "50000");
    assert_string_equal(read_file("cpu/sluice/own/t1/cpu.shares"), "1024"); /* no weight */
    assert_int_equal(make(&g, "/sluice/own/t1", 1, 0, 0, reason), SL_OK);
    assert_string_equal(read_file("cpu/sluice/own/t1/cpu.cfs_quota_us"), "1000"); /* the least */
    assert_string_equal(read_file("memory/sluice/own/t1/memory.limit_in_bytes"), "-1");
    assert_int_equal(make(&g, "/sluice/own/t1", 0, 256, 0, reason), SL_OK); /* a container's */
    assert_string_equal(read_file("cpu/sluice/own/t1/cpu.shares"), "256");
    assert_string_equal(read_file("cpu/sluice/own/t1/cpu.cfs_quota_us"), "-1");
    /* A directory that is not a cgroup has no limit files: refused, said why. */
    assert_int_equal(make(&g, "/sluice/own/t2", 512, 0, 96, reason),
                     SL_ERR);
    assert_non_null(strstr(reason, "ResourceInitializationError: cannot make the task's cgroup "
                                   "/sluice/own/t2"));
    assert_true(exists("cpu/sluice/own/t2") || exists("memory/sluice/own/t2"));
}

static void test_make_v2(void **state)
{
    static const char *const levels[] = {"unified", "unified/sluice", "unified/sluice/own",
                                         "unified/sluice/own/t1"};
    struct task_cgroups g;
    char reason[512], f[300];
    size_t i;

    (void)state;
    v1_tree();
    make_file("unified/cgroup.controllers", "cpu memory\n");
    probe(&g, "cgroupfs", "2", 0, 1);
    for (i = 0; i < 4; i++) {
        make_dir(levels[i]);
        snprintf(f, sizeof(f), "%s/cgroup.subtree_control", levels[i]);
        make_file(f, "");
    }
    make_file("unified/sluice/own/t1/cpu.max", "");
    make_file("unified/sluice/own/t1/cpu.weight", "");
    make_file("unified/sluice/own/t1/memory.low", "");
    make_file("unified/sluice/own/t1/memory.max", "");
    assert_int_equal(make(&g, "/sluice/own/t1", 2048, 0, 512, reason),
                     SL_OK);
    for (i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "%s/cgroup.subtree_control", levels[i]);
        assert_string_equal(read_file(f), "+cpu +memory");
    }
    assert_string_equal(read_file("unified/sluice/own/t1/cpu.max"), "200000 100000");
    assert_string_equal(read_file("unified/sluice/own/t1/memory.max"), "536870912");
    assert_string_equal(read_file("unified/sluice/own/t1/memory.low"), "268435456");
    assert_int_equal(make(&g, "/sluice/own/t1", 0, 0, 0, reason), SL_OK);
    assert_string_equal(read_file("unified/sluice/own/t1/cpu.max"), "max 100000");
    assert_string_equal(read_file("unified/sluice/own/t1/memory.max"), "max");
    assert_string_equal(read_file("unified/sluice/own/t1/cpu.weight"), "39"); /* 1024 shares */
    assert_int_equal(make(&g, "/sluice/own/t1", 0, 2, 0, reason), SL_OK);
    assert_string_equal(read_file("unified/sluice/own/t1/cpu.weight"), "1");
}

/* Removal takes the engine's empty cgroups below the task's, and the
 * parents while empty; the sweep takes one owner's and no other's. */
static void test_remove_and_sweep(void **state)
{
    struct task_cgroups g;
    char busy[300];

    (void)state;
    v1_tree();
    probe(&g, "cgroupfs", "1", 0, 1);
    make_dir("pids/sluice/own/t1/ctr1");
    make_dir("pids/sluice/own/t1/conmon");
    make_dir("pids/sluice/own/t2/ctr2");
    make_dir("pids/sluice/other/t3/ctr3");
    assert_int_equal(task_cgroup_remove(&g, "/sluice/own/t1"), SL_OK);
    assert_false(exists("pids/sluice/own/t1"));
    assert_true(exists("pids/sluice/own/t2/ctr2")); /* another task's */
    task_cgroup_sweep(&g, "own");
    assert_false(exists("pids/sluice/own"));
    assert_true(exists("pids/sluice/other/t3/ctr3"));
    make_file("pids/sluice/other/t3/ctr3/busy", ""); /* as a process in it would */
    assert_int_equal(task_cgroup_remove(&g, "/sluice/other/t3"), SL_EAGAIN);
    assert_true(exists("pids/sluice/other/t3"));
    path_of(busy, sizeof(busy), "pids/sluice/other/t3/ctr3/busy");
    assert_int_equal(unlink(busy), 0);
    assert_int_equal(task_cgroup_remove(&g, "/sluice/other/t3"), SL_OK);
    assert_false(exists("pids/sluice"));
    assert_true(exists("pids"));
}

/* Which cgroup a process runs in, read from /proc: this one's own. */
static void test_holds(void **state)
{
    struct task_cgroups g = {0};
    char line[512], mine[520] = "", *c;
    FILE *f;

    (void)state;
    assert_non_null(f = fopen("/proc/self/cgroup", "r"));
    g.version = 2;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if ((c = strstr(line, ":memory:")) != NULL) {
            snprintf(mine, sizeof(mine), "%s", c + 8);
            g.version = 1;
            break;
        }
        if (strncmp(line, "0::", 3) == 0)
            snprintf(mine, sizeof(mine), "%s", line + 3);
    }
    fclose(f);
    assert_true(mine[0] == '/');
    assert_int_equal(task_cgroup_holds(&g, mine, getpid()), 1);
    assert_int_equal(task_cgroup_holds(&g, "/sluice/nobody/none", getpid()), 0);
    if (strcmp(mine, "/") != 0) {
        strncat(mine, "x", sizeof(mine) - strlen(mine) - 1); /* a sibling with a longer name */
        assert_int_equal(task_cgroup_holds(&g, mine, getpid()), 0);
    }
    assert_int_equal(task_cgroup_holds(&g, "/", 0), SL_ENOTFOUND);
    {
        /* An exiting process: v1 shows it at the root. */
        pid_t z = fork();
        assert_true(z >= 0);
        if (z == 0)
            _exit(0);
        usleep(100000); /* a zombie now, not yet reaped */
        if (g.version == 1)
            assert_int_equal(task_cgroup_holds(&g, mine, z), SL_ENOTFOUND);
        assert_int_equal(waitpid(z, NULL, 0), z);
        assert_int_equal(task_cgroup_holds(&g, mine, z), SL_ENOTFOUND); /* reaped: gone */
    }
    assert_int_equal(task_cgroup_holds(&g, "/", 1 << 30), SL_ENOTFOUND); /* no such process */
    g.version = 0;
    assert_int_equal(task_cgroup_holds(&g, "/", getpid()), SL_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_v2_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_procs_and_oom_kills, setup, teardown),
        cmocka_unit_test(test_path),
        cmocka_unit_test_setup_teardown(test_make_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_and_sweep, setup, teardown),
        cmocka_unit_test(test_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
