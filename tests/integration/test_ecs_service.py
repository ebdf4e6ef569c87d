"""ECS services on the process runtime, end to end through sluice-proxy: a
service of 2 tasks (tests/integration/ecs_app.py) behind a listener rule
becomes stable under `aws ecs wait services-stable` and serves from both
tasks; a rolling UpdateService under 16 concurrent clients drops no request
and leaves only the new version; a task definition that exits at once trips
the deployment circuit breaker and rolls back; a killed task is replaced;
after a sluiced restart the tasks are adopted, not duplicated; a task whose
target turns unhealthy is drained, stopped and replaced; RunTask runs,
health-checks and stops a process, and a command that cannot run or a busy
fixed hostPort stops the task with a reason."""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import AWS_CLI, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import free_port, get, wait_for  # noqa: E402
from listener_mode import ListenerMode  # noqa: E402

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ecs_app.py")
S = ELB = ECS = None
LB_PORT = None
# The service's listeners: HTTP, or HTTPS under SLUICE_IT_LISTENER=https.  A task's
# own port (RunTask) is plain HTTP in both modes: it is not behind a listener.
L = ListenerMode()
TG = None


def clients(s):
    import boto3
    from botocore.config import Config
    cfg = Config(retries={"max_attempts": 1}, parameter_validation=False)
    kw = dict(endpoint_url=s.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
              aws_secret_access_key="secret", config=cfg)
    return boto3.client("elbv2", **kw), boto3.client("ecs", **kw)


def app_container(version, **kw):
    c = {"name": "web", "image": "local/ecs-app:%s" % version, "essential": True,
         "entryPoint": ["/usr/bin/python3", APP],
         "environment": [{"name": "VERSION", "value": version}],
         "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
         "memory": 64, "stopTimeout": 5}
    c.update(kw)
    return c


def register(version, **kw):
    return ECS.register_task_definition(family="web", containerDefinitions=[
        app_container(version, **kw)])["taskDefinition"]["taskDefinitionArn"]


def svc(name="web"):
    return ECS.describe_services(services=[name])["services"][0]


def tasks(name="web", status="RUNNING"):
    arns = ECS.list_tasks(serviceName=name, desiredStatus=status)["taskArns"]
    return ECS.describe_tasks(tasks=arns)["tasks"] if arns else []


def tg_targets(tg=None):
    d = ELB.describe_target_health(TargetGroupArn=tg or TG)["TargetHealthDescriptions"]
    return {x["Target"]["Port"]: x["TargetHealth"]["State"] for x in d}


def host_ports(ts):
    return sorted(t["containers"][0]["networkBindings"][0]["hostPort"] for t in ts)


def aws_wait_stable(name, timeout=120):
    e = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
             AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
             AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return subprocess.Popen([AWS_CLI, "--endpoint-url", S.url, "ecs", "wait", "services-stable",
                             "--services", name], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stable(name="web"):
    s = svc(name)
    return (len(s["deployments"]) == 1 and s["runningCount"] == s["desiredCount"] and
            s["deployments"][0]["rolloutState"] == "COMPLETED")


def fast_tg(name, delay):
    """An ip target group checking /health every second, draining for
    <delay> s; returns its ARN."""
    tg = ELB.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId="vpc-1",
                                 TargetType="ip", HealthCheckPath="/health",
                                 HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=1,
                                 HealthyThresholdCount=2, UnhealthyThresholdCount=2)
    arn = tg["TargetGroups"][0]["TargetGroupArn"]
    ELB.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}])
    return arn


