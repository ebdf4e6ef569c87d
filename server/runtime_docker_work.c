/*
 * runtime_docker_work.c - the docker runtime's worker threads: they pull
 * images, make volumes, create, start, signal and remove containers, and
 * keep a stopped container's logs (the event reader and the start-up
 * inventory are in runtime_docker_events.c).
 *
 * A task with work is queued once (struct dk_task want/queued/busy); one
 * worker drives it at a time, so its engine calls never race each other,
 * while other tasks' calls run on the other workers in parallel (ten
 * containers start in about 2 s instead of 4-5 s one after another).
 */
#include "server/runtime_docker_int.h"
#include "server/task_dir.h"
#include "server/task_env.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/util.h"
#include "server/task_metadata.h"

#define CALL_MS 30000
#define CG_RETRY_MS 60000    /* how long a removed task's cgroup removal is retried */
#define CG_RETRY_STEP_MS 200
#define PULL_MS 300000

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double wall_s(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* X-Registry-Auth for <param>: a file or env value holding ECS's private
 * registry secret, {"username": ..., "password": ...}. */
static int registry_auth(const char *param, const char *registry, char *hdr, size_t cap,
                         char *reason, size_t rlen)
{
    char *v = NULL, *text;
    json_t *j, *a;
    unsigned char *b64;
    size_t l, i;

    if (task_env_secret(param, &v, reason, rlen) != SL_OK)
        return SL_ERR;
    j = json_loads(v, 0, NULL);
    free(v);
    if (!json_is_string(json_object_get(j, "username")) ||
        !json_is_string(json_object_get(j, "password"))) {
        json_decref(j);
        snprintf(reason, rlen, "CannotPullContainerError: repositoryCredentials %.200s: expected "
                               "{\"username\": ..., \"password\": ...}",
                 param);
        return SL_ERR;
    }
    a = json_pack("{sO sO ss}", "username", json_object_get(j, "username"), "password",
                  json_object_get(j, "password"), "serveraddress", registry);
    json_decref(j);
    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (text == NULL)
        return SL_ERR;
    l = strlen(text);
    b64 = malloc(4 * ((l + 2) / 3) + 1);
    if (b64 == NULL || 4 * ((l + 2) / 3) + 40 > cap) {
        free(text);
        free(b64);
        snprintf(reason, rlen, "CannotPullContainerError: repositoryCredentials too long");
        return SL_ERR;
    }
    EVP_EncodeBlock(b64, (unsigned char *)text, (int)l);
    free(text);
    for (i = 0; b64[i]; i++) /* the engine decodes base64url */
        b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    snprintf(hdr, cap, "X-Registry-Auth: %s\r\n", b64);
    free(b64);
    return SL_OK;
}

/* Scans a pull's progress stream for {"error": ...} (Podman answers 200 and
 * reports failures there; Docker too once the pull has begun). */
struct pull_sink {
    struct buf line;
    char error[400];
};

static int pull_sink(void *arg, const char *data, size_t len)
{
    struct pull_sink *ps = arg;
    size_t i;

    for (i = 0; i < len; i++) {
        if (data[i] != '\n') {
            if (ps->line.len < 65536)
                buf_putc(&ps->line, data[i]);
            continue;
        }
        if (ps->line.len && ps->error[0] == '\0') {
            json_t *j = json_loadb(ps->line.data, ps->line.len, 0, NULL);
            /* {"error": ...} in a progress stream; {"message": ...} as
             * Docker's whole answer to a refused pull. */
            if (json_is_string(json_object_get(j, "error")))
                snprintf(ps->error, sizeof(ps->error), "%s", str(j, "error"));
            else if (json_is_string(json_object_get(j, "message")))
                snprintf(ps->error, sizeof(ps->error), "%s", str(j, "message"));
            json_decref(j);
        }
        ps->line.len = 0;
    }
    return 0;
}

/* Make <image> present: used as is when local, else pulled. */
static int ensure_image(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c, char *reason,
                        size_t rlen)
{
    char path[2000], repo[512], tag[160], reg[256], erepo[1200], etag[400], auth[4096] = "";
    struct sl_err err = {0};
    struct docker_req q;
    struct pull_sink ps;
    json_t *out = NULL;
    int status = 0;

    dk_url_encode(erepo, sizeof(erepo), c->image);
    snprintf(path, sizeof(path), "/images/%s/json", erepo);
    if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &out, &err) != SL_OK) {
        snprintf(reason, rlen, "CannotPullContainerError: %.400s", err.message);
        return SL_ERR;
    }
    json_decref(out);
    if (status == 200)
        return SL_OK;
    if (docker_image_ref(c->image, repo, sizeof(repo), tag, sizeof(tag), reg, sizeof(reg)) !=
        SL_OK) {
        snprintf(reason, rlen, "CannotPullContainerError: invalid image reference %.300s",
                 c->image);
        return SL_ERR;
    }
    if (c->cred_param[0] &&
        registry_auth(c->cred_param, reg, auth, sizeof(auth), reason, rlen) != SL_OK)
        return SL_ERR;
    dk_url_encode(erepo, sizeof(erepo), repo);
    dk_url_encode(etag, sizeof(etag), tag);
    snprintf(path, sizeof(path), "/images/create?fromImage=%s%s%s", erepo, tag[0] ? "&tag=" : "",
             etag);
    memset(&q, 0, sizeof(q));
    memset(&ps, 0, sizeof(ps));
    buf_init(&ps.line);
    q.method = "POST";
    q.path = path;
    q.extra = auth[0] ? auth : NULL;
    q.timeout_ms = PULL_MS;
    q.sink = pull_sink;
    q.sink_arg = &ps;
    q.cancel_fd = r->wake[0];
    if (t->pull_started == 0)
        t->pull_started = wall_s();
    log_info("runtime: task %s: pulling %s", t->key, c->image);
    if (docker_call(r->eng, &q, &status, NULL, &err) != SL_OK) {
        buf_free(&ps.line);
        snprintf(reason, rlen, "CannotPullContainerError: %.400s", err.message);
        return SL_ERR;
    }
    pull_sink(&ps, "\n", 1);
    buf_free(&ps.line);
    t->pull_stopped = wall_s();
    if (status >= 300 || ps.error[0]) {
        snprintf(reason, rlen, "CannotPullContainerError: %s",
                 ps.error[0] ? ps.error : "the engine refused the pull");
        return SL_ERR;
    }
    return SL_OK;
}

