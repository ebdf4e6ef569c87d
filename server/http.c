/*
 * http.c - libmicrohttpd front door.
 *
 * A thread per connection: operations block on LMDB reads and on the store's
 * group commit, and the data-plane watch stream is long-lived, so a
 * connection owns its thread.  Bodies are buffered up to FRONT_MAX_BODY;
 * beyond that the request gets 413 in its protocol's format.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "routes/api/front.h"
#include "routes/api/openapi.h"
#include "server/auth.h"
#include "server/dataplane.h"
#include "server/metrics.h"
#include "server/ui.h"
#include "server/task_logs.h"

#define MAX_HEADERS 128

struct http_server {
    struct app *app;
    struct MHD_Daemon *d;
    int port;
};

struct req_state {
    struct buf body;
    char *raw_uri; /* as sent, percent-encoding intact (SigV4 signs it) */
    int started;
    int too_large;
};

enum door { DOOR_QUERY, DOOR_JSON11, DOOR_REST, DOOR_PLAIN };

struct hdr_collect {
    struct auth_header h[MAX_HEADERS];
    size_t n;
};

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

static void door_error(enum door d, const struct sl_err *e, const char *rid,
                       struct front_reply *out)
{
    switch (d) {
    case DOOR_QUERY:
        front_query_error(e, rid, out);
        break;
    case DOOR_JSON11:
        front_json11_error(e, out);
        break;
    default:
        front_rest_error(e->status, e->code, e->message, out);
        break;
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct front_reply *r,
                                  const char *rid)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t len;
    char *body = buf_steal(&r->body, &len);

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
    MHD_add_response_header(resp, "x-amzn-RequestId", rid);
    ret = MHD_queue_response(c, (unsigned)(r->status ? r->status : 500), resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Authenticate per DESIGN: SigV4 for every door, Bearer tokens for REST. */
static int authenticate(struct app *app, struct MHD_Connection *c, enum door d,
                        const char *method, const char *raw_uri, const struct buf *body,
                        struct sl_err *err)
{
    char raw_path[4096];
    size_t pl = strcspn(raw_uri, "?");
    struct hdr_collect hc = {.n = 0};
    struct auth_identity id;
    struct auth_request ar;
    struct buf q;
    const char *authz;
    int rc;

    if (app->creds == NULL)
        return SL_OK;
    if (pl >= sizeof(raw_path))
        return sl_err_set(err, 400, "InvalidURI", "request path too long");
    memcpy(raw_path, raw_uri, pl);
    raw_path[pl] = '\0';
    authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (d == DOOR_REST && authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        if (auth_verify_bearer(app->creds, authz + 7, &id) == SL_OK)
            return SL_OK;
        return sl_err_set(err, 403, "InvalidClientTokenId", "The bearer token is not valid.");
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hc);
    buf_init(&q);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    memset(&ar, 0, sizeof(ar));
    ar.method = method;
    ar.path = raw_path;
    ar.query = q.data ? q.data : "";
    ar.headers = hc.h;
    ar.nheaders = hc.n;
    ar.body = body->data ? body->data : "";
    ar.body_len = body->len;
    ar.now = time(NULL);
    rc = auth_verify_sigv4(app->creds, &ar, &id, err);
    buf_free(&q);
    return rc;
}

static void serve_plain(struct app *app, const char *method, const char *url,
                        struct front_reply *out)
{
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/openapi.json") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            out->status = 405;
            snprintf(out->allow, sizeof(out->allow), "GET, HEAD");
            front_rest_error(405, "MethodNotAllowed", "use GET", out);
            out->status = 405;
            return;
        }
        out->status = 200;
        if (strcmp(url, "/healthz") == 0) {
            out->content_type = "application/json";
            buf_puts(&out->body, "{\"status\":\"ok\"}\n");
        } else {
            out->content_type = "application/json";
            buf_append(&out->body, openapi_json, openapi_json_len);
        }
        return;
    }
    if (strcmp(url, "/") == 0) {
        out->status = 405;
        snprintf(out->allow, sizeof(out->allow), "POST");
        front_rest_error(405, "MethodNotAllowed",
                         "the AWS API endpoint accepts POST / (Query or JSON 1.1)", out);
        return;
    }
    front_rest_error(404, "NotFound", "no such path", out);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct http_server *h = cls;
    struct app *app = h->app;
    struct req_state *st = *con_cls;
    struct front_reply reply;
    struct front_request fr;
    struct sl_err err = {0};
    struct api_ctx ctx;
    char rid[37];
    enum door d = door_for(method, url, c);
    enum MHD_Result ret;

    if (st == NULL)
        return MHD_NO; /* uri_start() failed to allocate */
    if (!st->started) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

