/*
 * elbv2_lb_actions.c - the ELBv2 load balancer and tag actions:
 * CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer,
 * Describe/ModifyLoadBalancerAttributes, AddTags, RemoveTags, DescribeTags;
 * and the {Key,Value} list decoder every family uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api/elbv2_actions.h"
#include "routes/elbv2/lbstate.h"
#include "routes/elbv2/tags.h"
#include "routes/wire/params.h"

int api_elb_kv_list(json_t *obj, const char *name, int required, size_t min, size_t max,
                    int value_required, struct elb_kv **out, size_t *n, struct sl_err *err)
{
    json_t *list, *e;
    struct elb_kv *kv;
    size_t i;
    int rc = p_list(obj, name, required, min, max, &list, err);

    *out = NULL;
    *n = 0;
    if (rc != SL_OK)
        return rc;
    if ((kv = calloc(json_array_size(list) + 1, sizeof(*kv))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, e) {
        if (p_str(e, "Key", P_REQUIRED, &kv[i].key, err) != SL_OK ||
            p_str(e, "Value", value_required, &kv[i].value, err) == SL_ERR) {
            free(kv);
            return SL_ERR;
        }
        if (kv[i].value == NULL)
            kv[i].value = "";
    }
    *out = kv;
    *n = json_array_size(list);
    return SL_OK;
}

/* ---- CreateLoadBalancer ---- */

/* A subnet mapping's members besides SubnetId: Network Load Balancers'. */
static const char *const nlb_mapping_members[] = {"SubnetId", NULL};

/* Subnet ids from Subnets (strings) or SubnetMappings ({SubnetId}). */
static int subnets_decode(json_t *req, struct api_lb *a, struct sl_err *err)
{
    json_t *subnets = NULL, *maps = NULL, *list, *m;
    const char *member;
    size_t i;

    if (p_list(req, "Subnets", P_OPTIONAL, 0, 100, &subnets, err) == SL_ERR ||
        p_list(req, "SubnetMappings", P_OPTIONAL, 0, 100, &maps, err) == SL_ERR)
        return SL_ERR;
    if (json_array_size(subnets) > 0 && json_array_size(maps) > 0)
        return sl_err_set(err, 400, "ValidationError",
                          "You must specify either subnets or subnet mappings, but not both");
    list = json_array_size(maps) > 0 ? maps : subnets;
    member = list == maps ? "SubnetMappings" : "Subnets";
    if ((a->subnets = calloc(json_array_size(list) + 1, sizeof(*a->subnets))) == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    json_array_foreach(list, i, m) {
        if (json_is_object(m)) {
            if (p_str(m, "SubnetId", P_REQUIRED, &a->subnets[i], err) != SL_OK ||
                api_members_check(m, nlb_mapping_members, NULL, "SubnetMappings.member",
                                  "ValidationError", err) !=
                    SL_OK)
                return SL_ERR;
        } else if (json_is_string(m) && json_string_length(m) > 0) {
            a->subnets[i] = json_string_value(m);
        } else {
            return p_invalid(err, member, "Member must be a list of subnet ids");
        }
    }
    a->s.subnets = a->subnets;
    a->s.nsubnets = json_array_size(list);
    return SL_OK;
}

static int sgs_decode(json_t *req, struct api_lb *a, struct sl_err *err)
{
    size_t i;

    if (p_strv(req, "SecurityGroups", P_OPTIONAL, 0, 100, &a->sgs, &a->s.nsecurity_groups,
               err) == SL_ERR)
        return SL_ERR;
    for (i = 0; i < a->s.nsecurity_groups; i++)
        if (a->sgs[i][0] == '\0')
            return p_invalid(err, "SecurityGroups", "Member must be a list of non-empty strings");
    a->s.security_groups = a->sgs;
    return SL_OK;
}

int api_elb_lb_decode(json_t *req, struct api_lb *a, struct sl_err *err)
{
    int scheme = ELB_SCHEME_INTERNET_FACING, type = ELB_LBT_APPLICATION, ip = ELB_LBIP_IPV4;

    memset(a, 0, sizeof(*a));
    if (p_str(req, "Name", P_REQUIRED, &a->s.name, err) != SL_OK ||
        elb_name_check(a->s.name, "Load balancer name", err) != SL_OK)
        return SL_ERR;
    if (p_enum_index(req, "Scheme", P_OPTIONAL, elb_scheme_names, &scheme, err) == SL_ERR ||
        p_enum_index(req, "Type", P_OPTIONAL, elb_lb_type_names, &type, err) == SL_ERR ||
        p_enum_index(req, "IpAddressType", P_OPTIONAL, elb_lb_ip_type_names, &ip, err) ==
            SL_ERR ||
        p_str(req, "VpcId", P_OPTIONAL, &a->s.vpc, err) == SL_ERR ||
        p_str(req, "id", P_OPTIONAL, &a->s.id, err) == SL_ERR)
        return SL_ERR;
    a->s.scheme = (enum elb_scheme)scheme;
    a->s.type = (enum elb_lb_type)type;
    a->s.ip_type = (enum elb_lb_ip_type)ip;
    if (a->s.vpc && a->s.vpc[0] == '\0')
        a->s.vpc = NULL;
    if (subnets_decode(req, a, err) != SL_OK || sgs_decode(req, a, err) != SL_OK ||
        api_elb_kv_list(req, "Tags", P_OPTIONAL, 0, ELB_TAGS_MAX, 0, &a->tags, &a->s.ntags,
                        err) == SL_ERR)
        return SL_ERR;
    a->s.tags = a->tags;
    return elb_lb_check(&a->s, err);
}

int api_elb_lb_sets_decode(json_t *req, struct api_lb *a, int *ip, struct sl_err *err)
{
    memset(a, 0, sizeof(*a));
    *ip = -1;
    if (p_enum_index(req, "IpAddressType", P_OPTIONAL, elb_lb_ip_type_names, ip, err) == SL_ERR)
        return SL_ERR;
    return subnets_decode(req, a, err) == SL_OK && sgs_decode(req, a, err) == SL_OK ? SL_OK
                                                                                   : SL_ERR;
}

void api_elb_lb_free(struct api_lb *a)
{
    free(a->subnets);
    free(a->sgs);
    free(a->tags);
}

struct lb_create {
    const struct api_ctx *ctx;
    const struct elb_lb_spec *s;
    json_t *out;
};

static int lb_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_create *c = arg;

    return elb_lb_create(txn, &c->ctx->elb, c->s, &c->out, err);
}