static int ensure_volumes(struct dk_rt *r, struct dk_task *t, char *reason, size_t rlen)
{
    json_t *v;
    size_t i;

    json_array_foreach(t->volumes, i, v) {
        struct sl_err err = {0};
        char path[600], ename[500];
        json_t *body, *out = NULL;
        int status = 0;

        dk_url_encode(ename, sizeof(ename), str(v, "Name"));
        if (!json_is_true(json_object_get(v, "autoprovision"))) {
            snprintf(path, sizeof(path), "/volumes/%s", ename);
            if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &out, &err) != SL_OK ||
                status != 200) {
                json_decref(out);
                snprintf(reason, rlen, "ResourceInitializationError: volume %.200s does not exist "
                                       "(autoprovision is false)",
                         str(v, "Name"));
                return SL_ERR;
            }
            json_decref(out);
            continue;
        }
        body = json_pack("{sO sO sO sO}", "Name", json_object_get(v, "Name"), "Driver",
                         json_object_get(v, "Driver"), "DriverOpts",
                         json_object_get(v, "DriverOpts"), "Labels",
                         json_object_get(v, "Labels"));
        if (!json_is_true(json_object_get(v, "shared"))) {
            json_object_set_new(json_object_get(body, "Labels"), DK_LABEL_OWNER,
                                json_string(r->owner));
            json_object_set_new(json_object_get(body, "Labels"), DK_LABEL_TASK,
                                json_string(t->key));
        }
        if (dk_call(r, "POST", "/volumes/create", body, CALL_MS, &status, &out, &err) != SL_OK ||
            status >= 300) {
            snprintf(reason, rlen, "ResourceInitializationError: volume %.200s: %.200s",
                     str(v, "Name"), err.message[0] ? err.message : docker_message(out, "refused"));
            json_decref(body);
            json_decref(out);
            return SL_ERR;
        }
        json_decref(body);
        json_decref(out);
    }
    return SL_OK;
}

