"""The proxy's subscription: a watch stream cut again and again (through a
loopback relay) or dropped by a sluiced restart resumes without a missed
change; a proxy behind the retained change log (--changes-keep) re-reads
the snapshot, on 410 and on a mid-stream {"kind":"gone"}; --credentials with
a Bearer token (co-process and external proxy), a wrong token refused and
logged; HealthCheckEnabled=false shows `unavailable` and still serves."""
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, Proxy, free_port, get, make_tg, wait_for  # noqa: E402


class Relay:
    """A loopback TCP relay to sluiced whose connections can be cut."""

    def __init__(self, target_port):
        self.target = target_port
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.pairs = []
        self.lock = threading.Lock()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                a, _ = self.srv.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                a.close()
                continue
            with self.lock:
                self.pairs.append((a, b))
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self._pipe, args=(x, y), daemon=True).start()

    @staticmethod
    def _pipe(x, y):
        try:
            while True:
                d = x.recv(65536)
                if not d:
                    break
                y.sendall(d)
        except OSError:
            pass
        for s in (x, y):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
            self.cuts += 1
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.srv.close()
        self.cut()


class ProxyVia(Proxy):
    """A proxy subscribed to <url> instead of sluiced's own address."""

    def __init__(self, sluiced, url, extra=(), name=""):
        class _S:
            data_dir = sluiced.data_dir + name
        _S.url = url
        super().__init__(_S, extra=extra)


