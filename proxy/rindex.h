/*
 * rindex.h - the rule index of a listener: from a request's host and path,
 * the few rules that can match, in priority order, so that a listener of
 * 1,000 rules is not evaluated rule by rule.
 *
 * Each rule is filed under one of its conditions (a necessary condition for
 * it to match): a host-header condition whose every value is exact (by the
 * whole host) or ends in a literal suffix after its last wildcard
 * ("*.example.com" under ".example.com"), or a path-pattern condition whose
 * every value starts with a literal prefix before its first wildcard
 * ("/api/..." under "/api/").  Of the two it takes the one whose keys are shared
 * by fewer rules.  A rule with neither is a candidate for every request.
 *
 * Caveats:
 *  - Candidates are only that: the caller evaluates each one with all its
 *    conditions, in the order given (ascending rule position, i.e. priority),
 *    and takes the first that matches.  The default rule is not indexed.
 *  - Host keys compare ASCII case-insensitively, path keys exactly, as
 *    host-header and path-pattern match.
 *  - Immutable once built; the memory lives in the listener's arena.  A
 *    lookup keeps its state in the caller's struct px_rcand: thread-safe.
 *  - A request hitting more distinct keys than RIX_MAX_CURSORS (a path that
 *    has many indexed prefixes) falls back to every rule in order: slower,
 *    never wrong.
 */
#ifndef SL_PROXY_RINDEX_H
#define SL_PROXY_RINDEX_H

#include <stddef.h>
#include <stdint.h>

#define RIX_MAX_CURSORS 32

struct px_rule;
struct px_arena;

struct rix_entry {
    uint32_t hash;
    uint32_t len;
    const char *key; /* lowercase for host keys */
    uint32_t off, cnt; /* rule positions pos[off..off+cnt), ascending */
};

struct rix_table {
    uint32_t mask; /* capacity - 1; no entries when e is NULL */
    struct rix_entry *e;
    int nlens;
    uint32_t *lens; /* the distinct key lengths, ascending */
};

struct px_rindex {
    uint32_t nrules; /* rules indexed: positions 0..nrules-1 */
    struct rix_table host_exact, host_suffix, path_prefix;
    uint32_t *pos;
    uint32_t *unindexed; /* positions of rules with no usable key, ascending */
    uint32_t nunindexed;
};

struct px_rcand {
    const uint32_t *cur[RIX_MAX_CURSORS], *end[RIX_MAX_CURSORS];
    int n;
    int all;        /* fallback: every position in turn */
    uint32_t next;  /* fallback: the next position */
    uint32_t nrules;
    int64_t last;   /* the position returned last, -1 before the first */
};

/* Index <rules>[0..<n>) (in priority order, the default rule excluded) into
 * <ix>, allocating from <a>.  0, or SL_ENOMEM (then <ix> holds an index that
 * yields every rule: still correct). */
int rindex_build(struct px_rindex *ix, const struct px_rule *rules, uint32_t n,
                 struct px_arena *a);

/* Start a lookup for a request with Host <host>[0..<hlen>) (without its
 * port; NULL when the request has none) and path <path>[0..<plen>) (without
 * the query). */
void rindex_begin(const struct px_rindex *ix, const char *host, size_t hlen, const char *path,
                  size_t plen, struct px_rcand *it);

/* The next candidate rule position, ascending and each once, or
 * SL_ENOTFOUND when there is none left. */
int64_t rindex_next(struct px_rcand *it);

#endif
