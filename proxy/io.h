/*
 * io.h - the byte stream under a client or upstream connection, and the
 * output queue and input buffers the state machine moves bytes with.
 *
 * The state machine (client.c and the modules under it) never calls read(),
 * writev() or close() on a socket: it calls px_io_read(), px_io_writev() and
 * px_io_close() on a struct px_io, and asks px_io_mask() which epoll events
 * to wait for.  Three transports implement it: plain TCP (io.c), TLS
 * (io_tls.h, both sides) and an HTTP/2 stream (h2.h, a request of an h2
 * connection run through the HTTP/1.1 state machine).  TLS:
 *  - read/writev run SSL_read/SSL_write on the socket, returning SL_EAGAIN
 *    when OpenSSL wants more I/O; the handshake runs inside the first reads
 *    and writes (or before, from the accept or connect completion);
 *  - when OpenSSL wants the other direction (a read that needs to write,
 *    WANT_WRITE during renegotiation) the transport records it in
 *    io->want, and px_io_mask() adds that event to what the connection asks
 *    for, so the state machine needs no TLS case;
 *  - bytes OpenSSL has decrypted but not handed out (SSL_pending) are data
 *    without a socket event: px_io_buffered() tells the state machine to
 *    read again before it waits;
 *  - close sends close_notify, best effort, and frees the session.
 *
 * Caveats:
 *  - One thread per px_io (the worker's); nothing is locked.
 *  - Reads and writes never block: the socket is non-blocking.
 */
#ifndef SL_PROXY_IO_H
#define SL_PROXY_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct ev_loop;
struct px_io;

struct px_io_ops {
    /* > 0 bytes read, 0 end of stream, SL_EAGAIN, SL_EIO */
    ssize_t (*read)(struct px_io *io, char *buf, size_t n);
    /* >= 0 bytes written, SL_EAGAIN, SL_EIO */
    ssize_t (*writev)(struct px_io *io, const struct iovec *iov, int n);
    /* bytes readable without a socket event */
    size_t (*buffered)(const struct px_io *io);
    /* end the transport's session; the socket is closed by px_io_close() */
    void (*close)(struct px_io *io);
    /* TLS: 1 with the negotiated version and cipher (static strings) once
     * the handshake is done; 0 otherwise.  NULL: never TLS */
    int (*tls_info)(const struct px_io *io, const char **version, const char **cipher);
    /* TLS server side, handshake done: 1 with the SNI name the client sent
     * and the ARN of the certificate chosen (each NULL when none; valid
     * while the connection lives); 0 otherwise.  NULL: never TLS */
    int (*tls_names)(const struct px_io *io, const char **sni, const char **cert_arn);
    /* a stream without a socket (fd < 0): the events the connection waits
     * for now (EV_READ/EV_WRITE), instead of epoll interest */
    void (*wait)(struct px_io *io, int mask);
};

struct px_io {
    int fd; /* -1: no socket of its own (an h2 stream) */
    const struct px_io_ops *ops;
    void *priv; /* the transport's session */
    int want;   /* EV_READ/EV_WRITE the transport itself waits for */
    int mute;   /* EV_READ/EV_WRITE it cannot use now (TLS: a write waiting
                 * to read): not asked for, or a level-triggered event spins */
    int h2;     /* TLS: the client negotiated h2 (ALPN) or the listener is HTTP2Only */
};

/* <io> becomes a plain TCP stream on <fd> (owned from now on). */
void px_io_plain(struct px_io *io, int fd);

static inline ssize_t px_io_read(struct px_io *io, char *buf, size_t n)
{
    return io->ops->read(io, buf, n);
}

static inline ssize_t px_io_writev(struct px_io *io, const struct iovec *iov, int n)
{
    return io->ops->writev(io, iov, n);
}

static inline size_t px_io_buffered(const struct px_io *io)
{
    return io->ops->buffered(io);
}

/* The epoll mask to wait with when the connection wants <mask> (EV_READ:
 * it wants bytes; EV_WRITE: it has bytes to send). */
int px_io_mask(const struct px_io *io, int mask);

/* Wait for <mask> as px_io_mask() says: the socket's epoll interest in
 * <loop> (registered before), or a socketless stream's wait(). */
void px_io_wait(struct px_io *io, struct ev_loop *loop, int mask);

/* TLS version and cipher of <io> once negotiated (1), else 0. */
static inline int px_io_tls_info(const struct px_io *io, const char **version, const char **cipher)
{
    return io->ops->tls_info ? io->ops->tls_info(io, version, cipher) : 0;
}

/* The SNI name and chosen certificate's ARN of <io> (1), else 0. */
static inline int px_io_tls_names(const struct px_io *io, const char **sni, const char **cert_arn)
{
    return io->ops->tls_names ? io->ops->tls_names(io, sni, cert_arn) : 0;
}

/* Forget the socket in <loop>, end the session and close it.  Once closed,
 * again is a no-op. */
void px_io_close(struct px_io *io, struct ev_loop *loop);

/* ---- moving bytes ---- */

/* Up to four pieces to write, borrowed until written (a head, or a chunk's
 * size line, data and CRLF); pre/post hold the framing bytes. */
struct px_outq {
    struct iovec iov[4];
    int n;
    char pre[24];
    char post[16];
};

void px_outq_add(struct px_outq *q, const void *p, size_t n);
/* Write what the stream takes: 1 progress, 0 none (blocked), SL_EIO. */
int px_outq_flush(struct px_io *io, struct px_outq *q);

/* Grow <*b> (capacity <*cap>) to hold <need> bytes: 0 or SL_ENOMEM. */
int px_buf_ensure(char **b, size_t *cap, size_t need);

/* Read more into <*b> (<*len> bytes held from <*off>), compacting it, or
 * doubling it up to <max> + PX_BUF_INIT when full.  > 0 bytes read, 0 end of
 * stream, SL_EAGAIN, SL_EIO, SL_ENOMEM, or SL_EINVAL when the buffer is
 * full and may not grow (a head over its limit). */
int px_buf_fill(struct px_io *io, char **b, size_t *off, size_t *len, size_t *cap, size_t max);

#define PX_BUF_INIT 16384

#endif
