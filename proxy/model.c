/*
 * model.c - entries per feed object, the links between them, dirty lists,
 * and commits.
 *
 * Links: a load balancer lists its listeners, a listener its rules, a group
 * its targets (sorted by id).  A link to an object not yet seen creates an
 * absent entry (present = 0) that holds the children until the object
 * comes; absent entries with no children are freed.  Listeners and groups
 * are freed only in a commit, after their dirty mark has been handled.
 *
 * Slots: every ARN that a present group has or a rule forwards to owns a
 * slot number (refs = the group, if any, plus one per forward of a rule);
 * its number is reused only once nothing refers to it, so rules keep their
 * slot numbers while groups come, change and go.
 */
#include "proxy/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/build.h"
#include "proxy/map.h"
#include "proxy/tls.h"

struct m_listener;
struct m_tg;

/* A certificate some HTTPS listener uses, parsed once when it arrives. */
struct m_cert {
    struct px_map_node node;
    char id[PX_ID_MAX];
    int seen;
    struct px_cert *parsed; /* NULL: it did not parse (logged) */
};

struct m_lb {
    struct px_map_node node;
    char id[PX_ID_MAX];
    int present, seen;
    struct pxd_lb conf;
    struct m_listener *listeners;
};

struct m_rule {
    struct px_map_node node;
    char id[PX_ID_MAX];
    int seen;
    struct px_rule_def *def;
    struct m_listener *ls;
    struct m_rule *next, *prev;
};

struct m_listener {
    struct px_map_node node;
    char id[PX_ID_MAX];
    int present, seen;
    struct pxd_listener conf;
    struct m_lb *lb; /* while present */
    struct m_listener *lb_next, *lb_prev;
    struct m_rule *rules;
    int nrules;
    int dirty;
    struct m_listener *dirty_next;
    struct px_listener *built;
    int tls_dirty;          /* HTTPS: the context below is out of date */
    struct px_tls_srv *tls; /* HTTPS: kept across rebuilds for rules */
};

struct m_slot {
    struct px_map_node node;
    char arn[PX_ARN_MAX];
    int slot, refs;
    struct m_tg *tg;
};

struct m_target {
    struct px_map_node node;
    char id[PX_KEY_MAX];
    int seen;
    struct pxd_target conf;
    struct m_tg *tg;
    struct px_target *rec;
};

struct m_tg {
    struct px_map_node node;
    char id[PX_ID_MAX];
    int present, seen;
    struct px_tg_conf conf;
    struct m_slot *slot; /* while present */
    struct m_target **targets;
    int ntargets, cap;
    int dirty;
    struct m_tg *dirty_next;
    struct px_tg *built;
};

struct px_model {
    struct px_map certs, lbs, listeners, rules, tgs, targets, slots;
    struct m_listener *dirty_ls;
    struct m_tg *dirty_tgs;
    int changed;
    struct m_slot **by_slot; /* slot number -> slot, NULL when free */
    int nslots, capslots;
    struct px_model_stats stats;
};

#define ENTRY(nd, type) px_map_entry(nd, type, node)

/* ---- slots ---- */

static struct m_slot *slot_ref(struct px_model *m, const char *arn)
{
    struct px_map_node *n = px_map_get(&m->slots, arn);
    struct m_slot *s;
    int i;

