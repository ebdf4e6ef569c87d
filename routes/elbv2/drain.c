/*
 * drain.c - finishing drains: by deadline (the drain finalizer) or early,
 * when the data plane reports a target idle (the report handler).
 */
#include "routes/elbv2/drain.h"

#include <stdlib.h>
#include <string.h>

#include "routes/elbv2/targets.h"

#define DRAIN_PREFIX "drain:"

static uint64_t key_deadline(const char *index_key)
{
    return strtoull(index_key + strlen(DRAIN_PREFIX), NULL, 10);
}

struct due {
    uint64_t now;
    int any;
};

static int first_due(const char *key, const char *val, void *arg)
{
    struct due *d = arg;

    d->any = key_deadline(key) <= d->now;
    return 1;
}

int elb_drain_due(struct store_txn *txn, uint64_t now_ms)
{
    struct due d = {now_ms, 0};

    store_index_scan(txn, DRAIN_PREFIX, first_due, &d);
    return d.any;
}

struct expired {
    uint64_t now;
    json_t *keys;
};

static int collect_expired(const char *key, const char *val, void *arg)
{
    struct expired *e = arg;

    if (key_deadline(key) > e->now)
        return 1; /* ordered by deadline: nothing later is due */
    json_array_append_new(e->keys, json_string(val));
    return 0;
}

int elb_drain_expire(struct store_txn *txn, const struct elb_env *env, uint64_t now_ms,
                     size_t *removed)
{
    struct expired e = {now_ms, json_array()};
    json_t *k;
    size_t i;
    int rc = SL_OK;

    *removed = 0;
    store_index_scan(txn, DRAIN_PREFIX, collect_expired, &e);
    json_array_foreach(e.keys, i, k) {
        rc = elb_target_remove(txn, env, json_string_value(k));
        if (rc == SL_ENOTFOUND) {
            rc = SL_OK;
            continue;
        }
        if (rc != SL_OK)
            break;
        (*removed)++;
    }
    json_decref(e.keys);
    return rc;
}

struct each {
    void (*cb)(const char *target_key, void *arg);
    void *arg;
};

static int each_one(const char *key, const char *val, void *arg)
{
    struct each *e = arg;

    e->cb(val, e->arg);
    return 0;
}

void elb_drain_each(struct store_txn *txn, void (*cb)(const char *target_key, void *arg),
                    void *arg)
{
    struct each e = {cb, arg};

    store_index_scan(txn, DRAIN_PREFIX, each_one, &e);
}

int elb_drain_finish(struct store_txn *txn, const struct elb_env *env, const char *key,
                     uint64_t applied_rev)
{
    json_t *t = store_get_shared(txn, K_TARGET, key);
    const char *state = json_string_value(json_object_get(t, "_state"));
    uint64_t drain_rev = (uint64_t)json_integer_value(json_object_get(t, "_drain_rev"));
    int draining = state && strcmp(state, "draining") == 0;

    json_decref(t);
    if (!draining || drain_rev > applied_rev)
        return SL_ENOTFOUND;
    return elb_target_remove(txn, env, key);
}
