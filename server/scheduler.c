/*
 * scheduler.c - the ECS service scheduler (see scheduler.h).
 *
 * One pass:
 * 1. Read, in one short read transaction, every task that has not stopped
 *    (or that the runtime still tracks), every ACTIVE or DRAINING service,
 *    and the task definitions they name.
 * 2. Tasks: start PENDING ones, adopt RUNNING ones this sluiced did not
 *    start (after a restart), poll the runtime, and walk stopping tasks
 *    through DEACTIVATING (deregistered, draining) -> STOPPING (SIGTERM) ->
 *    STOPPED.
 * 3. Services: register RUNNING tasks in their target groups, judge health
 *    (target `healthy` in every group after the grace period, container
 *    health not UNHEALTHY), replace tasks whose target turned `unhealthy`
 *    after the grace period, start and stop tasks within minimumHealthyPercent
 *    / maximumPercent, retire drained deployments, complete rollouts, trip
 *    the circuit breaker, and write counts and events.
 *
 * Internal task members: "_targets" [{"tg":arn,"port":N}] registered for the
 * task; "_drain_deadline_ms" once deregistered (wall clock).  Internal
 * service member: "_steady" (a steady-state event was written since the
 * last change).
 *
 * Circuit breaker threshold: failed tasks of the PRIMARY deployment while its
 * rollout is IN_PROGRESS >= min(max(ceil(desired / 2), 3), 200), ECS's own
 * rule.  A failed task is one that stopped without being asked to (its
 * essential container exited, it failed to start, or it failed its
 * container health check).  Failed tasks are replaced with a back-off of one
 * second per consecutive failure (at most 5 s).
 */
#include "server/scheduler.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "routes/ecs.h"
#include "routes/elbv2.h"
#include "server/app.h"
#include "server/runtime.h"
#include "store/store.h"

#define PERIOD_MS 200
#define MAX_EVENTS 100
#define MAX_SVC_MEMO 256

struct svc_memo {
    char id[ECS_ID_MAX + 1];
    uint64_t next_start_ms; /* wall */
    int consecutive;
};

struct scheduler {
    struct app *app;
    struct runtime *rt;
    struct op_ctx ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    int again; /* this pass made work for the next: run it without the pause */
    struct svc_memo memo[MAX_SVC_MEMO];
    int nmemo;
    /* per pass */
    json_t *tasks;    /* store id -> task (private copies) */
    json_t *services; /* store id -> service (private copies) */
    json_t *tds;      /* task definition ARN -> task definition */
    json_t *health;   /* tg arn -> {port: state} or null, cached per pass */
    json_t *events;   /* service id -> [messages] */
    json_t *failures; /* service id -> {deployment id: n} */
};

static uint64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int is(json_t *o, const char *k, const char *v)
{
    return strcmp(str(o, k), v) == 0;
}

static struct svc_memo *memo(struct scheduler *s, const char *id)
{
    int i;

    for (i = 0; i < s->nmemo; i++)
        if (strcmp(s->memo[i].id, id) == 0)
            return &s->memo[i];
    if (s->nmemo == MAX_SVC_MEMO)
        s->nmemo = 0; /* forget the oldest lot; only back-off timing is lost */
    memset(&s->memo[s->nmemo], 0, sizeof(s->memo[0]));
    snprintf(s->memo[s->nmemo].id, sizeof(s->memo[0].id), "%s", id);
    return &s->memo[s->nmemo++];
}

/* Service store id of a task ("<cluster>/<name>") from its key and group,
 * or 0 when it is not a service's task. */
static int task_service(const char *key, json_t *task, char *out, size_t cap)
{
    const char *g = str(task, "group"), *slash = strchr(key, '/');

    if (strncmp(g, "service:", 8) != 0 || slash == NULL ||
        strncmp(str(task, "startedBy"), "ecs-svc/", 8) != 0)
        return 0;
    snprintf(out, cap, "%.*s/%s", (int)(slash - key), key, g + 8);
    return 1;
}

static void add_event(struct scheduler *s, const char *svc_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_event(struct scheduler *s, const char *svc_id, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *list = json_object_get(s->events, svc_id);

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(s->events, svc_id, list);
    }
    json_array_append_new(list, json_string(msg));
    log_info("ecs: %s", msg);
}

static void add_failure(struct scheduler *s, const char *svc_id, const char *dep)
{
    json_t *m = json_object_get(s->failures, svc_id);
    struct svc_memo *mm = memo(s, svc_id);
    int n;

    if (m == NULL) {
        m = json_object();
        json_object_set_new(s->failures, svc_id, m);
    }
    json_object_set_new(m, dep, json_integer(json_integer_value(json_object_get(m, dep)) + 1));
    mm->consecutive++;
    n = mm->consecutive < 5 ? mm->consecutive : 5;
    mm->next_start_ms = wall_ms() + (uint64_t)n * 1000;
}

/* ---- writes ---- */

struct task_patch {
    const char *id;
    json_t *set;     /* borrowed: members to set */
    int need_unstarted; /* only if the stored task is still PENDING/PROVISIONING */
    int applied;
};

static int never_ran(const char *st)
{
    return strcmp(st, "PROVISIONING") == 0 || strcmp(st, "PENDING") == 0;
}

