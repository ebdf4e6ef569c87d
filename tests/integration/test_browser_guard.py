"""Without --credentials sluiced takes unsigned requests from this machine;
web pages in a browser on it must not be able to drive it.  A cross-site
form POST (curl sends exactly what a browser sends for a <form>), a DNS
rebinding page (a foreign Host that resolves to 127.0.0.1), an Origin of
another site or `null`, and `Sec-Fetch-Site: cross-site` get 403 in each
protocol's own error format, naming --allowed-hosts, and change nothing.
The AWS CLI, boto3 and curl keep working, and --allowed-hosts (or
SLUICE_ALLOWED_HOSTS) admits more names."""
import json
import os
import subprocess

from sluice_harness import (BUILD, Sluiced, check, check_eq,
                            free_port, report, run_case, scratch_dir)

SLUICED = os.path.join(BUILD, "sluiced")
FORM = "application/x-www-form-urlencoded"


def curl(url, *args):
    """curl as an attacker would script it; returns (status, body)."""
    p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"] +
                       list(args) + [url], capture_output=True, text=True, timeout=20)
    body, _, code = p.stdout.rpartition("\n")
    return int(code or 0), body


def target_groups(s):
    return [t["TargetGroupName"] for t in s.boto3().describe_target_groups()["TargetGroups"]]


def test_cross_site_form_post():
    with Sluiced(extra_args=["--runtime", "none"]) as s:
        # What a page on evil.example submits with a <form method=post>.
        st, body = curl(s.url + "/", "-H", "Origin: https://evil.example",
                        "-H", "Sec-Fetch-Site: cross-site", "-H", "Content-Type: " + FORM,
                        "--data", "Action=CreateTargetGroup&Version=2015-12-01&Name=pwned"
                                  "&Protocol=HTTP&Port=80&VpcId=vpc-1")
        check_eq(st, 403, "cross-site form POST status")
        check("<ErrorResponse" in body and "<Code>AccessDenied</Code>" in body,
              "Query XML error: %r" % body)
        check("--allowed-hosts" in body and "evil.example" in body,
              "message names the flag and the origin: %r" % body)
        # The same without Sec-Fetch-Site (older browsers): the Origin alone.
        st, body = curl(s.url + "/", "-H", "Origin: http://evil.example:7070",
                        "-H", "Content-Type: " + FORM,
                        "--data", "Action=CreateTargetGroup&Version=2015-12-01&Name=pwned2"
                                  "&Protocol=HTTP&Port=80&VpcId=vpc-1")
        check_eq(st, 403, "foreign Origin")
        # Sandboxed frames and file:// pages send Origin: null.
        st, body = curl(s.url + "/", "-H", "Origin: null", "-H", "Content-Type: " + FORM,
                        "--data", "Action=DescribeTargetGroups&Version=2015-12-01")
        check_eq(st, 403, "Origin: null")
        # A loopback Origin but Sec-Fetch-Site: cross-site is still refused.
        st, body = curl(s.url + "/v1/target-groups", "-H", "Origin: http://localhost:3000",
                        "-H", "Sec-Fetch-Site: cross-site", "-H", "Content-Type: text/plain",
                        "--data", '{"id":"pwned3","Name":"pwned3","Port":80}')
        check_eq(st, 403, "Sec-Fetch-Site: cross-site on REST")
        check(json.loads(body)["error"]["code"] == "AccessDenied" and "--allowed-hosts" in body,
              "REST error format: %r" % body)
        check_eq(target_groups(s), [], "nothing was created by any of the pages")
        # A page of this machine (same-origin fetch from a loopback origin) passes.
        st, body = curl(s.url + "/v1/target-groups", "-H",
                        "Origin: http://127.0.0.1:%d" % s.port, "-H",
                        "Sec-Fetch-Site: same-origin", "-H", "Content-Type: application/json",
                        "--data", '{"id":"local","Name":"local","Port":80}')
        check_eq(st, 201, "same-origin page of sluiced itself: %s" % body)


