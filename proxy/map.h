/*
 * map.h - an intrusive hash map from NUL-terminated string keys to the
 * structs that embed a struct px_map_node (Redis dict style, chained).
 *
 * Caveats:
 *  - The key is borrowed from the entry (usually its id member): it must not
 *    change while the entry is in the map.  The map never frees entries.
 *  - Not thread-safe: the subscription thread's model owns its maps.
 *  - The table doubles when the load passes 1; it never shrinks.
 */
#ifndef SL_PROXY_MAP_H
#define SL_PROXY_MAP_H

#include <stddef.h>
#include <stdint.h>

struct px_map_node {
    struct px_map_node *next;
    uint32_t hash;
    const char *key;
};

struct px_map {
    struct px_map_node **b;
    size_t nb; /* power of two, or 0 before the first put */
    size_t n;
};

#define px_map_entry(node, type, member) \
    ((type *)(void *)((char *)(node) - offsetof(type, member)))

/* The entry with <key>, or NULL. */
struct px_map_node *px_map_get(const struct px_map *m, const char *key);
/* Add <node> under <key> (borrowed; not already present).  0 or SL_ENOMEM. */
int px_map_put(struct px_map *m, struct px_map_node *node, const char *key);
/* Remove <node>, which is in <m>. */
void px_map_del(struct px_map *m, struct px_map_node *node);
/* Iteration: zero a struct px_map_iter, then px_map_next() returns each
 * node once, NULL at the end.  The node just returned may be deleted;
 * no other node may be added or deleted during the walk. */
struct px_map_iter {
    size_t pos;
    struct px_map_node *next;
};
struct px_map_node *px_map_next(const struct px_map *m, struct px_map_iter *it);
/* Forget every node (they are not freed) and the table. */
void px_map_clear(struct px_map *m);

#endif
