"""ALB access logs written by a real sluice-proxy: turned on and off by the
load balancer's access_logs.s3.* attributes (bad buckets and prefixes
refused, for connection_logs.s3.* too: test_proxy_tls_logs.py writes those), files
named and laid out as ALB names them and rotated, every line parsed by Athena's documented RegexSerDe expression and by GoAccess's
AWSALB format, the fields of forwarded, fixed-response, redirected,
refused and target-failed requests as ALB writes them, the trace id the
target got, no line lost on a clean stop, and a full disk (a tiny tmpfs in
a mount namespace of the test's own) dropping lines, counting them and
leaving valid gzip files while traffic goes on."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, get, make_tg, raw, wait_for  # noqa: E402
from obs_util import (ALB_LOG_NAME, EchoBackend, log_files, parse_line, parse_prom,  # noqa: E402
                      partial_files, read_lines, value)

S = ELB = B = LB = TG = None
PORT = None
TMP = tempfile.mkdtemp(prefix="sluice-alog-")


def lbdim():
    return LB["LoadBalancerArn"].split(":loadbalancer/")[1]


def set_logs(enabled, bucket="obs-logs", prefix="team/prod"):
    ELB.modify_load_balancer_attributes(LoadBalancerArn=LB["LoadBalancerArn"], Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true" if enabled else "false"},
        {"Key": "access_logs.s3.bucket", "Value": bucket},
        {"Key": "access_logs.s3.prefix", "Value": prefix}])


def setup():
    global S, ELB, B, LB, TG, PORT
    S = Sluiced().start()
    ELB = S.boto3()
    B = EchoBackend()
    LB = ELB.create_load_balancer(Name="logged", Scheme="internal")["LoadBalancers"][0]
    TG = make_tg(ELB, "web", [B])["TargetGroupArn"]
    PORT = free_port()
    la = ELB.create_listener(LoadBalancerArn=LB["LoadBalancerArn"], Protocol="HTTP", Port=PORT,
                             DefaultActions=[{"Type": "forward", "TargetGroupArn": TG}]
                             )["Listeners"][0]["ListenerArn"]
    ELB.create_rule(ListenerArn=la, Priority=5, Conditions=[
        {"Field": "path-pattern", "Values": ["/fixed"]}], Actions=[{
            "Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "nope"}}])
    ELB.create_rule(ListenerArn=la, Priority=7, Conditions=[
        {"Field": "path-pattern", "Values": ["/go"]}], Actions=[{
            "Type": "redirect", "RedirectConfig": {"Path": "/elsewhere", "StatusCode": "HTTP_302"}}])


def test_bad_destinations_refused():
    from botocore.exceptions import ClientError
    for bucket, prefix in (("..", ""), ("UPPER", ""), ("ok-bucket", "a/../b"),
                           ("ok-bucket", "x/AWSLogs"), ("ok-bucket", "/lead"), ("", "")):
        try:
            set_logs(True, bucket, prefix)
            check(False, "accepted bucket %r prefix %r" % (bucket, prefix))
        except ClientError as e:
            check_eq(e.response["Error"]["Code"], "InvalidConfigurationRequest",
                     "bucket %r prefix %r refused" % (bucket, prefix))


def test_connection_log_destinations():
    """connection_logs.s3.* take effect (test_proxy_tls_logs.py writes them):
    a destination sluice-proxy could not write is refused as the access
    logs' is, a good one is stored, nothing is half-applied."""
    from botocore.exceptions import ClientError
    arn = LB["LoadBalancerArn"]

    def attrs():
        return dict((a["Key"], a["Value"]) for a in ELB.describe_load_balancer_attributes(
            LoadBalancerArn=arn)["Attributes"])
    for bucket, prefix in (("", ""), ("UPPER", ""), ("ok-bucket", "x/AWSLogs"),
                           ("ok-bucket", "a/../b")):
        try:
            ELB.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
                {"Key": "connection_logs.s3.enabled", "Value": "true"},
                {"Key": "connection_logs.s3.bucket", "Value": bucket},
                {"Key": "connection_logs.s3.prefix", "Value": prefix}])
            check(False, "connection logs to bucket %r prefix %r accepted" % (bucket, prefix))
        except ClientError as e:
            check_eq(e.response["Error"]["Code"], "InvalidConfigurationRequest",
                     "connection logs to bucket %r prefix %r refused" % (bucket, prefix))
            check("connection_logs.s3." in e.response["Error"]["Message"],
                  "the message names the key: %s" % e.response["Error"]["Message"])
    check_eq((attrs()["connection_logs.s3.enabled"], attrs()["connection_logs.s3.bucket"]),
             ("false", ""), "nothing half-applied")
    ELB.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "connection_logs.s3.enabled", "Value": "true"},
        {"Key": "connection_logs.s3.bucket", "Value": "conn-logs"},
        {"Key": "connection_logs.s3.prefix", "Value": "a/b"}])
    a = attrs()
    check_eq((a["connection_logs.s3.enabled"], a["connection_logs.s3.bucket"],
              a["connection_logs.s3.prefix"]), ("true", "conn-logs", "a/b"), "stored")
    check_eq(a["access_logs.s3.enabled"], "false", "the access logs are another family")
    ELB.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "connection_logs.s3.enabled", "Value": "false"},
        {"Key": "connection_logs.s3.bucket", "Value": ""},
        {"Key": "connection_logs.s3.prefix", "Value": ""}])


