/* Unit tests for the load balancer, listener and rule actions
 * (routes/api/elbv2_*_actions.c over routes/elbv2/lb.c, listener.c, rule.c,
 * conditions.c, actions.c): condition and action
 * validation in every form, AWS limits and error codes, priorities, cascading
 * deletes, and robustness against mistyped members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/acm/ca.h"
#include "routes/api/acm_actions.h"
#include "routes/api/elbv2_actions.h"
#include "routes/elbv2/actions.h"
#include "routes/elbv2/attrs.h"
#include "routes/elbv2/conditions.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/refs.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct store *s;
    struct acm_ca *ca;
    struct api_ctx ctx;
    char lb[ELB_ARN_MAX], listener[ELB_ARN_MAX], tg1[ELB_ARN_MAX], tg2[ELB_ARN_MAX];
};

static struct sl_err err;

/* JSON text with ' for " (readable literals). */
static json_t *J(const char *text)
{
    char buf[4096];
    size_t i;
    json_t *v;

    assert_true(strlen(text) < sizeof(buf));
    for (i = 0; text[i]; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    buf[i] = '\0';
    v = json_loads(buf, JSON_DECODE_ANY, NULL);
    if (v == NULL)
        fail_msg("bad JSON literal: %s", text);
    return v;
}

/* Run <fn>, consuming <req>. */
static json_t *call(struct fixture *f, api_action_fn fn, json_t *req)
{
    json_t *out;

    memset(&err, 0, sizeof(err));
    assert_non_null(req);
    out = fn(&f->ctx, req, &err);
    json_decref(req);
    return out;
}

static json_t *ok(struct fixture *f, api_action_fn fn, json_t *req)
{
    json_t *out = call(f, fn, req);

    if (out == NULL)
        fail_msg("expected success, got %s: %s", err.code, err.message);
    return out;
}

static void fails(struct fixture *f, api_action_fn fn, json_t *req, const char *code, const char *part)
{
    json_t *out = call(f, fn, req);

    if (out != NULL) {
        char *s = json_dumps(out, JSON_COMPACT);
        fail_msg("expected %s, got success: %s", code, s);
    }
    if (strcmp(err.code, code) != 0)
        fail_msg("expected %s, got %s: %s", code, err.code, err.message);
    if (part && strstr(err.message, part) == NULL)
        fail_msg("message '%s' lacks '%s'", err.message, part);
    assert_int_equal(err.status, strcmp(code, "Conflict") == 0 ? 409 : 400);
}

static const char *sget(json_t *obj, const char *path)
{
    char buf[256], *tok, *save;
    json_t *v = obj;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
        if (tok[0] >= '0' && tok[0] <= '9')
            v = json_array_get(v, (size_t)atoi(tok));
        else
            v = json_object_get(v, tok);
    }
    return json_string_value(v);
}

static json_t *jget(json_t *obj, const char *path)
{
    char buf[256], *tok, *save;
    json_t *v = obj;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
        if (tok[0] >= '0' && tok[0] <= '9')
            v = json_array_get(v, (size_t)atoi(tok));
        else
            v = json_object_get(v, tok);
    }
    return v;
}

struct tg_put {
    const char *id;
    char *arn_out;
};

static int put_tg(struct store_txn *txn, void *arg, struct sl_err *e)
{
    struct tg_put *t = arg;
    json_t *o;
    int rc;

    snprintf(t->arn_out, ELB_ARN_MAX,
             "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/%s", t->id,
             t->id);
    o = json_pack("{ss ss ss ss}", "TargetGroupArn", t->arn_out, "TargetGroupName", t->id, "id",
                  t->id, "arn", t->arn_out);
    rc = elb_insert(txn, K_TG, t->id, o);
    json_decref(o);
    return rc;
}

