"""ECS JSON 1.1 API through the AWS CLI v2 and boto3: task definitions,
clusters (the default one exists once created, as on ECS), services, tasks
and tags; every error code, failures[] for missing resources, `aws ecs wait
services-stable`, and that a failed call changes nothing."""
import time

from botocore.exceptions import ClientError

from sluice_harness import Sluiced, check, check_eq, report, run_case

# The API alone: no task runtime or scheduler acting on what these tests
# create (tests/integration/test_ecs_service.py covers those).
API_ONLY = ["--runtime", "none"]

TARGET = "AmazonEC2ContainerServiceV20141113."
ACCT = "arn:aws:ecs:us-east-1:000000000000"


def expect(code, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        check_eq(e.response["Error"]["Code"], code, "%s error code" % fn.__name__)
        check_eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 400, "%s status" % code)
        return e
    check(False, "%s should fail with %s" % (fn.__name__, code))
    return None


def container(name="web", port=8080, **kw):
    c = {"name": name, "image": "local/web:1", "cpu": 128, "memory": 256, "essential": True,
         "portMappings": [{"containerPort": port, "hostPort": 0, "protocol": "tcp"}],
         "environment": [{"name": "MODE", "value": "test"}],
         "command": ["--port", "8080"], "entryPoint": ["/usr/bin/python3", "-m", "http.server"],
         "workingDirectory": "/tmp",
         "healthCheck": {"command": ["CMD", "true"], "interval": 5, "retries": 2},
         "stopTimeout": 5}
    c.update(kw)
    return c


def ecs_state(c, cluster="default"):
    """Everything a failed call must leave untouched."""
    svcs = c.list_services(cluster=cluster)["serviceArns"]
    return (sorted(c.list_clusters()["clusterArns"]),
            c.list_task_definitions(status="ACTIVE")["taskDefinitionArns"],
            c.list_task_definitions(status="INACTIVE")["taskDefinitionArns"],
            c.describe_services(cluster=cluster, services=svcs)["services"] if svcs else [],
            sorted(c.list_tasks(cluster=cluster)["taskArns"]),
            sorted(c.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]))


def make_tg(s, name="tg-web", port=8080):
    elb = s.boto3("elbv2")
    return elb.create_target_group(Name=name, Protocol="HTTP", Port=port, VpcId="vpc-1",
                                   TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]


