/*
 * dp_report.c - data-plane reports: target health into the registry, the
 * proxies' applied revisions and busy targets, and the early end of drains.
 */
#include "server/dp_report.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "routes/elbv2/drain.h"
#include "routes/elbv2/health.h"
#include "routes/elbv2/lbstate.h"
#include "routes/elbv2/objects.h"
#include "routes/elbv2/targets.h"
#include "server/metrics_agg.h"
#include "store/store.h"

struct proxy {
    char id[129];
    uint64_t rev;     /* the revision it applied */
    uint64_t seen_ms; /* monotonic */
    char **busy;      /* sorted keys of targets with requests or connections open */
    size_t nbusy;
};

struct dp_report {
    struct app *app;
    struct elb_env env;
    pthread_mutex_t mu;
    struct proxy *proxies;
    size_t n, cap;
};

int dp_report_new(struct app *app, struct dp_report **out)
{
    struct dp_report *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return SL_ENOMEM;
    r->app = app;
    r->env.region = app->cfg ? app->cfg->region : "";
    r->env.account = app->cfg ? app->cfg->account_id : "";
    r->env.health = app->health;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return SL_OK;
}

static void busy_free(char **busy, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(busy[i]);
    free(busy);
}

void dp_report_free(struct dp_report *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        busy_free(r->proxies[i].busy, r->proxies[i].nbusy);
    free(r->proxies);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void reply_error(struct front_reply *out, const char *code, const char *message)
{
    front_rest_error(400, code, message, out);
}

/* ---- one report ---- */

/* What a report says, decoded. */
struct report {
    const char *pid;
    uint64_t rev;
    json_t *targets; /* borrowed from the body */
    char **busy;
    size_t nbusy;
};

/* The store, opened once per report and only when a target is new. */
struct lookup {
    struct dp_report *r;
    struct store_txn *txn;
    int failed;
};

/* Non-zero if the store knows target <key>: the registry has it (it did
 * when it was recorded; removal forgets it), or the store does. */
static int known(struct lookup *l, const char *key)
{
    struct elb_health_report tmp;
    struct sl_err err = {0};

    if (elb_health_get(l->r->env.health, key, &tmp) == SL_OK)
        return 1;
    if (l->txn == NULL && !l->failed &&
        store_read_begin(l->r->app->store, &l->txn, &err) != SL_OK) {
        log_warn("dataplane: report: %s", err.message);
        l->failed = 1;
    }
    return l->txn && elb_target_exists(l->txn, key);
}

/* <s> cut to fit <cap> bytes at a UTF-8 character boundary. */
static void copy_utf8(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* The health a report gives one target; SL_ENOTFOUND when it gives none. */
static int health_of(json_t *t, struct elb_health_report *hr)
{
    const char *state = json_string_value(json_object_get(t, "state"));
    const char *reason = json_string_value(json_object_get(t, "reason"));
    const char *desc = json_string_value(json_object_get(t, "description"));

    memset(hr, 0, sizeof(*hr));
    if (state == NULL || elb_target_state_parse(state, &hr->state) != SL_OK ||
        (hr->state != ELB_TS_HEALTHY && hr->state != ELB_TS_UNHEALTHY &&
         hr->state != ELB_TS_INITIAL))
        return SL_ENOTFOUND;
    /* A reason this control plane does not know is shown as the generic one
     * of its state, never passed on as unchecked text. */
    if (reason && reason[0] && elb_reason_parse(reason, &hr->reason) != SL_OK)
        hr->reason = hr->state == ELB_TS_UNHEALTHY ? ELB_R_FAILED_HEALTH_CHECKS
                                                   : ELB_R_INITIAL_HEALTH_CHECKING;
    if (hr->state == ELB_TS_HEALTHY)
        hr->reason = ELB_R_NONE;
    copy_utf8(hr->description, sizeof(hr->description), desc ? desc : "");
    hr->updated_ms = util_mono_ms();
    return SL_OK;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Record each target's health and collect the busy ones, for the targets
 * the store knows. */
static int record_targets(struct dp_report *r, struct report *rep)
{
    struct lookup l = {r, NULL, 0};
    struct elb_health_report hr;
    json_t *t;
    size_t i;

    rep->busy = calloc(json_array_size(rep->targets) + 1, sizeof(*rep->busy));
    if (rep->busy == NULL)
        return SL_ENOMEM;
    json_array_foreach(rep->targets, i, t) {
        const char *key = json_string_value(json_object_get(t, "key"));
        int has_health, busy;

        if (key == NULL || strlen(key) >= ELB_TARGET_KEY_MAX)
            continue;
        has_health = health_of(t, &hr) == SL_OK;
        busy = json_integer_value(json_object_get(t, "in_flight")) > 0 ||
               json_integer_value(json_object_get(t, "connections")) > 0;
        if (has_health && r->env.health &&
            elb_health_update(r->env.health, key, &hr) == SL_OK) {
            /* known: updated in place */
        } else if ((has_health || busy) && known(&l, key)) {
            if (has_health && r->env.health)
                elb_health_set(r->env.health, key, &hr);
        } else {
            continue;
        }
        if (busy && (rep->busy[rep->nbusy] = strdup(key)) != NULL)
            rep->nbusy++;
    }
    if (l.txn)
        store_txn_end(l.txn);
    qsort(rep->busy, rep->nbusy, sizeof(*rep->busy), by_key);
    return SL_OK;
}

/* Record proxy <rep->pid> (its busy list is taken over).  SL_EAGAIN when
 * one more proxy would exceed the limit. */
static int record_proxy(struct dp_report *r, struct report *rep, uint64_t now)
{
    struct proxy *p = NULL;
    size_t i;

    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n && p == NULL; i++)
        if (strcmp(r->proxies[i].id, rep->pid) == 0)
            p = &r->proxies[i];
    if (p == NULL) {
        if (r->n == DP_REPORT_PROXIES_MAX) {
            pthread_mutex_unlock(&r->mu);
            return SL_EAGAIN;
        }
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 4;
            struct proxy *np = realloc(r->proxies, cap * sizeof(*np));
            if (np == NULL) {
                pthread_mutex_unlock(&r->mu);
                return SL_ENOMEM;
            }
            r->proxies = np;
            r->cap = cap;
        }
        p = &r->proxies[r->n++];
        memset(p, 0, sizeof(*p));
        snprintf(p->id, sizeof(p->id), "%s", rep->pid);
    }
    busy_free(p->busy, p->nbusy);
    p->busy = rep->busy;
    p->nbusy = rep->nbusy;
    rep->busy = NULL;
    rep->nbusy = 0;
    p->rev = rep->rev;
    p->seen_ms = now;
    pthread_mutex_unlock(&r->mu);
    return SL_OK;
}

/* ---- listeners a proxy cannot bind ---- */

/* <s> (at most <max> bytes of it) into <out> as printable ASCII: it goes
 * into an API answer. */
static void printable(char *out, size_t cap, const char *s, size_t max)
{
    size_t i;

    for (i = 0; s && s[i] && i < max && i + 1 < cap; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
}

/* The load balancers of the report's unbound_listeners, with the reason
 * DescribeLoadBalancers gives for active_impaired.  Entries naming a load
 * balancer the store does not have are left out. */
static int record_binds(struct dp_report *r, json_t *body, const char *pid)
{
    json_t *arr = json_object_get(body, "unbound_listeners"), *e;
    struct elb_lb_impaired v[ELB_LBSTATE_PER_PROXY];
    struct store_txn *txn = NULL;
    struct sl_err err = {0};
    size_t i, n = 0;

    json_array_foreach(arr, i, e) {
        const char *lb = json_string_value(json_object_get(e, "load_balancer_id"));
        json_int_t port = json_integer_value(json_object_get(e, "port"));
        char addr[64], why[129];
        json_t *obj;
        if (n == ELB_LBSTATE_PER_PROXY || lb == NULL || strlen(lb) >= ELB_ID_MAX || port < 1 ||
            port > 65535)
            continue;
        if (txn == NULL && store_read_begin(r->app->store, &txn, &err) != SL_OK)
            break;
        if ((obj = store_get_shared(txn, K_LB, lb)) == NULL)
            continue;
        printable(v[n].arn, sizeof(v[n].arn), elb_str(obj, "arn"), sizeof(v[n].arn));
        json_decref(obj);
        printable(addr, sizeof(addr), json_string_value(json_object_get(e, "address")), 63);
        printable(why, sizeof(why), json_string_value(json_object_get(e, "error")), 128);
        snprintf(v[n].reason, sizeof(v[n].reason),
                 "Listener on port %d is not serving: sluice-proxy %.40s cannot listen on "
                 "%.46s:%d: %.80s",
                 (int)port, pid, addr[0] ? addr : "*", (int)port, why[0] ? why : "error");
        n++;
    }
    if (txn)
        store_txn_end(txn);
    return elb_lbstate_report(elb_health_lbstate(r->env.health), pid, v, n);
}

/* ---- early drains ---- */

struct draining {
    char **keys;
    size_t n, cap;
};

static void collect_draining(const char *key, void *arg)
{
    struct draining *d = arg;
    char **k;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        if ((k = realloc(d->keys, cap * sizeof(*k))) == NULL)
            return;
        d->keys = k;
        d->cap = cap;
    }
    if ((d->keys[d->n] = strdup(key)) != NULL)
        d->n++;
}

/* Forget proxies past their TTL; keep the draining keys no live proxy has
 * busy, and the oldest revision a live proxy applied.  0 when none is
 * live.  Under the lock. */
static int idle_drains(struct dp_report *r, struct draining *d, uint64_t now, uint64_t *min_rev)
{
    size_t i, j, kept = 0;

    for (i = 0; i < r->n;) {
        if (now - r->proxies[i].seen_ms > DP_REPORT_PROXY_TTL_MS) {
            log_info("dataplane: proxy %s stopped reporting; forgetting it", r->proxies[i].id);
            elb_lbstate_forget(elb_health_lbstate(r->env.health), r->proxies[i].id);
            if (r->app->agg)
                magg_forget(r->app->agg, r->proxies[i].id);
            busy_free(r->proxies[i].busy, r->proxies[i].nbusy);
            r->proxies[i] = r->proxies[--r->n];
            continue;
        }
        i++;
    }
    if (r->n == 0)
        return 0;
    *min_rev = UINT64_MAX;
    for (i = 0; i < r->n; i++)
        if (r->proxies[i].rev < *min_rev)
            *min_rev = r->proxies[i].rev;
    for (j = 0; j < d->n; j++) {
        int busy = 0;
        for (i = 0; i < r->n && !busy; i++)
            busy = bsearch(&d->keys[j], r->proxies[i].busy, r->proxies[i].nbusy,
                           sizeof(char *), by_key) != NULL;
        if (busy)
            free(d->keys[j]);
        else
            d->keys[kept++] = d->keys[j];
    }
    d->n = kept;
    return 1;
}

struct finish {
    struct dp_report *r;
    struct draining *d;
    uint64_t min_rev;
    size_t removed;
};

static int finish_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct finish *f = arg;
    size_t i;
    int rc;

    f->removed = 0;
    for (i = 0; i < f->d->n; i++) {
        rc = elb_drain_finish(txn, &f->r->env, f->d->keys[i], f->min_rev);
        if (rc == SL_OK)
            f->removed++;
        else if (rc != SL_ENOTFOUND)
            return sl_err_set(err, 500, "InternalFailure", "cannot remove a drained target");
    }
    return SL_OK;
}

