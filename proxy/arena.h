/*
 * arena.h - bump allocation for objects built once and freed whole: a
 * decoded rule, a listener's rules and index.
 *
 * Caveats:
 *  - Memory is zeroed and 16-byte aligned; nothing is freed before
 *    px_arena_free().
 *  - Not thread-safe: an arena is filled by one thread, then only read.
 */
#ifndef SL_PROXY_ARENA_H
#define SL_PROXY_ARENA_H

#include <stddef.h>

struct px_arena;

/* A new empty arena, or NULL on allocation failure. */
struct px_arena *px_arena_new(void);
/* Free every block (NULL is a no-op). */
void px_arena_free(struct px_arena *a);
/* <n> zeroed bytes owned by <a>, or NULL on allocation failure. */
void *px_arena_alloc(struct px_arena *a, size_t n);
/* A copy of the NUL-terminated <s> (NULL for NULL or on failure). */
char *px_arena_strdup(struct px_arena *a, const char *s);
/* A NUL-terminated copy of <s>[0..<n>). */
char *px_arena_strndup(struct px_arena *a, const char *s, size_t n);

#endif
