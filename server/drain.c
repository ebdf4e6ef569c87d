/*
 * drain.c - the drain finalizer thread.
 */
#include "server/drain.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "routes/elbv2/drain.h"
#include "routes/elbv2/targets.h"
#include "store/store.h"

/* How often reported health is checked against the targets that exist. */
#define SWEEP_MS 10000

struct drainer {
    struct store *store;
    struct elb_env env;
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

static int expire_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct drainer *d = arg;
    size_t removed = 0;
    int rc = elb_drain_expire(txn, &d->env, wall_ms(), &removed);

    if (removed)
        log_info("drain: removed %zu target(s) whose deregistration delay passed", removed);
    return rc;
}

/* One round: expire what is due, and now and then sweep the health. */
static void round_once(struct drainer *d, uint64_t *last_sweep)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    int due = 0;
    size_t dropped = 0;

    if (store_read_begin(d->store, &txn, &err) != SL_OK) {
        log_warn("drain: %s", err.message);
        return;
    }
    due = elb_drain_due(txn, wall_ms());
    if (d->env.health && util_mono_ms() - *last_sweep >= SWEEP_MS) {
        dropped = elb_targets_sweep(txn, d->env.health);
        *last_sweep = util_mono_ms();
    }
    store_txn_end(txn);
    if (dropped)
        log_debug("drain: forgot the health of %zu removed target(s)", dropped);
    if (due && store_write(d->store, expire_tx, d, NULL, &err) != SL_OK)
        log_warn("drain: %s", err.message);
}

static void *drain_main(void *arg)
{
    struct drainer *d = arg;
    struct timespec ts;
    uint64_t last_sweep = util_mono_ms();

    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        pthread_mutex_unlock(&d->mu);
        round_once(d, &last_sweep);
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

int drain_start(struct store *s, struct elb_health *health, int period_ms, struct drainer **out)
{
    struct drainer *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return SL_ENOMEM;
    d->store = s;
    d->env.region = "";
    d->env.account = "";
    d->env.health = health;
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
