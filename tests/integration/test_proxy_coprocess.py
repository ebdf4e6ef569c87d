"""sluiced runs sluice-proxy as its co-process, and the proxy outlives it:

- traffic flows through a listener created with boto3; `kill -9` of the
  proxy is followed by a restart with growing backoff and traffic resumes;
- restarting sluiced (SIGTERM, then kill -9) under a bounded load loop
  fails no request: the proxy serves its last configuration meanwhile and
  the new sluiced takes the same process back (one proxy, no port fight),
  which then follows the new sluiced's changes and reports to it, with
  credentials too (the co-process's token is kept);
- a sluiced on the same data directory but another URL stops the old proxy
  before starting its own;
- with --stop-proxy-on-exit the proxy dies with sluiced (SIGTERM or kill -9).
"""
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, FastBackend, free_port, get, make_tg, wait_for  # noqa: E402

PROXY = os.path.realpath(os.path.join(BUILD, "sluice-proxy"))


def children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def is_proxy(pid):
    try:
        return os.path.realpath(os.readlink("/proc/%d/exe" % pid)) == PROXY
    except OSError:
        return False


def proxy_pid(s):
    for c in children(s.proc.pid):
        if is_proxy(c):
            return c
    return None


def proxies_for(s):
    """Every live sluice-proxy process following sluiced <s>'s URL."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and is_proxy(int(d)):
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if s.url.encode() in args and alive(int(d)):
                out.append(int(d))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


def serves(port):
    try:
        return get(port, timeout=2)[0] == 200
    except OSError:
        return False


def listener(elb, name, backend):
    port = free_port()
    lb = elb.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    tg = make_tg(elb, name + "-tg", [backend])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return port, tg


def healthy(elb, tg):
    try:
        d = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
        return d["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy"
    except Exception:  # noqa: BLE001 - sluiced restarting
        return False


class Load:
    """Client threads sending requests to <port> until stopped, bounded by
    <max_s> seconds and <max_n> requests each: half on fresh connections,
    half on one kept-alive connection per thread.  Counts failures."""

    def __init__(self, port, threads=4, max_s=60, max_n=200000):
        self.port, self.max_s, self.max_n = port, max_s, max_n
        self.ok = self.failed = 0
        self.errors = []
        self.done_at = []  # completion times, for "served while sluiced was down"
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i % 2 == 0,), daemon=True)
                        for i in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, keep_alive):
        deadline = time.time() + self.max_s
        conn = None
        for _ in range(self.max_n):
            if self.stop_ev.is_set() or time.time() > deadline:
                break
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/load")
                r = conn.getresponse()
                r.read()
                good = r.status == 200
                err = None if good else "status %d" % r.status
            except (OSError, http.client.HTTPException) as e:
                good, err = False, repr(e)
            if not keep_alive or not good:
                conn.close()
                conn = None
            with self.lock:
                if good:
                    self.ok += 1
                    self.done_at.append(time.time())
                else:
                    self.failed += 1
                    self.errors.append(err)
        if conn:
            conn.close()

    def served_between(self, t0, t1):
        with self.lock:
            return sum(1 for t in self.done_at if t0 <= t <= t1)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(30)


def test_coprocess():
    b = Backend("co")
    s = Sluiced(no_proxy=False).start()
    pids = []
    try:
        pid = wait_for(lambda: proxy_pid(s), 10)
        check(pid, "sluiced started build/sluice-proxy as a child")
        elb = s.boto3()
        port, tg = listener(elb, "co", b)
        check(wait_for(lambda: serves(port), 10), "traffic flows through the co-process")
        check(wait_for(lambda: healthy(elb, tg), 10), "the co-process reports health to sluiced")
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
    finally:
        s.cleanup()
        for p in pids:  # never leave a proxy behind, even when a check failed
            if p and alive(p):
                os.kill(p, signal.SIGKILL)
        check(not any(alive(p) for p in pids), "no proxy left after the test")
        b.stop()


def restart(s, how):
    """Stop sluiced <s> (SIGTERM or kill -9) and start it again on the same
    data directory and port: (time it went down, time it was back)."""
    t0 = time.time()
    if how == "kill -9":
        s.kill9()
    else:
        check_eq(s.stop(signal.SIGTERM), 0, "sluiced exits 0 on SIGTERM")
    time.sleep(0.5)  # a real gap: traffic must flow while no sluiced runs
    s.start()
    return t0, time.time()


def test_restart_under_load():
    """SIGTERM and kill -9 of sluiced under load: no request fails, the
    same proxy serves throughout and the new sluiced takes it back."""
    b = FastBackend()
    s = Sluiced(no_proxy=False).start()
    load = None
    try:
        pid = wait_for(lambda: proxy_pid(s), 10)
        check(pid, "co-process started")
        elb = s.boto3()
        port, tg = listener(elb, "load", b)
        check(wait_for(lambda: serves(port), 10) and wait_for(lambda: healthy(elb, tg), 10),
              "listener serves, target healthy")
        load = Load(port)
        time.sleep(0.5)
        for k, how in enumerate(("SIGTERM", "kill -9")):
            down, up = restart(s, how)
            check(s.proxy_record() and s.proxy_record()[0] == pid,
                  "%s: the data directory still records proxy %d" % (how, pid))
            check(wait_for(lambda: s.read_log(tail=0).count("took back") == k + 1, 5),
                  "%s: the new sluiced takes the running proxy back" % how)
            time.sleep(0.3)
            check_eq(proxies_for(s), [pid], "%s: one proxy, the same process" % how)
            check(load.served_between(down, up) > 0,
                  "%s: requests were served while sluiced was down (%d)"
                  % (how, load.served_between(down, up)))
            # the proxy follows the new sluiced: a listener made now serves
            elb = s.boto3()
            port2, tg2 = listener(elb, "after%d" % k, b)
            check(wait_for(lambda: serves(port2), 10),
                  "%s: a listener created through the new sluiced serves" % how)
            check(wait_for(lambda: healthy(elb, tg2), 15),
                  "%s: the proxy reports health to the new sluiced" % how)
        load.stop()
        check(load.ok > 1000, "the load loop ran (%d requests)" % load.ok)
        check_eq((load.failed, load.errors[:3]), (0, []), "no request failed across the restarts")
        check_eq(s.read_log(tail=0).count("supervise: started"), 1,
                 "no second proxy was started")
    finally:
        if load:
            load.stop()
        s.cleanup()
        check(not alive(pid), "the harness stopped the proxy left running")
        b.stop()


CREDS = """[default]
aws_access_key_id = AKIDCOPROC
aws_secret_access_key = coproc-secret
"""


def test_restart_with_credentials():
    """The co-process's token survives a restart: the proxy taken back is
    still accepted (it follows changes, its reports count)."""
    d = tempfile.mkdtemp(prefix="sluice-coproc-")
    path = os.path.join(d, "credentials")
    with open(path, "w") as f:
        f.write(CREDS)
    os.chmod(path, 0o600)
    b = Backend("cred")
    s = Sluiced(no_proxy=False, extra_args=["--credentials", path]).start()
    try:
        pid = wait_for(lambda: proxy_pid(s), 10)
        elb = s.boto3(key="AKIDCOPROC", secret="coproc-secret")
        port, tg = listener(elb, "cred1", b)
        check(wait_for(lambda: serves(port), 10), "served with credentials")
        restart(s, "SIGTERM")
        check(serves(port), "the proxy served on while sluiced restarted")
        check_eq(proxies_for(s), [pid], "the same proxy after the restart")
        elb = s.boto3(key="AKIDCOPROC", secret="coproc-secret")
        port2, tg2 = listener(elb, "cred2", b)
        check(wait_for(lambda: serves(port2), 10), "it follows the new sluiced's feed")
        check(wait_for(lambda: healthy(elb, tg2), 15), "its reports are accepted")
        mode = os.stat(os.path.join(s.data_dir, "proxy.pid")).st_mode & 0o777
        check_eq(oct(mode), oct(0o600), "the record (it holds the token) is private")
    finally:
        s.cleanup()
        b.stop()
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
        os.rmdir(d)


def test_other_url_replaces():
    """A sluiced on the same data directory but another port stops the old
    proxy (which follows a URL nobody serves) before starting its own."""
    b = Backend("url")
    s = Sluiced(no_proxy=False).start()
    try:
        old = wait_for(lambda: proxy_pid(s), 10)
        port, _ = listener(s.boto3(), "url", b)
        check(wait_for(lambda: serves(port), 10), "the first proxy serves")
        check_eq(s.stop(signal.SIGTERM), 0, "sluiced stops")
        check(alive(old), "its proxy runs on")
        s.port = free_port()
        s.start()
        new = wait_for(lambda: proxy_pid(s), 10)
        check(new and new != old, "a new proxy for the new URL")
        check(not alive(old), "the old proxy was stopped first")
        check("follows another URL" in s.read_log(tail=0), "the reason is logged")
        check(wait_for(lambda: serves(port), 10), "the new proxy serves the listener")
    finally:
        s.cleanup()
        b.stop()


def test_stop_proxy_on_exit():
    """--stop-proxy-on-exit: the proxy dies with sluiced, on SIGTERM and on
    kill -9; the restarted sluiced runs a new one."""
    s = Sluiced(no_proxy=False, extra_args=["--stop-proxy-on-exit"]).start()
    pids = []
    try:
        pid = wait_for(lambda: proxy_pid(s), 10)
        check(pid, "proxy started")
        pids.append(pid)
        check_eq(s.stop(signal.SIGTERM), 0, "sluiced exits 0 on SIGTERM")
        check(wait_for(lambda: not alive(pid), 5), "the proxy stops with sluiced")
        check(s.proxy_record() is None, "no record of a running proxy")
        s.start()
        new = wait_for(lambda: proxy_pid(s), 10)
        check(new and new != pid, "restarted sluiced runs a new proxy")
        pids.append(new)
        s.kill9()
        check(wait_for(lambda: not alive(new), 5), "the proxy exits when sluiced is killed")
    finally:
        s.cleanup()
        for p in pids:
            if p and alive(p):
                os.kill(p, signal.SIGKILL)


def main():
    run_case(test_coprocess)
    run_case(test_restart_under_load)
    run_case(test_restart_with_credentials)
    run_case(test_other_url_replaces)
    run_case(test_stop_proxy_on_exit)
    report()


if __name__ == "__main__":
    main()
