/* Unit tests for server/sched_task.c and sched_retention.c over a real store
 * and a scripted runtime: the lifecycle writes of a task whatever the
 * runtime (one that starts at once, one that starts in the background, one
 * that fails), and the deletion of stopped tasks past the retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes/ecs/taskdef.h"
#include "routes/elbv2/targets.h"
#include "routes/elbv2/tg.h"
#include "server/app.h"
#include "server/runtime.h"
#include "server/sched_pass.h"
#include "server/sched_retention.h"
#include "server/sched_task.h"
#include "store/store.h"

#define KEY "default/0123456789abcdef0123456789abcdef"
#define STARTING 3 /* what a background start's poll answers (RT_STARTING) */

/* A runtime whose answers the test sets. */
struct fake {
    struct runtime base;
    int start_rc;   /* runtime_start() */
    int poll_rc;    /* runtime_poll() */
    int exit_code;  /* set on the container when poll says RT_STOPPED */
    int known, stops, forgets, kills;
};

static int f_start(struct runtime *rt, const char *key, json_t *task, json_t *td, char *reason,
                   size_t rlen)
{
    struct fake *f = (struct fake *)rt;
    json_t *c = json_array_get(json_object_get(task, "containers"), 0);

    (void)key;
    (void)td;
    if (f->start_rc == SL_ERR) {
        snprintf(reason, rlen, "CannotStartContainerError: no such image");
        return SL_ERR;
    }
    f->known = 1;
    if (f->start_rc == SL_OK) {
        json_object_set_new(c, "lastStatus", json_string("RUNNING"));
        json_object_set_new(c, "runtimeId", json_string("fake:1"));
        json_object_set_new(c, "networkBindings",
                            json_pack("[{ss si si ss}]", "bindIP", "0.0.0.0", "containerPort",
                                      8080, "hostPort", 50001, "protocol", "tcp"));
    }
    json_object_set_new(task, "_fake", json_true()); /* a runtime's own member */
    return f->start_rc;
}

static int f_adopt(struct runtime *rt, const char *key, json_t *task, json_t *td)
{
    (void)key;
    (void)task;
    (void)td;
    ((struct fake *)rt)->known = 1;
    return RT_RUNNING;
}

static int f_poll(struct runtime *rt, const char *key, json_t *task, int *changed)
{
    struct fake *f = (struct fake *)rt;
    json_t *c = json_array_get(json_object_get(task, "containers"), 0);

    (void)key;
    *changed = 0;
    if (f->poll_rc == RT_RUNNING && strcmp(json_string_value(json_object_get(c, "lastStatus")),
                                           "RUNNING") != 0) {
        json_object_set_new(c, "lastStatus", json_string("RUNNING"));
        *changed = 1;
    } else if (f->poll_rc == RT_STOPPED && !json_object_get(c, "exitCode")) {
        json_object_set_new(c, "lastStatus", json_string("STOPPED"));
        json_object_set_new(c, "exitCode", json_integer(f->exit_code));
        *changed = 1;
    }
    return f->poll_rc;
}

static int f_stop(struct runtime *rt, const char *key)
{
    (void)key;
    ((struct fake *)rt)->stops++;
    return SL_OK;
}

static void f_forget(struct runtime *rt, const char *key, int kill_now)
{
    struct fake *f = (struct fake *)rt;

    (void)key;
    f->known = 0;
    f->forgets++;
    f->kills += kill_now;
}

static int f_known(struct runtime *rt, const char *key)
{
    (void)key;
    return ((struct fake *)rt)->known;
}

static void f_free(struct runtime *rt)
{
    (void)rt;
}

static const struct runtime_ops fake_ops = {"fake", f_start, f_adopt, f_poll,
                                            f_stop, f_forget, f_known, f_free};

struct fixture {
    char dir[64];
    struct sl_config cfg;
    struct app app;
    struct fake rt;
    struct sched_ctx ctx;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sl_err err = {0};

