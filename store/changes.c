/*
 * changes.c - the change log (see changes.h) and the feed's reads of it.
 */
#include "store/changes.h"

#include "common/buf.h"
#include "store/durable.h"
#include "store/layout.h"
#include "store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Append <str> to <b> as a JSON string literal.  <str> is UTF-8 (ids and
 * kinds come from jansson strings), so only quotes, backslashes and control
 * characters need escapes. */
static void put_json_string(struct buf *b, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = str;

    buf_putc(b, '"');
    for (; *str; str++) {
        unsigned char c = (unsigned char)*str;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, run, (size_t)(str - run));
        run = str + 1;
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, sizeof(esc));
        }
    }
    buf_append(b, run, (size_t)(str - run));
    buf_putc(b, '"');
}

int store_changelog_append(struct store_txn *t, const char *kind, const char *id,
                           const char *op, const char *obj_text, size_t obj_len)
{
    unsigned char key[STORE_CHANGE_KEY];
    char num[24];
    struct buf rec;
    MDB_val k = {sizeof(key), key}, v;
    int n, rc;

    if (t->rev == t->base_rev)
        t->rev = t->base_rev + 1; /* first record of this mutation claims a revision */
    store_change_key(key, t->rev, t->seq++);
    n = snprintf(num, sizeof(num), "%" PRIu64, t->rev);
    buf_init(&rec);
    buf_append(&rec, "{\"rev\":", 7);
    buf_append(&rec, num, (size_t)n);
    buf_append(&rec, ",\"kind\":", 8);
    put_json_string(&rec, kind);
    buf_append(&rec, ",\"id\":", 6);
    put_json_string(&rec, id);
    buf_append(&rec, ",\"op\":", 6);
    put_json_string(&rec, op);
    buf_append(&rec, ",\"obj\":", 7);
    if (obj_text)
        buf_append(&rec, obj_text, obj_len);
    else
        buf_append(&rec, "null", 4);
    buf_putc(&rec, '}');
    if (buf_failed(&rec)) {
        buf_free(&rec);
        return SL_ENOMEM;
    }
    v.mv_size = rec.len;
    v.mv_data = rec.data;
    /* Keys only grow (revision, then sequence): appending skips the search
     * and fills each page of the log instead of splitting it in half. */
    rc = mdb_put(t->txn, t->s->changes, &k, &v, MDB_APPEND);
    buf_free(&rec);
    return rc == 0 ? SL_OK : SL_EIO;
}

/* The newest record, which carries the revision, always stays.  <rev_now>
 * is recorded as the floor whenever records go.  Trimming dirties the log's
 * leftmost pages and two meta records, so it waits until the excess
 * reaches 1/8 of the count (at most 1,024 records) rather than costing
 * every commit at the retention limit four more pages. */
int store_changelog_trim(struct store *s, MDB_txn *txn, uint64_t rev_now, uint64_t *trimmed)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t slack = s->changes_keep / 8 < 1024 ? s->changes_keep / 8 : 1024;
    size_t excess;

    if (mdb_stat(txn, s->changes, &st) != 0 || st.ms_entries <= s->changes_keep + slack)
        return SL_OK;
    excess = st.ms_entries - s->changes_keep;
    if (mdb_cursor_open(txn, s->changes, &cur) != 0)
        return SL_EIO;
    while (excess-- > 0 && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 &&
           k.mv_size == STORE_CHANGE_KEY) {
        uint64_t rev = store_change_key_rev(&k);

        if (rev > *trimmed)
            *trimmed = rev;
        if (mdb_cursor_del(cur, 0) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (store_meta_put(txn, s->meta, "revision", rev_now) != SL_OK)
        return SL_EIO;
    return store_meta_put(txn, s->meta, "trimmed", *trimmed);
}

uint64_t store_oldest_change(struct store *s)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t rev = 0;

    if (store_durable_read(s, &txn) != 0)
        return 0;
    if (mdb_cursor_open(txn, s->changes, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0)
            rev = store_change_key_rev(&k);
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return rev;
}

int store_changes(struct store *s, uint64_t since, size_t limit, store_change_fn cb, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char key[STORE_CHANGE_KEY];
    uint64_t trimmed = 0;
    size_t n = 0;
    int rc, ret = SL_OK;

    /* A durable snapshot: the feed never shows a commit a crash could
     * still undo (durable.h). */
    if (store_durable_read(s, &txn) != 0)
        return SL_EIO;
    store_meta_get(txn, s->meta, "trimmed", &trimmed);
    if (since < trimmed) {
        mdb_txn_abort(txn);
        return SL_ENOTFOUND;
    }
    if (mdb_cursor_open(txn, s->changes, &cur) != 0) {
        mdb_txn_abort(txn);
        return SL_EIO;
    }
    store_change_key(key, since + 1, 0);
    k.mv_size = sizeof(key);
    k.mv_data = key;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (rec == NULL)
            continue;
        ret = cb(rec, arg);
        json_decref(rec);
        if (ret != 0 || (limit && ++n >= limit))
            break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return ret;
}