static void finish_idle_drains(struct dp_report *r, uint64_t now)
{
    struct draining d = {NULL, 0, 0};
    struct finish f = {r, &d, 0, 0};
    struct store_txn *txn;
    struct sl_err err = {0};
    size_t i;
    int live;

    if (store_read_begin(r->app->store, &txn, &err) != SL_OK)
        return;
    elb_drain_each(txn, collect_draining, &d);
    store_txn_end(txn);
    pthread_mutex_lock(&r->mu);
    live = idle_drains(r, &d, now, &f.min_rev);
    pthread_mutex_unlock(&r->mu);
    if (live && d.n > 0) {
        if (store_write(r->app->store, finish_tx, &f, NULL, &err) != SL_OK)
            log_warn("dataplane: removing drained targets: %s", err.message);
        else if (f.removed)
            log_info("dataplane: %zu drained target(s) idle on every proxy; removed",
                     f.removed);
    }
    for (i = 0; i < d.n; i++)
        free(d.keys[i]);
    free(d.keys);
}

void dp_report_handle(struct dp_report *r, const struct front_request *req,
                      struct front_reply *out)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, 0, &jerr), *rev;
    struct report rep = {NULL, 0, NULL, NULL, 0};
    uint64_t now = util_mono_ms();
    char text[48];
    int rc;

    if (!json_is_object(body)) {
        reply_error(out, "InvalidJSON", "report must be a JSON object");
        goto out;
    }
    rep.pid = json_string_value(json_object_get(body, "proxy_id"));
    rev = json_object_get(body, "applied_revision");
    rep.targets = json_object_get(body, "targets");
    if (rep.pid == NULL || *rep.pid == '\0' || strlen(rep.pid) > 128 || !json_is_integer(rev) ||
        json_integer_value(rev) < 0 || (rep.targets && !json_is_array(rep.targets))) {
        reply_error(out, "ValidationError",
                    "report needs proxy_id (string), applied_revision (integer) and targets "
                    "(array)");
        goto out;
    }
    rep.rev = (uint64_t)json_integer_value(rev);
    if (json_object_get(body, "unbound_listeners") &&
        !json_is_array(json_object_get(body, "unbound_listeners"))) {
        reply_error(out, "ValidationError", "unbound_listeners must be an array");
        goto out;
    }
    if ((rc = record_targets(r, &rep)) == SL_OK)
        rc = record_proxy(r, &rep, now);
    if (rc == SL_OK)
        rc = record_binds(r, body, rep.pid);
    if (rc == SL_EAGAIN) {
        reply_error(out, "TooManyProxies",
                    "this control plane tracks at most 1024 proxies at once; a proxy is "
                    "forgotten 15 s after its last report");
        goto out;
    }
    if (rc != SL_OK) {
        front_rest_error(500, "InternalFailure", "out of memory", out);
        goto out;
    }
    if (r->app->agg)
        magg_ingest(r->app->agg, rep.pid, body, now);
    finish_idle_drains(r, now);
    out->status = 200;
    out->content_type = "application/json";
    snprintf(text, sizeof(text), "{\"revision\":%llu}\n",
             (unsigned long long)store_revision(r->app->store));
    buf_puts(&out->body, text);
out:
    busy_free(rep.busy, rep.nbusy);
    json_decref(body);
}

void dp_report_each_proxy(struct dp_report *r, void (*fn)(const char *, uint64_t, void *),
                          void *arg)
{
    size_t i;

    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n; i++)
        fn(r->proxies[i].id, r->proxies[i].rev, arg);
    pthread_mutex_unlock(&r->mu);
}
