#include "routes/elbv2/health.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct health {
    pthread_mutex_t mu;
    json_t *map; /* key -> {"s":state,"r":reason,"d":description,"t":ms} */
};

int health_new(struct health **out)
{
    struct health *h = calloc(1, sizeof(*h));

    if (h == NULL || (h->map = json_object()) == NULL) {
        free(h);
        return SL_ENOMEM;
    }
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return SL_OK;
}

void health_free(struct health *h)
{
    if (h == NULL)
        return;
    json_decref(h->map);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void health_set(struct health *h, const char *key, const struct health_state *st)
{
    json_t *v = json_pack("{ss ss ss sI}", "s", st->state, "r", st->reason, "d", st->description,
                          "t", (json_int_t)st->updated_ms);

    pthread_mutex_lock(&h->mu);
    json_object_set_new(h->map, key, v);
    pthread_mutex_unlock(&h->mu);
}

int health_lookup(struct health *h, const char *key, struct health_state *out)
{
    json_t *v;
    int rc = SL_ENOTFOUND;

    if (h == NULL)
        return SL_ENOTFOUND;
    pthread_mutex_lock(&h->mu);
    v = json_object_get(h->map, key);
    if (v) {
        snprintf(out->state, sizeof(out->state), "%s", json_string_value(json_object_get(v, "s")));
        snprintf(out->reason, sizeof(out->reason), "%s",
                 json_string_value(json_object_get(v, "r")));
        snprintf(out->description, sizeof(out->description), "%s",
                 json_string_value(json_object_get(v, "d")));
        out->updated_ms = (uint64_t)json_integer_value(json_object_get(v, "t"));
        rc = SL_OK;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}
