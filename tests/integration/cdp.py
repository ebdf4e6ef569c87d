"""Headless Chromium (Debian's chromium) driven through the DevTools protocol
over --remote-debugging-pipe: NUL-terminated JSON messages on file
descriptors 3 (to the browser) and 4 (from it), so no WebSocket client is
needed - Python's standard library is enough."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1600"]


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self):
        if not os.access(CHROMIUM, os.X_OK):
            # a failure, not a skip: the dashboard's test is part of the suite
            raise CDPError("chromium not found (%s): `scripts/deps.sh test` installs Debian's "
                           "chromium" % CHROMIUM)
        self.profile = tempfile.mkdtemp(prefix="sluice-chromium-")
        to_r, self._to_w = os.pipe()    # commands: we write, chromium reads on fd 3
        self._from_r, from_w = os.pipe()  # events and results: chromium writes on fd 4

        def child_fds():
            # via high numbers first: a pipe end may itself be 3 or 4
            os.dup2(to_r, 100)
            os.dup2(from_w, 101)
            os.dup2(100, 3)  # dup2 leaves 3 and 4 open across exec
            os.dup2(101, 4)

        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        # close_fds would close 3 and 4 after preexec_fn; Python's own
        # descriptors are not inheritable (PEP 446), so none but these leak
        self.proc = subprocess.Popen(
            [CHROMIUM] + FLAGS + ["--user-data-dir=" + self.profile, "--remote-debugging-pipe",
                                  "about:blank"],
            close_fds=False, preexec_fn=child_fds, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT)
        os.close(to_r)
        os.close(from_w)
        self._id = 0
        self._lock = threading.Lock()
        self._results = {}
        self._cv = threading.Condition()
        self.events = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session = None

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self._from_r, 1 << 16)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                with self._cv:
                    if "id" in m:
                        self._results[m["id"]] = m
                    else:
                        self.events.append(m)
                    self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def send(self, method, params=None, session=True, timeout=30):
        with self._lock:
            self._id += 1
            mid = self._id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        with self._cv:
            while mid not in self._results:
                left = deadline - time.time()
                if left <= 0 or self.proc.poll() is not None:
                    raise CDPError("no answer to %s" % method)
                self._cv.wait(left)
            m = self._results.pop(mid)
        if "error" in m:
            raise CDPError("%s: %s" % (method, m["error"]))
        return m.get("result", {})

    def open_page(self):
        """Attach to the first page target (flat sessions)."""
        deadline = time.time() + 20
        while time.time() < deadline:
            targets = self.send("Target.getTargets", session=False)["targetInfos"]
            pages = [t for t in targets if t["type"] == "page"]
            if pages:
                r = self.send("Target.attachToTarget",
                              {"targetId": pages[0]["targetId"], "flatten": True}, session=False)
                self.session = r["sessionId"]
                self.send("Page.enable")
                self.send("Runtime.enable")
                return
            time.sleep(0.1)
        raise CDPError("no page target")

    def navigate(self, url):
        self.send("Page.navigate", {"url": url})

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise CDPError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, timeout=20, step=0.1):
        """Wait until <expr> evaluates truthy in the page; its value or None."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = self.eval(expr)
                if last:
                    return last
            except CDPError:
                pass
            time.sleep(step)
        return None

    def screenshot(self, path):
        r = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def console_errors(self):
        return [e for e in self.events if e.get("method") == "Runtime.exceptionThrown"]

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except CDPError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_w)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
