"""ECS tasks as real containers, one task at a time, through a private
dockerd: the runtime is chosen as --runtime says; container-definition
members reach the container (read back from the engine's inspect); a
one-container task's task-level cpu and memory bound it (OOM-kill); refused
members stop the task with the reason; a missing image stops it with
CannotPullContainerError (and repositoryCredentials reach the registry); a
taken fixed hostPort stops it with a clear reason; dependsOn orders the
start; the image's stop signal, then SIGKILL after stopTimeout; host and
awsvpc network modes; the task metadata endpoint answers from inside a
container (also after a sluiced restart); logs over REST; containers of tasks
the store does not run are removed at start-up."""
import base64
import calendar
import glob
import http.client
import http.server
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import free_port, get, wait_for  # noqa: E402
import docker_util  # noqa: E402
from docker_service import owner_of  # noqa: E402

ENGINE = S = ECS = None
OWNER = None
TMP = tempfile.mkdtemp(prefix="sluice-dkt-")
BASE = docker_util.BASE


def clients():
    global ECS
    ECS = S.boto3("ecs")


def start_sluiced():
    global OWNER
    S.start()
    clients()
    ECS.create_cluster()  # the default cluster exists once created, as on ECS
    OWNER = owner_of(S)


def run(containers, family="t", **td):
    # EC2 tasks need a memory: a task-level one (bounding a one-container task).
    td.setdefault("memory", "512")
    arn = ECS.register_task_definition(family=family, containerDefinitions=containers,
                                       **td)["taskDefinition"]["taskDefinitionArn"]
    return ECS.run_task(taskDefinition=arn)["tasks"][0]["taskArn"]


def task(arn):
    return ECS.describe_tasks(tasks=[arn])["tasks"][0]


def wait_status(arn, want, timeout=20):
    return wait_for(lambda: task(arn)["lastStatus"] == want, timeout, 0.1)


def sleeper(name="app", **kw):
    c = {"name": name, "image": BASE, "essential": True,
         "command": ["/bin/sh", "-c", "echo started; exec sleep 300"],
         "linuxParameters": {"initProcessEnabled": True}, "stopTimeout": 2}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}  # command=None: the image's CMD


def exec_in(cid, cmd):
    """Run <cmd> in container <cid> through the exec API; its stdout."""
    st, e = ENGINE.api.call("POST", "/containers/%s/exec" % cid, {
        "AttachStdout": True, "AttachStderr": True, "Cmd": cmd})
    if st != 201:
        return None
    st, raw = ENGINE.api.call("POST", "/exec/%s/start" % e["Id"], {"Detach": False, "Tty": False},
                              raw=True, timeout=30)
    out, i = b"", 0
    while i + 8 <= len(raw):  # 8-byte frame headers: stream, 0, 0, 0, length
        n = int.from_bytes(raw[i + 4:i + 8], "big")
        if raw[i] == 1:
            out += raw[i + 8:i + 8 + n]
        i += 8 + n
    return out.decode("utf-8", "replace")


def cid_of(arn, name=None):
    for c in task(arn)["containers"]:
        if name is None or c["name"] == name:
            return c.get("runtimeId")
    return None


# ---- cases ----------------------------------------------------------------

def test_runtime_choice():
    s = Sluiced(extra_args=["--runtime", "auto", "--docker-host", "unix:///nonexistent.sock"])
    s.start()
    log = s.read_log()
    s.cleanup()
    check("runtime: process (--runtime auto: no Docker Engine API at unix:///nonexistent.sock"
          in log, "auto without an engine picks process and says why: %r" % log[-400:])
    s = Sluiced(extra_args=["--runtime", "none"])
    s.start()
    log = s.read_log()
    s.cleanup()
    check("runtime: none (--runtime none)" in log, "none says that no task runs: %r" % log[-400:])
    d = tempfile.mkdtemp(prefix="sluice-it-")
    p = subprocess.run([os.path.join(BUILD, "sluiced"), "--listen", "127.0.0.1:%d" % free_port(),
                        "--data-dir", d, "--no-proxy", "--runtime", "docker", "--docker-host",
                        "unix:///nonexistent.sock"], capture_output=True, text=True, timeout=20)
    check(p.returncode != 0 and "no engine at unix:///nonexistent.sock" in p.stderr,
          "--runtime docker without an engine refuses to start: %d %r" % (p.returncode,
                                                                            p.stderr[-300:]))
    p = subprocess.run([os.path.join(BUILD, "sluiced"), "--runtime", "kubernetes"],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 2 and "expected auto, docker, process or none" in p.stderr,
          "an unknown runtime is a usage error: %r" % p.stderr)
    log = S.read_log(tail=0)
    check("runtime: docker (--runtime auto: the engine answered at %s)" % ENGINE.host in log,
          "auto with an engine picks docker and says why")


