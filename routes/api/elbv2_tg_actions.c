/*
 * elbv2_tg_actions.c - the ELBv2 target group and target actions:
 * CreateTargetGroup, DescribeTargetGroups, ModifyTargetGroup,
 * DeleteTargetGroup, Describe/ModifyTargetGroupAttributes, RegisterTargets,
 * DeregisterTargets, DescribeTargetHealth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "routes/api/elbv2_actions.h"
#include "routes/wire/params.h"

/* ---- decoders ---- */

static int hc_port(json_t *req, struct elb_hc *hc, struct sl_err *err)
{
    const char *s;
    long n;
    int rc = p_str(req, "HealthCheckPort", P_OPTIONAL, &s, err);

    if (rc == SL_ENOTFOUND)
        return SL_OK;
    if (rc == SL_OK && strcmp(s, "traffic-port") == 0) {
        hc->port = 0;
    } else {
        /* A number, as a string (Query) or a JSON integer (REST). */
        if (p_int(req, "HealthCheckPort", P_REQUIRED, 1, 65535, &n, err) != SL_OK)
            return SL_ERR;
        hc->port = n;
    }
    hc->set |= ELB_HC_PORT;
    return SL_OK;
}

static int hc_int(json_t *req, const char *name, unsigned bit, long min, long max, long *out,
                  unsigned *set, struct sl_err *err)
{
    int rc = p_int(req, name, P_OPTIONAL, min, max, out, err);

    if (rc == SL_OK)
        *set |= bit;
    return rc == SL_ERR ? SL_ERR : SL_OK;
}

