"""sluiced's front door under connection and body floods, before any
authentication: idle connections cost no thread (1,000 of them leave
/healthz and the API answering), connections are bounded in total and per
client address, request bodies buffered across all connections are bounded,
a request without valid credentials is refused from its head (the body is
never read), and clients that keep the server waiting are cut off.

Every flood is bounded in count and time; no assertion is about speed
(bench/api-overload prints the numbers)."""
import os
import resource
import signal
import socket
import threading
import time

from sluice_harness import Sluiced, check, check_eq, report, run_case, scratch_dir

CREDS = ("[admin]\naws_access_key_id = AKIDADMIN\naws_secret_access_key = adminsecret\n"
         "sluice_api_token = tok-admin-0123456789\n")


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 4096):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))


def connect(port, source="127.0.0.1", timeout=5):
    c = socket.socket()
    c.settimeout(timeout)
    c.bind((source, 0))
    c.connect(("127.0.0.1", port))
    return c


def request(port, data, source="127.0.0.1", timeout=5):
    """Send <data>, read until the server closes or a response head is in;
    returns (status or None, bytes)."""
    c = connect(port, source, timeout)
    out = b""
    try:
        c.sendall(data)
        while b"\r\n\r\n" not in out:
            part = c.recv(65536)
            if not part:
                break
            out += part
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        c.close()
    return (int(out[9:12]) if out.startswith(b"HTTP/1.") else None), out


def healthz(port, source="127.0.0.1"):
    return request(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                   source)[0]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def closed_by_server(c, within):
    """True if the server closes <c> (EOF or reset) within <within> seconds."""
    c.settimeout(within)
    try:
        return c.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_idle_connections():
    raise_nofile()
    with Sluiced(extra_args=["--runtime", "none"]) as s:
        idle = []
        try:
            for _ in range(1000):
                idle.append(connect(s.port))
            time.sleep(0.3)
            codes = [healthz(s.port) for _ in range(5)]
            check_eq(codes, [200] * 5, "/healthz with 1,000 idle connections open")
            tgs = s.boto3().describe_target_groups()["TargetGroups"]
            check_eq(tgs, [], "the API answers too")
            threads = len(os.listdir("/proc/%d/task" % s.proc.pid))
            check(threads < 100, "no thread per connection: %d threads" % threads)
        finally:
            for c in idle:
                c.close()


def test_connection_limits():
    with Sluiced(extra_args=["--runtime", "none", "--max-connections", "40",
                             "--max-connections-per-client", "10"]) as s:
        held = [connect(s.port, "127.0.0.2") for _ in range(10)]
        try:
            extra = connect(s.port, "127.0.0.2")
            check(closed_by_server(extra, 5), "the 11th connection from 127.0.0.2 is closed")
            extra.close()
            check_eq(healthz(s.port), 200, "another client address is served")
            # Fill the total from other addresses: a new client waits.
            for i in range(3, 6):
                held += [connect(s.port, "127.0.0.%d" % i) for _ in range(10)]
            time.sleep(0.3)
            waiting = connect(s.port)
            waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Connection: close\r\n\r\n")
            waiting.settimeout(1.0)
            try:
                early = waiting.recv(100)
            except socket.timeout:
                early = None
            check(not early, "at 40 connections a 41st is not served: %r" % early)
            for c in held[:5]:
                c.close()
            waiting.settimeout(10)
            data = waiting.recv(100)
            check(data.startswith(b"HTTP/1.1 200"), "served once connections close: %r" % data)
            waiting.close()
        finally:
            for c in held:
                c.close()


