"""How a suite's clients reach the listeners it creates: over plain HTTP (the
default), or over HTTPS when SLUICE_IT_LISTENER=https (the *_https.py
wrappers set it, and it works by hand too:
`SLUICE_IT_LISTENER=https python3 tests/integration/test_proxy_routing.py`).

In HTTPS mode setup() puts a certificate in sluiced's ACM, either imported
(ImportCertificate: a leaf for www.example.com signed by a throw-away root
made here with the openssl command) or requested (RequestCertificate from
sluiced's local CA, whose root is GET /v1/ca.pem).  listener() then gives
CreateListener's Protocol HTTPS and that certificate, and every client made
here connects to 127.0.0.1, sends SNI www.example.com and verifies the
chain and the name against that root.  The Host header stays what the suite
sends over HTTP, so every routing rule sees the same request.

A suite uses it as:
    L = ListenerMode()            # reads SLUICE_IT_LISTENER
    L.setup(sluiced)              # once sluiced runs (no-op over HTTP)
    elb.create_listener(..., Port=port, **L.listener(), DefaultActions=...)
    L.get(port, "/x") / L.raw(port, b"...") / L.connection(port)
Traffic that does not go through a listener (a task's own port, a
backend) keeps using proxy_util's plain helpers."""
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

OPENSSL = "/usr/bin/openssl"
SNI = "www.example.com"


def _openssl(*args, cwd):
    subprocess.run([OPENSSL] + list(args), cwd=cwd, check=True, capture_output=True)


def _make_chain(d):
    """ECDSA P-256 root and leaf (cheap handshakes, under ASan too): the leaf
    names SNI and *.example.com, for the suites' wildcard hosts."""
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,DNS:*.example.com\n" % SNI)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "root.key", "-out", "root.pem", "-days", "2", "-subj",
             "/CN=sluice it root", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=" + SNI, cwd=d)
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-CAcreateserial", "-days", "1", "-extfile", "leaf.ext", "-out", "leaf.pem", cwd=d)


class _SniConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with SNI and name verification for <sni>; the Host
    header stays 127.0.0.1:port as over HTTP (or what the caller sets)."""

    def __init__(self, port, context, sni, timeout):
        super().__init__("127.0.0.1", port, timeout=timeout, context=context)
        self._sni = sni

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._sni)


class ListenerMode:
    def __init__(self, mode=None):
        self.mode = mode or os.environ.get("SLUICE_IT_LISTENER", "http")
        if self.mode not in ("http", "https"):
            raise ValueError("SLUICE_IT_LISTENER=%r: http or https" % self.mode)
        self.https = self.mode == "https"
        self.scheme = self.mode
        self.cert_arn = None
        self.ctx = None
        self.dir = None

    def setup(self, sluiced, how="import"):
        """Put the listener certificate in <sluiced>'s ACM (how = "import"
        or "request") and build the verifying client context."""
        if not self.https:
            return self
        print("listener mode: HTTPS (%s certificate, SNI %s)" % (how, SNI), flush=True)
        acm = sluiced.boto3("acm")
        self.dir = tempfile.mkdtemp(prefix="sluice-it-https-")
        if how == "import":
            _make_chain(self.dir)
            rd = lambda n: open(os.path.join(self.dir, n), "rb").read()  # noqa: E731
            self.cert_arn = acm.import_certificate(
                Certificate=rd("leaf.pem"), PrivateKey=rd("leaf.key"),
                CertificateChain=rd("root.pem"))["CertificateArn"]
            cafile = os.path.join(self.dir, "root.pem")
        elif how == "request":
            self.cert_arn = acm.request_certificate(DomainName=SNI, ValidationMethod="DNS")[
                "CertificateArn"]
            st, _, ca = sluiced.http("GET", "/v1/ca.pem")
            if st != 200:
                raise RuntimeError("GET /v1/ca.pem: %r" % st)
            cafile = os.path.join(self.dir, "ca.pem")
            with open(cafile, "wb") as f:
                f.write(ca)
        else:
            raise ValueError(how)
        self.ctx = ssl.create_default_context(cafile=cafile)  # verifies chain and name
        return self

    def cleanup(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def listener(self):
        """CreateListener's Protocol (and Certificates) for this mode."""
        if not self.https:
            return {"Protocol": "HTTP"}
        return {"Protocol": "HTTPS", "Certificates": [{"CertificateArn": self.cert_arn}]}

    def connection(self, port, timeout=10):
        if not self.https:
            return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        return _SniConnection(port, self.ctx, SNI, timeout)

    def get(self, port, path="/", headers=None, method="GET", body=None, timeout=10):
        """proxy_util.get through this mode's listener."""
        c = self.connection(port, timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def raw(self, port, data, timeout=5):
        """proxy_util.raw through this mode's listener: send raw bytes, return
        everything read until close or timeout."""
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if self.https:
            s = self.ctx.wrap_socket(s, server_hostname=SNI)
        out = b""
        try:
            s.sendall(data)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except socket.timeout:
            pass  # (an EOF without TLS close_notify raises: the proxy must send one)
        finally:
            s.close()
        return out


__all__ = ["ListenerMode", "SNI"]
