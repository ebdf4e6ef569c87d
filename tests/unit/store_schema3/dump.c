/*
 * dump.c - prints a store's revision, objects of kind "crash" and index
 * entries "name:*" as JSON lines, for make_fixture.sh to check a fixture
 * against its acknowledgements.  Opens the store in DIR with whatever
 * store it is built against (make_fixture.sh: commit 48759fc's, which
 * rebuilds a crashed schema-3 store from its snapshot and redo log).
 *
 *   dump DIR
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

static int obj_cb(const char *id, json_t *obj, void *arg)
{
    (void)arg;
    printf("{\"obj\":\"%s\",\"v\":%d,\"size\":%zu}\n", id,
           (int)json_integer_value(json_object_get(obj, "v")),
           json_string_length(json_object_get(obj, "pad")));
    return 0;
}

static int index_cb(const char *key, const char *val, void *arg)
{
    (void)arg;
    printf("{\"index\":\"%s\",\"val\":\"%s\"}\n", key, val);
    return 0;
}

int main(int argc, char **argv)
{
    struct sl_err err = {0};
    struct store *s;
    struct store_txn *txn;

    if (argc != 2) {
        fprintf(stderr, "usage: dump DIR\n");
        return 2;
    }
    if (store_open(argv[1], NULL, &s, &err) != SL_OK) {
        fprintf(stderr, "dump: %s\n", err.message);
        return 1;
    }
    printf("{\"revision\":%llu}\n", (unsigned long long)store_revision(s));
    if (store_read_begin(s, &txn, &err) != SL_OK) {
        fprintf(stderr, "dump: %s\n", err.message);
        return 1;
    }
    store_scan(txn, "crash", NULL, obj_cb, NULL);
    store_index_scan(txn, "name:", index_cb, NULL);
    store_txn_end(txn);
    store_close(s);
    return 0;
}
