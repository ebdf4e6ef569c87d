/*
 * buf.h - a growable byte buffer for building responses.
 *
 * Caveats: a buf that failed an allocation is "poisoned": later appends are
 * no-ops and buf_failed() reports it, so builders check once at the end.
 */
#ifndef SL_COMMON_BUF_H
#define SL_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated while len < cap */
    size_t len;
    size_t cap;
    int failed;
};

void buf_init(struct buf *b);
/* Release the storage; the buf is empty and reusable afterwards. */
void buf_free(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of the bytes (caller frees with free()); the buf is reset. */
char *buf_steal(struct buf *b, size_t *len);
int buf_failed(const struct buf *b);

#endif
