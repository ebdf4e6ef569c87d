"""The host as the container instance of every cluster, on the process
runtime: ListContainerInstances and DescribeContainerInstances show it with
its registered and remaining CPU and memory and its task counts; a task that
does not fit is not placed (RESOURCE:MEMORY); StartTask places on it;
UpdateContainerInstancesState DRAINING stops a service's tasks within
minimumHealthyPercent, refuses new placements and keeps standalone tasks,
and ACTIVE brings the service back; custom attributes; DeleteCluster does
not count the instance."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from botocore.exceptions import ClientError  # noqa: E402

from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402

SLEEPER = ["/usr/bin/python3", "-c", "import time; time.sleep(600)"]
S = ECS = None


def container(**kw):
    c = {"name": "main", "image": "local/app:1", "essential": True, "entryPoint": SLEEPER,
         "memory": 128, "cpu": 256, "stopTimeout": 2}
    c.update(kw)
    return c


def wait_for(fn, timeout=20, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def instance(cluster="work"):
    arn = ECS.list_container_instances(cluster=cluster)["containerInstanceArns"][0]
    return ECS.describe_container_instances(cluster=cluster, containerInstances=[arn])[
        "containerInstances"][0]


def resource(ci, which, name):
    return [r["integerValue"] for r in ci[which] if r["name"] == name][0]


def running(service):
    return ECS.list_tasks(cluster="work", serviceName=service)["taskArns"]


def test_instance_and_placement():
    arns = ECS.list_container_instances(cluster="work")["containerInstanceArns"]
    check_eq(len(arns), 1, "one container instance")
    check(arns[0].startswith("arn:aws:ecs:us-east-1:000000000000:container-instance/work/"),
          "instance arn %s" % arns[0])
    ci = instance()
    cpu, mem = resource(ci, "registeredResources", "CPU"), \
        resource(ci, "registeredResources", "MEMORY")
    check_eq(cpu, os.cpu_count() * 1024, "registered CPU: 1024 units a processor")
    phys = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    check_eq(mem, phys, "registered memory: the host's, in MiB")
    check_eq((ci["status"], ci["agentConnected"], ci["runningTasksCount"]), ("ACTIVE", True, 0),
             "ACTIVE, no tasks")
    check({"name": "ecs.os-type", "value": "linux"} in ci["attributes"], "built-in attributes")
    check_eq(ECS.describe_clusters(clusters=["work"])["clusters"][0][
        "registeredContainerInstancesCount"], 1, "the cluster counts it")

    ECS.register_task_definition(family="job", containerDefinitions=[container()])
    t = ECS.run_task(cluster="work", taskDefinition="job")["tasks"][0]
    check_eq(t["containerInstanceArn"], arns[0], "an EC2 task shows its instance")
    wait_for(lambda: instance()["runningTasksCount"] == 1)
    ci = instance()
    check_eq(ci["runningTasksCount"], 1, "running count")
    check_eq(resource(ci, "remainingResources", "CPU"), cpu - 256, "remaining CPU")
    check_eq(resource(ci, "remainingResources", "MEMORY"), mem - 128, "remaining memory")
    check_eq(ECS.list_tasks(cluster="work", containerInstance=arns[0])["taskArns"],
             [t["taskArn"]], "ListTasks by container instance")

    # A task that cannot fit is not placed, as on ECS.
    ECS.register_task_definition(family="huge", containerDefinitions=[container(memory=mem)])
    r = ECS.run_task(cluster="work", taskDefinition="huge")
    check_eq(r["tasks"], [], "nothing placed")
    check_eq([f["reason"] for f in r["failures"]], ["RESOURCE:MEMORY"], "why")

    # StartTask places on the instance named; another name is not it.
    st = ECS.start_task(cluster="work", taskDefinition="job", containerInstances=[arns[0]],
                        startedBy="start")["tasks"]
    check_eq((len(st), st[0]["startedBy"], st[0]["containerInstanceArn"]), (1, "start", arns[0]),
             "StartTask placed")
    try:
        ECS.start_task(cluster="work", taskDefinition="job", containerInstances=["nope"])
        check(False, "StartTask on an unknown instance")
    except ClientError as e:
        check_eq(e.response["Error"]["Code"], "InvalidParameterException", "unknown instance")
    for x in (t, st[0]):
        ECS.stop_task(cluster="work", task=x["taskArn"])


def test_draining():
    ECS.register_task_definition(family="web", containerDefinitions=[container()])
    ECS.create_service(cluster="work", serviceName="web", taskDefinition="web", desiredCount=2,
                       deploymentConfiguration={"maximumPercent": 200,
                                                "minimumHealthyPercent": 50})
    check(wait_for(lambda: len(running("web")) == 2 and
                   ECS.describe_services(cluster="work", services=["web"])["services"][0][
                       "runningCount"] == 2, 30), "service at 2")
    solo = ECS.run_task(cluster="work", taskDefinition="job")["tasks"][0]["taskArn"]
    arn = instance()["containerInstanceArn"]
    r = ECS.update_container_instances_state(cluster="work", containerInstances=[arn],
                                             status="DRAINING")
    check_eq(r["containerInstances"][0]["status"], "DRAINING", "DRAINING")
    check_eq(ECS.list_container_instances(cluster="work", status="DRAINING")[
        "containerInstanceArns"], [arn], "listed as DRAINING")
    # Within minimumHealthyPercent 50: one of the two goes, the other stays;
    # its replacement cannot be placed.
    check(wait_for(lambda: len(running("web")) == 1, 30), "one service task stopped")
    time.sleep(1.5)
    check_eq(len(running("web")), 1, "the other one stays")
    events = [e["message"] for e in ECS.describe_services(cluster="work", services=["web"])[
        "services"][0]["events"]]
    check(any("unable to place a task" in m and "DRAINING" in m for m in events),
          "placement event: %r" % events[:4])
    check(solo in ECS.list_tasks(cluster="work")["taskArns"], "standalone task kept")
    r = ECS.run_task(cluster="work", taskDefinition="job")
    check_eq((r["tasks"], [f["reason"] for f in r["failures"]]), ([], ["DRAINING"]),
             "RunTask refused on a DRAINING instance")
    ECS.update_container_instances_state(cluster="work", containerInstances=[arn],
                                         status="ACTIVE")
    check(wait_for(lambda: len(running("web")) == 2, 30), "back to 2 once ACTIVE")
    try:
        ECS.update_container_instances_state(cluster="work", containerInstances=[arn],
                                             status="REGISTERING")
        check(False, "only ACTIVE and DRAINING can be set")
    except ClientError as e:
        check_eq(e.response["Error"]["Code"], "InvalidParameterException", "REGISTERING")
    ECS.update_service(cluster="work", service="web", desiredCount=0)
    ECS.delete_service(cluster="work", service="web")
    ECS.stop_task(cluster="work", task=solo)


def test_attributes_and_delete():
    arn = instance()["containerInstanceArn"]
    ECS.put_attributes(cluster="work", attributes=[
        {"name": "stack", "value": "blue", "targetType": "container-instance", "targetId": arn}])
    attrs = ECS.list_attributes(cluster="work", targetType="container-instance")["attributes"]
    check({"name": "stack", "value": "blue", "targetType": "container-instance",
           "targetId": arn} in attrs, "custom attribute listed")
    check(any(a["name"] == "ecs.cpu-architecture" for a in attrs), "built-ins listed")
    check_eq(ECS.list_attributes(cluster="work", targetType="container-instance",
                                 attributeName="stack", attributeValue="green")["attributes"],
             [], "value filter")
    check({"name": "stack", "value": "blue"} in instance()["attributes"], "on the instance")
    for bad, code in (({"name": "ecs.os-type", "value": "x"}, "InvalidParameterException"),
                      ({"name": "a", "value": "b", "targetId": "nope"},
                       "TargetNotFoundException")):
        try:
            ECS.put_attributes(cluster="work", attributes=[bad])
            check(False, "attribute %r should be refused" % bad)
        except ClientError as e:
            check_eq(e.response["Error"]["Code"], code, "attribute %r" % bad)
    ECS.delete_attributes(cluster="work", attributes=[{"name": "stack", "targetId": arn}])
    check(not any(a["name"] == "stack" for a in ECS.list_attributes(
        cluster="work", targetType="container-instance")["attributes"]), "deleted")
    # Its tasks gone, the cluster deletes: the instance does not hold it.
    check(wait_for(lambda: ECS.list_tasks(cluster="work")["taskArns"] == [], 30),
          "no task left")
    check(wait_for(lambda: ECS.describe_services(cluster="work", services=["web"])[
        "services"][0]["status"] == "INACTIVE", 30), "service INACTIVE")
    check_eq(ECS.delete_cluster(cluster="work")["cluster"]["status"], "INACTIVE",
             "DeleteCluster with the host instance")


def kill_leftovers():
    try:
        for cl in ECS.list_clusters()["clusterArns"]:
            for st in ("RUNNING", "STOPPED"):
                arns = ECS.list_tasks(cluster=cl, desiredStatus=st)["taskArns"]
                for t in ECS.describe_tasks(cluster=cl, tasks=arns)["tasks"] if arns else []:
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
    global S, ECS
    S = Sluiced()
    S.start()
    try:
        ECS = S.boto3("ecs")
        ECS.create_cluster(clusterName="work")
        for fn in (test_instance_and_placement, test_draining, test_attributes_and_delete):
            run_case(fn)
    finally:
        kill_leftovers()
        S.cleanup()
    report()


if __name__ == "__main__":
    main()
