"""HTTP/1.1 semantics through sluice-proxy with real loopback backends:
100-continue, WebSocket/Upgrade tunnelled only after a real 101, HTTP/1.0
clients, hop-by-hop headers stripped and X-Forwarded-Proto/-Port set,
502/503/504, slow-header clients cut off (--header-timeout), and a 1 GiB
upload and download streamed in bounded proxy memory."""
import hashlib
import os
import select
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, get, make_tg, raw, wait_for  # noqa: E402

S = P = ELB = None
GIB = 1 << 30
BLOCK = hashlib.sha256(b"sluice").digest() * (1 << 15)  # 1 MiB, deterministic


def asan_build():
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return "CMAKE_BUILD_TYPE:STRING=Asan" in f.read()
    except OSError:
        return False


# ---- a raw backend: full control over what goes on the wire ----------------

def read_head(f):
    lines = []
    while True:
        ln = f.readline(65536)
        if not ln:
            return None
        if ln in (b"\r\n", b"\n"):
            return b"".join(lines)
        lines.append(ln)


class _RawHandler(socketserver.StreamRequestHandler):
    def handle(self):
        srv = self.server
        f = self.rfile
        while True:
            head = read_head(f)
            if head is None:
                return
            srv.heads.append(head)
            first = head.split(b"\r\n", 1)[0].split(b" ")
            if len(first) < 3:
                srv.garbage.append(head)
                return
            path = first[1].decode()
            hdrs = {}
            for ln in head.split(b"\r\n")[1:]:
                if b":" in ln:
                    k, v = ln.split(b":", 1)
                    hdrs[k.strip().lower().decode()] = v.strip().decode()
            n = int(hdrs.get("content-length", "0"))
            if path == "/continue":
                if hdrs.get("expect", "").lower() == "100-continue":
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.wfile.flush()
                body = f.read(n)
                self.send(200, b"got=%d:%s" % (len(body), body))
                continue
            body = f.read(n) if n else b""
            if path == "/ws":
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\n\r\n")
                self.wfile.flush()
                while True:
                    b = f.read1(65536)
                    if not b:
                        return
                    self.wfile.write(b"echo:" + b)
                    self.wfile.flush()
            if path == "/hang":
                time.sleep(4)
            if path == "/sink":  # a body arrives by Content-Length: count and crc
                pass
            self.send(200, head if path == "/headers" else b"ok " + body)

    def send(self, code, body):
        self.wfile.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (code, len(body), body))
        self.wfile.flush()


