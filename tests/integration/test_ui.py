"""The dashboard (GET /ui) in headless Chromium (Debian's chromium, driven
through the DevTools protocol): it renders the load balancer, listener
rules in priority order, target groups with each target's health and live
request rate, and an ECS service with its deployments and tasks that the
test created; without a reload it follows a deregistration (draining, then
gone) and a rolling deployment (the new deployment's tasks counting up, the
old one's down, COMPLETED at the end); screenshots are kept as test
artifacts (<build>/artifacts/); it is read-only; and with credentials
configured it asks for the API token before it shows anything.  sluiced's
/metrics carries the service's ECS gauges meanwhile."""
import json
import os
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import free_port, get, make_tg, wait_for  # noqa: E402
from obs_util import EchoBackend, parse_prom, value  # noqa: E402
from cdp import Browser  # noqa: E402

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ecs_app.py")
ART = os.path.join(BUILD, "artifacts")
S = ELB = ECS = BR = None
B1 = B2 = None
STATIC = WEB = None
PORT = None


def clients(s):
    import boto3
    from botocore.config import Config
    kw = dict(endpoint_url=s.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
              aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}, parameter_validation=False))
    return boto3.client("elbv2", **kw), boto3.client("ecs", **kw)


def taskdef(version):
    return ECS.register_task_definition(family="shop", containerDefinitions=[{
        "name": "web", "image": "local/shop:%s" % version, "essential": True, "memory": 128,
        "entryPoint": ["/usr/bin/python3", APP],
        "environment": [{"name": "VERSION", "value": version}],
        "portMappings": [{"containerPort": 8080, "hostPort": 0}],
        "stopTimeout": 2}])["taskDefinition"]["taskDefinitionArn"]


def q(testid):
    return "document.querySelector('[data-testid=\"%s\"]')" % testid


def shown(testid):
    return "(%s !== null)" % q(testid)


def text(testid):
    return BR.eval("(%s || {}).textContent || null" % q(testid))


def shot(name):
    os.makedirs(ART, exist_ok=True)
    path = os.path.join(ART, name)
    BR.screenshot(path)
    check(os.path.getsize(path) > 10000, "screenshot %s kept" % path)