static json_t *forward_to(const char *tg)
{
    return json_pack("[{ss ss}]", "Type", "forward", "TargetGroupArn", tg);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err e = {0};
    struct tg_put t1 = {"web", NULL}, t2 = {"canary", NULL};
    json_t *out;

    strcpy(f->dir, "/tmp/sluice-rules-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->s, &e), SL_OK);
    api_ctx_init(&f->ctx, f->s, "us-east-1", "123456789012", NULL, "req-1");
    assert_int_equal(acm_ca_open(f->dir, &f->ca, &e), SL_OK);
    f->ctx.acm.ca = f->ca;
    t1.arn_out = f->tg1;
    t2.arn_out = f->tg2;
    assert_int_equal(store_write(f->s, put_tg, &t1, NULL, &e), SL_OK);
    assert_int_equal(store_write(f->s, put_tg, &t2, NULL, &e), SL_OK);

    out = ok(f, api_elb_create_load_balancer,
             json_pack("{ss s[ss]}", "Name", "main", "Subnets", "subnet-1", "subnet-2"));
    snprintf(f->lb, sizeof(f->lb), "%s", sget(out, "LoadBalancers.0.LoadBalancerArn"));
    json_decref(out);
    out = ok(f, api_elb_create_listener,
             json_pack("{ss ss ss so}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port",
                       "80", "DefaultActions", forward_to(f->tg1)));
    snprintf(f->listener, sizeof(f->listener), "%s", sget(out, "Listeners.0.ListenerArn"));
    json_decref(out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_close(f->s);
    acm_ca_free(f->ca);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* CreateRule with <conds> (consumed) on the fixture listener. */
static json_t *rule_req(struct fixture *f, long prio, json_t *conds, json_t *actions)
{
    return json_pack("{ss so sI so}", "ListenerArn", f->listener, "Conditions", conds,
                     "Priority", (json_int_t)prio, "Actions",
                     actions ? actions : forward_to(f->tg1));
}

/* ---- load balancers ---- */

static void test_lb_create_describe(void **state)
{
    struct fixture *f = *state;
    json_t *out, *lb;
    const char *arn;

    lb = jget(out = ok(f, api_elb_describe_load_balancers, json_pack("{s[s]}", "Names", "main")),
              "LoadBalancers.0");
    assert_non_null(lb);
    arn = sget(lb, "LoadBalancerArn");
    assert_non_null(strstr(arn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                "loadbalancer/app/main/"));
    assert_int_equal(strlen(strrchr(arn, '/') + 1), 16);
    assert_string_equal(sget(lb, "State.Code"), "active");
    assert_string_equal(sget(lb, "Scheme"), "internet-facing");
    assert_string_equal(sget(lb, "Type"), "application");
    assert_string_equal(sget(lb, "IpAddressType"), "ipv4");
    assert_string_equal(sget(lb, "CanonicalHostedZoneId"), "Z35SXDOTRQ7X7K");
    assert_string_equal(sget(lb, "AvailabilityZones.0.ZoneName"), "us-east-1a");
    assert_string_equal(sget(lb, "AvailabilityZones.1.SubnetId"), "subnet-2");
    assert_int_equal(strncmp(sget(lb, "DNSName"), "main-", 5), 0);
    assert_non_null(strstr(sget(lb, "DNSName"), ".us-east-1.elb.amazonaws.com"));
    assert_null(json_object_get(lb, "id"));
    assert_null(json_object_get(lb, "Attributes"));
    json_decref(out);

    /* Same settings: idempotent.  Different settings: duplicate. */
    out = ok(f, api_elb_create_load_balancer,
             json_pack("{ss s[ss]}", "Name", "main", "Subnets", "subnet-1", "subnet-2"));
    assert_string_equal(sget(out, "LoadBalancers.0.LoadBalancerArn"), f->lb);
    json_decref(out);
    fails(f, api_elb_create_load_balancer, json_pack("{ss ss}", "Name", "main", "Scheme", "internal"),
          "DuplicateLoadBalancerName", "main");

    out = ok(f, api_elb_create_load_balancer,
             json_pack("{ss ss ss}", "Name", "intra", "Scheme", "internal", "id", "my-lb"));
    assert_int_equal(strncmp(sget(out, "LoadBalancers.0.DNSName"), "internal-intra-", 15), 0);
    json_decref(out);
    fails(f, api_elb_create_load_balancer, json_pack("{ss ss}", "Name", "other", "id", "my-lb"),
          "Conflict", NULL);
    fails(f, api_elb_create_load_balancer, json_pack("{ss ss}", "Name", "x", "id", "bad/id"),
          "ValidationError", NULL);

    fails(f, api_elb_create_load_balancer, json_pack("{ss}", "Name", "internal-x"), "ValidationError",
          "internal-");
    fails(f, api_elb_create_load_balancer, json_pack("{ss}", "Name", "-x"), "ValidationError",
          "cannot begin or end with '-'");
    fails(f, api_elb_create_load_balancer, json_pack("{ss}", "Name", "a_b"), "ValidationError", NULL);
    fails(f, api_elb_create_load_balancer, json_pack("{}"), "ValidationError", "Name");
    fails(f, api_elb_create_load_balancer, json_pack("{ss ss}", "Name", "n", "Type", "network"),
          "ValidationError", "application");
    fails(f, api_elb_create_load_balancer, json_pack("{ss ss}", "Name", "n", "Scheme", "public"),
          "ValidationError", NULL);
    fails(f, api_elb_create_load_balancer, json_pack("{ss ss}", "Name", "n", "IpAddressType", "v6"),
          "ValidationError", NULL);
    fails(f, api_elb_create_load_balancer,
          json_pack("{ss s[s] s[{ss}]}", "Name", "n", "Subnets", "s-1", "SubnetMappings",
                    "SubnetId", "s-2"),
          "ValidationError", "not both");

    out = ok(f, api_elb_describe_load_balancers, json_object());
    assert_int_equal(json_array_size(json_object_get(out, "LoadBalancers")), 2);
    assert_string_equal(sget(out, "LoadBalancers.0.LoadBalancerName"), "intra");
    json_decref(out);
    out = ok(f, api_elb_describe_load_balancers, json_pack("{ss}", "PageSize", "1"));
    assert_int_equal(json_array_size(json_object_get(out, "LoadBalancers")), 1);
    assert_string_equal(sget(out, "NextMarker"), "1");
    json_decref(out);
    fails(f, api_elb_describe_load_balancers, json_pack("{s[s]}", "Names", "nope"),
          "LoadBalancerNotFound", NULL);
    fails(f, api_elb_describe_load_balancers,
          json_pack("{s[s]}", "LoadBalancerArns", "arn:aws:elasticloadbalancing:x"),
          "LoadBalancerNotFound", NULL);
}

static void test_lb_attributes_and_delete(void **state)
{
    struct fixture *f = *state;
    json_t *out, *attrs;

    out = ok(f, api_elb_describe_load_balancer_attributes, json_pack("{ss}", "LoadBalancerArn", f->lb));
    attrs = json_object_get(out, "Attributes");
    assert_string_equal(elb_attr_get(attrs, "idle_timeout.timeout_seconds"), "60");
    assert_string_equal(elb_attr_get(attrs, "routing.http2.enabled"), "true");
    /* A key sluice refuses whole is not described. */
    assert_null(elb_attr_get(attrs, "ipv6.deny_all_igw_traffic"));
    assert_string_equal(elb_attr_get(attrs, "routing.http.desync_mitigation_mode"), "defensive");
    assert_string_equal(elb_attr_get(attrs, "client_keep_alive.seconds"), "3600");
    assert_true(json_array_size(attrs) >= 14); /* every key Terraform sends on create */
    json_decref(out);

    out = ok(f, api_elb_modify_load_balancer_attributes,
             json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                       "idle_timeout.timeout_seconds", "Value", "120"));
    assert_string_equal(elb_attr_get(json_object_get(out, "Attributes"),
                                     "idle_timeout.timeout_seconds"),
                        "120");
    json_decref(out);
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                    "idle_timeout.timeout_seconds", "Value", "4001"),
          "ValidationError", NULL);
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                    "routing.http.xff_header_processing.mode", "Value", "drop"),
          "ValidationError", NULL);
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key", "no.such",
                    "Value", "1"),
          "ValidationError", "Load balancer attribute key 'no.such' is not recognized");
    /* A value the data plane does not act on, in words Terraform's drop-key
     * pattern does not match; a key refused whole, in words it does. */
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                    "health_check_logs.s3.enabled", "Value", "true"),
          "ValidationError",
          "The value 'true' of load balancer attribute 'health_check_logs.s3.enabled' is not "
          "supported by sluice");
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                    "ipv6.deny_all_igw_traffic", "Value", "false"),
          "ValidationError",
          "Load balancer attribute key 'ipv6.deny_all_igw_traffic' is not supported by sluice");
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                    "dns_record.client_routing_policy", "Value", "any_availability_zone"),
          "ValidationError",
          "Load balancer attribute key 'dns_record.client_routing_policy' is not supported on "
          "load balancers with type 'application'");
    fails(f, api_elb_modify_load_balancer_attributes,
          json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", "arn:nope", "Attributes", "Key",
                    "idle_timeout.timeout_seconds", "Value", "5"),
          "LoadBalancerNotFound", NULL);
    /* A failed modification applied nothing. */
    out = ok(f, api_elb_describe_load_balancer_attributes, json_pack("{ss}", "LoadBalancerArn", f->lb));
    assert_string_equal(
        elb_attr_get(json_object_get(out, "Attributes"), "idle_timeout.timeout_seconds"), "120");
    json_decref(out);

    out = ok(f, api_elb_modify_load_balancer_attributes,
             json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                       "deletion_protection.enabled", "Value", "true"));
    json_decref(out);
    fails(f, api_elb_delete_load_balancer, json_pack("{ss}", "LoadBalancerArn", f->lb),
          "OperationNotPermitted", "deletion protection");
    json_decref(ok(f, api_elb_modify_load_balancer_attributes,
                   json_pack("{ss s[{ss ss}]}", "LoadBalancerArn", f->lb, "Attributes", "Key",
                             "deletion_protection.enabled", "Value", "false")));
    json_decref(ok(f, api_elb_delete_load_balancer, json_pack("{ss}", "LoadBalancerArn", f->lb)));
    /* AWS: deleting what does not exist succeeds. */
    json_decref(ok(f, api_elb_delete_load_balancer, json_pack("{ss}", "LoadBalancerArn", f->lb)));
    fails(f, api_elb_describe_listeners, json_pack("{s[s]}", "ListenerArns", f->listener),
          "ListenerNotFound", NULL);
}

