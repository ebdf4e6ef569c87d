"""A raw HTTP/2 client for the flood tests: frames and HPACK literals built
by hand over a TLS socket that negotiated h2, so a test can send exactly
the frames an attacker would (no client library would)."""
import socket
import ssl
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
ENHANCE_YOUR_CALM = 0xb


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def _int(v, prefix):
    """An HPACK integer with a <prefix>-bit prefix (flags bits zero)."""
    top = (1 << prefix) - 1
    if v < top:
        return bytes([v])
    out = [top]
    v -= top
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    out.append(v)
    return bytes(out)


def hpack(headers):
    """Literal fields without indexing, names and values as plain strings."""
    out = b""
    for k, v in headers:
        k, v = k.encode(), v.encode()
        out += b"\x00" + _int(len(k), 7) + k + _int(len(v), 7) + v
    return out


def request_headers(port, path="/", method="GET", extra=()):
    return [(":method", method), (":scheme", "https"), (":authority", "127.0.0.1:%d" % port),
            (":path", path)] + list(extra)


class Conn:
    def __init__(self, port, timeout=10):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        assert self.s.selected_alpn_protocol() == "h2", self.s.selected_alpn_protocol()
        self.buf = b""
        self.s.sendall(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, data):
        self.s.sendall(data)

    def read_frame(self):
        """(type, flags, stream, payload), or None at end of stream."""
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            try:
                b = self.s.recv(65536)
            except (OSError, ssl.SSLError):
                return None
            if not b:
                return None
            self.buf += b
        n = int.from_bytes(self.buf[:3], "big")
        f = (self.buf[3], self.buf[4], int.from_bytes(self.buf[5:9], "big") & 0x7fffffff,
             self.buf[9:9 + n])
        self.buf = self.buf[9 + n:]
        return f

    def frames_until_close(self, limit=100000):
        """Every frame until the server closes (or <limit> frames)."""
        out = []
        while len(out) < limit:
            f = self.read_frame()
            if f is None:
                break
            out.append(f)
        return out

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def goaway_code(frames):
    for t, _, _, p in frames:
        if t == GOAWAY and len(p) >= 8:
            return int.from_bytes(p[4:8], "big")
    return None
