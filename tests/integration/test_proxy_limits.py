"""sluice-proxy under the limits an attacker or a busy day pushes it to:
the open-file soft limit raised to the hard one at start, out of
descriptors it pauses accepting instead of spinning (and resumes),
--max-connections caps client connections, a connection that sends nothing
is closed after the header timeout counted from accept, an idle keep-alive
connection costs at most 4 KiB, and --help / --version describe the
binary."""
import os
import re
import resource
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import BUILD, SOURCE, Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Backend, FastBackend, Proxy, free_port, get, make_tg, wait_for  # noqa: E402

S = ELB = None
PROXY = os.path.join(BUILD, "sluice-proxy")


def asan_build():
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return "CMAKE_BUILD_TYPE:STRING=Asan" in f.read()
    except OSError:
        return False


def listener(name, backend, idle=None):
    port = free_port()
    lb = ELB.create_load_balancer(Name=name, Scheme="internal")["LoadBalancers"][0]
    if idle:
        ELB.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": str(idle)}])
    tg = make_tg(ELB, name + "-tg", [backend])
    ELB.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return port


def serves(port, timeout=15):
    return wait_for(lambda: get(port, "/", timeout=2)[0] == 200, timeout)


def one_request(port, timeout=5, end=b"len="):
    """A keep-alive connection that sent one GET and read its answer (up to
    <end>: Backend's body ends with "len=N", FastBackend's is "ok")."""
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while end not in data:
        d = c.recv(4096)
        if not d:
            break
        data += d
    return c, data


def closed_within(s, seconds):
    """Seconds until the peer closed <s>, or None if it stayed open."""
    t0 = time.time()
    s.settimeout(seconds)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return time.time() - t0
    except socket.timeout:
        return None
    except OSError:
        return time.time() - t0


# ---- cases -----------------------------------------------------------------

def test_help_and_version():
    out = subprocess.run([PROXY, "--help"], capture_output=True, text=True, timeout=10)
    check_eq(out.returncode, 0, "--help exits 0")
    with open(os.path.join(SOURCE, "proxy", "opts.c")) as f:
        accepted = sorted(set(re.findall(r'strcmp\(a, "(--[a-z-]+)"\)', f.read())))
    check(len(accepted) >= 10, "the options parsed: %r" % accepted)
    for opt in accepted:
        check(re.search(r"^  %s\b" % re.escape(opt), out.stdout, re.M) is not None,
              "--help describes %s:\n%s" % (opt, out.stdout))
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        version = re.search(r"project\(sluice VERSION ([0-9.]+)", f.read()).group(1)
    v = subprocess.run([PROXY, "--version"], capture_output=True, text=True, timeout=10)
    check_eq((v.returncode, v.stdout), (0, "sluice-proxy %s\n" % version), "--version")
    bad = subprocess.run([PROXY, "--control-plane", S.url, "--max-connections", "x"],
                         capture_output=True, text=True, timeout=10)
    check(bad.returncode == 2 and "--max-connections" in bad.stderr,
          "a bad value is refused, naming the option: %r" % bad.stderr)


def test_soft_limit_raised():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    soft = min(1024, hard)

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft // 2, hard))
    p = Proxy(S, preexec_fn=low)
    try:
        got = None
        for _ in range(100):
            with open("/proc/%d/limits" % p.proc.pid) as f:
                m = re.search(r"Max open files\s+(\d+)\s+(\d+)", f.read())
            got = (int(m.group(1)), int(m.group(2)))
            if got[0] != soft // 2:
                break
            time.sleep(0.05)
        check_eq(got, (hard, hard), "the soft open-file limit is raised to the hard one")
    finally:
        p.stop()


def test_emfile_pauses():
    b = Backend()
    port = listener("fds", b, idle=120)
    p = Proxy(S)
    try:
        check(serves(port), "listener serves")
        # Fewer descriptors than the clients below will take: accept() runs
        # into EMFILE with connections waiting in the backlog.
        resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE, (64, 64))
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(120)]
        time.sleep(0.5)
        cpu0 = p.cpu_seconds()
        time.sleep(2.0)
        used = p.cpu_seconds() - cpu0
        check(used < 0.3, "out of descriptors the proxy waits, not spins: %.2f s of CPU in 2 s"
              % used)
        check("Too many open files" in p.read_log(20000), "EMFILE is logged")
        for c in clients:
            c.close()
        check(serves(port, 20), "accepting resumes once connections close")
    finally:
        p.stop()
        b.stop()


