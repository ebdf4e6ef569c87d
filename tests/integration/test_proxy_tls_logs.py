"""Access and connection logs of HTTPS listeners, written by a real
sluice-proxy: access log lines of HTTPS (HTTP/1.1 over TLS) and h2 requests
carry type, ssl_cipher and ssl_protocol in ALB's names, domain_name (the SNI
name the client sent) and chosen_cert_arn (the ACM certificate the listener
chose by SNI); connection logs (connection_logs.s3.*) are ALB's conn_log_
files, one line per TLS connection attempt, failed handshakes included,
parsed by Athena's documented connection log regex, their conn_trace_id the
one of the connection's access log lines.  A client that resets right after
its Finished (as `openssl s_time` does) is a failed attempt: the proxy drops
it without finishing the handshake or writing tickets, as HAProxy does."""
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from acm_certs import Certs  # noqa: E402
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, make_tg, wait_for  # noqa: E402
from obs_util import log_files, parse_line, partial_files, read_lines  # noqa: E402
from tls_util import EchoBackend, curl  # noqa: E402

TMP = tempfile.mkdtemp(prefix="sluice-tlslog-")

# Athena's documented CREATE TABLE alb_connection_logs expression
ATHENA_CONN_REGEX = re.compile(
    r'([^ ]*) ([^ ]*) ([0-9]*) ([0-9]*) ([A-Za-z0-9.-]*) ([^ ]*) ([-.0-9]*) \"([^\"]*)\" '
    r'([^ ]*) ([^ ]*) ([^ ]*) ?([^ ]*)?( .*)?')
CONN_COLUMNS = ["time", "client_ip", "client_port", "listener_port", "tls_protocol",
                "tls_cipher", "tls_handshake_latency", "leaf_client_cert_subject",
                "leaf_client_cert_validity", "leaf_client_cert_serial_number",
                "tls_verify_status", "conn_trace_id", "rest"]
# ALB's connection log file name (with the '_' ALB writes after conn_log)
CONN_LOG_NAME = re.compile(
    r'AWSLogs/(\d+)/elasticloadbalancing/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/'
    r'conn_log_\1_elasticloadbalancing_\2_app\.([A-Za-z0-9-]+)\.([0-9a-f]+)_'
    r'(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_([0-9.]+)_([a-z0-9]{8})\.log\.gz$')


def conn_rec(line):
    m = ATHENA_CONN_REGEX.fullmatch(line)
    return dict(zip(CONN_COLUMNS, m.groups())) if m else None


