/*
 * cpclient.c - dial, one request, a response head and its body (length,
 * chunked or close-delimited).
 */
#include "proxy/cpclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

int px_cp_parse_url(const char *url, struct px_cp_cfg *cfg)
{
    const char *p = url, *colon, *slash;
    size_t n;

    cfg->tls = 0;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncmp(p, "https://", 8) == 0) {
        p += 8;
        cfg->tls = 1;
    }
    slash = strchr(p, '/');
    n = slash ? (size_t)(slash - p) : strlen(p);
    colon = memchr(p, ':', n);
    if (n == 0 || n >= sizeof(cfg->host))
        return SL_EINVAL;
    if (*p == '[') { /* [v6]:port, as sluiced's IPv6 --listen gives it */
        const char *rb = memchr(p, ']', n);
        if (rb == NULL || rb == p + 1 || (rb + 1 < p + n && rb[1] != ':'))
            return SL_EINVAL;
        memcpy(cfg->host, p + 1, (size_t)(rb - p - 1));
        cfg->host[rb - p - 1] = '\0';
        cfg->port = rb + 1 < p + n ? atoi(rb + 2) : 80;
    } else if (colon) {
        memcpy(cfg->host, p, (size_t)(colon - p));
        cfg->host[colon - p] = '\0';
        cfg->port = atoi(colon + 1);
    } else {
        memcpy(cfg->host, p, n);
        cfg->host[n] = '\0';
        cfg->port = cfg->tls ? 443 : 80;
    }
    return cfg->port > 0 && cfg->port < 65536 && cfg->host[0] ? SL_OK : SL_EINVAL;
}

int px_cp_tls_init(struct px_cp_cfg *cfg, const char *ca_file, struct sl_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int ok;

    if (ctx == NULL)
        return sl_err_set(err, 500, "InternalFailure", "no TLS context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                 : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        char detail[256] = "";
        ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
        SSL_CTX_free(ctx);
        return sl_err_set(err, 400, "InvalidParameter", "--ca %s: %s", ca_file ? ca_file : "",
                          detail);
    }
    cfg->ctx = ctx;
    return SL_OK;
}

int px_cp_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* TLS on the connected socket of <rs>: the peer verified and its name
 * checked.  0 or SL_EIO (logged: a wrong certificate is a setup error). */
static int tls_connect(const struct px_cp_cfg *cfg, struct px_cp_resp *rs)
{
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, cfg->host, ip) == 1 || inet_pton(AF_INET6, cfg->host, ip) == 1;
    long v;

    if (cfg->ctx == NULL || (rs->ssl = SSL_new(cfg->ctx)) == NULL ||
        SSL_set_fd(rs->ssl, rs->fd) != 1)
        return SL_EIO;
    if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(rs->ssl), cfg->host);
    else if (!SSL_set_tlsext_host_name(rs->ssl, cfg->host) || !SSL_set1_host(rs->ssl, cfg->host))
        return SL_EIO;
    ERR_clear_error();
    if (SSL_connect(rs->ssl) == 1)
        return SL_OK;
    v = SSL_get_verify_result(rs->ssl);
    if (v != X509_V_OK)
        log_warn("control plane %s:%d: certificate not trusted: %s", cfg->host, cfg->port,
                 X509_verify_cert_error_string(v));
    else
        log_warn("control plane %s:%d: TLS handshake failed", cfg->host, cfg->port);
    ERR_clear_error();
    return SL_EIO;
}

static int dial(const struct px_cp_cfg *cfg, int timeout_s)
{
    struct addrinfo hints = {0}, *ai, *a;
    char port[16];
    int fd = SL_EIO;
    struct timeval tv = {timeout_s, 0};

    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", cfg->port);
    if (getaddrinfo(cfg->host, port, &hints, &ai) != 0)
        return SL_EIO;
    for (a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = SL_EIO;
    }
    freeaddrinfo(ai);
    return fd < 0 ? SL_EIO : fd;
}

static int send_all(const struct px_cp_resp *rs, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = rs->ssl ? SSL_write(rs->ssl, p, (int)(n > INT32_MAX ? INT32_MAX : n))
                            : send(rs->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return SL_EIO;
        p += w;
        n -= (size_t)w;
    }
    return SL_OK;
}

int px_cp_open(const struct px_cp_cfg *cfg, int timeout_s, const char *method, const char *path,
               const char *body, struct px_cp_resp *rs)
{
    char head[2048];
    int v6 = strchr(cfg->host, ':') != NULL, n;

    memset(rs, 0, sizeof(*rs));
    if ((rs->fd = dial(cfg, timeout_s)) < 0) {
        rs->fd = -1;
        return SL_EIO;
    }
    if (cfg->tls && tls_connect(cfg, rs) != SL_OK) {
        px_cp_resp_close(rs);
        return SL_EIO;
    }
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUser-Agent: sluice-proxy\r\n%s%s%s"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 method, path, v6 ? "[" : "", cfg->host, v6 ? "]" : "", cfg->port,
                 cfg->token[0] ? "Authorization: Bearer " : "",
                 cfg->token, cfg->token[0] ? "\r\n" : "", body ? strlen(body) : (size_t)0);
    if (n < 0 || (size_t)n >= sizeof(head) || send_all(rs, head, (size_t)n) != SL_OK ||
        (body && send_all(rs, body, strlen(body)) != SL_OK)) {
        px_cp_resp_close(rs);
        return SL_EIO;
    }
    return SL_OK;
}

