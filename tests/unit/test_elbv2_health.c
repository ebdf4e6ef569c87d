/* Unit tests for the ELBv2 target-health registry (routes/elbv2/health.c)
 * and the domain functions that keep it bounded by the targets the store
 * knows (routes/elbv2/targets.c): reason codes, updates that never insert,
 * forgetting on removal, the sweep, and concurrent use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/elbv2/health.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/targets.h"
#include "routes/elbv2/tg.h"

struct fixture {
    char dir[64];
    struct store *s;
    struct elb_health *h;
    struct elb_env env;
    char tg[ELB_ARN_MAX];
};

static int create_tg(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct fixture *f = arg;
    struct elb_tg_spec s = {0};
    json_t *out = NULL;
    int rc;

    s.name = "web";
    s.port = 80;
    s.type = ELB_TT_IP;
    if ((rc = elb_tg_create(txn, &f->env, &s, &out, err)) == SL_OK)
        snprintf(f->tg, sizeof(f->tg), "%s",
                 json_string_value(json_object_get(out, "TargetGroupArn")));
    json_decref(out);
    return rc;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-health-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    assert_int_equal(elb_health_new(&f->h), SL_OK);
    f->env = (struct elb_env){"eu-west-1", "123456789012", f->h};
    assert_int_equal(store_write(f->s, create_tg, f, NULL, &err), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[96];

    elb_health_free(f->h);
    store_close(f->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct elb_health_report report(enum elb_target_state st, enum elb_reason r)
{
    struct elb_health_report rep;

    memset(&rep, 0, sizeof(rep));
    rep.state = st;
    rep.reason = r;
    snprintf(rep.description, sizeof(rep.description), "checked");
    return rep;
}

static void test_names(void **state)
{
    enum elb_target_state st;
    enum elb_reason r;

    (void)state;
    assert_string_equal(elb_reason_name(ELB_R_TIMEOUT), "Target.Timeout");
    assert_string_equal(elb_reason_name(ELB_R_REGISTRATION_IN_PROGRESS),
                        "Elb.RegistrationInProgress");
    assert_string_equal(elb_reason_name(ELB_R_NONE), "");
    assert_int_equal(elb_reason_parse("Target.ResponseCodeMismatch", &r), SL_OK);
    assert_int_equal(r, ELB_R_RESPONSE_CODE_MISMATCH);
    assert_int_equal(elb_reason_parse("Target.Bogus", &r), SL_EINVAL);
    assert_int_equal(elb_target_state_parse("unhealthy", &st), SL_OK);
    assert_int_equal(st, ELB_TS_UNHEALTHY);
    assert_int_equal(elb_target_state_parse("sick", &st), SL_EINVAL);
    assert_string_equal(elb_target_state_name(ELB_TS_DRAINING), "draining");
}

static void test_set_update_forget(void **state)
{
    struct fixture *f = *state;
    struct elb_health_report rep = report(ELB_TS_HEALTHY, ELB_R_NONE), got;
    char key[64];
    int i;

    /* An update never inserts: a report about an unknown key grows nothing. */
    assert_int_equal(elb_health_update(f->h, "x|10.0.0.1|80", &rep), SL_ENOTFOUND);
    assert_int_equal(elb_health_count(f->h), 0);
    assert_int_equal(elb_health_set(f->h, "x|10.0.0.1|80", &rep), SL_OK);
    rep = report(ELB_TS_UNHEALTHY, ELB_R_TIMEOUT);
    assert_int_equal(elb_health_update(f->h, "x|10.0.0.1|80", &rep), SL_OK);
    assert_int_equal(elb_health_get(f->h, "x|10.0.0.1|80", &got), SL_OK);
    assert_int_equal(got.state, ELB_TS_UNHEALTHY);
    assert_int_equal(got.reason, ELB_R_TIMEOUT);
    assert_string_equal(got.description, "checked");
    /* Many keys: the table grows and every one is still found. */
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "g|10.1.%d.%d|80", i / 250, i % 250);
        assert_int_equal(elb_health_set(f->h, key, &rep), SL_OK);
    }
    assert_int_equal(elb_health_count(f->h), 5001);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "g|10.1.%d.%d|80", i / 250, i % 250);
        assert_int_equal(elb_health_get(f->h, key, &got), SL_OK);
        elb_health_forget(f->h, key);
    }
    assert_int_equal(elb_health_count(f->h), 1);
    elb_health_forget(f->h, "x|10.0.0.1|80");
    assert_int_equal(elb_health_get(f->h, "x|10.0.0.1|80", &got), SL_ENOTFOUND);
    assert_int_equal(elb_health_count(f->h), 0);
    elb_health_forget(NULL, "x"); /* a no-op */
    assert_int_equal(elb_health_get(NULL, "x", &got), SL_ENOTFOUND);
}