def test_service_behind_rule():
    global TG, LB_PORT
    TG = fast_tg("web-tg", delay=3)
    lb = ELB.create_load_balancer(Name="ecs-lb", Scheme="internal")["LoadBalancers"][0]
    LB_PORT = free_port()
    lst = ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], **L.listener(),
                              Port=LB_PORT, DefaultActions=[{
                                  "Type": "fixed-response", "FixedResponseConfig": {
                                      "StatusCode": "404", "ContentType": "text/plain",
                                      "MessageBody": "no route"}}])["Listeners"][0]
    ELB.create_rule(ListenerArn=lst["ListenerArn"], Priority=10, Conditions=[
        {"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": TG}])
    td = register("v1")
    ECS.create_service(serviceName="web", taskDefinition=td, desiredCount=2,
                       loadBalancers=[{"targetGroupArn": TG, "containerName": "web",
                                       "containerPort": 8080}],
                       deploymentConfiguration={"maximumPercent": 200,
                                                "minimumHealthyPercent": 100,
                                                "deploymentCircuitBreaker": {
                                                    "enable": True, "rollback": True}})
    w = aws_wait_stable("web")
    out, err = w.communicate(timeout=150)
    check_eq(w.returncode, 0, "aws ecs wait services-stable (%s)" % err.strip())
    s = svc()
    check_eq((s["runningCount"], s["desiredCount"], len(s["deployments"])), (2, 2, 1),
             "stable service counts")
    ts = tasks()
    check_eq(len(ts), 2, "two tasks RUNNING")
    check(all(t["lastStatus"] == "RUNNING" for t in ts), "tasks RUNNING")
    ports = host_ports(ts)
    check(all(49153 <= p <= 65535 for p in ports) and len(set(ports)) == 2,
          "dynamic host ports from the range: %r" % ports)
    # "logs" is a sluice extension: botocore drops unknown members, so read raw JSON
    st, _, raw = S.http("POST", "/", body={"tasks": [ts[0]["taskArn"]]}, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeTasks"})
    logs = raw["tasks"][0]["containers"][0].get("logs") or {} if st == 200 else {}
    check(logs.get("stdout", "").startswith(S.data_dir) and os.path.exists(logs["stdout"]),
          "container log path under the data dir: %r" % logs)
    check(wait_for(lambda: set(tg_targets().items()) == {(p, "healthy") for p in ports}, 20),
          "both tasks registered and healthy: %r vs %r" % (tg_targets(), ports))
    msgs = [e["message"] for e in s["events"]]
    check(any(m.startswith("(service web) has started 2 tasks: (task ") for m in msgs),
          "started event: %r" % msgs[:6])
    check(any(m == "(service web) registered 2 targets in (target-group %s)" % TG or
              m.startswith("(service web) registered 1 targets") for m in msgs),
          "registered event: %r" % msgs[:6])
    seen = set()
    for _ in range(20):
        st, _, body = L.get(LB_PORT, "/")
        if st == 200:
            seen.add(body.split()[1])
    check_eq(seen, {"port=%d" % p for p in ports}, "traffic spread over both tasks")
    check(wait_for(lambda: svc()["events"][0]["message"] ==
                   "(service web) has reached a steady state.", 10),
          "steady-state event newest: %r" % svc()["events"][0]["message"])


def test_rolling_update_under_load():
    old_ports = host_ports(tasks())
    td2 = register("v2")
    results = {"n": 0, "ok": 0, "fail": [], "versions": {}}
    lock = threading.Lock()
    stop_at = [time.time() + 90]

    def client():
        c = L.connection(LB_PORT)
        while time.time() < stop_at[0] and results["n"] < 200000:
            try:
                c.request("GET", "/load")
                r = c.getresponse()
                body = r.read().decode()
                with lock:
                    results["n"] += 1
                    if r.status == 200:
                        results["ok"] += 1
                        v = body.split()[0]
                        results["versions"][v] = results["versions"].get(v, 0) + 1
                    else:
                        results["fail"].append((r.status, body[:80]))
            except Exception as e:  # noqa: BLE001
                with lock:
                    results["n"] += 1
                    results["fail"].append(repr(e))
                c.close()
                c = L.connection(LB_PORT)
        c.close()

    ths = [threading.Thread(target=client) for _ in range(16)]
    for t in ths:
        t.start()
    time.sleep(0.5)
    ECS.update_service(service="web", taskDefinition=td2)
    s = svc()
    check_eq([d["status"] for d in s["deployments"]], ["PRIMARY", "ACTIVE"],
             "new PRIMARY, old ACTIVE")
    w = aws_wait_stable("web")
    out, err = w.communicate(timeout=150)
    check_eq(w.returncode, 0, "services-stable after the rollout (%s)" % err.strip())
    # the waiter returns only once the old tasks are gone from the group
    targets = tg_targets()
    new_ports = host_ports(tasks())
    check(not set(old_ports) & set(targets), "old tasks gone from the target group when the "
          "waiter returns: %r (old %r)" % (targets, old_ports))
    check_eq(sorted(targets), new_ports, "target group holds exactly the new tasks")
    time.sleep(1.0)
    stop_at[0] = 0
    for t in ths:
        t.join(20)
    check(results["n"] > 200, "load loop ran: %d requests" % results["n"])
    check_eq(results["fail"][:5], [], "zero failed requests during the rollout (%d ok, %r)" %
             (results["ok"], results["versions"]))
    check("version=v2" in results["versions"], "v2 served during the load loop")
    bodies = [L.get(LB_PORT, "/")[2].split()[0] for _ in range(10)]
    check_eq(set(bodies), {"version=v2"}, "only the new version answers afterwards")
    s = svc()
    check_eq((len(s["deployments"]), s["deployments"][0]["rolloutState"],
              s["deployments"][0]["taskDefinition"]), (1, "COMPLETED", td2), "rollout completed")
    msgs = [e["message"] for e in s["events"]]
    for want in ("has begun draining connections on 1 tasks.", "deregistered 1 targets in",
                 "has stopped 1 running tasks", "deployment completed."):
        check(any(want in m for m in msgs), "event %r in %r" % (want, msgs[:12]))
    stopped = tasks(status="STOPPED")
    check(all(t["stoppedReason"].startswith("Scaling activity initiated by (deployment ")
              for t in stopped if t["containers"][0]["networkBindings"] and
              t["containers"][0]["networkBindings"][0]["hostPort"] in old_ports),
          "old tasks stopped by the scheduler: %r" % [t.get("stoppedReason") for t in stopped])


def test_circuit_breaker_rollback():
    good = svc()["taskDefinition"]
    bad = ECS.register_task_definition(family="web", containerDefinitions=[app_container(
        "bad", entryPoint=["/usr/bin/python3", "-c", "import sys; sys.exit(3)"])])[
        "taskDefinition"]["taskDefinitionArn"]
    ECS.update_service(service="web", taskDefinition=bad)
    failed = wait_for(lambda: [d for d in svc()["deployments"] if d["rolloutState"] == "FAILED"],
                      40, 0.3)
    check(bool(failed), "circuit breaker marks the deployment FAILED: %r" % svc()["deployments"])
    if failed:
        check(failed[0]["taskDefinition"] == bad and failed[0]["failedTasks"] >= 3,
              "failed deployment: %r" % failed[0])
        check("circuit breaker" in failed[0].get("rolloutStateReason", ""),
              "rolloutStateReason: %r" % failed[0].get("rolloutStateReason"))
        msgs = [e["message"] for e in svc()["events"]]
        check(any("(deployment %s) deployment failed: tasks failed to start." % failed[0]["id"]
                  in m for m in msgs) and any("rolling back to deployment" in m for m in msgs),
              "failure and rollback events: %r" % msgs[:5])
    ok = wait_for(lambda: stable() and svc()["taskDefinition"] == good, 40, 0.3)
    check(ok, "rolled back to %s and stable: %r" % (good, svc()["deployments"]))
    st = [t for t in tasks(status="STOPPED") if t["taskDefinitionArn"] == bad]
    check(st and st[0]["stoppedReason"] == "Essential container in task exited" and
          st[0]["containers"][0].get("exitCode") == 3,
          "bad task STOPPED with exit code 3: %r" % [(t.get("stoppedReason"),
                                                       t["containers"][0].get("exitCode"))
                                                      for t in st[:2]])
    bodies = {L.get(LB_PORT, "/")[2].split()[0] for _ in range(6)}
    check_eq(bodies, {"version=v2"}, "good version still serving")


def test_killed_task_replaced():
    before = tasks()
    victim = before[0]
    pid = int(victim["containers"][0]["runtimeId"].split(":")[1])
    os.kill(pid, signal.SIGKILL)
    ok = wait_for(lambda: victim["taskArn"] not in [t["taskArn"] for t in tasks()] and
                  stable() and len(tasks()) == 2, 30, 0.3)
    check(ok, "killed task replaced: %r" % [t["taskArn"] for t in tasks()])
    t = ECS.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
    check_eq((t["lastStatus"], t["stoppedReason"]), ("STOPPED",
                                                      "Essential container in task exited"),
             "killed task STOPPED")
    check_eq(t["containers"][0].get("exitCode"), 137, "exit code of SIGKILL")
    check(wait_for(lambda: victim["containers"][0]["networkBindings"][0]["hostPort"] not in
                   tg_targets(), 10), "dead task's target deregistered")


def test_restart_adopts():
    global S, ELB, ECS
    before = sorted(t["taskArn"] for t in tasks())
    ports = host_ports(tasks())
    S.stop()
    S.start()
    ELB, ECS = clients(S)
    time.sleep(3)
    after = sorted(t["taskArn"] for t in tasks())
    check_eq(after, before, "same tasks after restart (adopted, none duplicated)")
    check_eq(len(ECS.list_tasks(serviceName="web")["taskArns"]), 2, "no duplicate tasks")
    check_eq(sorted(tg_targets()), ports, "targets stayed registered")
    check(wait_for(lambda: {L.get(LB_PORT, "/")[2].split()[0] for _ in range(4)} ==
                   {"version=v2"}, 15), "still serving through the proxy")
    # an adopted task can still be stopped and is replaced
    victim = tasks()[0]
    ECS.stop_task(task=victim["taskArn"], reason="test stop")
    ok = wait_for(lambda: stable() and len(tasks()) == 2 and
                  victim["taskArn"] not in [t["taskArn"] for t in tasks()] and
                  ECS.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]["lastStatus"] ==
                  "STOPPED", 30, 0.3)
    check(ok, "adopted task drained, stopped and replaced")
    t = ECS.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
    check_eq((t["lastStatus"], t["stoppedReason"]), ("STOPPED", "test stop"), "stopped")


