/*
 * acm_actions.h - the ACM wire actions (JSON 1.1,
 * X-Amz-Target: CertificateManager.<Op>): decode the request into the ACM
 * domain's typed arguments, run it in one store transaction, encode.
 *
 * Caveats:
 * - Blob members (Certificate, PrivateKey, CertificateChain) arrive
 *   base64-encoded, as botocore sends them; decoded keys are wiped before
 *   their buffers are freed.
 * - Errors carry ACM's codes: a member that fails a check is a
 *   ValidationException (the ELBv2 accessors' ValidationError is renamed),
 *   a member sluice does not serve is refused with the reason.
 */
#ifndef SL_ROUTES_API_ACM_ACTIONS_H
#define SL_ROUTES_API_ACM_ACTIONS_H

#include "routes/api/api.h"

#define ACM_TARGET_PREFIX "CertificateManager."

/* The ACM action table, {NULL}-terminated. */
extern const struct api_action api_acm_actions[];

/* ImportCertificate and RequestCertificate, also for the REST door:
 * {CertificateArn} (new reference) or NULL with <err>. */
json_t *api_acm_import_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err);
json_t *api_acm_request_certificate(const struct api_ctx *ctx, json_t *req, struct sl_err *err);

/* GET /v1/ca.pem and the /v1/certificates collection of the REST door:
 * non-zero when <path> is one of them and <out> was filled. */
struct front_request;
struct front_reply;
int api_acm_rest(const struct api_ctx *ctx, const struct front_request *req,
                 struct front_reply *out);

#endif