        st->started = 1;
        if (cl && strtoull(cl, NULL, 10) > FRONT_MAX_BODY)
            st->too_large = 1;
        else
            return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!st->too_large) {
            if (st->body.len + *upload_size > FRONT_MAX_BODY)
                st->too_large = 1;
            else
                buf_append(&st->body, upload, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
    }

    util_request_id(rid);
    front_reply_init(&reply);
    if (st->too_large) {
        sl_err_set(&err, 413, "RequestEntityTooLarge", "request body exceeds %d bytes",
                   FRONT_MAX_BODY);
        door_error(d, &err, rid, &reply);
        goto send;
    }
    if (buf_failed(&st->body)) {
        sl_err_set(&err, 500, "InternalFailure", "out of memory");
        door_error(d, &err, rid, &reply);
        goto send;
    }
    if (d == DOOR_PLAIN && ui_path(url) && app->ui) {
        memset(&fr, 0, sizeof(fr));
        fr.method = method;
        fr.path = url;
        ui_handle(app->ui, c, &fr, &reply);
        goto send;
    }
    if (d == DOOR_PLAIN) {
        serve_plain(app, method, url, &reply);
        goto send;
    }
    if (authenticate(app, c, d, method, st->raw_uri ? st->raw_uri : url, &st->body, &err) !=
        SL_OK) {
        door_error(d, &err, rid, &reply);
        goto send;
    }

    api_ctx_init(&ctx, app->store, app->cfg->region, app->cfg->account_id, app->health, rid);
    memset(&fr, 0, sizeof(fr));
    fr.method = method;
    fr.path = url;
    fr.arg = lookup_arg;
    fr.arg_cls = c;
    fr.body = st->body.data ? st->body.data : "";
    fr.body_len = st->body.len;
    fr.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

    switch (d) {
    case DOOR_QUERY:
        front_query(&ctx, &fr, &reply);
        break;
    case DOOR_JSON11:
        front_json11(&ctx, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target"), &fr,
                     &reply);
        break;
    case DOOR_REST:
        if (strncmp(url, "/v1/dataplane/", 14) == 0 && app->dataplane) {
            ret = dataplane_handle(app->dataplane, c, &fr, &reply);
            if (reply.status == 0) { /* a stream was queued */
                front_reply_free(&reply);
                return ret;
            }
        } else if (strncmp(url, TASK_LOGS_PREFIX, strlen(TASK_LOGS_PREFIX)) == 0) {
            task_logs_handle(app, &fr, &reply);
        } else if (strcmp(url, "/metrics") == 0) {
            metrics_handle(app, &fr, &reply);
        } else if (ui_path(url) && app->ui) {
            ret = ui_handle(app->ui, c, &fr, &reply);
            if (reply.status == 0) { /* the event stream was queued */
                front_reply_free(&reply);
                return ret;
            }
        } else {
            front_rest(&ctx, &fr, &reply);
        }
        break;
    default:
        break;
    }
send:
    log_debug("%s %s -> %d", method, url, reply.status);
    ret = send_reply(c, &reply, rid);
    front_reply_free(&reply);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req_state *st = *con_cls;

    if (st) {
        buf_free(&st->body);
        free(st->raw_uri);
        free(st);
        *con_cls = NULL;
    }
}

/* Called by libmicrohttpd as each request starts, with the raw URI; the
 * return value becomes the request's *con_cls. */
static void *uri_start(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct req_state *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return NULL;
    buf_init(&st->body);
    st->raw_uri = strdup(uri ? uri : "/");
    return st;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("microhttpd: %s", line);
}

int http_start(struct app *app, struct http_server **out, struct sl_err *err)
{
    const struct sl_config *cfg = app->cfg;
    struct sockaddr_storage ss;
    struct http_server *h;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, cfg->listen_host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->listen_port);
    } else if (inet_pton(AF_INET6, cfg->listen_host,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg->listen_port);
        flags |= MHD_USE_IPv6;
    } else if (strcmp(cfg->listen_host, "localhost") == 0) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->listen_port);
    } else {
        return sl_err_set(err, 500, "InternalFailure",
                          "--listen: '%s' is not an IP address", cfg->listen_host);
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    h->app = app;
    /* 32 KiB per connection (libmicrohttpd's default) holds the headers of
     * any API request (larger get 431); bodies stream through handle().
     * The pool is cleared for every request, so a larger one costs each
     * request a larger memset. */
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_start, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (h->d == NULL) {
        free(h);
        return sl_err_set(err, 500, "InternalFailure", "cannot listen on %s:%d (in use?)",
                          cfg->listen_host, cfg->listen_port);
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->listen_port;
    *out = h;
    return SL_OK;
}

int http_port(const struct http_server *h)
{
    return h->port;
}

void http_stop(struct http_server *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