static int bindable(const char *addr, int port, int udp)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_ANY);
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* A fixed host port someone else holds makes a clear reason, before the
 * engine's "driver failed programming external connectivity". */
static int check_fixed_ports(struct dk_rt *r, struct dk_task *t, char *reason, size_t rlen)
{
    int i, j, held;

    for (i = 0; i < t->n; i++)
        for (j = 0; j < t->c[i].nports; j++) {
            struct dk_port *p = &t->c[i].ports[j];
            if (p->hport <= 0)
                continue;
            pthread_mutex_lock(&r->mu);
            held = dk_port_held(r, p->hport);
            pthread_mutex_unlock(&r->mu);
            if (held || !bindable(strcmp(t->net_mode, "host") == 0 ? "0.0.0.0" : r->host_addr,
                                  p->hport, strcmp(p->proto, "udp") == 0)) {
                snprintf(reason, rlen,
                         "ResourceInitializationError: host port %d for container %.200s is "
                         "already in use",
                         p->hport, t->c[i].name);
                return SL_ERR;
            }
        }
    return SL_OK;
}

static void remove_container(struct dk_rt *r, const char *id)
{
    struct sl_err err = {0};
    char path[200];
    int status = 0;

    snprintf(path, sizeof(path), "/containers/%.80s?force=1&v=1", id);
    if (dk_call(r, "DELETE", path, NULL, CALL_MS, &status, NULL, &err) != SL_OK ||
        (status >= 300 && status != 404))
        log_warn("runtime: cannot remove container %.12s: %s", id,
                 err.message[0] ? err.message : "refused");
}

/* Containers an earlier sluiced created for <t> before it was RUNNING. */
static void remove_leftovers(struct dk_rt *r, struct dk_task *t)
{
    struct dk_seen **pp, *s;
    char ids[DK_MAX_CONTAINERS * 4][80];
    int n = 0, i;

    pthread_mutex_lock(&r->mu);
    for (pp = &r->seen; (s = *pp) != NULL;) {
        if (strcmp(s->key, t->key) == 0 && n < DK_MAX_CONTAINERS * 4) {
            snprintf(ids[n++], sizeof(ids[0]), "%s", s->id);
            *pp = s->next;
            json_decref(s->inspect);
            free(s);
        } else {
            pp = &s->next;
        }
    }
    pthread_mutex_unlock(&r->mu);
    for (i = 0; i < n; i++) {
        log_info("runtime: task %s: removing container %.12s of an interrupted start", t->key,
                 ids[i]);
        remove_container(r, ids[i]);
    }
}

static int inspect(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c, struct sl_err *err);

static int create_one(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c, char *reason,
                      size_t rlen)
{
    struct sl_err err = {0};
    char path[300];
    json_t *out = NULL;
    int status = 0, attempt;

    snprintf(path, sizeof(path), "/containers/create?name=%s", c->dname);
    for (attempt = 0; attempt < 2; attempt++) {
        if (dk_call(r, "POST", path, c->create, CALL_MS, &status, &out, &err) != SL_OK) {
            snprintf(reason, rlen, "CannotCreateContainerError: %.400s", err.message);
            return SL_ERR;
        }
        if (status != 409 || attempt > 0)
            break;
        /* The name is taken: a container of this very task left behind. */
        json_decref(out);
        out = NULL;
        remove_container(r, c->dname);
    }
    if (status != 201 || !json_is_string(json_object_get(out, "Id"))) {
        snprintf(reason, rlen, "CannotCreateContainerError: %.400s",
                 docker_message(out, "the engine refused the container"));
        json_decref(out);
        return SL_ERR;
    }
    pthread_mutex_lock(&r->mu);
    snprintf(c->id, sizeof(c->id), "%s", str(out, "Id"));
    if (c->st == DC_NONE)
        c->st = DC_CREATED;
    t->gen++;
    pthread_mutex_unlock(&r->mu);
    json_decref(out);
    /* Registered with the metadata endpoint before it starts: its first
     * instruction may well be a request there. */
    if (inspect(r, t, c, &err) != SL_OK)
        log_warn("runtime: task %s: inspect %s: %s", t->key, c->name, err.message);
    return SL_OK;
}