def test_max_connections():
    b = Backend()
    port = listener("cap", b, idle=120)
    p = Proxy(S, extra=["--max-connections", "4"])
    try:
        check(serves(port), "listener serves")
        time.sleep(0.3)  # the probe's connection is gone
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
        time.sleep(0.3)
        fifth = socket.create_connection(("127.0.0.1", port), timeout=5)  # the backlog takes it
        fifth.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        fifth.settimeout(1.5)
        try:
            early = fifth.recv(4096)
        except socket.timeout:
            early = None
        check_eq(early, None, "a fifth connection waits while four are open")
        held.pop().close()
        fifth.settimeout(10)
        got = b""
        try:
            while b"len=" not in got:
                d = fifth.recv(4096)
                if not d:
                    break
                got += d
        except socket.timeout:
            pass
        check(got.startswith(b"HTTP/1.1 200"), "it is served once one closes: %r" % got[:40])
        fifth.close()
        for c in held:
            c.close()
    finally:
        p.stop()
        b.stop()


def test_header_timeout_from_accept():
    b = Backend()
    port = listener("quiet", b)  # idle timeout 60 s: not what closes it
    p = Proxy(S, extra=["--header-timeout", "1"])
    try:
        check(serves(port), "listener serves")
        silent = socket.create_connection(("127.0.0.1", port), timeout=5)
        dt = closed_within(silent, 5)
        check(dt is not None and dt < 3, "a connection that sends nothing is closed after the "
              "1 s header timeout: %r" % dt)
        silent.close()
        late = socket.create_connection(("127.0.0.1", port), timeout=5)
        t0 = time.time()
        time.sleep(0.9)
        late.sendall(b"GET / HTTP/1.1\r\n")
        dt = closed_within(late, 5)
        total = time.time() - t0
        # counted from the first byte it would close at 1.9 s
        check(dt is not None and total < 1.5, "a head begun late still has to be in 1 s after "
              "accept: closed %.2f s after accept" % total)
        late.close()
        c, first = one_request(port)
        check(first.startswith(b"HTTP/1.1 200"), "a prompt client is served")
        check_eq(closed_within(c, 2.5), None, "a kept-alive connection waits for the idle "
                 "timeout, not the header timeout")
        c.close()
    finally:
        p.stop()
        b.stop()


def test_idle_memory():
    # A backend that answers at once, so that the connections are opened
    # faster than they park: thousands active at once, then idle together
    # (glibc kept the pages freed by parking: 20 KiB each, bench/overload).
    b = FastBackend()
    port = listener("mem", b, idle=120)
    p = Proxy(S)
    n = 2000
    try:
        check(serves(port), "listener serves")
        time.sleep(1.5)
        before = p.rss()
        conns = []
        t0 = time.time()
        for _ in range(n):
            c, data = one_request(port, end=b"\r\n\r\nok")
            conns.append(c)
        opened = time.time() - t0
        check(all(True for _ in conns), "connections open")
        time.sleep(2.5)  # past the park delay
        per = (p.rss() - before) / n
        print("idle keep-alive connection: %.0f bytes of proxy RSS each (%d connections opened "
              "in %.1f s)" % (per, n, opened), flush=True)
        if not asan_build():  # ASan's redzones and quarantine are not the proxy's
            check(per <= 4096, "an idle keep-alive connection costs at most 4 KiB: %.0f B" % per)
        got = [c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") for c in conns[:50]]
        ok = 0
        for c in conns[:50]:
            d = c.recv(4096)
            ok += d.startswith(b"HTTP/1.1 200")
        check_eq((len(got), ok), (50, 50), "parked connections serve their next request")
        for c in conns:
            c.close()
    finally:
        p.stop()
        b.stop()


def main():
    global S, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        for fn in (test_help_and_version, test_soft_limit_raised, test_emfile_pauses,
                   test_max_connections, test_header_timeout_from_accept, test_idle_memory):
            run_case(fn)
    report()


if __name__ == "__main__":
    main()
