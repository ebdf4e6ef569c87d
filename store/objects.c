/*
 * objects.c - objects by (kind, id): get, put, delete, scan and count,
 * decoded through the cache (cache.h).  Every put and delete also appends
 * its change record (changes.h) in the same transaction.
 */
#include "store/cache.h"
#include "store/changes.h"
#include "store/layout.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static json_t *get(struct store_txn *t, const char *kind, const char *id, int shared)
{
    char key[STORE_OBJ_KEY_MAX + 1];
    size_t kl = store_obj_key(key, sizeof(key), kind, id);
    MDB_val k = {kl, key}, v;

    if (kl == 0 || mdb_get(t->txn, t->s->objects, &k, &v) != 0)
        return NULL;
    return store_cache_decode(t->s->cache, key, kl, &v, shared);
}

json_t *store_get(struct store_txn *t, const char *kind, const char *id)
{
    return get(t, kind, id, 0);
}

json_t *store_get_shared(struct store_txn *t, const char *kind, const char *id)
{
    return get(t, kind, id, 1);
}

int store_put(struct store_txn *t, const char *kind, const char *id, json_t *obj)
{
    char key[STORE_OBJ_KEY_MAX + 1];
    size_t kl;
    char *text;
    MDB_val k, v;
    int rc;

    if (!t->write)
        return SL_EINVAL;
    kl = store_obj_key(key, sizeof(key), kind, id);
    if (kl == 0)
        return SL_EINVAL;
    text = json_dumps(obj, JSON_COMPACT);
    if (text == NULL)
        return SL_ENOMEM;
    k.mv_size = kl;
    k.mv_data = key;
    v.mv_size = strlen(text);
    v.mv_data = text;
    rc = mdb_put(t->txn, t->s->objects, &k, &v, 0);
    if (rc == 0)
        rc = store_changelog_append(t, kind, id, "put", text, v.mv_size);
    else
        rc = SL_EIO;
    free(text);
    return rc;
}

int store_del(struct store_txn *t, const char *kind, const char *id)
{
    char key[STORE_OBJ_KEY_MAX + 1];
    size_t kl;
    MDB_val k;
    int rc;

    if (!t->write)
        return SL_EINVAL;
    kl = store_obj_key(key, sizeof(key), kind, id);
    if (kl == 0)
        return SL_ENOTFOUND;
    k.mv_size = kl;
    k.mv_data = key;
    rc = mdb_del(t->txn, t->s->objects, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return SL_ENOTFOUND;
    if (rc != 0)
        return SL_EIO;
    return store_changelog_append(t, kind, id, "delete", NULL, 0);
}

/* Walk the objects of <kind> whose id starts with <prefix>: count them into
 * *count, or call <cb> with each. */
static int scan(struct store_txn *t, const char *kind, const char *prefix, store_scan_fn cb,
                void *arg, size_t *count)
{
    char key[STORE_OBJ_KEY_MAX + 1], idbuf[STORE_OBJ_KEY_MAX + 1];
    size_t kl = store_obj_key(key, sizeof(key), kind, prefix ? prefix : "");
    size_t kindlen = strlen(kind) + 1;
    MDB_cursor *cur;
    MDB_val k = {kl, key}, v;
    int rc, ret = 0;

    if (kl == 0)
        return 0;
    if (mdb_cursor_open(t->txn, t->s->objects, &cur) != 0)
        return SL_EIO;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *obj;
        size_t il;

        if (k.mv_size < kl || memcmp(k.mv_data, key, kl) != 0)
            break;
        if (count) {
            (*count)++;
            continue;
        }
        il = k.mv_size - kindlen;
        memcpy(idbuf, (char *)k.mv_data + kindlen, il);
        idbuf[il] = '\0';
        obj = store_cache_decode(t->s->cache, k.mv_data, k.mv_size, &v, 1);
        if (obj == NULL)
            continue;
        ret = cb(idbuf, obj, arg);
        json_decref(obj);
        if (ret != 0)
            break;
    }
    mdb_cursor_close(cur);
    return ret;
}

int store_scan(struct store_txn *t, const char *kind, const char *id_prefix, store_scan_fn cb,
               void *arg)
{
    return scan(t, kind, id_prefix, cb, arg, NULL);
}

size_t store_count(struct store_txn *t, const char *kind, const char *id_prefix)
{
    size_t n = 0;

    scan(t, kind, id_prefix, NULL, NULL, &n);
    return n;
}
