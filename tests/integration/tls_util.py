"""Helpers for the TLS tests: certificates made with the openssl command,
handshakes with `openssl s_client`, requests with curl, and a backend that
echoes the request head it got (over HTTP or HTTPS)."""
import atexit
import http.server
import os
import shutil
import socketserver
import ssl
import subprocess
import tempfile
import threading

from feed_cp import FakeControlPlane
from proxy_util import Proxy

OPENSSL = "/usr/bin/openssl"
CURL = "/usr/bin/curl"
CURL_DEFAULTS = []


def make_cert(dirpath, name, cn, sans=(), key="rsa", ca=None):
    """A certificate for <cn> with dNSName <sans> (self-signed, or signed by
    <ca> = (cert, key) paths): returns (cert_pem, key_pem, cert_path, key_path)."""
    kp = os.path.join(dirpath, name + ".key")
    cp = os.path.join(dirpath, name + ".crt")
    if key == "ec":
        subprocess.run([OPENSSL, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                        kp], check=True, capture_output=True)
    else:
        subprocess.run([OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", kp], check=True, capture_output=True)
    ext = os.path.join(dirpath, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=%s\n" % ("CA:TRUE" if name.startswith("ca") else "CA:FALSE"))
        if sans:
            f.write("subjectAltName=" + ",".join(s if s.startswith("IP:") else "DNS:" + s for s in sans) + "\n")
    if ca is None:
        args = [OPENSSL, "req", "-x509", "-new", "-key", kp, "-out", cp, "-days", "3",
                "-subj", "/CN=" + cn, "-addext",
                "basicConstraints=%s" % ("CA:TRUE" if name.startswith("ca") else "CA:FALSE")]
        if sans:
            args += ["-addext", "subjectAltName=" + ",".join(s if s.startswith("IP:") else "DNS:" + s for s in sans)]
        subprocess.run(args, check=True, capture_output=True)
    else:
        csr = os.path.join(dirpath, name + ".csr")
        subprocess.run([OPENSSL, "req", "-new", "-key", kp, "-out", csr, "-subj", "/CN=" + cn],
                       check=True, capture_output=True)
        subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                        "-CAcreateserial", "-out", cp, "-days", "3", "-extfile", ext],
                       check=True, capture_output=True)
    with open(cp) as f:
        cert = f.read()
    with open(kp) as f:
        k = f.read()
    return cert, k, cp, kp


def s_client(port, servername=None, extra=(), data=b"", timeout=10, brief=True):
    """One `openssl s_client` handshake: (returncode, its output)."""
    args = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port] + (["-brief"] if brief
                                                                        else [])
    if servername:
        args += ["-servername", servername]
    else:
        args += ["-noservername"]
    p = subprocess.run(args + list(extra), input=data, capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def peer_subject(port, servername=None):
    """The subject CN the listener presents to <servername>."""
    args = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port]
    args += ["-servername", servername] if servername else ["-noservername"]
    p = subprocess.run(args, input=b"", capture_output=True, timeout=10)
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("subject="):
            return line.split("CN = ", 1)[-1].split("CN=", 1)[-1].strip()
    return None


def curl(url, port=None, host=None, extra=(), timeout=20):
    """curl -k: (returncode, stdout bytes, stderr text); --resolve pins <host>."""
    args = [CURL, "-sk", "--max-time", str(timeout)] + list(CURL_DEFAULTS)
    if host and port:
        args += ["--resolve", "%s:%d:127.0.0.1" % (host, port)]
    p = subprocess.run(args + list(extra) + [url], capture_output=True, timeout=timeout + 10)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


