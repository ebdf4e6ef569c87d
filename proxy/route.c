/*
 * route.c - AWS ALB condition matching, weighted group choice, balancing
 * algorithms with slow start, redirect rendering.
 */
#include "proxy/route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "proxy/ev.h"

static inline int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int route_glob(const char *pat, const char *s, size_t len, int icase, int esc)
{
    const char *p = pat, *star_p = NULL;
    size_t i = 0, star_i = 0;

    while (i < len) {
        if (*p == '*') {
            star_p = ++p;
            star_i = i;
            continue;
        }
        if (*p) {
            int pc = (unsigned char)*p, lit = 0;
            const char *np = p + 1;
            if (esc && pc == '\\' && p[1]) {
                pc = (unsigned char)p[1];
                np = p + 2;
                lit = 1;
            }
            if ((!lit && pc == '?') || pc == (unsigned char)s[i] ||
                (icase && lower(pc) == lower((unsigned char)s[i]))) {
                p = np;
                i++;
                continue;
            }
        }
        if (star_p) {
            p = star_p;
            i = ++star_i;
            continue;
        }
        return 0;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static int any_glob(const struct px_cond *c, const char *s, size_t len, int icase)
{
    int i;

    for (i = 0; i < c->nvals; i++)
        if (route_glob(c->vals[i], s, len, icase, 0))
            return 1;
    return 0;
}

static size_t host_without_port(const char *h, size_t n)
{
    size_t i;

    if (n > 0 && h[0] == '[') {
        for (i = 0; i < n; i++)
            if (h[i] == ']')
                return i + 1;
        return n;
    }
    for (i = n; i > 0; i--)
        if (h[i - 1] == ':')
            return i - 1;
    return n;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode <s> into <out> (cap); returns the length, or the raw copy
 * truncated to cap when too long (such a long value cannot match a 128-byte
 * pattern anyway). */
static size_t pct(const char *s, size_t n, char *out, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i < n && o < cap; i++) {
        if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            out[o++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else
            out[o++] = s[i];
    }
    return o;
}

static int query_matches(const struct px_cond *c, const char *q, size_t qn)
{
    const char *p = q, *end;

    if (q == NULL)
        return 0;
    end = q + qn; /* not before the check: NULL + 0 is undefined (UBSan, fuzz_feed) */
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        const char *pe = amp ? amp : end;
        char kb[512], vb[1024];
        size_t kn, vn;
        int i;

        eq = memchr(p, '=', (size_t)(pe - p));
        kn = pct(p, (size_t)((eq ? eq : pe) - p), kb, sizeof(kb));
        vn = eq ? pct(eq + 1, (size_t)(pe - eq - 1), vb, sizeof(vb)) : 0;
        for (i = 0; i < c->nvals; i++) {
            if (c->keys[i] && !route_glob(c->keys[i], kb, kn, 1, 1))
                continue;
            if (route_glob(c->vals[i], vb, vn, 1, 1))
                return 1;
        }
        p = pe + 1;
    }
    return 0;
}

static int cidr_match(const struct px_cidr *c, const uint8_t *a, int family)
{
    int full = c->bits / 8, rest = c->bits % 8;

    if (c->family != family)
        return 0;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((c->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

static int source_matches(const struct px_cond *c, const struct sockaddr *sa)
{
    const uint8_t *a;
    int family, i;

    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            a = in6->s6_addr + 12;
            family = AF_INET;
        } else {
            a = in6->s6_addr;
            family = AF_INET6;
        }
    } else
        return 0;
    for (i = 0; i < c->nvals; i++)
        if (cidr_match(&c->cidrs[i], a, family))
            return 1;
    return 0;
}

static int cond_matches(const struct px_cond *c, const struct px_req_view *r)
{
    size_t i;
    int k;

    switch (c->type) {
    case PX_C_HOST:
        return r->host && any_glob(c, r->host, host_without_port(r->host, r->host_len), 1);
    case PX_C_PATH:
        return any_glob(c, r->path, r->path_len, 0);
    case PX_C_METHOD:
        for (k = 0; k < c->nvals; k++)
            if (strlen(c->vals[k]) == r->method_len &&
                memcmp(c->vals[k], r->method, r->method_len) == 0)
                return 1;
        return 0;
    case PX_C_HEADER: {
        size_t nl = c->name ? strlen(c->name) : 0;
        for (i = 0; i < r->nhdrs; i++)
            if (r->hdrs[i].name_len == nl && strncasecmp(r->hdrs[i].name, c->name, nl) == 0 &&
                any_glob(c, r->hdrs[i].value, r->hdrs[i].value_len, 1))
                return 1;
        return 0;
    }
    case PX_C_QUERY:
        return query_matches(c, r->query, r->query_len);
    case PX_C_SOURCE:
        return source_matches(c, r->peer);
    }
    return 0;
}

int route_rule_matches(const struct px_rule *ru, const struct px_req_view *r)
{
    int i;

    for (i = 0; i < ru->nconds; i++)
        if (!cond_matches(&ru->conds[i], r))
            return 0;
    return 1;
}

const struct px_rule *route_match_counted(const struct px_listener *l,
                                          const struct px_req_view *r, int *evals)
{
    size_t hl = r->host ? host_without_port(r->host, r->host_len) : 0;
    struct px_rcand it;
    int64_t i;

    *evals = 0;
    rindex_begin(&l->index, r->host, hl, r->path, r->path_len, &it);
    while ((i = rindex_next(&it)) >= 0) {
        ++*evals;
        if (route_rule_matches(&l->rules[i], r))
            return &l->rules[i];
    }
    if (l->nrules > 0 && l->rules[l->nrules - 1].def->is_default) {
        ++*evals;
        return &l->rules[l->nrules - 1];
    }
    return NULL;
}

const struct px_rule *route_match(const struct px_listener *l, const struct px_req_view *r)
{
    int evals;

    return route_match_counted(l, r, &evals);
}

const struct px_rule *route_match_linear(const struct px_listener *l,
                                         const struct px_req_view *r)
{
    int i;

    for (i = 0; i < l->nrules; i++)
        if (l->rules[i].def->is_default || route_rule_matches(&l->rules[i], r))
            return &l->rules[i];
    return NULL;
}

struct px_tg *route_pick_group(const struct px_table *t, const struct px_action *a, uint32_t rnd)
{
    int i, x;

    if (a->nfwd == 1)
        return px_table_slot(t, a->fwd[0].slot);
    if (a->total_weight <= 0)
        return NULL;
    x = (int)(rnd % (uint32_t)a->total_weight);
    for (i = 0; i < a->nfwd; i++) {
        if (x < a->fwd[i].weight)
            return px_table_slot(t, a->fwd[i].slot);
        x -= a->fwd[i].weight;
    }
    return NULL;
}

uint32_t route_rand(void)
{
    static __thread uint32_t s;

    if (s == 0)
        s = (uint32_t)ev_mono_ms() ^ (uint32_t)(uintptr_t)&s ^ 0x9e3779b9u;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

/* Eligibility: pass 0 wants healthy targets, pass 1 is fail-open. */
static int eligible(const struct px_target *t, int failopen)
{
    if (t->addrlen == 0 || atomic_load(&t->draining))
        return 0;
    return failopen || atomic_load(&t->health) == PX_H_HEALTHY;
}

/* Slow-start weight 1..1000 (1000 = full). */
static uint32_t ramp(const struct px_tg *g, struct px_target *t, uint64_t now)
{
    uint64_t since = atomic_load(&t->eligible_ms);

    if (g->conf.slow_start_ms == 0 || since == 0 || now >= since + g->conf.slow_start_ms)
        return 1000;
    return 1 + (uint32_t)((now - since) * 999 / g->conf.slow_start_ms);
}

struct px_target *route_pick_target(struct px_tg *g, uint64_t now, uint32_t rnd)
{
    int pass, i, n;

    for (pass = 0; pass < 2; pass++) {
        uint32_t total = 0, x;
        int ramping = 0;

        n = 0;
        for (i = 0; i < g->ntargets; i++)
            if (eligible(g->targets[i], pass)) {
                uint32_t w = ramp(g, g->targets[i], now);
                n++;
                total += w;
                ramping |= w < 1000;
            }
        if (n == 0)
            continue;
        if (g->conf.algo == PX_ALGO_WRANDOM || ramping) {
            x = rnd % total;
            for (i = 0; i < g->ntargets; i++) {
                uint32_t w;
                if (!eligible(g->targets[i], pass))
                    continue;
                w = ramp(g, g->targets[i], now);
                if (x < w)
                    return g->targets[i];
                x -= w;
            }
            return NULL;
        }
        x = atomic_fetch_add(&g->rr, 1) % (uint32_t)n;
        if (g->conf.algo == PX_ALGO_LOR) {
            struct px_target *best = NULL;
            long bl = 0;
            int k;
            for (k = 0; k < g->ntargets; k++) {
                struct px_target *t = g->targets[(k + (int)x) % g->ntargets];
                long f;
                if (!eligible(t, pass))
                    continue;
                f = atomic_load(&t->in_flight);
                if (best == NULL || f < bl) {
                    best = t;
                    bl = f;
                }
            }
            return best;
        }
        for (i = 0; i < g->ntargets; i++)
            if (eligible(g->targets[i], pass) && x-- == 0)
                return g->targets[i];
    }
    return NULL;
}

/* Append <s,n> to out; SL_EINVAL on overflow. */
static int put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    if (*o + n >= cap)
        return SL_EINVAL;
    memcpy(out + *o, s, n);
    *o += n;
    out[*o] = '\0';
    return 0;
}

static int expand(const char *tpl, const struct px_req_view *r, int port, int https, char *out,
                  size_t cap, size_t *o)
{
    const char *p = tpl;
    char pb[8];
    size_t hl = r->host ? host_without_port(r->host, r->host_len) : 0;

    while (*p) {
        const char *v = NULL;
        size_t vn = 0, skip = 0;
        if (strncmp(p, "#{host}", 7) == 0) {
            v = r->host;
            vn = hl;
            skip = 7;
        } else if (strncmp(p, "#{path}", 7) == 0) {
            v = r->raw_path ? r->raw_path : r->path;
            vn = r->raw_path ? r->raw_path_len : r->path_len;
            if (vn && v[0] == '/') {
                v++;
                vn--;
            }
            skip = 7;
        } else if (strncmp(p, "#{port}", 7) == 0) {
            vn = (size_t)snprintf(pb, sizeof(pb), "%d", port);
            v = pb;
            skip = 7;
        } else if (strncmp(p, "#{protocol}", 11) == 0) {
            v = https ? "HTTPS" : "HTTP";
            vn = strlen(v);
            skip = 11;
        } else if (strncmp(p, "#{query}", 8) == 0) {
            v = r->query;
            vn = r->query_len;
            skip = 8;
        }
        if (skip) {
            if (vn && put(out, cap, o, v, vn) < 0)
                return SL_EINVAL;
            p += skip;
        } else {
            if (put(out, cap, o, p, 1) < 0)
                return SL_EINVAL;
            p++;
        }
    }
    return 0;
}

int route_redirect_location(const struct px_action *a, const struct px_req_view *r,
                            int listen_port, int https, char *out, size_t cap)
{
    char proto[16], port[16];
    size_t o = 0, qstart;
    int rhttps;

    if (cap == 0)
        return SL_EINVAL;
    out[0] = '\0';
    if (expand(a->proto, r, listen_port, https, proto, sizeof(proto), &o) < 0)
        return SL_EINVAL;
    rhttps = strcasecmp(proto, "HTTPS") == 0;
    o = 0;
    if (expand(a->port, r, listen_port, https, port, sizeof(port), &o) < 0)
        return SL_EINVAL;
    o = 0;
    if (put(out, cap, &o, rhttps ? "https://" : "http://", rhttps ? 8 : 7) < 0 ||
        expand(a->host, r, listen_port, https, out, cap, &o) < 0)
        return SL_EINVAL;
    if (!((rhttps && strcmp(port, "443") == 0) || (!rhttps && strcmp(port, "80") == 0))) {
        if (put(out, cap, &o, ":", 1) < 0 || put(out, cap, &o, port, strlen(port)) < 0)
            return SL_EINVAL;
    }
    if (expand(a->path, r, listen_port, https, out, cap, &o) < 0)
        return SL_EINVAL;
    qstart = o;
    if (put(out, cap, &o, "?", 1) < 0 || expand(a->query, r, listen_port, https, out, cap, &o) < 0)
        return SL_EINVAL;
    if (o == qstart + 1) { /* empty query: no '?' */
        o = qstart;
        out[o] = '\0';
    }
    return (int)o;
}
