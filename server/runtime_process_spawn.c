/*
 * runtime_process_spawn.c - how the process runtime makes a container's
 * process: its environment, its cgroups and shim options, the spawn, and
 * its health check.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, addclosefrom_np */
#include "server/runtime_process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "routes/ecs/instances.h"
#include "server/supervise.h"
#include "server/task_env.h"
#include "server/task_exec.h"

extern char **environ;

void rp_strv_free(char **v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

/* Append the strings of JSON array <a> (may be NULL) to <v> of length *n. */
char **rp_strv_add_json(char **v, size_t *n, json_t *a)
{
    size_t i;
    json_t *s;

    json_array_foreach(a, i, s) {
        char **nv = realloc(v, (*n + 2) * sizeof(*v));
        if (nv == NULL)
            return v;
        v = nv;
        v[(*n)++] = strdup(json_string_value(s) ? json_string_value(s) : "");
        v[*n] = NULL;
    }
    return v;
}

/* Set NAME=VALUE in environment vector <v>, replacing an existing NAME. */
static char **env_set(char **v, size_t *n, const char *name, const char *value)
{
    size_t i, l = strlen(name);
    char *e = malloc(l + strlen(value) + 2);
    char **nv;

    if (e == NULL)
        return v;
    sprintf(e, "%s=%s", name, value);
    for (i = 0; i < *n; i++)
        if (strncmp(v[i], name, l) == 0 && v[i][l] == '=') {
            free(v[i]);
            v[i] = e;
            return v;
        }
    if ((nv = realloc(v, (*n + 2) * sizeof(*v))) == NULL) {
        free(e);
        return v;
    }
    nv[(*n)++] = e;
    nv[*n] = NULL;
    return nv;
}

/* <file> in the PATH of <envp> (sluiced's own when it has none), as
 * execvp looks it up, into <out>: 0 or an errno. */
static int resolve_exec(const char *file, char **envp, char *out, size_t cap)
{
    const char *path = "/usr/local/bin:/usr/bin:/bin", *p, *end;
    int rc = ENOENT;
    size_t i;

    if (strchr(file, '/')) {
        snprintf(out, cap, "%s", file);
        return access(out, X_OK) == 0 ? 0 : errno;
    }
    for (i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            path = envp[i] + 5;
    for (p = path; *p; p = *end ? end + 1 : end) {
        struct stat st;
        end = strchr(p, ':') ? strchr(p, ':') : p + strlen(p);
        if (end == p) /* an empty entry is the working directory */
            snprintf(out, cap, "./%s", file);
        else
            snprintf(out, cap, "%.*s/%s", (int)(end - p), p, file);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            rc = EACCES;
        }
    }
    return rc;
}

/* posix_spawnp <argv> with <envp> in <cwd>, output to <out>/<errp> (NULL:
 * /dev/null), in process group <pgid> (0: a new group led by the child);
 * with shim options <opts> (NULL for none: task_exec.h) through the shim
 * <self_exe>, which execs <argv> once it has applied them. */
int rp_spawn(const char *self_exe, char **opts, char **argv, char **envp, const char *cwd,
                 const char *out, const char *errp, pid_t pgid, pid_t *pid, char *reason,
                 size_t rlen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char prog[1024], **shim = NULL;
    const char *program = argv[0];
    size_t i, n = 0, nopts = 0, argc;
    int rc;

    if (opts) {
        if ((rc = resolve_exec(argv[0], envp, prog, sizeof(prog))) != 0) {
            snprintf(reason, rlen, "CannotStartContainerError: exec %.300s: %s", argv[0],
                     strerror(rc));
            return SL_ERR;
        }
        for (argc = 0; argv[argc]; argc++)
            ;
        while (opts[nopts])
            nopts++;
        if ((shim = calloc(argc + nopts + 4, sizeof(*shim))) == NULL) {
            snprintf(reason, rlen, "ResourceInitializationError: out of memory");
            return SL_ERR;
        }
        shim[n++] = (char *)self_exe;
        shim[n++] = TASK_EXEC_ARG;
        for (i = 0; i < nopts; i++)
            shim[n++] = opts[i];
        shim[n++] = "--";
        shim[n++] = prog;
        for (i = 1; i < argc; i++)
            shim[n++] = argv[i];
        argv = shim; /* NULL-terminated by calloc */
    }

    supervise_spawnattr(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, pgid);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, errp ? errp : "/dev/null",
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    /* Nothing of sluiced (sockets, the LMDB file) leaks into a task. */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (cwd && cwd[0])
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
    free(shim);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        snprintf(reason, rlen, "CannotStartContainerError: exec %.300s: %s", program,
                 strerror(rc));
        return SL_ERR;
    }
    return SL_OK;
}

