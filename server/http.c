/*
 * http.c - libmicrohttpd front door.
 *
 * No thread per connection: libmicrohttpd runs HTTP_POLL_THREADS epoll
 * threads, so an idle or slow connection costs a socket and a little memory,
 * not a thread.  The acceptor (acceptor.h) hands connections over one at a
 * time, so they spread over the threads, and caps the total.  A request
 * runs on its connection's polling thread, as it did on a thread of its
 * own: an API call blocks there on LMDB or the store's group commit, which
 * is why there are more polling threads than cores.  The data plane's
 * snapshot and report and a container's log, which can wait for seconds,
 * run on a small pool (workers.h) while their connection is suspended, and
 * the watch stream parks between revisions (park.h).  Slow clients are cut
 * off (conntrack.h), and libmicrohttpd bounds connections per client
 * address.
 *
 * A request's head is judged before its body is read (check_head()): the
 * browser guard without credentials (guard.h), the size limit, the
 * credentials and role with them (auth_precheck()), and the budget of body
 * bytes buffered across all connections.  Bodies are buffered up to
 * FRONT_MAX_BODY; beyond that the request gets 413 in its protocol's format.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "routes/api/front.h"
#include "routes/api/openapi.h"
#include "server/acceptor.h"
#include "server/api_log.h"
#include "server/auth.h"
#include "server/conntrack.h"
#include "server/dataplane.h"
#include "server/guard.h"
#include "server/http_tls.h"
#include "server/metrics.h"
#include "server/park.h"
#include "server/task_logs.h"
#include "server/ui.h"
#include "server/workers.h"

#define MAX_HEADERS       128
#define HTTP_POLL_THREADS 16 /* blocking API calls run here: concurrent ones need threads */
#define HTTP_WORKERS      8  /* the data plane's snapshot and report */
#define BODY_BUDGET       ((size_t)32 << 20) /* buffered request bodies, all connections */
#define FD_RESERVE        512                /* descriptors kept for the store, tasks, ... */
#define STOP_FLUSH_MS     5000               /* for answered requests to reach their clients */
#define TRIM_AFTER_BYTES  (64 * 1024)

struct http_server {
    struct app *app;
    struct MHD_Daemon *d;
    struct acceptor *acc;
    struct workers *workers;
    struct conntrack *ct;
    struct http_tls *tls; /* NULL: plain HTTP */
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t body_bytes; /* buffered now, every connection */
    unsigned running;  /* requests on the worker pool: their connections are suspended */
    unsigned pending;  /* requests handed to the pool whose response is not yet sent */
    int stopping;
};

enum door { DOOR_QUERY, DOOR_JSON11, DOOR_REST, DOOR_PLAIN };

/* head read -> body being read -> on the pool -> answer ready -> answer queued */
enum phase { PH_HEAD = 0, PH_BODY, PH_RUNNING, PH_DONE, PH_ANSWERED };

struct hdr_collect {
    struct auth_header h[MAX_HEADERS];
    size_t n;
};

/* One request, from its head to the completion callback. */
struct req_state {
    struct workers_job job; /* first: the pool hands it back */
    struct http_server *h;
    struct MHD_Connection *c;
    const char *method, *url; /* libmicrohttpd's, valid for the request */
    char *raw_uri;            /* as sent, percent-encoding intact (SigV4 signs it) */
    enum door door;
    enum phase phase;
    int bearer;     /* authenticated by a bearer token in the head */
    int dispatched; /* counted in h->pending */
    int refused;    /* answer refusal once the body is in (read and dropped) */
    struct buf body;
    size_t charged; /* of body, counted in h->body_bytes */
    struct sl_err *refusal;
    struct front_reply reply;
    char rid[37];
    char principal[48]; /* the access key that signed (logged; longer ones cut) */
    uint64_t t0_us;     /* the head's arrival, for the API log and metrics */
};
/* Kept under 1 KiB (malloc's small bins): a larger allocation per request
 * makes glibc consolidate its fast bins every time (5 % of a read). */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct hdr_collect *c = cls;

    if (c->n < MAX_HEADERS) {
        c->h[c->n].name = key;
        c->h[c->n].value = value ? value : "";
        c->n++;
    }
    return MHD_YES;
}

