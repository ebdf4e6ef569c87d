/*
 * targets.c - target records: registration, deregistration (the start of a
 * drain), their health as DescribeTargetHealth shows it, removal.
 */
#include "routes/elbv2/targets.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/elbv2/attrs.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/refs.h"

static int tg_not_found(struct sl_err *err, const char *arn)
{
    return sl_err_set(err, 400, "TargetGroupNotFound", "One or more target groups not found: %s",
                      arn);
}

int elb_targets_check(const struct elb_target *t, size_t n, struct sl_err *err)
{
    size_t i, l;

    for (i = 0; i < n; i++) {
        l = strlen(t[i].id);
        if (l == 0 || l > ELB_TARGET_ID_MAX || strchr(t[i].id, '|') || t[i].port < 0 ||
            t[i].port > 65535)
            return sl_err_set(err, 400, "InvalidTarget",
                              "The target Id '%.64s' is not valid for a target group of type "
                              "'?'",
                              t[i].id);
    }
    return SL_OK;
}

/* ---- one target against its group ---- */

struct group {
    json_t *tg;                 /* shared, read-only */
    char id[ELB_ID_MAX];
    const char *type;           /* TargetType */
    long port;                  /* the group's Port */
};

static int group_get(struct store_txn *txn, const char *arn, struct group *g, struct sl_err *err)
{
    if ((g->tg = elb_by_arn_ro(txn, K_TG, arn, g->id)) == NULL)
        return tg_not_found(err, arn);
    g->type = json_string_value(json_object_get(g->tg, "TargetType"));
    g->port = (long)json_integer_value(json_object_get(g->tg, "Port"));
    return SL_OK;
}

/* A target as stored: the canonical Id for the group's type and the port. */
struct resolved {
    char id[ELB_TARGET_ID_MAX + 1];
    long port;
    char key[ELB_TARGET_KEY_MAX];
};

static int invalid(const struct elb_target *t, const char *type, struct sl_err *err)
{
    return sl_err_set(err, 400, "InvalidTarget",
                      "The target Id '%.64s' is not valid for a target group of type '%s'",
                      t->id, type ? type : "?");
}

static int resolve(const struct group *g, const struct elb_target *t, struct resolved *r,
                   struct sl_err *err)
{
    size_t k;

    if (elb_targets_check(t, 1, err) != SL_OK)
        return SL_ERR;
    r->port = t->port ? t->port : g->port;
    if (g->type && strcmp(g->type, "ip") == 0) {
        unsigned char addr[16];
        int af = strchr(t->id, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(af, t->id, addr) != 1)
            return sl_err_set(err, 400, "InvalidTarget",
                              "The IP address '%.64s' is not a valid IPv4 or IPv6 address",
                              t->id);
        inet_ntop(af, addr, r->id, sizeof(r->id));
    } else {
        if (strncmp(t->id, "i-", 2) != 0 || strlen(t->id) < 3)
            return invalid(t, g->type, err);
        for (k = 2; t->id[k]; k++)
            if (!isalnum((unsigned char)t->id[k]))
                return invalid(t, g->type, err);
        snprintf(r->id, sizeof(r->id), "%s", t->id);
    }
    snprintf(r->key, sizeof(r->key), "%s|%s|%ld", g->id, r->id, r->port);
    return SL_OK;
}

/* ---- counts ---- */

/* Targets per group are counted in a store counter ("tgcount:<tg id>"),
 * kept by register and elb_target_remove(), so the 1,000-target limit costs
 * one lookup instead of a walk over the group, and no stored record (a
 * dirty page in every commit).  The walk happens once per group after a
 * restart.  Writers only. */
static size_t tg_count(struct store_txn *txn, const char *tg_id)
{
    char name[ELB_ID_MAX + 16], prefix[ELB_ID_MAX + 2];
    uint64_t n;

    snprintf(name, sizeof(name), "tgcount:%s", tg_id);
    if (store_counter_get(txn, name, &n) == SL_OK)
        return (size_t)n;
    snprintf(prefix, sizeof(prefix), "%s|", tg_id);
    n = store_count(txn, K_TARGET, prefix);
    store_counter_set(txn, name, n);
    return (size_t)n;
}

