/*
 * io.c - the plain TCP transport, output queues and input buffers.
 */
#include "proxy/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "proxy/ev.h"

static ssize_t plain_read(struct px_io *io, char *buf, size_t n)
{
    ssize_t r;

    do
        r = read(io->fd, buf, n);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == EAGAIN ? SL_EAGAIN : SL_EIO;
    return r;
}

static ssize_t plain_writev(struct px_io *io, const struct iovec *iov, int n)
{
    ssize_t w;

    do
        w = writev(io->fd, iov, n);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return errno == EAGAIN ? SL_EAGAIN : SL_EIO;
    return w;
}

static size_t plain_buffered(const struct px_io *io)
{
    return 0;
}

static void plain_close(struct px_io *io)
{
}

static const struct px_io_ops plain_ops = {
    .read = plain_read,
    .writev = plain_writev,
    .buffered = plain_buffered,
    .close = plain_close,
};

void px_io_plain(struct px_io *io, int fd)
{
    io->fd = fd;
    io->ops = &plain_ops;
    io->priv = NULL;
    io->want = 0;
    io->mute = 0;
    io->h2 = 0;
}

int px_io_mask(const struct px_io *io, int mask)
{
    return (mask & ~io->mute) | io->want;
}

void px_io_wait(struct px_io *io, struct ev_loop *loop, int mask)
{
    if (io->fd >= 0)
        ev_fd_mask(loop, io->fd, px_io_mask(io, mask));
    else if (io->ops && io->ops->wait)
        io->ops->wait(io, mask);
}

void px_io_close(struct px_io *io, struct ev_loop *loop)
{
    if (io->ops == NULL)
        return;
    if (io->fd >= 0)
        ev_fd_del(loop, io->fd);
    io->ops->close(io);
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
    io->ops = NULL;
}

void px_outq_add(struct px_outq *q, const void *p, size_t n)
{
    if (n == 0)
        return;
    q->iov[q->n].iov_base = (void *)p;
    q->iov[q->n].iov_len = n;
    q->n++;
}

int px_outq_flush(struct px_io *io, struct px_outq *q)
{
    int progress = 0;

    while (q->n > 0) {
        ssize_t w = px_io_writev(io, q->iov, q->n);
        int i = 0;
        if (w == SL_EAGAIN)
            return progress;
        if (w <= 0) /* nothing taken and no EAGAIN: the transport is gone */
            return SL_EIO;
        progress = 1;
        while (i < q->n && (size_t)w >= q->iov[i].iov_len)
            w -= (ssize_t)q->iov[i++].iov_len;
        if (i < q->n) {
            q->iov[i].iov_base = (char *)q->iov[i].iov_base + w;
            q->iov[i].iov_len -= (size_t)w;
        }
        memmove(q->iov, q->iov + i, sizeof(q->iov[0]) * (size_t)(q->n - i));
        q->n -= i;
    }
    return progress;
}

int px_buf_ensure(char **b, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : PX_BUF_INIT;
    char *p;

    if (need <= *cap)
        return SL_OK;
    while (n < need)
        n *= 2;
    if ((p = realloc(*b, n)) == NULL)
        return SL_ENOMEM;
    *b = p;
    *cap = n;
    return SL_OK;
}

int px_buf_fill(struct px_io *io, char **b, size_t *off, size_t *len, size_t *cap, size_t max)
{
    ssize_t n;

    if (*off > 0 && *off == *len)
        *off = *len = 0;
    if (*len == *cap) {
        if (*off > 0) {
            memmove(*b, *b + *off, *len - *off);
            *len -= *off;
            *off = 0;
        } else if (*cap >= max + PX_BUF_INIT)
            return SL_EINVAL;
        else if (px_buf_ensure(b, cap, *cap * 2) != SL_OK)
            return SL_ENOMEM;
    }
    n = px_io_read(io, *b + *len, *cap - *len);
    if (n > 0)
        *len += (size_t)n;
    return (int)n;
}
