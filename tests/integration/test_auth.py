"""SigV4 and Bearer authentication end to end: sluiced with --credentials,
the real AWS CLI v2 and boto3 signing with the right and wrong keys, unsigned
curl, expired signatures, and REST Bearer tokens.  Roles: only a proxy's key
(sluice_role = proxy) reports, and it reaches nothing but /v1/dataplane/.
The co-process starts, subscribes and reports in every configuration
sluiced accepts (tokens anywhere or nowhere, upper-case keys, `key: value`,
an IPv6 listen address), sluice-proxy --credentials reads the same files,
and a credentials file readable by others is warned about by both."""
import atexit
import datetime
import os
import subprocess
import tempfile
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.exceptions import ClientError

import sys

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import (BUILD, Sluiced, check, check_eq,  # noqa: E402
                            free_port, report, run_case, scratch_dir)

CREDS = """# sluice test credentials
[default]
aws_access_key_id = AKIDSLUICETEST
aws_secret_access_key = s3cr3t/with+chars
sluice_api_token = tok-123

[ci]
aws_access_key_id=AKIDCI
aws_secret_access_key=ci-secret
"""


def creds_file():
    f = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
    f.write(CREDS)
    f.close()
    atexit.register(os.unlink, f.name)
    return f.name


def client(s, key, secret):
    import boto3
    from botocore.config import Config
    return boto3.client("elbv2", endpoint_url=s.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def test_sigv4():
    path = creds_file()
    with Sluiced(extra_args=["--credentials", path]) as s:
        good = client(s, "AKIDSLUICETEST", "s3cr3t/with+chars")
        tg = good.create_target_group(Name="authed", Protocol="HTTP", Port=80,
                                      VpcId="vpc-1")["TargetGroups"][0]
        check("targetgroup/authed/" in tg["TargetGroupArn"], "signed create works")
        check_eq(code_of(lambda: client(s, "AKIDCI", "ci-secret").describe_target_groups()),
                 (None, 200), "second profile works")
        check_eq(code_of(lambda: client(s, "AKIDSLUICETEST", "wrong").describe_target_groups()),
                 ("SignatureDoesNotMatch", 403), "wrong secret")
        check_eq(code_of(lambda: client(s, "AKIDNOBODY", "x").describe_target_groups()),
                 ("InvalidClientTokenId", 403), "unknown key")

        # AWS CLI v2 with a shared-credentials file, as a user would.
        env = {"AWS_SHARED_CREDENTIALS_FILE": path, "AWS_ACCESS_KEY_ID": "",
               "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "default"}
        e = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=path, AWS_CONFIG_FILE="/dev/null",
                 AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        e.pop("AWS_ACCESS_KEY_ID", None)
        e.pop("AWS_SECRET_ACCESS_KEY", None)
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", s.url, "elbv2",
                            "describe-target-groups", "--names", "authed"],
                           capture_output=True, text=True, env=e, timeout=60)
        check_eq(p.returncode, 0, "aws CLI signs with ~/.aws/credentials format: " + p.stderr)
        check("authed" in p.stdout, "CLI sees the target group")
        del env

        # Unsigned: MissingAuthenticationToken, 403, in the Query error format.
        st, _, body = s.http("POST", "/", raw=b"Action=DescribeTargetGroups&Version=2015-12-01",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        check_eq(st, 403, "unsigned request status")
        check(b"<Code>MissingAuthenticationToken</Code>" in body, "unsigned code: %r" % body)

        # A correct signature made 20 minutes ago: RequestExpired.
        req = botocore.awsrequest.AWSRequest(
            method="POST", url=s.url + "/",
            data="Action=DescribeTargetGroups&Version=2015-12-01",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = old
            dt.datetime.now.return_value = old
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(
                "AKIDSLUICETEST", "s3cr3t/with+chars"), "elasticloadbalancing",
                "us-east-1").add_auth(req)
        st, _, body = s.http("POST", "/", raw=req.body.encode() if isinstance(req.body, str)
                             else req.body, headers=dict(req.headers.items()))
        check_eq(st, 403, "expired signature status")
        check(b"<Code>RequestExpired</Code>" in body, "expired code: %r" % body)

        # Tampered body after signing: SignatureDoesNotMatch.
        req = botocore.awsrequest.AWSRequest(
            method="POST", url=s.url + "/",
            data="Action=DescribeTargetGroups&Version=2015-12-01",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(
            "AKIDSLUICETEST", "s3cr3t/with+chars"), "elasticloadbalancing",
            "us-east-1").add_auth(req)
        st, _, body = s.http("POST", "/", raw=b"Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=x",
                             headers=dict(req.headers.items()))
        check_eq(st, 403, "tampered body status")
        check(b"SignatureDoesNotMatch" in body, "tampered code: %r" % body)


def test_bearer_rest():
    path = creds_file()
    with Sluiced(extra_args=["--credentials", path]) as s:
        st, _, body = s.http("GET", "/v1/target-groups")
        check_eq(st, 403, "REST without a token")
        check(isinstance(body, dict) and body["error"]["code"] == "MissingAuthenticationToken",
              "REST error body: %r" % body)
        st, _, body = s.http("GET", "/v1/target-groups", headers={"Authorization": "Bearer nope"})
        check_eq(st, 403, "REST with a wrong token")
        st, _, body = s.http("POST", "/v1/target-groups",
                             {"id": "web", "Name": "web", "Port": 80},
                             headers={"Authorization": "Bearer tok-123"})
        check_eq(st, 201, "REST create with the token")
        st, _, body = s.http("GET", "/v1/target-groups/web",
                             headers={"Authorization": "Bearer tok-123"})
        check_eq(st, 200, "REST read with the token")
        # /healthz stays open for probes.
        st, _, _ = s.http("GET", "/healthz")
        check_eq(st, 200, "healthz needs no credentials")


def test_non_loopback_with_credentials():
    """With credentials, listening beyond loopback is allowed (traffic here
    still comes over loopback)."""
    path = creds_file()
    port = free_port()
    s = Sluiced(extra_args=["--credentials", path, "--listen", "0.0.0.0:%d" % port], port=port)
    try:
        s.start()
        st, _, _ = s.http("GET", "/healthz")
        check_eq(st, 200, "0.0.0.0 with credentials serves")
    finally:
        s.cleanup()


def test_bad_credentials_file():
    bad = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
    bad.write("[x]\naws_access_key_id = onlykey\n")
    bad.close()
    atexit.register(os.unlink, bad.name)
    p = subprocess.run([os.path.join(os.environ.get("SLUICE_BUILD_DIR", "build"), "sluiced"),
                        "--credentials", bad.name, "--listen", "127.0.0.1:%d" % free_port(),
                        "--data-dir", scratch_dir()], capture_output=True, text=True,
                       timeout=10)
    check_eq(p.returncode, 2, "bad credentials file exits 2")
    check("[x]" in p.stderr and ":2:" in p.stderr, "message names section and line: %r" % p.stderr)
    p = subprocess.run([os.path.join(os.environ.get("SLUICE_BUILD_DIR", "build"), "sluiced"),
                        "--credentials", "/nonexistent/creds"], capture_output=True, text=True,
                       timeout=10)
    check_eq(p.returncode, 2, "missing credentials file exits 2")


# ---- roles: reports from proxies only -------------------------------------

ROLES = """[admin]
aws_access_key_id = AKIDADMIN
aws_secret_access_key = adminsecret
sluice_api_token = tok-admin-0123456789

[edge]
aws_access_key_id = AKIDEDGE
aws_secret_access_key = edgesecret
sluice_api_token = tok-edge-0123456789
sluice_role = proxy
"""


def write_creds(text, mode=0o600):
    f = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
    f.write(text)
    f.close()
    os.chmod(f.name, mode)
    atexit.register(os.unlink, f.name)
    return f.name


def report_body(n_targets=0, pad=0):
    import json
    return json.dumps({"proxy_id": "it-edge", "applied_revision": 0, "targets": [
        {"key": "tg/x/10.0.0.%d:80" % (i % 250), "state": "healthy", "reason": "",
         "description": "x" * pad, "in_flight": 0, "connections": 0}
        for i in range(n_targets)]}).encode()


def test_report_roles():
    path = write_creds(ROLES)
    with Sluiced(extra_args=["--credentials", path, "--runtime", "none"]) as s:
        admin = {"Authorization": "Bearer tok-admin-0123456789"}
        edge = {"Authorization": "Bearer tok-edge-0123456789"}
        st, _, body = s.http("POST", "/v1/dataplane/report", raw=report_body(), headers=admin)
        check_eq(st, 403, "a report with an admin's key")
        check(body["error"]["code"] == "AccessDenied" and "sluice_role = proxy" in
              body["error"]["message"], "report refusal names the role: %r" % body)
        st, _, body = s.http("POST", "/v1/dataplane/report", raw=report_body(2), headers=edge)
        check_eq(st, 200, "a report with the proxy's key: %r" % body)
        # SigV4 with the admin key pair: refused as well.
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        req = botocore.awsrequest.AWSRequest(method="POST", url=s.url + "/v1/dataplane/report",
                                             data=report_body(),
                                             headers={"Content-Type": "application/json"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDADMIN", "adminsecret"),
                                "execute-api", "us-east-1").add_auth(req)
        st, _, body = s.http("POST", "/v1/dataplane/report", raw=req.body,
                             headers=dict(req.headers.items()))
        check_eq(st, 403, "a SigV4-signed report with an admin's key")
        # The proxy's key reads the feed, and nothing else.
        st, _, _ = s.http("GET", "/v1/dataplane/snapshot", headers=edge)
        check_eq(st, 200, "the proxy's key reads the snapshot")
        st, _, body = s.http("GET", "/v1/target-groups", headers=edge)
        check_eq(st, 403, "the proxy's key on the REST API")
        check(body["error"]["code"] == "AccessDenied", "%r" % body)
        st, _, body = s.http("POST", "/v1/target-groups", {"id": "x", "Name": "x", "Port": 80},
                             headers=edge)
        check_eq(st, 403, "the proxy's key cannot create")
        st, _, _ = s.http("GET", "/v1/target-groups", headers=admin)
        check_eq(st, 200, "the admin's key on the REST API")
        check(code_of(lambda: client(s, "AKIDEDGE", "edgesecret").describe_target_groups()) ==
              ("AccessDenied", 403), "the proxy's key pair on the ELBv2 API")
        # Reports are bounded in size (1 MiB, like every body), refused
        # from the head when Content-Length says so.
        import socket
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(b"POST /v1/dataplane/report HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Authorization: Bearer tok-edge-0123456789\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (2 << 20))
        head = c.recv(4096)
        c.close()
        check(head.startswith(b"HTTP/1.1 413"), "an oversized report, from its head: %r" % head)


# ---- the co-process starts in every configuration sluiced accepts ---------

def fast_client(s, key, secret):
    """boto3 without client-side validation: sluiced takes 1 s health checks."""
    import boto3
    from botocore.config import Config
    return boto3.client("elbv2", endpoint_url=s.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, parameter_validation=False))


def coprocess_serves(s, elb, name, label=None):
    """A listener through the co-process carries traffic, and the proxy's
    health reports reach sluiced (the target turns healthy)."""
    from proxy_util import Backend, get, make_tg, wait_for
    b = Backend(name)
    try:
        port = free_port()
        lb = elb.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
        tg = make_tg(elb, name + "-tg", [b], HealthCheckIntervalSeconds=1,
                     HealthCheckTimeoutSeconds=1)
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward",
                                             "TargetGroupArn": tg["TargetGroupArn"]}])
        flows = wait_for(lambda: get(port, timeout=2)[0] == 200, 15)
        label = label or name
        check(flows, "%s: traffic flows through the co-process:\n%s" % (label, s.read_log()))
        healthy = wait_for(lambda: elb.describe_target_health(
            TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"][0]["TargetHealth"][
            "State"] == "healthy", 15)
        check(healthy, "%s: the co-process's reports are taken:\n%s" % (label, s.read_log()))
    finally:
        b.stop()


