/* Unit tests for proxy/model.c and proxy/apply.c: a change rebuilds only
 * what it touches (registering a target in a table of 1,000 rules and
 * 10,000 targets makes one new group and shares everything else); random
 * sequences of changes applied incrementally give the table a fresh
 * snapshot of the same state gives; revisions apply whole; references to
 * objects not yet seen; target records across snapshot re-reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/apply.h"
#include "proxy/route.h"

/* ---- feed objects ---- */

static json_t *lb(const char *id, int idle)
{
    return json_pack("{ss ss ss si}", "id", id, "arn", id, "scheme", "internal",
                     "idle_timeout_seconds", idle);
}

static json_t *listener(const char *id, const char *lb_id, int port)
{
    return json_pack("{ss ss ss si ss}", "id", id, "arn", id, "load_balancer_id", lb_id, "port",
                     port, "protocol", "HTTP");
}

static json_t *tg(const char *id, int interval)
{
    char arn[64];

    snprintf(arn, sizeof(arn), "arn:tg:%s", id);
    return json_pack("{ss ss ss si ss si s{sb ss ss si si si si ss}}", "id", id, "arn", arn,
                     "protocol", "HTTP", "port", 80, "algorithm", "round_robin",
                     "slow_start_seconds", 0, "health_check", "enabled", 0, "protocol", "HTTP",
                     "path", "/", "interval_seconds", interval, "timeout_seconds", 5,
                     "healthy_threshold", 2, "unhealthy_threshold", 2, "matcher", "200");
}

