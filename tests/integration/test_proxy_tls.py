"""HTTPS listeners of sluice-proxy, driven by a scripted control plane
speaking the feed: certificates by SNI as ALB picks them (exact, wildcard,
default; ECDSA or RSA by what the client takes), the SslPolicy enforced
(versions and ciphers), X-Forwarded-Proto/-Port and the x-amzn-tls-*
headers, redirects to HTTPS, and certificate rotation that keeps open
connections."""
import http.client
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import check, check_eq, report, run_case  # noqa: E402
from proxy_util import free_port, wait_for  # noqa: E402
import h2_raw  # noqa: E402
from tls_util import (CERTS, EchoBackend, Env, beat, cert_obj, curl, forward_rule, headers_of,  # noqa: E402
                      lb_obj, listener_obj, peer_subject, record, s_client, target_obj, tg_obj)

def https_ok(port, name="default.example"):
    rc, out, _ = curl("https://%s:%d/" % (name, port), port, name)
    return rc == 0 and out.startswith(b"GET /")


def test_sni_and_headers():
    port, hport = free_port(), free_port()

    def snap(be):
        return {"feed_version": 1, "revision": 3,
                "certificates": [cert_obj("c-default"), cert_obj("c-exact"), cert_obj("c-wild"),
                                 cert_obj("c-wild-ec")],
                "load_balancers": [lb_obj(tls_headers=True)],
                "listeners": [listener_obj("l", port, ["c-default", "c-wild", "c-wild-ec",
                                                       "c-exact"]),
                              listener_obj("h", hport, [], proto="HTTP")],
                "rules": [forward_rule("l"), {
                    "id": "d-h", "arn": "arn:d-h", "listener_id": "h", "is_default": True,
                    "conditions": [], "actions": [{
                        "type": "redirect", "order": 1, "status_code": 301,
                        "protocol": "HTTPS", "host": "#{host}", "port": "443",
                        "path": "/#{path}", "query": "#{query}"}]}],
                "target_groups": [tg_obj()], "targets": [target_obj(be.port)]}
    e = Env(snap)
    try:
        check(wait_for(lambda: https_ok(port), 10), "the HTTPS listener serves: %s" %
              e.p.read_log()[-800:])
        check_eq(peer_subject(port, "default.example"), "default.example", "exact default name")
        check_eq(peer_subject(port, "api.wild.example"), "api.wild.example",
                 "an exact name beats a wildcard")
        check_eq(peer_subject(port, "API.Wild.Example"), "api.wild.example",
                 "names match case-insensitively")
        sub = peer_subject(port, "www.wild.example")
        check(sub in ("wildcard", "wildcard-ec"), "a wildcard matches one label: %r" % sub)
        check_eq(peer_subject(port, "a.b.wild.example"), "default.example",
                 "a wildcard matches one label only")
        check_eq(peer_subject(port, "wild.example"), "default.example",
                 "a wildcard does not match its parent")
        check_eq(peer_subject(port, "other.example"), "default.example", "no match: the default")
        check_eq(peer_subject(port, None), "default.example", "no SNI: the default")
        rc, out = s_client(port, "www.wild.example", ["-sigalgs", "ECDSA+SHA256", "-tls1_2"])
        check("wildcard-ec" in out or "ECDSA" in out, "an ECDSA client gets the ECDSA "
              "certificate: %s" % out[-400:])
        rc, out = s_client(port, "www.wild.example", ["-sigalgs", "RSA+SHA256", "-tls1_2"])
        check(rc == 0 and "wildcard-ec" not in out, "an RSA-only client gets the RSA one: %s"
              % out[-400:])
        rc, body, _ = curl("https://default.example:%d/x?y=1" % port, port, "default.example")
        h = headers_of(body)
        check_eq(h.get("x-forwarded-proto"), "https", "X-Forwarded-Proto")
        check_eq(h.get("x-forwarded-port"), str(port), "X-Forwarded-Port is the listener's")
        check(h.get("x-amzn-tls-version") in ("TLSv1.2", "TLSv1.3") and
              h.get("x-amzn-tls-cipher-suite", "").count("-") >= 2,
              "x-amzn-tls-* headers under the attribute: %r" % h)
        rc, body, _ = curl("https://default.example:%d/" % port, port, "default.example",
                           ["--tlsv1.2", "--tls-max", "1.2", "-H", "x-amzn-tls-version: forged"])
        h = headers_of(body)
        check_eq(h.get("x-amzn-tls-version"), "TLSv1.2", "the negotiated version, not the client's")
        check_eq(h.get("x-amzn-tls-cipher-suite"), "ECDHE-RSA-AES128-GCM-SHA256",
                 "the policy's first cipher (server order)")
        # the attribute off: no such headers
        e.send(("load_balancer", lb_obj(tls_headers=False)))
        check(wait_for(lambda: "x-amzn-tls-version" not in headers_of(
            curl("https://default.example:%d/" % port, port, "default.example")[1]), 5),
              "no x-amzn-tls-* headers without the attribute")
        # HTTP -> HTTPS redirect with #{protocol}-style templates
        rc, out, _ = curl("http://site.example:%d/a/b?q=1" % hport, hport, "site.example",
                          ["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"])
        check_eq(out.decode(), "301 https://site.example/a/b?q=1", "HTTP to HTTPS redirect")
    finally:
        e.close()