def test_members_applied():
    envfile = os.path.join(TMP, "app.env")
    with open(envfile, "w") as f:
        f.write("# comment\nFROM_FILE=yes\nA=from-file\n")
    secret = os.path.join(TMP, "secret")
    with open(secret, "w") as f:
        f.write("s3cr3t\n")
    hostdir = os.path.join(TMP, "hostdir")
    os.makedirs(hostdir, exist_ok=True)
    with open(os.path.join(hostdir, "hello"), "w") as f:
        f.write("hi\n")
    c = sleeper(
        entryPoint=["/bin/sh", "-c"], command=["echo started; cat /data/hello; exec sleep 300"],
        environment=[{"name": "A", "value": "1"}],
        environmentFiles=[{"value": envfile, "type": "s3"}],
        secrets=[{"name": "S_FILE", "valueFrom": "file://" + secret},
                 {"name": "S_ENV", "valueFrom": "env:SLUICE_TEST_SECRET"}],
        workingDirectory="/tmp", user="1000", cpu=256, memory=128, memoryReservation=64,
        dockerLabels={"team": "a"},
        ulimits=[{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
        mountPoints=[{"sourceVolume": "hostdir", "containerPath": "/data", "readOnly": True},
                     {"sourceVolume": "scratch", "containerPath": "/scratch"}],
        readonlyRootFilesystem=True,
        linuxParameters={"initProcessEnabled": True,
                         "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
                         "sharedMemorySize": 32,
                         "tmpfs": [{"containerPath": "/run/t", "size": 8,
                                    "mountOptions": ["noexec"]}]},
        extraHosts=[{"hostname": "db.local", "ipAddress": "10.1.2.3"}],
        dnsServers=["10.0.0.53"], dnsSearchDomains=["corp.local"], hostname="apphost",
        dockerSecurityOptions=["no-new-privileges"],
        systemControls=[{"namespace": "net.ipv4.tcp_keepalive_time", "value": "500"}],
        logConfiguration={"logDriver": "json-file", "options": {"max-size": "1m"}},
        healthCheck={"command": ["CMD-SHELL", "test -f /data/hello"], "interval": 1,
                     "timeout": 1, "retries": 2},
        stopTimeout=4, interactive=True)
    arn = run([c], family="members", volumes=[
        {"name": "hostdir", "host": {"sourcePath": hostdir}},
        {"name": "scratch", "dockerVolumeConfiguration": {"scope": "task", "driver": "local",
                                                          "labels": {"x": "y"}}}])
    check(wait_status(arn, "RUNNING"), "task RUNNING: %r" % task(arn).get("stoppedReason"))
    check(wait_for(lambda: task(arn)["healthStatus"] == "HEALTHY", 15, 0.2),
          "healthCheck -> HEALTHY: %r" % task(arn)["healthStatus"])
    i = ENGINE.api.inspect(cid_of(arn))
    cfg, hc = i["Config"], i["HostConfig"]
    env = dict(e.split("=", 1) for e in cfg["Env"])
    check_eq((env.get("A"), env.get("FROM_FILE"), env.get("S_FILE"), env.get("S_ENV")),
             ("1", "yes", "s3cr3t", "from-env"),
             "environment over environmentFiles, secrets from a file and env")
    check(env.get("ECS_CONTAINER_METADATA_URI_V4", "").startswith("http://%s:" % ENGINE.gateway),
          "metadata URI on the bridge gateway: %r" % env.get("ECS_CONTAINER_METADATA_URI_V4"))
    want = [("Entrypoint", cfg["Entrypoint"], ["/bin/sh", "-c"]),
            ("Cmd", cfg["Cmd"], ["echo started; cat /data/hello; exec sleep 300"]),
            ("WorkingDir", cfg["WorkingDir"], "/tmp"), ("User", cfg["User"], "1000"),
            ("Hostname", cfg["Hostname"], "apphost"), ("OpenStdin", cfg["OpenStdin"], True),
            ("StopTimeout", cfg.get("StopTimeout"), 4),
            ("label team", cfg["Labels"].get("team"), "a"),
            ("Healthcheck", cfg["Healthcheck"]["Test"], ["CMD-SHELL", "test -f /data/hello"]),
            ("CpuShares", hc["CpuShares"], 256), ("Memory", hc["Memory"], 128 << 20),
            ("MemoryReservation", hc["MemoryReservation"], 64 << 20),
            ("Ulimits", hc["Ulimits"], [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]),
            ("Binds", hc["Binds"], ["%s:/data:ro" % hostdir]),
            ("ReadonlyRootfs", hc["ReadonlyRootfs"], True), ("Init", hc["Init"], True),
            ("CapAdd", hc["CapAdd"], ["NET_ADMIN"]), ("CapDrop", hc["CapDrop"], ["MKNOD"]),
            ("ShmSize", hc["ShmSize"], 32 << 20),
            ("Tmpfs", hc["Tmpfs"], {"/run/t": "size=8m,noexec"}),
            ("ExtraHosts", hc["ExtraHosts"], ["db.local:10.1.2.3"]),
            ("Dns", hc["Dns"], ["10.0.0.53"]), ("DnsSearch", hc["DnsSearch"], ["corp.local"]),
            ("SecurityOpt", hc["SecurityOpt"], ["no-new-privileges"]),
            ("Sysctls", hc["Sysctls"], {"net.ipv4.tcp_keepalive_time": "500"}),
            ("LogConfig", hc["LogConfig"], {"Type": "json-file", "Config": {"max-size": "1m"}}),
            ("NetworkMode", hc["NetworkMode"], "bridge")]
    for what, got, exp in want:
        check_eq(got, exp, "container %s" % what)
    vol = [m for m in i["Mounts"] if m["Destination"] == "/scratch"]
    check(vol and vol[0]["Type"] == "volume" and vol[0]["Name"].startswith("ecs-"),
          "task-scoped Docker volume mounted: %r" % vol)
    tid = arn.split("/")[-1]
    path = "/v1/ecs/clusters/default/tasks/%s/containers/app/logs" % tid
    check(wait_for(lambda: S.http("GET", path)[2] == b"started\nhi\n", 10),
          "the running container's log over REST: %r" % (S.http("GET", path)[2],))
    ECS.stop_task(task=arn)
    check(wait_status(arn, "STOPPED"), "StopTask -> STOPPED")
    check(wait_for(lambda: ENGINE.api.inspect(i["Id"]) is None, 10),
          "the stopped container is removed")
    vols = ENGINE.api.call("GET", "/volumes")[1]["Volumes"] or []
    check(not [v for v in vols if v["Name"] == vol[0]["Name"]] if vol else True,
          "the task-scoped volume is removed with the task")
    check_eq(S.http("GET", path)[2], b"started\nhi\n", "the kept log is served after removal")
    st, _, body = S.http("GET", path + "?stream=bogus")
    check_eq(st, 400, "a bad stream is refused")


def test_task_size():
    """A task of one container: its task-level cpu and memory (or RunTask's
    override of them) bound that container, as ECS's task cgroup does
    (Memory, NanoCpus); past the memory the container is OOM-killed and the
    task says so."""
    arn = run([sleeper()], family="sized", cpu="256", memory="64")
    check(wait_status(arn, "RUNNING"), "sized task RUNNING: %r" % task(arn).get("stoppedReason"))
    hc = ENGINE.api.inspect(cid_of(arn))["HostConfig"]
    check_eq((hc.get("Memory"), hc.get("NanoCpus")), (64 << 20, 250000000),
             "task-level memory and cpu on its only container")
    ECS.stop_task(task=arn)
    # RunTask's task-level override wins, in both of ECS's notations
    r = ECS.run_task(taskDefinition="sized", overrides={"cpu": "0.5 vCPU", "memory": "0.125 GB"})
    arn = r["tasks"][0]["taskArn"]
    check_eq((r["tasks"][0].get("cpu"), r["tasks"][0].get("memory")), ("0.5 vCPU", "0.125 GB"),
             "the task's size is the override's")
    check(wait_status(arn, "RUNNING"), "overridden task RUNNING")
    hc = ENGINE.api.inspect(cid_of(arn))["HostConfig"]
    check_eq((hc.get("Memory"), hc.get("NanoCpus")), (128 << 20, 500000000),
             "the override's memory and cpu on its container")
    doc = metadata_from(cid_of(arn), "/task")
    check_eq(doc.get("Limits") if isinstance(doc, dict) else doc, {"CPU": 0.5, "Memory": 128},
             "the task metadata's Limits")
    ECS.stop_task(task=arn)
    try:
        ECS.run_task(taskDefinition="sized", overrides={"cpu": "lots"})
        check(False, "an unreadable cpu override is refused")
    except ECS.exceptions.ClientException as e:
        check_eq(e.response["Error"]["Message"], "Invalid 'cpu' override for the task.",
                 "an unreadable cpu override is refused")
    # dd as the container's main process (under its init): the OOM kill is
    # the container's exit, not a child's
    hog = sleeper(command=["/bin/sh", "-c",
                           "exec dd if=/dev/zero of=/dev/null bs=160M count=1"])
    arn = run([hog], family="hog", memory="64")
    check(wait_status(arn, "STOPPED", 30), "a task past its memory stops: %r" %
          task(arn)["lastStatus"])
    c = task(arn)["containers"][0]
    check_eq((c.get("exitCode"), c.get("reason")),
             (137, "OutOfMemoryError: Container killed due to memory usage"),
             "its container was OOM-killed")


def cgroup_dirs(path):
    """The hierarchies of this host that hold cgroup <path>."""
    return [h for h in sorted(glob.glob("/sys/fs/cgroup/*")) if os.path.isdir(h + path)]


def test_task_cgroup():
    """A task of several containers shares one cgroup, bounded by its
    task-level cpu and memory as ECS's task cgroup is: two containers that
    fit alone but not together are OOM-killed at the task's memory.  Once
    the task's containers are gone, so is its cgroup."""
    go = os.path.join(TMP, "go")
    os.makedirs(go, exist_ok=True)
    hold = "import time\nx = b'%s' * (50 << 20)\nprint('held', flush=True)\ntime.sleep(300)"
    a = sleeper("a", command=["python3", "-c", hold % "a"])
    b = sleeper("b", command=["/bin/sh", "-c", "while [ ! -e /go/now ]; do sleep 0.05; done; "
                              "exec python3 -c \"%s\"" % (hold % "b")],
                mountPoints=[{"sourceVolume": "go", "containerPath": "/go"}])
    arn = run([a, b], family="shared", cpu="512", memory="96",
              volumes=[{"name": "go", "host": {"sourcePath": go}}])
    check(wait_status(arn, "RUNNING"), "task RUNNING: %r" % task(arn).get("stoppedReason"))
    path = "/sluice/%s/%s" % (OWNER, arn.rsplit("/", 1)[1])
    for name in ("a", "b"):
        hc = ENGINE.api.inspect(cid_of(arn, name))["HostConfig"]
        check_eq((hc.get("CgroupParent"), hc.get("Memory")), (path, 0),
                 "container %s in the task's cgroup, with no limit of its own" % name)
    with open("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % path) as f:
        check_eq(int(f.read()), 96 << 20, "the task cgroup's memory limit")
    with open("/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us" % path) as f:
        check_eq(int(f.read()), 50000, "the task cgroup's CPU quota (0.5 vCPU)")
    logs = "/v1/ecs/clusters/default/tasks/%s/containers/a/logs" % arn.rsplit("/", 1)[1]
    check(wait_for(lambda: S.http("GET", logs)[2] == b"held\n", 10, 0.1), "a holds its 50 MB")
    open(os.path.join(go, "now"), "w").close()
    check(wait_status(arn, "STOPPED", 30), "the task past its memory stops: %r" %
          task(arn)["lastStatus"])
    cs = {c["name"]: c for c in task(arn)["containers"]}
    oom = [n for n, c in cs.items()
           if (c.get("exitCode"), c.get("reason")) ==
           (137, "OutOfMemoryError: Container killed due to memory usage")]
    check_eq(len(oom), 1, "one container OOM-killed at the task's memory: %r" %
             {n: (c.get("exitCode"), c.get("reason")) for n, c in cs.items()})
    check(wait_for(lambda: not cgroup_dirs(path), 30, 0.2),
          "the task's cgroup is removed with its containers: %r" % cgroup_dirs(path))


def test_refused_members():
    cases = [({"firelensConfiguration": {"type": "fluentbit"}}, "firelensConfiguration"),
             ({"logConfiguration": {"logDriver": "awslogs"}}, "logDriver awslogs"),
             ({"resourceRequirements": [{"type": "GPU", "value": "1"}]}, "resourceRequirements"),
             ({"secrets": [{"name": "X", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:x"}]},
              "file:///path and env:NAME")]
    arns = [run([sleeper(**kw)], family="refused") for kw, _ in cases]
    for arn, (kw, why) in zip(arns, cases):
        check(wait_status(arn, "STOPPED"), "refused %r -> STOPPED" % list(kw))
        t = task(arn)
        check(t.get("stopCode") == "TaskFailedToStart" and why in t.get("stoppedReason", ""),
              "refusal of %s: %r %r" % (list(kw)[0], t.get("stopCode"), t.get("stoppedReason")))


class _Registry(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def test_missing_image_and_credentials():
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if not self.headers.get("Authorization"):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="test"')
            else:
                self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

    reg = _Registry(("127.0.0.1", 0), H)
    threading.Thread(target=reg.serve_forever, daemon=True).start()
    creds = os.path.join(TMP, "registry.json")
    with open(creds, "w") as f:
        json.dump({"username": "robot", "password": "pw"}, f)
    try:
        a = run([sleeper(image="000000000000.dkr.ecr.us-east-1.amazonaws.com/absent:1")],
                family="pull")
        b = run([sleeper(image="127.0.0.1:%d/private/app:1" % reg.server_address[1],
                         repositoryCredentials={"credentialsParameter": "file://" + creds})],
                family="pull")
        for arn in (a, b):
            check(wait_status(arn, "STOPPED", 40), "missing image -> STOPPED")
            t = task(arn)
            check(t.get("stopCode") == "TaskFailedToStart" and
                  t.get("stoppedReason", "").startswith("CannotPullContainerError: "),
                  "CannotPullContainerError: %r" % t.get("stoppedReason"))
        want = "Basic " + base64.b64encode(b"robot:pw").decode()
        check(any(auth == want for _, auth in seen),
              "repositoryCredentials reach the registry: %r" % seen[:4])
    finally:
        reg.shutdown()
        reg.server_close()


def test_fixed_host_port_taken():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        arn = run([sleeper(portMappings=[{"containerPort": 8080, "hostPort": port}])],
                  family="busy")
        check(wait_status(arn, "STOPPED"), "taken hostPort -> STOPPED")
        r = task(arn).get("stoppedReason", "")
        check("host port %d" % port in r and "already in use" in r, "reason: %r" % r)
    finally:
        busy.close()
    port = free_port()
    arn = run([sleeper(image="web:v1", command=None,
                       portMappings=[{"containerPort": 8080, "hostPort": port}])], family="fixed")
    check(wait_status(arn, "RUNNING"), "a free fixed hostPort runs")
    check(wait_for(lambda: get(port, "/")[2].startswith("version=v1"), 10),
          "the container answers on its fixed host port %d" % port)
    check_eq(task(arn)["containers"][0]["networkBindings"][0]["hostPort"], port,
             "networkBindings show the fixed port")
    ECS.stop_task(task=arn)


def at(inspected, member):
    """The engine's RFC 3339 time (Go trims the fraction's zeros, so the
    strings do not compare) in seconds."""
    t = inspected["State"][member].rstrip("Z")
    whole, _, frac = t.partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def test_depends_on():
    init = sleeper("init", essential=False, command=["/bin/sh", "-c", "sleep 1; exit 0"])
    db = sleeper("db", healthCheck={"command": ["CMD-SHELL", "test -f /tmp/ready"],
                                    "interval": 1, "timeout": 1, "retries": 3},
                 command=["/bin/sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 300"])
    app = sleeper("app", dependsOn=[{"containerName": "init", "condition": "SUCCESS"},
                                    {"containerName": "db", "condition": "HEALTHY"}])
    arn = run([app, init, db], family="deps")

    def pending_on_instance():
        ci = ECS.list_container_instances()["containerInstanceArns"]
        n = ECS.describe_container_instances(containerInstances=ci)["containerInstances"][0][
            "pendingTasksCount"]
        return task(arn)["lastStatus"] == "PENDING" and n == 1
    check(wait_for(pending_on_instance, 5, 0.05),
          "while app waits for its dependencies, the container instance counts 1 pending task")
    check(wait_status(arn, "RUNNING", 30), "dependsOn task RUNNING: %r" %
          task(arn).get("stoppedReason"))
    ins = {n: ENGINE.api.inspect(cid_of(arn, n)) for n in ("init", "db", "app")}
    check(at(ins["app"], "StartedAt") > at(ins["init"], "FinishedAt"),
          "app started after init completed (SUCCESS)")
    check(at(ins["app"], "StartedAt") > at(ins["db"], "StartedAt") and
          ins["db"]["State"]["Health"]["Status"] == "healthy", "app started after db was HEALTHY")
    ECS.stop_task(task=arn)
    # COMPLETE: any exit code will do; START: started is enough
    mig = sleeper("mig", essential=False, command=["/bin/sh", "-c", "sleep 1; exit 3"])
    side = sleeper("side")
    arn = run([sleeper("app", dependsOn=[{"containerName": "mig", "condition": "COMPLETE"},
                                         {"containerName": "side", "condition": "START"}]),
               mig, side], family="deps-complete")
    check(wait_status(arn, "RUNNING", 30), "COMPLETE/START task RUNNING: %r" %
          task(arn).get("stoppedReason"))
    ins = {n: ENGINE.api.inspect(cid_of(arn, n)) for n in ("mig", "side", "app")}
    check(ins["mig"]["State"]["ExitCode"] == 3 and
          at(ins["app"], "StartedAt") > at(ins["mig"], "FinishedAt"),
          "app started after mig completed with exit code 3 (COMPLETE)")
    check(at(ins["app"], "StartedAt") > at(ins["side"], "StartedAt"),
          "app started after side started (START)")
    ECS.stop_task(task=arn)
    bad = sleeper("init", essential=False, command=["/bin/sh", "-c", "exit 1"])
    arn = run([sleeper("app", dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
               bad], family="deps-bad")
    check(wait_status(arn, "STOPPED", 20), "failed SUCCESS dependency -> STOPPED")
    r = task(arn).get("stoppedReason", "")
    check("app depends on init to SUCCESS" in r, "reason: %r" % r)


def test_stop_signal_and_timeout():
    ENGINE.api.build("sig:1", "FROM %s\nSTOPSIGNAL SIGUSR1\nCMD [\"/usr/bin/python3\", \"-c\", "
                              "\"import signal,sys,time; signal.signal(signal.SIGUSR1, lambda *a:"
                              " sys.exit(42)); print('up', flush=True); time.sleep(300)\"]\n"
                     % BASE)
    a = run([{"name": "app", "image": "sig:1", "essential": True, "stopTimeout": 10}],
            family="sig")
    b = run([sleeper(command=["/bin/sh", "-c", "trap '' TERM; echo up; sleep 300 & wait"],
                     linuxParameters={"initProcessEnabled": False}, stopTimeout=2)],
            family="stubborn")
    for arn in (a, b):
        check(wait_status(arn, "RUNNING"), "RUNNING")
    time.sleep(0.5)
    t0 = time.time()
    ECS.stop_task(task=a)
    ECS.stop_task(task=b)
    check(wait_status(a, "STOPPED") and wait_status(b, "STOPPED"), "both STOPPED")
    print("stops took %.1f s" % (time.time() - t0), flush=True)
    check_eq(task(a)["containers"][0].get("exitCode"), 42, "the image's STOPSIGNAL was sent")
    check_eq(task(b)["containers"][0].get("exitCode"), 137,
             "SIGKILL after stopTimeout for a container that ignores SIGTERM")


def test_network_modes():
    port = free_port()
    h = run([sleeper(image="web:v1", command=None, environment=[
        {"name": "PORT", "value": str(port)}],
        portMappings=[{"containerPort": port, "hostPort": port}])],
        family="hostmode", networkMode="host")
    v = run([sleeper(image="web:v1", command=None,
                     portMappings=[{"containerPort": 8080}])],
            family="vpc", networkMode="awsvpc")
    check(wait_status(h, "RUNNING") and wait_status(v, "RUNNING"), "host and awsvpc RUNNING")
    check(wait_for(lambda: get(port, "/")[2].startswith("version=v1"), 10),
          "host mode: the container binds the host's port %d" % port)
    check_eq(ENGINE.api.inspect(cid_of(h))["HostConfig"]["NetworkMode"], "host", "host netns")
    c = task(v)["containers"][0]
    b = c["networkBindings"][0]
    check(b["containerPort"] == 8080 and b["hostPort"] != 8080 and b["bindIP"] == "127.0.0.1",
          "awsvpc: containerPort published on a dynamic loopback port: %r" % b)
    check(c.get("networkInterfaces") and
          c["networkInterfaces"][0]["privateIpv4Address"].startswith(ENGINE.subnet + "."),
          "awsvpc: the container's bridge address as its interface: %r" %
          c.get("networkInterfaces"))
    check(wait_for(lambda: get(b["hostPort"], "/")[2].startswith("version=v1"), 10),
          "awsvpc task answers on 127.0.0.1:%d" % b["hostPort"])
    ECS.stop_task(task=h)
    ECS.stop_task(task=v)


def metadata_from(cid, suffix=""):
    out = exec_in(cid, ["/bin/sh", "-c", "wget -q -O- \"$ECS_CONTAINER_METADATA_URI_V4%s\"" %
                        suffix])
    try:
        return json.loads(out)
    except (TypeError, ValueError):
        return out


def test_metadata_endpoint():
    global META_TASK
    arn = run([sleeper(image="web:v1", command=None, portMappings=[{"containerPort": 8080}]),
               sleeper("side")], family="meta")
    check(wait_status(arn, "RUNNING"), "RUNNING")
    cid = cid_of(arn, "app")
    doc = metadata_from(cid)
    check(isinstance(doc, dict), "container metadata from inside: %r" % (doc,))
    if isinstance(doc, dict):
        check_eq((doc.get("DockerId"), doc.get("Name"), doc.get("Image"), doc.get("KnownStatus"),
                  doc.get("Labels", {}).get("com.amazonaws.ecs.task-arn")),
                 (cid, "app", "web:v1", "RUNNING", arn), "v4 container document")
        port = task(arn)["containers"][0]["networkBindings"][0]["hostPort"]
        check_eq(doc.get("Ports"), [{"ContainerPort": 8080, "Protocol": "tcp", "HostPort": port,
                                     "HostIp": "127.0.0.1"}], "v4 Ports")
        check(doc.get("Networks", [{}])[0].get("IPv4Addresses", [""])[0].startswith(
            ENGINE.subnet + "."), "v4 Networks: %r" % doc.get("Networks"))
    t = metadata_from(cid, "/task")
    check(isinstance(t, dict) and t.get("TaskARN") == arn and t.get("Family") == "meta" and
          sorted(c["Name"] for c in t.get("Containers", [])) == ["app", "side"],
          "v4 task document: %r" % (t,))
    url = [e for e in ENGINE.api.inspect(cid)["Config"]["Env"]
           if e.startswith("ECS_CONTAINER_METADATA_URI_V4=")][0].split("=", 1)[1]
    base = url.rsplit("/v4/", 1)[0]
    mport = int(base.rsplit(":", 1)[1])
    for path in ("/v4/" + "0" * 32, "/v4/%s/stats" % url.rsplit("/", 1)[1], "/healthz",
                 "/v1/target-groups"):
        st = _get_on(ENGINE.gateway, mport, path)
        check_eq(st, 404, "metadata listener answers 404 for %s" % path)
    META_TASK = arn


def _get_on(host, port, path):
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=5)
    try:
        c.request("GET", path)
        return c.getresponse().status
    finally:
        c.close()


META_TASK = None


def test_task_host_address():
    """--task-host-address: ports are published on it, and networkBindings say so."""
    s2 = Sluiced(extra_args=["--runtime", "docker", "--docker-host", ENGINE.host,
                             "--task-host-address", "127.0.0.2"])
    try:
        s2.start()
        ecs = s2.boto3("ecs")
        ecs.create_cluster()
        td = ecs.register_task_definition(family="addr", memory="512", containerDefinitions=[
            sleeper(image="web:v1", command=None, portMappings=[{"containerPort": 8080}])])
        arn = ecs.run_task(taskDefinition=td["taskDefinition"]["taskDefinitionArn"])[
            "tasks"][0]["taskArn"]

        def running():
            t = ecs.describe_tasks(tasks=[arn])["tasks"][0]
            return t if t["lastStatus"] == "RUNNING" else None
        t = wait_for(running, 30)
        check(bool(t), "the task runs")
        if not t:
            return
        b = t["containers"][0]["networkBindings"][0]
        check_eq(b["bindIP"], "127.0.0.2", "networkBindings' bindIP")
        pb = ENGINE.api.inspect(t["containers"][0]["runtimeId"])["HostConfig"]["PortBindings"]
        check_eq([x["HostIp"] for x in pb["8080/tcp"]], ["127.0.0.2"], "the engine's HostIp")

        def answers():
            try:
                c = http.client.HTTPConnection("127.0.0.2", b["hostPort"], timeout=2)
                c.request("GET", "/")
                return c.getresponse().read().startswith(b"version=v1")
            except OSError:
                return False
        check(wait_for(answers, 10), "the task answers on 127.0.0.2:%d" % b["hostPort"])
        ecs.stop_task(task=arn)
        check(wait_for(lambda: ecs.describe_tasks(tasks=[arn])["tasks"][0]["lastStatus"] ==
                       "STOPPED", 20), "stopped")
    finally:
        s2.cleanup()


def test_restart_adopts_and_removes_orphans():
    arn = META_TASK
    cid = cid_of(arn, "app") if arn else None
    S.stop()
    # A container of a task this store never ran, with our owner label.
    st, c = ENGINE.api.call("POST", "/containers/create?name=orphan-x", {
        "Image": BASE, "Cmd": ["/bin/sh", "-c", "echo orphaned; exec sleep 300"],
        "Labels": {"sluice.owner": OWNER, "sluice.task": "default/" + "ab" * 16,
                   "com.amazonaws.ecs.container-name": "ghost"}})
    check_eq(st, 201, "orphan container created")
    ENGINE.api.call("POST", "/containers/%s/start" % c["Id"])
    # One of another owner: never to be touched.
    st, other = ENGINE.api.call("POST", "/containers/create?name=not-ours", {
        "Image": BASE, "Cmd": ["sleep", "300"], "Labels": {"sluice.owner": "someone-else",
                                                           "sluice.task": "default/x"}})
    ENGINE.api.call("POST", "/containers/%s/start" % other["Id"])
    start_sluiced()
    check(wait_for(lambda: ENGINE.api.inspect(c["Id"]) is None, 15),
          "the container of an unknown task is removed")
    log = os.path.join(S.data_dir, "tasks", "ab" * 16, "ghost", "stdout.log")
    check(wait_for(lambda: open(log).read() == "orphaned\n", 5), "its log kept first")
    check(ENGINE.api.inspect(other["Id"])["State"]["Running"],
          "another owner's container is left alone")
    ENGINE.api.call("DELETE", "/containers/%s?force=1" % other["Id"])
    if arn:
        check(wait_for(lambda: task(arn)["lastStatus"] == "RUNNING", 5) and
              cid_of(arn, "app") == cid, "the metadata task is adopted, same container")
        doc = metadata_from(cid)
        check(isinstance(doc, dict) and doc.get("DockerId") == cid,
              "the metadata endpoint still answers the adopted container: %r" % (doc,))
        ECS.stop_task(task=arn)


def main():
    global ENGINE, S
    os.environ["SLUICE_TEST_SECRET"] = "from-env"
    ENGINE = docker_util.Dockerd()
    try:
        ENGINE.start()
        docker_util.build_images(ENGINE.api, versions=("v1",))
        S = Sluiced(extra_args=["--runtime", "auto", "--docker-host", ENGINE.host])
        start_sluiced()
        for fn in (test_runtime_choice, test_members_applied, test_task_size,
                   test_task_cgroup, test_refused_members,
                   test_missing_image_and_credentials, test_fixed_host_port_taken,
                   test_depends_on, test_stop_signal_and_timeout, test_network_modes,
                   test_metadata_endpoint, test_task_host_address,
                   test_restart_adopts_and_removes_orphans):
            t0 = time.time()
            run_case(fn)
            print("%s: %.1f s" % (fn.__name__, time.time() - t0), flush=True)
    except Exception as e:  # noqa: BLE001 - an engine that cannot start fails the test
        check(False, "docker task test: %r\n%s" % (e, ENGINE.log_tail()))
    finally:
        if S:
            S.cleanup()
        ENGINE.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    report()


if __name__ == "__main__":
    main()