def test_scale_down_and_delete():
    ECS.update_service(service="web", desiredCount=1)
    check(wait_for(lambda: stable() and len(tasks()) == 1 and len(tg_targets()) == 1, 30, 0.3),
          "scaled down to 1 (drained first): %r" % tg_targets())
    ECS.delete_service(service="web", force=True)
    check(wait_for(lambda: svc()["status"] == "INACTIVE", 30, 0.3),
          "deleted service goes INACTIVE: %r" % svc()["status"])
    check_eq(tasks(), [], "no task left")
    check_eq(tg_targets(), {}, "no target left")


def test_run_task_runtime():
    def task(arn):
        return ECS.describe_tasks(tasks=[arn])["tasks"][0]

    def wait_status(arn, want):
        return wait_for(lambda: task(arn)["lastStatus"] == want, 15, 0.2)

    td = ECS.register_task_definition(family="job", containerDefinitions=[app_container(
        "j1", healthCheck={"command": ["CMD-SHELL", "exit 0"], "interval": 1, "timeout": 1,
                           "retries": 2})])["taskDefinition"]["taskDefinitionArn"]
    arn = ECS.run_task(taskDefinition=td)["tasks"][0]["taskArn"]
    check(wait_status(arn, "RUNNING"), "RunTask -> RUNNING: %r" % task(arn)["lastStatus"])
    check(wait_for(lambda: task(arn)["healthStatus"] == "HEALTHY", 10, 0.2),
          "CMD-SHELL health check -> HEALTHY: %r" % task(arn).get("healthStatus"))
    port = task(arn)["containers"][0]["networkBindings"][0]["hostPort"]
    check(wait_for(lambda: get(port, "/")[2].startswith("version=j1"), 10),
          "the process serves on its PORT %d" % port)
    ECS.stop_task(task=arn)
    check(wait_status(arn, "STOPPED"), "StopTask -> STOPPED")
    t = task(arn)
    check_eq((t["stoppedReason"], t["containers"][0].get("exitCode")),
             ("Task stopped by user", 0), "SIGTERM: graceful exit 0")
    # a command that cannot be executed
    td = ECS.register_task_definition(family="job", containerDefinitions=[app_container(
        "j2", entryPoint=["/nonexistent/bin/app"])])["taskDefinition"]["taskDefinitionArn"]
    arn = ECS.run_task(taskDefinition=td)["tasks"][0]["taskArn"]
    check(wait_status(arn, "STOPPED"), "unexecutable command -> STOPPED")
    r = task(arn)["stoppedReason"]
    check("CannotStartContainerError" in r and "No such file" in r, "reason: %r" % r)
    # a fixed hostPort already in use
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    td = ECS.register_task_definition(family="job", containerDefinitions=[app_container(
        "j3", portMappings=[{"containerPort": 8080, "hostPort": busy.getsockname()[1]}])])[
        "taskDefinition"]["taskDefinitionArn"]
    arn = ECS.run_task(taskDefinition=td)["tasks"][0]["taskArn"]
    check(wait_status(arn, "STOPPED"), "fixed busy hostPort -> STOPPED")
    r = task(arn)["stoppedReason"]
    check("host port %d" % busy.getsockname()[1] in r and "in use" in r, "reason: %r" % r)
    busy.close()


