/*
 * listener_tls.h - what HTTPS adds to a listener: its certificates (the
 * default one, Certificates[0], and AddListenerCertificates' others, the
 * SNI candidates), SslPolicy (common/tls_policy.h), AlpnPolicy, and
 * DescribeSSLPolicies.
 *
 * Caveats:
 * - A listener's other certificates are its "_extra_certs" member (ARNs);
 *   DescribeListeners shows only the default one, as AWS does, and
 *   DescribeListenerCertificates all of them with IsDefault.
 * - Every certificate a listener names must be in the ACM store
 *   (CertificateNotFound otherwise), and each use is recorded on the
 *   certificate (acm_cert_use()), which is what DescribeCertificate's
 *   InUseBy, DeleteCertificate's ResourceInUseException and the data-plane
 *   feed read.  elb_listener_certs_sync() keeps that record in step with
 *   every write of a listener; call it before storing the listener, so the
 *   certificate's feed record comes before the listener's.
 * - AlpnPolicy is stored as AWS shows it, a one-element list.
 */
#ifndef SL_ROUTES_ELBV2_LISTENER_TLS_H
#define SL_ROUTES_ELBV2_LISTENER_TLS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

#define ELB_LISTENER_CERTS_MAX 25 /* besides the default, per listener */

/* Wire names of AlpnPolicy, NULL-terminated. */
extern const char *const elb_alpn_policy_names[];

/* The TLS members of a listener with protocol <protocol> ("HTTP",
 * "HTTPS"): <ssl_policy> (may be NULL) must name a policy of
 * tls_policy.h (SSLPolicyNotFound), <alpn> (may be NULL) one of
 * elb_alpn_policy_names; neither is taken by an HTTP listener
 * (ValidationError).  Pure. */
int elb_listener_tls_check(const char *protocol, const char *ssl_policy, const char *alpn,
                           struct sl_err *err);

/* A redirect action of <actions> (normalized) on a listener of <protocol>:
 * AWS refuses HTTPS -> HTTP (InvalidLoadBalancerAction).  Pure. */
int elb_redirect_protocol_check(json_t *actions, const char *protocol, struct sl_err *err);

/* Record on each certificate that listener <arn> now uses it or no longer
 * does: the certificates of <before> (NULL: a new listener) against those
 * of <after> (NULL: deleted).  CertificateNotFound for one of <after>'s
 * that is not stored.  Writers. */
int elb_listener_certs_sync(struct store_txn *txn, const char *arn, json_t *before,
                            json_t *after, struct sl_err *err);

/* AddListenerCertificates / RemoveListenerCertificates (the default one
 * cannot be removed: OperationNotPermitted).  *out: the listener's
 * certificates as [{CertificateArn, IsDefault}] - Add returns the ones
 * added, as AWS does.  Writers. */
int elb_listener_certs_add(struct store_txn *txn, const char *arn, const char *const *certs,
                           size_t n, json_t **out, struct sl_err *err);
int elb_listener_certs_remove(struct store_txn *txn, const char *arn, const char *const *certs,
                              size_t n, struct sl_err *err);

/* DescribeListenerCertificates: *out [{CertificateArn, IsDefault}], the
 * default first. */
int elb_listener_certs_describe(struct store_txn *txn, const char *arn, json_t **out,
                                struct sl_err *err);

/* DescribeSSLPolicies: the policies named (all when <n> is 0:
 * SSLPolicyNotFound for an unknown name) that support <lb_type> (NULL:
 * any; "application", "network" or "gateway").  *out the list.  Pure. */
int elb_ssl_policies_describe(const char *const *names, size_t n, const char *lb_type,
                              json_t **out, struct sl_err *err);

#endif
