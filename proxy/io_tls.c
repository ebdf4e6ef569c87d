/*
 * io_tls.c - SSL_read/SSL_write as a px_io transport.
 */
#include "proxy/io_tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/ev.h"
#include "proxy/tls.h"

struct tls_io {
    SSL *ssl;
    struct px_tls_srv *srv; /* server side: the listener context, referenced */
    int rd_want, wr_want;   /* what the last read / write waits for besides its own */
    int rd_mute, wr_mute;   /* ... and the event of its own it cannot use meanwhile */
    int done;               /* the handshake finished */
    int peer_gone;          /* EOF or a socket error: no close_notify to send */
    int ahead;              /* the last read filled its buffer with records left over */
    /* server side: the handshake's outcome, told once (io_tls.h) */
    void (*on_hs)(void *arg, const struct px_tls_hs *hs);
    void *hs_arg;
    struct timespec t0; /* the stream began */
};

/* Tell the handshake's outcome (<ok>) once, to whoever asked. */
static void report(struct tls_io *t, int ok)
{
    struct px_tls_hs hs = {.ok = ok};
    void (*cb)(void *, const struct px_tls_hs *) = t->on_hs;
    struct timespec now;

    if (cb == NULL)
        return;
    t->on_hs = NULL;
    clock_gettime(CLOCK_MONOTONIC, &now);
    hs.latency_us = (int64_t)(now.tv_sec - t->t0.tv_sec) * 1000000 +
                    (now.tv_nsec - t->t0.tv_nsec) / 1000;
    if (ok) {
        hs.version = SSL_get_version(t->ssl);
        hs.cipher = SSL_get_cipher_name(t->ssl);
    }
    cb(t->hs_arg, &hs);
}

#define GATHER 16384 /* one TLS record's worth of small pieces */

/* The handshake just finished: note the protocol, keep a client session. */
static void handshaken(struct px_io *io, struct tls_io *t)
{
    const unsigned char *p = NULL;
    unsigned n = 0;

    t->done = 1;
    if (t->srv) {
        SSL_get0_alpn_selected(t->ssl, &p, &n);
        io->h2 = (n == 2 && memcmp(p, "h2", 2) == 0) || (n == 0 && px_tls_srv_h2_only(t->srv));
        report(t, 1);
    } else
        px_tls_client_handshaken(t->ssl);
}

static void sync_want(struct px_io *io, const struct tls_io *t)
{
    io->want = t->rd_want | t->wr_want;
    io->mute = (t->rd_mute | t->wr_mute) & ~io->want;
}

/* Map an SSL_* result <r> of a read (<reading>) or write to the house's
 * codes, noting what OpenSSL waits for. */
static ssize_t result(struct px_io *io, struct tls_io *t, int r, int reading)
{
    int e = SSL_get_error(t->ssl, r), *want = reading ? &t->rd_want : &t->wr_want;
    int *mute = reading ? &t->rd_mute : &t->wr_mute;
    unsigned long code;
    int en;

    *want = *mute = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        /* a read waits for EV_READ anyway; a write must ask for it, and
         * not for EV_WRITE, which a writable socket would fire forever */
        *want = reading ? 0 : EV_READ;
        *mute = reading ? 0 : EV_WRITE;
        sync_want(io, t);
        return SL_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want = reading ? EV_WRITE : 0;
        *mute = reading ? EV_READ : 0;
        sync_want(io, t);
        return SL_EAGAIN;
    case SSL_ERROR_ZERO_RETURN: /* the peer's close_notify: the end of a read, a failed write */
        return reading ? 0 : SL_EIO;
    case SSL_ERROR_SYSCALL:
        en = errno;
        if (!t->done)
            report(t, 0);
        if (en == 0 || en == ECONNRESET || en == EPIPE)
            return reading ? 0 : SL_EIO;
        return SL_EIO;
    default:
        code = ERR_peek_last_error();
        if (!t->done && code) {
            char buf[256];
            ERR_error_string_n(code, buf, sizeof(buf));
            log_debug("tls: handshake failed: %s", buf);
        }
        if (!t->done)
            report(t, 0);
        ERR_clear_error();
        return SL_EIO;
    }
}

