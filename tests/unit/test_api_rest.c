/* Unit tests for the REST front door (routes/api/front_rest.c,
 * rest_kinds.c, rest_targets.c): a PUT or a create with several steps is
 * one transaction, so one whose later step fails leaves the store exactly
 * as it was (same objects, same revision). */
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

struct fixture {
    char dir[64];
    struct store *s;
    struct api_ctx ctx;
};

struct reply {
    int status;
    json_t *body;
};

/* One REST exchange; <body> is JSON text with ' for ". */
static struct reply rest(struct fixture *f, const char *method, const char *path,
                         const char *body)
{
    char text[4096];
    struct front_request req;
    struct front_reply out;
    struct reply r;
    size_t i;

    for (i = 0; body && body[i] && i + 1 < sizeof(text); i++)
        text[i] = body[i] == '\'' ? '"' : body[i];
    text[i] = '\0';
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.body = text;
    req.body_len = strlen(text);
    front_reply_init(&out);
    front_rest(&f->ctx, &req, &out);
    r.status = out.status;
    r.body = out.body.data ? json_loads(out.body.data, 0, NULL) : NULL;
    front_reply_free(&out);
    return r;
}

static json_t *ok(struct fixture *f, const char *method, const char *path, const char *body,
                  int status)
{
    struct reply r = rest(f, method, path, body);

    if (r.status != status) {
        char *s = r.body ? json_dumps(r.body, 0) : NULL;
        fail_msg("%s %s: want %d, got %d %s", method, path, status, r.status, s ? s : "");
    }
    return r.body;
}

static const char *code_of(json_t *body)
{
    return json_string_value(json_object_get(json_object_get(body, "error"), "code"));
}

/* A PUT (or POST) that must fail with <status>/<code> and change nothing:
 * the store's revision and <path>'s object stay as they were. */
static void fails_unchanged(struct fixture *f, const char *method, const char *path,
                            const char *get, const char *body, int status, const char *code)
{
    json_t *before = get ? ok(f, "GET", get, NULL, 200) : NULL, *after;
    uint64_t rev = store_revision(f->s);
    struct reply r = rest(f, method, path, body);

    assert_int_equal(r.status, status);
    assert_string_equal(code_of(r.body), code);
    json_decref(r.body);
    assert_int_equal(store_revision(f->s), rev);
    if (get) {
        after = ok(f, "GET", get, NULL, 200);
        assert_true(json_equal(before, after));
        json_decref(after);
    }
    json_decref(before);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-rest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->s, &err), SL_OK);
    api_ctx_init(&f->ctx, f->s, "eu-west-1", "123456789012", NULL, "r");
    json_decref(ok(f, "POST", "/v1/target-groups",
                   "{'id':'web','Name':'web','Port':80,'Tags':[{'Key':'t','Value':'1'}]}", 201));
    json_decref(ok(f, "POST", "/v1/target-groups", "{'id':'other','Name':'other','Port':80}",
                   201));
    json_decref(ok(f, "POST", "/v1/load-balancers", "{'id':'edge','Name':'edge'}", 201));
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

static void test_tg_put_is_one_transaction(void **state)
{
    struct fixture *f = *state;
    json_t *tg;

    /* The health check would apply, then the attribute fails. */
    fails_unchanged(f, "PUT", "/v1/target-groups/web", "/v1/target-groups/web",
                    "{'HealthCheckPath':'/changed','Attributes':[{'Key':'no.such','Value':'1'}]}",
                    400, "ValidationError");
    /* Health check and tags would apply, then the attributes conflict. */
    fails_unchanged(f, "PUT", "/v1/target-groups/web", "/v1/target-groups/web",
                    "{'HealthCheckPath':'/changed','Tags':[{'Key':'x','Value':'y'}],"
                    "'Attributes':[{'Key':'load_balancing.algorithm.type',"
                    "'Value':'weighted_random'},{'Key':'slow_start.duration_seconds',"
                    "'Value':'30'}]}",
                    400, "InvalidConfigurationRequest");
    /* All of it at once succeeds. */
    tg = ok(f, "PUT", "/v1/target-groups/web",
            "{'HealthCheckPath':'/changed','Tags':[{'Key':'x','Value':'y'}],"
            "'Attributes':[{'Key':'slow_start.duration_seconds','Value':'30'}]}",
            200);
    assert_string_equal(json_string_value(json_object_get(tg, "HealthCheckPath")), "/changed");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(tg, "Tags"), 0), "Key")),
        "x");
    json_decref(tg);
    /* A PUT of what GET returns writes nothing. */
    tg = ok(f, "GET", "/v1/target-groups/web", NULL, 200);
    {
        char *text = json_dumps(tg, JSON_COMPACT);
        uint64_t rev = store_revision(f->s);
        json_decref(ok(f, "PUT", "/v1/target-groups/web", text, 200));
        assert_int_equal(store_revision(f->s), rev);
        free(text);
    }
    json_decref(tg);
}