    if (n) {
        s = ENTRY(n, struct m_slot);
        s->refs++;
        return s;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    snprintf(s->arn, sizeof(s->arn), "%s", arn);
    for (i = 0; i < m->nslots && m->by_slot[i]; i++)
        ;
    if (i == m->capslots) {
        int nc = m->capslots ? m->capslots * 2 : 64;
        struct m_slot **p = realloc(m->by_slot, sizeof(*p) * (size_t)nc);
        if (p == NULL)
            goto fail;
        memset(p + m->capslots, 0, sizeof(*p) * (size_t)(nc - m->capslots));
        m->by_slot = p;
        m->capslots = nc;
    }
    if (px_map_put(&m->slots, &s->node, s->arn) != SL_OK)
        goto fail;
    s->slot = i;
    s->refs = 1;
    m->by_slot[i] = s;
    if (i == m->nslots)
        m->nslots++;
    return s;
fail:
    free(s);
    return NULL;
}

static void slot_unref(struct px_model *m, struct m_slot *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    m->by_slot[s->slot] = NULL;
    while (m->nslots > 0 && m->by_slot[m->nslots - 1] == NULL)
        m->nslots--;
    px_map_del(&m->slots, &s->node);
    free(s);
}

/* Give each forward of <d> its slot; on failure nothing stays referenced. */
static int def_slots_ref(struct px_model *m, struct px_rule_def *d)
{
    int i;

    for (i = 0; i < d->act.nfwd; i++) {
        struct m_slot *s = slot_ref(m, d->act.fwd[i].arn);
        if (s == NULL) {
            while (--i >= 0)
                slot_unref(m, m->by_slot[d->act.fwd[i].slot]);
            return SL_ENOMEM;
        }
        d->act.fwd[i].slot = s->slot;
    }
    return SL_OK;
}

static void def_slots_unref(struct px_model *m, struct px_rule_def *d)
{
    int i;

    for (i = 0; d && i < d->act.nfwd; i++)
        slot_unref(m, m->by_slot[d->act.fwd[i].slot]);
}

/* ---- entries ---- */

#define GET(m, map, type, key) \
    (px_map_get(&(m)->map, key) ? ENTRY(px_map_get(&(m)->map, key), type) : NULL)

/* The entry of <id> in <map>, created absent (zeroed, <size> bytes, id at
 * <id_off>) if missing. */
static void *get_or_new(struct px_map *map, const char *id, size_t size, size_t id_off,
                        size_t id_cap)
{
    struct px_map_node *n = px_map_get(map, id);
    char *e;

    if (n)
        return n; /* node is each entry's first member */
    if (strlen(id) >= id_cap || (e = calloc(1, size)) == NULL)
        return NULL;
    memcpy(e + id_off, id, strlen(id) + 1);
    if (px_map_put(map, (struct px_map_node *)(void *)e, e + id_off) != SL_OK) {
        free(e);
        return NULL;
    }
    return e;
}

#define GET_OR_NEW(m, map, type, key) \
    ((type *)get_or_new(&(m)->map, key, sizeof(type), offsetof(type, id), sizeof(((type *)0)->id)))

static void ls_dirty(struct px_model *m, struct m_listener *l)
{
    m->changed = 1;
    if (!l->dirty) {
        l->dirty = 1;
        l->dirty_next = m->dirty_ls;
        m->dirty_ls = l;
    }
}

static void tg_dirty(struct px_model *m, struct m_tg *g)
{
    m->changed = 1;
    if (!g->dirty) {
        g->dirty = 1;
        g->dirty_next = m->dirty_tgs;
        m->dirty_tgs = g;
    }
}

static void lb_gc(struct px_model *m, struct m_lb *b)
{
    if (b && !b->present && b->listeners == NULL) {
        px_map_del(&m->lbs, &b->node);
        free(b);
    }
}

static void ls_detach_lb(struct px_model *m, struct m_listener *l)
{
    struct m_lb *b = l->lb;

    if (b == NULL)
        return;
    if (l->lb_prev)
        l->lb_prev->lb_next = l->lb_next;
    else
        b->listeners = l->lb_next;
    if (l->lb_next)
        l->lb_next->lb_prev = l->lb_prev;
    l->lb = NULL;
    l->lb_next = l->lb_prev = NULL;
    lb_gc(m, b);
}

static void rule_detach(struct px_model *m, struct m_rule *r)
{
    struct m_listener *l = r->ls;

    if (l == NULL)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        l->rules = r->next;
    if (r->next)
        r->next->prev = r->prev;
    l->nrules--;
    r->ls = NULL;
    r->next = r->prev = NULL;
    ls_dirty(m, l);
}

static int target_pos(const struct m_tg *g, const char *id, int *found)
{
    int lo = 0, hi = g->ntargets;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(g->targets[mid]->id, id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static void target_detach(struct px_model *m, struct m_target *t)
{
    struct m_tg *g = t->tg;
    int found, i;

    if (g == NULL)
        return;
    i = target_pos(g, t->id, &found);
    if (found) {
        memmove(g->targets + i, g->targets + i + 1,
                sizeof(*g->targets) * (size_t)(g->ntargets - i - 1));
        g->ntargets--;
    }
    t->tg = NULL;
    tg_dirty(m, g);
}

static int target_attach(struct px_model *m, struct m_target *t, struct m_tg *g)
{
    int found, i = target_pos(g, t->id, &found);

    if (found)
        return SL_OK;
    if (g->ntargets == g->cap) {
        int nc = g->cap ? g->cap * 2 : 8;
        struct m_target **p = realloc(g->targets, sizeof(*p) * (size_t)nc);
        if (p == NULL)
            return SL_ENOMEM;
        g->targets = p;
        g->cap = nc;
    }
    memmove(g->targets + i + 1, g->targets + i, sizeof(*g->targets) * (size_t)(g->ntargets - i));
    g->targets[i] = t;
    g->ntargets++;
    t->tg = g;
    tg_dirty(m, g);
    return SL_OK;
}

/* ---- puts ---- */

static int put_lb(struct px_model *m, const struct pxd_lb *c)
{
    struct m_lb *b = GET_OR_NEW(m, lbs, struct m_lb, c->id);
    struct m_listener *l;

    if (b == NULL)
        return SL_ENOMEM;
    for (l = b->listeners; l; l = l->lb_next)
        if (b->conf.http2 != c->http2)
            l->tls_dirty = 1;
    b->conf = *c;
    b->present = b->seen = 1;
    for (l = b->listeners; l; l = l->lb_next)
        ls_dirty(m, l);
    m->changed = 1;
    return SL_OK;
}

static int put_listener(struct px_model *m, const struct pxd_listener *c)
{
    struct m_listener *l = GET_OR_NEW(m, listeners, struct m_listener, c->id);
    struct m_lb *b;

    if (l == NULL)
        return SL_ENOMEM;
    if (l->lb == NULL || strcmp(l->lb->id, c->lb_id) != 0) {
        if ((b = GET_OR_NEW(m, lbs, struct m_lb, c->lb_id)) == NULL) {
            ls_dirty(m, l); /* a new absent entry is freed by the commit */
            return SL_ENOMEM;
        }
        ls_detach_lb(m, l);
        l->lb = b;
        l->lb_next = b->listeners;
        if (b->listeners)
            b->listeners->lb_prev = l;
        b->listeners = l;
    }
    l->conf = *c;
    l->present = l->seen = 1;
    l->tls_dirty = 1;
    ls_dirty(m, l);
    return SL_OK;
}

/* ---- certificates ---- */

/* Listeners naming certificate <id> take their TLS context anew. */
static void cert_users_dirty(struct px_model *m, const char *id)
{
    struct px_map_iter it = {0};
    struct px_map_node *n;
    int i;

    m->changed = 1;
    while ((n = px_map_next(&m->listeners, &it)) != NULL) {
        struct m_listener *l = ENTRY(n, struct m_listener);
        for (i = 0; l->conf.https && i < l->conf.ncerts; i++)
            if (strcmp(l->conf.certs[i].id, id) == 0) {
                l->tls_dirty = 1;
                ls_dirty(m, l);
                break;
            }
    }
}

static int put_cert(struct px_model *m, const struct pxd_cert *c)
{
    struct m_cert *e = GET_OR_NEW(m, certs, struct m_cert, c->id);
    struct px_cert *parsed = NULL;
    struct sl_err err = {0};
    int rc;

    if (e == NULL)
        return SL_ENOMEM;
    rc = px_cert_new(c->cert_pem, c->chain_pem, c->key_pem, &parsed, &err);
    if (rc == SL_ENOMEM && e->parsed == NULL && !e->seen) {
        px_map_del(&m->certs, &e->node);
        free(e);
        return SL_ENOMEM;
    }
    if (rc == SL_ENOMEM)
        return SL_ENOMEM; /* the one it had stays */
    if (rc != SL_OK)
        log_error("certificate %s (%s): %s; listeners using it do not serve with it", c->id,
                  c->arn, err.message);
    if (parsed)
        px_cert_set_arn(parsed, c->arn);
    px_cert_release(e->parsed);
    e->parsed = parsed;
    e->seen = 1;
    cert_users_dirty(m, c->id);
    return SL_OK;
}

static void del_cert(struct px_model *m, struct m_cert *e)
{
    char id[PX_ID_MAX];

    memcpy(id, e->id, sizeof(id));
    px_cert_release(e->parsed);
    px_map_del(&m->certs, &e->node);
    free(e);
    cert_users_dirty(m, id);
}

static int put_rule(struct px_model *m, struct px_rule_def *d)
{
    struct m_rule *r = GET_OR_NEW(m, rules, struct m_rule, d->id);
    struct m_listener *l = GET_OR_NEW(m, listeners, struct m_listener, d->listener_id);

    if (l)
        ls_dirty(m, l);
    if (r == NULL || l == NULL || def_slots_ref(m, d) != SL_OK) {
        if (r && r->def == NULL) {
            px_map_del(&m->rules, &r->node);
            free(r);
        }
        px_rule_def_release(d);
        return SL_ENOMEM;
    }
    def_slots_unref(m, r->def);
    px_rule_def_release(r->def);
    r->def = d;
    r->seen = 1;
    if (r->ls != l) {
        rule_detach(m, r);
        r->ls = l;
        r->next = l->rules;
        if (l->rules)
            l->rules->prev = r;
        l->rules = r;
        l->nrules++;
    }
    ls_dirty(m, l);
    return SL_OK;
}

static int put_tg(struct px_model *m, const struct px_tg_conf *c)
{
    struct m_tg *g = GET_OR_NEW(m, tgs, struct m_tg, c->id);

    if (g == NULL)
        return SL_ENOMEM;
    if (g->slot && strcmp(g->slot->arn, c->arn) != 0) {
        if (g->slot->tg == g)
            g->slot->tg = NULL;
        slot_unref(m, g->slot);
        g->slot = NULL;
    }
    if (g->slot == NULL) {
        if ((g->slot = slot_ref(m, c->arn)) == NULL) {
            tg_dirty(m, g);
            return SL_ENOMEM;
        }
        g->slot->tg = g;
    }
    g->conf = *c;
    g->present = g->seen = 1;
    tg_dirty(m, g);
    return SL_OK;
}

static int put_target(struct px_model *m, const struct pxd_target *c)
{
    struct m_target *t = GET_OR_NEW(m, targets, struct m_target, c->id);
    struct m_tg *g;

    if (t == NULL)
        return SL_ENOMEM;
    if (t->rec && (t->conf.port != c->port || strcmp(t->conf.address, c->address) != 0)) {
        atomic_store(&t->rec->live, 0);
        px_target_release(t->rec);
        t->rec = NULL;
    }
    if (t->rec == NULL && (t->rec = px_target_new(c->id, c->address, c->port)) == NULL)
        goto fail;
    if (t->tg && strcmp(t->tg->id, c->tg_id) != 0)
        target_detach(m, t);
    if ((g = GET_OR_NEW(m, tgs, struct m_tg, c->tg_id)) == NULL ||
        target_attach(m, t, g) != SL_OK) {
        if (g)
            tg_dirty(m, g);
        goto fail;
    }
    t->conf = *c;
    t->seen = 1;
    tg_dirty(m, g); /* the draining flag is set when the group is rebuilt */
    return SL_OK;
fail:
    if (t->tg == NULL) {
        if (t->rec)
            atomic_store(&t->rec->live, 0);
        px_target_release(t->rec);
        px_map_del(&m->targets, &t->node);
        free(t);
    }
    return SL_ENOMEM;
}

int px_model_put(struct px_model *m, struct pxd_obj *o)
{
    int rc = SL_ENOMEM;

    switch (o->kind) {
    case FEED_CERTIFICATE: rc = put_cert(m, &o->u.cert); break;
    case FEED_LOAD_BALANCER: rc = put_lb(m, &o->u.lb); break;
    case FEED_LISTENER: rc = put_listener(m, &o->u.listener); break;
    case FEED_RULE:
        rc = put_rule(m, o->u.rule);
        o->u.rule = NULL; /* taken, or released on failure */
        break;
    case FEED_TARGET_GROUP: rc = put_tg(m, &o->u.tg); break;
    case FEED_TARGET: rc = put_target(m, &o->u.target); break;
    case FEED_NKINDS: break;
    }
    pxd_obj_clear(o);
    return rc;
}

/* ---- deletes ---- */

static void del_lb(struct px_model *m, struct m_lb *b)
{
    struct m_listener *l;

    b->present = 0;
    m->changed = 1;
    for (l = b->listeners; l; l = l->lb_next)
        ls_dirty(m, l);
    lb_gc(m, b);
}

static void del_listener(struct px_model *m, struct m_listener *l)
{
    l->present = 0;
    ls_detach_lb(m, l);
    ls_dirty(m, l);
}

static void del_rule(struct px_model *m, struct m_rule *r)
{
    rule_detach(m, r);
    def_slots_unref(m, r->def);
    px_rule_def_release(r->def);
    px_map_del(&m->rules, &r->node);
    free(r);
    m->changed = 1;
}

static void del_tg(struct px_model *m, struct m_tg *g)
{
    g->present = 0;
    if (g->slot) {
        if (g->slot->tg == g)
            g->slot->tg = NULL;
        slot_unref(m, g->slot);
        g->slot = NULL;
    }
    tg_dirty(m, g);
}

static void del_target(struct px_model *m, struct m_target *t)
{
    target_detach(m, t);
    atomic_store(&t->rec->live, 0);
    px_target_release(t->rec);
    px_map_del(&m->targets, &t->node);
    free(t);
    m->changed = 1;
}

void px_model_del(struct px_model *m, enum feed_kind k, const char *id)
{
    struct m_lb *b;
    struct m_listener *l;
    struct m_rule *r;
    struct m_tg *g;
    struct m_target *t;
    struct m_cert *x;

    switch (k) {
    case FEED_CERTIFICATE:
        if ((x = GET(m, certs, struct m_cert, id)) != NULL)
            del_cert(m, x);
        break;
    case FEED_LOAD_BALANCER:
        if ((b = GET(m, lbs, struct m_lb, id)) != NULL && b->present)
            del_lb(m, b);
        break;
    case FEED_LISTENER:
        if ((l = GET(m, listeners, struct m_listener, id)) != NULL && l->present)
            del_listener(m, l);
        break;
    case FEED_RULE:
        if ((r = GET(m, rules, struct m_rule, id)) != NULL)
            del_rule(m, r);
        break;
    case FEED_TARGET_GROUP:
        if ((g = GET(m, tgs, struct m_tg, id)) != NULL && g->present)
            del_tg(m, g);
        break;
    case FEED_TARGET:
        if ((t = GET(m, targets, struct m_target, id)) != NULL)
            del_target(m, t);
        break;
    case FEED_NKINDS: break;
    }
}

/* ---- snapshot re-reads ---- */

#define UNSEE(map, type)                                     \
    do {                                                     \
        struct px_map_iter it_ = {0};                        \
        struct px_map_node *n_;                              \
        while ((n_ = px_map_next(&(map), &it_)) != NULL)     \
            ENTRY(n_, type)->seen = 0;                       \
    } while (0)

void px_model_mark(struct px_model *m)
{
    m->changed = 1; /* a snapshot always makes a table, an empty one too */
    UNSEE(m->certs, struct m_cert);
    UNSEE(m->lbs, struct m_lb);
    UNSEE(m->listeners, struct m_listener);
    UNSEE(m->rules, struct m_rule);
    UNSEE(m->tgs, struct m_tg);
    UNSEE(m->targets, struct m_target);
}

void px_model_sweep(struct px_model *m)
{
    struct px_map_iter it;
    struct px_map_node *n;

    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->rules, &it)) != NULL)
        if (!ENTRY(n, struct m_rule)->seen)
            del_rule(m, ENTRY(n, struct m_rule));
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->targets, &it)) != NULL)
        if (!ENTRY(n, struct m_target)->seen)
            del_target(m, ENTRY(n, struct m_target));
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->listeners, &it)) != NULL) {
        struct m_listener *l = ENTRY(n, struct m_listener);
        if (l->present && !l->seen)
            del_listener(m, l);
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->tgs, &it)) != NULL) {
        struct m_tg *g = ENTRY(n, struct m_tg);
        if (g->present && !g->seen)
            del_tg(m, g);
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->lbs, &it)) != NULL) {
        struct m_lb *b = ENTRY(n, struct m_lb);
        if (b->present && !b->seen)
            del_lb(m, b); /* may free b, the node just returned */
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->certs, &it)) != NULL)
        if (!ENTRY(n, struct m_cert)->seen)
            del_cert(m, ENTRY(n, struct m_cert)); /* frees the node just returned */
}

