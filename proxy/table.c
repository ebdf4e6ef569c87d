/*
 * table.c - target registry and the immutable routing table built from the
 * subscription's model.
 *
 * The current table is the one piece of process-wide mutable state besides
 * configuration: a pointer guarded by a mutex that is taken only on publish
 * and when a worker notices a new generation (never per request).
 */
#include "proxy/table.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "proxy/ev.h"

/* ---- arena ---- */

struct px_arena_chunk {
    struct px_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void *px_table_alloc(struct px_table *t, size_t n)
{
    struct px_arena_chunk *c = t->arena;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = t->arena;
        t->arena = c;
    }
    p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

const char *px_table_strdup(struct px_table *t, const char *s)
{
    size_t n;
    char *p;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    if ((p = px_table_alloc(t, n + 1)) != NULL)
        memcpy(p, s, n + 1);
    return p;
}

/* ---- registry ---- */

#define REG_BUCKETS 4096

struct px_reg {
    struct px_target *b[REG_BUCKETS];
};

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int px_reg_new(struct px_reg **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? SL_OK : SL_ENOMEM;
}

void px_reg_free(struct px_reg *reg)
{
    size_t i;

    if (reg == NULL)
        return;
    for (i = 0; i < REG_BUCKETS; i++) {
        struct px_target *t = reg->b[i], *n;
        for (; t; t = n) {
            n = t->hnext;
            atomic_store(&t->live, 0);
            px_target_release(t);
        }
    }
    free(reg);
}

void px_target_ref(struct px_target *t)
{
    atomic_fetch_add(&t->refs, 1);
}

void px_target_release(struct px_target *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1)
        free(t);
}

static void resolve(struct px_target *t, const char *id, int port)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)&t->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->addr;

    snprintf(t->host, sizeof(t->host), "%s", strcmp(id, "localhost") == 0 ? "127.0.0.1" : id);
    t->port = port;
    if (inet_pton(AF_INET, t->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        t->addrlen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, t->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        t->addrlen = sizeof(*a6);
    }
}

struct px_target *px_reg_get(struct px_reg *reg, const char *key, const char *id, int port)
{
    unsigned h = hash_str(key) % REG_BUCKETS;
    struct px_target *t;

    for (t = reg->b[h]; t; t = t->hnext)
        if (strcmp(t->key, key) == 0) {
            px_target_ref(t);
            return t;
        }
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return NULL;
    snprintf(t->key, sizeof(t->key), "%s", key);
    resolve(t, id, port);
    atomic_init(&t->refs, 2); /* registry + caller */
    atomic_init(&t->live, 1);
    atomic_init(&t->health, PX_H_INITIAL);
    atomic_init(&t->reason, PX_R_REGISTERING);
    t->hnext = reg->b[h];
    reg->b[h] = t;
    return t;
}

void px_reg_sweep(struct px_reg *reg, json_t *keep)
{
    size_t i;

    for (i = 0; i < REG_BUCKETS; i++) {
        struct px_target **pp = &reg->b[i], *t;
        while ((t = *pp) != NULL) {
            if (json_object_get(keep, t->key)) {
                pp = &t->hnext;
                continue;
            }
            *pp = t->hnext;
            atomic_store(&t->live, 0);
            px_target_release(t);
        }
    }
}

/* ---- publication ---- */

static pthread_mutex_t cur_mu = PTHREAD_MUTEX_INITIALIZER;
static struct px_table *cur;
static atomic_uint cur_gen;

void px_table_release(struct px_table *t)
{
    struct px_arena_chunk *c, *n;
    int i;

    if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    for (i = 0; i < t->ntargets; i++)
        px_target_release(t->targets[i]);
    for (c = t->arena; c; c = n) {
        n = c->next;
        free(c);
    }
    free(t);
}

void px_table_publish(struct px_table *t)
{
    struct px_table *old;

    pthread_mutex_lock(&cur_mu);
    old = cur;
    cur = t;
    atomic_fetch_add(&cur_gen, 1);
    pthread_mutex_unlock(&cur_mu);
    px_table_release(old);
}

struct px_table *px_table_acquire(void)
{
    struct px_table *t;

    pthread_mutex_lock(&cur_mu);
    t = cur;
    if (t)
        atomic_fetch_add(&t->refs, 1);
    pthread_mutex_unlock(&cur_mu);
    return t;
}

