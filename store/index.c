/*
 * index.c - the secondary index: short string keys -> string values
 * (name -> id, arn -> kind/id, drain deadlines).  Not in the change log:
 * the feed carries objects only.
 */
#include "store/layout.h"
#include "store/store_int.h"

#include <string.h>

int store_index_get(struct store_txn *t, const char *key, char *val, size_t vlen)
{
    MDB_val k = {strlen(key), (void *)key}, v;

    if (k.mv_size == 0 || k.mv_size > STORE_OBJ_KEY_MAX ||
        mdb_get(t->txn, t->s->index, &k, &v) != 0)
        return SL_ENOTFOUND;
    if (v.mv_size >= vlen)
        return SL_EINVAL;
    memcpy(val, v.mv_data, v.mv_size);
    val[v.mv_size] = '\0';
    return SL_OK;
}

int store_index_put(struct store_txn *t, const char *key, const char *val)
{
    MDB_val k = {strlen(key), (void *)key}, v = {strlen(val), (void *)val};

    if (!t->write || k.mv_size == 0 || k.mv_size > STORE_OBJ_KEY_MAX)
        return SL_EINVAL;
    return mdb_put(t->txn, t->s->index, &k, &v, 0) == 0 ? SL_OK : SL_EIO;
}

int store_index_del(struct store_txn *t, const char *key)
{
    MDB_val k = {strlen(key), (void *)key};
    int rc;

    if (!t->write || k.mv_size == 0 || k.mv_size > STORE_OBJ_KEY_MAX)
        return SL_EINVAL;
    rc = mdb_del(t->txn, t->s->index, &k, NULL);
    return rc == 0 ? SL_OK : rc == MDB_NOTFOUND ? SL_ENOTFOUND : SL_EIO;
}

int store_index_scan(struct store_txn *t, const char *prefix, store_index_fn cb, void *arg)
{
    char kbuf[STORE_OBJ_KEY_MAX + 1], vbuf[1024];
    size_t pl = strlen(prefix);
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, v;
    int rc, ret = 0;

    if (pl == 0 || pl > STORE_OBJ_KEY_MAX)
        return SL_EINVAL;
    if (mdb_cursor_open(t->txn, t->s->index, &cur) != 0)
        return SL_EIO;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) != 0)
            break;
        if (k.mv_size >= sizeof(kbuf) || v.mv_size >= sizeof(vbuf))
            continue;
        memcpy(kbuf, k.mv_data, k.mv_size);
        kbuf[k.mv_size] = '\0';
        memcpy(vbuf, v.mv_data, v.mv_size);
        vbuf[v.mv_size] = '\0';
        if ((ret = cb(kbuf, vbuf, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return ret;
}
