/*
 * metrics_agg.c - objects keyed by id, each with a base and one
 * contribution per proxy that reports it.
 */
#include "server/metrics_agg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/prom.h"

#define NV 24
#define T_RT_COUNT PROM_T_N         /* after the target counters: */
#define T_RT_SUM (PROM_T_N + 1)     /* rt_count, rt_sum_us, */
#define T_RT_BUCKET (PROM_T_N + 2)  /* 13 cumulative buckets */
#define KEY_MAX 264
#define LABEL_MAX 256
#define RATE_MIN_MS 1000

enum kind { K_LISTENER, K_TARGET, K_ACCESS_LOG };
enum { A_LINES, A_DROPPED_FULL, A_DROPPED_WRITE, A_FILES, A_N };

struct contrib {
    int proxy; /* index in a->proxies */
    uint64_t seq;
    uint64_t v[NV];
};

struct obj {
    struct obj *next; /* hash chain */
    int kind;
    char key[KEY_MAX];
    char lb[LABEL_MAX], name[LABEL_MAX], target[96];
    int health, draining; /* targets: the latest report's */
    uint64_t base[NV];
    struct contrib *c;
    int nc, capc;
    uint64_t rate_total, rate_ms;
    double rps;
};

struct proxy {
    char id[129];
    uint64_t seq;
};

struct magg {
    pthread_mutex_t mu;
    struct obj **b;
    size_t nb, n;
    struct proxy *proxies;
    int nproxies, capproxies;
};

static uint32_t hash(int kind, const char *s)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int magg_new(struct magg **out)
{
    struct magg *a = calloc(1, sizeof(*a));

    if (a == NULL || (a->b = calloc(1024, sizeof(*a->b))) == NULL) {
        free(a);
        return SL_ENOMEM;
    }
    a->nb = 1024;
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return SL_OK;
}