class _Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # the answer in one write: no Nagle + delayed-ACK stall

    def _body(self):
        """The request body's length, Content-Length or chunked."""
        n = int(self.headers.get("Content-Length") or 0)
        got = 0
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return got
                while size > 0:
                    b = self.rfile.read(min(65536, size))
                    if not b:
                        return got
                    got += len(b)
                    size -= len(b)
                self.rfile.readline()
        while got < n:
            b = self.rfile.read(min(65536, n - got))
            if not b:
                break
            got += len(b)
        return got

    def log_message(self, *a):
        pass

    def _zeros(self, n):
        """GET /zero/N: N zero bytes, Content-Length framed, written 1 MiB at a time."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        block = bytes(1 << 20)
        while n > 0:
            k = min(n, len(block))
            self.wfile.write(block[:k])
            n -= k

    def _reply(self):
        if self.path.startswith("/zero/"):
            return self._zeros(int(self.path[6:]))
        if self.path.startswith("/status/"):  # no body; a 304 names the length it would have
            self.send_response(int(self.path[8:]))
            if self.path.endswith("304"):
                self.send_header("Content-Length", "5")
            self.end_headers()
            return
        try:
            got = self._body()
        except ValueError:  # the proxy gave up on the body (a reset stream)
            self.close_connection = True
            return
        lines = ["%s %s" % (self.command, self.path), "len=%d" % got]
        lines += ["%s: %s" % (k.lower(), v) for k, v in self.headers.items()]
        with self.server.lock:
            self.server.count += 1
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.server.close_each:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = _reply


class EchoBackend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Answers every request with its request line, body length and headers
    (lowercased names), one per line.  With <tls> = (cert, key) it speaks
    HTTPS and counts handshakes and resumed sessions."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the proxy opens many connections at once (h2 streams)

    def __init__(self, tls=None):
        super().__init__(("127.0.0.1", 0), _Echo)
        self.port = self.server_address[1]
        self.count = 0
        self.lock = threading.Lock()
        self.handshakes = 0
        self.resumed = 0
        self.close_each = False  # Connection: close on every answer
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(tls[0], tls[1])
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def get_request(self):
        sock, addr = super().get_request()
        if self.ctx:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            sock.settimeout(10)
            try:
                sock.do_handshake()
            except (OSError, ssl.SSLError):
                sock.close()
                raise OSError("handshake failed")
            with self.lock:
                self.handshakes += 1
                self.resumed += 1 if sock.session_reused else 0
            sock.settimeout(None)
        return sock, addr

    def stop(self):
        self.shutdown()
        self.server_close()


def headers_of(body):
    """The echoed head as a dict (lowercased names)."""
    out = {}
    for line in body.decode("utf-8", "replace").splitlines()[2:]:
        k, _, v = line.partition(": ")
        out[k] = v
    return out


def tmpdir():
    """A temporary directory, removed when the test's process exits."""
    d = tempfile.mkdtemp(prefix="sluice-tls-")
    atexit.register(shutil.rmtree, d, True)
    return d


# ---- feed objects for a scripted control plane (feed_cp.py) ----

D = tmpdir()
CERTS = {
    "c-default": make_cert(D, "default", "default.example", ["default.example"]),
    "c-exact": make_cert(D, "exact", "api.wild.example", ["api.wild.example"]),
    "c-wild": make_cert(D, "wild", "wildcard", ["*.wild.example"]),
    "c-wild-ec": make_cert(D, "wildec", "wildcard-ec", ["*.wild.example"], key="ec"),
}


def cert_obj(cid, which=None):
    c = CERTS[which or cid]
    return {"id": cid, "arn": "arn:aws:acm:us-east-1:123456789012:certificate/" + cid,
            "certificate_pem": c[0], "chain_pem": "", "private_key_pem": c[1]}


def lb_obj(tls_headers=False, bid="b", http2=True):
    return {"id": bid, "arn": "arn:" + bid, "scheme": "internal", "idle_timeout_seconds": 60,
            "http2_enabled": http2,
            "x_amzn_tls_version_and_cipher_suite_enabled": tls_headers}


def listener_obj(lid, port, certs, policy="ELBSecurityPolicy-2016-08", proto="HTTPS",
                 alpn="None", lb="b"):
    o = {"id": lid, "arn": "arn:" + lid, "load_balancer_id": lb, "port": port,
         "protocol": proto}
    if proto == "HTTPS":
        o["ssl_policy"] = policy
        o["alpn_policy"] = alpn
        o["certificates"] = [{"certificate_id": c, "default": i == 0}
                             for i, c in enumerate(certs)]
    return o


def forward_rule(lid, tg="g"):
    return {"id": "d-" + lid, "arn": "arn:d-" + lid, "listener_id": lid, "is_default": True,
            "conditions": [], "actions": [{"type": "forward", "order": 1, "target_groups": [
                {"arn": "arn:" + tg, "weight": 1}]}]}


def tg_obj(tid="g", proto="HTTP"):
    return {"id": tid, "arn": "arn:" + tid, "protocol": proto, "port": 80,
            "algorithm": "round_robin", "slow_start_seconds": 0,
            "health_check": {"enabled": False, "protocol": proto, "path": "/", "interval_seconds": 5,
                             "timeout_seconds": 2, "healthy_threshold": 2,
                             "unhealthy_threshold": 2, "matcher": "200"}}


def target_obj(port, tid="g"):
    return {"id": "%s|127.0.0.1|%d" % (tid, port), "target_group_id": tid,
            "address": "127.0.0.1", "port": port, "state": "registered"}


def record(rev, kind, obj=None, op="put", rid=None):
    r = {"feed_version": 1, "rev": rev, "kind": kind, "op": op, "id": rid or obj["id"]}
    if obj is not None:
        r["object"] = obj
    return r


def beat(rev):
    return {"feed_version": 1, "kind": "heartbeat", "rev": rev}


class Env:
    """A fake control plane, a proxy on it, and an echo backend."""

    def __init__(self, snap_fn, backend=None, extra=()):
        self.be = backend or EchoBackend()
        self.cp = FakeControlPlane()
        self.cp.snap = snap_fn(self.be)
        self.p = Proxy(self.cp, extra=extra)
        self.rev = self.cp.snap["revision"]

    def send(self, *recs):
        self.rev += 1
        for kind, obj in recs:
            self.cp.send(record(self.rev, kind, obj))
        self.cp.send(beat(self.rev))

    def close(self):
        self.cp.close()
        self.p.stop()
        self.be.stop()
        os.unlink(self.p.log_path)