def test_policy():
    ports = {name: free_port() for name in ("t12", "t13", "fs", "t10", "dflt")}
    policies = {"t12": "ELBSecurityPolicy-TLS-1-2-2017-01",
                "t13": "ELBSecurityPolicy-TLS13-1-3-2021-06",
                "fs": "ELBSecurityPolicy-FS-1-2-Res-2020-10",
                "t10": "ELBSecurityPolicy-TLS-1-0-2015-04",
                "dflt": "ELBSecurityPolicy-2016-08"}

    def snap(be):
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c-default")],
                "load_balancers": [lb_obj()],
                "listeners": [listener_obj(n, ports[n], ["c-default"], policies[n])
                              for n in ports],
                "rules": [forward_rule(n) for n in ports],
                "target_groups": [tg_obj()], "targets": [target_obj(be.port)]}
    e = Env(snap)
    low = ["-cipher", "DEFAULT:@SECLEVEL=0"]
    try:
        check(wait_for(lambda: all(https_ok(ports[n]) for n in ports), 10),
              "every listener serves")
        check(s_client(ports["t12"], None, ["-tls1"] + low)[0] != 0,
              "TLS 1.2 policy: a TLS 1.0-only client is refused")
        check(s_client(ports["t12"], None, ["-tls1_1"] + low)[0] != 0,
              "TLS 1.2 policy: a TLS 1.1-only client is refused")
        rc, out = s_client(ports["t12"], None, ["-tls1_2"])
        check(rc == 0 and "TLSv1.2" in out, "TLS 1.2 policy: TLS 1.2 accepted: %s" % out[-300:])
        check(s_client(ports["t12"], None, ["-tls1_3"])[0] != 0,
              "TLS-1-2-2017-01 has no TLS 1.3")
        check(s_client(ports["t13"], None, ["-tls1_2"])[0] != 0,
              "TLS13-1-3 policy: TLS 1.2 refused")
        rc, out = s_client(ports["t13"], None, ["-tls1_3"])
        check(rc == 0 and "TLSv1.3" in out, "TLS13-1-3 policy: TLS 1.3 accepted")
        check(s_client(ports["fs"], None, ["-tls1_2", "-cipher", "AES128-SHA256"])[0] != 0,
              "FS policy: a cipher without forward secrecy is refused")
        check(s_client(ports["fs"], None, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"])[0]
              != 0, "FS-1-2-Res-2020-10: a CBC cipher is refused")
        check_eq(s_client(ports["fs"], None, ["-tls1_2", "-cipher",
                                              "ECDHE-RSA-AES256-GCM-SHA384"])[0], 0,
                 "FS policy: a GCM ECDHE cipher is accepted")
        rc, out = s_client(ports["t10"], None, ["-tls1"] + low)
        check(rc == 0 and "TLSv1" in out, "TLS-1-0-2015-04 takes a TLS 1.0 client (security "
              "level 0): %s" % out[-300:])
        rc, out = s_client(ports["dflt"], None, ["-tls1_1"] + low)
        check(rc == 0, "the default policy takes TLS 1.1")
        check(s_client(ports["dflt"], None, ["-tls1_3"])[0] != 0,
              "the default policy has no TLS 1.3")
        check(s_client(ports["dflt"], None, ["-tls1_2", "-cipher", "DES-CBC3-SHA:@SECLEVEL=0"])[0]
              != 0, "no 3DES")
    finally:
        e.close()


def test_rotation_keeps_connections():
    port = free_port()

    def snap(be):
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c1", "c-default")],
                "load_balancers": [lb_obj()],
                "listeners": [listener_obj("l", port, ["c1"])],
                "rules": [forward_rule("l")],
                "target_groups": [tg_obj()], "targets": [target_obj(be.port)]}
    e = Env(snap)
    try:
        check(wait_for(lambda: https_ok(port), 10), "serves")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        conn.request("GET", "/one")
        r = conn.getresponse()
        check(r.status == 200 and r.read().startswith(b"GET /one"), "a keep-alive request")
        # re-import: the same certificate id with another certificate
        e.send(("certificate", cert_obj("c1", "c-exact")))
        check(wait_for(lambda: peer_subject(port) == "api.wild.example", 10),
              "new handshakes get the re-imported certificate")
        conn.request("GET", "/two")
        r = conn.getresponse()
        check(r.status == 200 and r.read().startswith(b"GET /two"),
              "the open connection still serves after the re-import")
        # the listener's certificates change: another default, an SNI one added
        lo = listener_obj("l", port, ["c2", "c3"])
        e.send(("certificate", cert_obj("c2", "c-default")),
               ("certificate", cert_obj("c3", "c-wild")), ("listener", lo))
        check(wait_for(lambda: peer_subject(port) == "default.example", 10),
              "a changed default certificate applies")
        check_eq(peer_subject(port, "x.wild.example"), "wildcard", "an added SNI certificate")
        conn.request("GET", "/three")
        r = conn.getresponse()
        check(r.status == 200 and r.read().startswith(b"GET /three"),
              "the open connection still serves after the listener change")
        conn.close()
        # a certificate that does not parse: logged, the listener keeps what it can
        bad = cert_obj("c3", "c-wild")
        bad["private_key_pem"] = CERTS["c-exact"][1]
        e.send(("certificate", bad))
        check(wait_for(lambda: "does not match the certificate" in e.p.read_log(), 5),
              "a key that does not match is logged: %s" % e.p.read_log()[-500:])
        check_eq(peer_subject(port, "x.wild.example"), "default.example",
                 "and that certificate is no longer offered")
        # the default certificate deleted: the listener closes
        e.rev += 1
        e.cp.send(record(e.rev, "certificate", None, op="delete", rid="c2"))
        e.cp.send(beat(e.rev))
        check(wait_for(lambda: s_client(port, None)[0] != 0, 10),
              "without a default certificate the listener is not served")
        check("without a usable default certificate" in e.p.read_log(), "and that is logged")
    finally:
        e.close()


