"""Helpers for the sluice-proxy integration tests: loopback backends that
report their port, and a sluice-proxy process bound to a Sluiced."""
import http.client
import http.server
import os
import socket
import socketserver
import subprocess
import threading
import time

from sluice_harness import BUILD, free_port


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(n) if n else b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                body_in += self.rfile.read(size)
                self.rfile.readline()
        srv = self.server
        if srv.delay and not self.path.startswith("/health"):
            time.sleep(srv.delay)
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.split("=")[-1]) if "=" in self.path else 2.0)
        if self.path.startswith("/health") and srv.health_status != 200:
            code = srv.health_status
        else:
            code = 200
        body = ("port=%d version=%s path=%s xff=%s len=%d" % (
            srv.server_address[1], srv.version, self.path,
            self.headers.get("X-Forwarded-For"), len(body_in))).encode()
        # Counted before the answer goes out: a client that has the answer
        # must find the request counted (counting after the write raced with
        # tests that compare counts right after their last request).
        if not self.path.startswith("/health"):
            with srv.count_lock:
                srv.count += 1
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _reply


class Backend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, version="v1"):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.version = version
        self.count = 0
        self.count_lock = threading.Lock()
        self.health_status = 200
        self.delay = 0.0  # seconds added to every non-health request
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _Fast(socketserver.BaseRequestHandler):
    """200 "ok" to every body-less request, each answer in one write (a
    head and body written apart meet delayed ACKs: 40 ms a request)."""

    def handle(self):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = self.request.recv(65536)
                    if not d:
                        return
                    buf += d
                _, _, buf = buf.partition(b"\r\n\r\n")
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass


class FastBackend(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Fast)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class Proxy:
    def __init__(self, sluiced, workers=1, extra=(), preexec_fn=None):
        self.log_path = sluiced.data_dir + ".proxy.log"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "sluice-proxy"), "--control-plane", sluiced.url,
             "--id", "it-proxy", "--workers", str(workers), "--log-level", "debug"] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def read_log(self, tail=3000):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-tail:]

    def cpu_seconds(self):
        """User + system CPU time the proxy has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1]) * 1024
        return 0


def get(port, path="/", headers=None, method="GET", body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
    finally:
        c.close()


def wait_for(fn, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(step)
    return last


def raw(port, data, timeout=5):
    """Send raw bytes, return everything read until close or timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except socket.timeout:
        pass
    finally:
        s.close()
    return out


def setup_lb(elb, port, scheme="internal", name="lb1"):
    lb = elb.create_load_balancer(Name=name, Scheme=scheme)["LoadBalancers"][0]
    return lb


def make_tg(elb, name, backends, **kw):
    args = dict(Name=name, Protocol="HTTP", Port=80, VpcId="vpc-1", TargetType="ip",
                HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                HealthyThresholdCount=2, UnhealthyThresholdCount=2, HealthCheckPath="/health")
    args.update(kw)
    tg = elb.create_target_group(**args)["TargetGroups"][0]
    if backends:
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                             Targets=[{"Id": "127.0.0.1", "Port": b.port} for b in backends])
    return tg


__all__ = ["Backend", "FastBackend", "Proxy", "get", "raw", "wait_for", "setup_lb", "make_tg", "free_port"]
