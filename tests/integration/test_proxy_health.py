"""sluice-proxy's health checks, as a target sees them and as
DescribeTargetHealth reports them: each check reads the whole response
(head, then a Content-Length, chunked or close-delimited body) and closes
cleanly, so a Python http.server target logs no ConnectionResetError or
BrokenPipeError however it writes its answer; a 404 is
"Health checks failed with these codes: [404]", a target that never answers
"Request timed out", one that refuses the connection "Health checks failed",
with ALB's reason codes."""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, wait_for  # noqa: E402

S = P = ELB = None

# A target with the standard library's threading HTTP server, its default
# logging on: a request line per request, a traceback per exception.
TARGET = r'''
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"x" * 4096
        if self.path.startswith("/nf"):
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.02)
            self.wfile.write(body)
        elif self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            for _ in range(4):
                time.sleep(0.01)
                self.wfile.write(b"%x\r\n%s\r\n" % (1024, b"y" * 1024))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path.startswith("/close"):
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.02)
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.02)  # the head first, the body a moment later
            self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
srv = S(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
'''


class PyTarget:
    def __init__(self):
        self.err = tempfile.NamedTemporaryFile(prefix="sluice-hc-target-", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-c", TARGET], stdout=subprocess.PIPE,
                                     stderr=self.err)
        self.port = int(self.proc.stdout.readline())

    def log(self):
        with open(self.err.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        os.unlink(self.err.name)


class Silent:
    """Accepts connections and never answers."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(64)
        self.port = self.s.getsockname()[1]

    def stop(self):
        self.s.close()


def fast_group(name, port, path):
    tg = ELB.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId="vpc-1",
                                 TargetType="ip", HealthCheckPath=path,
                                 HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=1,
                                 HealthyThresholdCount=2, UnhealthyThresholdCount=2)
    arn = tg["TargetGroups"][0]["TargetGroupArn"]
    ELB.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": port}])
    lb = ELB.create_load_balancer(Name=name + "-lb", Scheme="internal")["LoadBalancers"][0]
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=free_port(),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
    return arn


def health(arn):
    d = ELB.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    th = d[0]["TargetHealth"] if d else {}
    return th.get("State"), th.get("Reason"), th.get("Description")


def test_checks_and_descriptions():
    t = PyTarget()
    silent = Silent()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    groups = {path: fast_group("hc-%s" % path.strip("/"), t.port, path)
              for path in ("/ok", "/chunked", "/close")}
    nf = fast_group("hc-nf", t.port, "/nf")
    slow = fast_group("hc-silent", silent.port, "/")
    refused = fast_group("hc-refused", dead_port, "/")
    try:
        for path, arn in groups.items():
            check(wait_for(lambda: health(arn)[0] == "healthy", 20, 0.2),
                  "target healthy on %s: %r" % (path, health(arn)))
        check(wait_for(lambda: health(nf)[0] == "unhealthy", 20, 0.2), "404 target unhealthy")
        check_eq(health(nf), ("unhealthy", "Target.ResponseCodeMismatch",
                              "Health checks failed with these codes: [404]"),
                 "a 404 as ALB describes it")
        check(wait_for(lambda: health(slow)[0] == "unhealthy", 20, 0.2), "silent target unhealthy")
        check_eq(health(slow), ("unhealthy", "Target.Timeout", "Request timed out"),
                 "a target that never answers, as ALB describes it")
        check(wait_for(lambda: health(refused)[0] == "unhealthy", 20, 0.2),
              "refusing target unhealthy")
        check_eq(health(refused), ("unhealthy", "Target.FailedHealthChecks",
                                   "Health checks failed"),
                 "a target that refuses the connection, as ALB describes it")
        time.sleep(8)  # a few more checks of every kind
        log = t.log()
        checks = log.count('"GET /')
        check(checks >= 20, "the target saw the checks: %d" % checks)
        check("ConnectionResetError" not in log and "BrokenPipeError" not in log and
              "Traceback" not in log,
              "health checks close cleanly: no reset in the target's log:\n%s" % log[-2000:])
    finally:
        t.stop()
        silent.stop()


def main():
    global S, P, ELB
    import boto3
    from botocore.config import Config
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = boto3.client("elbv2", endpoint_url=s.url, region_name="us-east-1",
                           aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                           config=Config(retries={"max_attempts": 1},
                                         parameter_validation=False))
        P = Proxy(s, extra=["--log-level", "info"])
        try:
            run_case(test_checks_and_descriptions)
        finally:
            check_eq(P.stop(), 0, "sluice-proxy exits 0 on SIGTERM")
    report()


if __name__ == "__main__":
    main()