def test_coprocess_logs_under_data_dir():
    """sluiced's own sluice-proxy writes access logs under
    <data-dir>/access-logs, and its lines in sluiced's --log-format."""
    coprocess_logs([], lambda s: os.path.join(s.data_dir, "access-logs"))


def test_coprocess_logs_under_access_log_dir():
    """sluiced --access-log-dir DIR: its sluice-proxy writes them there, and
    nothing under <data-dir>/access-logs."""
    d = tempfile.mkdtemp(prefix="sluice-alogs-")
    try:
        coprocess_logs(["--access-log-dir", os.path.join(d, "logs")],
                       lambda s: os.path.join(d, "logs"))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def coprocess_logs(extra, logs_dir):
    b = EchoBackend()
    s = Sluiced(no_proxy=False,
                extra_args=["--log-format", "json", "--runtime", "none"] + extra).start()
    try:
        elb = s.boto3()
        port = free_port()
        lb = elb.create_load_balancer(Name="co-logged", Scheme="internal")["LoadBalancers"][0]
        tg = make_tg(elb, "co-web", [b])["TargetGroupArn"]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "co-logs"}])
        root = os.path.join(logs_dir(s), "co-logs")

        def served():
            try:
                return get(port, "/co")[0] == 200 and partial_files(root)
            except OSError:
                return False
        check(wait_for(served, 15), "the co-process logs into %s" % root)
        for _ in range(5):
            check_eq(get(port, "/co")[0], 200, "GET /co")
        s.stop()
        # The co-process outlives sluiced (supervise.h); SIGTERM to it stops
        # it cleanly, and it completes its files.
        s.stop_proxy()
        lines = read_lines(log_files(root))
        check(len(lines) >= 6 and all(" \"GET http://" in ln and "/co HTTP/1.1\" " in ln
                                      for ln in lines), "every request logged: %r" % lines[-1:])
        proxy_lines = [ln for ln in s.read_log(tail=0).splitlines()
                       if '"process":"sluice-proxy"' in ln]
        check(proxy_lines and all(json.loads(ln)["process"] == "sluice-proxy"
                                  for ln in proxy_lines), "the co-process logs JSON too")
        default = os.path.join(s.data_dir, "access-logs")
        check(root.startswith(default + "/") or not os.path.exists(default),
              "nothing under <data-dir>/access-logs when --access-log-dir is given")
    finally:
        b.stop()
        s.cleanup()


class Counted:
    """Requests sent, as (path, expected elb status)."""

    def __init__(self):
        self.sent = []

    def get(self, path, status, headers=None):
        st, _, body = get(PORT, path, headers=headers)
        check_eq(st, status, "GET %s" % path)
        self.sent.append((path, status))
        return body