int api_elb_hc_decode(json_t *req, struct elb_hc *hc, struct sl_err *err)
{
    json_t *matcher;
    int proto, rc;

    memset(hc, 0, sizeof(*hc));
    if ((rc = p_enum_index(req, "HealthCheckProtocol", P_OPTIONAL, elb_hc_protocol_names, &proto,
                           err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK) {
        hc->protocol = (enum elb_hc_protocol)proto;
        hc->set |= ELB_HC_PROTOCOL;
    }
    if (hc_port(req, hc, err) != SL_OK)
        return SL_ERR;
    if ((rc = p_bool(req, "HealthCheckEnabled", P_OPTIONAL, &hc->enabled, err)) == SL_ERR)
        return SL_ERR;
    hc->set |= rc == SL_OK ? ELB_HC_ENABLED : 0;
    if ((rc = p_str(req, "HealthCheckPath", P_OPTIONAL, &hc->path, err)) == SL_ERR)
        return SL_ERR;
    hc->set |= rc == SL_OK ? ELB_HC_PATH : 0;
    if (hc_int(req, "HealthCheckIntervalSeconds", ELB_HC_INTERVAL, 1, 300, &hc->interval_s,
               &hc->set, err) != SL_OK ||
        hc_int(req, "HealthCheckTimeoutSeconds", ELB_HC_TIMEOUT, 1, 120, &hc->timeout_s, &hc->set,
               err) != SL_OK ||
        hc_int(req, "HealthyThresholdCount", ELB_HC_HEALTHY, 2, 10, &hc->healthy, &hc->set,
               err) != SL_OK ||
        hc_int(req, "UnhealthyThresholdCount", ELB_HC_UNHEALTHY, 2, 10, &hc->unhealthy,
               &hc->set, err) != SL_OK)
        return SL_ERR;
    if ((rc = p_obj(req, "Matcher", P_OPTIONAL, &matcher, err)) == SL_ERR)
        return SL_ERR;
    if (rc == SL_OK) {
        if (p_present(matcher, "GrpcCode"))
            return sl_err_set(err, 400, "ValidationError",
                              "Matcher.GrpcCode is not supported by sluice: health checks are "
                              "HTTP/1.1 requests (use Matcher.HttpCode)");
        if (p_str(matcher, "HttpCode", P_REQUIRED, &hc->matcher, err) != SL_OK)
            return SL_ERR;
        hc->set |= ELB_HC_MATCHER;
    }
    return elb_hc_check(hc, err);
}

/* ProtocolVersion: the Terraform AWS provider sends "" for an HTTP group
 * whose protocol_version is not set; AWS takes that as not given. */
static int protocol_version(json_t *req, int *version, struct sl_err *err)
{
    const char *s;

    if (p_str(req, "ProtocolVersion", P_OPTIONAL, &s, err) == SL_ERR)
        return SL_ERR;
    if (s == NULL || s[0] == '\0')
        return SL_OK;
    return p_enum_index(req, "ProtocolVersion", P_REQUIRED, elb_protocol_version_names, version,
                        err);
}

int api_elb_tg_decode(json_t *req, struct api_tg *a, struct sl_err *err)
{
    int type = ELB_TT_INSTANCE, proto = ELB_TGP_HTTP, version = ELB_PV_HTTP1, ip = ELB_TGIP_IPV4;

    memset(a, 0, sizeof(*a));
    if (p_str(req, "Name", P_REQUIRED, &a->s.name, err) != SL_OK ||
        elb_tg_name_check(a->s.name, err) != SL_OK ||
        p_str(req, "id", P_OPTIONAL, &a->s.id, err) == SL_ERR ||
        p_enum_index(req, "TargetType", P_OPTIONAL, elb_target_type_names, &type, err) ==
            SL_ERR)
        return SL_ERR;
    a->s.type = (enum elb_target_type)type;
    if (p_enum_index(req, "Protocol", P_OPTIONAL, elb_tg_protocol_names, &proto, err) ==
            SL_ERR ||
        protocol_version(req, &version, err) != SL_OK ||
        p_int(req, "Port", P_REQUIRED, 1, 65535, &a->s.port, err) != SL_OK ||
        p_str(req, "VpcId", P_OPTIONAL, &a->s.vpc, err) == SL_ERR ||
        p_enum_index(req, "IpAddressType", P_OPTIONAL, elb_tg_ip_type_names, &ip, err) ==
            SL_ERR ||
        api_elb_hc_decode(req, &a->s.hc, err) != SL_OK ||
        api_elb_kv_list(req, "Tags", P_OPTIONAL, 0, ELB_TAGS_MAX, 0, &a->tags, &a->s.ntags,
                        err) == SL_ERR)
        return SL_ERR;
    a->s.protocol = (enum elb_tg_protocol)proto;
    a->s.version = (enum elb_protocol_version)version;
    a->s.ip_type = (enum elb_tg_ip_type)ip;
    a->s.tags = a->tags;
    return elb_tg_check(&a->s, err);
}

void api_elb_tg_free(struct api_tg *a)
{
    free(a->tags);
}

static const char *const target_members[] = {"Id", "Port", "AvailabilityZone", NULL};

int api_elb_targets_decode(json_t *req, int required, struct elb_target **out, size_t *n,
                           struct sl_err *err)
{
    json_t *list, *t;
    struct elb_target *v;
    size_t i;
    int rc = p_list(req, "Targets", required, required ? 1 : 0, ELB_TARGETS_MAX, &list, err);

    *out = NULL;
    *n = 0;
    if (rc != SL_OK)
        return rc;
    if ((v = calloc(json_array_size(list) + 1, sizeof(*v))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, t) {
        if (api_members_check(t, target_members, NULL, "Targets.member", "ValidationError",
                              err) != SL_OK ||
            p_str(t, "Id", P_REQUIRED, &v[i].id, err) != SL_OK ||
            p_int(t, "Port", P_OPTIONAL, 1, 65535, &v[i].port, err) == SL_ERR ||
            p_str(t, "AvailabilityZone", P_OPTIONAL, &v[i].az, err) == SL_ERR) {
            free(v);
            return SL_ERR;
        }
    }
    if (elb_targets_check(v, json_array_size(list), err) != SL_OK) {
        free(v);
        return SL_ERR;
    }
    *out = v;
    *n = json_array_size(list);
    return SL_OK;
}

/* ---- CreateTargetGroup ---- */

struct tg_create {
    const struct api_ctx *ctx;
    const struct elb_tg_spec *s;
    json_t *out;
};

static int tg_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_create *c = arg;

    return elb_tg_create(txn, &c->ctx->elb, c->s, &c->out, err);
}

json_t *api_elb_create_target_group(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct api_tg a;
    struct tg_create c = {ctx, &a.s, NULL};

    if (api_elb_tg_decode(req, &a, err) == SL_OK && api_write(ctx, tg_create_tx, &c, err) != SL_OK)
        c.out = NULL;
    api_elb_tg_free(&a);
    return c.out ? json_pack("{s[o]}", "TargetGroups", c.out) : NULL;
}

/* ---- DescribeTargetGroups ---- */

struct tg_describe {
    struct elb_tg_select sel;
    json_t *out;
};

static int tg_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_describe *d = arg;

    return elb_tg_describe(txn, &d->sel, &d->out, err);
}

json_t *api_elb_describe_target_groups(const struct api_ctx *ctx, json_t *req,
                                       struct sl_err *err)
{
    struct tg_describe d = {{NULL, 0, NULL, 0, NULL}, NULL};
    const char **arns = NULL, **names = NULL;
    json_t *page, *next, *out = NULL;

    if (p_strv(req, "TargetGroupArns", P_OPTIONAL, 0, 400, &arns, &d.sel.narns, err) == SL_ERR ||
        p_strv(req, "Names", P_OPTIONAL, 0, 400, &names, &d.sel.nnames, err) == SL_ERR ||
        p_str(req, "LoadBalancerArn", P_OPTIONAL, &d.sel.lb_arn, err) == SL_ERR)
        goto done;
    d.sel.arns = arns;
    d.sel.names = names;
    if (api_read(ctx, tg_describe_tx, &d, err) != SL_OK ||
        (page = api_page(req, d.out, &next, err)) == NULL)
        goto done;
    out = json_pack("{so}", "TargetGroups", page);
    if (next)
        json_object_set_new(out, "NextMarker", next);
done:
    json_decref(d.out);
    free(arns);
    free(names);
    return out;
}

/* ---- ModifyTargetGroup, DeleteTargetGroup, attributes ---- */

struct tg_call {
    const struct api_ctx *ctx;
    const char *arn;
    struct elb_hc hc;
    struct elb_kv *kv;
    size_t n;
    json_t *out;
};

static int tg_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_call *c = arg;

    return elb_tg_modify(txn, c->arn, &c->hc, &c->out, err);
}

