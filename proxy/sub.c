/*
 * sub.c - snapshot + watch client and the reporter.
 */
#include "proxy/sub.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/ev.h"
#include "proxy/http1.h"

struct px_sub {
    struct px_sub_cfg cfg;
    struct px_reg *reg;
    void (*on_table)(void *);
    void *arg;
    pthread_t th, rth;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int fd; /* current stream socket, -1 when none (guarded by mu) */
    _Atomic uint64_t applied;
    json_t *model;
};

int px_sub_parse_url(const char *url, struct px_sub_cfg *cfg)
{
    const char *p = url, *colon, *slash;
    size_t n;

    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    slash = strchr(p, '/');
    n = slash ? (size_t)(slash - p) : strlen(p);
    colon = memchr(p, ':', n);
    if (n == 0 || n >= sizeof(cfg->host))
        return SL_EINVAL;
    if (colon) {
        memcpy(cfg->host, p, (size_t)(colon - p));
        cfg->host[colon - p] = '\0';
        cfg->port = atoi(colon + 1);
    } else {
        memcpy(cfg->host, p, n);
        cfg->host[n] = '\0';
        cfg->port = 80;
    }
    return cfg->port > 0 && cfg->port < 65536 && cfg->host[0] ? SL_OK : SL_EINVAL;
}

