/*
 * ui_state.c - the dashboard's document from the ELBv2 views, the target
 * health the proxies report, their request rates, and the ECS objects.
 */
#include "server/ui_state.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "routes/ecs/ecs.h"
#include "routes/elbv2/targets.h"
#include "routes/elbv2/view.h"
#include "server/metrics_agg.h"
#include "store/store.h"

#define EVENTS_SHOWN 8
#define STOPPED_SHOWN 5

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

/* The NAME of "...:targetgroup/NAME/ID" (or the ARN). */
static void arn_name(const char *arn, char *out, size_t cap)
{
    const char *p = strrchr(arn, ':');
    const char *a = p ? strchr(p, '/') : NULL, *b = a ? strchr(a + 1, '/') : NULL;

    if (a && b)
        snprintf(out, cap, "%.*s", (int)(b - a - 1), a + 1);
    else
        snprintf(out, cap, "%s", arn);
}

/* ---- rules as text ---- */

static json_t *condition_texts(json_t *conds)
{
    json_t *out = json_array(), *c, *v;
    size_t i, j;

    json_array_foreach(conds, i, c) {
        char text[1024];
        size_t n = (size_t)snprintf(text, sizeof(text), "%s", str(c, "Field"));
        if (strcmp(str(c, "Field"), "http-header") == 0)
            n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, " %s",
                                  str(json_object_get(c, "HttpHeaderConfig"), "HttpHeaderName"));
        json_array_foreach(json_object_get(c, "Values"), j, v)
            n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, " %s",
                                  json_is_string(v) ? json_string_value(v) : "?");
        if (json_array_size(json_object_get(c, "Values")) == 0) {
            json_t *cfg = NULL, *val;
            const char *k;
            json_object_foreach(c, k, val)
                if (strstr(k, "Config"))
                    cfg = val;
            json_array_foreach(json_object_get(cfg, "Values"), j, v) {
                const char *s = json_is_string(v) ? json_string_value(v) : str(v, "Value");
                n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, " %s", s);
            }
        }
        json_array_append_new(out, json_string(text));
    }
    return out;
}

static json_t *action_texts(json_t *acts)
{
    json_t *out = json_array(), *a, *g;
    size_t i, j;

    json_array_foreach(acts, i, a) {
        const char *type = str(a, "Type");
        char text[1024], name[256];
        size_t n = (size_t)snprintf(text, sizeof(text), "%s", type);
        json_t *groups = json_object_get(json_object_get(a, "ForwardConfig"), "TargetGroups");
        if (strcmp(type, "forward") == 0 && json_array_size(groups) == 0 &&
            json_object_get(a, "TargetGroupArn")) {
            arn_name(str(a, "TargetGroupArn"), name, sizeof(name));
            n += (size_t)snprintf(text + n, sizeof(text) - n, " %s", name);
        }
        json_array_foreach(groups, j, g) {
            arn_name(str(g, "TargetGroupArn"), name, sizeof(name));
            n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0,
                                  "%s %s (weight %lld)", j ? "," : "", name,
                                  json_integer_value(json_object_get(g, "Weight")));
        }
        if (strcmp(type, "redirect") == 0) {
            json_t *r = json_object_get(a, "RedirectConfig");
            snprintf(text + n, sizeof(text) - n, " %s to %s%s%s", str(r, "StatusCode"),
                     str(r, "Protocol"), *str(r, "Path") ? " " : "", str(r, "Path"));
        } else if (strcmp(type, "fixed-response") == 0) {
            snprintf(text + n, sizeof(text) - n, " %s",
                     str(json_object_get(a, "FixedResponseConfig"), "StatusCode"));
        }
        json_array_append_new(out, json_string(text));
    }
    return out;
}

/* ---- load balancers ---- */

static json_t *listeners_of(struct store_txn *txn, const char *lb_arn, struct sl_err *err)
{
    json_t *ls = NULL, *out = json_array(), *l, *rules, *r;
    size_t i, j;

    if (elb_view_list(txn, K_LISTENER, lb_arn, &ls, err) != SL_OK)
        return json_array();
    json_array_foreach(ls, i, l) {
        json_t *rs = json_array();
        rules = NULL;
        if (elb_view_list(txn, K_RULE, str(l, "ListenerArn"), &rules, err) == SL_OK)
            json_array_foreach(rules, j, r)
                json_array_append_new(
                    rs, json_pack("{ss so so}", "priority", str(r, "Priority"), "conditions",
                                  condition_texts(json_object_get(r, "Conditions")), "actions",
                                  action_texts(json_object_get(r, "Actions"))));
        json_decref(rules);
        json_array_append_new(out, json_pack("{sO? ss ss so}", "port", json_object_get(l, "Port"),
                                             "protocol", str(l, "Protocol"), "arn",
                                             str(l, "ListenerArn"), "rules", rs));
    }
    json_decref(ls);
    return out;
}

