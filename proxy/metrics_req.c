/*
 * metrics_req.c - a request's counters, from the hooks of the exchange.
 *
 * Listener counters are added once, when the request ends; a target's as
 * things happen to it (chosen, answered, failed to connect), while the
 * exchange still holds the target.
 */
#include <string.h>
#include <time.h>

#include "proxy/accesslog_req.h"
#include "proxy/conn.h"
#include "proxy/trace.h"

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct pxm_tslot *tslot(struct px_conn *c)
{
    return c->target && c->target->m.slots ? &c->target->m.slots[c->w->idx] : NULL;
}

/* ---- the connection ---- */

void pxm_conn_open(struct px_conn *c)
{
    const struct px_listener *lis = px_table_listener(c->w->table, c->lid);

    c->mc.cell = lis ? lis->m : NULL;
    pxm_listener_ref(c->mc.cell);
    if (c->mc.cell)
        pxm_add(&pxm_lslot(c->mc.cell, c->w->idx)->new_conns, 1);
}

void pxm_conn_rejected(struct px_worker *w, const char *lid)
{
    const struct px_listener *lis = w->table ? px_table_listener(w->table, lid) : NULL;

    if (lis && lis->m)
        pxm_add(&pxm_lslot(lis->m, w->idx)->rejected, 1);
}

struct pxm_listener *pxm_conn_accepted(struct px_worker *w, const char *lid)
{
    const struct px_listener *lis = w->table ? px_table_listener(w->table, lid) : NULL;
    struct pxm_listener *cell = lis ? lis->m : NULL;

    pxm_listener_ref(cell);
    if (cell)
        pxm_add(&pxm_lslot(cell, w->idx)->new_conns, 1);
    return cell;
}

void pxm_conn_unpark(struct px_conn *c, struct pxm_listener *cell)
{
    c->mc.cell = cell;
}

struct pxm_listener *pxm_conn_park(struct px_conn *c)
{
    struct pxm_listener *cell = c->mc.cell;

    if (c->obs.open)
        pxm_req_end(c);
    c->mc.cell = NULL;
    pxa_conn_free(c);
    return cell;
}

void pxm_parked_closed(struct px_worker *w, struct pxm_listener *cell)
{
    if (cell) {
        pxm_add(&pxm_lslot(cell, w->idx)->closed, 1);
        pxm_listener_put(cell);
    }
}

void pxm_conn_close(struct px_conn *c)
{
    if (c->obs.open)
        pxm_req_end(c);
    if (c->mc.cell) {
        pxm_add(&pxm_lslot(c->mc.cell, c->w->idx)->closed, 1);
        pxm_listener_put(c->mc.cell);
        c->mc.cell = NULL;
    }
    pxa_conn_free(c);
}

/* ---- a request ---- */

void pxm_req_begin(struct px_conn *c, const struct px_listener *lis, size_t head_len, int bad)
{
    struct pxm_req *o = &c->obs;
    const struct h1_request *r = &c->req;

    if (o->open)
        pxm_req_end(c);
    o->open = 1;
    o->status = o->target_status = o->elb = 0;
    o->rule_prio = PXM_PRIO_NONE;
    o->actions = 0;
    o->evals = 0;
    o->bad_request = bad;
    o->t_begin = now_ns();
    o->t_sent = o->t_resp = o->t_out = 0;
    o->rx = head_len;
    o->tx = 0;
    o->classification = o->classification_reason = NULL;
    o->ls = c->mc.cell ? pxm_lslot(c->mc.cell, c->w->idx) : NULL;
    clock_gettime(CLOCK_REALTIME, &o->created);
    px_trace_value(bad ? NULL : r->headers, bad ? 0 : r->nheaders, head_len, o->created.tv_sec,
                   o->trace, sizeof(o->trace) - 1);
    o->trace[sizeof(o->trace) - 1] = '\0';
    if (lis == NULL)
        lis = px_table_listener(c->w->table, c->lid);
    o->logging = lis && lis->alog;
    if (o->logging)
        pxa_req_begin(c);
}

