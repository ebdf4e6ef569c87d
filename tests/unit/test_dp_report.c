/* Unit tests for the data-plane report handler (server/dp_report.c): it
 * records health only for targets the store knows, and ends a drain early
 * only when every live proxy has applied the deregistration and reports
 * the target idle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/api/front.h"
#include "routes/elbv2/health.h"
#include "routes/elbv2/objects.h"
#include "server/dp_report.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct sl_config cfg;
    struct app app;
    struct dp_report *r;
    struct api_ctx ctx;
    char tg_id[ELB_ID_MAX];
};

/* One Query exchange, which must succeed. */
static void query(struct fixture *f, const char *form)
{
    struct front_request req;
    struct front_reply out;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/";
    req.body = form;
    req.body_len = strlen(form);
    front_reply_init(&out);
    front_query(&f->ctx, &req, &out);
    if (out.status != 200)
        fail_msg("%s -> %d %s", form, out.status, out.body.data);
    front_reply_free(&out);
}

static int report(struct fixture *f, const char *text)
{
    char body[2048];
    struct front_request req;
    struct front_reply out;
    size_t i;
    int status;

    for (i = 0; text[i] && i + 1 < sizeof(body); i++)
        body[i] = text[i] == '\'' ? '"' : text[i];
    body[i] = '\0';
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/v1/dataplane/report";
    req.body = body;
    req.body_len = strlen(body);
    front_reply_init(&out);
    dp_report_handle(f->r, &req, &out);
    status = out.status;
    front_reply_free(&out);
    return status;
}