def hold_body(port, n, results, i, go, source="127.0.0.1", headers=b""):
    """All of an <n>-byte body but its last byte, wait for <go>, then the last."""
    c = None
    try:
        c = connect(port, source, timeout=30)
        c.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\n" + headers +
                  b"Content-Length: %d\r\n\r\n" % n)
        chunk = b"Action=DescribeTargetGroups&Version=2015-12-01&X=" + b"a" * 65000
        sent = 0
        try:
            while sent < n - 1:
                part = chunk[:min(len(chunk), n - 1 - sent)]
                c.sendall(part)
                sent += len(part)
            go.wait(60)
            c.sendall(b"a")
        except OSError:
            pass
        out = b""
        while b"\r\n" not in out:
            part = c.recv(4096)
            if not part:
                break
            out += part
        results[i] = int(out[9:12]) if out.startswith(b"HTTP/1.") else None
    except OSError:
        results[i] = None
    finally:
        if c is not None:
            c.close()


def test_body_memory_bounded():
    """200 connections each holding a 1 MiB body: sluiced buffers at most its
    budget (32 MiB) and answers the others 503 (retried by SDKs) without
    keeping their bytes."""
    raise_nofile()
    env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"}
    with Sluiced(extra_args=["--runtime", "none"], env=env) as s:
        before = rss_kib(s.proc.pid)
        results = [None] * 200
        go = threading.Event()
        threads = [threading.Thread(target=hold_body, args=(s.port, 1 << 20, results, i, go))
                   for i in range(200)]
        for t in threads:
            t.start()
        peak, last, still, t0 = before, 0, 0, time.time()
        while time.time() - t0 < 60 and still < 10:
            cur = rss_kib(s.proc.pid)
            peak = max(peak, cur)
            still = still + 1 if abs(cur - last) < 256 else 0
            last = cur
            time.sleep(0.1)
        go.set()
        for t in threads:
            t.join(60)
        grown = (peak - before) // 1024
        check(grown < 120, "200 held 1 MiB bodies grew sluiced by %d MiB" % grown)
        check(results.count(503) >= 100, "most got 503: %r" % sorted(set(results), key=str))
        check(results.count(400) >= 16, "the budget's worth were served (400: unknown "
              "parameter X): %d" % results.count(400))
        check_eq(healthz(s.port), 200, "still serving")


def test_refused_before_the_body():
    """With credentials, a request without Authorization, with an unknown key
    or a wrong bearer token is answered from its head: the client sends no
    body at all and still gets its 403."""
    d = scratch_dir()
    path = os.path.join(d, "creds")
    with open(path, "w") as f:
        f.write(CREDS)
    os.chmod(path, 0o600)
    with Sluiced(extra_args=["--runtime", "none", "--credentials", path]) as s:
        cases = [
            (b"POST / HTTP/1.1\r\n", b"", b"<Code>MissingAuthenticationToken</Code>"),
            (b"POST / HTTP/1.1\r\n",
             b"X-Amz-Date: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDNOBODY/%s/"
             b"us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host;x-amz-date, "
             b"Signature=%s\r\n" % (amz_now(), amz_now()[:8], b"0" * 64),
             b"<Code>InvalidClientTokenId</Code>"),
            (b"POST /v1/target-groups HTTP/1.1\r\n", b"Authorization: Bearer wrong\r\n",
             b'"InvalidClientTokenId"'),
            (b"POST /v1/target-groups HTTP/1.1\r\n", b"", b'"MissingAuthenticationToken"'),
        ]
        for line, hdrs, want in cases:
            st, out = request(s.port, line + b"Host: 127.0.0.1\r\nContent-Type: text/plain\r\n" +
                              hdrs + b"Content-Length: 1048576\r\n\r\n", timeout=5)
            check_eq(st, 403, "refused from the head: %r" % want)
            check(want in out or want in request_body(out), "code %r: %r" % (want, out[:300]))
        # 200 such connections at once take no memory for bodies.
        before = rss_kib(s.proc.pid)
        results, go = [None] * 200, threading.Event()
        go.set()
        threads = [threading.Thread(target=hold_body, args=(s.port, 1 << 20, results, i, go))
                   for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        check_eq(results.count(403), 200, "every unsigned 1 MiB body refused")
        grown = (rss_kib(s.proc.pid) - before) // 1024
        check(grown < 40, "and sluiced grew by %d MiB only" % grown)


def request_body(out):
    return out.split(b"\r\n\r\n", 1)[-1]


def amz_now():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()).encode()


