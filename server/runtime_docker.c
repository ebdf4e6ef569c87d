/*
 * runtime_docker.c - the docker runtime's face to the scheduler (see
 * runtime_docker.h): the runtime.h operations over in-memory task state
 * that workers and the event reader keep current.  Nothing here waits for
 * the engine; each call takes the mutex for microseconds.
 */
#define _GNU_SOURCE /* strcasestr, pipe2 */
#include "server/runtime_docker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server/task_dir.h"
#include "server/task_metadata.h"

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static struct dk_task *find(struct dk_rt *r, const char *key)
{
    struct dk_task *t;

    for (t = r->tasks; t; t = t->next)
        if (strcmp(t->key, key) == 0)
            return t;
    return NULL;
}

static struct dk_ctr *ctr_named(struct dk_task *t, const char *name)
{
    int i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->c[i].name, name) == 0)
            return &t->c[i];
    return NULL;
}

/* ---- the task as stored ---- */

static json_t *bindings(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c)
{
    json_t *a = json_array();
    int host = strcmp(t->net_mode, "host") == 0, i;

    if (!c->start_sent)
        return a;
    for (i = 0; i < c->nports; i++)
        if (c->ports[i].hport > 0)
            json_array_append_new(
                a, json_pack("{ss sI sI ss}", "bindIP", host ? "0.0.0.0" : r->host_addr,
                             "containerPort", (json_int_t)c->ports[i].cport, "hostPort",
                             (json_int_t)c->ports[i].hport, "protocol", c->ports[i].proto));
    return a;
}

static void write_container(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c, json_t *jc)
{
    char po[2200], pe[2200];
    const char *ls = c->st == DC_RUNNING   ? "RUNNING"
                     : c->st == DC_EXITED  ? "STOPPED"
                     : t->phase == DP_FAILED ? "STOPPED"
                                           : "PENDING";

    json_object_set_new(jc, "lastStatus", json_string(ls));
    if (c->id[0])
        json_object_set_new(jc, "runtimeId", json_string(c->id));
    json_object_set_new(jc, "networkBindings", bindings(r, t, c));
    if (c->st == DC_EXITED && c->exit_code >= 0)
        json_object_set_new(jc, "exitCode", json_integer(c->exit_code));
    if (c->reason[0])
        json_object_set_new(jc, "reason", json_string(c->reason));
    json_object_set_new(jc, "healthStatus", json_string(c->has_hc ? c->health : "UNKNOWN"));
    if (c->image_id[0])
        json_object_set_new(jc, "imageDigest", json_string(c->image_id));
    if (strcmp(t->net_mode, "awsvpc") == 0 && c->ip[0])
        json_object_set_new(jc, "networkInterfaces",
                            json_pack("[{ss ss}]", "attachmentId", t->tid, "privateIpv4Address",
                                      c->ip));
    snprintf(po, sizeof(po), "%s/%s/%s/stdout.log", r->tasks_dir, t->tid, c->name);
    snprintf(pe, sizeof(pe), "%s/%s/%s/stderr.log", r->tasks_dir, t->tid, c->name);
    json_object_set_new(jc, "logs", json_pack("{ss ss}", "stdout", po, "stderr", pe));
}

static void write_task(struct dk_rt *r, struct dk_task *t, json_t *task)
{
    json_t *jc;
    size_t i;
    int any = 0, healthy = 1, sick = 0, k;

    json_array_foreach(json_object_get(task, "containers"), i, jc) {
        struct dk_ctr *c = ctr_named(t, str(jc, "name"));
        if (c)
            write_container(r, t, c, jc);
    }
    for (k = 0; k < t->n; k++) {
        if (!t->c[k].has_hc || !t->c[k].essential)
            continue;
        any = 1;
        sick |= strcmp(t->c[k].health, "UNHEALTHY") == 0;
        healthy &= strcmp(t->c[k].health, "HEALTHY") == 0;
    }
    json_object_set_new(task, "healthStatus",
                        json_string(sick ? "UNHEALTHY" : any && healthy ? "HEALTHY" : "UNKNOWN"));
    if (t->pull_started > 0) {
        json_object_set_new(task, "pullStartedAt", json_real(t->pull_started));
        json_object_set_new(task, "pullStoppedAt", json_real(t->pull_stopped));
    }
    if (t->phase == DP_FAILED && !json_object_get(task, "stopCode")) {
        json_object_set_new(task, "stopCode", json_string("TaskFailedToStart"));
        json_object_set_new(task, "stoppedReason", json_string(t->reason));
    }
}

/* ---- operations ---- */

