"""SigV4 and Bearer authentication end to end: sluiced with --credentials,
the real AWS CLI v2 and boto3 signing with the right and wrong keys, unsigned
curl, expired signatures, and REST Bearer tokens."""
import datetime
import os
import subprocess
import tempfile
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.exceptions import ClientError

from sluice_harness import Sluiced, check, check_eq, free_port, report, run_case

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
    p = subprocess.run([os.path.join(os.environ.get("SLUICE_BUILD_DIR", "build"), "sluiced"),
                        "--credentials", bad.name, "--listen", "127.0.0.1:%d" % free_port(),
                        "--data-dir", tempfile.mkdtemp()], capture_output=True, text=True,
                       timeout=10)
    check_eq(p.returncode, 2, "bad credentials file exits 2")
    check("[x]" in p.stderr and ":2:" in p.stderr, "message names section and line: %r" % p.stderr)
    p = subprocess.run([os.path.join(os.environ.get("SLUICE_BUILD_DIR", "build"), "sluiced"),
                        "--credentials", "/nonexistent/creds"], capture_output=True, text=True,
                       timeout=10)
    check_eq(p.returncode, 2, "missing credentials file exits 2")


for t in (test_sigv4, test_bearer_rest, test_non_loopback_with_credentials,
          test_bad_credentials_file):
    run_case(t)
report()