static json_t *target(const char *tg_id, int n, int draining)
{
    char id[96], ip[32];

    snprintf(ip, sizeof(ip), "10.%d.%d.%d", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    snprintf(id, sizeof(id), "%s|%s|80", tg_id, ip);
    return json_pack("{ss ss ss si ss}", "id", id, "target_group_id", tg_id, "address", ip, "port",
                     80, "state", draining ? "draining" : "registered");
}

/* A rule forwarding to group <tg_id> (NULL: fixed-response) on a path. */
static json_t *rule(const char *id, const char *ls, int prio, const char *path, const char *tg_id)
{
    char arn[64];
    json_t *r;

    snprintf(arn, sizeof(arn), "arn:tg:%s", tg_id ? tg_id : "");
    r = json_pack("{ss ss ss sb s[] s[]}", "id", id, "arn", id, "listener_id", ls, "is_default",
                  prio == 0, "conditions", "actions");
    if (prio)
        json_object_set_new(r, "priority", json_integer(prio));
    if (path)
        json_array_append_new(json_object_get(r, "conditions"),
                              json_pack("{ss s[s]}", "field", "path-pattern", "values", path));
    json_array_append_new(json_object_get(r, "actions"),
                          tg_id ? json_pack("{ss si s[{ss si}]}", "type", "forward", "order", 1,
                                            "target_groups", "arn", arn, "weight", 1)
                                : json_pack("{ss si si}", "type", "fixed-response", "order", 1,
                                            "status_code", 200 + prio % 100));
    return r;
}

static const char *const plural[] = {"load_balancers", "listeners", "rules", "target_groups",
                                     "targets"};
static const char *const kind[] = {"load_balancer", "listener", "rule", "target_group", "target"};

/* The state as the test keeps it: kind index -> {id: object}. */
struct state {
    json_t *objs[5];
};

static void state_init(struct state *s)
{
    int k;

    for (k = 0; k < 5; k++)
        s->objs[k] = json_object();
}

static void state_free(struct state *s)
{
    int k;

    for (k = 0; k < 5; k++)
        json_decref(s->objs[k]);
}

static void put(struct state *s, int k, json_t *o)
{
    json_object_set_new(s->objs[k], json_string_value(json_object_get(o, "id")), o);
}

static char *snapshot_text(struct state *s, int rev)
{
    json_t *doc = json_pack("{si si}", "feed_version", 1, "revision", rev), *o;
    const char *id;
    char *text;
    int k;

    for (k = 0; k < 5; k++) {
        json_t *arr = json_array();
        json_object_foreach(s->objs[k], id, o)
            json_array_append(arr, o);
        json_object_set_new(doc, plural[k], arr);
    }
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static void load(struct px_apply *a, struct state *s, int rev)
{
    struct sl_err err = {0};
    char *text = snapshot_text(s, rev);

    if (px_apply_snapshot(a, text, strlen(text), &err) != SL_OK)
        fail_msg("snapshot refused: %s", err.message);
    free(text);
}

static void line(struct px_apply *a, const char *fmt, ...)
{
    struct sl_err err = {0};
    char buf[4096];
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rc = px_apply_line(a, buf, (size_t)n, &err);
    if (rc != SL_OK)
        fail_msg("line refused (%d): %s: %s", rc, err.message, buf);
}

/* Steals <o>. */
static void put_line(struct px_apply *a, int rev, int k, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);

    line(a, "{\"feed_version\":1,\"rev\":%d,\"kind\":\"%s\",\"op\":\"put\",\"id\":\"%s\",\"object\":%s}",
         rev, kind[k], json_string_value(json_object_get(o, "id")), text);
    free(text);
    json_decref(o);
}

static void del_line(struct px_apply *a, int rev, int k, const char *id)
{
    line(a, "{\"feed_version\":1,\"rev\":%d,\"kind\":\"%s\",\"op\":\"delete\",\"id\":\"%s\"}", rev,
         kind[k], id);
}

static struct px_table *commit(struct px_apply *a)
{
    struct px_table *t = NULL;

    assert_int_equal(px_apply_commit(a, &t), 1);
    return t;
}

/* ---- a table's meaning, as text ---- */

static void describe(const struct px_table *t, char *out, size_t cap)
{
    size_t o = 0;
    int i, j, k;

#define OUT(...) (o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, __VA_ARGS__))
    for (i = 0; i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        OUT("L %s lb=%s port=%d idle=%d:", l->id, l->lb_id, l->port, l->idle_timeout_s);
        for (j = 0; j < l->nrules; j++) {
            const struct px_rule *r = &l->rules[j];
            OUT(" %s/%d", r->def->id, r->prio);
            for (k = 0; k < r->act->nfwd; k++) {
                const struct px_tg *g = px_table_slot(t, r->act->fwd[k].slot);
                OUT("->%s", g ? g->conf.id : "(none)");
            }
        }
        OUT("\n");
    }
    /* groups in slot order differ between builds: list them by id */
    for (i = 0; i < t->nslots; i++) {
        const struct px_tg *g = NULL;
        for (j = 0; j < t->nslots; j++) { /* the i-th smallest id */
            const struct px_tg *c = t->slots[j];
            int rank = 0;
            if (c == NULL)
                continue;
            for (k = 0; k < t->nslots; k++)
                rank += t->slots[k] && strcmp(t->slots[k]->conf.id, c->conf.id) < 0;
            if (rank == i)
                g = c;
        }
        if (g == NULL)
            continue;
        OUT("G %s interval=%d:", g->conf.id, g->conf.hc_interval_ms);
        for (j = 0; j < g->ntargets; j++)
            OUT(" %s%s", g->targets[j]->key, atomic_load(&g->targets[j]->draining) ? "(d)" : "");
        OUT("\n");
    }
#undef OUT
}

/* ---- tests ---- */

static void big_state(struct state *s)
{
    char id[32], ls[32], path[32], g[32];
    int i;

    state_init(s);
    for (i = 0; i < 10; i++) { /* 10 load balancers x 100 rules (the API's limit per LB) */
        snprintf(id, sizeof(id), "lb%d", i);
        snprintf(ls, sizeof(ls), "ls%d", i);
        put(s, 0, lb(id, 60));
        put(s, 1, listener(ls, id, 8000 + i));
        snprintf(id, sizeof(id), "def%d", i);
        put(s, 2, rule(id, ls, 0, NULL, NULL));
    }
    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "r%d", i);
        snprintf(ls, sizeof(ls), "ls%d", i / 100);
        snprintf(path, sizeof(path), "/svc%d/*", i);
        snprintf(g, sizeof(g), "g%d", i % 100);
        put(s, 2, rule(id, ls, 1 + i % 100, path, g));
    }
    for (i = 0; i < 100; i++) {
        snprintf(g, sizeof(g), "g%d", i);
        put(s, 3, tg(g, 30));
    }
    for (i = 0; i < 10000; i++) {
        snprintf(g, sizeof(g), "g%d", i % 100);
        put(s, 4, target(g, i, 0));
    }
}

