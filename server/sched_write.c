/*
 * sched_write.c - task and service transactions of the scheduler (see
 * sched_write.h).
 */
#include "server/sched_write.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define MAX_EVENTS 100 /* a service keeps its newest 100 events */
#define DRAIN_SLACK_MS 2000 /* past the group's delay: the drain has surely ended */

/* ---- tasks ---- */

struct task_tx {
    struct sched_pass *p;
    const char *key;
    struct sched_change *c;
    json_t *result; /* the stored task after the change */
};

static int guard_holds(json_t *t, enum sched_guard g)
{
    enum sched_status last = sched_status_parse(sched_jstr(t, "lastStatus"));
    enum sched_status desired = sched_status_parse(sched_jstr(t, "desiredStatus"));

    if (last == SCHED_ST_STOPPED)
        return 0;
    if (g == SCHED_GUARD_UNSTARTED)
        return sched_status_unstarted(last) && desired == SCHED_ST_RUNNING;
    if (g == SCHED_GUARD_WANTED)
        return desired == SCHED_ST_RUNNING;
    return 1;
}

static int target_addr(json_t *x, struct sched_addr *a)
{
    snprintf(a->ip, sizeof(a->ip), "%s",
             json_is_string(json_object_get(x, "ip")) ? sched_jstr(x, "ip") : "127.0.0.1");
    a->port = (long)json_integer_value(json_object_get(x, "port"));
    return a->port > 0;
}

static int deregister_all(struct store_txn *txn, struct task_tx *x, json_t *t, struct sl_err *err)
{
    json_t *list = json_object_get(t, "_targets"), *g;
    size_t i;
    long delay;
    int rc;

    json_array_foreach(list, i, g) {
        struct sched_addr a;
        if (i >= SCHED_MAX_LBS || !target_addr(g, &a))
            continue;
        rc = sched_domain_deregister(&x->p->ctx->dom, txn, sched_jstr(g, "tg"), &a,
                                     x->p->now_ms, &delay, err);
        if (rc == SL_ENOTFOUND)
            continue;
        if (rc != SL_OK)
            return rc;
        x->c->deregistered[i] = 1;
        if (delay > x->c->drain_s)
            x->c->drain_s = delay;
    }
    json_object_set_new(t, "_drain_deadline_ms",
                        json_integer((json_int_t)(x->p->now_ms + (uint64_t)x->c->drain_s * 1000 +
                                                  DRAIN_SLACK_MS)));
    return SL_OK;
}

static int register_all(struct store_txn *txn, struct task_tx *x, json_t *t, struct sl_err *err)
{
    json_t *list = json_array();
    size_t i;
    int rc;

    if (list == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    for (i = 0; i < x->c->nreg && i < SCHED_MAX_LBS; i++) {
        const struct sched_target *g = &x->c->reg[i];
        rc = sched_domain_register(&x->p->ctx->dom, txn, g->tg, &g->addr, err);
        if (rc == SL_ENOTFOUND)
            continue; /* the group is gone: nothing to register there */
        if (rc != SL_OK) {
            x->c->failed_reg = (int)i;
            json_decref(list);
            return rc;
        }
        x->c->registered[i] = 1;
        json_array_append_new(list, json_pack("{ss sI ss}", "tg", g->tg, "port",
                                              (json_int_t)g->addr.port, "ip", g->addr.ip));
    }
    json_object_set_new(t, "_targets", list);
    return SL_OK;
}

static int keep_first(const char *k)
{
    /* The first reason given (StopTask's, say) is the one ECS shows. */
    return strcmp(k, "stoppedReason") == 0 || strcmp(k, "stopCode") == 0 ||
           strcmp(k, "stoppingAt") == 0;
}

static int task_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct task_tx *x = arg;
    json_t *t = store_get(txn, K_ECS_TASK, x->key), *v;
    const char *k;
    int rc = SL_OK;

    if (t == NULL || !guard_holds(t, x->c->guard)) {
        json_decref(t);
        return SL_OK;
    }
    memset(x->c->registered, 0, sizeof(x->c->registered));
    memset(x->c->deregistered, 0, sizeof(x->c->deregistered));
    x->c->drain_s = 0;
    if ((x->c->deregister && (rc = deregister_all(txn, x, t, err)) != SL_OK) ||
        (x->c->set_targets && (rc = register_all(txn, x, t, err)) != SL_OK)) {
        json_decref(t);
        return rc;
    }
    json_object_foreach(x->c->set, k, v)
        if (!keep_first(k) || json_object_get(t, k) == NULL)
            json_object_set(t, k, v);
    json_object_set_new(t, "version",
                        json_integer(json_integer_value(json_object_get(t, "version")) + 1));
    if ((rc = store_put(txn, K_ECS_TASK, x->key, t)) != SL_OK) {
        json_decref(t);
        return SL_EIO;
    }
    x->result = t;
    return SL_OK;
}