class Sluiced6(Sluiced):
    @property
    def url(self):
        return "http://[::1]:%d" % self.port


SHAPES = {
    "token in the second section": """[default]
aws_access_key_id = AKIDA
aws_secret_access_key = sa
[ci]
aws_access_key_id = AKIDB
aws_secret_access_key = sb
sluice_api_token = tok-second-0123456789
""",
    "upper-case keys": """[Default]
AWS_ACCESS_KEY_ID = AKIDA
AWS_SECRET_ACCESS_KEY = sa
SLUICE_API_TOKEN = tok-upper-0123456789
""",
    "key: value syntax": """[default]
aws_access_key_id: AKIDA
aws_secret_access_key:sa
sluice_api_token : tok-colon-0123456789
""",
    "no token at all": """[default]
aws_access_key_id = AKIDA
aws_secret_access_key = sa
""",
}


def test_coprocess_configurations():
    for i, (name, text) in enumerate(SHAPES.items()):
        path = write_creds(text)
        s = Sluiced(no_proxy=False, extra_args=["--credentials", path, "--runtime", "none"])
        try:
            s.start()
            coprocess_serves(s, fast_client(s, "AKIDA", "sa"), "co%d" % i, name)
        finally:
            s.cleanup()
    for creds in (True, False):
        args = ["--listen", "[::1]:0", "--runtime", "none"]
        port = free_port()
        args[1] = "[::1]:%d" % port
        if creds:
            args += ["--credentials", write_creds(SHAPES["upper-case keys"])]
        s = Sluiced6(no_proxy=False, port=port, extra_args=args)
        try:
            s.start()
            coprocess_serves(s, fast_client(s, "AKIDA", "sa"), "v6" + ("auth" if creds else "open"))
        finally:
            s.cleanup()