static int task_patch_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct task_patch *p = arg;
    json_t *t = store_get(txn, K_ECS_TASK, p->id), *v;
    const char *k;
    int rc;

    (void)err;
    p->applied = 0;
    if (t == NULL)
        return SL_OK;
    if (is(t, "lastStatus", "STOPPED") || (p->need_unstarted && !never_ran(str(t, "lastStatus")))) {
        json_decref(t);
        return SL_OK;
    }
    json_object_foreach(p->set, k, v) {
        /* The first reason given (StopTask's, say) is the one kept. */
        if ((strcmp(k, "stoppedReason") == 0 || strcmp(k, "stopCode") == 0 ||
             strcmp(k, "stoppingAt") == 0) &&
            json_object_get(t, k))
            continue;
        json_object_set(t, k, v);
    }
    json_object_set_new(t, "version",
                        json_integer(json_integer_value(json_object_get(t, "version")) + 1));
    rc = store_put(txn, K_ECS_TASK, p->id, t);
    json_decref(t);
    p->applied = rc == SL_OK;
    return rc == SL_OK ? SL_OK : SL_EIO;
}

/* Apply <set> (stolen) to stored task <id> and, when applied, to our copy. */
static int patch_task(struct scheduler *s, const char *id, json_t *set, int need_unstarted)
{
    struct task_patch p = {id, set, need_unstarted, 0};
    struct sl_err err = {0};
    json_t *mine = json_object_get(s->tasks, id), *v;
    const char *k;

    if (store_write(s->app->store, task_patch_tx, &p, NULL, &err) != SL_OK)
        log_warn("scheduler: task %s: %s", id, err.message);
    if (p.applied && mine)
        json_object_foreach(set, k, v) {
            if ((strcmp(k, "stoppedReason") == 0 || strcmp(k, "stopCode") == 0 ||
                 strcmp(k, "stoppingAt") == 0) &&
                json_object_get(mine, k))
                continue;
            json_object_set(mine, k, v);
        }
    json_decref(set);
    return p.applied;
}

/* ---- target groups ---- */

/* {port string: state} of <tg> this pass, or NULL when the group is gone. */
static json_t *tg_health(struct scheduler *s, const char *tg)
{
    json_t *h = json_object_get(s->health, tg), *req, *resp, *d;
    struct sl_err err = {0};
    size_t i;

    if (h)
        return json_is_null(h) ? NULL : h;
    req = json_pack("{ss}", "TargetGroupArn", tg);
    resp = ops_call(&s->ctx, "DescribeTargetHealth", req, &err);
    json_decref(req);
    if (resp == NULL) {
        json_object_set_new(s->health, tg, json_null());
        return NULL;
    }
    h = json_object();
    json_array_foreach(json_object_get(resp, "TargetHealthDescriptions"), i, d) {
        char port[16];
        snprintf(port, sizeof(port), "%lld",
                 (long long)json_integer_value(
                     json_object_get(json_object_get(d, "Target"), "Port")));
        json_object_set(h, port, json_object_get(json_object_get(d, "TargetHealth"), "State"));
    }
    json_decref(resp);
    json_object_set_new(s->health, tg, h);
    return h;
}

static const char *target_state(struct scheduler *s, const char *tg, long port)
{
    json_t *h = tg_health(s, tg);
    char p[16];

    snprintf(p, sizeof(p), "%ld", port);
    return h ? json_string_value(json_object_get(h, p)) : NULL;
}

static int targets_call(struct scheduler *s, const char *op, const char *tg, json_t *ports)
{
    json_t *req = json_pack("{ss s[]}", "TargetGroupArn", tg, "Targets"), *p, *resp;
    struct sl_err err = {0};
    size_t i;

    json_array_foreach(ports, i, p)
        json_array_append_new(json_object_get(req, "Targets"),
                              json_pack("{ss sO}", "Id", "127.0.0.1", "Port", p));
    resp = ops_call(&s->ctx, op, req, &err);
    json_decref(req);
    if (resp == NULL) {
        log_warn("scheduler: %s in %s: %s", op, tg, err.message);
        return SL_ERR;
    }
    json_decref(resp);
    json_object_del(s->health, tg);
    return SL_OK;
}

static long tg_delay_s(struct scheduler *s, const char *tg)
{
    json_t *req = json_pack("{ss}", "TargetGroupArn", tg), *resp, *a;
    struct sl_err err = {0};
    long delay = 300;
    size_t i;

    resp = ops_call(&s->ctx, "DescribeTargetGroupAttributes", req, &err);
    json_decref(req);
    json_array_foreach(json_object_get(resp, "Attributes"), i, a)
        if (is(a, "Key", "deregistration_delay.timeout_seconds"))
            delay = atol(str(a, "Value"));
    json_decref(resp);
    return delay;
}

static const char *short_id(const char *key)
{
    const char *p = strrchr(key, '/');
    return p ? p + 1 : key;
}

/* Deregister every target of task <key>; events go to its service. */
static void deregister_task(struct scheduler *s, const char *key, json_t *task, int drain)
{
    json_t *targets = json_object_get(task, "_targets"), *t;
    char svc_id[ECS_ID_MAX + 1], name[ECS_NAME_MAX + 1];
    long delay = 0;
    size_t i;
    int svc = task_service(key, task, svc_id, sizeof(svc_id));

    snprintf(name, sizeof(name), "%s", strchr(svc_id, '/') ? strchr(svc_id, '/') + 1 : "");
    if (svc && drain && json_array_size(targets) > 0)
        add_event(s, svc_id,
                  "(service %s, taskSet %s) has begun draining connections on 1 tasks.", name,
                  str(task, "startedBy"));
    json_array_foreach(targets, i, t) {
        json_t *ports = json_pack("[O]", json_object_get(t, "port"));
        long d = tg_delay_s(s, str(t, "tg"));
        if (targets_call(s, "DeregisterTargets", str(t, "tg"), ports) == SL_OK && svc)
            add_event(s, svc_id, "(service %s) deregistered 1 targets in (target-group %s)",
                      name, str(t, "tg"));
        json_decref(ports);
        if (d > delay)
            delay = d;
    }
    patch_task(s, key,
               json_pack("{ss sI}", "lastStatus", drain ? "DEACTIVATING" : str(task, "lastStatus"),
                         "_drain_deadline_ms",
                         (json_int_t)(wall_ms() + (uint64_t)delay * 1000 + 2000)),
               0);
}

