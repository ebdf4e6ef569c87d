/*
 * workers.c - the API's thread pool (see workers.h): one queue, one lock,
 * one condition variable.
 */
#include "server/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/err.h"

#define MAX_THREADS 256

struct workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct workers_job *head, *tail;
    size_t pending; /* queued + running */
    int stopping;
    int n;
    pthread_t threads[MAX_THREADS];
};

static void *worker_main(void *arg)
{
    struct workers *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        struct workers_job *j = w->head;

        if (j == NULL) {
            if (w->stopping)
                break;
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        w->head = j->next;
        if (w->head == NULL)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->run(j); /* may free j: not touched after */
        pthread_mutex_lock(&w->mu);
        w->pending--;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int workers_start(int n, struct workers **out)
{
    struct workers *w;
    int i;

    *out = NULL;
    if (n < 1 || n > MAX_THREADS)
        return SL_EINVAL;
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return SL_ENOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    for (i = 0; i < n; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->n++;
    }
    if (w->n < n) {
        workers_stop(w);
        return SL_ERR;
    }
    *out = w;
    return SL_OK;
}

int workers_push(struct workers *w, struct workers_job *j)
{
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return SL_ERR;
    }
    j->next = NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->pending++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return SL_OK;
}

size_t workers_pending(struct workers *w)
{
    size_t n;

    pthread_mutex_lock(&w->mu);
    n = w->pending;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void workers_stop(struct workers *w)
{
    int i;

    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
