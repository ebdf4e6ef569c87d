"""Shared helpers for integration tests: start the real sluiced on a free
loopback port with a fresh data directory, and run real clients against it.

Every test file is a plain script run by ctest with Debian's /usr/bin/python3
(python3-boto3, python3-requests, python3-yaml, python3-jsonschema).  Tests
use `check(cond, what)` and end with `report()`, which prints the closing
"N passed, M failed" line and exits non-zero on any failure.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from cgroup_util import remove_task_cgroups

BUILD = os.environ.get("SLUICE_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SOURCE = os.environ.get("SLUICE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
AWS_CLI = "/usr/bin/aws"  # AWS CLI v2 from Debian's awscli package

_passed = 0
_failed = 0


def check(cond, what):
    """Record one assertion; never raises, so a test reports every failure."""
    global _passed, _failed
    if cond:
        _passed += 1
    else:
        _failed += 1
        print("FAIL: %s" % what, flush=True)
    return cond


def check_eq(got, want, what):
    return check(got == want, "%s: got %r, want %r" % (what, got, want))


def run_case(fn):
    """Run one test function; an exception counts as a failure."""
    try:
        fn()
    except Exception:  # noqa: BLE001 - report and keep going
        check(False, "%s raised:\n%s" % (fn.__name__, traceback.format_exc()))


def report():
    print("%d passed, %d failed" % (_passed, _failed), flush=True)
    sys.exit(1 if _failed or not _passed else 0)


def _remove_scratch(d):
    shutil.rmtree(d, ignore_errors=True)
    if os.path.exists(d + ".log"):  # a Sluiced's log beside its data directory
        os.unlink(d + ".log")


def scratch_dir(prefix="sluice-it-"):
    """A temporary directory, removed (with the log a Sluiced on it keeps
    beside it) when the test's process exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(_remove_scratch, d)
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sluiced:
    """A real sluiced process.  Use as a context manager."""

    def __init__(self, data_dir=None, extra_args=(), env=None, port=None, no_proxy=True):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="sluice-it-")
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        # Tests that do not ask for a runtime get the process runtime, whatever
        # engine this machine may run (--runtime in extra_args wins).
        self.env.setdefault("SLUICE_RUNTIME", "process")
        self.no_proxy = no_proxy
        self.proc = None
        self.log_path = os.path.join(self.data_dir + ".log")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, wait=True):
        args = [os.path.join(BUILD, "sluiced"), "--listen", "127.0.0.1:%d" % self.port,
                "--data-dir", self.data_dir] + self.extra_args
        if self.no_proxy and os.path.exists(os.path.join(BUILD, "sluice-proxy")):
            args.append("--no-proxy")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sluiced exited with %s:\n%s" % (self.proc.returncode,
                                                                     self.read_log()))
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError("sluiced did not become ready:\n" + self.read_log())

    def read_log(self, tail=4000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
                return text[-tail:] if tail else text
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        rc = self.stop(signal.SIGKILL)
        self._killed = True
        return rc

    def proxy_record(self):
        """(pid, start time) of the sluice-proxy recorded in the data
        directory (server/coproc.h) while that process still runs, else None."""
        try:
            with open(os.path.join(self.data_dir, "proxy.pid")) as f:
                rec = dict(ln.rstrip("\n").split(" ", 1) for ln in f if " " in ln)
            pid, start = int(rec["pid"]), rec["start"]
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, KeyError, ValueError):
            return None
        return (pid, start) if fields[0] not in "ZX" and fields[19] == start else None

    def stop_proxy(self, timeout=10.0):
        """Stop the co-process this data directory's sluiced left running
        (it outlives sluiced: server/supervise.h): SIGTERM, then SIGKILL."""
        rec = self.proxy_record()
        if rec is None:
            return
        os.kill(rec[0], signal.SIGTERM)
        deadline = time.time() + timeout
        while self.proxy_record() == rec and time.time() < deadline:
            time.sleep(0.05)
        if self.proxy_record() == rec:
            os.kill(rec[0], signal.SIGKILL)
            deadline = time.time() + 5
            while self.proxy_record() == rec and time.time() < deadline:
                time.sleep(0.05)

    def cleanup(self):
        rc = self.stop()
        self.stop_proxy()
        log = self.read_log(tail=0)
        # Under ASan/UBSan a finding in sluiced (including a leak at exit)
        # must fail the test that caused it.
        found = [log.find(m) for m in ("runtime error:", "==ERROR: AddressSanitizer",
                                       "==ERROR: LeakSanitizer", "AddressSanitizer")]
        found = [i for i in found if i >= 0]
        # The report itself, not the log's tail (later lines can push it out).
        check(not found, "sanitizer report in sluiced log:\n" +
              (log[max(0, min(found) - 500):min(found) + 6000] if found else ""))
        check(rc in (0, -9, None), "sluiced exited with %r on shutdown:\n%s" % (rc, log[-2000:]))
        owner = os.path.join(self.data_dir, "tasks", "runtime-owner")
        if os.path.exists(owner):  # the cgroups of the tasks the test has ended
            with open(owner) as f:
                remove_task_cgroups(["/sluice/" + f.read().strip()])
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            for path in (self.log_path, self.data_dir + ".proxy.log"):  # proxy_util.Proxy's
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # --- clients -------------------------------------------------------
    def boto3(self, service="elbv2", **kw):
        import boto3  # Debian's python3-boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=kw.get("key", "AKIDEXAMPLE"),
                            aws_secret_access_key=kw.get("secret", "secret"),
                            config=Config(retries={"max_attempts": 1}))

    def aws(self, *args, check_rc=True, env=None):
        """Run AWS CLI v2 with --output json; returns (rc, parsed-or-text, stderr)."""
        e = dict(os.environ)
        e.update({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                  "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                  "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        e.update(env or {})
        p = subprocess.run([AWS_CLI, "--endpoint-url", self.url, "--output", "json"] + list(args),
                           capture_output=True, text=True, env=e, timeout=60)
        out = p.stdout
        try:
            out = json.loads(p.stdout) if p.stdout.strip() else {}
        except ValueError:
            pass
        if check_rc and p.returncode != 0:
            raise RuntimeError("aws %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p.returncode, out, p.stderr

    def http(self, method, path, body=None, headers=None, raw=None):
        """Plain HTTP; returns (status, headers, parsed JSON or bytes)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=dict({"Content-Type": "application/json"},
                                                  **(headers or {})))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, hdrs, payload = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, dict(e.headers), e.read()
        try:
            return status, hdrs, json.loads(payload) if payload else None
        except ValueError:
            return status, hdrs, payload