/* Every target of <task> has left its group (drain finished). */
static int drained(struct scheduler *s, json_t *task)
{
    json_t *t;
    size_t i;

    if ((uint64_t)json_integer_value(json_object_get(task, "_drain_deadline_ms")) <= wall_ms())
        return 1;
    json_array_foreach(json_object_get(task, "_targets"), i, t)
        if (target_state(s, str(t, "tg"), (long)json_integer_value(json_object_get(t, "port"))))
            return 0;
    return 1;
}

/* ---- tasks ---- */

static void task_stopped(struct scheduler *s, const char *key, json_t *task, const char *code,
                         const char *reason)
{
    char svc_id[ECS_ID_MAX + 1];
    double now = ecs_now();
    int requested = is(task, "desiredStatus", "STOPPED");
    json_t *set;

    if (json_array_size(json_object_get(task, "_targets")) > 0 &&
        !json_object_get(task, "_drain_deadline_ms"))
        deregister_task(s, key, task, 0); /* died while registered: no drain to wait for */
    set = json_pack("{ss ss sf sf sf sO sO}", "lastStatus", "STOPPED", "desiredStatus", "STOPPED",
                    "stoppedAt", now, "executionStoppedAt", now, "stoppingAt", now, "containers",
                    json_object_get(task, "containers"), "healthStatus",
                    json_object_get(task, "healthStatus"));
    if (json_object_get(task, "stopCode"))
        json_object_set(set, "stopCode", json_object_get(task, "stopCode"));
    else
        json_object_set_new(set, "stopCode", json_string(code));
    if (json_object_get(task, "stoppedReason"))
        json_object_set(set, "stoppedReason", json_object_get(task, "stoppedReason"));
    else
        json_object_set_new(set, "stoppedReason", json_string(reason));
    patch_task(s, key, set, 0);
    runtime_forget(s->rt, key, 0);
    if (!task_service(key, task, svc_id, sizeof(svc_id)))
        return;
    if (requested)
        add_event(s, svc_id, "(service %s) has stopped 1 running tasks: (task %s).",
                  strchr(svc_id, '/') + 1, short_id(key));
    else
        add_failure(s, svc_id, str(task, "startedBy"));
}

static void task_start(struct scheduler *s, const char *key, json_t *task)
{
    json_t *td = json_object_get(s->tds, str(task, "taskDefinitionArn"));
    char reason[512] = "";
    double now = ecs_now();

    if (td == NULL) {
        snprintf(reason, sizeof(reason), "TaskDefinition %s not found", str(task, "taskDefinitionArn"));
    } else if (runtime_start(s->rt, key, task, td, reason, sizeof(reason)) == SL_OK) {
        if (!patch_task(s, key,
                        json_pack("{ss sO sf sf sf sO sO ss sf}", "lastStatus", "RUNNING",
                                  "containers", json_object_get(task, "containers"), "startedAt",
                                  now, "pullStartedAt", now, "pullStoppedAt", now, "healthStatus",
                                  json_object_get(task, "healthStatus"), "_pgid",
                                  json_object_get(task, "_pgid"), "connectivity", "CONNECTED",
                                  "connectivityAt", now),
                        1))
            runtime_forget(s->rt, key, 1); /* stopped meanwhile (StopTask) */
        return;
    }
    json_object_set_new(task, "stopCode", json_string("TaskFailedToStart"));
    json_object_set_new(task, "stoppedReason", json_string(reason));
    task_stopped(s, key, task, "TaskFailedToStart", reason);
}

static void task_pass(struct scheduler *s, const char *key, json_t *task)
{
    const char *ls = str(task, "lastStatus");
    json_t *td = json_object_get(s->tds, str(task, "taskDefinitionArn"));
    int rc, changed = 0;

    if (strcmp(ls, "STOPPED") == 0) {
        if (runtime_known(s->rt, key))
            runtime_forget(s->rt, key, 1); /* stopped behind our back */
        return;
    }
    if (never_ran(ls)) {
        if (is(task, "desiredStatus", "RUNNING"))
            task_start(s, key, task);
        return;
    }
    if (!runtime_known(s->rt, key)) {
        rc = runtime_adopt(s->rt, key, task, td);
        patch_task(s, key, json_pack("{sO}", "containers", json_object_get(task, "containers")),
                   0);
        if (rc != RT_RUNNING && !json_object_get(task, "stopCode")) {
            json_object_set_new(task, "stopCode", json_string("EssentialContainerExited"));
            json_object_set_new(task, "stoppedReason",
                                json_string("Essential container in task exited (while sluiced "
                                            "was not running)"));
        }
    }
    if (is(task, "desiredStatus", "STOPPED")) {
        if (json_array_size(json_object_get(task, "_targets")) > 0 &&
            !json_object_get(task, "_drain_deadline_ms")) {
            deregister_task(s, key, task, 1);
        } else if (is(task, "lastStatus", "STOPPING") ||
                   !json_object_get(task, "_drain_deadline_ms") || drained(s, task)) {
            runtime_stop(s->rt, key); /* idempotent; again after an adoption */
            if (!is(task, "lastStatus", "STOPPING"))
                patch_task(s, key, json_pack("{ss}", "lastStatus", "STOPPING"), 0);
        }
    }
    rc = runtime_poll(s->rt, key, task, &changed);
    if (rc == RT_STOPPED || rc == RT_GONE) {
        task_stopped(s, key, task, "EssentialContainerExited", "Essential container in task exited");
        return;
    }
    if (changed)
        patch_task(s, key,
                   json_pack("{sO sO}", "containers", json_object_get(task, "containers"),
                             "healthStatus", json_object_get(task, "healthStatus")),
                   0);
}