/* Health-check settings of container definition <cd> into <c>. */
void rp_hc_setup(struct rt_ctr *c, json_t *cd, uint64_t now)
{
    json_t *hc = json_object_get(cd, "healthCheck"), *cmd = json_object_get(hc, "command");
    const char *kind = json_string_value(json_array_get(cmd, 0));
    size_t n = 0;

    c->hc_status = "UNKNOWN";
    if (hc == NULL || kind == NULL)
        return;
    if (strcmp(kind, "CMD-SHELL") == 0) {
        c->hc_argv = calloc(4, sizeof(char *));
        if (c->hc_argv == NULL)
            return;
        c->hc_argv[0] = strdup("/bin/sh");
        c->hc_argv[1] = strdup("-c");
        c->hc_argv[2] = strdup(json_string_value(json_array_get(cmd, 1))
                                   ? json_string_value(json_array_get(cmd, 1))
                                   : "true");
    } else {
        json_t *rest = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(cmd, i, v)
            if (i > 0 || strcmp(kind, "CMD") != 0)
                json_array_append(rest, v);
        if (json_array_size(rest) > 0)
            c->hc_argv = rp_strv_add_json(NULL, &n, rest);
        json_decref(rest);
    }
    c->hc_interval_ms = (long)json_integer_value(json_object_get(hc, "interval")) * 1000;
    c->hc_timeout_ms = (long)json_integer_value(json_object_get(hc, "timeout")) * 1000;
    c->hc_retries = (long)json_integer_value(json_object_get(hc, "retries"));
    if (c->hc_interval_ms <= 0)
        c->hc_interval_ms = 30000;
    if (c->hc_timeout_ms <= 0)
        c->hc_timeout_ms = 5000;
    if (c->hc_retries <= 0)
        c->hc_retries = 3;
    c->hc_grace_until =
        now + (uint64_t)json_integer_value(json_object_get(hc, "startPeriod")) * 1000;
    c->hc_next = now; /* the first check runs at once */
}

/* The environment of container definition <cd> (and its override <ov>)
 * with its ports, over sluiced's own; NULL, with <reason>, when one of its
 * files or secrets cannot be read. */
char **rp_container_env(json_t *cd, json_t *ov, json_t *bindings, char *reason, size_t rlen)
{
    char **v = NULL, name[64], val[16];
    size_t n = 0, i;
    json_t *e, *b, *env = json_array();

    for (i = 0; environ[i]; i++) {
        const char *eq = strchr(environ[i], '=');
        if (eq == NULL || strncmp(environ[i], "SLUICE_", 7) == 0)
            continue;
        char key[256];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - environ[i]), environ[i]);
        v = env_set(v, &n, key, eq + 1);
    }
    if (env == NULL || task_env_build(env, cd, ov, reason, rlen) != SL_OK) {
        if (env == NULL)
            snprintf(reason, rlen, "ResourceInitializationError: out of memory");
        json_decref(env);
        rp_strv_free(v);
        return NULL;
    }
    json_array_foreach(env, i, e) {
        const char *s = json_string_value(e), *eq = strchr(s, '=');
        char *key = strndup(s, (size_t)(eq - s));
        if (key)
            v = env_set(v, &n, key, eq + 1);
        free(key);
    }
    json_decref(env);
    json_array_foreach(bindings, i, b) {
        snprintf(val, sizeof(val), "%lld",
                 (long long)json_integer_value(json_object_get(b, "hostPort")));
        if (i == 0)
            v = env_set(v, &n, "PORT", val);
        snprintf(name, sizeof(name), "PORT_%lld",
                 (long long)json_integer_value(json_object_get(b, "containerPort")));
        v = env_set(v, &n, name, val);
    }
    if (v == NULL)
        v = calloc(1, sizeof(char *));
    return v;
}

/* The integer member <name> of container override <ov> (the override
 * wins) or definition <cd>; 0 when neither has it. */
static long sized_member(json_t *cd, json_t *ov, const char *name)
{
    json_t *v = json_object_get(ov, name);

    return (long)json_integer_value(json_is_integer(v) ? v : json_object_get(cd, name));
}

/* The cgroup of the <i>th container of <t> (<cd>, override <ov>) into
 * <out>, made and bounded, and the task's own before the first: "" when
 * this runtime makes none. */
int rp_cgroups_for(struct rt_process *p, struct rt_task *t, int i, json_t *task, json_t *cd,
                       json_t *ov, char *out, size_t cap, char *reason, size_t rlen)
{
    struct task_cgroup_limits lim = {0};
    const char *tid = strrchr(t->key, '/') ? strrchr(t->key, '/') + 1 : t->key;
    long cpu;

    out[0] = '\0';
    if (p->cg.version == 0)
        return SL_OK;
    if (i == 0) {
        if (task_cgroup_path(t->cgroup, sizeof(t->cgroup), p->owner, tid) != SL_OK) {
            snprintf(reason, rlen, "ResourceInitializationError: no cgroup name for task %.80s",
                     tid);
            return SL_ERR;
        }
        ecs_task_size(task, &lim.cpu_units, &lim.mem_mib);
        if (task_cgroup_make(&p->cg, t->cgroup, &lim, reason, rlen) != SL_OK)
            return SL_ERR;
    }
    snprintf(out, cap, "%s/c%d", t->cgroup, i);
    cpu = sized_member(cd, ov, "cpu");
    lim = (struct task_cgroup_limits){0, cpu >= 2 ? cpu : 2, sized_member(cd, ov, "memory"),
                                      sized_member(cd, ov, "memoryReservation")};
    return task_cgroup_make(&p->cg, out, &lim, reason, rlen);
}

