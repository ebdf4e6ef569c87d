"""Host-port placement: dynamic ports come from --task-port-range; a range
with no free port, or a fixed hostPort already taken, stops the task with a
reason that says why, and nothing else changes."""
import socket
import time

from sluice_harness import Sluiced, check, check_eq, free_port, report, run_case

SLEEPER = ["/usr/bin/python3", "-c", "import time; time.sleep(60)"]


def wait_status(c, arns, done, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        tasks = c.describe_tasks(tasks=arns)["tasks"]
        if done(tasks):
            return tasks
        time.sleep(0.2)
    return c.describe_tasks(tasks=arns)["tasks"]


def test_port_range_exhausted():
    port = free_port()
    with Sluiced(extra_args=["--task-port-range", "%d-%d" % (port, port)]) as s:
        c = s.boto3("ecs")
        c.create_cluster()
        c.register_task_definition(family="p", containerDefinitions=[{
            "name": "a", "image": "local", "essential": True, "entryPoint": SLEEPER,
            "memory": 64, "portMappings": [{"containerPort": 80}]}])
        arns = [t["taskArn"] for t in c.run_task(taskDefinition="p", count=2)["tasks"]]
        tasks = wait_status(c, arns, lambda ts: sorted(t["lastStatus"] for t in ts) ==
                            ["RUNNING", "STOPPED"])
        by = {t["lastStatus"]: t for t in tasks}
        check_eq(sorted(by), ["RUNNING", "STOPPED"], "one placed, one not")
        if "RUNNING" in by:
            bound = [nb["hostPort"] for ct in by["RUNNING"]["containers"]
                     for nb in ct.get("networkBindings", [])]
            check_eq(bound, [port], "the only port of the range was assigned")
        if "STOPPED" in by:
            check("no free host port" in (by["STOPPED"].get("stoppedReason") or ""),
                  "reason names the cause: %r" % by["STOPPED"].get("stoppedReason"))
        # A fixed hostPort that something else holds.
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        taken = holder.getsockname()[1]
        c.register_task_definition(family="fixed", containerDefinitions=[{
            "name": "a", "image": "local", "essential": True, "entryPoint": SLEEPER,
            "memory": 64, "portMappings": [{"containerPort": 80, "hostPort": taken}]}])
        fixed = c.run_task(taskDefinition="fixed")["tasks"][0]["taskArn"]
        t = wait_status(c, [fixed], lambda ts: ts[0]["lastStatus"] == "STOPPED")[0]
        check_eq(t["lastStatus"], "STOPPED", "fixed port in use: not placed")
        check("in use" in (t.get("stoppedReason") or ""), "reason: %r" % t.get("stoppedReason"))
        holder.close()
        for a in arns:
            c.stop_task(task=a)
        wait_status(c, arns, lambda ts: all(x["lastStatus"] == "STOPPED" for x in ts))


run_case(test_port_range_exhausted)
report()