static void fail_start(struct dk_rt *r, struct dk_task *t, const char *reason)
{
    pthread_mutex_lock(&r->mu);
    if (t->phase == DP_STARTING) {
        t->phase = DP_FAILED;
        snprintf(t->reason, sizeof(t->reason), "%s", reason);
        t->gen++;
    }
    pthread_mutex_unlock(&r->mu);
    log_warn("runtime: task %s failed to start: %s", t->key, reason);
}

/* W_START: images, volumes, then every container created (none started). */
static int do_create(struct dk_rt *r, struct dk_task *t)
{
    char reason[512] = "";
    int i, j;

    remove_leftovers(r, t);
    for (i = 0; i < t->n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(t->c[j].image, t->c[i].image) == 0)
                break;
        if (j == i && ensure_image(r, t, &t->c[i], reason, sizeof(reason)) != SL_OK)
            goto fail;
    }
    if (ensure_volumes(r, t, reason, sizeof(reason)) != SL_OK ||
        check_fixed_ports(r, t, reason, sizeof(reason)) != SL_OK ||
        (t->cgroup[0] && task_cgroup_make(&r->cg, t->cgroup,
                                          &(struct task_cgroup_limits){t->cg_cpu, 0, t->cg_mem, 0},
                                          reason, sizeof(reason)) != SL_OK))
        goto fail;
    for (i = 0; i < t->n; i++) {
        if (t->forgotten)
            return SL_ERR;
        if (create_one(r, t, &t->c[i], reason, sizeof(reason)) != SL_OK)
            goto fail;
    }
    pthread_mutex_lock(&r->mu);
    t->created_ms = util_mono_ms();
    pthread_mutex_unlock(&r->mu);
    return SL_OK;
fail:
    fail_start(r, t, reason);
    return SL_ERR;
}

static int inspect(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c, struct sl_err *err)
{
    char path[200];
    json_t *out = NULL;
    int status = 0;

    snprintf(path, sizeof(path), "/containers/%.80s/json", c->id);
    if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &out, err) != SL_OK)
        return SL_ERR;
    if (status != 200) {
        sl_err_set(err, status, "InspectFailed", "%s", docker_message(out, "inspect refused"));
        json_decref(out);
        return SL_ERR;
    }
    pthread_mutex_lock(&r->mu);
    dk_apply_inspect(c, out);
    t->gen++;
    pthread_mutex_unlock(&r->mu);
    if (r->meta)
        task_metadata_put(r->meta, c->meta_id, t->key, c->name, dk_facts(t, c, out));
    json_decref(out);
    return SL_OK;
}

/* ---- start ---- */

/* 1: <d> holds, 0: not yet, -1: it never will.  mu held. */
static int dep_state(struct dk_task *t, const struct dk_dep *d)
{
    const struct dk_ctr *x = &t->c[d->idx];

    switch (d->cond) {
    case DEP_START:
        return x->start_sent && x->st >= DC_RUNNING;
    case DEP_COMPLETE:
        return x->st == DC_EXITED;
    case DEP_SUCCESS:
        return x->st == DC_EXITED ? (x->exit_code == 0 ? 1 : -1) : 0;
    case DEP_HEALTHY:
        if (strcmp(x->health, "HEALTHY") == 0)
            return 1;
        return x->st == DC_EXITED || strcmp(x->health, "UNHEALTHY") == 0 ? -1 : 0;
    }
    return 0;
}

/* Containers whose dependencies hold into <ready>; a reason when one never
 * can start.  mu held. */
