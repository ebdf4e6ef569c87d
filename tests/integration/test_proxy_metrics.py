"""Metrics under ALB's CloudWatch names, counted by a real sluice-proxy for
real traffic and read back in Prometheus text: from the proxy itself
(--metrics-listen) and from sluiced, which sums every proxy's reports.
Every family is checked against what the test sent (requests routed, the
load balancer's own 3XX/4XX/5XX answers, the targets' 2XX/5XX, connection
errors, the response-time histogram, connections, bytes, rule
evaluations, healthy and unhealthy hosts); a deregistered target leaves
both outputs; X-Amzn-Trace-Id reaches the targets as ALB sends it; health
transitions are logged in words, and as JSON with --log-format json."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, get, make_tg, raw, wait_for  # noqa: E402
from obs_util import EchoBackend, parse_prom, value  # noqa: E402

S = P = ELB = None
B1 = B2 = None
LB = TG = DEAD = None
PORT = MPORT = None


def lbdim():
    return LB["LoadBalancerArn"].split(":loadbalancer/")[1]


def tgdim(arn):
    return arn.split(":")[-1]


def proxy_metrics():
    st, _, body = get(MPORT, "/metrics")
    check_eq(st, 200, "proxy GET /metrics")
    return parse_prom(body)


def sluiced_metrics():
    st, hdrs, body = S.http("GET", "/metrics")
    check_eq(st, 200, "sluiced GET /metrics")
    check(hdrs.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "exposition content type: %r" % hdrs.get("Content-Type"))
    return parse_prom(body.decode() if isinstance(body, bytes) else json.dumps(body))


def setup():
    global S, P, ELB, B1, B2, LB, TG, DEAD, PORT, MPORT
    S = Sluiced().start()
    ELB = S.boto3()
    B1, B2 = EchoBackend(), EchoBackend()
    LB = ELB.create_load_balancer(Name="obs", Scheme="internal")["LoadBalancers"][0]
    TG = make_tg(ELB, "web", [B1, B2], HealthCheckIntervalSeconds=5)["TargetGroupArn"]
    closed = free_port()  # nothing listens there
    DEAD = ELB.create_target_group(Name="dead", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                   TargetType="ip", HealthCheckIntervalSeconds=5,
                                   HealthCheckTimeoutSeconds=2, UnhealthyThresholdCount=2,
                                   HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    ELB.register_targets(TargetGroupArn=DEAD, Targets=[{"Id": "127.0.0.1", "Port": closed}])
    PORT = free_port()
    lst = ELB.create_listener(LoadBalancerArn=LB["LoadBalancerArn"], Protocol="HTTP", Port=PORT,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": TG}])
    la = lst["Listeners"][0]["ListenerArn"]
    ELB.create_rule(ListenerArn=la, Priority=5, Conditions=[
        {"Field": "path-pattern", "Values": ["/fixed"]}], Actions=[{
            "Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "nope"}}])
    ELB.create_rule(ListenerArn=la, Priority=7, Conditions=[
        {"Field": "path-pattern", "Values": ["/go"]}], Actions=[{
            "Type": "redirect", "RedirectConfig": {"Path": "/elsewhere", "StatusCode": "HTTP_301"}}])
    ELB.create_rule(ListenerArn=la, Priority=9, Conditions=[
        {"Field": "path-pattern", "Values": ["/dead"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": DEAD}])
    MPORT = free_port()
    P = Proxy(S, workers=2, extra=["--metrics-listen", "127.0.0.1:%d" % MPORT])
    check(wait_for(probe, 15), "listener routes")


ANSWERED = [0]  # setup probes the proxy answered: each is counted as it ends


def probe():
    st = get(PORT, "/")[0]
    ANSWERED[0] += 1
    return st == 200


def test_counters():
    lsel = dict(load_balancer=lbdim())
    # the setup's probes are counted just after their last byte went out:
    # take "before" once they all are, or one lands in the delta
    check(wait_for(lambda: (value(proxy_metrics()[0], "sluice_alb_request_count_total", **lsel)
                            or 0) >= ANSWERED[0], 5), "setup probes counted")
    before, types = proxy_metrics()
    check_eq(types.get("sluice_alb_target_response_time_seconds"), "histogram", "histogram type")
    check_eq(types.get("sluice_alb_request_count_total"), "counter", "counter type")
    check_eq(types.get("sluice_alb_active_connection_count"), "gauge", "gauge type")
    for _ in range(10):
        check_eq(get(PORT, "/")[0], 200, "GET /")
    for _ in range(3):
        check_eq(get(PORT, "/code/500")[0], 500, "a target's 500")
    check_eq(get(PORT, "/code/307")[0], 307, "a target's 307")
    for _ in range(2):
        check_eq(get(PORT, "/code/404")[0], 404, "a target's 404")
    for _ in range(2):
        check_eq(get(PORT, "/fixed")[0], 404, "fixed-response 404")
        check_eq(get(PORT, "/go")[0], 301, "redirect 301")
        check_eq(get(PORT, "/dead")[0], 502, "no connection to the target: 502")
    bad = raw(PORT, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    check(bad.startswith(b"HTTP/1.1 400"), "malformed request answered 400: %r" % bad[:40])
    # one keep-alive connection held open while the metrics are read
    hold = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    hold.request("GET", "/")
    hold.getresponse().read()
    state = {}

    def delta(name, **labels):
        return (value(state["after"], name, **labels) or 0) - (value(before, name, **labels) or 0)

    def settled():
        # a request is counted as it ends, just after its last byte went
        # out: the client can be a little ahead
        state["after"] = proxy_metrics()[0]
        return delta("sluice_alb_request_count_total", **lsel) >= 23 and \
            delta("sluice_alb_request_count_per_target_total", target_group=tgdim(TG)) >= 17
    wait_for(settled, 5, 0.1)
    after = state["after"]

    # 10 + 3 + 3 + 2 fixed + 2 redirect + 2 dead + the held one; the 400 is not routed
    check_eq(delta("sluice_alb_request_count_total", **lsel), 23, "RequestCount")
    check_eq(delta("sluice_alb_httpcode_elb_3xx_count_total", **lsel), 2, "HTTPCode_ELB_3XX")
    check_eq(delta("sluice_alb_httpcode_elb_4xx_count_total", **lsel), 3, "HTTPCode_ELB_4XX")
    check_eq(delta("sluice_alb_httpcode_elb_5xx_count_total", **lsel), 2, "HTTPCode_ELB_5XX")
    check_eq(delta("sluice_alb_httpcode_elb_502_count_total", **lsel), 2, "HTTPCode_ELB_502")
    check(delta("sluice_alb_new_connection_count_total", **lsel) >= 20, "NewConnectionCount")
    check(value(after, "sluice_alb_active_connection_count", **lsel) >= 1,
          "ActiveConnectionCount counts the held connection")
    check(delta("sluice_alb_processed_bytes_total", **lsel) > 20 * 60, "ProcessedBytes")
    check(delta("sluice_alb_rule_evaluations_total", **lsel) >= 20, "RuleEvaluations")
    web = dict(target_group=tgdim(TG), load_balancer=lbdim())
    check_eq(delta("sluice_alb_request_count_per_target_total", **web), 17,
             "RequestCountPerTarget, summed over the group")
    check_eq(delta("sluice_alb_httpcode_target_2xx_count_total", **web), 11, "HTTPCode_Target_2XX")
    check_eq(delta("sluice_alb_httpcode_target_3xx_count_total", **web), 1, "HTTPCode_Target_3XX")
    check_eq(delta("sluice_alb_httpcode_target_4xx_count_total", **web), 2, "HTTPCode_Target_4XX")
    check_eq(delta("sluice_alb_httpcode_target_5xx_count_total", **web), 3, "HTTPCode_Target_5XX")
    check_eq(delta("sluice_alb_target_response_time_seconds_count", **web), 17,
             "TargetResponseTime observations")
    for t in (B1, B2):
        tl = dict(web, target="127.0.0.1:%d" % t.port)
        inf = value(after, "sluice_alb_target_response_time_seconds_bucket", le="+Inf", **tl)
        check_eq(inf, value(after, "sluice_alb_target_response_time_seconds_count", **tl),
                 "+Inf bucket == count")
        prev = 0
        for le in ("0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                   "1", "2.5", "10", "+Inf"):
            b = value(after, "sluice_alb_target_response_time_seconds_bucket", le=le, **tl)
            check(b is not None and b >= prev, "cumulative bucket le=%s" % le)
            prev = b or prev
        check(value(after, "sluice_alb_target_response_time_seconds_sum", **tl) >= 0, "sum")
    dead = dict(target_group=tgdim(DEAD))
    check(delta("sluice_alb_target_connection_error_count_total", **dead) >= 2,
          "TargetConnectionErrorCount for the closed port")
    check(wait_for(lambda: value(proxy_metrics()[0], "sluice_alb_unhealthy_host_count",
                                 **dead) == 1, 20), "UnHealthyHostCount of the dead group")
    check_eq(value(after, "sluice_alb_healthy_host_count", **web), 2, "HealthyHostCount")
    check_eq(value(after, "sluice_proxy_applied_revision"), float(S_revision()),
             "the proxy's applied revision")
    hold.close()

    # sluiced sums the proxy's reports (they come within 2 s of a change)
    def agrees():
        s, _ = sluiced_metrics()
        p, _ = proxy_metrics()
        return all(value(s, n, **lsel) == value(p, n, **lsel) for n in (
            "sluice_alb_request_count_total", "sluice_alb_httpcode_elb_4xx_count_total",
            "sluice_alb_processed_bytes_total")) and \
            value(s, "sluice_alb_request_count_per_target_total", **web) == \
            value(p, "sluice_alb_request_count_per_target_total", **web)
    check(wait_for(agrees, 10, 0.5), "sluiced's /metrics equals the proxy's")
    s, _ = sluiced_metrics()
    check_eq(value(s, "sluice_feed_lag_revisions", proxy="it-proxy"), 0.0, "feed lag")
    check_eq(value(s, "sluice_feed_applied_revision", proxy="it-proxy"), float(S_revision()),
             "applied revision per proxy")
    check_eq(value(s, "sluice_store_revision"), float(S_revision()), "store revision")


def S_revision():
    st, _, body = S.http("GET", "/v1/dataplane/snapshot")
    return body["revision"] if st == 200 else -1


def test_trace_ids():
    n1, n2 = len(B1.traces), len(B2.traces)
    get(PORT, "/t")
    got = [t for t in B1.traces[n1:] + B2.traces[n2:] if t]  # health checks carry none
    check(got and re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", got[-1]),
          "a new Root: %r" % got[-1:])
    now = int(time.time())
    check(got and abs(int(got[-1][7:15], 16) - now) < 60, "the Root's time is now")
    root = "Root=1-5759e988-bd862e3fe1be46a994272793"
    st, _, body = get(PORT, "/t", headers={"X-Amzn-Trace-Id": root + ";CalledFrom=app"})
    check(re.fullmatch(r"trace=Self=1-[0-9a-f]{8}-[0-9a-f]{24};" + root + ";CalledFrom=app",
                       body), "Self in front of the client's Root: %r" % body)
    st, _, body = get(PORT, "/t", headers={"X-Amzn-Trace-Id": "Self=1-00000000-000000000000000000000000;" + root})
    check(re.fullmatch(r"trace=Self=1-[0-9a-f]{8}-[0-9a-f]{24};" + root, body) and
          "00000000" not in body, "Self updated: %r" % body)
    st, _, body = get(PORT, "/t", headers={"X-Amzn-Trace-Id": "garbage"})
    check(re.fullmatch(r"trace=Root=1-[0-9a-f]{8}-[0-9a-f]{24}", body),
          "an unparsable header is replaced: %r" % body)


def test_deregistered_target_leaves():
    t2 = "127.0.0.1:%d" % B2.port
    p, _ = proxy_metrics()
    check(value(p, "sluice_alb_request_count_per_target_total", target=t2) is not None,
          "target 2 in the proxy's metrics")
    ELB.modify_target_group_attributes(TargetGroupArn=TG, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
    ELB.deregister_targets(TargetGroupArn=TG, Targets=[{"Id": "127.0.0.1", "Port": B2.port}])
    check(wait_for(lambda: value(proxy_metrics()[0], "sluice_alb_request_count_per_target_total",
                                 target=t2) is None, 15), "gone from the proxy's metrics")
    check(wait_for(lambda: value(sluiced_metrics()[0],
                                 "sluice_alb_request_count_per_target_total",
                                 target=t2) is None, 15), "gone from sluiced's metrics")
    p, _ = proxy_metrics()
    check(value(p, "sluice_alb_request_count_per_target_total",
                target="127.0.0.1:%d" % B1.port) is not None, "target 1 stays")


def test_scrape_endpoint():
    st, _, body = get(MPORT, "/other")
    check_eq(st, 404, "other paths 404")
    st, _, _ = get(MPORT, "/metrics", method="POST", body="x")
    check_eq(st, 405, "POST /metrics 405")
    out = raw(MPORT, b"GET /metrics HTTP/1.1\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 400"), "no Host: 400 (%r)" % out[:30])


def test_health_lines():
    log = P.read_log()
    check(re.search(r"health: target group web: target 127\.0\.0\.1:\d+ is healthy", log),
          "health line names group and target: %s" % log[-800:])
    check(re.search(r"health: target group dead: target 127\.0\.0\.1:\d+ is unhealthy: "
                    r"Target\.(Timeout|FailedHealthChecks) \(", log),
          "unhealthy line gives ALB's reason: %s" % log[-800:])


def test_json_log_format():
    """A second proxy with --log-format json: every line is one JSON object;
    the health transition carries its fields."""
    path = S.data_dir + ".json-proxy.log"
    with open(path, "wb") as log:
        p2 = subprocess.Popen([os.path.join(BUILD, "sluice-proxy"), "--control-plane", S.url,
                               "--id", "json-proxy", "--log-format", "json",
                               "--bind-address", "127.0.0.2"], stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        def health():
            for ln in open(path, encoding="utf-8").read().splitlines():
                o = json.loads(ln)
                if o.get("state") == "healthy":
                    return o
            return None
        o = wait_for(health, 20, 0.2)
        check(o is not None, "a JSON health line")
        if o:
            check_eq(o.get("target_group"), tgdim(TG), "target_group field")
            check(re.fullmatch(r"127\.0\.0\.1:\d+", o.get("target", "")), "target field")
            check_eq(o.get("process"), "sluice-proxy", "process field")
            check(o.get("msg", "").startswith("health: target group web"), "msg field")
    finally:
        p2.terminate()
        p2.wait(10)
    lines = open(path, encoding="utf-8").read().splitlines()
    os.unlink(path)
    check(len(lines) > 2, "the JSON proxy logged")
    for ln in lines:
        try:
            json.loads(ln)
        except ValueError:
            check(False, "not a JSON line: %r" % ln)


def main():
    try:
        setup()
        for fn in (test_counters, test_trace_ids, test_scrape_endpoint,
                   test_deregistered_target_leaves, test_health_lines, test_json_log_format):
            run_case(fn)
    finally:
        if P:
            P.stop()
            os.unlink(P.log_path)
        for b in (B1, B2):
            if b:
                b.stop()
        if S:
            S.cleanup()
    report()


if __name__ == "__main__":
    main()
