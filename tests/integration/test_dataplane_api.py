"""The data-plane feed as a client sees it, checked against openapi.yaml:
snapshot, the NDJSON watch stream (changes, heartbeats, gone), reports."""
import json
import socket
import time

from openapi_check import OpenApi
from sluice_harness import Sluiced, check, check_eq, report, run_case

API = OpenApi.load()


def watch_lines(s, since, want, timeout=8.0):
    """Read NDJSON lines from /v1/dataplane/watch until <want>(lines) or timeout."""
    c = socket.create_connection(("127.0.0.1", s.port))
    c.settimeout(timeout)
    c.sendall(("GET /v1/dataplane/watch?since=%d HTTP/1.1\r\nHost: x\r\n\r\n" % since).encode())
    data, lines, deadline = b"", [], time.time() + timeout
    head = None
    while time.time() < deadline:
        try:
            part = c.recv(65536)
        except socket.timeout:
            break
        if not part:
            break
        data += part
        if head is None and b"\r\n\r\n" in data:
            head, data = data.split(b"\r\n\r\n", 1)
        if head is not None:
            # Undo chunked framing: keep only the JSON lines.
            text = b"".join(l for l in data.split(b"\r\n") if l.startswith(b"{"))
            lines = [json.loads(x) for x in text.split(b"\n") if x.strip()]
            if want(lines):
                break
    c.close()
    return head or b"", lines


def test_feed():
    with Sluiced(extra_args=["--changes-keep", "50"]) as s:
        st, hdrs, body = s.http("GET", "/v1/dataplane/snapshot")
        check_eq(st, 200, "snapshot")
        problems = API.check_response("GET", "/v1/dataplane/snapshot", st, hdrs,
                                      json.dumps(body).encode())
        check(not problems, "snapshot matches openapi: %s" % problems)
        rev0 = body["revision"]
        c = s.boto3()
        tg = c.create_target_group(Name="feed", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                   TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        c.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}, {"Id": "10.0.0.2"}])
        head, lines = watch_lines(s, rev0, lambda ls: sum(1 for l in ls if l.get("kind") == "target") >= 2
                                  and any(l.get("kind") == "heartbeat" for l in ls))
        check(head.startswith(b"HTTP/1.1 200") and b"application/x-ndjson" in head,
              "watch is an NDJSON stream: %r" % head[:200])
        kinds = [l["kind"] for l in lines]
        check("tg" in kinds and kinds.count("target") == 2, "changes streamed: %r" % kinds)
        for l in lines:
            problems = API.validate("#/components/schemas/ChangeRecord", l)
            check(not problems, "line matches ChangeRecord: %s" % problems)
        revs = [l["rev"] for l in lines if l["kind"] not in ("heartbeat", "gone")]
        check(revs == sorted(revs), "revision order")
        # Reports: validated both ways.
        rep = {"proxy_id": "t1", "applied_revision": max(revs),
               "targets": [{"key": "x|10.0.0.1|80", "state": "healthy", "in_flight": 0,
                            "connections": 0}]}
        check(not API.check_request("POST", "/v1/dataplane/report", rep), "report body valid")
        st, hdrs, body = s.http("POST", "/v1/dataplane/report", rep)
        check_eq(st, 200, "report accepted")
        check(not API.check_response("POST", "/v1/dataplane/report", st, hdrs,
                                     json.dumps(body).encode()), "report ack matches openapi")
        st, hdrs, body = s.http("POST", "/v1/dataplane/report", {"proxy_id": 3})
        check_eq(st, 400, "malformed report refused")
        # Fall behind a 50-record log: 410 with the Error shape.
        for i in range(30):
            c.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.1.0.%d" % (i + 1)}])
            c.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.1.0.%d" % (i + 1)}])
        st, hdrs, body = s.http("GET", "/v1/dataplane/watch?since=%d" % rev0)
        check_eq(st, 410, "too old a revision is gone")
        check(not API.check_response("GET", "/v1/dataplane/watch", st, hdrs,
                                     json.dumps(body).encode()), "410 matches openapi")
        st, _, _ = s.http("GET", "/v1/dataplane/watch?since=abc")
        check_eq(st, 400, "bad since refused")
        st, _, _ = s.http("POST", "/v1/dataplane/snapshot")
        check_eq(st, 405, "wrong method")


run_case(test_feed)
report()