def test_https_targets():
    port = free_port()
    tls_be = EchoBackend(tls=(CERTS["c-exact"][2], CERTS["c-exact"][3]))

    def snap(be):
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c-default")],
                "load_balancers": [lb_obj()],
                "listeners": [listener_obj("l", port, ["c-default"])],
                "rules": [forward_rule("l")],
                "target_groups": [tg_obj(proto="HTTPS")], "targets": [target_obj(be.port)]}
    e = Env(snap, tls_be)
    try:
        check(wait_for(lambda: https_ok(port), 10), "an HTTPS target serves through the "
              "listener: %s" % e.p.read_log()[-600:])
        for i in range(5):
            rc, out, _ = curl("https://x:%d/k%d" % (port, i), port, "x", ["--http1.1"])
            check(out.startswith(b"GET /k%d" % i), "request %d over TLS to the target" % i)
        check_eq(tls_be.handshakes, 1, "the TLS connection to the target is pooled")
        tls_be.close_each = True
        for i in range(4):
            rc, out, _ = curl("https://x:%d/c%d" % (port, i), port, "x", ["--http1.1"])
            check(out.startswith(b"GET /c%d" % i), "request %d on a fresh TLS connection" % i)
        check(tls_be.handshakes >= 4 and tls_be.resumed >= 3,
              "fresh connections resume the session: %d handshakes, %d resumed" %
              (tls_be.handshakes, tls_be.resumed))
        rc, out, _ = curl("https://x:%d/h2" % port, port, "x", ["--http2", "-d", "q=1"])
        check(out.startswith(b"POST /h2") and b"len=3" in out, "h2 client, HTTPS target")
    finally:
        e.close()


