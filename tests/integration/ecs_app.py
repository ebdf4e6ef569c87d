"""A tiny HTTP app that ECS tests run as a task "container" (the process
runtime execs it with /usr/bin/python3; the docker tests bake it into their
images): it listens on $PORT ($BIND, default 127.0.0.1) and answers every
path with "version=$VERSION port=$PORT pid=PID path=P host=HOSTNAME".

- /health answers $HEALTH_STATUS (default 200);
- /slow?t=SECONDS sleeps first (an in-flight request for drain tests);
- SIGTERM stops accepting, lets in-flight requests finish, exits 0;
- $START_DELAY seconds of sleep before listening (slow starters).
"""
import http.server
import os
import signal
import socket
import socketserver
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        code = 200
        if self.path.startswith("/health"):
            code = int(os.environ.get("HEALTH_STATUS", "200"))
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.split("=")[-1]) if "=" in self.path else 2.0)
        body = ("version=%s port=%s pid=%d path=%s host=%s" % (
            os.environ.get("VERSION", "?"), os.environ.get("PORT", "?"), os.getpid(),
            self.path, socket.gethostname())).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_POST = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


def main():
    time.sleep(float(os.environ.get("START_DELAY", "0")))
    port = int(os.environ["PORT"])
    srv = Server((os.environ.get("BIND", "127.0.0.1"), port), Handler)

    def term(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, term)
    print("listening on %d version %s" % (port, os.environ.get("VERSION")), flush=True)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    time.sleep(0.2)  # in-flight handlers finish
    print("stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
