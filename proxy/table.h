/*
 * table.h - the data plane's shared types: the immutable routing table the
 * workers read, its parts, and the per-target runtime record that outlives
 * tables.
 *
 * Caveats:
 *  - A px_table and every part it points to are immutable once published.
 *    Parts are shared between successive tables and reference counted: a
 *    table holds one reference on each listener and target group it names, a
 *    group one on each of its targets.  A change rebuilds only the parts it
 *    touches (proxy/model.h); registering a target makes one new group and
 *    a new table of pointers, nothing else.
 *  - Rules name target groups by slot: table->slots[slot] is the group (NULL:
 *    none), so a group can be rebuilt without rebuilding the rules that
 *    forward to it.  A slot keeps its number while anything refers to it.
 *  - px_target counters and health fields are atomics written by several
 *    threads (workers, health checker, subscription); the idle upstream pool
 *    slot idle[w] belongs to worker w alone.
 *  - Tables are built by the subscription thread only and published with
 *    px_table_publish(); readers take a reference with px_table_acquire()
 *    and drop it with px_table_release(), from any thread.
 */
#ifndef SL_PROXY_TABLE_H
#define SL_PROXY_TABLE_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/metrics.h"
#include "proxy/rindex.h"

#define PX_MAX_WORKERS 64
#define PX_MAX_FWD 5
#define PX_MAX_CODES 16
#define PX_ID_MAX 129   /* REST ids: 1-128 bytes */
#define PX_KEY_MAX 256  /* target ids "<tg id>|<Id>|<Port>" */
#define PX_ARN_MAX 512
#define PX_PATH_MAX 1025
#define PX_MAX_CERTS 64 /* certificates per HTTPS listener, the default included */

enum px_health_state { PX_H_INITIAL, PX_H_HEALTHY, PX_H_UNHEALTHY, PX_H_UNAVAILABLE };
enum px_reason { PX_R_NONE, PX_R_REGISTERING, PX_R_TIMEOUT, PX_R_MISMATCH, PX_R_FAILED };
enum px_algo { PX_ALGO_RR, PX_ALGO_LOR, PX_ALGO_WRANDOM };
enum px_cond_type { PX_C_HOST, PX_C_PATH, PX_C_HEADER, PX_C_METHOD, PX_C_QUERY, PX_C_SOURCE };
enum px_act_type { PX_A_NONE, PX_A_FORWARD, PX_A_REDIRECT, PX_A_FIXED };
enum px_xff { PX_XFF_APPEND, PX_XFF_PRESERVE, PX_XFF_REMOVE };
enum px_stick_type { PX_STICK_NONE, PX_STICK_LB, PX_STICK_APP };
#define PX_COOKIE_NAME_MAX 256
#define PX_STICK_KEY_LEN 32
/* A listener's AlpnPolicy, in the feed's spelling order. */
enum px_alpn { PX_ALPN_NONE, PX_ALPN_HTTP1ONLY, PX_ALPN_HTTP2ONLY, PX_ALPN_HTTP2OPTIONAL,
               PX_ALPN_HTTP2PREFERRED };

struct px_up;    /* an upstream connection, upstream.h */
struct px_arena; /* arena.h */
struct pxa_sink; /* an access log destination, accesslog.h */
struct px_up;      /* an upstream connection, upstream.h */
struct px_arena;   /* arena.h */
struct px_tls_srv; /* an HTTPS listener's TLS context, tls.h */

struct px_target {
    char key[PX_KEY_MAX]; /* the feed id "<tg id>|<Id>|<Port>" */
    char host[64];        /* numeric address text */
    int port;
    struct sockaddr_storage addr;
    socklen_t addrlen; /* 0: not routable (e.g. an instance id) */
    atomic_int refs;
    atomic_int draining;
    atomic_int https;  /* its group's Protocol is HTTPS (set when the group is built) */
    atomic_int live;   /* still present in the model */
    atomic_int health; /* enum px_health_state */
    atomic_int reason; /* enum px_reason */
    atomic_int status; /* last health-check HTTP status, for descriptions */
    atomic_uint_fast64_t eligible_ms; /* became routable (slow start origin) */
    atomic_long in_flight;
    atomic_long conns;
    struct px_up *idle[PX_MAX_WORKERS]; /* per-worker idle keep-alive pool */
    void *hc;                           /* health checker private */
    struct pxm_target m;                /* counters, metrics.h */
    _Atomic(void *) tls_sess;           /* HTTPS: a session to resume (tls.h) */
};

/* A target group's settings as the feed gives them. */
struct px_tg_conf {
    char id[PX_ID_MAX];
    char arn[PX_ARN_MAX];
    int https; /* Protocol HTTPS: TLS to the targets, unverified (as ALB) */
    int algo;
    uint32_t slow_start_ms;
    int hc_enabled;
    int hc_proto; /* 0 HTTP, 1 HTTPS, 2 TCP */
    int hc_interval_ms, hc_timeout_ms, hc_healthy, hc_unhealthy;
    int hc_port; /* 0: traffic port */
    char hc_path[PX_PATH_MAX];
    int ncodes;
    struct {
        int lo, hi;
    } codes[PX_MAX_CODES];
    /* stickiness (proxy/sticky.h) */
    int stick; /* enum px_stick_type */
    int stick_lb_s, stick_app_s;     /* AWSALB lifetime; AWSALBAPP-0 hold after the app's cookie */
    char stick_app_name[PX_COOKIE_NAME_MAX];
    unsigned char stick_key[PX_STICK_KEY_LEN]; /* the cookies' HMAC key, from the feed */
};

