"""sluiced runs sluice-proxy as its co-process: traffic flows through a
listener created with boto3; `kill -9` of the proxy is followed by a restart
with growing backoff and traffic resumes; SIGTERM to sluiced stops the proxy
too (no orphan left holding the port)."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, free_port, get, make_tg, wait_for  # noqa: E402


def children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def proxy_pid(s):
    for c in children(s.proc.pid):
        try:
            if os.path.basename(os.readlink("/proc/%d/exe" % c)) == "sluice-proxy":
                return c
        except OSError:
            pass
    return None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def serves(port):
    try:
        return get(port, timeout=2)[0] == 200
    except OSError:
        return False


def test_coprocess():
    b = Backend("co")
    s = Sluiced(no_proxy=False).start()
    pids = []
    try:
        pid = wait_for(lambda: proxy_pid(s), 10)
        check(pid, "sluiced started build/sluice-proxy as a child")
        if pid:
            exe = os.readlink("/proc/%d/exe" % pid)
            check_eq(os.path.realpath(exe), os.path.realpath(os.path.join(BUILD, "sluice-proxy")),
                     "the sibling binary runs")
        elb = s.boto3()
        port = free_port()
        lb = elb.create_load_balancer(Name="co", Scheme="internal")["LoadBalancers"][0]
        tg = make_tg(elb, "co-tg", [b])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward",
                                             "TargetGroupArn": tg["TargetGroupArn"]}])
        check(wait_for(lambda: serves(port), 10), "traffic flows through the co-process")
        check(wait_for(lambda: elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy", 10),
            "the co-process reports health to sluiced")
        # kill -9 twice: each time a new proxy, traffic resumes, backoff grows
        pids.append(pid)
        for round_ in range(2):
            os.kill(pids[-1], signal.SIGKILL)
            t0 = time.time()
            new = wait_for(lambda: (lambda p: p if p and p != pids[-1] else None)(proxy_pid(s)), 10)
            check(new, "round %d: a new proxy after kill -9" % round_)
            if not new:
                break
            pids.append(new)
            ok = wait_for(lambda: serves(port), 10)
            check(ok, "round %d: traffic resumes (%.1f s)" % (round_, time.time() - t0))
        log = s.read_log()
        delays = [int(x) for x in re.findall(r"restarting in (\d+) ms", log)]
        check(len(delays) >= 2 and delays[1] > delays[0] > 0,
              "restart backoff grows: %r" % delays)
        check("killed by signal 9" in log, "the kill is logged")
        # SIGTERM to sluiced: the proxy stops too and the port is released
        last = pids[-1]
        rc = s.stop(signal.SIGTERM)
        check_eq(rc, 0, "sluiced exits 0 on SIGTERM")
        check(wait_for(lambda: not alive(last), 5), "no orphan proxy after sluiced stops")
        check(not serves(port), "listener port released")
    finally:
        s.cleanup()
        for p in pids:  # never leave a proxy behind, even when a check failed
            if p and alive(p):
                os.kill(p, signal.SIGKILL)
        b.stop()


def test_proxy_dies_with_sluiced():
    """kill -9 of sluiced must not leave its proxy running (holding the ports
    with a stale table); the restarted sluiced starts a fresh one."""
    s = Sluiced(no_proxy=False).start()
    pid = None
    try:
        pid = wait_for(lambda: proxy_pid(s), 10)
        check(pid, "proxy started")
        s.kill9()
        check(wait_for(lambda: not alive(pid), 5), "proxy exits when sluiced is killed")
        s.start()
        new = wait_for(lambda: proxy_pid(s), 10)
        check(new and new != pid, "restarted sluiced runs a new proxy")
    finally:
        s.cleanup()
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)


def main():
    run_case(test_coprocess)
    run_case(test_proxy_dies_with_sluiced)
    report()


if __name__ == "__main__":
    main()