/* The first header <name> of <st>, NULL if none. */
static const char *header(const struct req_state *st, const char *name)
{
    return MHD_lookup_connection_value(st->c, MHD_HEADER_KIND, name);
}

static void pct_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_putc(b, (char)c);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct buf *b = cls;

    if (b->len)
        buf_putc(b, '&');
    pct_encode(b, key);
    buf_putc(b, '=');
    pct_encode(b, value ? value : "");
    return MHD_YES;
}

static const char *lookup_arg(void *cls, const char *name)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static enum door door_for(const char *method, const char *url, struct MHD_Connection *c)
{
    /* GET /metrics and the dashboard's data are authenticated as REST is */
    if (strcmp(url, "/metrics") == 0 || ui_needs_auth(url))
        return DOOR_REST;
    if (strncmp(url, "/v1/", 4) == 0 || strcmp(url, "/v1") == 0)
        return DOOR_REST;
    if (strcmp(url, "/") == 0 && strcmp(method, "POST") == 0)
        return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target") ? DOOR_JSON11
                                                                               : DOOR_QUERY;
    return DOOR_PLAIN;
}

static int is_dataplane(const char *url)
{
    return strncmp(url, "/v1/dataplane/", 14) == 0;
}

static int is_task_logs(const char *url)
{
    return strncmp(url, TASK_LOGS_PREFIX, strlen(TASK_LOGS_PREFIX)) == 0;
}

static void door_error(enum door d, const struct sl_err *e, const char *rid,
                       struct front_reply *out)
{
    struct sl_err j;

    switch (d) {
    case DOOR_QUERY:
        front_query_error(e, rid, out);
        break;
    case DOOR_JSON11:
        /* JSON 1.1 codes are exception names (ECS's AccessDeniedException). */
        j = *e;
        if (strcmp(e->code, "AccessDenied") == 0)
            snprintf(j.code, sizeof(j.code), "AccessDeniedException");
        else if (strcmp(e->code, "ServiceUnavailable") == 0)
            snprintf(j.code, sizeof(j.code), "ServiceUnavailableException");
        front_json11_error(&j, out);
        break;
    default:
        front_rest_error(e->status, e->code, e->message, out);
        break;
    }
}

static struct ct_conn *tracked(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* The API log line and counters of the answer in st->reply (api_log.h). */
static void log_api(struct http_server *h, struct req_state *st)
{
    struct api_log_req r = {st->method, st->url, st->reply.action,
                            st->door == DOOR_QUERY || st->door == DOOR_JSON11, st->principal,
                            st->rid, st->reply.status ? st->reply.status : 500,
                            api_log_now_us() - st->t0_us};

    api_log_request(h->app->metrics, &r);
}

static enum MHD_Result send_reply(struct http_server *h, struct req_state *st)
{
    struct front_reply *r = &st->reply;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t len;
    char *body = buf_steal(&r->body, &len);

    log_api(h, st);
    resp = MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                           body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->location[0])
        MHD_add_response_header(resp, "Location", r->location);
    if (r->status == 503)
        MHD_add_response_header(resp, "Retry-After", "1");
    MHD_add_response_header(resp, "x-amzn-RequestId", st->rid);
    ret = MHD_queue_response(st->c, (unsigned)(r->status ? r->status : 500), resp);
    MHD_destroy_response(resp);
    st->phase = PH_ANSWERED;
    /* The client now has the timeout to take the response. */
    conntrack_arm(h->ct, tracked(st->c));
    return ret;
}

static enum MHD_Result answer_error(struct http_server *h, struct req_state *st,
                                    const struct sl_err *e)
{
    door_error(st->door, e, st->rid, &st->reply);
    return send_reply(h, st);
}

/* ---- the head: judged before any of the body is read -------------------- */

/* <hc> is the caller's (2 KiB: on its stack, not in every request's state). */
static void fill_auth_request(const struct req_state *st, struct hdr_collect *hc,
                              struct auth_request *ar)
{
    hc->n = 0;
    MHD_get_connection_values(st->c, MHD_HEADER_KIND, collect_header, hc);
    memset(ar, 0, sizeof(*ar));
    ar->method = st->method;
    ar->headers = hc->h;
    ar->nheaders = hc->n;
    ar->now = time(NULL);
}