/* ---- services ---- */

/* Host port of container <name>'s <cport> in a running task; 0 if none. */
static long host_port(json_t *task, const char *name, long cport)
{
    json_t *c, *b;
    size_t i, j;

    json_array_foreach(json_object_get(task, "containers"), i, c) {
        if (!is(c, "name", name))
            continue;
        json_array_foreach(json_object_get(c, "networkBindings"), j, b)
            if (json_integer_value(json_object_get(b, "containerPort")) == cport)
                return (long)json_integer_value(json_object_get(b, "hostPort"));
    }
    return 0;
}

static void register_tasks(struct scheduler *s, const char *svc_id, json_t *svc, json_t *mine)
{
    json_t *lbs = json_object_get(svc, "loadBalancers"), *lb, *task;
    const char *name = str(svc, "serviceName");
    size_t i, j;

    if (json_array_size(lbs) == 0)
        return;
    json_array_foreach(lbs, i, lb) {
        json_t *ports = json_array();
        json_array_foreach(mine, j, task) {
            long hp;
            if (!is(task, "lastStatus", "RUNNING") || !is(task, "desiredStatus", "RUNNING") ||
                json_object_get(task, "_targets"))
                continue;
            hp = host_port(task, str(lb, "containerName"),
                           (long)json_integer_value(json_object_get(lb, "containerPort")));
            if (hp > 0)
                json_array_append_new(ports, json_integer(hp));
        }
        if (json_array_size(ports) > 0 &&
            targets_call(s, "RegisterTargets", str(lb, "targetGroupArn"), ports) == SL_OK)
            add_event(s, svc_id, "(service %s) registered %zu targets in (target-group %s)", name,
                      json_array_size(ports), str(lb, "targetGroupArn"));
        json_decref(ports);
    }
    json_array_foreach(mine, j, task) {
        json_t *targets;
        const char *key;
        if (!is(task, "lastStatus", "RUNNING") || !is(task, "desiredStatus", "RUNNING") ||
            json_object_get(task, "_targets"))
            continue;
        targets = json_array();
        json_array_foreach(lbs, i, lb) {
            long hp = host_port(task, str(lb, "containerName"),
                                (long)json_integer_value(json_object_get(lb, "containerPort")));
            if (hp > 0)
                json_array_append_new(targets, json_pack("{ss sI}", "tg",
                                                         str(lb, "targetGroupArn"), "port",
                                                         (json_int_t)hp));
        }
        key = str(task, "_key");
        patch_task(s, key, json_pack("{so}", "_targets", targets), 0);
    }
}

/* A RUNNING task that counts toward minimumHealthyPercent. */
static int task_healthy(struct scheduler *s, json_t *svc, json_t *task)
{
    json_t *lb, *t;
    size_t i;
    double grace = (double)json_integer_value(json_object_get(svc, "healthCheckGracePeriodSeconds"));

    if (!is(task, "lastStatus", "RUNNING") || !is(task, "desiredStatus", "RUNNING") ||
        is(task, "healthStatus", "UNHEALTHY"))
        return 0;
    if (json_array_size(json_object_get(svc, "loadBalancers")) == 0)
        return 1;
    if (json_real_value(json_object_get(task, "startedAt")) + grace > ecs_now())
        return 0;
    json_array_foreach(json_object_get(svc, "loadBalancers"), i, lb) {
        const char *st = NULL;
        size_t j;
        json_array_foreach(json_object_get(task, "_targets"), j, t)
            if (is(t, "tg", str(lb, "targetGroupArn")))
                st = target_state(s, str(t, "tg"),
                                  (long)json_integer_value(json_object_get(t, "port")));
        if (st == NULL || (strcmp(st, "healthy") != 0 && strcmp(st, "unavailable") != 0))
            return 0;
    }
    return 1;
}

/* A RUNNING task past the grace period whose target is `unhealthy` in one of
 * its groups: 1 with that group (borrowed from <task>) and port, else 0.
 * ECS replaces such a task; during the grace period a slow starter's failed
 * checks are ignored. */
static int task_elb_unhealthy(struct scheduler *s, json_t *svc, json_t *task, const char **tg,
                              long *port)
{
    double grace =
        (double)json_integer_value(json_object_get(svc, "healthCheckGracePeriodSeconds"));
    json_t *t;
    size_t i;

    if (!is(task, "lastStatus", "RUNNING") ||
        json_real_value(json_object_get(task, "startedAt")) + grace > ecs_now())
        return 0;
    json_array_foreach(json_object_get(task, "_targets"), i, t) {
        const char *st;
        *tg = str(t, "tg");
        *port = (long)json_integer_value(json_object_get(t, "port"));
        st = target_state(s, *tg, *port);
        if (st && strcmp(st, "unhealthy") == 0)
            return 1;
    }
    return 0;
}

static void stop_task(struct scheduler *s, json_t *task, const char *code, const char *reason)
{
    patch_task(s, str(task, "_key"),
               json_pack("{ss sf ss ss}", "desiredStatus", "STOPPED", "stoppingAt", ecs_now(),
                         "stopCode", code, "stoppedReason", reason),
               0);
}

/* What a pass decided for one service, applied in one transaction. */
struct svc_update {
    const char *id;
    json_t *deps;      /* deployment id -> members to set */
    json_t *retire;    /* [deployment id] */
    json_t *rollback;  /* new PRIMARY deployment or NULL */
    const char *rollback_from;
    json_t *events;    /* [message], oldest first */
    long running, pending;
    int inactive, steady;
};