unsigned px_table_generation(void)
{
    return atomic_load(&cur_gen);
}

const struct px_listener *px_table_listener(const struct px_table *t, const char *id)
{
    int i;

    for (i = 0; t && i < t->nlisteners; i++)
        if (strcmp(t->listeners[i].id, id) == 0)
            return &t->listeners[i];
    return NULL;
}

const struct px_tg *px_table_tg(const struct px_table *t, const char *id)
{
    int i;

    for (i = 0; t && i < t->ntgs; i++)
        if (strcmp(t->tgs[i].id, id) == 0)
            return &t->tgs[i];
    return NULL;
}

/* ---- building ---- */

static const char *attr(json_t *obj, const char *key)
{
    json_t *a;
    size_t i;

    json_array_foreach(json_object_get(obj, "Attributes"), i, a) {
        const char *k = json_string_value(json_object_get(a, "Key"));
        if (k && strcmp(k, key) == 0)
            return json_string_value(json_object_get(a, "Value"));
    }
    return NULL;
}

static int attr_int(json_t *obj, const char *key, int def)
{
    const char *v = attr(obj, key);

    return v && *v ? atoi(v) : def;
}

static int int_member(json_t *obj, const char *key, int def)
{
    json_t *v = json_object_get(obj, key);

    if (json_is_integer(v))
        return (int)json_integer_value(v);
    if (json_is_string(v))
        return atoi(json_string_value(v));
    return def;
}