void pxm_req_classified(struct px_conn *c)
{
    struct pxm_req *o = &c->obs;

    o->classification =
        c->dsc.cls == PX_DSC_COMPLIANT ? NULL : px_desync_class_name(c->dsc.cls);
    o->classification_reason =
        c->dsc.reason == PX_DSR_NONE ? NULL : px_desync_reason_name(c->dsc.reason);
}

void pxm_req_rule(struct px_conn *c, const struct px_rule *r, int evals)
{
    struct pxm_req *o = &c->obs;

    o->evals = evals;
    if (r == NULL) {
        o->rule_prio = -1;
        return;
    }
    o->rule_prio = r->def->is_default ? 0 : r->prio;
    switch (r->act->type) {
    case PX_A_FORWARD: o->actions = PXM_ACT_FORWARD; break;
    case PX_A_REDIRECT: o->actions = PXM_ACT_REDIRECT; break;
    case PX_A_FIXED: o->actions = PXM_ACT_FIXED; break;
    default: break;
    }
}

void pxm_req_target(struct px_conn *c, const struct px_tg *g, struct px_target *t)
{
    struct pxm_tslot *s = t->m.slots ? &t->m.slots[c->w->idx] : NULL;

    if (s)
        pxm_add(&s->requests, 1);
    if (c->obs.logging)
        pxa_req_target(c, g, t);
}

void pxm_req_redirect(struct px_conn *c, const char *loc)
{
    if (c->obs.logging)
        pxa_req_redirect(c, loc);
}

void pxm_req_response(struct px_conn *c, int status)
{
    struct pxm_req *o = &c->obs;
    struct pxm_tslot *s = tslot(c);
    uint64_t us;

    o->t_resp = now_ns();
    o->target_status = o->status = status;
    o->elb = 0;
    if (s == NULL)
        return;
    if (status >= 200 && status < 600)
        pxm_add(&s->target[status / 100 - 2], 1);
    us = (o->t_resp - (o->t_sent ? o->t_sent : o->t_begin)) / 1000;
    pxm_add(&s->rt_count, 1);
    pxm_add(&s->rt_sum_us, us);
    pxm_add(&s->rt_bucket[pxm_bucket_of(us)], 1);
}

void pxm_req_reply(struct px_conn *c, int status)
{
    c->obs.status = status;
    c->obs.elb = 1;
}

void pxm_req_conn_error(struct px_conn *c)
{
    struct pxm_tslot *s = tslot(c);

    if (s)
        pxm_add(&s->conn_errors, 1);
}

void pxm_req_sent_up(struct px_conn *c)
{
    if (c->obs.open && c->obs.t_sent == 0)
        c->obs.t_sent = now_ns();
}

void pxm_req_io(struct px_conn *c, size_t to_client, size_t from_client)
{
    struct pxm_req *o = &c->obs;

    o->tx += to_client;
    o->rx += from_client;
    if (to_client && o->t_resp && o->t_out == 0)
        o->t_out = now_ns();
}

void pxm_req_end(struct px_conn *c)
{
    struct pxm_req *o = &c->obs;
    struct pxm_lslot *ls = o->ls;

    if (!o->open)
        return;
    o->open = 0;
    if (ls) {
        /* RequestCount: requests a rule was found for, as ALB counts them
         * (not the ones refused before routing) */
        if (o->rule_prio >= 0)
            pxm_add(&ls->requests, 1);
        pxm_add(&ls->bytes, o->rx + o->tx);
        pxm_add(&ls->rule_evals, (uint64_t)o->evals);
        if (o->elb && o->status >= 300 && o->status < 600)
            pxm_add(&ls->elb[o->status / 100 - 3], 1);
        if (o->elb && o->status >= 500 && o->status <= 504 && o->status != 501)
            pxm_add(&ls->elb5xx[o->status == 500 ? 0 : o->status - 501], 1);
    }
    if (o->logging)
        pxa_req_log(c);
}
