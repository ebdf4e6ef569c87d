"""ECS task lifecycle on the process runtime, through boto3 and the AWS CLI:
the lastStatus walk (PROVISIONING/PENDING, RUNNING, DEACTIVATING, STOPPING,
DEPROVISIONING, STOPPED) with ECS's timestamps, the four stop codes with the
container's exitCode and reason, the launch throttle of a service whose tasks
keep crashing (its event, and a bounded number of launches), and stopped
tasks leaving ListTasks/DescribeTasks (and their directories the disk) after
--stopped-task-retention."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import (AWS_CLI, BUILD, Sluiced, check, check_eq, free_port,  # noqa: E402
                            report, run_case)
from proxy_util import wait_for  # noqa: E402

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ecs_app.py")
PY = "/usr/bin/python3"
LC_SECRET = "SLUICE_TEST_LC_SECRET"  # in sluiced's environment, not the tasks'
SLEEPER = [PY, "-c", "import time; time.sleep(600)"]
# Ignores SIGTERM: only the SIGKILL after stopTimeout ends it.
STUBBORN = [PY, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                      "time.sleep(600)"]
ORDER = ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
         "DEPROVISIONING", "STOPPED"]


def container(name="main", entry=SLEEPER, **kw):
    c = {"name": name, "image": "local/app:1", "essential": True, "entryPoint": entry,
         "memory": 64, "portMappings": [{"containerPort": 8080, "hostPort": 0}]}
    c.update(kw)
    return c


def describe(ecs, arn):
    return ecs.describe_tasks(tasks=[arn])["tasks"][0]


def watch(ecs, arn, until, timeout=30, step=0.02):
    """Poll the task; return (last description, lastStatus values seen in order)."""
    seen, deadline = [], time.time() + timeout
    t = describe(ecs, arn)
    while True:
        if not seen or seen[-1] != t["lastStatus"]:
            seen.append(t["lastStatus"])
        if until(t) or time.time() > deadline:
            return t, seen
        time.sleep(step)
        t = describe(ecs, arn)


def in_ecs_order(seen):
    idx = [ORDER.index(s) for s in seen if s in ORDER]
    return len(idx) == len(seen) and idx == sorted(idx)


def stopped(t):
    return t["lastStatus"] == "STOPPED"


def ts(t, k):
    v = t.get(k)
    return v.timestamp() if v is not None else None


def test_walk_and_stop_codes(s):
    ecs = s.boto3("ecs")
    # awsvpc: PROVISIONING first; the rest PENDING.
    ecs.register_task_definition(family="vpc", networkMode="awsvpc",
                                 containerDefinitions=[container()])
    ecs.register_task_definition(family="job", containerDefinitions=[container(
        stopTimeout=2)])
    run = ecs.run_task(taskDefinition="vpc")["tasks"][0]
    check_eq(run["lastStatus"], "PROVISIONING", "awsvpc task starts PROVISIONING")
    t, seen = watch(ecs, run["taskArn"], lambda t: t["lastStatus"] == "RUNNING")
    check_eq(t["lastStatus"], "RUNNING", "awsvpc task RUNNING")
    check(in_ecs_order(seen), "states in ECS order: %r" % seen)
    run = ecs.run_task(taskDefinition="job")["tasks"][0]
    check_eq((run["lastStatus"], run["desiredStatus"]), ("PENDING", "RUNNING"), "RunTask: PENDING")
    t, seen = watch(ecs, run["taskArn"], lambda t: t["lastStatus"] == "RUNNING")
    check_eq(t["lastStatus"], "RUNNING", "RUNNING")
    check(ts(t, "createdAt") <= ts(t, "startedAt"), "createdAt <= startedAt")
    check("pullStartedAt" not in t and "pullStoppedAt" not in t,
          "no image pull, no pull timestamps, on the process runtime: %r" %
          [k for k in t if k.startswith("pull")])
    check_eq(t["containers"][0]["lastStatus"], "RUNNING", "container RUNNING")
    # UserInitiated, through the AWS CLI; SIGTERM ends it (128 + 15).
    rc, out, err = s.aws("ecs", "stop-task", "--task", run["taskArn"], "--reason", "cli stop")
    check_eq(out["task"]["desiredStatus"], "STOPPED", "stop-task: desiredStatus STOPPED")
    t, seen = watch(ecs, run["taskArn"], stopped)
    check(in_ecs_order(seen) and seen[-1] == "STOPPED", "stop walk in ECS order: %r" % seen)
    rc, out, err = s.aws("ecs", "describe-tasks", "--tasks", run["taskArn"])
    cli = out["tasks"][0]
    check_eq((cli["lastStatus"], cli["desiredStatus"], cli["stopCode"], cli["stoppedReason"]),
             ("STOPPED", "STOPPED", "UserInitiated", "cli stop"), "aws ecs describe-tasks")
    check_eq(cli["containers"][0].get("exitCode"), 143, "exit code of SIGTERM")
    check(ts(t, "startedAt") <= ts(t, "stoppingAt") <= ts(t, "executionStoppedAt") <=
          ts(t, "stoppedAt"), "startedAt <= stoppingAt <= executionStoppedAt <= stoppedAt: %r" %
          [ts(t, k) for k in ("startedAt", "stoppingAt", "executionStoppedAt", "stoppedAt")])
    check("-> DEPROVISIONING" in s.read_log(tail=0) and
          "%s STOPPING -> DEPROVISIONING" % run["taskArn"].split("/", 1)[1] in s.read_log(tail=0),
          "the task went through DEPROVISIONING (sluiced log)")

    # EssentialContainerExited with the container's exit code.
    ecs.register_task_definition(family="crash", containerDefinitions=[container(
        entry=[PY, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)"])])
    arn = ecs.run_task(taskDefinition="crash")["tasks"][0]["taskArn"]
    t, seen = watch(ecs, arn, stopped)
    check_eq((t["lastStatus"], t.get("stopCode"), t.get("stoppedReason")),
             ("STOPPED", "EssentialContainerExited", "Essential container in task exited"),
             "crash: EssentialContainerExited")
    check_eq(t["containers"][0].get("exitCode"), 3, "crash: exitCode 3")
    check(in_ecs_order(seen), "crash walk in ECS order: %r" % seen)

    # TaskFailedToStart: PENDING straight to STOPPED, reason on the container too.
    ecs.register_task_definition(family="bad", containerDefinitions=[container(
        entry=["/nonexistent/bin/app"])])
    arn = ecs.run_task(taskDefinition="bad")["tasks"][0]["taskArn"]
    t, seen = watch(ecs, arn, stopped)
    check_eq((t["lastStatus"], t.get("stopCode")), ("STOPPED", "TaskFailedToStart"),
             "unexecutable: TaskFailedToStart")
    check("CannotStartContainerError" in t.get("stoppedReason", ""),
          "stoppedReason: %r" % t.get("stoppedReason"))
    check_eq(t["containers"][0].get("reason"), t.get("stoppedReason"), "container reason")
    check("startedAt" not in t and seen[-1] == "STOPPED" and "RUNNING" not in seen,
          "never RUNNING: %r" % seen)


def test_environment_sources(s):
    """The process runtime builds a container's environment as the docker
    runtime does: environmentFiles, then environment, then secrets (a file,
    or sluiced's environment); a source it cannot read fails the start."""
    ecs = s.boto3("ecs")
    d = tempfile.mkdtemp(prefix="sluice-env-")
    try:
        with open(os.path.join(d, "vars.env"), "w") as f:
            f.write("# comment\nA=from-file\nB=file\n")
        with open(os.path.join(d, "secret"), "w") as f:
            f.write("file-secret\n")
        show = [PY, "-c", "import os, time; print(*(os.environ.get(k) for k in "
                          "('A', 'B', 'S1', 'S2')), flush=True); time.sleep(600)"]
        ecs.register_task_definition(family="env", containerDefinitions=[container(
            entry=show, environmentFiles=[{"value": "file://%s/vars.env" % d, "type": "s3"}],
            environment=[{"name": "B", "value": "pairs"}],
            secrets=[{"name": "S1", "valueFrom": "env:" + LC_SECRET},
                     {"name": "S2", "valueFrom": d + "/secret"}])])
        arn = ecs.run_task(taskDefinition="env")["tasks"][0]["taskArn"]
        logs = "/v1/ecs/clusters/default/tasks/%s/containers/main/logs" % arn.rsplit("/", 1)[1]
        check(wait_for(lambda: s.http("GET", logs)[2] == b"from-file pairs env-secret "
                                                         b"file-secret\n", 10, 0.05),
              "files, pairs and secrets in the environment: %r" % (s.http("GET", logs)[2],))
        ecs.stop_task(task=arn)
        ecs.register_task_definition(family="env-bad", containerDefinitions=[container(
            secrets=[{"name": "S", "valueFrom": d + "/missing"}])])
        arn = ecs.run_task(taskDefinition="env-bad")["tasks"][0]["taskArn"]
        t, _ = watch(ecs, arn, stopped)
        check_eq(t.get("stopCode"), "TaskFailedToStart", "an unreadable secret fails the start")
        check("ResourceInitializationError" in t.get("stoppedReason", "") and
              "missing" in t.get("stoppedReason", ""), "its reason: %r" % t.get("stoppedReason"))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_user_and_ulimits(s):
    """A container's user and ulimits hold for its process: the shim sets
    them before it execs the program.  A user this host lacks fails the
    start."""
    ecs = s.boto3("ecs")
    show = ["/bin/sh", "-c", "echo $(id -u):$(id -g) $(ulimit -n) $(ulimit -Hn); exec sleep 600"]
    ecs.register_task_definition(family="who", containerDefinitions=[container(
        entry=show, user="65534:65534",
        ulimits=[{"name": "nofile", "softLimit": 200, "hardLimit": 300}],
        healthCheck={"command": ["CMD-SHELL", "test $(id -u) = 65534 && test $(ulimit -n) = 200"],
                     "interval": 1, "timeout": 1, "retries": 1})])
    arn = ecs.run_task(taskDefinition="who")["tasks"][0]["taskArn"]
    logs = "/v1/ecs/clusters/default/tasks/%s/containers/main/logs" % arn.rsplit("/", 1)[1]
    check(wait_for(lambda: s.http("GET", logs)[2] == b"65534:65534 200 300\n", 10, 0.05),
          "the process runs as its user, with its ulimits: %r" % (s.http("GET", logs)[2],))
    check(wait_for(lambda: describe(ecs, arn)["containers"][0].get("healthStatus") == "HEALTHY",
                   10, 0.1), "its health check runs as its user too: %r" %
          describe(ecs, arn)["containers"][0].get("healthStatus"))
    ecs.stop_task(task=arn)
    ecs.register_task_definition(family="who-limit", containerDefinitions=[container(
        ulimits=[{"name": "nofile", "softLimit": 300, "hardLimit": 200}])])
    arn = ecs.run_task(taskDefinition="who-limit")["tasks"][0]["taskArn"]
    t, _ = watch(ecs, arn, stopped)
    check(t.get("stopCode") == "TaskFailedToStart" and
          "ulimit nofile is not one this host can set" in t.get("stoppedReason", ""),
          "a softLimit above its hardLimit fails the start: %r" % t.get("stoppedReason"))
    ecs.register_task_definition(family="who-bad", containerDefinitions=[container(
        user="no-such-user-here")])
    arn = ecs.run_task(taskDefinition="who-bad")["tasks"][0]["taskArn"]
    t, _ = watch(ecs, arn, stopped)
    check_eq((t.get("stopCode"), t.get("stoppedReason")),
             ("TaskFailedToStart", "CannotStartContainerError: user no-such-user-here: no such "
                                   "user on this host"), "a user this host lacks")


def test_depends_on(s):
    """dependsOn holds a container back until its dependencies hold (START,
    COMPLETE, SUCCESS, HEALTHY), the task PENDING meanwhile; one that never
    can holds, or a dependency on no such container, fails the start."""
    ecs = s.boto3("ecs")
    d = tempfile.mkdtemp(prefix="sluice-deps-")
    try:
        def sh(cmd, **kw):
            return container(entry=["/bin/sh", "-c", cmd], portMappings=[], **kw)
        init = sh("sleep 0.5; touch %s/init-done" % d, name="init", essential=False)
        db = sh("sleep 0.5; touch %s/db-ready; exec sleep 600" % d, name="db",
                healthCheck={"command": ["CMD-SHELL", "test -f %s/db-ready" % d],
                             "interval": 1, "timeout": 1, "retries": 3})
        app = sh("test -f %s/init-done && test -f %s/db-ready && echo after || echo before; "
                 "exec sleep 600" % (d, d), name="app",
                 dependsOn=[{"containerName": "init", "condition": "SUCCESS"},
                            {"containerName": "db", "condition": "HEALTHY"}])
        ecs.register_task_definition(family="deps", containerDefinitions=[app, init, db])
        arn = ecs.run_task(taskDefinition="deps")["tasks"][0]["taskArn"]
        t, seen = watch(ecs, arn, lambda t: t["lastStatus"] != "PENDING", timeout=30)
        check_eq((t["lastStatus"], seen[0]), ("RUNNING", "PENDING"),
                 "PENDING while app waits, then RUNNING: %r %r" % (seen, t.get("stoppedReason")))
        logs = "/v1/ecs/clusters/default/tasks/%s/containers/app/logs" % arn.rsplit("/", 1)[1]
        check(wait_for(lambda: s.http("GET", logs)[2] == b"after\n", 10, 0.05),
              "app started after init succeeded and db was healthy: %r" %
              (s.http("GET", logs)[2],))
        cs = {c["name"]: c for c in t["containers"]}
        check_eq((cs["init"]["lastStatus"], cs["init"].get("exitCode"), cs["app"]["lastStatus"],
                  cs["db"].get("healthStatus")), ("STOPPED", 0, "RUNNING", "HEALTHY"),
                 "the containers as the task runs")
        check(cs["app"].get("runtimeId", "").startswith("process:"), "app's pid shown")
        ecs.stop_task(task=arn)
        watch(ecs, arn, stopped)
        # COMPLETE: any exit code will do; START: started is enough
        mig = sh("sleep 0.3; exit 3", name="mig", essential=False)
        side = sh("exec sleep 600", name="side")
        app2 = sh("exec sleep 600", name="app",
                  dependsOn=[{"containerName": "mig", "condition": "COMPLETE"},
                             {"containerName": "side", "condition": "START"}])
        ecs.register_task_definition(family="deps-complete",
                                     containerDefinitions=[app2, mig, side])
        arn = ecs.run_task(taskDefinition="deps-complete")["tasks"][0]["taskArn"]
        t, _ = watch(ecs, arn, lambda t: t["lastStatus"] != "PENDING", timeout=30)
        check_eq(t["lastStatus"], "RUNNING", "COMPLETE/START: RUNNING: %r" %
                 t.get("stoppedReason"))
        ecs.stop_task(task=arn)
        watch(ecs, arn, stopped)
        # A dependency that never holds, or is not there: the start fails.
        cases = [([sh("exec sleep 600", name="app",
                      dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
                   sh("exit 1", name="init", essential=False)],
                  "CannotStartContainerError: app depends on init to SUCCESS, which it did not"),
                 ([sh("exec sleep 600", name="app",
                      dependsOn=[{"containerName": "nope", "condition": "START"}])],
                  "CannotCreateContainerError: dependsOn: 'nope' is not another container of "
                  "the task"),
                 ([sh("exec sleep 600", name="a",
                      dependsOn=[{"containerName": "b", "condition": "START"}]),
                   sh("exec sleep 600", name="b",
                      dependsOn=[{"containerName": "a", "condition": "START"}])],
                  "CannotCreateContainerError: dependsOn forms a cycle")]
        for n, (cds, why) in enumerate(cases):
            ecs.register_task_definition(family="deps-bad-%d" % n, containerDefinitions=cds)
            arn = ecs.run_task(taskDefinition="deps-bad-%d" % n)["tasks"][0]["taskArn"]
            t, _ = watch(ecs, arn, stopped)
            check_eq((t.get("stopCode"), t.get("stoppedReason")), ("TaskFailedToStart", why),
                     "a dependency that cannot hold (%d)" % n)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_task_cgroups(s):
    """A task runs in a cgroup bounded by its task-level cpu and memory, each
    container's process in one below it bounded by the container's memory
    and weighted by its cpu; past its memory a process is OOM-killed and the
    container says so.  The cgroups go with the task."""
    ecs = s.boto3("ecs")
    show = [PY, "-c", "import time; print(open('/proc/self/cgroup').read(), flush=True); "
                      "time.sleep(600)"]
    hog = [PY, "-c", "import sys, time\nx = b'a' * (100 << 20)\nprint('held', flush=True)\n"
                     "time.sleep(600)"]
    ecs.register_task_definition(family="bounded", cpu="512", memory="256",
                                 containerDefinitions=[
                                     container("show", entry=show, cpu=128,
                                               memoryReservation=32),
                                     container("hog", entry=hog, essential=False)])
    arn = ecs.run_task(taskDefinition="bounded")["tasks"][0]["taskArn"]
    tid = arn.rsplit("/", 1)[1]
    with open(os.path.join(s.data_dir, "tasks", "runtime-owner")) as f:
        task_cg = "/sluice/%s/%s" % (f.read().strip(), tid)
    logs = "/v1/ecs/clusters/default/tasks/%s/containers/show/logs" % tid
    check(wait_for(lambda: b"memory:" in (s.http("GET", logs)[2] or b""), 10, 0.05),
          "show started")
    mine = {ln.split(":")[1]: ln.split(":", 2)[2]
            for ln in s.http("GET", logs)[2].decode().splitlines() if ln.count(":") >= 2}
    check_eq((mine.get("memory"), mine.get("cpu")), (task_cg + "/c0", task_cg + "/c0"),
             "the container's process in its cgroup below the task's")

    def value(path, name):
        with open("/sys/fs/cgroup/%s%s/%s" % (name.split(".")[0], path, name)) as f:
            return int(f.read())
    check_eq((value(task_cg, "memory.limit_in_bytes"), value(task_cg, "cpu.cfs_quota_us")),
             (256 << 20, 50000), "the task's cgroup: its memory and 0.5 vCPU")
    check_eq((value(task_cg + "/c0", "memory.limit_in_bytes"),
              value(task_cg + "/c0", "memory.soft_limit_in_bytes"),
              value(task_cg + "/c0", "cpu.shares")), (64 << 20, 32 << 20, 128),
             "the container's cgroup: its memory, memoryReservation and cpu shares")

    def hog_state():
        return [(c.get("exitCode"), c.get("reason")) for c in describe(ecs, arn)["containers"]
                if c["name"] == "hog"][0]
    check(wait_for(lambda: hog_state()[0] is not None, 15, 0.1), "hog ended: %r" % (hog_state(),))
    check_eq(hog_state(), (137, "OutOfMemoryError: Container killed due to memory usage"),
             "past its 64 MiB the hog is OOM-killed")
    check_eq(describe(ecs, arn)["lastStatus"], "RUNNING", "a non-essential one: the task runs on")
    ecs.stop_task(task=arn)
    watch(ecs, arn, stopped)
    check(wait_for(lambda: not glob.glob("/sys/fs/cgroup/*" + task_cg), 10, 0.05),
          "the task's cgroups are removed with it: %r" % glob.glob("/sys/fs/cgroup/*" + task_cg))


def test_service_drain_and_kill(s):
    """Scale-down of a task behind a load balancer: ServiceSchedulerInitiated,
    DEACTIVATING while its target drains, STOPPING until stopTimeout's
    SIGKILL (it ignores SIGTERM), then STOPPED with exit code 137."""
    elb, ecs = s.boto3("elbv2"), s.boto3("ecs")
    tg = elb.create_target_group(Name="drain-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1",
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
    lb = elb.create_load_balancer(Name="drain-lb", Scheme="internal")["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                        Port=free_port(), DefaultActions=[{"Type": "forward",
                                                           "TargetGroupArn": tg}])
    ecs.register_task_definition(family="stubborn", containerDefinitions=[container(
        entry=STUBBORN, stopTimeout=2)])
    ecs.create_service(serviceName="drain", taskDefinition="stubborn", desiredCount=1,
                       loadBalancers=[{"targetGroupArn": tg, "containerName": "main",
                                       "containerPort": 8080}])
    arns = []
    deadline = time.time() + 20
    while not arns and time.time() < deadline:
        arns = ecs.list_tasks(serviceName="drain")["taskArns"]
        time.sleep(0.1)
    check_eq(len(arns), 1, "service task started")
    if not arns:
        return
    t, _ = watch(ecs, arns[0], lambda t: t["lastStatus"] == "RUNNING")
    port = t["containers"][0]["networkBindings"][0]["hostPort"]
    targets = {d["Target"]["Port"]: d["TargetHealth"]["State"]
               for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}
    check(port in targets, "RUNNING task registered in its group: %r vs %d" % (targets, port))
    ecs.update_service(service="drain", desiredCount=0)
    t, seen = watch(ecs, arns[0], stopped, timeout=40)
    check("DEACTIVATING" in seen and "STOPPING" in seen and seen[-1] == "STOPPED",
          "DEACTIVATING (drain) then STOPPING then STOPPED: %r" % seen)
    check(in_ecs_order(seen), "in ECS order: %r" % seen)
    check_eq((t["stopCode"], t["stoppedReason"].startswith("Scaling activity initiated by "
                                                           "(deployment ecs-svc/")),
             ("ServiceSchedulerInitiated", True), "scheduler's stop: %r" % t.get("stoppedReason"))
    check_eq(t["containers"][0].get("exitCode"), 137, "SIGKILL after stopTimeout")
    left = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    check(all(d["Target"]["Port"] != port for d in left), "target gone: %r" % left)
    msgs = []

    def events_written():
        # A scheduler pass writes its events after its task changes: the
        # STOPPED task can be read a moment before its event (as on ECS,
        # where events come later still).
        msgs[:] = [e["message"] for e in
                   ecs.describe_services(services=["drain"])["services"][0]["events"]]
        return (any("has begun draining connections on 1 tasks." in m for m in msgs) and
                any("has stopped 1 running tasks: (task %s)." % arns[0].split("/")[-1] in m
                    for m in msgs))
    check(wait_for(events_written, 10, 0.1), "drain and stop events: %r" % msgs[:6])
    ecs.delete_service(service="drain", force=True)


def test_crash_loop_throttled(s):
    """A service whose task exits at once launches ever more slowly: ECS's
    event, and a bounded number of launches over 20 s (without the throttle a
    launch every few hundred ms: dozens)."""
    ecs = s.boto3("ecs")
    ecs.register_task_definition(family="loop", containerDefinitions=[container(
        entry=[PY, "-c", "import sys; sys.exit(1)"])])
    ecs.create_service(serviceName="loop", taskDefinition="loop", desiredCount=1)
    t0 = time.time()
    want = "(service loop) is unable to consistently start tasks successfully."
    seen_event = False
    while time.time() - t0 < 20:
        msgs = [e["message"] for e in ecs.describe_services(services=["loop"])["services"][0][
            "events"]]
        seen_event = seen_event or want in msgs
        time.sleep(0.5)
    arns = ecs.list_tasks(serviceName="loop", desiredStatus="STOPPED")["taskArns"]
    arns += ecs.list_tasks(serviceName="loop")["taskArns"]
    check(seen_event, "throttle event: %r" % msgs[:5])
    print("crash loop: %d launches in 20 s" % len(arns), flush=True)
    check(3 <= len(arns) <= 10, "launches in 20 s bounded by the back-off: %d" % len(arns))
    stopped_tasks = ecs.describe_tasks(tasks=arns[:10])["tasks"]
    check(all(t.get("stopCode") == "EssentialContainerExited" for t in stopped_tasks
              if t["lastStatus"] == "STOPPED"), "each exited on its own")
    # A new task definition ends the throttle: the good one starts at once.
    ecs.register_task_definition(family="loop", containerDefinitions=[container()])
    ecs.update_service(service="loop", taskDefinition="loop")
    deadline, ok = time.time() + 20, False
    while not ok and time.time() < deadline:
        ts_ = [x for x in ecs.describe_tasks(tasks=ecs.list_tasks(serviceName="loop")[
            "taskArns"] or ["none"])["tasks"] if x["lastStatus"] == "RUNNING"]
        ok = len(ts_) == 1 and ts_[0]["taskDefinitionArn"].endswith("loop:2")
        time.sleep(0.2)
    check(ok, "the new deployment runs")
    ecs.delete_service(service="loop", force=True)


def test_retention():
    with Sluiced(extra_args=["--stopped-task-retention", "2s"]) as s:
        ecs = s.boto3("ecs")
        ecs.create_cluster()
        ecs.register_task_definition(family="job", containerDefinitions=[container()])
        keep, gone = [t["taskArn"] for t in ecs.run_task(taskDefinition="job", count=2)["tasks"]]
        for a in (keep, gone):
            watch(ecs, a, lambda t: t["lastStatus"] == "RUNNING")
        st, _, raw = s.http("POST", "/", body={"tasks": [gone]}, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeTasks"})
        logs = raw["tasks"][0]["containers"][0]["logs"]["stdout"]
        task_dir = os.path.dirname(os.path.dirname(logs))
        check(os.path.isdir(task_dir) and task_dir.endswith(gone.split("/")[-1]),
              "task directory exists: %s" % task_dir)
        ecs.stop_task(task=gone)
        t, _ = watch(ecs, gone, stopped)
        check_eq(t["lastStatus"], "STOPPED", "stopped")
        check_eq(ecs.list_tasks(desiredStatus="STOPPED")["taskArns"], [gone], "listed STOPPED")
        deadline = time.time() + 20
        while time.time() < deadline and ecs.describe_tasks(tasks=[gone])["tasks"]:
            time.sleep(0.2)
        out = ecs.describe_tasks(tasks=[gone, keep])
        check_eq([f["arn"] for f in out["failures"]], [gone], "stopped task gone after 2 s")
        check_eq([x["taskArn"] for x in out["tasks"]], [keep], "the running one stays")
        check_eq(ecs.list_tasks(desiredStatus="STOPPED")["taskArns"], [], "not listed")
        check(not os.path.exists(task_dir), "its directory is gone: %s" % task_dir)
        check(os.path.isdir(os.path.dirname(task_dir)), "the tasks directory stays")
        ecs.stop_task(task=keep)
        watch(ecs, keep, stopped)


def test_retention_flag():
    exe = os.path.join(BUILD, "sluiced")
    for bad in ("10", "5d", "0s", "abc", "1.5h", "-1m", "m", "9000h", ""):
        p = subprocess.run([exe, "--stopped-task-retention", bad, "--data-dir", "/nonexistent"],
                           capture_output=True, text=True, timeout=10)
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and
              "--stopped-task-retention" in p.stderr,
              "bad %r: exit 2, one line: %r %r" % (bad, p.returncode, p.stderr))
    env = dict(os.environ, SLUICE_STOPPED_TASK_RETENTION="2 h")
    p = subprocess.run([exe, "--data-dir", "/nonexistent"], capture_output=True, text=True,
                       timeout=10, env=env)
    check(p.returncode == 2 and "SLUICE_STOPPED_TASK_RETENTION" in p.stderr,
          "bad env value: %r %r" % (p.returncode, p.stderr))
    with Sluiced(env={"SLUICE_STOPPED_TASK_RETENTION": "15m"}) as s:
        check_eq(s.http("GET", "/healthz")[0], 200, "15m from the environment accepted")
    with Sluiced(extra_args=["--stopped-task-retention=1h"]) as s:
        check_eq(s.http("GET", "/healthz")[0], 200, "1h accepted")


def kill_leftovers(s):
    """Tasks outlive sluiced by design; leave none behind."""
    try:
        ecs = s.boto3("ecs")
        arns = ecs.list_tasks()["taskArns"] + ecs.list_tasks(desiredStatus="STOPPED")["taskArns"]
        for i in range(0, len(arns), 100):
            for t in ecs.describe_tasks(tasks=arns[i:i + 100])["tasks"]:
                for c in t["containers"]:
                    rid = c.get("runtimeId", "")
                    if rid.startswith("process:"):
                        try:
                            os.killpg(int(rid.split(":")[1]), signal.SIGKILL)
                        except OSError:
                            pass
    except Exception:  # noqa: BLE001
        pass


def main():
    os.environ[LC_SECRET] = "env-secret"
    s = Sluiced()
    s.start()
    s.boto3("ecs").create_cluster()  # the default cluster exists once created, as on ECS
    try:
        for fn in (test_walk_and_stop_codes, test_environment_sources, test_user_and_ulimits,
                   test_depends_on, test_task_cgroups,
                   test_service_drain_and_kill,
                   test_crash_loop_throttled):
            t0 = time.time()
            run_case(lambda: fn(s))
            print("%s: %.1f s" % (fn.__name__, time.time() - t0), flush=True)
    finally:
        kill_leftovers(s)
        s.cleanup()
    for fn in (test_retention, test_retention_flag):
        t0 = time.time()
        run_case(fn)
        print("%s: %.1f s" % (fn.__name__, time.time() - t0), flush=True)
    report()


if __name__ == "__main__":
    main()
