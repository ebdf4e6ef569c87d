/*
 * task_cgroup.c - the task cgroup: probe, make and bound, check, remove.
 */
#define _GNU_SOURCE
#include "server/task_cgroup.h"

#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h> /* mkdir */
#include <unistd.h>

#define CFS_PERIOD_US    100000L
#define CFS_MIN_QUOTA_US 1000L /* the kernel's least quota */
#define TREE_DEPTH       4     /* task cgroup, the engine's per container, and below */

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
}

/* The mount's super options (after " - type source ") hold controller <c>. */
static int has_controller(const char *opts, const char *c)
{
    size_t n = strlen(c);
    const char *p = opts;

    while ((p = strstr(p, c)) != NULL) {
        if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

/* The v2 mount <dir> offers controller <c> to its children. */
static int v2_offers(const char *dir, const char *c)
{
    char path[300], buf[512], *tok, *save;
    FILE *f;
    int found = 0;

    snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
    if ((f = fopen(path, "re")) == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), f))
        for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
            found |= strcmp(tok, c) == 0;
    fclose(f);
    return found;
}

/* Read the cgroup mounts of <mountinfo> into <g>: every hierarchy seen from
 * its root, and the memory, cpu and unified ones. */
static void read_mounts(struct task_cgroups *g, const char *mountinfo, char *v2, size_t v2cap)
{
    char line[1024], root[256], point[256], type[32], opts[512];
    FILE *f = fopen(mountinfo, "re");
    const char *sep;

    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%*s %*s %*s %255s %255s", root, point) != 2 ||
            (sep = strstr(line, " - ")) == NULL ||
            sscanf(sep + 3, "%31s %*s %511s", type, opts) != 2)
            continue;
        if ((strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0) ||
            strcmp(root, "/") != 0 || strchr(point, '\\'))
            continue; /* a subtree (another cgroup namespace), or an escaped name */
        if (g->nmounts < TASK_CGROUP_MAX_MOUNTS)
            copy(g->mounts[g->nmounts++], sizeof(g->mounts[0]), point);
        if (strcmp(type, "cgroup2") == 0) {
            copy(v2, v2cap, point);
            continue;
        }
        if (has_controller(opts, "memory"))
            copy(g->mem, sizeof(g->mem), point);
        if (has_controller(opts, "cpu"))
            copy(g->cpu, sizeof(g->cpu), point);
    }
    fclose(f);
}

void task_cgroup_probe(struct task_cgroups *g, const struct task_cgroup_engine *e,
                       const char *mountinfo)
{
    char v2[256] = "";

    memset(g, 0, sizeof(*g));
    read_mounts(g, mountinfo ? mountinfo : "/proc/self/mountinfo", v2, sizeof(v2));
    if (!e->local) {
        copy(g->why, sizeof(g->why), "the engine is not on a unix socket of this host");
    } else if (e->rootless) {
        copy(g->why, sizeof(g->why),
             e->version ? "the engine runs rootless" : "sluiced does not run as root");
    } else if (e->driver == NULL || strcmp(e->driver, "cgroupfs") != 0) {
        snprintf(g->why, sizeof(g->why), "the engine's cgroup driver is %s, not cgroupfs",
                 e->driver && e->driver[0] ? e->driver : "unknown");
    } else if ((e->version && strcmp(e->version, "2") == 0) ||
               (e->version == NULL && (g->mem[0] == '\0' || g->cpu[0] == '\0'))) {
        if (v2[0] == '\0' || !v2_offers(v2, "memory") || !v2_offers(v2, "cpu"))
            copy(g->why, sizeof(g->why), "no cgroup v2 mount with the cpu and memory controllers");
        copy(g->mem, sizeof(g->mem), v2);
        copy(g->cpu, sizeof(g->cpu), v2);
        if (g->why[0] == '\0')
            g->version = 2;
    } else if (e->version == NULL || strcmp(e->version, "1") == 0) {
        if (g->mem[0] == '\0' || g->cpu[0] == '\0')
            copy(g->why, sizeof(g->why), "no cgroup v1 memory and cpu hierarchies mounted here");
        else
            g->version = 1;
    } else {
        snprintf(g->why, sizeof(g->why), "the engine's cgroup version is %s",
                 e->version && e->version[0] ? e->version : "unknown");
    }
    if (g->version && (access(g->mem, W_OK) != 0 || access(g->cpu, W_OK) != 0)) {
        snprintf(g->why, sizeof(g->why), "sluiced cannot write %.120s: %.100s", g->mem,
                 strerror(errno));
        g->version = 0;
    }
}

