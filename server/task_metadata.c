/*
 * task_metadata.c - the ECS task metadata endpoint v4 (see task_metadata.h).
 */
#define _GNU_SOURCE /* IP_FREEBIND */
#include "server/task_metadata.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "routes/ecs/ecs.h"
#include "routes/ecs/instances.h"
#include "routes/ecs/taskdef.h"
#include "store/store.h"

struct tm_entry {
    struct tm_entry *next;
    char id[33];
    char task_key[512];
    char name[256];
    json_t *facts;
};

struct task_metadata {
    struct store *store;
    struct MHD_Daemon *d;
    int fd, port;
    char base[128];
    pthread_mutex_t mu;
    struct tm_entry *entries;
};

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ---- the v4 documents ---- */

static void iso(json_t *doc, const char *k, json_t *epoch)
{
    struct timespec ts;
    char out[32];
    double v = json_number_value(epoch);

    if (!json_is_number(epoch) || v <= 0)
        return;
    ts.tv_sec = (time_t)v;
    ts.tv_nsec = (long)((v - (double)ts.tv_sec) * 1e9);
    util_iso_time(out, &ts);
    json_object_set_new(doc, k, json_string(out));
}

static json_t *def_of(json_t *td, const char *name)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (strcmp(str(c, "name"), name) == 0)
            return c;
    return NULL;
}

json_t *task_metadata_container(json_t *task, json_t *td, const char *name, json_t *facts)
{
    json_t *doc = json_is_object(facts) ? json_deep_copy(facts) : json_object(), *jc = NULL, *v;
    json_t *cd = def_of(td, name), *ports = json_array(), *b;
    size_t i;

    json_array_foreach(json_object_get(task, "containers"), i, v)
        if (strcmp(str(v, "name"), name) == 0)
            jc = v;
    json_object_set_new(doc, "Name", json_string(name));
    json_object_set_new(doc, "DesiredStatus", json_string(str(task, "desiredStatus")));
    /* The engine's view (the facts) until the stored task says STOPPED. */
    if (jc && strcmp(str(jc, "lastStatus"), "STOPPED") == 0)
        json_object_set_new(doc, "KnownStatus", json_string("STOPPED"));
    else if (!json_is_string(json_object_get(doc, "KnownStatus")))
        json_object_set_new(doc, "KnownStatus", json_string(jc ? str(jc, "lastStatus") : "NONE"));
    json_object_set_new(doc, "Limits",
                        json_pack("{sI sI}", "CPU",
                                  (json_int_t)json_integer_value(json_object_get(cd, "cpu")),
                                  "Memory",
                                  (json_int_t)json_integer_value(json_object_get(cd, "memory"))));
    json_object_set_new(doc, "Type", json_string("NORMAL"));
    json_object_set_new(doc, "ContainerARN", json_string(str(jc, "containerArn")));
    json_array_foreach(json_object_get(jc, "networkBindings"), i, b)
        json_array_append_new(ports,
                              json_pack("{sO ss sO ss}", "ContainerPort",
                                        json_object_get(b, "containerPort"), "Protocol",
                                        str(b, "protocol"), "HostPort",
                                        json_object_get(b, "hostPort"), "HostIp",
                                        str(b, "bindIP")));
    if (json_array_size(ports))
        json_object_set_new(doc, "Ports", ports);
    else
        json_decref(ports);
    if (json_object_get(cd, "healthCheck"))
        json_object_set_new(doc, "Health",
                            json_pack("{ss}", "status", jc ? str(jc, "healthStatus") : "UNKNOWN"));
    if (json_is_integer(json_object_get(jc, "exitCode")))
        json_object_set(doc, "ExitCode", json_object_get(jc, "exitCode"));
    return doc;
}

static json_t *task_doc(struct task_metadata *tm, json_t *task, json_t *td, const char *key)
{
    json_t *doc, *limits = json_object(), *list = json_array();
    const char *arn = str(task, "taskArn"), *region = arn;
    char az[80], rev[24];
    struct tm_entry *e;
    long cpu, mem;
    int k;

    /* arn:aws:ecs:REGION:ACCOUNT:task/... */
    for (k = 0; k < 3 && region; k++)
        region = strchr(region, ':') ? strchr(region, ':') + 1 : NULL;
    snprintf(az, sizeof(az), "%.*sa", region ? (int)strcspn(region, ":") : 0, region ? region : "");
    snprintf(rev, sizeof(rev), "%lld", (long long)json_integer_value(json_object_get(td, "revision")));
    ecs_task_size(task, &cpu, &mem); /* its definition's, or RunTask's override */
    if (cpu >= 0)
        json_object_set_new(limits, "CPU", json_real((double)cpu / 1024.0));
    if (mem >= 0)
        json_object_set_new(limits, "Memory", json_integer(mem));
    doc = json_pack("{ss ss ss ss ss ss so ss ss}", "Cluster", str(task, "clusterArn"), "TaskARN",
                    arn, "Family", str(td, "family"), "Revision", rev, "DesiredStatus",
                    str(task, "desiredStatus"), "KnownStatus", str(task, "lastStatus"), "Limits",
                    limits, "AvailabilityZone", az, "LaunchType",
                    json_is_string(json_object_get(task, "launchType")) ? str(task, "launchType")
                                                                        : "EC2");
    iso(doc, "PullStartedAt", json_object_get(task, "pullStartedAt"));
    iso(doc, "PullStoppedAt", json_object_get(task, "pullStoppedAt"));
    pthread_mutex_lock(&tm->mu);
    for (e = tm->entries; e; e = e->next)
        if (strcmp(e->task_key, key) == 0)
            json_array_append_new(list, task_metadata_container(task, td, e->name, e->facts));
    pthread_mutex_unlock(&tm->mu);
    json_object_set_new(doc, "Containers", list);
    return doc;
}

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    json_t *j = json_pack("{ss}", "error", msg);
    char *b = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    return b ? reply(c, status, b) : MHD_NO;
}

