/*
 * park.h - streaming responses that wait for the store without a thread.
 *
 * The HTTP front door runs on a few polling threads, so a stream's content
 * reader (the data-plane watch) may not block until the next revision.  It
 * parks instead: park_wait() suspends its connection, and one thread
 * watching the store's revision resumes every parked connection when the
 * revision moves past what it has sent, or when its deadline (the next
 * heartbeat) comes.  libmicrohttpd then calls the reader again.
 *
 * Caveats:
 * - park_wait() may only be called from a libmicrohttpd content reader of
 *   a daemon started with MHD_ALLOW_SUSPEND_RESUME, which then returns 0.
 * - Every parked connection is resumed by park_close(); call it before
 *   MHD_stop_daemon(), which must not find a suspended connection.
 * - A slot's owner calls park_cancel() before freeing it.
 * - Every function is thread-safe.
 */
#ifndef SL_SERVER_PARK_H
#define SL_SERVER_PARK_H

#include <microhttpd.h>
#include <stdint.h>

struct store;
struct park;

/* A parked connection; embed it in the stream's state, zeroed. */
struct park_slot {
    struct park_slot *prev, *next;
    struct MHD_Connection *c;
    uint64_t since;    /* resume once the store's revision exceeds this */
    uint64_t deadline; /* or at this monotonic ms */
    int parked;
};

/* Start the thread that watches <s> (borrowed until park_free()).  SL_OK,
 * SL_ENOMEM or SL_ERR. */
int park_start(struct store *s, struct park **out);

/* Park <c> in <slot> until the revision exceeds <since> or <deadline_ms>
 * (monotonic) passes.  Returns 1 when parked (the reader returns 0 and is
 * called again once resumed), 0 when the revision is already past <since>
 * or the deadline has come (read again now), -1 once park_close() was
 * called (end the stream). */
int park_wait(struct park *p, struct park_slot *slot, struct MHD_Connection *c, uint64_t since,
              uint64_t deadline_ms);

/* Forget <slot> if parked (without resuming: its stream is ending).  NULL
 * <p> is a no-op. */
void park_cancel(struct park *p, struct park_slot *slot);

/* Answer <c> with a 200 stream of <content_type> that <read> produces from
 * <cls> in blocks of <block> bytes, with no connection timeout (the stream
 * lives as long as its client; it parks between pushes).  <cls> is the
 * stream's and goes to <free_cb> when the response ends, or at once when it
 * cannot be made.  The result is for libmicrohttpd's access handler. */
enum MHD_Result park_stream_respond(struct MHD_Connection *c, const char *content_type,
                                    size_t block, MHD_ContentReaderCallback read,
                                    MHD_ContentReaderFreeCallback free_cb, void *cls);

/* Resume every parked connection and refuse further parking. */
void park_close(struct park *p);

/* park_close(), stop the thread, free.  NULL is a no-op. */
void park_free(struct park *p);

#endif