static int tg_count_set(struct store_txn *txn, const char *tg_id, size_t n)
{
    char name[ELB_ID_MAX + 16];

    snprintf(name, sizeof(name), "tgcount:%s", tg_id);
    return store_counter_set(txn, name, n);
}

void elb_drain_key(char *out, size_t cap, uint64_t deadline_ms, const char *target_key)
{
    snprintf(out, cap, "drain:%016llu:%s", (unsigned long long)deadline_ms, target_key);
}

static uint64_t deadline_of(json_t *t)
{
    return (uint64_t)json_integer_value(json_object_get(t, "_deadline_ms"));
}

static int is_draining(json_t *t)
{
    return strcmp(elb_str(t, "_state"), "draining") == 0;
}

/* ---- RegisterTargets ---- */

static int register_one(struct store_txn *txn, const struct elb_target *t,
                        const struct resolved *r, const char *now, size_t *count,
                        struct sl_err *err)
{
    char dkey[ELB_TARGET_KEY_MAX + 32];
    json_t *old = store_get(txn, K_TARGET, r->key), *target;
    int rc;

    if (old && !is_draining(old)) {
        json_decref(old); /* registering again is a no-op, as on AWS */
        return SL_OK;
    }
    if (old) {
        /* Re-registered while draining: it stops draining. */
        elb_drain_key(dkey, sizeof(dkey), deadline_of(old), r->key);
        store_index_del(txn, dkey);
        json_decref(old);
    } else if (++*count > ELB_TARGETS_MAX) {
        return sl_err_set(err, 400, "TooManyTargets",
                          "You've reached the limit on the number of targets (%d) per target "
                          "group",
                          ELB_TARGETS_MAX);
    }
    target = json_pack("{ss s{ss sI} ss ss}", "id", r->key, "Target", "Id", r->id, "Port",
                       (json_int_t)r->port, "_state", "registered", "_since", now);
    if (target == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (t->az)
        json_object_set_new(json_object_get(target, "Target"), "AvailabilityZone",
                            json_string(t->az));
    rc = store_put(txn, K_TARGET, r->key, target);
    json_decref(target);
    return rc == SL_OK ? SL_OK : elb_store_fail(err, "store the target");
}

int elb_targets_register(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                         const struct elb_target *t, size_t n, struct sl_err *err)
{
    struct group g;
    struct resolved r;
    char now[32];
    size_t i, count, before;
    int rc = SL_OK;

    if (group_get(txn, tg_arn, &g, err) != SL_OK)
        return SL_ERR;
    /* Every target is checked before any is written. */
    for (i = 0; i < n && rc == SL_OK; i++)
        rc = resolve(&g, &t[i], &r, err);
    count = before = rc == SL_OK ? tg_count(txn, g.id) : 0;
    util_iso_now(now);
    for (i = 0; i < n && rc == SL_OK; i++)
        if ((rc = resolve(&g, &t[i], &r, err)) == SL_OK)
            rc = register_one(txn, &t[i], &r, now, &count, err);
    if (rc == SL_OK && count != before && tg_count_set(txn, g.id, count) != SL_OK)
        rc = elb_store_fail(err, "count the targets");
    json_decref(g.tg);
    return rc;
}

/* ---- DeregisterTargets ---- */

static long drain_delay(json_t *tg)
{
    const char *s = elb_attr_get(json_object_get(tg, "Attributes"),
                                 "deregistration_delay.timeout_seconds");

    return s ? atol(s) : 300;
}

int elb_targets_drain_delay(struct store_txn *txn, const char *tg_arn, long *seconds,
                            struct sl_err *err)
{
    json_t *tg = elb_by_arn_ro(txn, K_TG, tg_arn, NULL);

