/*
 * counters.c - the writer's counters: an open-addressing table (linear
 * probing, deletion by backward shift) of name -> value, and undo logs of
 * the sets a mutation made.
 */
#include "store/counters.h"

#include "common/err.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    char *name; /* NULL: empty */
    uint64_t hash, value;
};

struct store_counters {
    struct slot *slot;
    size_t cap, used; /* cap: a power of two */
};

struct undo_rec {
    char *name;
    int had; /* the counter existed, with value <old> */
    uint64_t old;
};

struct store_undo {
    struct undo_rec *rec;
    size_t n, cap;
};

static uint64_t hash_of(const char *s)
{
    uint64_t h = 14695981039346656037ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int store_counters_new(struct store_counters **out)
{
    struct store_counters *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL || (c->slot = calloc(64, sizeof(*c->slot))) == NULL) {
        free(c);
        return SL_ENOMEM;
    }
    c->cap = 64;
    *out = c;
    return SL_OK;
}

void store_counters_clear(struct store_counters *c)
{
    size_t i;

    for (i = 0; i < c->cap; i++) {
        free(c->slot[i].name);
        c->slot[i].name = NULL;
    }
    c->used = 0;
}

void store_counters_free(struct store_counters *c)
{
    if (c == NULL)
        return;
    store_counters_clear(c);
    free(c->slot);
    free(c);
}

/* The slot of <name>, or the empty slot where it would go. */
static struct slot *find(const struct store_counters *c, const char *name, uint64_t h)
{
    size_t i = (size_t)h & (c->cap - 1);

    while (c->slot[i].name &&
           (c->slot[i].hash != h || strcmp(c->slot[i].name, name) != 0))
        i = (i + 1) & (c->cap - 1);
    return &c->slot[i];
}

static int grow(struct store_counters *c)
{
    struct slot *old = c->slot;
    size_t n = c->cap, i;

    if ((c->slot = calloc(n * 2, sizeof(*c->slot))) == NULL) {
        c->slot = old;
        return SL_ENOMEM;
    }
    c->cap = n * 2;
    for (i = 0; i < n; i++)
        if (old[i].name)
            *find(c, old[i].name, old[i].hash) = old[i];
    free(old);
    return SL_OK;
}

static int set(struct store_counters *c, const char *name, uint64_t value)
{
    uint64_t h = hash_of(name);
    struct slot *sl = find(c, name, h);

    if (sl->name == NULL) {
        if ((c->used + 1) * 2 > c->cap) {
            if (grow(c) != SL_OK)
                return SL_ENOMEM;
            sl = find(c, name, h);
        }
        if ((sl->name = strdup(name)) == NULL)
            return SL_ENOMEM;
        sl->hash = h;
        c->used++;
    }
    sl->value = value;
    return SL_OK;
}

/* Remove <name>, shifting later entries of its probe run back into place. */
static void del(struct store_counters *c, const char *name)
{
    size_t mask = c->cap - 1, i = (size_t)(find(c, name, hash_of(name)) - c->slot), j, home;

    if (c->slot[i].name == NULL)
        return;
    free(c->slot[i].name);
    c->slot[i].name = NULL;
    c->used--;
    for (j = (i + 1) & mask; c->slot[j].name; j = (j + 1) & mask) {
        home = (size_t)c->slot[j].hash & mask;
        /* Move j into the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            c->slot[i] = c->slot[j];
            c->slot[j].name = NULL;
            i = j;
        }
    }
}

int store_undo_new(struct store_undo **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? SL_OK : SL_ENOMEM;
}

void store_undo_reset(struct store_undo *u)
{
    while (u->n > 0)
        free(u->rec[--u->n].name);
}

void store_undo_free(struct store_undo *u)
{
    if (u == NULL)
        return;
    store_undo_reset(u);
    free(u->rec);
    free(u);
}

void store_undo_apply(struct store_undo *u, struct store_counters *c)
{
    while (u->n > 0) {
        struct undo_rec *r = &u->rec[--u->n];

        if (!r->had)
            del(c, r->name);
        else if (set(c, r->name, r->old) != SL_OK)
            del(c, r->name); /* no memory to put it back: forgotten, derived again */
        free(r->name);
    }
}

int store_counter_get(struct store_txn *t, const char *name, uint64_t *out)
{
    struct slot *sl;

    if (!t->write)
        return SL_EINVAL;
    sl = find(t->s->counters, name, hash_of(name));
    if (sl->name == NULL)
        return SL_ENOTFOUND;
    *out = sl->value;
    return SL_OK;
}

int store_counter_set(struct store_txn *t, const char *name, uint64_t value)
{
    struct store_undo *u = t->undo;
    struct slot *sl;
    struct undo_rec *r;

    if (!t->write)
        return SL_EINVAL;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        struct undo_rec *p = realloc(u->rec, cap * sizeof(*p));
        if (p == NULL)
            return SL_ENOMEM;
        u->rec = p;
        u->cap = cap;
    }
    r = &u->rec[u->n];
    if ((r->name = strdup(name)) == NULL)
        return SL_ENOMEM;
    sl = find(t->s->counters, name, hash_of(name));
    r->had = sl->name != NULL;
    r->old = sl->name ? sl->value : 0;
    u->n++;
    return set(t->s->counters, name, value);
}