json_t *api_elb_create_load_balancer(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct api_lb a;
    struct lb_create c = {ctx, &a.s, NULL};

    if (api_elb_lb_decode(req, &a, err) == SL_OK && api_write(ctx, lb_create_tx, &c, err) != SL_OK)
        c.out = NULL;
    api_elb_lb_free(&a);
    return c.out ? json_pack("{s[o]}", "LoadBalancers", c.out) : NULL;
}

/* ---- DescribeLoadBalancers ---- */

struct lb_describe {
    struct elb_lb_select sel;
    json_t *out;
};

static int lb_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_describe *d = arg;

    return elb_lb_describe(txn, &d->sel, &d->out, err);
}

json_t *api_elb_describe_load_balancers(const struct api_ctx *ctx, json_t *req,
                                        struct sl_err *err)
{
    struct lb_describe d = {{NULL, 0, NULL, 0}, NULL};
    const char **arns = NULL, **names = NULL;
    json_t *page, *next, *out = NULL, *lb;
    size_t i;

    if (p_strv(req, "LoadBalancerArns", P_OPTIONAL, 0, 20, &arns, &d.sel.narns, err) == SL_ERR ||
        p_strv(req, "Names", P_OPTIONAL, 0, 20, &names, &d.sel.nnames, err) == SL_ERR)
        goto done;
    if (d.sel.narns > 0 && d.sel.nnames > 0) {
        sl_err_set(err, 400, "ValidationError",
                   "Load balancer names and load balancer ARNs cannot be specified at the same "
                   "time");
        goto done;
    }
    d.sel.arns = arns;
    d.sel.names = names;
    if (api_read(ctx, lb_describe_tx, &d, err) != SL_OK)
        goto done;
    json_array_foreach(d.out, i, lb) /* a proxy that cannot bind a listener's port */
        elb_lbstate_apply(elb_health_lbstate(ctx->elb.health), lb);
    if ((page = api_page(req, d.out, &next, err)) == NULL)
        goto done;
    out = json_pack("{so}", "LoadBalancers", page);
    if (next)
        json_object_set_new(out, "NextMarker", next);
done:
    json_decref(d.out);
    free(arns);
    free(names);
    return out;
}

/* ---- DeleteLoadBalancer ---- */

static int lb_delete_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    return elb_lb_delete(txn, arg, err);
}

