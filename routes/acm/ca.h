/*
 * ca.h - sluiced's local certificate authority: what RequestCertificate
 * issues from at once (no AWS tool offers this locally).
 *
 * Caveats:
 * - The authority lives in <data dir>/ca/: ca.pem (its self-signed root,
 *   served at GET /v1/ca.pem so users can trust it) and ca.key (its EC
 *   P-256 key, mode 0600 in a 0700 directory: only sluiced's user reads
 *   it).  Created on the first start, reused on every later one; a
 *   directory whose files are damaged is refused, never silently replaced
 *   (certificates already issued would stop verifying).
 * - Issuing generates a key pair (RSA up to 4096 bits takes a while):
 *   call acm_ca_issue() on the request's thread, never inside a store
 *   transaction.  Thread-safe once opened.
 */
#ifndef SL_ROUTES_ACM_CA_H
#define SL_ROUTES_ACM_CA_H

#include <stddef.h>

#include "common/err.h"

struct acm_ca;

/* Open the authority in <data_dir>/ca, creating it when absent.  *out
 * owns it (acm_ca_free()); SL_ERR with a message in <err> otherwise. */
int acm_ca_open(const char *data_dir, struct acm_ca **out, struct sl_err *err);

/* NULL is a no-op. */
void acm_ca_free(struct acm_ca *ca);

/* The root certificate as PEM, borrowed for the authority's life. */
const char *acm_ca_pem(const struct acm_ca *ca);

/* A certificate issued now for <domain> plus <sans> (<nsans> DNS names;
 * wildcards such as "*.example.com" allowed), valid 395 days, with a new
 * key of <key_algorithm> (ACM's names: "RSA_2048", "EC_prime256v1", ...).
 * *cert_pem and *key_pem (PKCS#8) are new strings the caller frees.
 * SL_ERR with a 400 ValidationException for an algorithm ACM cannot issue,
 * 500 for an OpenSSL failure. */
int acm_ca_issue(const struct acm_ca *ca, const char *domain, const char *const *sans,
                 size_t nsans, const char *key_algorithm, char **cert_pem, char **key_pem,
                 struct sl_err *err);

#endif
