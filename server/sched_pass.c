/*
 * sched_pass.c - reading one scheduler pass into C structs, and the pass's
 * caches and events (see sched_pass.h).
 */
#include "server/sched_pass.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/runtime.h"

#define EXPIRED_PER_PASS 100 /* stopped tasks deleted per pass at most */

/* Make room for one more element in a growing array. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    size_t c;
    void *nv;

    if (n < *cap)
        return SL_OK;
    c = *cap ? *cap * 2 : 16;
    if ((nv = realloc(*v, c * size)) == NULL)
        return SL_ENOMEM;
    *v = nv;
    *cap = c;
    return SL_OK;
}

double sched_clock(uint64_t *ms)
{
    struct timespec ts;
    uint64_t m;

    clock_gettime(CLOCK_REALTIME, &ts);
    m = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (ms)
        *ms = m;
    return (double)m / 1000.0;
}

/* ---- task definitions ---- */

static int health_checked(json_t *td)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (!json_is_false(json_object_get(c, "essential")) &&
            json_array_size(json_object_get(json_object_get(c, "healthCheck"), "command")) > 0)
            return 1;
    return 0;
}

const struct sched_td *sched_pass_td(const struct sched_pass *p, const char *arn)
{
    size_t i;

    for (i = 0; arn && i < p->ntds; i++)
        if (strcmp(p->tds[i].arn, arn) == 0)
            return &p->tds[i];
    return NULL;
}

static int need_td(struct sched_pass *p, struct store_txn *txn, const char *arn)
{
    struct sched_td *t;
    json_t *td;

    if (arn[0] == '\0' || strlen(arn) >= ECS_ARN_MAX || sched_pass_td(p, arn))
        return SL_OK;
    if ((td = sched_domain_taskdef(txn, arn)) == NULL)
        return SL_OK; /* deleted: its tasks fail to start */
    if (grow((void **)&p->tds, &p->ctds, p->ntds, sizeof(*p->tds)) != SL_OK) {
        json_decref(td);
        return SL_ENOMEM;
    }
    t = &p->tds[p->ntds++];
    snprintf(t->arn, sizeof(t->arn), "%s", arn);
    t->td = td;
    t->health_checked = health_checked(td);
    return SL_OK;
}

/* ---- services ---- */

static void parse_lbs(struct sched_service *s, json_t *svc)
{
    json_t *lb;
    size_t i;

    json_array_foreach(json_object_get(svc, "loadBalancers"), i, lb) {
        struct sched_lb *l;
        if (s->nlbs == SCHED_MAX_LBS)
            break;
        l = &s->lbs[s->nlbs++];
        snprintf(l->tg, sizeof(l->tg), "%s", sched_jstr(lb, "targetGroupArn"));
        snprintf(l->container, sizeof(l->container), "%s", sched_jstr(lb, "containerName"));
        l->port = (long)json_integer_value(json_object_get(lb, "containerPort"));
    }
}

static int parse_deps(struct sched_service *s, json_t *deps)
{
    json_t *d;
    size_t i;

    if ((s->deps = calloc(json_array_size(deps), sizeof(*s->deps))) == NULL)
        return SL_ENOMEM;
    json_array_foreach(deps, i, d) {
        struct sched_dep *x = &s->deps[s->ndeps++];
        snprintf(x->id, sizeof(x->id), "%s", sched_jstr(d, "id"));
        snprintf(x->td, sizeof(x->td), "%s", sched_jstr(d, "taskDefinition"));
        x->rollout = sched_rollout_parse(sched_jstr(d, "rolloutState"));
        x->failed = (long)json_integer_value(json_object_get(d, "failedTasks"));
        x->desired = (long)json_integer_value(json_object_get(d, "desiredCount"));
        x->running = (long)json_integer_value(json_object_get(d, "runningCount"));
        x->pending = (long)json_integer_value(json_object_get(d, "pendingCount"));
    }
    return SL_OK;
}

