/*
 * park.c - parked streams (see park.h).  One thread sleeps in store_wait()
 * for at most PARK_TICK_MS, so deadlines are met within a tick; whenever
 * the revision moves or a deadline passes it resumes the slots concerned.
 *
 * A slot is added and its connection suspended under the lock, and the
 * revision is read again after adding: a commit either happened before
 * (park_wait() returns 0) or wakes the thread, which then finds the slot.
 */
#include "server/park.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/util.h"
#include "store/store.h"

#define PARK_TICK_MS 100

struct park {
    struct store *store;
    pthread_mutex_t mu;
    pthread_t thread;
    struct park_slot *head;
    int closed;
    int stopping;
};

static void unlink_slot(struct park *p, struct park_slot *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        p->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->parked = 0;
}

/* Resume the slots due at revision <rev> and time <now> (all if <all>). */
static void resume_due(struct park *p, uint64_t rev, uint64_t now, int all)
{
    struct park_slot *s = p->head, *next;

    for (; s; s = next) {
        next = s->next;
        if (all || rev > s->since || now >= s->deadline) {
            struct MHD_Connection *c = s->c;

            unlink_slot(p, s);
            MHD_resume_connection(c);
        }
    }
}

static void *park_main(void *arg)
{
    struct park *p = arg;
    uint64_t rev = store_revision(p->store);

    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (p->stopping) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        resume_due(p, rev, util_mono_ms(), p->closed);
        pthread_mutex_unlock(&p->mu);
        rev = store_wait(p->store, rev, PARK_TICK_MS);
    }
    return NULL;
}

int park_start(struct store *s, struct park **out)
{
    struct park *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return SL_ENOMEM;
    p->store = s;
    pthread_mutex_init(&p->mu, NULL);
    if (pthread_create(&p->thread, NULL, park_main, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return SL_ERR;
    }
    *out = p;
    return SL_OK;
}

int park_wait(struct park *p, struct park_slot *slot, struct MHD_Connection *c, uint64_t since,
              uint64_t deadline_ms)
{
    int rc = 1;

    pthread_mutex_lock(&p->mu);
    if (p->closed) {
        rc = -1;
    } else if (store_revision(p->store) > since || util_mono_ms() >= deadline_ms) {
        rc = 0;
    } else {
        slot->c = c;
        slot->since = since;
        slot->deadline = deadline_ms;
        slot->parked = 1;
        slot->prev = NULL;
        slot->next = p->head;
        if (p->head)
            p->head->prev = slot;
        p->head = slot;
        MHD_suspend_connection(c);
        /* A commit after the check above wakes park_main(), which takes this
         * lock after us and finds the slot. */
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

enum MHD_Result park_stream_respond(struct MHD_Connection *c, const char *content_type,
                                    size_t block, MHD_ContentReaderCallback read,
                                    MHD_ContentReaderFreeCallback free_cb, void *cls)
{
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block, read,
                                                                  cls, free_cb);
    enum MHD_Result ret;

    if (resp == NULL) {
        free_cb(cls);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
    ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

void park_cancel(struct park *p, struct park_slot *slot)
{
    if (p == NULL || slot == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    if (slot->parked)
        unlink_slot(p, slot);
    pthread_mutex_unlock(&p->mu);
}

void park_close(struct park *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    resume_due(p, 0, 0, 1);
    pthread_mutex_unlock(&p->mu);
}

void park_free(struct park *p)
{
    if (p == NULL)
        return;
    park_close(p);
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_mutex_unlock(&p->mu);
    store_wake_all(p->store);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