int sched_write_task(struct sched_pass *p, struct sched_task *t, struct sched_change *c)
{
    struct task_tx x = {p, t->key, c, NULL};
    int rc;

    c->applied = 0;
    c->failed_reg = -1;
    memset(&c->err, 0, sizeof(c->err));
    rc = store_write(p->ctx->store, task_tx, &x, NULL, &c->err);
    json_decref(c->set);
    c->set = NULL;
    if (rc != SL_OK) {
        json_decref(x.result);
        /* A refused target is the caller's to report (once); storage is not. */
        if (c->err.status >= 400 && c->err.status < 500)
            log_debug("scheduler: task %s: %s", t->key, c->err.message);
        else
            log_warn("scheduler: task %s: %s", t->key, c->err.message);
        return rc;
    }
    if (x.result) {
        enum sched_status before = t->last;
        c->applied = 1;
        json_decref(t->obj);
        t->obj = x.result;
        sched_pass_refresh(p, t);
        if (t->last != before)
            log_info("ecs: task %s %s -> %s%s%s", t->key, sched_status_name(before),
                     sched_status_name(t->last), t->stop_code[0] ? " stopCode " : "",
                     t->stop_code);
    }
    return SL_OK;
}

/* ---- services ---- */

struct svc_tx {
    struct sched_pass *p;
    const char *id;
    struct sched_svc_update *u;
};

static struct sched_dep_update *dep_update(struct sched_svc_update *u, const char *id)
{
    size_t i;

    for (i = 0; i < u->ndeps; i++)
        if (strcmp(u->deps[i].id, id) == 0)
            return &u->deps[i];
    return NULL;
}

static void apply_deps(struct svc_tx *x, json_t *deps)
{
    size_t i;

    for (i = json_array_size(deps); i-- > 0;) {
        json_t *d = json_array_get(deps, i);
        struct sched_dep_update *du = dep_update(x->u, sched_jstr(d, "id"));
        if (du == NULL)
            continue;
        if (du->retire && i > 0) {
            json_array_remove(deps, i);
            continue;
        }
        json_object_set_new(d, "runningCount", json_integer(du->running));
        json_object_set_new(d, "pendingCount", json_integer(du->pending));
        json_object_set_new(d, "desiredCount", json_integer(du->desired));
        json_object_set_new(d, "failedTasks", json_integer(du->failed));
        /* Only the deployment still PRIMARY completes; any can fail. */
        if (du->rollout != SCHED_ROLLOUT_NONE &&
            (i == 0 || du->rollout == SCHED_ROLLOUT_FAILED)) {
            json_object_set_new(d, "rolloutState", json_string(sched_rollout_name(du->rollout)));
            json_object_set_new(d, "rolloutStateReason", json_string(du->reason ? du->reason : ""));
        }
        json_object_set_new(d, "updatedAt", json_real(x->p->now));
    }
}

