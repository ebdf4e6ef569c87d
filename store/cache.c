/*
 * cache.c - the store's decode cache (see cache.h): 64 stripes, each a
 * direct-mapped table of entries behind its own mutex.
 */
#include "store/cache.h"

#include "common/err.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64
#define SLOTS 4096 /* per stripe: 262,144 entries at most */

struct entry {
    uint64_t hash;
    size_t klen, vlen;
    json_t *obj;
    char data[]; /* key, then value */
};

struct stripe {
    pthread_mutex_t mu;
    struct entry **slot; /* SLOTS, allocated on first use */
};

struct store_cache {
    struct stripe stripe[STRIPES];
};

int store_cache_new(struct store_cache **out)
{
    struct store_cache *c = calloc(1, sizeof(*c));
    int i;

    *out = NULL;
    if (c == NULL)
        return SL_ENOMEM;
    for (i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripe[i].mu, NULL);
    *out = c;
    return SL_OK;
}

static void entry_free(struct entry *e)
{
    if (e) {
        json_decref(e->obj);
        free(e);
    }
}

void store_cache_free(struct store_cache *c)
{
    int i, j;

    if (c == NULL)
        return;
    for (i = 0; i < STRIPES; i++) {
        if (c->stripe[i].slot)
            for (j = 0; j < SLOTS; j++)
                entry_free(c->stripe[i].slot[j]);
        free(c->stripe[i].slot);
        pthread_mutex_destroy(&c->stripe[i].mu);
    }
    free(c);
}

static uint64_t hash_of(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 14695981039346656037ull;

    while (n--)
        h = (h ^ *b++) * 1099511628211ull;
    return h;
}

static json_t *hand_out(json_t *obj, int shared)
{
    json_t *copy;

    if (shared)
        return obj;
    copy = json_deep_copy(obj);
    json_decref(obj);
    return copy;
}

json_t *store_cache_decode(struct store_cache *c, const void *key, size_t klen, const MDB_val *v,
                           int shared)
{
    uint64_t h = hash_of(key, klen);
    struct stripe *st = &c->stripe[h % STRIPES];
    size_t at = (size_t)(h / STRIPES % SLOTS);
    struct entry *e, *old = NULL;
    json_t *obj = NULL;

    pthread_mutex_lock(&st->mu);
    e = st->slot ? st->slot[at] : NULL;
    if (e && e->hash == h && e->klen == klen && e->vlen == v->mv_size &&
        memcmp(e->data, key, klen) == 0 && memcmp(e->data + klen, v->mv_data, v->mv_size) == 0)
        obj = json_incref(e->obj);
    pthread_mutex_unlock(&st->mu);
    if (obj)
        return hand_out(obj, shared);

    obj = json_loadb(v->mv_data, v->mv_size, 0, NULL);
    if (obj == NULL)
        return NULL;
    e = malloc(sizeof(*e) + klen + v->mv_size);
    if (e) {
        e->hash = h;
        e->klen = klen;
        e->vlen = v->mv_size;
        e->obj = json_incref(obj);
        memcpy(e->data, key, klen);
        memcpy(e->data + klen, v->mv_data, v->mv_size);
        pthread_mutex_lock(&st->mu);
        if (st->slot == NULL)
            st->slot = calloc(SLOTS, sizeof(*st->slot));
        if (st->slot) {
            old = st->slot[at];
            st->slot[at] = e;
            e = NULL;
        }
        pthread_mutex_unlock(&st->mu);
        entry_free(e); /* no table to keep it in */
        entry_free(old);
    }
    return hand_out(obj, shared);
}
