/*
 * decode.h - the proxy's decoder of the data-plane feed (common/feed.h,
 * openapi.yaml components/schemas/Feed*): a snapshot document or a watch
 * line into typed structs.  Nothing else in the proxy reads the feed's
 * JSON.
 *
 * Caveats:
 *  - Untrusted input as far as this code is concerned (it has a fuzz target,
 *    tests/fuzz/fuzz_feed.c): every member is type- and range-checked, and a
 *    bad object fails whole, with the reason in <err>, never half-filled.
 *  - A document or record of a feed_version other than FEED_VERSION fails
 *    with SL_EINVAL ("feed_version N: ..."); members this version does not
 *    know are ignored, as the feed's compatibility rule allows.  A record of
 *    a kind this version does not know decodes as PXD_SKIP.
 *  - A decoded rule (struct px_rule_def) is heap-allocated with one
 *    reference, a certificate's PEM texts are heap strings; everything
 *    else is plain values.  pxd_obj_clear() releases either.
 *  - A certificate's PEM texts are only bounded here; parsing them is the
 *    TLS module's (tls.h), so one bad certificate cannot fail a snapshot.
 *  - Members added to feed_version 1 later (certificates, a listener's
 *    TLS members, a load balancer's http2_enabled) may be absent in a
 *    control plane's feed that predates them: absent means "none" or the
 *    AWS default.
 *  - Thread-safe: no state.
 */
#ifndef SL_PROXY_DECODE_H
#define SL_PROXY_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/feed.h"
#include "common/logdest.h"
#include "proxy/table.h"

/* Where a load balancer's access or connection logs go (feed members
 * "access_logs" and "connection_logs"; both checked by common/logdest.h). */
struct pxd_logs {
    int enabled;
    char bucket[LOGDEST_BUCKET_MAX + 1];
    char prefix[LOGDEST_PREFIX_MAX + 1];
};
struct tls_policy;

struct pxd_lb {
    char id[PX_ID_MAX];
    char arn[PX_ARN_MAX];
    int internet;
    int idle_timeout_s;
    int drop_invalid; /* drop_invalid_header_fields */
    int desync_mode;  /* enum px_desync_mode (desync.h) */
    struct pxd_logs access_logs, connection_logs;
    int keep_alive_s;
    int xff_mode; /* enum px_xff */
    int xff_port;
    int preserve_host;
    int http2;       /* routing.http2.enabled (absent: true) */
    int tls_headers; /* routing.http.x_amzn_tls_version_and_cipher_suite.enabled */
};

/* A certificate some HTTPS listener uses; the PEM texts are owned. */
struct pxd_cert {
    char id[PX_ID_MAX];
    char arn[PX_ARN_MAX];
    char *cert_pem;  /* the leaf */
    char *chain_pem; /* intermediates, "" when none */
    char *key_pem;
};

struct pxd_listener {
    char id[PX_ID_MAX];
    char arn[PX_ARN_MAX];
    char lb_id[PX_ID_MAX];
    int port;
    int https;
    int server_header;
    /* HTTPS only */
    const struct tls_policy *policy; /* static data (common/tls_policy.h) */
    int alpn;                        /* enum px_alpn */
    int ncerts;
    struct {
        char id[PX_ID_MAX];
        int is_default;
    } certs[PX_MAX_CERTS]; /* the default first */
};

struct pxd_target {
    char id[PX_KEY_MAX];
    char tg_id[PX_ID_MAX];
    char address[64];
    int port;
    int draining;
};

struct pxd_obj {
    enum feed_kind kind;
    union {
        struct pxd_cert cert; /* owns its PEM texts */
        struct pxd_lb lb;
        struct pxd_listener listener;
        struct px_rule_def *rule; /* owned (one reference) */
        struct px_tg_conf tg;
        struct pxd_target target;
    } u;
};

enum pxd_type { PXD_PUT, PXD_DELETE, PXD_HEARTBEAT, PXD_GONE, PXD_SKIP };

struct pxd_record {
    enum pxd_type type;
    uint64_t rev;
    enum feed_kind kind;  /* PXD_PUT, PXD_DELETE */
    char id[PX_KEY_MAX];  /* PXD_PUT, PXD_DELETE */
    struct pxd_obj obj;   /* PXD_PUT */
};

/* Decode one watch line <line>[0..<n>) into <out>.  SL_OK, or SL_EINVAL
 * with <err> filled (out->obj holds nothing to clear then). */
int pxd_record(const char *line, size_t n, struct pxd_record *out, struct sl_err *err);

/* The object id of the record for messages (may be empty). */
const char *pxd_obj_id(const struct pxd_obj *o);

/* Release what <o> owns (a rule's reference); <o> holds nothing after. */
void pxd_obj_clear(struct pxd_obj *o);

/* Called for each object of a snapshot; it takes <o> (clear it or keep
 * what it owns).  A non-zero return stops the walk and is returned. */
typedef int (*pxd_snapshot_fn)(struct pxd_obj *o, void *arg);

/* Decode the snapshot document <body>[0..<n>): *rev gets its revision and
 * <cb> each object, kind by kind in common/feed.h's order.  All objects are
 * decoded before the first call, so a bad one fails the whole snapshot
 * (SL_EINVAL, <err> filled) with nothing handed out.  SL_ENOMEM likewise. */
int pxd_snapshot(const char *body, size_t n, uint64_t *rev, pxd_snapshot_fn cb, void *arg,
                 struct sl_err *err);

#endif
