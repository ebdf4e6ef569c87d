/*
 * store.c - LMDB persistence with a group-committing writer thread.
 *
 * Layout: four named databases in one environment.
 *   meta     "schema_version", "trimmed", "revision" -> decimal text
 *   objects  kind '\0' id -> compact JSON
 *   index    key -> value (strings)
 *   changes  be64(revision) be32(seq) -> {"rev","kind","id","op","obj"}
 *
 * The revision is the key of the newest change record (schema 2): a
 * mutation writes no meta record, which keeps one more page out of every
 * commit.  meta "revision" is only a floor: written when the log is trimmed
 * and left by schema 1, which kept it current.
 *
 * Writes: callers queue a request and sleep; the writer thread takes every
 * queued request, runs each in a nested transaction of one parent
 * transaction, and commits the parent once (one fsync for the whole batch).
 * A failing callback aborts only its nested transaction.  Durability and
 * acknowledgement are the syncer's business, see writer_main().
 */
#define _GNU_SOURCE /* sync_file_range, pthread_setname_np */
#include "store/store.h"

#include "common/buf.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)4 << 30)
#define CACHE_STRIPES 64
#define CACHE_STRIPE_MAX 4096 /* entries per stripe before it is cleared */
#define DEFAULT_CHANGES_KEEP 100000
#define MAX_BATCH 256

struct write_req {
    store_write_fn fn;
    void *arg;
    struct sl_err *err;
    int rc;
    uint64_t rev;
    sem_t done;             /* posted once, outside s->mu: see acks_post() */
    uint64_t need_txnid;    /* LMDB txn that must be durable before the ack */
    uint64_t head_rev;      /* revision committed when its batch ended */
    struct write_req *next;
};

/* Decode cache: parsing JSON costs about six times a deep copy, so decoded
 * objects are kept per key together with the exact bytes they came from.
 * A lookup compares the bytes LMDB returns with the cached ones; any change
 * of the stored value is a miss.  Callers always get a private copy. */
struct cache_stripe {
    pthread_mutex_t mu;
    json_t *map; /* key -> [bytes, object] */
};

struct store {
    MDB_env *env;
    int fd;       /* the data file, to start the meta page's writeback early */
    size_t psize; /* LMDB page size: meta pages are the file's first two */
    struct cache_stripe cache[CACHE_STRIPES];
    MDB_dbi meta, objects, index, changes;
    uint64_t changes_keep;
    json_t *counters; /* writer thread only: name -> integer, see store_counter_get() */

    pthread_mutex_t mu;
    pthread_cond_t queue_cv;  /* writer waits for work */
    pthread_cond_t sync_cv;   /* syncer waits for a meta page to sync */
    pthread_cond_t rev_cv;    /* store_wait() */
    struct write_req *head, *tail;     /* queued for the writer */
    struct write_req *unsynced, *unsynced_tail; /* run, awaiting durability */
    uint64_t meta_txnid;      /* last LMDB txn committed (meta page written) */
    uint64_t durable_txnid;   /* last LMDB txn whose meta page is on disk */
    int stopping;
    int writer_done;
    int sync_error;           /* errno of a failed sync: writes refused */
    uint64_t rev;             /* last durable revision */
    uint64_t trimmed;         /* highest revision with trimmed records */
    unsigned wake_gen;
    pthread_t writer, syncer;
    int writer_started, syncer_started;
};

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    int write;
    uint64_t rev;      /* snapshot revision (read) or revision being written */
    uint64_t base_rev; /* writer: revision before this mutation */
    uint32_t seq;      /* next change-record sequence within <rev> */
    json_t *undo;      /* writer: [name, previous value or null] per counter set */
};

static int mdb_fail(struct sl_err *err, const char *what, int rc)
{
    sl_err_set(err, 500, "InternalFailure", "store: %s: %s", what, mdb_strerror(rc));
    return SL_EIO;
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    char tmp[32];
    int rc = mdb_get(txn, dbi, &k, &v);

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

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t val)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, val);
    MDB_val k = {strlen(key), (void *)key}, v = {(size_t)n, tmp};

    return mdb_put(txn, dbi, &k, &v, 0) == 0 ? SL_OK : SL_EIO;
}