static int svc_update_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct svc_update *u = arg;
    json_t *svc = store_get(txn, K_ECS_SERVICE, u->id), *deps, *d, *set, *v, *events, *m;
    double now = ecs_now();
    const char *k;
    size_t i;
    int rc;

    (void)err;
    if (svc == NULL || is(svc, "status", "INACTIVE")) {
        json_decref(svc);
        return SL_OK;
    }
    deps = json_object_get(svc, "deployments");
    for (i = 0; i < json_array_size(deps); i++) {
        d = json_array_get(deps, i);
        set = json_object_get(u->deps, str(d, "id"));
        json_object_foreach(set, k, v) {
            /* Only the deployment still PRIMARY completes or fails. */
            if ((strcmp(k, "rolloutState") == 0 || strcmp(k, "rolloutStateReason") == 0) &&
                i != 0 && !is(set, "rolloutState", "FAILED"))
                continue;
            json_object_set(d, k, v);
        }
        if (set)
            json_object_set_new(d, "updatedAt", json_real(now));
    }
    for (i = json_array_size(deps); i-- > 0;) {
        size_t j;
        d = json_array_get(deps, i);
        json_array_foreach(u->retire, j, v)
            if (i > 0 && is(d, "id", json_string_value(v))) {
                json_array_remove(deps, i);
                break;
            }
    }
    if (u->rollback && is(json_array_get(deps, 0), "id", u->rollback_from)) {
        json_object_set_new(json_array_get(deps, 0), "status", json_string("ACTIVE"));
        json_array_insert(deps, 0, u->rollback);
        json_object_set(svc, "taskDefinition", json_object_get(u->rollback, "taskDefinition"));
    }
    json_object_set_new(svc, "runningCount", json_integer(u->running));
    json_object_set_new(svc, "pendingCount", json_integer(u->pending));
    if (u->inactive && is(svc, "status", "DRAINING"))
        json_object_set_new(svc, "status", json_string("INACTIVE"));
    json_object_set_new(svc, "_steady", json_boolean(u->steady));
    events = json_object_get(svc, "events");
    json_array_foreach(u->events, i, m) {
        char uuid[37];
        util_uuid(uuid);
        json_array_insert_new(events, 0,
                              json_pack("{ss sf sO}", "id", uuid, "createdAt", now, "message", m));
    }
    while (json_array_size(events) > MAX_EVENTS)
        json_array_remove(events, json_array_size(events) - 1);
    rc = store_put(txn, K_ECS_SERVICE, u->id, svc);
    json_decref(svc);
    return rc == SL_OK ? SL_OK : SL_EIO;
}

static int cmp_started(const void *a, const void *b)
{
    double x = json_real_value(json_object_get(*(json_t *const *)a, "createdAt"));
    double y = json_real_value(json_object_get(*(json_t *const *)b, "createdAt"));
    return x < y ? 1 : x > y ? -1 : 0; /* newest first */
}

static json_t *new_rollback(json_t *from_dep, json_t *svc)
{
    return ecs_deployment_new(str(from_dep, "taskDefinition"),
                              (long)json_integer_value(json_object_get(svc, "desiredCount")),
                              str(svc, "launchType"), ecs_now());
}