    if (tg == NULL)
        return tg_not_found(err, tg_arn);
    *seconds = drain_delay(tg);
    json_decref(tg);
    return SL_OK;
}

static int start_drain(struct store_txn *txn, json_t *t, const char *key, uint64_t deadline,
                       const char *now)
{
    char dkey[ELB_TARGET_KEY_MAX + 32];
    int rc;

    json_object_set_new(t, "_state", json_string("draining"));
    json_object_set_new(t, "_since", json_string(now));
    json_object_set_new(t, "_deadline_ms", json_integer((json_int_t)deadline));
    /* The proxies' applied revision must reach this one before an idle
     * report can end the drain early (drain.h). */
    json_object_set_new(t, "_drain_rev", json_integer((json_int_t)store_txn_next_revision(txn)));
    elb_drain_key(dkey, sizeof(dkey), deadline, key);
    rc = store_put(txn, K_TARGET, key, t);
    return rc == SL_OK ? store_index_put(txn, dkey, key) : rc;
}

int elb_targets_deregister(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                           const struct elb_target *t, size_t n, uint64_t now_ms,
                           struct sl_err *err)
{
    struct group g;
    struct resolved r;
    char now[32];
    long delay;
    size_t i;
    int rc = SL_OK, in_use;

    if (group_get(txn, tg_arn, &g, err) != SL_OK)
        return SL_ERR;
    for (i = 0; i < n && rc == SL_OK; i++)
        rc = resolve(&g, &t[i], &r, err);
    delay = drain_delay(g.tg);
    in_use = elb_tg_in_use(txn, g.id);
    util_iso_now(now);
    for (i = 0; i < n && rc == SL_OK; i++) {
        json_t *cur;

        resolve(&g, &t[i], &r, err);
        if ((cur = store_get(txn, K_TARGET, r.key)) == NULL)
            continue; /* AWS: deregistering an unknown target succeeds */
        if (delay == 0 || !in_use) {
            /* Nothing can be in flight to a group that gets no traffic. */
            if (elb_target_remove(txn, env, r.key) != SL_OK)
                rc = elb_store_fail(err, "remove the target");
        } else if (!is_draining(cur)) {
            if (start_drain(txn, cur, r.key, now_ms + (uint64_t)delay * 1000, now) != SL_OK)
                rc = elb_store_fail(err, "start the drain");
        }
        json_decref(cur);
    }
    json_decref(g.tg);
    return rc;
}

/* ---- health ---- */

struct health_scan {
    const struct elb_env *env;
    struct group *g;
    int in_use;
    json_t *out;                     /* DescribeTargetHealth */
    struct elb_target_status *st;    /* elb_targets_status() */
    size_t n, cap;
    int failed;
};

struct verdict {
    enum elb_target_state state;
    enum elb_reason reason;
    const char *description; /* static text, or rep.description */
    int reported;            /* the description is a proxy's (checked when decoded) */
    struct elb_health_report rep;
};

static void judge(struct health_scan *h, json_t *target_obj, const char *key, struct verdict *v)
{
    v->reason = ELB_R_NONE;
    v->reported = 0;
    if (is_draining(target_obj)) {
        v->state = ELB_TS_DRAINING;
        v->reason = ELB_R_DEREGISTRATION_IN_PROGRESS;
        v->description = "Target deregistration is in progress";
    } else if (!h->in_use) {
        v->state = ELB_TS_UNUSED;
        v->reason = ELB_R_NOT_IN_USE;
        v->description =
            "Target group is not configured to receive traffic from the load balancer";
    } else if (!json_is_true(json_object_get(h->g->tg, "HealthCheckEnabled"))) {
        v->state = ELB_TS_UNAVAILABLE;
        v->reason = ELB_R_HEALTH_CHECK_DISABLED;
        v->description = "Health checks are disabled";
    } else if (elb_health_get(h->env->health, key, &v->rep) == SL_OK) {
        v->state = v->rep.state;
        v->reason = v->rep.reason;
        v->description = v->rep.description;
        v->reported = 1;
    } else {
        v->state = ELB_TS_INITIAL;
        v->reason = ELB_R_REGISTRATION_IN_PROGRESS;
        v->description = "Target registration is in progress";
    }
}

static json_t *health_json(const struct verdict *v)
{
    json_t *th = json_object();

    json_object_set_new_nocheck(th, "State",
                                json_string_nocheck(elb_target_state_name(v->state)));
    if (v->reason != ELB_R_NONE) {
        json_object_set_new_nocheck(th, "Reason",
                                    json_string_nocheck(elb_reason_name(v->reason)));
        /* What a proxy reported is checked again: the registry takes any
         * caller's text. */
        json_object_set_new_nocheck(th, "Description",
                                    v->reported ? json_string(v->description)
                                                : json_string_nocheck(v->description));
    }
    return th;
}

/* The port the group's health checks reach target port <port> on. */
static json_t *hc_port_json(json_t *tg, json_int_t port)
{
    const char *hc_port = json_string_value(json_object_get(tg, "HealthCheckPort"));
    char buf[24];

    if (hc_port == NULL || strcmp(hc_port, "traffic-port") == 0) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, port);
        return json_string(buf);
    }
    return json_string(hc_port);
}

