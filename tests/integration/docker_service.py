"""The ECS service story with real containers, run by test_ecs_docker_service.py
against a private dockerd and by test_ecs_podman_service.py against Podman's
Docker-compatible service.

sluiced (--runtime docker) with sluice-proxy; images web:v1, web:v2 and
web:crash built locally (docker_util.build_images).  Cases, in order, each
building on the last:
- a service of 2 container tasks on dynamic host ports behind a listener
  rule: stable under `aws ecs wait services-stable`, traffic spread over both
  containers (told apart by their hostnames);
- UpdateService to web:v2 under 16 keep-alive clients: zero failed
  requests, and only v2 answers afterwards;
- web:crash trips the circuit breaker and rolls back to web:v2;
- the engine kills a task's container (POST /containers/{id}/kill): the task
  stops with exit code 137 and is replaced;
- sluiced restarts: the tasks and their containers are adopted, none
  duplicated, targets kept; a container that died while it was down is found
  dead and its task replaced; and again in the middle of a rollout, which the
  next sluiced completes with exactly the new tasks' containers left;
- scale up to 3 and down to 1 with requests in flight: the leaving targets
  drain while their containers run, and every request is answered;
- scale to 0 and delete: no container of ours is left in the engine, and the
  stopped tasks' logs are kept and readable over REST.
"""
import glob
import json
import os
import subprocess
import threading
import time

from sluice_harness import AWS_CLI, Sluiced, check, check_eq, run_case
from proxy_util import free_port, wait_for
from listener_mode import ListenerMode


def owner_of(s, timeout=20):
    """The runtime's owner id, once sluiced has set its runtime up (after
    /healthz answers: the API comes first)."""
    path = os.path.join(s.data_dir, "tasks", "runtime-owner")
    if not wait_for(lambda: os.path.exists(path) and open(path).read().strip(), timeout):
        raise RuntimeError("the docker runtime did not start:\n" + s.read_log())
    with open(path) as f:
        return f.read().strip()


def cgroup_users(path):
    """What still holds cgroup <path> (for a failure's message): each
    directory left below it, with the processes in it."""
    users = {}
    for d, _, _ in os.walk("/sys/fs/cgroup/memory" + path):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids = f.read().split()
        except OSError:
            continue
        cmds = []
        for pid in pids:
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmds.append(f.read().replace(b"\0", b" ")[:80].decode(errors="replace"))
            except OSError:
                cmds.append(pid + " (gone)")
        users[d] = cmds
    return users or glob.glob("/sys/fs/cgroup/*" + path)


