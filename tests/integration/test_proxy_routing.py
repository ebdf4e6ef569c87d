"""sluice-proxy end to end: listeners open and close, every condition type and
action, round-robin and weighted spreads, malformed requests refused."""
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, Proxy, free_port, make_tg, wait_for  # noqa: E402
from listener_mode import ListenerMode  # noqa: E402

S = None
P = None
ELB = None
L = ListenerMode()  # HTTP, or HTTPS under SLUICE_IT_LISTENER=https
get, raw = L.get, L.raw


def ports_of(port, n, path="/", headers=None):
    c = Counter()
    for _ in range(n):
        st, _, body = get(port, path, headers)
        c[body.split()[0] if st == 200 else st] += 1
    return c


def test_listener_and_round_robin():
    bs = [Backend("a"), Backend("b"), Backend("c")]
    port = free_port()
    lb = ELB.create_load_balancer(Name="rr", Scheme="internal")["LoadBalancers"][0]
    tg = make_tg(ELB, "rr-tg", bs)
    ls = ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
                             DefaultActions=[{"Type": "forward",
                                              "TargetGroupArn": tg["TargetGroupArn"]}])
    ok = wait_for(lambda: get(port)[0] == 200, 10)
    check(ok, "listener port %d serves after CreateListener" % port)
    # wait until all three are healthy (first check passes -> healthy)
    wait_for(lambda: all(
        d["TargetHealth"]["State"] == "healthy" for d in ELB.describe_target_health(
            TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]), 10)
    c = ports_of(port, 300)
    check_eq(sum(c.values()), 300, "all requests answered")
    counts = sorted(c.values())
    check(len(c) == 3 and counts[-1] - counts[0] <= 1, "round robin within 1: %r" % c)
    st, h, body = get(port, "/x", {"X-Forwarded-For": "1.2.3.4"})
    check("xff=1.2.3.4, 127.0.0.1" in body, "X-Forwarded-For appended: %s" % body)
    # port change applies live
    port2 = free_port()
    ELB.modify_listener(ListenerArn=ls["Listeners"][0]["ListenerArn"], Port=port2)
    check(wait_for(lambda: get(port2)[0] == 200, 5), "new port serves after ModifyListener")
    check(wait_for(lambda: _refused(port), 5), "old port closed after ModifyListener")
    ELB.delete_listener(ListenerArn=ls["Listeners"][0]["ListenerArn"])
    check(wait_for(lambda: _refused(port2), 5), "port closed after DeleteListener")
    for b in bs:
        b.stop()


def _refused(port):
    try:
        get(port, timeout=1)
        return False
    except ConnectionRefusedError:
        return True


