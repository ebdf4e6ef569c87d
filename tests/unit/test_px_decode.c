/* Unit tests for proxy/decode.c: every kind decodes into its typed struct;
 * every required member, type and range is checked and named in the
 * error; the terminal action is chosen by order; members this version does
 * not know are ignored, kinds it does not know skipped, other versions
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/tls_policy.h"
#include "proxy/decode.h"
#include "proxy/desync.h"
#include "proxy/sticky.h"

static int rec(const char *text, struct pxd_record *r, struct sl_err *err)
{
    memset(err, 0, sizeof(*err));
    return pxd_record(text, strlen(text), r, err);
}

/* A put record of <kind> whose object is <obj>. */
static int put(const char *kind, const char *id, const char *obj, struct pxd_record *r,
               struct sl_err *err)
{
    char buf[4096];

    snprintf(buf, sizeof(buf),
             "{\"feed_version\":1,\"rev\":9,\"kind\":\"%s\",\"op\":\"put\",\"id\":\"%s\","
             "\"object\":%s}",
             kind, id, obj);
    return rec(buf, r, err);
}

static void expect_bad(const char *kind, const char *id, const char *obj, const char *msg)
{
    struct pxd_record r;
    struct sl_err err;

    if (put(kind, id, obj, &r, &err) != SL_EINVAL)
        fail_msg("accepted: %s", obj);
    if (strstr(err.message, msg) == NULL)
        fail_msg("message '%s' lacks '%s'", err.message, msg);
    assert_string_equal(err.code, "InvalidFeed");
}