class Story:
    def __init__(self, engine, images):
        self.engine = engine
        self.images = images
        self.s = None
        self.elb = self.ecs = None
        self.lb_port = None
        self.tg = None
        self.label = None
        # The listener: HTTP, or HTTPS under SLUICE_IT_LISTENER=https (by hand:
        # no ctest pass of its own: each container story costs 40-50 s more).
        self.L = ListenerMode()

    # ---- helpers --------------------------------------------------------
    def clients(self):
        import boto3
        from botocore.config import Config
        cfg = Config(retries={"max_attempts": 1}, parameter_validation=False)
        kw = dict(endpoint_url=self.s.url, region_name="us-east-1",
                  aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", config=cfg)
        self.elb, self.ecs = boto3.client("elbv2", **kw), boto3.client("ecs", **kw)

    def start_sluiced(self):
        self.s.start()
        self.clients()
        self.ecs.create_cluster()  # the default cluster exists once created, as on ECS
        self.label = "sluice.owner=" + owner_of(self.s)

    def register(self, image, **kw):
        c = {"name": "web", "image": image, "essential": True,
             "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
             "stopTimeout": 5, "linuxParameters": {"initProcessEnabled": True}}
        c.update(kw)
        # EC2 tasks need a memory: a task-level one (bounding a one-container task).
        return self.ecs.register_task_definition(family="web", memory="512",
                                                 containerDefinitions=[c])[
            "taskDefinition"]["taskDefinitionArn"]

    def svc(self):
        return self.ecs.describe_services(services=["web"])["services"][0]

    def tasks(self, status="RUNNING"):
        arns = self.ecs.list_tasks(serviceName="web", desiredStatus=status)["taskArns"]
        return self.ecs.describe_tasks(tasks=arns)["tasks"] if arns else []

    def targets(self):
        d = self.elb.describe_target_health(TargetGroupArn=self.tg)["TargetHealthDescriptions"]
        return {x["Target"]["Port"]: x["TargetHealth"]["State"] for x in d}

    def stable(self):
        s = self.svc()
        return (len(s["deployments"]) == 1 and s["runningCount"] == s["desiredCount"] and
                s["deployments"][0]["rolloutState"] == "COMPLETED")

    def ours(self, running_only=False):
        return self.engine.api.containers(self.label, all_=not running_only)

    def host_ports(self, ts):
        return sorted(t["containers"][0]["networkBindings"][0]["hostPort"] for t in ts)

    def wait_stable_cli(self, timeout=150):
        """`aws ecs wait services-stable` once the service is stable (it polls
        every 15 s: waiting here first keeps the test from sleeping 15 s)."""
        wait_for(self.stable, timeout, 0.2)
        e = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                 AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
                 AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run([AWS_CLI, "--endpoint-url", self.s.url, "ecs", "wait",
                            "services-stable", "--services", "web"], env=e, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stderr.strip()

    # ---- cases ----------------------------------------------------------
    def test_task_cgroup(self):
        """A task of two containers runs in one cgroup, bounded by its
        task-level size, on this engine too; the cgroup goes with the task."""
        side = {"name": "a", "image": self.images["v1"], "essential": True, "stopTimeout": 2,
                "command": ["/bin/sh", "-c", "exec sleep 300"],
                "linuxParameters": {"initProcessEnabled": True}}
        td = self.ecs.register_task_definition(
            family="pair", cpu="256", memory="128",
            containerDefinitions=[side, dict(side, name="b")])["taskDefinition"]
        arn = self.ecs.run_task(taskDefinition=td["taskDefinitionArn"])["tasks"][0]["taskArn"]

        def task():
            return self.ecs.describe_tasks(tasks=[arn])["tasks"][0]
        check(wait_for(lambda: task()["lastStatus"] == "RUNNING", 60, 0.1),
              "the task of two containers runs: %r" % task().get("stoppedReason"))
        path = "/sluice/%s/%s" % (self.label.split("=", 1)[1], arn.rsplit("/", 1)[1])
        for c in task()["containers"]:
            pid = self.engine.api.inspect(c["runtimeId"])["State"]["Pid"]
            with open("/proc/%d/cgroup" % pid) as f:
                mem = [ln.split(":", 2)[2] for ln in f.read().splitlines()
                       if ln.split(":")[1] == "memory"]
            check(mem and mem[0].startswith(path + "/"),
                  "container %s runs in the task's cgroup: %r" % (c["name"], mem))
        with open("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % path) as f:
            check_eq(int(f.read()), 128 << 20, "the task cgroup's memory limit")
        self.ecs.stop_task(task=arn)
        check(wait_for(lambda: task()["lastStatus"] == "STOPPED", 30, 0.1), "stopped")
        check(wait_for(lambda: not glob.glob("/sys/fs/cgroup/*" + path), 30, 0.2),
              "the task's cgroup is removed with its containers: %r" % cgroup_users(path))

    def test_service_behind_rule(self):
        tg = self.elb.create_target_group(
            Name="web-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=1,
            # 5: a container's app may need more than the 1 s between its first
            # checks to answer on a busy machine; with 2 it would be replaced
            # as unhealthy (grace period 0), and the replacements would count
            # toward the circuit breaker.
            HealthyThresholdCount=2, UnhealthyThresholdCount=5)
        self.tg = tg["TargetGroups"][0]["TargetGroupArn"]
        self.elb.modify_target_group_attributes(TargetGroupArn=self.tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "3"}])
        lb = self.elb.create_load_balancer(Name="ecs-lb", Scheme="internal")["LoadBalancers"][0]
        self.lb_port = free_port()
        lst = self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Port=self.lb_port, **self.L.listener(),
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no route"}}])
        self.elb.create_rule(ListenerArn=lst["Listeners"][0]["ListenerArn"], Priority=10,
                             Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                             Actions=[{"Type": "forward", "TargetGroupArn": self.tg}])
        td = self.register(self.images["v1"])
        self.ecs.create_service(
            serviceName="web", taskDefinition=td, desiredCount=2,
            loadBalancers=[{"targetGroupArn": self.tg, "containerName": "web",
                            "containerPort": 8080}],
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                     "deploymentCircuitBreaker": {"enable": True,
                                                                  "rollback": True}},
            # As on ECS: a container's app that needs longer than the health
            # checks' 5 s to answer (a loaded machine) is not replaced and
            # counted toward the circuit breaker; healthy targets still count
            # at once.  Crashing and killed containers are not affected.
            healthCheckGracePeriodSeconds=30)
        rc, err = self.wait_stable_cli()
        check_eq(rc, 0, "aws ecs wait services-stable (%s)" % err)
        ts = self.tasks()
        check_eq(len(ts), 2, "two container tasks RUNNING")
        ports = self.host_ports(ts)
        check(len(set(ports)) == 2 and all(p > 1024 for p in ports),
              "dynamic host ports from the engine: %r" % ports)
        ids = {t["containers"][0]["runtimeId"] for t in ts}
        running = {c["Id"] for c in self.ours(running_only=True)}
        check_eq(running, ids, "one running container per task, ids as runtimeId")
        b = ts[0]["containers"][0]["networkBindings"][0]
        check_eq((b["bindIP"], b["containerPort"]), ("127.0.0.1", 8080), "binding on loopback")
        insp = self.engine.api.inspect(ts[0]["containers"][0]["runtimeId"])
        labels = insp["Config"]["Labels"]
        check_eq((labels.get("com.amazonaws.ecs.task-arn"),
                  labels.get("com.amazonaws.ecs.container-name"),
                  labels.get("com.amazonaws.ecs.task-definition-family"),
                  labels.get("com.amazonaws.ecs.task-definition-version"),
                  labels.get("com.amazonaws.ecs.cluster")),
                 (ts[0]["taskArn"], "web", "web", "1", "default"), "ECS agent labels")
        check(wait_for(lambda: set(self.targets().items()) == {(p, "healthy") for p in ports},
                       20), "both registered and healthy: %r vs %r" % (self.targets(), ports))
        hosts = set()
        for _ in range(20):
            st, _, body = self.L.get(self.lb_port, "/")
            if st == 200:
                hosts.add(body.split()[-1])
        check_eq(hosts, {"host=" + i[:12] for i in ids}, "traffic spread over both containers")

    def test_rolling_update_under_load(self):
        old_ids = {t["containers"][0]["runtimeId"] for t in self.tasks()}
        td2 = self.register(self.images["v2"])
        res = {"n": 0, "fail": [], "versions": {}}
        lock = threading.Lock()
        stop_at = [time.time() + 90]

        def client():
            c = self.L.connection(self.lb_port)
            while time.time() < stop_at[0] and res["n"] < 200000:
                try:
                    c.request("GET", "/load")
                    r = c.getresponse()
                    body = r.read().decode()
                    with lock:
                        res["n"] += 1
                        if r.status == 200:
                            v = body.split()[0]
                            res["versions"][v] = res["versions"].get(v, 0) + 1
                        else:
                            res["fail"].append((r.status, body[:80]))
                except Exception as e:  # noqa: BLE001 - a failure is the measurement
                    with lock:
                        res["n"] += 1
                        res["fail"].append(repr(e))
                    c.close()
                    c = self.L.connection(self.lb_port)
            c.close()

        bounds = {"most": 0, "least": 99}

        def watch():
            # maximumPercent 200 and minimumHealthyPercent 100 of 2 tasks
            while time.time() < stop_at[0]:
                n = len(self.tasks())
                h = list(self.targets().values()).count("healthy")
                bounds["most"], bounds["least"] = max(bounds["most"], n), min(bounds["least"], h)
                time.sleep(0.1)
        ths = [threading.Thread(target=client) for _ in range(16)]
        for t in ths:
            t.start()
        time.sleep(0.5)
        watcher = threading.Thread(target=watch)
        watcher.start()
        ths.append(watcher)
        self.ecs.update_service(service="web", taskDefinition=td2)
        rc, err = self.wait_stable_cli()
        check_eq(rc, 0, "services-stable after the rollout (%s)" % err)
        time.sleep(0.5)
        stop_at[0] = 0
        for t in ths:
            t.join(20)
        check(res["n"] > 200, "load loop ran: %d requests" % res["n"])
        check(2 <= bounds["most"] <= 4 and 2 <= bounds["least"] < 99,
              "within maximumPercent 200 and minimumHealthyPercent 100: at most %d tasks, "
              "at least %d healthy targets" % (bounds["most"], bounds["least"]))
        check_eq(res["fail"][:5], [], "zero failed requests during the rollout (%r)" %
                 res["versions"])
        check("version=v2" in res["versions"], "v2 served during the load loop; events: %r" %
              [e["message"] for e in self.svc().get("events", [])[:8]])
        bodies = {self.L.get(self.lb_port, "/")[2].split()[0] for _ in range(10)}
        check_eq(bodies, {"version=v2"}, "only the new version answers afterwards")
        new = self.tasks()
        check_eq({t["containers"][0]["image"] for t in new}, {self.images["v2"]},
                 "tasks run the new image")
        left = {c["Id"] for c in self.ours()}
        check(not old_ids & left, "old containers removed from the engine: %r" % (old_ids & left))

    def test_circuit_breaker_rollback(self):
        good = self.svc()["taskDefinition"]
        bad = self.register(self.images["crash"])
        self.ecs.update_service(service="web", taskDefinition=bad)
        failed = wait_for(lambda: [d for d in self.svc()["deployments"]
                                   if d["rolloutState"] == "FAILED"], 60, 0.3)
        check(bool(failed), "circuit breaker marks the deployment FAILED: %r" %
              self.svc()["deployments"])
        ok = wait_for(lambda: self.stable() and self.svc()["taskDefinition"] == good, 60, 0.3)
        check(ok, "rolled back to %s and stable: %r" % (good, self.svc()["deployments"]))
        # A bad task still starting when the rollback comes is stopped by the
        # scheduler instead: look for the crashed ones among them.
        st = [t for t in self.tasks("STOPPED") if t["taskDefinitionArn"] == bad]
        check(any(t["stoppedReason"] == "Essential container in task exited" and
                  t["containers"][0].get("exitCode") == 3 for t in st),
              "crashed task STOPPED with exit code 3: %r" % [
                  (t.get("stoppedReason"), t["containers"][0].get("exitCode")) for t in st[:2]])
        bodies = {self.L.get(self.lb_port, "/")[2].split()[0] for _ in range(6)}
        check_eq(bodies, {"version=v2"}, "v2 still serving")

    def test_killed_container_replaced(self):
        victim = self.tasks()[0]
        cid = victim["containers"][0]["runtimeId"]
        t0 = time.time()
        check_eq(self.engine.api.kill(cid), 204, "engine kills the container")
        seen = wait_for(lambda: self.ecs.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0][
            "lastStatus"] == "STOPPED", 10, 0.05)
        check(seen, "the death is noticed")
        # The runtime does not poll the engine: only its event stream can
        # have told it (printed, not asserted: timing belongs to benches).
        print("death noticed after %.2f s" % (time.time() - t0), flush=True)
        ok = wait_for(lambda: victim["taskArn"] not in [t["taskArn"] for t in self.tasks()] and
                      self.stable() and len(self.tasks()) == 2, 40, 0.3)
        check(ok, "killed task replaced: %r" % [t["taskArn"] for t in self.tasks()])
        t = self.ecs.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
        check_eq((t["stoppedReason"], t["containers"][0].get("exitCode")),
                 ("Essential container in task exited", 137), "SIGKILLed task's reason and code")

    def test_restart_adopts(self):
        before = sorted(t["taskArn"] for t in self.tasks())
        ids = sorted(t["containers"][0]["runtimeId"] for t in self.tasks())
        ports = self.host_ports(self.tasks())
        self.s.stop()
        check_eq(sorted(c["Id"] for c in self.ours(running_only=True)), ids,
                 "containers keep running while sluiced is down")
        self.start_sluiced()
        time.sleep(2)
        check_eq(sorted(t["taskArn"] for t in self.tasks()), before,
                 "same tasks after the restart (adopted)")
        check_eq(sorted(c["Id"] for c in self.ours(running_only=True)), ids,
                 "same containers, none duplicated")
        check_eq(sorted(self.targets()), ports, "targets stayed registered")
        check(wait_for(lambda: {self.L.get(self.lb_port, "/")[2].split()[0] for _ in range(4)} ==
                       {"version=v2"}, 15), "still serving")
        victim = self.tasks()[0]
        self.ecs.stop_task(task=victim["taskArn"], reason="test stop")
        ok = wait_for(lambda: self.stable() and len(self.tasks()) == 2 and
                      victim["taskArn"] not in [t["taskArn"] for t in self.tasks()] and
                      self.ecs.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0][
                          "lastStatus"] == "STOPPED", 40, 0.3)
        check(ok, "an adopted task is drained, stopped and replaced")
        t = self.ecs.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
        check_eq((t["lastStatus"], t["stoppedReason"], t.get("stopCode"),
                  t["containers"][0].get("exitCode")),
                 ("STOPPED", "test stop", "UserInitiated", 0),
                 "adopted container stopped by its stop signal")

    def test_died_while_down(self):
        """A container that dies while sluiced is down: the next sluiced
        finds it dead, stops its task as ECS would and replaces it; the other
        task is adopted as it is."""
        wait_for(self.stable, 40, 0.3)
        ts = self.tasks()
        victim, other = ts[0], ts[1]
        self.s.stop()
        check_eq(self.engine.api.kill(victim["containers"][0]["runtimeId"]), 204,
                 "engine kills the container while sluiced is down")
        self.start_sluiced()

        def replaced():
            # the replacement can be listed (and the counts settle) before
            # it runs and has a container: wait for that too
            ts = self.tasks()
            return (self.stable() and len(ts) == 2 and
                    victim["taskArn"] not in [t["taskArn"] for t in ts] and
                    all(t["lastStatus"] == "RUNNING" and t["containers"][0].get("runtimeId")
                        for t in ts))
        ok = wait_for(replaced, 40, 0.3)
        check(ok, "the dead task is replaced: %r" % [(t["taskArn"], t["lastStatus"])
                                                     for t in self.tasks()])
        t = self.ecs.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
        check_eq((t["lastStatus"], t.get("stopCode"), t["containers"][0].get("exitCode")),
                 ("STOPPED", "EssentialContainerExited", 137), "the dead task's stop")
        now = {x["taskArn"]: x["containers"][0]["runtimeId"] for x in self.tasks()}
        check_eq(now.get(other["taskArn"]), other["containers"][0]["runtimeId"],
                 "the live task is adopted with its container")
        check_eq(len(self.ours(running_only=True)), 2, "two containers run, none duplicated")

    def test_restart_mid_rollout(self):
        """sluiced stops while new containers are being started and old ones
        drained; the next one finishes the rollout without duplicates."""
        # The old targets healthy first: minimumHealthyPercent 100 then keeps
        # the old tasks until the new ones pass their checks.  Old tasks not
        # yet healthy (the last case's replacement) count for nothing and are
        # stopped at once, and the rollout can be over in a second.
        check(wait_for(lambda: sorted(self.targets().values()) == ["healthy"] * 2, 30, 0.2),
              "both old targets healthy: %r" % self.targets())

        def mid_rollout():
            deps = self.svc()["deployments"]
            return len(deps) == 2 and any(
                d["status"] == "PRIMARY" and d["pendingCount"] + d["runningCount"] > 0
                for d in deps)
        self.ecs.update_service(service="web", forceNewDeployment=True)
        check(wait_for(mid_rollout, 20, 0.05), "the rollout started new tasks: %r" %
              self.svc()["deployments"])
        self.s.stop()
        self.start_sluiced()
        ok = wait_for(lambda: self.stable() and len(self.tasks()) == 2, 60, 0.3)
        check(ok, "the rollout completes after the restart: %r" % self.svc()["deployments"])
        ids = {t["containers"][0]["runtimeId"] for t in self.tasks()}
        running = {c["Id"] for c in self.ours(running_only=True)}
        check(len(ids) == 2 and wait_for(lambda: {
            c["Id"] for c in self.ours(running_only=True)} == ids, 15),
            "exactly the 2 tasks' containers run, none duplicated: %r vs %r" % (running, ids))
        check_eq(sorted(self.targets()), self.host_ports(self.tasks()),
                 "the target group holds exactly the new tasks")

    def test_scale_up_and_down(self):
        """Up to 3: each new task registered and healthy; down to 1: the two
        leaving targets drain while their containers still run, then stop."""
        self.ecs.update_service(service="web", desiredCount=3)
        ok = wait_for(lambda: self.stable() and len(self.tasks()) == 3 and
                      sorted(self.targets().values()) == ["healthy"] * 3, 60, 0.3)
        check(ok, "scaled up to 3 healthy targets: %r" % self.targets())
        keep = {t["taskArn"]: t for t in self.tasks()}
        # requests in flight on every target while it scales in: ALB ends a
        # drain at once when a target has none
        slow = []

        def slow_get():
            try:
                slow.append(self.L.get(self.lb_port, "/slow?t=2.5")[0])
            except Exception as e:  # noqa: BLE001
                slow.append(repr(e))
        ths = [threading.Thread(target=slow_get) for _ in range(6)]
        for t in ths:
            t.start()
        time.sleep(0.5)
        self.ecs.update_service(service="web", desiredCount=1)
        drained_running = set()

        def down():
            tg = self.targets()
            running = {c["Id"] for c in self.ours(running_only=True)}
            for t in keep.values():
                port = t["containers"][0]["networkBindings"][0]["hostPort"]
                if tg.get(port) == "draining" and t["containers"][0]["runtimeId"] in running:
                    drained_running.add(t["taskArn"])
            gone = [t for t in self.ecs.describe_tasks(tasks=sorted(keep))["tasks"]
                    if t["lastStatus"] == "STOPPED"]
            return self.stable() and len(gone) == 2 and len(tg) == 1
        check(wait_for(down, 60, 0.1), "scaled down to 1: %r" % self.targets())
        for t in ths:
            t.join(20)
        check_eq(slow, [200] * 6, "requests in flight on the leaving targets are answered")
        gone = set(keep) - {t["taskArn"] for t in self.tasks()}
        check_eq(len(gone), 2, "two tasks left")
        check_eq(drained_running, gone, "each leaving target drained while its container ran")
        for t in self.ecs.describe_tasks(tasks=sorted(gone))["tasks"]:
            check_eq((t["lastStatus"], t.get("stopCode")),
                     ("STOPPED", "ServiceSchedulerInitiated"), "a scaled-in task's stop")

    def test_scale_to_zero_and_delete(self):
        stopped = self.tasks("STOPPED")
        self.ecs.update_service(service="web", desiredCount=0)
        self.ecs.delete_service(service="web")
        check(wait_for(lambda: self.svc()["status"] == "INACTIVE", 40, 0.3),
              "deleted service goes INACTIVE")
        check(wait_for(lambda: self.ours() == [], 15, 0.2),
              "no container of ours left in the engine: %r" % [c["Names"] for c in self.ours()])
        # One stopped by the rollout: it ran, so it has logged.
        t = [x for x in stopped if x["containers"][0]["image"] == self.images["v1"] and
             x.get("stoppedReason", "").startswith("Scaling activity")][0]
        tid = t["taskArn"].split("/")[-1]
        st, hdrs, body = self.s.http(
            "GET", "/v1/ecs/clusters/default/tasks/%s/containers/web/logs" % tid)
        check(st == 200 and b"listening on 8080" in (body or b""),
              "a removed container's log is kept and served: %r %r (task %s)" % (
                  st, (body or b"")[:200], tid))

    def run(self, name):
        self.s = Sluiced(no_proxy=False, extra_args=[
            "--runtime", "docker", "--docker-host", self.engine.host])
        try:
            self.start_sluiced()
            self.L.setup(self.s, "import")
            for fn in (self.test_task_cgroup, self.test_service_behind_rule,
                       self.test_rolling_update_under_load,
                       self.test_circuit_breaker_rollback, self.test_killed_container_replaced,
                       self.test_restart_adopts, self.test_died_while_down,
                       self.test_restart_mid_rollout, self.test_scale_up_and_down,
                       self.test_scale_to_zero_and_delete):
                t0 = time.time()
                run_case(fn)
                print("%s %s: %.1f s" % (name, fn.__name__, time.time() - t0), flush=True)
        finally:
            log = self.s.read_log(tail=0)
            self.s.cleanup()
            self.L.cleanup()
            check("runtime: docker" in log, "sluiced logged its runtime choice")
            if os.environ.get("SLUICE_TEST_VERBOSE"):
                print(log[-6000:])
