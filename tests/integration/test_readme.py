"""The README's walkthroughs run as written: the first load balancer with the
AWS CLI (its rule answers through sluice-proxy), the same with curl and the
REST API on a fresh data directory, and the ECS example (a cluster, a task
definition, a service of two tasks behind the first walkthrough's target
group, `aws ecs wait services-stable`), each block run by bash with only the
API address and the listener port replaced by free ones."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import SOURCE, Sluiced, check, check_eq, free_port, report, run_case  # noqa: E402


def blocks():
    text = open(os.path.join(SOURCE, "README.md")).read()
    first = text[text.index("## Your first load balancer"):text.index("## sluiced\n")]
    ecs = text[text.index("## ECS API"):text.index("## ELBv2 coverage")]
    sh = re.compile(r"```sh\n(.*?)```", re.S)
    cli, rest = sh.findall(first)[:2]
    ecs_block = [b for b in sh.findall(ecs) if "create-service" in b][0]
    return cli, rest, ecs_block


def run(script, s, port, env_extra=None):
    """Run <script> (README text) with bash, the API at <s> and the README's
    listener port 8080 as <port>; (rc, stdout, stderr)."""
    script = script.replace("127.0.0.1:7070", "127.0.0.1:%d" % s.port)
    script = script.replace("localhost:7070", "localhost:%d" % s.port)
    script = script.replace("8080", str(port))
    env = dict(os.environ, PATH="/usr/bin:/bin", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", **(env_extra or {}))
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write("set -euo pipefail\nshopt -s expand_aliases\n" + script)
        path = f.name
    try:
        p = subprocess.run(["/bin/bash", path], capture_output=True, text=True, env=env,
                           timeout=240)
        return p.returncode, p.stdout, p.stderr
    finally:
        os.unlink(path)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except Exception as e:  # noqa: BLE001
        return None, str(e)


def wait_for(fn, timeout=20, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(step)
    return fn()


def test_cli_and_ecs():
    cli, _, ecs = blocks()
    port = free_port()
    s = Sluiced(no_proxy=False)
    s.start()
    try:
        rc, out, err = run(cli + "\n" + ecs, s, port)
        check_eq(rc, 0, "the CLI and ECS walkthroughs run (stderr: %s)" % err[-1500:])
        check(wait_for(lambda: get("http://127.0.0.1:%d/api/x" % port) == (200, "hi")),
              "the rule answers through sluice-proxy: %r" % (get("http://127.0.0.1:%d/api/x"
                                                                  % port),))
        ecs_c = s.boto3("ecs")
        svc = ecs_c.describe_services(services=["web"])["services"][0]
        check_eq((svc["runningCount"], len(svc["deployments"])), (2, 1),
                 "services-stable returned with the service stable")
        elb = s.boto3("elbv2")
        tg = elb.describe_target_groups(Names=["web"])["TargetGroups"][0]["TargetGroupArn"]


        def states():
            return [d["TargetHealth"]["State"] for d in
                    elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
                    if d["Target"]["Port"] not in (9001, 9002)]
        # As on ECS, services-stable waits for RUNNING tasks, not for their
        # health checks (boto/botocore#1021): those pass within two intervals.
        wait_for(lambda: states() == ["healthy", "healthy"], 30)
        check_eq(states(), ["healthy", "healthy"], "the service's tasks are healthy targets")
        ecs_c.update_service(service="web", desiredCount=0)
        ecs_c.delete_service(service="web")
        wait_for(lambda: ecs_c.list_tasks()["taskArns"] == [], 30)
    finally:
        try:
            # Stopping tasks too: the deleted service's are still draining.
            ecs = s.boto3("ecs")
            for t in (ecs.list_tasks()["taskArns"] +
                      ecs.list_tasks(desiredStatus="STOPPED")["taskArns"]):
                for c in ecs.describe_tasks(tasks=[t])["tasks"][0]["containers"]:
                    rid = c.get("runtimeId", "")
                    if rid.startswith("process:"):
                        os.killpg(int(rid.split(":")[1]), signal.SIGKILL)
        except Exception:  # noqa: BLE001
            pass
        s.cleanup()


def test_rest():
    _, rest, _ = blocks()
    port = free_port()
    with Sluiced(extra_args=["--runtime", "none"]) as s:
        rc, out, err = run(rest, s, port)
        check_eq(rc, 0, "the REST walkthrough runs (stderr: %s)" % err[-1500:])
        check('"error"' not in out, "no call failed: %s" % out[-1500:])
        elb = s.boto3("elbv2")
        lb = elb.describe_load_balancers(Names=["demo"])["LoadBalancers"][0]
        check_eq(lb["Scheme"], "internal", "the load balancer")
        lst = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        check_eq([l["Port"] for l in lst], [port], "the listener")
        tg = elb.describe_target_groups(Names=["web"])["TargetGroups"][0]["TargetGroupArn"]
        th = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        check_eq([(d["Target"]["Port"], d["TargetHealth"]["State"]) for d in th],
                 [(9001, "draining")], "the target registered, then deregistered (draining)")


for t in (test_cli_and_ecs, test_rest):
    run_case(t)
report()