static uint64_t change_key_rev(const MDB_val *k)
{
    uint64_t rev = 0;
    int i;

    for (i = 0; i < 8 && k->mv_size == 12; i++)
        rev = (rev << 8) | ((const unsigned char *)k->mv_data)[i];
    return rev;
}

/* The revision committed in <txn>: the newest change record's, or the
 * meta floor when that is higher (see the layout note above). */
static uint64_t txn_revision(MDB_txn *txn, const struct store *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t rev = 0, floor = 0;

    if (mdb_cursor_open(txn, s->changes, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0)
            rev = change_key_rev(&k);
        mdb_cursor_close(cur);
    }
    meta_get_u64(txn, s->meta, "revision", &floor);
    return rev > floor ? rev : floor;
}

static void *writer_main(void *arg);
static void *syncer_main(void *arg);

/* The id of the last committed LMDB transaction. */
static uint64_t last_txnid(MDB_env *env)
{
    MDB_envinfo info;

    return mdb_env_info(env, &info) == 0 ? (uint64_t)info.me_last_txnid : 0;
}

static void cache_destroy(struct store *s)
{
    int i;

    for (i = 0; i < CACHE_STRIPES; i++) {
        json_decref(s->cache[i].map);
        s->cache[i].map = NULL;
        pthread_mutex_destroy(&s->cache[i].mu);
    }
}

static unsigned stripe_of(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h % CACHE_STRIPES;
}

/* Decode the value <v> stored under object key <key>/<klen> ("kind\0id"),
 * through the cache.  Returns a new reference: a private copy, or with
 * <shared> the cached object itself, which the caller must not modify. */
static json_t *decode(struct store *s, const char *key, size_t klen, const MDB_val *v,
                      int shared)
{
    struct cache_stripe *cs = &s->cache[stripe_of(key, klen)];
    char ckey[512];
    json_t *entry, *obj = NULL, *fresh;
    size_t i;

    /* jansson keys are C strings: map the kind's NUL separator to '\x1f'. */
    if (klen >= sizeof(ckey))
        return json_loadb(v->mv_data, v->mv_size, 0, NULL);
    for (i = 0; i < klen; i++)
        ckey[i] = key[i] ? key[i] : '\x1f';
    ckey[klen] = '\0';
    pthread_mutex_lock(&cs->mu);
    entry = json_object_get(cs->map, ckey);
    if (entry) {
        json_t *bytes = json_array_get(entry, 0);
        if (json_string_length(bytes) == v->mv_size &&
            memcmp(json_string_value(bytes), v->mv_data, v->mv_size) == 0)
            obj = json_incref(json_array_get(entry, 1));
    }
    pthread_mutex_unlock(&cs->mu);
    if (obj) {
        if (shared)
            return obj;
        fresh = json_deep_copy(obj);
        json_decref(obj);
        return fresh;
    }
    obj = json_loadb(v->mv_data, v->mv_size, 0, NULL);
    if (obj == NULL)
        return NULL;
    entry = json_pack("[s#O]", (const char *)v->mv_data, (int)v->mv_size, obj);
    if (shared) {
        fresh = json_incref(obj);
    } else {
        fresh = json_deep_copy(obj);
    }
    json_decref(obj);
    if (entry) {
        pthread_mutex_lock(&cs->mu);
        if (json_object_size(cs->map) >= CACHE_STRIPE_MAX)
            json_object_clear(cs->map);
        json_object_set_new(cs->map, ckey, entry);
        pthread_mutex_unlock(&cs->mu);
    }
    return fresh;
}

static int mkdir_p(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);

    if (n == 0 || n >= sizeof(path))
        return -1;
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0700) == -1 && errno != EEXIST)
                return -1;
            path[i] = c;
        }
    }
    return 0;
}

/* Bring a store of schema <from> up to STORE_SCHEMA_VERSION in <txn>.
 * 1 -> 2: schema 1 kept meta "revision" current, and it stays as the
 * floor; its per-group target counters ("tgcount:<tg id>" in the index)
 * are kept in memory now (store_counter_get()), so they go.  Schema 1 code
 * must not open the store once they no longer are current, hence the
 * version bump.  Returns 0 or an LMDB error. */