def fixed(code, body):
    return [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": str(code), "ContentType": "text/plain", "MessageBody": body}}]


def retry(fn, timeout=15):
    """Call fn until it does not raise (sluiced may be restarting)."""
    deadline = time.time() + timeout
    while True:
        try:
            return fn()
        except Exception:  # noqa: BLE001
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def body_of(port, path):
    try:
        st, _, b = get(port, path, timeout=2)
        return st, b
    except OSError:
        return None, None


def refused(port):
    try:
        get(port, timeout=1)
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def converged(port, want, gone_ports):
    for path, body in want.items():
        st, b = body_of(port, path)
        if (body is None and st != 404) or (body is not None and (st, b) != (200, body)):
            return False
    return all(refused(p) for p in gone_ports)


def test_watch_cuts_and_restart():
    s = Sluiced(no_proxy=True).start()
    relay = Relay(s.port)
    p = ProxyVia(s, "http://127.0.0.1:%d" % relay.port)
    try:
        elb = s.boto3()
        port = free_port()
        lb = elb.create_load_balancer(Name="cut", Scheme="internal")["LoadBalancers"][0]
        larn = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                                   Port=port, DefaultActions=fixed(404, "none"))[
            "Listeners"][0]["ListenerArn"]
        check(wait_for(lambda: body_of(port, "/")[0] == 404, 10), "listener up")
        # a load balancer with several listeners: deleting it is one revision
        # with many change records
        multi = elb.create_load_balancer(Name="multi", Scheme="internal")["LoadBalancers"][0]
        mports = [free_port() for _ in range(6)]
        for mp in mports:
            elb.create_listener(LoadBalancerArn=multi["LoadBalancerArn"], Protocol="HTTP",
                                Port=mp, DefaultActions=fixed(200, "m"))
        check(wait_for(lambda: all(body_of(mp, "/")[0] == 200 for mp in mports), 10),
              "multi listeners up")
        stop = threading.Event()

        def cutter():
            while not stop.wait(0.05):
                relay.cut()
        ct = threading.Thread(target=cutter)
        ct.start()
        want = {}
        arns = {}
        try:
            for i in range(30):
                r = retry(lambda: elb.create_rule(
                    ListenerArn=larn, Priority=i + 1, Conditions=[
                        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/r%d" % i]}}],
                    Actions=fixed(200, "r%d" % i)))
                arns[i] = r["Rules"][0]["RuleArn"]
                want["/r%d" % i] = "r%d" % i
                if i % 3 == 2:
                    retry(lambda: elb.delete_rule(RuleArn=arns[i - 1]))
                    want["/r%d" % (i - 1)] = None
                if i == 15:
                    retry(lambda: elb.delete_load_balancer(LoadBalancerArn=multi["LoadBalancerArn"]))
                time.sleep(0.02)
        finally:
            stop.set()
            ct.join()
        check(relay.cuts > 5, "the stream was cut %d times" % relay.cuts)
        ok = wait_for(lambda: converged(port, want, mports), 15)
        check(ok, "every change made during the cuts applied (rules, deletions, the "
              "multi-record load balancer deletion)")
        if not ok:
            print({k: body_of(port, k) for k in want}, [refused(mp) for mp in mports])
        # sluiced restarts (same data dir) with changes right before and after
        for i in range(30, 35):
            elb.create_rule(ListenerArn=larn, Priority=i + 1, Conditions=[
                {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/r%d" % i]}}],
                Actions=fixed(200, "r%d" % i))
            want["/r%d" % i] = "r%d" % i
        s.stop()
        relay.cut()
        s.start()
        for i in range(35, 40):
            elb.create_rule(ListenerArn=larn, Priority=i + 1, Conditions=[
                {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/r%d" % i]}}],
                Actions=fixed(200, "r%d" % i))
            want["/r%d" % i] = "r%d" % i
        elb.delete_rule(RuleArn=arns[0])
        want["/r0"] = None
        check(wait_for(lambda: converged(port, want, mports), 15),
              "changes right before and after a sluiced restart applied")
        check("re-reading snapshot" not in p.read_log(),
              "resumed from the last revision, no snapshot re-read needed")
    finally:
        p.stop()
        os.unlink(p.log_path)
        relay.close()
        s.cleanup()


def test_gone_resnapshot():
    s = Sluiced(no_proxy=True, extra_args=["--changes-keep", "5"]).start()
    relay = Relay(s.port)
    p = ProxyVia(s, "http://127.0.0.1:%d" % relay.port)
    bs = []
    try:
        elb = s.boto3()
        port = free_port()
        lb = elb.create_load_balancer(Name="gone", Scheme="internal")["LoadBalancers"][0]
        larn = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                                   Port=port, DefaultActions=fixed(404, "none"))[
            "Listeners"][0]["ListenerArn"]
        r0 = elb.create_rule(ListenerArn=larn, Priority=1, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old"]}}],
            Actions=fixed(200, "old"))["Rules"][0]["RuleArn"]
        check(wait_for(lambda: body_of(port, "/old") == (200, "old"), 10), "serving")
        # freeze the proxy, drop its stream, make more changes than kept
        os.kill(p.proc.pid, signal.SIGSTOP)
        try:
            relay.cut()
            elb.delete_rule(RuleArn=r0)
            for i in range(12):
                elb.create_rule(ListenerArn=larn, Priority=10 + i, Conditions=[
                    {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/n%d" % i]}}],
                    Actions=fixed(200, "n%d" % i))
        finally:
            os.kill(p.proc.pid, signal.SIGCONT)
        want = {"/old": None}
        want.update({"/n%d" % i: "n%d" % i for i in range(12)})
        check(wait_for(lambda: converged(port, want, []), 15),
              "after a 410 the snapshot brings every change, the deletion too")
        log = p.read_log()
        n410 = log.count("re-reading snapshot")
        check(n410 >= 1, "the proxy logged the snapshot re-read")
        # mid-stream: one call writes more records than kept -> {"kind":"gone"}
        tg = make_tg(elb, "gone-tg", [])
        elb.create_rule(ListenerArn=larn, Priority=100, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/tg"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        check(wait_for(lambda: body_of(port, "/tg")[0] == 503, 10), "empty group: 503")
        time.sleep(0.5)
        bs = [Backend("g%d" % i) for i in range(8)]
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                             Targets=[{"Id": "127.0.0.1", "Port": b.port} for b in bs])
        check(wait_for(lambda: body_of(port, "/tg")[0] == 200, 10),
              "targets registered in one oversized revision are routed")
        check(wait_for(lambda: p.read_log().count("re-reading snapshot") > n410, 5),
              "the mid-stream gone record made the proxy re-read the snapshot")
        seen = {body_of(port, "/tg")[1].split()[0] for _ in range(40)}
        check_eq(len(seen), 8, "all 8 targets of that revision in the table")
    finally:
        p.stop()
        os.unlink(p.log_path)
        relay.close()
        s.cleanup()
        for b in bs:
            b.stop()


CREDS = """[default]
aws_access_key_id = AKIDPROXYTEST
aws_secret_access_key = proxy-secret
sluice_api_token = proxy-token-1
"""


def test_credentials_and_unavailable():
    d = tempfile.mkdtemp(prefix="sluice-cred-")
    good, bad = os.path.join(d, "good"), os.path.join(d, "bad")
    with open(good, "w") as f:
        f.write(CREDS)
    with open(bad, "w") as f:
        f.write(CREDS.replace("proxy-token-1", "wrong-token"))
    b = Backend("cred")
    s = Sluiced(no_proxy=False, extra_args=["--credentials", good]).start()
    ext = wrong = None
    try:
        elb = s.boto3(key="AKIDPROXYTEST", secret="proxy-secret")
        st, _, _ = s.http("GET", "/v1/dataplane/snapshot")
        check_eq(st, 403, "snapshot without a token refused")
        port = free_port()
        lb = elb.create_load_balancer(Name="cred", Scheme="internal")["LoadBalancers"][0]
        tg = make_tg(elb, "cred-tg", [b], HealthCheckEnabled=False)
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward",
                                             "TargetGroupArn": tg["TargetGroupArn"]}])
        check(wait_for(lambda: body_of(port, "/")[0] == 200, 10),
              "the co-process subscribes with the Bearer token and serves")
        # HealthCheckEnabled=false: unavailable, and traffic still flows
        th = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"][0]["TargetHealth"]
        check(th.get("State") == "unavailable" and th.get("Reason") == "Target.HealthCheckDisabled",
              "health check disabled shows unavailable: %r" % th)
        before = b.count
        for _ in range(10):
            check_eq(body_of(port, "/u")[0], 200, "unavailable target serves")
        check(b.count - before == 10, "requests reached the unavailable target")
        time.sleep(2.5)  # reports from the proxy must not turn it into something else
        th = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"][0]["TargetHealth"]
        check_eq(th.get("State"), "unavailable", "still unavailable after proxy reports")
        # an external proxy with the token; one with a wrong token
        port2 = free_port()
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port2,
                            DefaultActions=fixed(200, "two"))
        ext = ProxyVia(s, s.url, extra=["--credentials", good, "--id", "ext"], name=".ext")
        wrong = ProxyVia(s, s.url, extra=["--credentials", bad, "--id", "wrong"], name=".wrong")
        check(wait_for(lambda: "applied revision" in ext.read_log(), 10),
              "external proxy with the token applies the snapshot")
        log = wait_for(lambda: (lambda t: t if "refused our credentials (HTTP 403)" in t else "")(
            wrong.read_log()), 10)
        check(log, "wrong token: refused with 403 and logged clearly")
        check("applied revision" not in (log or "x applied revision"),
              "wrong token: nothing applied")
        check_eq(wrong.proc.poll(), None, "wrong-token proxy keeps retrying (does not crash)")
    finally:
        for x in (ext, wrong):
            if x:
                x.stop()
                os.unlink(x.log_path)
        s.cleanup()
        b.stop()
        shutil.rmtree(d, ignore_errors=True)


def main():
    for fn in (test_watch_cuts_and_restart, test_gone_resnapshot,
               test_credentials_and_unavailable):
        run_case(fn)
    report()


if __name__ == "__main__":
    main()
