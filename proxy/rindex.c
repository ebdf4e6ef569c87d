/*
 * rindex.c - building and probing a listener's rule index.
 *
 * Keys live in three open-addressed tables (exact hosts, host suffixes,
 * path prefixes).  A lookup hashes the host once from its end (every suffix
 * length, the whole host included) and the path once from its start (every
 * prefix length), probing only at the lengths some key has: a few probes
 * per request whatever the number of rules.
 */
#include "proxy/rindex.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/arena.h"
#include "proxy/table.h"

enum { K_EXACT, K_SUFFIX, K_PREFIX, K_NTYPES };
enum { OPT_HOST, OPT_PATH, OPT_NONE };

#define FNV_OFF 2166136261u
#define FNV_PRIME 16777619u

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static inline uint32_t step(uint32_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* Host keys hash from their last byte to their first, so that a request's
 * single backward pass yields the hash of each of its suffixes. */
static uint32_t hash_back(const char *s, uint32_t n)
{
    uint32_t h = FNV_OFF;

    while (n > 0)
        h = step(h, (unsigned char)s[--n]);
    return h;
}

static uint32_t hash_fwd(const char *s, uint32_t n)
{
    uint32_t h = FNV_OFF, i;

    for (i = 0; i < n; i++)
        h = step(h, (unsigned char)s[i]);
    return h;
}

/* ---- building ---- */

struct key {
    int type;
    const char *s;
    uint32_t len;
    uint32_t rule;
    int opt;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c;

    if (x->type != y->type)
        return x->type - y->type;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    if ((c = memcmp(x->s, y->s, x->len)) != 0)
        return c;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int same_key(const struct key *x, const struct key *y)
{
    return x->type == y->type && x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

struct keys {
    struct key *k;
    size_t n, cap;
};

static int keys_add(struct keys *ks, int type, const char *s, uint32_t len, uint32_t rule, int opt)
{
    if (ks->n == ks->cap) {
        size_t nc = ks->cap ? ks->cap * 2 : 64;
        struct key *p = realloc(ks->k, nc * sizeof(*p));
        if (p == NULL)
            return SL_ENOMEM;
        ks->k = p;
        ks->cap = nc;
    }
    ks->k[ks->n++] = (struct key){type, s, len, rule, opt};
    return SL_OK;
}

/* 1 if every value of host condition <c> has a key; the keys are added. */
static int host_keys(const struct px_cond *c, uint32_t rule, struct keys *ks, struct px_arena *a,
                     int *failed)
{
    size_t first = ks->n;
    int i;

    for (i = 0; i < c->nvals; i++) {
        const char *v = c->vals[i], *last = NULL, *p;
        char *low;
        size_t j, n;
        for (p = v; *p; p++)
            if (*p == '*' || *p == '?')
                last = p;
        if (last && last[1] == '\0')
            goto none; /* "api.*": no literal suffix */
        p = last ? last + 1 : v;
        n = strlen(p);
        if ((low = px_arena_alloc(a, n + 1)) == NULL)
            goto fail;
        for (j = 0; j < n; j++)
            low[j] = (char)lower((unsigned char)p[j]);
        if (keys_add(ks, last ? K_SUFFIX : K_EXACT, low, (uint32_t)n, rule, OPT_HOST) != SL_OK)
            goto fail;
    }
    return 1;
fail:
    *failed = 1;
none:
    ks->n = first;
    return 0;
}

static int path_keys(const struct px_cond *c, uint32_t rule, struct keys *ks, int *failed)
{
    size_t first = ks->n;
    int i;

    for (i = 0; i < c->nvals; i++) {
        size_t n = strcspn(c->vals[i], "*?");
        if (n == 0) {
            ks->n = first;
            return 0;
        }
        if (keys_add(ks, K_PREFIX, c->vals[i], (uint32_t)n, rule, OPT_PATH) != SL_OK) {
            *failed = 1;
            ks->n = first;
            return 0;
        }
    }
    return 1;
}

/* The keys of both usable options of every rule. */
static int collect(const struct px_rule *rules, uint32_t n, struct keys *ks, struct px_arena *a)
{
    uint32_t i;
    int failed = 0;

    for (i = 0; i < n; i++) {
        int j, host = 0, path = 0;
        for (j = 0; j < rules[i].nconds; j++) {
            const struct px_cond *c = &rules[i].conds[j];
            if (c->type == PX_C_HOST && !host)
                host = host_keys(c, i, ks, a, &failed);
            else if (c->type == PX_C_PATH && !path)
                path = path_keys(c, i, ks, &failed);
        }
        if (failed)
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* Per rule, the option whose busiest key is shared by the fewest rules. */
static void choose(struct keys *ks, uint32_t n, int *chosen, uint32_t *cost)
{
    size_t i, j, k;

    for (i = 0; i < (size_t)n * 2; i++)
        cost[i] = 0;
    for (i = 0; i < ks->n; i = j) {
        for (j = i + 1; j < ks->n && same_key(&ks->k[i], &ks->k[j]); j++)
            ;
        for (k = i; k < j; k++) {
            uint32_t *c = &cost[ks->k[k].rule * 2 + (uint32_t)ks->k[k].opt];
            if (*c < j - i)
                *c = (uint32_t)(j - i);
        }
    }
    for (i = 0; i < n; i++)
        chosen[i] = OPT_NONE;
    for (i = 0; i < ks->n; i++) {
        uint32_t r = ks->k[i].rule, mine, theirs;
        int opt = ks->k[i].opt, other = opt == OPT_HOST ? OPT_PATH : OPT_HOST;
        if (chosen[r] != OPT_NONE)
            continue;
        mine = cost[r * 2 + (uint32_t)opt];
        theirs = cost[r * 2 + (uint32_t)other]; /* 0: that option has no key */
        chosen[r] = theirs == 0 || mine < theirs || (mine == theirs && opt == OPT_HOST) ? opt
                                                                                         : other;
    }
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t c = 8;

    while (c < n)
        c *= 2;
    return c;
}

/* Fill table <t> with the keys of <type> among the sorted <ks>[0..n). */
static int fill_table(struct rix_table *t, int type, const struct key *k, size_t n, uint32_t *pos,
                      uint32_t *npos, struct px_arena *a)
{
    size_t i, j, m, groups = 0;
    uint32_t nlens = 0, last_len = 0;

    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && same_key(&k[i], &k[j]); j++)
            ;
        if (k[i].type != type)
            continue;
        groups++;
        if (nlens == 0 || k[i].len != last_len) {
            nlens++;
            last_len = k[i].len;
        }
    }
    if (groups == 0)
        return SL_OK;
    t->mask = pow2_at_least((uint32_t)groups * 2) - 1;
    t->e = px_arena_alloc(a, sizeof(*t->e) * ((size_t)t->mask + 1));
    t->lens = px_arena_alloc(a, sizeof(*t->lens) * nlens);
    if (t->e == NULL || t->lens == NULL) {
        t->e = NULL;
        return SL_ENOMEM;
    }
    for (i = 0; i < n; i = j) {
        uint32_t h, idx, prev = UINT32_MAX;
        for (j = i + 1; j < n && same_key(&k[i], &k[j]); j++)
            ;
        if (k[i].type != type)
            continue;
        if (t->nlens == 0 || t->lens[t->nlens - 1] != k[i].len)
            t->lens[t->nlens++] = k[i].len;
        h = type == K_PREFIX ? hash_fwd(k[i].s, k[i].len) : hash_back(k[i].s, k[i].len);
        for (idx = h & t->mask; t->e[idx].key; idx = (idx + 1) & t->mask)
            ;
        t->e[idx] = (struct rix_entry){h, k[i].len, k[i].s, *npos, 0};
        for (m = i; m < j; m++)
            if (k[m].rule != prev) { /* one rule may give a key twice */
                pos[(*npos)++] = k[m].rule;
                t->e[idx].cnt++;
                prev = k[m].rule;
            }
    }
    return SL_OK;
}

int rindex_build(struct px_rindex *ix, const struct px_rule *rules, uint32_t n,
                 struct px_arena *a)
{
    struct keys ks = {0};
    int *chosen = NULL, rc = SL_ENOMEM;
    uint32_t *cost = NULL, i, npos = 0;
    size_t m = 0, k;

    memset(ix, 0, sizeof(*ix));
    ix->nrules = n;
    if (n == 0)
        return SL_OK;
    chosen = malloc(sizeof(*chosen) * n);
    cost = malloc(sizeof(*cost) * n * 2);
    if (chosen == NULL || cost == NULL || collect(rules, n, &ks, a) != SL_OK)
        goto out;
    if (ks.n > 1)
        qsort(ks.k, ks.n, sizeof(*ks.k), key_cmp);
    choose(&ks, n, chosen, cost);
    for (k = 0; k < ks.n; k++) /* keep the chosen option's keys, in order */
        if (ks.k[k].opt == chosen[ks.k[k].rule])
            ks.k[m++] = ks.k[k];
    ix->pos = px_arena_alloc(a, sizeof(*ix->pos) * (m + 1));
    ix->unindexed = px_arena_alloc(a, sizeof(*ix->unindexed) * n);
    if (ix->pos == NULL || ix->unindexed == NULL ||
        fill_table(&ix->host_exact, K_EXACT, ks.k, m, ix->pos, &npos, a) != SL_OK ||
        fill_table(&ix->host_suffix, K_SUFFIX, ks.k, m, ix->pos, &npos, a) != SL_OK ||
        fill_table(&ix->path_prefix, K_PREFIX, ks.k, m, ix->pos, &npos, a) != SL_OK)
        goto out;
    for (i = 0; i < n; i++)
        if (chosen[i] == OPT_NONE)
            ix->unindexed[ix->nunindexed++] = i;
    rc = SL_OK;
out:
    if (rc != SL_OK) {
        memset(ix, 0, sizeof(*ix));
        ix->nrules = n;
        ix->nunindexed = UINT32_MAX; /* see rindex_begin(): every rule */
    }
    free(ks.k);
    free(chosen);
    free(cost);
    return rc;
}

/* ---- lookups ---- */

static void add_cursor(struct px_rcand *it, const uint32_t *p, uint32_t n)
{
    if (n == 0)
        return;
    if (it->n == RIX_MAX_CURSORS) {
        it->all = 1;
        return;
    }
    it->cur[it->n] = p;
    it->end[it->n] = p + n;
    it->n++;
}

static const struct rix_entry *probe(const struct rix_table *t, uint32_t h, const char *s,
                                     uint32_t len, int icase)
{
    uint32_t idx, j;

    for (idx = h & t->mask; t->e[idx].key; idx = (idx + 1) & t->mask) {
        const struct rix_entry *e = &t->e[idx];
        if (e->hash != h || e->len != len)
            continue;
        for (j = 0; j < len; j++)
            if ((icase ? lower((unsigned char)s[j]) : (unsigned char)s[j]) !=
                (unsigned char)e->key[j])
                break;
        if (j == len)
            return e;
    }
    return NULL;
}

static void host_lookup(const struct px_rindex *ix, const char *host, size_t hlen,
                        struct px_rcand *it)
{
    const struct rix_table *sx = &ix->host_suffix, *ex = &ix->host_exact;
    const struct rix_entry *e;
    uint32_t h = FNV_OFF, len = 0;
    int k = 0;

    if (hlen > UINT32_MAX)
        return;
    while (len < hlen) {
        h = step(h, lower((unsigned char)host[hlen - 1 - len]));
        len++;
        while (sx->e && k < sx->nlens && sx->lens[k] < len)
            k++;
        if (sx->e && k < sx->nlens && sx->lens[k] == len &&
            (e = probe(sx, h, host + hlen - len, len, 1)) != NULL)
            add_cursor(it, ix->pos + e->off, e->cnt);
    }
    if (ex->e && (e = probe(ex, h, host, len, 1)) != NULL)
        add_cursor(it, ix->pos + e->off, e->cnt);
}

static void path_lookup(const struct px_rindex *ix, const char *path, size_t plen,
                        struct px_rcand *it)
{
    const struct rix_table *px = &ix->path_prefix;
    const struct rix_entry *e;
    uint32_t h = FNV_OFF, len;
    int k = 0;

    if (px->e == NULL)
        return;
    for (len = 0; len < plen && k < px->nlens;) {
        h = step(h, (unsigned char)path[len]);
        len++;
        while (k < px->nlens && px->lens[k] < len)
            k++;
        if (k < px->nlens && px->lens[k] == len && (e = probe(px, h, path, len, 0)) != NULL)
            add_cursor(it, ix->pos + e->off, e->cnt);
    }
}

void rindex_begin(const struct px_rindex *ix, const char *host, size_t hlen, const char *path,
                  size_t plen, struct px_rcand *it)
{
    it->n = 0;
    it->all = ix->nunindexed == UINT32_MAX;
    it->next = 0;
    it->nrules = ix->nrules;
    it->last = -1;
    if (it->all)
        return;
    if (host)
        host_lookup(ix, host, hlen, it);
    if (path)
        path_lookup(ix, path, plen, it);
    add_cursor(it, ix->unindexed, ix->nunindexed);
}

int64_t rindex_next(struct px_rcand *it)
{
    uint32_t best = UINT32_MAX;
    int i;

    if (it->all)
        return it->next < it->nrules ? (int64_t)it->next++ : SL_ENOTFOUND;
    for (i = 0; i < it->n; i++) {
        while (it->cur[i] < it->end[i] && (int64_t)*it->cur[i] <= it->last)
            it->cur[i]++;
        if (it->cur[i] < it->end[i] && *it->cur[i] < best)
            best = *it->cur[i];
    }
    if (best == UINT32_MAX)
        return SL_ENOTFOUND;
    it->last = best;
    return best;
}
