"""Private container engines for the docker runtime's tests and bench/deploy.

- Dockerd: a dockerd of our own (data-root, exec-root, pidfile and socket in
  a fresh directory, its own bridge and /24, `--iptables=false
  --ip-forward=false` so it changes neither the FORWARD policy nor
  ip_forward); several can run at once, and none touches an engine it did not
  start.  Published ports stay reachable on 127.0.0.1: dockerd's userland
  proxy forwards them without iptables.
- Podman: `podman system service` with its own storage, runroot, network
  config and bridge; what netavark changes (sysctls, iptables chains) is put
  back when it stops.
- build_images(): a small image without any registry (busybox-static, the
  host's python3 and its stdlib, tests/integration/ecs_app.py), imported
  once per engine and tagged with the names task definitions use.  The
  rootfs tarball is cached in the build directory for the whole test run.

Both stop what they started and leave the machine as found: no container,
mount, bridge or sysctl of theirs survives stop().  If an engine cannot start,
start() raises: the container tests fail, they do not skip.
"""
import fcntl
import glob
import http.client
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.parse

from cgroup_util import remove_task_cgroups

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SLUICE_BUILD_DIR") or os.path.join(HERE, "..", "..", "build")
APP = os.path.join(HERE, "ecs_app.py")


class _UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Api:
    """The Docker Engine API (v1.41) over a unix socket; the tests' only way
    to talk to an engine (no docker CLI)."""

    def __init__(self, sock):
        self.sock = sock

    def call(self, method, path, body=None, headers=None, timeout=120, raw=False):
        c = _UnixConn(self.sock, timeout)
        h = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            c.request(method, "/v1.41" + path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        if raw:
            return r.status, data
        try:
            return r.status, (json.loads(data) if data else None)
        except ValueError:
            return r.status, data

    def ping(self):
        try:
            return self.call("GET", "/_ping", timeout=2, raw=True)[0] == 200
        except OSError:
            return False

    def containers(self, label=None, all_=True):
        f = {"label": [label]} if label else {}
        q = "?all=%d&filters=%s" % (1 if all_ else 0, urllib.parse.quote(json.dumps(f)))
        return self.call("GET", "/containers/json" + q)[1] or []

    def inspect(self, cid):
        st, body = self.call("GET", "/containers/%s/json" % cid)
        return body if st == 200 else None

    def kill(self, cid, sig="SIGKILL"):
        return self.call("POST", "/containers/%s/kill?signal=%s" % (cid, sig))[0]

    def remove_all(self):
        for c in self.containers():
            self.call("DELETE", "/containers/%s?force=1&v=1" % c["Id"])

    def tag(self, image, repo, tag):
        q = urllib.parse.urlencode({"repo": repo, "tag": tag})
        st, body = self.call("POST", "/images/%s/tag?%s" % (urllib.parse.quote(image, safe=""), q))
        if st >= 300:
            raise RuntimeError("tag %s as %s:%s: %d %r" % (image, repo, tag, st, body))

    def build(self, tag, dockerfile):
        """POST /build with a context holding only a Dockerfile."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            data = dockerfile.encode()
            ti = tarfile.TarInfo("Dockerfile")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        q = urllib.parse.urlencode({"t": tag, "rm": "1", "forcerm": "1"})
        st, out = self.call("POST", "/build?" + q, body=buf.getvalue(),
                            headers={"Content-Type": "application/x-tar"}, raw=True)
        text = out.decode("utf-8", "replace")
        if st != 200 or '"error"' in text:
            raise RuntimeError("build %s: %d %s" % (tag, st, text[-600:]))


# ---- machine state -------------------------------------------------------

def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _write(path, value):
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError:
        pass


def _forward_policy():
    p = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True)
    m = re.search(r"^-P FORWARD (\w+)", p.stdout, re.M)
    return m.group(1) if m else None


def _chains(table):
    p = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True)
    return set(re.findall(r"^-N (\S+)", p.stdout, re.M))


def _free_subnet():
    """A 10.x.y.0/24 no local route or address overlaps."""
    used = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True,
                          text=True).stdout
    used += subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout
    for _ in range(200):
        x, y = random.randint(100, 250), random.randint(0, 255)
        if "10.%d.%d." % (x, y) not in used:
            return "10.%d.%d" % (x, y)
    raise RuntimeError("no free 10.x.y.0/24 for a test bridge")


# Directories engines create outside their roots (dockerd's plugin directory,
# the CNI cache, named network namespaces).
_ENGINE_DIRS = ("/run/docker", "/var/lib/cni", "/run/netns")


def _umount_under(root):
    """Unmount whatever is still mounted below <root>, deepest first."""
    mounts = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mp = line.split()[1].encode().decode("unicode_escape")
            if mp.startswith(root + "/"):
                mounts.append(mp)
    for mp in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)


class _Engine:
    """What Dockerd and Podman share: a directory, a machine snapshot, the
    API client and the clean-up."""

    name = "engine"

    def __init__(self):
        # Short: unix socket paths are limited to 108 bytes.
        self.root = tempfile.mkdtemp(prefix="sl-%s-" % self.name[:2], dir="/tmp")
        self.sock = os.path.join(self.root, "api.sock")
        self.host = "unix://" + self.sock
        self.api = Api(self.sock)
        self.proc = None
        self.log_path = os.path.join(self.root, "engine.log")
        self.bridge = "slbr%06x" % random.randrange(1 << 24)
        self.subnet = _free_subnet()
        self.gateway = self.subnet + ".1"
        self._before = {"forward": _forward_policy(),
                        "ip_forward": _read("/proc/sys/net/ipv4/ip_forward"),
                        "route_localnet": _read("/proc/sys/net/ipv4/conf/all/route_localnet"),
                        "filter": _chains("filter"), "nat": _chains("nat"),
                        "dirs": {d for d in _ENGINE_DIRS if not os.path.exists(d)}}

    def _wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            if self.api.ping():
                return
            time.sleep(0.05)
        log = _read(self.log_path) or ""
        self.stop()
        raise RuntimeError("%s did not start:\n%s" % (self.name, log[-3000:]))

    def log_tail(self, n=3000):
        return (_read(self.log_path) or "")[-n:]

    def _restore_machine(self):
        """Put back what this engine changed, and only that: several engines
        (other tests' daemons) may run at once, so another's bridge, chains
        or sysctls are never touched."""
        b = self._before
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        for d in b["dirs"]:  # empty directories the engine made; rmdir keeps any in use
            if os.path.ismount(d) and not os.listdir(d):  # CNI bind-mounts /run/netns
                subprocess.run(["umount", d], capture_output=True)
            for sub, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
        self._restore_engine_specific()

    def _restore_engine_specific(self):
        pass

    def _task_cgroups(self):
        """The task cgroups (sluiced's, HostConfig.CgroupParent) of this
        engine's containers."""
        found = set()
        for c in self.api.containers(label="sluice.owner"):
            i = self.api.inspect(c["Id"]) or {}
            p = (i.get("HostConfig") or {}).get("CgroupParent") or ""
            if p.startswith("/sluice/") and ".." not in p:
                found.add(p)
        return found

    def stop(self):
        if self.proc is None:
            return
        cgroups = set()
        try:
            if self.proc.poll() is None and self.api.ping():
                cgroups = self._task_cgroups()
                self.api.remove_all()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._kill_children()
        self.log.close()
        _umount_under(self.root)
        remove_task_cgroups(cgroups)
        self._restore_machine()
        shutil.rmtree(self.root, ignore_errors=True)
        self.proc = None

    def _kill_children(self):
        pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Dockerd(_Engine):
    name = "dockerd"

    def start(self):
        subprocess.run(["ip", "link", "add", "name", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", self.gateway + "/24", "dev", self.bridge],
                       check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        cfg = os.path.join(self.root, "daemon.json")
        with open(cfg, "w") as f:
            f.write("{}\n")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["dockerd", "--config-file", cfg, "--data-root", os.path.join(self.root, "data"),
             "--exec-root", os.path.join(self.root, "exec"),
             "--pidfile", os.path.join(self.root, "docker.pid"), "-H", self.host,
             "--bridge", self.bridge, "--iptables=false", "--ip-forward=false",
             "--ip-masq=false", "--log-level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()
        return self

    def _restore_engine_specific(self):
        # --iptables=false keeps dockerd off the FORWARD policy; make sure.
        if self._before["forward"] == "ACCEPT" and _forward_policy() == "DROP":
            subprocess.run(["iptables", "-P", "FORWARD", "ACCEPT"], capture_output=True)

    def _kill_children(self):
        # dockerd's own containerd and shims live in its session.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass


class Podman(_Engine):
    """`podman system service`: Podman's Docker-compatible API (podman, runc
    and catatonit from Debian; crun fails with cgroups v1 "hybrid")."""
    name = "podman"

    def start(self):
        r = self.root
        for d in ("graph", "run", "net", "tmp"):
            os.makedirs(os.path.join(r, d), exist_ok=True)
        with open(os.path.join(r, "storage.conf"), "w") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\n'
                    'runroot = "%s/run"\n' % (r, r))
        with open(os.path.join(r, "containers.conf"), "w") as f:
            f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000", '
                    '"nproc=32768:32768"]\ninit_path = "/usr/bin/catatonit"\n'
                    '[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "%s/net"\n'
                    'default_network = "podman"\n'
                    '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n'
                    'events_logger = "file"\ntmp_dir = "%s/tmp"\n'
                    'static_dir = "%s/graph/libpod"\nvolume_path = "%s/graph/volumes"\n'
                    % (r, r, r, r))
        with open(os.path.join(r, "registries.conf"), "w") as f:
            f.write('unqualified-search-registries = []\nshort-name-mode = "disabled"\n')
        # Debian's Podman 4.3 networks through CNI: our own bridge, address
        # range and IPAM state directory, so nothing lands in /var/lib/cni.
        with open(os.path.join(r, "net", "podman.conflist"), "w") as f:
            json.dump({"cniVersion": "0.4.0", "name": "podman", "plugins": [
                {"type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False,
                 "hairpinMode": True,
                 "ipam": {"type": "host-local", "dataDir": os.path.join(r, "ipam"),
                          "routes": [{"dst": "0.0.0.0/0"}],
                          "ranges": [[{"subnet": self.subnet + ".0/24",
                                       "gateway": self.gateway}]]}},
                {"type": "portmap", "capabilities": {"portMappings": True}},
                {"type": "firewall"}, {"type": "tuning"}]}, f)
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(r, "containers.conf"),
                        CONTAINERS_STORAGE_CONF=os.path.join(r, "storage.conf"),
                        CONTAINERS_REGISTRIES_CONF=os.path.join(r, "registries.conf"),
                        XDG_RUNTIME_DIR=os.path.join(r, "run"), TMPDIR=os.path.join(r, "tmp"))
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["podman", "--root", os.path.join(r, "graph"), "--runroot", os.path.join(r, "run"),
             "--network-config-dir", os.path.join(r, "net"), "system", "service", "--time=0",
             self.host], stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
            start_new_session=True)
        self._wait_ready()
        return self

    def _restore_engine_specific(self):
        """CNI's bridge plugin turns ip_forward on, portmap route_localnet,
        and the plugins add CNI-* chains."""
        b = self._before
        if b["ip_forward"] is not None:
            _write("/proc/sys/net/ipv4/ip_forward", b["ip_forward"])
        if b["route_localnet"] is not None:
            _write("/proc/sys/net/ipv4/conf/all/route_localnet", b["route_localnet"])
        for table in ("filter", "nat"):
            new = {c for c in _chains(table) - b[table] if c.startswith("CNI-")}
            if not new:
                continue
            p = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True)
            for rule in p.stdout.splitlines():  # jumps into the new chains first
                parts = shlex.split(rule)
                if (parts[:1] == ["-A"] and parts[1] not in new and "-j" in parts and
                        parts[parts.index("-j") + 1] in new):
                    subprocess.run(["iptables", "-t", table, "-D"] + parts[1:],
                                   capture_output=True)
            for ch in new:
                subprocess.run(["iptables", "-t", table, "-F", ch], capture_output=True)
            for ch in new:
                subprocess.run(["iptables", "-t", table, "-X", ch], capture_output=True)

    def _kill_children(self):
        # conmon processes outlive the service by design; they are ours.
        for pidfile in glob.glob(os.path.join(self.root, "**", "conmon.pid"), recursive=True):
            try:
                os.kill(int(_read(pidfile)), signal.SIGKILL)
            except (OSError, ValueError, TypeError):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass


# ---- images --------------------------------------------------------------

def _ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return set(re.findall(r"(/\S+\.so[^\s]*)", out))


def _rootfs_tar(path):
    """busybox-static + /usr/bin/python3 and its stdlib + ecs_app.py as a tar."""
    py = os.path.realpath("/usr/bin/python3")
    libdir = "/usr/lib/python%s" % re.search(r"python(\d+\.\d+)", py).group(1)
    libs = _ldd(py) | {"/lib64/ld-linux-x86-64.so.2"}
    for so in glob.glob(libdir + "/lib-dynload/*.so"):
        libs |= _ldd(so)
    skip = {"test", "tests", "idlelib", "tkinter", "ensurepip", "lib2to3", "pydoc_data",
            "turtledemo", "__pycache__", "site-packages", "dist-packages"}
    tmp = path + ".tmp%d" % os.getpid()
    with tarfile.open(tmp, "w") as tf:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            tf.addfile(ti)

        def add_bytes(name, data, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), mode
            tf.addfile(ti, io.BytesIO(data))

        for d in ("bin", "etc", "tmp", "app", "usr", "usr/bin", "usr/lib", "proc", "sys", "dev",
                  "root", "home", "var", "run"):
            add_dir(d, 0o1777 if d == "tmp" else 0o755)
        tf.add("/bin/busybox", "bin/busybox")
        applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True,
                                 text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                ti = tarfile.TarInfo("bin/" + a)
                ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
                tf.addfile(ti)
        tf.add(py, "usr/bin/python3")
        for lib in sorted(libs):
            real = os.path.realpath(lib)
            tf.add(real, lib.lstrip("/"))
        for d, dirs, files in os.walk(libdir):
            dirs[:] = sorted(x for x in dirs if x not in skip)
            tf.add(d, d.lstrip("/"), recursive=False)
            for f in sorted(files):
                tf.add(os.path.join(d, f), os.path.join(d, f).lstrip("/"), recursive=False)
        add_bytes("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                                b"app:x:1000:1000:app:/home:/bin/sh\n"
                                b"nobody:x:65534:65534:nobody:/:/bin/sh\n")
        add_bytes("etc/group", b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n")
        tf.add(APP, "app/ecs_app.py")
    os.rename(tmp, path)


def base_tar():
    """The rootfs tarball, built once per build directory (about 1 s)."""
    path = os.path.join(BUILD, "docker-base.tar")
    lock = open(path + ".lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (not os.path.exists(path) or
                os.path.getmtime(path) < os.path.getmtime(APP)):
            _rootfs_tar(path)
    finally:
        lock.close()
    return path


BASE = "sluice-base:local"


def import_base(api):
    with open(base_tar(), "rb") as f:
        data = f.read()
    q = urllib.parse.urlencode({"fromSrc": "-", "repo": "sluice-base", "tag": "local"})
    st, out = api.call("POST", "/images/create?" + q, body=data,
                       headers={"Content-Type": "application/x-tar"}, raw=True)
    if st != 200 or b'"error"' in out:
        raise RuntimeError("image import: %d %r" % (st, out[-400:]))
    if api.call("GET", "/images/%s/json" % BASE)[0] != 200:
        api.tag("sluice-base:latest", "sluice-base", "local")  # Podman ignores the tag


def app_image(api, tag, version, extra=""):
    """An image of ecs_app.py answering version=<version> on port 8080."""
    api.build(tag, "FROM %s\nENV VERSION=%s PORT=8080 BIND=0.0.0.0\nEXPOSE 8080\n"
                   "STOPSIGNAL SIGTERM\n%sCMD [\"/usr/bin/python3\", \"/app/ecs_app.py\"]\n"
              % (BASE, version, extra))


def build_images(api, versions=("v1", "v2"), repo="web"):
    """Base image plus <repo>:<version> for each version, and <repo>:crash
    (exits 3 at once).  Returns the image names."""
    import_base(api)
    names = {}
    for v in versions:
        names[v] = "%s:%s" % (repo, v)
        app_image(api, names[v], v)
    names["crash"] = "%s:crash" % repo
    api.build(names["crash"], "FROM %s\nCMD [\"/bin/sh\", \"-c\", \"exit 3\"]\n" % BASE)
    return names
