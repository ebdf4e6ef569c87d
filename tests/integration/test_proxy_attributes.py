"""Load balancer, listener and target group attributes taking effect in a
real sluice-proxy, with real loopback backends and real clients:
stickiness (lb_cookie AWSALB/AWSALBCORS with their duration, app_cookie
AWSALBAPP-0..3, a forward action's AWSALBTG group stickiness; a bad cookie
or a gone target falls back to balancing and a new cookie; the cookie still
holds after the proxy restarts, since the key is sluiced's), the
X-Forwarded-For modes and client port, Host preserved or rewritten, the idle
timeout on both sides, client_keep_alive.seconds, and the listener's Server
header switch."""
import base64
import email.utils
import http.client
import http.server
import json
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, wait_for  # noqa: E402

S = P = ELB = None


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers JSON naming itself and what it received; /health is 200;
    /login sets the application's cookie SESS; /slow=N sleeps N s."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/slow="):
            time.sleep(float(self.path.split("=")[1]))
        body = json.dumps({"name": self.server.name, "host": self.headers.get("Host"),
                           "xff": self.headers.get_all("X-Forwarded-For"),
                           "cookie": self.headers.get("Cookie")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/login"):
            self.send_header("Set-Cookie", "SESS=s-%s; Path=/" % self.server.name)
        self.end_headers()
        self.wfile.write(body)


class Echo(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, name):
        super().__init__(("127.0.0.1", 0), _Echo)
        self.name = name
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address):
        pass  # a client the proxy gave up on (the 504 case) resets: expected

    def stop(self):
        self.shutdown()
        self.server_close()


def tg_of(name, backends, **attrs):
    tg = ELB.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId="vpc-1",
                                 TargetType="ip", HealthCheckPath="/health",
                                 HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=1,
                                 HealthyThresholdCount=2, UnhealthyThresholdCount=2)
    tg = tg["TargetGroups"][0]
    if backends:
        ELB.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                             Targets=[{"Id": "127.0.0.1", "Port": b.port} for b in backends])
    if attrs:
        ELB.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": k, "Value": v} for k, v in attrs.items()])
    return tg


def lb_of(name, actions, lb_attrs=None, listener_attrs=None):
    port = free_port()
    lb = ELB.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    if lb_attrs:
        ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": k, "Value": v} for k, v in lb_attrs.items()])
    lis = ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                              DefaultActions=actions)["Listeners"][0]
    if listener_attrs:
        modify_listener_attributes(lis["ListenerArn"], listener_attrs)
    return lb, port