static void add_events(struct svc_tx *x, json_t *svc)
{
    json_t *events = json_object_get(svc, "events");
    size_t i;

    if (!json_is_array(events)) {
        events = json_array();
        json_object_set_new(svc, "events", events);
    }
    for (i = 0; i < x->p->nevents; i++) {
        char uuid[37];
        if (strcmp(x->p->events[i].svc_id, x->id) != 0)
            continue;
        util_uuid(uuid);
        json_array_insert_new(events, 0,
                              json_pack("{ss sf ss}", "id", uuid, "createdAt", x->p->now,
                                        "message", x->p->events[i].text));
    }
    while (json_array_size(events) > MAX_EVENTS)
        json_array_remove(events, json_array_size(events) - 1);
}

static int svc_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct svc_tx *x = arg;
    struct sched_svc_update *u = x->u;
    json_t *svc = store_get(txn, K_ECS_SERVICE, x->id), *deps;
    const char *rolled_back = NULL;
    int rc;

    (void)err;
    if (svc == NULL || strcmp(sched_jstr(svc, "status"), "INACTIVE") == 0) {
        json_decref(svc);
        return SL_OK;
    }
    deps = json_object_get(svc, "deployments");
    if (u->counts) {
        apply_deps(x, deps);
        json_object_set_new(svc, "runningCount", json_integer(u->running));
        json_object_set_new(svc, "pendingCount", json_integer(u->pending));
        json_object_set_new(svc, "_steady", json_boolean(u->steady));
    }
    if (u->rollback && strcmp(sched_jstr(json_array_get(deps, 0), "id"), u->rollback_from) == 0) {
        json_object_set_new(json_array_get(deps, 0), "status", json_string("ACTIVE"));
        json_array_insert(deps, 0, u->rollback);
        json_object_set(svc, "taskDefinition", json_object_get(u->rollback, "taskDefinition"));
        rolled_back = u->rollback_from;
    }
    if (u->inactive && strcmp(sched_jstr(svc, "status"), "DRAINING") == 0)
        json_object_set_new(svc, "status", json_string("INACTIVE"));
    add_events(x, svc);
    rc = sched_domain_service_sync(txn, svc, rolled_back, x->p->now);
    if (rc == SL_OK)
        rc = store_put(txn, K_ECS_SERVICE, x->id, svc);
    json_decref(svc);
    return rc == SL_OK ? SL_OK : SL_EIO;
}

int sched_write_service(struct sched_pass *p, const char *svc_id, struct sched_svc_update *u)
{
    struct svc_tx x = {p, svc_id, u};
    struct sl_err err = {0};
    int rc = store_write(p->ctx->store, svc_tx, &x, NULL, &err);

    json_decref(u->rollback);
    u->rollback = NULL;
    if (rc != SL_OK)
        log_warn("scheduler: service %s: %s", svc_id, err.message);
    return rc;
}

/* ---- forgetting stopped tasks ---- */

struct forget_tx {
    char (*keys)[STORE_ID_MAX + 1];
    size_t n, deleted;
};

static int forget_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct forget_tx *f = arg;
    size_t i;

    (void)err;
    f->deleted = 0;
    for (i = 0; i < f->n; i++) {
        json_t *t = store_get_shared(txn, K_ECS_TASK, f->keys[i]);
        int stopped = t && strcmp(sched_jstr(t, "lastStatus"), "STOPPED") == 0;
        json_decref(t);
        if (!stopped)
            continue;
        if (store_del(txn, K_ECS_TASK, f->keys[i]) != SL_OK)
            return SL_EIO;
        f->deleted++;
    }
    return SL_OK;
}

int sched_write_forget(struct sched_pass *p, char (*keys)[STORE_ID_MAX + 1], size_t n)
{
    struct forget_tx f = {keys, n, 0};
    struct sl_err err = {0};
    int rc;

    if (n == 0)
        return SL_OK;
    rc = store_write(p->ctx->store, forget_tx, &f, NULL, &err);
    if (rc != SL_OK)
        log_warn("scheduler: forgetting stopped tasks: %s", err.message);
    else
        log_info("scheduler: forgot %zu stopped tasks past the retention", f.deleted);
    return rc;
}