static void test_lb_delete_cascades(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    char tg_id[ELB_ID_MAX], kind[16];
    json_t *out, *rules;
    const char *rule_arn, *def_arn;

    out = ok(f, api_elb_create_rule,
             rule_req(f, 5, J("[{'Field':'path-pattern','Values':['/api/*']}]"),
                      forward_to(f->tg2)));
    rule_arn = sget(out, "Rules.0.RuleArn");
    assert_non_null(strstr(rule_arn, ":listener-rule/app/main/"));
    rules = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    def_arn = sget(rules, "Rules.1.RuleArn");
    assert_int_equal(store_read_begin(f->ctx.store, &txn, &err), SL_OK);
    assert_int_equal(elb_resolve_arn(txn, f->tg2, kind, tg_id), SL_OK);
    assert_true(elb_tg_in_use(txn, tg_id));
    store_txn_end(txn);

    json_decref(ok(f, api_elb_delete_load_balancer, json_pack("{ss}", "LoadBalancerArn", f->lb)));
    assert_int_equal(store_read_begin(f->ctx.store, &txn, &err), SL_OK);
    assert_false(elb_tg_in_use(txn, tg_id));
    assert_int_equal(elb_resolve_arn(txn, f->tg1, kind, tg_id), SL_OK);
    assert_false(elb_tg_in_use(txn, tg_id));
    assert_int_equal(elb_resolve_arn(txn, rule_arn, kind, tg_id), SL_ENOTFOUND);
    assert_int_equal(elb_resolve_arn(txn, def_arn, kind, tg_id), SL_ENOTFOUND);
    assert_int_equal(store_count(txn, K_RULE, NULL), 0);
    assert_int_equal(store_count(txn, K_LISTENER, NULL), 0);
    store_txn_end(txn);
    json_decref(rules);
    json_decref(out);
    /* The name is free again. */
    json_decref(ok(f, api_elb_create_load_balancer, json_pack("{ss}", "Name", "main")));
}

/* ---- listeners ---- */

static void test_listener_ops(void **state)
{
    struct fixture *f = *state;
    json_t *out, *rules;
    char cert[ELB_ARN_MAX];

    out = ok(f, api_acm_request_certificate,
             json_pack("{ss ss}", "DomainName", "www.example.com", "KeyAlgorithm",
                       "EC_prime256v1"));
    snprintf(cert, sizeof(cert), "%s", sget(out, "CertificateArn"));
    json_decref(out);

    /* The fixture listener and its default rule. */
    out = ok(f, api_elb_describe_listeners, json_pack("{ss}", "LoadBalancerArn", f->lb));
    assert_int_equal(json_integer_value(jget(out, "Listeners.0.Port")), 80);
    assert_string_equal(sget(out, "Listeners.0.DefaultActions.0.TargetGroupArn"), f->tg1);
    assert_null(jget(out, "Listeners.0._default_rule"));
    assert_non_null(strstr(f->listener, ":listener/app/main/"));
    json_decref(out);
    rules = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    assert_int_equal(json_array_size(json_object_get(rules, "Rules")), 1);
    assert_string_equal(sget(rules, "Rules.0.Priority"), "default");
    assert_true(json_is_true(jget(rules, "Rules.0.IsDefault")));
    assert_int_equal(json_array_size(jget(rules, "Rules.0.Conditions")), 0);
    assert_string_equal(sget(rules, "Rules.0.Actions.0.TargetGroupArn"), f->tg1);
    json_decref(rules);

    /* Same port: idempotent with the same settings, else DuplicateListener. */
    out = ok(f, api_elb_create_listener,
             json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port", 80,
                       "DefaultActions", forward_to(f->tg1)));
    assert_string_equal(sget(out, "Listeners.0.ListenerArn"), f->listener);
    json_decref(out);
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port", 80,
                    "DefaultActions", forward_to(f->tg2)),
          "DuplicateListener", NULL);
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "HTTPS", "Port", 443,
                    "DefaultActions", forward_to(f->tg1)),
          "ValidationError", "certificate");
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "TCP", "Port", 81,
                    "DefaultActions", forward_to(f->tg1)),
          "ValidationError", "HTTPS, HTTP");
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port", 0,
                    "DefaultActions", forward_to(f->tg1)),
          "ValidationError", NULL);
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si so}", "LoadBalancerArn", "arn:x", "Protocol", "HTTP", "Port", 81,
                    "DefaultActions", forward_to(f->tg1)),
          "LoadBalancerNotFound", NULL);
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port", 81,
                    "DefaultActions", forward_to("arn:aws:elasticloadbalancing:x:targetgroup/n/1")),
          "TargetGroupNotFound", NULL);
    fails(f, api_elb_create_listener,
          json_pack("{ss ss si ss}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port", 81,
                    "DefaultActions", ""),
          "ValidationError", NULL);

    fails(f, api_elb_create_listener,
          json_pack("{ss ss ss s[{ss}] so}", "LoadBalancerArn", f->lb, "Protocol", "HTTPS",
                    "Port", "443", "Certificates", "CertificateArn",
                    "arn:aws:acm:us-east-1:123456789012:certificate/gone", "DefaultActions",
                    forward_to(f->tg1)),
          "CertificateNotFound", NULL);
    out = ok(f, api_elb_create_listener,
             json_pack("{ss ss ss s[{ss}] so}", "LoadBalancerArn", f->lb, "Protocol", "HTTPS",
                       "Port", "443", "Certificates", "CertificateArn", cert,
                       "DefaultActions",
                       J("[{'Type':'fixed-response','FixedResponseConfig':"
                         "{'StatusCode':'404','ContentType':'text/plain'}}]")));
    assert_string_equal(sget(out, "Listeners.0.SslPolicy"), "ELBSecurityPolicy-2016-08");
    assert_string_equal(sget(out, "Listeners.0.Certificates.0.CertificateArn"), cert);
    json_decref(out);

    /* ModifyListener: port clash, then a move and new default actions. */
    fails(f, api_elb_modify_listener, json_pack("{ss si}", "ListenerArn", f->listener, "Port", 443),
          "DuplicateListener", NULL);
    out = ok(f, api_elb_modify_listener,
             json_pack("{ss ss so}", "ListenerArn", f->listener, "Port", "8080", "DefaultActions",
                       forward_to(f->tg2)));
    assert_int_equal(json_integer_value(jget(out, "Listeners.0.Port")), 8080);
    json_decref(out);
    rules = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    assert_string_equal(sget(rules, "Rules.0.Actions.0.TargetGroupArn"), f->tg2);
    json_decref(rules);
    /* Port 80 is free again. */
    json_decref(ok(f, api_elb_create_listener,
                   json_pack("{ss ss si so}", "LoadBalancerArn", f->lb, "Protocol", "HTTP", "Port",
                             80, "DefaultActions", forward_to(f->tg1))));
    fails(f, api_elb_modify_listener,
          json_pack("{ss ss}", "ListenerArn", f->listener, "Protocol", "HTTPS"),
          "ValidationError", "certificate");

    out = ok(f, api_elb_describe_listeners, json_pack("{ss}", "LoadBalancerArn", f->lb));
    assert_int_equal(json_array_size(json_object_get(out, "Listeners")), 3);
    assert_int_equal(json_integer_value(jget(out, "Listeners.0.Port")), 80);
    assert_int_equal(json_integer_value(jget(out, "Listeners.1.Port")), 443);
    assert_int_equal(json_integer_value(jget(out, "Listeners.2.Port")), 8080);
    json_decref(out);
    fails(f, api_elb_describe_listeners, json_object(), "ValidationError", NULL);
    fails(f, api_elb_describe_listeners,
          json_pack("{ss s[s]}", "LoadBalancerArn", f->lb, "ListenerArns", f->listener),
          "ValidationError", NULL);

    json_decref(ok(f, api_elb_delete_listener, json_pack("{ss}", "ListenerArn", f->listener)));
    fails(f, api_elb_delete_listener, json_pack("{ss}", "ListenerArn", f->listener), "ListenerNotFound",
          NULL);
    fails(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener), "ListenerNotFound",
          NULL);
}

/* ---- conditions ---- */

struct cond_ok {
    const char *conds;
    const char *field, *config, *value; /* first condition's normalized form */
    int legacy;                          /* "Values" expected too */
};