/* With credentials: who signed, and may that key do this? */
static int check_identity(struct http_server *h, struct req_state *st, struct sl_err *err)
{
    struct hdr_collect hc;
    struct auth_identity id;
    struct auth_request ar;
    const char *authz;

    fill_auth_request(st, &hc, &ar);
    if (auth_precheck(h->app->creds, &ar, st->door == DOOR_REST, &id, err) != SL_OK)
        return SL_ERR;
    snprintf(st->principal, sizeof(st->principal), "%.*s", (int)sizeof(st->principal) - 1,
             id.access_key);
    authz = header(st, "Authorization");
    st->bearer = authz && strncasecmp(authz, "Bearer ", 7) == 0;
    if (strcmp(st->url, "/v1/dataplane/report") == 0 && id.role != CREDS_ROLE_PROXY)
        return sl_err_set(err, 403, "AccessDenied",
                          "Only a proxy's key may report: mark its credentials section "
                          "with sluice_role = proxy (key %s is not one).",
                          id.access_key);
    if (id.role == CREDS_ROLE_PROXY && !is_dataplane(st->url))
        return sl_err_set(err, 403, "AccessDenied",
                          "Key %s is a proxy's (sluice_role = proxy): it may only use "
                          "/v1/dataplane/.",
                          id.access_key);
    return SL_OK;
}

static size_t body_room(struct http_server *h)
{
    size_t room;

    pthread_mutex_lock(&h->mu);
    room = h->body_bytes < BODY_BUDGET ? BODY_BUDGET - h->body_bytes : 0;
    pthread_mutex_unlock(&h->mu);
    return room;
}

static int busy(struct sl_err *err)
{
    return sl_err_set(err, 503, "ServiceUnavailable",
                      "sluiced is holding %zu MiB of request bodies from other clients; retry",
                      BODY_BUDGET >> 20);
}

static enum MHD_Result guard_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct guard_request *g = cls;

    value = value ? value : "";
    if (strcasecmp(key, "Host") == 0 && g->nhost++ == 0)
        g->host = value;
    else if (strcasecmp(key, "Origin") == 0 && g->norigin++ == 0)
        g->origin = value;
    else if (strcasecmp(key, "Sec-Fetch-Site") == 0 && g->sec_fetch_site == NULL)
        g->sec_fetch_site = value;
    return MHD_YES;
}

static int check_head(struct http_server *h, struct req_state *st, struct sl_err *err)
{
    const char *cl = header(st, "Content-Length");
    unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;

    if (h->app->guard) {
        struct guard_request g = {0};

        /* every header, not the first MAX_HEADERS: a page may send many */
        MHD_get_connection_values(st->c, MHD_HEADER_KIND, guard_header, &g);
        if (guard_check(h->app->guard, &g, err) != SL_OK)
            return SL_ERR;
    }
    if (len > FRONT_MAX_BODY)
        return sl_err_set(err, 413, "RequestEntityTooLarge", "request body exceeds %d bytes",
                          FRONT_MAX_BODY);
    if (h->app->creds && st->door != DOOR_PLAIN && check_identity(h, st, err) != SL_OK)
        return SL_ERR;
    if (len > body_room(h))
        return busy(err);
    if (len > 0 && (st->body.data = malloc((size_t)len + 1)) != NULL) {
        st->body.cap = (size_t)len + 1; /* one allocation, not doublings */
        st->body.data[0] = '\0';
    }
    return SL_OK;
}

static void release_body(struct http_server *h, struct req_state *st)
{
    pthread_mutex_lock(&h->mu);
    h->body_bytes -= st->charged;
    pthread_mutex_unlock(&h->mu);
    st->charged = 0;
    buf_free(&st->body);
}

static const struct sl_err OOM = {500, "InternalFailure", "out of memory"};

/* Where a refusal found in the body is written (allocated then: it is 580
 * bytes and rare), or NULL without memory (sl_err_set() takes NULL, and the
 * answer is OOM); st->refused is set either way. */