void px_cp_resp_close(struct px_cp_resp *rs)
{
    SSL_free(rs->ssl);
    if (rs->fd >= 0)
        close(rs->fd);
    free(rs->buf);
    memset(rs, 0, sizeof(*rs));
    rs->fd = -1;
}

void px_cp_abort(int fd)
{
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

static int fill(struct px_cp_resp *rs)
{
    ssize_t n;

    if (rs->off > 0 && rs->off == rs->len)
        rs->off = rs->len = 0;
    if (rs->len == rs->cap) {
        if (rs->off > 0) {
            memmove(rs->buf, rs->buf + rs->off, rs->len - rs->off);
            rs->len -= rs->off;
            rs->off = 0;
        } else {
            size_t nc = rs->cap ? rs->cap * 2 : 65536;
            char *nb = realloc(rs->buf, nc);
            if (nb == NULL)
                return SL_ENOMEM;
            rs->buf = nb;
            rs->cap = nc;
        }
    }
    if (rs->ssl) {
        int k = (int)(rs->cap - rs->len > INT32_MAX ? INT32_MAX : rs->cap - rs->len);
        n = SSL_read(rs->ssl, rs->buf + rs->len, k);
    } else
        do
            n = recv(rs->fd, rs->buf + rs->len, rs->cap - rs->len, 0);
        while (n < 0 && errno == EINTR);
    if (n <= 0)
        return SL_EIO;
    rs->len += (size_t)n;
    return SL_OK;
}

int px_cp_read_head(struct px_cp_resp *rs)
{
    struct h1_scan sc = {0};
    int rc;

    for (;;) {
        rc = h1_parse_response(rs->buf, rs->len, &sc, 0, &rs->r);
        if (rc > 0) {
            rs->off = (size_t)rc;
            if (rs->r.status < 200) {
                memmove(rs->buf, rs->buf + rc, rs->len - (size_t)rc);
                rs->len -= (size_t)rc;
                memset(&sc, 0, sizeof(sc));
                continue;
            }
            rs->left = rs->r.chunked || rs->r.close_delimited ? -1 : rs->r.content_length;
            if (rs->r.no_body || rs->left == 0)
                rs->done = 1;
            return SL_OK;
        }
        if (rc == H1_ERROR || fill(rs) != SL_OK)
            return SL_EIO;
    }
}

static int chunk_span(struct px_cp_resp *rs, const char **data, size_t *n)
{
    size_t used;
    int rc = h1_chunked_decode(&rs->ch, rs->buf + rs->off, rs->len - rs->off, &used, data, n);

    rs->off += used;
    if (rc == H1_ERROR)
        return SL_EIO;
    if (rc == H1_DONE)
        rs->done = 1;
    return SL_OK;
}

int px_cp_read_body(struct px_cp_resp *rs, const char **data, size_t *n)
{
    for (;;) {
        if (rs->done)
            return 0;
        if (rs->off < rs->len) {
            if (rs->r.chunked) {
                if (chunk_span(rs, data, n) != SL_OK)
                    return SL_EIO;
                if (*n > 0)
                    return 1;
                continue;
            }
            *data = rs->buf + rs->off;
            *n = rs->len - rs->off;
            if (rs->left >= 0 && (int64_t)*n > rs->left)
                *n = (size_t)rs->left;
            rs->off += *n;
            if (rs->left >= 0 && (rs->left -= (int64_t)*n) == 0)
                rs->done = 1;
            return 1;
        }
        if (fill(rs) != SL_OK)
            return rs->r.close_delimited ? 0 : SL_EIO;
    }
}

int px_cp_request(const struct px_cp_cfg *cfg, const char *method, const char *path,
                  const char *body, int *status, char **out, size_t *out_len)
{
    struct px_cp_resp rs;
    size_t cap = 0, len = 0;
    char *acc = NULL;
    const char *d;
    size_t n;
    int rc;

    if (px_cp_open(cfg, 10, method, path, body, &rs) != SL_OK)
        return SL_EIO;
    if (px_cp_read_head(&rs) != SL_OK) {
        rc = SL_EIO;
        goto out;
    }
    while ((rc = px_cp_read_body(&rs, &d, &n)) > 0) {
        if (len + n + 1 > cap) {
            size_t nc = (len + n + 1) * 2;
            char *na = realloc(acc, nc);
            if (na == NULL) {
                rc = SL_ENOMEM;
                goto out;
            }
            acc = na;
            cap = nc;
        }
        memcpy(acc + len, d, n);
        len += n;
    }
    if (rc < 0)
        goto out;
    *status = rs.r.status;
    if (out) {
        if (acc == NULL && (acc = malloc(1)) == NULL) {
            rc = SL_ENOMEM;
            goto out;
        }
        acc[len] = '\0';
        *out = acc;
        *out_len = len;
        acc = NULL;
    }
    rc = SL_OK;
out:
    px_cp_resp_close(&rs);
    free(acc);
    return rc;
}
