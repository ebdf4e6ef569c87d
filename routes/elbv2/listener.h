/*
 * listener.h - listeners: CreateListener, DescribeListeners, ModifyListener,
 * DeleteListener.
 *
 * Caveats:
 * - A listener owns its default rule (a K_RULE object with IsDefault true
 *   and Priority "default"), created and deleted with it; its
 *   DefaultActions and the default rule's Actions are always the same list.
 * - Only HTTP and HTTPS listeners exist (Application Load Balancers); an
 *   HTTPS listener has exactly one default certificate, which must be in
 *   the ACM store; its TLS members are listener_tls.h's.
 * - Results are AWS Listener objects (new references).
 * - Its attributes (listener_attrs.c) are stored as its "Attributes" member
 *   and survive ModifyListener; a protocol change keeps only the keys the
 *   new protocol has when they are next described.
 */
#ifndef SL_ROUTES_ELBV2_LISTENER_H
#define SL_ROUTES_ELBV2_LISTENER_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

#define ELB_LISTENERS_PER_LB_MAX 50

/* Wire names of enum elb_listener_protocol, NULL-terminated. */
extern const char *const elb_listener_protocol_names[];

enum elb_listener_protocol { ELB_LP_HTTP, ELB_LP_HTTPS, ELB_LP_TCP, ELB_LP_TLS, ELB_LP_UDP,
                             ELB_LP_TCP_UDP, ELB_LP_GENEVE, ELB_LP_QUIC, ELB_LP_TCP_QUIC };

struct elb_listener_spec {
    const char *lb_arn;
    enum elb_listener_protocol protocol; /* HTTP or HTTPS */
    long port;                           /* 1-65535 */
    const char *ssl_policy;              /* HTTPS; NULL: ELBSecurityPolicy-2016-08 */
    const char *alpn_policy;             /* HTTPS; NULL: none */
    const char *const *certs;            /* certificate ARNs (HTTPS: exactly one) */
    size_t ncerts;
    json_t *actions;                     /* DefaultActions, normalized */
    const char *id;                      /* REST id; NULL: a random one */
    const struct elb_kv *tags;
    size_t ntags;
};

/* Protocol, port, certificates, SslPolicy, AlpnPolicy, id and tags.
 * Pure. */
int elb_listener_check(const struct elb_listener_spec *s, struct sl_err *err);

/* CreateListener (<s> checked): the same port with the same settings
 * answers the existing listener, as on AWS.  *out: the listener.
 * Writers. */
int elb_listener_create(struct store_txn *txn, const struct elb_env *env,
                        const struct elb_listener_spec *s, json_t **out, struct sl_err *err);

/* ModifyListener: what to change; everything else is kept. */
struct elb_listener_change {
    const char *arn;
    int set_protocol;
    enum elb_listener_protocol protocol;
    long port;                           /* 0: keep */
    const char *ssl_policy;              /* NULL: keep */
    const char *alpn_policy;             /* NULL: keep */
    int set_certs;
    const char *const *certs;
    size_t ncerts;
    json_t *actions;                     /* normalized; NULL: keep */
};

/* The protocol and port of <c>.  Pure. */
int elb_listener_change_check(const struct elb_listener_change *c, struct sl_err *err);

/* ModifyListener (<c> checked): HTTPS to HTTP drops the certificates,
 * SSL and ALPN policies, as on AWS.  *out: the listener.  Writers. */
int elb_listener_modify(struct store_txn *txn, const struct elb_listener_change *c, json_t **out,
                        struct sl_err *err);

/* DeleteListener with its rules.  Writers. */
int elb_listener_delete(struct store_txn *txn, const char *arn, struct sl_err *err);

/* DescribeListeners: those of <lb_arn> (by port), or <arns>.  *out: the
 * list. */
int elb_listener_describe(struct store_txn *txn, const char *lb_arn, const char *const *arns,
                          size_t narns, json_t **out, struct sl_err *err);

/* DescribeListenerAttributes: *out the [{Key,Value}] list of the keys its
 * protocol has (attrs.h). */
int elb_listener_attrs(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err);

/* ModifyListenerAttributes: each change checked (attrs.h).  *out: the whole
 * list.  Writers. */
int elb_listener_attrs_modify(struct store_txn *txn, const char *arn, const struct elb_kv *kv,
                              size_t n, json_t **out, struct sl_err *err);

/* Delete listener <listener_id> with all its rules and its port entry; a
 * missing one is not an error.  For lb.c.  Writers. */
int elb_listener_remove(struct store_txn *txn, const char *listener_id, struct sl_err *err);

#endif
