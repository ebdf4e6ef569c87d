/*
 * table.h - the data plane's shared types: the immutable routing table the
 * workers read, and the per-target runtime record that outlives tables.
 *
 * Caveats:
 *  - A px_table is immutable once published; everything it points to lives
 *    in its arena, except px_target records, which are reference counted
 *    (the table holds one reference per target it names).
 *  - px_target counters and health fields are atomics written by several
 *    threads (workers, health checker, subscription); the idle upstream pool
 *    slot idle[w] belongs to worker w alone.
 *  - Tables are built by the subscription thread only (px_table_build) and
 *    published with px_table_publish(); readers take a reference with
 *    px_table_acquire() and drop it with px_table_release().
 */
#ifndef SL_PROXY_TABLE_H
#define SL_PROXY_TABLE_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PX_MAX_WORKERS 64
#define PX_MAX_FWD 5
#define PX_MAX_CODES 16

enum px_health_state { PX_H_INITIAL, PX_H_HEALTHY, PX_H_UNHEALTHY, PX_H_UNAVAILABLE };
enum px_reason { PX_R_NONE, PX_R_REGISTERING, PX_R_TIMEOUT, PX_R_MISMATCH, PX_R_FAILED };
enum px_algo { PX_ALGO_RR, PX_ALGO_LOR, PX_ALGO_WRANDOM };
enum px_cond_type { PX_C_HOST, PX_C_PATH, PX_C_HEADER, PX_C_METHOD, PX_C_QUERY, PX_C_SOURCE };
enum px_act_type { PX_A_NONE, PX_A_FORWARD, PX_A_REDIRECT, PX_A_FIXED };

struct px_up; /* an upstream connection, conn.c */

struct px_target {
    char key[256];   /* "<tg id>|<Id>|<Port>" */
    char host[64];   /* numeric address text */
    int port;
    struct sockaddr_storage addr;
    socklen_t addrlen; /* 0: not routable (e.g. an instance id) */
    atomic_int refs;
    atomic_int draining;
    atomic_int live;   /* still present in the model */
    atomic_int health; /* enum px_health_state */
    atomic_int reason; /* enum px_reason */
    atomic_int status; /* last health-check HTTP status, for descriptions */
    atomic_uint_fast64_t eligible_ms; /* became routable (slow start origin) */
    atomic_long in_flight;
    atomic_long conns;
    struct px_up *idle[PX_MAX_WORKERS]; /* per-worker idle keep-alive pool */
    void *hc;                           /* health checker private */
    struct px_target *hnext;            /* registry chain */
};

struct px_tg {
    const char *id;
    const char *arn;
    int algo;
    uint32_t slow_start_ms;
    struct px_target **targets;
    int ntargets;
    atomic_uint rr;
    /* health check */
    int hc_enabled;
    int hc_interval_ms, hc_timeout_ms, hc_healthy, hc_unhealthy;
    int hc_port; /* 0: traffic port */
    const char *hc_path;
    int ncodes;
    struct { int lo, hi; } codes[PX_MAX_CODES];
};

struct px_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int bits;
};

struct px_cond {
    int type;
    const char *name; /* http-header name */
    int nvals;
    const char **vals;
    const char **keys;     /* query-string: key per value, NULL = any key */
    struct px_cidr *cidrs; /* source-ip */
};

struct px_action {
    int type;
    int nfwd;
    int total_weight;
    struct { struct px_tg *tg; int weight; } fwd[PX_MAX_FWD];
    int code; /* redirect 301/302, fixed-response status */
    const char *proto, *host, *port, *path, *query; /* redirect templates */
    const char *ctype, *body;                        /* fixed-response */
};

struct px_rule {
    int prio; /* default rule: INT32_MAX */
    int nconds;
    struct px_cond *conds;
    struct px_action act;
};

struct px_listener {
    const char *id;
    const char *lb_id;
    int port;
    int internet; /* scheme internet-facing */
    int https;
    int idle_timeout_s;
    int nrules;
    struct px_rule *rules; /* priority order, default last */
};

struct px_arena_chunk;

struct px_table {
    atomic_int refs;
    uint64_t rev;
    int nlisteners;
    struct px_listener *listeners;
    int ntgs;
    struct px_tg *tgs;
    int ntargets;
    struct px_target **targets; /* every target, one reference each, sorted by key */
    struct px_tg **by_arn;      /* the groups sorted by ARN (lookups while building) */
    struct px_arena_chunk *arena;
};

/* ---- target registry (one per process) ---- */

struct px_reg;

int px_reg_new(struct px_reg **out);
void px_reg_free(struct px_reg *reg);
/* The target for <key>, created (health initial) if absent; new reference.
 * Subscription thread only. */
struct px_target *px_reg_get(struct px_reg *reg, const char *key, const char *id, int port);
/* Mark every registered target not in <keep> (a JSON object keyed by target
 * key) as dead and drop the registry's reference. */
void px_reg_sweep(struct px_reg *reg, json_t *keep);

/* Thread-safe reference counting; the last release frees the record (its
 * idle pools must be empty by then). */
void px_target_ref(struct px_target *t);
void px_target_release(struct px_target *t);

/* ---- tables ---- */

/* Build a table from <model> ({"lb":{id:obj},"listener":...,"rule":...,
 * "tg":...,"target":...}, borrowed) at revision <rev>.  Targets are looked
 * up in <reg> and their draining flag updated.  Returns the table with one
 * reference, or NULL on allocation failure. */
struct px_table *px_table_build(json_t *model, uint64_t rev, struct px_reg *reg);
void px_table_release(struct px_table *t);

/* Make <t> current (steals the caller's reference); wakes nobody - the
 * caller does.  px_table_acquire() returns the current table with a new
 * reference (NULL before the first publish); px_table_generation() changes on
 * every publish and is cheap to poll. */
void px_table_publish(struct px_table *t);
struct px_table *px_table_acquire(void);
unsigned px_table_generation(void);

/* Lookups on an acquired table (borrowed pointers, valid while held). */
const struct px_listener *px_table_listener(const struct px_table *t, const char *id);
const struct px_tg *px_table_tg(const struct px_table *t, const char *id);

/* Arena helpers used by the builder (exposed for tests). */
void *px_table_alloc(struct px_table *t, size_t n);
const char *px_table_strdup(struct px_table *t, const char *s);

#endif
