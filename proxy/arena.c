/*
 * arena.c - chunks of 4 KiB and up; a larger request gets a chunk of its
 * own, so a rule with one short condition costs one small allocation.
 */
#include "proxy/arena.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

struct px_arena {
    struct chunk *head;
};

struct px_arena *px_arena_new(void)
{
    return calloc(1, sizeof(struct px_arena));
}

void px_arena_free(struct px_arena *a)
{
    struct chunk *c, *n;

    if (a == NULL)
        return;
    for (c = a->head; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *px_arena_alloc(struct px_arena *a, size_t n)
{
    struct chunk *c = a->head;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;
        if ((c = malloc(sizeof(*c) + cap)) == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *px_arena_strndup(struct px_arena *a, const char *s, size_t n)
{
    char *p = px_arena_alloc(a, n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *px_arena_strdup(struct px_arena *a, const char *s)
{
    return s ? px_arena_strndup(a, s, strlen(s)) : NULL;
}
