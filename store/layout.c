/*
 * layout.c - the store's key layout (see layout.h).
 */
#include "store/layout.h"

#include "common/err.h"
#include "store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_mdb_fail(struct sl_err *err, const char *what, int rc)
{
    sl_err_set(err, 500, "InternalFailure", "store: %s: %s", what, mdb_strerror(rc));
    return SL_EIO;
}

int store_meta_get(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    char tmp[32];
    int rc = mdb_get(txn, meta, &k, &v);

    *out = 0;
    if (rc == MDB_NOTFOUND)
        return SL_ENOTFOUND;
    if (rc != 0 || v.mv_size >= sizeof(tmp))
        return SL_EIO;
    memcpy(tmp, v.mv_data, v.mv_size);
    tmp[v.mv_size] = '\0';
    *out = strtoull(tmp, NULL, 10);
    return SL_OK;
}

int store_meta_put(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t val)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, val);
    MDB_val k = {strlen(key), (void *)key}, v = {(size_t)n, tmp};

    return mdb_put(txn, meta, &k, &v, 0) == 0 ? SL_OK : SL_EIO;
}

void store_change_key(unsigned char key[STORE_CHANGE_KEY], uint64_t rev, uint32_t seq)
{
    int i;

    for (i = 0; i < 8; i++)
        key[i] = (unsigned char)(rev >> (56 - 8 * i));
    for (i = 0; i < 4; i++)
        key[8 + i] = (unsigned char)(seq >> (24 - 8 * i));
}

uint64_t store_change_key_rev(const MDB_val *k)
{
    uint64_t rev = 0;
    int i;

    for (i = 0; i < 8 && k->mv_size == STORE_CHANGE_KEY; i++)
        rev = (rev << 8) | ((const unsigned char *)k->mv_data)[i];
    return rev;
}

uint64_t store_committed_rev(MDB_txn *txn, MDB_dbi meta, MDB_dbi changes)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t rev = 0, floor = 0;

    if (mdb_cursor_open(txn, changes, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0)
            rev = store_change_key_rev(&k);
        mdb_cursor_close(cur);
    }
    store_meta_get(txn, meta, "revision", &floor);
    return rev > floor ? rev : floor;
}

size_t store_obj_key(char *key, size_t cap, const char *kind, const char *id)
{
    size_t kl = strlen(kind), il = strlen(id);

    if (kl + 1 + il > cap || kl + 1 + il > STORE_OBJ_KEY_MAX)
        return 0;
    memcpy(key, kind, kl);
    key[kl] = '\0';
    memcpy(key + kl + 1, id, il);
    return kl + 1 + il;
}

uint64_t store_last_txnid(MDB_env *env)
{
    MDB_envinfo info;

    return mdb_env_info(env, &info) == 0 ? (uint64_t)info.me_last_txnid : 0;
}