static void test_register_rebuilds_one_group(void **state)
{
    struct state s;
    struct px_apply *a;
    struct px_table *t1, *t2;
    struct px_model_stats st;
    const struct px_tg *g1, *g2;
    int i;

    big_state(&s);
    assert_int_equal(px_apply_new(&a), SL_OK);
    load(a, &s, 10);
    t1 = commit(a);
    assert_int_equal(t1->nlisteners, 10);
    px_model_stats(px_apply_model(a), &st);
    assert_int_equal(st.listeners_built, 10);
    assert_int_equal(st.groups_built, 100);
    /* RegisterTargets: one record, then the heartbeat that completes it */
    put_line(a, 11, 4, target("g42", 20000, 0));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":11}");
    t2 = commit(a);
    px_model_stats(px_apply_model(a), &st);
    assert_int_equal(st.groups_built, 1);
    assert_int_equal(st.listeners_built, 0);
    assert_int_equal(t2->rev, 11);
    for (i = 0; i < 10; i++)
        assert_ptr_equal(t1->listeners[i], t2->listeners[i]);
    g1 = px_table_tg(t1, "g42");
    g2 = px_table_tg(t2, "g42");
    assert_true(g1 != g2);
    assert_int_equal(g1->ntargets, 100);
    assert_int_equal(g2->ntargets, 101);
    for (i = 0; i < t1->nslots; i++)
        if (t1->slots[i] != g1)
            assert_ptr_equal(t1->slots[i], t2->slots[i]);
    /* the group's other targets keep their records (health, counters) */
    for (i = 0; i < g1->ntargets; i++) {
        int j, found = 0;
        for (j = 0; j < g2->ntargets; j++)
            found |= g2->targets[j] == g1->targets[i];
        assert_true(found);
    }
    /* the new target is routed */
    {
        const struct px_listener *l = px_table_listener(t2, "ls4");
        struct px_req_view v = {0};
        const struct px_rule *r;
        v.path = "/svc442/x";
        v.path_len = strlen(v.path);
        r = route_match(l, &v);
        assert_ptr_equal(route_pick_group(t2, r->act, 0), g2);
    }
    px_table_release(t1);
    px_table_release(t2);
    px_apply_free(a);
    state_free(&s);
}

static void test_what_each_change_rebuilds(void **state)
{
    struct state s;
    struct px_apply *a;
    struct px_table *t0, *t;
    struct px_model_stats st;

    big_state(&s);
    assert_int_equal(px_apply_new(&a), SL_OK);
    load(a, &s, 10);
    t0 = commit(a);
    /* a rule: its listener only */
    put_line(a, 11, 2, rule("new", "ls3", 100, "/new/*", "g1"));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":11}");
    t = commit(a);
    px_model_stats(px_apply_model(a), &st);
    assert_int_equal(st.listeners_built, 1);
    assert_int_equal(st.groups_built, 0);
    assert_ptr_equal(t->listeners[0], t0->listeners[0]);
    px_table_release(t);
    /* a group's settings: the group, no listener */
    put_line(a, 12, 3, tg("g7", 10));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":12}");
    t = commit(a);
    px_model_stats(px_apply_model(a), &st);
    assert_int_equal(st.listeners_built, 0);
    assert_int_equal(st.groups_built, 1);
    assert_int_equal(px_table_tg(t, "g7")->conf.hc_interval_ms, 10000);
    assert_int_equal(px_table_tg(t, "g7")->ntargets, 100);
    px_table_release(t);
    /* a load balancer: its listeners */
    put_line(a, 13, 0, lb("lb5", 99));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":13}");
    t = commit(a);
    px_model_stats(px_apply_model(a), &st);
    assert_int_equal(st.listeners_built, 1);
    assert_int_equal(px_table_listener(t, "ls5")->idle_timeout_s, 99);
    px_table_release(t);
    /* draining: the group, and the record's flag */
    put_line(a, 14, 4, target("g0", 0, 1));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":14}");
    t = commit(a);
    px_model_stats(px_apply_model(a), &st);
    assert_int_equal(st.groups_built, 1);
    assert_int_equal(atomic_load(&px_table_tg(t, "g0")->targets[0]->draining), 1);
    px_table_release(t);
    /* nothing new: no table */
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":15}");
    assert_int_equal(px_apply_commit(a, &t), 0);
    assert_null(t);
    assert_int_equal(px_apply_done(a), 15);
    px_table_release(t0);
    px_apply_free(a);
    state_free(&s);
}