/* ---- commits ---- */

static int build_tg(struct px_model *m, struct m_tg *g)
{
    struct px_target **recs = NULL;
    struct px_tg *built = NULL;
    int i;

    if (g->present) {
        if ((recs = malloc(sizeof(*recs) * ((size_t)g->ntargets + 1))) == NULL)
            return SL_ENOMEM;
        for (i = 0; i < g->ntargets; i++) {
            recs[i] = g->targets[i]->rec;
            atomic_store(&recs[i]->draining, g->targets[i]->conf.draining);
            atomic_store(&recs[i]->https, g->conf.https);
        }
        built = px_build_tg(&g->conf, g->slot->slot, recs, g->ntargets);
        free(recs);
        if (built == NULL)
            return SL_ENOMEM;
    }
    px_tg_release(g->built);
    g->built = built;
    m->stats.groups_built++;
    return SL_OK;
}

/* An HTTPS listener's context from its certificates (those that arrived
 * and parsed), its policy and ALPN; NULL, logged, without a usable default
 * certificate.  SL_ENOMEM leaves the old one. */
static int build_tls(struct px_model *m, struct m_listener *l)
{
    struct px_cert *certs[PX_MAX_CERTS];
    struct px_tls_srv *tls = NULL;
    struct sl_err err = {0};
    int i, n = 0, rc;

    for (i = 0; i < l->conf.ncerts; i++) {
        struct m_cert *e = GET(m, certs, struct m_cert, l->conf.certs[i].id);
        if (e && e->parsed)
            certs[n++] = e->parsed;
        else if (i == 0)
            break; /* no default: nothing is served */
    }
    if (n == 0 || !l->conf.certs[0].is_default)
        log_warn("listener %s: HTTPS without a usable default certificate (%s): not served",
                 l->id, l->conf.ncerts ? l->conf.certs[0].id : "none");
    else if ((rc = px_tls_srv_new(l->conf.policy, l->conf.alpn, l->lb->conf.http2, certs, n,
                                  &tls, &err)) != SL_OK) {
        if (rc == SL_ENOMEM)
            return SL_ENOMEM;
        log_error("listener %s: %s: not served", l->id, err.message);
    }
    px_tls_srv_release(l->tls);
    l->tls = tls;
    l->tls_dirty = 0;
    return SL_OK;
}