static struct sl_err *refuse(struct req_state *st)
{
    st->refused = 1;
    if (st->refusal == NULL)
        st->refusal = calloc(1, sizeof(*st->refusal));
    return st->refusal;
}

static void on_body(struct http_server *h, struct req_state *st, const char *p, size_t n)
{
    int over;

    if (st->refused)
        return; /* refused: the rest is read and dropped */
    if (st->body.len + n > FRONT_MAX_BODY) {
        sl_err_set(refuse(st), 413, "RequestEntityTooLarge", "request body exceeds %d bytes",
                   FRONT_MAX_BODY);
        release_body(h, st);
        return;
    }
    pthread_mutex_lock(&h->mu);
    over = h->body_bytes + n > BODY_BUDGET;
    if (!over) {
        h->body_bytes += n;
        st->charged += n;
    }
    pthread_mutex_unlock(&h->mu);
    if (over) {
        busy(refuse(st));
        release_body(h, st);
        return;
    }
    buf_append(&st->body, p, n);
}

/* ---- the request: inline, or on the worker pool ------------------------- */

/* Authenticate per DESIGN: SigV4 for every door, Bearer tokens for REST
 * (checked with the head already). */
static int authenticate(struct http_server *h, struct req_state *st, struct sl_err *err)
{
    const char *raw_uri = st->raw_uri ? st->raw_uri : st->url;
    char raw_path[4096];
    size_t pl = strcspn(raw_uri, "?");
    struct hdr_collect hc;
    struct auth_request ar;
    struct buf q;
    int rc;

    if (h->app->creds == NULL || st->bearer)
        return SL_OK;
    if (pl >= sizeof(raw_path))
        return sl_err_set(err, 400, "InvalidURI", "request path too long");
    memcpy(raw_path, raw_uri, pl);
    raw_path[pl] = '\0';
    buf_init(&q);
    MHD_get_connection_values(st->c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    fill_auth_request(st, &hc, &ar);
    ar.path = raw_path;
    ar.query = q.data ? q.data : "";
    ar.body = st->body.data ? st->body.data : "";
    ar.body_len = st->body.len;
    rc = auth_verify_sigv4(h->app->creds, &ar, NULL, err);
    buf_free(&q);
    return rc;
}

static void front_request_of(struct req_state *st, struct front_request *fr)
{
    memset(fr, 0, sizeof(*fr));
    fr->method = st->method;
    fr->path = st->url;
    fr->arg = lookup_arg;
    fr->arg_cls = st->c;
    fr->body = st->body.data ? st->body.data : "";
    fr->body_len = st->body.len;
    fr->content_type = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND, "Content-Type");
}

/* Authenticate and run the operation into st->reply (polling thread or pool). */
static void execute(struct http_server *h, struct req_state *st)
{
    struct app *app = h->app;
    struct front_request fr;
    struct sl_err err = {0};
    struct api_ctx ctx;

    if (authenticate(h, st, &err) != SL_OK) {
        door_error(st->door, &err, st->rid, &st->reply);
        return;
    }
    api_ctx_init(&ctx, app->store, app->cfg->region, app->cfg->account_id, app->health, st->rid);
    ctx.acm.ca = app->ca;
    front_request_of(st, &fr);
    switch (st->door) {
    case DOOR_QUERY:
        front_query(&ctx, &fr, &st->reply);
        break;
    case DOOR_JSON11:
        front_json11(&ctx, header(st, "X-Amz-Target"), &fr, &st->reply);
        break;
    default:
        if (is_dataplane(st->url) && app->dataplane)
            dataplane_handle(app->dataplane, st->c, &fr, &st->reply);
        else if (is_task_logs(st->url))
            task_logs_handle(app, &fr, &st->reply);
        else if (strcmp(st->url, "/metrics") == 0)
            metrics_handle(app, &fr, &st->reply);
        else if (ui_path(st->url) && app->ui)
            ui_handle(app->ui, st->c, &fr, &st->reply);
        else
            front_rest(&ctx, &fr, &st->reply);
        break;
    }
    /* Decoding a large body leaves this thread's malloc arena holding its
     * peak (16 threads and more, up to 16 arenas): give the pages back. */
    if (st->body.len > TRIM_AFTER_BYTES)
        malloc_trim(0);
}