static void service_pass(struct scheduler *s, const char *svc_id, json_t *svc)
{
    const char *name = str(svc, "serviceName");
    json_t *deps = json_object_get(svc, "deployments"), *primary = json_array_get(deps, 0);
    json_t *mine = json_array(), *task, *d, *dc = json_object_get(svc, "deploymentConfiguration");
    struct svc_update u = {0};
    const char *key;
    char prefix[ECS_NAME_MAX + 2];
    size_t i;
    long desired = is(svc, "status", "DRAINING") ? 0 : (long)json_integer_value(json_object_get(svc, "desiredCount"));
    long maxp = (long)json_integer_value(json_object_get(dc, "maximumPercent"));
    long minp = (long)json_integer_value(json_object_get(dc, "minimumHealthyPercent"));
    long max_total, min_healthy, healthy = 0, live = 0, p_live = 0, running = 0, pending = 0;
    long start_n, stopped_now = 0, started_now = 0;
    struct svc_memo *mm = memo(s, svc_id);
    const char *bad_tg = NULL;
    long bad_port = 0;
    int dirty = 0, changes = 0;
    json_t *fails = json_object_get(s->failures, svc_id);
    json_t *lingering = NULL; /* FAILED deployments kept while their rollback runs */

    if (maxp <= 0)
        maxp = 200;
    max_total = desired * maxp / 100;
    if (max_total < desired)
        max_total = desired;
    min_healthy = (desired * minp + 99) / 100;
    snprintf(prefix, sizeof(prefix), "%.*s/", (int)(strchr(svc_id, '/') - svc_id), svc_id);
    json_object_foreach(s->tasks, key, task) {
        char sid[ECS_ID_MAX + 1];
        if (is(task, "lastStatus", "STOPPED") || !task_service(key, task, sid, sizeof(sid)) ||
            strcmp(sid, svc_id) != 0)
            continue;
        json_object_set_new(task, "_key", json_string(key));
        json_array_append(mine, task);
    }
    register_tasks(s, svc_id, svc, mine);

    /* Which deployment each task belongs to; stop orphans and unhealthy. */
    u.deps = json_object();
    json_array_foreach(deps, i, d)
        json_object_set_new(u.deps, str(d, "id"),
                            json_pack("{si si si}", "runningCount", 0, "pendingCount", 0,
                                      "failedTasks",
                                      (int)json_integer_value(json_object_get(d, "failedTasks")) +
                                          (int)json_integer_value(
                                              json_object_get(fails, str(d, "id")))));
    json_array_foreach(mine, i, task) {
        json_t *set = json_object_get(u.deps, str(task, "startedBy"));
        int up = is(task, "desiredStatus", "RUNNING");
        if (set == NULL && up) {
            stop_task(s, task, "ServiceSchedulerInitiated", "Task is not part of any deployment");
            up = 0;
        } else if (up && is(task, "healthStatus", "UNHEALTHY")) {
            stop_task(s, task, "ServiceSchedulerInitiated",
                      "Task failed container health checks");
            add_failure(s, svc_id, str(task, "startedBy"));
            up = 0;
            changes = 1;
        } else if (up && task_elb_unhealthy(s, svc, task, &bad_tg, &bad_port)) {
            char why[ECS_ID_MAX + 256];
            add_event(s, svc_id,
                      "(service %s) (task %s) (port %ld) is unhealthy in (target-group %s) due "
                      "to (reason Health checks failed).",
                      name, short_id(str(task, "_key")), bad_port, bad_tg);
            snprintf(why, sizeof(why), "Task failed ELB health checks in (target-group %s)",
                     bad_tg);
            /* desiredStatus STOPPED: task_pass deregisters, drains, then stops
             * it, and the start step below replaces it. */
            stop_task(s, task, "ServiceSchedulerInitiated", why);
            add_failure(s, svc_id, str(task, "startedBy"));
            up = 0;
            changes = 1;
            s->again = 1;
        }
        if (set && is(task, "lastStatus", "RUNNING")) {
            json_object_set_new(set, "runningCount",
                                json_integer(json_integer_value(json_object_get(set, "runningCount")) + 1));
            running++;
        } else if (set && never_ran(str(task, "lastStatus"))) {
            json_object_set_new(set, "pendingCount",
                                json_integer(json_integer_value(json_object_get(set, "pendingCount")) + 1));
            pending++;
        }
        json_object_set_new(task, "_up", json_boolean(up));
        if (!up)
            continue;
        live++;
        if (is(task, "startedBy", str(primary, "id")))
            p_live++;
        if (task_healthy(s, svc, task)) {
            json_object_set_new(task, "_healthy", json_true());
            healthy++;
        }
    }
    fails = json_object_get(s->failures, svc_id); /* add_failure() above may have made it */

    /* Circuit breaker. */
    if (is(primary, "rolloutState", "IN_PROGRESS") &&
        json_is_true(json_object_get(json_object_get(dc, "deploymentCircuitBreaker"), "enable"))) {
        long failed = (long)json_integer_value(
            json_object_get(json_object_get(u.deps, str(primary, "id")), "failedTasks"));
        long threshold = (desired + 1) / 2;
        if (threshold < 3)
            threshold = 3;
        if (threshold > 200)
            threshold = 200;
        if (failed >= threshold) {
            json_t *set = json_object_get(u.deps, str(primary, "id"));
            json_t *prev = json_array_get(deps, 1);
            json_object_set_new(set, "rolloutState", json_string("FAILED"));
            json_object_set_new(set, "rolloutStateReason",
                                json_string("ECS deployment circuit breaker: tasks failed to "
                                            "start."));
            json_object_set_new(primary, "rolloutState", json_string("FAILED"));
            add_event(s, svc_id, "(service %s) (deployment %s) deployment failed: tasks failed "
                                 "to start.",
                      name, str(primary, "id"));
            if (prev && json_is_true(json_object_get(
                            json_object_get(dc, "deploymentCircuitBreaker"), "rollback"))) {
                u.rollback = new_rollback(prev, svc);
                u.rollback_from = str(primary, "id");
                add_event(s, svc_id, "(service %s) rolling back to deployment %s.", name,
                          str(u.rollback, "id"));
            }
            changes = 1;
        }
    }

    /* Start what is missing within maximumPercent. */
    start_n = desired - p_live;
    if (start_n > max_total - live)
        start_n = max_total - live;
    if (start_n > 10)
        start_n = 10;
    if (u.rollback == NULL && !is(primary, "rolloutState", "FAILED") && start_n > 0 &&
        wall_ms() >= mm->next_start_ms) {
        char cluster[ECS_NAME_MAX + 1], group[ECS_NAME_MAX + 16];
        struct sl_err err = {0};
        json_t *req, *resp;
        snprintf(cluster, sizeof(cluster), "%.*s", (int)(strchr(svc_id, '/') - svc_id), svc_id);
        snprintf(group, sizeof(group), "service:%s", name);
        req = json_pack("{ss ss sI ss ss ss}", "cluster", cluster, "taskDefinition",
                        str(primary, "taskDefinition"), "count", (json_int_t)start_n, "group",
                        group, "startedBy", str(primary, "id"), "launchType",
                        json_is_string(json_object_get(svc, "launchType"))
                            ? str(svc, "launchType")
                            : "EC2");
        resp = ecs_op_run_task(&s->ctx, req, &err);
        json_decref(req);
        if (resp == NULL) {
            log_warn("scheduler: service %s: cannot start tasks: %s", svc_id, err.message);
            if (!json_is_true(json_object_get(svc, "_start_error"))) {
                add_event(s, svc_id, "(service %s) was unable to place a task. Reason: %s.", name,
                          err.message);
            }
            mm->next_start_ms = wall_ms() + 5000;
        } else {
            char msg[1024];
            size_t n = 0;
            json_t *t;
            n += (size_t)snprintf(msg, sizeof(msg), "(service %s) has started %lld tasks:", name,
                                  (long long)start_n);
            json_array_foreach(json_object_get(resp, "tasks"), i, t)
                if (n < sizeof(msg))
                    n += (size_t)snprintf(msg + n, sizeof(msg) - n, " (task %s)",
                                          short_id(str(t, "taskArn")));
            if (n < sizeof(msg))
                snprintf(msg + n, sizeof(msg) - n, ".");
            add_event(s, svc_id, "%s", msg);
            started_now = start_n;
            s->again = 1; /* start them (then register them) without a pause */
            json_decref(resp);
        }
        changes = 1;
    }

    /* Stop: surplus tasks of the primary (scale-down), then old
     * deployments' tasks as far as minimumHealthyPercent allows. */
    {
        size_t n = json_array_size(mine), k = 0;
        json_t **v = calloc(n ? n : 1, sizeof(json_t *));
        long surplus = p_live - desired, can = healthy - min_healthy;
        char reason[256];

        json_array_foreach(mine, i, task)
            if (json_is_true(json_object_get(task, "_up")))
                v[k++] = task;
        qsort(v, k, sizeof(*v), cmp_started);
        /* Pass 0: not healthy ones; pass 1: healthy ones. */
        for (int pass = 0; pass < 2; pass++)
            for (i = 0; i < k; i++) {
                int h = json_is_true(json_object_get(v[i], "_healthy"));
                int old = !is(v[i], "startedBy", str(primary, "id"));
                if (h != pass || json_is_false(json_object_get(v[i], "_up")))
                    continue;
                snprintf(reason, sizeof(reason),
                         "Scaling activity initiated by (deployment %s)", str(primary, "id"));
                if (old && (!h || can > 0 || desired == 0)) {
                    if (h)
                        can--;
                } else if (!old && surplus > 0) {
                    surplus--;
                    if (h)
                        can--;
                } else {
                    continue;
                }
                stop_task(s, v[i], "ServiceSchedulerInitiated", reason);
                json_object_set_new(v[i], "_up", json_false());
                stopped_now++;
                s->again = 1; /* deregister at once: the drain clock starts there */
            }
        free(v);
    }
    if (stopped_now)
        changes = 1;

    /* Deployments whose tasks are all gone retire; the primary completes.  A
     * FAILED deployment stays listed until the rollback that replaced it
     * completes, so that DescribeServices shows why the rollback happened. */
    u.retire = json_array();
    lingering = json_array();
    json_array_foreach(deps, i, d) {
        int any = 0;
        size_t j;
        if (i == 0)
            continue;
        json_array_foreach(mine, j, task)
            if (is(task, "startedBy", str(d, "id")))
                any = 1;
        if (!any && is(d, "rolloutState", "FAILED") && is(primary, "rolloutState", "IN_PROGRESS"))
            json_array_append_new(lingering, json_string(str(d, "id")));
        else if (!any) {
            json_array_append_new(u.retire, json_string(str(d, "id")));
            changes = 1;
        } else {
            long left = 0;
            json_array_foreach(mine, j, task)
                if (is(task, "startedBy", str(d, "id")) && json_is_true(json_object_get(task, "_up")))
                    left++;
            json_object_set_new(json_object_get(u.deps, str(d, "id")), "desiredCount",
                                json_integer(left));
        }
    }
    {
        long p_healthy = 0, others = 0;
        size_t j;
        json_array_foreach(mine, j, task) {
            if (!is(task, "startedBy", str(primary, "id")))
                others++;
            else if (json_is_true(json_object_get(task, "_healthy")) &&
                     json_is_true(json_object_get(task, "_up")))
                p_healthy++;
        }
        json_object_set_new(json_object_get(u.deps, str(primary, "id")), "desiredCount",
                            json_integer(desired));
        if (is(primary, "rolloutState", "IN_PROGRESS") && others == 0 &&
            json_array_size(deps) - json_array_size(u.retire) - json_array_size(lingering) == 1 &&
            p_healthy == desired && started_now == 0 && stopped_now == 0) {
            char msg[128];
            json_array_extend(u.retire, lingering);
            json_t *set = json_object_get(u.deps, str(primary, "id"));
            snprintf(msg, sizeof(msg), "ECS deployment %s completed.", str(primary, "id"));
            json_object_set_new(set, "rolloutState", json_string("COMPLETED"));
            json_object_set_new(set, "rolloutStateReason", json_string(msg));
            json_object_set_new(primary, "rolloutState", json_string("COMPLETED"));
            add_event(s, svc_id, "(service %s) (deployment %s) deployment completed.", name,
                      str(primary, "id"));
            changes = 1;
            mm->consecutive = 0;
        }
        if (p_healthy == desired)
            mm->consecutive = 0;
    }
    u.steady = json_is_true(json_object_get(svc, "_steady"));
    if (changes || json_object_get(s->events, svc_id))
        u.steady = 0;
    if (!u.steady && !changes && is(primary, "rolloutState", "COMPLETED") &&
        json_array_size(deps) == 1 && running == desired && pending == 0 &&
        live == desired && (long)json_array_size(mine) == desired &&
        !json_object_get(s->events, svc_id)) {
        add_event(s, svc_id, "(service %s) has reached a steady state.", name);
        u.steady = 1;
    }
    if (is(svc, "status", "DRAINING") && json_array_size(mine) == 0 && started_now == 0) {
        u.inactive = 1;
        dirty = 1;
    }

    /* Write only what changed. */
    u.running = running;
    u.pending = pending;
    if (running != json_integer_value(json_object_get(svc, "runningCount")) ||
        pending != json_integer_value(json_object_get(svc, "pendingCount")) ||
        u.steady != json_is_true(json_object_get(svc, "_steady")) ||
        json_array_size(u.retire) || u.rollback || json_object_get(s->events, svc_id))
        dirty = 1;
    json_array_foreach(deps, i, d) {
        json_t *set = json_object_get(u.deps, str(d, "id"));
        const char *k2;
        json_t *v2;
        json_object_foreach(set, k2, v2)
            if (!json_equal(v2, json_object_get(d, k2)))
                dirty = 1;
    }
    if (dirty) {
        struct sl_err err = {0};
        u.id = svc_id;
        u.events = json_object_get(s->events, svc_id);
        if (store_write(s->app->store, svc_update_tx, &u, NULL, &err) != SL_OK)
            log_warn("scheduler: service %s: %s", svc_id, err.message);
    }
    json_decref(u.deps);
    json_decref(u.retire);
    json_decref(lingering);
    json_decref(u.rollback);
    json_decref(mine);
}