class RawBackend(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.port = self.server_address[1]
        self.heads = []
        self.garbage = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


def listener(name, backends, idle=None, tg=None):
    """A load balancer with one HTTP listener forwarding to a new TG."""
    port = free_port()
    lb = ELB.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    if idle:
        ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": str(idle)}])
    tg = tg or make_tg(ELB, name + "-tg", backends)
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return port, tg


def ready(port):
    return wait_for(lambda: get(port, "/headers", timeout=2)[0] == 200, 10)


def conn(port, timeout=5):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def recv_until(s, marker, limit=1 << 20):
    out = b""
    while marker not in out and len(out) < limit:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return out


def recv_response(s):
    """One Content-Length-delimited response from socket s."""
    out = recv_until(s, b"\r\n\r\n")
    head, _, rest = out.partition(b"\r\n\r\n")
    n = 0
    for ln in head.split(b"\r\n"):
        if ln.lower().startswith(b"content-length:"):
            n = int(ln.split(b":")[1])
    while len(rest) < n:
        b = s.recv(65536)
        if not b:
            break
        rest += b
    return head, rest


# ---- cases -----------------------------------------------------------------

def test_continue_and_headers():
    b = RawBackend()
    port, _ = listener("h1", [b])
    check(ready(port), "listener serves")
    # 100-continue: the target's 100 is relayed before the body is sent
    s = conn(port)
    s.sendall(b"POST /continue HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
              b"Expect: 100-continue\r\n\r\n")
    first = recv_until(s, b"\r\n\r\n")
    check(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), "100 Continue relayed: %r" % first)
    s.sendall(b"hello")
    head, body = recv_response(s) if first == b"HTTP/1.1 100 Continue\r\n\r\n" else \
        (first.split(b"\r\n\r\n", 1)[1], b"")
    check(head.startswith(b"HTTP/1.1 200") and body == b"got=5:hello",
          "final response after 100, body delivered: %r %r" % (head[:20], body))
    s.close()
    # hop-by-hop headers never reach the target; X-Forwarded-* set
    s = conn(port)
    s.sendall(b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\n"
              b"X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\n"
              b"Proxy-Connection: keep-alive\r\nX-Keep: yes\r\n"
              b"X-Forwarded-Proto: https\r\nX-Forwarded-Port: 1\r\n\r\n")
    head, body = recv_response(s)
    s.close()
    names = [ln.split(b":")[0].strip().lower() for ln in body.split(b"\r\n")[1:] if b":" in ln]
    for h in (b"x-secret", b"keep-alive", b"te", b"trailer", b"proxy-connection"):
        check(h not in names, "hop-by-hop %s stripped: %r" % (h.decode(), body))
    check(b"x-keep" in names, "end-to-end header kept")
    check(b"X-Forwarded-Proto: http\r\n" in body and names.count(b"x-forwarded-proto") == 1,
          "X-Forwarded-Proto: http (client's replaced): %r" % body)
    check(b"X-Forwarded-Port: %d\r\n" % port in body and names.count(b"x-forwarded-port") == 1,
          "X-Forwarded-Port: listener port")
    # HTTP/1.0 without keep-alive: Connection: close semantics
    t0 = time.time()
    out = raw(port, b"GET /headers HTTP/1.0\r\nHost: a\r\n\r\n", timeout=5)
    check(out.startswith(b"HTTP/1.1 200") and time.time() - t0 < 3,
          "HTTP/1.0 answered and closed by the proxy (%.1f s): %r" % (time.time() - t0, out[:40]))
    check(b"keep-alive" not in out.split(b"\r\n\r\n")[0].lower(), "no keep-alive offered to 1.0")
    # HTTP/1.0 asking for keep-alive keeps the connection
    s = conn(port)
    s.sendall(b"GET /headers HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
    h1, _ = recv_response(s)
    s.sendall(b"GET /headers HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
    h2, _ = recv_response(s)
    s.close()
    check(b"Connection: keep-alive" in h1 and h2.startswith(b"HTTP/1.1 200"),
          "HTTP/1.0 keep-alive honoured: %r / %r" % (h1[:60], h2[:20]))
    b.stop()


def test_upgrade():
    b = RawBackend()
    port, _ = listener("ws", [b])
    check(ready(port), "listener serves")
    s = conn(port)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    head = recv_until(s, b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 101") and b"Upgrade: websocket" in head,
          "101 relayed with Upgrade: %r" % head)
    s.sendall(b"frame-1")
    got = recv_until(s, b"frame-1")
    check(got.endswith(b"echo:frame-1"), "tunnel carries bytes both ways: %r" % got)
    s.sendall(b"\x00\xffbinary")
    got = recv_until(s, b"binary")
    check(got == b"echo:\x00\xffbinary", "tunnel is byte-transparent: %r" % got)
    s.close()
    # a target answering 200 to an Upgrade request: no tunnel, HTTP goes on
    before = len(b.garbage)
    s = conn(port)
    s.sendall(b"GET /plain HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    h, body = recv_response(s)
    check(h.startswith(b"HTTP/1.1 200") and body == b"ok ", "200 to an Upgrade passes: %r" % h)
    s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    rest = recv_until(s, b"\r\n\r\n")
    s.close()
    check(rest.startswith(b"HTTP/1.1 400"), "bytes after a non-101 are parsed as HTTP: %r" % rest)
    time.sleep(0.2)
    check_eq(b.garbage[before:], [], "no raw bytes tunnelled to the target")
    check(not any(h.startswith(b"NOT HTTP") for h in b.heads), "target never saw the raw bytes")
    b.stop()


def test_errors_and_timeouts():
    # 503: no target registered
    port, _ = listener("empty", [])
    check(wait_for(lambda: get(port)[0] == 503, 10), "503 with no registered target")
    # 502: the target refuses connections
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dport = dead.getsockname()[1]
    dead.close()
    tg = make_tg(ELB, "refuse-tg", [])
    ELB.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1",
                                                                         "Port": dport}])
    port, _ = listener("refuse", None, tg=tg)
    check(wait_for(lambda: get(port)[0] == 502, 10), "502 when the target refuses: %r" %
          (get(port)[0],))
    # 504: the target does not answer within idle_timeout (1 s)
    b = RawBackend()
    port, _ = listener("hang", [b], idle=1)
    check(ready(port), "listener serves")
    t0 = time.time()
    st = get(port, "/hang", timeout=10)[0]
    dt = time.time() - t0
    check(st == 504 and 0.8 <= dt < 3.5, "504 after the 1 s idle timeout: %r in %.1f s" % (st, dt))
    # slow headers: cut off after --header-timeout (1 s here)
    s = conn(port, timeout=6)
    t0 = time.time()
    s.sendall(b"GET / HTTP/1.1\r\n")
    closed = False
    for i in range(25):  # one header line per 0.2 s: never a whole head
        if select.select([s], [], [], 0.2)[0]:
            try:
                s.recv(4096)
            except OSError:
                pass
            closed = True
            break
        try:
            s.sendall(b"X-Drip-%d: a\r\n" % i)
        except OSError:
            closed = True
            break
    dt = time.time() - t0
    s.close()
    check(closed and dt < 4.5, "slow-header client cut off (%.1f s)" % dt)
    check_eq(get(port, "/headers")[0], 200, "proxy still serves others")
    b.stop()