static json_t *load_balancers(struct store_txn *txn, struct sl_err *err)
{
    json_t *lbs = NULL, *out = json_array(), *lb;
    size_t i;

    if (elb_view_list(txn, K_LB, NULL, &lbs, err) != SL_OK)
        return out;
    json_array_foreach(lbs, i, lb)
        json_array_append_new(
            out, json_pack("{ss ss ss ss ss so}", "name", str(lb, "LoadBalancerName"), "arn",
                           str(lb, "LoadBalancerArn"), "dns", str(lb, "DNSName"), "scheme",
                           str(lb, "Scheme"), "state", str(json_object_get(lb, "State"), "Code"),
                           "listeners", listeners_of(txn, str(lb, "LoadBalancerArn"), err)));
    json_decref(lbs);
    return out;
}

/* ---- target groups ---- */

static void on_rate(const char *key, uint64_t total, double rps, void *arg)
{
    json_object_set_new(arg, key, json_pack("{sI sf}", "requests", (json_int_t)total, "rps", rps));
}

static json_t *targets_of(struct store_txn *txn, struct app *app, json_t *tg, json_t *rates)
{
    struct elb_env env = {app->cfg ? app->cfg->region : "", app->cfg ? app->cfg->account_id : "",
                          app->health};
    json_t *descs = NULL, *out = json_array(), *d;
    struct sl_err err = {0};
    size_t i;

    if (elb_targets_health(txn, &env, str(tg, "TargetGroupArn"), NULL, 0, &descs, &err) != SL_OK)
        return out;
    json_array_foreach(descs, i, d) {
        json_t *t = json_object_get(d, "Target"), *h = json_object_get(d, "TargetHealth"), *r;
        char key[512];
        snprintf(key, sizeof(key), "%s|%s|%lld", str(tg, "id"), str(t, "Id"),
                 json_integer_value(json_object_get(t, "Port")));
        r = json_object_get(rates, key);
        json_array_append_new(
            out, json_pack("{ss sO? ss ss ss sf sI}", "id", str(t, "Id"), "port",
                           json_object_get(t, "Port"), "state", str(h, "State"), "reason",
                           str(h, "Reason"), "description", str(h, "Description"), "rps",
                           json_real_value(json_object_get(r, "rps")), "requests",
                           json_integer_value(json_object_get(r, "requests"))));
    }
    json_decref(descs);
    return out;
}

static json_t *target_groups(struct store_txn *txn, struct app *app, struct sl_err *err)
{
    json_t *tgs = NULL, *out = json_array(), *tg, *rates = json_object();
    size_t i;

    if (app->agg)
        magg_each_target(app->agg, on_rate, rates);
    if (elb_view_list(txn, K_TG, NULL, &tgs, err) == SL_OK)
        json_array_foreach(tgs, i, tg)
            json_array_append_new(
                out, json_pack("{ss ss ss ss sO? ss so}", "name", str(tg, "TargetGroupName"),
                               "arn", str(tg, "TargetGroupArn"), "id", str(tg, "id"), "protocol",
                               str(tg, "Protocol"), "port", json_object_get(tg, "Port"),
                               "health_check", str(tg, "HealthCheckPath"), "targets",
                               targets_of(txn, app, tg, rates)));
    json_decref(tgs);
    json_decref(rates);
    return out;
}

/* ---- ECS ---- */

struct ecs_collect {
    json_t *clusters; /* clusterArn -> cluster */
    json_t *services; /* clusterArn + "/" + name -> service */
};

static int on_cluster(const char *id, json_t *o, void *arg)
{
    struct ecs_collect *e = arg;

    json_object_set_new(e->clusters, str(o, "clusterArn"),
                        json_pack("{ss ss ss s[]}", "name", str(o, "clusterName"), "arn",
                                  str(o, "clusterArn"), "status", str(o, "status"), "services"));
    return 0;
}

static json_t *deployments_of(json_t *svc)
{
    json_t *out = json_array(), *d;
    size_t i;

    json_array_foreach(json_object_get(svc, "deployments"), i, d)
        json_array_append_new(
            out, json_pack("{ss ss ss ss ss sO? sO? sO? sO?}", "id", str(d, "id"), "status",
                           str(d, "status"), "rolloutState", str(d, "rolloutState"),
                           "rolloutStateReason", str(d, "rolloutStateReason"), "taskDefinition",
                           str(d, "taskDefinition"), "desired", json_object_get(d, "desiredCount"),
                           "running", json_object_get(d, "runningCount"), "pending",
                           json_object_get(d, "pendingCount"), "failed",
                           json_object_get(d, "failedTasks")));
    return out;
}

