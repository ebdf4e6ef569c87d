"""ALB's header hygiene through a real sluice-proxy, on raw sockets, with a
target that records the bytes it is sent:
routing.http.desync_mitigation_mode (monitor, defensive = the default,
strictest) and routing.http.drop_invalid_header_fields.enabled.

- defensive: Acceptable requests (bare LF, a space in the target) are
  forwarded normalized and the connection stays open; Ambiguous ones (TE
  with CL, obs-fold, a Transfer-Encoding look-alike) are forwarded
  normalized with Connection: close and both connections close after;
  Severe ones get 400 and never reach the target.
- monitor: Ambiguous requests are forwarded and the connection is kept
  (but TE with CL closes after, as RFC 9112 6.1 requires in every mode).
- strictest: anything not Compliant gets 400 and a close.
- drop_invalid_header_fields: X_Forwarded_For is not forwarded (it is
  without the attribute); a non-token name never is.
- The access log's classification and classification_reason are the
  request's (Ambiguous / MultilineHeader, Severe / ..., "-" when compliant).
- Bad attribute values are refused with a ValidationError."""
import os
import shutil
import socket
import socketserver
import sys
import tempfile
import threading

import botocore.exceptions

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, make_tg, wait_for  # noqa: E402
from obs_util import log_files, parse_line, partial_files, read_lines  # noqa: E402

S = P = ELB = None
LOGS = tempfile.mkdtemp(prefix="sluice-hyg-logs-")


def _read_until(sock, buf, marker):
    while marker not in buf:
        d = sock.recv(65536)
        if not d:
            return buf, False
        buf += d
    return buf, True


def _read_n(sock, buf, n):
    while len(buf) < n:
        d = sock.recv(65536)
        if not d:
            return buf, False
        buf += d
    return buf, True


def _fields(head):
    out = []
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        out.append((k.strip().lower(), v.strip()))
    return out


class _Recorder(socketserver.BaseRequestHandler):
    """Reads requests framed as HTTP/1.1 frames them (chunked or
    Content-Length), records each head and body with the connection's
    number, answers 200 "ok", and closes after "Connection: close".  When
    the peer closes, the connection's number goes to .closed."""

    def handle(self):
        srv, sock, buf = self.server, self.request, b""
        with srv.lock:
            srv.nconn += 1
            cid = srv.nconn
        try:
            while True:
                buf, ok = _read_until(sock, buf, b"\r\n\r\n")
                if not ok:
                    break
                head, _, buf = buf.partition(b"\r\n\r\n")
                f = dict(_fields(head))
                body = b""
                if b"chunked" in f.get(b"transfer-encoding", b""):
                    while True:
                        buf, ok = _read_until(sock, buf, b"\r\n")
                        size_line, _, buf = buf.partition(b"\r\n")
                        size = int(size_line.split(b";")[0], 16)
                        buf, ok = _read_n(sock, buf, size + 2)
                        body += buf[:size]
                        buf = buf[size + 2:]
                        if size == 0:
                            break
                elif b"content-length" in f:
                    n = int(f[b"content-length"])
                    buf, ok = _read_n(sock, buf, n)
                    body, buf = buf[:n], buf[n:]
                with srv.lock:
                    srv.seen.append((cid, head, body))
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                if f.get(b"connection", b"").lower() == b"close":
                    return
        except (OSError, ValueError):
            pass
        finally:
            with srv.lock:
                srv.closed.add(cid)


class Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.port = self.server_address[1]
        self.seen, self.closed, self.nconn = [], set(), 0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def mark(self):
        with self.lock:
            return len(self.seen)

    def since(self, mark):
        with self.lock:
            return list(self.seen[mark:])

    def stop(self):
        self.shutdown()
        self.server_close()


