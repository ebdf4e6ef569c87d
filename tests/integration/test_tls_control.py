"""sluiced --tls-cert/--tls-key: the whole API over HTTPS (curl --cacert, AWS CLI
v2 --ca-bundle, boto3 verify=), TLS 1.2+ only, plain HTTP refused on that port,
bad flag combinations refused at start, and the co-process started with
--control-plane https://... --ca <the certificate file> (contracts/https-feed.md)."""
import atexit
import os
import shutil
import subprocess
import tempfile
import time

from sluice_harness import BUILD, Sluiced, check, check_eq, free_port, report, run_case

TMP = tempfile.mkdtemp(prefix="sluice-tls-")
atexit.register(shutil.rmtree, TMP, True)
CERT, KEY, OTHER = (os.path.join(TMP, n) for n in ("cp.pem", "cp.key", "other.key"))
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", KEY, "-out", CERT, "-days", "5", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True,
               capture_output=True)
subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", OTHER], check=True, capture_output=True)


class TlsSluiced(Sluiced):
    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sluiced exited:\n" + self.read_log())
            if curl("/healthz", self.port)[0] == "200":
                return
            time.sleep(0.05)
        raise RuntimeError("sluiced (TLS) did not become ready:\n" + self.read_log())


def curl(path, port, *extra):
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", CERT,
                        "--max-time", "5"] + list(extra) + ["https://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True)
    return p.stdout, p.stderr


def test_https_api():
    with TlsSluiced(extra_args=["--tls-cert", CERT, "--tls-key", KEY, "--runtime", "none"]) as s:
        check_eq(curl("/healthz", s.port)[0], "200", "curl --cacert /healthz")
        code, err = curl("/healthz", s.port, "--tls-max", "1.1")
        check(code == "000", "TLS 1.1 refused: %s %s" % (code, err))
        p = subprocess.run(["curl", "-sS", "--max-time", "5", "http://127.0.0.1:%d/healthz" %
                            s.port], capture_output=True, text=True)
        check("ok" not in p.stdout, "plain HTTP is not served on the TLS port: %r" % p.stdout)
        p = subprocess.run(["curl", "-sS", "--max-time", "5", "https://127.0.0.1:%d/healthz" %
                            s.port], capture_output=True, text=True)
        check(p.returncode != 0, "an unknown CA is refused by curl: %s" % p.stderr)
        rc, out, err = s.aws("--ca-bundle", CERT, "elbv2", "create-load-balancer", "--name", "tls",
                             "--subnets", "subnet-1", "subnet-2")
        check(rc == 0 and out["LoadBalancers"][0]["LoadBalancerName"] == "tls",
              "AWS CLI over HTTPS: %s" % err)
        import boto3
        acm = boto3.client("acm", endpoint_url=s.url, region_name="us-east-1", verify=CERT,
                           aws_access_key_id="a", aws_secret_access_key="b")
        arn = acm.request_certificate(DomainName="tls.example.com")["CertificateArn"]
        check(arn.startswith("arn:aws:acm:"), "boto3 ACM over HTTPS")
        st = subprocess.run(["curl", "-sS", "--cacert", CERT, "https://127.0.0.1:%d/v1/ca.pem" %
                             s.port], capture_output=True, text=True).stdout
        check("BEGIN CERTIFICATE" in st, "GET /v1/ca.pem over HTTPS")
        check("listening on https://" in s.read_log(), "the log says https")


def start_fails(args):
    d = tempfile.mkdtemp(prefix="sluice-tls-bad-", dir=TMP)
    p = subprocess.run([os.path.join(BUILD, "sluiced"), "--listen", "127.0.0.1:%d" % free_port(),
                        "--data-dir", d, "--no-proxy", "--runtime", "none"] + args,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


def test_refused_at_start():
    rc, err = start_fails(["--tls-cert", CERT])
    check(rc == 2 and "go together" in err, "--tls-cert without --tls-key: %d %s" % (rc, err))
    rc, err = start_fails(["--tls-cert", CERT, "--tls-key", OTHER])
    check(rc != 0 and "does not match" in err, "a key that does not match: %d %s" % (rc, err))
    rc, err = start_fails(["--tls-cert", os.path.join(TMP, "missing.pem"), "--tls-key", KEY])
    check(rc != 0 and "missing.pem" in err, "a missing file: %d %s" % (rc, err))


def child_cmdlines(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids = f.read().split()
        except OSError:
            continue
        for k in kids:
            try:
                with open("/proc/%s/cmdline" % k, "rb") as f:
                    out.append(f.read().split(b"\0"))
            except OSError:
                pass
    return out


def test_coprocess_args():
    """The co-process gets the https URL and sluiced's certificate file as --ca.  (Whether
    the proxy then follows the feed over TLS is the tls engineer's half of the contract.)"""
    fake = os.path.join(TMP, "fake-proxy")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ntrap 'exit 0' TERM INT\nwhile :; do sleep 0.1; done\n")
    os.chmod(fake, 0o755)
    s = TlsSluiced(extra_args=["--tls-cert", CERT, "--tls-key", KEY, "--runtime", "none",
                               "--proxy-bin", fake], no_proxy=False)
    with s:
        deadline, args = time.time() + 5, []
        while time.time() < deadline and not args:
            args = [a for a in child_cmdlines(s.proc.pid) if b"--control-plane" in a]
            time.sleep(0.05)
        check(args, "the co-process was started")
        if args:
            a = [x.decode() for x in args[0]]
            check_eq(a[a.index("--control-plane") + 1], "https://127.0.0.1:%d" % s.port,
                     "--control-plane https://")
            check_eq(a[a.index("--ca") + 1], CERT, "--ca is the --tls-cert file")


for t in (test_https_api, test_refused_at_start, test_coprocess_args):
    run_case(t)
report()