# ecs_app.py whose /health answers 500 once the file $SICK_DIR/$PORT exists.
SICK_APP = r"""
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import ecs_app
get = ecs_app.Handler.do_GET
def do_GET(self):
    if self.path.startswith("/health") and os.path.exists(
            os.path.join(os.environ["SICK_DIR"], os.environ["PORT"])):
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return
    get(self)
ecs_app.Handler.do_GET = ecs_app.Handler.do_HEAD = do_GET
ecs_app.main()
"""


def test_unhealthy_target_replaced():
    """A RUNNING task whose target turns unhealthy (after the grace period)
    is deregistered, drained, stopped and replaced, as ECS does."""
    sick_dir = os.path.join(S.data_dir, "sick")
    os.makedirs(sick_dir, exist_ok=True)
    tg = fast_tg("sick-tg", delay=1)
    lb = ELB.describe_load_balancers(Names=["ecs-lb"])["LoadBalancers"][0]
    port = free_port()
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    td = ECS.register_task_definition(family="sick", containerDefinitions=[app_container(
        "s1", entryPoint=["/usr/bin/python3", "-c", SICK_APP, APP],
        environment=[{"name": "VERSION", "value": "s1"},
                     {"name": "SICK_DIR", "value": sick_dir}])])[
        "taskDefinition"]["taskDefinitionArn"]
    ECS.create_service(serviceName="sick", taskDefinition=td, desiredCount=2,
                       healthCheckGracePeriodSeconds=2,
                       loadBalancers=[{"targetGroupArn": tg, "containerName": "web",
                                       "containerPort": 8080}])
    try:
        ok = wait_for(lambda: stable("sick") and len(tg_targets(tg)) == 2 and
                      set(tg_targets(tg).values()) == {"healthy"}, 30, 0.3)
        check(ok, "sick service stable and healthy: %r" % tg_targets(tg))
        victim = tasks("sick")[0]
        vport = victim["containers"][0]["networkBindings"][0]["hostPort"]
        open(os.path.join(sick_dir, str(vport)), "w").close()
        check(wait_for(lambda: tg_targets(tg).get(vport, "gone") in ("unhealthy", "draining",
                                                                     "gone"), 15, 0.1),
              "victim's target turns unhealthy: %r" % tg_targets(tg))
        ok = wait_for(lambda: ECS.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0][
            "lastStatus"] == "STOPPED" and stable("sick") and len(tasks("sick")) == 2 and
            sorted(tg_targets(tg).items()) == sorted((p, "healthy")
                                                     for p in host_ports(tasks("sick"))),
            30, 0.3)
        check(ok, "unhealthy task stopped and replaced: %r / %r" % (
            [t["lastStatus"] for t in tasks("sick")], tg_targets(tg)))
        t = ECS.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
        check_eq((t["lastStatus"], t.get("stoppedReason")),
                 ("STOPPED", "Task failed ELB health checks in (target-group %s)" % tg),
                 "victim stopped for its ELB health")
        check(vport not in tg_targets(tg), "victim deregistered: %r" % tg_targets(tg))
        check(victim["taskArn"] not in [x["taskArn"] for x in tasks("sick")],
              "victim no longer among the running tasks")
        msgs = [e["message"] for e in svc("sick")["events"]]
        check(("(service sick) (task %s) (port %d) is unhealthy in (target-group %s) due to "
               "(reason Health checks failed with these codes: [500])."
               % (victim["taskArn"].split("/")[-1], vport, tg)) in msgs,
              "unhealthy event in ECS's words, quoting the target's health: %r" % msgs[:8])
    finally:
        ECS.delete_service(service="sick", force=True)
        wait_for(lambda: svc("sick")["status"] == "INACTIVE", 30, 0.3)


def kill_leftovers():
    """Backstop: tasks outlive sluiced by design; never leave any behind."""
    try:
        for st, name in (("RUNNING", "web"), ("STOPPED", "web"), ("RUNNING", "sick"),
                         ("STOPPED", "sick")):
            for t in tasks(name, status=st):
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
    global S, ELB, ECS
    S = Sluiced(no_proxy=False)
    S.start()
    try:
        ELB, ECS = clients(S)
        ECS.create_cluster()  # the default cluster exists once created, as on ECS
        L.setup(S, "import")
        for fn in (test_run_task_runtime, test_service_behind_rule, test_rolling_update_under_load,
                   test_circuit_breaker_rollback, test_killed_task_replaced,
                   test_restart_adopts, test_scale_down_and_delete,
                   test_unhealthy_target_replaced):
            t0 = time.time()
            run_case(fn)
            print("%s: %.1f s" % (fn.__name__, time.time() - t0), flush=True)
    finally:
        kill_leftovers()
        S.cleanup()
        L.cleanup()
    report()


if __name__ == "__main__":
    main()
