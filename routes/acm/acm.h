/*
 * acm.h - the ACM domain: certificates as typed functions over a store
 * transaction (ImportCertificate, RequestCertificate, DescribeCertificate,
 * ListCertificates, GetCertificate, DeleteCertificate, the tag calls), and
 * what the ELBv2 domain asks of it (does a certificate exist, who uses it).
 *
 * Caveats:
 * - Writers run inside a store_write() callback (see elbv2.h): no blocking.
 *   PEM parsing (pem.h) and key generation (ca.h) happen before, on the
 *   caller's thread; the writers take their results.
 * - A certificate is a K_CERT object keyed by the UUID of its ARN
 *   (arn:aws:acm:REGION:ACCOUNT:certificate/UUID): the CertificateDetail
 *   members plus "id", "arn", "Tags", and the internal "_certificate_pem",
 *   "_chain_pem", "_private_key_pem" (PKCS#8) and "_in_use_by" (the ARNs of
 *   the listeners using it).  No public view carries an '_' member: the
 *   private key leaves the store only through the data-plane feed, whose
 *   routes require the data plane's credentials.  The store's files are
 *   0600 (store.c), so only sluiced's user reads a key at rest.
 * - Every change of "_in_use_by" stores the certificate again: its change
 *   record is what tells the feed to send (or withdraw) it.
 * - Errors carry ACM's codes (ValidationException, ResourceNotFoundException,
 *   InvalidArnException, ResourceInUseException, ...), HTTP 400.
 */
#ifndef SL_ROUTES_ACM_ACM_H
#define SL_ROUTES_ACM_ACM_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "routes/acm/pem.h"
#include "store/store.h"

#define K_CERT "acm_cert"
#define ACM_ID_MAX 64
#define ACM_ARN_MAX 2048
#define ACM_TAGS_MAX 50
#define ACM_LIST_MAX 1000

struct acm_ca;

/* Where a call comes from.  Borrowed; <ca> may be NULL (RequestCertificate
 * then fails with a 500). */
struct acm_env {
    const char *region;
    const char *account;
    const struct acm_ca *ca;
};

struct acm_tag {
    const char *key;
    const char *value; /* NULL: none given */
};

/* The id of certificate ARN <arn> into <id>: SL_OK, or SL_ERR with a 400
 * InvalidArnException when <arn> is not a certificate ARN.  Pure. */
int acm_arn_id(const char *arn, char id[ACM_ID_MAX], struct sl_err *err);

/* Tag keys and values as ACM takes them: keys 1-128, values 0-256
 * characters of letters, digits, spaces and _.:/=+-@, no "aws:" keys
 * (InvalidTagException), at most ACM_TAGS_MAX (TooManyTagsException).
 * Pure. */
int acm_tags_check(const struct acm_tag *tags, size_t n, struct sl_err *err);

/* A domain name as RequestCertificate takes it: 1-253 characters, labels
 * of letters, digits and hyphens, an optional leading "*." (ValidationException
 * naming <member> otherwise).  Pure. */
int acm_domain_check(const char *name, const char *member, struct sl_err *err);

/* ImportCertificate of <p> (parsed with its key): a new certificate, or,
 * with <arn>, a re-import that replaces the certificate, chain and key of
 * that IMPORTED certificate and keeps its ARN, tags and users (whose
 * proxies then rotate to it).  Tags only on a new one.  *arn_out: the ARN
 * (new string reference).  Writers. */
int acm_import(struct store_txn *txn, const struct acm_env *env, const char *arn,
               const struct acm_pem *p, const struct acm_tag *tags, size_t ntags,
               json_t **arn_out, struct sl_err *err);

/* RequestCertificate's result: <p> (parsed from what the local authority
 * issued, with its key), how it was validated, and the idempotency token
 * (NULL: none).  A token seen in the last hour answers its ARN and stores
 * nothing.  *arn_out as acm_import().  Writers. */
struct acm_request {
    const struct acm_pem *p;
    const char *validation_method; /* "DNS" or "EMAIL" */
    const char *const *validation_domains; /* per p->sans[i]; NULL entries: the name itself */
    const char *ct_logging;        /* "ENABLED" or "DISABLED" */
    const char *idempotency_token;
    const struct acm_tag *tags;
    size_t ntags;
};
int acm_request_store(struct store_txn *txn, const struct acm_env *env,
                      const struct acm_request *r, json_t **arn_out, struct sl_err *err);

/* The ARN an idempotency token of the last hour stands for (new string
 * reference), or NULL. */
json_t *acm_idempotent_arn(struct store_txn *txn, const char *token);

/* DescribeCertificate: *out the CertificateDetail (new reference). */
int acm_describe(struct store_txn *txn, const char *arn, time_t now, json_t **out,
                 struct sl_err *err);

/* ListCertificates' filters.  Unset lists are NULL/0. */
struct acm_list_query {
    const char *const *statuses;   size_t nstatuses;
    const char *const *key_types;  size_t nkey_types; /* 0: RSA_1024 and RSA_2048, as ACM */
    const char *const *key_usages; size_t nkey_usages;
    const char *const *ext_key_usages; size_t next_key_usages;
    const char *export_option;     /* NULL, "ENABLED" or "DISABLED" */
    const char *managed_by;        /* NULL or "CLOUDFRONT" */
    int descending;                /* SortOrder (SortBy CREATED_AT) */
};

/* ListCertificates: *out every CertificateSummary that passes <q>, in
 * creation order (new array; the door pages it). */
int acm_list(struct store_txn *txn, const struct acm_list_query *q, time_t now, json_t **out,
             struct sl_err *err);

/* GetCertificate: *out {Certificate, CertificateChain} (no key, ever). */
int acm_get(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err);

/* DeleteCertificate: ResourceInUseException while a listener uses it.
 * Writers. */
int acm_delete(struct store_txn *txn, const char *arn, struct sl_err *err);

/* AddTagsToCertificate (a key given again takes the new value),
 * RemoveTagsFromCertificate (a tag given with a value is removed only when
 * the value matches), ListTagsForCertificate (*out {Tags}).  Writers, but
 * the last. */
int acm_tags_add(struct store_txn *txn, const char *arn, const struct acm_tag *tags, size_t n,
                 struct sl_err *err);
int acm_tags_remove(struct store_txn *txn, const char *arn, const struct acm_tag *tags,
                    size_t n, struct sl_err *err);
int acm_tags_list(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err);

/* ---- for the ELBv2 domain ---- */

/* Non-zero when certificate <arn> is stored. */
int acm_cert_exists(struct store_txn *txn, const char *arn);

/* Record that <user_arn> (a listener) uses (<in_use> non-zero) or no longer
 * uses certificate <arn>.  A certificate that is not stored is SL_ENOTFOUND
 * when it is to be used and ignored when released.  Storing the change
 * sends the certificate to the data plane, or withdraws it.  Writers. */
int acm_cert_use(struct store_txn *txn, const char *arn, const char *user_arn, int in_use,
                 struct sl_err *err);

#endif
