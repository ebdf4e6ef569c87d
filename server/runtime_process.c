/*
 * runtime_process.c - the default task runtime: every container of a task
 * is a host process.
 *
 * - entryPoint + command are exec'd directly (posix_spawnp, no shell) with
 *   the container's environmentFiles, environment and secrets (task_env.h)
 *   over sluiced's own environment (SLUICE_* removed), plus PORT (first
 *   mapping's host port) and PORT_<containerPort>.
 * - The first container leads a new process group and the others join it,
 *   so a signal to the group reaches every process of the task, children
 *   included.
 * - stdout/stderr go to <tasks_dir>/<task id>/<container>/stdout.log
 *   and stderr.log; that directory is also the working directory unless the
 *   container names a workingDirectory.  The paths are in the container's
 *   "logs" member of DescribeTasks.
 * - Adoption identifies a process by pid and its start time (field 22 of
 *   /proc/PID/stat), so a recycled pid is not taken for the task.  Adopted
 *   processes are not our children: their exit codes are unknown.
 * - Where sluiced may make cgroups (task_cgroup.h: root, cgroupfs), a task
 *   runs in a cgroup bounded by its task-level cpu and memory, and each
 *   container's process in one below it bounded by the container's memory
 *   and weighted by its cpu, as on ECS.
 * - The process starts through sluiced's own shim (task_exec.h), which
 *   joins its cgroup, sets its ulimits and becomes its user before it execs
 *   the program: nothing of the task runs elsewhere or as root first.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, addclosefrom_np */
#include "server/runtime_process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "routes/ecs/instances.h"

/* ---- processes ---- */

/* Start time of <pid> from /proc, and whether it is a live (non-zombie)
 * process.  0 when it does not exist. */
