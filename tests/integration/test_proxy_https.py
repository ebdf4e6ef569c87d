"""HTTPS end to end through a real sluiced and a real sluice-proxy, driven
by boto3: certificates imported and requested with the ACM API, HTTPS
listeners created with the ELBv2 API, and then curl, nghttp and `openssl
s_client` against them - the certificate SNI picks (with its chain, or the
local CA's), the SslPolicy's versions and ciphers, ALPN and
routing.http2.enabled, Add/RemoveListenerCertificates and re-import taking
effect without dropping an open connection, the x-amzn-tls-* attribute, and
HTTPS target groups with HTTPS health checks."""
import atexit
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from acm_certs import Certs  # noqa: E402
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, make_tg, wait_for  # noqa: E402
from tls_util import (OPENSSL, EchoBackend, curl, headers_of, make_cert, peer_subject,  # noqa: E402
                      s_client)

C = Certs()
S = Sluiced(extra_args=["--runtime", "none"])
P = None
ELB = ACM = None
LOW = ["-cipher", "DEFAULT:@SECLEVEL=0"]  # let this openssl offer TLS 1.0/1.1


def imp(name, key, chain=None, arn=None):
    kw = dict(Certificate=C.read(name), PrivateKey=C.read(key))
    if chain:
        kw["CertificateChain"] = C.read(chain)
    if arn:
        kw["CertificateArn"] = arn
    return ACM.import_certificate(**kw)["CertificateArn"]


def https_ok(port, name="www.example.com", extra=()):
    rc, out, _ = curl("https://%s:%d/" % (name, port), port, name, list(extra))
    return rc == 0 and out.startswith(b"GET /")


def fingerprint(port, servername):
    """SHA-256 fingerprint of the certificate the listener presents."""
    p = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername",
                        servername], input=b"", capture_output=True, timeout=10)
    x = subprocess.run([OPENSSL, "x509", "-noout", "-fingerprint", "-sha256"], input=p.stdout,
                       capture_output=True, timeout=10)
    return x.stdout.decode().strip() if x.returncode == 0 else None


def file_fingerprint(path):
    return subprocess.run([OPENSSL, "x509", "-noout", "-fingerprint", "-sha256", "-in", path],
                          capture_output=True, text=True, check=True).stdout.strip()