static void run_request(struct workers_job *j)
{
    struct req_state *st = (struct req_state *)j;
    struct http_server *h = st->h;

    execute(h, st);
    st->phase = PH_DONE;
    /* After this the polling thread may answer and free st. */
    MHD_resume_connection(st->c);
    pthread_mutex_lock(&h->mu);
    h->running--;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result dispatch(struct http_server *h, struct req_state *st)
{
    struct sl_err err = {0};

    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        sl_err_set(&err, 503, "ServiceUnavailable", "sluiced is shutting down; retry");
        return answer_error(h, st, &err);
    }
    h->running++;
    h->pending++;
    st->dispatched = 1;
    st->phase = PH_RUNNING;
    conntrack_disarm(h->ct, tracked(st->c));
    MHD_suspend_connection(st->c);
    pthread_mutex_unlock(&h->mu);
    st->job.run = run_request;
    if (workers_push(h->workers, &st->job) != SL_OK)
        run_request(&st->job); /* not reached: the pool stops after every request */
    return MHD_YES;
}

static void serve_plain(const char *method, const char *url, int ui, struct front_reply *out)
{
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/openapi.json") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            snprintf(out->allow, sizeof(out->allow), "GET, HEAD");
            front_rest_error(405, "MethodNotAllowed", "use GET", out);
            out->status = 405;
            return;
        }
        out->status = 200;
        out->content_type = "application/json";
        if (strcmp(url, "/healthz") == 0)
            buf_puts(&out->body, "{\"status\":\"ok\"}\n");
        else
            buf_append(&out->body, openapi_json, openapi_json_len);
        return;
    }
    if (strcmp(url, "/") == 0) {
        if (ui && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
            /* a person with a browser: the AWS APIs are POST only */
            out->status = 302;
            snprintf(out->location, sizeof(out->location), "/ui");
            out->content_type = "text/plain";
            buf_puts(&out->body, "the dashboard is at /ui; the AWS API endpoint accepts POST / "
                                 "(Query or JSON 1.1), the REST API is under /v1 (/openapi.json)\n");
            return;
        }
        snprintf(out->allow, sizeof(out->allow), "POST");
        front_rest_error(405, "MethodNotAllowed",
                         "the AWS API endpoint accepts POST / (Query or JSON 1.1)", out);
        return;
    }
    front_rest_error(404, "NotFound", "no such path", out);
}

/* The data plane's watch and the dashboard's events are streams queued from
 * the polling thread (libmicrohttpd takes a response only there); they do
 * not block: their readers park. */
static int is_stream(struct http_server *h, const struct req_state *st)
{
    if (strcmp(st->method, "GET") != 0)
        return 0;
    return (strcmp(st->url, "/v1/dataplane/watch") == 0 && h->app->dataplane) ||
           (strcmp(st->url, "/ui/api/events") == 0 && h->app->ui);
}

static enum MHD_Result serve_stream(struct http_server *h, struct req_state *st)
{
    struct front_request fr;
    struct sl_err err = {0};
    enum MHD_Result ret;

    if (authenticate(h, st, &err) != SL_OK)
        return answer_error(h, st, &err);
    front_request_of(st, &fr);
    if (ui_path(st->url))
        ret = ui_handle(h->app->ui, st->c, &fr, &st->reply);
    else
        ret = dataplane_handle(h->app->dataplane, st->c, &fr, &st->reply);
    if (st->reply.status == 0) { /* a stream was queued: no deadline while it lasts */
        st->phase = PH_ANSWERED;
        conntrack_disarm(h->ct, tracked(st->c));
        return ret;
    }
    return send_reply(h, st);
}

static enum MHD_Result on_request(struct http_server *h, struct req_state *st)
{
    struct sl_err err = {0};