static json_t *description(struct health_scan *h, json_t *target_obj, const char *key)
{
    json_t *target = json_object_get(target_obj, "Target"), *out;
    struct verdict v;

    judge(h, target_obj, key, &v);
    out = json_object();
    json_object_set_nocheck(out, "Target", target);
    json_object_set_new_nocheck(
        out, "HealthCheckPort",
        hc_port_json(h->g->tg, json_integer_value(json_object_get(target, "Port"))));
    json_object_set_new_nocheck(out, "TargetHealth", health_json(&v));
    return out;
}

static int collect_health(const char *id, json_t *obj, void *arg)
{
    struct health_scan *h = arg;

    json_array_append_new(h->out, description(h, obj, id));
    return 0;
}

static json_t *not_registered(json_t *tg, const struct resolved *r)
{
    return json_pack("{s{ss sI} so s{ss ss ss}}", "Target", "Id", r->id, "Port",
                     (json_int_t)r->port, "HealthCheckPort", hc_port_json(tg, r->port),
                     "TargetHealth", "State", "unused", "Reason", "Target.NotRegistered",
                     "Description", "Target is not registered to the target group");
}

int elb_targets_health(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                       const struct elb_target *t, size_t n, json_t **out, struct sl_err *err)
{
    struct group g;
    struct health_scan h = {env, &g, 0, NULL, NULL, 0, 0, 0};
    struct resolved r;
    char prefix[ELB_ID_MAX + 2];
    size_t i;

    if (group_get(txn, tg_arn, &g, err) != SL_OK)
        return SL_ERR;
    h.in_use = elb_tg_in_use(txn, g.id);
    h.out = json_array();
    for (i = 0; i < n; i++) {
        json_t *obj;
        if (resolve(&g, &t[i], &r, err) != SL_OK) {
            json_decref(h.out);
            json_decref(g.tg);
            return SL_ERR;
        }
        obj = store_get_shared(txn, K_TARGET, r.key);
        json_array_append_new(h.out,
                              obj ? description(&h, obj, r.key) : not_registered(g.tg, &r));
        json_decref(obj);
    }
    if (n == 0) {
        snprintf(prefix, sizeof(prefix), "%s|", g.id);
        store_scan(txn, K_TARGET, prefix, collect_health, &h);
    }
    json_decref(g.tg);
    *out = h.out;
    return SL_OK;
}

static int collect_status(const char *id, json_t *obj, void *arg)
{
    struct health_scan *h = arg;
    json_t *target = json_object_get(obj, "Target");
    struct elb_target_status *s;
    struct verdict v;

    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct elb_target_status *p = realloc(h->st, cap * sizeof(*p));
        if (p == NULL) {
            h->failed = 1;
            return 1;
        }
        h->st = p;
        h->cap = cap;
    }
    s = &h->st[h->n++];
    judge(h, obj, id, &v);
    snprintf(s->id, sizeof(s->id), "%s", elb_str(target, "Id"));
    s->port = (long)json_integer_value(json_object_get(target, "Port"));
    s->state = v.state;
    s->reason = v.reason;
    snprintf(s->description, sizeof(s->description), "%s", v.description);
    return 0;
}