def test_task_definitions():
    with Sluiced(extra_args=API_ONLY) as s:
        c = s.boto3("ecs")
        c.create_cluster()
        r = c.register_task_definition(family="web", containerDefinitions=[container()],
                                       networkMode="bridge", cpu="256", memory="512",
                                       requiresCompatibilities=["EC2"],
                                       tags=[{"key": "team", "value": "a"}])
        td = r["taskDefinition"]
        check_eq(td["taskDefinitionArn"], ACCT + ":task-definition/web:1", "td arn")
        check_eq((td["revision"], td["status"], td["family"]), (1, "ACTIVE", "web"), "td fields")
        cd = td["containerDefinitions"][0]
        check_eq(cd["portMappings"], [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
                 "port mapping")
        check_eq(cd["healthCheck"]["timeout"], 5, "healthCheck default timeout")
        check_eq(cd["entryPoint"][0], "/usr/bin/python3", "entryPoint kept")
        check_eq(r["tags"], [{"key": "team", "value": "a"}], "tags in register response")
        check(abs(td["registeredAt"].timestamp() - time.time()) < 60, "registeredAt epoch")

        # CLI: second revision, then describe forms
        rc, out, _ = s.aws("ecs", "register-task-definition", "--family", "web",
                           "--container-definitions",
                           '[{"name":"web","image":"local/web:2","memory":128,'
                           '"portMappings":[{"containerPort":8080}]}]')
        check_eq(out["taskDefinition"]["revision"], 2, "cli revision 2")
        check_eq(c.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"],
                 2, "bare family = latest")
        check_eq(c.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["revision"],
                 1, "family:rev")
        d = c.describe_task_definition(taskDefinition=ACCT + ":task-definition/web:1",
                                       include=["TAGS"])
        check_eq(d["tags"], [{"key": "team", "value": "a"}], "include TAGS")
        check("tags" not in c.describe_task_definition(taskDefinition="web:1"), "no tags default")

        c.register_task_definition(family="api", containerDefinitions=[container("api", 9000)])
        check_eq(c.list_task_definition_families()["families"], ["api", "web"], "families")
        check_eq(c.list_task_definition_families(familyPrefix="w")["families"], ["web"],
                 "familyPrefix")
        arns = c.list_task_definitions()["taskDefinitionArns"]
        check_eq(arns, [ACCT + ":task-definition/api:1", ACCT + ":task-definition/web:1",
                        ACCT + ":task-definition/web:2"], "list ASC")
        check_eq(c.list_task_definitions(sort="DESC", familyPrefix="web")["taskDefinitionArns"],
                 [ACCT + ":task-definition/web:2", ACCT + ":task-definition/web:1"], "list DESC")
        p1 = c.list_task_definitions(maxResults=2)
        check_eq(len(p1["taskDefinitionArns"]), 2, "page 1")
        p2 = c.list_task_definitions(maxResults=2, nextToken=p1["nextToken"])
        check_eq(p2["taskDefinitionArns"], arns[2:], "page 2")
        check("nextToken" not in p2, "last page has no token")
        rc, out, _ = s.aws("ecs", "list-task-definitions")  # CLI paginates itself
        check_eq(out["taskDefinitionArns"], arns, "cli list")

        # Deregister: INACTIVE, still describable, bare family falls back
        dr = c.deregister_task_definition(taskDefinition="web:2")["taskDefinition"]
        check_eq(dr["status"], "INACTIVE", "deregistered")
        check("deregisteredAt" in dr, "deregisteredAt")
        check_eq(c.describe_task_definition(taskDefinition="web:2")["taskDefinition"]["status"],
                 "INACTIVE", "inactive describable")
        check_eq(c.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"],
                 1, "latest ACTIVE")
        check_eq(c.list_task_definitions(status="INACTIVE")["taskDefinitionArns"],
                 [ACCT + ":task-definition/web:2"], "list INACTIVE")
        c.deregister_task_definition(taskDefinition="api:1")
        check_eq(c.list_task_definition_families(status="INACTIVE")["families"], ["api"],
                 "inactive family")
        check_eq(c.list_task_definition_families(status="ALL")["families"], ["api", "web"],
                 "ALL families")

        before = ecs_state(c)
        expect("ClientException", c.describe_task_definition, taskDefinition="nope")
        expect("ClientException", c.describe_task_definition, taskDefinition="api")
        expect("ClientException", c.deregister_task_definition, taskDefinition="web:9")
        expect("InvalidParameterException", c.deregister_task_definition, taskDefinition="web")
        bad = [
            dict(family="bad name", containerDefinitions=[container()]),
            dict(family="x", containerDefinitions=[]),
            dict(family="x", containerDefinitions=[container(), container()]),
            dict(family="x", containerDefinitions=[container(image="")]),
            dict(family="x", containerDefinitions=[container(essential=False)]),
            dict(family="x", networkMode="awsvpc", containerDefinitions=[container(
                portMappings=[{"containerPort": 80, "hostPort": 81}])]),
        ]
        for kw in bad:
            expect("ClientException", c.register_task_definition, **kw)
        for pm in ({"containerPort": 0}, {"containerPort": 65536},
                   {"containerPort": 80, "hostPort": 65536}):
            expect("InvalidParameterException", c.register_task_definition, family="x",
                   containerDefinitions=[container(portMappings=[pm])])
        # protocol is an enum botocore does not check client-side
        expect("InvalidParameterException", c.register_task_definition, family="x",
               containerDefinitions=[container(portMappings=[{"containerPort": 80,
                                                              "protocol": "sctp"}])])
        rc, _, err = s.aws("ecs", "register-task-definition", "--family", "x",
                           "--container-definitions", "[]", check_rc=False)
        check(rc != 0 and "ClientException" in err, "cli empty containers: %s" % err)
        check_eq(ecs_state(c), before, "failed task-definition calls changed nothing")


def test_clusters():
    with Sluiced(extra_args=API_ONLY) as s:
        c = s.boto3("ecs")
        # On a fresh store not even "default" exists, as on ECS.
        check_eq(c.list_clusters()["clusterArns"], [], "no cluster yet")
        check_eq(c.describe_clusters()["failures"],
                 [{"arn": ACCT + ":cluster/default", "reason": "MISSING"}], "default missing")
        expect("ClusterNotFoundException", c.list_services)
        expect("ClusterNotFoundException", c.run_task, taskDefinition="web")
        expect("ClusterNotFoundException", c.create_service, serviceName="s",
               taskDefinition="web")
        rc, out, _ = s.aws("ecs", "create-cluster")
        check_eq(out["cluster"]["clusterArn"], ACCT + ":cluster/default", "create default")
        check_eq(c.list_clusters()["clusterArns"], [ACCT + ":cluster/default"], "default listed")
        d = c.describe_clusters()["clusters"][0]
        check_eq((d["clusterName"], d["status"], d["activeServicesCount"]),
                 ("default", "ACTIVE", 0), "default described")
        rc, out, _ = s.aws("ecs", "create-cluster", "--cluster-name", "prod",
                           "--tags", "key=env,value=prod")
        cl = out["cluster"]
        check_eq(cl["clusterArn"], ACCT + ":cluster/prod", "cluster arn")
        check_eq(cl["status"], "ACTIVE", "cluster active")
        again = c.create_cluster(clusterName="prod")["cluster"]
        check_eq(again["clusterArn"], cl["clusterArn"], "create idempotent")
        r = c.describe_clusters(clusters=["prod", ACCT + ":cluster/ghost", "ghost2"],
                                include=["TAGS"])
        check_eq([x["clusterName"] for x in r["clusters"]], ["prod"], "described")
        check_eq(r["clusters"][0]["tags"], [{"key": "env", "value": "prod"}], "cluster tags")
        check_eq(r["failures"], [{"arn": ACCT + ":cluster/ghost", "reason": "MISSING"},
                                 {"arn": ACCT + ":cluster/ghost2", "reason": "MISSING"}],
                 "failures MISSING")
        check_eq(sorted(c.list_clusters()["clusterArns"]),
                 [ACCT + ":cluster/default", ACCT + ":cluster/prod"], "list")
        rc, out, _ = s.aws("ecs", "describe-clusters", "--clusters", "nope")
        check_eq(out["failures"][0]["reason"], "MISSING", "cli failures")

        before = ecs_state(c)
        expect("InvalidParameterException", c.create_cluster, clusterName="bad name!")
        expect("ClusterNotFoundException", c.delete_cluster, cluster="ghost")
        expect("ClusterNotFoundException", c.list_services, cluster="ghost")
        expect("ClusterNotFoundException", c.list_tasks, cluster="ghost")
        # a cluster with a service or a task cannot be deleted
        c.register_task_definition(family="web", containerDefinitions=[container()])
        c.create_service(cluster="prod", serviceName="svc", taskDefinition="web")
        expect("ClusterContainsServicesException", c.delete_cluster, cluster="prod")
        c.delete_service(cluster="prod", service="svc")
        t = c.run_task(cluster="prod", taskDefinition="web")["tasks"][0]
        check_eq(c.describe_clusters(clusters=["prod"])["clusters"][0]["pendingTasksCount"], 1,
                 "pending count")
        expect("ClusterContainsTasksException", c.delete_cluster, cluster="prod")
        c.stop_task(cluster="prod", task=t["taskArn"])
        gone = c.delete_cluster(cluster=ACCT + ":cluster/prod")["cluster"]
        check_eq(gone["status"], "INACTIVE", "deleted cluster INACTIVE")
        check_eq(c.describe_clusters(clusters=["prod"])["failures"][0]["reason"], "MISSING",
                 "deleted is missing")
        check_eq(ecs_state(c)[0], [ACCT + ":cluster/default"], "only default left")
        # recreated cluster starts empty
        c.create_cluster(clusterName="prod")
        check_eq(c.list_tasks(cluster="prod", desiredStatus="STOPPED")["taskArns"], [],
                 "recreated cluster empty")


def test_services():
    with Sluiced(extra_args=API_ONLY) as s:
        c = s.boto3("ecs")
        c.create_cluster()
        tg = make_tg(s)
        c.register_task_definition(family="web", containerDefinitions=[container()])
        c.register_task_definition(family="web", containerDefinitions=[container()])
        c.register_task_definition(family="old", containerDefinitions=[container()])
        c.deregister_task_definition(taskDefinition="old:1")
        before = ecs_state(c)
        lb = [{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}]
        expect("ClientException", c.create_service, serviceName="a", taskDefinition="nope:1")
        expect("InvalidParameterException", c.create_service, serviceName="a",
               taskDefinition="old:1")
        expect("ClusterNotFoundException", c.create_service, cluster="ghost", serviceName="a",
               taskDefinition="web:1")
        expect("InvalidParameterException", c.create_service, serviceName="a",
               taskDefinition="web:1", loadBalancers=[dict(lb[0], targetGroupArn=tg + "0")])
        expect("InvalidParameterException", c.create_service, serviceName="a",
               taskDefinition="web:1", loadBalancers=[dict(lb[0], containerName="other")])
        expect("InvalidParameterException", c.create_service, serviceName="a",
               taskDefinition="web:1", loadBalancers=[dict(lb[0], containerPort=9999)])
        expect("InvalidParameterException", c.create_service, serviceName="a",
               taskDefinition="web:1", healthCheckGracePeriodSeconds=10)
        check_eq(ecs_state(c), before, "failed CreateService changed nothing")

        svc = c.create_service(serviceName="web", taskDefinition="web:1", desiredCount=2,
                               loadBalancers=lb, healthCheckGracePeriodSeconds=5,
                               deploymentConfiguration={"deploymentCircuitBreaker":
                                                        {"enable": True, "rollback": True}},
                               tags=[{"key": "k", "value": "v"}])["service"]
        check_eq(svc["serviceArn"], ACCT + ":service/default/web", "service arn")
        check_eq(svc["clusterArn"], ACCT + ":cluster/default", "cluster arn")
        check_eq(svc["status"], "ACTIVE", "status")
        check_eq(svc["deploymentConfiguration"],
                 {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                  "maximumPercent": 200, "minimumHealthyPercent": 100}, "deployment config")
        check_eq(len(svc["deployments"]), 1, "one deployment")
        dep = svc["deployments"][0]
        check_eq((dep["status"], dep["rolloutState"], dep["desiredCount"]),
                 ("PRIMARY", "IN_PROGRESS", 2), "primary deployment")
        check(dep["id"].startswith("ecs-svc/") and len(dep["id"]) == 27 and
              dep["id"][8:].isdigit(), "deployment id %s" % dep["id"])
        check_eq(svc["events"], [], "no events")
        check_eq(svc["loadBalancers"], lb, "loadBalancers")
        expect("InvalidParameterException", c.create_service, serviceName="web",
               taskDefinition="web:1")

        # desiredCount 0 service: COMPLETED, services-stable returns promptly
        rc, out, _ = s.aws("ecs", "create-service", "--service-name", "idle",
                           "--task-definition", "web", "--desired-count", "0")
        check_eq(out["service"]["deployments"][0]["rolloutState"], "COMPLETED", "idle COMPLETED")
        check_eq(out["service"]["taskDefinition"], ACCT + ":task-definition/web:2",
                 "bare family -> latest")
        t0 = time.time()
        rc, _, err = s.aws("ecs", "wait", "services-stable", "--services", "idle",
                           check_rc=False)
        check_eq(rc, 0, "services-stable rc (%s)" % err)
        check(time.time() - t0 < 10, "services-stable prompt")
        rc, _, _ = s.aws("ecs", "wait", "services-stable", "--services", "ghost",
                         check_rc=False)
        check(rc != 0, "services-stable fails on MISSING")

        r = c.describe_services(services=["web", ACCT + ":service/default/idle", "ghost"],
                                include=["TAGS"])
        check_eq([x["serviceName"] for x in r["services"]], ["web", "idle"], "describe")
        check_eq(r["services"][0]["tags"], [{"key": "k", "value": "v"}], "service tags")
        check_eq(r["failures"], [{"arn": ACCT + ":service/default/ghost", "reason": "MISSING"}],
                 "service failures")
        expect("InvalidParameterException", c.describe_services, services=["s%d" % i
                                                                           for i in range(11)])
        expect("ClusterNotFoundException", c.describe_services, cluster="ghost",
               services=["web"])
        check_eq(sorted(c.list_services()["serviceArns"]),
                 [ACCT + ":service/default/idle", ACCT + ":service/default/web"], "list")
        check_eq(len(c.list_services(maxResults=1)["serviceArns"]), 1, "list page")

        # UpdateService
        before = ecs_state(c)
        expect("ServiceNotFoundException", c.update_service, service="ghost", desiredCount=1)
        expect("ClusterNotFoundException", c.update_service, cluster="ghost", service="web")
        expect("ClientException", c.update_service, service="web", taskDefinition="nope:3")
        expect("InvalidParameterException", c.update_service, service="web",
               taskDefinition="old:1")
        expect("InvalidParameterException", c.update_service, service="web",
               loadBalancers=[dict(lb[0], containerPort=1)])
        check_eq(ecs_state(c), before, "failed UpdateService changed nothing")
        u = c.update_service(service="web", desiredCount=3)["service"]
        check_eq((u["desiredCount"], len(u["deployments"]), u["deployments"][0]["desiredCount"]),
                 (3, 1, 3), "scale")
        u = c.update_service(service="web", taskDefinition="web:2",
                             deploymentConfiguration={"maximumPercent": 150})["service"]
        deps = u["deployments"]
        check_eq([d["status"] for d in deps], ["PRIMARY", "ACTIVE"], "new primary + active")
        check_eq(deps[0]["taskDefinition"], ACCT + ":task-definition/web:2", "primary td")
        check_eq(deps[1]["id"], dep["id"], "old deployment kept")
        check_eq(u["deploymentConfiguration"]["maximumPercent"], 150, "max percent")
        check_eq(u["deploymentConfiguration"]["minimumHealthyPercent"], 100, "min kept")
        rc, out, _ = s.aws("ecs", "update-service", "--service", "idle",
                           "--force-new-deployment")
        check_eq(len(out["service"]["deployments"]), 2, "force new deployment")

        # DeleteService
        expect("InvalidParameterException", c.delete_service, service="web")
        check_eq(c.describe_services(services=["web"])["services"][0]["status"], "ACTIVE",
                 "refused delete changed nothing")
        gone = c.delete_service(service="web", force=True)["service"]
        check_eq((gone["status"], gone["desiredCount"]), ("INACTIVE", 0),
                 "no tasks -> INACTIVE at once")
        expect("ServiceNotActiveException", c.update_service, service="web", desiredCount=1)
        expect("ServiceNotActiveException", c.delete_service, service="web")
        expect("ServiceNotFoundException", c.delete_service, service="ghost")
        rc, _, err = s.aws("ecs", "wait", "services-inactive", "--services", "web",
                           check_rc=False)
        check_eq(rc, 0, "services-inactive (%s)" % err)
        check_eq(c.list_services()["serviceArns"], [ACCT + ":service/default/idle"],
                 "inactive not listed")
        # a service with a live task drains
        c.run_task(taskDefinition="web:2", group="service:idle")
        check_eq(c.delete_service(service="idle")["service"]["status"], "DRAINING", "DRAINING")
        expect("ClusterContainsServicesException", c.delete_cluster, cluster="default")
        # the name is free again once INACTIVE
        again = c.create_service(serviceName="web", taskDefinition="web:2")["service"]
        check_eq(again["status"], "ACTIVE", "recreate after INACTIVE")


def test_tasks():
    with Sluiced(extra_args=API_ONLY) as s:
        c = s.boto3("ecs")
        c.create_cluster()
        c.register_task_definition(family="job", containerDefinitions=[
            container("main"), container("side", 9000, essential=False)])
        c.register_task_definition(family="vpc", networkMode="awsvpc",
                                   containerDefinitions=[container()])
        before = ecs_state(c)
        expect("ClientException", c.run_task, taskDefinition="nope")
        expect("ClusterNotFoundException", c.run_task, cluster="ghost", taskDefinition="job")
        expect("InvalidParameterException", c.stop_task, task="0" * 32)
        expect("ClusterNotFoundException", c.stop_task, cluster="ghost", task="0" * 32)
        expect("ClusterNotFoundException", c.describe_tasks, cluster="ghost", tasks=["x"])
        check_eq(ecs_state(c), before, "failed task calls changed nothing")

        r = c.run_task(taskDefinition="job", count=2, startedBy="ci",
                       tags=[{"key": "a", "value": "b"}])
        check_eq(r["failures"], [], "no failures")
        tasks = r["tasks"]
        check_eq(len(tasks), 2, "two tasks")
        t = tasks[0]
        check(t["taskArn"].startswith(ACCT + ":task/default/") and
              len(t["taskArn"].rsplit("/", 1)[1]) == 32, "task arn %s" % t["taskArn"])
        check_eq((t["lastStatus"], t["desiredStatus"], t["group"], t["startedBy"]),
                 ("PENDING", "RUNNING", "family:job", "ci"), "task fields")
        check_eq(t["taskDefinitionArn"], ACCT + ":task-definition/job:1", "task td")
        check_eq([(x["name"], x["lastStatus"]) for x in t["containers"]],
                 [("main", "PENDING"), ("side", "PENDING")], "containers")
        check(abs(t["createdAt"].timestamp() - time.time()) < 60, "createdAt")
        v = c.run_task(taskDefinition="vpc", group="batch")["tasks"][0]
        check_eq((v["lastStatus"], v["group"]), ("PROVISIONING", "batch"), "awsvpc provisioning")

        all_arns = sorted(x["taskArn"] for x in tasks + [v])
        check_eq(sorted(c.list_tasks()["taskArns"]), all_arns, "list all")
        check_eq(sorted(c.list_tasks(family="job")["taskArns"]),
                 sorted(x["taskArn"] for x in tasks), "family filter")
        check_eq(c.list_tasks(startedBy="nobody")["taskArns"], [], "startedBy filter")
        check_eq(len(c.list_tasks(startedBy="ci")["taskArns"]), 2, "startedBy ci")
        check_eq(len(c.list_tasks(maxResults=1)["taskArns"]), 1, "page")
        expect("ServiceNotFoundException", c.list_tasks, serviceName="ghost")

        st = c.stop_task(task=t["taskArn"], reason="done testing")["task"]
        check_eq((st["desiredStatus"], st["lastStatus"], st["stoppedReason"]),
                 ("STOPPED", "STOPPED", "done testing"), "stopped never-ran task")
        check_eq({x["lastStatus"] for x in st["containers"]}, {"STOPPED"}, "containers stopped")
        check_eq(c.list_tasks(desiredStatus="STOPPED")["taskArns"], [t["taskArn"]],
                 "STOPPED filter")
        check(t["taskArn"] not in c.list_tasks()["taskArns"], "default RUNNING filter")
        rc, _, err = s.aws("ecs", "wait", "tasks-stopped", "--tasks", t["taskArn"],
                           check_rc=False)
        check_eq(rc, 0, "tasks-stopped waiter (%s)" % err)

        tid = tasks[1]["taskArn"].rsplit("/", 1)[1]
        r = c.describe_tasks(tasks=[tid, "f" * 32], include=["TAGS"])
        check_eq([x["taskArn"] for x in r["tasks"]], [tasks[1]["taskArn"]], "describe by id")
        check_eq(r["tasks"][0]["tags"], [{"key": "a", "value": "b"}], "task tags")
        check_eq(r["failures"], [{"arn": ACCT + ":task/default/" + "f" * 32,
                                  "reason": "MISSING"}], "task failures")
        rc, out, _ = s.aws("ecs", "describe-tasks", "--tasks", tasks[1]["taskArn"])
        check_eq(out["tasks"][0]["lastStatus"], "PENDING", "cli describe-tasks")
        rc, out, _ = s.aws("ecs", "stop-task", "--task", tasks[1]["taskArn"])
        check_eq(out["task"]["stoppedReason"], "Task stopped by user", "default reason")


def test_tags():
    with Sluiced(extra_args=API_ONLY) as s:
        c = s.boto3("ecs")
        c.create_cluster()
        td = c.register_task_definition(family="web", containerDefinitions=[container()])[
            "taskDefinition"]["taskDefinitionArn"]
        cl = c.create_cluster(clusterName="tagged")["cluster"]["clusterArn"]
        svc = c.create_service(cluster="tagged", serviceName="s", taskDefinition="web")[
            "service"]["serviceArn"]
        task = c.run_task(cluster="tagged", taskDefinition="web")["tasks"][0]["taskArn"]
        default = ACCT + ":cluster/default"
        for arn in (td, cl, svc, task, default):
            c.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"},
                                                  {"key": "b", "value": "2"}])
            c.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "3"}])
            c.untag_resource(resourceArn=arn, tagKeys=["b"])
            check_eq(c.list_tags_for_resource(resourceArn=arn)["tags"],
                     [{"key": "a", "value": "3"}], "tags of %s" % arn)
        rc, out, _ = s.aws("ecs", "list-tags-for-resource", "--resource-arn", svc)
        check_eq(out["tags"], [{"key": "a", "value": "3"}], "cli tags")
        before = c.list_tags_for_resource(resourceArn=cl)["tags"]
        expect("ClusterNotFoundException", c.tag_resource, resourceArn=ACCT + ":cluster/ghost",
               tags=[{"key": "a", "value": "b"}])
        expect("ResourceNotFoundException", c.tag_resource,
               resourceArn=ACCT + ":service/tagged/ghost", tags=[{"key": "a", "value": "b"}])
        expect("ResourceNotFoundException", c.untag_resource,
               resourceArn=ACCT + ":task-definition/web:9", tagKeys=["a"])
        expect("InvalidParameterException", c.list_tags_for_resource,
               resourceArn=ACCT + ":task/tagged/" + "0" * 32)
        expect("InvalidParameterException", c.tag_resource, resourceArn="arn:aws:s3:::bucket",
               tags=[{"key": "a", "value": "b"}])
        expect("InvalidParameterException", c.tag_resource, resourceArn=cl,
               tags=[{"key": "aws:reserved", "value": "b"}])
        expect("InvalidParameterException", c.tag_resource, resourceArn=cl,
               tags=[{"key": "k%d" % i, "value": ""} for i in range(51)])
        check_eq(c.list_tags_for_resource(resourceArn=cl)["tags"], before,
                 "failed tag calls changed nothing")