/* ---- the pass ---- */

struct collect {
    struct scheduler *s;
    struct store_txn *txn;
};

static void need_td(struct collect *c, const char *arn)
{
    json_t *td;

    if (arn[0] == '\0' || json_object_get(c->s->tds, arn))
        return;
    if ((td = ecs_taskdef_find(c->txn, arn)) != NULL)
        json_object_set_new(c->s->tds, arn, td);
}

static int collect_task(const char *id, json_t *obj, void *arg)
{
    struct collect *c = arg;

    if (is(obj, "lastStatus", "STOPPED") && !runtime_known(c->s->rt, id))
        return 0;
    json_object_set_new(c->s->tasks, id, json_deep_copy(obj));
    need_td(c, str(obj, "taskDefinitionArn"));
    return 0;
}

static int collect_service(const char *id, json_t *obj, void *arg)
{
    struct collect *c = arg;
    json_t *d;
    size_t i;

    if (!is(obj, "status", "ACTIVE") && !is(obj, "status", "DRAINING"))
        return 0;
    if (json_array_size(json_object_get(obj, "deployments")) == 0)
        return 0;
    json_object_set_new(c->s->services, id, json_deep_copy(obj));
    json_array_foreach(json_object_get(obj, "deployments"), i, d)
        need_td(c, str(d, "taskDefinition"));
    return 0;
}

