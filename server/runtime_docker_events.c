/*
 * runtime_docker_events.c - the docker runtime's view of the engine between
 * calls: the reader of GET /events (a container that dies is seen within
 * milliseconds, not at the next poll), and the inventory of our containers
 * when sluiced starts (adopted later, or removed when their task is over).
 */
#include "server/runtime_docker_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

#define CALL_MS 30000

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* ---- the event stream ---- */

static struct dk_ctr *ctr_by_id(struct dk_rt *r, const char *id, struct dk_task **tt)
{
    struct dk_task *lists[2] = {r->tasks, r->draining}, *t;
    struct dk_ctr *c;
    int l;

    for (l = 0; l < 2; l++)
        for (t = lists[l]; t; t = t->next)
            if ((c = dk_find_ctr(t, id)) != NULL) {
                *tt = t;
                return c;
            }
    return NULL;
}

struct ev_ctx {
    struct dk_rt *r;
    long long last; /* time of the newest event, unix seconds */
};

/* One event (Docker: "die", "start", "oom", "destroy", "health_status:
 * healthy"; Podman says "died" and puts the health in an attribute). */
static void on_event(void *arg, const char *text)
{
    struct ev_ctx *ev = arg;
    struct dk_rt *r = ev->r;
    json_t *e = json_loads(text, 0, NULL), *attrs;
    const char *action, *id;
    struct dk_task *t = NULL;
    struct dk_ctr *c;

    if (e == NULL)
        return;
    action = str(e, "Action")[0] ? str(e, "Action") : str(e, "status");
    id = str(json_object_get(e, "Actor"), "ID")[0] ? str(json_object_get(e, "Actor"), "ID")
                                                  : str(e, "id");
    attrs = json_object_get(json_object_get(e, "Actor"), "Attributes");
    if (json_integer_value(json_object_get(e, "time")) > ev->last)
        ev->last = json_integer_value(json_object_get(e, "time"));
    pthread_mutex_lock(&r->mu);
    if ((c = ctr_by_id(r, id, &t)) == NULL)
        goto out;
    if (strcmp(action, "die") == 0 || strcmp(action, "died") == 0) {
        if (c->st != DC_EXITED) {
            c->st = DC_EXITED;
            c->exit_code = json_is_string(json_object_get(attrs, "exitCode"))
                               ? atoi(str(attrs, "exitCode"))
                               : -1;
            log_info("runtime: task %s container %s exited (%d)", t->key, c->name, c->exit_code);
            if (c->oom_seen && c->exit_code == 137)
                copy_str(c->reason, sizeof(c->reason), DK_OOM_REASON);
        }
    } else if (strcmp(action, "start") == 0) {
        if (c->st < DC_RUNNING)
            c->st = DC_RUNNING;
    } else if (strcmp(action, "oom") == 0) {
        if (c->shared_cg)
            c->oom_seen = 1; /* the task's: see dk_apply_inspect() */
        else
            copy_str(c->reason, sizeof(c->reason), DK_OOM_REASON);
    } else if (strcmp(action, "destroy") == 0 || strcmp(action, "remove") == 0) {
        if (c->st != DC_EXITED) {
            c->st = DC_EXITED;
            copy_str(c->reason, sizeof(c->reason), "Container removed from the engine");
        }
    } else if (strncmp(action, "health_status", 13) == 0 && c->has_hc) {
        const char *h = action[13] == ':' ? action + 14 + (action[14] == ' ')
                                          : str(attrs, "health_status");
        while (*h == ' ')
            h++;
        c->health = strncmp(h, "healthy", 7) == 0     ? "HEALTHY"
                    : strncmp(h, "unhealthy", 9) == 0 ? "UNHEALTHY"
                                                      : c->health;
    } else {
        goto out;
    }
    t->gen++;
    if (!t->forgotten)
        dk_want(r, t, t->phase == DP_STARTING ? W_ADVANCE : t->stop_asked ? W_STOP : 0);
out:
    pthread_mutex_unlock(&r->mu);
    json_decref(e);
}

/* After (re)connecting: what died while the stream was down. */
static void resync(struct dk_rt *r)
{
    struct dk_task *t;
    char ids[64][80];
    int n = 0, i, j;

    pthread_mutex_lock(&r->mu);
    for (t = r->tasks; t && n < 64; t = t->next)
        for (j = 0; j < t->n && n < 64; j++)
            if (t->c[j].id[0] && t->c[j].st == DC_RUNNING)
                snprintf(ids[n++], sizeof(ids[0]), "%s", t->c[j].id);
    pthread_mutex_unlock(&r->mu);
    for (i = 0; i < n; i++) {
        struct sl_err err = {0};
        char path[200];
        json_t *out = NULL;
        int status = 0;
        snprintf(path, sizeof(path), "/containers/%.80s/json", ids[i]);
        if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &out, &err) != SL_OK)
            break;
        pthread_mutex_lock(&r->mu);
        {
            struct dk_task *tt = NULL;
            struct dk_ctr *c = ctr_by_id(r, ids[i], &tt);
            if (c && (status == 200 || status == 404)) {
                if (status == 200)
                    dk_apply_inspect(c, out);
                else if (c->st != DC_EXITED) {
                    c->st = DC_EXITED;
                    copy_str(c->reason, sizeof(c->reason), "Container removed from the engine");
                }
                tt->gen++;
            }
        }
        pthread_mutex_unlock(&r->mu);
        json_decref(out);
    }
}

static void events_path(struct dk_rt *r, long long since, char *out, size_t cap)
{
    char f[300], ef[900];

    snprintf(f, sizeof(f), "{\"type\":[\"container\"],\"label\":[\"%s=%s\"]}", DK_LABEL_OWNER,
             r->owner);
    dk_url_encode(ef, sizeof(ef), f);
    snprintf(out, cap, "/events?since=%lld&filters=%s", since, ef);
}

