/*
 * accesslog.c - the workers' rings, the sinks, and the writer thread.
 *
 * A ring is a byte buffer with two monotonic counters: the worker (the only
 * producer) appends records at <head>, the writer (the only consumer)
 * takes them from <tail>.  A record is a header and the line, 8-byte
 * aligned, never split across the end: the producer leaves a skip marker
 * (or, with less than a header left, nothing: the consumer skips such a
 * remainder by itself) and starts again at the beginning.
 */
#include "proxy/accesslog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/accesslog_file.h"
#include "proxy/ev.h"
#include "proxy/table.h"
#include "proxy/trace.h"

#define SKIP UINT32_MAX
#define RETRY_S 1 /* after a write failure, the next file opens this much later */

struct rec {
    uint32_t len; /* line bytes; SKIP: the rest of the buffer is unused */
    uint32_t pad;
    uint64_t when; /* epoch second the line belongs to */
    struct pxa_sink *sink;
};

struct ring {
    char *buf;
    size_t size;
    _Atomic size_t head; /* written by the worker */
    char pad1[64];
    _Atomic size_t tail; /* written by the writer */
    char pad2[64];
    size_t seen_tail;  /* the worker's last look at tail */
    size_t skip;       /* bytes the pending line skips at the end */
    _Atomic uint64_t dropped;
};

struct pxa_sink {
    atomic_int refs; /* listener parts; 0: dead, the writer frees it */
    struct pxa_sink *next;
    /* identity */
    int conn; /* connection logs ("conn_log_" files), else access logs */
    char lb_id[PX_ID_MAX];
    char bucket[LOGDEST_BUCKET_MAX + 1];
    char prefix[LOGDEST_PREFIX_MAX + 1];
    char node[64];
    /* names, derived once */
    char account[32], region[32], lb_res[PX_ARN_MAX]; /* lb_res: "app.NAME.ID" */
    /* the writer's */
    struct pxa_file f;
    time_t failed_until;
    int failing; /* warned about the current failure */
};