static void test_conditions_valid_forms(void **state)
{
    struct fixture *f = *state;
    static const struct cond_ok cases[] = {
        {"[{'Field':'host-header','Values':['*.example.com']}]", "host-header",
         "HostHeaderConfig", "*.example.com", 1},
        {"[{'Field':'host-header','HostHeaderConfig':{'Values':['a.example.com','b.example.org']"
         "}}]",
         "host-header", "HostHeaderConfig", "a.example.com", 1},
        {"[{'Field':'path-pattern','Values':['/img/*']}]", "path-pattern", "PathPatternConfig",
         "/img/*", 1},
        {"[{'Field':'path-pattern','PathPatternConfig':{'Values':['/v?/x','/api/*']}}]",
         "path-pattern", "PathPatternConfig", "/v?/x", 1},
        /* Both forms, as read back from DescribeRules, when they agree. */
        {"[{'Field':'path-pattern','Values':['/a'],'PathPatternConfig':{'Values':['/a']}}]",
         "path-pattern", "PathPatternConfig", "/a", 1},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':'User-Agent','Values':"
         "['*Mobile*']}}]",
         "http-header", "HttpHeaderConfig", "*Mobile*", 0},
        {"[{'Field':'http-request-method','HttpRequestMethodConfig':{'Values':['GET','HEAD',"
         "'CUSTOM_M-X']}}]",
         "http-request-method", "HttpRequestMethodConfig", "GET", 0},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['10.0.0.0/8','2001:db8::/32']}}]",
         "source-ip", "SourceIpConfig", "10.0.0.0/8", 0},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':'X-A','Values':['1']}},"
         "{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':'X-B','Values':['2']}},"
         "{'Field':'query-string','QueryStringConfig':{'Values':[{'Value':'v'}]}},"
         "{'Field':'query-string','QueryStringConfig':{'Values':[{'Key':'k','Value':'\\\\*'}]}},"
         "{'Field':'host-header','Values':['x.example.com']}]",
         "http-header", "HttpHeaderConfig", "1", 0},
    };
    size_t i;
    char path[128];
    json_t *out, *c;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = call(f, api_elb_create_rule, rule_req(f, (long)i + 1, J(cases[i].conds), NULL));
        if (out == NULL)
            fail_msg("case %zu: %s: %s", i, err.code, err.message);
        c = jget(out, "Rules.0.Conditions.0");
        assert_string_equal(sget(c, "Field"), cases[i].field);
        snprintf(path, sizeof(path), "%s.Values.0", cases[i].config);
        assert_string_equal(sget(c, path), cases[i].value);
        if (cases[i].legacy)
            assert_string_equal(sget(c, "Values.0"), cases[i].value);
        else
            assert_null(json_object_get(c, "Values"));
        assert_string_equal(sget(out, "Rules.0.Priority"),
                            (snprintf(path, sizeof(path), "%zu", i + 1), path));
        assert_false(json_is_true(jget(out, "Rules.0.IsDefault")));
        json_decref(out);
    }
    /* The query-string pair keeps its key and the escaped wildcard. */
    out = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    c = jget(out, "Rules.8.Conditions.3.QueryStringConfig.Values.0");
    assert_string_equal(sget(c, "Key"), "k");
    assert_string_equal(sget(c, "Value"), "\\*");
    assert_null(jget(out, "Rules.8.Conditions.2.QueryStringConfig.Values.0.Key"));
    json_decref(out);
}

struct cond_bad {
    const char *conds;
    const char *part; /* in the message */
};

static void test_conditions_invalid(void **state)
{
    struct fixture *f = *state;
    static const struct cond_bad cases[] = {
        {"[]", "at least one condition"},
        {"[{'Field':'cookie','Values':['a']}]", "must be one of"},
        {"[{'Values':['a.example.com']}]", "Field"},
        {"[{'Field':'http-header','Values':['a']}]", "not compatible"},
        {"[{'Field':'host-header','PathPatternConfig':{'Values':['/a']}}]", "not compatible"},
        {"[{'Field':'path-pattern','Values':['/a'],'PathPatternConfig':{'Values':['/b']}}]",
         "both"},
        {"[{'Field':'host-header','Values':['a.example.com','b.example.com']}]",
         "limit is '1'"},
        {"[{'Field':'host-header'}]", "must be specified"},
        {"[{'Field':'host-header','HostHeaderConfig':{'Values':[]}}]", "must be specified"},
        {"[{'Field':'host-header','HostHeaderConfig':{}}]", "must be specified"},
        {"[{'Field':'host-header','Values':['']}]", "empty"},
        {"[{'Field':'host-header','Values':['localhost']}]", "'.'"},
        {"[{'Field':'host-header','Values':['example.c0m']}]", "alphabetical"},
        {"[{'Field':'host-header','Values':['exa mple.com']}]", "not valid"},
        {"[{'Field':'host-header','Values':['a.example.com']},"
         "{'Field':'host-header','Values':['b.example.com']}]",
         "only one 'host-header'"},
        {"[{'Field':'path-pattern','Values':['/a']},{'Field':'path-pattern','Values':['/b']}]",
         "only one 'path-pattern'"},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['1.0.0.0/8']}},"
         "{'Field':'source-ip','SourceIpConfig':{'Values':['2.0.0.0/8']}}]",
         "only one 'source-ip'"},
        {"[{'Field':'http-request-method','HttpRequestMethodConfig':{'Values':['GET']}},"
         "{'Field':'http-request-method','HttpRequestMethodConfig':{'Values':['PUT']}}]",
         "only one 'http-request-method'"},
        {"[{'Field':'path-pattern','Values':['/a b']}]", "not valid"},
        {"[{'Field':'path-pattern','PathPatternConfig':{'Values':['/"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']}}]",
         "limit is '128'"},
        {"[{'Field':'http-header','HttpHeaderConfig':{'Values':['a']}}]", "HttpHeaderName"},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':'Host','Values':['a']}}]",
         "host-header"},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':'X A','Values':['a']}}]",
         "HttpHeaderName"},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':'X-*','Values':['a']}}]",
         "HttpHeaderName"},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':"
         "'X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','Values':['a']}}]",
         "1-40"},
        {"[{'Field':'http-header'}]", "HttpHeaderConfig"},
        {"[{'Field':'http-request-method','HttpRequestMethodConfig':{'Values':['get']}}]",
         "A-Z"},
        {"[{'Field':'http-request-method','Values':['GET']}]", "not compatible"},
        {"[{'Field':'query-string','QueryStringConfig':{'Values':[{'Key':'a'}]}}]",
         "'Value' must be specified"},
        {"[{'Field':'query-string','QueryStringConfig':{'Values':['a']}}]",
         "QueryStringKeyValuePair"},
        {"[{'Field':'query-string','QueryStringConfig':{'Values':[{'Value':'a b'}]}}]",
         "not valid"},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['10.0.0.1']}}]", "CIDR"},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['10.0.0.0/33']}}]", "out of range"},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['300.0.0.0/8']}}]", "CIDR"},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['::1/129']}}]", "out of range"},
        {"[{'Field':'source-ip','SourceIpConfig':{'Values':['10.0.0.0/']}}]", "prefix"},
        {"[{'Field':'path-pattern','PathPatternConfig':{'Values':['/a','/b','/c']}},"
         "{'Field':'host-header','HostHeaderConfig':{'Values':['a.b.com','c.d.com','e.f.com']}}]",
         "'5' condition values"},
        {"[{'Field':'path-pattern','PathPatternConfig':{'Values':['/*/*/*','/?/?/?']}}]",
         "'5' wildcards"},
        {"[{'Field':'host-header','RegexValues':['^a']}]", "RegexValues"},
        {"[{'Field':'host-header','HostHeaderConfig':{'RegexValues':['^a']}}]", "RegexValues"},
        /* Mistyped members. */
        {"['host-header']", "RuleCondition"},
        {"[{'Field':7,'Values':['a.b.com']}]", "string"},
        {"[{'Field':'host-header','Values':'a.b.com'}]", "list"},
        {"[{'Field':'host-header','Values':[7]}]", "strings"},
        {"[{'Field':'host-header','HostHeaderConfig':'a.b.com'}]", "structure"},
        {"[{'Field':'host-header','HostHeaderConfig':{'Values':{'a':1}}}]", "list"},
        {"[{'Field':'http-header','HttpHeaderConfig':{'HttpHeaderName':['x'],'Values':['a']}}]",
         "string"},
        {"[{'Field':'query-string','QueryStringConfig':{'Values':[{'Value':5}]}}]", "strings"},
        {"[null]", "RuleCondition"},
    };
    size_t i;
    json_t *out;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = call(f, api_elb_create_rule, rule_req(f, 10, J(cases[i].conds), NULL));
        if (out != NULL)
            fail_msg("case %zu (%s) succeeded", i, cases[i].conds);
        if (strcmp(err.code, "ValidationError") != 0 || strstr(err.message, cases[i].part) == NULL)
            fail_msg("case %zu (%s): %s: %s (wanted '%s')", i, cases[i].conds, err.code,
                     err.message, cases[i].part);
    }
    /* Nothing was created by any of them. */
    out = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    assert_int_equal(json_array_size(json_object_get(out, "Rules")), 1);
    json_decref(out);
    fails(f, api_elb_create_rule,
          json_pack("{ss ss si so}", "ListenerArn", f->listener, "Conditions", "not-a-list",
                    "Priority", 1, "Actions", forward_to(f->tg1)),
          "ValidationError", NULL);
}