def raw(s, op, body, target=None):
    return s.http("POST", "/", raw=body, headers={
        "X-Amz-Target": target or TARGET + op, "Content-Type": "application/x-amz-json-1.1"})


def test_wire():
    with Sluiced(extra_args=API_ONLY) as s:
        st, h, b = raw(s, "ListClusters", b"")
        check_eq(st, 200, "empty body is {}")
        check_eq(h.get("Content-Type"), "application/x-amz-json-1.1", "content type")
        check("x-amzn-RequestId" in h, "request id header")
        check_eq(b["clusterArns"], [], "raw list")
        st, _, b = raw(s, "Nope", b"{}")
        check_eq((st, b["__type"]), (400, "UnknownOperationException"), "unknown op")
        st, _, b = raw(s, "", b"{}", target="AmazonEC2ContainerServiceV20141114.ListClusters")
        check_eq((st, b["__type"]), (400, "UnknownOperationException"), "wrong prefix")
        for body in (b"[1]", b"\"x\"", b"{", b"nul", b"\xff\xfe"):
            st, _, b = raw(s, "ListClusters", body)
            check_eq((st, b["__type"]), (400, "SerializationException"), "body %r" % body)
        st, _, b = raw(s, "CreateCluster", b'{"clusterName":5}')
        check_eq((st, b["__type"]), (400, "SerializationException"), "mistyped member")
        st, _, b = raw(s, "RegisterTaskDefinition",
                       b'{"family":"t","containerDefinitions":[{"name":"a","image":"i",'
                       b'"memory":64}]}')
        check(isinstance(b["taskDefinition"]["registeredAt"], float), "epoch seconds number")
        # wrong JSON types in every member of every operation: 400s, no crash
        ops = ["RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions",
               "ListTaskDefinitionFamilies", "DeregisterTaskDefinition", "CreateCluster",
               "DescribeClusters", "ListClusters", "DeleteCluster", "CreateService",
               "UpdateService", "DescribeServices", "ListServices", "DeleteService", "RunTask",
               "StopTask", "ListTasks", "DescribeTasks", "TagResource", "UntagResource",
               "ListTagsForResource"]
        members = ["cluster", "serviceName", "service", "taskDefinition", "desiredCount",
                   "loadBalancers", "deploymentConfiguration", "tags", "resourceArn", "tasks",
                   "services", "clusters", "containerDefinitions", "maxResults", "nextToken"]
        statuses = set()
        for op in ops:
            for m in members:
                for v in ("1", "[{}]", "{\"x\":null}", "true", "\"\""):
                    st, _, b = raw(s, op, ('{"%s":%s}' % (m, v)).encode())
                    statuses.add(st)
                    if st != 200:
                        check(isinstance(b, dict) and "__type" in b, "%s %s error body" % (op, m))
        check(statuses <= {200, 400}, "only 200/400 for bad input: %r" % statuses)
        check_eq(s.http("GET", "/healthz")[0], 200, "server alive after bad input")


for t in (test_task_definitions, test_clusters, test_services, test_tasks, test_tags,
          test_wire):
    run_case(t)
report()
