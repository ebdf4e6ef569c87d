"""sluice-proxy draining under load: targets deregistered while 16 keep-alive
clients loop (bounded: 8 s, 20000 requests), a slow request in flight on the
drained target still gets 200, zero failed requests; health transitions show
in DescribeTargetHealth; a watch disconnect resumes without a missed change."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, Proxy, free_port, make_tg, wait_for  # noqa: E402
from listener_mode import ListenerMode  # noqa: E402

S = P = ELB = None
L = ListenerMode()  # HTTP, or HTTPS under SLUICE_IT_LISTENER=https
get = L.get


def states(tg):
    return {d["Target"]["Port"]: d["TargetHealth"]["State"] for d in ELB.describe_target_health(
        TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]}


def test_drain_under_load():
    bs = [Backend("d%d" % i) for i in range(3)]
    port = free_port()
    lb = ELB.create_load_balancer(Name="drain", Scheme="internal")["LoadBalancers"][0]
    tg = make_tg(ELB, "drain-tg", bs)
    ELB.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "20"}])
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    check(wait_for(lambda: set(states(tg).values()) == {"healthy"}, 15),
          "all targets healthy: %r" % states(tg))
    stop = time.time() + 8
    results = {"ok": 0, "fail": [], "n": 0}
    lock = threading.Lock()

    def client():
        c = L.connection(port)
        while time.time() < stop and results["n"] < 20000:
            try:
                c.request("GET", "/load")
                r = c.getresponse()
                r.read()
                with lock:
                    results["n"] += 1
                    if r.status == 200:
                        results["ok"] += 1
                    else:
                        results["fail"].append(r.status)
            except Exception as e:  # noqa: BLE001
                with lock:
                    results["fail"].append(repr(e))
                c.close()
                c = L.connection(port)
        c.close()

    slow = []

    def slow_req():
        st, _, body = get(port, "/slow?t=3", timeout=15)
        slow.append((st, body.split()[0] if body else ""))

    ths = [threading.Thread(target=client) for _ in range(16)]
    for t in ths:
        t.start()
    # three slow requests spread over the three targets: one is on bs[0]
    sls = [threading.Thread(target=slow_req) for _ in range(3)]
    for t in sls:
        t.start()
    time.sleep(1.0)
    # deregister the first target while a slow request may be on it
    ELB.deregister_targets(TargetGroupArn=tg["TargetGroupArn"],
                           Targets=[{"Id": "127.0.0.1", "Port": bs[0].port}])
    time.sleep(1.5)
    ELB.deregister_targets(TargetGroupArn=tg["TargetGroupArn"],
                           Targets=[{"Id": "127.0.0.1", "Port": bs[1].port}])
    after = bs[0].count
    for t in ths:
        t.join(20)
    for t in sls:
        t.join(30)
    check(results["n"] > 100, "load loop ran: %d requests" % results["n"])
    check_eq(results["fail"][:5], [], "zero failed requests (%d ok)" % results["ok"])
    check(len(slow) == 3 and all(st == 200 for st, _ in slow),
          "slow in-flight requests (one on the drained target) finish 200: %r" % slow)
    check(bs[0].count - after <= 20, "drained target got (almost) no new requests after the "
          "proxy applied the change: %d" % (bs[0].count - after))
    check(wait_for(lambda: bs[0].port not in states(tg), 15),
          "drained target removed early once idle: %r" % states(tg))
    for b in bs:
        b.stop()


def test_health_transitions():
    good, bad = Backend("g"), Backend("b")
    bad.health_status = 500
    tg = make_tg(ELB, "hc-tg", [good, bad], Matcher={"HttpCode": "200-299,302"})
    port = free_port()
    lb = ELB.create_load_balancer(Name="hc", Scheme="internal")["LoadBalancers"][0]
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    ok = wait_for(lambda: states(tg) == {good.port: "healthy", bad.port: "unhealthy"}, 20)
    check(ok, "healthy / unhealthy visible: %r" % states(tg))
    d = [x for x in ELB.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
        "TargetHealthDescriptions"] if x["Target"]["Port"] == bad.port]
    check(d and d[0]["TargetHealth"].get("Reason") == "Target.ResponseCodeMismatch",
          "reason code: %r" % d)
    # only the healthy one gets traffic
    bodies = [get(port, "/")[2] for _ in range(10)]
    check(all("version=g" in b for b in bodies), "unhealthy target gets no traffic")
    good.stop()
    bad.stop()


def test_watch_disconnect_resumes():
    b = Backend("w")
    port = free_port()
    lb = ELB.create_load_balancer(Name="wd", Scheme="internal")["LoadBalancers"][0]
    tg = make_tg(ELB, "wd-tg", [b])
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    check(wait_for(lambda: get(port)[0] == 200, 10), "serves before the restart")
    # restart the control plane: the stream drops, the proxy keeps serving
    S.stop()
    check_eq(get(port)[0], 200, "last good table keeps serving without the control plane")
    S.start()
    port2 = free_port()
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port2, **L.listener(),
                        DefaultActions=[{"Type": "fixed-response",
                                         "FixedResponseConfig": {"StatusCode": "204"}}])
    check(wait_for(lambda: get(port2)[0] == 204, 15), "change made during the outage applied")
    b.stop()


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        L.setup(s, "request")
        P = Proxy(s, workers=2)
        try:
            for fn in (test_health_transitions, test_drain_under_load, test_watch_disconnect_resumes):
                run_case(fn)
        finally:
            rc = P.stop()
            check_eq(rc, 0, "sluice-proxy exits 0 on SIGTERM")
            if rc != 0:
                print(P.read_log())
    L.cleanup()
    report()


if __name__ == "__main__":
    main()