static void test_kinds(void **state)
{
    struct pxd_record r;
    struct sl_err err;

    assert_int_equal(put("load_balancer", "b",
                         "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internet-facing\","
                         "\"idle_timeout_seconds\":17,\"future_member\":[1]}",
                         &r, &err),
                     SL_OK);
    assert_int_equal(r.type, PXD_PUT);
    assert_int_equal(r.rev, 9);
    assert_int_equal(r.obj.kind, FEED_LOAD_BALANCER);
    assert_int_equal(r.obj.u.lb.internet, 1);
    assert_int_equal(r.obj.u.lb.idle_timeout_s, 17);
    assert_string_equal(r.obj.u.lb.arn, "arn:b");
    assert_int_equal(r.obj.u.lb.access_logs.enabled, 0); /* absent: off */
    assert_int_equal(put("load_balancer", "b",
                         "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                         "\"idle_timeout_seconds\":60,\"access_logs\":{\"enabled\":true,"
                         "\"bucket\":\"my-logs\",\"prefix\":\"a/b\"},\"connection_logs\":"
                         "{\"enabled\":false,\"bucket\":\"\",\"prefix\":\"\"}}",
                         &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.u.lb.access_logs.enabled, 1);
    assert_string_equal(r.obj.u.lb.access_logs.bucket, "my-logs");
    assert_string_equal(r.obj.u.lb.access_logs.prefix, "a/b");
    assert_int_equal(r.obj.u.lb.connection_logs.enabled, 0);
    assert_int_equal(r.obj.u.lb.drop_invalid, 0);
    assert_int_equal(r.obj.u.lb.desync_mode, PX_DSM_DEFENSIVE);
    assert_int_equal(put("load_balancer", "b",
                         "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                         "\"idle_timeout_seconds\":1,\"drop_invalid_header_fields\":true,"
                         "\"desync_mitigation_mode\":\"monitor\"}",
                         &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.u.lb.drop_invalid, 1);
    assert_int_equal(r.obj.u.lb.desync_mode, PX_DSM_MONITOR);
    assert_int_equal(put("listener", "l",
                         "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
                         "\"protocol\":\"HTTPS\"}",
                         &r, &err),
                     SL_OK);
    assert_string_equal(r.obj.u.listener.lb_id, "b");
    assert_int_equal(r.obj.u.listener.port, 443);
    assert_int_equal(r.obj.u.listener.https, 1);
    assert_int_equal(put("target", "g|::1|80",
                         "{\"id\":\"g|::1|80\",\"target_group_id\":\"g\",\"address\":\"::1\","
                         "\"port\":80,\"state\":\"draining\"}",
                         &r, &err),
                     SL_OK);
    assert_string_equal(r.obj.u.target.tg_id, "g");
    assert_string_equal(r.obj.u.target.address, "::1");
    assert_int_equal(r.obj.u.target.draining, 1);
    assert_int_equal(
        put("target_group", "g",
            "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\",\"port\":80,\"algorithm\":"
            "\"weighted_random\",\"slow_start_seconds\":30,\"health_check\":{\"enabled\":false,"
            "\"protocol\":\"HTTP\",\"port\":8081,\"path\":\"/hc\",\"interval_seconds\":6,"
            "\"timeout_seconds\":3,\"healthy_threshold\":4,\"unhealthy_threshold\":3,"
            "\"matcher\":\"200,202-299\"}}",
            &r, &err),
        SL_OK);
    assert_string_equal(r.obj.u.tg.arn, "arn:g");
    assert_int_equal(r.obj.u.tg.algo, PX_ALGO_WRANDOM);
    assert_int_equal(r.obj.u.tg.slow_start_ms, 30000);
    assert_int_equal(r.obj.u.tg.hc_enabled, 0);
    assert_int_equal(r.obj.u.tg.hc_port, 8081);
    assert_string_equal(r.obj.u.tg.hc_path, "/hc");
    assert_int_equal(r.obj.u.tg.hc_interval_ms, 6000);
    assert_int_equal(r.obj.u.tg.hc_timeout_ms, 3000);
    assert_int_equal(r.obj.u.tg.hc_healthy, 4);
    assert_int_equal(r.obj.u.tg.hc_unhealthy, 3);
    assert_int_equal(r.obj.u.tg.ncodes, 2);
    assert_int_equal(r.obj.u.tg.codes[1].lo, 202);
    assert_int_equal(r.obj.u.tg.codes[1].hi, 299);
}

static void test_rule(void **state)
{
    struct pxd_record r;
    struct sl_err err;
    const struct px_rule_def *d;
    const struct px_cond *c;

    assert_int_equal(
        put("rule", "r",
            "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,\"priority\":7,"
            "\"conditions\":[{\"field\":\"host-header\",\"values\":[\"*.x.com\",\"y\"]},"
            "{\"field\":\"http-header\",\"header_name\":\"X-A\",\"values\":[\"1\"]},"
            "{\"field\":\"query-string\",\"values\":[{\"key\":\"k%20y\",\"value\":\"v%41\"},"
            "{\"value\":\"w\"}]},"
            "{\"field\":\"source-ip\",\"values\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}],"
            "\"actions\":[{\"type\":\"forward\",\"order\":2,\"target_groups\":[{\"arn\":\"g1\","
            "\"weight\":2},{\"arn\":\"g2\",\"weight\":0}]},"
            "{\"type\":\"fixed-response\",\"order\":1,\"status_code\":500},"
            "{\"type\":\"authenticate-oidc\",\"order\":3}]}",
            &r, &err),
        SL_OK);
    d = r.obj.u.rule;
    assert_non_null(d);
    assert_string_equal(d->listener_id, "l");
    assert_int_equal(d->prio, 7);
    assert_int_equal(d->is_default, 0);
    assert_int_equal(d->nconds, 4);
    c = &d->conds[0];
    assert_int_equal(c->type, PX_C_HOST);
    assert_int_equal(c->nvals, 2);
    assert_string_equal(c->vals[1], "y");
    assert_string_equal(d->conds[1].name, "X-A");
    c = &d->conds[2];
    assert_string_equal(c->keys[0], "k y"); /* percent-decoded */
    assert_string_equal(c->vals[0], "vA");
    assert_null(c->keys[1]);
    c = &d->conds[3];
    assert_int_equal(c->cidrs[0].family, AF_INET);
    assert_int_equal(c->cidrs[0].bits, 8);
    assert_int_equal(c->cidrs[1].family, AF_INET6);
    /* the forward has the highest order among the terminal types */
    assert_int_equal(d->act.type, PX_A_FORWARD);
    assert_int_equal(d->act.nfwd, 2);
    assert_int_equal(d->act.total_weight, 2);
    assert_string_equal(d->act.fwd[1].arn, "g2");
    assert_int_equal(d->act.fwd[0].slot, -1);
    pxd_obj_clear(&r.obj);
    assert_null(r.obj.u.rule);
    /* default rule; redirect */
    assert_int_equal(
        put("rule", "d",
            "{\"id\":\"d\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":true,"
            "\"conditions\":[],\"actions\":[{\"type\":\"redirect\",\"order\":1,\"status_code\":302,"
            "\"protocol\":\"HTTPS\",\"host\":\"#{host}\",\"port\":\"443\",\"path\":\"/#{path}\","
            "\"query\":\"#{query}\"}]}",
            &r, &err),
        SL_OK);
    d = r.obj.u.rule;
    assert_int_equal(d->prio, INT32_MAX);
    assert_int_equal(d->act.type, PX_A_REDIRECT);
    assert_int_equal(d->act.code, 302);
    assert_string_equal(d->act.proto, "HTTPS");
    pxd_obj_clear(&r.obj);
}

static void test_refused(void **state)
{
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"public\","
               "\"idle_timeout_seconds\":1}", "member 'scheme'");
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":0}", "member 'idle_timeout_seconds' must be an integer 1-4000");
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"desync_mitigation_mode\":\"lenient\"}",
               "member 'desync_mitigation_mode'");
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"drop_invalid_header_fields\":1}",
               "member 'drop_invalid_header_fields'");
    expect_bad("listener", "l", "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\","
               "\"port\":\"80\",\"protocol\":\"HTTP\"}", "member 'port'");
    /* a log destination must be a safe directory name */
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"access_logs\":{\"enabled\":true,\"bucket\":\"..\","
               "\"prefix\":\"\"}}", "member 'access_logs' bucket must be an S3 bucket name");
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"access_logs\":{\"enabled\":true,\"bucket\":\"logs\","
               "\"prefix\":\"a/../../etc\"}}", "member 'access_logs' prefix");
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"access_logs\":true}", "member 'access_logs'");
    expect_bad("target", "t", "{\"id\":\"t\",\"target_group_id\":\"g\",\"address\":\"\","
               "\"port\":80,\"state\":\"registered\"}", "member 'address'");
    expect_bad("target", "t", "{\"id\":\"t\",\"target_group_id\":\"g\",\"address\":\"x\","
               "\"port\":80,\"state\":\"unused\"}", "member 'state'");
    expect_bad("target", "t", "{\"id\":\"other\",\"target_group_id\":\"g\",\"address\":\"x\","
               "\"port\":80,\"state\":\"registered\"}", "carries object 'other'");
    /* the storage shape is not the feed */
    expect_bad("target", "t", "{\"id\":\"t\",\"Target\":{\"Id\":\"x\",\"Port\":80},"
               "\"_state\":\"registered\"}", "member 'target_group_id'");
    expect_bad("target_group", "g", "{\"id\":\"g\",\"arn\":\"a\",\"protocol\":\"HTTP\","
               "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,\"health_check\":{"
               "\"enabled\":true,\"protocol\":\"HTTP\",\"path\":\"/\",\"interval_seconds\":5,"
               "\"timeout_seconds\":2,\"healthy_threshold\":2,\"unhealthy_threshold\":2,"
               "\"matcher\":\"200-\"}}", "member 'health_check.matcher'");
    expect_bad("target_group", "g", "{\"id\":\"g\",\"arn\":\"a\",\"protocol\":\"HTTP\","
               "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0}", "member 'health_check'");
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,"
               "\"conditions\":[],\"actions\":[]}", "member 'priority'");
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,"
               "\"priority\":1,\"conditions\":[{\"field\":\"path-pattern\",\"values\":[]}],"
               "\"actions\":[]}", "conditions.values");
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,"
               "\"priority\":1,\"conditions\":[{\"field\":\"source-ip\",\"values\":[\"10.0.0.0/33\"]}],"
               "\"actions\":[]}", "CIDR");
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,"
               "\"priority\":1,\"conditions\":[{\"field\":\"cookie\",\"values\":[\"x\"]}],"
               "\"actions\":[]}", "member 'field'");
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,"
               "\"priority\":1,\"conditions\":[],\"actions\":[{\"type\":\"forward\",\"order\":1,"
               "\"target_groups\":[]}]}", "1-5 groups");
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":false,"
               "\"priority\":1,\"conditions\":[],\"actions\":[{\"type\":\"fixed-response\","
               "\"order\":1,\"status_code\":700}]}", "member 'status_code'");
}