def test_standalone_proxy_credentials():
    """sluice-proxy --credentials reads the file as sluiced does: a proxy's
    section in any place, upper-case keys, `key: value`; a file readable by
    others gets a warning; a non-proxy section is named as such."""
    from proxy_util import Proxy
    path = write_creds(ROLES)
    with Sluiced(extra_args=["--credentials", path, "--runtime", "none"]) as s:
        mine = write_creds("[Admin]\nAWS_ACCESS_KEY_ID: AKIDADMIN\nAWS_SECRET_ACCESS_KEY: x\n"
                           "[edge]\nAws_Access_Key_Id: AKIDEDGE\naws_secret_access_key: y\n"
                           "SLUICE_API_TOKEN: tok-edge-0123456789\nSluice_Role: proxy\n",
                           mode=0o644)
        p = Proxy(s, extra=["--credentials", mine])
        try:
            coprocess_serves(s, fast_client(s, "AKIDADMIN", "adminsecret"), "standalone")
            log = p.read_log()
            check("readable by other users" in log and "chmod 600" in log,
                  "sluice-proxy warns about the file's mode: %r" % log[-600:])
        finally:
            p.stop()
        admin_only = write_creds("[admin]\naws_access_key_id = AKIDADMIN\n"
                                 "aws_secret_access_key = x\nsluice_api_token = "
                                 "tok-admin-0123456789\n")
        p = Proxy(s, extra=["--credentials", admin_only])
        try:
            from proxy_util import wait_for
            check(wait_for(lambda: "is not marked sluice_role = proxy" in p.read_log(), 5),
                  "a proxy with an admin's token is warned: %r" % p.read_log()[-500:])
        finally:
            p.stop()
        none = write_creds("[a]\naws_access_key_id = A\naws_secret_access_key = a\n")
        p = subprocess.run([os.path.join(BUILD, "sluice-proxy"), "--control-plane", s.url,
                            "--credentials", none], capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 2, "a file without any token: exit 2")
        check("no section has a sluice_api_token" in p.stderr, p.stderr)


def test_sluiced_warns_about_file_mode():
    path = write_creds(ROLES, mode=0o640)
    with Sluiced(extra_args=["--credentials", path, "--runtime", "none"]) as s:
        check("readable by other users (mode 0640)" in s.read_log(), s.read_log())
    path = write_creds(ROLES, mode=0o600)
    with Sluiced(extra_args=["--credentials", path, "--runtime", "none"]) as s:
        check("other users" not in s.read_log(), "no warning at 0600: " + s.read_log())


for t in (test_sigv4, test_bearer_rest, test_non_loopback_with_credentials,
          test_bad_credentials_file, test_report_roles, test_coprocess_configurations,
          test_standalone_proxy_credentials, test_sluiced_warns_about_file_mode):
    run_case(t)
report()
