/*
 * build.c - listener and target group construction.
 */
#include "proxy/build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/accesslog.h"
#include "common/err.h"
#include "proxy/arena.h"
#include "proxy/sticky.h"

static int rule_cmp(const void *a, const void *b)
{
    const struct px_rule_def *x = *(struct px_rule_def *const *)a;
    const struct px_rule_def *y = *(struct px_rule_def *const *)b;

    if (x->is_default != y->is_default)
        return x->is_default - y->is_default;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return strcmp(x->id, y->id);
}

struct px_listener *px_build_listener(const struct pxd_listener *conf, const struct pxd_lb *lb,
                                      struct px_rule_def *const *defs, int n)
{
    struct px_listener *l = calloc(1, sizeof(*l));
    struct px_rule_def **sorted = NULL;
    int i;

    if (l == NULL || (l->arena = px_arena_new()) == NULL ||
        (sorted = malloc(sizeof(*sorted) * ((size_t)n + 1))) == NULL)
        goto fail;
    atomic_init(&l->refs, 1);
    memcpy(l->id, conf->id, sizeof(l->id));
    memcpy(l->lb_id, conf->lb_id, sizeof(l->lb_id));
    l->port = conf->port;
    l->https = conf->https;
    l->internet = lb->internet;
    l->idle_timeout_s = lb->idle_timeout_s;
    l->drop_invalid = lb->drop_invalid;
    l->desync_mode = lb->desync_mode;
    pxm_arn_resource(lb->arn, "loadbalancer/", l->lb_name, sizeof(l->lb_name));
    pxm_arn_resource(conf->arn, "listener/", l->name, sizeof(l->name));
    if ((l->m = pxm_listener_get(conf->id)) == NULL)
        goto fail;
    l->alog = pxa_sink_get(lb);
    l->clog = conf->https ? pxa_conn_sink_get(lb) : NULL;
    l->keep_alive_s = lb->keep_alive_s;
    l->xff_mode = lb->xff_mode;
    l->xff_port = lb->xff_port;
    l->preserve_host = lb->preserve_host;
    l->server_header = conf->server_header;
    l->tls_headers = conf->https && lb->tls_headers;
    l->rules = px_arena_alloc(l->arena, sizeof(*l->rules) * ((size_t)n + 1));
    if (l->rules == NULL)
        goto fail;
    memcpy(sorted, defs, sizeof(*sorted) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(*sorted), rule_cmp);
    for (i = 0; i < n; i++) {
        struct px_rule *r = &l->rules[i];
        atomic_fetch_add(&sorted[i]->refs, 1);
        r->def = sorted[i];
        r->prio = sorted[i]->prio;
        r->nconds = sorted[i]->nconds;
        r->conds = sorted[i]->conds;
        r->act = &sorted[i]->act;
        l->nrules++;
    }
    /* an index that failed to build still yields every rule: no error */
    rindex_build(&l->index, l->rules,
                 (uint32_t)(n > 0 && sorted[n - 1]->is_default ? n - 1 : n), l->arena);
    free(sorted);
    return l;
fail:
    free(sorted);
    if (l) {
        pxm_listener_put(l->m);
        pxa_sink_put(l->alog);
        pxa_sink_put(l->clog);
        px_arena_free(l->arena);
        free(l);
    }
    return NULL;
}

struct px_tg *px_build_tg(const struct px_tg_conf *conf, int slot, struct px_target *const *recs,
                          int n)
{
    struct px_tg *g = calloc(1, sizeof(*g));
    int i;

    if (g == NULL || (g->targets = malloc(sizeof(*g->targets) * ((size_t)n + 1))) == NULL) {
        free(g);
        return NULL;
    }
    atomic_init(&g->refs, 1);
    atomic_init(&g->rr, 0);
    g->conf = *conf;
    g->slot = slot;
    for (i = 0; i < n; i++) {
        px_target_ref(recs[i]);
        g->targets[i] = recs[i];
    }
    g->ntargets = n;
    if (px_sticky_tg_ids(g) != SL_OK) {
        px_tg_release(g);
        return NULL;
    }
    return g;
}