static int ready_set(struct dk_task *t, int *ready, int *nready, char *reason, size_t rlen)
{
    static const char *const conds[] = {"START", "COMPLETE", "SUCCESS", "HEALTHY"};
    uint64_t now = util_mono_ms();
    int i, j;

    *nready = 0;
    for (i = 0; i < t->n; i++) {
        struct dk_ctr *c = &t->c[i];
        int ok = 1;
        if (c->start_sent)
            continue;
        for (j = 0; j < c->ndeps && ok; j++) {
            int s = dep_state(t, &c->deps[j]);
            if (s < 0) {
                snprintf(reason, rlen,
                         "CannotStartContainerError: %.100s depends on %.100s to %s, which it "
                         "did not",
                         c->name, t->c[c->deps[j].idx].name, conds[c->deps[j].cond]);
                return SL_ERR;
            }
            ok = s == 1;
        }
        if (ok)
            ready[(*nready)++] = i;
        else if (now > t->created_ms + (uint64_t)c->start_ms) {
            snprintf(reason, rlen,
                     "CannotStartContainerError: the dependencies of %.100s were not met within "
                     "its startTimeout of %ld s",
                     c->name, c->start_ms / 1000);
            return SL_ERR;
        }
    }
    return SL_OK;
}

static int start_one(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c, char *reason,
                     size_t rlen)
{
    struct sl_err err = {0};
    char path[200];
    json_t *out = NULL;
    int status = 0, pid;

    snprintf(path, sizeof(path), "/containers/%.80s/start", c->id);
    if (dk_call(r, "POST", path, NULL, CALL_MS, &status, &out, &err) != SL_OK ||
        (status != 204 && status != 304)) {
        snprintf(reason, rlen, "CannotStartContainerError: %.400s",
                 err.message[0] ? err.message : docker_message(out, "the engine refused"));
        json_decref(out);
        return SL_ERR;
    }
    json_decref(out);
    pthread_mutex_lock(&r->mu);
    c->start_sent = 1;
    pthread_mutex_unlock(&r->mu);
    if (inspect(r, t, c, &err) != SL_OK) {
        snprintf(reason, rlen, "CannotStartContainerError: inspect: %.400s", err.message);
        return SL_ERR;
    }
    /* An engine that shares no cgroup filesystem with sluiced (another
     * host or namespace behind the socket) would leave the task unbounded. */
    pthread_mutex_lock(&r->mu);
    pid = c->pid;
    pthread_mutex_unlock(&r->mu);
    if (c->shared_cg && pid > 0 && task_cgroup_holds(&r->cg, t->cgroup, pid) == 0) {
        snprintf(reason, rlen,
                 "ResourceInitializationError: the engine did not run container %.100s in the "
                 "task's cgroup %s, so the task's cpu and memory cannot bound it",
                 c->name, t->cgroup);
        return SL_ERR;
    }
    return SL_OK;
}

/* An assigned host port that a tracked task still holds (its target may be
 * draining): the task's containers are made again.  mu held. */
static int port_clash(struct dk_rt *r, struct dk_task *t)
{
    int i, j;

    for (i = 0; i < t->n; i++)
        for (j = 0; j < t->c[i].nports; j++)
            if (dk_port_held(r, t->c[i].ports[j].hport))
                return t->c[i].ports[j].hport;
    return 0;
}

static void restart_from_scratch(struct dk_rt *r, struct dk_task *t, int port)
{
    char ids[DK_MAX_CONTAINERS][80];
    int i, n = t->n;

    log_warn("runtime: task %s: the engine assigned host port %d, which another task still "
             "holds: creating its containers again",
             t->key, port);
    pthread_mutex_lock(&r->mu);
    for (i = 0; i < n; i++) {
        struct dk_ctr *c = &t->c[i];
        snprintf(ids[i], sizeof(ids[i]), "%s", c->id);
        c->id[0] = '\0';
        c->st = DC_NONE;
        c->start_sent = 0;
        c->exit_code = -1;
    }
    pthread_mutex_unlock(&r->mu);
    for (i = 0; i < n; i++)
        if (ids[i][0])
            remove_container(r, ids[i]);
    pthread_mutex_lock(&r->mu);
    t->retries++;
    t->created_ms = 0;
    dk_want(r, t, W_START);
    pthread_mutex_unlock(&r->mu);
}

