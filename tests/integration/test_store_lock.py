"""One sluiced per data directory: a second one started on a directory in use,
on the same port or another, exits 1 with exactly `data directory DIR is in use
by pid N`, and changes nothing: not a file of the directory, no port, no proxy.
The first instance's acknowledged writes are intact, and it goes on writing."""
import hashlib
import os
import socket
import subprocess

from sluice_harness import BUILD, Sluiced, check, check_eq, free_port, report, run_case


def files_of(d):
    """Every file of directory <d> with its inode, size, mtime and content
    hash.  lock.mdb is LMDB's shared reader table, which the first
    instance's own read transactions write to: its inode and size only."""
    out = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        st = os.stat(p)
        if os.path.isdir(p):  # ca/, the local certificate authority
            out.update({name + "/" + k: v for k, v in files_of(p).items()})
            continue
        if name == "lock.mdb":
            out[name] = (st.st_ino, st.st_size)
            continue
        with open(p, "rb") as f:
            out[name] = (st.st_ino, st.st_size, st.st_mtime_ns,
                         hashlib.sha256(f.read()).hexdigest())
    return out


def proxies_of(pid):
    """sluice-proxy processes whose parent is <pid>."""
    found = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid and os.path.basename(os.readlink("/proc/%s/exe" % e)) == "sluice-proxy":
                found.append(int(e))
        except (OSError, ValueError, IndexError):
            pass
    return found


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def second(data_dir, port):
    """Start a second sluiced as a user would (proxy and scheduler on), on
    <data_dir> and <port>; returns (exit code, stderr, its pid)."""
    p = subprocess.Popen([os.path.join(BUILD, "sluiced"), "--listen", "127.0.0.1:%d" % port,
                          "--data-dir", data_dir, "--log-level", "debug"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.returncode, out + err, p.pid


def test_second_sluiced_refused():
    # The first instance keeps its directory quiet (no proxy reports, no
    # scheduler passes), so that any change to it would be the second's.
    a = Sluiced(extra_args=["--runtime", "none"]).start()
    try:
        c = a.boto3()
        arn = c.create_target_group(Name="locked", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        before_ips = ["10.9.0.%d" % i for i in range(1, 21)]
        for ip in before_ips:
            c.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 80}])
        before = files_of(a.data_dir)
        want = "data directory %s is in use by pid %d\n" % (a.data_dir, a.proc.pid)
        other = free_port()
        for what, port in (("the same port", a.port), ("another port", other)):
            rc, err, pid = second(a.data_dir, port)
            check_eq(rc, 1, "second sluiced on %s exits 1" % what)
            check_eq(err, want, "second sluiced on %s: its only output" % what)
            check_eq(files_of(a.data_dir), before,
                     "second sluiced on %s changed nothing in the directory" % what)
            check_eq(proxies_of(pid), [], "second sluiced on %s left no proxy" % what)
        check(port_free(other), "the other port was never taken")
        check_eq(a.proc.poll(), None, "the first sluiced still runs")
        after_ips = ["10.9.1.%d" % i for i in range(1, 11)]
        for ip in after_ips:
            c.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 80}])
        got = {d["Target"]["Id"] for d in
               c.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}
        check_eq(got, set(before_ips + after_ips),
                 "writes before and after the second sluiced, all there")
        # And after a restart of the first, from its directory alone.
        a.stop()
        a.start()
        got = {d["Target"]["Id"] for d in
               a.boto3().describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}
        check_eq(got, set(before_ips + after_ips), "all there after a restart")
    finally:
        a.cleanup()


def test_lock_freed_by_kill9():
    """The lock goes with the process however it ends: after kill -9 the
    next sluiced starts on the directory (its proxy, which outlived nothing,
    holds no lock either: the lock file is close-on-exec)."""
    a = Sluiced(no_proxy=False).start()
    try:
        a.boto3().create_target_group(Name="k9", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                      TargetType="ip")
        a.kill9()
        a.start()
        names = [t["TargetGroupName"] for t in a.boto3().describe_target_groups()["TargetGroups"]]
        check_eq(names, ["k9"], "restarted after kill -9 on the same directory")
    finally:
        a.cleanup()


run_case(test_second_sluiced_refused)
run_case(test_lock_freed_by_kill9)
report()