def setup():
    global S, ELB, ECS, B1, B2, STATIC, WEB, PORT
    S = Sluiced(no_proxy=False).start()
    ELB, ECS = clients(S)
    B1, B2 = EchoBackend(), EchoBackend()
    lb = ELB.create_load_balancer(Name="shop", Scheme="internal")["LoadBalancers"][0]
    STATIC = make_tg(ELB, "static", [B1, B2], HealthCheckIntervalSeconds=5)["TargetGroupArn"]
    ELB.modify_target_group_attributes(TargetGroupArn=STATIC, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3"}])
    WEB = ELB.create_target_group(Name="web", Protocol="HTTP", Port=8080, VpcId="vpc-1",
                                  TargetType="ip", HealthCheckPath="/health",
                                  HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=1,
                                  HealthyThresholdCount=2, UnhealthyThresholdCount=2
                                  )["TargetGroups"][0]["TargetGroupArn"]
    ELB.modify_target_group_attributes(TargetGroupArn=WEB, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "1"}])
    PORT = free_port()
    la = ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=PORT,
                             DefaultActions=[{"Type": "forward", "TargetGroupArn": STATIC}]
                             )["Listeners"][0]["ListenerArn"]
    ELB.create_rule(ListenerArn=la, Priority=20, Conditions=[
        {"Field": "path-pattern", "Values": ["/app/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": WEB}])
    ELB.create_rule(ListenerArn=la, Priority=10, Conditions=[
        {"Field": "host-header", "Values": ["admin.example"]}], Actions=[{
            "Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}])
    ECS.create_cluster(clusterName="default")  # as on AWS, the default cluster is made first
    ECS.create_service(serviceName="web", taskDefinition=taskdef("v1"), desiredCount=2,
                       loadBalancers=[{"targetGroupArn": WEB, "containerName": "web",
                                       "containerPort": 8080}],
                       # one task more at a time, an old one stopped only once a new
                       # one is healthy: every step of the rollout lasts a health
                       # check or two, long enough for the page to be seen in it
                       # (at 200 % both new tasks could start and run between two looks)
                       deploymentConfiguration={"maximumPercent": 150,
                                                "minimumHealthyPercent": 100})


def test_renders_what_was_created():
    BR.navigate(S.url + "/ui")
    check(BR.wait(shown("lb-shop")), "the load balancer is shown")
    BR.eval("window.__loadedAt = Date.now(), 1")
    prios = BR.wait("(function(){var r=document.querySelectorAll("
                    "'[data-testid=\"listener-shop-%d\"] tr[data-testid^=\"rule-\"]');"
                    "return r.length == 3 && Array.prototype.map.call(r, function(x){"
                    "return x.firstChild.textContent}).join(',')})()" % PORT)
    check_eq(prios, "10,20,default", "rules in priority order")
    check("host-header admin.example" in (BR.eval("document.body.textContent") or ""),
          "a rule's condition")
    for b in (B1, B2):
        k = "static-127.0.0.1-%d" % b.port
        check(BR.wait("(%s||{}).textContent == 'healthy'" % q("state-" + k)),
              "target %d shown healthy" % b.port)
    check(BR.wait("(%s||{}).textContent == '2'" % q("svc-running-default-web"), 90),
          "the service's two tasks running: %r" % text("svc-running-default-web"))
    td = "shop:1"
    check(BR.wait("(%s||{}).textContent == 'COMPLETED'" % q("rollout-default-web-" + td), 60),
          "the first deployment COMPLETED: %r" % text("rollout-default-web-" + td))
    check(BR.wait("document.querySelectorAll('[data-testid=\"tg-web\"] .healthy').length == 2",
                  30), "the service's tasks are healthy targets of web")
    check("default / web" in (text("service-default-web") or ""), "the cluster and its service")
    arns = ECS.list_tasks(cluster="default", serviceName="web")["taskArns"]
    check_eq(len(arns), 2, "two tasks to look for")
    for arn in arns:
        tid = arn.split("/")[-1]
        check(BR.wait("((%s||{}).textContent||'').indexOf('RUNNING') >= 0" % q("task-" + tid), 10),
              "task %s shown RUNNING: %r" % (tid, text("task-" + tid)))
    for _ in range(30):
        get(PORT, "/")
    k = "static-127.0.0.1-%d" % B1.port
    check(BR.wait("parseFloat((%s||{}).textContent) > 0" % q("rps-" + k), 10),
          "a live request rate: %r" % text("rps-" + k))
    shot("test_ui.png")


def test_follows_deregistration():
    k = "static-127.0.0.1-%d" % B2.port
    # requests in flight keep the target draining for the page to show it
    n = B2.count
    slow = [threading.Thread(target=get, args=(PORT, "/slow/4"), daemon=True) for _ in range(4)]
    for t in slow:
        t.start()
    check(wait_for(lambda: B2.count > n, 5), "a slow request in flight on target 2")
    ELB.deregister_targets(TargetGroupArn=STATIC, Targets=[{"Id": "127.0.0.1", "Port": B2.port}])
    check(BR.wait("(%s||{}).textContent == 'draining'" % q("state-" + k), 10),
          "the target shows draining: %r" % text("state-" + k))
    check(BR.wait("(%s||{}).textContent == 'Target.DeregistrationInProgress'" % q("reason-" + k),
                  5), "with ALB's reason")
    check(BR.wait("%s === null" % q("target-" + k), 20), "then it is gone")
    for t in slow:
        t.join(10)
    check(BR.eval("window.__loadedAt > 0"), "no reload happened")


def test_follows_a_rollout():
    ECS.update_service(service="web", taskDefinition=taskdef("v2"))
    seen = set()
    deadline = time.time() + 120
    done = False
    mid_shot = False
    while time.time() < deadline and not done:
        old = BR.eval("(%s||{}).textContent || null" % q("running-default-web-shop:1"))
        new = BR.eval("(%s||{}).textContent || null" % q("running-default-web-shop:2"))
        state = BR.eval("(%s||{}).textContent || null" % q("rollout-default-web-shop:2"))
        seen.add((old, new, state))
        if state == "IN_PROGRESS" and not mid_shot:
            shot("test_ui_rollout.png")
            mid_shot = True
        done = state == "COMPLETED" and old is None
        time.sleep(0.2)
    check(done, "the rollout COMPLETED on the page: %r" % sorted(seen, key=str)[-5:])
    check(any(s[2] == "IN_PROGRESS" for s in seen), "IN_PROGRESS was shown")
    news = {s[1] for s in seen if s[1] is not None}
    check(len(news) >= 2, "the new deployment's running count moved: %r" % news)
    check(any(s[0] is not None and s[1] is not None for s in seen),
          "both deployments shown at once during the rollout")
    check(BR.eval("window.__loadedAt > 0"), "no reload happened")
    evs = text("events-default-web") or ""
    check("steady state" in evs or "started" in evs, "recent events shown: %r" % evs[:200])
    shot("test_ui_done.png")
    check_eq(BR.console_errors(), [], "no script errors")


def test_ecs_gauges():
    st, _, body = S.http("GET", "/metrics")
    samples, _ = parse_prom(body.decode() if isinstance(body, bytes) else "")
    sel = dict(cluster="default", service="web")
    check_eq(value(samples, "sluice_ecs_service_desired_tasks", **sel), 2.0, "desired gauge")
    check_eq(value(samples, "sluice_ecs_service_running_tasks", **sel), 2.0, "running gauge")
    check_eq(value(samples, "sluice_ecs_service_pending_tasks", **sel), 0.0, "pending gauge")
    check_eq(value(samples, "sluice_ecs_service_deployments", rollout_state="COMPLETED", **sel),
             1.0, "one COMPLETED deployment")
    check_eq(value(samples, "sluice_ecs_service_deployments", rollout_state="IN_PROGRESS",
                   **sel), 0.0, "none IN_PROGRESS")


def test_read_only():
    for method in ("POST", "PUT", "DELETE"):
        st, _, _ = S.http(method, "/ui/api/state", body={})
        check_eq(st, 405, "%s /ui/api/state" % method)
    st, hdrs, body = S.http("GET", "/ui/app.js")
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/javascript"), "app.js")
    check(b"http://" not in body and b"https://" not in body, "no remote assets in app.js")
    st, _, body = S.http("GET", "/ui")
    check(st == 200 and b"<script src=\"/ui/app.js\">" in body, "the page")


def test_asks_for_the_token():
    creds = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
    creds.write("[default]\naws_access_key_id = AKIDUI\naws_secret_access_key = s\n"
                "sluice_api_token = ui-token-1\n")
    creds.close()
    try:
        with Sluiced(extra_args=["--credentials", creds.name]) as s2:
            st, _, _ = s2.http("GET", "/ui/api/state")
            check_eq(st, 403, "the state needs credentials")
            st, _, _ = s2.http("GET", "/ui/api/state", headers={"Authorization": "Bearer ui-token-1"})
            check_eq(st, 200, "the token opens it")
            st, _, _ = s2.http("GET", "/metrics")
            check_eq(st, 403, "/metrics needs credentials too")
            s2.http("POST", "/v1/load-balancers", body={"id": "gated", "Name": "gated"},
                    headers={"Authorization": "Bearer ui-token-1"})
            BR.navigate(s2.url + "/ui")
            check(BR.wait("!document.getElementById('login').hidden"), "the page asks for a token")
            check(BR.eval("%s === null" % q("lb-gated")), "nothing shown before the token")
            BR.eval("document.getElementById('token').value = 'wrong';"
                    "document.querySelector('#login button').click(), 1")
            check(BR.wait("document.getElementById('login-error').textContent.indexOf("
                          "'refused') >= 0"), "a wrong token is refused")
            BR.eval("document.getElementById('token').value = 'ui-token-1';"
                    "document.querySelector('#login button').click(), 1")
            check(BR.wait(shown("lb-gated")), "the right token shows the data")
            shot("test_ui_token.png")
            BR.navigate("about:blank")
    finally:
        os.unlink(creds.name)


def kill_tasks():
    try:
        for st in ("RUNNING", "STOPPED"):
            arns = ECS.list_tasks(serviceName="web", desiredStatus=st)["taskArns"]
            for t in ECS.describe_tasks(tasks=arns)["tasks"] if arns else []:
                rid = t["containers"][0].get("runtimeId", "")
                if rid.startswith("process:"):
                    try:
                        os.killpg(int(rid.split(":")[1]), signal.SIGKILL)
                    except OSError:
                        pass
    except Exception:  # noqa: BLE001
        pass


def main():
    global BR
    try:
        setup()
        BR = Browser()
        BR.open_page()
        for fn in (test_renders_what_was_created, test_follows_deregistration,
                   test_follows_a_rollout, test_ecs_gauges, test_read_only,
                   test_asks_for_the_token):
            run_case(fn)
    finally:
        if BR:
            BR.close()
        if ECS:
            try:
                ECS.update_service(service="web", desiredCount=0)
                ECS.delete_service(service="web", force=True)
            except Exception:  # noqa: BLE001
                pass
            kill_tasks()
        for b in (B1, B2):
            if b:
                b.stop()
        if S:
            S.cleanup()
    report()


if __name__ == "__main__":
    main()