static int build_listener(struct px_model *m, struct m_listener *l)
{
    struct px_rule_def **defs = NULL;
    struct px_listener *built = NULL;
    struct m_rule *r;
    int n = 0;

    if (l->present && l->lb && l->lb->present && l->conf.https && l->tls_dirty &&
        build_tls(m, l) != SL_OK)
        return SL_ENOMEM;
    if (l->present && l->lb && l->lb->present) {
        if ((defs = malloc(sizeof(*defs) * ((size_t)l->nrules + 1))) == NULL)
            return SL_ENOMEM;
        for (r = l->rules; r; r = r->next)
            defs[n++] = r->def;
        built = px_build_listener(&l->conf, &l->lb->conf, defs, n);
        free(defs);
        if (built == NULL)
            return SL_ENOMEM;
        if (l->conf.https) {
            px_tls_srv_ref(l->tls);
            built->tls = l->tls;
        }
    }
    px_listener_release(l->built);
    l->built = built;
    m->stats.listeners_built++;
    return SL_OK;
}

/* Rebuild what is dirty; an entry stays on its list until rebuilt. */
static int rebuild(struct px_model *m)
{
    while (m->dirty_tgs) {
        struct m_tg *g = m->dirty_tgs;
        if (build_tg(m, g) != SL_OK)
            return SL_ENOMEM;
        m->dirty_tgs = g->dirty_next;
        g->dirty = 0;
        if (!g->present && g->ntargets == 0) {
            px_map_del(&m->tgs, &g->node);
            free(g->targets);
            free(g);
        }
    }
    while (m->dirty_ls) {
        struct m_listener *l = m->dirty_ls;
        if (build_listener(m, l) != SL_OK)
            return SL_ENOMEM;
        m->dirty_ls = l->dirty_next;
        l->dirty = 0;
        if (!l->present && l->nrules == 0) {
            px_tls_srv_release(l->tls);
            px_map_del(&m->listeners, &l->node);
            free(l);
        }
    }
    return SL_OK;
}