static char **strv_push(char **v, size_t *n, const char *a, const char *b)
{
    char **nv = realloc(v, (*n + 3) * sizeof(*v));

    if (nv == NULL)
        return v;
    nv[(*n)++] = strdup(a);
    nv[(*n)++] = strdup(b);
    nv[*n] = NULL;
    return nv;
}

/* The shim's options (task_exec.h) for container definition <cd> in
 * cgroup <cg> ("" for none): its cgroup, its ulimits, its user.  *out NULL
 * when it needs none; SL_ERR (*out NULL) with <reason> for a setting this
 * host cannot apply. */
int rp_shim_opts(struct rt_process *p, const char *cg, json_t *cd, char ***out, char *reason,
                     size_t rlen)
{
    char files[2][300], v[600];
    const char *user = json_string_value(json_object_get(cd, "user"));
    json_t *u;
    size_t n = 0, i;
    int k;

    *out = NULL;
    for (k = cg[0] ? task_cgroup_procs(&p->cg, cg, files) : 0, i = 0; (int)i < k; i++)
        *out = strv_push(*out, &n, "-j", files[i]);
    json_array_foreach(json_object_get(cd, "ulimits"), i, u) {
        const char *name = json_string_value(json_object_get(u, "name"));
        json_t *sj = json_object_get(u, "softLimit"), *hj = json_object_get(u, "hardLimit");
        /* -1 is unlimited, as Docker reads it. */
        long long soft = json_integer_value(sj), hard = json_integer_value(hj);
        unsigned long long us = soft < 0 ? ~0ULL : (unsigned long long)soft;
        unsigned long long uh = hard < 0 ? ~0ULL : (unsigned long long)hard;
        if (name == NULL || task_exec_rlimit(name) < 0 || !json_is_integer(sj) ||
            !json_is_integer(hj) || soft < -1 || hard < -1 || us > uh) {
            snprintf(reason, rlen, "CannotStartContainerError: ulimit %.100s is not one this "
                     "host can set (a name it has, softLimit at most hardLimit, -1 for "
                     "unlimited)", name ? name : "without a name");
            goto fail;
        }
        snprintf(v, sizeof(v), "%s=%lld:%lld", name, soft, hard);
        *out = strv_push(*out, &n, "-r", v);
    }
    if (user && user[0]) {
        if (task_exec_user(user, v, sizeof(v), reason, rlen) != SL_OK)
            goto fail;
        *out = strv_push(*out, &n, "-u", v);
    }
    if (*out && p->self_exe[0] == '\0') {
        snprintf(reason, rlen, "ResourceInitializationError: cannot read /proc/self/exe, which "
                 "starts a task's process with its cgroup, ulimits and user");
        goto fail;
    }
    return SL_OK;
fail:
    rp_strv_free(*out);
    *out = NULL;
    return SL_ERR;
}

void rp_hc_step(const char *self_exe, struct rt_ctr *c, uint64_t now)
{
    int st, ok = -1;

    if (c->hc_argv == NULL || c->exited)
        return;
    if (c->hc_pid > 0) {
        pid_t r = waitpid(c->hc_pid, &st, WNOHANG);
        if (r == c->hc_pid) {
            ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            c->hc_pid = 0;
        } else if (r < 0) {
            ok = 0;
            c->hc_pid = 0;
        } else if (now >= c->hc_deadline) {
            kill(-c->hc_pid, SIGKILL);
            waitpid(c->hc_pid, NULL, 0);
            c->hc_pid = 0;
            ok = 0;
        }
    } else if (now >= c->hc_next) {
        char why[400];
        c->hc_next = now + (uint64_t)c->hc_interval_ms;
        c->hc_deadline = now + (uint64_t)c->hc_timeout_ms;
        /* In the container's cgroup, as its user: a check runs as its
         * container would, as in a container. */
        if (rp_spawn(self_exe, c->opts, c->hc_argv, c->envp, c->cwd, NULL, NULL, 0, &c->hc_pid,
                     why, sizeof(why)) != SL_OK) {
            c->hc_pid = 0;
            ok = 0;
        }
    }
    if (ok == 1) {
        c->hc_fails = 0;
        c->hc_status = "HEALTHY";
    } else if (ok == 0 && now >= c->hc_grace_until) {
        if (++c->hc_fails >= c->hc_retries)
            c->hc_status = "UNHEALTHY";
    }
}