static void test_revisions_apply_whole(void **state)
{
    struct state s;
    struct px_apply *a;
    struct px_table *t;

    state_init(&s);
    assert_int_equal(px_apply_new(&a), SL_OK);
    put(&s, 0, lb("b", 60));
    load(a, &s, 4);
    px_table_release(commit(a));
    /* CreateListener: the listener and its default rule in one revision,
     * the rule record not yet read */
    put_line(a, 5, 1, listener("l", "b", 81));
    assert_int_equal(px_apply_commit(a, &t), 0);
    assert_int_equal(px_apply_done(a), 4);
    put_line(a, 5, 2, rule("d", "l", 0, NULL, NULL));
    assert_int_equal(px_apply_commit(a, &t), 0);
    /* a record of the next revision completes revision 5 */
    put_line(a, 6, 3, tg("g", 30));
    t = commit(a);
    assert_int_equal(t->rev, 5);
    assert_int_equal(t->nlisteners, 1);
    assert_int_equal(t->listeners[0]->nrules, 1);
    assert_null(px_table_tg(t, "g")); /* revision 6 waits */
    px_table_release(t);
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":6}");
    t = commit(a);
    assert_non_null(px_table_tg(t, "g"));
    px_table_release(t);
    /* a record sent again after a resume is ignored */
    put_line(a, 5, 1, listener("l", "b", 9999));
    assert_int_equal(px_apply_commit(a, &t), 0);
    /* out of order and undecodable records are refused, nothing applied */
    {
        struct sl_err err = {0};
        const char *bad = "{\"feed_version\":1,\"rev\":8,\"kind\":\"listener\",\"op\":\"delete\","
                          "\"id\":\"l\"}";
        put_line(a, 9, 2, rule("x", "l", 3, "/x", NULL));
        assert_int_equal(px_apply_line(a, bad, strlen(bad), &err), SL_EINVAL);
        assert_non_null(strstr(err.message, "out of order"));
        bad = "{\"feed_version\":2,\"rev\":10,\"kind\":\"heartbeat\"}";
        assert_int_equal(px_apply_line(a, bad, strlen(bad), &err), SL_EINVAL);
        assert_non_null(strstr(err.message, "feed_version 2"));
        assert_int_equal(px_apply_commit(a, &t), 0); /* the waiting rule x was dropped */
        bad = "{\"feed_version\":1,\"rev\":12,\"kind\":\"listener\",\"op\":\"put\","
              "\"id\":\"l\",\"object\":{\"id\":\"l\",\"port\":81}}";
        assert_int_equal(px_apply_line(a, bad, strlen(bad), &err), SL_EINVAL);
        assert_non_null(strstr(err.message, "listener 'l': member 'arn'"));
        bad = "{\"feed_version\":1,\"kind\":\"gone\",\"rev\":3}";
        assert_int_equal(px_apply_line(a, bad, strlen(bad), &err), PX_APPLY_GONE);
    }
    px_apply_free(a);
    state_free(&s);
}