static unsigned long long proc_start(pid_t pid, int *alive)
{
    char path[64], buf[1024], *p;
    unsigned long long start = 0;
    FILE *f;
    size_t n;
    int field;

    *alive = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if ((p = strrchr(buf, ')')) == NULL)
        return 0;
    p += 2; /* field 3: state */
    *alive = *p != 'Z' && *p != 'X' && *p != 'x';
    for (field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (p)
        start = strtoull(p, NULL, 10);
    return start;
}

/* ---- ports ---- */

static int port_bindable(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* A free port from the range, or 0. */
static int port_pick(struct rt_process *p)
{
    int span = p->hi - p->lo + 1, i;

    for (i = 0; i < span; i++) {
        int port = p->lo + (p->cursor + i) % span;
        if (!p->held[port] && port_bindable(port)) {
            p->cursor = (p->cursor + i + 1) % span;
            return port;
        }
    }
    return 0;
}

/* ---- tasks ---- */

static struct rt_task *find(struct rt_process *p, const char *key)
{
    struct rt_task *t;

    for (t = p->tasks; t; t = t->next)
        if (strcmp(t->key, key) == 0)
            return t;
    return NULL;
}

static void task_free(struct rt_process *p, struct rt_task *t)
{
    int i;

    for (i = 0; i < t->nports; i++)
        p->held[t->ports[i]] = 0;
    for (i = 0; i < t->n; i++) {
        if (t->c[i].hc_pid > 0) {
            kill(-t->c[i].hc_pid, SIGKILL);
            waitpid(t->c[i].hc_pid, NULL, 0);
        }
        rp_strv_free(t->c[i].envp);
        rp_strv_free(t->c[i].opts);
        rp_strv_free(t->c[i].hc_argv);
        json_decref(t->c[i].bindings);
    }
    json_decref(t->td);
    if (t->cgroup[0])
        task_cgroup_remove(&p->cg, t->cgroup); /* one still in use stays */
    free(t);
}

static void unlink_task(struct rt_process *p, struct rt_task *t)
{
    struct rt_task **pp;

    for (pp = &p->tasks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            return;
        }
}

static json_t *container_def(json_t *td, const char *name)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return c;
    return NULL;
}

static json_t *container_override(json_t *task, const char *name)
{
    json_t *o;
    size_t i;

    json_array_foreach(json_object_get(json_object_get(task, "overrides"), "containerOverrides"),
                       i, o)
        if (json_is_string(json_object_get(o, "name")) &&
            strcmp(json_string_value(json_object_get(o, "name")), name) == 0)
            return o;
    return NULL;
}

static const char *task_id(const struct rt_task *t)
{
    return strrchr(t->key, '/') ? strrchr(t->key, '/') + 1 : t->key;
}

static long stop_timeout_ms(json_t *td)
{
    json_t *c;
    size_t i;
    long ms = 0;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (json_is_integer(json_object_get(c, "stopTimeout")) &&
            json_integer_value(json_object_get(c, "stopTimeout")) * 1000 > ms)
            ms = (long)json_integer_value(json_object_get(c, "stopTimeout")) * 1000;
    return ms > 0 ? ms : RT_DEFAULT_STOP_MS;
}

static void set_task_health(struct rt_task *t, json_t *task)
{
    const char *h = "UNKNOWN";
    int i, any = 0, healthy = 1;

    for (i = 0; i < t->n; i++) {
        if (t->c[i].hc_argv == NULL || !t->c[i].essential)
            continue;
        any = 1;
        if (strcmp(t->c[i].hc_status, "UNHEALTHY") == 0) {
            h = "UNHEALTHY";
            healthy = 0;
            break;
        }
        if (strcmp(t->c[i].hc_status, "HEALTHY") != 0)
            healthy = 0;
    }
    if (any && healthy)
        h = "HEALTHY";
    json_object_set_new(task, "healthStatus", json_string(h));
}

/* Host ports for every mapping of <task>'s containers (<td>'s), held in
 * <t> and shown in each container's networkBindings: first, so that
 * nothing starts when one cannot be had.  An awsvpc task would have an
 * address of its own; host processes share one, so its mappings get
 * dynamic ports, as the Docker runtime publishes them. */
static int assign_ports(struct rt_process *p, struct rt_task *t, json_t *task, json_t *td,
                        char *reason, size_t rlen)
{
    json_t *jc;
    size_t i;
    int own_address;

    own_address = json_is_string(json_object_get(td, "networkMode")) &&
                  strcmp(json_string_value(json_object_get(td, "networkMode")), "awsvpc") == 0;
    json_array_foreach(json_object_get(task, "containers"), i, jc) {
        json_t *cd = container_def(td, json_string_value(json_object_get(jc, "name")));
        json_t *pm, *bindings = json_array();
        size_t j;
        json_array_foreach(json_object_get(cd, "portMappings"), j, pm) {
            long cport = (long)json_integer_value(json_object_get(pm, "containerPort"));
            long hport = (long)json_integer_value(json_object_get(pm, "hostPort"));
            const char *proto = json_string_value(json_object_get(pm, "protocol"));
            if (t->nports >= RT_MAX_PORTS) {
                json_decref(bindings);
                snprintf(reason, rlen, "ResourceInitializationError: too many port mappings");
                return SL_ERR;
            }
            if (hport > 0 && !own_address) {
                if (p->held[hport] || !port_bindable((int)hport)) {
                    json_decref(bindings);
                    snprintf(reason, rlen,
                             "ResourceInitializationError: host port %ld for container %.200s "
                             "is already in use",
                             hport, json_string_value(json_object_get(jc, "name")));
                    return SL_ERR;
                }
            } else if ((hport = port_pick(p)) == 0) {
                json_decref(bindings);
                snprintf(reason, rlen,
                         "ResourceInitializationError: no free host port in the range %d-%d",
                         p->lo, p->hi);
                return SL_ERR;
            }
            p->held[hport] = 1;
            t->ports[t->nports++] = (int)hport;
            json_array_append_new(bindings,
                                  json_pack("{ss sI sI ss}", "bindIP", "0.0.0.0", "containerPort",
                                            (json_int_t)cport, "hostPort", (json_int_t)hport,
                                            "protocol", proto ? proto : "tcp"));
        }
        t->c[i].bindings = json_incref(bindings);
        json_object_set_new(jc, "networkBindings", bindings);
    }
    return SL_OK;
}

/* Show container <i> of <t> in <jc>, as it runs (or ran). */
static void show_container(struct rt_process *p, struct rt_task *t, int i, json_t *jc)
{
    struct rt_ctr *c = &t->c[i];
    char dir[2048], out[2100], errp[2100], rid[64];

    snprintf(dir, sizeof(dir), "%s/%s/%s", p->tasks_dir, task_id(t), c->name);
    snprintf(out, sizeof(out), "%s/stdout.log", dir);
    snprintf(errp, sizeof(errp), "%s/stderr.log", dir);
    snprintf(rid, sizeof(rid), "process:%d", (int)c->pid);
    json_object_set_new(jc, "runtimeId", json_string(rid));
    json_object_set_new(jc, "lastStatus", json_string(c->exited ? "STOPPED" : "RUNNING"));
    if (c->exited && c->code >= 0)
        json_object_set_new(jc, "exitCode", json_integer(c->code));
    json_object_set_new(jc, "healthStatus", json_string(c->hc_status));
    json_object_set_new(jc, "logs", json_pack("{ss ss ss}", "stdout", out, "stderr", errp,
                                              "workingDirectory", c->cwd));
    json_object_set_new(jc, "_pid", json_integer(c->pid));
    json_object_set_new(jc, "_start", json_integer((json_int_t)c->start));
    if (c->bindings)
        json_object_set(jc, "networkBindings", c->bindings);
}

/* Start container <i> of <task> (<td>'s definition, shown in <jc>): its
 * directory, command, environment, cgroup and shim options, then the
 * process.  SL_OK, or SL_ERR with <reason> (what was made for it is <t>'s
 * to free). */
static int start_container(struct rt_process *p, struct rt_task *t, int i, json_t *task,
                           json_t *td, json_t *jc, uint64_t now, char *reason, size_t rlen)
{
    struct rt_ctr *c = &t->c[i];
    json_t *cd = container_def(td, c->name), *ov = container_override(task, c->name);
    json_t *cmd = json_object_get(ov, "command") ? json_object_get(ov, "command")
                                                 : json_object_get(cd, "command");
    const char *name = c->name;
    char dir[2048], out[2100], errp[2100], cg[TASK_CGROUP_PATH_MAX + 16];
    char **argv = NULL;
    size_t argc = 0;

    snprintf(dir, sizeof(dir), "%s/%s/%s", p->tasks_dir, task_id(t), name);
    snprintf(out, sizeof(out), "%s/stdout.log", dir);
    snprintf(errp, sizeof(errp), "%s/stderr.log", dir);
    if (task_dir_make(dir) != 0) {
        snprintf(reason, rlen, "ResourceInitializationError: cannot create %.300s: %s", dir,
                 strerror(errno));
        return SL_ERR;
    }
    snprintf(c->cwd, sizeof(c->cwd), "%s",
             json_is_string(json_object_get(cd, "workingDirectory"))
                 ? json_string_value(json_object_get(cd, "workingDirectory"))
                 : dir);
    argv = rp_strv_add_json(argv, &argc, json_object_get(cd, "entryPoint"));
    argv = rp_strv_add_json(argv, &argc, cmd);
    if (argc == 0) {
        rp_strv_free(argv);
        snprintf(reason, rlen,
                 "CannotStartContainerError: container %.200s has neither entryPoint nor "
                 "command (the process runtime does not run images)",
                 name);
        return SL_ERR;
    }
    c->envp = rp_container_env(cd, ov, c->bindings, reason, rlen);
    if (c->envp == NULL) {
        rp_strv_free(argv);
        return SL_ERR;
    }
    if (rp_cgroups_for(p, t, i, task, cd, ov, cg, sizeof(cg), reason, rlen) != SL_OK ||
        rp_shim_opts(p, cg, cd, &c->opts, reason, rlen) != SL_OK ||
        rp_spawn(p->self_exe, c->opts, argv, c->envp, c->cwd, out, errp, t->pgid, &c->pid, reason,
                 rlen) != SL_OK) {
        rp_strv_free(argv);
        rp_strv_free(c->envp);
        rp_strv_free(c->opts);
        c->envp = c->opts = NULL;
        return SL_ERR;
    }
    rp_strv_free(argv);
    if (t->pgid == 0)
        t->pgid = c->pid;
    c->child = 1;
    {
        int alive;
        c->start = proc_start(c->pid, &alive);
    }
    rp_hc_setup(c, cd, now);
    c->started = 1;
    log_info("runtime: task %s container %s started (pid %d)", t->key, name, (int)c->pid);
    if (jc)
        show_container(p, t, i, jc);
    return SL_OK;
}

/* ---- starting, dependsOn held (runtime_process_deps.c) ---- */

/* Start every container of <t> whose dependencies hold, again until none
 * more can; <task> is the stored task (its containers shown).  SL_OK, or
 * SL_ERR with <reason> when one never can start or failed to. */
static int start_ready(struct rt_process *p, struct rt_task *t, json_t *task, uint64_t now,
                       char *reason, size_t rlen)
{
    json_t *containers = json_object_get(task, "containers");
    int i, j, progress;

    do {
        progress = 0;
        for (i = 0; i < t->n; i++) {
            struct rt_ctr *c = &t->c[i];
            json_t *jc = json_array_get(containers, (size_t)i);
            int ok = 1, s;
            if (c->started)
                continue;
            for (j = 0; j < c->ndeps && ok; j++) {
                if ((s = rp_dep_state(t, c, j)) < 0) {
                    snprintf(reason, rlen, "CannotStartContainerError: %.100s depends on %.100s "
                             "to %s, which it did not", c->name,
                             t->c[c->deps[j].idx].name, rp_cond_names[c->deps[j].cond]);
                    return SL_ERR;
                }
                ok = s == 1;
            }
            if (!ok) {
                if (now > t->created_ms + (uint64_t)c->start_ms) {
                    snprintf(reason, rlen, "CannotStartContainerError: the dependencies of "
                             "%.100s were not met within its startTimeout of %ld s",
                             c->name, c->start_ms / 1000);
                    return SL_ERR;
                }
                continue;
            }
            if (jc && strcmp(json_string_value(json_object_get(jc, "name")) ?: "", c->name))
                jc = NULL; /* not this container's: shown when the task runs */
            if (start_container(p, t, i, task, t->td, jc, now, reason, rlen) != SL_OK)
                return SL_ERR;
            progress = 1;
        }
    } while (progress);
    return SL_OK;
}

static int all_started(const struct rt_task *t)
{
    int i;

    for (i = 0; i < t->n; i++)
        if (!t->c[i].started)
            return 0;
    return 1;
}

/* <t> runs: show every container in <task>, and the task's process group
 * and health. */
static void show_task(struct rt_process *p, struct rt_task *t, json_t *task)
{
    json_t *containers = json_object_get(task, "containers"), *jc;
    int i;

    for (i = 0; i < t->n; i++)
        if ((jc = json_array_get(containers, (size_t)i)) != NULL &&
            strcmp(json_string_value(json_object_get(jc, "name")) ?: "", t->c[i].name) == 0)
            show_container(p, t, i, jc);
    json_object_set_new(task, "_pgid", json_integer(t->pgid));
    set_task_health(t, task);
}

/* Kill what started of <t> and reap it. */
static void kill_started(struct rt_task *t)
{
    int i;

    if (t->pgid > 0)
        kill(-t->pgid, SIGKILL);
    for (i = 0; i < t->n; i++)
        if (t->c[i].started && t->c[i].child && !t->c[i].exited && t->c[i].pid > 0)
            waitpid(t->c[i].pid, NULL, 0);
}

/* Mark every container of <task> stopped, without bindings or a process. */
static void show_not_started(json_t *task)
{
    json_t *jc;
    size_t i;

    json_array_foreach(json_object_get(task, "containers"), i, jc) {
        json_object_set_new(jc, "networkBindings", json_array());
        json_object_set_new(jc, "lastStatus", json_string("STOPPED"));
        json_object_del(jc, "_pid");
        json_object_del(jc, "runtimeId");
    }
}

static int proc_start_task(struct runtime *rt, const char *key, json_t *task, json_t *td,
                           char *reason, size_t rlen)
{
    struct rt_process *p = (struct rt_process *)rt;
    struct rt_task *t = calloc(1, sizeof(*t));
    json_t *containers = json_object_get(task, "containers"), *jc;
    uint64_t now = util_mono_ms();
    size_t i;

    if (t == NULL) {
        snprintf(reason, rlen, "ResourceInitializationError: out of memory");
        return SL_ERR;
    }
    snprintf(t->key, sizeof(t->key), "%s", key);
    t->stop_ms = stop_timeout_ms(td);
    t->created_ms = now;
    t->td = json_incref(td);
    if (json_array_size(containers) > RT_MAX_CONTAINERS) {
        snprintf(reason, rlen, "ResourceInitializationError: at most %d containers per task",
                 RT_MAX_CONTAINERS);
        goto fail;
    }
    json_array_foreach(containers, i, jc) {
        struct rt_ctr *c = &t->c[t->n++];
        snprintf(c->name, sizeof(c->name), "%s", json_string_value(json_object_get(jc, "name")));
        c->essential = json_is_true(json_object_get(container_def(td, c->name), "essential"));
        c->code = -1;
        c->hc_status = "UNKNOWN";
    }
    for (i = 0; i < (size_t)t->n; i++)
        if (rp_plan_deps(t, (int)i, td, reason, rlen) != SL_OK)
            goto fail;
    if (rp_has_cycle(t)) {
        snprintf(reason, rlen, "CannotCreateContainerError: dependsOn forms a cycle");
        goto fail;
    }
    if (assign_ports(p, t, task, td, reason, rlen) != SL_OK ||
        start_ready(p, t, task, now, reason, rlen) != SL_OK)
        goto fail;
    t->next = p->tasks;
    p->tasks = t;
    if (!all_started(t)) {
        t->starting = 1; /* the rest when their dependencies hold: proc_poll() */
        log_info("runtime: task %s waits for its containers' dependencies", key);
        return SL_EAGAIN;
    }
    json_decref(t->td);
    t->td = NULL;
    show_task(p, t, task);
    log_info("runtime: started task %s (process group %d)", key, (int)t->pgid);
    return SL_OK;
fail:
    kill_started(t);
    show_not_started(task);
    task_free(p, t);
    log_warn("runtime: task %s failed to start: %s", key, reason);
    return SL_ERR;
}

static int proc_adopt(struct runtime *rt, const char *key, json_t *task, json_t *td)
{
    struct rt_process *p = (struct rt_process *)rt;
    struct rt_task *t;
    json_t *jc, *b;
    uint64_t now = util_mono_ms();
    size_t i, j;
    int dead_essential = 0;

    if ((t = find(p, key)) != NULL)
        return RT_RUNNING;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return RT_STOPPED;
    snprintf(t->key, sizeof(t->key), "%s", key);
    if (p->cg.version &&
        task_cgroup_path(t->cgroup, sizeof(t->cgroup), p->owner,
                         strrchr(key, '/') ? strrchr(key, '/') + 1 : key) != SL_OK)
        t->cgroup[0] = '\0';
    t->pgid = (pid_t)json_integer_value(json_object_get(task, "_pgid"));
    t->stop_ms = td ? stop_timeout_ms(td) : RT_DEFAULT_STOP_MS;
    json_array_foreach(json_object_get(task, "containers"), i, jc) {
        struct rt_ctr *c;
        int alive = 0;
        unsigned long long st;

        if (t->n >= RT_MAX_CONTAINERS)
            break;
        c = &t->c[t->n++];
        snprintf(c->name, sizeof(c->name), "%s", json_string_value(json_object_get(jc, "name")));
        c->pid = (pid_t)json_integer_value(json_object_get(jc, "_pid"));
        c->start = (unsigned long long)json_integer_value(json_object_get(jc, "_start"));
        c->started = 1; /* a RUNNING task's containers all started */
        c->code = -1;
        c->essential = td ? json_is_true(json_object_get(container_def(td, c->name), "essential"))
                          : 1;
        st = c->pid > 0 ? proc_start(c->pid, &alive) : 0;
        if (c->pid <= 0 || !alive || st != c->start ||
            strcmp(json_string_value(json_object_get(jc, "lastStatus")) ?: "", "STOPPED") == 0) {
            c->exited = 1;
            if (strcmp(json_string_value(json_object_get(jc, "lastStatus")) ?: "", "STOPPED") !=
                0) {
                json_object_set_new(jc, "lastStatus", json_string("STOPPED"));
                json_object_set_new(jc, "reason",
                                    json_string("Process exited while sluiced was not running"));
            }
            if (c->essential)
                dead_essential = 1;
            continue;
        }
        if (td) {
            json_t *cd = container_def(td, c->name), *lg = json_object_get(jc, "logs");
            char why[512];
            /* Its health check runs with the container's environment. */
            c->envp = rp_container_env(cd, container_override(task, c->name),
                                    json_object_get(jc, "networkBindings"), why, sizeof(why));
            if (c->envp == NULL) {
                log_warn("runtime: task %s container %s: its health check runs without its "
                         "environment: %s",
                         key, c->name, why);
                c->envp = calloc(1, sizeof(char *));
            }
            snprintf(c->cwd, sizeof(c->cwd), "%s",
                     json_string_value(json_object_get(lg, "workingDirectory")) ?: "/");
            {
                char cg[TASK_CGROUP_PATH_MAX + 16] = "";
                if (t->cgroup[0])
                    snprintf(cg, sizeof(cg), "%s/c%d", t->cgroup, t->n - 1);
                if (rp_shim_opts(p, cg, cd, &c->opts, why, sizeof(why)) != SL_OK)
                    log_warn("runtime: task %s container %s: its health check runs as "
                             "sluiced does: %s",
                             key, c->name, why);
            }
            rp_hc_setup(c, cd, now);
            /* Keep the last known health until the next check says otherwise. */
            if (json_is_string(json_object_get(jc, "healthStatus")) && c->hc_argv)
                c->hc_status = strcmp(json_string_value(json_object_get(jc, "healthStatus")),
                                      "HEALTHY") == 0
                                   ? "HEALTHY"
                                   : "UNKNOWN";
        } else {
            c->hc_status = "UNKNOWN";
        }
        json_array_foreach(json_object_get(jc, "networkBindings"), j, b) {
            long hp = (long)json_integer_value(json_object_get(b, "hostPort"));
            if (hp > 0 && hp < 65536 && t->nports < RT_MAX_PORTS) {
                p->held[hp] = 1;
                t->ports[t->nports++] = (int)hp;
            }
        }
    }
    t->next = p->tasks;
    p->tasks = t;
    if (dead_essential) {
        /* Whatever is left of it goes too: the task is over. */
        if (t->pgid > 0)
            kill(-t->pgid, SIGTERM);
        t->stopping = 1;
        t->kill_at = now + (uint64_t)t->stop_ms;
        log_info("runtime: task %s is gone (essential process not running)", key);
        return RT_STOPPED;
    }
    log_info("runtime: adopted task %s (process group %d)", key, (int)t->pgid);
    return RT_RUNNING;
}

/* The kernel's OOM killer has killed a process of the <i>th container of
 * <t> (in its cgroup or, past the task's memory, the task's). */
static int oom_killed(struct rt_process *p, struct rt_task *t, int i)
{
    char cg[TASK_CGROUP_PATH_MAX + 16];

    if (t->cgroup[0] == '\0')
        return 0;
    snprintf(cg, sizeof(cg), "%s/c%d", t->cgroup, i);
    return task_cgroup_oom_kills(&p->cg, cg) > 0;
}

/* Reap container <i> of <t> if its process exited; 1 if it has. */
static int reap(struct rt_process *p, struct rt_task *t, int i)
{
    struct rt_ctr *c = &t->c[i];
    int st, alive;

    if (c->exited || !c->started)
        return c->exited;
    if (c->child) {
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            c->exited = 1;
            c->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            c->oom = c->code == 128 + SIGKILL && oom_killed(p, t, i);
        } else if (r < 0 && errno == ECHILD) {
            c->exited = 1;
        }
    } else if (proc_start(c->pid, &alive) != c->start || !alive) {
        c->exited = 1;
    }
    return c->exited;
}

