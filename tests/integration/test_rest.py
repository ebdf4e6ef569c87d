"""REST JSON API under /v1 against the real sluiced, with every response
checked against openapi/openapi.yaml.

Drives each collection (load balancers, target groups, targets, listeners,
rules) through create/read/list/replace/delete, the Terraform restapi flow
(POST with a user-chosen id, GET, PUT, DELETE, DELETE -> 404, GET -> 404),
and the error paths (invalid JSON, unknown paths, 405 with Allow, 413, 409,
404), checking after each error that nothing changed.  Ends with
"N passed, M failed" and exits non-zero on any failure.
"""
import http.client
import json
import os
import subprocess
import sys
import urllib.parse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openapi_check import OpenApi  # noqa: E402
from sluice_harness import SOURCE, Sluiced, check, check_eq, report, run_case  # noqa: E402

API = OpenApi.load(os.path.join(SOURCE, "openapi", "openapi.yaml"))
SRV = None          # the Sluiced instance
ARNS = {}           # REST id -> ARN of objects made along the way
_validated = [0]


class Resp:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def code(self):
        return ((self.json or {}).get("error") or {}).get("code") if isinstance(self.json, dict) else None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.raw[:300])


def call(method, path, body=None, raw=None, headers=None, validate_request=False):
    """One HTTP exchange; the response is always validated against the spec."""
    if raw is None and body is not None:
        raw = json.dumps(body).encode()
    if validate_request and body is not None:
        for p in API.check_request(method, path, body):
            check(False, "request does not match the spec: " + p)
    conn = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=30)
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    try:
        try:
            conn.request(method, path, body=raw, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before reading a big body;
            # its answer is still waiting in the socket.
            pass
        r = conn.getresponse()
        resp = Resp(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()
    problems = API.check_response(method, path, resp.status, resp.headers, resp.raw)
    _validated[0] += 1
    check(not problems, "spec: %s %s -> %d: %s" % (method, path, resp.status, "; ".join(problems)))
    return resp


def expect(resp, status, code=None, what=""):
    ok = check(resp.status == status, "%s: want %d, got %r" % (what, status, resp))
    if code is not None and ok:
        check_eq(resp.code, code, "%s: error code" % what)
    return resp


def snapshot():
    """Everything the REST API can list, for "nothing changed" checks."""
    out = {}
    for kind in ("load-balancers", "target-groups", "listeners", "rules"):
        r = call("GET", "/v1/" + kind)
        out[kind] = r.json
    for tg in (out.get("target-groups") or {}).get("items", []):
        r = call("GET", "/v1/target-groups/%s/targets" % tg["id"])
        # Health states move on their own; membership must not.
        out["targets:" + tg["id"]] = sorted(i["id"] for i in (r.json or {}).get("items", []))
    return out


def unchanged(before, what):
    check(snapshot() == before, "%s: state changed after an error" % what)


def tg_body(name, **kw):
    b = {"Name": name, "Protocol": "HTTP", "Port": 80}
    b.update(kw)
    return b


# ---------------------------------------------------------------- document
def test_document():
    problems = API.check_document()
    check(not problems, "openapi.yaml: " + "; ".join(problems))
    # /openapi.json is served outside /v1 and is not part of the REST document.
    conn = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=10)
    conn.request("GET", "/openapi.json")
    r = conn.getresponse()
    served = json.loads(r.read())
    conn.close()
    check_eq(r.status, 200, "GET /openapi.json status")
    with open(os.path.join(SOURCE, "openapi", "openapi.yaml"), encoding="utf-8") as f:
        check(served == yaml.safe_load(f), "GET /openapi.json differs from openapi.yaml")
    # The checker itself must catch a broken document and a wrong body.
    broken = OpenApi({"openapi": "3.1.0", "info": {}, "components": {},
                      "paths": {"/x/{id}": {"get": {"responses": {"200": {"description": "d"}}}}}})
    check(len(broken.check_document()) >= 2, "checker accepts a broken document")
    bad = API.check_response("GET", "/v1/health", 200, {"Content-Type": "application/json"}, b'{"status":1}')
    check(bool(bad), "checker accepts a wrong health body")


# ---------------------------------------------------------------- health, routing
def test_health_and_routing():
    r = expect(call("GET", "/v1/health"), 200, what="health")
    check_eq(r.json, {"status": "ok"}, "health body")
    before = snapshot()
    r = expect(call("POST", "/v1/health", body={}), 405, "MethodNotAllowed", "POST health")
    check_eq(r.header("Allow"), "GET", "health Allow")
    for path in ("/v1/nope", "/v1/", "/v1/target-groups/x/y", "/v1/target-groups/x/targets/a/b",
                 "/v1/listeners/x/targets", "/v1//target-groups", "/v1/load-balancers/a%2Fb",
                 "/v1/target-groups/" + "x" * 129):
        expect(call("GET", path), 404, what="GET " + path)
    r = expect(call("PATCH", "/v1/target-groups", body={}), 405, "MethodNotAllowed", "PATCH collection")
    check_eq(r.header("Allow"), "GET, POST", "collection Allow")
    r = expect(call("POST", "/v1/target-groups/web", body={}), 405, "MethodNotAllowed", "POST object")
    check_eq(r.header("Allow"), "GET, PUT, DELETE", "object Allow")
    r = expect(call("DELETE", "/v1/target-groups/web/targets"), 405, what="DELETE targets")
    check_eq(r.header("Allow"), "GET, POST", "targets Allow")
    r = expect(call("POST", "/v1/target-groups/web/targets/i-1:80", body={}), 405,
               what="POST target")
    check_eq(r.header("Allow"), "GET, PUT, DELETE", "target Allow")
    r = expect(call("HEAD", "/v1/load-balancers"), 405, what="HEAD collection")
    unchanged(before, "routing errors")


# ---------------------------------------------------------------- target groups
def test_target_groups():
    before = snapshot()
    check_eq(before["target-groups"], {"items": []}, "no target groups at start")
    body = tg_body("web", id="web", HealthCheckPath="/healthz", Matcher={"HttpCode": "200-299"},
                   Tags=[{"Key": "team", "Value": "edge"}],
                   Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    r = expect(call("POST", "/v1/target-groups", body=body, validate_request=True), 201, what="create tg")
    if r.status != 201:
        return
    tg = r.json
    ARNS["web"] = tg["arn"]
    check_eq(r.header("Location"), "/v1/target-groups/web", "Location")
    check_eq(tg["id"], "web", "id honoured")
    check_eq(tg["TargetGroupName"], "web", "TargetGroupName")
    check_eq(tg["arn"], tg["TargetGroupArn"], "arn mirrors TargetGroupArn")
    check_eq(tg["HealthCheckPath"], "/healthz", "HealthCheckPath")
    check_eq(tg["Matcher"], {"HttpCode": "200-299"}, "Matcher")
    check_eq(tg["Tags"], [{"Key": "team", "Value": "edge"}], "Tags")
    attrs = {a["Key"]: a["Value"] for a in tg["Attributes"]}
    check_eq(attrs.get("deregistration_delay.timeout_seconds"), "5", "attribute applied")
    # Read back as written: the attribute keys written, not the other defaults.
    check_eq(sorted(attrs), ["deregistration_delay.timeout_seconds"], "only the keys written")
    g = expect(call("GET", "/v1/target-groups/web"), 200, what="get tg")
    check_eq(g.json, tg, "GET equals the POST answer")
    lst = expect(call("GET", "/v1/target-groups"), 200, what="list tgs")
    check_eq([i["id"] for i in lst.json["items"]], ["web"], "list has the group")

    # A server-chosen id.
    r = expect(call("POST", "/v1/target-groups", body={"Name": "auto", "Port": 8080}, validate_request=True),
               201, what="create without id")
    if r.status == 201:
        auto = r.json["id"]
        check_eq(r.json.get("Protocol"), "HTTP", "default Protocol")
        check_eq(r.json.get("ProtocolVersion"), "HTTP1", "default ProtocolVersion")
        check_eq(r.json.get("TargetType"), "instance", "default TargetType")
        check_eq(r.json.get("IpAddressType"), "ipv4", "default IpAddressType")
        check(r.header("Location") == "/v1/target-groups/" + auto, "Location of a server id")
        expect(call("GET", "/v1/target-groups/" + auto), 200, what="get server id")
        expect(call("DELETE", "/v1/target-groups/" + auto), 204, what="delete server id")

    # Errors that must change nothing.
    before = snapshot()
    expect(call("POST", "/v1/target-groups", body=tg_body("web", id="web2")), 409,
           "DuplicateTargetGroupName", "duplicate name")
    expect(call("POST", "/v1/target-groups", body=tg_body("web")), 409, "DuplicateTargetGroupName",
           "duplicate name without id")
    expect(call("POST", "/v1/target-groups", body=tg_body("other", id="web")), 409, "Conflict",
           "duplicate id")
    expect(call("POST", "/v1/target-groups", body=tg_body("bad", Port=0)), 400, "ValidationError", "port 0")
    expect(call("POST", "/v1/target-groups", body={"Port": 80}), 400, "ValidationError", "no Name")
    expect(call("POST", "/v1/target-groups", body=tg_body("bad_name")), 400, "ValidationError", "bad name")
    expect(call("POST", "/v1/target-groups", body=tg_body("x", id="a/b")), 400, "ValidationError", "id /")
    expect(call("POST", "/v1/target-groups", body=tg_body("x", id="i" * 129)), 400, "ValidationError",
           "id too long")
    expect(call("POST", "/v1/target-groups", body=tg_body("x", id=7)), 400, "ValidationError", "id number")
    expect(call("POST", "/v1/target-groups", body=tg_body(
        "x", id="x", Attributes=[{"Key": "no.such.attribute", "Value": "1"}])), 400, "ValidationError",
        "unknown attribute (create undone)")
    expect(call("POST", "/v1/target-groups", body=tg_body(
        "x", id="x", Attributes=[{"Key": "slow_start.duration_seconds", "Value": "10"}])), 400,
        "ValidationError", "bad attribute value (create undone)")
    expect(call("GET", "/v1/target-groups/x"), 404, "TargetGroupNotFound", "half-created group gone")
    expect(call("POST", "/v1/target-groups", raw=b'{"Name": "x", '), 400, "InvalidJSON", "truncated JSON")
    expect(call("POST", "/v1/target-groups", raw=b''), 400, "InvalidJSON", "empty body")
    expect(call("POST", "/v1/target-groups", raw=b'[1,2]'), 400, "InvalidJSON", "array body")
    expect(call("POST", "/v1/target-groups", raw=b'"web"'), 400, "InvalidJSON", "string body")
    expect(call("POST", "/v1/target-groups", raw=b'{"Name":"a","Name":"b","Port":80}'), 400,
           "InvalidJSON", "duplicate keys")
    expect(call("POST", "/v1/target-groups", raw=b'name=web&port=80',
                headers={"Content-Type": "application/x-www-form-urlencoded"}), 400, "InvalidJSON",
           "form body")
    big = b'{"Name":"big","Port":80,"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    expect(call("POST", "/v1/target-groups", raw=big), 413, what="2 MiB body")
    unchanged(before, "target group create errors")

    # PUT: replace the health check, attributes and tags.
    cur = call("GET", "/v1/target-groups/web").json
    new = dict(cur)
    new.update(HealthCheckPath="/ready", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=4,
               Tags=[{"Key": "tier", "Value": "web"}],
               Attributes=[{"Key": "slow_start.duration_seconds", "Value": "30"}])
    r = expect(call("PUT", "/v1/target-groups/web", body=new, validate_request=True), 200, what="put tg")
    if r.status == 200:
        check_eq(r.json["HealthCheckPath"], "/ready", "PUT HealthCheckPath")
        check_eq(r.json["HealthCheckIntervalSeconds"], 10, "PUT interval")
        check_eq(r.json["Tags"], [{"Key": "tier", "Value": "web"}], "PUT tags replaced")
        attrs = {a["Key"]: a["Value"] for a in r.json["Attributes"]}
        check_eq(attrs.get("slow_start.duration_seconds"), "30", "PUT attribute")
        check_eq(attrs.get("deregistration_delay.timeout_seconds"), "5", "PUT keeps other attributes")
        check_eq(call("GET", "/v1/target-groups/web").json, r.json, "GET after PUT")
    # A PUT of what GET returns changes nothing.
    cur = call("GET", "/v1/target-groups/web").json
    r = expect(call("PUT", "/v1/target-groups/web", body=cur), 200, what="round-trip PUT")
    check_eq(r.json, cur, "round-trip PUT is a no-op")

    before = snapshot()
    r = expect(call("PUT", "/v1/target-groups/web", body={"Port": 81}), 409, "Conflict", "PUT Port")
    check("Port" in ((r.json or {}).get("error") or {}).get("message", ""), "409 names Port")
    r = expect(call("PUT", "/v1/target-groups/web", body={"Name": "renamed"}), 409, "Conflict", "PUT Name")
    check("Name" in ((r.json or {}).get("error") or {}).get("message", ""), "409 names Name")
    expect(call("PUT", "/v1/target-groups/web", body={"TargetGroupName": "renamed"}), 409, "Conflict",
           "PUT TargetGroupName")
    expect(call("PUT", "/v1/target-groups/web", body={"Protocol": "HTTPS"}), 409, "Conflict", "PUT Protocol")
    expect(call("PUT", "/v1/target-groups/web", body={"VpcId": "vpc-1"}), 409, "Conflict", "PUT VpcId")
    expect(call("PUT", "/v1/target-groups/web", body={"TargetType": "ip"}), 409, "Conflict", "PUT TargetType")
    expect(call("PUT", "/v1/target-groups/web", body={"id": "other"}), 409, "Conflict", "PUT other id")
    # Health check changes first, then a bad attribute: the health check is rolled back.
    expect(call("PUT", "/v1/target-groups/web", body={
        "HealthCheckPath": "/changed", "Attributes": [{"Key": "no.such", "Value": "1"}]}),
        400, "ValidationError", "PUT bad attribute rolls back")
    expect(call("PUT", "/v1/target-groups/web", body={
        "HealthCheckPath": "/changed", "Tags": [{"Key": "tier", "Value": "x"}],
        "Attributes": [{"Key": "load_balancing.algorithm.type", "Value": "weighted_random"},
                       {"Key": "slow_start.duration_seconds", "Value": "30"}]}),
        400, "InvalidConfigurationRequest", "PUT inconsistent attributes roll back")
    expect(call("PUT", "/v1/target-groups/web", body={
        "HealthCheckPath": "/changed", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}),
        400, "DuplicateTagKeys", "PUT duplicate tag keys")
    expect(call("PUT", "/v1/target-groups/web", body={"HealthCheckTimeoutSeconds": 60}), 400,
           "ValidationError", "PUT timeout > interval")
    expect(call("PUT", "/v1/target-groups/web", body={"HealthCheckPath": "no-slash"}), 400,
           "ValidationError", "PUT bad path")
    expect(call("PUT", "/v1/target-groups/web", body={"Tags": "x"}), 400, "ValidationError", "PUT Tags string")
    expect(call("PUT", "/v1/target-groups/web", body={"Tags": [{"Key": "k", "Value": "v"}] * 51}), 400,
           "ValidationError", "PUT 51 tags")
    expect(call("PUT", "/v1/target-groups/web", body={"Attributes": {"a": 1}}), 400, "ValidationError",
           "PUT Attributes object")
    expect(call("PUT", "/v1/target-groups/web", body={"Attributes": [{"Key": "k"}]}), 400,
           "ValidationError", "PUT attribute without Value")
    expect(call("PUT", "/v1/target-groups/web", body={"Matcher": [1]}), 400, "ValidationError",
           "PUT Matcher list")
    expect(call("PUT", "/v1/target-groups/web", raw=b'{'), 400, "InvalidJSON", "PUT invalid JSON")
    expect(call("PUT", "/v1/target-groups/web", raw=b'null'), 400, "InvalidJSON", "PUT null")
    expect(call("PUT", "/v1/target-groups/missing", body={"HealthCheckPath": "/x"}), 404,
           "TargetGroupNotFound", "PUT missing")
    expect(call("PUT", "/v1/target-groups/" + "m" * 200, body={}), 404, "TargetGroupNotFound",
           "PUT long id")
    expect(call("PUT", "/v1/target-groups/web", raw=b'{"p":"' + b"x" * (2 * 1024 * 1024) + b'"}'), 413,
           what="PUT 2 MiB")
    expect(call("GET", "/v1/target-groups/missing"), 404, "TargetGroupNotFound", "GET missing")
    expect(call("DELETE", "/v1/target-groups/missing"), 404, "TargetGroupNotFound", "DELETE missing")
    unchanged(before, "target group PUT errors")


def test_terraform_flow():
    """Mastercard/restapi: id in data, GET path/{id}, PUT, DELETE, 404 after."""
    before = snapshot()
    data = tg_body("tf-app", id="tf-app", HealthCheckPath="/", VpcId="vpc-0abc")
    r = expect(call("POST", "/v1/target-groups", body=data), 201, what="tf create")
    check_eq((r.json or {}).get("id"), "tf-app", "tf id")
    check_eq((r.json or {}).get("VpcId"), "vpc-0abc", "tf VpcId")
    check_eq((r.json or {}).get("IpAddressType"), "ipv4", "tf default IpAddressType")
    r = expect(call("GET", "/v1/target-groups/tf-app"), 200, what="tf read")
    data["HealthCheckPath"] = "/status"
    data["Tags"] = [{"Key": "managed-by", "Value": "terraform"}]
    r = expect(call("PUT", "/v1/target-groups/tf-app", body=data), 200, what="tf update")
    check_eq((r.json or {}).get("HealthCheckPath"), "/status", "tf update applied")
    r = expect(call("GET", "/v1/target-groups/tf-app"), 200, what="tf read after update")
    check_eq((r.json or {}).get("Tags"), [{"Key": "managed-by", "Value": "terraform"}], "tf tags")
    expect(call("DELETE", "/v1/target-groups/tf-app"), 204, what="tf destroy")
    expect(call("DELETE", "/v1/target-groups/tf-app"), 404, "TargetGroupNotFound", "tf destroy again")
    expect(call("GET", "/v1/target-groups/tf-app"), 404, "TargetGroupNotFound", "tf read after destroy")
    unchanged(before, "terraform flow leaves nothing behind")


# ---------------------------------------------------------------- targets
def test_targets():
    base = "/v1/target-groups/web/targets"
    r = expect(call("GET", base), 200, what="list targets")
    check_eq((r.json or {}).get("items"), [], "no targets yet")
    r = expect(call("POST", base, body={"Id": "i-0abc", "Port": 8080}, validate_request=True), 201,
               what="register")
    check_eq((r.json or {}).get("id"), "i-0abc:8080", "target id")
    check_eq(r.header("Location"), base + "/i-0abc:8080", "target Location")
    check_eq((r.json or {}).get("Port"), 8080, "target Port")
    r = expect(call("POST", base, body={"Id": "i-0abc", "Port": 8080}), 200, what="register again")
    r = expect(call("POST", base, body={"id": "i-0def:9000", "Id": "i-0def", "Port": 9000}), 201,
               what="register with id")
    r = expect(call("POST", base, body={"Id": "i-0aaa"}), 201, what="register on the group port")
    check_eq((r.json or {}).get("id"), "i-0aaa:80", "default port")
    r = expect(call("GET", base), 200, what="list targets")
    check_eq(sorted(i["id"] for i in (r.json or {}).get("items", [])),
             ["i-0aaa:80", "i-0abc:8080", "i-0def:9000"], "listed targets")
    expect(call("GET", base + "/i-0abc:8080"), 200, what="get target")
    expect(call("GET", base + "/i-0abc%3A8080"), 200, what="get target percent-encoded")
    expect(call("GET", base + "/i-0aaa"), 200, what="get target on the group port")

    before = snapshot()
    expect(call("POST", base, body={"Port": 80}), 400, "ValidationError", "no Id")
    expect(call("POST", base, body={"Id": "i-1", "Port": "http"}), 400, "ValidationError", "Port string")
    expect(call("POST", base, body={"Id": "i-1", "Port": 70000}), 400, "ValidationError", "Port range")
    expect(call("POST", base, body={"Id": "i-1", "Port": 80, "id": "i-1:81"}), 400, "ValidationError",
           "id mismatch")
    expect(call("POST", base, body={"Id": "10.0.0.1", "Port": 80}), 400, "InvalidTarget", "ip on instance group")
    expect(call("POST", base, body={"Id": ["i-1"]}), 400, "ValidationError", "Id list")
    expect(call("POST", base, raw=b'{"Id":'), 400, "InvalidJSON", "target invalid JSON")
    expect(call("POST", "/v1/target-groups/missing/targets", body={"Id": "i-1"}), 404,
           "TargetGroupNotFound", "register on missing group")
    expect(call("GET", "/v1/target-groups/missing/targets"), 404, "TargetGroupNotFound", "list missing group")
    for name in ("i-0zzz:8080", "i-0abc:8081", "[::1", "i-0abc:", "i-0abc:99999", "%5B%5D", "::"):
        expect(call("GET", base + "/" + name), 404, what="get target " + name)
        expect(call("DELETE", base + "/" + name), 404, what="delete target " + name)
    unchanged(before, "target errors")

    # Terraform-style: POST with id, GET, DELETE, DELETE -> 404, GET -> 404.
    expect(call("POST", base, body={"id": "i-0tf:8000", "Id": "i-0tf", "Port": 8000}), 201, what="tf target")
    expect(call("GET", base + "/i-0tf:8000"), 200, what="tf target read")
    expect(call("DELETE", base + "/i-0tf:8000"), 204, what="tf target destroy")
    expect(call("DELETE", base + "/i-0tf:8000"), 404, "TargetNotFound", "tf target destroy again")
    r = call("GET", base + "/i-0tf:8000")
    check(r.status == 404 or (r.status == 200 and r.json.get("State") == "draining"),
          "target after deregistration: %r" % r)

    # IPv6 targets in an ip group: bracketed names, percent-encoded or not.
    r = expect(call("POST", "/v1/target-groups", body=tg_body("ips", id="ips", TargetType="ip")), 201,
               what="ip group")
    ipb = "/v1/target-groups/ips/targets"
    r = expect(call("POST", ipb, body={"Id": "2001:db8::5", "Port": 8080}), 201, what="register v6")
    check_eq((r.json or {}).get("id"), "[2001:db8::5]:8080", "v6 target id")
    check_eq(r.header("Location"), ipb + "/%5B2001:db8::5%5D:8080", "v6 Location")
    expect(call("GET", ipb + "/" + urllib.parse.quote("[2001:db8::5]:8080", safe="")), 200, what="v6 encoded")
    expect(call("GET", ipb + "/[2001:db8::5]:8080"), 200, what="v6 brackets")
    expect(call("GET", ipb + "/2001:db8::5:8080"), 200, what="v6 unbracketed")
    expect(call("GET", ipb + "/[2001:db8:0::5]:8080"), 200, what="v6 other spelling")
    expect(call("POST", ipb, body={"Id": "10.1.2.3", "Port": 80, "id": "10.1.2.3:80"}), 201, what="v4")
    expect(call("DELETE", ipb + "/%5B2001%3Adb8%3A%3A5%5D%3A8080"), 204, what="deregister v6")
    expect(call("DELETE", ipb + "/10.1.2.3:80"), 204, what="deregister v4")
    expect(call("DELETE", "/v1/target-groups/ips"), 204, what="delete ip group")


# ---------------------------------------------------------------- load balancers, listeners, rules
def test_load_balancers():
    body = {"id": "edge", "Name": "edge", "Subnets": ["subnet-a", "subnet-b"],
            "SecurityGroups": ["sg-1"], "Tags": [{"Key": "env", "Value": "test"}],
            "Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "30"}]}
    r = expect(call("POST", "/v1/load-balancers", body=body, validate_request=True), 201, what="create lb")
    if r.status != 201:
        return
    lb = r.json
    ARNS["edge"] = lb["arn"]
    check_eq(r.header("Location"), "/v1/load-balancers/edge", "lb Location")
    check_eq(lb["LoadBalancerName"], "edge", "lb name")
    attrs = {a["Key"]: a["Value"] for a in lb["Attributes"]}
    check_eq(attrs.get("idle_timeout.timeout_seconds"), "30", "lb attribute")
    check_eq(call("GET", "/v1/load-balancers/edge").json, lb, "GET lb equals POST answer")
    r = expect(call("GET", "/v1/load-balancers"), 200, what="list lbs")
    check_eq([i["id"] for i in r.json["items"]], ["edge"], "lb listed")

    before = snapshot()
    expect(call("POST", "/v1/load-balancers", body={"id": "edge2", "Name": "edge"}), 409,
           "DuplicateLoadBalancerName", "duplicate lb name")
    expect(call("POST", "/v1/load-balancers", body={"id": "edge", "Name": "edge3"}), 409, "Conflict",
           "duplicate lb id")
    expect(call("POST", "/v1/load-balancers", body={"Name": "-bad"}), 400, "ValidationError", "bad lb name")
    expect(call("POST", "/v1/load-balancers", body={"Name": "x", "Attributes": [
        {"Key": "idle_timeout.timeout_seconds", "Value": "0"}]}), 400, "ValidationError",
        "bad lb attribute (create undone)")
    expect(call("PUT", "/v1/load-balancers/edge", body={"Scheme": "internal"}), 409, "Conflict", "PUT Scheme")
    expect(call("PUT", "/v1/load-balancers/edge", body={"Name": "other"}), 409, "Conflict", "PUT lb Name")
    expect(call("PUT", "/v1/load-balancers/edge", body={"Subnets": ["subnet-c"],
                                                       "Scheme": "internal"}), 409, "Conflict",
           "PUT Subnets with a fixed member: nothing applied")
    expect(call("PUT", "/v1/load-balancers/edge", body={"SecurityGroups": [""]}), 400,
           "ValidationError", "PUT bad SecurityGroups")
    expect(call("PUT", "/v1/load-balancers/edge", body={
        "Tags": [{"Key": "new", "Value": "1"}],
        "Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "99999"}]}), 400,
        "ValidationError", "PUT bad lb attribute")
    expect(call("PUT", "/v1/load-balancers/nope", body={}), 404, "LoadBalancerNotFound", "PUT missing lb")
    unchanged(before, "load balancer errors")

    # SetSecurityGroups, SetSubnets and SetIpAddressType in place, as one write
    was = call("GET", "/v1/load-balancers/edge").json
    expect(call("PUT", "/v1/load-balancers/edge", body={
        "SecurityGroups": ["sg-2"], "IpAddressType": "dualstack"}), 400, "ValidationError",
        "PUT dualstack (sluice listens on IPv4 only)")
    check_eq(call("GET", "/v1/load-balancers/edge").json, was, "the refused PUT applied nothing")
    r = expect(call("PUT", "/v1/load-balancers/edge", body={
        "SecurityGroups": ["sg-2", "sg-3"], "Subnets": ["subnet-a", "subnet-c"],
        "IpAddressType": "ipv4"}), 200, what="put lb sets")
    got = call("GET", "/v1/load-balancers/edge").json
    check_eq((got["SecurityGroups"], [z["SubnetId"] for z in got["AvailabilityZones"]],
              got["IpAddressType"]), (["sg-2", "sg-3"], ["subnet-a", "subnet-c"], "ipv4"),
             "PUT changed security groups and subnets")
    expect(call("PUT", "/v1/load-balancers/edge", body={
        "SecurityGroups": ["sg-1"], "Subnets": ["subnet-a", "subnet-b"], "IpAddressType": "ipv4",
        "Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "0"}]}), 400,
        "ValidationError", "PUT sets with a bad attribute")
    check_eq(call("GET", "/v1/load-balancers/edge").json, got, "a refused PUT applies nothing")
    expect(call("PUT", "/v1/load-balancers/edge", body={"Subnets": []}), 200,
           what="put lb no subnets")
    check_eq(call("GET", "/v1/load-balancers/edge").json["AvailabilityZones"], [],
             "an empty Subnets list is applied, not ignored")
    expect(call("PUT", "/v1/load-balancers/edge", body={
        "SecurityGroups": ["sg-1"], "Subnets": ["subnet-a", "subnet-b"], "IpAddressType": "ipv4"}),
        200, what="put lb sets back")

    new = dict(call("GET", "/v1/load-balancers/edge").json)
    new["Tags"] = [{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "me"}]
    new["Attributes"] = [{"Key": "deletion_protection.enabled", "Value": "false"},
                         {"Key": "idle_timeout.timeout_seconds", "Value": "45"}]
    r = expect(call("PUT", "/v1/load-balancers/edge", body=new), 200, what="put lb")
    if r.status == 200:
        check_eq(r.json["Tags"], new["Tags"], "lb tags replaced")
        attrs = {a["Key"]: a["Value"] for a in r.json["Attributes"]}
        check_eq(attrs.get("idle_timeout.timeout_seconds"), "45", "lb attribute replaced")
        r2 = expect(call("PUT", "/v1/load-balancers/edge", body=r.json), 200, what="lb round trip")
        check_eq(r2.json, r.json, "lb round-trip PUT is a no-op")


def test_listeners_and_rules():
    web_arn = ARNS.get("web")
    lb_arn = ARNS.get("edge")
    if not (web_arn and lb_arn):
        check(False, "listeners need the target group and load balancer from earlier cases")
        return
    fwd = [{"Type": "forward", "TargetGroupArn": web_arn}]
    body = {"id": "http", "LoadBalancerId": "edge", "Protocol": "HTTP", "Port": 80, "DefaultActions": fwd}
    r = expect(call("POST", "/v1/listeners", body=body, validate_request=True), 201, what="create listener")
    if r.status != 201:
        return
    lis = r.json
    check_eq(r.header("Location"), "/v1/listeners/http", "listener Location")
    check_eq(lis["LoadBalancerArn"], lb_arn, "LoadBalancerId resolved")
    r = expect(call("GET", "/v1/listeners?LoadBalancerId=edge"), 200, what="listeners by lb id")
    check_eq([i["id"] for i in r.json["items"]], ["http"], "filter by LoadBalancerId")
    r = expect(call("GET", "/v1/listeners?LoadBalancerArn=" + urllib.parse.quote(lb_arn, safe="")), 200,
               what="listeners by lb arn")
    check_eq([i["id"] for i in r.json["items"]], ["http"], "filter by LoadBalancerArn")
    expect(call("GET", "/v1/listeners?LoadBalancerId=nope"), 404, "LoadBalancerNotFound", "filter unknown lb")
    r = expect(call("GET", "/v1/target-groups/web"), 200, what="tg in use")
    check_eq(r.json.get("LoadBalancerArns"), [lb_arn], "tg LoadBalancerArns")
    r = expect(call("GET", "/v1/target-groups?LoadBalancerId=edge"), 200, what="tgs by lb")
    check_eq([i["id"] for i in r.json["items"]], ["web"], "tg filter by lb")

    before = snapshot()
    expect(call("POST", "/v1/listeners", body=dict(body, id="http2")), 409, "DuplicateListener",
           "duplicate port")
    expect(call("POST", "/v1/listeners", body=dict(body, id="x", LoadBalancerId="nope")), 404,
           "LoadBalancerNotFound", "listener on missing lb")
    expect(call("POST", "/v1/listeners", body=dict(body, id="x", Port=81, LoadBalancerArn="arn:x")), 400,
           "ValidationError", "LoadBalancerArn and LoadBalancerId disagree")
    expect(call("POST", "/v1/listeners", body=dict(body, id="x", Port=81, LoadBalancerId=5)), 400,
           "ValidationError", "LoadBalancerId number")
    expect(call("POST", "/v1/listeners", body=dict(body, id="x", Port=81, Attributes=[{"Key": "a", "Value": "b"}])),
           400, "ValidationError", "listener attributes")
    expect(call("POST", "/v1/listeners", body=dict(body, id="x", Port=81, DefaultActions="forward")), 400,
           "ValidationError", "DefaultActions string")
    expect(call("DELETE", "/v1/target-groups/web"), 409, "ResourceInUse", "delete tg in use")
    expect(call("PUT", "/v1/listeners/http", body={"LoadBalancerArn": "arn:aws:other"}), 409, "Conflict",
           "PUT listener LoadBalancerArn")
    expect(call("PUT", "/v1/listeners/http", body={"LoadBalancerId": "nope"}), 409, "Conflict",
           "PUT listener LoadBalancerId")
    expect(call("PUT", "/v1/listeners/http", body={"Port": 8080, "DefaultActions": [
        {"Type": "forward", "TargetGroupArn": web_arn + "x"}]}), 404, "TargetGroupNotFound",
        "PUT listener unknown tg")
    unchanged(before, "listener errors")

    r = expect(call("PUT", "/v1/listeners/http", body=dict(lis, Port=8080, LoadBalancerId="edge",
                                                           Tags=[{"Key": "p", "Value": "1"}])),
               200, what="put listener")
    if r.status == 200:
        check_eq(r.json["Port"], 8080, "listener port changed")
        check_eq(r.json["Tags"], [{"Key": "p", "Value": "1"}], "listener tags")
        r2 = expect(call("PUT", "/v1/listeners/http", body=r.json), 200, what="listener round trip")
        check_eq(r2.json, r.json, "listener round-trip PUT is a no-op")
        lis = r.json

    # Rules.
    rbody = {"id": "api", "ListenerId": "http", "Priority": 10,
             "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}], "Actions": fwd}
    r = expect(call("POST", "/v1/rules", body=rbody, validate_request=True), 201, what="create rule")
    if r.status != 201:
        return
    rule = r.json
    check_eq(rule["ListenerArn"], lis["arn"], "rule ListenerArn")
    check_eq(rule["Priority"], 10, "rule Priority read back as written (a number)")
    check_eq(rule["IsDefault"], False, "rule not default")
    r = expect(call("GET", "/v1/rules?ListenerId=http"), 200, what="rules of listener")
    items = (r.json or {}).get("items", [])
    check_eq(sorted(str(i["Priority"]) for i in items), ["10", "default"], "rules incl. default")
    default = [i for i in items if i["IsDefault"]]
    r = expect(call("GET", "/v1/rules?ListenerArn=" + urllib.parse.quote(lis["arn"], safe="")), 200,
               what="rules by listener arn")
    check_eq(len(r.json["items"]), 2, "rules by arn")
    r = expect(call("GET", "/v1/rules"), 200, what="all rules")
    check_eq(len(r.json["items"]), 2, "all rules unfiltered")
    r = expect(call("POST", "/v1/rules", body=dict(rbody, id="api2", Priority=20,
                                                   Conditions=[{"Field": "host-header",
                                                                "Values": ["a.example.com"]}])),
               201, what="second rule")

    before = snapshot()
    expect(call("POST", "/v1/rules", body=dict(rbody, id="api3")), 409, "PriorityInUse", "priority in use")
    expect(call("POST", "/v1/rules", body=dict(rbody, id="api3", Priority=11, ListenerId="nope")), 404,
           "ListenerNotFound", "rule on missing listener")
    expect(call("POST", "/v1/rules", body=dict(rbody, id="api3", Priority=11, Conditions=[{"Field": "nope"}])),
           400, "ValidationError", "bad condition")
    expect(call("PUT", "/v1/rules/api", body={"Priority": 20}), 409, "PriorityInUse", "PUT priority in use")
    # SetRulePriorities succeeds, ModifyRule fails: the priority is restored.
    expect(call("PUT", "/v1/rules/api", body={"Priority": 30, "Actions": [
        {"Type": "forward", "TargetGroupArn": web_arn + "x"}]}), 404, "TargetGroupNotFound",
        "PUT rule rolls back priority")
    expect(call("PUT", "/v1/rules/api", body={"Priority": 31, "Tags": [{"Key": "t", "Value": "v"}] * 2}), 400,
           "DuplicateTagKeys", "PUT rule bad tags")
    expect(call("PUT", "/v1/rules/api", body={"Priority": 0}), 400, "ValidationError", "PUT priority 0")
    expect(call("PUT", "/v1/rules/api", body={"ListenerArn": "arn:aws:x"}), 409, "Conflict", "PUT ListenerArn")
    if default:
        expect(call("DELETE", "/v1/rules/" + default[0]["id"]), 409, "OperationNotPermitted", "delete default")
        expect(call("PUT", "/v1/rules/" + default[0]["id"], body={"Priority": 5}), 409,
               "OperationNotPermitted", "PUT default priority")
    unchanged(before, "rule errors")

    new = dict(rule, Priority=15, Conditions=[{"Field": "path-pattern", "Values": ["/v2/*"]}],
               Tags=[{"Key": "svc", "Value": "api"}])
    r = expect(call("PUT", "/v1/rules/api", body=new, validate_request=True), 200, what="put rule")
    if r.status == 200:
        check_eq(r.json["Priority"], 15, "rule priority changed (read back as written)")
        check_eq(r.json["Conditions"], [{"Field": "path-pattern", "Values": ["/v2/*"]}],
                 "rule condition changed (read back as written)")
        check_eq(r.json["Tags"], [{"Key": "svc", "Value": "api"}], "rule tags")
        r2 = expect(call("PUT", "/v1/rules/api", body=r.json), 200, what="rule round trip")
        check_eq(r2.json, r.json, "rule round-trip PUT is a no-op")

    expect(call("DELETE", "/v1/rules/api"), 204, what="delete rule")
    expect(call("DELETE", "/v1/rules/api"), 404, "RuleNotFound", "delete rule again")
    expect(call("GET", "/v1/rules/api"), 404, "RuleNotFound", "get deleted rule")
    expect(call("DELETE", "/v1/listeners/http"), 204, what="delete listener")
    expect(call("DELETE", "/v1/listeners/http"), 404, "ListenerNotFound", "delete listener again")
    r = expect(call("GET", "/v1/rules"), 200, what="rules after listener delete")
    check_eq(r.json.get("items"), [], "listener's rules went with it")
    expect(call("DELETE", "/v1/load-balancers/edge"), 204, what="delete lb")
    expect(call("DELETE", "/v1/load-balancers/edge"), 404, "LoadBalancerNotFound", "delete lb again")
    expect(call("GET", "/v1/load-balancers/edge"), 404, "LoadBalancerNotFound", "get deleted lb")
    expect(call("DELETE", "/v1/target-groups/web"), 204, what="delete tg")


# ---------------------------------------------------------------- malformed input
def test_malformed_bodies():
    before = snapshot()
    common = [b"[]", b'"x"', b"1", b"null", b"true", b"{}", b'{"Name":"\\u0000"}', b'{"Name":"\xff\xfe"}',
              b"[" * 100000, b'{"a":' * 5000, b"\x00\x01\x02", b'{"a":1}garbage',
              b'{"Name":"m","Port":80,"id":"' + b"i" * 100000 + b'"}',
              b'{"Name":"m","Port":80,"id":"a%2Fb"}', b'{"Name":"m","Port":80,"Attributes":"x"}',
              b'{"Name":"m","Port":80,"Attributes":[{"Key":1,"Value":2}]}',
              b'{"Name":"m","Port":80,"Tags":[1,2]}', b'{"Name":"m","Port":80,"Tags":{"Key":"a"}}']
    specific = {
        "/v1/target-groups": [
            b'{"Name":{"a":[]}}', b'{"Name":"m","Port":{"x":1}}', b'{"Name":"m","Port":"80x"}',
            b'{"Name":"m","Port":80,"Matcher":"200"}', b'{"Name":"m","Port":80,"HealthCheckPort":[]}',
            b'{"Name":"m","Port":1e99}', b'{"Name":"m","Port":-1}', b'{"Name":"m","Port":18446744073709551616}',
            b'{"TargetGroupName":7,"Port":80}'],
        "/v1/load-balancers": [
            b'{"Name":{"a":[]}}', b'{"Name":"m","Subnets":[{},{"SubnetId":[]}]}',
            b'{"Name":"m","SubnetMappings":7}', b'{"Name":"m","Scheme":["internal"]}',
            b'{"LoadBalancerName":[]}'],
        "/v1/listeners": [
            b'{"LoadBalancerId":["a"],"DefaultActions":[[]]}', b'{"LoadBalancerArn":{},"DefaultActions":{}}',
            b'{"LoadBalancerId":"' + b"x" * 5000 + b'","DefaultActions":[]}'],
        "/v1/rules": [
            b'{"ListenerId":{},"Priority":"x","Conditions":{},"Actions":7}',
            b'{"ListenerArn":"arn:x","Priority":[1],"Conditions":[{"Field":"path-pattern",'
            b'"PathPatternConfig":[]}],"Actions":[]}'],
        "/v1/target-groups/web/targets": [
            b'{"Id":{"x":1}}', b'{"Id":"i-1","Port":[]}', b'{"Id":"i-1","id":7}', b'{"Id":""}'],
    }
    for p, extra in specific.items():
        for b in common + extra:
            r = call("POST", p, raw=b)
            check(400 <= r.status < 500 and r.code, "POST %s %r -> %r" % (p, b[:40], r))
    bodies = common
    # The same against PUT on a real object of each kind.
    expect(call("POST", "/v1/target-groups", body=tg_body("m-tg", id="m-tg")), 201, what="malformed tg")
    expect(call("POST", "/v1/load-balancers", body={"id": "m-lb", "Name": "m-lb"}), 201, what="malformed lb")
    mid = snapshot()
    for p in ("/v1/target-groups/m-tg", "/v1/load-balancers/m-lb"):
        for b in bodies + [b'{"Tags":[{"Key":""}]}', b'{"Tags":[{"Key":"a","Value":7}]}',
                           b'{"Attributes":[{"Key":"x","Value":"y"}],"Tags":[]}',
                           b'{"HealthCheckIntervalSeconds":"abc"}', b'{"id":["x"]}']:
            r = call("PUT", p, raw=b)
            check(r.status in (200, 400, 409) and (r.status == 200 or r.code),
                  "PUT %s %r -> %r" % (p, b[:40], r))
    # {} and "{}"-like no-op bodies are valid PUTs; nothing else may have changed anything.
    check(snapshot() == mid, "malformed PUTs changed state")
    expect(call("DELETE", "/v1/target-groups/m-tg"), 204, what="cleanup tg")
    expect(call("DELETE", "/v1/load-balancers/m-lb"), 204, what="cleanup lb")
    unchanged(before, "malformed bodies")
    expect(call("GET", "/v1/health"), 200, what="alive after malformed input")


def test_curl():
    """curl as users run it: -d sends form content type; the body is JSON anyway."""
    out = subprocess.run(["curl", "-s", "-i", "-X", "POST", SRV.url + "/v1/target-groups",
                          "-d", json.dumps(tg_body("curl-tg", id="curl-tg"))],
                         capture_output=True, timeout=30)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.decode().partition(":")
        headers[k.strip()] = v.strip()
    check_eq(status, 201, "curl POST status")
    for p in API.check_response("POST", "/v1/target-groups", status, headers, body):
        check(False, "curl: " + p)
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                          SRV.url + "/v1/target-groups/curl-tg"], capture_output=True, timeout=30)
    check_eq(out.stdout, b"204", "curl DELETE")
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", SRV.url + "/v1/target-groups/curl-tg"],
                         capture_output=True, timeout=30)
    body, _, code = out.stdout.rpartition(b"\n")
    check_eq(code, b"404", "curl GET after delete")
    for p in API.check_response("GET", "/v1/target-groups/curl-tg", 404,
                                {"Content-Type": "application/json"}, body):
        check(False, "curl: " + p)
    out = subprocess.run(["curl", "-s", SRV.url + "/v1/health"], capture_output=True, timeout=30)
    check_eq(json.loads(out.stdout or b"{}"), {"status": "ok"}, "curl health")


def main():
    global SRV
    with Sluiced() as srv:
        SRV = srv
        for case in (test_document, test_health_and_routing, test_target_groups, test_terraform_flow,
                     test_targets, test_load_balancers, test_listeners_and_rules, test_malformed_bodies,
                     test_curl):
            run_case(case)
        check(srv.proc.poll() is None, "sluiced still running at the end:\n" + srv.read_log())
        rc = srv.stop()
        check_eq(rc, 0, "sluiced exit status on SIGTERM")
        if rc != 0:
            print(srv.read_log())
    print("%d responses validated against openapi.yaml" % _validated[0])
    report()


if __name__ == "__main__":
    main()