def modify_listener_attributes(arn, attrs):
    """ModifyListenerAttributes by the Query API (Debian's botocore predates it)."""
    form = {"Action": "ModifyListenerAttributes", "Version": "2015-12-01", "ListenerArn": arn}
    for i, (k, v) in enumerate(attrs.items(), 1):
        form["Attributes.member.%d.Key" % i] = k
        form["Attributes.member.%d.Value" % i] = v
    st, _, body = S.http("POST", "/", raw=urllib.parse.urlencode(form).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    check_eq(st, 200, "ModifyListenerAttributes: %r" % body)


def fwd(tg):
    return [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]


def healthy(tg, n):
    return wait_for(lambda: [d["TargetHealth"]["State"] for d in ELB.describe_target_health(
        TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]] == ["healthy"] * n, 20)


def request(port, path="/", headers=None, conn=None):
    """One GET (on <conn>, else a new connection): status, [(name, value)], body."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode()
        return r.status, r.getheaders(), body
    finally:
        if conn is None:
            c.close()


def cookies(hdrs):
    """Set-Cookie fields by cookie name: the whole field value."""
    return {v.split("=", 1)[0]: v for k, v in hdrs if k.lower() == "set-cookie"}


def value(setcookie):
    return setcookie.split("=", 1)[1].split(";", 1)[0]


def expires(setcookie):
    for part in setcookie.split(";"):
        if part.strip().lower().startswith("expires="):
            return email.utils.parsedate_to_datetime(part.split("=", 1)[1]).timestamp()
    return None


def name_of(body):
    return json.loads(body)["name"]


def wait_listener(port):
    return wait_for(lambda: request(port)[0] in (200, 404, 503), 15)


# ---- stickiness ------------------------------------------------------------

def test_lb_cookie():
    bs = [Echo("a"), Echo("b"), Echo("c")]
    tg = tg_of("st-lb", bs, **{"stickiness.enabled": "true", "stickiness.type": "lb_cookie",
                               "stickiness.lb_cookie.duration_seconds": "120"})
    _, port = lb_of("st-lb", fwd(tg))
    check(healthy(tg, 3), "three targets healthy")
    wait_listener(port)
    # without a cookie, requests spread over the targets
    spread = Counter(name_of(request(port)[2]) for _ in range(30))
    check(len(spread) == 3, "without the cookie requests spread: %r" % spread)
    st, hdrs, body = request(port)
    c = cookies(hdrs)
    check_eq(st, 200, "first request")
    check("AWSALB" in c and "AWSALBCORS" in c, "AWSALB and AWSALBCORS set: %r" % c)
    check_eq(value(c["AWSALB"]), value(c["AWSALBCORS"]), "both carry the same value")
    check("SameSite=None" in c["AWSALBCORS"] and "Secure" in c["AWSALBCORS"],
          "AWSALBCORS is SameSite=None; Secure: %s" % c["AWSALBCORS"])
    check("Path=/" in c["AWSALB"] and "SameSite" not in c["AWSALB"], "AWSALB: %s" % c["AWSALB"])
    exp = expires(c["AWSALB"])
    check(exp is not None and abs(exp - (time.time() + 120)) < 15,
          "Expires is the duration (120 s) away: %s" % c["AWSALB"])
    first = name_of(body)
    check(b"127.0.0.1" not in base64.urlsafe_b64decode(value(c["AWSALB"]) + "=="),
          "the value names no target in clear")
    got = Counter(name_of(request(port, headers={"Cookie": "AWSALB=" + value(c["AWSALB"])})[2])
                  for _ in range(30))
    check_eq(dict(got), {first: 30}, "with AWSALB every request goes to %s" % first)
    got = Counter(name_of(request(port, headers={
        "Cookie": "x=1; AWSALBCORS=%s; y=2" % value(c["AWSALBCORS"])})[2]) for _ in range(15))
    check_eq(dict(got), {first: 15}, "AWSALBCORS alone sticks too")
    # a forged or damaged cookie: balanced as usual, and a new valid cookie
    v = value(c["AWSALB"])
    bad = ("A" if v[5] != "A" else "B").join([v[:5], v[6:]])
    spread = Counter()
    for _ in range(30):
        st, h2, b2 = request(port, headers={"Cookie": "AWSALB=" + bad})
        spread[name_of(b2)] += 1
        check(value(cookies(h2)["AWSALB"]) != bad, "a damaged cookie is replaced")
    check(len(spread) >= 2, "a damaged cookie does not stick: %r" % spread)
    # the key is sluiced's: a restarted proxy reads the cookie it set
    global P
    check_eq(P.stop(), 0, "proxy stops")
    P = Proxy(S)
    wait_listener(port)
    # A new proxy routes only to the targets its own first health checks
    # have passed (ALB's "initial"); until then the cookie's may be skipped.
    check(wait_for(lambda: name_of(request(port, headers={"Cookie": "AWSALB=" + v})[2]) == first,
                   10, 0.05), "the new proxy's health checks pass")
    got = Counter(name_of(request(port, headers={"Cookie": "AWSALB=" + v})[2]) for _ in range(10))
    check_eq(dict(got), {first: 10}, "a new proxy process honours the old cookie")
    # the target deregistered: the cookie falls back, and names a new target
    ELB.deregister_targets(TargetGroupArn=tg["TargetGroupArn"],
                           Targets=[{"Id": "127.0.0.1", "Port": b.port}
                                    for b in bs if b.name == first])
    moved = wait_for(lambda: name_of(request(port, headers={"Cookie": "AWSALB=" + v})[2]) != first,
                     10)
    check(moved, "a deregistered target's cookie goes elsewhere")
    st, h3, b3 = request(port, headers={"Cookie": "AWSALB=" + v})
    nv = value(cookies(h3)["AWSALB"])
    second = name_of(b3)
    got = Counter(name_of(request(port, headers={"Cookie": "AWSALB=" + nv})[2]) for _ in range(10))
    check_eq(dict(got), {second: 10}, "the new cookie sticks to the new target")
    # stickiness off: no cookie
    ELB.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "stickiness.enabled", "Value": "false"}])
    check(wait_for(lambda: "AWSALB" not in cookies(request(port)[1]), 10),
          "stickiness off: no AWSALB")
    for b in bs:
        b.stop()


def refused(tg, attrs):
    """The ValidationError message of a ModifyTargetGroupAttributes, or None."""
    try:
        ELB.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": k, "Value": v} for k, v in attrs.items()])
    except ELB.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None


def test_app_cookie():
    bs = [Echo("p"), Echo("q"), Echo("r")]
    t0 = tg_of("st-app0", [])
    got = refused(t0, {"stickiness.enabled": "true", "stickiness.type": "app_cookie"})
    check(got is not None and got[0] == "ValidationError" and "cookie_name" in got[1],
          "app_cookie without a cookie name refused: %r" % (got,))
    got = refused(t0, {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
                       "stickiness.app_cookie.cookie_name": "AWSALBAPP-0"})
    check(got is not None and got[0] == "ValidationError" and "reserved" in got[1],
          "an AWSALB* cookie name refused: %r" % (got,))
    tg = tg_of("st-app", bs, **{"stickiness.enabled": "true", "stickiness.type": "app_cookie",
                                "stickiness.app_cookie.cookie_name": "SESS",
                                "stickiness.app_cookie.duration_seconds": "300"})
    _, port = lb_of("st-app", fwd(tg))
    check(healthy(tg, 3), "three targets healthy")
    wait_listener(port)
    st, hdrs, _ = request(port, "/")
    check(not [k for k in cookies(hdrs) if k.startswith("AWSALB")],
          "no AWSALB* cookie while the application sets none: %r" % cookies(hdrs))
    st, hdrs, body = request(port, "/login")
    c = cookies(hdrs)
    check("SESS" in c, "the application's cookie is passed on")
    check(all(("AWSALBAPP-%d" % i) in c for i in range(4)), "AWSALBAPP-0..3 set: %r" % sorted(c))
    check_eq([value(c["AWSALBAPP-%d" % i]) for i in (1, 2, 3)], ["_remove_"] * 3,
             "AWSALBAPP-1..3 are _remove_")
    exp = expires(c["AWSALBAPP-0"])
    check(exp is not None and abs(exp - (time.time() + 7 * 86400)) < 60,
          "AWSALBAPP-0 expires in 7 days, as on ALB: %s" % c["AWSALBAPP-0"])
    owner = name_of(body)
    jar = "SESS=%s; AWSALBAPP-0=%s" % (value(c["SESS"]), value(c["AWSALBAPP-0"]))
    got = Counter(name_of(request(port, "/", headers={"Cookie": jar})[2]) for _ in range(30))
    check_eq(dict(got), {owner: 30}, "AWSALBAPP-0 keeps the client on %s" % owner)
    spread = Counter(name_of(request(port, "/", headers={"Cookie": "SESS=x"})[2])
                     for _ in range(30))
    check(len(spread) == 3, "the application's cookie alone does not stick: %r" % spread)
    for b in bs:
        b.stop()


def test_group_stickiness():
    b1, b2 = Echo("g1"), Echo("g2")
    t1, t2 = tg_of("st-g1", [b1]), tg_of("st-g2", [b2])
    _, port = lb_of("st-grp", [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": t1["TargetGroupArn"], "Weight": 1},
                         {"TargetGroupArn": t2["TargetGroupArn"], "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 600}}}])
    check(healthy(t1, 1) and healthy(t2, 1), "both groups healthy")
    wait_listener(port)
    spread = Counter(name_of(request(port)[2]) for _ in range(40))
    check(len(spread) == 2, "without AWSALBTG both groups get requests: %r" % spread)
    st, hdrs, body = request(port)
    c = cookies(hdrs)
    check("AWSALBTG" in c and "AWSALBTGCORS" in c, "AWSALBTG and AWSALBTGCORS: %r" % sorted(c))
    check("SameSite=None" in c["AWSALBTGCORS"] and "Secure" in c["AWSALBTGCORS"],
          "AWSALBTGCORS is SameSite=None; Secure")
    exp = expires(c["AWSALBTG"])
    check(exp is not None and abs(exp - (time.time() + 600)) < 15, "AWSALBTG lasts 600 s")
    grp = name_of(body)
    got = Counter(name_of(request(port, headers={"Cookie": "AWSALBTG=" + value(c["AWSALBTG"])})[2])
                  for _ in range(30))
    check_eq(dict(got), {grp: 30}, "AWSALBTG keeps the client on group %s" % grp)
    b1.stop()
    b2.stop()


# ---- forwarding headers ----------------------------------------------------

def raw_get(port, host, extra=b""):
    """A GET from a socket whose port we know: (client port, backend's JSON)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        cport = s.getsockname()[1]
        s.sendall(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n" + extra + b"Connection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        return cport, json.loads(data.split(b"\r\n\r\n", 1)[1])
    finally:
        s.close()


def test_xff_and_host():
    b = Echo("x")
    tg = tg_of("xff", [b])
    lb, port = lb_of("xff", fwd(tg))
    check(healthy(tg, 1), "target healthy")
    wait_listener(port)

    def lb_attrs(**kv):
        ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": k, "Value": v} for k, v in kv.items()])

    host = b"www.example.com:9999"
    xff = b"X-Forwarded-For: 203.0.113.7\r\n"
    _, got = raw_get(port, host, xff)
    check_eq(got["xff"], ["203.0.113.7, 127.0.0.1"], "append (default): the client appended")
    check_eq(got["host"], "www.example.com:%d" % port,
             "Host rewritten by default: the listener's port replaces the client's")
    lb_attrs(**{"routing.http.xff_client_port.enabled": "true"})
    ok = wait_for(lambda: raw_get(port, host, xff)[1]["xff"] != ["203.0.113.7, 127.0.0.1"], 10)
    cport, got = raw_get(port, host, xff)
    check(ok, "client port change reached the proxy")
    check_eq(got["xff"], ["203.0.113.7, 127.0.0.1:%d" % cport], "append with the client port")
    lb_attrs(**{"routing.http.xff_header_processing.mode": "preserve",
                "routing.http.preserve_host_header.enabled": "true"})
    check(wait_for(lambda: raw_get(port, host, xff)[1]["xff"] == ["203.0.113.7"], 10),
          "preserve: X-Forwarded-For as the client sent it")
    _, got = raw_get(port, host, xff)
    check_eq(got["host"], "www.example.com:9999", "preserve_host_header: Host as sent")
    _, got = raw_get(port, host)
    check_eq(got["xff"], None, "preserve without one from the client: none")
    lb_attrs(**{"routing.http.xff_header_processing.mode": "remove"})
    check(wait_for(lambda: raw_get(port, host, xff)[1]["xff"] is None, 10),
          "remove: no X-Forwarded-For")
    b.stop()


# ---- connections -----------------------------------------------------------

def test_idle_timeout():
    b = Echo("i")
    tg = tg_of("idle", [b])
    _, port = lb_of("idle", fwd(tg), lb_attrs={"idle_timeout.timeout_seconds": "2"})
    check(healthy(tg, 1), "target healthy")
    wait_listener(port)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    st, _, _ = request(port, conn=c)
    check_eq(st, 200, "first request answered")
    t0 = time.time()
    try:
        tail = c.sock.recv(65536)
    except socket.timeout:
        tail = None
    waited = time.time() - t0
    c.close()
    check_eq(tail, b"", "an idle client connection is closed by the proxy")
    check(waited >= 1.5, "not before the idle timeout (%.1f s)" % waited)
    st, _, _ = request(port, "/slow=4")
    check_eq(st, 504, "a target silent past the idle timeout: 504")
    b.stop()


def test_server_header():
    _, port = lb_of("srv", [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "none"}}])
    wait_listener(port)
    st, hdrs, _ = request(port)
    check_eq(st, 404, "fixed response")
    check("server" in {k.lower() for k, _ in hdrs}, "Server on the proxy's answer by default")
    lis = ELB.describe_listeners(LoadBalancerArn=ELB.describe_load_balancers(Names=["srv"])[
        "LoadBalancers"][0]["LoadBalancerArn"])["Listeners"][0]
    modify_listener_attributes(lis["ListenerArn"], {"routing.http.response.server.enabled": "false"})
    check(wait_for(lambda: "server" not in {k.lower() for k, _ in request(port)[1]}, 10),
          "routing.http.response.server.enabled=false: no Server header")


class KeepAlive:
    """A client connection on a load balancer with client_keep_alive.seconds
    = 60 (AWS's minimum), opened early and checked last so the suite does not
    wait the minute for it alone."""

    def __init__(self):
        self.b = Echo("k")
        tg = tg_of("ka", [self.b])
        # idle timeout past the other cases' run time: only the keep-alive limit closes it
        _, self.port = lb_of("ka", fwd(tg), lb_attrs={"client_keep_alive.seconds": "60",
                                                     "idle_timeout.timeout_seconds": "600"})
        check(healthy(tg, 1), "target healthy")
        wait_listener(self.port)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.t0 = time.time()
        st, hdrs, _ = request(self.port, conn=self.conn)
        check_eq(st, 200, "keep-alive connection's first request")
        self.closes = [dict((k.lower(), v) for k, v in hdrs).get("connection") == "close"]

    def finish(self):
        # requests every 0.5 s (well inside the idle timeout) until one says close
        deadline = self.t0 + 75
        closed_at = None
        while time.time() < deadline:
            st, hdrs, _ = request(self.port, conn=self.conn)
            if dict((k.lower(), v) for k, v in hdrs).get("connection") == "close":
                closed_at = time.time() - self.t0
                break
            self.closes.append(False)
            time.sleep(0.5)
        check(closed_at is not None and closed_at >= 59,
              "Connection: close once the connection is 60 s old (at %s s)" % closed_at)
        check(not any(self.closes), "no close before")
        sock = self.conn.sock
        check(sock is None or sock.recv(1) == b"", "the proxy closed the connection after it")
        self.conn.close()
        self.b.stop()


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        import boto3
        from botocore.config import Config
        ELB = boto3.client("elbv2", endpoint_url=s.url, region_name="us-east-1",
                           aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                           config=Config(retries={"max_attempts": 1},
                                         parameter_validation=False))  # 1 s health checks
        P = Proxy(s)
        try:
            run_case(test_lb_cookie)  # restarts the proxy: before the long-lived connection
            ka = KeepAlive()
            for fn in (test_app_cookie, test_group_stickiness, test_xff_and_host,
                       test_idle_timeout, test_server_header):
                run_case(fn)
            run_case(ka.finish)
        finally:
            rc = P.stop()
            check_eq(rc, 0, "sluice-proxy exits 0 on SIGTERM")
            if rc != 0:
                print(P.read_log())
    report()


if __name__ == "__main__":
    main()
