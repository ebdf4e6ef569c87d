/*
 * cache.h - the store's decode cache: stored JSON text -> jansson object.
 *
 * Parsing JSON costs about six times a deep copy, so decoded objects are
 * kept per object key together with the exact bytes they came from.  A
 * lookup compares the bytes LMDB returns with the cached ones: any change
 * of the stored value is a miss, so the cache never needs invalidating.
 *
 * Caveats:
 * - Thread-safe (striped locks).  Bounded: each key has one slot, shared
 *   with the keys that hash alike, and a newer entry replaces the older.
 * - A shared object is read-only for everyone: it is handed to many threads.
 */
#ifndef SL_STORE_CACHE_H
#define SL_STORE_CACHE_H

#include <jansson.h>
#include <lmdb.h>
#include <stddef.h>

struct store_cache;

/* SL_OK or SL_ENOMEM; free with store_cache_free() (NULL is a no-op). */
int store_cache_new(struct store_cache **out);
void store_cache_free(struct store_cache *c);

/* Decode the value <v> stored under object key <key>/<klen>.  Returns a new
 * reference: a private copy, or with <shared> the cached object itself,
 * which the caller must not modify.  NULL if <v> is not JSON (or on
 * allocation failure). */
json_t *store_cache_decode(struct store_cache *c, const void *key, size_t klen, const MDB_val *v,
                           int shared);

#endif