/* elb_conditions_param is pure: it can be driven without a store. */
static void test_conditions_param_direct(void **state)
{
    json_t *in = J("[{'Field':'host-header','HostHeaderConfig':{'Values':['A.Example.com']}}]");
    json_t *out = elb_conditions_normalize(in, &err);

    (void)state;
    assert_non_null(out);
    assert_string_equal(sget(out, "0.Values.0"), "A.Example.com");
    assert_string_equal(sget(out, "0.HostHeaderConfig.Values.0"), "A.Example.com");
    /* The input is not modified. */
    assert_null(json_object_get(json_array_get(in, 0), "Values"));
    json_decref(out);
    json_decref(in);
    in = json_string("x");
    assert_null(elb_conditions_normalize(in, &err));
    assert_string_equal(err.code, "ValidationError");
    json_decref(in);
}

/* ---- actions ---- */

struct act_bad {
    const char *actions;
    const char *code, *part;
};

static void test_actions_invalid(void **state)
{
    struct fixture *f = *state;
    static const struct act_bad cases[] = {
        {"[{'Type':'teleport'}]", "ValidationError", "enum"},
        {"[{}]", "ValidationError", "Type"},
        {"[{'Type':'authenticate-oidc','Order':1},{'Type':'forward','TargetGroupArn':'TG1',"
         "'Order':2}]",
         "ValidationError", "not supported"},
        {"[{'Type':'authenticate-cognito'}]", "ValidationError", "not supported"},
        {"[{'Type':'jwt-validation'}]", "ValidationError", "not supported"},
        {"[{'Type':'forward'}]", "ValidationError", "TargetGroupArn"},
        {"[{'Type':'forward','TargetGroupArn':'arn:aws:elasticloadbalancing:us-east-1:"
         "123456789012:targetgroup/gone/1'}]",
         "TargetGroupNotFound", "gone"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1',"
         "'Weight':1000}]}}]",
         "ValidationError", "between 0 and 999"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1'},"
         "{'TargetGroupArn':'TG1'}]}}]",
         "InvalidLoadBalancerAction", "more than once"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1'},"
         "{'TargetGroupArn':'TG2'},{'TargetGroupArn':'TG2'},{'TargetGroupArn':'TG2'},"
         "{'TargetGroupArn':'TG2'},{'TargetGroupArn':'TG2'}]}}]",
         "ValidationError", "at most 5"},
        {"[{'Type':'forward','TargetGroupArn':'TG1','ForwardConfig':{'TargetGroups':"
         "[{'TargetGroupArn':'TG2'}]}}]",
         "InvalidLoadBalancerAction", "exactly that one"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1'}],"
         "'TargetGroupStickinessConfig':{'Enabled':true}}}]",
         "ValidationError", "DurationSeconds"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1'}],"
         "'TargetGroupStickinessConfig':{'Enabled':'yes','DurationSeconds':5}}}]",
         "ValidationError", "boolean"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1'}],"
         "'TargetGroupStickinessConfig':{'Enabled':true,'DurationSeconds':604801}}}]",
         "ValidationError", "between 1 and 604800"},
        {"[{'Type':'forward','TargetGroupArn':'TG1','RedirectConfig':{'StatusCode':'HTTP_301'}}]",
         "InvalidLoadBalancerAction", "RedirectConfig"},
        {"[{'Type':'redirect'}]", "ValidationError", "RedirectConfig"},
        {"[{'Type':'redirect','RedirectConfig':{'Protocol':'HTTPS'}}]", "ValidationError",
         "StatusCode"},
        {"[{'Type':'redirect','RedirectConfig':{'Protocol':'HTTPS','StatusCode':'HTTP_307'}}]",
         "ValidationError", "enum"},
        {"[{'Type':'redirect','RedirectConfig':{'StatusCode':'HTTP_301'}}]", "ValidationError",
         "redirect configuration is not valid"},
        {"[{'Type':'redirect','RedirectConfig':{'Host':'#{host}','Path':'/#{path}',"
         "'StatusCode':'HTTP_302'}}]",
         "ValidationError", "redirect configuration is not valid"},
        {"[{'Type':'redirect','RedirectConfig':{'Protocol':'FTP','StatusCode':'HTTP_301'}}]",
         "ValidationError", "Protocol"},
        {"[{'Type':'redirect','RedirectConfig':{'Port':'70000','StatusCode':'HTTP_301'}}]",
         "ValidationError", "65535"},
        {"[{'Type':'redirect','RedirectConfig':{'Path':'new','StatusCode':'HTTP_301'}}]",
         "ValidationError", "start with '/'"},
        {"[{'Type':'redirect','RedirectConfig':{'Host':'','StatusCode':'HTTP_301'}}]",
         "ValidationError", "length"},
        {"[{'Type':'fixed-response'}]", "ValidationError", "FixedResponseConfig"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{}}]", "ValidationError",
         "StatusCode"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':'302'}}]",
         "ValidationError", "(2|4|5)"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':'20'}}]",
         "ValidationError", "(2|4|5)"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':'200','ContentType':"
         "'image/png'}}]",
         "InvalidLoadBalancerAction", "ContentType"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':'200'},"
         "'TargetGroupArn':'TG1'}]",
         "InvalidLoadBalancerAction", "TargetGroupArn"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':'200'}},"
         "{'Type':'forward','TargetGroupArn':'TG1'}]",
         "ValidationError", "order"},
        {"[{'Type':'fixed-response','Order':1,'FixedResponseConfig':{'StatusCode':'200'}},"
         "{'Type':'forward','Order':2,'TargetGroupArn':'TG1'}]",
         "InvalidLoadBalancerAction", "only one"},
        {"[{'Type':'forward','Order':0,'TargetGroupArn':'TG1'}]", "ValidationError",
         "between 1 and 50000"},
        {"[{'Type':'forward','Order':1,'TargetGroupArn':'TG1'},"
         "{'Type':'forward','Order':1,'TargetGroupArn':'TG2'}]",
         "InvalidLoadBalancerAction", "more than one"},
        /* Mistyped members. */
        {"['forward']", "ValidationError", "Action"},
        {"[{'Type':'forward','ForwardConfig':'TG1'}]", "ValidationError", "structure"},
        {"[{'Type':'forward','TargetGroupArn':{'a':1}}]", "ValidationError", "string"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':'x'}}]", "ValidationError", "list"},
        {"[{'Type':'forward','ForwardConfig':{'TargetGroups':[7]}}]", "ValidationError",
         "TargetGroupTuple"},
        {"[{'Type':'redirect','RedirectConfig':{'StatusCode':301}}]", "ValidationError",
         "string"},
        {"[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':[200]}}]",
         "ValidationError", "string"},
        {"[{'Type':['forward']}]", "ValidationError", "string"},
    };
    char buf[2048], *p;
    size_t i;
    json_t *out;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* TG1 / TG2 stand for the fixture's target groups. */
        snprintf(buf, sizeof(buf), "%s", cases[i].actions);
        while ((p = strstr(buf, "TG1")) || (p = strstr(buf, "TG2"))) {
            char rest[2048];
            snprintf(rest, sizeof(rest), "%s", p + 3);
            snprintf(p, sizeof(buf) - (size_t)(p - buf), "%s%s", p[2] == '1' ? f->tg1 : f->tg2,
                     rest);
        }
        out = call(f, api_elb_create_rule,
                   rule_req(f, 10, J("[{'Field':'path-pattern','Values':['/x']}]"), J(buf)));
        if (out != NULL)
            fail_msg("case %zu (%s) succeeded", i, cases[i].actions);
        if (strcmp(err.code, cases[i].code) != 0 || strstr(err.message, cases[i].part) == NULL)
            fail_msg("case %zu (%s): %s: %s (wanted %s '%s')", i, cases[i].actions, err.code,
                     err.message, cases[i].code, cases[i].part);
    }
}