STREAM_BACKEND = r'''
import socket, sys, zlib, threading
BLOCK = bytes.fromhex(sys.argv[1]) * (1 << 15)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(16)
print(srv.getsockname()[1], flush=True)
def serve(c):
    f = c.makefile("rb")
    while True:
        head = b""
        while True:
            ln = f.readline()
            if not ln: return
            if ln == b"\r\n": break
            head += ln
        path = head.split(b" ")[1]
        n = 0
        for ln in head.split(b"\r\n"):
            if ln.lower().startswith(b"content-length:"): n = int(ln.split(b":")[1])
        if path.startswith(b"/sink"):
            crc, got = 0, 0
            while got < n:
                b = f.read1(min(1 << 20, n - got))
                if not b: return
                crc = zlib.crc32(b, crc); got += len(b)
            body = b"%d %d" % (got, crc)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif path.startswith(b"/source"):
            total = int(path.split(b"=")[1])
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            sent = 0
            mv = memoryview(BLOCK)
            while sent < total:
                k = min(len(BLOCK), total - sent)
                c.sendall(mv[:k]); sent += k
        elif path.startswith(b"/health"):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        else:
            c.sendall(b"HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n")
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


class _Port:
    def __init__(self, port):
        self.port = port


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(key + ":"):
                return int(ln.split()[1]) * 1024
    return 0


def test_stream_1gib():
    bp = subprocess.Popen([sys.executable, "-c", STREAM_BACKEND, BLOCK[:32].hex()],
                          stdout=subprocess.PIPE)
    try:
        bport = int(bp.stdout.readline())
        port, _ = listener("big", [_Port(bport)])
        check(wait_for(lambda: get(port, "/source?n=10")[0] == 200, 10), "stream listener serves")
        rss0 = vm(P.proc.pid, "VmRSS")
        # upload: generated on the fly, 1 MiB at a time
        s = conn(port, timeout=30)
        t0 = time.time()
        s.sendall(b"POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % GIB)
        crc, sent = 0, 0
        mv = memoryview(BLOCK)
        deadline = t0 + 40
        while sent < GIB and time.time() < deadline:
            s.sendall(mv)
            crc = zlib.crc32(mv, crc)
            sent += len(BLOCK)
        head, body = recv_response(s) if sent == GIB else (b"", b"")
        up_s = time.time() - t0
        s.close()
        check_eq(body, b"%d %d" % (GIB, crc), "1 GiB upload: byte count and crc at the target")
        # download
        s = conn(port, timeout=30)
        t0 = time.time()
        s.sendall(b"GET /source?n=%d HTTP/1.1\r\nHost: a\r\n\r\n" % GIB)
        first = recv_until(s, b"\r\n\r\n")
        head, _, rest = first.partition(b"\r\n\r\n")
        crc, got = zlib.crc32(rest), len(rest)
        buf = bytearray(1 << 20)
        deadline = t0 + 40
        while got < GIB and time.time() < deadline:
            n = s.recv_into(buf)
            if n == 0:
                break
            crc = zlib.crc32(memoryview(buf)[:n], crc)
            got += n
        down_s = time.time() - t0
        s.close()
        want = 0
        for _ in range(GIB // len(BLOCK)):
            want = zlib.crc32(BLOCK, want)
        check(head.startswith(b"HTTP/1.1 200") and got == GIB and crc == want,
              "1 GiB download: %d bytes, crc match %s" % (got, crc == want))
        hwm = vm(P.proc.pid, "VmHWM")
        limit = (256 if asan_build() else 64) << 20
        print("stream: upload %.0f MiB/s, download %.0f MiB/s; proxy RSS %d MiB before, "
              "peak %d MiB" % (1024 / up_s, 1024 / down_s, rss0 >> 20, hwm >> 20), flush=True)
        check(hwm < limit, "proxy peak RSS %d MiB under %d MiB" % (hwm >> 20, limit >> 20))
    finally:
        bp.kill()
        bp.wait()


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        P = Proxy(s, extra=["--header-timeout", "1", "--log-level", "info"])
        try:
            for fn in (test_continue_and_headers, test_upgrade, test_errors_and_timeouts,
                       test_stream_1gib):
                run_case(fn)
        finally:
            rc = P.stop()
            check_eq(rc, 0, "sluice-proxy exits 0 on SIGTERM")
            if rc != 0:
                print(P.read_log())
    report()


if __name__ == "__main__":
    main()