json_t *api_elb_modify_target_group(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tg_call c = {ctx, NULL, {0}, NULL, 0, NULL};

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        api_elb_hc_decode(req, &c.hc, err) != SL_OK ||
        api_write(ctx, tg_modify_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{s[o]}", "TargetGroups", c.out);
}

static int tg_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_call *c = arg;

    return elb_tg_delete(txn, &c->ctx->elb, c->arn, err);
}

json_t *api_elb_delete_target_group(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tg_call c = {ctx, NULL, {0}, NULL, 0, NULL};

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        api_write(ctx, tg_delete_tx, &c, err) != SL_OK)
        return NULL;
    return json_object();
}

static int tg_attrs_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_call *c = arg;

    return elb_tg_attrs(txn, c->arn, &c->out, err);
}

json_t *api_elb_describe_target_group_attributes(const struct api_ctx *ctx, json_t *req,
                                                 struct sl_err *err)
{
    struct tg_call c = {ctx, NULL, {0}, NULL, 0, NULL};

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        api_read(ctx, tg_attrs_tx, &c, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "Attributes", c.out);
}

static int tg_attrs_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_call *c = arg;

    return elb_tg_attrs_modify(txn, c->arn, c->kv, c->n, &c->out, err);
}

json_t *api_elb_modify_target_group_attributes(const struct api_ctx *ctx, json_t *req,
                                               struct sl_err *err)
{
    struct tg_call c = {ctx, NULL, {0}, NULL, 0, NULL};
    int rc;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        api_elb_kv_list(req, "Attributes", P_REQUIRED, 1, 20, 1, &c.kv, &c.n, err) != SL_OK)
        return NULL;
    rc = api_write(ctx, tg_attrs_modify_tx, &c, err);
    free(c.kv);
    return rc == SL_OK ? json_pack("{so}", "Attributes", c.out) : NULL;
}

/* ---- targets ---- */

struct targets_call {
    const struct api_ctx *ctx;
    const char *arn;
    struct elb_target *t;
    size_t n;
    uint64_t now_ms;
    json_t *out;
};

static int register_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct targets_call *c = arg;

    return elb_targets_register(txn, &c->ctx->elb, c->arn, c->t, c->n, err);
}

static int deregister_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct targets_call *c = arg;

    return elb_targets_deregister(txn, &c->ctx->elb, c->arn, c->t, c->n, c->now_ms, err);
}

static int health_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct targets_call *c = arg;

    return elb_targets_health(txn, &c->ctx->elb, c->arn, c->t, c->n, &c->out, err);
}

static uint64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static json_t *targets_action(const struct api_ctx *ctx, json_t *req, store_write_fn fn,
                              int required, struct sl_err *err)
{
    struct targets_call c = {ctx, NULL, NULL, 0, wall_ms(), NULL};
    int rc = SL_ERR;

    if (p_str(req, "TargetGroupArn", P_REQUIRED, &c.arn, err) == SL_OK &&
        api_elb_targets_decode(req, required, &c.t, &c.n, err) != SL_ERR)
        rc = fn == health_tx ? api_read(ctx, fn, &c, err) : api_write(ctx, fn, &c, err);
    free(c.t);
    if (rc != SL_OK)
        return NULL;
    return fn == health_tx ? json_pack("{so}", "TargetHealthDescriptions", c.out) : json_object();
}

json_t *api_elb_register_targets(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return targets_action(ctx, req, register_tx, P_REQUIRED, err);
}

json_t *api_elb_deregister_targets(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    return targets_action(ctx, req, deregister_tx, P_REQUIRED, err);
}

json_t *api_elb_describe_target_health(const struct api_ctx *ctx, json_t *req,
                                       struct sl_err *err)
{
    return targets_action(ctx, req, health_tx, P_OPTIONAL, err);
}
