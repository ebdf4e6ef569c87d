"""The data-plane feed as a client sees it, checked against openapi.yaml:
the snapshot and every NDJSON watch record (put and delete of each kind,
every condition and action type, heartbeats, gone) carry feed_version 1 and
match their Feed* schemas, which allow no member the document does not
name (so no `_state`, `_lb_id` or other storage shape); the feed says what
the stored objects said; reports."""
import json
import socket
import time

from openapi_check import OpenApi
from sluice_harness import Sluiced, check, check_eq, report, run_case

API = OpenApi.load()
KINDS = ("load_balancer", "listener", "rule", "target_group", "target")


def watch_lines(s, since, want, timeout=8.0):
    """Read NDJSON lines from /v1/dataplane/watch until <want>(lines) or timeout."""
    c = socket.create_connection(("127.0.0.1", s.port))
    c.settimeout(timeout)
    c.sendall(("GET /v1/dataplane/watch?since=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % since).encode())
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


def underscored(v, path=""):
    """Paths of members whose name starts with '_' anywhere in <v>."""
    out = []
    if isinstance(v, dict):
        for k, x in v.items():
            if k.startswith("_"):
                out.append(path + "/" + k)
            out += underscored(x, path + "/" + k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += underscored(x, "%s/%d" % (path, i))
    return out


def fixed(code, body):
    return [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": str(code), "ContentType": "text/plain", "MessageBody": body}}]


def build_everything(c):
    """One of each kind, every condition and action type."""
    lb = c.create_load_balancer(Name="feed", Scheme="internet-facing")["LoadBalancers"][0]
    c.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "17"}])
    tg = c.create_target_group(Name="feed", Protocol="HTTP", Port=80, VpcId="vpc-1",
                               TargetType="ip", HealthCheckPort="8081",
                               HealthCheckPath="/hc", Matcher={"HttpCode": "200-299,302"})[
        "TargetGroups"][0]["TargetGroupArn"]
    tg2 = c.create_target_group(Name="feed2", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                TargetType="ip", HealthCheckEnabled=False)[
        "TargetGroups"][0]["TargetGroupArn"]
    c.modify_target_group_attributes(TargetGroupArn=tg2, Attributes=[
        {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"},
        {"Key": "slow_start.duration_seconds", "Value": "30"}])
    c.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}, {"Id": "10.0.0.2",
                                                                          "Port": 8080}])
    larn = c.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
                             DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])[
        "Listeners"][0]["ListenerArn"]
    c.create_rule(ListenerArn=larn, Priority=1, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com", "a.org"]}},
        {"Field": "path-pattern", "Values": ["/api/*"]},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env",
                                                      "Values": ["beta"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": tg, "Weight": 3}, {"TargetGroupArn": tg2, "Weight": 0}]}}])
    c.create_rule(ListenerArn=larn, Priority=4, Conditions=[
        {"Field": "query-string", "QueryStringConfig": {"Values": [
            {"Key": "v", "Value": "1"}, {"Value": "any"}]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}],
        Actions=fixed(200, "q"))
    c.create_rule(ListenerArn=larn, Priority=2, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_302"}}])
    r3 = c.create_rule(ListenerArn=larn, Priority=3, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/f"]}}],
        Actions=fixed(418, "teapot"))["Rules"][0]["RuleArn"]
    c.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}])
    return lb, tg, tg2, larn, r3


def check_contents(objs):
    """What the stored objects said, in the feed's members (rule 3 is deleted)."""
    lb = [o for o in objs["load_balancer"] if o["scheme"] == "internet-facing"]
    check(len(lb) == 1 and lb[0]["idle_timeout_seconds"] == 17, "load balancer: %r" % lb)
    ls = [o for o in objs["listener"] if o["port"] == 8080]
    check(len(ls) == 1 and ls[0]["load_balancer_id"] == lb[0]["id"] and
          ls[0]["protocol"] == "HTTP", "listener names its load balancer: %r" % ls)
    rules = [o for o in objs["rule"] if o["listener_id"] == ls[0]["id"]]
    byprio = {r.get("priority", "default"): r for r in rules}
    check(set(byprio) == {"default", 1, 2, 4}, "rules by priority: %r" % sorted(map(str, byprio)))
    d = byprio["default"]
    check(d["is_default"] and d["conditions"] == [] and d["actions"][0]["type"] == "forward" and
          d["actions"][0]["target_groups"][0]["weight"] == 1, "default rule: %r" % d)
    conds = {c["field"]: c for c in byprio[1]["conditions"] + byprio[4]["conditions"]}
    check_eq(conds["host-header"]["values"], ["*.example.com", "a.org"], "host values")
    check_eq(conds["path-pattern"]["values"], ["/api/*"], "legacy Values read")
    check_eq((conds["http-header"]["header_name"], conds["http-header"]["values"]),
             ("X-Env", ["beta"]), "http-header")
    check_eq(conds["query-string"]["values"], [{"key": "v", "value": "1"}, {"value": "any"}],
             "query-string pairs, a key only when given")
    check_eq(conds["source-ip"]["values"], ["10.0.0.0/8"], "source-ip")
    fwd = byprio[1]["actions"][0]
    check_eq([g["weight"] for g in fwd["target_groups"]], [3, 0], "forward weights")
    red = byprio[2]["actions"][0]
    check_eq((red["status_code"], red["path"], red["host"], red["query"]),
             (302, "/new", "#{host}", "#{query}"), "redirect with templates filled in")
    fix = byprio[4]["actions"][0]
    check_eq((fix["status_code"], fix["content_type"], fix["message_body"]),
             (200, "text/plain", "q"), "fixed-response")
    tgs = {o["arn"]: o for o in objs["target_group"]}
    g1 = [g for g in tgs.values() if g["health_check"]["path"] == "/hc"]
    check(len(g1) == 1 and g1[0]["health_check"]["port"] == 8081 and
          g1[0]["health_check"]["matcher"] == "200-299,302" and
          g1[0]["algorithm"] == "round_robin", "target group health check: %r" % g1)
    g2 = [g for g in tgs.values() if not g["health_check"]["enabled"]]
    check(len(g2) == 1 and g2[0]["algorithm"] == "least_outstanding_requests" and
          g2[0]["slow_start_seconds"] == 30 and "port" not in g2[0]["health_check"],
          "target group attributes: %r" % g2)
    ts = {o["address"]: o for o in objs["target"] if o["target_group_id"] == g1[0]["id"]}
    check_eq((ts["10.0.0.1"]["state"], ts["10.0.0.1"]["port"]), ("draining", 80), "draining")
    check_eq((ts["10.0.0.2"]["state"], ts["10.0.0.2"]["port"]), ("registered", 8080),
             "registered target with its own port")


def test_feed():
    with Sluiced(extra_args=["--changes-keep", "100"]) as s:
        st, hdrs, body = s.http("GET", "/v1/dataplane/snapshot")
        check_eq(st, 200, "snapshot")
        check_eq(body.get("feed_version"), 1, "snapshot feed_version")
        rev0 = body["revision"]
        c = s.boto3()
        ecs = s.boto3("ecs")
        lb, tg, tg2, larn, r3 = build_everything(c)
        ecs.create_cluster(clusterName="not-in-the-feed")
        c.delete_rule(RuleArn=r3)
        # snapshot: schema, no storage members, contents
        st, hdrs, body = s.http("GET", "/v1/dataplane/snapshot")
        problems = API.check_response("GET", "/v1/dataplane/snapshot", st, hdrs,
                                      json.dumps(body).encode())
        check(not problems, "snapshot matches FeedSnapshot: %s" % problems)
        check_eq(underscored(body), [], "no `_` member in the snapshot")
        check_contents({k: body[k + "s"] for k in KINDS})
        # the watch from before all of it: every record valid, same contents
        head, lines = watch_lines(s, rev0, lambda ls: any(
            l.get("op") == "delete" and l.get("kind") == "rule" for l in ls) and
            l_last_heartbeat(ls, body["revision"]))
        check(head.startswith(b"HTTP/1.1 200") and b"application/x-ndjson" in head,
              "watch is an NDJSON stream: %r" % head[:200])
        for l in lines:
            problems = API.validate("#/components/schemas/FeedRecord", l)
            check(not problems, "line matches FeedRecord: %s (%r)" % (problems, l))
            check_eq(l.get("feed_version"), 1, "every record carries feed_version")
        check_eq(underscored(lines), [], "no `_` member in the watch records")
        kinds = {l["kind"] for l in lines}
        check(kinds >= set(KINDS) | {"heartbeat"}, "every kind streamed: %r" % kinds)
        check(not any(l["kind"].startswith("ecs") for l in lines), "ECS changes not in the feed")
        revs = [l["rev"] for l in lines if l["kind"] not in ("heartbeat", "gone")]
        check(revs == sorted(revs), "revision order")
        deletes = [l for l in lines if l.get("op") == "delete"]
        check(deletes and all("object" not in l for l in deletes), "delete records: id only")
        # replaying the puts and deletes gives the snapshot's objects
        state = {k: {} for k in KINDS}
        for l in lines:
            if l.get("op") == "put":
                state[l["kind"]][l["id"]] = l["object"]
            elif l.get("op") == "delete":
                state[l["kind"]].pop(l["id"], None)
        for k in KINDS:
            snap = {o["id"]: o for o in body[k + "s"]}
            check_eq(state[k], snap, "watch replay equals the snapshot for %s" % k)
        # Reports: validated both ways.
        rep = {"proxy_id": "t1", "applied_revision": max(revs),
               "targets": [{"key": "x|10.0.0.1|80", "state": "healthy", "in_flight": 0,
                            "connections": 0}]}
        check(not API.check_request("POST", "/v1/dataplane/report", rep), "report body valid")
        st, hdrs, rbody = s.http("POST", "/v1/dataplane/report", rep)
        check_eq(st, 200, "report accepted")
        check(not API.check_response("POST", "/v1/dataplane/report", st, hdrs,
                                     json.dumps(rbody).encode()), "report ack matches openapi")
        st, hdrs, rbody = s.http("POST", "/v1/dataplane/report", {"proxy_id": 3})
        check_eq(st, 400, "malformed report refused")
        # Fall behind a 100-record log: 410 with the Error shape.
        for i in range(60):
            c.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.1.0.%d" % (i + 1)}])
            c.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.1.0.%d" % (i + 1)}])
        st, hdrs, rbody = s.http("GET", "/v1/dataplane/watch?since=%d" % rev0)
        check_eq(st, 410, "too old a revision is gone")
        check(not API.check_response("GET", "/v1/dataplane/watch", st, hdrs,
                                     json.dumps(rbody).encode()), "410 matches openapi")
        st, _, _ = s.http("GET", "/v1/dataplane/watch?since=abc")
        check_eq(st, 400, "bad since refused")
        st, _, _ = s.http("POST", "/v1/dataplane/snapshot")
        check_eq(st, 405, "wrong method")


def l_last_heartbeat(lines, rev):
    return any(l.get("kind") == "heartbeat" and l.get("rev", 0) >= rev for l in lines)


def test_schemas_refuse_storage_shapes():
    """The schemas are strict: a storage member or a stored shape fails them."""
    good = {"feed_version": 1, "rev": 5, "kind": "target", "op": "put", "id": "g|10.0.0.1|80",
            "object": {"id": "g|10.0.0.1|80", "target_group_id": "g", "address": "10.0.0.1",
                       "port": 80, "state": "registered"}}
    check_eq(API.validate("#/components/schemas/FeedRecord", good), [], "a valid record")
    bad = json.loads(json.dumps(good))
    bad["object"]["_state"] = "registered"
    check(API.validate("#/components/schemas/FeedRecord", bad), "`_state` refused")
    bad = json.loads(json.dumps(good))
    bad["object"] = {"id": "g|10.0.0.1|80", "Target": {"Id": "10.0.0.1", "Port": 80},
                     "_state": "registered"}
    check(API.validate("#/components/schemas/FeedRecord", bad), "the stored shape refused")
    bad = dict(good, feed_version=2)
    check(API.validate("#/components/schemas/FeedRecord", bad), "another feed_version refused")
    bad = dict(good, kind="listener")
    check(API.validate("#/components/schemas/FeedRecord", bad), "object of another kind refused")
    check(API.validate("#/components/schemas/FeedRecord",
                       {"feed_version": 1, "kind": "heartbeat", "rev": 3, "extra": 1}),
          "heartbeat with extra members refused")


def test_https_feed():
    """contracts/https-feed.md: certificates first in the snapshot, only used ones; a put
    when a listener starts using one and when it is re-imported, a delete when released;
    HTTPS listeners' ssl_policy, alpn_policy and certificates; http2_enabled."""
    from acm_certs import Certs
    certs = Certs()
    with Sluiced() as s:
        acm, c = s.boto3("acm"), s.boto3("elbv2")
        arn = acm.import_certificate(Certificate=certs.read("rsa.pem"),
                                     PrivateKey=certs.read("rsa.key"),
                                     CertificateChain=certs.read("chain.pem"))["CertificateArn"]
        spare = acm.import_certificate(Certificate=certs.read("ec.pem"),
                                       PrivateKey=certs.read("ec.key"))["CertificateArn"]
        lb = c.create_load_balancer(Name="tls")["LoadBalancers"][0]["LoadBalancerArn"]
        st, _, snap0 = s.http("GET", "/v1/dataplane/snapshot")
        check_eq(snap0["certificates"], [], "no certificate before a listener uses one")
        rev = snap0["revision"]
        larn = c.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                                 Certificates=[{"CertificateArn": arn}],
                                 AlpnPolicy=["HTTP2Optional"], DefaultActions=fixed(200, "ok"))[
            "Listeners"][0]["ListenerArn"]
        c.add_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": spare}])
        st, hdrs, raw = s.http("GET", "/v1/dataplane/snapshot")
        check_eq(API.check_response("GET", "/v1/dataplane/snapshot", st, hdrs,
                                    json.dumps(raw).encode()), [], "snapshot valid")
        check_eq(list(raw)[2], "certificates", "certificates listed first")
        cid = {x["arn"]: x["id"] for x in raw["certificates"]}
        check_eq(sorted(cid), sorted([arn, spare]), "the used certificates")
        l = [x for x in raw["listeners"] if x["port"] == 443][0]
        check_eq((l["protocol"], l["ssl_policy"], l["alpn_policy"], l["certificates"]),
                 ("HTTPS", "ELBSecurityPolicy-2016-08", "HTTP2Optional",
                  [{"certificate_id": cid[arn], "default": True},
                   {"certificate_id": cid[spare], "default": False}]), "HTTPS listener")
        check(all(x["http2_enabled"] is True for x in raw["load_balancers"]), "http2_enabled")
        acm.import_certificate(CertificateArn=arn, Certificate=certs.read("self.pem"),
                               PrivateKey=certs.read("self.key"))
        c.remove_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": spare}])
        _, lines = watch_lines(s, rev, lambda ls: sum(
            1 for x in ls if x.get("kind") == "certificate") >= 4)
        for x in lines:
            check_eq(API.validate("#/components/schemas/FeedRecord", x), [], "record %r" % x)
        recs = [(x["op"], x["id"]) for x in lines if x.get("kind") == "certificate"]
        check_eq(recs, [("put", cid[arn]), ("put", cid[spare]), ("put", cid[arn]),
                        ("delete", cid[spare])], "use, use, re-import, release")
        puts = [x for x in lines if x.get("kind") == "certificate" and x["op"] == "put"]
        check("self.example.net" not in puts[0]["object"]["certificate_pem"] and
              puts[2]["object"]["certificate_pem"].strip() ==
              certs.read("self.pem").decode().strip(), "the re-import's put carries the new one")
        order = [x.get("kind") for x in lines if x.get("kind") in ("certificate", "listener")]
        check_eq(order[:2], ["certificate", "listener"], "a certificate before its listener")
    certs.cleanup()


run_case(test_feed)
run_case(test_https_feed)
run_case(test_schemas_refuse_storage_shapes)
report()