static int plain_name(const char *s)
{
    return s[0] && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int task_cgroup_path(char *out, size_t cap, const char *owner, const char *tid)
{
    int n;

    if (!plain_name(owner) || !plain_name(tid))
        return SL_EINVAL;
    n = snprintf(out, cap, "/sluice/%s/%s", owner, tid);
    return n > 0 && (size_t)n < cap && (size_t)n < TASK_CGROUP_PATH_MAX ? SL_OK : SL_EINVAL;
}

/* Make <mount><path> and the cgroups above it.  A parent that another
 * thread's or process's removal takes away meanwhile (ENOENT) is made
 * again.  0 or an errno. */
static int make_dirs(const char *mount, const char *path)
{
    char dir[512];
    int attempt;
    size_t i, len;

    if ((size_t)snprintf(dir, sizeof(dir), "%s%s", mount, path) >= sizeof(dir))
        return ENAMETOOLONG;
    len = strlen(dir);
    for (attempt = 0; attempt < 3; attempt++) {
        int rc = 0;
        for (i = strlen(mount) + 1; i <= len && rc == 0; i++) {
            if (dir[i] != '/' && dir[i] != '\0')
                continue;
            dir[i] = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                rc = errno;
            if (i < len)
                dir[i] = '/';
        }
        if (rc != ENOENT)
            return rc;
    }
    return ENOENT;
}

/* Write <value> to the file <file> of cgroup <mount><path> (<path> "" for
 * the mount's root).  0 or an errno. */
static int put(const char *mount, const char *path, const char *file, const char *value)
{
    char name[600];
    size_t n = strlen(value);
    int fd, rc = 0;

    snprintf(name, sizeof(name), "%s%s/%s", mount, path, file);
    if ((fd = open(name, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0) /* as a shell's > does */
        return errno;
    if (write(fd, value, n) != (ssize_t)n)
        rc = errno ? errno : EIO;
    close(fd);
    return rc;
}

/* v2: the cpu and memory controllers enabled from the root down to <path>
 * itself, so that its limits can be written and the engine's cgroups under
 * it are bounded. */
static int v2_enable(const char *mount, const char *path)
{
    char sub[TASK_CGROUP_PATH_MAX + 1];
    size_t i, len = strlen(path);
    int rc = put(mount, "", "cgroup.subtree_control", "+cpu +memory");

    for (i = 1; i <= len && rc == 0; i++)
        if (path[i] == '/' || path[i] == '\0') {
            snprintf(sub, sizeof(sub), "%.*s", (int)i, path);
            rc = put(mount, sub, "cgroup.subtree_control", "+cpu +memory");
        }
    return rc;
}

static int bound(const struct task_cgroups *g, const char *path,
                 const struct task_cgroup_limits *lim)
{
    char quota[32], mem[32], soft[32], v[64];
    long q = lim->cpu_units * CFS_PERIOD_US / 1024, shares = lim->cpu_shares;
    int rc;

    if (q < CFS_MIN_QUOTA_US)
        q = CFS_MIN_QUOTA_US;
    if (shares <= 0)
        shares = 1024; /* the kernel's default */
    else if (shares < 2)
        shares = 2;
    else if (shares > 262144)
        shares = 262144;
    snprintf(quota, sizeof(quota), "%ld", q);
    snprintf(mem, sizeof(mem), "%lld", (long long)lim->mem_mib * 1024 * 1024);
    snprintf(soft, sizeof(soft), "%lld", (long long)lim->soft_mib * 1024 * 1024);
    if (g->version == 2) {
        if ((rc = v2_enable(g->mem, path)) != 0)
            return rc;
        snprintf(v, sizeof(v), "%s %ld", lim->cpu_units > 0 ? quota : "max", CFS_PERIOD_US);
        if ((rc = put(g->cpu, path, "cpu.max", v)) != 0)
            return rc;
        /* v1 shares 2-262144 onto v2 weights 1-10000, as runc maps them. */
        snprintf(v, sizeof(v), "%ld", 1 + (shares - 2) * 9999 / 262142);
        if ((rc = put(g->cpu, path, "cpu.weight", v)) != 0 ||
            (rc = put(g->mem, path, "memory.low", lim->soft_mib > 0 ? soft : "0")) != 0)
            return rc;
        return put(g->mem, path, "memory.max", lim->mem_mib > 0 ? mem : "max");
    }
    snprintf(v, sizeof(v), "%ld", CFS_PERIOD_US);
    if ((rc = put(g->cpu, path, "cpu.cfs_period_us", v)) != 0 ||
        (rc = put(g->cpu, path, "cpu.cfs_quota_us", lim->cpu_units > 0 ? quota : "-1")) != 0)
        return rc;
    snprintf(v, sizeof(v), "%ld", shares);
    if ((rc = put(g->cpu, path, "cpu.shares", v)) != 0 ||
        (rc = put(g->mem, path, "memory.soft_limit_in_bytes", lim->soft_mib > 0 ? soft : "-1")) !=
            0)
        return rc;
    return put(g->mem, path, "memory.limit_in_bytes", lim->mem_mib > 0 ? mem : "-1");
}

int task_cgroup_make(const struct task_cgroups *g, const char *path,
                     const struct task_cgroup_limits *lim, char *reason, size_t rlen)
{
    int rc;

    if (g->version == 0) {
        snprintf(reason, rlen, "ResourceInitializationError: no task cgroup: %s", g->why);
        return SL_ERR;
    }
    if ((rc = make_dirs(g->mem, path)) == 0 && strcmp(g->cpu, g->mem) != 0)
        rc = make_dirs(g->cpu, path);
    if (rc == 0)
        rc = bound(g, path, lim);
    if (rc != 0) {
        snprintf(reason, rlen, "ResourceInitializationError: cannot make the task's cgroup %s: %s",
                 path, strerror(rc));
        return SL_ERR;
    }
    return SL_OK;
}

int task_cgroup_holds(const struct task_cgroups *g, const char *path, int pid)
{
    char name[64], line[1024];
    size_t n = strlen(path);
    FILE *f;
    int held = SL_ENOTFOUND;

    if (g->version == 0 || pid <= 0)
        return SL_ENOTFOUND;
    snprintf(name, sizeof(name), "/proc/%d/cgroup", pid);
    if ((f = fopen(name, "re")) == NULL)
        return SL_ENOTFOUND;
    while (held == SL_ENOTFOUND && fgets(line, sizeof(line), f)) {
        char *ctl = strchr(line, ':'), *cg = ctl ? strchr(ctl + 1, ':') : NULL;
        if (cg == NULL)
            continue;
        *cg++ = '\0';
        cg[strcspn(cg, "\n")] = '\0';
        if (g->version == 2 ? strcmp(ctl + 1, "") != 0 : !has_controller(ctl + 1, "memory"))
            continue;
        /* v1 shows an exiting process (a zombie too) at the root. */
        if (strcmp(cg, "/") == 0 && strcmp(path, "/") != 0)
            break;
        held = strncmp(cg, path, n) == 0 && (cg[n] == '\0' || cg[n] == '/');
    }
    fclose(f);
    return held;
}

int task_cgroup_procs(const struct task_cgroups *g, const char *path, char out[2][300])
{
    int n = 0;

    if (g->version == 0)
        return 0;
    snprintf(out[n++], sizeof(out[0]), "%.120s%.160s/cgroup.procs", g->mem, path);
    if (g->version == 1 && strcmp(g->cpu, g->mem) != 0)
        snprintf(out[n++], sizeof(out[0]), "%.120s%.160s/cgroup.procs", g->cpu, path);
    return n;
}

long task_cgroup_oom_kills(const struct task_cgroups *g, const char *path)
{
    char name[600], line[256];
    long n = SL_ENOTFOUND, v;
    FILE *f;

    snprintf(name, sizeof(name), "%s%s/%s", g->mem, path,
             g->version == 2 ? "memory.events" : "memory.oom_control");
    if (g->version == 0 || (f = fopen(name, "re")) == NULL)
        return SL_ENOTFOUND;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "oom_kill %ld", &v) == 1)
            n = v;
    fclose(f);
    return n;
}

/* rmdir <dir> after the directories below it, <depth> levels at most. */
static void remove_tree(const char *dir, int depth)
{
    char sub[700];
    struct dirent *d;
    DIR *dp;

    if (depth > 0 && (dp = opendir(dir)) != NULL) {
        while ((d = readdir(dp)) != NULL)
            if (d->d_type == DT_DIR && strcmp(d->d_name, ".") != 0 &&
                strcmp(d->d_name, "..") != 0 &&
                (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name) < sizeof(sub))
                remove_tree(sub, depth - 1);
        closedir(dp);
    }
    rmdir(dir);
}

/* rmdir the parents of <mount><path> up to <mount>/sluice, while empty. */
static void remove_parents(const char *mount, const char *path)
{
    char dir[600], *slash;

    snprintf(dir, sizeof(dir), "%s%s", mount, path);
    while ((slash = strrchr(dir, '/')) != NULL && (size_t)(slash - dir) > strlen(mount)) {
        *slash = '\0';
        if (rmdir(dir) != 0)
            break;
    }
}

int task_cgroup_remove(const struct task_cgroups *g, const char *path)
{
    char dir[600];
    int i, left = 0;

    for (i = 0; i < g->nmounts; i++) {
        snprintf(dir, sizeof(dir), "%s%s", g->mounts[i], path);
        remove_tree(dir, TREE_DEPTH);
        if (access(dir, F_OK) == 0)
            left = 1;
        else
            remove_parents(g->mounts[i], path);
    }
    return left ? SL_EAGAIN : SL_OK;
}

void task_cgroup_sweep(const struct task_cgroups *g, const char *owner)
{
    char dir[600], path[TASK_CGROUP_PATH_MAX];
    int i;

    if (task_cgroup_path(path, sizeof(path), owner, "x") != SL_OK)
        return;
    path[strlen(path) - 2] = '\0'; /* "/sluice/<owner>" */
    for (i = 0; i < g->nmounts; i++) {
        snprintf(dir, sizeof(dir), "%s%s", g->mounts[i], path);
        remove_tree(dir, TREE_DEPTH + 1);
        remove_parents(g->mounts[i], path);
    }
}