def test_dns_rebinding():
    with Sluiced(extra_args=["--runtime", "none"]) as s:
        # After rebinding, the page's requests carry its own name as Host.
        td = json.dumps({"family": "pwn", "containerDefinitions": [{
            "name": "c", "image": "x", "entryPoint": ["/bin/sh", "-c", "touch /tmp/pwned"]}]})
        for host in ("rebind.attacker.example:%d" % s.port, "rebind.attacker.example",
                     "127.0.0.1.nip.io:%d" % s.port, "evil.localhost.example"):
            st, hdrs, body = s.http("POST", "/", raw=td.encode(), headers={
                "Host": host, "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition"})
            check_eq(st, 403, "rebound Host %s" % host)
            check(isinstance(body, dict) and body.get("__type") == "AccessDeniedException" and
                  "--allowed-hosts" in body.get("message", ""),
                  "JSON 1.1 error for %s: %r" % (host, body))
        st, _, body = s.http("GET", "/v1/target-groups", headers={"Host": "evil.example"})
        check_eq(st, 403, "REST with a rebound Host")
        check(body["error"]["code"] == "AccessDenied", "REST error: %r" % body)
        st, _, body = s.http("POST", "/", raw=b"{}", headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListTaskDefinitions"})
        check_eq(st, 200, "list task definitions")
        check_eq(body.get("taskDefinitionArns"), [], "no task definition was registered")
        # Loopback names and addresses, with and without ports, pass.
        for host in ("localhost", "localhost:%d" % s.port, "LOCALHOST.", "app.localhost",
                     "127.0.0.1", "127.0.0.2:%d" % s.port, "[::1]:%d" % s.port,
                     "[::ffff:127.0.0.1]"):
            st, _, _ = s.http("GET", "/v1/target-groups", headers={"Host": host})
            check_eq(st, 200, "loopback Host %s" % host)
        # A rebound page may send many headers before its Host.
        junk = b"".join(b"X-Junk-%d: x\r\n" % i for i in range(200))
        st, payload = raw_request(s.port, b"GET /v1/target-groups HTTP/1.1\r\n" + junk +
                                  b"Host: evil.example\r\nConnection: close\r\n\r\n")
        check_eq(st, 403, "a Host after 200 other headers")
        # Two Host headers (one loopback, one not) are refused too.
        st, payload = raw_request(s.port, b"GET /v1/target-groups HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          b"Host: evil.example\r\nConnection: close\r\n\r\n")
        check(st in (400, 403), "two Host headers refused: %r" % st)


def raw_request(port, data):
    import socket
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(data)
    out = b""
    while True:
        part = c.recv(65536)
        if not part:
            break
        out += part
    c.close()
    return (int(out[9:12]) if out.startswith(b"HTTP/1.") else None), out


def test_real_clients_unchanged():
    with Sluiced(extra_args=["--runtime", "none"]) as s:
        s.aws("elbv2", "create-target-group", "--name", "cli", "--protocol", "HTTP", "--port",
              "80", "--vpc-id", "vpc-1")
        rc, out, err = s.aws("elbv2", "describe-target-groups", "--names", "cli")
        check_eq(rc, 0, "AWS CLI v2: " + err)
        e = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
                 AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null")
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", "http://localhost:%d" % s.port,
                            "ecs", "list-clusters"], capture_output=True, text=True, env=e,
                           timeout=60)
        check_eq(p.returncode, 0, "AWS CLI v2 at http://localhost: " + p.stderr)
        check_eq(target_groups(s), ["cli"], "boto3")
        st, body = curl(s.url + "/v1/target-groups")
        check_eq(st, 200, "curl")


def test_allowed_hosts():
    with Sluiced(extra_args=["--runtime", "none", "--allowed-hosts",
                             "sluice.test, Dev.Box.Internal,10.1.2.3"]) as s:
        for host in ("sluice.test", "sluice.test:%d" % s.port, "dev.box.internal",
                     "10.1.2.3:%d" % s.port):
            st, _, _ = s.http("GET", "/v1/target-groups", headers={"Host": host})
            check_eq(st, 200, "allowed Host %s" % host)
        st, _, _ = s.http("GET", "/v1/target-groups", headers={
            "Host": "sluice.test", "Origin": "http://sluice.test:8080"})
        check_eq(st, 200, "allowed Origin")
        st, _, _ = s.http("GET", "/v1/target-groups", headers={"Host": "other.test"})
        check_eq(st, 403, "a name not in the list")
        st, _, _ = s.http("GET", "/v1/target-groups", headers={"Host": "sub.sluice.test"})
        check_eq(st, 403, "names match exactly, not their subdomains")
    with Sluiced(extra_args=["--runtime", "none"], env={"SLUICE_ALLOWED_HOSTS": "env.test"}) as s:
        st, _, _ = s.http("GET", "/v1/target-groups", headers={"Host": "env.test"})
        check_eq(st, 200, "SLUICE_ALLOWED_HOSTS")


def test_allowed_hosts_refused():
    d = scratch_dir()
    for bad in ("a.test:80", "http://a.test", "a.test,,b.test", "a.test/x", "a b", "a.test,"):
        p = subprocess.run([SLUICED, "--listen", "127.0.0.1:%d" % free_port(), "--data-dir", d,
                            "--allowed-hosts", bad], capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 2, "--allowed-hosts %r exits 2" % bad)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        check(len(lines) == 1 and "--allowed-hosts" in lines[0],
              "one line naming the flag for %r: %r" % (bad, p.stderr))
    creds = os.path.join(d, "creds")
    with open(creds, "w") as f:
        f.write("[a]\naws_access_key_id = A\naws_secret_access_key = a\n")
    os.chmod(creds, 0o600)
    p = subprocess.run([SLUICED, "--listen", "127.0.0.1:%d" % free_port(), "--data-dir", d,
                        "--credentials", creds, "--allowed-hosts", "a.test"],
                       capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 2, "--allowed-hosts with --credentials is refused")
    check("--allowed-hosts" in p.stderr and "--credentials" in p.stderr, p.stderr)


for t in (test_cross_site_form_post, test_dns_rebinding, test_real_clients_unchanged,
          test_allowed_hosts, test_allowed_hosts_refused):
    run_case(t)
report()