static void test_actions_normalized(void **state)
{
    struct fixture *f = *state;
    struct store_txn *txn;
    json_t *in, *out, *a;

    assert_int_equal(store_read_begin(f->ctx.store, &txn, &err), SL_OK);
    /* A single-group forward gains ForwardConfig, as AWS reports it. */
    in = forward_to(f->tg1);
    out = elb_actions_normalize(in, "Actions", &err);
    assert_non_null(out);
    a = json_array_get(out, 0);
    assert_int_equal(json_integer_value(json_object_get(a, "Order")), 1);
    assert_string_equal(sget(a, "TargetGroupArn"), f->tg1);
    assert_string_equal(sget(a, "ForwardConfig.TargetGroups.0.TargetGroupArn"), f->tg1);
    assert_int_equal(json_integer_value(jget(a, "ForwardConfig.TargetGroups.0.Weight")), 1);
    assert_true(json_is_false(jget(a, "ForwardConfig.TargetGroupStickinessConfig.Enabled")));
    json_decref(out);
    json_decref(in);

    /* Weighted groups (Query strings or JSON ints), stickiness. */
    in = json_pack("[{ss ss s{s[{ss ss}{ss si}] s{ss ss}}}]", "Type", "forward", "Order", "7",
                   "ForwardConfig", "TargetGroups", "TargetGroupArn", f->tg1, "Weight", "0",
                   "TargetGroupArn", f->tg2, "Weight", 1, "TargetGroupStickinessConfig",
                   "Enabled", "true", "DurationSeconds", "3600");
    out = elb_actions_normalize(in, "Actions", &err);
    assert_non_null(out);
    a = json_array_get(out, 0);
    assert_int_equal(json_integer_value(json_object_get(a, "Order")), 7);
    assert_null(json_object_get(a, "TargetGroupArn"));
    assert_int_equal(json_integer_value(jget(a, "ForwardConfig.TargetGroups.0.Weight")), 0);
    assert_int_equal(json_integer_value(jget(a, "ForwardConfig.TargetGroups.1.Weight")), 1);
    assert_true(json_is_true(jget(a, "ForwardConfig.TargetGroupStickinessConfig.Enabled")));
    assert_int_equal(
        json_integer_value(jget(a, "ForwardConfig.TargetGroupStickinessConfig.DurationSeconds")),
        3600);
    json_decref(out);
    json_decref(in);

    /* TargetGroupArn plus an agreeing ForwardConfig. */
    in = json_pack("[{ss ss s{s[{ss si}]}}]", "Type", "forward", "TargetGroupArn", f->tg2,
                   "ForwardConfig", "TargetGroups", "TargetGroupArn", f->tg2, "Weight", 5);
    out = elb_actions_normalize(in, "Actions", &err);
    assert_non_null(out);
    assert_int_equal(json_integer_value(jget(out, "0.ForwardConfig.TargetGroups.0.Weight")), 5);
    json_decref(out);
    json_decref(in);

    /* Redirect defaults are filled in; Port may be a JSON int. */
    in = J("[{'Type':'redirect','RedirectConfig':{'Protocol':'HTTPS','Port':443,"
           "'StatusCode':'HTTP_301'}}]");
    out = elb_actions_normalize(in, "Actions", &err);
    assert_non_null(out);
    assert_string_equal(sget(out, "0.RedirectConfig.Port"), "443");
    assert_string_equal(sget(out, "0.RedirectConfig.Host"), "#{host}");
    assert_string_equal(sget(out, "0.RedirectConfig.Path"), "/#{path}");
    assert_string_equal(sget(out, "0.RedirectConfig.Query"), "#{query}");
    assert_string_equal(sget(out, "0.RedirectConfig.StatusCode"), "HTTP_301");
    json_decref(out);
    json_decref(in);

    /* Fixed response: StatusCode may be a JSON int; body up to 1024. */
    in = J("[{'Type':'fixed-response','FixedResponseConfig':{'StatusCode':503,"
           "'ContentType':'application/json','MessageBody':'{}'}}]");
    out = elb_actions_normalize(in, "Actions", &err);
    assert_non_null(out);
    assert_string_equal(sget(out, "0.FixedResponseConfig.StatusCode"), "503");
    assert_string_equal(sget(out, "0.FixedResponseConfig.MessageBody"), "{}");
    json_decref(out);
    json_decref(in);
    {
        char body[1100];
        memset(body, 'x', sizeof(body) - 1);
        body[sizeof(body) - 1] = '\0';
        in = json_pack("[{ss s{ss ss}}]", "Type", "fixed-response", "FixedResponseConfig",
                       "StatusCode", "200", "MessageBody", body);
        assert_null(elb_actions_normalize(in, "Actions", &err));
        assert_string_equal(err.code, "ValidationError");
        json_decref(in);
    }
    in = json_array();
    assert_null(elb_actions_normalize(in, "DefaultActions", &err));
    assert_string_equal(err.code, "ValidationError");
    json_decref(in);
    store_txn_end(txn);
}

/* ---- priorities, modify, delete ---- */

static json_t *path_cond(const char *path)
{
    return json_pack("[{ss s[s]}]", "Field", "path-pattern", "Values", path);
}

static const char *create_rule(struct fixture *f, json_t *prio, const char *path, char *arn_out)
{
    json_t *out = ok(f, api_elb_create_rule,
                     json_pack("{ss so so so}", "ListenerArn", f->listener, "Conditions",
                               path_cond(path), "Priority", prio, "Actions", forward_to(f->tg1)));

    snprintf(arn_out, ELB_ARN_MAX, "%s", sget(out, "Rules.0.RuleArn"));
    json_decref(out);
    return arn_out;
}

