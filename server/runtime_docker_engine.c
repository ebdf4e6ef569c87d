/*
 * runtime_docker_engine.c - the bottom of the docker runtime: engine calls
 * (cancelled when the runtime stops), the work queue and task references,
 * the host-port bitmap, and a container's state read from an inspect.
 */
#include "server/runtime_docker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ---- queue and references (mu held) ---- */

void dk_want(struct dk_rt *r, struct dk_task *t, unsigned bits)
{
    t->want |= bits;
    if (bits == 0 || t->queued || t->busy)
        return; /* the worker driving it loops while want is set */
    t->queued = 1;
    t->refs++;
    t->qnext = NULL;
    if (r->qtail)
        r->qtail->qnext = t;
    else
        r->qhead = t;
    r->qtail = t;
    pthread_cond_signal(&r->cv);
}

void dk_unref(struct dk_rt *r, struct dk_task *t)
{
    (void)r;
    if (--t->refs > 0)
        return;
    dk_plan_free(t);
    free(t);
}

struct dk_ctr *dk_find_ctr(struct dk_task *t, const char *id)
{
    size_t l = strlen(id);
    int i;

    if (l < 12)
        return NULL;
    for (i = 0; i < t->n; i++)
        if (t->c[i].id[0] && strncmp(t->c[i].id, id, l) == 0)
            return &t->c[i];
    return NULL;
}

int dk_port_held(const struct dk_rt *r, int port)
{
    return port > 0 && port < 65536 && (r->held[port / 32] >> (port % 32) & 1u);
}

void dk_port_hold(struct dk_rt *r, int port, int on)
{
    if (port <= 0 || port >= 65536)
        return;
    if (on)
        r->held[port / 32] |= 1u << (port % 32);
    else
        r->held[port / 32] &= ~(1u << (port % 32));
}

/* ---- engine calls ---- */

int dk_call(struct dk_rt *r, const char *method, const char *path, json_t *body, int ms,
                int *status, json_t **out, struct sl_err *err)
{
    struct docker_req q;
    struct buf b;
    char *text = NULL;
    int rc;

    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = path;
    q.timeout_ms = ms;
    q.cancel_fd = r->wake[0];
    if (body) {
        if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
            return sl_err_set(err, 500, "InternalFailure", "out of memory");
        q.body = text;
        q.body_len = strlen(text);
    }
    buf_init(&b);
    rc = docker_call(r->eng, &q, status, &b, err);
    free(text);
    if (out)
        *out = rc == SL_OK && b.len ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    buf_free(&b);
    return rc;
}

void dk_url_encode(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

/* ---- inspect ---- */

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

void dk_apply_inspect(struct dk_ctr *c, json_t *insp)
{
    json_t *state = json_object_get(insp, "State"), *net = json_object_get(insp, "NetworkSettings");
    json_t *ports = json_object_get(net, "Ports"), *nets = json_object_get(net, "Networks"), *v;
    const char *hs = str(json_object_get(state, "Health"), "Status"), *k, *sig;
    int i;

    sig = str(json_object_get(insp, "Config"), "StopSignal");
    copy_str(c->stop_signal, sizeof(c->stop_signal), sig[0] ? sig : "SIGTERM");
    copy_str(c->image_id, sizeof(c->image_id), str(insp, "Image"));
    copy_str(c->created_at, sizeof(c->created_at), str(insp, "Created"));
    copy_str(c->started_at, sizeof(c->started_at), str(state, "StartedAt"));
    copy_str(c->ip, sizeof(c->ip), str(net, "IPAddress"));
    json_object_foreach(nets, k, v)
        if (c->ip[0] == '\0')
            copy_str(c->ip, sizeof(c->ip), str(v, "IPAddress"));
    for (i = 0; i < c->nports; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%d/%s", c->ports[i].cport, c->ports[i].proto);
        v = json_array_get(json_object_get(ports, key), 0);
        if (v && atoi(str(v, "HostPort")) > 0)
            c->ports[i].hport = atoi(str(v, "HostPort"));
    }
    if (json_is_true(json_object_get(state, "Running"))) {
        if (c->st < DC_RUNNING)
            c->st = DC_RUNNING;
    } else if (strcmp(str(state, "Status"), "exited") == 0 ||
               strcmp(str(state, "Status"), "dead") == 0) {
        if (c->st != DC_EXITED) {
            c->st = DC_EXITED;
            c->exit_code = (int)json_integer_value(json_object_get(state, "ExitCode"));
        }
    }
    c->pid = (int)json_integer_value(json_object_get(state, "Pid"));
    /* In a task cgroup every container hears of the task's out-of-memory:
     * the one the kernel killed is the one that exited with 137. */
    if (json_is_true(json_object_get(state, "OOMKilled")) &&
        (!c->shared_cg || (c->st == DC_EXITED && c->exit_code == 137)))
        copy_str(c->reason, sizeof(c->reason), DK_OOM_REASON);
    if (c->has_hc)
        c->health = strcmp(hs, "healthy") == 0     ? "HEALTHY"
                    : strcmp(hs, "unhealthy") == 0 ? "UNHEALTHY"
                                                   : "UNKNOWN";
}

/* The Docker facts the metadata endpoint serves for <c>. */
json_t *dk_facts(struct dk_task *t, struct dk_ctr *c, json_t *insp)
{
    json_t *hc = json_object_get(insp, "HostConfig"), *lc = json_object_get(hc, "LogConfig");
    json_t *state = json_object_get(insp, "State"), *f;
    const char *name = str(insp, "Name"), *st = str(state, "Status");
    const char *started = str(state, "StartedAt");

    f = json_pack("{ss ss ss ss sO* ss s[{ss s[]}] ss sO* ss}", "DockerId", str(insp, "Id"),
                  "DockerName", name[0] == '/' ? name + 1 : name, "Image", c->image, "ImageID",
                  str(insp, "Image"), "Labels",
                  json_object_get(json_object_get(insp, "Config"), "Labels"), "CreatedAt",
                  str(insp, "Created"), "Networks", "NetworkMode", t->net_mode, "IPv4Addresses",
                  "LogDriver", str(lc, "Type"), "LogOptions", json_object_get(lc, "Config"),
                  "KnownStatus",
                  strcmp(st, "running") == 0   ? "RUNNING"
                  : strcmp(st, "created") == 0 ? "CREATED"
                                               : "STOPPED");
    if (f == NULL)
        return json_object();
    if (started[0] && strncmp(started, "0001-", 5) != 0) /* the zero time: not started */
        json_object_set_new(f, "StartedAt", json_string(started));
    if (c->ip[0])
        json_array_append_new(
            json_object_get(json_array_get(json_object_get(f, "Networks"), 0), "IPv4Addresses"),
            json_string(c->ip));
    return f;
}
