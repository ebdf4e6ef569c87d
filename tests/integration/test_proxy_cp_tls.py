"""sluice-proxy following an https:// control plane: the control plane's
certificate verified against --ca, and its name (an IP address here)
checked; a certificate it cannot trust keeps it from the feed, logged; a
token sent in plain HTTP to an address that is not loopback is warned
about."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import check, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, get, wait_for  # noqa: E402
from feed_cp import FakeControlPlane  # noqa: E402
from tls_util import make_cert, tmpdir  # noqa: E402

D = tmpdir()
CA = make_cert(D, "ca", "test CA")
OTHER_CA = make_cert(D, "ca-other", "another CA")
CP_IP = make_cert(D, "cp-ip", "control plane", ["IP:127.0.0.1"], ca=(CA[2], CA[3]))
CP_NAME = make_cert(D, "cp-name", "control plane", ["sluiced.example"], ca=(CA[2], CA[3]))


def snapshot(port):
    return {"feed_version": 1, "revision": 2,
            "load_balancers": [{"id": "b", "arn": "arn:b", "scheme": "internal",
                                "idle_timeout_seconds": 60}],
            "listeners": [{"id": "l", "arn": "arn:l", "load_balancer_id": "b", "port": port,
                           "protocol": "HTTP"}],
            "rules": [{"id": "d", "arn": "arn:d", "listener_id": "l", "is_default": True,
                       "conditions": [], "actions": [{
                           "type": "fixed-response", "order": 1, "status_code": 200,
                           "content_type": "text/plain", "message_body": "via tls"}]}],
            "target_groups": [], "targets": []}


def serves(port):
    try:
        return get(port, timeout=2)[2] == "via tls"
    except OSError:
        return False


def run(cert, ca, expect_ok, what):
    cp = FakeControlPlane(tls=(cert[2], cert[3]))
    port = free_port()
    cp.snap = snapshot(port)
    p = Proxy(cp, extra=["--ca", ca[2]])
    try:
        if expect_ok:
            check(wait_for(lambda: serves(port), 10), "%s: the feed arrives: %s" %
                  (what, p.read_log()[-500:]))
        else:
            check(wait_for(lambda: "certificate not trusted" in p.read_log(), 10),
                  "%s: refused and logged: %s" % (what, p.read_log()[-500:]))
            check(not serves(port) and cp.snapshots == 0, "%s: nothing applied" % what)
    finally:
        cp.close()
        p.stop()
        os.unlink(p.log_path)


def test_verification():
    run(CP_IP, CA, True, "a certificate for 127.0.0.1 from the --ca")
    run(CP_IP, OTHER_CA, False, "a certificate from another CA")
    run(CP_NAME, CA, False, "a certificate for another name")
    selfsigned = make_cert(D, "self", "self", ["IP:127.0.0.1"])
    run(selfsigned, CA, False, "a self-signed certificate")


class _Fake:
    data_dir = None

    def __init__(self, url, d):
        self.url = url
        self.data_dir = d


def test_plain_http_warning():
    d = tmpdir()
    creds = os.path.join(d, "credentials")
    with open(creds, "w") as f:
        f.write("[default]\naws_access_key_id = AKIDPROXY\naws_secret_access_key = s\n"
                "sluice_api_token = secret-0123456789\nsluice_role = proxy\n")
    p = Proxy(_Fake("http://192.0.2.1:%d" % free_port(), os.path.join(d, "a")),
              extra=["--credentials", creds])
    try:
        check(wait_for(lambda: "goes to 192.0.2.1 in plain HTTP" in p.read_log(), 5),
              "a token over plain HTTP to a remote address is warned about: %s" %
              p.read_log()[-400:])
    finally:
        p.stop()
    p = Proxy(_Fake("http://127.0.0.1:%d" % free_port(), os.path.join(d, "b")),
              extra=["--credentials", creds])
    try:
        time.sleep(0.5)
        check("plain HTTP" not in p.read_log(), "not to loopback")
    finally:
        p.stop()
    p = Proxy(_Fake("http://127.0.0.1:1", os.path.join(d, "c")), extra=["--ca", CA[2]])
    rc = p.proc.wait(5)
    check(rc == 2 and "--ca needs an https://" in p.read_log(), "--ca without https is refused")
    p.stop()


run_case(test_verification)
run_case(test_plain_http_warning)
report()