static int migrate(MDB_txn *txn, struct store *s, uint64_t from)
{
    static const char counters[] = "tgcount:";
    MDB_cursor *cur;
    MDB_val k = {sizeof(counters) - 1, (void *)counters}, v;
    int rc;

    if (from < 2) {
        if ((rc = mdb_cursor_open(txn, s->index, &cur)) != 0)
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
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    return meta_put_u64(txn, s->meta, "schema_version", STORE_SCHEMA_VERSION) == SL_OK ? 0
                                                                                      : EIO;
}

int store_open(const char *dir, const struct store_options *opt, struct store **out,
               struct sl_err *err)
{
    struct store *s;
    MDB_txn *txn = NULL;
    uint64_t ver = 0;
    int rc, i;

    *out = NULL;
    if (mkdir_p(dir) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot create data directory %s: %s",
                          dir, strerror(errno));
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->queue_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    pthread_cond_init(&s->rev_cv, NULL);
    s->changes_keep = opt && opt->changes_keep ? opt->changes_keep : DEFAULT_CHANGES_KEEP;
    s->counters = json_object();
    for (i = 0; i < CACHE_STRIPES; i++) {
        pthread_mutex_init(&s->cache[i].mu, NULL);
        s->cache[i].map = json_object();
    }

    if ((rc = mdb_env_create(&s->env)) != 0)
        goto fail_mdb;
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_maxreaders(s->env, 510);
    mdb_env_set_mapsize(s->env, opt && opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE);
    if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0600)) != 0) {
        sl_err_set(err, 500, "InternalFailure", "cannot open store in %s: %s", dir,
                   mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto fail_mdb;
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &s->objects)) != 0 ||
        (rc = mdb_dbi_open(txn, "index", MDB_CREATE, &s->index)) != 0 ||
        (rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &s->changes)) != 0)
        goto fail_mdb;
    if (meta_get_u64(txn, s->meta, "schema_version", &ver) == SL_ENOTFOUND) {
        if (meta_put_u64(txn, s->meta, "schema_version", STORE_SCHEMA_VERSION) != SL_OK) {
            rc = EIO;
            goto fail_mdb;
        }
        ver = STORE_SCHEMA_VERSION;
    }
    if (ver > STORE_SCHEMA_VERSION) {
        sl_err_set(err, 500, "InternalFailure",
                   "store in %s has schema version %" PRIu64
                   ", newer than this sluiced understands (%d); upgrade sluiced or use "
                   "another --data-dir",
                   dir, ver, STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (ver < STORE_SCHEMA_VERSION && (rc = migrate(txn, s, ver)) != 0)
        goto fail_mdb;
    s->rev = txn_revision(txn, s);
    meta_get_u64(txn, s->meta, "trimmed", &s->trimmed);
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto fail_mdb;
    }
    txn = NULL;
    {
        MDB_stat st;
        if ((rc = mdb_env_get_fd(s->env, &s->fd)) != 0 || (rc = mdb_env_stat(s->env, &st)) != 0)
            goto fail_mdb;
        s->psize = st.ms_psize;
    }
    /* Nothing is known durable yet: the syncer's first sync covers it all. */
    s->meta_txnid = last_txnid(s->env);
    if (pthread_create(&s->syncer, NULL, syncer_main, s) != 0) {
        sl_err_set(err, 500, "InternalFailure", "cannot start store syncer thread");
        goto fail;
    }
    s->syncer_started = 1;
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        sl_err_set(err, 500, "InternalFailure", "cannot start store writer thread");
        goto fail;
    }
    s->writer_started = 1;
    *out = s;
    return SL_OK;

fail_mdb:
    mdb_fail(err, "open", rc);
fail:
    if (txn)
        mdb_txn_abort(txn);
    if (s->syncer_started) {
        pthread_mutex_lock(&s->mu);
        s->writer_done = 1; /* the writer never ran */
        pthread_cond_signal(&s->sync_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->syncer, NULL);
    }
    if (s->env)
        mdb_env_close(s->env);
    cache_destroy(s);
    json_decref(s->counters);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->queue_cv);
    pthread_cond_destroy(&s->sync_cv);
    pthread_cond_destroy(&s->rev_cv);
    free(s);
    return SL_ERR;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->queue_cv);
    pthread_cond_broadcast(&s->rev_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    if (s->syncer_started)
        pthread_join(s->syncer, NULL);
    mdb_env_close(s->env);
    cache_destroy(s);
    json_decref(s->counters);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->queue_cv);
    pthread_cond_destroy(&s->sync_cv);
    pthread_cond_destroy(&s->rev_cv);
    free(s);
}