/* The document for /v4/<id>[/task]: a new reference, or NULL (404). */
static json_t *lookup(struct task_metadata *tm, const char *id, int want_task)
{
    char key[512] = "", name[256] = "";
    json_t *facts = NULL, *task, *td = NULL, *doc;
    struct store_txn *txn;
    struct sl_err err = {0};
    struct tm_entry *e;

    pthread_mutex_lock(&tm->mu);
    for (e = tm->entries; e; e = e->next)
        if (strcmp(e->id, id) == 0) {
            snprintf(key, sizeof(key), "%s", e->task_key);
            snprintf(name, sizeof(name), "%s", e->name);
            facts = json_incref(e->facts);
            break;
        }
    pthread_mutex_unlock(&tm->mu);
    if (key[0] == '\0' || store_read_begin(tm->store, &txn, &err) != SL_OK) {
        json_decref(facts);
        return NULL;
    }
    if ((task = store_get(txn, K_ECS_TASK, key)) != NULL)
        td = ecs_taskdef_find(txn, str(task, "taskDefinitionArn"));
    store_txn_end(txn);
    doc = task == NULL ? NULL
          : want_task  ? task_doc(tm, task, td, key)
                       : task_metadata_container(task, td, name, facts);
    json_decref(task);
    json_decref(td);
    json_decref(facts);
    return doc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct task_metadata *tm = cls;
    char id[40];
    const char *p, *rest;
    json_t *doc;
    char *body;
    size_t n;

    (void)version;
    (void)upload;
    if (*con_cls == NULL) { /* headers only so far */
        *con_cls = tm;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* bodies are ignored */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return error(c, 405, "the task metadata endpoint is read-only");
    if (strncmp(url, "/v4/", 4) != 0)
        return error(c, 404, "not found");
    p = url + 4;
    n = strcspn(p, "/");
    rest = p + n;
    if (n == 0 || n >= sizeof(id) || (*rest && strcmp(rest, "/task") != 0))
        return error(c, 404, "not found");
    memcpy(id, p, n);
    id[n] = '\0';
    if ((doc = lookup(tm, id, *rest != '\0')) == NULL)
        return error(c, 404, "not found");
    body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return body ? reply(c, 200, body) : MHD_NO;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("task metadata: %s", line);
}

/* A listening socket on <addr>:<port>, bound even before the address exists. */
static int listen_on(const char *addr, int port, struct sl_err *err)
{
    struct sockaddr_in a;
    int fd, one = 1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
        return sl_err_set(err, 500, "InvalidParameter",
                          "task metadata address '%.100s' is not an IPv4 address", addr);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return sl_err_set(err, 500, "InternalFailure", "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0) {
        sl_err_set(err, 500, "InternalFailure", "task metadata endpoint %s:%d: %s", addr, port,
                   strerror(errno));
        close(fd);
        return SL_ERR;
    }
    return fd;
}

int task_metadata_start(struct store *store, const char *addr, int port,
                        struct task_metadata **out, struct sl_err *err)
{
    struct task_metadata *tm = calloc(1, sizeof(*tm));
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    if (tm == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if ((tm->fd = listen_on(addr, port, err)) < 0) {
        free(tm);
        return SL_ERR;
    }
    getsockname(tm->fd, (struct sockaddr *)&a, &al);
    tm->port = ntohs(a.sin_port);
    tm->store = store;
    pthread_mutex_init(&tm->mu, NULL);
    snprintf(tm->base, sizeof(tm->base), "http://%s:%d", addr, tm->port);
    tm->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
                             0, NULL, NULL, handle, tm, MHD_OPTION_LISTEN_SOCKET, tm->fd,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                             MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (tm->d == NULL) {
        close(tm->fd);
        pthread_mutex_destroy(&tm->mu);
        free(tm);
        return sl_err_set(err, 500, "InternalFailure", "cannot start the task metadata endpoint");
    }
    *out = tm;
    return SL_OK;
}

const char *task_metadata_base(const struct task_metadata *tm)
{
    return tm->base;
}

int task_metadata_port(const struct task_metadata *tm)
{
    return tm->port;
}

void task_metadata_put(struct task_metadata *tm, const char *id, const char *task_key,
                       const char *name, json_t *facts)
{
    struct tm_entry *e;

    pthread_mutex_lock(&tm->mu);
    for (e = tm->entries; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            break;
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->next = tm->entries;
        tm->entries = e;
    }
    if (e) {
        snprintf(e->task_key, sizeof(e->task_key), "%s", task_key);
        snprintf(e->name, sizeof(e->name), "%s", name);
        json_decref(e->facts);
        e->facts = facts;
    } else {
        json_decref(facts);
    }
    pthread_mutex_unlock(&tm->mu);
}

void task_metadata_del(struct task_metadata *tm, const char *id)
{
    struct tm_entry **pp, *e;

    pthread_mutex_lock(&tm->mu);
    for (pp = &tm->entries; (e = *pp) != NULL; pp = &e->next)
        if (strcmp(e->id, id) == 0) {
            *pp = e->next;
            json_decref(e->facts);
            free(e);
            break;
        }
    pthread_mutex_unlock(&tm->mu);
}

void task_metadata_stop(struct task_metadata *tm)
{
    struct tm_entry *e, *next;

    if (tm == NULL)
        return;
    MHD_stop_daemon(tm->d); /* closes the listening socket too */
    for (e = tm->entries; e; e = next) {
        next = e->next;
        json_decref(e->facts);
        free(e);
    }
    pthread_mutex_destroy(&tm->mu);
    free(tm);
}
