/*
 * xff.c - X-Forwarded-For and Host as the load balancer's attributes say
 * (xff.h has the rules).
 */
#include "proxy/xff.h"

#include <netinet/in.h>
#include <string.h>
#include <strings.h>

void px_xff_conf(struct px_fwd_conf *f, const struct px_listener *l)
{
    memset(f, 0, sizeof(*f));
    if (l == NULL)
        return;
    f->xff_mode = (unsigned char)l->xff_mode;
    f->xff_port = l->xff_port != 0;
    f->preserve_host = l->preserve_host != 0;
    f->https = l->https != 0;
    f->no_server = !l->server_header;
}

static int is_xff(const struct h1_header *h)
{
    return h->name_len == 15 && strncasecmp(h->name, "x-forwarded-for", 15) == 0;
}

static int peer_port(const struct sockaddr_storage *peer)
{
    if (peer->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)peer)->sin_port);
    if (peer->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
    return 0;
}

void px_xff_put(struct px_hbuf *b, const struct px_fwd_conf *f, const struct h1_request *r,
                const char *peer_ip, const struct sockaddr_storage *peer)
{
    size_t i;
    int any = 0;

    if (f->xff_mode == PX_XFF_REMOVE)
        return;
    if (f->xff_mode == PX_XFF_PRESERVE) {
        for (i = 0; i < r->nheaders; i++)
            if (is_xff(&r->headers[i])) {
                px_hputs(b, any ? ", " : "X-Forwarded-For: ");
                px_hput(b, r->headers[i].value, r->headers[i].value_len);
                any = 1;
            }
        if (any)
            px_hputs(b, "\r\n");
        return;
    }
    px_hputs(b, "X-Forwarded-For: ");
    for (i = 0; i < r->nheaders; i++)
        if (is_xff(&r->headers[i]) && r->headers[i].value_len) {
            px_hput(b, r->headers[i].value, r->headers[i].value_len);
            px_hput(b, ", ", 2);
        }
    if (f->xff_port && peer_port(peer)) {
        int v6 = peer->ss_family == AF_INET6;
        char num[24];
        if (v6)
            px_hput(b, "[", 1);
        px_hputs(b, peer_ip);
        px_hputs(b, v6 ? "]:" : ":");
        px_hput(b, num, px_fmt_u64(num, (unsigned long long)peer_port(peer)));
    } else
        px_hputs(b, peer_ip);
    px_hputs(b, "\r\n");
}

/* The length of host <h> without a ":port" suffix ("[v6]" keeps its
 * brackets). */
static size_t host_len(const char *h, size_t n)
{
    size_t i = n;

    if (n && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        return close ? (size_t)(close - h) + 1 : n;
    }
    while (i > 0 && h[i - 1] >= '0' && h[i - 1] <= '9')
        i--;
    return i > 0 && h[i - 1] == ':' ? i - 1 : n;
}

void px_xff_host(struct px_hbuf *b, const struct px_fwd_conf *f, const struct h1_request *r,
                 int lport, const char *fallback)
{
    char num[24];

    px_hputs(b, "Host: ");
    if (r->host == NULL)
        px_hputs(b, fallback);
    else if (f->preserve_host)
        px_hput(b, r->host, r->host_len);
    else {
        px_hput(b, r->host, host_len(r->host, r->host_len));
        if (lport != (f->https ? 443 : 80)) {
            px_hput(b, ":", 1);
            px_hput(b, num, px_fmt_u64(num, (unsigned long long)lport));
        }
    }
    px_hputs(b, "\r\n");
}