static void test_priorities(void **state)
{
    struct fixture *f = *state;
    char r10[ELB_ARN_MAX], r9[ELB_ARN_MAX], r100[ELB_ARN_MAX], def[ELB_ARN_MAX];
    json_t *out;

    create_rule(f, json_string("10"), "/ten", r10); /* Query form: a string */
    create_rule(f, json_integer(9), "/nine", r9);  /* JSON form: an int */
    create_rule(f, json_string("100"), "/hundred", r100);
    fails(f, api_elb_create_rule,
          json_pack("{ss so ss so}", "ListenerArn", f->listener, "Conditions", path_cond("/x"),
                    "Priority", "9", "Actions", forward_to(f->tg1)),
          "PriorityInUse", "9");
    fails(f, api_elb_create_rule,
          json_pack("{ss so ss so}", "ListenerArn", f->listener, "Conditions", path_cond("/x"),
                    "Priority", "50001", "Actions", forward_to(f->tg1)),
          "ValidationError", "50000");
    fails(f, api_elb_create_rule,
          json_pack("{ss so ss so}", "ListenerArn", f->listener, "Conditions", path_cond("/x"),
                    "Priority", "ten", "Actions", forward_to(f->tg1)),
          "ValidationError", "integer");
    fails(f, api_elb_create_rule,
          json_pack("{ss so so}", "ListenerArn", f->listener, "Conditions", path_cond("/x"),
                    "Actions", forward_to(f->tg1)),
          "ValidationError", "Priority");
    fails(f, api_elb_create_rule,
          json_pack("{ss so ss so}", "ListenerArn", "arn:nope", "Conditions", path_cond("/x"),
                    "Priority", "1", "Actions", forward_to(f->tg1)),
          "ListenerNotFound", NULL);

    /* Numeric order, default last. */
    out = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    assert_string_equal(sget(out, "Rules.0.Priority"), "9");
    assert_string_equal(sget(out, "Rules.1.Priority"), "10");
    assert_string_equal(sget(out, "Rules.2.Priority"), "100");
    assert_string_equal(sget(out, "Rules.3.Priority"), "default");
    snprintf(def, sizeof(def), "%s", sget(out, "Rules.3.RuleArn"));
    json_decref(out);
    out = ok(f, api_elb_describe_rules,
             json_pack("{ss si}", "ListenerArn", f->listener, "PageSize", 3));
    assert_int_equal(json_array_size(json_object_get(out, "Rules")), 3);
    assert_string_equal(sget(out, "NextMarker"), "3");
    json_decref(out);
    out = ok(f, api_elb_describe_rules,
             json_pack("{ss ss ss}", "ListenerArn", f->listener, "PageSize", "3", "Marker", "3"));
    assert_int_equal(json_array_size(json_object_get(out, "Rules")), 1);
    assert_null(json_object_get(out, "NextMarker"));
    json_decref(out);
    out = ok(f, api_elb_describe_rules, json_pack("{s[ss]}", "RuleArns", def, r100));
    assert_string_equal(sget(out, "Rules.0.RuleArn"), r100);
    json_decref(out);
    fails(f, api_elb_describe_rules, json_object(), "ValidationError", NULL);
    fails(f, api_elb_describe_rules, json_pack("{s[s]}", "RuleArns", "arn:gone"), "RuleNotFound",
          NULL);

    /* Swapping 9 and 10 in one call works. */
    out = ok(f, api_elb_set_rule_priorities,
             json_pack("{s[{ss ss}{ss si}]}", "RulePriorities", "RuleArn", r9, "Priority", "10",
                       "RuleArn", r10, "Priority", 9));
    assert_int_equal(json_array_size(json_object_get(out, "Rules")), 2);
    assert_string_equal(sget(out, "Rules.0.Priority"), "10");
    json_decref(out);
    out = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    assert_string_equal(sget(out, "Rules.0.RuleArn"), r10);
    assert_string_equal(sget(out, "Rules.1.RuleArn"), r9);
    json_decref(out);
    /* Moving onto a priority whose holder stays is refused, applying nothing. */
    fails(f, api_elb_set_rule_priorities,
          json_pack("{s[{ss si}{ss si}]}", "RulePriorities", "RuleArn", r9, "Priority", 1,
                    "RuleArn", r10, "Priority", 100),
          "PriorityInUse", "100");
    fails(f, api_elb_set_rule_priorities,
          json_pack("{s[{ss si}{ss si}]}", "RulePriorities", "RuleArn", r9, "Priority", 1,
                    "RuleArn", r10, "Priority", 1),
          "ValidationError", "multiple");
    fails(f, api_elb_set_rule_priorities,
          json_pack("{s[{ss si}]}", "RulePriorities", "RuleArn", def, "Priority", 7),
          "OperationNotPermitted", NULL);
    fails(f, api_elb_set_rule_priorities,
          json_pack("{s[{ss si}]}", "RulePriorities", "RuleArn", "arn:gone", "Priority", 7),
          "RuleNotFound", NULL);
    fails(f, api_elb_set_rule_priorities, json_pack("{ss}", "RulePriorities", ""), "ValidationError",
          NULL);
    out = ok(f, api_elb_describe_rules, json_pack("{s[s]}", "RuleArns", r9));
    assert_string_equal(sget(out, "Rules.0.Priority"), "10");
    json_decref(out);
    /* The old priority of a moved rule is free. */
    json_decref(ok(f, api_elb_set_rule_priorities,
                   json_pack("{s[{ss si}]}", "RulePriorities", "RuleArn", r9, "Priority", 1)));
    create_rule(f, json_integer(10), "/again", r9);
}

static void test_modify_and_delete_rule(void **state)
{
    struct fixture *f = *state;
    char r[ELB_ARN_MAX], def[ELB_ARN_MAX];
    json_t *out;

    create_rule(f, json_integer(5), "/a", r);
    out = ok(f, api_elb_describe_rules, json_pack("{ss}", "ListenerArn", f->listener));
    snprintf(def, sizeof(def), "%s", sget(out, "Rules.1.RuleArn"));
    json_decref(out);

    out = ok(f, api_elb_modify_rule,
             json_pack("{ss so}", "RuleArn", r, "Conditions",
                       J("[{'Field':'host-header','Values':['api.example.com']}]")));
    assert_string_equal(sget(out, "Rules.0.Conditions.0.Field"), "host-header");
    assert_string_equal(sget(out, "Rules.0.Actions.0.TargetGroupArn"), f->tg1);
    assert_string_equal(sget(out, "Rules.0.Priority"), "5");
    json_decref(out);
    out = ok(f, api_elb_modify_rule, json_pack("{ss so}", "RuleArn", r, "Actions", forward_to(f->tg2)));
    assert_string_equal(sget(out, "Rules.0.Actions.0.TargetGroupArn"), f->tg2);
    assert_string_equal(sget(out, "Rules.0.Conditions.0.Values.0"), "api.example.com");
    json_decref(out);
    fails(f, api_elb_modify_rule, json_pack("{ss ss}", "RuleArn", r, "Conditions", ""),
          "ValidationError", "at least one");
    fails(f, api_elb_modify_rule, json_pack("{ss so}", "RuleArn", def, "Actions", forward_to(f->tg2)),
          "OperationNotPermitted", NULL);
    fails(f, api_elb_modify_rule, json_pack("{ss so}", "RuleArn", "arn:gone", "Actions",
                                       forward_to(f->tg2)),
          "RuleNotFound", NULL);
    fails(f, api_elb_modify_rule,
          json_pack("{ss so}", "RuleArn", r, "Actions",
                    forward_to("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1")),
          "TargetGroupNotFound", NULL);

    fails(f, api_elb_delete_rule, json_pack("{ss}", "RuleArn", def), "OperationNotPermitted", NULL);
    json_decref(ok(f, api_elb_delete_rule, json_pack("{ss}", "RuleArn", r)));
    fails(f, api_elb_delete_rule, json_pack("{ss}", "RuleArn", r), "RuleNotFound", NULL);
    fails(f, api_elb_delete_rule, json_object(), "ValidationError", "RuleArn");
    /* Its priority is free again. */
    create_rule(f, json_integer(5), "/b", r);
}

