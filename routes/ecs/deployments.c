/*
 * deployments.c - service deployment and service revision records, kept
 * in step with each service's deployments (see deployments.h).
 *
 * A service carries "_svcdeps": [{"id": deployment id, "rec": number}], one
 * entry per member of its "deployments": the record each deployment reports
 * to.  That is its own record, except for a deployment the circuit breaker
 * started to roll back a failed one: that reports to the failed one's
 * record (ECS shows a rollback as part of the deployment that failed).
 * A record carries "_id" (its deployment), "_n" (its number), and
 * "_rollback_dep" (the id of the deployment rolling it back, if any).
 */
#include "routes/ecs/deployments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/ecs/names.h"

#define NUM_MAX 32

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The number of deployment id "ecs-svc/<number>" into <out>; "" if none. */
static void dep_number(const char *id, char out[NUM_MAX])
{
    const char *slash = strchr(id, '/');

    snprintf(out, NUM_MAX, "%s", slash ? slash + 1 : "");
}

/* "<cluster>/<service>" from a service ARN ".../service/<cluster>/<service>". */
static const char *svc_path(json_t *svc)
{
    const char *r = ecs_arn_resource(jstr(svc, "serviceArn"));

    return r && strncmp(r, "service/", 8) == 0 ? r + 8 : NULL;
}

static int rec_key(char *out, size_t cap, const char *path, const char *num)
{
    return (size_t)snprintf(out, cap, "%s/%s", path, num) < cap ? SL_OK : SL_ERR;
}

/* <svc>'s ARN with "service/" replaced by <type> and "/<num>" appended. */
static json_t *child_arn(json_t *svc, const char *type, const char *num)
{
    const char *arn = jstr(svc, "serviceArn"), *r = ecs_arn_resource(arn);
    char out[ECS_ARN_MAX];

    if (r == NULL || strncmp(r, "service/", 8) != 0)
        return json_string("");
    snprintf(out, sizeof(out), "%.*s%s/%s/%s", (int)(r - arn), arn, type, r + 8, num);
    return json_string(out);
}

static json_t *dep_by_id(json_t *deps, const char *id)
{
    json_t *d;
    size_t i;

    json_array_foreach(deps, i, d)
        if (strcmp(jstr(d, "id"), id) == 0)
            return d;
    return NULL;
}

static void set_if(json_t *to, json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);

    if (v && !json_is_null(v))
        json_object_set_new(to, key, json_deep_copy(v));
}

/* <rev_arn> is borrowed. */
static json_t *counts_json(json_t *rev_arn, json_t *d)
{
    return json_pack("{sO sI sI sI}", "arn", rev_arn, "requestedTaskCount",
                     json_integer_value(json_object_get(d, "desiredCount")), "runningTaskCount",
                     json_integer_value(json_object_get(d, "runningCount")), "pendingTaskCount",
                     json_integer_value(json_object_get(d, "pendingCount")));
}

/* The revision <d> deploys: the service as it is when <d> begins. */
static json_t *revision_json(json_t *svc, json_t *d, const char *num)
{
    static const char *const keys[] = {"launchType", "capacityProviderStrategy",
                                       "platformVersion", "loadBalancers", "serviceRegistries",
                                       "networkConfiguration", NULL};
    json_t *rev = json_object();
    size_t i;

    json_object_set_new(rev, "serviceRevisionArn", child_arn(svc, "service-revision", num));
    set_if(rev, svc, "serviceArn");
    set_if(rev, svc, "clusterArn");
    set_if(rev, d, "taskDefinition");
    for (i = 0; keys[i]; i++)
        set_if(rev, svc, keys[i]);
    set_if(rev, d, "createdAt");
    return rev;
}

/* A new record for deployment <d> of <svc>, with the other deployments of
 * <svc> as its source revisions. */