def keepalive(port, name):
    """A keep-alive HTTPS connection that sent SNI <name>."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                server_hostname=name)
    return conn


def ka_get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def cn(port, servername):
    """The CN of the certificate the listener presents to <servername>."""
    sub = peer_subject(port, servername)
    return sub.split(",")[0].strip() if sub else None


def https_listener(port, cert_arn, tg, policy=None, **kw):
    lb = ELB.create_load_balancer(Name="lb-%d" % port, Scheme="internal")["LoadBalancers"][0]
    args = dict(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=port,
                Certificates=[{"CertificateArn": cert_arn}],
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    if policy:
        args["SslPolicy"] = policy
    args.update(kw)
    return lb, ELB.create_listener(**args)["Listeners"][0]


def test_sni_chain_and_certificates():
    be = EchoBackend()
    port = free_port()
    rsa = imp("rsa.pem", "rsa.key", "chain.pem")  # www.example.com, *.example.com
    ec = imp("ec.pem", "ec.key", "chain.pem")  # ec.example.org
    req = ACM.request_certificate(DomainName="req.example.net",
                                  ValidationMethod="DNS")["CertificateArn"]
    tg = make_tg(ELB, "sni-tg", [be], HealthCheckEnabled=False)
    lb, ls = https_listener(port, rsa, tg)
    larn = ls["ListenerArn"]
    check(wait_for(lambda: https_ok(port), 15), "CreateListener HTTPS serves: %s" %
          P.read_log()[-800:])
    check_eq(cn(port, "www.example.com"), "www.example.com", "the default certificate")
    check_eq(cn(port, "other.test"), "www.example.com", "no match: the default")
    rc, out = s_client(port, "www.example.com", ["-CAfile", C.path("root.pem"),
                                                 "-verify_return_error"])
    check(rc == 0 and "Verification: OK" in out,
          "the imported chain is sent: verified against the root: %s" % out[-400:])
    ELB.add_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": ec},
                                                                  {"CertificateArn": req}])
    check(wait_for(lambda: cn(port, "ec.example.org") == "ec.example.org", 10),
          "AddListenerCertificates: SNI picks the added certificate")
    check_eq(cn(port, "req.example.net"), "req.example.net",
             "a RequestCertificate certificate by SNI")
    check_eq(cn(port, "api.example.com"), "www.example.com", "a wildcard SAN")
    st, _, ca = S.http("GET", "/v1/ca.pem")
    with tempfile.NamedTemporaryFile(suffix=".pem") as f:
        f.write(ca)
        f.flush()
        rc, out = s_client(port, "req.example.net", ["-CAfile", f.name, "-verify_return_error",
                                                     "-verify_hostname", "req.example.net"])
        check(rc == 0 and "Verification: OK" in out,
              "the requested certificate verifies against GET /v1/ca.pem: %s" % out[-400:])
    rc, body, _ = curl("https://www.example.com:%d/p?q=1" % port, port, "www.example.com",
                       ["--cacert", C.path("root.pem")])
    h = headers_of(body)
    check(rc == 0 and body.startswith(b"GET /p?q=1"), "curl verifies the chain: rc %d" % rc)
    check_eq((h.get("x-forwarded-proto"), h.get("x-forwarded-port")), ("https", str(port)),
             "X-Forwarded-Proto and -Port")
    check("x-amzn-tls-version" not in h, "no x-amzn-tls-* headers by default")
    ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "Value": "true"}])
    check(wait_for(lambda: headers_of(curl("https://www.example.com:%d/" % port, port,
                                           "www.example.com", ["--tls-max", "1.2"])[1]).get(
        "x-amzn-tls-version") == "TLSv1.2", 10),
          "routing.http.x_amzn_tls_version_and_cipher_suite.enabled adds the headers")

    # rotation: an open keep-alive connection survives every change
    conn = keepalive(port, "www.example.com")
    check_eq(ka_get(conn, "/one")[0], 200, "a keep-alive request")
    d = tempfile.mkdtemp(prefix="sluice-https-")
    atexit.register(shutil.rmtree, d, True)
    new = make_cert(d, "rot", "www.example.com", ["www.example.com", "*.example.com"])
    before = fingerprint(port, "www.example.com")
    ACM.import_certificate(CertificateArn=rsa, Certificate=new[0].encode(),
                           PrivateKey=new[1].encode())
    want = file_fingerprint(new[2])
    check(before != want and wait_for(lambda: fingerprint(port, "www.example.com") == want, 10),
          "a re-imported certificate serves new handshakes")
    st, body = ka_get(conn, "/two")
    check(st == 200 and body.startswith(b"GET /two"), "the open connection survives re-import")
    ELB.remove_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": ec}])
    check(wait_for(lambda: cn(port, "ec.example.org") == "www.example.com", 10),
          "RemoveListenerCertificates: that name gets the default again")
    check_eq(cn(port, "req.example.net"), "req.example.net", "the other one stays")
    st, body = ka_get(conn, "/three")
    check(st == 200 and body.startswith(b"GET /three"),
          "the open connection survives RemoveListenerCertificates")
    ELB.modify_listener(ListenerArn=larn, Certificates=[{"CertificateArn": ec}])
    check(wait_for(lambda: cn(port, "other.test") == "ec.example.org", 10),
          "ModifyListener's new default certificate applies")
    st, body = ka_get(conn, "/four")
    check(st == 200 and body.startswith(b"GET /four"),
          "the open connection survives a new default certificate")
    conn.close()
    ELB.delete_listener(ListenerArn=larn)
    check(wait_for(lambda: s_client(port, "www.example.com")[0] != 0, 10),
          "DeleteListener closes the HTTPS port")
    be.stop()


def test_policies():
    be = EchoBackend()
    port = free_port()
    cert = imp("rsa.pem", "rsa.key", "chain.pem")
    tg = make_tg(ELB, "pol-tg", [be], HealthCheckEnabled=False)
    lb, ls = https_listener(port, cert, tg, "ELBSecurityPolicy-TLS13-1-2-2021-06")
    larn = ls["ListenerArn"]
    check(wait_for(lambda: https_ok(port), 15), "serves")
    sc = lambda *a: s_client(port, "www.example.com", list(a))[0]  # noqa: E731
    check(sc("-tls1_1", *LOW) != 0, "TLS13-1-2-2021-06: a TLS 1.1 client is refused")
    check_eq(sc("-tls1_2"), 0, "TLS13-1-2-2021-06: TLS 1.2 accepted")
    check_eq(sc("-tls1_3"), 0, "TLS13-1-2-2021-06: TLS 1.3 accepted")
    check(sc("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA") != 0,
          "TLS13-1-2-2021-06: a cipher outside the policy is refused")
    check_eq(sc("-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"), 0,
             "TLS13-1-2-2021-06: a cipher of the policy is accepted")
    ELB.modify_listener(ListenerArn=larn, SslPolicy="ELBSecurityPolicy-2016-08")
    check(wait_for(lambda: sc("-tls1_1", *LOW) == 0, 10),
          "ModifyListener to ELBSecurityPolicy-2016-08: TLS 1.1 accepted")
    check(sc("-tls1_3") != 0, "ELBSecurityPolicy-2016-08: no TLS 1.3")
    check_eq(sc("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"), 0,
             "ELBSecurityPolicy-2016-08: ECDHE-RSA-AES128-SHA accepted")
    ELB.modify_listener(ListenerArn=larn, SslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    check(wait_for(lambda: sc("-tls1_2") != 0, 10), "TLS13-1-3-2021-06: TLS 1.2 refused")
    rc, out = s_client(port, "www.example.com", ["-tls1_3"])
    check(rc == 0 and "TLSv1.3" in out, "TLS13-1-3-2021-06: TLS 1.3 accepted")
    ELB.delete_listener(ListenerArn=larn)
    be.stop()


def http_version(port, *extra):
    rc, out, _ = curl("https://www.example.com:%d/" % port, port, "www.example.com",
                      list(extra) + ["-o", "/dev/null", "-w", "%{http_version}"])
    return out.decode() if rc == 0 else "refused"


def nghttp(port):
    """nghttp (h2 only, no fallback) got its answer: 1, else 0 (it exits 0
    either way)."""
    p = subprocess.run(["nghttp", "-n", "-s", "https://127.0.0.1:%d/" % port],
                       capture_output=True, text=True, timeout=20)
    out = p.stdout + p.stderr
    return int(p.returncode == 0 and "not processed" not in out and " 200 " in out)


def test_alpn_and_http2():
    be = EchoBackend()
    port = free_port()
    cert = imp("rsa.pem", "rsa.key", "chain.pem")
    tg = make_tg(ELB, "h2-tg", [be], HealthCheckEnabled=False)
    lb, ls = https_listener(port, cert, tg)
    larn, lbarn = ls["ListenerArn"], lb["LoadBalancerArn"]
    check(wait_for(lambda: https_ok(port), 15), "serves")
    check_eq(http_version(port, "--http2"), "2", "curl --http2 negotiates h2 by default")
    check_eq(nghttp(port), 1, "nghttp (h2 only) gets its answers")
    rc, body, _ = curl("https://www.example.com:%d/h2?x=1" % port, port, "www.example.com",
                       ["--http2", "-d", "abc"])
    check(body.startswith(b"POST /h2?x=1") and b"len=3" in body,
          "an h2 POST reaches the target as HTTP/1.1: %r" % body[:80])
    check_eq(http_version(port, "--http1.1"), "1.1", "HTTP/1.1 still by ALPN")

    def attr(v):
        ELB.modify_load_balancer_attributes(LoadBalancerArn=lbarn, Attributes=[
            {"Key": "routing.http2.enabled", "Value": v}])
    attr("false")
    check(wait_for(lambda: http_version(port, "--http2") == "1.1", 10),
          "routing.http2.enabled=false: curl --http2 gets HTTP/1.1")
    check(nghttp(port) == 0, "routing.http2.enabled=false: an h2-only client is refused")
    attr("true")
    check(wait_for(lambda: http_version(port, "--http2") == "2", 10),
          "routing.http2.enabled=true again: h2")
    ELB.modify_listener(ListenerArn=larn, AlpnPolicy=["HTTP2Only"])
    check(wait_for(lambda: http_version(port, "--http1.1") == "refused", 10),
          "AlpnPolicy HTTP2Only: an HTTP/1.1-only client is refused")
    check_eq(http_version(port, "--http2"), "2", "AlpnPolicy HTTP2Only: h2 served")
    ELB.modify_listener(ListenerArn=larn, AlpnPolicy=["HTTP1Only"])
    check(wait_for(lambda: http_version(port, "--http2") == "1.1", 10),
          "AlpnPolicy HTTP1Only: curl --http2 gets HTTP/1.1")
    check(nghttp(port) == 0, "AlpnPolicy HTTP1Only: an h2-only client is refused")
    ELB.delete_listener(ListenerArn=larn)
    be.stop()


def test_https_targets_and_health():
    d = tempfile.mkdtemp(prefix="sluice-https-be-")
    atexit.register(shutil.rmtree, d, True)
    bc = make_cert(d, "be", "backend.internal", ["backend.internal"])
    tls_be = EchoBackend(tls=(bc[2], bc[3]))
    port, hport = free_port(), free_port()
    cert = imp("ec.pem", "ec.key", "chain.pem")
    tg = make_tg(ELB, "tls-tg", [tls_be], Protocol="HTTPS", Port=443, HealthCheckProtocol="HTTPS",
                 HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                 HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)
    lb, ls = https_listener(port, cert, tg)
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=hport,
                        DefaultActions=[{"Type": "forward",
                                         "TargetGroupArn": tg["TargetGroupArn"]}])

    def state():
        return ELB.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"][0]["TargetHealth"]["State"]
    check(wait_for(lambda: state() == "healthy", 30), "HTTPS health checks find the TLS target "
          "healthy: %s / %s" % (state(), P.read_log()[-600:]))
    check(tls_be.handshakes >= 1, "the health checker spoke TLS to the target")
    check(wait_for(lambda: https_ok(port, "ec.example.org"), 10),
          "HTTPS listener -> HTTPS target")
    rc, out, _ = curl("http://x:%d/plain" % hport, hport, "x")
    check(out.startswith(b"GET /plain"), "HTTP listener -> HTTPS target: %r" % out[:60])
    n = tls_be.count
    rc, out, _ = curl("https://ec.example.org:%d/h2" % port, port, "ec.example.org", ["--http2"])
    check(out.startswith(b"GET /h2") and tls_be.count == n + 1, "h2 client -> HTTPS target")
    # a target that stops answering TLS turns unhealthy
    tls_be.stop()
    check(wait_for(lambda: state() == "unhealthy", 30),
          "a target gone turns unhealthy under HTTPS checks: %s" % state())


def test_redirect_to_https():
    """HTTP:80-style listener redirecting to the HTTPS one, as most ALBs do."""
    be = EchoBackend()
    port, hport = free_port(), free_port()
    cert = imp("rsa.pem", "rsa.key", "chain.pem")
    tg = make_tg(ELB, "redir-tg", [be], HealthCheckEnabled=False)
    lb, ls = https_listener(port, cert, tg)
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=hport,
                        DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                            "Protocol": "HTTPS", "Port": str(port), "StatusCode": "HTTP_301"}}])
    check(wait_for(lambda: https_ok(port), 15), "serves")
    rc, out, _ = curl("http://www.example.com:%d/a/b?q=1" % hport, hport, "www.example.com",
                      ["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"])
    check_eq(out.decode(), "301 https://www.example.com:%d/a/b?q=1" % port,
             "HTTP -> HTTPS redirect")
    rc, body, _ = curl("http://www.example.com:%d/a/b?q=1" % hport, hport, "www.example.com",
                       ["-L", "--resolve", "www.example.com:%d:127.0.0.1" % port])
    check(body.startswith(b"GET /a/b?q=1") and
          headers_of(body).get("x-forwarded-proto") == "https",
          "curl -L follows it to the HTTPS listener: %r" % body[:80])
    be.stop()


def main():
    global P, ELB, ACM
    S.start()
    P = Proxy(S)
    ELB, ACM = S.boto3("elbv2"), S.boto3("acm")
    try:
        run_case(test_sni_chain_and_certificates)
        run_case(test_policies)
        run_case(test_redirect_to_https)
        run_case(test_alpn_and_http2)
        run_case(test_https_targets_and_health)
    finally:
        rc = P.stop()
        log = P.read_log()
        check("AddressSanitizer" not in log and "runtime error:" not in log,
              "no sanitizer report in the proxy log: %s" % log[-1500:])
        check(rc == 0, "sluice-proxy exits 0 on SIGTERM: %r" % rc)
        S.cleanup()
        C.cleanup()
    report()


if __name__ == "__main__":
    main()