static int dial(const struct px_sub_cfg *cfg, int timeout_s)
{
    struct addrinfo hints = {0}, *ai, *a;
    char port[16];
    int fd = -1;
    struct timeval tv = {timeout_s, 0};

    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", cfg->port);
    if (getaddrinfo(cfg->host, port, &hints, &ai) != 0)
        return -1;
    for (a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_request(const struct px_sub_cfg *cfg, int fd, const char *method, const char *path,
                        const char *body)
{
    char head[2048];
    int n;

    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: sluice-proxy\r\n%s%s%s"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 method, path, cfg->host, cfg->port, cfg->token[0] ? "Authorization: Bearer " : "",
                 cfg->token, cfg->token[0] ? "\r\n" : "", body ? strlen(body) : (size_t)0);
    if (n < 0 || (size_t)n >= sizeof(head))
        return -1;
    if (send_all(fd, head, (size_t)n) < 0 || (body && send_all(fd, body, strlen(body)) < 0))
        return -1;
    return 0;
}

/* A response being read from a blocking socket. */
struct resp {
    int fd;
    char *buf;
    size_t len, cap, off; /* off: first unconsumed byte after the head */
    struct h1_response r;
    struct h1_chunked ch;
    int64_t left; /* Content-Length bytes left, -1 for chunked/close */
    int done;
};

static int fill(struct resp *rs)
{
    ssize_t n;

    if (rs->off > 0 && rs->off == rs->len)
        rs->off = rs->len = 0;
    if (rs->len == rs->cap) {
        if (rs->off > 0) {
            memmove(rs->buf, rs->buf + rs->off, rs->len - rs->off);
            rs->len -= rs->off;
            rs->off = 0;
        } else {
            size_t nc = rs->cap ? rs->cap * 2 : 65536;
            char *nb = realloc(rs->buf, nc);
            if (nb == NULL)
                return -1;
            rs->buf = nb;
            rs->cap = nc;
        }
    }
    do
        n = recv(rs->fd, rs->buf + rs->len, rs->cap - rs->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    rs->len += (size_t)n;
    return 0;
}

static int read_head(struct resp *rs)
{
    struct h1_scan sc = {0};
    int rc;

    for (;;) {
        rc = h1_parse_response(rs->buf, rs->len, &sc, 0, &rs->r);
        if (rc > 0) {
            rs->off = (size_t)rc;
            if (rs->r.status < 200) {
                memmove(rs->buf, rs->buf + rc, rs->len - (size_t)rc);
                rs->len -= (size_t)rc;
                memset(&sc, 0, sizeof(sc));
                continue;
            }
            rs->left = rs->r.chunked || rs->r.close_delimited ? -1 : rs->r.content_length;
            if (rs->r.no_body || rs->left == 0)
                rs->done = 1;
            return 0;
        }
        if (rc == H1_ERROR || fill(rs) < 0)
            return -1;
    }
}

/* Next piece of body into data and n; returns 1 for data, 0 at the end, -1 on error. */
static int read_body(struct resp *rs, const char **data, size_t *n)
{
    for (;;) {
        if (rs->done)
            return 0;
        if (rs->off < rs->len) {
            if (rs->r.chunked) {
                size_t used;
                int rc = h1_chunked_decode(&rs->ch, rs->buf + rs->off, rs->len - rs->off, &used,
                                           data, n);
                rs->off += used;
                if (rc == H1_ERROR)
                    return -1;
                if (rc == H1_DONE)
                    rs->done = 1;
                if (*n > 0)
                    return 1;
                if (rc == H1_DONE)
                    return 0;
                continue;
            }
            *data = rs->buf + rs->off;
            *n = rs->len - rs->off;
            if (rs->left >= 0 && (int64_t)*n > rs->left)
                *n = (size_t)rs->left;
            rs->off += *n;
            if (rs->left >= 0 && (rs->left -= (int64_t)*n) == 0)
                rs->done = 1;
            return 1;
        }
        if (fill(rs) < 0)
            return rs->r.close_delimited ? 0 : -1;
    }
}

/* GET/POST with the whole body collected (bounded by memory). */
static int request_all(const struct px_sub_cfg *cfg, const char *method, const char *path,
                       const char *body, int *status, char **out, size_t *out_len)
{
    struct resp rs = {0};
    size_t cap = 0, len = 0;
    char *acc = NULL;
    const char *d;
    size_t n;
    int rc;

    rs.fd = dial(cfg, 10);
    if (rs.fd < 0)
        return -1;
    if (send_request(cfg, rs.fd, method, path, body) < 0 || read_head(&rs) < 0)
        goto fail;
    while ((rc = read_body(&rs, &d, &n)) > 0) {
        if (len + n + 1 > cap) {
            size_t nc = (len + n + 1) * 2;
            char *na = realloc(acc, nc);
            if (na == NULL)
                goto fail;
            acc = na;
            cap = nc;
        }
        memcpy(acc + len, d, n);
        len += n;
    }
    if (rc < 0)
        goto fail;
    *status = rs.r.status;
    if (out) {
        *out = acc ? acc : strdup("");
        if (acc)
            acc[len] = '\0';
        *out_len = len;
    } else
        free(acc);
    close(rs.fd);
    free(rs.buf);
    return 0;
fail:
    close(rs.fd);
    free(rs.buf);
    free(acc);
    return -1;
}

static int stopping(struct px_sub *s)
{
    int v;

    pthread_mutex_lock(&s->mu);
    v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Sleep up to <ms> unless stopped; returns 1 when stopping. */
static int nap(struct px_sub *s, uint64_t ms)
{
    struct timespec ts;
    int v;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    if (!s->stop)
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void publish(struct px_sub *s, uint64_t rev)
{
    uint64_t t0 = ev_mono_ms();
    struct px_table *t = px_table_build(s->model, rev, s->reg);

    if (t == NULL) {
        log_error("sub: building the table at revision %llu failed", (unsigned long long)rev);
        return;
    }
    px_table_publish(t);
    atomic_store(&s->applied, rev);
    log_debug("sub: applied revision %llu in %llu ms", (unsigned long long)rev,
              (unsigned long long)(ev_mono_ms() - t0));
    if (s->on_table)
        s->on_table(s->arg);
}

static const char *const kinds[][2] = {{"lb", "load_balancers"}, {"listener", "listeners"},
                                       {"rule", "rules"},        {"tg", "target_groups"},
                                       {"target", "targets"}};

static int load_snapshot(struct px_sub *s)
{
    char *body = NULL;
    size_t n, i, k;
    int status;
    json_t *doc, *model, *o;

    if (request_all(&s->cfg, "GET", "/v1/dataplane/snapshot", NULL, &status, &body, &n) < 0)
        return -1;
    doc = status == 200 ? json_loadb(body, n, 0, NULL) : NULL;
    free(body);
    if (!json_is_object(doc)) {
        if (status == 401 || status == 403)
            log_error("sub: the control plane refused our credentials (HTTP %d): "
                      "check the sluice_api_token in --credentials",
                      status);
        else
            log_warn("sub: snapshot failed (HTTP %d)", status);
        json_decref(doc);
        return -1;
    }
    model = json_object();
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        json_t *m = json_object();
        json_array_foreach(json_object_get(doc, kinds[k][1]), i, o) {
            const char *id = json_string_value(json_object_get(o, "id"));
            if (id)
                json_object_set(m, id, o);
        }
        json_object_set_new(model, kinds[k][0], m);
    }
    json_decref(s->model);
    s->model = model;
    publish(s, (uint64_t)json_integer_value(json_object_get(doc, "revision")));
    json_decref(doc);
    return 0;
}

/* Apply one change line.  *rev is the newest revision seen, *done the
 * newest known complete (a heartbeat, or a record of a later revision).
 * Returns 1 if the model changed, 0 if not, -1 gone. */
static int apply_line(struct px_sub *s, const char *line, size_t n, uint64_t *rev,
                      uint64_t *done)
{
    json_t *rec = json_loadb(line, n, 0, NULL), *m;
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *op = json_string_value(json_object_get(rec, "op"));
    uint64_t r = (uint64_t)json_integer_value(json_object_get(rec, "rev"));
    int changed = 0;

    if (kind == NULL) {
        json_decref(rec);
        return 0;
    }
    if (strcmp(kind, "gone") == 0) {
        json_decref(rec);
        return -1;
    }
    if (strcmp(kind, "heartbeat") == 0) {
        /* Every change up to the heartbeat's revision has been sent. */
        if (r > *rev)
            *rev = r;
        if (r > *done)
            *done = r;
    } else if (r >= *rev || r == 0) {
        if (r > *rev && *rev > *done)
            *done = *rev; /* a later revision starts: the previous one is whole */
        if (r)
            *rev = r;
        if (id && (m = json_object_get(s->model, kind)) != NULL) {
            if (op && strcmp(op, "delete") == 0)
                json_object_del(m, id);
            else if (json_is_object(json_object_get(rec, "obj")))
                json_object_set(m, id, json_object_get(rec, "obj"));
            changed = 1;
        }
    }
    json_decref(rec);
    return changed;
}

/* One watch session.  Returns 0 when the stream ended, -1 on error, 1 when
 * the snapshot must be re-read. */
static int watch(struct px_sub *s)
{
    struct resp rs = {0};
    char path[96];
    char *line = NULL;
    size_t llen = 0, lcap = 0;
    uint64_t rev = atomic_load(&s->applied), done = rev, before;
    int ret = -1, rc, changed = 0;
    const char *d;
    size_t n;

    rs.fd = dial(&s->cfg, 3 * 5 + 5); /* heartbeats come every 5 s */
    if (rs.fd < 0)
        return -1;
    pthread_mutex_lock(&s->mu);
    s->fd = rs.fd;
    pthread_mutex_unlock(&s->mu);
    snprintf(path, sizeof(path), "/v1/dataplane/watch?since=%llu", (unsigned long long)rev);
    if (send_request(&s->cfg, rs.fd, "GET", path, NULL) < 0 || read_head(&rs) < 0)
        goto out;
    if (rs.r.status == 410) {
        ret = 1;
        goto out;
    }
    if (rs.r.status != 200) {
        log_warn("sub: watch answered HTTP %d", rs.r.status);
        goto out;
    }
    log_info("sub: watching from revision %llu", (unsigned long long)rev);
    before = done;
    while ((rc = read_body(&rs, &d, &n)) > 0) {
        const char *p = d, *end = d + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t take = (size_t)((nl ? nl : end) - p);
            if (llen + take + 1 > lcap) {
                size_t nc = (llen + take + 1) * 2;
                char *nb = realloc(line, nc);
                if (nb == NULL)
                    goto out;
                line = nb;
                lcap = nc;
            }
            memcpy(line + llen, p, take);
            llen += take;
            p += take;
            if (nl) {
                int a = apply_line(s, line, llen, &rev, &done);
                p++;
                llen = 0;
                if (a < 0) {
                    ret = 1;
                    goto out;
                }
                changed |= a;
            }
        }
        /* A batch is what one read delivered, whole lines only.  The table
         * takes every record read; the applied revision (reported, and where
         * a new stream resumes) only what is known complete. */
        if (llen == 0 && (changed || done != before)) {
            if (changed)
                publish(s, done);
            else
                atomic_store(&s->applied, done);
            changed = 0;
            before = done;
        }
        if (stopping(s))
            break;
    }
    ret = 0;
out:
    if (changed)
        publish(s, done);
    pthread_mutex_lock(&s->mu);
    s->fd = -1;
    pthread_mutex_unlock(&s->mu);
    close(rs.fd);
    free(rs.buf);
    free(line);
    return ret;
}

static void *sub_main(void *arg)
{
    struct px_sub *s = arg;
    uint64_t backoff = 100;
    int need_snapshot = 1;

    while (!stopping(s)) {
        int rc;
        if (need_snapshot) {
            if (load_snapshot(s) < 0) {
                if (nap(s, backoff / 2 + (uint64_t)rand() % (backoff / 2 + 1)))
                    break;
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            need_snapshot = 0;
            backoff = 100;
        }
        rc = watch(s);
        if (rc == 1) {
            log_info("sub: revision gone from the change log; re-reading snapshot");
            need_snapshot = 1;
            continue;
        }
        if (stopping(s))
            break;
        log_warn("sub: watch stream lost; keeping the last table, retrying");
        if (nap(s, backoff / 2 + (uint64_t)rand() % (backoff / 2 + 1)))
            break;
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        if (rc == 0)
            backoff = 100;
    }
    return NULL;
}

static const char *state_names[] = {"initial", "healthy", "unhealthy", "unavailable"};

json_t *px_sub_report(const char *proxy_id, uint64_t applied)
{
    struct px_table *t = px_table_acquire();
    json_t *arr = json_array();
    int i;

    for (i = 0; t && i < t->ntargets; i++) {
        struct px_target *x = t->targets[i];
        int h = atomic_load(&x->health), r = atomic_load(&x->reason);
        const char *reason = "", *desc = "";
        char dbuf[96];
        switch (r) {
        case PX_R_REGISTERING:
            reason = "Elb.RegistrationInProgress";
            desc = "Target registration is in progress";
            break;
        case PX_R_TIMEOUT:
            reason = "Target.Timeout";
            desc = "Request timed out";
            break;
        case PX_R_MISMATCH:
            reason = "Target.ResponseCodeMismatch";
            snprintf(dbuf, sizeof(dbuf), "Health checks failed with these codes: [%d]",
                     atomic_load(&x->status));
            desc = dbuf;
            break;
        case PX_R_FAILED:
            reason = "Target.FailedHealthChecks";
            desc = "Health checks failed";
            break;
        }
        if (h == PX_H_HEALTHY)
            reason = desc = "";
        json_array_append_new(
            arr, json_pack("{ss ss ss ss sI sI}", "key", x->key, "state", state_names[h & 3],
                           "reason", reason, "description", desc, "in_flight",
                           (json_int_t)atomic_load(&x->in_flight), "connections",
                           (json_int_t)atomic_load(&x->conns)));
    }
    px_table_release(t);
    return json_pack("{ss sI so}", "proxy_id", proxy_id, "applied_revision", (json_int_t)applied,
                     "targets", arr);
}

/* What a report says that the control plane acts on: the applied revision,
 * each target's health and reason, and whether a draining target is idle.
 * A change is reported at once (drain completion and health transitions
 * reach DescribeTargetHealth and the ECS scheduler within ~100 ms); the
 * counters alone are refreshed every second. */
static uint64_t report_signature(uint64_t applied)
{
    struct px_table *t = px_table_acquire();
    uint64_t h = 1469598103934665603ULL ^ applied;
    int i;

    for (i = 0; t && i < t->ntargets; i++) {
        struct px_target *x = t->targets[i];
        int idle = atomic_load(&x->draining) && atomic_load(&x->in_flight) == 0 &&
                   atomic_load(&x->conns) == 0;
        h = (h ^ (uint64_t)(uintptr_t)x) * 1099511628211ULL;
        h = (h ^ (uint64_t)(atomic_load(&x->health) << 8 | atomic_load(&x->reason) << 1 | idle)) *
            1099511628211ULL;
    }
    px_table_release(t);
    return h;
}

static void *report_main(void *arg)
{
    struct px_sub *s = arg;
    uint64_t last_sig = 0, last_ms = 0;
    int failed = 0; /* the last report did not go through: retry after 1 s */

    while (!nap(s, 100)) {
        json_t *r;
        char *body;
        int status = 0;
        uint64_t applied = atomic_load(&s->applied), sig, now = ev_mono_ms();
        if (applied == 0 && px_table_generation() == 0)
            continue;
        sig = report_signature(applied);
        if ((sig == last_sig || failed) && now - last_ms < 1000)
            continue;
        r = px_sub_report(s->cfg.proxy_id, applied);
        body = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        failed = body == NULL || request_all(&s->cfg, "POST", "/v1/dataplane/report", body,
                                             &status, NULL, NULL) < 0;
        if (failed)
            log_debug("sub: report failed");
        else
            last_sig = sig;
        last_ms = now;
        free(body);
    }
    return NULL;
}

int px_sub_start(const struct px_sub_cfg *cfg, struct px_reg *reg, void (*on_table)(void *),
                 void *arg, struct px_sub **out)
{
    struct px_sub *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return SL_ENOMEM;
    s->cfg = *cfg;
    s->reg = reg;
    s->on_table = on_table;
    s->arg = arg;
    s->fd = -1;
    s->model = json_object();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, sub_main, s) != 0) {
        free(s);
        return SL_ERR;
    }
    if (pthread_create(&s->rth, NULL, report_main, s) != 0) {
        px_sub_stop(s);
        return SL_ERR;
    }
    *out = s;
    return SL_OK;
}

void px_sub_stop(struct px_sub *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    if (s->rth)
        pthread_join(s->rth, NULL);
    json_decref(s->model);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

uint64_t px_sub_applied(struct px_sub *s)
{
    return atomic_load(&s->applied);
}