void magg_free(struct magg *a)
{
    size_t i;
    struct obj *o, *n;

    if (a == NULL)
        return;
    for (i = 0; i < a->nb; i++)
        for (o = a->b[i]; o; o = n) {
            n = o->next;
            free(o->c);
            free(o);
        }
    free(a->b);
    free(a->proxies);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ---- objects ---- */

static void grow(struct magg *a)
{
    size_t nb = a->nb * 2, i;
    struct obj **b = calloc(nb, sizeof(*b)), *o, *n;

    if (b == NULL)
        return;
    for (i = 0; i < a->nb; i++)
        for (o = a->b[i]; o; o = n) {
            n = o->next;
            o->next = b[hash(o->kind, o->key) & (nb - 1)];
            b[hash(o->kind, o->key) & (nb - 1)] = o;
        }
    free(a->b);
    a->b = b;
    a->nb = nb;
}

static struct obj *get(struct magg *a, int kind, const char *key)
{
    struct obj **head, *o;

    if (strlen(key) >= KEY_MAX)
        return NULL;
    head = &a->b[hash(kind, key) & (a->nb - 1)];
    for (o = *head; o; o = o->next)
        if (o->kind == kind && strcmp(o->key, key) == 0)
            return o;
    if ((o = calloc(1, sizeof(*o))) == NULL)
        return NULL;
    o->kind = kind;
    memcpy(o->key, key, strlen(key) + 1);
    o->next = *head;
    *head = o;
    if (++a->n > a->nb)
        grow(a);
    return o;
}

static int is_gauge(int kind, int i)
{
    return kind == K_LISTENER && i == PROM_L_ACTIVE;
}

/* What contribution <c> counted goes into the base (gauges are not). */
static void fold(struct obj *o, const struct contrib *c)
{
    int i;

    for (i = 0; i < NV; i++)
        if (!is_gauge(o->kind, i))
            o->base[i] += c->v[i];
}

static struct contrib *contrib_of(struct obj *o, int proxy)
{
    int i;

    for (i = 0; i < o->nc; i++)
        if (o->c[i].proxy == proxy)
            return &o->c[i];
    if (o->nc == o->capc) {
        int cap = o->capc ? o->capc * 2 : 2;
        struct contrib *p = realloc(o->c, sizeof(*p) * (size_t)cap);
        if (p == NULL)
            return NULL;
        o->c = p;
        o->capc = cap;
    }
    memset(&o->c[o->nc], 0, sizeof(o->c[0]));
    o->c[o->nc].proxy = proxy;
    return &o->c[o->nc++];
}

/* Proxy <proxy> says <o> has counted <v>: a total that went down means a
 * restart, so the old totals join the base first. */
static void set(struct obj *o, int proxy, uint64_t seq, const uint64_t *v)
{
    struct contrib *c = contrib_of(o, proxy);
    int i, reset = 0;

    if (c == NULL)
        return;
    for (i = 0; i < NV; i++)
        if (!is_gauge(o->kind, i) && v[i] < c->v[i])
            reset = 1;
    if (reset)
        fold(o, c);
    memcpy(c->v, v, sizeof(c->v));
    c->seq = seq;
}

static uint64_t total(const struct obj *o, int i)
{
    uint64_t t = is_gauge(o->kind, i) ? 0 : o->base[i];
    int k;

    for (k = 0; k < o->nc; k++)
        t += o->c[k].v[i];
    return t;
}

/* ---- a report ---- */

static uint64_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static void nums(json_t *arr, uint64_t *v, int n)
{
    int i;

    for (i = 0; i < n && i < (int)json_array_size(arr); i++) {
        json_t *x = json_array_get(arr, (size_t)i);
        v[i] = json_is_integer(x) && json_integer_value(x) > 0 ? (uint64_t)json_integer_value(x)
                                                                : 0;
    }
}

static void copy(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
}

static int proxy_index(struct magg *a, const char *id)
{
    int i;

    for (i = 0; i < a->nproxies; i++)
        if (strcmp(a->proxies[i].id, id) == 0)
            return i;
    for (i = 0; i < a->nproxies; i++)
        if (a->proxies[i].id[0] == '\0') { /* forgotten: nothing refers to it */
            copy(a->proxies[i].id, sizeof(a->proxies[0].id), id);
            return i;
        }
    if (a->nproxies == a->capproxies) {
        int cap = a->capproxies ? a->capproxies * 2 : 4;
        struct proxy *p = realloc(a->proxies, sizeof(*p) * (size_t)cap);
        if (p == NULL)
            return -1;
        a->proxies = p;
        a->capproxies = cap;
    }
    memset(&a->proxies[a->nproxies], 0, sizeof(a->proxies[0]));
    copy(a->proxies[a->nproxies].id, sizeof(a->proxies[0].id), id);
    return a->nproxies++;
}

static void ingest_listeners(struct magg *a, int p, uint64_t seq, json_t *arr)
{
    json_t *l;
    size_t i;

    json_array_foreach(arr, i, l) {
        const char *id = json_string_value(json_object_get(l, "id"));
        json_t *m = json_object_get(l, "m");
        uint64_t v[NV] = {0};
        struct obj *o;
        if (id == NULL || (o = get(a, K_LISTENER, id)) == NULL)
            continue;
        copy(o->lb, sizeof(o->lb), json_string_value(json_object_get(l, "load_balancer")));
        copy(o->name, sizeof(o->name), json_string_value(json_object_get(l, "listener")));
        v[PROM_L_REQUESTS] = num(m, "requests");
        nums(json_object_get(m, "elb"), v + PROM_L_ELB_3XX, 3);
        nums(json_object_get(m, "elb_5xx"), v + PROM_L_ELB_500, 4);
        v[PROM_L_ACTIVE] = num(m, "active_connections");
        v[PROM_L_NEW] = num(m, "new_connections");
        v[PROM_L_REJECTED] = num(m, "rejected_connections");
        v[PROM_L_BYTES] = num(m, "processed_bytes");
        v[PROM_L_RULES] = num(m, "rule_evaluations");
        set(o, p, seq, v);
    }
}

/* The labels of group <tg_id> in the report's "groups". */
static json_t *group_of(json_t *groups, const char *key, json_t **last)
{
    size_t n = strcspn(key, "|"), i;
    json_t *g;

    if (*last) {
        const char *id = json_string_value(json_object_get(*last, "id"));
        if (id && strlen(id) == n && strncmp(id, key, n) == 0)
            return *last;
    }
    json_array_foreach(groups, i, g) {
        const char *id = json_string_value(json_object_get(g, "id"));
        if (id && strlen(id) == n && strncmp(id, key, n) == 0)
            return *last = g;
    }
    return NULL;
}

/* "<tg id>|<Id>|<Port>" -> "<Id>:<Port>" */
static void target_label(const char *key, char *out, size_t cap)
{
    const char *a = strchr(key, '|'), *b = a ? strrchr(key, '|') : NULL;

    if (a == NULL || b == a) {
        copy(out, cap, key);
        return;
    }
    snprintf(out, cap, "%.*s:%s", (int)(b - a - 1), a + 1, b + 1);
}

static void ingest_target(struct obj *o, int p, uint64_t seq, json_t *t, json_t *group)
{
    static const char *const states[] = {"initial", "healthy", "unhealthy", "unavailable"};
    const char *st = json_string_value(json_object_get(t, "state"));
    json_t *m = json_object_get(t, "m");
    uint64_t v[NV] = {0};
    int i;

    copy(o->lb, sizeof(o->lb), json_string_value(json_object_get(group, "load_balancer")));
    copy(o->name, sizeof(o->name), json_string_value(json_object_get(group, "target_group")));
    target_label(o->key, o->target, sizeof(o->target));
    o->health = 0;
    for (i = 0; st && i < 4; i++)
        if (strcmp(st, states[i]) == 0)
            o->health = i;
    o->draining = json_is_true(json_object_get(t, "draining"));
    v[PROM_T_REQUESTS] = num(m, "requests");
    nums(json_object_get(m, "target"), v + PROM_T_2XX, 4);
    v[PROM_T_CONN_ERRORS] = num(m, "connection_errors");
    v[T_RT_COUNT] = num(m, "rt_count");
    v[T_RT_SUM] = num(m, "rt_sum_us");
    nums(json_object_get(m, "rt_buckets"), v + T_RT_BUCKET, PROM_RT_BUCKETS);
    set(o, p, seq, v);
}

/* A contribution of <p> not renewed by report <seq> is gone from that
 * proxy: folded into the base, and the object dropped when nobody reports
 * it any more. */
static void sweep(struct magg *a, int p, uint64_t seq, uint64_t now)
{
    size_t i;
    int k;

    for (i = 0; i < a->nb; i++) {
        struct obj **pp = &a->b[i], *o;
        while ((o = *pp) != NULL) {
            for (k = 0; k < o->nc; k++)
                if (o->c[k].proxy == p && (p < 0 || o->c[k].seq != seq)) {
                    fold(o, &o->c[k]);
                    o->c[k--] = o->c[--o->nc];
                }
            if (o->nc == 0) {
                *pp = o->next;
                free(o->c);
                free(o);
                a->n--;
                continue;
            }
            if (o->kind == K_TARGET && now && now - o->rate_ms >= RATE_MIN_MS) {
                uint64_t t = total(o, PROM_T_REQUESTS);
                o->rps = o->rate_ms && t >= o->rate_total
                             ? (double)(t - o->rate_total) * 1000.0 / (double)(now - o->rate_ms)
                             : 0;
                o->rate_total = t;
                o->rate_ms = now;
            }
            pp = &o->next;
        }
    }
}

void magg_ingest(struct magg *a, const char *proxy, json_t *body, uint64_t now_ms)
{
    json_t *targets = json_object_get(body, "targets"), *groups = json_object_get(body, "groups"),
           *t, *last = NULL, *al = json_object_get(body, "access_log");
    uint64_t v[NV] = {0}, seq;
    struct obj *o;
    size_t i;
    int p;

    pthread_mutex_lock(&a->mu);
    if ((p = proxy_index(a, proxy)) < 0)
        goto out;
    seq = ++a->proxies[p].seq;
    ingest_listeners(a, p, seq, json_object_get(body, "listeners"));
    json_array_foreach(targets, i, t) {
        const char *key = json_string_value(json_object_get(t, "key"));
        if (key && (o = get(a, K_TARGET, key)) != NULL)
            ingest_target(o, p, seq, t, group_of(groups, key, &last));
    }
    if (json_is_object(al) && (o = get(a, K_ACCESS_LOG, "")) != NULL) {
        v[A_LINES] = num(al, "lines");
        v[A_DROPPED_FULL] = num(al, "dropped_full");
        v[A_DROPPED_WRITE] = num(al, "dropped_write");
        v[A_FILES] = num(al, "files");
        set(o, p, seq, v);
    }
    sweep(a, p, seq, now_ms);
out:
    pthread_mutex_unlock(&a->mu);
}

void magg_forget(struct magg *a, const char *proxy)
{
    int i, p = -1;

    pthread_mutex_lock(&a->mu);
    for (i = 0; i < a->nproxies; i++)
        if (strcmp(a->proxies[i].id, proxy) == 0)
            p = i;
    if (p >= 0) {
        /* seq 0 matches no report: every contribution of <p> goes */
        sweep(a, p, 0, 0);
        a->proxies[p].id[0] = '\0'; /* free for another proxy: nothing refers to it now */
    }
    pthread_mutex_unlock(&a->mu);
}

/* ---- rendering ---- */

static int by_labels(const void *x, const void *y)
{
    const struct obj *a = *(struct obj *const *)x, *b = *(struct obj *const *)y;
    int c;

    if ((c = strcmp(a->lb, b->lb)) != 0 || (c = strcmp(a->name, b->name)) != 0 ||
        (c = strcmp(a->target, b->target)) != 0)
        return c;
    return strcmp(a->key, b->key);
}

/* The objects of <kind>, sorted by their labels; *n of them. */
static struct obj **collect(struct magg *a, int kind, size_t *n)
{
    struct obj **v = calloc(a->n + 1, sizeof(*v)), *o;
    size_t i;

    *n = 0;
    for (i = 0; v && i < a->nb; i++)
        for (o = a->b[i]; o; o = o->next)
            if (o->kind == kind)
                v[(*n)++] = o;
    if (v)
        qsort(v, *n, sizeof(*v), by_labels);
    return v;
}

static void labels_of(const struct obj *o, struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    prom_label(b, "load_balancer", o->lb);
    prom_label(b, o->kind == K_LISTENER ? "listener" : "target_group", o->name);
    if (o->kind == K_TARGET)
        prom_label(b, "target", o->target);
}

static void render_listeners(struct obj **v, size_t n, struct buf *out, struct buf *lab)
{
    size_t i;
    int f;

    for (f = 0; f < PROM_L_N; f++) {
        prom_family(out, &prom_alb_listener[f]);
        for (i = 0; i < n; i++) {
            labels_of(v[i], lab);
            prom_sample(out, prom_alb_listener[f].name, lab->data, total(v[i], f));
        }
    }
}

/* HealthyHostCount / UnHealthyHostCount: the targets are sorted by load
 * balancer and group, so each group is a run. */
static void render_groups(struct obj **v, size_t n, struct buf *out, struct buf *lab)
{
    size_t i, j;
    int f;

    for (f = 0; f < PROM_G_N; f++) {
        prom_family(out, &prom_alb_group[f]);
        for (i = 0; i < n; i = j) {
            uint64_t count = 0;
            for (j = i; j < n && strcmp(v[j]->lb, v[i]->lb) == 0 &&
                        strcmp(v[j]->name, v[i]->name) == 0;
                 j++)
                if (!v[j]->draining && v[j]->health == (f == PROM_G_HEALTHY ? 1 : 2))
                    count++;
            lab->len = 0;
            prom_label(lab, "load_balancer", v[i]->lb);
            prom_label(lab, "target_group", v[i]->name);
            prom_sample(out, prom_alb_group[f].name, lab->data, count);
        }
    }
}

static void render_targets(struct obj **v, size_t n, struct buf *out, struct buf *lab)
{
    uint64_t rt[PROM_RT_BUCKETS];
    size_t i;
    int f, k;

    for (f = 0; f < PROM_T_N; f++) {
        prom_family(out, &prom_alb_target[f]);
        for (i = 0; i < n; i++) {
            labels_of(v[i], lab);
            prom_sample(out, prom_alb_target[f].name, lab->data, total(v[i], f));
        }
    }
    prom_family(out, &prom_alb_response_time);
    for (i = 0; i < n; i++) {
        labels_of(v[i], lab);
        for (k = 0; k < PROM_RT_BUCKETS; k++)
            rt[k] = total(v[i], T_RT_BUCKET + k);
        prom_histogram(out, prom_alb_response_time.name, lab->data, prom_rt_le,
                       PROM_RT_BUCKETS, rt, total(v[i], T_RT_SUM), total(v[i], T_RT_COUNT));
    }
}

static void render_access_log(struct magg *a, struct buf *out)
{
    static const struct prom_family fams[] = {
        {"sluice_proxy_access_log_lines_total", "counter",
         "access log lines the proxies wrote"},
        {"sluice_proxy_access_log_files_total", "counter",
         "access log files the proxies completed"},
        {"sluice_proxy_access_log_dropped_lines_total", "counter",
         "access log lines lost: a worker's buffer was full, or the disk refused them"},
    };
    struct obj *o = NULL, *x;
    size_t i;

    for (i = 0; i < a->nb && o == NULL; i++)
        for (x = a->b[i]; x && o == NULL; x = x->next)
            if (x->kind == K_ACCESS_LOG)
                o = x;
    prom_family(out, &fams[0]);
    prom_sample(out, fams[0].name, NULL, o ? total(o, A_LINES) : 0);
    prom_family(out, &fams[1]);
    prom_sample(out, fams[1].name, NULL, o ? total(o, A_FILES) : 0);
    prom_family(out, &fams[2]);
    prom_sample(out, fams[2].name, "{reason=\"buffer_full\"", o ? total(o, A_DROPPED_FULL) : 0);
    prom_sample(out, fams[2].name, "{reason=\"write_failed\"",
                o ? total(o, A_DROPPED_WRITE) : 0);
}

int magg_render(struct magg *a, struct buf *out)
{
    struct obj **ls, **ts;
    struct buf lab;
    size_t nl, nt;
    int rc = SL_ENOMEM;

    buf_init(&lab);
    pthread_mutex_lock(&a->mu);
    ls = collect(a, K_LISTENER, &nl);
    ts = collect(a, K_TARGET, &nt);
    if (ls && ts) {
        render_listeners(ls, nl, out, &lab);
        render_groups(ts, nt, out, &lab);
        render_targets(ts, nt, out, &lab);
        render_access_log(a, out);
        rc = buf_failed(out) ? SL_ENOMEM : SL_OK;
    }
    pthread_mutex_unlock(&a->mu);
    free(ls);
    free(ts);
    buf_free(&lab);
    return rc;
}

void magg_each_target(struct magg *a,
                      void (*fn)(const char *key, uint64_t total, double rps, void *arg),
                      void *arg)
{
    struct obj *o;
    size_t i;

    pthread_mutex_lock(&a->mu);
    for (i = 0; i < a->nb; i++)
        for (o = a->b[i]; o; o = o->next)
            if (o->kind == K_TARGET)
                fn(o->key, total(o, PROM_T_REQUESTS), o->rps, arg);
    pthread_mutex_unlock(&a->mu);
}
