/*
 * guard.c - Host / Origin / Sec-Fetch-Site checks for unauthenticated mode
 * (see guard.h for why).
 */
#include "server/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HOST 255

struct guard {
    char listen[MAX_HOST + 1];
    char **names; /* lower case, no trailing dot */
    size_t n;
};

static int host_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == ':';
}

/* <s>/<n> lower-cased into <out> (MAX_HOST + 1), brackets and one trailing
 * dot dropped; -1 when it does not fit or is empty. */
static int normalize(const char *s, size_t n, char *out)
{
    size_t i;

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    if (n > 1 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > MAX_HOST)
        return -1;
    for (i = 0; i < n; i++)
        out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
    out[n] = '\0';
    return 0;
}

static int loopback_name(const char *h)
{
    size_t n = strlen(h);

    return strcmp(h, "localhost") == 0 || (n > 10 && strcmp(h + n - 10, ".localhost") == 0);
}

static int loopback_addr(const char *h)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, h, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

int guard_host_ok(const struct guard *g, const char *host, size_t len)
{
    char h[MAX_HOST + 1];
    size_t i;

    if (normalize(host, len, h) != 0)
        return 0;
    if (loopback_name(h) || loopback_addr(h) || strcmp(h, g->listen) == 0)
        return 1;
    for (i = 0; i < g->n; i++)
        if (strcmp(h, g->names[i]) == 0)
            return 1;
    return 0;
}

/* The host of a Host header value ("name", "name:port", "[v6]:port"):
 * *len set, NULL when malformed. */
static const char *host_part(const char *v, size_t *len)
{
    const char *colon, *p;

    if (*v == '[') {
        const char *rb = strchr(v, ']');
        if (rb == NULL)
            return NULL;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] != '\0' && colon == NULL)
            return NULL;
        *len = (size_t)(rb + 1 - v);
    } else {
        colon = strchr(v, ':');
        *len = colon ? (size_t)(colon - v) : strlen(v);
        for (p = v; p < v + *len; p++)
            if (!host_char((unsigned char)*p) || *p == ':')
                return NULL;
    }
    if (colon) {
        for (p = colon + 1; *p; p++)
            if (*p < '0' || *p > '9')
                return NULL;
        if (p == colon + 1)
            return NULL;
    }
    return *len ? v : NULL;
}

static int refuse(struct sl_err *err, const char *what, const char *value, const char *why)
{
    return sl_err_set(err, 403, "AccessDenied",
                      "sluiced runs without --credentials and serves only this machine's own "
                      "clients: %s '%.200s' %s. Loopback names and addresses are accepted; "
                      "add other names of this host with --allowed-hosts, or run with "
                      "--credentials",
                      what, value, why);
}

int guard_check(const struct guard *g, const struct guard_request *r, struct sl_err *err)
{
    const char *h;
    size_t n;

    if (r->nhost > 1 || r->norigin > 1)
        return refuse(err, r->nhost > 1 ? "Host" : "Origin", r->nhost > 1 ? r->host : r->origin,
                      "is sent more than once");
    if (r->host) {
        if ((h = host_part(r->host, &n)) == NULL)
            return refuse(err, "Host", r->host, "is not a host name");
        if (!guard_host_ok(g, h, n))
            return refuse(err, "Host", r->host, "is not a loopback name or address");
    }
    if (r->origin) {
        const char *p = strstr(r->origin, "://");

        if (p == NULL || (strncasecmp(r->origin, "http://", 7) != 0 &&
                          strncasecmp(r->origin, "https://", 8) != 0))
            return refuse(err, "Origin", r->origin, "is not a page of this machine");
        if ((h = host_part(p + 3, &n)) == NULL || !guard_host_ok(g, h, n))
            return refuse(err, "Origin", r->origin, "is not a page of this machine");
    }
    if (r->sec_fetch_site && strcasecmp(r->sec_fetch_site, "cross-site") == 0)
        return refuse(err, "Sec-Fetch-Site", r->sec_fetch_site,
                      "says a page of another site sent the request");
    return SL_OK;
}

/* One --allowed-hosts item at <p>/<n>, trimmed; appended to g->names. */
static int add_name(struct guard *g, const char *p, size_t n, char *errbuf, size_t errlen)
{
    char h[MAX_HOST + 1], **v;
    struct in6_addr a6;
    int shown = (int)(n > 64 ? 64 : n);
    size_t i;

    if (n == 0) {
        snprintf(errbuf, errlen, "sluiced: --allowed-hosts: empty name in the list");
        return SL_EINVAL;
    }
    if (normalize(p, n, h) != 0) {
        snprintf(errbuf, errlen, "sluiced: --allowed-hosts: '%.*s' is too long", shown, p);
        return SL_EINVAL;
    }
    /* a ':' belongs to IPv6 addresses only: "name:port" is refused */
    for (i = 0; h[i]; i++)
        if (!host_char((unsigned char)h[i]) || (h[i] == ':' && inet_pton(AF_INET6, h, &a6) != 1))
            break;
    if (h[i] != '\0') {
        snprintf(errbuf, errlen,
                 "sluiced: --allowed-hosts: '%.*s' is not a host name or address (give names "
                 "without scheme or port, separated by commas)",
                 shown, p);
        return SL_EINVAL;
    }
    if ((v = realloc(g->names, (g->n + 1) * sizeof(*v))) == NULL)
        return SL_ENOMEM;
    g->names = v;
    if ((v[g->n] = strdup(h)) == NULL)
        return SL_ENOMEM;
    g->n++;
    return SL_OK;
}

int guard_new(const char *listen_host, const char *allowed, struct guard **out, char *errbuf,
              size_t errlen)
{
    struct guard *g = calloc(1, sizeof(*g));
    const char *p = allowed ? allowed : "";
    int rc = SL_OK;

    *out = NULL;
    if (g == NULL)
        return SL_ENOMEM;
    if (listen_host && normalize(listen_host, strlen(listen_host), g->listen) != 0)
        g->listen[0] = '\0';
    while (*p && rc == SL_OK) {
        const char *end = strchr(p, ','), *a = p, *b;

        if (end == NULL)
            end = p + strlen(p);
        b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        rc = add_name(g, a, (size_t)(b - a), errbuf, errlen);
        p = *end ? end + 1 : end;
        if (*end && *p == '\0')
            rc = add_name(g, p, 0, errbuf, errlen); /* trailing comma */
    }
    if (rc != SL_OK) {
        guard_free(g);
        return rc;
    }
    *out = g;
    return SL_OK;
}

void guard_free(struct guard *g)
{
    size_t i;

    if (g == NULL)
        return;
    for (i = 0; i < g->n; i++)
        free(g->names[i]);
    free(g->names);
    free(g);
}