void *dk_events_main(void *arg)
{
    struct dk_rt *r = arg;
    struct ev_ctx ev = {r, (long long)time(NULL) - 1};
    int first = 1;

    while (!r->stopping) {
        struct docker_stream *s = NULL;
        struct sl_err err = {0};
        char path[1200];

        events_path(r, ev.last > 0 ? ev.last - 1 : 0, path, sizeof(path));
        if (docker_stream_open(r->eng, path, &s, &err) == SL_OK) {
            if (!first)
                resync(r);
            first = 0;
            for (;;) {
                struct pollfd p[2] = {{docker_stream_fd(s), POLLIN, 0}, {r->wake[0], POLLIN, 0}};
                /* No timeout: the engine sends nothing, headers included,
                 * until there is an event. */
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                    break;
                if (p[1].revents || r->stopping)
                    break;
                if (p[0].revents &&
                    docker_stream_read(s, on_event, &ev, &err) != SL_OK)
                    break;
            }
            docker_stream_close(s);
        }
        if (r->stopping)
            break;
        log_warn("runtime: engine event stream: %s; reconnecting",
                 err.message[0] ? err.message : "closed");
        {
            struct pollfd p = {r->wake[0], POLLIN, 0};
            poll(&p, 1, 1000);
        }
    }
    return NULL;
}

/* ---- inventory ---- */

static void drop_orphan(struct dk_rt *r, const char *key, const char *name, const char *id)
{
    struct dk_task *t;
    const char *slash = strrchr(key, '/');

    for (t = r->draining; t; t = t->next)
        if (strcmp(t->key, key) == 0)
            break;
    if (t == NULL) {
        if ((t = calloc(1, sizeof(*t))) == NULL)
            return;
        copy_str(t->key, sizeof(t->key), key);
        copy_str(t->tid, sizeof(t->tid), slash ? slash + 1 : key);
        t->forgotten = 1;
        t->refs = 1; /* the draining list's */
        t->next = r->draining;
        r->draining = t;
    }
    if (t->n >= DK_MAX_CONTAINERS)
        return;
    copy_str(t->c[t->n].name, sizeof(t->c[0].name), name[0] ? name : id);
    copy_str(t->c[t->n].id, sizeof(t->c[0].id), id);
    t->c[t->n].st = DC_EXITED;
    t->n++;
    log_info("runtime: container %.12s of task %s, which is not running any more: removing it",
             id, key);
}

static int live(struct dk_rt *r, const char *key)
{
    return r->cfg.task_live == NULL || r->cfg.task_live(r->cfg.live_arg, key);
}

static void inventory_volumes(struct dk_rt *r)
{
    char f[300], ef[900], path[1000];
    struct sl_err err = {0};
    json_t *out = NULL, *v;
    int status = 0;
    size_t i;

    snprintf(f, sizeof(f), "{\"label\":[\"%s=%s\"]}", DK_LABEL_OWNER, r->owner);
    dk_url_encode(ef, sizeof(ef), f);
    snprintf(path, sizeof(path), "/volumes?filters=%s", ef);
    if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &out, &err) != SL_OK || status != 200) {
        json_decref(out);
        return;
    }
    json_array_foreach(json_object_get(out, "Volumes"), i, v) {
        const char *key = str(json_object_get(v, "Labels"), DK_LABEL_TASK);
        char en[500];
        if (key[0] == '\0' || live(r, key))
            continue;
        dk_url_encode(en, sizeof(en), str(v, "Name"));
        snprintf(path, sizeof(path), "/volumes/%s", en);
        dk_call(r, "DELETE", path, NULL, CALL_MS, &status, NULL, &err);
    }
    json_decref(out);
}

int dk_inventory(struct dk_rt *r, struct sl_err *err)
{
    char f[300], ef[900], path[1000];
    json_t *list = NULL, *e;
    int status = 0;
    size_t i;

    snprintf(f, sizeof(f), "{\"label\":[\"%s=%s\"]}", DK_LABEL_OWNER, r->owner);
    dk_url_encode(ef, sizeof(ef), f);
    snprintf(path, sizeof(path), "/containers/json?all=1&filters=%s", ef);
    if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &list, err) != SL_OK)
        return SL_ERR;
    if (status != 200 || !json_is_array(list)) {
        sl_err_set(err, 500, "EngineError", "listing containers: %s",
                   docker_message(list, "refused"));
        json_decref(list);
        return SL_ERR;
    }
    json_array_foreach(list, i, e) {
        json_t *l = json_object_get(e, "Labels"), *insp = NULL;
        const char *key = str(l, DK_LABEL_TASK), *id = str(e, "Id");
        const char *name = str(l, "com.amazonaws.ecs.container-name");
        struct dk_seen *s;
        if (key[0] == '\0' || id[0] == '\0')
            continue;
        if (!live(r, key)) {
            drop_orphan(r, key, name, id);
            continue;
        }
        snprintf(path, sizeof(path), "/containers/%.80s/json", id);
        if (dk_call(r, "GET", path, NULL, CALL_MS, &status, &insp, err) != SL_OK || status != 200) {
            json_decref(insp);
            continue;
        }
        if ((s = calloc(1, sizeof(*s))) == NULL) {
            json_decref(insp);
            break;
        }
        copy_str(s->key, sizeof(s->key), key);
        copy_str(s->name, sizeof(s->name), name);
        copy_str(s->id, sizeof(s->id), id);
        copy_str(s->meta_id, sizeof(s->meta_id), str(l, DK_LABEL_META));
        s->inspect = insp;
        s->next = r->seen;
        r->seen = s;
    }
    json_decref(list);
    inventory_volumes(r);
    return SL_OK;
}