/* A task whose containers wait on dependsOn: start those whose
 * dependencies now hold; RT_RUNNING (<task> shown) once all have started,
 * RT_STOPPED with stoppedReason when one never can or an essential one
 * exited first, else RT_STARTING. */
static int poll_starting(struct rt_process *p, struct rt_task *t, json_t *task, int *changed)
{
    uint64_t now = util_mono_ms();
    char reason[512] = "";
    int i, running = 0;

    for (i = 0; i < t->n; i++) {
        struct rt_ctr *c = &t->c[i];
        if (!c->started || c->exited)
            continue;
        if (reap(p, t, i)) {
            log_info("runtime: task %s container %s exited (%d)", t->key, c->name, c->code);
            if (c->essential && !reason[0])
                snprintf(reason, sizeof(reason), "CannotStartContainerError: essential "
                         "container %.100s exited (%d) before the task started", c->name,
                         c->code);
            continue;
        }
        running++;
        rp_hc_step(p->self_exe, c, now);
    }
    if (t->stopping) /* StopTask: nothing more starts */
        return running ? RT_STARTING : RT_STOPPED;
    if (!reason[0] && start_ready(p, t, task, now, reason, sizeof(reason)) == SL_OK &&
        !all_started(t))
        return RT_STARTING;
    if (reason[0]) {
        log_warn("runtime: task %s failed to start: %s", t->key, reason);
        kill_started(t);
        show_not_started(task);
        json_object_set_new(task, "stoppedReason", json_string(reason));
        *changed = 1;
        return RT_STOPPED;
    }
    t->starting = 0;
    json_decref(t->td);
    t->td = NULL;
    show_task(p, t, task);
    *changed = 1;
    log_info("runtime: started task %s (process group %d)", t->key, (int)t->pgid);
    return RT_RUNNING;
}