static void test_references_before_objects(void **state)
{
    struct px_apply *a;
    struct px_table *t;
    struct state s;

    state_init(&s);
    assert_int_equal(px_apply_new(&a), SL_OK);
    load(a, &s, 1);
    px_table_release(commit(a));
    /* children first, parents last, all in revision 2 */
    put_line(a, 2, 4, target("g", 1, 0));
    put_line(a, 2, 2, rule("r", "l", 5, "/a", "g"));
    put_line(a, 2, 2, rule("d", "l", 0, NULL, NULL));
    put_line(a, 2, 1, listener("l", "b", 80));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":2}");
    t = commit(a);
    assert_int_equal(t->nlisteners, 0); /* no load balancer yet */
    assert_null(px_table_tg(t, "g"));
    px_table_release(t);
    put_line(a, 3, 3, tg("g", 30));
    put_line(a, 3, 0, lb("b", 60));
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":3}");
    t = commit(a);
    assert_int_equal(t->nlisteners, 1);
    assert_int_equal(t->listeners[0]->nrules, 2);
    assert_int_equal(px_table_tg(t, "g")->ntargets, 1);
    assert_ptr_equal(px_table_slot(t, t->listeners[0]->rules[0].act->fwd[0].slot),
                     px_table_tg(t, "g"));
    px_table_release(t);
    /* the group goes: the rule forwards to nothing (503), its slot stays */
    del_line(a, 4, 4, "g|10.0.0.1|80");
    del_line(a, 4, 3, "g");
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":4}");
    t = commit(a);
    assert_null(px_table_slot(t, t->listeners[0]->rules[0].act->fwd[0].slot));
    px_table_release(t);
    /* the load balancer goes with its listener and rules */
    del_line(a, 5, 2, "r");
    del_line(a, 5, 2, "d");
    del_line(a, 5, 1, "l");
    del_line(a, 5, 0, "b");
    line(a, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":5}");
    t = commit(a);
    assert_int_equal(t->nlisteners, 0);
    assert_int_equal(t->nslots, 0); /* nothing refers to the ARN any more */
    px_table_release(t);
    px_apply_free(a);
    state_free(&s);
}

static void test_records_survive_resnapshot(void **state)
{
    struct state s;
    struct px_apply *a;
    struct px_table *t;
    struct px_target *x, *y;

    state_init(&s);
    put(&s, 3, tg("g", 30));
    put(&s, 4, target("g", 1, 0));
    put(&s, 4, target("g", 2, 0));
    assert_int_equal(px_apply_new(&a), SL_OK);
    load(a, &s, 3);
    t = commit(a);
    x = px_table_tg(t, "g")->targets[0];
    y = px_table_tg(t, "g")->targets[1];
    px_target_ref(x);
    px_target_ref(y);
    atomic_store(&x->health, PX_H_HEALTHY);
    px_table_release(t);
    /* a 410: the snapshot again, target 2 gone meanwhile */
    json_object_del(s.objs[4], "g|10.0.0.2|80");
    load(a, &s, 9);
    t = commit(a); /* a snapshot always makes a table */
    assert_int_equal(t->rev, 9);
    assert_int_equal(px_table_tg(t, "g")->ntargets, 1);
    assert_ptr_equal(px_table_tg(t, "g")->targets[0], x);
    assert_int_equal(atomic_load(&x->health), PX_H_HEALTHY);
    assert_int_equal(atomic_load(&x->live), 1);
    assert_int_equal(atomic_load(&y->live), 0);
    px_table_release(t);
    px_target_release(x);
    px_target_release(y);
    /* a snapshot that does not decode changes nothing */
    {
        struct sl_err err = {0};
        const char *bad = "{\"feed_version\":1,\"revision\":10,\"load_balancers\":[],\"listeners\":[],"
                          "\"rules\":[],\"target_groups\":[],\"targets\":[{\"id\":\"g|1|80\"}]}";
        assert_int_equal(px_apply_snapshot(a, bad, strlen(bad), &err), SL_EINVAL);
        assert_non_null(strstr(err.message, "target 'g|1|80'"));
        assert_int_equal(px_apply_done(a), 9);
    }
    px_apply_free(a);
    state_free(&s);
}