static int listener_cmp(const void *a, const void *b)
{
    return strcmp((*(struct px_listener *const *)a)->id, (*(struct px_listener *const *)b)->id);
}

int px_model_commit(struct px_model *m, uint64_t rev, struct px_table **out)
{
    struct px_map_iter it = {0};
    struct px_map_node *n;
    struct px_table *t;
    int i;

    memset(&m->stats, 0, sizeof(m->stats));
    if (rebuild(m) != SL_OK)
        return SL_ENOMEM;
    if ((t = px_table_new(rev, (int)m->listeners.n, m->nslots)) == NULL)
        return SL_ENOMEM;
    while ((n = px_map_next(&m->listeners, &it)) != NULL) {
        struct px_listener *l = ENTRY(n, struct m_listener)->built;
        if (l) {
            atomic_fetch_add(&l->refs, 1);
            t->listeners[t->nlisteners++] = l;
        }
    }
    qsort(t->listeners, (size_t)t->nlisteners, sizeof(*t->listeners), listener_cmp);
    for (i = 0; i < m->nslots; i++) {
        struct m_slot *s = m->by_slot[i];
        struct px_tg *g = s && s->tg ? s->tg->built : NULL;
        if (g)
            atomic_fetch_add(&g->refs, 1);
        t->slots[i] = g;
    }
    t->nslots = m->nslots;
    m->changed = 0;
    *out = t;
    return SL_OK;
}