def all_threads(pid, state):
    """Every thread of <pid> in <state> (/proc: S asleep, T stopped)."""
    try:
        return all(open("/proc/%d/task/%s/stat" % (pid, t)).read().rsplit(")", 1)[1].split()[0]
                   == state for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return False


def reset_after_finished(port, pid):
    """A TLS 1.3 handshake whose client sends its Finished and resets the
    connection at once.  Both reach the socket while the proxy <pid> is
    stopped, so that one epoll wake-up reports them together: the order an
    s_time client's often arrive in, made certain."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="www.example.com")
    sk = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                if out.pending:
                    sk.sendall(out.read())
                data = sk.recv(65536)
                if not data:
                    raise RuntimeError("the proxy closed during the handshake")
                inc.write(data)
        finished = out.read()
        # The worker past its flight and back in epoll_wait (every thread
        # asleep), then stopped: it wakes to one event with both in it.
        # Stopped between its write and its next read, it would read the
        # Finished before it learnt of the reset.
        check(wait_for(lambda: all_threads(pid, "S"), 5, 0.001), "the proxy idle")
        os.kill(pid, signal.SIGSTOP)
        check(wait_for(lambda: all_threads(pid, "T"), 5, 0.01), "the proxy stopped")
        sk.sendall(finished)
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sk.close()  # with SO_LINGER 0: a reset
        time.sleep(0.05)
        os.kill(pid, signal.SIGCONT)


def test_https_logs():
    certs = Certs()
    s = Sluiced(extra_args=["--runtime", "none"]).start()
    be = EchoBackend()
    root = os.path.join(TMP, "logs")
    p = None
    try:
        elb, acm = s.boto3("elbv2"), s.boto3("acm")
        rsa = acm.import_certificate(Certificate=certs.read("rsa.pem"),
                                     PrivateKey=certs.read("rsa.key"),
                                     CertificateChain=certs.read("chain.pem"))["CertificateArn"]
        ec = acm.import_certificate(Certificate=certs.read("ec.pem"),
                                    PrivateKey=certs.read("ec.key"),
                                    CertificateChain=certs.read("chain.pem"))["CertificateArn"]
        port = free_port()
        lb = elb.create_load_balancer(Name="tls-logged", Scheme="internal")["LoadBalancers"][0]
        tg = make_tg(elb, "tls-web", [be], HealthCheckEnabled=False)
        larn = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=port,
            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": rsa}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
        )["Listeners"][0]["ListenerArn"]
        elb.add_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": ec}])
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "alb-logs"},
            {"Key": "connection_logs.s3.enabled", "Value": "true"},
            {"Key": "connection_logs.s3.bucket", "Value": "conn-logs"},
            {"Key": "connection_logs.s3.prefix", "Value": "tls"}])
        attrs = dict((a["Key"], a["Value"]) for a in elb.describe_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"])
        check_eq((attrs["connection_logs.s3.enabled"], attrs["connection_logs.s3.bucket"],
                  attrs["connection_logs.s3.prefix"]), ("true", "conn-logs", "tls"),
                 "connection_logs.s3.* stored")
        p = Proxy(s, workers=2, extra=["--access-log-dir", root, "--access-log-rotate", "2"])

        def ok(name, *extra):
            rc, out, _ = curl("https://%s:%d/warm" % (name, port), port, name, list(extra))
            return rc == 0 and out.startswith(b"GET /warm")
        check(wait_for(lambda: ok("www.example.com", "--http1.1"), 15),
              "HTTPS serves: %s" % p.read_log()[-800:])
        want = []  # (path, type, sni, cert arn, protocol, cipher or None)
        rc, out, _ = curl("https://www.example.com:%d/one" % port, port, "www.example.com",
                          ["--http1.1", "--tls-max", "1.2", "--ciphers",
                           "ECDHE-RSA-AES128-GCM-SHA256"])
        check(rc == 0 and out.startswith(b"GET /one"), "TLS 1.2 HTTPS request")
        want.append(("/one", "https", "www.example.com", rsa, "TLSv1.2",
                     "ECDHE-RSA-AES128-GCM-SHA256"))
        rc, out, _ = curl("https://ec.example.org:%d/two" % port, port, "ec.example.org",
                          ["--http2", "--tlsv1.3"])
        check(rc == 0 and out.startswith(b"GET /two"), "h2 request by SNI ec.example.org")
        want.append(("/two", "h2", "ec.example.org", ec, "TLSv1.3", None))
        rc, out, _ = curl("https://api.example.com:%d/three" % port, port, "api.example.com",
                          ["--http1.1"])
        check(rc == 0 and out.startswith(b"GET /three"), "wildcard SNI request")
        want.append(("/three", "https", "api.example.com", rsa, "TLSv1.3", None))
        # three failed attempts: plain HTTP to the TLS port, a client that
        # leaves, a client that resets after its Finished
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sk:
            sk.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                sk.recv(100)
            except OSError:
                pass
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        reset_after_finished(port, p.proc.pid)
        check(ok("www.example.com", "--http1.1"), "serves on after the reset")
        check(wait_for(lambda: log_files(os.path.join(root, "conn-logs")), 8),
              "a completed connection log file after a rotation")
    finally:
        rc = p.stop() if p else None
        log = p.read_log() if p else ""
        be.stop()
        s.cleanup()
        certs.cleanup()
    check_eq(rc, 0, "clean stop")
    check("AddressSanitizer" not in log and "runtime error:" not in log,
          "no sanitizer report: %s" % log[-1500:])
    check_eq(partial_files(root), [], "a clean stop completes every file")
    # access log lines
    recs = [parse_line(ln) for ln in read_lines(log_files(os.path.join(root, "alb-logs")))]
    check(recs and all(recs), "every access log line matches Athena's regex")
    by = dict((r["request_url"].split(":%d" % port)[-1], r) for r in recs if r)
    for path, typ, sni, arn, proto, cipher in want:
        r = by.get(path)
        check(r is not None, "a line for %s: %r" % (path, list(by)))
        if r is None:
            continue
        check_eq(r["type"], typ, "%s: type" % path)
        check_eq(r["request_url"], "https://%s:%d%s" % (sni, port, path), "%s: URL" % path)
        check_eq(r["request_proto"], "HTTP/2.0" if typ == "h2" else "HTTP/1.1",
                 "%s: protocol" % path)
        check_eq(r["ssl_protocol"], proto, "%s: ssl_protocol" % path)
        if cipher:
            check_eq(r["ssl_cipher"], cipher, "%s: ssl_cipher" % path)
        else:
            check(re.fullmatch(r"TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)",
                               r["ssl_cipher"]), "%s: a TLS 1.3 suite: %r" % (path, r["ssl_cipher"]))
        check_eq(r["domain_name"], sni, "%s: domain_name" % path)
        check_eq(r["chosen_cert_arn"], arn, "%s: chosen_cert_arn" % path)
        check_eq(r["elb_status_code"], "200", "%s: status" % path)
    # connection log lines and files
    croot = os.path.join(root, "conn-logs")
    files = log_files(croot)
    for f in files:
        rel = os.path.relpath(f, croot)
        check(rel.startswith("tls/AWSLogs/000000000000/"), "prefix/AWSLogs: %s" % rel)
        m = CONN_LOG_NAME.search(rel)
        check(m is not None, "ALB conn_log file name: %s" % rel)
        if m:
            check_eq(m.group(6, 7), tuple(lb["LoadBalancerArn"].split("/")[-2:]), "app.NAME.ID")
    lines = read_lines(files)
    crecs = [conn_rec(ln) for ln in lines]
    check(crecs and all(c and c["rest"] is None for c in crecs),
          "every connection log line matches Athena's regex: %r" % lines[:2])
    crecs = [c for c in crecs if c]
    for c in crecs:
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", c["time"]), "time")
        check_eq((c["client_ip"], c["listener_port"]), ("127.0.0.1", str(port)), "addresses")
        check(int(c["client_port"]) > 0, "client port")
        check(re.fullmatch(r"\d+\.\d{3}", c["tls_handshake_latency"]), "latency: %r" %
              c["tls_handshake_latency"])
        check_eq((c["leaf_client_cert_subject"], c["leaf_client_cert_validity"],
                  c["leaf_client_cert_serial_number"]), ("-", "-", "-"), "no mTLS")
        check(re.fullmatch(r"TID_[0-9a-f]{16}", c["conn_trace_id"]), "conn_trace_id")
    ok = dict((c["conn_trace_id"], c) for c in crecs if c["tls_verify_status"] == "Success")
    failed = [c for c in crecs if c["tls_verify_status"] != "Success"]
    check_eq([c["tls_verify_status"] for c in failed], ["Failed:UnmappedConnectionError"] * 3,
             "the three failed attempts logged")
    check(all((c["tls_protocol"], c["tls_cipher"]) == ("-", "-") for c in failed),
          "no protocol or cipher for a failed handshake")
    check_eq(len(ok) + len(failed), len(crecs), "one line per connection")
    for path, typ, sni, arn, proto, cipher in want:
        r = by.get(path)
        c = r and ok.get(r["conn_trace_id"])
        check(c is not None, "%s: its connection's line (same conn_trace_id)" % path)
        if c:
            check_eq((c["tls_protocol"], c["tls_cipher"]), (proto, r["ssl_cipher"]),
                     "%s: protocol and cipher" % path)
    check_eq(len(ok), len(set(r["conn_trace_id"] for r in recs if r)),
             "every successful connection logged once")


def main():
    try:
        run_case(test_https_logs)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    report()


if __name__ == "__main__":
    main()
