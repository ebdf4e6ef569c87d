/*
 * accesslog_req.c - a request's line: its fields gathered from the
 * connection and formatted (accesslog_line.h) into the worker's ring.
 */
#include "proxy/accesslog_req.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/accesslog.h"
#include "proxy/accesslog_conn.h"
#include "proxy/accesslog_line.h"
#include "proxy/conn.h"

/* Room for <n> more bytes after <used> in the connection's log buffer. */
static int room(struct px_conn *c, size_t used, size_t n)
{
    size_t cap;
    char *p;

    if (used + n <= c->mc.lcap)
        return 1;
    for (cap = c->mc.lcap ? c->mc.lcap : 512; cap < used + n; cap *= 2)
        ;
    if ((p = realloc(c->mc.lbuf, cap)) == NULL)
        return 0;
    c->mc.lbuf = p;
    c->mc.lcap = cap;
    return 1;
}

/* Escape <s>[0..<n>) after <used> bytes of the buffer; its length, 0 when
 * memory ran out. */
static size_t add_escaped(struct px_conn *c, size_t used, const char *s, size_t n)
{
    size_t want = n * 4 < PXA_FIELD_MAX ? n * 4 : PXA_FIELD_MAX;

    if (!room(c, used, want))
        return 0;
    return pxa_escape(c->mc.lbuf + used, want, s, n);
}

/* "METHOD http://host:port/uri HTTP/1.x" (https:// over TLS; an h2
 * stream's "HTTP/2.0", as ALB logs it), escaped as it is assembled. */
static size_t request_line(struct px_conn *c)
{
    const struct h1_request *r = &c->req;
    char tmp[PXA_FIELD_MAX];
    size_t hl = r->host ? r->host_len : 0, n = 0, k;
    const char *colon;
    int len;

    if (r->host && r->host[0] != '[' && (colon = memchr(r->host, ':', r->host_len)) != NULL)
        hl = (size_t)(colon - r->host);
    else if (r->host && r->host[0] == '[' && (colon = memchr(r->host, ']', r->host_len)) != NULL)
        hl = (size_t)(colon - r->host) + 1;
    len = snprintf(tmp, sizeof(tmp), "%.*s %s://%.*s:%d", (int)r->method_len, r->method,
                   c->https ? "https" : "http", (int)(hl ? hl : 1), hl ? r->host : "-", c->lport);
    n = len < 0 ? 0 : (size_t)len;
    if (n > sizeof(tmp) - 16)
        n = sizeof(tmp) - 16;
    if (r->path == NULL || r->path_len == 0 || r->path[0] != '/')
        tmp[n++] = '/'; /* absolute-form "http://h" or "http://h?q" */
    k = r->path ? r->path_len : 0;
    if (k > sizeof(tmp) - 12 - n)
        k = sizeof(tmp) - 12 - n;
    memcpy(tmp + n, r->path ? r->path : "", k);
    n += k;
    len = c->stream ? snprintf(tmp + n, sizeof(tmp) - n, " HTTP/2.0")
                    : snprintf(tmp + n, sizeof(tmp) - n, " HTTP/1.%d", r->minor_version);
    n += len > 0 ? (size_t)len : 0;
    return add_escaped(c, 0, tmp, n);
}

void pxa_req_begin(struct px_conn *c)
{
    struct pxm_req *o = &c->obs;
    const struct h1_request *r = &c->req;
    int ua;

    o->req_len = o->ua_len = o->redirect_len = 0;
    o->target[0] = o->tg_arn[0] = '\0';
    if (o->bad_request)
        return;
    o->req_len = request_line(c);
    ua = h1_find_header(r->headers, r->nheaders, 0, "user-agent");
    if (ua >= 0)
        o->ua_len = add_escaped(c, o->req_len, r->headers[ua].value, r->headers[ua].value_len);
}