static uint32_t xorshift(void)
{
    static uint32_t seed = 7;

    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

/* Random puts and deletes of every kind, one revision each, against a fresh
 * model loaded from the final state. */
static void test_incremental_equals_fresh(void **state)
{
    static char want[1 << 16], got[1 << 16];
    int round;

#define RND() xorshift()
    for (round = 0; round < 20; round++) {
        struct state s;
        struct px_apply *inc, *fresh;
        struct px_table *ti = NULL, *tf;
        int rev = 1, step;

        state_init(&s);
        assert_int_equal(px_apply_new(&inc), SL_OK);
        assert_int_equal(px_apply_new(&fresh), SL_OK);
        load(inc, &s, rev);
        for (step = 0; step < 300; step++) {
            char id[32], other[32];
            int k = (int)(RND() % 5), n = (int)(RND() % 6), del = RND() % 4 == 0;
            json_t *o = NULL;
            rev++;
            switch (k) {
            case 0: snprintf(id, sizeof(id), "b%d", n); o = lb(id, 1 + (int)(RND() % 100)); break;
            case 1:
                snprintf(id, sizeof(id), "l%d", n);
                snprintf(other, sizeof(other), "b%d", (int)(RND() % 6));
                o = listener(id, other, 80 + n);
                break;
            case 2:
                snprintf(id, sizeof(id), "r%d", (int)(RND() % 30));
                snprintf(other, sizeof(other), "l%d", (int)(RND() % 6));
                {
                    char g[16], path[16];
                    snprintf(g, sizeof(g), "g%d", (int)(RND() % 6));
                    snprintf(path, sizeof(path), "/p%d*", (int)(RND() % 5));
                    o = rule(id, other, RND() % 5 == 0 ? 0 : 1 + (int)(RND() % 50), path,
                             RND() % 3 ? g : NULL);
                }
                break;
            case 3: snprintf(id, sizeof(id), "g%d", n); o = tg(id, 5 + (int)(RND() % 20)); break;
            default:
                snprintf(other, sizeof(other), "g%d", n);
                o = target(other, (int)(RND() % 8), RND() % 3 == 0);
                snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(o, "id")));
                break;
            }
            if (del) {
                json_decref(o);
                json_object_del(s.objs[k], id);
                del_line(inc, rev, k, id);
            } else {
                put_line(inc, rev, k, json_incref(o));
                put(&s, k, o);
            }
            if (RND() % 7 == 0) { /* commit now and then, as reads end */
                line(inc, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":%d}", rev);
                if (px_apply_commit(inc, &tf) == 1) {
                    px_table_release(ti);
                    ti = tf;
                }
            }
        }
        line(inc, "{\"feed_version\":1,\"kind\":\"heartbeat\",\"rev\":%d}", rev);
        if (px_apply_commit(inc, &tf) == 1) {
            px_table_release(ti);
            ti = tf;
        }
        load(fresh, &s, rev);
        tf = commit(fresh);
        assert_non_null(ti);
        describe(ti, got, sizeof(got));
        describe(tf, want, sizeof(want));
        if (strcmp(got, want) != 0)
            fail_msg("round %d: incremental\n%s\nfresh\n%s", round, got, want);
        px_table_release(ti);
        px_table_release(tf);
        px_apply_free(inc);
        px_apply_free(fresh);
        state_free(&s);
    }
#undef RND
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_rebuilds_one_group),
        cmocka_unit_test(test_what_each_change_rebuilds),
        cmocka_unit_test(test_revisions_apply_whole),
        cmocka_unit_test(test_references_before_objects),
        cmocka_unit_test(test_records_survive_resnapshot),
        cmocka_unit_test(test_incremental_equals_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
