"""The calls the Terraform AWS provider makes, replayed with boto3
(tests/integration/tf_replay.py): create, refresh, update, refresh, destroy and
the reads after it of aws_lb, aws_lb_listener, aws_lb_listener_rule,
aws_lb_target_group (+ attachment), aws_ecs_cluster, aws_ecs_task_definition
and aws_ecs_service with wait_for_steady_state, against a real sluiced with
its sluice-proxy (health checks) and the process runtime (real tasks), so
that wait_for_steady_state (the provider's ECS-deployment path, on create and
on a new revision) waits on real rollouts.  Every call must be one the
provider accepts; and a cluster setting sluice cannot honour is refused in
words that say so."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from botocore.exceptions import ClientError  # noqa: E402

from sluice_harness import Sluiced, check, check_eq, free_port, report, run_case  # noqa: E402
import tf_replay  # noqa: E402

S = None


def test_replay():
    args = tf_replay.parse_args([S.url, "--listener-port", str(free_port()), "--app-port",
                                 str(free_port()), "--target-port", str(free_port()),
                                 "--wait-timeout", "30", "--steady-timeout", "60"])
    t0 = time.time()
    results = tf_replay.run(args)
    print("replay: %.1f s" % (time.time() - t0), flush=True)
    check(len(results) > 120, "the replay made its calls (%d)" % len(results))
    for ok, phase, res, op, text in results:
        check(ok, "%s %s %s: %s" % (phase, res, op, text))
    ops = {op for _, _, _, op, _ in results}
    for op in ("ListServiceDeployments", "DescribeServiceDeployments", "UpdateCluster",
               "ModifyListenerAttributes", "DescribeListenerAttributes", "SetSecurityGroups",
               "wait:waitServiceStable", "DescribeCapacityReservation"):
        check(op in ops, "the replay called %s" % op)


def test_refused_setting():
    ecs = S.boto3("ecs")
    ecs.create_cluster(clusterName="insights")
    try:
        ecs.update_cluster_settings(cluster="insights", settings=[
            {"name": "containerInsights", "value": "enabled"}])
        check(False, "containerInsights enabled should be refused")
    except ClientError as e:
        check_eq(e.response["Error"]["Code"], "InvalidParameterException", "code")
        check("is not supported by sluice" in e.response["Error"]["Message"],
              "message says why: %s" % e.response["Error"]["Message"])
    check_eq(ecs.describe_clusters(clusters=["insights"])["clusters"][0]["settings"],
             [{"name": "containerInsights", "value": "disabled"}], "nothing changed")
    ecs.delete_cluster(cluster="insights")


def kill_leftovers():
    """Tasks outlive sluiced by design; leave none behind."""
    try:
        ecs = S.boto3("ecs")
        for cl in ecs.list_clusters()["clusterArns"]:
            for st in ("RUNNING", "STOPPED"):
                arns = ecs.list_tasks(cluster=cl, desiredStatus=st)["taskArns"]
                for t in ecs.describe_tasks(cluster=cl, tasks=arns)["tasks"] if arns else []:
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
    global S
    S = Sluiced(no_proxy=False)
    S.start()
    try:
        run_case(test_replay)
        run_case(test_refused_setting)
    finally:
        kill_leftovers()
        S.cleanup()
    report()


if __name__ == "__main__":
    main()
