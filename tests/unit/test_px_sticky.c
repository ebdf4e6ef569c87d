/* Unit tests for proxy/sticky.c: the cookie codec (round trip, tampering,
 * other keys, malformed text), the Cookie field parser, the choice of a
 * target from a cookie (healthy, draining, gone, stale) and the Set-Cookie
 * fields of a response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/build.h"
#include "proxy/sticky.h"

static const unsigned char key1[PX_STICK_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const unsigned char key2[PX_STICK_KEY_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
static const unsigned char id1[PX_STICK_ID_LEN] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3};

static void test_round_trip(void **state)
{
    char v[PX_STICK_VALUE_MAX];
    unsigned char id[PX_STICK_ID_LEN];
    uint32_t exp = 0;
    size_t n = px_sticky_encode(key1, id1, 1700000000u, v);

    assert_int_equal(n, strlen(v));
    assert_true(n < PX_STICK_VALUE_MAX);
    assert_null(strpbrk(v, "=;, \"\\+/")); /* a plain cookie-octet run */
    assert_int_equal(px_sticky_decode(key1, v, n, id, &exp), SL_OK);
    assert_memory_equal(id, id1, sizeof(id));
    assert_int_equal(exp, 1700000000u);
    /* another group's key does not read it */
    assert_int_equal(px_sticky_decode(key2, v, n, id, &exp), SL_EINVAL);
}

static void test_tampered(void **state)
{
    char v[PX_STICK_VALUE_MAX], t[PX_STICK_VALUE_MAX];
    unsigned char id[PX_STICK_ID_LEN];
    uint32_t exp;
    size_t n = px_sticky_encode(key1, id1, 1700000000u, v), i;

    for (i = 0; i < n; i++) { /* every character changed: refused */
        memcpy(t, v, n + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_int_equal(px_sticky_decode(key1, t, n, id, &exp), SL_EINVAL);
    }
    assert_int_equal(px_sticky_decode(key1, v, n - 1, id, &exp), SL_EINVAL);
    memcpy(t, v, n);
    t[n] = 'A';
    assert_int_equal(px_sticky_decode(key1, t, n + 1, id, &exp), SL_EINVAL);
    assert_int_equal(px_sticky_decode(key1, "", 0, id, &exp), SL_EINVAL);
    assert_int_equal(px_sticky_decode(key1, NULL, 0, id, &exp), SL_EINVAL);
    memset(t, '!', n);
    assert_int_equal(px_sticky_decode(key1, t, n, id, &exp), SL_EINVAL);
}

static struct h1_header hdr(const char *name, const char *value)
{
    struct h1_header h = {name, strlen(name), value, strlen(value)};

    return h;
}

static void test_cookie_field(void **state)
{
    struct h1_header h[3] = {hdr("Accept", "*/*"), hdr("cookie", "XAWSALB=no; a=1;AWSALB=yes ; b"),
                             hdr("Cookie", "AWSALBCORS=\"q\"; AWSALB=second")};
    size_t n = 0;
    const char *v = px_sticky_cookie(h, 3, "AWSALB", &n);

    assert_non_null(v);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "yes", 3);
    v = px_sticky_cookie(h, 3, "AWSALBCORS", &n);
    assert_non_null(v);
    assert_int_equal(n, 1);
    assert_memory_equal(v, "q", 1);
    assert_null(px_sticky_cookie(h, 3, "b", &n)); /* no '=': not a pair */
    assert_null(px_sticky_cookie(h, 3, "AWSALBTG", &n));
    assert_null(px_sticky_cookie(h, 1, "AWSALB", &n));
}

/* A sticky group "g" of three targets, all healthy. */
static struct px_tg *group(int type, struct px_target **t)
{
    struct px_tg_conf conf;
    struct px_tg *g;
    char k[64], ip[32];
    int i;