def traffic(c):
    for i in range(8):
        c.get("/page/%d?q=%d" % (i, i), 200, {"User-Agent": 'agent "quoted" \\ %d' % i})
    c.get("/code/500", 500)
    c.get("/fixed", 404)
    c.get("/go", 302)
    body = c.get("/t", 200, {"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793"})
    out = raw(PORT, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 400"), "malformed request: 400")
    c.sent.append(("(malformed)", 400))
    return body.split("=", 1)[1]


def check_lines(lines, c, traced):
    recs = [parse_line(ln) for ln in lines]
    check(all(recs), "every line matches Athena's regex: %r" %
          [ln for ln, r in zip(lines, recs) if not r][:2])
    recs = [r for r in recs if r]
    check_eq(len(recs), len(c.sent), "one line per request")
    by = {}
    for r in recs:
        by.setdefault(r["request_url"].split("?")[0].split(":%d" % PORT)[-1] or r["request_url"],
                      []).append(r)
    for r in recs:
        check_eq(r["type"], "http", "type")
        check_eq(r["elb"], lbdim(), "elb")
        check_eq(r["client_ip"], "127.0.0.1", "client ip")
        check(r["time"] >= r["request_creation_time"], "time after creation")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r["time"]), "time format")
        check(int(r["received_bytes"]) > 0, "received bytes")
        check(re.fullmatch(r"TID_[0-9a-f]{16}", r["conn_trace_id"] or ""), "conn_trace_id")
    fwd = [r for r in recs if r["request_url"].startswith("http://127.0.0.1:%d/page/" % PORT)]
    check_eq(len(fwd), 8, "forwarded lines")
    for r in fwd:
        check_eq((r["target_ip"], r["target_port"]), ("127.0.0.1", str(B.port)), "target")
        check_eq((r["elb_status_code"], r["target_status_code"]), ("200", "200"), "statuses")
        check_eq(r["request_verb"], "GET", "verb")
        check_eq(r["request_proto"], "HTTP/1.1", "protocol")
        check_eq(r["target_group_arn"], TG, "target group ARN")
        check_eq(r["matched_rule_priority"], "0", "default rule: priority 0")
        check_eq(r["actions_executed"], "forward", "actions")
        check_eq(r["target_port_list"], "127.0.0.1:%d" % B.port, "target list")
        check_eq(r["target_status_code_list"], "200", "status list")
        check(re.fullmatch(r'agent \\x22quoted\\x22 \\x5c \d', r["user_agent"]),
              "user agent escaped: %r" % r["user_agent"])
        check(re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", r["trace_id"]), "trace id")
        for k in ("request_processing_time", "target_processing_time",
                  "response_processing_time"):
            check(re.fullmatch(r"\d+\.\d{3}", r[k]), "%s: %r" % (k, r[k]))
        check(int(r["sent_bytes"]) > 0, "sent bytes")
    one = lambda pred: [r for r in recs if pred(r)]  # noqa: E731
    f = one(lambda r: r["request_url"].endswith("/fixed"))
    check(f and (f[0]["elb_status_code"], f[0]["target_status_code"], f[0]["matched_rule_priority"],
                 f[0]["actions_executed"], f[0]["target_ip"], f[0]["request_processing_time"],
                 f[0]["target_port_list"]) ==
          ("404", "-", "5", "fixed-response", "", "-1", "-"), "fixed-response line: %r" % f[:1])
    g = one(lambda r: r["request_url"].endswith("/go"))
    check(g and (g[0]["elb_status_code"], g[0]["matched_rule_priority"], g[0]["actions_executed"],
                 g[0]["redirect_url"]) ==
          ("302", "7", "redirect", "http://127.0.0.1:%d/elsewhere" % PORT),
          "redirect line: %r" % g[:1])
    e = one(lambda r: r["request_url"].endswith("/code/500"))
    check(e and (e[0]["elb_status_code"], e[0]["target_status_code"]) == ("500", "500"),
          "the target's 500")
    t = one(lambda r: r["request_url"].endswith("/t"))
    check(t and t[0]["trace_id"] == traced, "the trace id the target got: %r vs %r" %
          (t[:1] and t[0]["trace_id"], traced))
    check(traced.startswith("Self=1-") and
          traced.endswith(";Root=1-5759e988-bd862e3fe1be46a994272793"), "Self added: %r" % traced)
    # "- - - " as ALB writes it, which Athena's expression splits this way
    m = one(lambda r: r["request_verb"] == "-")
    check(m and (m[0]["elb_status_code"], m[0]["request_url"], m[0]["request_proto"],
                 m[0]["matched_rule_priority"], m[0]["target_port_list"]) ==
          ("400", "- -", "", "-", "-"), "malformed request: \"- - - \" and 400: %r" % m[:1])


def check_names(root, files):
    for p in files:
        rel = os.path.relpath(p, root)
        check(rel.startswith("obs-logs/team/prod/AWSLogs/"), "bucket/prefix/AWSLogs: %s" % rel)
        m = ALB_LOG_NAME.search(rel)
        check(m is not None, "ALB file name: %s" % rel)
        if not m:
            continue
        acct, region, y, mo, d, name, lbid, fy, fmo, fd, hh, mm, ip, rnd = m.groups()
        check_eq((acct, region), ("000000000000", "us-east-1"), "account and region")
        check_eq((name, lbid), tuple(lbdim().split("/")[1:]), "app.NAME.ID")
        check_eq((y, mo, d), (fy, fmo, fd), "the date directory is the file's")
        check_eq(ip, "127.0.0.1", "the node's address")


def goaccess_count(lines):
    path = os.path.join(TMP, "ga.log")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = os.path.join(TMP, "ga.json")
    p = subprocess.run(["goaccess", path, "--log-format=AWSALB", "--no-global-config", "-o", out],
                       capture_output=True, text=True, timeout=60)
    check_eq(p.returncode, 0, "goaccess ran: %s" % p.stderr[-300:])
    with open(out) as f:
        g = json.load(f)["general"]
    return g["valid_requests"], g["failed_requests"]


def test_logs_written():
    root = os.path.join(TMP, "logs")
    mport = free_port()
    # on before the proxy starts: its snapshot has them, so the first request
    # is logged (turned on later, a request may come before the change)
    set_logs(True)
    p = Proxy(S, workers=2, extra=["--access-log-dir", root, "--access-log-rotate", "2",
                                   "--metrics-listen", "127.0.0.1:%d" % mport])
    try:
        check(wait_for(lambda: get(PORT, "/warm")[0] == 200, 15), "routes")
        check(wait_for(lambda: "access logs of load balancer" in p.read_log(), 10),
              "the proxy logs to the bucket: %s" % p.read_log()[-500:])
        c = Counted()
        c.sent.append(("/warm", 200))
        traced = traffic(c)
        check(wait_for(lambda: partial_files(root) or log_files(root), 5), "a file being written")
        check(wait_for(lambda: log_files(root), 6), "a completed file after a rotation")
        st, _, m = get(mport, "/metrics")
        samples, _ = parse_prom(m)
        check(value(samples, "sluice_proxy_access_log_lines_total") >= 1, "lines counted")
        check_eq(value(samples, "sluice_proxy_access_log_dropped_lines_total"), 0.0, "none dropped")
    finally:
        rc = p.stop()
    check_eq(rc, 0, "clean stop")
    check_eq(partial_files(root), [], "a clean stop completes every file")
    files = log_files(root)
    check_names(root, files)
    lines = read_lines(files)
    check_lines(lines, c, traced)
    valid, failed = goaccess_count(lines)
    check_eq((valid, failed), (len(c.sent), 0), "GoAccess (AWSALB) parses every line")
    os.unlink(p.log_path)


def test_disable_completes_the_file():
    root = os.path.join(TMP, "logs2")
    p = Proxy(S, extra=["--access-log-dir", root])  # 5-minute files
    try:
        set_logs(True)
        check(wait_for(lambda: get(PORT, "/a")[0] == 200 and partial_files(root), 15),
              "a .partial file while logging")
        check_eq(log_files(root), [], "nothing complete yet (5-minute interval)")
        set_logs(False)
        check(wait_for(lambda: log_files(root) and not partial_files(root), 10),
              "turning logs off completes the file")
        n = len(read_lines(log_files(root)))
        get(PORT, "/b")
        time.sleep(0.5)
        check_eq(len(read_lines(log_files(root))), n, "nothing logged while off")
        check_eq(partial_files(root), [], "and no new file")
    finally:
        p.stop()
    os.unlink(p.log_path)


def test_full_disk():
    """A 256 KiB tmpfs, mounted in a mount namespace only the proxy lives in,
    fills up: requests keep being answered, lost lines are counted, and every
    file left is a valid gzip file of whole lines."""
    mnt, out = os.path.join(TMP, "mnt"), os.path.join(TMP, "full-out")
    os.makedirs(mnt)
    os.makedirs(out)
    mport = free_port()
    pidfile = os.path.join(TMP, "proxy.pid")
    log = os.path.join(TMP, "full.log")
    script = ('mount -t tmpfs -o size=256k sluice-test "$1" || exit 99; '
              '"$2" --control-plane "$3" --id full-proxy --access-log-dir "$1" '
              '--access-log-rotate 300 --metrics-listen 127.0.0.1:"$4" & echo $! > "$5"; '
              'wait $!; rc=$?; cp -r "$1"/. "$6"/; exit $rc')
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    with open(log, "wb") as lf:
        sh = subprocess.Popen(unshare + ["sh", "-c", script, "sh", mnt,
                                         os.path.join(BUILD, "sluice-proxy"), S.url, str(mport),
                                         pidfile, out], stdout=lf, stderr=subprocess.STDOUT)
    try:
        set_logs(True)
        check(wait_for(lambda: get(PORT, "/x")[0] == 200 and os.path.exists(pidfile), 15),
              "the namespaced proxy serves: %s" % open(log).read()[-500:])
        rng = random.Random(7)
        answered = 0
        for i in range(200):  # 6 KB random user agents (3 KB gzipped): the disk fills
            ua = "".join("%032x" % rng.getrandbits(128) for _ in range(190))
            st, _, _ = get(PORT, "/fill/%d" % i, headers={"User-Agent": ua})
            answered += st == 200

        def dropped():
            samples, _ = parse_prom(get(mport, "/metrics")[2])
            return value(samples, "sluice_proxy_access_log_dropped_lines_total",
                         reason="write_failed"), samples
        check_eq(answered, 200, "traffic went on while the disk was full")
        d = wait_for(lambda: (dropped()[0] or 0) > 0, 5, 0.2)
        n, samples = dropped()
        check(n and n > 0, "lost lines counted: %r" % n)
        written = value(samples, "sluice_proxy_access_log_lines_total")
        check(written and written > 0, "some lines were written: %r" % written)
        check(d, "write_failed counted")
    finally:
        try:
            os.kill(int(open(pidfile).read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        try:
            sh.wait(30)
        except subprocess.TimeoutExpired:
            sh.kill()
            sh.wait()
    check_eq(sh.returncode, 0, "the proxy stopped cleanly: %s" % open(log).read()[-800:])
    files = log_files(out)
    check(files, "files were left")
    lines = read_lines(files)  # raises on a damaged gzip stream
    check(lines and all(parse_line(ln) for ln in lines), "whole lines only")
    check(len(lines) >= written, "what was counted written is there: %d >= %r" %
          (len(lines), written))
    check("Read-only" not in open(log).read(), "no unexpected errors")
    check(re.search(r"access logs of load balancer \S+: writing \S+: No space left on device",
                    open(log).read()), "the full disk is logged once: %s" % open(log).read()[-800:])


def main():
    try:
        setup()
        for fn in (test_bad_destinations_refused, test_connection_log_destinations,
                   test_logs_written, test_disable_completes_the_file, test_full_disk,
                   test_coprocess_logs_under_data_dir, test_coprocess_logs_under_access_log_dir):
            run_case(fn)
    finally:
        if B:
            B.stop()
        if S:
            S.cleanup()
        shutil.rmtree(TMP, ignore_errors=True)
    report()


if __name__ == "__main__":
    main()