int store_read_begin(struct store *s, struct store_txn **out, struct sl_err *err)
{
    struct store_txn *t = calloc(1, sizeof(*t));
    int rc;

    *out = NULL;
    if (t == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    t->s = s;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t->txn)) != 0) {
        free(t);
        return mdb_fail(err, "read", rc);
    }
    *out = t;
    return SL_OK;
}

void store_txn_end(struct store_txn *t)
{
    if (t == NULL)
        return;
    if (t->txn)
        mdb_txn_abort(t->txn);
    free(t);
}

uint64_t store_txn_revision(const struct store_txn *t)
{
    return t->write ? t->rev : txn_revision(t->txn, t->s);
}

int store_txn_is_write(const struct store_txn *t)
{
    return t->write;
}

uint64_t store_txn_next_revision(const struct store_txn *t)
{
    return t->base_rev + 1;
}

/* Build "kind\0id" into <key>; returns its length or 0 if too long. */
static size_t obj_key(char *key, size_t cap, const char *kind, const char *id)
{
    size_t kl = strlen(kind), il = strlen(id);

    if (kl + 1 + il > cap || kl + 1 + il > 511)
        return 0;
    memcpy(key, kind, kl);
    key[kl] = '\0';
    memcpy(key + kl + 1, id, il);
    return kl + 1 + il;
}

json_t *store_get(struct store_txn *t, const char *kind, const char *id)
{
    char key[512];
    size_t kl = obj_key(key, sizeof(key), kind, id);
    MDB_val k = {kl, key}, v;

    if (kl == 0 || mdb_get(t->txn, t->s->objects, &k, &v) != 0)
        return NULL;
    return decode(t->s, key, kl, &v, 0);
}

json_t *store_get_shared(struct store_txn *t, const char *kind, const char *id)
{
    char key[512];
    size_t kl = obj_key(key, sizeof(key), kind, id);
    MDB_val k = {kl, key}, v;

    if (kl == 0 || mdb_get(t->txn, t->s->objects, &k, &v) != 0)
        return NULL;
    return decode(t->s, key, kl, &v, 1);
}

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

/* Append the change record {"rev","kind","id","op","obj"} of the current
 * mutation; <obj_text> is the object's stored JSON (NULL for a delete), so
 * the object is encoded once for both databases. */