static int proc_poll(struct runtime *rt, const char *key, json_t *task, int *changed)
{
    struct rt_process *p = (struct rt_process *)rt;
    struct rt_task *t = find(p, key);
    json_t *containers = json_object_get(task, "containers"), *jc;
    uint64_t now = util_mono_ms();
    int i, running = 0;
    size_t k;

    *changed = 0;
    if (t == NULL)
        return RT_GONE;
    if (t->starting)
        return poll_starting(p, t, task, changed);
    for (i = 0; i < t->n; i++) {
        struct rt_ctr *c = &t->c[i];
        const char *before = c->hc_status;

        if (c->exited) /* shown already, or when the task started (show_task()) */
            continue;
        if (!reap(p, t, i)) {
            if (!t->stopping)
                rp_hc_step(p->self_exe, c, now);
            if (before != c->hc_status) {
                *changed = 1;
                json_array_foreach(containers, k, jc)
                    if (strcmp(json_string_value(json_object_get(jc, "name")), c->name) == 0)
                        json_object_set_new(jc, "healthStatus", json_string(c->hc_status));
                log_info("runtime: task %s container %s is %s", key, c->name, c->hc_status);
            }
            running++;
            continue;
        }
        *changed = 1;
        json_array_foreach(containers, k, jc)
            if (strcmp(json_string_value(json_object_get(jc, "name")), c->name) == 0) {
                json_object_set_new(jc, "lastStatus", json_string("STOPPED"));
                if (c->code >= 0)
                    json_object_set_new(jc, "exitCode", json_integer(c->code));
                else
                    json_object_set_new(jc, "reason",
                                        json_string("Process exited; exit code unknown "
                                                    "(adopted after a sluiced restart)"));
                if (c->oom)
                    json_object_set_new(jc, "reason", json_string("OutOfMemoryError: Container "
                                                                  "killed due to memory usage"));
            }
        log_info("runtime: task %s container %s exited (%d)", key, c->name, c->code);
        if (c->essential && !t->stopping) {
            const char *ds = json_string_value(json_object_get(task, "desiredStatus"));
            if (ds && strcmp(ds, "RUNNING") == 0 && !json_object_get(task, "stopCode")) {
                json_object_set_new(task, "stopCode", json_string("EssentialContainerExited"));
                json_object_set_new(task, "stoppedReason",
                                    json_string("Essential container in task exited"));
            }
            t->stopping = 1;
            t->kill_at = now + (uint64_t)t->stop_ms;
            if (t->pgid > 0)
                kill(-t->pgid, SIGTERM);
        }
    }
    if (*changed)
        set_task_health(t, task);
    if (running == 0)
        return RT_STOPPED;
    if (t->stopping && !t->killed && now >= t->kill_at) {
        log_warn("runtime: task %s did not stop within %ld ms: SIGKILL", key, t->stop_ms);
        if (t->pgid > 0)
            kill(-t->pgid, SIGKILL);
        for (i = 0; i < t->n; i++)
            if (!t->c[i].exited && !t->c[i].child)
                kill(t->c[i].pid, SIGKILL);
        t->killed = 1;
    }
    return RT_RUNNING;
}

