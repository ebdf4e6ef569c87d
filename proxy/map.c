/*
 * map.c - FNV-1a hashed chains.
 */
#include "proxy/map.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

struct px_map_node *px_map_get(const struct px_map *m, const char *key)
{
    uint32_t h;
    struct px_map_node *n;

    if (m->nb == 0)
        return NULL;
    h = hash_str(key);
    for (n = m->b[h & (m->nb - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static int grow(struct px_map *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16, i;
    struct px_map_node **b = calloc(nb, sizeof(*b));

    if (b == NULL)
        return SL_ENOMEM;
    for (i = 0; i < m->nb; i++) {
        struct px_map_node *n = m->b[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return SL_OK;
}

int px_map_put(struct px_map *m, struct px_map_node *node, const char *key)
{
    struct px_map_node **slot;

    if (m->n >= m->nb && grow(m) != SL_OK)
        return SL_ENOMEM;
    node->key = key;
    node->hash = hash_str(key);
    slot = &m->b[node->hash & (m->nb - 1)];
    node->next = *slot;
    *slot = node;
    m->n++;
    return SL_OK;
}

void px_map_del(struct px_map *m, struct px_map_node *node)
{
    struct px_map_node **pp = &m->b[node->hash & (m->nb - 1)];

    while (*pp && *pp != node)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = node->next;
        m->n--;
    }
    node->next = NULL;
}

struct px_map_node *px_map_next(const struct px_map *m, struct px_map_iter *it)
{
    struct px_map_node *n = it->next;

    while (n == NULL && it->pos < m->nb)
        n = m->b[it->pos++];
    it->next = n ? n->next : NULL;
    return n;
}

void px_map_clear(struct px_map *m)
{
    free(m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}
