/*
 * accesslog_conn.c - a TLS connection's line (see accesslog_conn.h).
 */
#include "proxy/accesslog_conn.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proxy/accesslog.h"
#include "proxy/conn.h"
#include "proxy/io_tls.h"
#include "proxy/trace.h"

size_t pxa_conn_format(char *out, size_t cap, const struct pxa_conn_fields *f)
{
    char day[24], lat[32];
    struct tm tm;
    int n;

    gmtime_r(&f->time.tv_sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    if (f->latency_us < 0)
        snprintf(lat, sizeof(lat), "-");
    else
        snprintf(lat, sizeof(lat), "%lld.%03lld", (long long)(f->latency_us / 1000000),
                 (long long)(f->latency_us % 1000000 / 1000));
    n = snprintf(out, cap, "%s.%06ldZ %s %d %d %s %s %s \"-\" - - %s %s\n", day,
                 f->time.tv_nsec / 1000, f->client_ip && f->client_ip[0] ? f->client_ip : "-",
                 f->client_port, f->listener_port, f->ok && f->protocol ? f->protocol : "-",
                 f->ok && f->cipher ? f->cipher : "-", lat,
                 f->ok ? "Success" : "Failed:UnmappedConnectionError",
                 f->conn_trace_id && f->conn_trace_id[0] ? f->conn_trace_id : "-");
    if (n < 0)
        return 0;
    if ((size_t)n >= cap) { /* cut, never the newline */
        out[cap - 1] = '\n';
        return cap;
    }
    return (size_t)n;
}

const char *pxa_conn_trace(struct px_conn *c)
{
    if (c->mc.conn_trace[0] == '\0') {
        memcpy(c->mc.conn_trace, "TID_", 4);
        px_trace_hex(c->mc.conn_trace + 4, 8);
        c->mc.conn_trace[20] = '\0';
    }
    return c->mc.conn_trace;
}

static int peer_port(const struct px_conn *c)
{
    if (c->peer.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&c->peer)->sin_port);
    if (c->peer.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&c->peer)->sin6_port);
    return 0;
}

static void handshake_ended(void *arg, const struct px_tls_hs *hs)
{
    struct px_conn *c = arg;
    const struct px_listener *lis = px_table_listener(c->w->table, c->lid);
    struct pxa_conn_fields f;
    char *line;

    if (lis == NULL || lis->clog == NULL || (line = pxa_line_room(c->w->idx)) == NULL)
        return;
    memset(&f, 0, sizeof(f));
    clock_gettime(CLOCK_REALTIME, &f.time);
    f.client_ip = c->peer_ip;
    f.client_port = peer_port(c);
    f.listener_port = c->lport;
    f.ok = hs->ok;
    f.protocol = hs->version;
    f.cipher = hs->cipher;
    f.latency_us = hs->latency_us;
    f.conn_trace_id = pxa_conn_trace(c);
    pxa_line_commit(c->w->idx, lis->clog, pxa_conn_format(line, PXA_LINE_MAX, &f),
                    f.time.tv_sec);
}

void pxa_conn_watch(struct px_conn *c)
{
    const struct px_listener *lis = px_table_listener(c->w->table, c->lid);

    if (lis && lis->clog)
        px_io_tls_on_handshake(&c->io, handshake_ended, c);
}