json_t *api_elb_delete_load_balancer(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    const char *arn;

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &arn, err) != SL_OK ||
        api_write(ctx, lb_delete_tx, (void *)arn, err) != SL_OK)
        return NULL;
    return json_object();
}

/* ---- attributes ---- */

struct lb_attrs {
    const char *arn;
    struct elb_kv *kv;
    size_t n;
    json_t *out;
};

static int lb_attrs_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_attrs *a = arg;

    return elb_lb_attrs(txn, a->arn, &a->out, err);
}

json_t *api_elb_describe_load_balancer_attributes(const struct api_ctx *ctx, json_t *req,
                                                  struct sl_err *err)
{
    struct lb_attrs a = {NULL, NULL, 0, NULL};

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        api_read(ctx, lb_attrs_tx, &a, err) != SL_OK)
        return NULL;
    return json_pack("{so}", "Attributes", a.out);
}

static int lb_attrs_modify_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_attrs *a = arg;

    return elb_lb_attrs_modify(txn, a->arn, a->kv, a->n, &a->out, err);
}

json_t *api_elb_modify_load_balancer_attributes(const struct api_ctx *ctx, json_t *req,
                                                struct sl_err *err)
{
    struct lb_attrs a = {NULL, NULL, 0, NULL};
    int rc;

    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &a.arn, err) != SL_OK ||
        api_elb_kv_list(req, "Attributes", P_REQUIRED, 1, 20, 1, &a.kv, &a.n, err) != SL_OK)
        return NULL;
    rc = api_write(ctx, lb_attrs_modify_tx, &a, err);
    free(a.kv);
    return rc == SL_OK ? json_pack("{so}", "Attributes", a.out) : NULL;
}

/* ---- SetSecurityGroups, SetSubnets, SetIpAddressType ---- */

struct lb_set {
    const struct api_ctx *ctx;
    const char *arn;
    struct api_lb a;
    int ip;
    json_t *out;
};

static int lb_set_sgs_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_set *c = arg;

    return elb_lb_set_security_groups(txn, c->arn, c->a.s.security_groups,
                                      c->a.s.nsecurity_groups, &c->out, err);
}

json_t *api_elb_set_security_groups(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct lb_set c;
    json_t *out = NULL;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &c.arn, err) == SL_OK &&
        sgs_decode(req, &c.a, err) == SL_OK && api_write(ctx, lb_set_sgs_tx, &c, err) == SL_OK)
        out = json_pack("{sO}", "SecurityGroupIds", json_object_get(c.out, "SecurityGroups"));
    json_decref(c.out);
    api_elb_lb_free(&c.a);
    return out;
}

static int lb_set_subnets_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_set *c = arg;

    if (c->ip >= 0 && elb_lb_set_ip_type(txn, c->arn, (enum elb_lb_ip_type)c->ip, &c->out,
                                         err) != SL_OK)
        return SL_ERR;
    json_decref(c->out);
    return elb_lb_set_subnets(txn, &c->ctx->elb, c->arn, c->a.s.subnets, c->a.s.nsubnets,
                              &c->out, err);
}

json_t *api_elb_set_subnets(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct lb_set c;
    json_t *out = NULL;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    c.ip = -1;
    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        p_enum_index(req, "IpAddressType", P_OPTIONAL, elb_lb_ip_type_names, &c.ip, err) ==
            SL_ERR ||
        subnets_decode(req, &c.a, err) != SL_OK)
        goto done;
    if (c.a.s.nsubnets == 0) {
        sl_err_set(err, 400, "ValidationError",
                   "You must specify either subnets or subnet mappings");
        goto done;
    }
    if (api_write(ctx, lb_set_subnets_tx, &c, err) == SL_OK)
        out = json_pack("{sO sO}", "AvailabilityZones",
                        json_object_get(c.out, "AvailabilityZones"), "IpAddressType",
                        json_object_get(c.out, "IpAddressType"));
done:
    json_decref(c.out);
    api_elb_lb_free(&c.a);
    return out;
}

static int lb_set_ip_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_set *c = arg;

    return elb_lb_set_ip_type(txn, c->arn, (enum elb_lb_ip_type)c->ip, &c->out, err);
}

json_t *api_elb_set_ip_address_type(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct lb_set c;
    json_t *out = NULL;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &c.arn, err) == SL_OK &&
        p_enum_index(req, "IpAddressType", P_REQUIRED, elb_lb_ip_type_names, &c.ip, err) ==
            SL_OK &&
        api_write(ctx, lb_set_ip_tx, &c, err) == SL_OK)
        out = json_pack("{sO}", "IpAddressType", json_object_get(c.out, "IpAddressType"));
    json_decref(c.out);
    return out;
}