/* Parse "200", "200,202", "200-299" into ranges. */
static void parse_matcher(struct px_tg *g, const char *m)
{
    const char *p = m ? m : "200";

    g->ncodes = 0;
    while (*p && g->ncodes < PX_MAX_CODES) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p)
            break;
        p = end;
        if (*p == '-') {
            hi = strtol(p + 1, &end, 10);
            p = end;
        }
        g->codes[g->ncodes].lo = (int)lo;
        g->codes[g->ncodes].hi = (int)hi;
        g->ncodes++;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (g->ncodes == 0) {
        g->codes[0].lo = g->codes[0].hi = 200;
        g->ncodes = 1;
    }
}

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode a query-string pattern, keeping '\' escapes. */
static const char *pct_decode(struct px_table *t, const char *s)
{
    size_t n = strlen(s), i, o = 0;
    char *d = px_table_alloc(t, n + 1);

    if (d == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            d[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else
            d[o++] = s[i];
    }
    d[o] = '\0';
    return d;
}

static int parse_cidr(const char *s, struct px_cidr *c)
{
    char ip[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (n >= sizeof(ip))
        return -1;
    memcpy(ip, s, n);
    ip[n] = '\0';
    if (inet_pton(AF_INET, ip, c->addr) == 1) {
        c->family = AF_INET;
        c->bits = slash ? atoi(slash + 1) : 32;
        return c->bits >= 0 && c->bits <= 32 ? 0 : -1;
    }
    if (inet_pton(AF_INET6, ip, c->addr) == 1) {
        c->family = AF_INET6;
        c->bits = slash ? atoi(slash + 1) : 128;
        return c->bits >= 0 && c->bits <= 128 ? 0 : -1;
    }
    return -1;
}

static const char *cond_fields[] = {"host-header",         "path-pattern", "http-header",
                                    "http-request-method", "query-string", "source-ip"};
static const char *cond_configs[] = {"HostHeaderConfig",        "PathPatternConfig",
                                     "HttpHeaderConfig",        "HttpRequestMethodConfig",
                                     "QueryStringConfig",       "SourceIpConfig"};

static int build_cond(struct px_table *t, json_t *c, struct px_cond *out)
{
    const char *field = json_string_value(json_object_get(c, "Field"));
    json_t *cfg, *vals, *v;
    size_t i;
    int k;

    for (k = 0; k < 6; k++)
        if (field && strcmp(field, cond_fields[k]) == 0)
            break;
    if (k == 6)
        return -1;
    out->type = k;
    cfg = json_object_get(c, cond_configs[k]);
    vals = json_object_get(cfg, "Values");
    if (!json_is_array(vals))
        vals = json_object_get(c, "Values");
    out->nvals = (int)json_array_size(vals);
    out->vals = px_table_alloc(t, sizeof(char *) * (json_array_size(vals) + 1));
    if (out->vals == NULL)
        return -1;
    if (k == PX_C_HEADER)
        out->name = px_table_strdup(t, json_string_value(json_object_get(cfg, "HttpHeaderName")));
    if (k == PX_C_QUERY)
        out->keys = px_table_alloc(t, sizeof(char *) * (json_array_size(vals) + 1));
    if (k == PX_C_SOURCE)
        out->cidrs = px_table_alloc(t, sizeof(struct px_cidr) * (json_array_size(vals) + 1));
    json_array_foreach(vals, i, v) {
        if (k == PX_C_QUERY) {
            const char *key = json_string_value(json_object_get(v, "Key"));
            const char *val = json_string_value(json_object_get(v, "Value"));
            out->keys[i] = key ? pct_decode(t, key) : NULL;
            out->vals[i] = pct_decode(t, val ? val : "");
        } else if (k == PX_C_SOURCE) {
            out->vals[i] = px_table_strdup(t, json_string_value(v));
            if (out->vals[i] == NULL || parse_cidr(out->vals[i], &out->cidrs[i]) != 0)
                out->cidrs[i].family = 0;
        } else {
            out->vals[i] = px_table_strdup(t, json_string_value(v) ? json_string_value(v) : "");
        }
    }
    return 0;
}

/* Groups by ARN through <t->by_arn>, sorted by tg_arn_cmp() once the groups
 * are built: rules name groups by ARN, and a table may hold thousands of
 * both. */
static int tg_arn_cmp(const void *a, const void *b)
{
    return strcmp((*(struct px_tg *const *)a)->arn, (*(struct px_tg *const *)b)->arn);
}

static struct px_tg *tg_by_arn(struct px_table *t, const char *arn)
{
    int lo = 0, hi = t->ntgs;

    while (arn && lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(t->by_arn[mid]->arn, arn);
        if (c == 0)
            return t->by_arn[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The first of the sorted <t->targets> whose key is >= <prefix>: a group's
 * targets ("<tg id>|...") are the contiguous run that follows. */
static int first_key_from(const struct px_table *t, const char *prefix)
{
    int lo = 0, hi = t->ntargets;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(t->targets[mid]->key, prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void build_action(struct px_table *t, json_t *actions, struct px_action *out)
{
    json_t *a, *best = NULL;
    size_t i;

    /* The terminal action is the one with the highest Order among forward,
     * redirect and fixed-response (authenticate-* actions precede it). */
    json_array_foreach(actions, i, a) {
        const char *type = json_string_value(json_object_get(a, "Type"));
        if (type && (strcmp(type, "forward") == 0 || strcmp(type, "redirect") == 0 ||
                     strcmp(type, "fixed-response") == 0))
            if (best == NULL || int_member(a, "Order", 1) >= int_member(best, "Order", 1))
                best = a;
    }
    out->type = PX_A_NONE;
    if (best == NULL)
        return;
    const char *type = json_string_value(json_object_get(best, "Type"));
    if (strcmp(type, "forward") == 0) {
        json_t *tgs = json_object_get(json_object_get(best, "ForwardConfig"), "TargetGroups"), *g;
        out->type = PX_A_FORWARD;
        if (json_array_size(tgs) == 0 && json_object_get(best, "TargetGroupArn")) {
            struct px_tg *tg = tg_by_arn(
                t, json_string_value(json_object_get(best, "TargetGroupArn")));
            if (tg) {
                out->fwd[0].tg = tg;
                out->fwd[0].weight = 1;
                out->nfwd = 1;
                out->total_weight = 1;
            }
        }
        json_array_foreach(tgs, i, g) {
            struct px_tg *tg =
                tg_by_arn(t, json_string_value(json_object_get(g, "TargetGroupArn")));
            int w = int_member(g, "Weight", 1);
            if (tg == NULL || out->nfwd >= PX_MAX_FWD)
                continue;
            if (json_array_size(tgs) == 1 && w == 0)
                w = 1;
            out->fwd[out->nfwd].tg = tg;
            out->fwd[out->nfwd].weight = w;
            out->total_weight += w;
            out->nfwd++;
        }
    } else if (strcmp(type, "redirect") == 0) {
        json_t *rc = json_object_get(best, "RedirectConfig");
        const char *code = json_string_value(json_object_get(rc, "StatusCode"));
#define RS(m, d)                                                                                 \
    px_table_strdup(t, json_string_value(json_object_get(rc, m))                                 \
                           ? json_string_value(json_object_get(rc, m))                           \
                           : d)
        out->type = PX_A_REDIRECT;
        out->code = code && strcmp(code, "HTTP_302") == 0 ? 302 : 301;
        out->proto = RS("Protocol", "#{protocol}");
        out->host = RS("Host", "#{host}");
        out->port = RS("Port", "#{port}");
        out->path = RS("Path", "/#{path}");
        out->query = RS("Query", "#{query}");
#undef RS
    } else {
        json_t *fc = json_object_get(best, "FixedResponseConfig");
        out->type = PX_A_FIXED;
        out->code = int_member(fc, "StatusCode", 200);
        out->ctype = px_table_strdup(t, json_string_value(json_object_get(fc, "ContentType")));
        out->body = px_table_strdup(t, json_string_value(json_object_get(fc, "MessageBody")));
    }
}

static int rule_cmp(const void *a, const void *b)
{
    const struct px_rule *x = a, *y = b;

    return x->prio < y->prio ? -1 : x->prio > y->prio;
}

static int key_cmp(const void *a, const void *b)
{
    const struct px_target *x = *(struct px_target *const *)a,
                           *y = *(struct px_target *const *)b;

    return strcmp(x->key, y->key);
}

struct px_table *px_table_build(json_t *model, uint64_t rev, struct px_reg *reg)
{
    json_t *lbs = json_object_get(model, "lb"), *ls = json_object_get(model, "listener");
    json_t *rules = json_object_get(model, "rule"), *tgs = json_object_get(model, "tg");
    json_t *targets = json_object_get(model, "target"), *o, *keep = json_object();
    struct px_table *t = calloc(1, sizeof(*t));
    const char *id;
    int i, j;

    if (t == NULL || keep == NULL)
        goto fail;
    atomic_init(&t->refs, 1);
    t->rev = rev;
    /* targets, sorted by key so groups list them in a stable order */
    t->targets = px_table_alloc(t, sizeof(void *) * (json_object_size(targets) + 1));
    json_object_foreach(targets, id, o) {
        json_t *tgt = json_object_get(o, "Target");
        const char *tid = json_string_value(json_object_get(tgt, "Id"));
        const char *bar = strrchr(id, '|');
        struct px_target *x;
        if (tid == NULL || bar == NULL)
            continue;
        if ((x = px_reg_get(reg, id, tid, atoi(bar + 1))) == NULL)
            goto fail;
        const char *st = json_string_value(json_object_get(o, "_state"));
        atomic_store(&x->draining, st && strcmp(st, "draining") == 0);
        t->targets[t->ntargets++] = x;
        json_object_set_new(keep, id, json_true());
    }
    qsort(t->targets, (size_t)t->ntargets, sizeof(void *), key_cmp);
    px_reg_sweep(reg, keep);
    /* target groups */
    t->tgs = px_table_alloc(t, sizeof(struct px_tg) * (json_object_size(tgs) + 1));
    json_object_foreach(tgs, id, o) {
        struct px_tg *g = &t->tgs[t->ntgs++];
        const char *algo = attr(o, "load_balancing.algorithm.type");
        const char *hp = json_string_value(json_object_get(o, "HealthCheckPort"));
        size_t idlen = strlen(id);
        g->id = px_table_strdup(t, id);
        g->arn = px_table_strdup(t, json_string_value(json_object_get(o, "TargetGroupArn")));
        if (g->arn == NULL)
            g->arn = "";
        g->algo = algo && strcmp(algo, "least_outstanding_requests") == 0 ? PX_ALGO_LOR
                  : algo && strcmp(algo, "weighted_random") == 0         ? PX_ALGO_WRANDOM
                                                                         : PX_ALGO_RR;
        g->slow_start_ms = (uint32_t)attr_int(o, "slow_start.duration_seconds", 0) * 1000u;
        g->hc_enabled = !json_is_false(json_object_get(o, "HealthCheckEnabled"));
        g->hc_interval_ms = int_member(o, "HealthCheckIntervalSeconds", 30) * 1000;
        g->hc_timeout_ms = int_member(o, "HealthCheckTimeoutSeconds", 5) * 1000;
        g->hc_healthy = int_member(o, "HealthyThresholdCount", 5);
        g->hc_unhealthy = int_member(o, "UnhealthyThresholdCount", 2);
        g->hc_port = hp && strcmp(hp, "traffic-port") != 0 ? atoi(hp) : 0;
        g->hc_path = px_table_strdup(
            t, json_string_value(json_object_get(o, "HealthCheckPath"))
                   ? json_string_value(json_object_get(o, "HealthCheckPath"))
                   : "/");
        parse_matcher(g, json_string_value(
                             json_object_get(json_object_get(o, "Matcher"), "HttpCode")));
        {
            /* keys are sorted: the group's targets are one run, found in
             * O(log targets) instead of a scan of them all per group */
            char *prefix = px_table_alloc(t, idlen + 2);
            int first;
            if (prefix == NULL)
                goto fail;
            memcpy(prefix, id, idlen);
            prefix[idlen] = '|';
            first = first_key_from(t, prefix);
            for (j = first; j < t->ntargets && strncmp(t->targets[j]->key, prefix, idlen + 1) == 0;
                 j++)
                ;
            g->targets = px_table_alloc(t, sizeof(void *) * ((size_t)(j - first) + 1));
            if (g->targets == NULL)
                goto fail;
            memcpy(g->targets, t->targets + first, sizeof(void *) * (size_t)(j - first));
            g->ntargets = j - first;
        }
    }
    t->by_arn = px_table_alloc(t, sizeof(struct px_tg *) * ((size_t)t->ntgs + 1));
    if (t->by_arn == NULL)
        goto fail;
    for (i = 0; i < t->ntgs; i++)
        t->by_arn[i] = &t->tgs[i];
    qsort(t->by_arn, (size_t)t->ntgs, sizeof(struct px_tg *), tg_arn_cmp);
    /* listeners and their rules */
    t->listeners = px_table_alloc(t, sizeof(struct px_listener) * (json_object_size(ls) + 1));
    json_object_foreach(ls, id, o) {
        struct px_listener *l = &t->listeners[t->nlisteners];
        const char *lb_id = json_string_value(json_object_get(o, "_lb_id"));
        json_t *lb = lb_id ? json_object_get(lbs, lb_id) : NULL, *r;
        const char *scheme = json_string_value(json_object_get(lb, "Scheme"));
        const char *proto = json_string_value(json_object_get(o, "Protocol"));
        const char *rid;
        if (lb == NULL)
            continue;
        t->nlisteners++;
        l->id = px_table_strdup(t, id);
        l->lb_id = px_table_strdup(t, lb_id);
        l->port = int_member(o, "Port", 0);
        l->internet = scheme && strcmp(scheme, "internet-facing") == 0;
        l->https = proto && strcmp(proto, "HTTPS") == 0;
        l->idle_timeout_s = attr_int(lb, "idle_timeout.timeout_seconds", 60);
        l->rules = px_table_alloc(t, sizeof(struct px_rule) * (json_object_size(rules) + 2));
        json_object_foreach(rules, rid, r) {
            const char *lid = json_string_value(json_object_get(r, "_listener_id"));
            struct px_rule *ru;
            json_t *c;
            size_t k;
            if (lid == NULL || strcmp(lid, id) != 0)
                continue;
            ru = &l->rules[l->nrules++];
            ru->prio = json_is_true(json_object_get(r, "IsDefault"))
                           ? INT32_MAX
                           : int_member(r, "Priority", INT32_MAX - 1);
            ru->conds = px_table_alloc(
                t, sizeof(struct px_cond) * (json_array_size(json_object_get(r, "Conditions")) + 1));
            json_array_foreach(json_object_get(r, "Conditions"), k, c)
                if (build_cond(t, c, &ru->conds[ru->nconds]) == 0)
                    ru->nconds++;
            build_action(t, json_object_get(r, "Actions"), &ru->act);
        }
        qsort(l->rules, (size_t)l->nrules, sizeof(struct px_rule), rule_cmp);
        if (l->nrules == 0 || l->rules[l->nrules - 1].prio != INT32_MAX) {
            /* No stored default rule: fall back to the listener's DefaultActions. */
            struct px_rule *ru = &l->rules[l->nrules++];
            ru->prio = INT32_MAX;
            build_action(t, json_object_get(o, "DefaultActions"), &ru->act);
        }
    }
    for (i = 0; i < t->ntgs; i++)
        atomic_init(&t->tgs[i].rr, 0);
    json_decref(keep);
    return t;
fail:
    json_decref(keep);
    if (t) {
        atomic_store(&t->refs, 1);
        px_table_release(t);
    }
    return NULL;
}
