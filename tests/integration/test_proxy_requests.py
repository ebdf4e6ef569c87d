"""What sluice-proxy sends on, and what it sends again: a request whose
target hung up is re-sent only if none of it reached the target or it is a
GET, HEAD or OPTIONS without a body (a POST gets 502, as on ALB);
absolute-form requests with an empty path reach the target as "/?q" and
route on "/"; and a deny rule on /admin* holds against every spelling of
/admin a target would resolve to it (rules match the normalized path)."""
import os
import socket
import socketserver
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, Proxy, free_port, get, make_tg, raw, wait_for  # noqa: E402

S = P = ELB = None


class _HangUp(socketserver.StreamRequestHandler):
    """Reads one request (head and Content-Length body), records it, and
    closes without a word."""

    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.request.recv(65536)
            if not d:
                return
            head += d
        h, _, body = head.partition(b"\r\n\r\n")
        n = 0
        for ln in h.split(b"\r\n")[1:]:
            if ln.lower().startswith(b"content-length:"):
                n = int(ln.split(b":")[1])
        while len(body) < n:
            d = self.request.recv(65536)
            if not d:
                break
            body += d
        with self.server.lock:
            self.server.heads.append(h.split(b"\r\n")[0])


class _Backend(socketserver.ThreadingTCPServer):
    """A loopback server of <handler>'s, serving from a thread of its own."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class HangUp(_Backend):
    def __init__(self):
        self.heads = []
        self.lock = threading.Lock()
        super().__init__(_HangUp)

    def seen(self):
        with self.lock:
            return list(self.heads)


class _Echo(socketserver.StreamRequestHandler):
    """Answers each request with its request line as the body."""

    def handle(self):
        while True:
            head = b""
            while b"\r\n\r\n" not in head:
                d = self.request.recv(65536)
                if not d:
                    return
                head += d
            line = head.split(b"\r\n")[0]
            self.server.lines.append(line)
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(line), line))


class Echo(_Backend):
    def __init__(self):
        self.lines = []
        super().__init__(_Echo)


def lb_listener(name, default_actions):
    port = free_port()
    lb = ELB.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    arn = ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                              DefaultActions=default_actions)["Listeners"][0]["ListenerArn"]
    return port, arn


def forward(tg):
    return [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]


def fixed(code, body):
    return [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": str(code), "ContentType": "text/plain", "MessageBody": body}}]


def status_of(port, request):
    out = raw(port, request, timeout=5)
    return int(out.split(b" ")[1]) if out.startswith(b"HTTP/1.1 ") else out


# ---- cases -----------------------------------------------------------------

def test_retries():
    b = HangUp()
    tg = make_tg(ELB, "hang-tg", [b], HealthCheckEnabled=False)
    port, _ = lb_listener("hang", forward(tg))
    check(wait_for(lambda: status_of(port, b"GET /probe HTTP/1.1\r\nHost: a\r\n\r\n") == 502,
                   15), "listener serves (502 from a target that hangs up)")
    time.sleep(0.2)
    cases = [
        (b"POST /post-nobody HTTP/1.1\r\nHost: a\r\n\r\n", 1, "a body-less POST"),
        (b"POST /post-empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 1,
         "a POST with Content-Length: 0"),
        (b"POST /post-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 1,
         "a POST with a body"),
        (b"DELETE /delete HTTP/1.1\r\nHost: a\r\n\r\n", 1, "a DELETE"),
        (b"GET /get HTTP/1.1\r\nHost: a\r\n\r\n", 2, "a GET"),
        (b"HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n", 2, "a HEAD"),
        (b"OPTIONS /options HTTP/1.1\r\nHost: a\r\n\r\n", 2, "an OPTIONS"),
        (b"GET /get-body HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 1,
         "a GET with a body"),
    ]
    for req, want, what in cases:
        path = req.split(b" ")[1]
        st = status_of(port, req)
        time.sleep(0.2)
        n = sum(1 for h in b.seen() if h.split(b" ")[1] == path)
        check_eq((st, n), (502, want), "%s whose target hung up: answered 502, the target saw "
                 "it %d time(s)" % (what, want))
    b.stop()


def test_absolute_form_empty_path():
    e = Echo()
    tg = make_tg(ELB, "abs-tg", [e], HealthCheckEnabled=False)
    port, larn = lb_listener("abs", fixed(404, "default"))
    ELB.create_rule(ListenerArn=larn, Priority=1, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/"]}}], Actions=forward(tg))
    check(wait_for(lambda: get(port, "/")[0] == 200, 15), "rule on / serves")
    out = raw(port, b"GET http://a.example?x=1 HTTP/1.1\r\nHost: b\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200") and out.endswith(b"GET /?x=1 HTTP/1.1"),
          "GET http://host?x=1 routes on / and reaches the target as /?x=1: %r" % out[-60:])
    out = raw(port, b"GET http://a.example HTTP/1.1\r\nHost: b\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200") and out.endswith(b"GET / HTTP/1.1"),
          "GET http://host reaches the target as /: %r" % out[-60:])
    check(not any(ln.startswith(b"GET ?") for ln in e.lines), "no request line without a path")
    e.stop()


BYPASSES = ["/admin", "/admin/", "/admin/users", "/%61dmin", "/%61%64%6d%69%6e/x", "//admin",
            "///admin", "/x/../admin", "/x/y/../../admin", "/x/%2e%2e/admin", "/x/%2E%2E%2Fadmin",
            "/./admin", "/admin/.", "/../admin", "/x\\..\\admin", "/x%5c..%5cadmin",
            "/public/../admin/secret"]


def test_deny_rule_not_bypassed():
    e = Echo()
    tg = make_tg(ELB, "deny-tg", [e], HealthCheckEnabled=False)
    port, larn = lb_listener("deny", forward(tg))
    ELB.create_rule(ListenerArn=larn, Priority=1, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin*"]}}],
        Actions=fixed(403, "denied"))
    check(wait_for(lambda: get(port, "/admin")[0] == 403, 15), "deny rule in place")
    # Until the rule reached the proxy, the probe above was forwarded: forget what it sent.
    del e.lines[:]
    for path in BYPASSES:
        st, _, body = get(port, path)
        check_eq((st, body), (403, "denied"), "deny rule on /admin* holds for %s" % path)
    for path in ("/public", "/administrator-docs/../public", "/%2561dmin"):
        st, _, body = get(port, path)
        check(st == 200 and body.startswith("GET "), "%s is not /admin*: forwarded (%d)"
              % (path, st))
    sent = set(ln.split(b" ")[1].decode() for ln in e.lines)
    check_eq(sorted(sent & set(BYPASSES)), [], "the target never saw an /admin path")
    # the target gets the path as sent: only matching sees the normal form
    st, _, body = get(port, "/public/./x//y")
    check_eq(body, "GET /public/./x//y HTTP/1.1", "the path is forwarded as received")
    e.stop()


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        P = Proxy(s, extra=["--log-level", "info"])
        try:
            for fn in (test_retries, test_absolute_form_empty_path, test_deny_rule_not_bypassed):
                run_case(fn)
        finally:
            check_eq(P.stop(), 0, "sluice-proxy exits 0 on SIGTERM")
    report()


if __name__ == "__main__":
    main()