    if (st->refused)
        return answer_error(h, st, st->refusal ? st->refusal : &OOM);
    if (buf_failed(&st->body)) {
        sl_err_set(&err, 500, "InternalFailure", "out of memory");
        return answer_error(h, st, &err);
    }
    if (st->door == DOOR_PLAIN) {
        if (ui_path(st->url) && h->app->ui) { /* the page and its assets */
            struct front_request fr;
            front_request_of(st, &fr);
            ui_handle(h->app->ui, st->c, &fr, &st->reply);
        } else {
            serve_plain(st->method, st->url, h->app->ui != NULL, &st->reply);
        }
        return send_reply(h, st);
    }
    if (is_stream(h, st))
        return serve_stream(h, st);
    /* The data plane's snapshot waits for its revision to be durable, a
     * report may finish drains in a write, and a container's log may take
     * an engine call of seconds: those wait on the pool.  The API runs on
     * its polling thread, as a thread per connection would: a hand-off
     * there and back costs a read more than the read itself. */
    if (is_dataplane(st->url) || is_task_logs(st->url))
        return dispatch(h, st);
    execute(h, st);
    return send_reply(h, st);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct http_server *h = cls;
    struct req_state *st = *con_cls;
    struct sl_err err;

    if (st == NULL)
        return MHD_NO; /* uri_start() failed to allocate */
    switch (st->phase) {
    case PH_HEAD:
        st->t0_us = api_log_now_us();
        st->c = c;
        st->url = url;
        st->method = method;
        st->phase = PH_BODY;
        st->door = door_for(method, url, c);
        if (check_head(h, st, &err) != SL_OK)
            return answer_error(h, st, &err); /* the body is never read */
        return MHD_YES;
    case PH_BODY:
        if (*upload_size != 0) {
            on_body(h, st, upload, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        return on_request(h, st);
    case PH_DONE:
        return send_reply(h, st);
    case PH_ANSWERED:
        *upload_size = 0; /* answered from the head: the rest is dropped */
        return MHD_YES;
    default:
        return MHD_YES; /* PH_RUNNING: not called while suspended */
    }
}

/* ---- connection and request lifecycle ----------------------------------- */

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct http_server *h = cls;
    struct req_state *st = *con_cls;

    if (st == NULL)
        return;
    release_body(h, st);
    if (st->dispatched) {
        pthread_mutex_lock(&h->mu);
        h->pending--;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
    front_reply_free(&st->reply);
    free(st->refusal);
    free(st->raw_uri);
    free(st);
    *con_cls = NULL;
    /* The next request on this connection has the timeout to arrive. */
    conntrack_arm(h->ct, tracked(c));
}

/* Called by libmicrohttpd as each request starts, with the raw URI; the
 * return value becomes the request's *con_cls. */
static void *uri_start(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct req_state *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return NULL;
    st->h = cls;
    buf_init(&st->body);
    front_reply_init(&st->reply);
    util_request_id(st->rid);
    st->raw_uri = strdup(uri ? uri : "/");
    return st;
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *h = cls;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? conntrack_open(h->ct, ci->connect_fd) : NULL;
    } else {
        conntrack_close(h->ct, *socket_context); /* before the socket is closed */
        *socket_context = NULL;
        acceptor_closed(h->acc);
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("microhttpd: %s", line);
}

/* ---- start and stop ----------------------------------------------------- */

/* Room in the open-file limit for <*max> connections: the soft limit is
 * raised as far as the hard one allows; a default that does not fit is
 * lowered, an explicit --max-connections that does not fit is refused. */
static int fit_descriptors(const struct sl_config *cfg, int *max, struct sl_err *err)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)*max + FD_RESERVE;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return SL_OK;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= need)
        return SL_OK;
    if (cfg->max_connections_set || rl.rlim_cur < 2 * FD_RESERVE)
        return sl_err_set(err, 500, "InternalFailure",
                          "--max-connections %d needs %d open files, but the limit is %llu "
                          "(ulimit -n): raise it or lower --max-connections",
                          *max, *max + FD_RESERVE, (unsigned long long)rl.rlim_cur);
    *max = (int)rl.rlim_cur - FD_RESERVE;
    log_warn("open-file limit %llu: serving at most %d connections (--max-connections)",
             (unsigned long long)rl.rlim_cur, *max);
    return SL_OK;
}