static int add_service(struct sched_pass *p, const char *id, json_t *obj)
{
    json_t *dc = json_object_get(obj, "deploymentConfiguration");
    json_t *cb = json_object_get(dc, "deploymentCircuitBreaker");
    struct sched_service *s;
    const char *slash = strchr(id, '/');

    if (slash == NULL || strlen(id) > ECS_ID_MAX || (size_t)(slash - id) > ECS_NAME_MAX)
        return SL_OK;
    if (grow((void **)&p->svcs, &p->csvcs, p->nsvcs, sizeof(*p->svcs)) != SL_OK)
        return SL_ENOMEM;
    s = &p->svcs[p->nsvcs];
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->name = s->id + (slash - id) + 1;
    snprintf(s->cluster, sizeof(s->cluster), "%.*s", (int)(slash - id), id);
    snprintf(s->launch, sizeof(s->launch), "%s", sched_jstr(obj, "launchType"));
    s->draining = strcmp(sched_jstr(obj, "status"), "DRAINING") == 0;
    s->desired = (long)json_integer_value(json_object_get(obj, "desiredCount"));
    s->max_percent = (long)json_integer_value(json_object_get(dc, "maximumPercent"));
    s->min_healthy_percent = (long)json_integer_value(json_object_get(dc, "minimumHealthyPercent"));
    s->grace_s = (long)json_integer_value(json_object_get(obj, "healthCheckGracePeriodSeconds"));
    s->cb_enable = json_is_true(json_object_get(cb, "enable"));
    s->cb_rollback = json_is_true(json_object_get(cb, "rollback"));
    s->running = (long)json_integer_value(json_object_get(obj, "runningCount"));
    s->pending = (long)json_integer_value(json_object_get(obj, "pendingCount"));
    s->steady = json_is_true(json_object_get(obj, "_steady"));
    parse_lbs(s, obj);
    if (parse_deps(s, json_object_get(obj, "deployments")) != SL_OK)
        return SL_ENOMEM;
    p->nsvcs++;
    return SL_OK;
}

static int find_service(const struct sched_pass *p, const char *id)
{
    size_t lo = 0, hi = p->nsvcs;

    /* store_scan() returns ids in order. */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->svcs[mid].id, id);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- tasks ---- */

static void parse_targets(struct sched_task *t)
{
    json_t *targets = json_object_get(t->obj, "_targets"), *x;
    size_t i;

    t->has_targets = json_is_array(targets);
    t->ntargets = 0;
    json_array_foreach(targets, i, x) {
        struct sched_target *g;
        if (t->ntargets == SCHED_MAX_LBS)
            break;
        g = &t->targets[t->ntargets++];
        snprintf(g->tg, sizeof(g->tg), "%s", sched_jstr(x, "tg"));
        snprintf(g->addr.ip, sizeof(g->addr.ip), "%s",
                 json_is_string(json_object_get(x, "ip")) ? sched_jstr(x, "ip") : "127.0.0.1");
        g->addr.port = (long)json_integer_value(json_object_get(x, "port"));
    }
}

void sched_pass_refresh(struct sched_pass *p, struct sched_task *t)
{
    json_t *o = t->obj;

    (void)p;
    t->last = sched_status_parse(sched_jstr(o, "lastStatus"));
    t->desired = sched_status_parse(sched_jstr(o, "desiredStatus"));
    t->health = sched_health_parse(sched_jstr(o, "healthStatus"));
    t->created_at = sched_jtime(o, "createdAt");
    t->started_at = sched_jtime(o, "startedAt");
    t->drain_deadline_ms = (uint64_t)json_integer_value(json_object_get(o, "_drain_deadline_ms"));
    snprintf(t->stop_code, sizeof(t->stop_code), "%s", sched_jstr(o, "stopCode"));
    parse_targets(t);
}

/* The service store id of a task ("<cluster>/<name>") from its key and
 * group; 0 when it is not a service's task. */
static int task_service(const char *key, json_t *task, char *out, size_t cap)
{
    const char *g = sched_jstr(task, "group"), *slash = strchr(key, '/');

    if (strncmp(g, "service:", 8) != 0 || slash == NULL ||
        strncmp(sched_jstr(task, "startedBy"), "ecs-svc/", 8) != 0)
        return 0;
    return (size_t)snprintf(out, cap, "%.*s/%s", (int)(slash - key), key, g + 8) < cap;
}

static int expired(const struct sched_pass *p, json_t *obj)
{
    double at = sched_jtime(obj, "stoppedAt");

    if (at <= 0)
        at = sched_jtime(obj, "createdAt");
    return (at + (double)p->ctx->retention_ms / 1000.0) <= p->now;
}