static struct {
    int started;
    char dir[PATH_MAX];
    char node[64];
    int rotate_s;
    int nrings;
    struct ring *rings;
    pthread_t th;
    pthread_mutex_t mu; /* sinks list, stop, kick */
    pthread_cond_t cv;
    struct pxa_sink *sinks;
    int stop, kicked, stopped;
    _Atomic uint64_t lines, dropped_write, files;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ---- the worker's side ---- */

char *pxa_line_room(int w)
{
    struct ring *r;
    size_t need = sizeof(struct rec) + PXA_LINE_MAX, head, pos, to_end, want;

    if (!L.started || w < 0 || w >= L.nrings)
        return NULL;
    r = &L.rings[w];
    head = atomic_load_explicit(&r->head, memory_order_relaxed);
    pos = head % r->size;
    to_end = r->size - pos;
    r->skip = to_end < need ? to_end : 0;
    want = r->skip + need;
    if (r->size - (head - r->seen_tail) < want) {
        r->seen_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (r->size - (head - r->seen_tail) < want) {
            atomic_store_explicit(&r->dropped,
                                  atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            return NULL;
        }
    }
    pos = r->skip ? 0 : pos;
    return r->buf + pos + sizeof(struct rec);
}

void pxa_line_commit(int w, struct pxa_sink *s, size_t len, time_t when)
{
    struct ring *r = &L.rings[w];
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t pos = head % r->size;
    struct rec *h;

    if (r->skip) {
        if (r->skip >= sizeof(struct rec))
            ((struct rec *)(void *)(r->buf + pos))->len = SKIP;
        head += r->skip;
        pos = 0;
    }
    h = (struct rec *)(void *)(r->buf + pos);
    h->len = (uint32_t)len;
    h->when = (uint64_t)when;
    h->sink = s;
    atomic_store_explicit(&r->head, head + align8(sizeof(*h) + len), memory_order_release);
}

/* ---- sinks ---- */

/* "arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID":
 * region, account and "app.NAME.ID", each checked to be a safe file name
 * part.  0 or SL_EINVAL. */
static int split_arn(const char *arn, struct pxa_sink *s)
{
    const char *p = arn, *f[6];
    size_t n[6], i, k;
    int parts = 0;

    while (parts < 6) {
        const char *c = parts < 5 ? strchr(p, ':') : p + strlen(p);
        if (c == NULL)
            return SL_EINVAL;
        f[parts] = p;
        n[parts++] = (size_t)(c - p);
        p = c + 1;
    }
    if (n[3] == 0 || n[3] >= sizeof(s->region) || n[4] == 0 || n[4] >= sizeof(s->account) ||
        strncmp(f[5], "loadbalancer/", 13) != 0 || n[5] - 13 >= sizeof(s->lb_res))
        return SL_EINVAL;
    for (i = 0; i < n[3]; i++)
        if (!((f[3][i] >= 'a' && f[3][i] <= 'z') || (f[3][i] >= '0' && f[3][i] <= '9') ||
              f[3][i] == '-'))
            return SL_EINVAL;
    for (i = 0; i < n[4]; i++)
        if (f[4][i] < '0' || f[4][i] > '9')
            return SL_EINVAL;
    memcpy(s->region, f[3], n[3]);
    memcpy(s->account, f[4], n[4]);
    for (i = 13, k = 0; i < n[5]; i++, k++) {
        char ch = f[5][i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '/'))
            return SL_EINVAL;
        s->lb_res[k] = ch == '/' ? '.' : ch;
    }
    return k > 0 ? SL_OK : SL_EINVAL;
}

static const char *what(const struct pxa_sink *s)
{
    return s->conn ? "connection logs" : "access logs";
}

static int same_sink(const struct pxa_sink *s, const struct pxd_lb *lb, int conn,
                     const struct pxd_logs *d, const char *node)
{
    return s->conn == conn && strcmp(s->lb_id, lb->id) == 0 && strcmp(s->bucket, d->bucket) == 0 &&
           strcmp(s->prefix, d->prefix) == 0 && strcmp(s->node, node) == 0;
}

/* A reference on <s> unless it is dead (refs 0). */
static int try_ref(struct pxa_sink *s)
{
    int n = atomic_load(&s->refs);

    while (n > 0)
        if (atomic_compare_exchange_weak(&s->refs, &n, n + 1))
            return 1;
    return 0;
}

static struct pxa_sink *sink_get(const struct pxd_lb *lb, int conn)
{
    const char *node = L.node[0] ? L.node : lb->internet ? "0.0.0.0" : "127.0.0.1";
    const struct pxd_logs *d = conn ? &lb->connection_logs : &lb->access_logs;
    struct pxa_sink *s;