static int dk_start(struct runtime *rt, const char *key, json_t *task, json_t *td, char *reason,
                    size_t rlen)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    struct dk_plan_cfg pc = {r->host_addr, r->meta_base, r->owner, 0, r->cg.version != 0};
    struct dk_task *t;
    json_t *jc;
    size_t i;

    pthread_mutex_lock(&r->mu);
    t = find(r, key);
    pthread_mutex_unlock(&r->mu);
    if (t)
        return SL_EAGAIN;
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        snprintf(reason, rlen, "ResourceInitializationError: out of memory");
        return SL_ERR;
    }
    snprintf(t->key, sizeof(t->key), "%s", key);
    if (dk_plan(&pc, task, td, t, reason, rlen) != SL_OK) {
        free(t);
        json_array_foreach(json_object_get(task, "containers"), i, jc)
            json_object_set_new(jc, "lastStatus", json_string("STOPPED"));
        log_warn("runtime: task %s cannot start: %s", key, reason);
        return SL_ERR;
    }
    json_array_foreach(json_object_get(task, "containers"), i, jc)
        json_object_set_new(jc, "lastStatus", json_string("PENDING"));
    pthread_mutex_lock(&r->mu);
    t->refs = 1; /* r->tasks' */
    t->next = r->tasks;
    r->tasks = t;
    dk_want(r, t, W_START);
    pthread_mutex_unlock(&r->mu);
    return SL_EAGAIN;
}

/* Containers of <t> from the start-up inventory; mu held. */
static void claim_seen(struct dk_rt *r, struct dk_task *t)
{
    struct dk_seen **pp, *s;
    int i;

    for (i = 0; i < t->n; i++) {
        struct dk_ctr *c = &t->c[i];
        c->start_sent = 1;
        c->st = DC_EXITED;
        snprintf(c->reason, sizeof(c->reason), "Container gone while sluiced was not running");
        for (pp = &r->seen; (s = *pp) != NULL; pp = &s->next)
            if (strcmp(s->key, t->key) == 0 && strcmp(s->name, c->name) == 0)
                break;
        if (s == NULL)
            continue;
        *pp = s->next;
        c->reason[0] = '\0';
        c->st = DC_CREATED;
        snprintf(c->id, sizeof(c->id), "%s", s->id);
        if (s->meta_id[0])
            snprintf(c->meta_id, sizeof(c->meta_id), "%s", s->meta_id);
        dk_apply_inspect(c, s->inspect);
        if (c->st == DC_CREATED) { /* created, never started: it never will be */
            c->st = DC_EXITED;
            snprintf(c->reason, sizeof(c->reason), "Container was never started");
        }
        if (r->meta)
            task_metadata_put(r->meta, c->meta_id, t->key, c->name, dk_facts(t, c, s->inspect));
        json_decref(s->inspect);
        free(s);
    }
}

static int dk_adopt(struct runtime *rt, const char *key, json_t *task, json_t *td)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    struct dk_plan_cfg pc = {r->host_addr, r->meta_base, r->owner, 1, r->cg.version != 0};
    struct dk_task *t;
    char why[512];
    int i, j, alive = 1;

    pthread_mutex_lock(&r->mu);
    t = find(r, key);
    pthread_mutex_unlock(&r->mu);
    if (t)
        return RT_RUNNING;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return RT_STOPPED;
    snprintf(t->key, sizeof(t->key), "%s", key);
    if (td == NULL || dk_plan(&pc, task, td, t, why, sizeof(why)) != SL_OK) {
        json_t *jc;
        size_t k;
        memset(t, 0, sizeof(*t)); /* the bare containers, every one essential */
        snprintf(t->key, sizeof(t->key), "%s", key);
        snprintf(t->tid, sizeof(t->tid), "%s", strrchr(key, '/') ? strrchr(key, '/') + 1 : key);
        snprintf(t->net_mode, sizeof(t->net_mode), "bridge");
        json_array_foreach(json_object_get(task, "containers"), k, jc)
            if (t->n < DK_MAX_CONTAINERS) {
                snprintf(t->c[t->n].name, sizeof(t->c[0].name), "%s", str(jc, "name"));
                t->c[t->n].essential = 1;
                t->c[t->n].stop_ms = DK_DEFAULT_STOP_MS;
                t->c[t->n].exit_code = -1;
                t->c[t->n].health = "UNKNOWN";
                t->n++;
            }
    }
    pthread_mutex_lock(&r->mu);
    claim_seen(r, t);
    t->phase = DP_RUNNING;
    t->created_ms = util_mono_ms();
    for (i = 0; i < t->n; i++) {
        for (j = 0; j < t->c[i].nports; j++)
            dk_port_hold(r, t->c[i].ports[j].hport, 1);
        if (t->c[i].essential && t->c[i].st != DC_RUNNING)
            alive = 0;
    }
    t->gen = 1;
    t->refs = 1;
    t->next = r->tasks;
    r->tasks = t;
    write_task(r, t, task);
    t->synced = t->gen;
    pthread_mutex_unlock(&r->mu);
    log_info("runtime: %s task %s (%d containers)", alive ? "adopted" : "found dead", key, t->n);
    return alive ? RT_RUNNING : RT_STOPPED;
}

