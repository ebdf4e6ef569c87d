"""ECS configuration calls the Terraform AWS provider and the SDKs make, on the
API alone (--runtime none): capacity providers and strategies (kept, shown,
placed by), cluster updates, account settings, DeleteTaskDefinitions, the
service deployments and revisions behind wait_for_steady_state (statuses,
filters, a deployment replaced before it completed), RunTask's clientToken,
managed and propagated tags, DAEMON services, and settings and members sluice
cannot honour refused in words that say so."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from botocore.exceptions import ClientError  # noqa: E402

from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402

ACCT = "arn:aws:ecs:us-east-1:000000000000"
S = ECS = None


def expect(code, fn, *a, **kw):
    """The call fails with <code>; returns its message."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        check_eq(e.response["Error"]["Code"], code, "%s code" % fn.__name__)
        return e.response["Error"]["Message"]
    check(False, "%s should fail with %s" % (fn.__name__, code))
    return ""


def raw(op, **body):
    """<op> as JSON 1.1, for the operations Debian's botocore (1.29) lacks;
    the parsed answer, or ClientError-like AssertionError text."""
    st, _, b = S.http("POST", "/", raw=json.dumps(body, default=str).encode(), headers={
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + op,
        "Content-Type": "application/x-amz-json-1.1"})
    if st != 200:
        raise RawError(b.get("__type"), b.get("message"))
    return b