    if (!L.started || !d->enabled)
        return NULL;
    pthread_mutex_lock(&L.mu);
    for (s = L.sinks; s; s = s->next)
        if (same_sink(s, lb, conn, d, node) && try_ref(s))
            goto out;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        goto out;
    if (split_arn(lb->arn, s) != SL_OK) {
        log_warn("%s of load balancer %s: its ARN '%s' names no region, account "
                 "and load balancer: not logged", conn ? "connection logs" : "access logs",
                 lb->id, lb->arn);
        free(s);
        s = NULL;
        goto out;
    }
    atomic_init(&s->refs, 1);
    s->conn = conn;
    snprintf(s->lb_id, sizeof(s->lb_id), "%s", lb->id);
    snprintf(s->bucket, sizeof(s->bucket), "%s", d->bucket);
    snprintf(s->prefix, sizeof(s->prefix), "%s", d->prefix);
    snprintf(s->node, sizeof(s->node), "%s", node);
    pxa_file_init(&s->f);
    s->next = L.sinks;
    L.sinks = s;
    log_info("%s of load balancer %s: %s/%s%s%s", what(s), lb->id, L.dir, s->bucket,
             s->prefix[0] ? "/" : "", s->prefix);
out:
    pthread_mutex_unlock(&L.mu);
    return s;
}

struct pxa_sink *pxa_sink_get(const struct pxd_lb *lb)
{
    return sink_get(lb, 0);
}

struct pxa_sink *pxa_conn_sink_get(const struct pxd_lb *lb)
{
    return sink_get(lb, 1);
}

void pxa_sink_put(struct pxa_sink *s)
{
    struct pxa_sink **pp;

    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    /* Dead.  The writer frees it after one more drain; once the writer has
     * stopped (its files are finished), nothing else will. */
    pthread_mutex_lock(&L.mu);
    if (L.stopped) {
        for (pp = &L.sinks; *pp; pp = &(*pp)->next)
            if (*pp == s) {
                *pp = s->next;
                break;
            }
        free(s);
    }
    pthread_mutex_unlock(&L.mu);
}

/* ---- the writer ---- */

static void fail(struct pxa_sink *s, const struct sl_err *err, uint64_t lost)
{
    time_t now = time(NULL);

    atomic_fetch_add(&L.dropped_write, lost);
    s->failed_until = now + RETRY_S;
    if (!s->failing)
        log_warn("%s of load balancer %s: %s; lines are dropped and counted until "
                 "a file can be written",
                 what(s), s->lb_id, err->message);
    s->failing = 1;
}

static void finish(struct pxa_sink *s)
{
    struct sl_err err = {0};
    uint64_t lines = s->f.lines;

    if (s->f.fd < 0)
        return;
    if (pxa_file_finish(&s->f, &err) != SL_OK)
        fail(s, &err, lines);
    else {
        atomic_fetch_add(&L.lines, lines);
        atomic_fetch_add(&L.files, 1);
    }
}

/* Open the file of the interval holding <when>. */
static int open_for(struct pxa_sink *s, time_t when)
{
    time_t start = when - when % L.rotate_s, end = start + L.rotate_s;
    char dir[PATH_MAX], name[PATH_MAX], stamp[16], day[16], rnd[8];
    struct sl_err err = {0};
    struct tm tm;
    int n;

    gmtime_r(&end, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%MZ", &tm);
    strftime(day, sizeof(day), "%Y/%m/%d", &tm);
    px_trace_hex(rnd, 4);
    n = snprintf(dir, sizeof(dir), "%s/%s%s%s/AWSLogs/%s/elasticloadbalancing/%s/%s", L.dir,
                 s->bucket, s->prefix[0] ? "/" : "", s->prefix, s->account, s->region, day);
    if (n < 0 || (size_t)n >= sizeof(dir)) {
        sl_err_set(&err, 500, "AccessLog", "the log directory's path is too long");
        fail(s, &err, 1);
        return SL_EINVAL;
    }
    /* "conn_log_": what ALB writes (its documentation shows a '.') */
    snprintf(name, sizeof(name), "%s%s_elasticloadbalancing_%s_%s_%s_%s_%.8s.log.gz",
             s->conn ? "conn_log_" : "", s->account, s->region, s->lb_res, stamp, s->node, rnd);
    if (pxa_file_open(&s->f, dir, name, start, end, &err) != SL_OK) {
        fail(s, &err, 1);
        return SL_EIO;
    }
    if (s->failing)
        log_info("%s of load balancer %s: writing again", what(s), s->lb_id);
    s->failing = 0;
    return SL_OK;
}

static void write_line(struct pxa_sink *s, const char *line, size_t n, time_t when)
{
    if (s->f.fd >= 0 && when >= s->f.end)
        finish(s);
    if (s->f.fd < 0) {
        if (when < s->failed_until) {
            atomic_fetch_add(&L.dropped_write, 1);
            return;
        }
        if (open_for(s, when) != SL_OK)
            return;
    }
    if (pxa_file_add(&s->f, line, n) != SL_OK)
        atomic_fetch_add(&L.dropped_write, 1);
}

static void drain_ring(struct ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

    while (tail != head) {
        size_t pos = tail % r->size, left = r->size - pos;
        const struct rec *h = (const struct rec *)(const void *)(r->buf + pos);
        if (left < sizeof(*h) || h->len == SKIP) {
            tail += left;
            continue;
        }
        write_line(h->sink, (const char *)(h + 1), h->len, (time_t)h->when);
        tail += align8(sizeof(*h) + h->len);
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
}

/* A round of the writer: drain, write each file's round, end files whose
 * interval is over, free dead sinks (every file ends with <all>: stopping).
 * The list is walked without the lock, from its head taken under it: other
 * threads only push sinks in front, and only this thread unlinks them, so
 * the files' blocking I/O never holds up pxa_sink_get(). */
static void round_all(int all)
{
    struct pxa_sink *s, **pp, *dead = NULL, *first;
    time_t now = time(NULL);
    struct sl_err err = {0};
    int i;

    pthread_mutex_lock(&L.mu);
    for (pp = &L.sinks; *pp;) { /* dead before the drain: no line can follow */
        s = *pp;
        if (atomic_load(&s->refs) == 0) {
            *pp = s->next;
            s->next = dead;
            dead = s;
        } else
            pp = &s->next;
    }
    first = L.sinks;
    pthread_mutex_unlock(&L.mu);
    for (i = 0; i < L.nrings; i++)
        drain_ring(&L.rings[i]);
    for (s = dead; s; s = s->next)
        finish(s);
    for (s = first; s; s = s->next) {
        uint64_t lines = s->f.lines;
        if (s->f.fd < 0)
            continue;
        if (all || now >= s->f.end)
            finish(s);
        else if (pxa_file_round(&s->f, &err) != SL_OK)
            fail(s, &err, lines);
        else
            atomic_fetch_add(&L.lines, lines);
    }
    while ((s = dead) != NULL) {
        dead = s->next;
        free(s);
    }
}

static void *writer_main(void *arg)
{
    int stop = 0;

    while (!stop) {
        struct timespec ts;
        util_deadline(&ts, PXA_DRAIN_MS);
        pthread_mutex_lock(&L.mu);
        if (!L.stop && !L.kicked)
            pthread_cond_timedwait(&L.cv, &L.mu, &ts);
        L.kicked = 0;
        stop = L.stop;
        pthread_mutex_unlock(&L.mu);
        round_all(stop);
    }
    return NULL;
}

int pxa_start(const char *dir, int rotate_s, int nworkers, const char *node_ip)
{
    int i;

    if (L.started || nworkers < 1 || rotate_s < 1 || strlen(dir) >= sizeof(L.dir))
        return SL_EINVAL;
    snprintf(L.dir, sizeof(L.dir), "%s", dir);
    snprintf(L.node, sizeof(L.node), "%s", node_ip ? node_ip : "");
    L.rotate_s = rotate_s;
    if ((L.rings = calloc((size_t)nworkers, sizeof(*L.rings))) == NULL)
        return SL_ENOMEM;
    for (i = 0; i < nworkers; i++) {
        /* untouched pages of a large malloc() cost no memory until used */
        if ((L.rings[i].buf = malloc(PXA_RING_BYTES)) == NULL)
            goto fail;
        L.rings[i].size = PXA_RING_BYTES;
    }
    L.nrings = nworkers;
    if (pthread_create(&L.th, NULL, writer_main, NULL) != 0)
        goto fail;
    L.started = 1;
    return SL_OK;
fail:
    for (i = 0; i < nworkers; i++)
        free(L.rings[i].buf);
    free(L.rings);
    L.rings = NULL;
    L.nrings = 0;
    return SL_ENOMEM;
}

void pxa_stop(void)
{
    if (!L.started)
        return;
    pthread_mutex_lock(&L.mu);
    L.stop = 1;
    pthread_cond_broadcast(&L.cv);
    pthread_mutex_unlock(&L.mu);
    pthread_join(L.th, NULL);
    pthread_mutex_lock(&L.mu);
    L.stopped = 1;
    pthread_mutex_unlock(&L.mu);
}

void pxa_kick(void)
{
    pthread_mutex_lock(&L.mu);
    L.kicked = 1;
    pthread_cond_broadcast(&L.cv);
    pthread_mutex_unlock(&L.mu);
}

void pxa_stats(struct pxa_stats *out)
{
    int i;

    memset(out, 0, sizeof(*out));
    out->lines = atomic_load(&L.lines);
    out->dropped_write = atomic_load(&L.dropped_write);
    out->files = atomic_load(&L.files);
    for (i = 0; i < L.nrings; i++)
        out->dropped_full += atomic_load_explicit(&L.rings[i].dropped, memory_order_relaxed);
}
