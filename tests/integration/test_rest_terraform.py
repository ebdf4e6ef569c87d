"""REST objects read back in the shape they were written, as Terraform's
generic REST provider (Mastercard/restapi 3.x, ignore_server_additions =
true) compares them: for each kind (load balancer, target group, listener,
rule, target) the `data` a configuration would hold is POSTed; every GET then
shows no difference for the members written (Priority a number,
HealthCheckPort a number, a forward action with only its TargetGroupArn, the
attribute keys written, Name beside TargetGroupName), a change made through
the Query API shows as drift, and a PUT of the same data (what the provider
does then) removes it.  Targets can be PUT.  A member the object does not
have is refused, never dropped unseen."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, free_port, report, run_case  # noqa: E402

S = ELB = None


def delta(recorded, actual):
    """The members of <recorded> (what a configuration wrote) that <actual>
    (what a GET returned) shows differently, as the provider finds them with
    ignore_server_additions: maps member by member, lists and scalars whole;
    members only the server has do not count."""
    out = []
    for k, v in recorded.items():
        a = actual.get(k) if isinstance(actual, dict) else None
        if isinstance(v, dict) and isinstance(a, dict):
            out += [k + "." + d for d in delta(v, a)]
        elif v != a:
            out.append(k)
    return out


def call(method, path, body=None):
    st, _, b = S.http(method, path, body=body)
    return st, b


def lifecycle(path, data, drift, what):
    """POST <data>, check GETs against it, make <drift> (a Query API call
    that changes a written member), see the drift, PUT it away."""
    st, b = call("POST", path, data)
    check_eq(st, 201, "%s created: %s" % (what, b))
    obj = path + "/" + data["id"]
    st, b = call("GET", obj)
    check_eq(delta(data, b), [], "%s reads back as written" % what)
    st, again = call("PUT", obj, data)
    check_eq((st, delta(data, again)), (200, []), "%s: a PUT of the same data changes nothing"
             % what)
    if drift:
        changed = drift(b)
        st, b = call("GET", obj)
        check_eq(delta(data, b), changed, "%s: drift seen" % what)
        st, b = call("PUT", obj, data)
        check_eq((st, delta(data, b)), (200, []), "%s: the PUT undoes the drift" % what)
        st, b = call("GET", obj)
        check_eq(delta(data, b), [], "%s: no drift left" % what)
    return b


def test_kinds():
    lb = lifecycle("/v1/load-balancers", {
        "id": "tf-lb", "Name": "tf-lb", "Scheme": "internal", "Subnets": ["subnet-a"],
        "SecurityGroups": ["sg-1"], "Tags": [{"Key": "env", "Value": "test"}],
        "Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "30"}]},
        lambda b: (ELB.modify_load_balancer_attributes(
            LoadBalancerArn=b["arn"], Attributes=[
                {"Key": "idle_timeout.timeout_seconds", "Value": "45"}]), ["Attributes"])[1],
        "load balancer")
    tg = lifecycle("/v1/target-groups", {
        "id": "tf-web", "Name": "tf-web", "Protocol": "HTTP", "Port": 8080, "TargetType": "ip",
        "HealthCheckPort": 8081, "HealthCheckPath": "/h", "HealthCheckIntervalSeconds": 10,
        "Matcher": {"HttpCode": "200-299"},
        "Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]},
        lambda b: (ELB.modify_target_group(TargetGroupArn=b["arn"], HealthCheckPath="/x"),
                   ["HealthCheckPath"])[1],
        "target group")
    port = free_port()
    lst = lifecycle("/v1/listeners", {
        "id": "tf-http", "LoadBalancerId": "tf-lb", "Protocol": "HTTP", "Port": port,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg["arn"]}]},
        lambda b: (ELB.modify_listener(ListenerArn=b["arn"], DefaultActions=[{
            "Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]),
            ["DefaultActions"])[1],
        "listener")
    lifecycle("/v1/rules", {
        "id": "tf-api", "ListenerId": "tf-http", "Priority": 10,
        "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}],
        "Actions": [{"Type": "forward", "TargetGroupArn": tg["arn"]}]},
        lambda b: (ELB.set_rule_priorities(RulePriorities=[{"RuleArn": b["arn"], "Priority": 20}]),
                   ["Priority"])[1],
        "rule")
    check(lst["arn"].startswith("arn:aws:elasticloadbalancing:"), "server members still shown")
    check_eq(lb["DNSName"].startswith("internal-tf-lb-"), True, "DNSName shown")


def test_targets():
    base = "/v1/target-groups/tf-web/targets"
    data = {"id": "127.0.0.1:9001", "Id": "127.0.0.1", "Port": 9001}
    st, b = call("POST", base, data)
    check_eq(st, 201, "target created")
    st, b = call("GET", base + "/127.0.0.1:9001")
    check_eq(delta(data, b), [], "target reads back as written")
    st, b = call("PUT", base + "/127.0.0.1:9001", data)
    check_eq((st, delta(data, b)), (200, []), "target PUT: already registered")
    st, b = call("PUT", base + "/127.0.0.1:9002", {"Id": "127.0.0.1", "Port": 9002})
    check_eq(st, 201, "target PUT registers the one the path names")
    st, _, b = S.http("PUT", base + "/127.0.0.1:9003", raw=b"")
    check_eq(st, 201, "target PUT without a body")
    st, b = call("PUT", base + "/127.0.0.1:9001", {"Id": "127.0.0.1", "Port": 9999})
    check_eq((st, b["error"]["code"]), (409, "Conflict"), "a PUT cannot move a target")
    ids = sorted(t["id"] for t in call("GET", base)[1]["items"])
    check_eq(ids, ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"], "targets")


def test_unknown_member_refused():
    st, b = call("POST", "/v1/target-groups", {"id": "typo", "Name": "typo", "Port": 80,
                                                "HealthCheckPth": "/x"})
    check_eq((st, b["error"]["code"]), (400, "ValidationError"), "unknown member refused")
    check("HealthCheckPth" in b["error"]["message"], "names it: %s" % b["error"]["message"])
    check_eq(call("GET", "/v1/target-groups/typo")[0], 404, "and nothing was created")
    st, b = call("PUT", "/v1/target-groups/tf-web", {"HealthCheckPth": "/x"})
    check_eq(st, 400, "unknown member refused in a PUT")


def main():
    global S, ELB
    with Sluiced(extra_args=["--runtime", "none"]) as S:
        ELB = S.boto3("elbv2")
        for fn in (test_kinds, test_targets, test_unknown_member_refused):
            run_case(fn)
    report()


if __name__ == "__main__":
    main()