    memset(&conf, 0, sizeof(conf));
    strcpy(conf.id, "g");
    strcpy(conf.arn, "arn:g");
    conf.stick = type;
    conf.stick_lb_s = 100;
    conf.stick_app_s = 50;
    strcpy(conf.stick_app_name, "SESS");
    memcpy(conf.stick_key, key1, sizeof(key1));
    for (i = 0; i < 3; i++) {
        snprintf(ip, sizeof(ip), "127.0.0.%d", i + 1);
        snprintf(k, sizeof(k), "g|%s|80", ip);
        t[i] = px_target_new(k, ip, 80);
        assert_non_null(t[i]);
        atomic_store(&t[i]->health, PX_H_HEALTHY);
    }
    g = px_build_tg(&conf, 0, t, 3);
    assert_non_null(g);
    assert_true(type == PX_STICK_NONE ? g->stick_ids == NULL : g->stick_ids != NULL);
    for (i = 0; i < 3; i++)
        px_target_release(t[i]); /* the group holds them */
    return g;
}

/* A request whose Cookie field is "<name>=<value>". */
static struct h1_request *request_with(const char *name, const char *value, char *buf)
{
    static struct h1_request r;

    memset(&r, 0, sizeof(r));
    sprintf(buf, "%s=%s", name, value);
    r.headers[0] = hdr("Cookie", buf);
    r.nheaders = 1;
    return &r;
}

static void test_target_choice(void **state)
{
    struct px_target *t[3];
    struct px_tg *g = group(PX_STICK_LB, t);
    char v[PX_STICK_VALUE_MAX], buf[128];
    const struct h1_request *r;

    px_sticky_encode(key1, g->stick_ids[1], 2000, v);
    r = request_with("AWSALB", v, buf);
    assert_ptr_equal(px_sticky_target(g, r, 1000), g->targets[1]);
    assert_null(px_sticky_target(g, r, 2000)); /* stale */
    r = request_with("AWSALBCORS", v, buf);
    assert_ptr_equal(px_sticky_target(g, r, 1000), g->targets[1]); /* the CORS twin */
    r = request_with("AWSALBAPP-0", v, buf);
    assert_null(px_sticky_target(g, r, 1000)); /* not this type's cookie */
    r = request_with("AWSALB", v, buf);
    atomic_store(&g->targets[1]->health, PX_H_UNHEALTHY);
    assert_null(px_sticky_target(g, r, 1000)); /* unhealthy while others are healthy */
    atomic_store(&g->targets[0]->health, PX_H_UNHEALTHY);
    atomic_store(&g->targets[2]->health, PX_H_UNHEALTHY);
    assert_ptr_equal(px_sticky_target(g, r, 1000), g->targets[1]); /* all unhealthy: fail open */
    atomic_store(&g->targets[1]->draining, 1);
    assert_null(px_sticky_target(g, r, 1000)); /* draining */
    px_sticky_encode(key2, g->stick_ids[1], 2000, v); /* another key */
    r = request_with("AWSALB", v, buf);
    assert_null(px_sticky_target(g, r, 1000));
    px_tg_release(g);
}

/* What <b> holds, as a string (the caller frees it). */
static char *text(const struct px_hbuf *b)
{
    assert_int_equal(px_hbuf_ok(b), 0);
    return b->len ? strndup(*b->b, b->len) : strdup("");
}

static void test_response_cookies(void **state)
{
    struct px_target *t[3];
    struct px_tg *g = group(PX_STICK_LB, t);
    struct px_stick s = {0};
    struct h1_response res;
    char *buf = NULL, *out, v[PX_STICK_VALUE_MAX];
    size_t cap = 0;
    struct px_hbuf b = px_hbuf_at(&buf, &cap);

    memset(&res, 0, sizeof(res));
    res.status = 200;
    px_sticky_hold(&s, g);
    assert_ptr_equal(s.g, g);
    px_sticky_response(&s, g->targets[2], &res, 0, &b);
    out = text(&b);
    px_sticky_encode(key1, g->stick_ids[2], 100, v);
    assert_non_null(strstr(out, "Set-Cookie: AWSALB="));
    assert_non_null(strstr(out, v));
    assert_non_null(strstr(out, "; Expires=Thu, 01 Jan 1970 00:01:40 GMT; Path=/\r\n"));
    assert_non_null(strstr(out, "Set-Cookie: AWSALBCORS="));
    assert_non_null(
        strstr(out, "; Expires=Thu, 01 Jan 1970 00:01:40 GMT; Path=/; SameSite=None; Secure\r\n"));
    assert_null(strstr(out, "AWSALBTG"));
    free(out);
    free(buf);
    px_sticky_release(&s);
    assert_null(s.g);
    px_tg_release(g);
}

