"""Helpers for the observability tests (metrics, access logs, the
dashboard): a backend that answers what the path asks and echoes the
trace header, a Prometheus text parser, and ALB access log parsing with
Athena's documented RegexSerDe expression."""
import gzip
import http.server
import os
import re
import socketserver
import threading
import time

# Athena's CREATE TABLE alb_access_logs (AWS "Querying Application Load
# Balancer logs"), input.regex as documented; RegexSerDe matches a whole line
# (Java's Matcher.matches), hence fullmatch.
ATHENA_ALB_REGEX = re.compile(
    r'([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) '
    r'([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \"([^ ]*) (.*) (- |[^ ]*)\" '
    r'\"([^\"]*)\" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" '
    r'\"([^\"]*)\" ([-.0-9]*) ([^ ]*) \"([^\"]*)\" \"([^\"]*)\" \"([^ ]*)\" \"([^\s]+?)\" '
    r'\"([^\s]+)\" \"([^ ]*)\" \"([^ ]*)\" ?([^ ]*)?( .*)?')
ATHENA_COLUMNS = [
    "type", "time", "elb", "client_ip", "client_port", "target_ip", "target_port",
    "request_processing_time", "target_processing_time", "response_processing_time",
    "elb_status_code", "target_status_code", "received_bytes", "sent_bytes", "request_verb",
    "request_url", "request_proto", "user_agent", "ssl_cipher", "ssl_protocol",
    "target_group_arn", "trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority",
    "request_creation_time", "actions_executed", "redirect_url", "lambda_error_reason",
    "target_port_list", "target_status_code_list", "classification", "classification_reason",
    "conn_trace_id", "rest"]

# bucket[/prefix]/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/yyyy/mm/dd/
# ACCOUNT_elasticloadbalancing_REGION_app.NAME.ID_yyyymmddThhmmZ_IP_RANDOM.log.gz
ALB_LOG_NAME = re.compile(
    r'AWSLogs/(\d+)/elasticloadbalancing/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/'
    r'\1_elasticloadbalancing_\2_app\.([A-Za-z0-9-]+)\.([0-9a-f]+)_'
    r'(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_([0-9.]+)_([a-z0-9]{8})\.log\.gz$')


def parse_line(line):
    """An access log line as Athena's columns (dict), or None if the
    documented regex does not match it."""
    m = ATHENA_ALB_REGEX.fullmatch(line)
    return dict(zip(ATHENA_COLUMNS, m.groups())) if m else None


def log_files(root):
    """Completed (.log.gz) files under <root>, sorted."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files if f.endswith(".log.gz")]
    return sorted(out)


def partial_files(root):
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files if f.endswith(".partial")]
    return sorted(out)


def read_lines(paths):
    """Every line of the gzip files (each must be a complete gzip stream)."""
    lines = []
    for p in paths:
        with gzip.open(p, "rt", encoding="utf-8") as f:
            lines += f.read().splitlines()
    return lines


def parse_prom(text):
    """Prometheus text -> {(name, frozenset(labels.items())): value}, and the
    # TYPE of each family; raises on a line that does not parse."""
    samples, types = {}, {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for ln in text.splitlines():
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ", 3)
            types[name] = typ
            continue
        if not ln or ln.startswith("#"):
            continue
        m = line_re.match(ln)
        if not m:
            raise ValueError("not a sample line: %r" % ln)
        labels = {}
        if m.group(3):
            rest = m.group(3)
            for lm in label_re.finditer(rest):
                labels[lm.group(1)] = lm.group(2)
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return samples, types


def value(samples, name, **labels):
    """The sample <name> whose labels include <labels> (summed if several)."""
    total, found = 0.0, False
    for (n, ls), v in samples.items():
        if n == name and all((k, str(val)) in ls for k, val in labels.items()):
            total += v
            found = True
    return total if found else None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        srv = self.server
        code = 200
        if self.path.startswith("/code/"):
            code = int(self.path.split("/")[2])
        with srv.lock:
            srv.traces.append(self.headers.get("X-Amzn-Trace-Id"))
            srv.count += not self.path.startswith("/health")
        if self.path.startswith("/slow/"):  # an in-flight request, for drains
            time.sleep(float(self.path.split("/")[2]))
        body = ("trace=%s" % self.headers.get("X-Amzn-Trace-Id")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except ConnectionError:
                pass  # a health check that read the head and left

    do_GET = do_POST = do_HEAD = _reply


class EchoBackend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Answers /code/NNN with NNN, /slow/S after S seconds, anything else 200; records every
    X-Amzn-Trace-Id it got; the body names the trace header."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        self.traces = []
        self.count = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()
