/*
 * hcread.h - reading a health check's response: the whole head, then the
 * body up to PX_HC_BODY_MAX, framed as the head says (Content-Length,
 * chunked, or until the target closes).  Reading all of it is what lets
 * the checker close without resetting the connection under a target that
 * is still writing its answer.
 *
 * Caveats:
 *  - One check at a time per struct hc_read; the health thread only.
 *  - The verdict is the status of the final (non-1xx) head, known as soon
 *    as the head is in; the body is read only to end the exchange cleanly
 *    and is discarded.  A body over PX_HC_BODY_MAX is not read to its end
 *    (the close may then reset the connection: such a health page is
 *    unusual, and it is bounded work for the checker).
 */
#ifndef SL_PROXY_HCREAD_H
#define SL_PROXY_HCREAD_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/http1.h"
#include "proxy/io.h"

#define PX_HC_BODY_MAX (64 * 1024)

struct hc_read {
    char *buf; /* the head so far, then body bytes (owned) */
    size_t len, cap;
    struct h1_scan scan;
    int status; /* the final status once its head is in, else 0 */
    int phase;  /* private */
    int64_t left;
    size_t body;
    struct h1_chunked ch;
};

/* Free what <r> holds and make it ready for a new response. */
void px_hcread_reset(struct hc_read *r);

/* Read what <io> (non-blocking: plain TCP or TLS) has, until it would
 * block - so nothing TLS decrypted is left unread behind a quiet socket.  SL_EAGAIN: more to come; SL_OK: the
 * response is complete (or the target closed after its head); SL_EIO:
 * failed - r->status is 0 when no whole head came (a reset, a refusal, a
 * malformed or oversized head).  <scratch> is parse space, overwritten. */
int px_hcread_step(struct hc_read *r, struct px_io *io, struct h1_response *scratch);

#endif
