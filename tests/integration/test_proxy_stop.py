"""sluice-proxy's graceful stop: on SIGTERM the listening port closes at
once, a request in flight still gets its answer within the grace period
(--stop-grace, default 30 s), and one that outlasts the grace period is cut
when it ends, the proxy exiting 0 either way."""
import os
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, make_tg, wait_for  # noqa: E402


class SlowBackend:
    """A target that answers every request after <delay> seconds and says
    when a request has arrived (so SIGTERM comes while it is in flight)."""

    def __init__(self, delay):
        self.delay = delay
        self.arrived = threading.Event()
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                d = c.recv(65536)
                if not d:
                    return
                data += d
            self.arrived.set()
            threading.Event().wait(self.delay)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.srv.close()


def slow_request(port, out):
    """GET / on a raw socket; out gets the bytes read until close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        out.append(data)
    except OSError as e:
        out.append(repr(e).encode())
    finally:
        s.close()


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def serving_proxy(s, extra, name, b):
    elb = s.boto3()
    port = free_port()
    lb = elb.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    tg = make_tg(elb, name + "-tg", [b], HealthCheckEnabled=False)
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    p = Proxy(s, extra=extra)
    check(wait_for(lambda: not refused(port), 10), "%s: listening" % name)
    return p, port


def in_flight(port, b):
    """A request the target holds; returns its thread and output list."""
    out = []
    t = threading.Thread(target=slow_request, args=(port, out))
    t.start()
    check(b.arrived.wait(10), "the request reached the target")
    return t, out


def test_request_finishes_within_grace():
    b = SlowBackend(2.0)
    with Sluiced(no_proxy=True) as s:
        p, port = serving_proxy(s, ["--stop-grace", "20"], "grace", b)
        try:
            t, out = in_flight(port, b)
            p.proc.send_signal(signal.SIGTERM)
            check(wait_for(lambda: refused(port), 3), "listening port closed at SIGTERM")
            t.join(15)
            check(out and out[0].startswith(b"HTTP/1.1 200") and out[0].endswith(b"slow"),
                  "the request in flight got its answer: %r" % (out[:1],))
            check_eq(p.proc.wait(10), 0, "then the proxy exits 0")
        finally:
            p.stop()
            os.unlink(p.log_path)
            b.stop()


def test_grace_period_ends():
    b = SlowBackend(8.0)
    with Sluiced(no_proxy=True) as s:
        p, port = serving_proxy(s, ["--stop-grace", "0.5"], "short", b)
        try:
            t, out = in_flight(port, b)
            p.proc.send_signal(signal.SIGTERM)
            try:
                rc = p.proc.wait(5)  # well before the target's 8 s answer
            except Exception:  # noqa: BLE001
                rc = None
            check_eq(rc, 0, "the proxy exits 0 once the 0.5 s grace period is over")
            t.join(15)
            check(out and not out[0].startswith(b"HTTP/1.1 200"),
                  "the request outlasting the grace period is cut: %r" % (out[:1],))
            check("up to 500 ms for requests in flight" in p.read_log(),
                  "the grace period is logged")
        finally:
            p.stop()
            os.unlink(p.log_path)
            b.stop()


run_case(test_request_finishes_within_grace)
run_case(test_grace_period_ends)
report()