static int proc_stop(struct runtime *rt, const char *key)
{
    struct rt_process *p = (struct rt_process *)rt;
    struct rt_task *t = find(p, key);
    int i;

    if (t == NULL)
        return SL_ENOTFOUND;
    if (t->stopping)
        return SL_OK;
    t->stopping = 1;
    t->kill_at = util_mono_ms() + (uint64_t)t->stop_ms;
    if (t->pgid > 0)
        kill(-t->pgid, SIGTERM);
    for (i = 0; i < t->n; i++)
        if (!t->c[i].exited && t->c[i].pid > 0 && getpgid(t->c[i].pid) != t->pgid)
            kill(t->c[i].pid, SIGTERM);
    log_info("runtime: stopping task %s (SIGTERM, SIGKILL in %ld ms)", key, t->stop_ms);
    return SL_OK;
}

static void proc_forget(struct runtime *rt, const char *key, int kill_now)
{
    struct rt_process *p = (struct rt_process *)rt;
    struct rt_task *t = find(p, key);
    int i;

    if (t == NULL)
        return;
    if (kill_now) {
        if (t->pgid > 0)
            kill(-t->pgid, SIGKILL);
        for (i = 0; i < t->n; i++)
            if (!t->c[i].exited && t->c[i].child)
                waitpid(t->c[i].pid, NULL, 0);
    }
    unlink_task(p, t);
    task_free(p, t);
}