static void test_create_is_one_transaction(void **state)
{
    struct fixture *f = *state;

    /* The group would be created, then its attribute fails: nothing stays. */
    fails_unchanged(f, "POST", "/v1/target-groups", NULL,
                    "{'id':'half','Name':'half','Port':80,"
                    "'Attributes':[{'Key':'slow_start.duration_seconds','Value':'10'}]}",
                    400, "ValidationError");
    json_decref(ok(f, "GET", "/v1/target-groups/half", NULL, 404));
    json_decref(ok(f, "POST", "/v1/target-groups", "{'id':'half','Name':'half','Port':80}", 201));
    /* REST creates are never answered idempotently. */
    fails_unchanged(f, "POST", "/v1/target-groups", NULL, "{'id':'again','Name':'half','Port':80}",
                    409, "DuplicateTargetGroupName");
    fails_unchanged(f, "POST", "/v1/load-balancers", NULL,
                    "{'id':'x','Name':'x','Attributes':[{'Key':'idle_timeout.timeout_seconds',"
                    "'Value':'0'}]}",
                    400, "ValidationError");
    json_decref(ok(f, "GET", "/v1/load-balancers/x", NULL, 404));
}

static void test_listener_and_rule_puts(void **state)
{
    struct fixture *f = *state;
    char body[1024], tg[512], other[512];
    json_t *v;

    v = ok(f, "GET", "/v1/target-groups/web", NULL, 200);
    snprintf(tg, sizeof(tg), "%s", json_string_value(json_object_get(v, "arn")));
    json_decref(v);
    v = ok(f, "GET", "/v1/target-groups/other", NULL, 200);
    snprintf(other, sizeof(other), "%s", json_string_value(json_object_get(v, "arn")));
    json_decref(v);
    snprintf(body, sizeof(body),
             "{'id':'http','LoadBalancerId':'edge','Protocol':'HTTP','Port':80,"
             "'DefaultActions':[{'Type':'forward','TargetGroupArn':'%s'}]}",
             tg);
    json_decref(ok(f, "POST", "/v1/listeners", body, 201));
    snprintf(body, sizeof(body),
             "{'id':'api','ListenerId':'http','Priority':10,'Conditions':[{'Field':"
             "'path-pattern','Values':['/api/*']}],'Actions':[{'Type':'forward',"
             "'TargetGroupArn':'%s'}]}",
             tg);
    json_decref(ok(f, "POST", "/v1/rules", body, 201));

    /* The port would move, then the actions name a missing group. */
    snprintf(body, sizeof(body),
             "{'Port':8080,'DefaultActions':[{'Type':'forward','TargetGroupArn':'%sx'}]}", tg);
    fails_unchanged(f, "PUT", "/v1/listeners/http", "/v1/listeners/http", body, 404,
                    "TargetGroupNotFound");
    /* The priority would move, then the actions fail: the priority stays,
     * and 30 is still free for another rule. */
    snprintf(body, sizeof(body),
             "{'Priority':30,'Actions':[{'Type':'forward','TargetGroupArn':'%sx'}]}", tg);
    fails_unchanged(f, "PUT", "/v1/rules/api", "/v1/rules/api", body, 404,
                    "TargetGroupNotFound");
    snprintf(body, sizeof(body), "{'Priority':30,'Tags':[{'Key':'a'},{'Key':'a'}]}");
    fails_unchanged(f, "PUT", "/v1/rules/api", "/v1/rules/api", body, 400, "DuplicateTagKeys");
    /* Both at once succeed, and the group the rule forwards to follows. */
    snprintf(body, sizeof(body),
             "{'Priority':30,'Actions':[{'Type':'forward','TargetGroupArn':'%s'}]}", other);
    v = ok(f, "PUT", "/v1/rules/api", body, 200);
    /* Read back as written: a number (AWS's Rule has a string). */
    assert_int_equal(json_integer_value(json_object_get(v, "Priority")), 30);
    json_decref(v);
    v = ok(f, "GET", "/v1/target-groups/other", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "LoadBalancerArns")), 1);
    json_decref(v);
    /* Deleting a group in use is refused and changes nothing. */
    fails_unchanged(f, "DELETE", "/v1/target-groups/other", "/v1/target-groups/other", NULL,
                    409, "ResourceInUse");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tg_put_is_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_is_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_and_rule_puts, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
