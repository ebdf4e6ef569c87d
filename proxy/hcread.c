/*
 * hcread.c - a health check's response, read whole (see hcread.h).
 */
#include "proxy/hcread.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

enum { P_HEAD = 0, P_LENGTH, P_CHUNKED, P_CLOSE, P_DONE };

void px_hcread_reset(struct hc_read *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

/* Read into buf[len..cap), growing it up to <max>.  > 0 bytes, 0 at the
 * end, SL_EAGAIN, SL_EIO (an error, or full at <max>). */
static ssize_t fill(struct hc_read *r, struct px_io *io, size_t max)
{
    ssize_t n;

    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        char *b;
        if (r->cap >= max || (b = realloc(r->buf, cap > max ? max : cap)) == NULL)
            return SL_EIO;
        r->buf = b;
        r->cap = cap > max ? max : cap;
    }
    n = px_io_read(io, r->buf + r->len, r->cap - r->len);
    if (n < 0)
        return n == SL_EAGAIN ? SL_EAGAIN : SL_EIO;
    r->len += (size_t)n;
    return n;
}

/* Consume body bytes buf[0..len); SL_OK when the body is complete. */
static int take_body(struct hc_read *r)
{
    size_t off = 0;

    if (r->phase == P_LENGTH) {
        int64_t n = (int64_t)r->len < r->left ? (int64_t)r->len : r->left;
        r->left -= n;
        r->body += (size_t)n;
        r->len = 0;
        if (r->left == 0)
            r->phase = P_DONE;
    } else if (r->phase == P_CHUNKED) {
        while (off < r->len && r->phase == P_CHUNKED) {
            const char *d;
            size_t used, dn;
            int rc = h1_chunked_decode(&r->ch, r->buf + off, r->len - off, &used, &d, &dn);
            off += used;
            r->body += dn;
            if (rc == H1_DONE)
                r->phase = P_DONE;
            else if (rc == H1_ERROR)
                return SL_EIO;
            else if (rc == H1_INCOMPLETE)
                break;
        }
        r->len = 0;
    } else if (r->phase == P_CLOSE) {
        r->body += r->len;
        r->len = 0;
    }
    return r->phase == P_DONE ? SL_OK : SL_EAGAIN;
}

/* The head is buf[0..<head>) and parsed into <res>: interim heads are
 * dropped, the final one sets the status and how the body is framed. */
static void after_head(struct hc_read *r, size_t head, const struct h1_response *res)
{
    memmove(r->buf, r->buf + head, r->len - head);
    r->len -= head;
    memset(&r->scan, 0, sizeof(r->scan));
    if (res->status < 200 && res->status != 101)
        return; /* 100 Continue and the like: the real head follows */
    r->status = res->status;
    if (res->no_body || res->status == 101)
        r->phase = P_DONE;
    else if (res->chunked)
        r->phase = P_CHUNKED;
    else if (res->content_length >= 0) {
        r->phase = P_LENGTH;
        r->left = res->content_length;
        if (r->left == 0)
            r->phase = P_DONE;
    } else
        r->phase = P_CLOSE;
}

int px_hcread_step(struct hc_read *r, struct px_io *io, struct h1_response *res)
{
    for (;;) {
        ssize_t n;
        int rc;

        if (r->phase == P_HEAD && r->len > 0) {
            rc = h1_parse_response(r->buf, r->len, &r->scan, 0, res);
            if (rc == H1_ERROR)
                return SL_EIO;
            if (rc > 0) {
                after_head(r, (size_t)rc, res);
                continue;
            }
        }
        if (r->phase != P_HEAD && (rc = take_body(r)) != SL_EAGAIN)
            return rc;
        if (r->body >= PX_HC_BODY_MAX)
            return SL_OK; /* enough: the verdict is in the head */
        n = fill(r, io, r->phase == P_HEAD ? H1_MAX_RESPONSE_HEAD : 16384);
        if (n == SL_EAGAIN)
            return SL_EAGAIN;
        if (n < 0)
            return SL_EIO;
        if (n == 0) /* the target closed: fine once the head is in */
            return r->phase == P_HEAD ? SL_EIO : SL_OK;
    }
}
