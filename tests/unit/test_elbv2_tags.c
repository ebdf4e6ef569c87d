/* Unit tests for the ELBv2 tag functions (routes/elbv2/tags.c): the
 * NotFound of the ARN's kind for a missing resource, the limits, and the
 * replacement a REST PUT makes (exact, and no write when unchanged). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes/elbv2/tags.h"
#include "routes/elbv2/tg.h"

#define ARN "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"

struct fixture {
    char dir[64];
    struct store *s;
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

    strcpy(f->dir, "/tmp/sluice-tags-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    f->env = (struct elb_env){"eu-west-1", "123456789012", NULL};
    assert_int_equal(store_write(f->s, create_tg, f, NULL, &err), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[96];

    store_close(f->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

struct call {
    const char *arn;
    const struct elb_kv *tags;
    size_t n;
    const char *const *keys;
    size_t nkeys;
    int op; /* 0 add, 1 remove, 2 set */
};

static int tags_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct call *c = arg;

    if (c->op == 0)
        return elb_tags_add(txn, &c->arn, 1, c->tags, c->n, err);
    if (c->op == 1)
        return elb_tags_remove(txn, &c->arn, 1, c->keys, c->nkeys, err);
    return elb_tags_set(txn, c->arn, c->tags, c->n, err);
}

static int run(struct fixture *f, struct call *c, struct sl_err *err, uint64_t *rev)
{
    memset(err, 0, sizeof(*err));
    return store_write(f->s, tags_tx, c, rev, err);
}

static json_t *tags_of(struct fixture *f)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    const char *arn = f->tg;
    json_t *descs, *tags;

    assert_int_equal(store_read_begin(f->s, &txn, &err), SL_OK);
    assert_int_equal(elb_tags_describe(txn, &arn, 1, &descs, &err), SL_OK);
    store_txn_end(txn);
    tags = json_incref(json_object_get(json_array_get(descs, 0), "Tags"));
    json_decref(descs);
    return tags;
}

static void test_missing_by_kind(void **state)
{
    struct fixture *f = *state;
    static const char *const keys[] = {"k"};
    static const struct {
        const char *arn, *code;
    } cases[] = {
        {ARN "targetgroup/gone/0123456789abcdef", "TargetGroupNotFound"},
        {ARN "listener/app/lb/0123456789abcdef/0123456789abcdef", "ListenerNotFound"},
        {ARN "listener-rule/app/lb/0123456789abcdef/0123456789abcdef/0123456789abcdef",
         "RuleNotFound"},
        {ARN "loadbalancer/app/lb/0123456789abcdef", "LoadBalancerNotFound"},
    };
    struct elb_kv tag = {"k", "v"};
    struct sl_err err;
    size_t i;
    int op;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (op = 0; op < 3; op++) {
            struct call c = {cases[i].arn, &tag, 1, keys, 1, op};
            assert_int_equal(run(f, &c, &err, NULL), SL_ERR);
            assert_string_equal(err.code, cases[i].code);
            assert_int_equal(err.status, 400);
        }
}

static void test_add_remove_set(void **state)
{
    struct fixture *f = *state;
    static const char *const keys[] = {"a", "absent"};
    struct elb_kv two[] = {{"a", "1"}, {"b", "2"}}, swapped[] = {{"b", "2"}, {"a", "1"}};
    struct elb_kv many[ELB_TAGS_MAX + 1];
    char names[ELB_TAGS_MAX + 1][16];
    struct call c = {f->tg, two, 2, keys, 2, 0};
    struct sl_err err;
    uint64_t rev = 0;
    json_t *tags;
    int i;

    assert_int_equal(run(f, &c, &err, NULL), SL_OK);
    c.op = 1;
    assert_int_equal(run(f, &c, &err, NULL), SL_OK); /* unknown keys are ignored */
    tags = tags_of(f);
    assert_int_equal(json_array_size(tags), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "b");
    json_decref(tags);
    /* Set: exactly these, in this order; the same again writes nothing. */
    c.op = 2;
    c.tags = swapped;
    assert_int_equal(run(f, &c, &err, &rev), SL_OK);
    assert_true(rev > 0);
    tags = tags_of(f);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 1), "Key")), "a");
    json_decref(tags);
    assert_int_equal(run(f, &c, &err, &rev), SL_OK);
    assert_int_equal(rev, 0);
    /* More than 50 on one resource. */
    for (i = 0; i <= ELB_TAGS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        many[i] = (struct elb_kv){names[i], "v"};
    }
    c.op = 0;
    c.tags = many;
    c.n = ELB_TAGS_MAX;
    assert_int_equal(run(f, &c, &err, NULL), SL_ERR);
    assert_string_equal(err.code, "TooManyTags");
    assert_int_equal(elb_tags_check(many, ELB_TAGS_MAX + 1, &err), SL_ERR);
    assert_string_equal(err.code, "ValidationError");
    many[1].key = "k0";
    assert_int_equal(elb_tags_check(many, 2, &err), SL_ERR);
    assert_string_equal(err.code, "DuplicateTagKeys");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_by_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_remove_set, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