struct px_tg {
    atomic_int refs;
    struct px_tg_conf conf;
    int slot;
    int ntargets;
    struct px_target **targets; /* sorted by key, one reference each */
    unsigned char (*stick_ids)[8]; /* per target: its id in cookies (sticky.h); NULL: none */
    atomic_uint rr;
};

struct px_cidr {
    int family; /* AF_INET or AF_INET6; 0: matches nothing */
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
    int tg_stick_s; /* > 0: AWSALBTG keeps a client on one group this long */
    struct {
        const char *arn;
        int weight;
        int slot; /* table->slots[slot] */
    } fwd[PX_MAX_FWD];
    int code;                                        /* redirect 301/302, fixed-response status */
    const char *proto, *host, *port, *path, *query; /* redirect templates */
    const char *ctype, *body;                        /* fixed-response */
};

/* A decoded rule, immutable and reference counted: the model holds one
 * reference, each listener built from it another. */
struct px_rule_def {
    atomic_int refs;
    char id[PX_ID_MAX];
    char listener_id[PX_ID_MAX];
    int prio; /* default rule: INT32_MAX */
    int is_default;
    int nconds;
    struct px_cond *conds;
    struct px_action act; /* the terminal action; fwd slots set by the model */
    struct px_arena *arena;
};

struct px_rule {
    int prio; /* default rule: INT32_MAX */
    int nconds;
    const struct px_cond *conds;
    const struct px_action *act;
    const struct px_rule_def *def; /* holds conds and act */
};

struct px_listener {
    atomic_int refs;
    char id[PX_ID_MAX];
    char lb_id[PX_ID_MAX];
    int port;
    int internet; /* scheme internet-facing */
    int https;
    struct px_tls_srv *tls; /* HTTPS: one reference; NULL: not served */
    int tls_headers;        /* x-amzn-tls-version / -cipher-suite to targets */
    int idle_timeout_s;
    int drop_invalid; /* the load balancer's drop_invalid_header_fields */
    int desync_mode;  /* and its desync_mitigation_mode (desync.h) */
    char lb_name[PX_ARN_MAX]; /* "app/NAME/ID": the LoadBalancer dimension */
    char name[PX_ARN_MAX];    /* "app/NAME/ID/LID": its ARN's resource part */
    struct pxm_listener *m;   /* counters, metrics.h (kept by listener id) */
    struct pxa_sink *alog;    /* access logs, NULL when off (accesslog.h) */
    struct pxa_sink *clog;    /* HTTPS: connection logs, NULL when off */
    int keep_alive_s;  /* client_keep_alive.seconds */
    int xff_mode;      /* enum px_xff */
    int xff_port;      /* the client's port in X-Forwarded-For */
    int preserve_host; /* the Host header as the client sent it */
    int server_header; /* Server on the proxy's own responses */
    int nrules;
    struct px_rule *rules; /* priority order, default last */
    struct px_rindex index;
    struct px_arena *arena;
};

struct px_table {
    atomic_int refs;
    uint64_t rev;
    int nlisteners;
    struct px_listener **listeners; /* sorted by id */
    int nslots;
    struct px_tg **slots; /* by slot; NULL: no such group */
};

/* ---- parts ---- */

/* Thread-safe reference counting; the last release frees the record (its
 * idle pools must be empty by then).  NULL is a no-op. */
void px_target_ref(struct px_target *t);
void px_target_release(struct px_target *t);

/* A new target record for feed id <key> at <address>:<port> (health
 * initial, live, one reference).  NULL on allocation failure. */
struct px_target *px_target_new(const char *key, const char *address, int port);

void px_rule_def_release(struct px_rule_def *d);
void px_tg_release(struct px_tg *g);
void px_listener_release(struct px_listener *l);

/* ---- tables ---- */

/* An empty table at <rev> (one reference) with room for <nlisteners> and
 * <nslots>; NULL on allocation failure.  The builder fills it and takes a
 * reference on each part it stores. */
struct px_table *px_table_new(uint64_t rev, int nlisteners, int nslots);
void px_table_release(struct px_table *t);

/* Make <t> current (steals the caller's reference; NULL clears it); wakes
 * nobody - the caller does.  px_table_acquire() returns the current table
 * with a new reference (NULL before the first publish);
 * px_table_generation() changes on every publish and is cheap to poll. */
void px_table_publish(struct px_table *t);
struct px_table *px_table_acquire(void);
unsigned px_table_generation(void);

/* Lookups on an acquired table (borrowed pointers, valid while held). */
const struct px_listener *px_table_listener(const struct px_table *t, const char *id);
/* By group id: a scan of the slots (tests and diagnostics). */
const struct px_tg *px_table_tg(const struct px_table *t, const char *id);

static inline struct px_tg *px_table_slot(const struct px_table *t, int slot)
{
    return slot >= 0 && slot < t->nslots ? t->slots[slot] : NULL;
}

#endif