static json_t *record_new(json_t *svc, json_t *d, json_t *map, const char *num, double now)
{
    json_t *rec = json_object(), *sources = json_array(), *m, *o, *rev_arn;
    size_t i;

    rev_arn = child_arn(svc, "service-revision", num);
    json_object_set_new(rec, "serviceDeploymentArn", child_arn(svc, "service-deployment", num));
    set_if(rec, svc, "serviceArn");
    set_if(rec, svc, "clusterArn");
    set_if(rec, d, "createdAt");
    json_object_set(rec, "startedAt", json_object_get(d, "createdAt"));
    json_object_set_new(rec, "updatedAt", json_real(now));
    json_object_set_new(rec, "status", json_string("PENDING"));
    set_if(rec, svc, "deploymentConfiguration");
    json_array_foreach(map, i, m) {
        o = dep_by_id(json_object_get(svc, "deployments"), jstr(m, "id"));
        if (o && o != d) {
            json_t *arn = child_arn(svc, "service-revision", jstr(m, "rec"));

            json_array_append_new(sources, counts_json(arn, o)); /* counts_json() borrows */
            json_decref(arn);
        }
    }
    json_object_set_new(rec, "sourceServiceRevisions", sources);
    json_object_set_new(rec, "targetServiceRevision",
                        json_pack("{so sI}", "arn", rev_arn, "requestedTaskCount",
                                  json_integer_value(json_object_get(d, "desiredCount"))));
    json_object_set_new(rec, "_id", json_string(jstr(d, "id")));
    json_object_set_new(rec, "_n", json_string(num));
    json_object_set_new(rec, "_rev", revision_json(svc, d, num));
    return rec;
}

/* The status <rec> has now, and why, from the service's deployments. */
static const char *status_of(json_t *rec, json_t *deps, const char **reason)
{
    const char *cur = jstr(rec, "status"), *rb_id = jstr(rec, "_rollback_dep");
    json_t *own = dep_by_id(deps, jstr(rec, "_id")), *rb;
    const char *rs;

    *reason = NULL;
    if (rb_id[0]) {
        if ((rb = dep_by_id(deps, rb_id)) == NULL)
            return strcmp(cur, "ROLLBACK_IN_PROGRESS") == 0 ? "ROLLBACK_FAILED" : cur;
        rs = jstr(rb, "rolloutState");
        return strcmp(rs, "COMPLETED") == 0 ? "ROLLBACK_SUCCESSFUL"
               : strcmp(rs, "FAILED") == 0  ? "ROLLBACK_FAILED"
                                            : "ROLLBACK_IN_PROGRESS";
    }
    if (own == NULL) /* gone: a rollout that never completed was stopped */
        return strcmp(cur, "IN_PROGRESS") == 0 || strcmp(cur, "PENDING") == 0 ? "STOPPED" : cur;
    rs = jstr(own, "rolloutState");
    if (strcmp(rs, "COMPLETED") == 0)
        return "SUCCESSFUL";
    if (strcmp(rs, "FAILED") == 0) {
        *reason = jstr(own, "rolloutStateReason");
        return "STOPPED";
    }
    if (strcmp(jstr(own, "status"), "PRIMARY") != 0) {
        *reason = "A newer service deployment replaced it before it completed.";
        return "STOPPED";
    }
    return "IN_PROGRESS";
}

static int terminal(const char *st)
{
    return strcmp(st, "SUCCESSFUL") == 0 || strcmp(st, "STOPPED") == 0 ||
           strcmp(st, "ROLLBACK_SUCCESSFUL") == 0 || strcmp(st, "ROLLBACK_FAILED") == 0;
}

/* Record <num> of <path> with its status brought up to date; <fresh> (may
 * be NULL) is a new record to store.  Stored only when it changed. */