int elb_targets_status(struct store_txn *txn, const struct elb_env *env, const char *tg_arn,
                       struct elb_target_status **out, size_t *n, struct sl_err *err)
{
    struct group g;
    struct health_scan h = {env, &g, 0, NULL, NULL, 0, 0, 0};
    char prefix[ELB_ID_MAX + 2];

    if (group_get(txn, tg_arn, &g, err) != SL_OK)
        return SL_ERR;
    h.in_use = elb_tg_in_use(txn, g.id);
    snprintf(prefix, sizeof(prefix), "%s|", g.id);
    store_scan(txn, K_TARGET, prefix, collect_status, &h);
    json_decref(g.tg);
    if (h.failed) {
        free(h.st);
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    }
    *out = h.st;
    *n = h.n;
    return SL_OK;
}

/* ---- removal ---- */

int elb_target_exists(struct store_txn *txn, const char *key)
{
    json_t *t = store_get_shared(txn, K_TARGET, key);

    json_decref(t);
    return t != NULL;
}

int elb_target_remove(struct store_txn *txn, const struct elb_env *env, const char *key)
{
    json_t *t = store_get_shared(txn, K_TARGET, key);
    char dkey[ELB_TARGET_KEY_MAX + 32], tg_id[ELB_ID_MAX];
    size_t l, n;
    int rc;

    if (t == NULL)
        return SL_ENOTFOUND;
    if (json_object_get(t, "_deadline_ms")) {
        elb_drain_key(dkey, sizeof(dkey), deadline_of(t), key);
        store_index_del(txn, dkey);
    }
    json_decref(t);
    /* The key is "<tg id>|<Id>|<Port>"; count before the target goes. */
    l = strcspn(key, "|");
    if (l >= sizeof(tg_id)) {
        rc = store_del(txn, K_TARGET, key);
    } else {
        memcpy(tg_id, key, l);
        tg_id[l] = '\0';
        n = tg_count(txn, tg_id);
        rc = store_del(txn, K_TARGET, key);
        if (rc == SL_OK)
            rc = tg_count_set(txn, tg_id, n ? n - 1 : 0);
    }
    /* Forgotten now, before the commit: if the transaction fails after all,
     * the target only shows "initial" until the next report. */
    if (rc == SL_OK && env)
        elb_health_forget(env->health, key);
    return rc;
}

static int collect_id(const char *id, json_t *obj, void *arg)
{
    json_array_append_new(arg, json_string(id));
    return 0;
}

int elb_targets_remove_all(struct store_txn *txn, const struct elb_env *env, const char *tg_id)
{
    char prefix[ELB_ID_MAX + 2];
    json_t *keys = json_array(), *k;
    size_t i;
    int rc = SL_OK;

    snprintf(prefix, sizeof(prefix), "%s|", tg_id);
    store_scan(txn, K_TARGET, prefix, collect_id, keys);
    json_array_foreach(keys, i, k)
        if (rc == SL_OK && elb_target_remove(txn, env, json_string_value(k)) == SL_EIO)
            rc = SL_EIO;
    json_decref(keys);
    return rc;
}

struct sweep {
    struct store_txn *txn;
    struct elb_health *h;
    size_t dropped;
};

static void sweep_one(const char *key, void *arg)
{
    struct sweep *s = arg;

    if (!elb_target_exists(s->txn, key)) {
        elb_health_forget(s->h, key);
        s->dropped++;
    }
}

size_t elb_targets_sweep(struct store_txn *txn, struct elb_health *h)
{
    struct sweep s = {txn, h, 0};

    if (h)
        elb_health_keys(h, sweep_one, &s);
    return s.dropped;
}
