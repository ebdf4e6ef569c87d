/*
 * task_logs.c - container logs over REST (see task_logs.h).
 */
#include "server/task_logs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ecs/ecs.h"
#include "routes/ecs/names.h"
#include "server/docker.h"
#include "store/store.h"

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The next path segment of *p into <out>; 0 when it is empty or too long. */
static int segment(const char **p, char *out, size_t cap)
{
    size_t n = strcspn(*p, "/");

    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n;
    if (**p == '/')
        (*p)++;
    return 1;
}

static int expect(const char **p, const char *word)
{
    size_t n = strlen(word);

    if (strncmp(*p, word, n) != 0 || ((*p)[n] != '/' && (*p)[n] != '\0'))
        return 0;
    *p += n + ((*p)[n] == '/');
    return 1;
}

/* The tail of the file at <path> into <out>; SL_ENOTFOUND when absent. */
static int read_tail(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "re");
    char tmp[65536];
    long size;
    size_t n;

    if (f == NULL)
        return errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > (long)TASK_LOGS_MAX)
        fseek(f, size - (long)TASK_LOGS_MAX, SEEK_SET);
    else
        fseek(f, 0, SEEK_SET);
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(out, tmp, n);
    fclose(f);
    return buf_failed(out) ? SL_ENOMEM : SL_OK;
}

struct live {
    struct buf *out;
    struct docker_demux dm;
    int tty;
    int status; /* known before the first body byte */
};

static void live_out(void *arg, int stream, const char *p, size_t n)
{
    struct live *l = arg;

    (void)stream; /* one stream was asked for */
    if (l->out->len + n <= TASK_LOGS_MAX)
        buf_append(l->out, p, n);
}

static int live_sink(void *arg, const char *data, size_t len)
{
    struct live *l = arg;

    if (l->status != 200)
        return 0; /* an error body, not the log */
    if (l->tty)
        live_out(l, 1, data, len);
    else
        docker_demux_feed(&l->dm, data, len, live_out, l);
    return 0;
}

/* A running docker container's log from the engine; SL_OK or an error. */
static int read_live(const char *host, const char *id, const char *stream, struct buf *out)
{
    struct docker *d = NULL;
    struct sl_err err = {0};
    struct docker_req q;
    struct live l;
    char path[256];
    json_t *insp = NULL;
    int status = 0, rc = SL_EIO;

    if (docker_new(host, &d, &err) != SL_OK)
        return SL_EIO;
    snprintf(path, sizeof(path), "/containers/%.80s/json", id);
    if (docker_json(d, "GET", path, NULL, 10000, &status, &insp, &err) != SL_OK || status != 200)
        goto out;
    memset(&l, 0, sizeof(l));
    l.out = out;
    l.tty = json_is_true(json_object_get(json_object_get(insp, "Config"), "Tty"));
    snprintf(path, sizeof(path), "/containers/%.80s/logs?%s=1", id, stream);
    memset(&q, 0, sizeof(q));
    q.method = "GET";
    q.path = path;
    q.timeout_ms = 10000;
    q.sink = live_sink;
    q.sink_arg = &l;
    q.status_early = &l.status;
    if (docker_call(d, &q, &status, NULL, &err) == SL_OK && status == 200)
        rc = SL_OK;
out:
    json_decref(insp);
    docker_free(d);
    return rc;
}

/* The stored container <name> of task <cluster>/<task>, new reference. */
static json_t *find_container(struct app *app, const char *cluster, const char *task,
                              const char *name, struct front_reply *out)
{
    char key[ECS_ID_MAX + 1];
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *t, *c, *found = NULL;
    size_t i;

    if (ecs_join(key, sizeof(key), cluster, task) != SL_OK) {
        front_rest_error(404, "TaskNotFound", "no such task", out);
        return NULL;
    }
    if (store_read_begin(app->store, &txn, &err) != SL_OK) {
        front_rest_error(500, "InternalFailure", err.message, out);
        return NULL;
    }
    t = store_get(txn, K_ECS_TASK, key);
    store_txn_end(txn);
    if (t == NULL) {
        front_rest_error(404, "TaskNotFound", "no such task", out);
        return NULL;
    }
    json_array_foreach(json_object_get(t, "containers"), i, c)
        if (strcmp(str(c, "name"), name) == 0)
            found = json_incref(c);
    json_decref(t);
    if (found == NULL)
        front_rest_error(404, "ContainerNotFound", "the task has no container of that name", out);
    return found;
}

void task_logs_handle(struct app *app, const struct front_request *req, struct front_reply *out)
{
    const char *p = req->path + strlen(TASK_LOGS_PREFIX), *stream, *rid;
    char cluster[ECS_NAME_MAX + 1], task[80], name[256];
    json_t *c;
    int rc = SL_ENOTFOUND;

    if (!(expect(&p, "clusters") && segment(&p, cluster, sizeof(cluster)) &&
          expect(&p, "tasks") && segment(&p, task, sizeof(task)) && expect(&p, "containers") &&
          segment(&p, name, sizeof(name)) && strcmp(p, "logs") == 0)) {
        front_rest_error(404, "NotFound", "no such path", out);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        snprintf(out->allow, sizeof(out->allow), "GET");
        front_rest_error(405, "MethodNotAllowed", "use GET", out);
        return;
    }
    stream = req->arg(req->arg_cls, "stream");
    if (stream == NULL)
        stream = "stdout";
    if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
        front_rest_error(400, "ValidationError", "stream must be stdout or stderr", out);
        return;
    }
    if ((c = find_container(app, cluster, task, name, out)) == NULL)
        return;
    rid = str(c, "runtimeId");
    /* A running container of the docker runtime (a 64-hex id): ask the engine. */
    if (strcmp(str(c, "lastStatus"), "STOPPED") != 0 && strlen(rid) == 64 &&
        strchr(rid, ':') == NULL)
        rc = read_live(app->cfg->docker_host, rid, stream, &out->body);
    if (rc != SL_OK && str(json_object_get(c, "logs"), stream)[0]) {
        out->body.len = 0;
        rc = read_tail(str(json_object_get(c, "logs"), stream), &out->body);
    }
    json_decref(c);
    if (rc == SL_ENOTFOUND) {
        front_rest_error(404, "LogsNotFound", "no log is kept for this container (yet)", out);
        return;
    }
    if (rc != SL_OK) {
        buf_free(&out->body);
        front_rest_error(500, "InternalFailure", "the log cannot be read", out);
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; charset=utf-8";
}