class RawError(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code, self.message = code, message


def raw_expect(code, op, **body):
    try:
        raw(op, **body)
    except RawError as e:
        check_eq(e.code, code, "%s code" % op)
        return e.message
    check(False, "%s should fail with %s" % (op, code))
    return ""


def register(family, **kw):
    c = {"name": "app", "image": "local/app:1", "essential": True, "memory": 64,
         "portMappings": [{"containerPort": 8080}]}
    return ECS.register_task_definition(family=family, containerDefinitions=[c], **kw)[
        "taskDefinition"]["taskDefinitionArn"]


def test_capacity_providers():
    cps = ECS.describe_capacity_providers()["capacityProviders"]
    check_eq(sorted(c["name"] for c in cps), ["FARGATE", "FARGATE_SPOT"], "the providers")
    check_eq(cps[0]["capacityProviderArn"], ACCT + ":capacity-provider/FARGATE", "arn")
    r = ECS.describe_capacity_providers(capacityProviders=["FARGATE_SPOT", "mine"])
    check_eq(([c["name"] for c in r["capacityProviders"]], r["failures"][0]["reason"]),
             (["FARGATE_SPOT"], "MISSING"), "unknown provider MISSING")
    expect("UnknownOperationException", ECS.create_capacity_provider, name="asg",
           autoScalingGroupProvider={"autoScalingGroupArn": "arn:aws:autoscaling:x"})
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
    cl = ECS.create_cluster(clusterName="cap", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                            defaultCapacityProviderStrategy=strategy)["cluster"]
    check_eq(cl["capacityProviders"], ["FARGATE", "FARGATE_SPOT"], "cluster providers")
    check_eq(cl["defaultCapacityProviderStrategy"][1],
             {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}, "shown as ECS does")
    expect("InvalidParameterException", ECS.create_cluster, clusterName="bad",
           capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[
               {"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    td = register("cap", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
                  memory="512")
    # No launch type: the cluster's default strategy, as on ECS.
    svc = ECS.create_service(cluster="cap", serviceName="s", taskDefinition=td,
                             desiredCount=0)["service"]
    check_eq((svc.get("launchType"), svc["capacityProviderStrategy"]),
             (None, cl["defaultCapacityProviderStrategy"]), "default strategy applied")
    check_eq(svc["deployments"][0]["capacityProviderStrategy"], svc["capacityProviderStrategy"],
             "deployment shows it")
    tasks = ECS.run_task(cluster="cap", taskDefinition=td, count=4)["tasks"]
    check_eq([t["capacityProviderName"] for t in tasks],
             ["FARGATE", "FARGATE", "FARGATE_SPOT", "FARGATE_SPOT"],
             "the base first, then 1:3 by weight")
    check_eq({t["launchType"] for t in tasks}, {"FARGATE"}, "Fargate tasks")
    check("containerInstanceArn" not in tasks[0], "Fargate tasks show no instance")
    expect("InvalidParameterException", ECS.run_task, cluster="cap", taskDefinition=td,
           launchType="FARGATE", capacityProviderStrategy=[{"capacityProvider": "FARGATE"}])
    # A provider a service uses cannot leave the cluster.
    msg = expect("ResourceInUseException", ECS.put_cluster_capacity_providers, cluster="cap",
                 capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[
                     {"capacityProvider": "FARGATE", "weight": 1}])
    check("FARGATE_SPOT" in msg, "names the provider: %s" % msg)
    ECS.update_service(cluster="cap", service="s", capacityProviderStrategy=[
        {"capacityProvider": "FARGATE", "weight": 1}])
    cl = ECS.put_cluster_capacity_providers(cluster="cap", capacityProviders=["FARGATE"],
                                            defaultCapacityProviderStrategy=[
                                                {"capacityProvider": "FARGATE", "weight": 1}])[
        "cluster"]
    check_eq(cl["capacityProviders"], ["FARGATE"], "providers put")
    for t in tasks:
        ECS.stop_task(cluster="cap", task=t["taskArn"])


def test_cluster_updates():
    ECS.create_cluster(clusterName="upd")
    cl = ECS.update_cluster(cluster="upd", serviceConnectDefaults={"namespace": "ns-1"})[
        "cluster"]
    check_eq(cl["serviceConnectDefaults"], {"namespace": "ns-1"}, "serviceConnectDefaults")
    cl = ECS.update_cluster_settings(cluster="upd", settings=[
        {"name": "containerInsights", "value": "disabled"}])["cluster"]
    check_eq(cl["settings"], [{"name": "containerInsights", "value": "disabled"}], "settings")
    for value in ("enabled", "enhanced"):
        msg = expect("InvalidParameterException", ECS.update_cluster_settings, cluster="upd",
                     settings=[{"name": "containerInsights", "value": value}])
        check("not supported by sluice" in msg, "why: %s" % msg)
    msg = expect("InvalidParameterException", ECS.update_cluster, cluster="upd",
                 configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}})
    check("configuration is not supported by sluice" in msg, "configuration refused: %s" % msg)
    expect("ClusterNotFoundException", ECS.update_cluster, cluster="ghost",
           serviceConnectDefaults={"namespace": "ns"})


def test_account_settings():
    s = ECS.put_account_setting(name="serviceLongArnFormat", value="enabled")["setting"]
    check_eq((s["name"], s["value"], s["principalArn"]),
             ("serviceLongArnFormat", "enabled", "arn:aws:iam::000000000000:root"), "put")
    msg = expect("InvalidParameterException", ECS.put_account_setting,
                 name="serviceLongArnFormat", value="disabled")
    check("not supported by sluice" in msg, "short ARNs refused: %s" % msg)
    expect("InvalidParameterException", ECS.put_account_setting_default, name="awsvpcTrunking",
           value="enabled")
    ECS.put_account_setting_default(name="fargateTaskRetirementWaitPeriod", value="14")
    expect("InvalidParameterException", ECS.put_account_setting, name="nope", value="x")
    got = {x["name"]: x["value"] for x in ECS.list_account_settings()["settings"]}
    check_eq(got, {"serviceLongArnFormat": "enabled", "fargateTaskRetirementWaitPeriod": "14"},
             "the ones set")
    eff = {x["name"]: x["value"] for x in ECS.list_account_settings(
        effectiveSettings=True)["settings"]}
    check_eq((eff["containerInsights"], eff["taskLongArnFormat"], len(eff) >= 10),
             ("disabled", "enabled", True), "effective settings")
    ECS.delete_account_setting(name="fargateTaskRetirementWaitPeriod")
    check_eq([x["name"] for x in ECS.list_account_settings()["settings"]],
             ["serviceLongArnFormat"], "deleted")


def test_delete_task_definitions():
    a = register("del")
    b = register("del")
    ECS.deregister_task_definition(taskDefinition=b)
    r = raw("DeleteTaskDefinitions", taskDefinitions=[a, b, "del", "del:9"])
    check_eq([t["taskDefinitionArn"] for t in r["taskDefinitions"]], [b], "deleted")
    check_eq(r["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS", "status")
    check_eq([f["arn"] for f in r["failures"]], [a, "del", "del:9"], "failures")
    check("still in ACTIVE status" in r["failures"][0]["reason"], "ACTIVE refused")
    expect("ClientException", ECS.describe_task_definition, taskDefinition=b)


def deployments(svc, **kw):
    return raw("ListServiceDeployments", cluster="dep", service=svc, **kw)["serviceDeployments"]


def test_service_deployments():
    ECS.create_cluster(clusterName="dep")
    td1, td2 = register("dep"), register("dep")
    t0 = time.time()
    svc = ECS.create_service(cluster="dep", serviceName="web", taskDefinition=td1,
                             desiredCount=0)["service"]
    number = svc["deployments"][0]["id"].split("/")[1]
    (d1,) = deployments("web")
    check(number in d1["targetServiceRevisionArn"], "revision ARN holds the deployment number")
    check_eq(d1["targetServiceRevisionArn"],
             ACCT + ":service-revision/dep/web/" + number, "revision ARN")
    check_eq(d1["status"], "SUCCESSFUL", "nothing to start: SUCCESSFUL")
    rev = raw("DescribeServiceRevisions", serviceRevisionArns=[d1["targetServiceRevisionArn"]])[
        "serviceRevisions"][0]
    check_eq((rev["taskDefinition"], rev["launchType"]), (td1, "EC2"), "revision")
    # Desired 2 with no runtime: the deployment stays IN_PROGRESS; a newer one
    # replaces it before it completes: STOPPED.
    ECS.update_service(cluster="dep", service="web", desiredCount=2, taskDefinition=td2)
    check_eq(len(deployments("web")), 2, "one more deployment")
    ECS.update_service(cluster="dep", service="web", forceNewDeployment=True)
    ds = deployments("web")
    check_eq([d["status"] for d in ds], ["IN_PROGRESS", "STOPPED", "SUCCESSFUL"],
             "newest first: running, replaced, done")
    full = raw("DescribeServiceDeployments", serviceDeploymentArns=[
        ds[0]["serviceDeploymentArn"], ds[1]["serviceDeploymentArn"], ACCT +
        ":service-deployment/dep/web/1"])
    check_eq(full["failures"][0]["reason"], "MISSING", "unknown deployment MISSING")
    now, stopped = full["serviceDeployments"]
    check_eq(now["targetServiceRevision"]["requestedTaskCount"], 2, "requested count")
    check(len(now["sourceServiceRevisions"]) == 2, "source revisions: the ones it replaces")
    check("A newer service deployment replaced it" in stopped.get("statusReason", ""),
          "why stopped: %r" % stopped.get("statusReason"))
    check_eq([d["status"] for d in deployments(ACCT + ":service/dep/web",
                                               status=["SUCCESSFUL"])],
             ["SUCCESSFUL"], "status filter, service by ARN")
    check_eq(deployments("web", createdAt={"after": t0 + 3600}), [], "createdAt after")
    check_eq(len(deployments("web", createdAt={"after": t0 - 60})), 3, "createdAt after, all")
    raw_expect("ServiceNotFoundException", "ListServiceDeployments", cluster="dep",
               service="ghost")
    raw_expect("ClusterNotFoundException", "ListServiceDeployments", cluster="ghost",
               service="web")


def test_tasks_and_tags():
    ECS.create_cluster(clusterName="tags")
    td = register("tagged", tags=[{"key": "from", "value": "td"}])
    a = raw("RunTask", cluster="tags", taskDefinition=td, clientToken="tok-1",
            enableECSManagedTags=True, propagateTags="TASK_DEFINITION")["tasks"][0]
    b = raw("RunTask", cluster="tags", taskDefinition=td, clientToken="tok-1")["tasks"][0]
    check_eq(a["taskArn"], b["taskArn"], "clientToken: the same tasks answer a retry")
    tags = ECS.describe_tasks(cluster="tags", tasks=[a["taskArn"]], include=["TAGS"])[
        "tasks"][0]["tags"]
    check({"key": "aws:ecs:clusterName", "value": "tags"} in tags, "managed tag: %r" % tags)
    check({"key": "from", "value": "td"} in tags, "propagated from the task definition")
    msg = expect("InvalidParameterException", ECS.run_task, cluster="tags", taskDefinition=td,
                 enableExecuteCommand=True)
    check("not supported by sluice" in msg, "ExecuteCommand refused: %s" % msg)
    msg = expect("InvalidParameterException", ECS.create_service, cluster="tags",
                 serviceName="x", taskDefinition=td,
                 serviceRegistries=[{"registryArn": "arn:aws:servicediscovery:x"}])
    check("serviceRegistries is not supported by sluice" in msg, "member refused: %s" % msg)
    # DAEMON: one task on the one container instance.
    d = ECS.create_service(cluster="tags", serviceName="d", taskDefinition=td,
                           schedulingStrategy="DAEMON")["service"]
    check_eq((d["desiredCount"], d["deploymentConfiguration"]["maximumPercent"],
              d["deploymentConfiguration"]["minimumHealthyPercent"]), (1, 100, 0), "daemon")
    expect("InvalidParameterException", ECS.update_service, cluster="tags", service="d",
           desiredCount=3)
    expect("InvalidParameterException", ECS.create_service, cluster="tags", serviceName="d2",
           taskDefinition=td, schedulingStrategy="DAEMON", desiredCount=2)
    ECS.stop_task(cluster="tags", task=a["taskArn"])


def main():
    global S, ECS
    with Sluiced(extra_args=["--runtime", "none"]) as S:
        ECS = S.boto3("ecs")
        for fn in (test_capacity_providers, test_cluster_updates, test_account_settings,
                   test_delete_task_definitions, test_service_deployments, test_tasks_and_tags):
            run_case(fn)
    report()


if __name__ == "__main__":
    main()