/* Due timers: dependsOn's startTimeout, stopTimeout's SIGKILL.  mu held. */
static void timers(struct dk_rt *r, struct dk_task *t)
{
    uint64_t now = util_mono_ms();
    int i, waiting = 0;

    for (i = 0; i < t->n; i++) {
        struct dk_ctr *c = &t->c[i];
        if (t->phase == DP_STARTING && t->created_ms && !c->start_sent && c->ndeps &&
            now > t->created_ms + (uint64_t)c->start_ms)
            waiting = 1;
        if (c->st == DC_RUNNING && c->signalled && !c->killed && now >= c->kill_at)
            dk_want(r, t, W_KILL);
    }
    if (waiting)
        dk_want(r, t, W_ADVANCE);
}

static int dk_poll(struct runtime *rt, const char *key, json_t *task, int *changed)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    struct dk_task *t;
    int i, running = 0, rc;

    *changed = 0;
    pthread_mutex_lock(&r->mu);
    if ((t = find(r, key)) == NULL) {
        pthread_mutex_unlock(&r->mu);
        return RT_GONE;
    }
    timers(r, t);
    for (i = 0; i < t->n; i++) {
        if (t->c[i].st == DC_EXITED && t->c[i].essential && t->phase == DP_RUNNING)
            t->essential_exited = 1;
        running += t->c[i].st != DC_EXITED && t->c[i].id[0];
    }
    if (t->essential_exited && !t->stop_asked) {
        if (strcmp(str(task, "desiredStatus"), "RUNNING") == 0 &&
            !json_object_get(task, "stopCode")) {
            json_object_set_new(task, "stopCode", json_string("EssentialContainerExited"));
            json_object_set_new(task, "stoppedReason",
                                json_string("Essential container in task exited"));
            *changed = 1;
        }
        t->stop_asked = 1;
        dk_want(r, t, W_STOP);
    }
    if (t->gen != t->synced) {
        write_task(r, t, task);
        t->synced = t->gen;
        *changed = 1;
    }
    if (t->phase == DP_STARTING)
        rc = RT_STARTING;
    else if (t->phase == DP_FAILED || running == 0)
        rc = RT_STOPPED;
    else
        rc = RT_RUNNING;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int dk_stop(struct runtime *rt, const char *key)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    struct dk_task *t;

    pthread_mutex_lock(&r->mu);
    if ((t = find(r, key)) == NULL) {
        pthread_mutex_unlock(&r->mu);
        return SL_ENOTFOUND;
    }
    if (!t->stop_asked) {
        t->stop_asked = 1;
        if (t->phase == DP_STARTING) {
            t->phase = DP_FAILED;
            snprintf(t->reason, sizeof(t->reason), "Task stopped before its containers started");
            t->gen++;
        }
        dk_want(r, t, W_STOP);
    }
    pthread_mutex_unlock(&r->mu);
    return SL_OK;
}

static void dk_forget(struct runtime *rt, const char *key, int kill_now)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    struct dk_task **pp, *t;
    int i, j;

    (void)kill_now; /* removal kills whatever still runs */
    pthread_mutex_lock(&r->mu);
    for (pp = &r->tasks; (t = *pp) != NULL; pp = &t->next)
        if (strcmp(t->key, key) == 0)
            break;
    if (t == NULL) {
        pthread_mutex_unlock(&r->mu);
        return;
    }
    *pp = t->next;
    if (t->phase == DP_RUNNING)
        for (i = 0; i < t->n; i++)
            for (j = 0; j < t->c[i].nports; j++)
                dk_port_hold(r, t->c[i].ports[j].hport, 0);
    t->forgotten = 1;
    t->next = r->draining; /* the list's reference moves with it */
    r->draining = t;
    dk_want(r, t, W_REMOVE);
    pthread_mutex_unlock(&r->mu);
}