/* ---- the registry follows the targets ---- */

struct targets_call {
    struct fixture *f;
    struct elb_target t[2];
    size_t n;
    int deregister;
};

static int targets_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct targets_call *c = arg;

    if (c->deregister)
        return elb_targets_deregister(txn, &c->f->env, c->f->tg, c->t, c->n, 0, err);
    return elb_targets_register(txn, &c->f->env, c->f->tg, c->t, c->n, err);
}

static void target_key(struct fixture *f, const char *ip, char *out, size_t cap)
{
    char kind[16], id[ELB_ID_MAX];
    struct store_txn *txn;
    struct sl_err err = {0};

    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(elb_resolve_arn(txn, f->tg, kind, id), SL_OK);
    store_txn_end(txn);
    snprintf(out, cap, "%s|%s|80", id, ip);
}

static int target_state(struct fixture *f, enum elb_target_state *st)
{
    struct elb_target_status *v = NULL;
    struct store_txn *txn;
    struct sl_err err = {0};
    size_t n = 0;
    int rc;

    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    rc = elb_targets_status(txn, &f->env, f->tg, &v, &n, &err);
    store_txn_end(txn);
    assert_int_equal(rc, SL_OK);
    if (n > 0)
        *st = v[0].state;
    free(v);
    return (int)n;
}

static void test_removal_forgets(void **state)
{
    struct fixture *f = *state;
    struct targets_call c = {f, {{"10.0.0.1", 80, NULL}, {"10.0.0.2", 80, NULL}}, 2, 0};
    struct elb_health_report rep = report(ELB_TS_HEALTHY, ELB_R_NONE);
    struct sl_err err = {0};
    struct store_txn *txn;
    enum elb_target_state st = ELB_TS_INITIAL;
    char k1[ELB_TARGET_KEY_MAX], k2[ELB_TARGET_KEY_MAX];

    assert_int_equal(store_write(f->s, targets_tx, &c, NULL, &err), SL_OK);
    target_key(f, "10.0.0.1", k1, sizeof(k1));
    target_key(f, "10.0.0.2", k2, sizeof(k2));
    assert_int_equal(elb_health_set(f->h, k1, &rep), SL_OK);
    assert_int_equal(elb_health_set(f->h, k2, &rep), SL_OK);
    /* A group no rule forwards to: unused, whatever the proxies report. */
    assert_int_equal(target_state(f, &st), 2);
    assert_int_equal(st, ELB_TS_UNUSED);
    /* Deregistered from a group in no rule: gone at once, health with it. */
    c.n = 1;
    c.deregister = 1;
    assert_int_equal(store_write(f->s, targets_tx, &c, NULL, &err), SL_OK);
    assert_int_equal(elb_health_get(f->h, k1, &rep), SL_ENOTFOUND);
    assert_int_equal(elb_health_get(f->h, k2, &rep), SL_OK);
    assert_int_equal(elb_health_count(f->h), 1);
    /* What a race left behind (a key the store does not know) is swept. */
    assert_int_equal(elb_health_set(f->h, "nope|10.9.9.9|80", &rep), SL_OK);
    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_false(elb_target_exists(txn, "nope|10.9.9.9|80"));
    assert_true(elb_target_exists(txn, k2));
    assert_int_equal(elb_targets_sweep(txn, f->h), 1);
    store_txn_end(txn);
    assert_int_equal(elb_health_count(f->h), 1);
    assert_int_equal(elb_health_get(f->h, k2, &rep), SL_OK);
}

/* Reporters, readers and removers at once: no crash, no lost entry. */
struct worker {
    struct elb_health *h;
    int id;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct elb_health_report rep = report(ELB_TS_HEALTHY, ELB_R_NONE), got;
    char key[64];
    int i;

    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "t%d|10.0.%d.%d|80", w->id, (i / 250) % 4, i % 250);
        elb_health_set(w->h, key, &rep);
        elb_health_get(w->h, key, &got);
        if (i % 3 == 0)
            elb_health_forget(w->h, key);
    }
    return NULL;
}

static void count_key(const char *key, void *arg)
{
    (*(size_t *)arg)++;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    struct worker w[4];
    pthread_t th[4];
    size_t seen = 0;
    int i;

    for (i = 0; i < 4; i++) {
        w[i] = (struct worker){f->h, i};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* Each worker cycles over 1,000 keys; the last pass leaves those whose
     * last write was a set. */
    assert_int_equal(elb_health_keys(f->h, count_key, &seen), SL_OK);
    assert_int_equal(seen, elb_health_count(f->h));
    assert_true(seen > 0 && seen <= 4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_set_update_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_forgets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