int px_model_changed(const struct px_model *m)
{
    return m->changed;
}

void px_model_stats(const struct px_model *m, struct px_model_stats *out)
{
    *out = m->stats;
}

/* ---- life ---- */

int px_model_new(struct px_model **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? SL_OK : SL_ENOMEM;
}

void px_model_free(struct px_model *m)
{
    struct px_map_iter it;
    struct px_map_node *n;

    if (m == NULL)
        return;
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->rules, &it)) != NULL) {
        struct m_rule *r = ENTRY(n, struct m_rule);
        px_rule_def_release(r->def);
        free(r);
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->targets, &it)) != NULL) {
        struct m_target *t = ENTRY(n, struct m_target);
        atomic_store(&t->rec->live, 0);
        px_target_release(t->rec);
        free(t);
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->listeners, &it)) != NULL) {
        px_listener_release(ENTRY(n, struct m_listener)->built);
        px_tls_srv_release(ENTRY(n, struct m_listener)->tls);
        free(ENTRY(n, struct m_listener));
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->certs, &it)) != NULL) {
        px_cert_release(ENTRY(n, struct m_cert)->parsed);
        free(ENTRY(n, struct m_cert));
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->tgs, &it)) != NULL) {
        struct m_tg *g = ENTRY(n, struct m_tg);
        px_tg_release(g->built);
        free(g->targets);
        free(g);
    }
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->lbs, &it)) != NULL)
        free(ENTRY(n, struct m_lb));
    memset(&it, 0, sizeof(it));
    while ((n = px_map_next(&m->slots, &it)) != NULL)
        free(ENTRY(n, struct m_slot));
    px_map_clear(&m->certs);
    px_map_clear(&m->lbs);
    px_map_clear(&m->listeners);
    px_map_clear(&m->rules);
    px_map_clear(&m->tgs);
    px_map_clear(&m->targets);
    px_map_clear(&m->slots);
    free(m->by_slot);
    free(m);
}