static int dk_known(struct runtime *rt, const char *key)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    int k;

    pthread_mutex_lock(&r->mu);
    k = find(r, key) != NULL;
    pthread_mutex_unlock(&r->mu);
    return k;
}

static void free_list(struct dk_task *t)
{
    struct dk_task *next;

    for (; t; t = next) {
        next = t->next;
        dk_plan_free(t);
        free(t);
    }
}

static void dk_free(struct runtime *rt)
{
    struct dk_rt *r = (struct dk_rt *)rt;
    struct dk_seen *s, *sn;
    int i;
    ssize_t w;

    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    w = write(r->wake[1], "x", 1); /* ends engine calls in flight and the event reader */
    (void)w;
    for (i = 0; i < r->nworkers; i++)
        pthread_join(r->workers[i], NULL);
    if (r->events_started)
        pthread_join(r->events, NULL);
    /* Queued tasks are on one of the lists as well; each is freed once. */
    free_list(r->tasks);
    free_list(r->draining);
    while (r->cg_pending) {
        struct dk_cg_pending *next = r->cg_pending->next;
        free(r->cg_pending);
        r->cg_pending = next;
    }
    for (s = r->seen; s; s = sn) {
        sn = s->next;
        json_decref(s->inspect);
        free(s);
    }
    task_metadata_stop(r->meta);
    docker_free(r->eng);
    close(r->wake[0]);
    close(r->wake[1]);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

static const struct runtime_ops docker_ops = {
    "docker", dk_start, dk_adopt, dk_poll, dk_stop, dk_forget, dk_known, dk_free,
};

/* ---- construction ---- */

int runtime_docker_probe(const char *host, char *desc, size_t dcap, char *why, size_t wcap)
{
    struct docker *d = NULL;
    struct sl_err err = {0};
    json_t *v = NULL;
    int status = 0, ok = 0;

    if (docker_new(host, &d, &err) != SL_OK) {
        snprintf(why, wcap, "%s", err.message);
        return 0;
    }
    if (docker_json(d, "GET", "/version", NULL, 2000, &status, &v, &err) != SL_OK) {
        snprintf(why, wcap, "%s", err.message);
    } else if (status != 200) {
        snprintf(why, wcap, "GET /version answered %d", status);
    } else {
        json_t *c, *comps = json_object_get(v, "Components");
        const char *name = "Docker Engine";
        size_t i;
        json_array_foreach(comps, i, c)
            if (strcasestr(str(c, "Name"), "podman"))
                name = "Podman";
        snprintf(desc, dcap, "%s %s, API %s", name, str(v, "Version"), str(v, "ApiVersion"));
        ok = 1;
    }
    json_decref(v);
    docker_free(d);
    return ok;
}

/* The bridge network's gateway: the host's address on the containers' side. */
static int bridge_gateway(struct dk_rt *r, char *out, size_t cap, struct sl_err *err)
{
    static const char *const nets[] = {"/networks/bridge", "/networks/podman"};
    size_t i;

    for (i = 0; i < 2; i++) {
        json_t *v = NULL;
        int status = 0;
        const char *gw;
        if (dk_call(r, "GET", nets[i], NULL, 5000, &status, &v, err) != SL_OK)
            return SL_ERR;
        gw = str(json_array_get(json_object_get(json_object_get(v, "IPAM"), "Config"), 0),
                 "Gateway");
        if (status == 200 && gw[0]) {
            snprintf(out, cap, "%s", gw);
            json_decref(v);
            return SL_OK;
        }
        json_decref(v);
    }
    return sl_err_set(err, 500, "EngineError",
                      "the engine has no bridge network with a gateway for the task metadata "
                      "endpoint (set --task-metadata-address)");
}

static int start_metadata(struct dk_rt *r, struct sl_err *err)
{
    char addr[128] = "", port_s[16];
    const char *ma = r->cfg.metadata_addr;
    int port = 0;

    if (ma && ma[0]) {
        if (util_parse_hostport(ma, addr, sizeof(addr), &port) != 0) {
            snprintf(addr, sizeof(addr), "%s", ma);
            port = 0;
        }
    } else if (bridge_gateway(r, addr, sizeof(addr), err) != SL_OK) {
        return SL_ERR;
    }
    if (port == 0) { /* the last one: adopted containers keep their URL */
        task_dir_read(r->tasks_dir, "metadata-port", port_s, sizeof(port_s));
        port = atoi(port_s);
    }
    if (task_metadata_start(r->cfg.store, addr, port, &r->meta, err) != SL_OK) {
        if (port == 0 || task_metadata_start(r->cfg.store, addr, 0, &r->meta, err) != SL_OK)
            return SL_ERR;
        log_warn("runtime: task metadata port %d is taken: containers adopted from the last "
                 "run lose their metadata endpoint",
                 port);
    }
    snprintf(port_s, sizeof(port_s), "%d", task_metadata_port(r->meta));
    task_dir_write(r->tasks_dir, "metadata-port", port_s);
    snprintf(r->meta_base, sizeof(r->meta_base), "%s", task_metadata_base(r->meta));
    return SL_OK;
}

/* Whether this engine can put a task's containers in a task cgroup
 * (task_cgroup.h): a local, rootful engine with the cgroupfs driver. */
static void probe_cgroups(struct dk_rt *r)
{
    struct task_cgroup_engine e = {0};
    struct sl_err err = {0};
    json_t *info = NULL, *o;
    int status = 0;
    size_t i;

    if (dk_call(r, "GET", "/info", NULL, 10000, &status, &info, &err) != SL_OK || status != 200)
        log_warn("runtime: GET /info: %s", err.message[0] ? err.message : "refused");
    e.driver = str(info, "CgroupDriver");
    e.version = str(info, "CgroupVersion");
    json_array_foreach(json_object_get(info, "SecurityOptions"), i, o)
        if (strstr(json_string_value(o) ? json_string_value(o) : "", "name=rootless"))
            e.rootless = 1;
    e.local = strncmp(r->cfg.docker_host, "unix://", 7) == 0 || r->cfg.docker_host[0] == '/';
    task_cgroup_probe(&r->cg, &e, NULL);
    json_decref(info);
    if (r->cg.version)
        log_info("runtime: a task of several containers runs in a cgroup of its own (cgroup v%d), "
                 "bounded by the task's cpu and memory",
                 r->cg.version);
    else
        log_warn("runtime: the task-level cpu and memory of a task of several containers are "
                 "reserved, not enforced: %s",
                 r->cg.why);
}

static int start_threads(struct dk_rt *r, struct sl_err *err)
{
    struct dk_task *t;
    int i;

    for (i = 0; i < DK_WORKERS; i++) {
        if (pthread_create(&r->workers[i], NULL, dk_worker_main, r) != 0)
            return sl_err_set(err, 500, "InternalFailure", "cannot start runtime workers");
        r->nworkers++;
    }
    if (pthread_create(&r->events, NULL, dk_events_main, r) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot start the event reader");
    r->events_started = 1;
    pthread_mutex_lock(&r->mu);
    for (t = r->draining; t; t = t->next)
        dk_want(r, t, W_REMOVE); /* containers of tasks that are over */
    pthread_mutex_unlock(&r->mu);
    return SL_OK;
}

int runtime_docker_new(const struct runtime_docker_config *cfg, struct runtime **out,
                       struct sl_err *err)
{
    struct dk_rt *r = calloc(1, sizeof(*r));
    char desc[160], why[512];

    if (r == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    r->base.ops = &docker_ops;
    r->cfg = *cfg;
    r->wake[0] = r->wake[1] = -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    snprintf(r->tasks_dir, sizeof(r->tasks_dir), "%s", cfg->base.tasks_dir);
    snprintf(r->host_addr, sizeof(r->host_addr), "%s",
             cfg->host_addr && cfg->host_addr[0] ? cfg->host_addr : "127.0.0.1");
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
        docker_new(cfg->docker_host, &r->eng, err) != SL_OK)
        goto fail;
    if (!runtime_docker_probe(cfg->docker_host, desc, sizeof(desc), why, sizeof(why))) {
        sl_err_set(err, 500, "EngineUnreachable", "docker runtime: no engine at %s: %s",
                   cfg->docker_host, why);
        goto fail;
    }
    snprintf(r->engine_desc, sizeof(r->engine_desc), "%s", desc);
    if (task_dir_owner(r->tasks_dir, r->owner, err) != SL_OK)
        goto fail;
    probe_cgroups(r);
    if (start_metadata(r, err) != SL_OK || dk_inventory(r, err) != SL_OK)
        goto fail;
    if (r->cg.version)
        task_cgroup_sweep(&r->cg, r->owner); /* after the inventory removed the orphans */
    if (start_threads(r, err) != SL_OK)
        goto fail;
    log_info("runtime: docker (%s at %s): ports on %s, task metadata at %s", r->engine_desc,
             cfg->docker_host, r->host_addr, r->meta_base);
    *out = &r->base;
    return SL_OK;
fail:
    if (r->wake[0] < 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
    } else {
        dk_free(&r->base);
    }
    return SL_ERR;
}