static int record_update(struct store_txn *txn, const char *path, const char *num, json_t *fresh,
                         json_t *deps, double now)
{
    char key[STORE_ID_MAX + 1];
    json_t *rec;
    const char *st, *reason;
    int rc = SL_OK, changed = fresh != NULL;

    if (rec_key(key, sizeof(key), path, num) != SL_OK)
        return SL_OK; /* a too-long id cannot be stored: no record, as for none */
    rec = fresh ? json_incref(fresh) : store_get(txn, K_ECS_SVCDEP, key);
    if (rec == NULL)
        return SL_OK;
    st = status_of(rec, deps, &reason);
    if (strcmp(st, jstr(rec, "status")) != 0) {
        json_object_set_new(rec, "status", json_string(st));
        if (reason && reason[0])
            json_object_set_new(rec, "statusReason", json_string(reason));
        json_object_set_new(rec, "updatedAt", json_real(now));
        if (terminal(st))
            json_object_set_new(rec, strcmp(st, "STOPPED") == 0 ? "stoppedAt" : "finishedAt",
                                json_real(now));
        changed = 1;
    }
    if (changed && store_put(txn, K_ECS_SVCDEP, key, rec) != SL_OK)
        rc = SL_EIO;
    json_decref(rec);
    return rc;
}

static json_t *map_find(json_t *map, const char *id)
{
    json_t *m;
    size_t i;

    json_array_foreach(map, i, m)
        if (strcmp(jstr(m, "id"), id) == 0)
            return m;
    return NULL;
}

struct back_scan {
    const char *td;
    double best;
    json_t *arn;
};

static int newest_success(const char *id, json_t *rec, void *arg)
{
    struct back_scan *b = arg;
    json_t *rev = json_object_get(rec, "_rev");
    double at = json_number_value(json_object_get(rec, "createdAt"));

    if (strcmp(jstr(rec, "status"), "SUCCESSFUL") == 0 &&
        strcmp(jstr(rev, "taskDefinition"), b->td) == 0 && at >= b->best) {
        b->best = at;
        json_decref(b->arn);
        b->arn = json_incref(json_object_get(rev, "serviceRevisionArn"));
    }
    return 0;
}

/* The revision a rollback to task definition <td> returns to: the newest
 * successful one of <path> that deployed it, into <rollback>. */
static void rolled_back_to(struct store_txn *txn, const char *path, const char *td,
                           json_t *rollback)
{
    char prefix[STORE_ID_MAX + 2];
    struct back_scan b = {td, 0, NULL};

    snprintf(prefix, sizeof(prefix), "%s/", path);
    store_scan(txn, K_ECS_SVCDEP, prefix, newest_success, &b);
    if (b.arn)
        json_object_set_new(rollback, "serviceRevisionArn", b.arn);
}

/* Deployment <d> joined <svc>: its own record, or (a rollback) the failed
 * deployment's record it reports to.  Appends its entry to <map>. */
static int dep_joined(struct store_txn *txn, json_t *svc, const char *path, json_t *d,
                      json_t *old_map, json_t *map, const char *rollback_from, double now)
{
    json_t *from = rollback_from ? map_find(old_map, rollback_from) : NULL, *rec, *failed;
    char num[NUM_MAX], key[STORE_ID_MAX + 1];
    const char *reason;
    int rc;

    if (from) { /* the circuit breaker's rollback of <rollback_from> */
        json_array_append_new(map, json_pack("{ss sO}", "id", jstr(d, "id"), "rec",
                                             json_object_get(from, "rec")));
        if (rec_key(key, sizeof(key), path, jstr(from, "rec")) != SL_OK ||
            (rec = store_get(txn, K_ECS_SVCDEP, key)) == NULL)
            return SL_OK;
        failed = dep_by_id(json_object_get(svc, "deployments"), rollback_from);
        reason = jstr(failed, "rolloutStateReason");
        json_object_set_new(rec, "_rollback_dep", json_string(jstr(d, "id")));
        json_object_set_new(rec, "rollback",
                            json_pack("{ss sf}", "reason",
                                      reason[0] ? reason : "The deployment failed.", "startedAt",
                                      now));
        rolled_back_to(txn, path, jstr(d, "taskDefinition"), json_object_get(rec, "rollback"));
        rc = store_put(txn, K_ECS_SVCDEP, key, rec);
        json_decref(rec);
        return rc == SL_OK ? SL_OK : SL_EIO;
    }
    dep_number(jstr(d, "id"), num);
    json_array_append_new(map, json_pack("{ss ss}", "id", jstr(d, "id"), "rec", num));
    rec = record_new(svc, d, old_map, num, now);
    rc = record_update(txn, path, num, rec, json_object_get(svc, "deployments"), now);
    json_decref(rec);
    return rc;
}