def test_slow_clients_time_out():
    with Sluiced(extra_args=["--runtime", "none", "--client-timeout", "1"]) as s:
        idle = connect(s.port)
        check(closed_by_server(idle, 10), "a connection that sends nothing is closed")
        idle.close()
        # A head trickling in, one header every 0.2 s: activity never stops,
        # yet the request is not in within the timeout.
        c = connect(s.port)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        t0, cut = time.time(), False
        while time.time() - t0 < 10:
            try:
                c.sendall(b"X-Slow: %d\r\n" % int((time.time() - t0) * 1000))
            except OSError:
                cut = True
                break
            if closed_by_server(c, 0.2):
                cut = True
                break
        check(cut, "a trickling head is cut off")
        c.close()
        # The same for a body.
        c = connect(s.port)
        c.sendall(b"POST /v1/target-groups HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        t0, cut = time.time(), False
        while time.time() - t0 < 10:
            try:
                c.sendall(b" ")
            except OSError:
                cut = True
                break
            if closed_by_server(c, 0.2):
                cut = True
                break
        check(cut, "a trickling body is cut off")
        c.close()
        # Requests that come in time are served, back to back on one connection.
        c = connect(s.port)
        for i in range(3):
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = c.recv(4096)
            check(data.startswith(b"HTTP/1.1 200"), "keep-alive request %d: %r" % (i, data[:40]))
            time.sleep(0.3)
        c.close()
        check(s.boto3().describe_target_groups()["TargetGroups"] == [], "boto3 works")


def test_shutdown_with_streams_and_requests():
    """SIGTERM with a watch stream parked and idle connections open: sluiced
    ends the stream and exits 0 promptly."""
    with Sluiced(extra_args=["--runtime", "none"]) as s:
        w = connect(s.port, timeout=10)
        w.sendall(b"GET /v1/dataplane/watch?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        check(w.recv(4096).startswith(b"HTTP/1.1 200"), "watch stream open")
        idle = [connect(s.port) for _ in range(20)]
        time.sleep(0.3)
        t0 = time.time()
        rc = s.stop(signal.SIGTERM)
        check_eq(rc, 0, "SIGTERM exits 0")
        check(time.time() - t0 < 8, "promptly (%.1f s)" % (time.time() - t0))
        w.close()
        for c in idle:
            c.close()


def test_open_file_limit():
    """--max-connections must fit the open-file limit: sluiced raises its
    soft limit as far as the hard one allows, lowers the default (with a
    warning) and refuses an explicit value that cannot fit."""
    import subprocess
    from sluice_harness import BUILD, free_port

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 1200))

    d = scratch_dir()
    p = subprocess.run([os.path.join(BUILD, "sluiced"), "--listen", "127.0.0.1:%d" % free_port(),
                        "--data-dir", d, "--no-proxy", "--runtime", "none",
                        "--max-connections", "5000"], capture_output=True, text=True,
                       timeout=20, preexec_fn=low_limit)
    check(p.returncode != 0 and "--max-connections 5000" in p.stderr and "ulimit -n" in p.stderr,
          "an explicit --max-connections beyond the limit is refused: %r" % p.stderr)
    s = Sluiced(extra_args=["--runtime", "none"])
    s.env = dict(s.env)
    orig = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = low_limit
        return orig(*a, **kw)
    subprocess.Popen = popen
    try:
        s.start()
    finally:
        subprocess.Popen = orig
    try:
        check("serving at most 688 connections" in s.read_log(),
              "the default is lowered to fit, with a warning: %r" % s.read_log())
        check_eq(healthz(s.port), 200, "and serves")
    finally:
        s.cleanup()


for t in (test_idle_connections, test_connection_limits, test_body_memory_bounded,
          test_refused_before_the_body, test_slow_clients_time_out,
          test_shutdown_with_streams_and_requests, test_open_file_limit):
    run_case(t)
report()