/* ---- capacity reservations ---- */

static int lb_exists_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct lb_set *c = arg;
    const char *const arns[] = {c->arn};
    struct elb_lb_select sel = {arns, 1, NULL, 0};

    return elb_lb_describe(txn, &sel, &c->out, err);
}

/* A load balancer here has no reserved capacity: its capacity is this
 * host's.  The answer has no MinimumLoadBalancerCapacity (none was set) and
 * no zone in a state other than provisioned. */
json_t *api_elb_describe_capacity_reservation(const struct api_ctx *ctx, json_t *req,
                                              struct sl_err *err)
{
    struct lb_set c;

    memset(&c, 0, sizeof(c));
    if (p_str(req, "LoadBalancerArn", P_REQUIRED, &c.arn, err) != SL_OK ||
        api_read(ctx, lb_exists_tx, &c, err) != SL_OK)
        return NULL;
    json_decref(c.out);
    return json_pack("{s[]}", "CapacityReservationState");
}

json_t *api_elb_modify_capacity_reservation(const struct api_ctx *ctx, json_t *req,
                                            struct sl_err *err)
{
    int reset = 0;

    if (p_present(req, "MinimumLoadBalancerCapacity")) {
        sl_err_set(err, 400, "ValidationError",
                   "MinimumLoadBalancerCapacity is not supported by sluice: a load balancer's "
                   "capacity is the host's, nothing can be reserved");
        return NULL;
    }
    if (p_bool(req, "ResetCapacityReservation", P_OPTIONAL, &reset, err) == SL_ERR)
        return NULL;
    if (!reset) {
        sl_err_set(err, 400, "ValidationError",
                   "Either MinimumLoadBalancerCapacity or ResetCapacityReservation must be "
                   "specified");
        return NULL;
    }
    return api_elb_describe_capacity_reservation(ctx, req, err);
}

/* ---- tags ---- */

struct tags_call {
    const char **arns;
    size_t narns;
    struct elb_kv *tags;
    size_t ntags;
    const char **keys;
    size_t nkeys;
    json_t *out;
};

static int tags_add_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tags_call *t = arg;

    return elb_tags_add(txn, t->arns, t->narns, t->tags, t->ntags, err);
}

static int tags_remove_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tags_call *t = arg;

    return elb_tags_remove(txn, t->arns, t->narns, t->keys, t->nkeys, err);
}

static int tags_describe_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tags_call *t = arg;

    return elb_tags_describe(txn, t->arns, t->narns, &t->out, err);
}

static int resource_arns(json_t *req, struct tags_call *t, struct sl_err *err)
{
    if (p_strv(req, "ResourceArns", P_REQUIRED, 1, 20, &t->arns, &t->narns, err) != SL_OK)
        return SL_ERR;
    return SL_OK;
}

json_t *api_elb_add_tags(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tags_call t = {0};
    int rc = SL_ERR;

    if (resource_arns(req, &t, err) == SL_OK &&
        api_elb_kv_list(req, "Tags", P_REQUIRED, 1, ELB_TAGS_MAX, 0, &t.tags, &t.ntags, err) ==
            SL_OK &&
        elb_tags_check(t.tags, t.ntags, err) == SL_OK)
        rc = api_write(ctx, tags_add_tx, &t, err);
    free(t.arns);
    free(t.tags);
    return rc == SL_OK ? json_object() : NULL;
}

json_t *api_elb_remove_tags(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tags_call t = {0};
    int rc = SL_ERR;

    if (resource_arns(req, &t, err) == SL_OK &&
        p_strv(req, "TagKeys", P_REQUIRED, 1, ELB_TAGS_MAX, &t.keys, &t.nkeys, err) == SL_OK)
        rc = api_write(ctx, tags_remove_tx, &t, err);
    free(t.arns);
    free(t.keys);
    return rc == SL_OK ? json_object() : NULL;
}

json_t *api_elb_describe_tags(const struct api_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct tags_call t = {0};
    int rc = SL_ERR;

    if (resource_arns(req, &t, err) == SL_OK)
        rc = api_read(ctx, tags_describe_tx, &t, err);
    free(t.arns);
    return rc == SL_OK ? json_pack("{so}", "TagDescriptions", t.out) : NULL;
}