static int listen_addr(const struct sl_config *cfg, struct sockaddr_storage *ss, socklen_t *len,
                       struct sl_err *err)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *len = sizeof(*in4);
    if (inet_pton(AF_INET, cfg->listen_host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)cfg->listen_port);
    } else if (inet_pton(AF_INET6, cfg->listen_host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->listen_port);
        *len = sizeof(*in6);
    } else if (strcmp(cfg->listen_host, "localhost") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in4->sin_port = htons((uint16_t)cfg->listen_port);
    } else {
        return sl_err_set(err, 500, "InternalFailure", "--listen: '%s' is not an IP address",
                          cfg->listen_host);
    }
    return SL_OK;
}

/* The acceptor's hand-over: libmicrohttpd takes the socket (and closes it
 * if it cannot serve it). */
static int add_connection(void *arg, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct http_server *h = arg;

    return MHD_add_connection(h->d, fd, sa, len) == MHD_YES ? 0 : -1;
}

static void server_free(struct http_server *h)
{
    acceptor_free(h->acc);
    if (h->d)
        MHD_stop_daemon(h->d);
    workers_stop(h->workers);
    conntrack_stop(h->ct);
    http_tls_free(h->tls);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* The total is the acceptor's: libmicrohttpd divides its own limit among
 * its threads, so each may take them all. */
static struct MHD_Daemon *start_daemon(struct http_server *h, int max_conn)
{
    const struct sl_config *cfg = h->app->cfg;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | http_tls_flags(h->tls);

    /* 32 KiB per connection (libmicrohttpd's default) holds the headers of
     * any API request (larger get 431); bodies stream through handle().
     * The pool is cleared for every request, so a larger one costs each
     * request a larger memset. */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, handle, h, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_POLL_THREADS,
        MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_NOTIFY_CONNECTION, notify_connection,
        h, MHD_OPTION_URI_LOG_CALLBACK, uri_start, h, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->client_timeout, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)max_conn * HTTP_POLL_THREADS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections_per_client, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(32 * 1024), MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_ARRAY,
        http_tls_options(h->tls), MHD_OPTION_END);
}

int http_start(struct app *app, struct http_server **out, struct sl_err *err)
{
    const struct sl_config *cfg = app->cfg;
    struct sockaddr_storage ss;
    struct http_server *h;
    socklen_t len;
    int max_conn = cfg->max_connections;

    if (listen_addr(cfg, &ss, &len, err) != SL_OK || fit_descriptors(cfg, &max_conn, err) != SL_OK)
        return SL_ERR;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    h->app = app;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (http_tls_load(cfg, &h->tls, err) != SL_OK) {
        server_free(h);
        return SL_ERR;
    }
    if (workers_start(HTTP_WORKERS, &h->workers) != SL_OK ||
        conntrack_start(cfg->client_timeout * 1000, &h->ct) != SL_OK ||
        (h->d = start_daemon(h, max_conn)) == NULL) {
        server_free(h);
        return sl_err_set(err, 500, "InternalFailure", "cannot start the HTTP server's threads");
    }
    if (acceptor_start((struct sockaddr *)&ss, len, max_conn, add_connection, h, &h->port, &h->acc,
                       err) != SL_OK) {
        sl_err_set(err, 500, "InternalFailure", "cannot listen on %s:%d: %s", cfg->listen_host,
                   cfg->listen_port, err->message);
        server_free(h);
        return SL_ERR;
    }
    *out = h;
    return SL_OK;
}

int http_port(const struct http_server *h)
{
    return h->port;
}

void http_stop(struct http_server *h)
{
    struct timespec ts;

    if (h == NULL)
        return;
    acceptor_close(h->acc); /* no new connections */
    pthread_mutex_lock(&h->mu);
    h->stopping = 1; /* no new request reaches the pool */
    /* libmicrohttpd must find no connection suspended: wait for the pool. */
    while (h->running > 0)
        pthread_cond_wait(&h->cv, &h->mu);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += STOP_FLUSH_MS / 1000;
    while (h->pending > 0 && pthread_cond_timedwait(&h->cv, &h->mu, &ts) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&h->mu);
    park_close(h->app->park); /* watch streams end */
    MHD_stop_daemon(h->d);
    h->d = NULL;
    server_free(h);
}