static int sync(struct store_txn *txn, json_t *svc, const char *rollback_from, double now)
{
    const char *path = svc_path(svc);
    json_t *deps = json_object_get(svc, "deployments"), *old = json_object_get(svc, "_svcdeps");
    json_t *map = json_array(), *d, *m;
    size_t i;
    int rc = SL_OK;

    if (path == NULL) {
        json_decref(map);
        return SL_OK;
    }
    json_array_foreach(deps, i, d) {
        if ((m = map_find(old, jstr(d, "id"))) != NULL)
            json_array_append(map, m);
        else if ((rc = dep_joined(txn, svc, path, d, old, map, rollback_from, now)) != SL_OK)
            break;
    }
    /* Every record a deployment reports to, or reported to until now. */
    json_array_foreach(map, i, m)
        if (rc == SL_OK)
            rc = record_update(txn, path, jstr(m, "rec"), NULL, deps, now);
    json_array_foreach(old, i, m)
        if (rc == SL_OK && map_find(map, jstr(m, "id")) == NULL)
            rc = record_update(txn, path, jstr(m, "rec"), NULL, deps, now);
    json_object_set_new(svc, "_svcdeps", map);
    return rc;
}

int ecs_deployments_sync(struct store_txn *txn, json_t *svc, double now)
{
    return sync(txn, svc, NULL, now);
}

int ecs_deployments_sync_rollback(struct store_txn *txn, json_t *svc, const char *failed_id,
                                  double now)
{
    return sync(txn, svc, failed_id, now);
}

/* ---- reads ---- */

struct list_scan {
    const struct ecs_deploy_filter *f;
    json_t *out;
};

static int status_wanted(const struct ecs_deploy_filter *f, const char *st)
{
    size_t i;

    for (i = 0; i < f->nstatuses; i++)
        if (strcmp(f->statuses[i], st) == 0)
            return 1;
    return f->nstatuses == 0;
}

static int collect_brief(const char *id, json_t *rec, void *arg)
{
    static const char *const keys[] = {"serviceDeploymentArn", "serviceArn", "clusterArn",
                                       "startedAt", "createdAt", "finishedAt", "status",
                                       "statusReason", NULL};
    struct list_scan *l = arg;
    double created = json_number_value(json_object_get(rec, "createdAt"));
    json_t *b;
    size_t i;

    if (!status_wanted(l->f, jstr(rec, "status")) || (l->f->after && created <= l->f->after) ||
        (l->f->before && created >= l->f->before))
        return 0;
    b = json_object();
    for (i = 0; keys[i]; i++)
        set_if(b, rec, keys[i]);
    json_object_set(b, "targetServiceRevisionArn",
                    json_object_get(json_object_get(rec, "_rev"), "serviceRevisionArn"));
    json_array_append_new(l->out, b);
    return 0;
}

static int newest_first(const void *x, const void *y)
{
    double a = json_number_value(json_object_get(*(json_t *const *)x, "createdAt"));
    double b = json_number_value(json_object_get(*(json_t *const *)y, "createdAt"));

    return a < b ? 1 : a > b ? -1 : 0;
}

int ecs_deployments_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                         const char *ref, const struct ecs_deploy_filter *f, json_t **out,
                         struct sl_err *err)
{
    const char *name = ecs_ref_name(ref);
    char id[STORE_ID_MAX + 1], prefix[STORE_ID_MAX + 2];
    struct list_scan l = {f, NULL};
    json_t *svc, *c = store_get_shared(txn, K_ECS_CLUSTER, cluster);
    size_t n;