static int targets(struct fixture *f)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    char prefix[ELB_ID_MAX + 2];
    size_t n;

    snprintf(prefix, sizeof(prefix), "%s|", f->tg_id);
    assert_int_equal(store_read_begin(f->app.store, &txn, &err), SL_OK);
    n = store_count(txn, K_TARGET, prefix);
    store_txn_end(txn);
    return (int)n;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};
    struct store_txn *txn;
    char lb_id[ELB_ID_MAX], form[2048], lb[ELB_ARN_MAX], tg[ELB_ARN_MAX];

    strcpy(f->dir, "/tmp/sluice-report-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->cfg.region, sizeof(f->cfg.region), "eu-west-1");
    snprintf(f->cfg.account_id, sizeof(f->cfg.account_id), "123456789012");
    f->app.cfg = &f->cfg;
    assert_int_equal(store_open(f->dir, NULL, &f->app.store, &err), SL_OK);
    assert_int_equal(elb_health_new(&f->app.health), SL_OK);
    assert_int_equal(dp_report_new(&f->app, &f->r), SL_OK);
    api_ctx_init(&f->ctx, f->app.store, "eu-west-1", "123456789012", f->app.health, "r");
    /* A group in use (so a deregistration drains), and two targets. */
    query(f, "Action=CreateTargetGroup&Version=2015-12-01&Name=web&Port=80&TargetType=ip");
    query(f, "Action=CreateLoadBalancer&Version=2015-12-01&Name=edge");
    assert_int_equal(store_read_begin(f->app.store, &txn, &err), SL_OK);
    assert_int_equal(store_index_get(txn, "name:tg:web", f->tg_id, sizeof(f->tg_id)), SL_OK);
    {
        json_t *o = store_get(txn, K_TG, f->tg_id);
        snprintf(tg, sizeof(tg), "%s", json_string_value(json_object_get(o, "arn")));
        json_decref(o);
        assert_int_equal(store_index_get(txn, "name:lb:edge", lb_id, sizeof(lb_id)), SL_OK);
        o = store_get(txn, K_LB, lb_id);
        snprintf(lb, sizeof(lb), "%s", json_string_value(json_object_get(o, "arn")));
        json_decref(o);
    }
    store_txn_end(txn);
    snprintf(form, sizeof(form),
             "Action=CreateListener&Version=2015-12-01&LoadBalancerArn=%s&Protocol=HTTP&Port=80"
             "&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=%s",
             lb, tg);
    query(f, form);
    snprintf(form, sizeof(form),
             "Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=%s"
             "&Targets.member.1.Id=10.0.0.1&Targets.member.2.Id=10.0.0.2",
             tg);
    query(f, form);
    snprintf(form, sizeof(form),
             "Action=DeregisterTargets&Version=2015-12-01&TargetGroupArn=%s"
             "&Targets.member.1.Id=10.0.0.2",
             tg);
    query(f, form);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[96];

    dp_report_free(f->r);
    elb_health_free(f->app.health);
    store_close(f->app.store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void test_health_only_for_known_targets(void **state)
{
    struct fixture *f = *state;
    struct elb_health_report got;
    char text[1024], key[ELB_TARGET_KEY_MAX];

    snprintf(text, sizeof(text),
             "{'proxy_id':'p1','applied_revision':1,'targets':["
             "{'key':'%s|10.0.0.1|80','state':'unhealthy','reason':'Target.Timeout',"
             "'description':'Request timed out'},"
             "{'key':'%s|10.9.9.9|80','state':'healthy'},"
             "{'key':'nope|10.0.0.1|80','state':'healthy','in_flight':3},"
             "{'key':7},{'key':'%s|10.0.0.1|80','state':'bogus'}]}",
             f->tg_id, f->tg_id, f->tg_id);
    assert_int_equal(report(f, text), 200);
    assert_int_equal(elb_health_count(f->app.health), 1);
    snprintf(key, sizeof(key), "%s|10.0.0.1|80", f->tg_id);
    assert_int_equal(elb_health_get(f->app.health, key, &got), SL_OK);
    assert_int_equal(got.state, ELB_TS_UNHEALTHY);
    assert_int_equal(got.reason, ELB_R_TIMEOUT);
    assert_string_equal(got.description, "Request timed out");
    /* An unknown reason is not passed on as text. */
    snprintf(text, sizeof(text),
             "{'proxy_id':'p1','applied_revision':1,'targets':[{'key':'%s|10.0.0.1|80',"
             "'state':'unhealthy','reason':'Made.Up'}]}",
             f->tg_id);
    assert_int_equal(report(f, text), 200);
    assert_int_equal(elb_health_get(f->app.health, key, &got), SL_OK);
    assert_int_equal(got.reason, ELB_R_FAILED_HEALTH_CHECKS);
    assert_int_equal(report(f, "{'proxy_id':3}"), 400);
    assert_int_equal(report(f, "[]"), 400);
}

static void test_early_drain(void **state)
{
    struct fixture *f = *state;
    char text[1024];
    uint64_t rev = store_revision(f->app.store);

    assert_int_equal(targets(f), 2);
    /* p1 has applied everything but still has a connection open to it. */
    snprintf(text, sizeof(text),
             "{'proxy_id':'p1','applied_revision':%llu,'targets':[{'key':'%s|10.0.0.2|80',"
             "'connections':1}]}",
             (unsigned long long)rev, f->tg_id);
    assert_int_equal(report(f, text), 200);
    assert_int_equal(targets(f), 2);
    /* p2 has not applied the deregistration yet, so p1 going idle is not
     * enough. */
    snprintf(text, sizeof(text), "{'proxy_id':'p2','applied_revision':1,'targets':[]}");
    assert_int_equal(report(f, text), 200);
    snprintf(text, sizeof(text), "{'proxy_id':'p1','applied_revision':%llu,'targets':[]}",
             (unsigned long long)rev);
    assert_int_equal(report(f, text), 200);
    assert_int_equal(targets(f), 2);
    /* Every proxy applied it and reports it idle: removed before its deadline. */
    snprintf(text, sizeof(text), "{'proxy_id':'p2','applied_revision':%llu,'targets':[]}",
             (unsigned long long)rev);
    assert_int_equal(report(f, text), 200);
    assert_int_equal(targets(f), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_only_for_known_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_drain, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