static void test_app_cookie(void **state)
{
    struct px_target *t[3];
    struct px_tg *g = group(PX_STICK_APP, t);
    struct px_stick s = {0};
    struct h1_response res;
    char *buf = NULL, *out, v[PX_STICK_VALUE_MAX], rb[128];
    size_t cap = 0;
    struct px_hbuf b = px_hbuf_at(&buf, &cap);
    const struct h1_request *r;

    memset(&res, 0, sizeof(res));
    res.status = 200;
    res.headers[0] = hdr("Set-Cookie", "SESSX=1");
    res.nheaders = 1;
    px_sticky_hold(&s, g);
    px_sticky_response(&s, g->targets[0], &res, 0, &b);
    assert_int_equal(b.len, 0); /* the app did not set SESS: nothing */
    res.headers[1] = hdr("set-cookie", "SESS=abc; Path=/");
    res.nheaders = 2;
    px_sticky_response(&s, g->targets[0], &res, 0, &b);
    out = text(&b);
    px_sticky_encode(key1, g->stick_ids[0], 50, v); /* held for the app duration */
    assert_non_null(strstr(out, "Set-Cookie: AWSALBAPP-0="));
    assert_non_null(strstr(out, v));
    assert_non_null(strstr(out, "Set-Cookie: AWSALBAPP-1=_remove_; Expires=Thu, 08 Jan 1970"));
    assert_non_null(strstr(out, "Set-Cookie: AWSALBAPP-3=_remove_;"));
    assert_null(strstr(out, "AWSALB="));
    free(out);
    r = request_with("AWSALBAPP-0", v, rb);
    assert_ptr_equal(px_sticky_target(g, r, 10), g->targets[0]);
    assert_null(px_sticky_target(g, r, 50));
    free(buf);
    px_sticky_release(&s);
    px_tg_release(g);
}

static void test_group_cookie(void **state)
{
    struct px_target *t[3];
    struct px_tg *g = group(PX_STICK_NONE, t), *h;
    struct px_table *tab = px_table_new(1, 0, 2);
    struct px_action a;
    struct px_stick s = {0};
    unsigned char id[PX_STICK_ID_LEN];
    char v[PX_STICK_VALUE_MAX], rb[128];
    const struct h1_request *r;
    struct px_tg_conf hc = g->conf;
    int i;

    strcpy(hc.id, "h");
    memcpy(hc.stick_key, key2, sizeof(key2));
    h = px_build_tg(&hc, 1, NULL, 0);
    assert_non_null(tab);
    assert_non_null(h);
    tab->slots[0] = g;
    tab->slots[1] = h;
    tab->nslots = 2;
    memset(&a, 0, sizeof(a));
    a.type = PX_A_FORWARD;
    a.nfwd = 2;
    a.total_weight = 2;
    a.tg_stick_s = 60;
    a.fwd[0].slot = 0;
    a.fwd[0].weight = 1;
    a.fwd[1].slot = 1;
    a.fwd[1].weight = 1;
    px_sticky_id(key2, "g|", "h", id);
    px_sticky_encode(key2, id, 500, v);
    r = request_with("AWSALBTG", v, rb);
    for (i = 0; i < 50; i++) /* the cookie wins over the weights */
        assert_ptr_equal(px_sticky_group(&s, tab, &a, r, 100, (uint32_t)i), h);
    assert_int_equal(s.tg_s, 60);
    assert_ptr_equal(px_sticky_group(&s, tab, &a, r, 500, 0), g); /* stale: by weight */
    a.fwd[1].weight = 0;
    assert_ptr_equal(px_sticky_group(&s, tab, &a, r, 100, 0), g); /* weight 0: not chosen */
    px_table_release(tab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_cookie_field),   cmocka_unit_test(test_target_choice),
        cmocka_unit_test(test_response_cookies), cmocka_unit_test(test_app_cookie),
        cmocka_unit_test(test_group_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
