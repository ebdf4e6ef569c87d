/*
 * schema.c - schema version check and migration (see schema.h).
 */
#include "store/schema.h"

#include "store/layout.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* 1 -> 2: schema 1 kept meta "revision" current, and it stays as the
 * floor; its per-group target counters ("tgcount:<tg id>" in the index)
 * are kept in memory now, so they go.  0 or an LMDB error. */
static int drop_v1_counters(MDB_txn *txn, MDB_dbi index)
{
    static const char counters[] = "tgcount:";
    MDB_cursor *cur;
    MDB_val k = {sizeof(counters) - 1, (void *)counters}, v;
    int rc;

    if ((rc = mdb_cursor_open(txn, index, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < sizeof(counters) - 1 ||
            memcmp(k.mv_data, counters, sizeof(counters) - 1) != 0)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_schema_check(MDB_txn *txn, MDB_dbi meta, MDB_dbi index, const char *dir,
                       int *mdb_rc, struct sl_err *err)
{
    uint64_t ver = 0;
    int rc;

    *mdb_rc = 0;
    rc = store_meta_get(txn, meta, "schema_version", &ver);
    if (rc == SL_ENOTFOUND)
        ver = STORE_SCHEMA_VERSION; /* a new store */
    else if (rc != SL_OK) {
        *mdb_rc = EIO;
        return SL_EIO;
    }
    if (ver > STORE_SCHEMA_VERSION)
        return sl_err_set(err, 500, "InternalFailure",
                          "store in %s has schema version %" PRIu64
                          ", newer than this sluiced understands (%d); upgrade sluiced or "
                          "use another --data-dir",
                          dir, ver, STORE_SCHEMA_VERSION);
    /* 2 -> 3 and 3 -> 4 change nothing in the data: a schema-3 log has
     * been converted by now (convert.h). */
    if (ver < 2 && (*mdb_rc = drop_v1_counters(txn, index)) != 0)
        return SL_EIO;
    if (rc == SL_ENOTFOUND || ver < STORE_SCHEMA_VERSION) {
        if (store_meta_put(txn, meta, "schema_version", STORE_SCHEMA_VERSION) != SL_OK) {
            *mdb_rc = EIO;
            return SL_EIO;
        }
    }
    return SL_OK;
}
