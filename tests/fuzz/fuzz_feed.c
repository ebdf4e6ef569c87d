/*
 * fuzz_feed.c - libFuzzer target for the proxy's feed decoder
 * (proxy/decode.c) and what it feeds: the revision logic (apply.c), the
 * model and its incremental tables (model.c, build.c) and the rule index
 * (rindex.c).
 *
 * The input is decoded whole as a watch record and as a snapshot; then, as
 * NDJSON, its lines go one by one into a px_apply (a snapshot document
 * among them loads as one), committing after each.  Every table built must
 * be sound: each listener's rules in priority order, the default last; each
 * forward's slot inside the table; and for a few requests the indexed match
 * equal to the brute-force one.  A broken invariant aborts; ASan and UBSan
 * watch the rest (and LeakSanitizer every reference count).
 *
 * The decoder and the modules under test are included rather than linked:
 * the build instruments only the fuzz target's own sources, and libFuzzer
 * needs coverage from them.  Their definitions here keep the linker from
 * pulling the uninstrumented copies out of sluice_proxy_core.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/apply.c"
#include "proxy/build.c"
#include "proxy/decode.c"
#include "proxy/model.c"
#include "proxy/rindex.c"
#include "proxy/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *const hosts[] = {"a.example.com", "B.example.COM", "x", NULL};
static const char *const paths[] = {"/", "/api/v1", "/img/a.png", "/a"};

static void check_table(const struct px_table *t)
{
    int i, j, k, h, p;

    for (i = 0; i < t->nlisteners; i++) {
        const struct px_listener *l = t->listeners[i];
        CHECK(i == 0 || strcmp(t->listeners[i - 1]->id, l->id) < 0);
        for (j = 0; j < l->nrules; j++) {
            const struct px_rule *r = &l->rules[j];
            CHECK(!r->def->is_default || j == l->nrules - 1);
            CHECK(j == 0 || r->def->is_default || l->rules[j - 1].prio <= r->prio);
            for (k = 0; k < r->act->nfwd; k++)
                CHECK(r->act->fwd[k].slot >= 0 && r->act->fwd[k].slot < t->nslots);
        }
        for (h = 0; h < 4; h++)
            for (p = 0; p < 4; p++) {
                struct px_req_view v = {0};
                v.method = "GET";
                v.method_len = 3;
                v.path = paths[p];
                v.path_len = strlen(paths[p]);
                v.host = hosts[h];
                v.host_len = hosts[h] ? strlen(hosts[h]) : 0;
                CHECK(route_match(l, &v) == route_match_linear(l, &v));
            }
    }
    for (i = 0; i < t->nslots; i++)
        if (t->slots[i]) {
            CHECK(t->slots[i]->slot == i);
            for (j = 1; j < t->slots[i]->ntargets; j++)
                CHECK(strcmp(t->slots[i]->targets[j - 1]->key, t->slots[i]->targets[j]->key) < 0);
        }
}

static int drop(struct pxd_obj *o, void *arg)
{
    (void)arg;
    pxd_obj_clear(o);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    struct sl_err err;
    struct pxd_record r;
    struct px_apply *a;
    struct px_table *t;
    uint64_t rev;

    if (pxd_record(p, size, &r, &err) == SL_OK)
        pxd_obj_clear(&r.obj);
    pxd_snapshot(p, size, &rev, drop, NULL, &err);
    CHECK(px_apply_new(&a) == SL_OK);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        int rc = n > 0 && p[0] == '{' && memmem(p, n, "\"revision\"", 10)
                     ? px_apply_snapshot(a, p, n, &err)
                     : px_apply_line(a, p, n, &err);
        CHECK(rc == SL_OK || rc == PX_APPLY_GONE || rc == SL_EINVAL);
        rc = px_apply_commit(a, &t);
        CHECK(rc == 0 || rc == 1);
        if (rc == 1) {
            CHECK(t->rev == px_apply_done(a));
            check_table(t);
            px_table_release(t);
        }
        p += n + (nl != NULL);
    }
    px_apply_free(a);
    return 0;
}