/* W_ADVANCE: start whatever dependsOn allows; RUNNING once all have started. */
static void do_advance(struct dk_rt *r, struct dk_task *t)
{
    char reason[512] = "";
    int ready[DK_MAX_CONTAINERS], nready, i, all, clash;

    for (;;) {
        pthread_mutex_lock(&r->mu);
        if (t->phase != DP_STARTING || t->forgotten || t->created_ms == 0) {
            pthread_mutex_unlock(&r->mu);
            return;
        }
        if (ready_set(t, ready, &nready, reason, sizeof(reason)) != SL_OK) {
            pthread_mutex_unlock(&r->mu);
            fail_start(r, t, reason);
            return;
        }
        pthread_mutex_unlock(&r->mu);
        if (nready == 0)
            break;
        for (i = 0; i < nready; i++)
            if (start_one(r, t, &t->c[ready[i]], reason, sizeof(reason)) != SL_OK) {
                fail_start(r, t, reason);
                return;
            }
    }
    pthread_mutex_lock(&r->mu);
    for (i = 0, all = 1; i < t->n; i++)
        all &= t->c[i].start_sent;
    clash = all ? port_clash(r, t) : 0;
    if (all && clash && t->retries < 3) {
        pthread_mutex_unlock(&r->mu);
        restart_from_scratch(r, t, clash);
        return;
    }
    if (all) {
        int j;
        for (i = 0; i < t->n; i++)
            for (j = 0; j < t->c[i].nports; j++)
                dk_port_hold(r, t->c[i].ports[j].hport, 1);
        t->phase = DP_RUNNING;
        t->gen++;
        log_info("runtime: started task %s (%d containers)", t->key, t->n);
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---- stop ---- */

static void send_signal(struct dk_rt *r, struct dk_ctr *c, const char *sig)
{
    struct sl_err err = {0};
    char path[200];
    int status = 0;

    snprintf(path, sizeof(path), "/containers/%.80s/kill?signal=%s", c->id, sig);
    if (dk_call(r, "POST", path, NULL, CALL_MS, &status, NULL, &err) != SL_OK)
        log_warn("runtime: kill %s %.12s: %s", sig, c->id, err.message);
    /* 409: not running any more; the die event says how it ended. */
}

/* 1 if a running container of <t> depends on container <i>.  mu held. */
static int needed(struct dk_task *t, int i)
{
    int j, k;

    for (j = 0; j < t->n; j++)
        if (t->c[j].st == DC_RUNNING)
            for (k = 0; k < t->c[j].ndeps; k++)
                if (t->c[j].deps[k].idx == i)
                    return 1;
    return 0;
}

/* W_STOP: the stop signal to each running container nothing running depends
 * on (ECS stops containers in reverse dependency order); a container's death
 * asks again for the next ones. */
static void do_stop(struct dk_rt *r, struct dk_task *t)
{
    int todo[DK_MAX_CONTAINERS], n = 0, i;
    uint64_t now = util_mono_ms();

    pthread_mutex_lock(&r->mu);
    for (i = 0; i < t->n; i++) {
        struct dk_ctr *c = &t->c[i];
        if (c->st != DC_EXITED && !c->start_sent && c->st != DC_RUNNING) {
            c->st = DC_EXITED; /* created, never started */
            t->gen++;
        } else if (c->st == DC_RUNNING && !c->signalled && !needed(t, i)) {
            c->signalled = 1;
            c->kill_at = now + (uint64_t)c->stop_ms;
            todo[n++] = i;
        }
    }
    pthread_mutex_unlock(&r->mu);
    for (i = 0; i < n; i++) {
        log_info("runtime: task %s: %s to %s (SIGKILL in %ld ms)", t->key,
                 t->c[todo[i]].stop_signal, t->c[todo[i]].name, t->c[todo[i]].stop_ms);
        send_signal(r, &t->c[todo[i]], t->c[todo[i]].stop_signal);
    }
}

/* W_KILL: SIGKILL to what outlived its stopTimeout. */
static void do_kill(struct dk_rt *r, struct dk_task *t)
{
    int todo[DK_MAX_CONTAINERS], n = 0, i;
    uint64_t now = util_mono_ms();

    pthread_mutex_lock(&r->mu);
    for (i = 0; i < t->n; i++) {
        struct dk_ctr *c = &t->c[i];
        if (c->st == DC_RUNNING && c->signalled && !c->killed && now >= c->kill_at) {
            c->killed = 1;
            todo[n++] = i;
        }
    }
    pthread_mutex_unlock(&r->mu);
    for (i = 0; i < n; i++) {
        log_warn("runtime: task %s: %s did not stop within %ld ms: SIGKILL", t->key,
                 t->c[todo[i]].name, t->c[todo[i]].stop_ms);
        send_signal(r, &t->c[todo[i]], "SIGKILL");
    }
}

/* ---- remove ---- */

struct log_files {
    FILE *out, *err;
    int tty;
    int status; /* the answer's, known before its first body byte */
    struct docker_demux dm;
};

static void log_out(void *arg, int stream, const char *p, size_t n)
{
    struct log_files *lf = arg;

    fwrite(p, 1, n, stream == 2 ? lf->err : lf->out);
}

static int log_sink(void *arg, const char *data, size_t len)
{
    struct log_files *lf = arg;

    if (lf->status != 200)
        return 0; /* an error body ("no such container"), not the log */
    if (lf->tty)
        fwrite(data, 1, len, lf->out);
    else
        docker_demux_feed(&lf->dm, data, len, log_out, lf);
    return 0;
}

/* Copy a container's stdout and stderr to <tasks_dir>/<task>/<name>/. */
static void save_logs(struct dk_rt *r, struct dk_task *t, struct dk_ctr *c)
{
    char dir[2048], po[2100], pe[2100], path[200];
    struct log_files lf;
    struct docker_req q;
    struct sl_err err = {0};
    int status = 0;

    snprintf(dir, sizeof(dir), "%s/%s/%s", r->tasks_dir, t->tid, c->name);
    snprintf(po, sizeof(po), "%s/stdout.log", dir);
    snprintf(pe, sizeof(pe), "%s/stderr.log", dir);
    memset(&lf, 0, sizeof(lf));
    lf.tty = c->tty;
    if (task_dir_make(dir) != 0 || (lf.out = fopen(po, "we")) == NULL ||
        (lf.err = fopen(pe, "we")) == NULL) {
        log_warn("runtime: task %s: cannot keep the logs of %s in %s: %s", t->key, c->name, dir,
                 strerror(errno));
        goto out;
    }
    snprintf(path, sizeof(path), "/containers/%.80s/logs?stdout=1&stderr=1", c->id);
    memset(&q, 0, sizeof(q));
    q.method = "GET";
    q.path = path;
    q.timeout_ms = CALL_MS;
    q.sink = log_sink;
    q.sink_arg = &lf;
    q.cancel_fd = r->wake[0];
    q.status_early = &lf.status;
    if (docker_call(r->eng, &q, &status, NULL, &err) != SL_OK)
        log_warn("runtime: task %s: logs of %s: %s", t->key, c->name, err.message);
    else if (status != 200)
        log_warn("runtime: task %s: the engine keeps no log of %s (%d)", t->key, c->name, status);
out:
    if (lf.out)
        fclose(lf.out);
    if (lf.err)
        fclose(lf.err);
}

/* W_REMOVE: logs kept, containers and task-scoped volumes removed. */
static void do_remove(struct dk_rt *r, struct dk_task *t)
{
    struct dk_task **pp;
    json_t *v;
    size_t k;
    int i;

    for (i = 0; i < t->n; i++) {
        if (t->c[i].id[0] == '\0')
            continue;
        save_logs(r, t, &t->c[i]);
        remove_container(r, t->c[i].id);
        if (r->meta)
            task_metadata_del(r->meta, t->c[i].meta_id);
    }
    json_array_foreach(t->volumes, k, v)
        if (!json_is_true(json_object_get(v, "shared"))) {
            char path[600], ename[500];
            int status;
            struct sl_err err = {0};
            dk_url_encode(ename, sizeof(ename), str(v, "Name"));
            snprintf(path, sizeof(path), "/volumes/%s", ename);
            dk_call(r, "DELETE", path, NULL, CALL_MS, &status, NULL, &err);
        }
    /* What an engine runs beside a container (Podman's conmon) may take a
     * moment to exit after the container is removed: retried meanwhile. */
    if (t->cgroup[0] && task_cgroup_remove(&r->cg, t->cgroup) == SL_EAGAIN) {
        struct dk_cg_pending *cp = calloc(1, sizeof(*cp));
        if (cp) {
            snprintf(cp->path, sizeof(cp->path), "%s", t->cgroup);
            cp->until_ms = util_mono_ms() + CG_RETRY_MS;
            pthread_mutex_lock(&r->mu);
            cp->next = r->cg_pending;
            r->cg_pending = cp;
            pthread_cond_signal(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
    }
    log_info("runtime: removed the containers of task %s", t->key);
    pthread_mutex_lock(&r->mu);
    for (pp = &r->draining; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            dk_unref(r, t); /* the draining list's reference; the queue's remains */
            break;
        }
    pthread_mutex_unlock(&r->mu);
}

/* ---- workers ---- */

static void drive(struct dk_rt *r, struct dk_task *t, unsigned bits)
{
    if (bits & W_REMOVE) {
        do_remove(r, t);
        return;
    }
    if (t->forgotten)
        return; /* W_REMOVE is queued */
    if (bits & W_START) {
        if (do_create(r, t) != SL_OK)
            return;
        bits |= W_ADVANCE;
    }
    if (bits & W_ADVANCE)
        do_advance(r, t);
    if (bits & W_STOP)
        do_stop(r, t);
    if (bits & W_KILL)
        do_kill(r, t);
}

/* Try the pending cgroup removals again: those gone or past their time
 * leave the list.  mu held; released meanwhile. */
static void retry_cgroups(struct dk_rt *r)
{
    struct dk_cg_pending *list = r->cg_pending, *cp, *next, *keep = NULL;
    uint64_t now = util_mono_ms();

    r->cg_pending = NULL;
    pthread_mutex_unlock(&r->mu);
    for (cp = list; cp; cp = next) {
        next = cp->next;
        if (task_cgroup_remove(&r->cg, cp->path) == SL_OK) {
            free(cp);
        } else if (now >= cp->until_ms) {
            log_warn("runtime: cgroup %s is still in use; left for the next start-up's sweep",
                     cp->path);
            free(cp);
        } else {
            cp->next = keep;
            keep = cp;
        }
    }
    pthread_mutex_lock(&r->mu);
    for (cp = keep; cp; cp = next) {
        next = cp->next;
        cp->next = r->cg_pending;
        r->cg_pending = cp;
    }
}

/* Wait for work; one worker at a time wakes every CG_RETRY_STEP_MS while
 * cgroup removals are pending, to retry them.  mu held. */
static void wait_for_work(struct dk_rt *r)
{
    struct timespec ts;

    if (r->cg_pending == NULL || r->cg_retrying) {
        pthread_cond_wait(&r->cv, &r->mu);
        return;
    }
    r->cg_retrying = 1;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += CG_RETRY_STEP_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    retry_cgroups(r);
    r->cg_retrying = 0;
}

void *dk_worker_main(void *arg)
{
    struct dk_rt *r = arg;
    struct dk_task *t;

    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        if ((t = r->qhead) == NULL) {
            wait_for_work(r);
            continue;
        }
        r->qhead = t->qnext;
        if (r->qhead == NULL)
            r->qtail = NULL;
        t->queued = 0;
        t->busy = 1;
        while (t->want && !r->stopping) {
            unsigned bits = t->want;
            /* Once forgotten, only the removal is left to do. */
            if (t->forgotten && (bits & W_REMOVE))
                bits = W_REMOVE;
            t->want &= ~bits;
            pthread_mutex_unlock(&r->mu);
            drive(r, t, bits);
            pthread_mutex_lock(&r->mu);
        }
        t->busy = 0;
        dk_unref(r, t);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}