static void test_too_many_rules(void **state)
{
    struct fixture *f = *state;
    char arn[ELB_ARN_MAX];
    long i;

    for (i = 1; i <= 100; i++)
        create_rule(f, json_integer(i), "/x", arn);
    fails(f, api_elb_create_rule,
          json_pack("{ss so si so}", "ListenerArn", f->listener, "Conditions", path_cond("/x"),
                    "Priority", 101, "Actions", forward_to(f->tg1)),
          "TooManyRules", NULL);
}

/* Every member replaced by every JSON type: an error or a result, never a
 * crash (run under ASan+UBSan). */
static void test_mistyped_members(void **state)
{
    struct fixture *f = *state;
    static const struct {
        api_action_fn fn;
        const char *req;
    } ops[] = {
        {api_elb_create_load_balancer, "{'Name':'z','Subnets':['s'],'SubnetMappings':[{'SubnetId':"
                                  "'s'}],'SecurityGroups':['g'],'Scheme':'internal','Type':"
                                  "'application','IpAddressType':'ipv4','Tags':[{'Key':'k'}],"
                                  "'id':'zz'}"},
        {api_elb_describe_load_balancers, "{'Names':['main'],'PageSize':1,'Marker':'0'}"},
        {api_elb_describe_load_balancers, "{'LoadBalancerArns':['LB']}"},
        {api_elb_describe_load_balancer_attributes, "{'LoadBalancerArn':'LB'}"},
        {api_elb_modify_load_balancer_attributes,
         "{'LoadBalancerArn':'LB','Attributes':[{'Key':'idle_timeout.timeout_seconds','Value':"
         "'9'}]}"},
        {api_elb_create_listener, "{'LoadBalancerArn':'LB','Protocol':'HTTPS','Port':444,"
                             "'Certificates':[{'CertificateArn':'c'}],'SslPolicy':'p',"
                             "'DefaultActions':[{'Type':'forward','TargetGroupArn':'TG1'}],"
                             "'Tags':[{'Key':'k','Value':'v'}]}"},
        {api_elb_describe_listeners, "{'ListenerArns':['LI'],'PageSize':5}"},
        {api_elb_modify_listener, "{'ListenerArn':'LI','Port':81,'Protocol':'HTTP','DefaultActions':"
                             "[{'Type':'forward','TargetGroupArn':'TG1'}]}"},
        {api_elb_create_rule,
         "{'ListenerArn':'LI','Priority':3,'Conditions':[{'Field':'path-pattern',"
         "'PathPatternConfig':{'Values':['/a']}}],'Actions':[{'Type':'forward','Order':1,"
         "'ForwardConfig':{'TargetGroups':[{'TargetGroupArn':'TG1','Weight':1}],"
         "'TargetGroupStickinessConfig':{'Enabled':true,'DurationSeconds':5}}}],"
         "'Tags':[{'Key':'k'}]}"},
        {api_elb_describe_rules, "{'ListenerArn':'LI','Marker':'0','PageSize':2}"},
        {api_elb_set_rule_priorities, "{'RulePriorities':[{'RuleArn':'arn:gone','Priority':4}]}"},
        {api_elb_modify_rule, "{'RuleArn':'arn:gone','Conditions':[{'Field':'host-header','Values':"
                         "['a.b.com']}]}"},
        {api_elb_delete_rule, "{'RuleArn':'arn:gone'}"},
        {api_elb_delete_listener, "{'ListenerArn':'arn:gone'}"},
        {api_elb_delete_load_balancer, "{'LoadBalancerArn':'arn:gone'}"},
        {api_elb_set_security_groups, "{'LoadBalancerArn':'LB','SecurityGroups':['a','b']}"},
        {api_elb_set_subnets, "{'LoadBalancerArn':'LB','Subnets':['s1'],'IpAddressType':'ipv4'}"},
        {api_elb_set_ip_address_type, "{'LoadBalancerArn':'LB','IpAddressType':'ipv4'}"},
        {api_elb_describe_capacity_reservation, "{'LoadBalancerArn':'LB'}"},
        {api_elb_modify_capacity_reservation,
         "{'LoadBalancerArn':'LB','ResetCapacityReservation':true}"},
        {api_elb_describe_account_limits, "{'PageSize':2,'Marker':'0'}"},
        {api_elb_describe_trust_stores, "{'Names':['n'],'TrustStoreArns':['a']}"},
        {api_elb_describe_listener_attributes, "{'ListenerArn':'LI'}"},
        {api_elb_modify_listener_attributes,
         "{'ListenerArn':'LI','Attributes':[{'Key':'routing.http.response.server.enabled',"
         "'Value':'false'}]}"},
    };
    static const char *const junk[] = {"7", "'s'", "''", "{}", "[]", "[7]", "[{}]", "true",
                                       "null", "{'a':[1]}", "[['x']]"};
    char text[4096], *p;
    size_t i, j, k;
    json_t *base, *req, *v, *out;
    const char *key;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        snprintf(text, sizeof(text), "%s", ops[i].req);
        while ((p = strstr(text, "TG1")) || (p = strstr(text, "LB'")) ||
               (p = strstr(text, "LI'"))) {
            char rest[4096];
            const char *with = p[0] == 'T' ? f->tg1 : p[1] == 'B' ? f->lb : f->listener;
            size_t skip = p[0] == 'T' ? 3 : 2;
            snprintf(rest, sizeof(rest), "%s", p + skip);
            snprintf(p, sizeof(text) - (size_t)(p - text), "%s%s", with, rest);
        }
        base = J(text);
        json_object_foreach(base, key, v) {
            for (j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
                req = json_deep_copy(base);
                json_object_set_new(req, key, J(junk[j]));
                out = call(f, ops[i].fn, req);
                if (out == NULL)
                    assert_true(err.code[0] != '\0');
                json_decref(out);
            }
            /* One level down: each member of nested objects in lists. */
            if (json_is_array(v)) {
                json_t *first = json_array_get(v, 0);
                const char *k2;
                json_t *v2;
                json_object_foreach(first, k2, v2) {
                    for (k = 0; k < sizeof(junk) / sizeof(junk[0]); k++) {
                        req = json_deep_copy(base);
                        json_object_set_new(json_array_get(json_object_get(req, key), 0), k2,
                                            J(junk[k]));
                        out = call(f, ops[i].fn, req);
                        if (out == NULL)
                            assert_true(err.code[0] != '\0');
                        json_decref(out);
                    }
                }
            }
        }
        json_decref(base);
    }
    /* A request that is not an object at all. */
    out = call(f, api_elb_create_rule, json_string("x"));
    assert_null(out);
    assert_string_equal(err.code, "ValidationError");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lb_create_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lb_attributes_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lb_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions_valid_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions_invalid, setup, teardown),
        cmocka_unit_test(test_conditions_param_direct),
        cmocka_unit_test_setup_teardown(test_actions_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actions_normalized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify_and_delete_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mistyped_members, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
