"""Target-group algorithms through real traffic: least_outstanding_requests
sends fewer requests to a slow target, weighted_random spreads roughly
evenly (and is not a strict rotation), slow_start.duration_seconds ramps a
newly healthy target (few requests early, more later)."""
import http.client
import os
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, Proxy, free_port, get, make_tg, wait_for  # noqa: E402

S = P = ELB = None


def setup(name, backends, attrs):
    tg = make_tg(ELB, name + "-tg", backends, HealthCheckIntervalSeconds=5)
    if attrs:
        ELB.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": k, "Value": v} for k, v in attrs.items()])
    port = free_port()
    lb = ELB.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return tg, port


def healthy(tg, n):
    return wait_for(lambda: [d["TargetHealth"]["State"] for d in ELB.describe_target_health(
        TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]] == ["healthy"] * n, 15)


def load(port, seconds, clients=8, cap=5000):
    """Bounded load: <clients> keep-alive loops for <seconds> or <cap> requests."""
    c = Counter()
    lock = threading.Lock()
    stop = time.time() + seconds

    def run():
        h = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.time() < stop and sum(c.values()) < cap:
            try:
                h.request("GET", "/a")
                r = h.getresponse()
                b = r.read().decode()
                key = b.split()[1] if r.status == 200 else r.status
            except (OSError, http.client.HTTPException) as e:
                key = repr(e)
                h.close()
                h = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with lock:
                c[key] += 1
        h.close()
    ths = [threading.Thread(target=run) for _ in range(clients)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(seconds + 20)
    return c


def test_least_outstanding():
    slow, fast = Backend("slow"), Backend("fast")
    slow.delay = 0.3
    tg, port = setup("lor", [slow, fast], {"load_balancing.algorithm.type":
                                            "least_outstanding_requests"})
    check(healthy(tg, 2), "both healthy")
    c = load(port, 3)
    check(set(c) <= {"version=slow", "version=fast"}, "only 200s: %r" % c)
    check(c["version=fast"] > 4 * max(1, c["version=slow"]),
          "slow target gets far fewer requests: %r" % c)
    # the same pair under round robin splits evenly: the difference is the algorithm
    ELB.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "load_balancing.algorithm.type", "Value": "round_robin"}])
    time.sleep(0.5)
    c = load(port, 2)
    check(abs(c["version=fast"] - c["version=slow"]) <= 8, "round robin is even: %r" % c)
    slow.stop()
    fast.stop()


def test_weighted_random():
    a, b = Backend("a"), Backend("b")
    tg, port = setup("wr", [a, b], {"load_balancing.algorithm.type": "weighted_random"})
    check(healthy(tg, 2), "both healthy")
    seq = []
    h = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(400):
        h.request("GET", "/")
        r = h.getresponse()
        seq.append(r.read().decode().split()[1])
    h.close()
    c = Counter(seq)
    check(130 <= c["version=a"] <= 270 and c["version=a"] + c["version=b"] == 400,
          "weighted_random roughly even over 400: %r" % c)
    repeats = sum(1 for x, y in zip(seq, seq[1:]) if x == y)
    check(repeats > 50, "random, not a rotation: %d repeats in a row" % repeats)
    a.stop()
    b.stop()


def test_slow_start():
    old, new = Backend("old"), Backend("new")
    tg, port = setup("ss", [old], {"slow_start.duration_seconds": "30"})
    check(healthy(tg, 1), "first target healthy")
    ELB.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                         Targets=[{"Id": "127.0.0.1", "Port": new.port}])
    check(healthy(tg, 2), "new target healthy")
    t0 = time.time()
    early = load(port, 3, clients=4)
    time.sleep(max(0, 15 - (time.time() - t0)))
    late = load(port, 3, clients=4)
    fe = early["version=new"] / max(1, sum(early.values()))
    fl = late["version=new"] / max(1, sum(late.values()))
    print("slow start: new target share %.2f early, %.2f at ~15 s" % (fe, fl), flush=True)
    check(fe < 0.2, "few requests early in the ramp: %.2f %r" % (fe, early))
    check(fl > 0.2 and fl > 2 * fe, "more later in the ramp: %.2f vs %.2f" % (fl, fe))
    old.stop()
    new.stop()


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        P = Proxy(s, extra=["--log-level", "info"])
        try:
            for fn in (test_least_outstanding, test_weighted_random, test_slow_start):
                run_case(fn)
        finally:
            rc = P.stop()
            check_eq(rc, 0, "sluice-proxy exits 0 on SIGTERM")
            if rc != 0:
                print(P.read_log())
    report()


if __name__ == "__main__":
    main()