def raw_tls(port, alpn):
    """A TLS client over memory BIOs: the test decides when each record
    (a close_notify included) reaches the socket."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="default.example")
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(out.read())
            inc.write(sock.recv(65536))
    sock.sendall(out.read())
    RAW_INC[obj] = inc
    return sock, obj, out


RAW_INC = {}  # each raw_tls() client's incoming BIO


def one_listener():
    """A proxy with one HTTPS listener forwarding to an echo backend, serving."""
    port = free_port()

    def snap(be):
        return {"feed_version": 1, "revision": 3, "certificates": [cert_obj("c-default")],
                "load_balancers": [lb_obj()],
                "listeners": [listener_obj("l", port, ["c-default"])],
                "rules": [forward_rule("l")],
                "target_groups": [tg_obj()], "targets": [target_obj(be.port)]}
    e = Env(snap)
    check(wait_for(lambda: https_ok(port), 10), "the HTTPS listener serves")
    return port, e


def test_close_notify_while_writing():
    """A client sends close_notify and resets while a large answer is being
    written to it: the connection closes, and the worker goes on serving
    (it spun on SSL_write's ZERO_RETURN, at 100 % of a core, forever)."""
    port, e = one_listener()
    try:
        for alpn in ("http/1.1", "h2"):
            sock, obj, out = raw_tls(port, alpn)
            if alpn == "h2":
                big = (1 << 31) - 1
                obj.write(h2_raw.PREFACE + h2_raw.frame(h2_raw.SETTINGS, 0, 0, struct.pack(
                    ">HI", 4, big)) + h2_raw.frame(h2_raw.WINDOW_UPDATE, 0, 0, struct.pack(
                        ">I", big - 65535)) + h2_raw.frame(
                    h2_raw.HEADERS, h2_raw.END_STREAM | h2_raw.END_HEADERS, 1,
                    h2_raw.hpack(h2_raw.request_headers(port, "/zero/268435456"))))
            else:
                obj.write(b"GET /zero/268435456 HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.sendall(out.read())
            got = 0
            while got < (1 << 20):  # the answer is flowing
                got += len(sock.recv(65536))
            try:
                obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            sock.sendall(out.read())  # close_notify, and nothing read any more
            time.sleep(0.5)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # a reset: the proxy's next write fails
            time.sleep(0.5)
            c0 = e.p.cpu_seconds()
            time.sleep(1.0)
            used = e.p.cpu_seconds() - c0
            check(used < 0.5, "%s: the proxy is idle after the client left (%.2f s of CPU in "
                  "1 s)" % (alpn, used))
            check(https_ok(port), "%s: the worker serves the next request" % alpn)
    finally:
        e.close()


def read_answers(sock, obj, inc, want, timeout=10):
    """Decrypt from <sock> until <want> HTTP answers are in (or time out)."""
    data, deadline = b"", time.time() + timeout
    sock.settimeout(1)
    while data.count(b"HTTP/1.1 200") < want and time.time() < deadline:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            continue
        if not b:
            break
        inc.write(b)
        while True:
            try:
                data += obj.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
    return data


def test_records_read_ahead():
    """The listener reads many TLS records with one read(): requests that
    arrive together (pipelined, each its own record; a 1 MiB body and a
    request behind it) are all answered, none left waiting in OpenSSL's
    buffer for a socket event that never comes."""
    port, e = one_listener()
    try:
        sock, obj, out = raw_tls(port, "http/1.1")
        inc = obj._inc if hasattr(obj, "_inc") else None
        for i in range(8):  # eight records in one segment
            obj.write(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        sock.sendall(out.read())
        data = read_answers(sock, obj, RAW_INC[obj], 8)
        check_eq([b"GET /p%d" % i in data for i in range(8)], [True] * 8,
                 "eight pipelined requests in one segment, each answered")
        body = bytes(1 << 20)
        obj.write(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body + b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.sendall(out.read())
        data = read_answers(sock, obj, RAW_INC[obj], 2)
        check(b"POST /big" in data and b"len=1048576" in data and b"GET /after" in data,
              "a 1 MiB body and the request behind it, sent at once: both answered (%r)"
              % data[-200:])
        sock.close()
    finally:
        e.close()


run_case(test_sni_and_headers)
run_case(test_https_targets)
run_case(test_policy)
run_case(test_rotation_keeps_connections)
run_case(test_close_notify_while_writing)
run_case(test_records_read_ahead)
report()