static void pass(struct scheduler *s)
{
    struct collect c = {s, NULL};
    struct sl_err err = {0};
    const char *key;
    json_t *obj;
    void *tmp;

    s->again = 0;
    s->tasks = json_object();
    s->services = json_object();
    s->tds = json_object();
    s->health = json_object();
    s->events = json_object();
    s->failures = json_object();
    if (store_read_begin(s->app->store, &c.txn, &err) != SL_OK) {
        log_warn("scheduler: %s", err.message);
        goto out;
    }
    store_scan(c.txn, K_ECS_TASK, NULL, collect_task, &c);
    store_scan(c.txn, K_ECS_SERVICE, NULL, collect_service, &c);
    store_txn_end(c.txn);

    json_object_foreach_safe(s->tasks, tmp, key, obj)
        task_pass(s, key, obj);
    json_object_foreach_safe(s->services, tmp, key, obj)
        service_pass(s, key, obj);
    /* Events about services this pass did not visit (their last tasks). */
    json_object_foreach_safe(s->events, tmp, key, obj)
        if (json_object_get(s->services, key) == NULL) {
            struct svc_update u = {0};
            json_t *svc;
            struct store_txn *txn;
            if (store_read_begin(s->app->store, &txn, &err) != SL_OK)
                continue;
            svc = store_get(txn, K_ECS_SERVICE, key);
            store_txn_end(txn);
            if (svc == NULL)
                continue;
            u.id = key;
            u.events = obj;
            u.running = (long)json_integer_value(json_object_get(svc, "runningCount"));
            u.pending = (long)json_integer_value(json_object_get(svc, "pendingCount"));
            json_decref(svc);
            store_write(s->app->store, svc_update_tx, &u, NULL, &err);
        }
out:
    json_decref(s->tasks);
    json_decref(s->services);
    json_decref(s->tds);
    json_decref(s->health);
    json_decref(s->events);
    json_decref(s->failures);
}

static void *sched_main(void *arg)
{
    struct scheduler *s = arg;
    struct timespec ts;
    int burst = 0;

    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->mu);
        pass(s);
        /* At most a few passes back to back, whatever a pass asks for. */
        if (s->again && ++burst > 3)
            s->again = 0;
        if (!s->again)
            burst = 0;
        pthread_mutex_lock(&s->mu);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)PERIOD_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!s->stopping && !s->again)
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int scheduler_start(struct app *app, struct scheduler **out, struct sl_err *err)
{
    struct scheduler *s = calloc(1, sizeof(*s));
    struct runtime_config rc;
    char dir[PATH_MAX + 16], abs[PATH_MAX];

    if (s == NULL)
        return sl_err_set(err, 500, "InternalFailure", "out of memory");
    if (app->cfg->task_dir[0])
        snprintf(dir, sizeof(dir), "%s", app->cfg->task_dir);
    else
        snprintf(dir, sizeof(dir), "%s/tasks", app->cfg->data_dir);
    if (realpath(app->cfg->data_dir, abs) != NULL && app->cfg->task_dir[0] == '\0')
        snprintf(dir, sizeof(dir), "%s/tasks", abs);
    rc.tasks_dir = dir;
    rc.port_lo = app->cfg->task_port_lo;
    rc.port_hi = app->cfg->task_port_hi;
    if (strcmp(app->cfg->runtime, "process") != 0 || runtime_process_new(&rc, &s->rt) != SL_OK) {
        free(s);
        return sl_err_set(err, 500, "InternalFailure", "cannot create task runtime '%s'",
                          app->cfg->runtime);
    }
    s->app = app;
    s->ctx.store = app->store;
    s->ctx.health = app->health;
    s->ctx.region = app->cfg->region;
    s->ctx.account = app->cfg->account_id;
    s->ctx.request_id = "ecs-scheduler";
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        runtime_free(s->rt);
        free(s);
        return sl_err_set(err, 500, "InternalFailure", "cannot start the scheduler thread");
    }
    *out = s;
    return SL_OK;
}

void scheduler_stop(struct scheduler *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    runtime_free(s->rt);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
