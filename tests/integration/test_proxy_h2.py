"""HTTP/2 on sluice-proxy's HTTPS listeners (a scripted control plane): the
ALPN choice per AlpnPolicy and routing.http2.enabled, requests with and
without bodies through the HTTP/1.1 exchange (curl --http2, h2load with
many streams), header lists under HTTP/1.1's limits, lb_cookie stickiness
(two set-cookie fields; AWSALB in a cookie crumb of its own), and the floods
bounded: rapid reset, SETTINGS, PING, CONTINUATION, empty frames - each
from a raw client, each ending the session while the proxy serves on."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import check, check_eq, report, run_case  # noqa: E402
from proxy_util import free_port, wait_for  # noqa: E402
import h2_raw as H  # noqa: E402
from tls_util import (EchoBackend, Env, cert_obj, curl, forward_rule, headers_of,  # noqa: E402
                      lb_obj,
                      listener_obj, s_client, target_obj, tg_obj, tmpdir)

H2LOAD = "/usr/bin/h2load"


def alpn_of(port, offer):
    rc, out = s_client(port, None, ["-alpn", offer], brief=False)
    if rc != 0:
        return "refused"
    m = re.search(r"ALPN protocol: (\S+)", out)
    return m.group(1) if m else "none"


def test_alpn():
    pols = ["None", "HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred"]
    ports = {p: free_port() for p in pols}
    off = free_port()

    def snap(be):
        ls = [listener_obj(p, ports[p], ["c-default"], alpn=p) for p in pols]
        ls.append(listener_obj("off", off, ["c-default"], alpn="None", lb="b2"))
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c-default")],
                "load_balancers": [lb_obj(), lb_obj(bid="b2", http2=False)], "listeners": ls,
                "rules": [forward_rule(x["id"]) for x in ls],
                "target_groups": [tg_obj()], "targets": [target_obj(be.port)]}
    e = Env(snap)
    try:
        check(wait_for(lambda: alpn_of(off, "http/1.1") == "http/1.1", 10), "listeners up")
        check_eq(alpn_of(ports["None"], "h2,http/1.1"), "h2", "None: h2 as ALB offers it")
        check_eq(alpn_of(ports["None"], "http/1.1,h2"), "h2", "None: the server's order")
        check_eq(alpn_of(ports["HTTP1Only"], "h2,http/1.1"), "http/1.1", "HTTP1Only")
        check_eq(alpn_of(ports["HTTP1Only"], "h2"), "none", "HTTP1Only: no h2 even if asked")
        check_eq(alpn_of(ports["HTTP2Only"], "h2,http/1.1"), "h2", "HTTP2Only")
        check_eq(alpn_of(ports["HTTP2Only"], "http/1.1"), "refused",
                 "HTTP2Only refuses a client without h2")
        check_eq(alpn_of(ports["HTTP2Optional"], "h2,http/1.1"), "http/1.1",
                 "HTTP2Optional prefers HTTP/1.1")
        check_eq(alpn_of(ports["HTTP2Optional"], "h2"), "h2", "HTTP2Optional takes h2 alone")
        check_eq(alpn_of(ports["HTTP2Preferred"], "http/1.1,h2"), "h2", "HTTP2Preferred")
        check_eq(alpn_of(off, "h2,http/1.1"), "http/1.1", "routing.http2.enabled=false: no h2")
        rc, out, _ = curl("https://x:%d/" % ports["HTTP1Only"], ports["HTTP1Only"], "x",
                          ["--http2", "-o", "/dev/null", "-w", "%{http_version}"])
        check_eq(out, b"1.1", "curl --http2 on HTTP1Only speaks 1.1")
        rc, out, _ = curl("https://x:%d/" % ports["HTTP2Only"], ports["HTTP2Only"], "x",
                          ["--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"])
        check_eq(out, b"2 200", "HTTP2Only serves h2")
    finally:
        e.close()


def h2_env(port, backend=None):
    def snap(be):
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c-default")],
                "load_balancers": [lb_obj()],
                "listeners": [listener_obj("l", port, ["c-default"])],
                "rules": [forward_rule("l")], "target_groups": [tg_obj()],
                "targets": [target_obj(be.port)]}
    e = Env(snap, backend)
    check(wait_for(lambda: curl("https://x:%d/" % port, port, "x", ["--http2"])[0] == 0, 10),
          "h2 listener serves: %s" % e.p.read_log()[-500:])
    return e


def test_requests():
    port = free_port()
    e = h2_env(port)
    d = tmpdir()
    try:
        rc, out, _ = curl("https://x:%d/p/q?r=1" % port, port, "x",
                          ["--http2", "-H", "X-Custom: v1", "-b", "a=1; b=2", "-w",
                           "\n%{http_version}"])
        body, ver = out.rsplit(b"\n", 1)
        h = headers_of(body)
        check_eq(ver, b"2", "curl spoke HTTP/2")
        check(body.startswith(b"GET /p/q?r=1"), "path and query reach the target: %r" % body[:40])
        check_eq(h.get("host"), "x:%d" % port, ":authority becomes Host")
        check_eq(h.get("x-custom"), "v1", "fields pass")
        check_eq(h.get("cookie"), "a=1; b=2", "cookie crumbs joined")
        check_eq(h.get("x-forwarded-proto"), "https", "X-Forwarded-Proto over h2")
        check("connection" not in h, "no Connection from the stream to the target: %r" % h)
        f = os.path.join(d, "body")
        with open(f, "wb") as fh:
            fh.write(b"z" * 300000)
        rc, out, _ = curl("https://x:%d/up" % port, port, "x", ["--http2", "--data-binary",
                                                                  "@" + f])
        check(b"len=300000" in out and headers_of(out).get("content-length") == "300000",
              "a body with content-length: %r" % out[:60])
        rc, out, _ = curl("https://x:%d/up2" % port, port, "x", ["--http2", "-T", f])
        check(b"len=300000" in out, "an upload passes whole: %r" % out[:80])
        p = subprocess.run(["/usr/bin/curl", "-sk", "--http2", "--resolve",
                            "x:%d:127.0.0.1" % port, "-T", "-", "https://x:%d/chunk" % port],
                           input=b"y" * 70000, capture_output=True, timeout=20)
        h = headers_of(p.stdout)
        check(b"len=70000" in p.stdout and h.get("transfer-encoding") == "chunked",
              "a body without content-length goes chunked: %r" % p.stdout[:200])
        rc, out, _ = curl("https://x:%d/" % port, port, "x", ["--http2", "-I"])
        check(out.startswith(b"HTTP/2 200") and b"content-length:" in out.lower(),
              "HEAD over h2: %r" % out[:80])
        for code in ("204", "304"):  # answers without a body end their stream
            rc, out, _ = curl("https://x:%d/status/%s" % (port, code), port, "x",
                              ["--http2", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                               "5"])
            check_eq((rc, out), (0, code.encode()), "a %s over h2 ends at once" % code)
        rc, out, _ = curl("https://x:%d/up" % port, port, "x", ["--http2", "-H",
                                                              "Expect: 100-continue",
                                                              "--data-binary", "@" + f])
        check(b"len=300000" in out, "Expect: 100-continue over h2: %r" % out[:60])
        # a header list over HTTP/1.1's limits: 431, as HTTP/1.1 would answer
        many = []
        for i in range(140):
            many += ["-H", "x-h%d: v" % i]
        rc, out, _ = curl("https://x:%d/" % port, port, "x", ["--http2", "-o", "/dev/null",
                                                             "-w", "%{http_code}"] + many)
        check_eq(out, b"431", "129+ fields: 431")
        # curl will not send 68 KB of fields: a raw client does
        c = H.Conn(port)
        hb = H.hpack(H.request_headers(port, "/big", extra=[("x-big%d" % i, "a" * 1700)
                                                             for i in range(40)]))
        parts = [hb[i:i + 16384] for i in range(0, len(hb), 16384)]
        out = H.frame(H.HEADERS, H.END_STREAM, 1, parts[0])
        for k, part in enumerate(parts[1:]):
            out += H.frame(H.CONTINUATION, H.END_HEADERS if k == len(parts) - 2 else 0, 1, part)
        n = e.be.count
        c.send(out)
        resp = None
        for _ in range(10):
            f = c.read_frame()
            if f is None or (f[0] == H.HEADERS and f[2] == 1):
                resp = f
                break
        c.close()
        check(resp is not None and b"431" in resp[3] and resp[1] & H.END_STREAM,
              "a 68 KB header list: 431: %r" % (resp,))
        check_eq(e.be.count, n, "and it never reached the target")
        # many streams on a few connections
        p = subprocess.run([H2LOAD, "-n", "2000", "-c", "4", "-m", "50",
                            "https://127.0.0.1:%d/h2load" % port],
                           capture_output=True, timeout=120)
        out = p.stdout.decode()
        check(re.search(r"2000 succeeded, 0 failed, 0 errored", out) and
              "status codes: 2000 2xx" in out, "h2load 2000 requests, 50 streams "
                                               "each: %s" % out[-600:])
        check_eq(e.be.count >= 2000, True, "every request reached the target")
    finally:
        e.close()


def flood_case(port, name, build, check_backend=None):
    """Send <build>(conn) frames on a fresh connection; the session must end
    with GOAWAY ENHANCE_YOUR_CALM or PROTOCOL_ERROR, or be closed."""
    c = H.Conn(port)
    try:
        c.send(build())
    except OSError:
        pass
    frames = c.frames_until_close()
    c.close()
    return H.goaway_code(frames), frames


def test_floods():
    port = free_port()
    e = h2_env(port)
    try:
        before = e.be.count

        def rapid_reset():
            out = b""
            for i in range(1000):
                sid = 2 * i + 1
                out += H.frame(H.HEADERS, H.END_HEADERS | H.END_STREAM, sid,
                               H.hpack(H.request_headers(port, "/rr%d" % i)))
                out += H.frame(H.RST_STREAM, 0, sid, (8).to_bytes(4, "big"))  # CANCEL
            return out
        code, _ = flood_case(port, "rapid reset", rapid_reset)
        check_eq(code, H.ENHANCE_YOUR_CALM, "rapid reset: GOAWAY ENHANCE_YOUR_CALM")
        time.sleep(0.5)
        check(e.be.count - before < 300, "rapid reset reached the target %d times of 1000" %
              (e.be.count - before))
        code, _ = flood_case(port, "settings", lambda: H.frame(H.SETTINGS, 0, 0) * 1000)
        check_eq(code, H.ENHANCE_YOUR_CALM, "SETTINGS flood: GOAWAY ENHANCE_YOUR_CALM")
        code, _ = flood_case(port, "ping", lambda: H.frame(H.PING, 0, 0, b"12345678") * 1000)
        check_eq(code, H.ENHANCE_YOUR_CALM, "PING flood: GOAWAY ENHANCE_YOUR_CALM")

        def continuation():
            hb = H.hpack(H.request_headers(port, "/c"))
            out = H.frame(H.HEADERS, 0, 1, hb)
            for i in range(200):
                out += H.frame(H.CONTINUATION, 0, 1, H.hpack([("x-c%d" % i, "v" * 10)]))
            return out
        code, frames = flood_case(port, "continuation", continuation)
        check(code in (H.ENHANCE_YOUR_CALM, 1) or not frames,
              "CONTINUATION flood ends the session: %r" % code)

        def empties():
            out = H.frame(H.HEADERS, H.END_HEADERS, 1,
                          H.hpack(H.request_headers(port, "/e", "POST")))
            return out + H.frame(H.DATA, 0, 1) * 1000
        code, _ = flood_case(port, "empty", empties)
        check_eq(code, H.ENHANCE_YOUR_CALM, "empty DATA flood: GOAWAY ENHANCE_YOUR_CALM")

        def too_many_streams():
            out = b""
            for i in range(200):
                out += H.frame(H.HEADERS, H.END_HEADERS, 2 * i + 1,
                               H.hpack(H.request_headers(port, "/s%d" % i, "POST")))
            return out
        c = H.Conn(port)
        c.send(too_many_streams())
        refused = 0
        deadline = time.time() + 5
        while time.time() < deadline and refused < 72:
            f = c.read_frame()
            if f is None:
                break
            if f[0] == H.RST_STREAM and int.from_bytes(f[3], "big") == 7:  # REFUSED_STREAM
                refused += 1
        c.close()
        check_eq(refused, 72, "past 128 concurrent streams: REFUSED_STREAM")
        check(e.p.proc.poll() is None, "the proxy lives on")
        rc, out, _ = curl("https://x:%d/after" % port, port, "x", ["--http2"])
        check(rc == 0 and out.startswith(b"GET /after"), "and serves after the floods")
    finally:
        e.close()


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_large_bodies():
    """1 GiB up and 1 GiB down over h2 (128 MiB under the sanitizers, which
    are ~10x slower) in bounded memory: the proxy's peak RSS stays far below
    what it moved."""
    asan = os.environ.get("ASAN_OPTIONS")
    size = (128 << 20) if asan else (1 << 30)
    port = free_port()
    if asan:  # ASan keeps up to 256 MiB of freed blocks (its quarantine): not the proxy's
        os.environ["ASAN_OPTIONS"] = asan + ":quarantine_size_mb=4"
    try:
        e = h2_env(port)
    finally:
        if asan:
            os.environ["ASAN_OPTIONS"] = asan
    d = tmpdir()
    try:
        f = os.path.join(d, "big")
        with open(f, "wb") as fh:
            fh.truncate(size)  # sparse: reading it costs no disk
        base = vm_hwm_kb(e.p.proc.pid)
        rc, out, err = curl("https://x:%d/upload" % port, port, "x",
                            ["--http2", "-T", f, "-w", "\n%{http_version}"], timeout=300)
        check(b"len=%d" % size in out and out.endswith(b"\n2"),
              "%d bytes uploaded over h2: %r %s" % (size, out[:80], err[-200:]))
        rc, out, err = curl("https://x:%d/zero/%d" % (port, size), port, "x",
                            ["--http2", "-o", "/dev/null", "-w", "%{size_download} %{http_version}"],
                            timeout=300)
        check_eq(out, b"%d 2" % size, "%d bytes downloaded over h2" % size)
        peak = vm_hwm_kb(e.p.proc.pid)
        print("proxy peak RSS: %d KiB before, %d KiB after moving 2 x %d MiB over h2"
              % (base, peak, size >> 20), flush=True)
        check(peak < 64 * 1024, "the proxy's peak RSS stays under 64 MiB: %d KiB" % peak)
    finally:
        e.close()


def test_sticky():
    """lb_cookie stickiness over h2: the answer's AWSALB and AWSALBCORS come
    as two set-cookie fields (never joined), and a request whose AWSALB comes
    in a cookie field of its own, as browsers split cookies (RFC 9113 8.2.3),
    goes to the target it names."""
    port = free_port()
    other = EchoBackend()

    def snap(be):
        tg = tg_obj()
        tg["stickiness"] = {"enabled": True, "type": "lb_cookie",
                            "lb_cookie_duration_seconds": 120, "cookie_key": "5a" * 32}
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c-default")],
                "load_balancers": [lb_obj()],
                "listeners": [listener_obj("l", port, ["c-default"])],
                "rules": [forward_rule("l")], "target_groups": [tg],
                "targets": [target_obj(be.port), target_obj(other.port)]}
    e = Env(snap)
    try:
        check(wait_for(lambda: curl("https://x:%d/" % port, port, "x", ["--http2"])[0] == 0, 10),
              "h2 listener serves: %s" % e.p.read_log()[-500:])
        rc, out, _ = curl("https://x:%d/first" % port, port, "x",
                          ["--http2", "-D", "-", "-o", "/dev/null"])
        sets = [ln.split(":", 1)[1].strip() for ln in out.decode().splitlines()
                if ln.lower().startswith("set-cookie:")]
        check_eq(sorted(c.split("=", 1)[0] for c in sets), ["AWSALB", "AWSALBCORS"],
                 "two set-cookie fields over h2: %r" % sets)
        v = [c for c in sets if c.startswith("AWSALB=")][0].split(";")[0].split("=", 1)[1]

        def counts():
            return (e.be.count, other.count)
        before = counts()
        for _ in range(10):
            rc, out, _ = curl("https://x:%d/again" % port, port, "x",
                              ["--http2", "-b", "AWSALB=" + v, "-o", "/dev/null"])
            check_eq(rc, 0, "a request with AWSALB over h2")
        delta = tuple(a - b for a, b in zip(counts(), before))
        check(sorted(delta) == [0, 10], "every request with AWSALB to one target: %r" % (delta,))
        first = delta.index(10)
        before = counts()
        for i in range(6):
            c = H.Conn(port)
            hb = H.hpack(H.request_headers(port, "/crumbs", extra=[
                ("cookie", "x=1"), ("cookie", "AWSALB=" + v), ("cookie", "y=2")]))
            c.send(H.frame(H.HEADERS, H.END_STREAM | H.END_HEADERS, 1, hb))
            done = False
            while not done:
                f = c.read_frame()
                done = f is None or (f[2] == 1 and f[1] & H.END_STREAM)
            c.close()
        delta = tuple(a - b for a, b in zip(counts(), before))
        check_eq(delta[first], 6, "AWSALB in a crumb of its own sticks too: %r" % (delta,))
    finally:
        e.close()
        other.stop()


run_case(test_alpn)
run_case(test_sticky)
run_case(test_large_bodies)
run_case(test_requests)
run_case(test_floods)
report()
