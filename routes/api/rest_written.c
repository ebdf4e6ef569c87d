/*
 * rest_written.c - REST objects read back in the shape they were written.
 *
 * A REST client writes members in its own form (Priority 10, HealthCheckPort
 * 8080, a forward action with only its TargetGroupArn, three of thirty
 * attributes); sluice keeps them in their canonical form (AWS's).  A client
 * such as Terraform's generic REST provider compares what it wrote with what
 * it reads back, member by member, and calls any difference drift.  So each
 * REST write records, on the stored object (member ELB_VIEW_WRITTEN), the
 * members as written ("w") and their canonical form just after the write
 * ("c"), unless they were written as a read shows them anyway.  A read
 * shows a written member as written while its canonical form is still the
 * recorded one, and as it is now once it changed (by a Query API call, say):
 * real drift stays visible.  Attributes are recorded and
 * shown per key: a client that wrote three keys reads back those three.
 */
#include "routes/api/rest.h"

#include <string.h>

#include "routes/elbv2/view.h"

/* The canonical value of written member <m> in <view>: the member itself,
 * for Attributes the keys <written> names; NULL when the view has none. */
static json_t *canonical(json_t *view, const char *m, json_t *written)
{
    json_t *all, *out, *w, *a;
    size_t i, j;

    if (strcmp(m, "Attributes") != 0 || !json_is_array(written))
        return json_incref(json_object_get(view, m));
    all = json_object_get(view, "Attributes");
    out = json_array();
    json_array_foreach(written, i, w) {
        const char *key = rest_str(w, "Key");
        json_array_foreach(all, j, a)
            if (key && rest_str(a, "Key") && strcmp(rest_str(a, "Key"), key) == 0)
                json_array_append(out, a);
    }
    return out;
}

/* Members a REST body may carry that the view does not show: the Create*
 * request's names for what the view shows under AWS's (Name, Subnets), and
 * the REST id references of a parent. */
static const char *const aliases[] = {"Name",           "Subnets",    "SubnetMappings",
                                      "LoadBalancerId", "ListenerId", "MutualAuthentication",
                                      NULL};

static int known(json_t *view, const char *m)
{
    size_t i;

    for (i = 0; aliases[i]; i++)
        if (strcmp(aliases[i], m) == 0)
            return 1;
    return json_object_get(view, m) != NULL;
}

/* Attributes written before (<old>) with those written now (<now>) over
 * them, by key: a PUT sets the keys it names and keeps the others.  New
 * reference. */
static json_t *merge_keys(json_t *old, json_t *now)
{
    json_t *out = json_is_array(old) ? json_deep_copy(old) : json_array(), *n, *o;
    size_t i, j;

    json_array_foreach(now, i, n) {
        const char *key = rest_str(n, "Key");
        json_array_foreach(out, j, o)
            if (key && rest_str(o, "Key") && strcmp(rest_str(o, "Key"), key) == 0)
                break;
        if (j < json_array_size(out))
            json_array_set(out, j, n);
        else
            json_array_append(out, n);
    }
    return out;
}

int rest_written_record(struct store_txn *txn, const char *kind, const char *id, json_t *body,
                        struct sl_err *err)
{
    json_t *obj = store_get(txn, kind, id), *view = NULL, *rec, *w, *c, *v;
    const char *m;
    int rc = SL_OK;

    if (obj == NULL || elb_view_get(txn, kind, id, &view) != SL_OK) {
        json_decref(obj);
        return sl_err_set(err, 500, "InternalFailure", "the %s '%s' is gone", kind, id);
    }
    rec = json_object_get(obj, ELB_VIEW_WRITTEN);
    rec = json_is_object(rec) ? json_deep_copy(rec) : json_object();
    if (!json_is_object(json_object_get(rec, "w")))
        json_object_set_new(rec, "w", json_object());
    if (!json_is_object(json_object_get(rec, "c")))
        json_object_set_new(rec, "c", json_object());
    w = json_object_get(rec, "w");
    c = json_object_get(rec, "c");
    json_object_foreach(body, m, v) {
        if (json_is_null(v))
            continue;
        /* No member dropped: one the object does not have is refused (the
         * whole write is undone with it). */
        if (!known(view, m)) {
            rc = sl_err_set(err, 400, "ValidationError",
                            "The member '%.100s' is not supported by sluice for a %s (see "
                            "/openapi.json)",
                            m, kind);
            goto out;
        }
        /* Written as a read shows it anyway: nothing to remember. */
        if (json_equal(v, json_object_get(view, m))) {
            json_object_del(w, m);
            json_object_del(c, m);
            continue;
        }
        if (strcmp(m, "Attributes") == 0)
            v = merge_keys(json_object_get(w, m), v);
        else
            json_incref(v);
        json_object_set_new(c, m, canonical(view, m, v) ?: json_null());
        json_object_set_new(w, m, v);
    }
    /* A write that changed nothing writes nothing (a PUT of what GET shows). */
    if (!json_equal(rec, json_object_get(obj, ELB_VIEW_WRITTEN))) {
        json_object_set_new(obj, ELB_VIEW_WRITTEN, rec);
        if (store_put(txn, kind, id, obj) != SL_OK)
            rc = sl_err_set(err, 500, "InternalFailure", "cannot store the %s", kind);
        rec = NULL;
    }
out:
    json_decref(rec);
    json_decref(view);
    json_decref(obj);
    return rc;
}

void rest_written_apply(json_t *view)
{
    json_t *rec = json_object_get(view, ELB_VIEW_WRITTEN), *w, *c, *v, *now;
    const char *m;

    if (!json_is_object(rec)) {
        json_object_del(view, ELB_VIEW_WRITTEN);
        return;
    }
    json_incref(rec);
    json_object_del(view, ELB_VIEW_WRITTEN);
    w = json_object_get(rec, "w");
    c = json_object_get(rec, "c");
    json_object_foreach(w, m, v) {
        now = canonical(view, m, v);
        if (json_equal(now ? now : json_null(), json_object_get(c, m)))
            json_object_set(view, m, v);
        else if (now)
            json_object_set(view, m, now);
        json_decref(now);
    }
    json_decref(rec);
}
