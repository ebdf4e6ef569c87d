"""A scripted control plane speaking the data-plane feed (not sluiced), for
tests that drive sluice-proxy with exactly the snapshots and watch records
they want."""
import json
import queue
import shutil
import socket
import tempfile
import threading


class FakeControlPlane:
    """Serves the snapshot it is given and streams what send() is given on
    the newest watch; counts snapshot reads and watches; accepts reports."""

    def __init__(self, tls=None):
        """<tls> = (cert file, key file): serve HTTPS."""
        self.ctx = None
        if tls:
            import ssl
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(tls[0], tls[1])
        self.snap = None
        self.snapshots = 0
        self.watches = 0
        self.lock = threading.Lock()
        self.q = None
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.tls_failures = 0
        self.data_dir = tempfile.mkdtemp(prefix="sluice-fakecp-")
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _head(c):
        data = b""
        while b"\r\n\r\n" not in data:
            d = c.recv(65536)
            if not d:
                return None, b""
            data += d
        head, rest = data.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(rest) < n:
            rest += c.recv(65536)
        return head.split(b" ")[1].decode(), rest

    def _serve(self, c):
        if self.ctx:
            try:
                c = self.ctx.wrap_socket(c, server_side=True)
            except OSError:  # the client refused our certificate
                self.tls_failures += 1
                c.close()
                return
        try:
            path, _ = self._head(c)
            if path is None:
                return
            if path.startswith("/v1/dataplane/snapshot"):
                self.snapshots += 1
                body = json.dumps(self.snap).encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            elif path.startswith("/v1/dataplane/watch"):
                q = queue.Queue()
                with self.lock:
                    old, self.q = self.q, q
                    self.watches += 1
                if old:
                    old.put(None)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n")
                while True:
                    line = q.get()
                    if line is None:
                        break
                    data = (json.dumps(line) + "\n").encode()
                    c.sendall(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 15\r\nConnection: close\r\n\r\n{\"revision\":0}\n")
        except OSError:
            pass
        finally:
            c.close()

    def send(self, line):
        with self.lock:
            self.q.put(line)

    def close(self):
        with self.lock:
            if self.q:
                self.q.put(None)
        self.srv.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