    strcpy(f->dir, "/tmp/sluice-sched-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->app.store, &err), SL_OK);
    strcpy(f->cfg.region, "us-east-1");
    strcpy(f->cfg.account_id, "000000000000");
    f->app.cfg = &f->cfg;
    f->rt.base.ops = &fake_ops;
    f->ctx.store = f->app.store;
    f->ctx.rt = &f->rt.base;
    f->ctx.retention_ms = 3600 * 1000;
    snprintf(f->ctx.tasks_dir, sizeof(f->ctx.tasks_dir), "%s/tasks", f->dir);
    snprintf(f->ctx.target_ip, sizeof(f->ctx.target_ip), "127.0.0.1");
    sched_domain_init(&f->ctx.dom, &f->app);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[96];

    sched_memos_free(&f->ctx.memos);
    store_close(f->app.store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int put_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    (void)err;
    return store_put(txn, K_ECS_TASK, KEY, arg);
}

/* Store the task as RunTask would, with <members> (JSON text) over it. */
static void put_task(struct fixture *f, const char *members)
{
    json_t *t = json_pack("{ss ss ss s[{ss ss}] sf si ss}", "taskArn",
                          "arn:aws:ecs:us-east-1:000000000000:task/default/"
                          "0123456789abcdef0123456789abcdef",
                          "lastStatus", "PENDING", "desiredStatus", "RUNNING", "containers",
                          "name", "main", "lastStatus", "PENDING", "createdAt", 1000.0,
                          "version", 1, "taskDefinitionArn", "td-that-is-gone");
    json_t *m = json_loads(members, 0, NULL);
    struct sl_err err = {0};

    assert_non_null(m);
    json_object_update(t, m);
    json_decref(m);
    assert_int_equal(store_write(f->app.store, put_tx, t, NULL, &err), SL_OK);
    json_decref(t);
}

static json_t *get_task(struct fixture *f)
{
    struct store_txn *txn;
    struct sl_err err = {0};
    json_t *t;

    assert_int_equal(store_read_begin(f->app.store, &txn, &err), SL_OK);
    t = store_get(txn, K_ECS_TASK, KEY);
    store_txn_end(txn);
    return t;
}

static int events_seen; /* events the last step() added that hold events_like */
static const char *events_like = "";

/* One pass over the task; returns the stored lastStatus (static copy). */
static const char *step(struct fixture *f)
{
    static char last[32];
    struct sched_pass p;
    size_t i;
    json_t *t;

    assert_int_equal(sched_pass_load(&p, &f->ctx), SL_OK);
    if (p.ntasks == 1)
        sched_task_step(&p, &p.tasks[0]);
    events_seen = 0;
    for (i = 0; i < p.nevents; i++)
        events_seen += strstr(p.events[i].text, events_like) != NULL;
    sched_pass_free(&p);
    if ((t = get_task(f)) == NULL)
        return "(gone)";
    snprintf(last, sizeof(last), "%s", json_string_value(json_object_get(t, "lastStatus")));
    json_decref(t);
    return last;
}

static const char *member(struct fixture *f, const char *k)
{
    static char v[600];
    json_t *t = get_task(f);
    json_t *x = json_object_get(t, k);

    snprintf(v, sizeof(v), "%s", json_is_string(x) ? json_string_value(x) : x ? "(set)" : "");
    json_decref(t);
    return v;
}

/* Give the stored task a task definition the pass can find. */
static void with_taskdef(struct fixture *f);
static int put_tx(struct store_txn *txn, void *arg, struct sl_err *err);

static void test_start_stop_walk(void **state)
{
    struct fixture *f = *state;

    with_taskdef(f);
    put_task(f, "{\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    f->rt.start_rc = SL_OK;
    f->rt.poll_rc = RT_RUNNING;
    assert_string_equal(step(f), "RUNNING");
    assert_string_equal(member(f, "startedAt"), "(set)");
    assert_string_equal(member(f, "_fake"), "(set)"); /* the runtime's member is stored */
    assert_string_equal(member(f, "pullStartedAt"), "");
    assert_string_equal(step(f), "RUNNING"); /* running as desired: nothing */
    /* StopTask (what the API stores). */
    put_task(f, "{\"lastStatus\": \"RUNNING\", \"desiredStatus\": \"STOPPED\", "
                "\"stopCode\": \"UserInitiated\", \"stoppedReason\": \"bye\", "
                "\"stoppingAt\": 2000.0, \"startedAt\": 1500.0, \"_fake\": true, "
                "\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    assert_string_equal(step(f), "STOPPING");
    assert_int_equal(f->rt.stops, 1);
    f->rt.poll_rc = RT_STOPPED;
    f->rt.exit_code = 143;
    assert_string_equal(step(f), "DEPROVISIONING");
    assert_string_equal(member(f, "stopCode"), "UserInitiated"); /* the first one stays */
    assert_string_equal(member(f, "stoppedReason"), "bye");
    assert_string_equal(member(f, "executionStoppedAt"), "(set)");
    assert_int_equal(f->rt.forgets, 0);
    assert_string_equal(step(f), "STOPPED");
    assert_int_equal(f->rt.forgets, 1);
    assert_int_equal(f->rt.kills, 0); /* it had exited: nothing to kill */
    assert_string_equal(member(f, "stoppedAt"), "(set)");
    assert_string_equal(member(f, "desiredStatus"), "STOPPED");
}

static void test_background_start(void **state)
{
    struct fixture *f = *state;

    with_taskdef(f);
    put_task(f, "{\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    f->rt.start_rc = SL_EAGAIN;
    f->rt.poll_rc = STARTING;
    assert_string_equal(step(f), "PENDING");
    assert_string_equal(step(f), "PENDING"); /* still starting */
    assert_string_equal(member(f, "startedAt"), "");
    f->rt.poll_rc = RT_RUNNING;
    assert_string_equal(step(f), "RUNNING");
    assert_string_equal(member(f, "startedAt"), "(set)");
}

static void test_background_failure(void **state)
{
    struct fixture *f = *state;
    json_t *t;

    with_taskdef(f);
    put_task(f, "{\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    f->rt.start_rc = SL_EAGAIN;
    f->rt.poll_rc = STARTING;
    assert_string_equal(step(f), "PENDING");
    /* The runtime gives up (an image it cannot pull) and says why. */
    f->rt.poll_rc = RT_STOPPED;
    {
        /* What the runtime writes into the task with its last poll. */
        struct sched_pass p;
        assert_int_equal(sched_pass_load(&p, &f->ctx), SL_OK);
        json_object_set_new(p.tasks[0].obj, "stoppedReason",
                            json_string("CannotPullContainerError: pull access denied"));
        sched_task_step(&p, &p.tasks[0]);
        sched_pass_free(&p);
    }
    t = get_task(f);
    assert_string_equal(json_string_value(json_object_get(t, "lastStatus")), "STOPPED");
    assert_string_equal(json_string_value(json_object_get(t, "stopCode")), "TaskFailedToStart");
    assert_string_equal(json_string_value(json_object_get(t, "stoppedReason")),
                        "CannotPullContainerError: pull access denied");
    assert_null(json_object_get(t, "startedAt"));
    json_decref(t);
    assert_int_equal(f->rt.kills, 1); /* released */
}

static void test_start_failure_and_cancel(void **state)
{
    struct fixture *f = *state;
    json_t *t, *c;

    with_taskdef(f);
    put_task(f, "{\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    f->rt.start_rc = SL_ERR;
    assert_string_equal(step(f), "STOPPED");
    t = get_task(f);
    c = json_array_get(json_object_get(t, "containers"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "stopCode")), "TaskFailedToStart");
    assert_string_equal(json_string_value(json_object_get(c, "reason")),
                        "CannotStartContainerError: no such image");
    assert_string_equal(json_string_value(json_object_get(c, "lastStatus")), "STOPPED");
    json_decref(t);
    /* A task definition that is gone fails the start too. */
    put_task(f, "{\"lastStatus\": \"PENDING\", \"taskDefinitionArn\": \"gone\"}");
    assert_string_equal(step(f), "STOPPED");
    assert_string_equal(member(f, "stoppedReason"), "TaskDefinition gone not found");
    /* Stopped while a background start runs: the start is cancelled. */
    put_task(f, "{\"lastStatus\": \"PENDING\", \"desiredStatus\": \"RUNNING\", "
                "\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    f->rt.start_rc = SL_EAGAIN;
    f->rt.poll_rc = STARTING;
    assert_string_equal(step(f), "PENDING");
    put_task(f, "{\"lastStatus\": \"PENDING\", \"desiredStatus\": \"STOPPED\", "
                "\"stopCode\": \"ServiceSchedulerInitiated\", "
                "\"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:000000000000:"
                "task-definition/job:1\"}");
    assert_string_equal(step(f), "STOPPED");
    assert_int_equal(f->rt.kills, 1);
    assert_string_equal(member(f, "stopCode"), "ServiceSchedulerInitiated");
}

static void test_retention(void **state)
{
    struct fixture *f = *state;
    char dir[200], file[260], cmd[300], m[160];
    FILE *fp;

    snprintf(dir, sizeof(dir), "%s/tasks/0123456789abcdef0123456789abcdef/main", f->dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(file, sizeof(file), "%s/stdout.log", dir);
    assert_non_null(fp = fopen(file, "w"));
    fclose(fp);
    /* Stopped an hour and a second ago: past the default retention. */
    snprintf(m, sizeof(m),
             "{\"lastStatus\": \"STOPPED\", \"desiredStatus\": \"STOPPED\", "
             "\"stoppedAt\": %.3f}",
             sched_clock(NULL) - 3601.0);
    put_task(f, m);
    {
        struct sched_pass p;
        assert_int_equal(sched_pass_load(&p, &f->ctx), SL_OK);
        assert_int_equal(p.ntasks, 0);
        assert_int_equal(p.nexpired, 1);
        sched_retention_sweep(&p);
        sched_pass_free(&p);
    }
    assert_null(get_task(f));
    assert_int_equal(access(file, F_OK), -1);
    snprintf(dir, sizeof(dir), "%s/tasks/0123456789abcdef0123456789abcdef", f->dir);
    assert_int_equal(access(dir, F_OK), -1);
    snprintf(dir, sizeof(dir), "%s/tasks", f->dir);
    assert_int_equal(access(dir, F_OK), 0);
    /* Only task ids are paths it removes. */
    assert_int_equal(sched_retention_remove_dir(dir, ".."), SL_EINVAL);
    assert_int_equal(sched_retention_remove_dir(dir, "a/b"), SL_EINVAL);
    assert_int_equal(sched_retention_remove_dir(dir, ""), SL_EINVAL);
    assert_int_equal(sched_retention_remove_dir(dir, "abc"), SL_OK); /* absent: fine */
    /* A recent one stays. */
    put_task(f, "{\"lastStatus\": \"STOPPED\", \"desiredStatus\": \"STOPPED\", "
                "\"stoppedAt\": 1e10}");
    {
        struct sched_pass p;
        assert_int_equal(sched_pass_load(&p, &f->ctx), SL_OK);
        assert_int_equal(p.nexpired, 0);
        sched_pass_free(&p);
    }
}

/* ---- a service task behind a target group ---- */

static int svc_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    (void)err;
    return store_put(txn, K_ECS_SERVICE, "default/web", arg);
}

/* A target group of <type> and a service "web" in front of it; returns the
 * group's ARN (static). */
struct tg_create {
    struct fixture *f;
    struct elb_tg_spec spec;
    json_t *out;
};

static int tg_create_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tg_create *c = arg;

    return elb_tg_create(txn, &c->f->ctx.dom.elb, &c->spec, &c->out, err);
}

static const char *with_service(struct fixture *f, const char *type)
{
    static char arn[ECS_ARN_MAX];
    struct sl_err err = {0};
    struct tg_create c = {f, {0}, NULL};
    json_t *svc;

    c.spec.name = "web";
    c.spec.port = 80;
    c.spec.vpc = "vpc-1";
    c.spec.type = strcmp(type, "ip") == 0 ? ELB_TT_IP : ELB_TT_INSTANCE;
    assert_int_equal(store_write(f->app.store, tg_create_tx, &c, NULL, &err), SL_OK);
    assert_non_null(c.out);
    snprintf(arn, sizeof(arn), "%s", json_string_value(json_object_get(c.out, "TargetGroupArn")));
    json_decref(c.out);
    svc = json_pack("{ss ss si s[{ss ss si}] s[{ss ss ss si}] s{si si}}", "serviceName", "web",
                    "status", "ACTIVE", "desiredCount", 1, "loadBalancers", "targetGroupArn",
                    arn, "containerName", "main", "containerPort", 8080, "deployments", "id",
                    "ecs-svc/1", "status", "PRIMARY", "taskDefinition",
                    "arn:aws:ecs:us-east-1:000000000000:task-definition/job:1", "desiredCount",
                    1, "deploymentConfiguration", "maximumPercent", 200, "minimumHealthyPercent",
                    100);
    assert_int_equal(store_write(f->app.store, svc_tx, svc, NULL, &err), SL_OK);
    json_decref(svc);
    return arn;
}

static json_t *targets_of(struct fixture *f, const char *tg)
{
    struct sl_err err = {0};
    struct store_txn *txn;
    json_t *list = NULL;

    assert_int_equal(store_read_begin(f->app.store, &txn, &err), SL_OK);
    assert_int_equal(elb_targets_health(txn, &f->ctx.dom.elb, tg, NULL, 0, &list, &err), SL_OK);
    store_txn_end(txn);
    return list;
}

#define SERVICE_TASK                                                                           \
    "{\"group\": \"service:web\", \"startedBy\": \"ecs-svc/1\", \"taskDefinitionArn\": " \
    "\"arn:aws:ecs:us-east-1:000000000000:task-definition/job:1\"}"

/* Started and registered in one transaction; deregistered with
 * DEACTIVATING in one transaction. */
static void test_targets_in_the_task_transaction(void **state)
{
    struct fixture *f = *state;
    const char *tg;
    uint64_t rev;
    json_t *list, *t;

    with_taskdef(f);
    tg = with_service(f, "ip");
    put_task(f, SERVICE_TASK);
    f->rt.start_rc = SL_OK;
    f->rt.poll_rc = RT_RUNNING;
    rev = store_revision(f->app.store);
    assert_string_equal(step(f), "RUNNING");
    assert_int_equal(store_revision(f->app.store), rev + 1); /* one write for both */
    list = targets_of(f, tg);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(list, 0), "Target"), "Id")),
                        "127.0.0.1"); /* bound on every address */
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(list, 0), "Target"), "Port")),
                     50001);
    json_decref(list);
    t = get_task(f);
    assert_int_equal(json_array_size(json_object_get(t, "_targets")), 1);
    json_object_set_new(t, "desiredStatus", json_string("STOPPED"));
    assert_int_equal(store_write(f->app.store, put_tx, t, NULL, &(struct sl_err){0}), SL_OK);
    json_decref(t);
    rev = store_revision(f->app.store);
    assert_string_equal(step(f), "DEACTIVATING");
    assert_int_equal(store_revision(f->app.store), rev + 1);
    /* The group serves no listener: nothing can be in flight, the target
     * goes at once, and the drain is over. */
    list = targets_of(f, tg);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_string_equal(member(f, "_drain_deadline_ms"), "(set)");
    assert_string_equal(step(f), "STOPPING");
}