static int add_task(struct sched_pass *p, struct store_txn *txn, const char *id, json_t *obj)
{
    struct sched_task *t;

    if (strlen(id) > STORE_ID_MAX)
        return SL_OK;
    if (strcmp(sched_jstr(obj, "lastStatus"), "STOPPED") == 0 && !runtime_known(p->ctx->rt, id)) {
        if (p->nexpired < EXPIRED_PER_PASS && expired(p, obj)) {
            if (grow((void **)&p->expired, &p->cexpired, p->nexpired, sizeof(*p->expired)))
                return SL_ENOMEM;
            snprintf(p->expired[p->nexpired++], sizeof(p->expired[0]), "%s", id);
        }
        return SL_OK;
    }
    if (grow((void **)&p->tasks, &p->ctasks, p->ntasks, sizeof(*p->tasks)) != SL_OK)
        return SL_ENOMEM;
    t = &p->tasks[p->ntasks];
    memset(t, 0, sizeof(*t));
    snprintf(t->key, sizeof(t->key), "%s", id);
    t->id = strchr(t->key, '/') ? strchr(t->key, '/') + 1 : t->key;
    if ((t->obj = json_deep_copy(obj)) == NULL)
        return SL_ENOMEM;
    p->ntasks++;
    t->svc = t->dep = -1;
    if (!task_service(id, obj, t->svc_id, sizeof(t->svc_id)))
        t->svc_id[0] = '\0';
    sched_pass_refresh(p, t);
    return need_td(p, txn, sched_jstr(obj, "taskDefinitionArn"));
}

/* ---- reading the pass ---- */

struct collect {
    struct sched_pass *p;
    struct store_txn *txn;
    int rc;
};

static int collect_service(const char *id, json_t *obj, void *arg)
{
    struct collect *c = arg;
    const char *st = sched_jstr(obj, "status");
    json_t *d;
    size_t i;

    if ((strcmp(st, "ACTIVE") != 0 && strcmp(st, "DRAINING") != 0) ||
        json_array_size(json_object_get(obj, "deployments")) == 0)
        return 0;
    if ((c->rc = add_service(c->p, id, obj)) != SL_OK)
        return 1;
    c->p->svcs[c->p->nsvcs - 1].instance_draining =
        sched_domain_instance_draining(c->txn, c->p->svcs[c->p->nsvcs - 1].cluster);
    json_array_foreach(json_object_get(obj, "deployments"), i, d)
        if ((c->rc = need_td(c->p, c->txn, sched_jstr(d, "taskDefinition"))) != SL_OK)
            return 1;
    return 0;
}

static int collect_task(const char *id, json_t *obj, void *arg)
{
    struct collect *c = arg;

    return (c->rc = add_task(c->p, c->txn, id, obj)) != SL_OK;
}

static struct sched_memo *memo_get(struct sched_memos *m, const char *id)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if (strcmp(m->v[i].svc_id, id) == 0)
            return &m->v[i];
    if (grow((void **)&m->v, &m->cap, m->n, sizeof(*m->v)) != SL_OK)
        return NULL;
    memset(&m->v[m->n], 0, sizeof(m->v[0]));
    snprintf(m->v[m->n].svc_id, sizeof(m->v[0].svc_id), "%s", id);
    return &m->v[m->n++];
}

/* Tasks to services and deployments, services to their memos. */
static int link(struct sched_pass *p)
{
    size_t i, j;

    for (i = 0; i < p->nsvcs; i++)
        if (memo_get(&p->ctx->memos, p->svcs[i].id) == NULL)
            return SL_ENOMEM;
    for (i = 0; i < p->nsvcs; i++) { /* the memos array no longer moves */
        struct sched_service *s = &p->svcs[i];
        s->memo = memo_get(&p->ctx->memos, s->id);
        s->memo->seen = 1;
        sched_backoff_deployment(&s->memo->backoff, s->deps[0].id);
    }
    for (i = 0; i < p->ntasks; i++) {
        struct sched_task *t = &p->tasks[i];
        const struct sched_td *td = sched_pass_td(p, sched_jstr(t->obj, "taskDefinitionArn"));
        const char *by = sched_jstr(t->obj, "startedBy");
        t->td = td ? td->td : NULL;
        if (t->svc_id[0] == '\0' || (t->svc = find_service(p, t->svc_id)) < 0)
            continue;
        for (j = 0; j < p->svcs[t->svc].ndeps; j++)
            if (strcmp(p->svcs[t->svc].deps[j].id, by) == 0)
                t->dep = (int)j;
    }
    return SL_OK;
}