static ssize_t tls_read(struct px_io *io, char *buf, size_t n)
{
    struct tls_io *t = io->priv;
    int r;

    ERR_clear_error();
    r = SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (!t->done && SSL_is_init_finished(t->ssl))
        handshaken(io, t);
    if (r > 0) {
        size_t got = (size_t)r;
        /* A listener reads ahead (one read() for many records): take the
         * records already buffered while there is room.  Stopped short of
         * the room, what is left is half a record the socket will finish;
         * with the buffer full, records may wait that no socket event
         * announces, and tls_buffered() says so. */
        while (got < n && SSL_has_pending(t->ssl) &&
               (r = SSL_read(t->ssl, buf + got, n - got > INT32_MAX ? INT32_MAX : (int)(n - got))) > 0)
            got += (size_t)r;
        ERR_clear_error(); /* a stop at WANT_READ, EOF or an error: the next read's */
        t->ahead = got == n && SSL_has_pending(t->ssl);
        t->rd_want = t->rd_mute = 0;
        sync_want(io, t);
        return (ssize_t)got;
    }
    t->ahead = 0;
    if (r == 0 || SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL)
        t->peer_gone = 1;
    return result(io, t, r, 1);
}

static ssize_t tls_writev(struct px_io *io, const struct iovec *iov, int n)
{
    struct tls_io *t = io->priv;
    char gather[GATHER];
    const void *p = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    int r, i;

    if (n > 1 && len < 4096) { /* small pieces (a head, chunk framing): one record */
        len = 0;
        for (i = 0; i < n && len < GATHER; i++) {
            size_t k = iov[i].iov_len < GATHER - len ? iov[i].iov_len : GATHER - len;
            memcpy(gather + len, iov[i].iov_base, k);
            len += k;
        }
        p = gather;
    }
    ERR_clear_error();
    r = SSL_write(t->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
    if (!t->done && SSL_is_init_finished(t->ssl))
        handshaken(io, t);
    if (r > 0) {
        t->wr_want = t->wr_mute = 0;
        sync_want(io, t);
        return r;
    }
    if (SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL)
        t->peer_gone = 1;
    return result(io, t, r, 0);
}

static size_t tls_buffered(const struct px_io *io)
{
    const struct tls_io *t = io->priv;
    int n;

    if (t == NULL)
        return 0;
    n = SSL_pending(t->ssl); /* decrypted; or records read ahead past a full buffer */
    return n > 0 ? (size_t)n : (size_t)t->ahead;
}

static void tls_close(struct px_io *io)
{
    struct tls_io *t = io->priv;

    if (t == NULL)
        return;
    if (!t->done)
        report(t, 0); /* the client left before the handshake ended */
    if (t->done && !t->peer_gone && !(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* close_notify, best effort: never waited for */
        ERR_clear_error();
    }
    SSL_free(t->ssl);
    px_tls_srv_release(t->srv);
    free(t);
    io->priv = NULL;
}

static int tls_info(const struct px_io *io, const char **version, const char **cipher)
{
    const struct tls_io *t = io->priv;

    if (t == NULL || !t->done)
        return 0;
    *version = SSL_get_version(t->ssl);
    *cipher = SSL_get_cipher_name(t->ssl);
    return 1;
}

static int tls_names(const struct px_io *io, const char **sni, const char **cert_arn)
{
    const struct tls_io *t = io->priv;

    if (t == NULL || !t->done || t->srv == NULL)
        return 0;
    *sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
    *cert_arn = px_tls_srv_chosen_arn(t->srv, t->ssl);
    return 1;
}

static const struct px_io_ops tls_ops = {
    .read = tls_read,
    .writev = tls_writev,
    .buffered = tls_buffered,
    .close = tls_close,
    .tls_info = tls_info,
    .tls_names = tls_names,
};

static int attach(struct px_io *io, int fd, SSL *ssl, struct px_tls_srv *srv)
{
    struct tls_io *t;

    px_io_plain(io, fd);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || (t = calloc(1, sizeof(*t))) == NULL) {
        SSL_free(ssl);
        ERR_clear_error();
        return SL_ENOMEM;
    }
    t->ssl = ssl;
    t->srv = srv;
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    px_tls_srv_ref(srv);
    io->ops = &tls_ops;
    io->priv = t;
    return SL_OK;
}

int px_io_tls_server(struct px_io *io, int fd, struct px_tls_srv *srv)
{
    return attach(io, fd, px_tls_srv_ssl(srv), srv);
}

int px_io_tls_client(struct px_io *io, int fd, struct px_target *t)
{
    return attach(io, fd, px_tls_client_ssl(t), NULL);
}

void px_io_tls_on_handshake(struct px_io *io, void (*cb)(void *arg, const struct px_tls_hs *hs),
                            void *arg)
{
    struct tls_io *t = io->ops == &tls_ops ? io->priv : NULL;

    if (t == NULL || t->srv == NULL || t->done)
        return;
    t->on_hs = cb;
    t->hs_arg = arg;
}

int px_io_tls_handshaking(const struct px_io *io)
{
    const struct tls_io *t = io->ops == &tls_ops ? io->priv : NULL;

    return t != NULL && t->srv != NULL && !t->done;
}