static int proc_known(struct runtime *rt, const char *key)
{
    return find((struct rt_process *)rt, key) != NULL;
}

static void proc_free(struct runtime *rt)
{
    struct rt_process *p = (struct rt_process *)rt;
    struct rt_task *t, *next;

    for (t = p->tasks; t; t = next) {
        next = t->next;
        task_free(p, t);
    }
    free(p);
}

static const struct runtime_ops process_ops = {
    "process", proc_start_task, proc_adopt, proc_poll, proc_stop, proc_forget, proc_known,
    proc_free,
};

/* The shim (sluiced itself), whether tasks get cgroups here (see the
 * caveats) and the owner they need; the empty cgroups an earlier sluiced
 * left are removed. */
static void probe_cgroups(struct rt_process *p)
{
    struct task_cgroup_engine host = {"cgroupfs", NULL, geteuid() != 0, 1};
    struct sl_err err = {0};
    ssize_t n = readlink("/proc/self/exe", p->self_exe, sizeof(p->self_exe) - 1);

    p->self_exe[n > 0 && (size_t)n < sizeof(p->self_exe) - 1 ? n : 0] = '\0';
    task_cgroup_probe(&p->cg, &host, NULL);
    if (p->cg.version && task_dir_owner(p->tasks_dir, p->owner, &err) != SL_OK) {
        snprintf(p->cg.why, sizeof(p->cg.why), "%.200s", err.message);
        p->cg.version = 0;
    }
    if (p->cg.version && p->self_exe[0] == '\0') {
        snprintf(p->cg.why, sizeof(p->cg.why), "cannot read /proc/self/exe");
        p->cg.version = 0;
    }
    if (p->cg.version == 0) {
        log_warn("runtime: tasks' cpu and memory are reserved, not enforced: %s", p->cg.why);
        return;
    }
    task_cgroup_sweep(&p->cg, p->owner);
    log_info("runtime: each task runs in a cgroup of its own (cgroup v%d), bounded by its cpu "
             "and memory",
             p->cg.version);
}

int runtime_process_new(const struct runtime_config *cfg, struct runtime **out)
{
    struct rt_process *p = calloc(1, sizeof(*p));
    char hex[9];

    if (p == NULL)
        return SL_ENOMEM;
    p->base.ops = &process_ops;
    snprintf(p->tasks_dir, sizeof(p->tasks_dir), "%s", cfg->tasks_dir);
    p->lo = cfg->port_lo;
    p->hi = cfg->port_hi;
    /* Start somewhere random in the range so a restarted sluiced does not
     * retry the ports its predecessor just handed out. */
    util_random_hex(hex, 4);
    p->cursor = (int)(strtoul(hex, NULL, 16) % (unsigned long)(p->hi - p->lo + 1));
    probe_cgroups(p);
    *out = &p->base;
    return SL_OK;
}
