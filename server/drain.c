#include "server/drain.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/log.h"
#include "routes/elbv2/elbv2.h"
#include "store/store.h"

struct drainer {
    struct store *store;
    int period_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
};

static uint64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

struct due {
    uint64_t now;
    int any;
};

static int first_due(const char *key, const char *val, void *arg)
{
    struct due *d = arg;

    d->any = strtoull(key + 6, NULL, 10) <= d->now;
    return 1;
}

static int expire_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    size_t removed = 0;
    int rc = elb_drain_expire(txn, wall_ms(), &removed);

    if (removed)
        log_info("drain: removed %zu target(s) whose deregistration delay passed", removed);
    return rc;
}

static void *drain_main(void *arg)
{
    struct drainer *d = arg;
    struct timespec ts;

    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        struct store_txn *txn;
        struct sl_err err = {0};
        struct due due = {wall_ms(), 0};

        pthread_mutex_unlock(&d->mu);
        if (store_read_begin(d->store, &txn, &err) == SL_OK) {
            store_index_scan(txn, "drain:", first_due, &due);
            store_txn_end(txn);
        }
        if (due.any && store_write(d->store, expire_tx, NULL, NULL, &err) != SL_OK)
            log_warn("drain: %s", err.message);
        pthread_mutex_lock(&d->mu);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)d->period_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!d->stopping)
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int drain_start(struct store *s, int period_ms, struct drainer **out)
{
    struct drainer *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return SL_ENOMEM;
    d->store = s;
    d->period_ms = period_ms;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, drain_main, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return SL_ERR;
    }
    *out = d;
    return SL_OK;
}

void drain_stop(struct drainer *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