static int append_change(struct store_txn *t, const char *kind, const char *id, const char *op,
                         const char *obj_text, size_t obj_len)
{
    unsigned char key[12];
    char num[24];
    struct buf rec;
    MDB_val k = {sizeof(key), key}, v;
    int i, n, rc;

    if (t->rev == t->base_rev)
        t->rev = t->base_rev + 1; /* first record of this mutation claims a revision */
    for (i = 0; i < 8; i++)
        key[i] = (unsigned char)(t->rev >> (56 - 8 * i));
    for (i = 0; i < 4; i++)
        key[8 + i] = (unsigned char)(t->seq >> (24 - 8 * i));
    t->seq++;
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

int store_put(struct store_txn *t, const char *kind, const char *id, json_t *obj)
{
    char key[512];
    size_t kl;
    char *text;
    MDB_val k, v;
    int rc;

    if (!t->write)
        return SL_EINVAL;
    kl = obj_key(key, sizeof(key), kind, id);
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
        rc = append_change(t, kind, id, "put", text, v.mv_size);
    else
        rc = SL_EIO;
    free(text);
    return rc;
}

int store_del(struct store_txn *t, const char *kind, const char *id)
{
    char key[512];
    size_t kl;
    MDB_val k;
    int rc;

    if (!t->write)
        return SL_EINVAL;
    kl = obj_key(key, sizeof(key), kind, id);
    if (kl == 0)
        return SL_ENOTFOUND;
    k.mv_size = kl;
    k.mv_data = key;
    rc = mdb_del(t->txn, t->s->objects, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return SL_ENOTFOUND;
    if (rc != 0)
        return SL_EIO;
    return append_change(t, kind, id, "delete", NULL, 0);
}

static int scan(struct store_txn *t, const char *kind, const char *prefix, store_scan_fn cb,
                void *arg, size_t *count)
{
    char key[512], idbuf[512];
    size_t kl = obj_key(key, sizeof(key), kind, prefix ? prefix : "");
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
        if (il >= sizeof(idbuf))
            continue;
        memcpy(idbuf, (char *)k.mv_data + kindlen, il);
        idbuf[il] = '\0';
        obj = decode(t->s, k.mv_data, k.mv_size, &v, 1);
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

int store_index_get(struct store_txn *t, const char *key, char *val, size_t vlen)
{
    MDB_val k = {strlen(key), (void *)key}, v;

    if (k.mv_size == 0 || k.mv_size > 511 || mdb_get(t->txn, t->s->index, &k, &v) != 0)
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

    if (!t->write || k.mv_size == 0 || k.mv_size > 511)
        return SL_EINVAL;
    return mdb_put(t->txn, t->s->index, &k, &v, 0) == 0 ? SL_OK : SL_EIO;
}

int store_index_del(struct store_txn *t, const char *key)
{
    MDB_val k = {strlen(key), (void *)key};
    int rc;

    if (!t->write || k.mv_size == 0 || k.mv_size > 511)
        return SL_EINVAL;
    rc = mdb_del(t->txn, t->s->index, &k, NULL);
    return rc == 0 ? SL_OK : rc == MDB_NOTFOUND ? SL_ENOTFOUND : SL_EIO;
}

int store_index_scan(struct store_txn *t, const char *prefix, store_index_fn cb, void *arg)
{
    char kbuf[512], vbuf[1024];
    size_t pl = strlen(prefix);
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, v;
    int rc, ret = 0;

    if (pl == 0 || pl > 511)
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

int store_counter_get(struct store_txn *t, const char *name, uint64_t *out)
{
    json_t *v;

    if (!t->write)
        return SL_EINVAL;
    v = json_object_get(t->s->counters, name);
    if (v == NULL)
        return SL_ENOTFOUND;
    *out = (uint64_t)json_integer_value(v);
    return SL_OK;
}

int store_counter_set(struct store_txn *t, const char *name, uint64_t value)
{
    json_t *old;

    if (!t->write)
        return SL_EINVAL;
    old = json_object_get(t->s->counters, name);
    if (json_array_append_new(t->undo, json_pack("[sO]", name, old ? old : json_null())) != 0 ||
        json_object_set_new(t->s->counters, name, json_integer((json_int_t)value)) != 0)
        return SL_ENOMEM;
    return SL_OK;
}

/* Put back the counters a failed mutation set, newest first. */
static void undo_counters(struct store *s, json_t *undo)
{
    size_t i = json_array_size(undo);

    while (i-- > 0) {
        json_t *u = json_array_get(undo, i), *old = json_array_get(u, 1);
        const char *name = json_string_value(json_array_get(u, 0));

        if (json_is_null(old))
            json_object_del(s->counters, name);
        else
            json_object_set(s->counters, name, old);
    }
}

uint64_t store_revision(struct store *s)
{
    uint64_t r;

    pthread_mutex_lock(&s->mu);
    r = s->rev;
    pthread_mutex_unlock(&s->mu);
    return r;
}

uint64_t store_oldest_change(struct store *s)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t rev = 0;
    int i;

    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    if (mdb_cursor_open(txn, s->changes, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 12)
            for (i = 0; i < 8; i++)
                rev = (rev << 8) | ((unsigned char *)k.mv_data)[i];
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
    unsigned char key[12] = {0};
    uint64_t trimmed = 0, from = since + 1, durable = store_revision(s);
    size_t n = 0;
    int i, rc, ret = SL_OK;

    /* Only durable revisions leave the store: a committed revision is
     * published once its sync completes (see writer_main()). */
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return SL_EIO;
    meta_get_u64(txn, s->meta, "trimmed", &trimmed);
    if (since < trimmed) {
        mdb_txn_abort(txn);
        return SL_ENOTFOUND;
    }
    if (mdb_cursor_open(txn, s->changes, &cur) != 0) {
        mdb_txn_abort(txn);
        return SL_EIO;
    }
    for (i = 0; i < 8; i++)
        key[i] = (unsigned char)(from >> (56 - 8 * i));
    k.mv_size = sizeof(key);
    k.mv_data = key;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *rec;
        uint64_t rev = 0;

        for (i = 0; i < 8 && k.mv_size == 12; i++)
            rev = (rev << 8) | ((unsigned char *)k.mv_data)[i];
        if (rev > durable)
            break;
        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
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

uint64_t store_wait(struct store *s, uint64_t since, int timeout_ms)
{
    struct timespec ts;
    uint64_t r;
    unsigned gen;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    gen = s->wake_gen;
    while (s->rev <= since && !s->stopping && gen == s->wake_gen)
        if (pthread_cond_timedwait(&s->rev_cv, &s->mu, &ts) == ETIMEDOUT)
            break;
    r = s->rev;
    pthread_mutex_unlock(&s->mu);
    return r;
}

int store_wait_durable(struct store *s, uint64_t rev, int timeout_ms)
{
    uint64_t deadline = util_mono_ms() + (uint64_t)timeout_ms;

    while (store_revision(s) < rev) {
        uint64_t now = util_mono_ms();
        if (now >= deadline)
            return 0;
        store_wait(s, store_revision(s), (int)(deadline - now));
    }
    return 1;
}

void store_wake_all(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    s->wake_gen++;
    pthread_cond_broadcast(&s->rev_cv);
    pthread_mutex_unlock(&s->mu);
}

int store_write(struct store *s, store_write_fn fn, void *arg, uint64_t *rev_out,
                struct sl_err *err)
{
    struct write_req req = {.fn = fn, .arg = arg, .err = err, .rc = SL_OK};

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return sl_err_set(err, 503, "ServiceUnavailable", "sluiced is shutting down");
    }
    if (s->sync_error) {
        pthread_mutex_unlock(&s->mu);
        return sl_err_set(err, 500, "InternalFailure",
                          "store: a sync of the data file failed (%s); restart sluiced",
                          strerror(s->sync_error));
    }
    sem_init(&req.done, 0, 0);
    if (s->tail)
        s->tail->next = &req;
    else
        s->head = &req;
    s->tail = &req;
    pthread_mutex_unlock(&s->mu);
    pthread_cond_signal(&s->queue_cv);
    while (sem_wait(&req.done) != 0)
        ; /* EINTR */
    sem_destroy(&req.done);
    if (rev_out)
        *rev_out = req.rev;
    return req.rc;
}

/* Drop the oldest change records beyond the retention count; the newest,
 * which carries the revision, always stays.  <rev_now> is the revision
 * committed in <txn>, recorded as the floor whenever records go.  Trimming
 * dirties the log's leftmost pages and two meta records, so it waits until
 * the excess reaches 1/8 of the count (at most 1,024 records) rather
 * than costing every commit at the retention limit four more pages. */
static int trim_changes(struct store *s, MDB_txn *txn, uint64_t rev_now, uint64_t *trimmed)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t slack = s->changes_keep / 8 < 1024 ? s->changes_keep / 8 : 1024;
    size_t excess;
    int i;

    if (mdb_stat(txn, s->changes, &st) != 0 || st.ms_entries <= s->changes_keep + slack)
        return SL_OK;
    excess = st.ms_entries - s->changes_keep;
    if (mdb_cursor_open(txn, s->changes, &cur) != 0)
        return SL_EIO;
    while (excess-- > 0 && mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0) {
        uint64_t rev = 0;
        for (i = 0; i < 8; i++)
            rev = (rev << 8) | ((unsigned char *)k.mv_data)[i];
        if (rev > *trimmed)
            *trimmed = rev;
        if (mdb_cursor_del(cur, 0) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (meta_put_u64(txn, s->meta, "revision", rev_now) != SL_OK)
        return SL_EIO;
    return meta_put_u64(txn, s->meta, "trimmed", *trimmed);
}

/* Run <batch> in one parent transaction starting from revision *committed
 * and commit it; *committed becomes the last revision it gave out. */
static void run_batch(struct store *s, struct write_req *batch, uint64_t *committed,
                      uint64_t *trimmed)
{
    struct store_txn t;
    struct write_req *r;
    MDB_txn *parent;
    uint64_t rev = *committed, trim = *trimmed;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, 0, &parent);
    for (r = batch; r; r = r->next) {
        if (rc != 0) {
            r->rc = mdb_fail(r->err, "begin", rc);
            continue;
        }
        memset(&t, 0, sizeof(t));
        t.s = s;
        t.write = 1;
        t.base_rev = rev;
        t.rev = rev;
        if ((rc = mdb_txn_begin(s->env, parent, 0, &t.txn)) != 0) {
            r->rc = mdb_fail(r->err, "begin nested", rc);
            rc = 0;
            continue;
        }
        t.undo = json_array();
        r->rc = t.undo ? r->fn(&t, r->arg, r->err) : SL_ENOMEM;
        if (r->rc == SL_OK && (rc = mdb_txn_commit(t.txn)) != 0) {
            r->rc = mdb_fail(r->err, "commit nested", rc);
            rc = 0;
        } else if (r->rc != SL_OK) {
            mdb_txn_abort(t.txn);
            if (r->err && r->err->code[0] == '\0')
                sl_err_set(r->err, 500, "InternalFailure", "store: %s", sl_strerror(r->rc));
        }
        if (r->rc != SL_OK)
            undo_counters(s, t.undo);
        json_decref(t.undo);
        if (r->rc != SL_OK)
            continue;
        r->rev = t.rev != rev ? t.rev : 0;
        rev = t.rev;
    }
    if (rc != 0)
        return;
    if (trim_changes(s, parent, rev, &trim) != SL_OK || (rc = mdb_txn_commit(parent)) != 0) {
        if (rc == 0)
            mdb_txn_abort(parent);
        /* The batch is lost: forget every counter rather than undo it. */
        json_object_clear(s->counters);
        for (r = batch; r; r = r->next)
            if (r->rc == SL_OK) {
                r->rc = mdb_fail(r->err, "commit", rc ? rc : EIO);
                r->rev = 0;
            }
        return;
    }
    *trimmed = trim;
    *committed = rev;
}

/* Requests whose outcome is settled, waiting to be told.  They are
 * collected under s->mu and posted after it is released: a caller woken
 * while the poster still holds s->mu would only block again on it. */
struct acks {
    struct write_req *head, *tail;
};

static void acks_add(struct acks *a, struct write_req *r)
{
    r->next = NULL;
    if (a->tail)
        a->tail->next = r;
    else
        a->head = r;
    a->tail = r;
}

/* Wake every caller in <a>, oldest first.  Call without s->mu. */
static void acks_post(struct acks *a)
{
    struct write_req *r = a->head, *next;

    for (; r; r = next) {
        next = r->next;
        sem_post(&r->done); /* <r> lives on its caller's stack: gone from here on */
    }
    a->head = a->tail = NULL;
}

/* Settle, oldest first, every run request whose transaction is durable
 * once LMDB transaction <txnid> is, into <a>, and publish its revision.
 * Called with s->mu held. */
static void make_durable(struct store *s, uint64_t txnid, struct acks *a)
{
    struct write_req *r;
    uint64_t rev = s->rev;

    if (txnid > s->durable_txnid)
        s->durable_txnid = txnid;
    while ((r = s->unsynced) && r->need_txnid <= s->durable_txnid) {
        s->unsynced = r->next;
        if (r->head_rev > rev)
            rev = r->head_rev;
        acks_add(a, r);
    }
    if (s->unsynced == NULL)
        s->unsynced_tail = NULL;
    if (rev != s->rev) {
        s->rev = rev;
        pthread_cond_broadcast(&s->rev_cv);
    }
}

/* Fail every run request still waiting, into <a>: a sync failed, so none
 * of them can be called durable.  Called with s->mu held. */
static void fail_unsynced(struct store *s, int rc, struct acks *a)
{
    struct write_req *r;

    while ((r = s->unsynced)) {
        s->unsynced = r->next;
        if (r->rc == SL_OK)
            r->rc = mdb_fail(r->err, "sync", rc);
        r->rev = 0;
        acks_add(a, r);
    }
    s->unsynced_tail = NULL;
}

/* Name the calling store thread and, when the process may (root or
 * CAP_SYS_NICE), run it 5 nice levels above the process: every durable
 * write waits on these two threads, and a busy front end should not keep
 * them off the CPU once their I/O completes (7% more durable writes/s
 * under bench/api here).  Otherwise they keep the process's priority. */
static void store_thread_init(const char *name)
{
    id_t tid = (id_t)syscall(SYS_gettid);
    int prio;

    pthread_setname_np(pthread_self(), name);
    errno = 0;
    prio = getpriority(PRIO_PROCESS, tid);
    if (errno == 0)
        setpriority(PRIO_PROCESS, tid, prio - 5);
}

/*
 * The writer and the syncer.  The environment runs with MDB_NOMETASYNC: a
 * commit fdatasyncs its data pages, then writes its meta page without
 * syncing it.  That meta page becomes durable with the next fdatasync of
 * the file: the syncer's, started as soon as the commit returns, or the
 * next commit's own, whichever ends first.  A request is acknowledged (and
 * its revision published to store_revision(), store_wait() and the change
 * feed) only once the last transaction committed when its batch ended is
 * durable: its own, or for a batch that wrote nothing, whatever it may
 * have read.  So a commit costs one fsync on the writer's path; the meta
 * page's sync overlaps the next batch instead of waiting for its commit.
 *
 * The writer also starts the meta page's writeback itself, right after
 * the commit: the page is then on its way to the disk while the syncer
 * wakes up, and the syncer's fdatasync is left with waiting for it and
 * the cache flush (about 10% more durable writes/s on this machine).
 * Only the fdatasync makes it durable; an early write is no different
 * from one the kernel could start at any moment on its own.
 */
static void *writer_main(void *arg)
{
    struct store *s = arg;
    struct write_req *batch, *last;
    struct acks acks = {0};
    uint64_t committed, trimmed, txnid;
    int n, committed_new;

    store_thread_init("store-writer");
    committed = s->rev;
    trimmed = s->trimmed;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->head == NULL && !s->stopping)
            pthread_cond_wait(&s->queue_cv, &s->mu);
        if (s->head == NULL)
            break; /* stopping, and every queued write has run */
        batch = s->head;
        for (n = 1, last = batch; last->next && n < MAX_BATCH; n++)
            last = last->next;
        s->head = last->next;
        if (s->head == NULL)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        run_batch(s, batch, &committed, &trimmed);
        txnid = last_txnid(s->env);
        /* Only this thread changes meta_txnid.  A failure here only leaves
         * the write to the syncer. */
        committed_new = txnid != s->meta_txnid;
        if (committed_new)
            sync_file_range(s->fd, 0, (off_t)(2 * s->psize), SYNC_FILE_RANGE_WRITE);

        pthread_mutex_lock(&s->mu);
        if (committed_new) {
            /* This commit's fdatasync also made the meta page of every
             * earlier commit durable. */
            make_durable(s, s->meta_txnid, &acks);
            s->meta_txnid = txnid;
        }
        for (last = batch;; last = last->next) {
            last->need_txnid = txnid;
            last->head_rev = committed;
            if (last->next == NULL)
                break;
        }
        if (s->unsynced_tail)
            s->unsynced_tail->next = batch;
        else
            s->unsynced = batch;
        s->unsynced_tail = last;
        if (s->sync_error)
            fail_unsynced(s, s->sync_error, &acks);
        else
            make_durable(s, s->durable_txnid, &acks); /* a batch may need nothing new */
        pthread_mutex_unlock(&s->mu);
        /* Signalled after the unlock: woken under s->mu, the syncer
         * would only block on it. */
        if (committed_new)
            pthread_cond_signal(&s->sync_cv);
        acks_post(&acks);
    }
    s->writer_done = 1;
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Make the last written meta page durable, again and again; at shutdown,
 * once the writer is done, the last time. */
static void *syncer_main(void *arg)
{
    struct store *s = arg;
    struct acks acks = {0};
    uint64_t target;
    int rc;

    store_thread_init("store-syncer");
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->meta_txnid <= s->durable_txnid && !s->writer_done)
            pthread_cond_wait(&s->sync_cv, &s->mu);
        if (s->meta_txnid <= s->durable_txnid)
            break; /* the writer is done and everything is durable */
        target = s->meta_txnid;
        pthread_mutex_unlock(&s->mu);
        rc = mdb_env_sync(s->env, 1);
        pthread_mutex_lock(&s->mu);
        if (rc != 0) {
            /* After a failed fdatasync the kernel may have dropped the
             * pages, and a retry can report success all the same: refuse
             * every write from now on instead (see store_write()). */
            s->sync_error = rc;
            fail_unsynced(s, rc, &acks);
            pthread_mutex_unlock(&s->mu);
            acks_post(&acks);
            return NULL;
        }
        make_durable(s, target, &acks);
        pthread_mutex_unlock(&s->mu);
        acks_post(&acks);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