int sched_pass_load(struct sched_pass *p, struct sched_ctx *ctx)
{
    struct collect c = {p, NULL, SL_OK};
    struct sl_err err = {0};

    memset(p, 0, sizeof(*p));
    p->ctx = ctx;
    if (store_read_begin(ctx->store, &c.txn, &err) != SL_OK) {
        log_warn("scheduler: %s", err.message);
        return SL_EIO;
    }
    /* After the snapshot: nothing in it is newer than the pass's clock. */
    p->now = sched_clock(&p->now_ms);
    p->rev = store_txn_revision(c.txn);
    store_scan(c.txn, K_ECS_SERVICE, NULL, collect_service, &c);
    if (c.rc == SL_OK)
        store_scan(c.txn, K_ECS_TASK, NULL, collect_task, &c);
    store_txn_end(c.txn);
    if (c.rc == SL_OK)
        c.rc = link(p);
    if (c.rc != SL_OK) {
        log_warn("scheduler: pass skipped: %s", sl_strerror(c.rc));
        sched_pass_free(p);
    }
    return c.rc;
}

void sched_pass_free(struct sched_pass *p)
{
    size_t i;

    for (i = 0; i < p->ntasks; i++)
        json_decref(p->tasks[i].obj);
    for (i = 0; i < p->nsvcs; i++)
        free(p->svcs[i].deps);
    for (i = 0; i < p->ntds; i++)
        json_decref(p->tds[i].td);
    for (i = 0; i < p->nhealth; i++)
        free(p->health[i].t);
    free(p->tasks);
    free(p->svcs);
    free(p->tds);
    free(p->health);
    free(p->events);
    free(p->expired);
    memset(p, 0, sizeof(*p));
}

/* ---- events ---- */

void sched_pass_event(struct sched_pass *p, const char *svc_id, const char *fmt, ...)
{
    struct sched_event *e;
    va_list ap;

    if (grow((void **)&p->events, &p->cevents, p->nevents, sizeof(*p->events)) != SL_OK)
        return;
    e = &p->events[p->nevents++];
    snprintf(e->svc_id, sizeof(e->svc_id), "%s", svc_id);
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
    log_info("ecs: %s", e->text);
}

size_t sched_pass_events_for(const struct sched_pass *p, const char *svc_id)
{
    size_t i, n = 0;

    for (i = 0; i < p->nevents; i++)
        n += strcmp(p->events[i].svc_id, svc_id) == 0;
    return n;
}

/* ---- target health ---- */

static struct sched_tg_health *health_of(struct sched_pass *p, const char *tg)
{
    struct sched_tg_health *h;
    size_t i;
    int rc;

    for (i = 0; i < p->nhealth; i++)
        if (strcmp(p->health[i].tg, tg) == 0)
            return &p->health[i];
    if (grow((void **)&p->health, &p->chealth, p->nhealth, sizeof(*p->health)) != SL_OK)
        return NULL;
    h = &p->health[p->nhealth];
    memset(h, 0, sizeof(*h));
    snprintf(h->tg, sizeof(h->tg), "%s", tg);
    rc = sched_domain_health(&p->ctx->dom, tg, &h->t, &h->n);
    if (rc == SL_ENOTFOUND)
        h->gone = 1;
    else if (rc != SL_OK)
        return NULL; /* not cached: asked again */
    p->nhealth++;
    return h;
}

int sched_pass_target_state(struct sched_pass *p, const char *tg, const struct sched_addr *a,
                            enum sched_target_state *out)
{
    struct sched_tg_health *h = health_of(p, tg);
    size_t i;

    *out = SCHED_TARGET_NONE;
    if (h == NULL)
        return SL_ERR;
    for (i = 0; !h->gone && i < h->n; i++)
        if (h->t[i].addr.port == a->port && strcmp(h->t[i].addr.ip, a->ip) == 0)
            *out = h->t[i].state;
    return SL_OK;
}

const char *sched_pass_target_description(struct sched_pass *p, const char *tg,
                                          const struct sched_addr *a)
{
    struct sched_tg_health *h = health_of(p, tg);
    size_t i;

    for (i = 0; h && !h->gone && i < h->n; i++)
        if (h->t[i].addr.port == a->port && strcmp(h->t[i].addr.ip, a->ip) == 0)
            return h->t[i].description;
    return "";
}

void sched_pass_health_forget(struct sched_pass *p, const char *tg)
{
    size_t i;

    for (i = 0; i < p->nhealth; i++)
        if (strcmp(p->health[i].tg, tg) == 0) {
            free(p->health[i].t);
            p->health[i] = p->health[--p->nhealth];
            return;
        }
}

/* ---- memos ---- */

void sched_memos_prune(struct sched_memos *m)
{
    size_t i = 0;

    while (i < m->n)
        if (!m->v[i].seen) {
            m->v[i] = m->v[--m->n];
        } else {
            m->v[i].seen = 0;
            i++;
        }
}

void sched_memos_free(struct sched_memos *m)
{
    free(m->v);
    memset(m, 0, sizeof(*m));
}