/* The attributes the feed carries for the proxy to apply: defaults when
 * absent (an older sluiced), values when present, bad ones refused. */
static void test_attributes(void **state)
{
    struct pxd_record r;
    struct sl_err err;
    const char *hc = "\"health_check\":{\"enabled\":true,\"protocol\":\"HTTP\",\"path\":\"/\","
                     "\"interval_seconds\":5,\"timeout_seconds\":2,\"healthy_threshold\":2,"
                     "\"unhealthy_threshold\":2,\"matcher\":\"200\"}";
    char obj[1024];
    unsigned char derived[PX_STICK_KEY_LEN];

    assert_int_equal(put("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":"
                         "\"internal\",\"idle_timeout_seconds\":60}", &r, &err), SL_OK);
    assert_int_equal(r.obj.u.lb.xff_mode, PX_XFF_APPEND);
    assert_int_equal(r.obj.u.lb.xff_port, 0);
    assert_int_equal(r.obj.u.lb.preserve_host, 0);
    assert_int_equal(r.obj.u.lb.keep_alive_s, 3600);
    assert_int_equal(put("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":"
                         "\"internal\",\"idle_timeout_seconds\":60,\"xff_mode\":\"remove\","
                         "\"xff_client_port\":true,\"preserve_host_header\":true,"
                         "\"client_keep_alive_seconds\":120}", &r, &err), SL_OK);
    assert_int_equal(r.obj.u.lb.xff_mode, PX_XFF_REMOVE);
    assert_int_equal(r.obj.u.lb.xff_port, 1);
    assert_int_equal(r.obj.u.lb.preserve_host, 1);
    assert_int_equal(r.obj.u.lb.keep_alive_s, 120);
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"xff_mode\":\"drop\"}", "member 'xff_mode'");
    expect_bad("load_balancer", "b", "{\"id\":\"b\",\"arn\":\"a\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":1,\"client_keep_alive_seconds\":5}",
               "member 'client_keep_alive_seconds'");
    assert_int_equal(put("listener", "l", "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\","
                         "\"port\":80,\"protocol\":\"HTTP\"}", &r, &err), SL_OK);
    assert_int_equal(r.obj.u.listener.server_header, 1);
    assert_int_equal(put("listener", "l", "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\","
                         "\"port\":80,\"protocol\":\"HTTP\",\"server_header\":false}", &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.u.listener.server_header, 0);
    snprintf(obj, sizeof(obj), "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\","
             "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,%s,\"stickiness\":{"
             "\"enabled\":true,\"type\":\"app_cookie\",\"app_cookie_name\":\"SESS\","
             "\"app_cookie_duration_seconds\":30,\"cookie_key\":\"00ff%060d\"}}", hc, 0);
    assert_int_equal(put("target_group", "g", obj, &r, &err), SL_OK);
    assert_int_equal(r.obj.u.tg.stick, PX_STICK_APP);
    assert_string_equal(r.obj.u.tg.stick_app_name, "SESS");
    assert_int_equal(r.obj.u.tg.stick_app_s, 30);
    assert_int_equal(r.obj.u.tg.stick_lb_s, 86400);
    assert_int_equal(r.obj.u.tg.stick_key[0], 0);
    assert_int_equal(r.obj.u.tg.stick_key[1], 0xff);
    /* no key in the feed: derived from the arn, the same in every proxy */
    snprintf(obj, sizeof(obj), "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\","
             "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,%s,\"stickiness\":{"
             "\"enabled\":true,\"type\":\"lb_cookie\",\"lb_cookie_duration_seconds\":9}}", hc);
    assert_int_equal(put("target_group", "g", obj, &r, &err), SL_OK);
    assert_int_equal(r.obj.u.tg.stick, PX_STICK_LB);
    assert_int_equal(r.obj.u.tg.stick_lb_s, 9);
    px_sticky_derive_key("arn:g", derived);
    assert_memory_equal(r.obj.u.tg.stick_key, derived, sizeof(derived));
    snprintf(obj, sizeof(obj), "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\","
             "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,%s,\"stickiness\":{"
             "\"enabled\":true,\"type\":\"app_cookie\"}}", hc);
    expect_bad("target_group", "g", obj, "stickiness.app_cookie_name");
    snprintf(obj, sizeof(obj), "{\"id\":\"g\",\"arn\":\"arn:g\",\"protocol\":\"HTTP\","
             "\"algorithm\":\"round_robin\",\"slow_start_seconds\":0,%s,\"stickiness\":{"
             "\"enabled\":false,\"type\":\"lb_cookie\",\"cookie_key\":\"xyz\"}}", hc);
    expect_bad("target_group", "g", obj, "stickiness.cookie_key");
    assert_int_equal(put("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\","
                         "\"is_default\":true,\"conditions\":[],\"actions\":[{\"type\":\"forward\","
                         "\"order\":1,\"target_groups\":[{\"arn\":\"g\",\"weight\":1}],"
                         "\"stickiness\":{\"enabled\":true,\"duration_seconds\":300}}]}", &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.u.rule->act.tg_stick_s, 300);
    pxd_obj_clear(&r.obj);
    expect_bad("rule", "r", "{\"id\":\"r\",\"arn\":\"a\",\"listener_id\":\"l\",\"is_default\":true,"
               "\"conditions\":[],\"actions\":[{\"type\":\"forward\",\"order\":1,\"target_groups\":"
               "[{\"arn\":\"g\",\"weight\":1}],\"stickiness\":{\"enabled\":true,"
               "\"duration_seconds\":0}}]}", "member 'duration_seconds'");
}

#define PEM_C "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
#define PEM_K "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\\n"

/* The members of issue 14: certificates, an HTTPS listener's policy, ALPN
 * and certificate list, a load balancer's http2 and TLS-header attributes;
 * each absent member means the AWS default. */
static void test_tls_members(void **state)
{
    struct pxd_record r;
    struct sl_err err;

    (void)state;
    assert_int_equal(put("certificate", "c1",
                         "{\"id\":\"c1\",\"arn\":\"arn:aws:acm:r:1:certificate/u\","
                         "\"certificate_pem\":\"" PEM_C "\",\"chain_pem\":\"\","
                         "\"private_key_pem\":\"" PEM_K "\"}",
                         &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.kind, FEED_CERTIFICATE);
    assert_string_equal(r.obj.u.cert.arn, "arn:aws:acm:r:1:certificate/u");
    assert_non_null(strstr(r.obj.u.cert.cert_pem, "BEGIN CERTIFICATE"));
    assert_string_equal(r.obj.u.cert.chain_pem, "");
    assert_non_null(strstr(r.obj.u.cert.key_pem, "BEGIN PRIVATE KEY"));
    pxd_obj_clear(&r.obj);
    assert_null(r.obj.u.cert.key_pem);
    expect_bad("certificate", "c1",
               "{\"id\":\"c1\",\"arn\":\"a\",\"certificate_pem\":\"nope\","
               "\"private_key_pem\":\"" PEM_K "\"}",
               "member 'certificate_pem' must be PEM text");
    expect_bad("certificate", "c1",
               "{\"id\":\"c1\",\"arn\":\"a\",\"certificate_pem\":\"" PEM_C "\"}",
               "member 'private_key_pem' must be PEM text");

    assert_int_equal(put("listener", "l",
                         "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
                         "\"protocol\":\"HTTPS\",\"ssl_policy\":\"ELBSecurityPolicy-TLS13-1-2-2021-06\","
                         "\"alpn_policy\":\"HTTP2Preferred\",\"certificates\":["
                         "{\"certificate_id\":\"sni\",\"default\":false},"
                         "{\"certificate_id\":\"dflt\",\"default\":true}]}",
                         &r, &err),
                     SL_OK);
    assert_string_equal(r.obj.u.listener.policy->name, "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_int_equal(r.obj.u.listener.alpn, PX_ALPN_HTTP2PREFERRED);
    assert_int_equal(r.obj.u.listener.ncerts, 2);
    assert_string_equal(r.obj.u.listener.certs[0].id, "dflt"); /* the default first */
    assert_true(r.obj.u.listener.certs[0].is_default);
    assert_string_equal(r.obj.u.listener.certs[1].id, "sni");
    assert_false(r.obj.u.listener.certs[1].is_default);
    /* absent: the default policy, ALPN None, no certificates */
    assert_int_equal(put("listener", "l",
                         "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
                         "\"protocol\":\"HTTPS\"}",
                         &r, &err),
                     SL_OK);
    assert_string_equal(r.obj.u.listener.policy->name, "ELBSecurityPolicy-2016-08");
    assert_int_equal(r.obj.u.listener.alpn, PX_ALPN_NONE);
    assert_int_equal(r.obj.u.listener.ncerts, 0);
    expect_bad("listener", "l",
               "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
               "\"protocol\":\"HTTPS\",\"ssl_policy\":\"ELBSecurityPolicy-Custom\"}",
               "member 'ssl_policy' names a security policy this proxy does not know");
    expect_bad("listener", "l",
               "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
               "\"protocol\":\"HTTPS\",\"alpn_policy\":\"HTTP3\"}",
               "member 'alpn_policy' has a value");
    expect_bad("listener", "l",
               "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
               "\"protocol\":\"HTTPS\",\"certificates\":[{\"certificate_id\":\"x\",\"default\":true},"
               "{\"certificate_id\":\"y\",\"default\":true}]}",
               "must have at most one default");
    expect_bad("listener", "l",
               "{\"id\":\"l\",\"arn\":\"a\",\"load_balancer_id\":\"b\",\"port\":443,"
               "\"protocol\":\"HTTPS\",\"certificates\":[{\"default\":true}]}",
               "member 'certificate_id' must be a non-empty string");

    assert_int_equal(put("load_balancer", "b",
                         "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                         "\"idle_timeout_seconds\":60}",
                         &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.u.lb.http2, 1); /* routing.http2.enabled defaults to true */
    assert_int_equal(r.obj.u.lb.tls_headers, 0);
    assert_int_equal(put("load_balancer", "b",
                         "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
                         "\"idle_timeout_seconds\":60,\"http2_enabled\":false,"
                         "\"x_amzn_tls_version_and_cipher_suite_enabled\":true}",
                         &r, &err),
                     SL_OK);
    assert_int_equal(r.obj.u.lb.http2, 0);
    assert_int_equal(r.obj.u.lb.tls_headers, 1);
    expect_bad("load_balancer", "b",
               "{\"id\":\"b\",\"arn\":\"arn:b\",\"scheme\":\"internal\","
               "\"idle_timeout_seconds\":60,\"http2_enabled\":\"yes\"}",
               "member 'http2_enabled' must be true or false");
}

static void test_records(void **state)
{
    struct pxd_record r;
    struct sl_err err;

    assert_int_equal(rec("{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":12}", &r, &err), SL_OK);
    assert_int_equal(r.type, PXD_HEARTBEAT);
    assert_int_equal(r.rev, 12);
    assert_int_equal(rec("{\"feed_version\":1,\"kind\":\"gone\",\"rev\":0}", &r, &err), SL_OK);
    assert_int_equal(r.type, PXD_GONE);
    assert_int_equal(rec("{\"feed_version\":1,\"rev\":3,\"kind\":\"rule\",\"op\":\"delete\","
                         "\"id\":\"x\"}", &r, &err), SL_OK);
    assert_int_equal(r.type, PXD_DELETE);
    assert_int_equal(r.kind, FEED_RULE);
    assert_string_equal(r.id, "x");
    /* a kind a later version may add: skipped */
    assert_int_equal(rec("{\"feed_version\":1,\"rev\":3,\"kind\":\"web_acl\",\"op\":\"put\","
                         "\"id\":\"c\",\"object\":{}}", &r, &err), SL_OK);
    assert_int_equal(r.type, PXD_SKIP);
    assert_int_equal(rec("{\"kind\":\"heartbeat\",\"rev\":1}", &r, &err), SL_EINVAL);
    assert_non_null(strstr(err.message, "no feed_version"));
    assert_int_equal(rec("{\"feed_version\":2,\"kind\":\"heartbeat\",\"rev\":1}", &r, &err), SL_EINVAL);
    assert_non_null(strstr(err.message, "feed_version 2: this proxy reads feed_version 1"));
    assert_int_equal(rec("{\"feed_version\":1,\"rev\":0,\"kind\":\"rule\",\"op\":\"delete\","
                         "\"id\":\"x\"}", &r, &err), SL_EINVAL);
    assert_int_equal(rec("{\"feed_version\":1,\"rev\":1,\"kind\":\"rule\",\"op\":\"upsert\","
                         "\"id\":\"x\"}", &r, &err), SL_EINVAL);
    assert_int_equal(rec("{\"feed_version\":1,\"feed_version\":1,\"kind\":\"gone\",\"rev\":1}", &r,
                         &err), SL_EINVAL); /* duplicate member */
    assert_int_equal(rec("[1]", &r, &err), SL_EINVAL);
    assert_int_equal(rec("{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":1", &r, &err), SL_EINVAL);
}

static int count_cb(struct pxd_obj *o, void *arg)
{
    (*(int *)arg)++;
    pxd_obj_clear(o);
    return 0;
}

static void test_snapshot_all_or_nothing(void **state)
{
    const char *good =
        "{\"feed_version\":1,\"revision\":4,\"load_balancers\":[{\"id\":\"b\",\"arn\":\"a\","
        "\"scheme\":\"internal\",\"idle_timeout_seconds\":60}],\"listeners\":[],\"rules\":[],"
        "\"target_groups\":[],\"targets\":[]}";
    const char *bad =
        "{\"feed_version\":1,\"revision\":4,\"load_balancers\":[{\"id\":\"b\",\"arn\":\"a\","
        "\"scheme\":\"internal\",\"idle_timeout_seconds\":60}],\"listeners\":[],\"rules\":[],"
        "\"target_groups\":[],\"targets\":[{\"id\":\"t\"}]}";
    struct sl_err err = {0};
    uint64_t rev = 0;
    int n = 0;

    assert_int_equal(pxd_snapshot(good, strlen(good), &rev, count_cb, &n, &err), SL_OK);
    assert_int_equal(rev, 4);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(pxd_snapshot(bad, strlen(bad), &rev, count_cb, &n, &err), SL_EINVAL);
    assert_int_equal(n, 0); /* the load balancer was not handed out */
    assert_int_equal(pxd_snapshot("{\"feed_version\":1,\"revision\":1}", 31, &rev, count_cb, &n,
                                  &err),
                     SL_EINVAL);
    assert_non_null(strstr(err.message, "no array 'load_balancers'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_tls_members),
        cmocka_unit_test(test_snapshot_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