def test_conditions_and_actions():
    a, b = Backend("A"), Backend("B")
    port = free_port()
    lb = ELB.create_load_balancer(Name="cond", Scheme="internal")["LoadBalancers"][0]
    ta = make_tg(ELB, "cond-a", [a])
    tb = make_tg(ELB, "cond-b", [b])
    ls = ELB.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "nothing here"}}]
    )["Listeners"][0]
    larn = ls["ListenerArn"]

    def fwd(tg):
        return [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]

    ELB.create_rule(ListenerArn=larn, Priority=1, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.a.example"]}}], Actions=fwd(ta))
    ELB.create_rule(ListenerArn=larn, Priority=2, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/b/*"]}}], Actions=fwd(tb))
    ELB.create_rule(ListenerArn=larn, Priority=3, Conditions=[
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env",
                                                      "Values": ["beta"]}}], Actions=fwd(tb))
    ELB.create_rule(ListenerArn=larn, Priority=4, Conditions=[
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["DELETE"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "405"}}])
    ELB.create_rule(ListenerArn=larn, Priority=5, Conditions=[
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2*"}]}}],
        Actions=fwd(tb))
    ELB.create_rule(ListenerArn=larn, Priority=6, Conditions=[
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}], Actions=fwd(ta))
    ELB.create_rule(ListenerArn=larn, Priority=7, Conditions=[
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}},
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/src"]}}], Actions=fwd(ta))
    ELB.create_rule(ListenerArn=larn, Priority=8, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old/*"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {
            "Host": "new.example", "Path": "/n/#{path}", "Query": "#{query}&r=1",
            "StatusCode": "HTTP_302"}}])
    ELB.create_rule(ListenerArn=larn, Priority=9, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/w"]}}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": ta["TargetGroupArn"], "Weight": 1},
            {"TargetGroupArn": tb["TargetGroupArn"], "Weight": 3}]}}])
    check(wait_for(lambda: "version=A" in get(port, "/", {"Host": "x.A.example:99"})[2], 10),
          "host-header wildcard, case-insensitive, port stripped")
    check("version=B" in get(port, "/b/c?q=1")[2], "path-pattern")
    check_eq(get(port, "/B/c")[0], 404, "path-pattern is case-sensitive")
    check("version=B" in get(port, "/", {"x-env": "BETA"})[2], "http-header case-insensitive")
    check_eq(get(port, "/", method="DELETE")[0], 405, "http-request-method + fixed-response")
    st, h, body = get(port, "/nope")
    check(st == 404 and body == "nothing here" and h.get("Content-Type") == "text/plain",
          "default fixed-response: %r %r" % (st, body))
    check("version=B" in get(port, "/?V=25")[2], "query-string key/value case-insensitive")
    check_eq(get(port, "/?v=3")[0], 404, "query-string non-match")
    check("version=A" in get(port, "/src")[2], "source-ip 127.0.0.0/8 AND path")
    st, h, _ = get(port, "/old/x/y?a=b")
    # #{protocol} and #{port} are the listener's: https over an HTTPS one
    want = "%s://new.example:%d/n/old/x/y?a=b&r=1" % (L.scheme, port)
    check(st == 302 and h.get("Location") == want,
          "redirect with placeholders: %r %r" % (st, h.get("Location")))
    # A body sent to a local answer is read and dropped; the connection stays
    # usable (plain, chunked); one over 1 MiB or behind Expect ends it.
    out = raw(port, b"DELETE /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
              b"POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\n\r\n"
              b"GET /b/z HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", timeout=5)
    check(out.startswith(b"HTTP/1.1 405") and b"nothing here" in out and b"path=/b/z" in out
          and out.count(b"Connection: close") == 1,
          "bodies of locally answered requests skipped, connection kept: %r" % out[:400])
    big = 2 * 1024 * 1024
    out = raw(port, b"POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\nxx" % big,
              timeout=5)
    check(out.startswith(b"HTTP/1.1 404") and b"Connection: close" in out,
          "over-large body to a local answer: answered, then closed: %r" % out[:200])
    c = Counter(get(port, "/w")[2].split()[1] for _ in range(400))
    check(60 <= c["version=A"] <= 140, "weighted forward 1:3 within tolerance: %r" % c)
    a.stop()
    b.stop()


def test_malformed_refused():
    bk = Backend("m")
    port = free_port()
    lb = ELB.create_load_balancer(Name="mal", Scheme="internal")["LoadBalancers"][0]
    tg = make_tg(ELB, "mal-tg", [bk])
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, **L.listener(),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    wait_for(lambda: get(port)[0] == 200, 10)
    # Refused in every desync mitigation mode (Severe, or not a desync
    # matter).  What defensive mode forwards normalized (TE with CL, obs-fold,
    # bare LF) is test_proxy_hygiene.py's.
    cases = {
        "dup cl": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "space colon": b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "no host": b"GET / HTTP/1.1\r\n\r\n",
        "two hosts": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "bad chunk": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        "cr te": b"POST / HTTP/1.1\r\nHost: a\r\nx:\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    }
    before = bk.count
    for name, data in cases.items():
        out = raw(port, data)
        check(out.startswith(b"HTTP/1.1 400"), "%s refused with 400: %r" % (name, out[:40]))
        check(b"Connection: close" in out, "%s closes" % name)
    check_eq(bk.count, before, "no malformed request reached the backend")
    # pipelining + chunked body + HTTP/1.0
    out = raw(port, b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
              b"GET /3 HTTP/1.0\r\n\r\n", timeout=5)
    i1, i2, i3 = out.find(b"path=/1"), out.find(b"path=/2 "), out.find(b"path=/3")
    check(0 < i1 < i2 < i3, "pipelined answered in order: %r" % out[:300])
    check(b"path=/2 xff=127.0.0.1 len=5" in out, "chunked body forwarded")
    bk.stop()


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        L.setup(s, "import")
        P = Proxy(s)
        try:
            for fn in (test_listener_and_round_robin, test_conditions_and_actions,
                       test_malformed_refused):
                run_case(fn)
        finally:
            rc = P.stop()
            check_eq(rc, 0, "sluice-proxy exits 0 on SIGTERM")
            if rc != 0 or s.proc.poll() is not None:
                print(P.read_log())
                print(s.read_log())
    L.cleanup()
    report()


if __name__ == "__main__":
    main()
