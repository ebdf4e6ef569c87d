/*
 * elbv2_tls_actions.c - the ELBv2 actions of HTTPS listeners:
 * AddListenerCertificates, RemoveListenerCertificates,
 * DescribeListenerCertificates, DescribeSSLPolicies.  The Query door looks
 * them up in api_elb_tls_actions (elbv2_actions.h).
 */
#include <stdlib.h>
#include <string.h>

#include "routes/api/elbv2_actions.h"
#include "routes/elbv2/listener_tls.h"
#include "routes/wire/params.h"

/* Certificates [{CertificateArn}] of <req>: *out (free()) gets *n ARNs. */
static int cert_list(json_t *req, const char ***out, size_t *n, struct sl_err *err)
{
    json_t *list, *c;
    size_t i;

    *out = NULL;
    *n = 0;
    if (p_list(req, "Certificates", P_REQUIRED, 1, 100, &list, err) != SL_OK)
        return SL_ERR;
    if ((*out = calloc(json_array_size(list) + 1, sizeof(**out))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, c)
        if (!json_is_object(c) ||
            p_str(c, "CertificateArn", P_REQUIRED, &(*out)[i], err) != SL_OK ||
            (*out)[i][0] == '\0')
            return err->code[0] ? SL_ERR
                                : p_invalid(err, "Certificates",
                                            "Member must be a list of {CertificateArn}");
    *n = json_array_size(list);
    return SL_OK;
}

struct certs_call {
    const char *arn;
    const char **certs;
    size_t n;
    json_t *out;
};

static int add_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct certs_call *c = arg;

    return elb_listener_certs_add(txn, c->arn, c->certs, c->n, &c->out, err);
}

static int remove_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct certs_call *c = arg;

    return elb_listener_certs_remove(txn, c->arn, c->certs, c->n, err);
}

static int describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct certs_call *c = arg;

    return elb_listener_certs_describe(txn, c->arn, &c->out, err);
}

static json_t *certs_write(const struct api_ctx *ctx, json_t *req, store_write_fn fn,
                           struct sl_err *err)
{
    struct certs_call c = {NULL, NULL, 0, NULL};
    int rc = SL_ERR;

    if (p_str(req, "ListenerArn", P_REQUIRED, &c.arn, err) == SL_OK &&
        cert_list(req, &c.certs, &c.n, err) == SL_OK)
        rc = api_write(ctx, fn, &c, err);
    free(c.certs);
    if (rc != SL_OK)
        return NULL;
    return c.out ? json_pack("{so}", "Certificates", c.out) : json_object();
}

static json_t *add_listener_certificates(const struct api_ctx *ctx, json_t *req,
                                         struct sl_err *err)
{
    return certs_write(ctx, req, add_tx, err);
}

static json_t *remove_listener_certificates(const struct api_ctx *ctx, json_t *req,
                                            struct sl_err *err)
{
    return certs_write(ctx, req, remove_tx, err);
}

static json_t *describe_listener_certificates(const struct api_ctx *ctx, json_t *req,
                                              struct sl_err *err)
{
    struct certs_call c = {NULL, NULL, 0, NULL};
    json_t *page, *next, *res;

    if (p_str(req, "ListenerArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        api_read(ctx, describe_tx, &c, err) != SL_OK)
        return NULL;
    page = api_page(req, c.out, &next, err);
    json_decref(c.out);
    if (page == NULL)
        return NULL;
    res = json_pack("{so}", "Certificates", page);
    if (next)
        json_object_set_new(res, "NextMarker", next);
    return res;
}

static json_t *describe_ssl_policies(const struct api_ctx *ctx, json_t *req,
                                     struct sl_err *err)
{
    const char **names = NULL, *type = NULL;
    json_t *all = NULL, *page, *next, *res = NULL;
    size_t n = 0;

    if (p_strv(req, "Names", P_OPTIONAL, 0, 100, &names, &n, err) == SL_ERR ||
        p_enum(req, "LoadBalancerType", P_OPTIONAL,
               (const char *const[]){"application", "network", "gateway", NULL}, &type,
               err) == SL_ERR ||
        elb_ssl_policies_describe(names, n, type, &all, err) != SL_OK)
        goto out;
    if ((page = api_page(req, all, &next, err)) == NULL)
        goto out;
    res = json_pack("{so}", "SslPolicies", page);
    if (next)
        json_object_set_new(res, "NextMarker", next);
out:
    free(names);
    json_decref(all);
    return res;
}

/* Designated initializers: the table keeps compiling when struct
 * api_action gains members. */
const struct api_action api_elb_tls_actions[] = {
    {.name = "AddListenerCertificates", .fn = add_listener_certificates},
    {.name = "RemoveListenerCertificates", .fn = remove_listener_certificates},
    {.name = "DescribeListenerCertificates", .fn = describe_listener_certificates},
    {.name = "DescribeSSLPolicies", .fn = describe_ssl_policies},
    {.name = NULL},
};