void pxa_req_target(struct px_conn *c, const struct px_tg *g, const struct px_target *t)
{
    snprintf(c->obs.target, sizeof(c->obs.target), "%s:%d", t->host, t->port);
    snprintf(c->obs.tg_arn, sizeof(c->obs.tg_arn), "%s", g->conf.arn);
}

void pxa_req_redirect(struct px_conn *c, const char *loc)
{
    struct pxm_req *o = &c->obs;

    o->redirect_len = add_escaped(c, o->req_len + o->ua_len, loc, strlen(loc));
}

static const char *actions_text(unsigned a)
{
    switch (a) {
    case PXM_ACT_FORWARD: return "forward";
    case PXM_ACT_REDIRECT: return "redirect";
    case PXM_ACT_FIXED: return "fixed-response";
    default: return NULL;
    }
}

static int64_t span_us(uint64_t from, uint64_t to)
{
    return from && to && to >= from ? (int64_t)((to - from) / 1000) : -1;
}

static int peer_port(const struct px_conn *c)
{
    if (c->peer.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&c->peer)->sin_port);
    if (c->peer.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&c->peer)->sin6_port);
    return 0;
}

void pxa_req_log(struct px_conn *c)
{
    const struct px_listener *lis = px_table_listener(c->w->table, c->lid);
    const struct pxm_req *o = &c->obs;
    struct pxa_fields f;
    char *line;

    if (lis == NULL || lis->alog == NULL || (line = pxa_line_room(c->w->idx)) == NULL)
        return;
    memset(&f, 0, sizeof(f));
    f.type = c->upgrade && o->status == 101 ? (lis->https ? "wss" : "ws")
             : c->stream                    ? "h2"
             : lis->https                   ? "https"
                                            : "http";
    /* ALB's names: "TLSv1.2", OpenSSL's cipher names; the SNI name sent */
    if (!px_io_tls_info(&c->io, &f.ssl_protocol, &f.ssl_cipher))
        f.ssl_protocol = f.ssl_cipher = NULL;
    if (!px_io_tls_names(&c->io, &f.domain_name, &f.chosen_cert_arn))
        f.domain_name = f.chosen_cert_arn = NULL;
    clock_gettime(CLOCK_REALTIME, &f.time);
    f.created = o->created;
    f.elb = lis->lb_name;
    f.client_ip = c->peer_ip;
    f.client_port = peer_port(c);
    f.target = o->target[0] ? o->target : NULL;
    f.request_us = span_us(o->t_begin, o->t_sent);
    f.target_us = span_us(o->t_sent, o->t_resp);
    f.response_us = o->t_resp ? (o->t_out ? span_us(o->t_resp, o->t_out) : 0) : -1;
    /* 460: the client closed the connection before anything was answered */
    f.elb_status = o->status ? o->status : 460;
    f.target_status = o->target_status;
    f.received = o->rx;
    f.sent = o->tx;
    f.request = o->bad_request ? NULL : c->mc.lbuf;
    f.request_len = o->req_len;
    f.user_agent = o->ua_len ? c->mc.lbuf + o->req_len : NULL;
    f.user_agent_len = o->ua_len;
    f.target_group_arn = o->tg_arn[0] ? o->tg_arn : NULL;
    f.trace_id = o->trace;
    f.rule_priority = o->rule_prio == PXM_PRIO_NONE ? PXA_PRIO_NONE : o->rule_prio;
    f.actions = actions_text(o->actions);
    f.redirect_url = o->redirect_len ? c->mc.lbuf + o->req_len + o->ua_len : NULL;
    f.redirect_url_len = o->redirect_len;
    f.classification = o->classification;
    f.classification_reason = o->classification_reason;
    f.conn_trace_id = pxa_conn_trace(c);
    pxa_line_commit(c->w->idx, lis->alog, pxa_format(line, PXA_LINE_MAX, &f), f.time.tv_sec);
}

void pxa_conn_free(struct px_conn *c)
{
    free(c->mc.lbuf);
    c->mc.lbuf = NULL;
    c->mc.lcap = 0;
}
