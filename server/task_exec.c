/*
 * task_exec.c - the process runtime's shim: cgroups, rlimits, user, exec.
 */
#define _GNU_SOURCE /* initgroups */
#include "server/task_exec.h"

#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const struct {
    const char *name;
    int resource;
} rlimits[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},       {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
};

int task_exec_rlimit(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++)
        if (strcmp(rlimits[i].name, name) == 0)
            return rlimits[i].resource;
    return -1;
}

/* <s> as a decimal id into *out: 1, or 0 if it is a name. */
static int numeric(const char *s, unsigned long *out)
{
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return *end == '\0' && errno == 0 && *out <= 0xFFFFFFFEUL;
}

int task_exec_user(const char *spec, char *out, size_t cap, char *reason, size_t rlen)
{
    char user[256], buf[4096], *group;
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    unsigned long uid, gid = 0;
    const char *name = NULL;

    snprintf(user, sizeof(user), "%s", spec);
    if ((group = strchr(user, ':')) != NULL)
        *group++ = '\0';
    if (user[0] == '\0' || (group && group[0] == '\0'))
        goto bad;
    if (numeric(user, &uid)) {
        getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &pwp);
    } else if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
        snprintf(reason, rlen, "CannotStartContainerError: user %.200s: no such user on this "
                 "host", user);
        return SL_ERR;
    } else {
        uid = pwp->pw_uid;
    }
    if (pwp) {
        gid = pwp->pw_gid;
        name = pwp->pw_name;
    }
    if (group && !numeric(group, &gid)) {
        if (getgrnam_r(group, &gr, buf + 2048, sizeof(buf) - 2048, &grp) != 0 || grp == NULL) {
            snprintf(reason, rlen, "CannotStartContainerError: user %.200s: no such group on "
                     "this host", spec);
            return SL_ERR;
        }
        gid = grp->gr_gid;
    }
    if (geteuid() != 0 && (uid != geteuid() || gid != getegid())) {
        snprintf(reason, rlen, "CannotStartContainerError: user %.200s: sluiced does not run "
                 "as root, so it cannot start a process as another user", spec);
        return SL_ERR;
    }
    if (name)
        snprintf(out, cap, "%lu:%lu:%s", uid, gid, name);
    else
        snprintf(out, cap, "%lu:%lu", uid, gid);
    return SL_OK;
bad:
    snprintf(reason, rlen, "CannotStartContainerError: user %.200s is not user[:group]", spec);
    return SL_ERR;
}

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "sluiced: %s %s: %s\n", what, arg, strerror(errno));
    return 126;
}

static int join(const char *file)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC), ok;

    /* "0" is the writer itself, on cgroup v1 and v2 alike. */
    ok = fd >= 0 && write(fd, "0", 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : fail("cannot join the task's cgroup", file);
}

static int limit(const char *spec)
{
    char name[32];
    long long soft, hard;
    struct rlimit rl;
    int res;

    if (sscanf(spec, "%31[a-z]=%lld:%lld", name, &soft, &hard) != 3 ||
        (res = task_exec_rlimit(name)) < 0 || soft < -1 || hard < -1) {
        errno = EINVAL;
        return fail("bad ulimit", spec);
    }
    rl.rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft; /* -1: unlimited */
    rl.rlim_max = hard < 0 ? RLIM_INFINITY : (rlim_t)hard;
    return setrlimit(res, &rl) == 0 ? 0 : fail("cannot set ulimit", spec);
}

static int become(const char *spec)
{
    unsigned long uid, gid;
    int off = 0;

    if (sscanf(spec, "%lu:%lu%n", &uid, &gid, &off) != 2) {
        errno = EINVAL;
        return fail("bad user", spec);
    }
    if ((spec[off] == ':' ? initgroups(spec + off + 1, (gid_t)gid) : setgroups(0, NULL)) != 0 ||
        setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0)
        return fail("cannot become user", spec);
    return 0;
}

int task_exec_main(int argc, char **argv)
{
    const char *user = NULL;
    int i, rc = 0;

    for (i = 0; i + 1 < argc && rc == 0 && strcmp(argv[i], "--") != 0; i += 2) {
        if (strcmp(argv[i], "-j") == 0)
            rc = join(argv[i + 1]);
        else if (strcmp(argv[i], "-r") == 0)
            rc = limit(argv[i + 1]);
        else if (strcmp(argv[i], "-u") == 0)
            user = argv[i + 1]; /* last: the limits and cgroups need root */
        else
            break;
    }
    if (rc != 0)
        return rc;
    if (i + 1 >= argc || strcmp(argv[i], "--") != 0) {
        fprintf(stderr, "sluiced: " TASK_EXEC_ARG " [-j FILE]... [-r RES=SOFT:HARD]... "
                        "[-u UID:GID[:NAME]] -- PATH ARG...\n");
        return 126;
    }
    if (user && (rc = become(user)) != 0)
        return rc;
    execv(argv[i + 1], argv + i + 1);
    rc = errno == ENOENT ? 127 : 126;
    fail("exec", argv[i + 1]);
    return rc;
}