static int on_service(const char *id, json_t *o, void *arg)
{
    struct ecs_collect *e = arg;
    json_t *events = json_array(), *ev, *cl = json_object_get(e->clusters, str(o, "clusterArn"));
    json_t *svc;
    char key[1024];
    size_t i;

    if (strcmp(str(o, "status"), "INACTIVE") == 0 || cl == NULL) {
        json_decref(events);
        return 0;
    }
    json_array_foreach(json_object_get(o, "events"), i, ev) {
        if (i >= EVENTS_SHOWN)
            break;
        json_array_append_new(events, json_pack("{sO? ss}", "createdAt",
                                                json_object_get(ev, "createdAt"), "message",
                                                str(ev, "message")));
    }
    svc = json_pack("{ss ss sO? sO? sO? so so s[]}", "name", str(o, "serviceName"), "status",
                    str(o, "status"), "desired", json_object_get(o, "desiredCount"), "running",
                    json_object_get(o, "runningCount"), "pending",
                    json_object_get(o, "pendingCount"), "deployments", deployments_of(o),
                    "events", events, "tasks");
    json_array_append(json_object_get(cl, "services"), svc);
    snprintf(key, sizeof(key), "%s/%s", str(o, "clusterArn"), str(o, "serviceName"));
    json_object_set_new(e->services, key, svc);
    return 0;
}

static int on_task(const char *id, json_t *o, void *arg)
{
    struct ecs_collect *e = arg;
    const char *g = str(o, "group"), *last = str(o, "lastStatus");
    json_t *svc, *tasks, *c = json_array_get(json_object_get(o, "containers"), 0);
    json_t *nb = json_array_get(json_object_get(c, "networkBindings"), 0);
    const char *arn = str(o, "taskArn"), *slash = strrchr(arn, '/');
    char key[1024];
    size_t i, stopped = 0;

    if (strncmp(g, "service:", 8) != 0)
        return 0;
    snprintf(key, sizeof(key), "%s/%s", str(o, "clusterArn"), g + 8);
    if ((svc = json_object_get(e->services, key)) == NULL)
        return 0;
    tasks = json_object_get(svc, "tasks");
    if (strcmp(last, "STOPPED") == 0) {
        json_t *t;
        json_array_foreach(tasks, i, t)
            stopped += strcmp(str(t, "lastStatus"), "STOPPED") == 0;
        if (stopped >= STOPPED_SHOWN)
            return 0;
    }
    json_array_append_new(
        tasks, json_pack("{ss ss ss ss sO? ss}", "id", slash ? slash + 1 : arn, "lastStatus", last,
                         "desiredStatus", str(o, "desiredStatus"), "taskDefinition",
                         str(o, "taskDefinitionArn"), "hostPort",
                         json_object_get(nb, "hostPort") ? json_object_get(nb, "hostPort")
                                                         : json_null(),
                         "healthStatus", str(o, "healthStatus")));
    return 0;
}

static json_t *clusters(struct store_txn *txn)
{
    struct ecs_collect e = {json_object(), json_object()};
    json_t *out = json_array(), *cl;
    const char *k;

    store_scan(txn, K_ECS_CLUSTER, NULL, on_cluster, &e);
    store_scan(txn, K_ECS_SERVICE, NULL, on_service, &e);
    store_scan(txn, K_ECS_TASK, NULL, on_task, &e);
    json_object_foreach(e.clusters, k, cl)
        if (strcmp(str(cl, "status"), "INACTIVE") != 0)
            json_array_append(out, cl);
    json_decref(e.clusters);
    json_decref(e.services);
    return out;
}

json_t *ui_state(struct app *app, struct sl_err *err)
{
    struct store_txn *txn;
    json_t *doc;
    char now[32];

    if (store_read_begin(app->store, &txn, err) != SL_OK)
        return NULL;
    util_iso_now(now);
    doc = json_pack("{sI ss so so so}", "revision", (json_int_t)store_revision(app->store), "time",
                    now, "load_balancers", load_balancers(txn, err), "target_groups",
                    target_groups(txn, app, err), "clusters", clusters(txn));
    store_txn_end(txn);
    if (doc == NULL)
        sl_err_set(err, 500, "InternalFailure", "out of memory");
    return doc;
}