class Client:
    """One client connection: send raw bytes, read one response."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def ask(self, data):
        """(status, head, body) of the next response, or (None, ...) when
        the proxy closed first."""
        self.s.sendall(data)
        self.buf, ok = _read_until(self.s, self.buf, b"\r\n\r\n")
        if not ok:
            return None, self.buf, b""
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        n = int(dict(_fields(head)).get(b"content-length", b"0"))
        self.buf, _ = _read_n(self.s, self.buf, n)
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(head.split(b" ")[1]), head, body

    def closed(self, wait=5.0):
        """True when the proxy closes the connection (EOF within <wait> s)."""
        self.s.settimeout(wait)
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.s.close()


def lb_with(name, rec, attrs):
    lb = ELB.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    if attrs:
        ELB.modify_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Attributes=[{"Key": k, "Value": v} for k, v in attrs.items()])
    tg = make_tg(ELB, name + "-tg", [rec], HealthCheckEnabled=False)
    port = free_port()
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])

    def serves():
        c = Client(port)
        try:
            return c.ask(b"GET /ready HTTP/1.1\r\nHost: a\r\n\r\n")[0] == 200
        finally:
            c.close()
    check(wait_for(serves, 15), "%s serves" % name)
    return lb, port


GOOD = b"GET /good HTTP/1.1\r\nHost: a\r\n\r\n"
BARE_LF = b"GET /lf HTTP/1.1\nHost: a\nX-A: 1\n\n"
SPACE_URI = b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"
TE_CL = (b"POST /tecl HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
FOLD = b"GET /fold HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n  b\r\n\r\n"
TE_LOOKALIKE = b"GET /look HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n"
SEVERE = b"POST /severe HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"
UNDERSCORE = b"GET /us HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 6.6.6.6\r\nX-Good: 1\r\n\r\n"


def one(port, rec, data, wait=5.0, up=False):
    """Send <data> on a fresh connection: (status, response head, what the
    target got as [(head, body)], whether the proxy then closed within
    <wait> s (short where a kept connection is expected: a late close
    there could only hide a failure), and with <up> whether the target's
    connection was closed too (else None)."""
    mark = rec.mark()
    c = Client(port)
    try:
        st, head, _ = c.ask(data)
        closed = c.closed(wait) if st is not None else True
    finally:
        c.close()
    got = rec.since(mark)
    up_closed = None
    if up and got:
        up_closed = wait_for(lambda: all(cid in rec.closed for cid, _, _ in got), 5)
    return st, head, [(h, b) for _, h, b in got], closed, up_closed


def fields_of(head):
    return _fields(head)


# ---- cases -----------------------------------------------------------------

def test_defensive(rec):
    _, port = lb_with("hyg-def", rec, {})
    # Acceptable: forwarded normalized, the connection kept
    c = Client(port)
    st, _, _ = c.ask(BARE_LF)
    mark = rec.mark()
    st2, _, _ = c.ask(GOOD)
    c.close()
    check_eq((st, st2), (200, 200), "a bare-LF request is forwarded and the connection kept")
    heads = [h for _, h, _ in rec.seen if h.startswith(b"GET /lf ")]
    check(heads and b"\n" not in heads[-1].replace(b"\r\n", b""),
          "the target gets the bare-LF request with CRLF line ends: %r" % heads[-1:])
    check(heads and (b"x-a", b"1") in fields_of(heads[-1]), "its fields arrive")
    check(len(rec.since(mark)) == 1, "the second request on that connection arrives")
    st, _, got, closed, _ = one(port, rec, SPACE_URI, wait=1)
    check_eq((st, [h.split(b"\r\n")[0] for h, _ in got], closed),
             (200, [b"GET /a%20b HTTP/1.1"], False),
             "a space in the target (Acceptable) is forwarded percent-encoded, kept alive")
    # Ambiguous: forwarded normalized, then both sides close
    st, head, got, closed, up_closed = one(port, rec, TE_CL, up=True)
    check_eq(st, 200, "TE with CL (Ambiguous) is forwarded")
    f = fields_of(got[0][0]) if got else []
    check(got and (b"transfer-encoding", b"chunked") in f and
          not any(k == b"content-length" for k, _ in f) and got[0][1] == b"hello",
          "the target gets TE framing only and the chunked body: %r" % got)
    check((b"connection", b"close") in f, "the target is told Connection: close")
    check(b"connection: close" in head.lower(), "the client is told Connection: close")
    check(closed, "the client connection closes after the Ambiguous request")
    check(up_closed, "the target connection closes after it")
    st, _, got, closed, _ = one(port, rec, FOLD)
    check_eq((st, closed), (200, True), "an obs-fold (Ambiguous) is forwarded, then closed")
    check(got and (b"x-fold", b"a b") in fields_of(got[0][0]),
          "the target gets the folded value on one line: %r" % got)
    st, _, got, closed, _ = one(port, rec, TE_LOOKALIKE)
    check_eq((st, closed), (200, True), "a Transfer-Encoding look-alike is forwarded, closed")
    check(got and not any(b"transfer" in k for k, _ in fields_of(got[0][0])),
          "the look-alike never reaches the target: %r" % got)
    # Severe: 400 in every mode
    st, head, got, closed, _ = one(port, rec, SEVERE)
    check_eq((st, got, closed), (400, [], True), "Content-Length: +5 (Severe) gets 400, closed")
    # drop_invalid_header_fields off: an underscore name is forwarded
    st, _, got, _, _ = one(port, rec, UNDERSCORE, wait=0.01)
    check(st == 200 and got and (b"x_forwarded_for", b"6.6.6.6") in fields_of(got[0][0]),
          "without drop_invalid_header_fields X_Forwarded_For is forwarded")


def test_monitor(rec):
    _, port = lb_with("hyg-mon", rec, {"routing.http.desync_mitigation_mode": "monitor"})
    c = Client(port)
    mark = rec.mark()
    st, head, _ = c.ask(FOLD)
    st2, head2, _ = c.ask(TE_LOOKALIKE)
    st3, _, _ = c.ask(GOOD)
    c.close()
    got = rec.since(mark)
    check_eq((st, st2, st3), (200, 200, 200),
             "monitor: Ambiguous requests are forwarded and the connection kept")
    check(b"connection: close" not in (head + head2).lower(), "monitor: no Connection: close")
    check(len(got) == 3 and not any((b"connection", b"close") in fields_of(h) for _, h, _ in got),
          "monitor: all three reach the target, not told to close: %r" % got)
    # TE with CL: forwarded, but RFC 9112 6.1 has the connection closed after
    st, _, got, closed, _ = one(port, rec, TE_CL)
    check(st == 200 and got and got[0][1] == b"hello" and closed,
          "monitor: TE with CL is forwarded chunked, then the connection closes")
    st, _, got, closed, _ = one(port, rec, SEVERE)
    check_eq((st, got, closed), (400, [], True), "monitor: a Severe request still gets 400")


def test_strictest(rec):
    _, port = lb_with("hyg-str", rec, {"routing.http.desync_mitigation_mode": "strictest"})
    st, _, got, closed, _ = one(port, rec, GOOD, wait=1)
    check_eq((st, len(got), closed), (200, 1, False), "strictest: a compliant request is served")
    for name, data in (("bare LF", BARE_LF), ("space in URI", SPACE_URI), ("TE with CL", TE_CL),
                       ("obs-fold", FOLD), ("look-alike", TE_LOOKALIKE), ("Severe", SEVERE)):
        st, head, got, closed, _ = one(port, rec, data)
        check_eq((st, got, closed), (400, [], True), "strictest: %s gets 400 and a close" % name)


def test_classification_logged(rec):
    lb, port = lb_with("hyg-log", rec, {"routing.http.desync_mitigation_mode": "monitor",
                                        "access_logs.s3.enabled": "true",
                                        "access_logs.s3.bucket": "hyg-logs"})
    root = os.path.join(LOGS, "hyg-logs")
    check(wait_for(lambda: partial_files(root), 15), "hyg-log writes an access log")
    for data in (FOLD, SEVERE, GOOD):
        one(port, rec, data, wait=0.2)
    ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "false"}])
    check(wait_for(lambda: log_files(root) and not partial_files(root), 10),
          "turning the log off completes its file")
    rows = [parse_line(ln) for ln in read_lines(log_files(root))]
    got = {r["request_url"].rsplit("/", 1)[-1]: (r["classification"], r["classification_reason"])
           for r in rows if r}
    check_eq(got.get("fold"), ("Ambiguous", "MultilineHeader"), "an obs-fold is logged Ambiguous")
    # refused unparsed, so its request is logged "- - -" (as ALB logs a 400 it could not parse)
    bad = [(r["classification"], r["classification_reason"]) for r in rows
           if r and r["elb_status_code"] == "400"]
    check(len(bad) == 1 and bad[0][0] == "Severe" and bad[0][1] not in ("-", ""),
          "Content-Length: +5 is logged Severe with its reason: %r" % bad)
    check_eq(got.get("good"), ("-", "-"), "a compliant request is logged -")


def test_drop_invalid(rec):
    lb, port = lb_with("hyg-drop", rec,
                       {"routing.http.drop_invalid_header_fields.enabled": "true"})
    st, _, got, _, _ = one(port, rec, UNDERSCORE, wait=0.01)
    f = fields_of(got[0][0]) if got else []
    check(st == 200 and got, "drop_invalid_header_fields: the request is served")
    check(not any(k == b"x_forwarded_for" for k, _ in f) and (b"x-good", b"1") in f,
          "X_Forwarded_For is dropped, X-Good kept: %r" % f)
    # switched off live: forwarded again
    ELB.modify_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Attributes=[{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"}])

    def forwarded():
        _, _, got, _, _ = one(port, rec, UNDERSCORE, wait=0.01)
        return got and any(k == b"x_forwarded_for" for k, _ in fields_of(got[0][0]))
    check(wait_for(forwarded, 10), "turned off, X_Forwarded_For is forwarded again")


def test_bad_values():
    lb = ELB.create_load_balancer(Name="hyg-bad", Scheme="internal")["LoadBalancers"][0]
    for k, v in (("routing.http.desync_mitigation_mode", "paranoid"),
                 ("routing.http.drop_invalid_header_fields.enabled", "yes")):
        try:
            ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"],
                                                Attributes=[{"Key": k, "Value": v}])
            check(False, "%s=%s refused" % (k, v))
        except botocore.exceptions.ClientError as e:
            check_eq(e.response["Error"]["Code"], "ValidationError", "%s=%s refused" % (k, v))


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        P = Proxy(s, extra=["--log-level", "info", "--access-log-dir", LOGS])
        rec = Recorder()
        try:
            for fn in (test_defensive, test_monitor, test_strictest, test_classification_logged,
                       test_drop_invalid):
                run_case(lambda fn=fn: fn(rec))
            run_case(test_bad_values)
        finally:
            rec.stop()
            check_eq(P.stop(), 0, "sluice-proxy exits 0 on SIGTERM")
            shutil.rmtree(LOGS, ignore_errors=True)
    report()


if __name__ == "__main__":
    main()