/* A target the group refuses: the task runs without it, and the step
 * writes nothing half done. */
static void test_registration_refused(void **state)
{
    struct fixture *f = *state;
    const char *tg;
    json_t *list, *t;

    with_taskdef(f);
    tg = with_service(f, "instance"); /* an IP is not an instance id */
    put_task(f, SERVICE_TASK);
    f->rt.start_rc = SL_OK;
    f->rt.poll_rc = RT_RUNNING;
    events_like = "(service web) failed to register targets in (target-group ";
    assert_string_equal(step(f), "RUNNING");
    assert_int_equal(events_seen, 1);
    list = targets_of(f, tg);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    t = get_task(f);
    assert_null(json_object_get(t, "_targets")); /* tried again each pass */
    json_decref(t);
    assert_string_equal(step(f), "RUNNING");
    assert_int_equal(events_seen, 0); /* the same cause is said once */
    t = get_task(f);
    assert_null(json_object_get(t, "_targets"));
    json_decref(t);
    events_like = "";
}

static int td_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    char id[ECS_ID_MAX];

    (void)err;
    ecs_taskdef_id(id, sizeof(id), "job", 1);
    return store_put(txn, K_ECS_TASKDEF, id, arg);
}

static void with_taskdef(struct fixture *f)
{
    json_t *td = json_pack("{ss ss si ss s[{ss sb}]}", "taskDefinitionArn",
                           "arn:aws:ecs:us-east-1:000000000000:task-definition/job:1", "family",
                           "job", "revision", 1, "status", "ACTIVE", "containerDefinitions",
                           "name", "main", "essential", 1);
    struct sl_err err = {0};

    assert_int_equal(store_write(f->app.store, td_tx, td, NULL, &err), SL_OK);
    json_decref(td);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_stop_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_failure_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_targets_in_the_task_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
