/*
 * bindstate.c - unbound listeners per worker.
 */
#define _GNU_SOURCE /* strerrordesc_np(): thread-safe, unlike strerror() */
#include "proxy/bindstate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct px_bind_error *sets[PX_MAX_WORKERS];
static int counts[PX_MAX_WORKERS];
static unsigned generation;

void px_bind_set(int worker, const struct px_bind_error *v, int n)
{
    struct px_bind_error *copy = NULL;

    if (worker < 0 || worker >= PX_MAX_WORKERS)
        return;
    if (n > 0 && (copy = malloc(sizeof(*copy) * (size_t)n)) == NULL)
        n = 0; /* out of memory: reported bound rather than half */
    if (n > 0)
        memcpy(copy, v, sizeof(*copy) * (size_t)n);
    pthread_mutex_lock(&mu);
    if (counts[worker] != n ||
        (n > 0 && memcmp(sets[worker], copy, sizeof(*copy) * (size_t)n) != 0))
        generation++;
    free(sets[worker]);
    sets[worker] = copy;
    counts[worker] = n;
    pthread_mutex_unlock(&mu);
}

unsigned px_bind_generation(void)
{
    unsigned g;

    pthread_mutex_lock(&mu);
    g = generation;
    pthread_mutex_unlock(&mu);
    return g;
}

/* Under the lock: <lid> is already in <arr>. */
static int listed(json_t *arr, const char *lid)
{
    json_t *e;
    size_t i;

    json_array_foreach(arr, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        if (id && strcmp(id, lid) == 0)
            return 1;
    }
    return 0;
}

json_t *px_bind_json(void)
{
    json_t *arr = json_array();
    int w, i;

    pthread_mutex_lock(&mu);
    for (w = 0; arr && w < PX_MAX_WORKERS; w++)
        for (i = 0; i < counts[w]; i++) {
            const struct px_bind_error *e = &sets[w][i];
            if (listed(arr, e->lid))
                continue;
            json_array_append_new(arr, json_pack("{ss ss si ss ss}", "id", e->lid,
                                                 "load_balancer_id", e->lb_id, "port", e->port,
                                                 "address", e->addr, "error",
                                                 strerrordesc_np(e->err)
                                                     ? strerrordesc_np(e->err)
                                                     : "unknown error"));
        }
    pthread_mutex_unlock(&mu);
    return arr;
}
