/*
 * feed.h - the names of the data-plane feed, shared by its encoder in
 * sluiced (server/feed.h) and its decoder in sluice-proxy (proxy/decode.h).
 *
 * The feed is GET /v1/dataplane/snapshot and the NDJSON records of
 * GET /v1/dataplane/watch?since=REV; openapi/openapi.yaml documents every
 * member (components/schemas/Feed*).
 *
 * Caveats:
 *  - FEED_VERSION changes when a member changes meaning or a required member
 *    is added or removed; a decoder refuses every other version.  Within a
 *    version, members may be added: decoders ignore members they do not
 *    know.
 *  - Header-only on purpose: both binaries use it without a shared library.
 */
#ifndef SL_COMMON_FEED_H
#define SL_COMMON_FEED_H

#include <string.h>

#define FEED_VERSION 1

/* The kinds of feed objects.  A snapshot lists them in this order, which is
 * also an order in which every reference points backwards (a listener names
 * its certificates and its load balancer, a rule its listener, a target its
 * group), though a decoder must not rely on it in the watch stream. */
enum feed_kind {
    FEED_CERTIFICATE = 0, /* only those some HTTPS listener uses */
    FEED_LOAD_BALANCER,
    FEED_LISTENER,
    FEED_RULE,
    FEED_TARGET_GROUP,
    FEED_TARGET,
    FEED_NKINDS
};

/* Watch records that are not object changes. */
#define FEED_HEARTBEAT "heartbeat" /* every record up to "rev" has been sent */
#define FEED_GONE "gone"           /* "since" fell behind the change log: re-read the snapshot */

/* Operations of an object change record. */
#define FEED_OP_PUT "put"
#define FEED_OP_DELETE "delete"

/* The "kind" of a record, e.g. "target_group". */
static inline const char *feed_kind_name(enum feed_kind k)
{
    switch (k) {
    case FEED_CERTIFICATE: return "certificate";
    case FEED_LOAD_BALANCER: return "load_balancer";
    case FEED_LISTENER: return "listener";
    case FEED_RULE: return "rule";
    case FEED_TARGET_GROUP: return "target_group";
    case FEED_TARGET: return "target";
    case FEED_NKINDS: break;
    }
    return "";
}

/* The snapshot member listing objects of kind <k>, e.g. "target_groups". */
static inline const char *feed_kind_plural(enum feed_kind k)
{
    switch (k) {
    case FEED_CERTIFICATE: return "certificates";
    case FEED_LOAD_BALANCER: return "load_balancers";
    case FEED_LISTENER: return "listeners";
    case FEED_RULE: return "rules";
    case FEED_TARGET_GROUP: return "target_groups";
    case FEED_TARGET: return "targets";
    case FEED_NKINDS: break;
    }
    return "";
}

/* The kind named <s> (a record's "kind"), or -1 when <s> names none. */
static inline int feed_kind_parse(const char *s)
{
    int k;

    for (k = 0; s && k < FEED_NKINDS; k++)
        if (strcmp(s, feed_kind_name((enum feed_kind)k)) == 0)
            return k;
    return -1;
}

#endif