    json_decref(c);
    if (c == NULL)
        return sl_err_set(err, 400, "ClusterNotFoundException", "Cluster not found.");
    if (name == NULL || ecs_join(id, sizeof(id), cluster, name) != SL_OK ||
        (svc = store_get_shared(txn, K_ECS_SERVICE, id)) == NULL)
        return sl_err_set(err, 400, "ServiceNotFoundException", "Service not found.");
    json_decref(svc);
    snprintf(prefix, sizeof(prefix), "%s/", id);
    l.out = json_array();
    store_scan(txn, K_ECS_SVCDEP, prefix, collect_brief, &l);
    n = json_array_size(l.out);
    if (n > 1) {
        json_t **v = malloc(n * sizeof(*v));
        size_t i;
        if (v != NULL) {
            for (i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(l.out, i));
            qsort(v, n, sizeof(*v), newest_first);
            json_array_clear(l.out);
            for (i = 0; i < n; i++)
                json_array_append_new(l.out, v[i]);
            free(v);
        }
    }
    (void)env;
    *out = l.out;
    return SL_OK;
}

/* The record an ARN "...:<type>/<cluster>/<service>/<number>" names, or
 * NULL. */
static json_t *record_by_arn(struct store_txn *txn, const char *arn, const char *type)
{
    const char *r = ecs_arn_resource(arn);
    size_t tl = strlen(type);

    if (r == NULL || strncmp(r, type, tl) != 0 || r[tl] != '/' ||
        strlen(r + tl + 1) > STORE_ID_MAX)
        return NULL;
    return store_get_shared(txn, K_ECS_SVCDEP, r + tl + 1);
}

/* A ServiceDeployment: the record, with its target revision's counts live
 * while its deployment runs. */
static json_t *deployment_view(struct store_txn *txn, json_t *rec)
{
    json_t *out = ecs_public(rec, 0), *svc, *d;
    const char *path = ecs_arn_resource(jstr(rec, "serviceArn"));
    json_t *target = json_object_get(json_object_get(rec, "_rev"), "serviceRevisionArn");

    svc = path && strncmp(path, "service/", 8) == 0
              ? store_get_shared(txn, K_ECS_SERVICE, path + 8)
              : NULL;
    d = dep_by_id(json_object_get(svc, "deployments"), jstr(rec, "_id"));
    if (d)
        json_object_set_new(out, "targetServiceRevision", counts_json(target, d));
    else
        json_object_set_new(
            out, "targetServiceRevision",
            json_pack("{sO sO si si}", "arn", target, "requestedTaskCount",
                      json_object_get(json_object_get(rec, "targetServiceRevision"),
                                      "requestedTaskCount"),
                      "runningTaskCount", 0, "pendingTaskCount", 0));
    json_decref(svc);
    return out;
}

static int describe(struct store_txn *txn, const char *const *arns, size_t n, const char *type,
                    const char *key, int revisions, json_t **out)
{
    json_t *found = json_array(), *failures = json_array(), *rec;
    size_t i;

    for (i = 0; i < n; i++) {
        if ((rec = record_by_arn(txn, arns[i], type)) == NULL) {
            json_array_append_new(failures,
                                  json_pack("{ss ss}", "arn", arns[i], "reason", "MISSING"));
            continue;
        }
        json_array_append_new(found, revisions ? json_deep_copy(json_object_get(rec, "_rev"))
                                               : deployment_view(txn, rec));
        json_decref(rec);
    }
    *out = json_pack("{so so}", key, found, "failures", failures);
    return SL_OK;
}

int ecs_deployments_describe(struct store_txn *txn, const char *const *arns, size_t n,
                             json_t **out)
{
    return describe(txn, arns, n, "service-deployment", "serviceDeployments", 0, out);
}

int ecs_revisions_describe(struct store_txn *txn, const char *const *arns, size_t n,
                           json_t **out)
{
    return describe(txn, arns, n, "service-revision", "serviceRevisions", 1, out);
}

static int collect_key(const char *id, json_t *obj, void *arg)
{
    json_array_append_new(arg, json_string(id));
    return 0;
}

void ecs_deployments_remove_cluster(struct store_txn *txn, const char *cluster)
{
    char prefix[ECS_NAME_MAX + 2];
    json_t *keys = json_array(), *k;
    size_t i;

    snprintf(prefix, sizeof(prefix), "%s/", cluster);
    store_scan(txn, K_ECS_SVCDEP, prefix, collect_key, keys);
    json_array_foreach(keys, i, k)
        store_del(txn, K_ECS_SVCDEP, json_string_value(k));
    json_decref(keys);
}
