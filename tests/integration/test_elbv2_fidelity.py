"""ELBv2 as the Terraform AWS provider and the SDKs use it, on the API alone:
the README's attribute table holds (every key described has a row; each row's
keys are accepted, accepted with only the values it names, or refused in the
words it says, and the refusals the provider matches case-sensitively read
as it expects); listener attributes; SetSecurityGroups, SetSubnets,
SetIpAddressType; capacity reservations; DescribeAccountLimits and
DescribeTrustStores; target groups as the provider creates them (an empty
ProtocolVersion) and AWS's checks sluice once skipped; HealthCheckPort on
every DescribeTargetHealth description; actions and members sluice does not
have, refused with their reasons."""
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import SOURCE, Sluiced, check, check_eq, report, run_case  # noqa: E402

S = None
# The provider's drop-key pattern (aws_lb modifyLoadBalancerAttributes).
TF_DROP = re.compile(r"""attribute key ('|")?([^'" ]+)('|")? is not (recognized|supported)""")


def flatten(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten("%s.%s" % (prefix, k) if prefix else k, x, out)
    elif isinstance(v, list):
        if not v:
            out[prefix] = ""
        for i, x in enumerate(v, 1):
            flatten("%s.member.%d" % (prefix, i), x, out)
    elif isinstance(v, bool):
        out[prefix] = "true" if v else "false"
    else:
        out[prefix] = str(v)


def query(action, **params):
    """(code or None, message, body text) of a Query API call."""
    form = {"Action": action, "Version": "2015-12-01"}
    flatten("", params, form)
    st, _, body = S.http("POST", "/", raw=urllib.parse.urlencode(form).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    text = body.decode() if isinstance(body, bytes) else str(body)
    code = re.search(r"<Code>([^<]*)</Code>", text)
    msg = re.search(r"<Message>([^<]*)</Message>", text)
    unesc = (msg.group(1) if msg else "").replace("&apos;", "'").replace("&quot;", '"')
    return (code.group(1) if st != 200 and code else None), unesc, text


def ok(action, **params):
    code, msg, text = query(action, **params)
    check(code is None, "%s: %s %s" % (action, code, msg))
    return text


def values(text, tag):
    return re.findall(r"<%s>([^<]*)</%s>" % (tag, tag), text)


def attributes(text):
    keys, vals = values(text, "Key"), values(text, "Value")
    return dict(zip(keys, vals))


def readme_rows():
    rows = []
    for line in open(os.path.join(SOURCE, "README.md")):
        m = re.match(r"\| (load balancer|target group|listener) \| `([^`]+)` \| (.*) \|$", line)
        if m:
            rows.append(m.groups())
    return rows


def readme_other_type_keys():
    text = open(os.path.join(SOURCE, "README.md")).read()
    para = text[text.index("Refused as AWS refuses them"):]
    para = para[:para.index("\n\n")]
    return re.findall(r"`([a-z0-9_.*]+)`", para)


KINDS = {}


def setup():
    lb = values(ok("CreateLoadBalancer", Name="fid", Scheme="internal"), "LoadBalancerArn")[0]
    tg = values(ok("CreateTargetGroup", Name="fid", Protocol="HTTP", Port=80, VpcId="vpc-1",
                   TargetType="ip"), "TargetGroupArn")[0]
    lst = values(ok("CreateListener", LoadBalancerArn=lb, Protocol="HTTP", Port=18080,
                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}]),
                 "ListenerArn")[0]
    KINDS.update({
        "load balancer": ("LoadBalancer", {"LoadBalancerArn": lb},
                          "on load balancers with type 'application'"),
        "target group": ("TargetGroup", {"TargetGroupArn": tg},
                         "for target groups with the HTTP protocol"),
        "listener": ("Listener", {"ListenerArn": lst}, "for listeners with the HTTP protocol"),
    })
    return lb, tg, lst


def modify(kind, key, value):
    noun, ident, _ = KINDS[kind]
    return query("Modify%sAttributes" % noun, Attributes=[{"Key": key, "Value": value}],
                 **ident)


def describe(kind):
    noun, ident, _ = KINDS[kind]
    return attributes(ok("Describe%sAttributes" % noun, **ident))


def another(value):
    """A valid-looking value other than <value>."""
    return {"false": "true", "true": "false", "": "x", "off": "on", "1": "2",
            "use_load_balancer_configuration": "false"}.get(value, "x")


def test_attribute_table():
    rows = readme_rows()
    check(len(rows) > 40, "README attribute table found (%d rows)" % len(rows))
    described = {k: describe(k) for k in KINDS}
    in_table = {(kind, key) for kind, key, _ in rows}
    for kind, attrs in described.items():
        for key in attrs:
            check((kind, key) in in_table, "README lacks a row for %s %s" % (kind, key))
    for kind, key, text in rows:
        cur = described[kind].get(key)
        if text.startswith("refused"):
            check(cur is None, "%s %s refused but described" % (kind, key))
            code, msg, _ = modify(kind, key, "false")
            check_eq(code, "ValidationError", "%s %s refused" % (kind, key))
            want = "attribute key '%s' is not supported by sluice" % key
            check(want in msg, "%s %s: %r lacks %r" % (kind, key, msg, want))
            m = TF_DROP.search(msg)
            check(m is not None and m.group(2) == key,
                  "Terraform's drop-key pattern matches the refusal of %s" % key)
            continue
        check(cur is not None, "%s %s not described" % (kind, key))
        if text.startswith("only "):
            allowed = ["" if v == '""' else v
                       for v in re.findall(r"`([^`]*)`", text.split(":")[0])]
            for v in allowed:
                code, msg, _ = modify(kind, key, v)
                check(code is None, "%s %s=%r accepted: %s" % (kind, key, v, msg))
            bad = another(allowed[0])
            if bad in allowed:
                bad = "x"
            code, msg, _ = modify(kind, key, bad)
            want = "attribute '%s' is not supported by sluice" % key
            check(code in ("ValidationError", "InvalidConfigurationRequest") and
                  (want in msg or "not valid" in msg or "cannot be disabled" in msg),
                  "%s %s=%r refused: %s %s" % (kind, key, bad, code, msg))
            if want in msg:
                check(TF_DROP.search(msg) is None,
                      "a refused value is no key Terraform would drop: %s" % msg)
        else:
            code, msg, _ = modify(kind, key, cur)
            check(code is None, "%s %s=%r accepted: %s" % (kind, key, cur, msg))
    for key in readme_other_type_keys():
        if "*" in key:
            continue
        kind = "listener" if key.startswith(("tcp.", "routing.http.request")) else \
            "load balancer" if key.startswith(("dns_record", "secondary_ips")) else \
            "target group"
        code, msg, _ = modify(kind, key, "true")
        check(code == "ValidationError" and "is not supported %s" % KINDS[kind][2] in msg,
              "%s %s refused as AWS does: %s" % (kind, key, msg))
    code, msg, _ = modify("load balancer", "no.such.key", "1")
    check_eq(msg, "Load balancer attribute key 'no.such.key' is not recognized", "unknown key")
    check(TF_DROP.search(msg) is not None, "Terraform drops an unknown key")


def test_listener_attributes():
    code, msg, _ = modify("listener", "routing.http.response.server.enabled", "false")
    check(code is None, "Terraform's create-time listener attribute accepted: %s" % msg)
    check_eq(describe("listener")["routing.http.response.server.enabled"], "false", "kept")
    code, msg, _ = query("DescribeListenerAttributes", ListenerArn=KINDS["listener"][1][
        "ListenerArn"] + "0")
    check_eq(code, "ListenerNotFound", "unknown listener")


def test_load_balancer_sets(lb):
    text = ok("SetSecurityGroups", LoadBalancerArn=lb, SecurityGroups=["sg-1", "sg-2"])
    check_eq(values(text, "member"), ["sg-1", "sg-2"], "SecurityGroupIds")
    text = ok("DescribeLoadBalancers", LoadBalancerArns=[lb])
    check("<member>sg-2</member>" in text, "security groups kept")
    text = ok("SetSubnets", LoadBalancerArn=lb, Subnets=["subnet-x", "subnet-y"])
    check_eq(values(text, "SubnetId"), ["subnet-x", "subnet-y"], "zones from the subnets")
    check_eq(values(ok("DescribeLoadBalancers", LoadBalancerArns=[lb]), "SubnetId"),
             ["subnet-x", "subnet-y"], "subnets kept")
    check_eq(values(ok("SetIpAddressType", LoadBalancerArn=lb, IpAddressType="ipv4"),
                    "IpAddressType"), ["ipv4"], "ipv4")
    code, msg, _ = query("SetIpAddressType", LoadBalancerArn=lb, IpAddressType="dualstack")
    check(code == "ValidationError" and "not supported by sluice" in msg, "dualstack: %s" % msg)
    code, msg, _ = query("SetSecurityGroups", LoadBalancerArn=lb, SecurityGroups=["sg-1"],
                         EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic="on")
    check(code == "ValidationError" and "not supported by sluice" in msg,
          "NLB member refused: %s" % msg)
    code, _, _ = query("SetSecurityGroups", LoadBalancerArn=lb + "0", SecurityGroups=["sg-1"])
    check_eq(code, "LoadBalancerNotFound", "unknown load balancer")
    # Capacity: nothing reserved, nothing to reserve.
    text = ok("DescribeCapacityReservation", LoadBalancerArn=lb)
    check("MinimumLoadBalancerCapacity" not in text, "no reservation shown")
    ok("ModifyCapacityReservation", LoadBalancerArn=lb, ResetCapacityReservation=True)
    code, msg, _ = query("ModifyCapacityReservation", LoadBalancerArn=lb,
                         MinimumLoadBalancerCapacity={"CapacityUnits": 100})
    check(code == "ValidationError" and "not supported by sluice" in msg,
          "a reservation refused: %s" % msg)


def test_account():
    limits = dict(zip(values(ok("DescribeAccountLimits"), "Name"),
                      values(ok("DescribeAccountLimits"), "Max")))
    check_eq((limits.get("listeners-per-application-load-balancer"),
              limits.get("rules-per-application-load-balancer"),
              limits.get("target-groups-per-action-on-application-load-balancer")),
             ("50", "100", "5"), "the quotas sluice enforces")
    check("<TrustStores/>" in ok("DescribeTrustStores") or
          "<TrustStores></TrustStores>" in ok("DescribeTrustStores"), "no trust stores")
    code, _, _ = query("DescribeTrustStores", Names=["x"])
    check_eq(code, "TrustStoreNotFound", "a named one is not found")
    code, msg, _ = query("CreateTrustStore", Name="x", CaCertificatesBundleS3Bucket="b",
                         CaCertificatesBundleS3Key="k")
    check(code == "InvalidAction" and "not supported by sluice" in msg,
          "InvalidAction with the reason: %s" % msg)


def test_target_groups():
    # As Terraform creates an HTTP group: ProtocolVersion sent empty.
    text = ok("CreateTargetGroup", Name="tf-tg", Protocol="HTTP", ProtocolVersion="", Port=80,
              VpcId="vpc-1", TargetType="ip", HealthCheckPort="traffic-port")
    check_eq(values(text, "ProtocolVersion"), ["HTTP1"], "empty ProtocolVersion: HTTP1")
    for params, what in (({"Protocol": "TCP"}, "an NLB protocol"),
                         ({"ProtocolVersion": "GRPC"}, "gRPC"),
                         ({"HealthCheckProtocol": "TCP"}, "TCP health checks"),
                         ({"Matcher": {"GrpcCode": "12"}}, "a gRPC matcher")):
        p = dict({"Name": "tg-x", "Protocol": "HTTP", "Port": 80, "VpcId": "vpc-1"}, **params)
        code, msg, _ = query("CreateTargetGroup", **p)
        check(code == "ValidationError" and "not supported by sluice" in msg,
              "%s refused: %s %s" % (what, code, msg))
    code, msg, _ = query("CreateTargetGroup", Name="a--b", Protocol="HTTP", Port=80,
                         VpcId="vpc-1")
    check(code == "ValidationError" and "(?!.*--)" in msg, "'--' refused: %s" % msg)
    tg = values(text, "TargetGroupArn")[0]
    ok("RegisterTargets", TargetGroupArn=tg, Targets=[{"Id": "10.1.0.1", "Port": 81}])
    text = ok("DescribeTargetHealth", TargetGroupArn=tg,
              Targets=[{"Id": "10.1.0.1", "Port": 81}, {"Id": "10.1.0.2", "Port": 82}])
    check_eq(values(text, "HealthCheckPort"), ["81", "82"],
             "HealthCheckPort on every description, registered or not")
    code, msg, _ = query("DescribeTargetHealth", TargetGroupArn=tg, Include=["AnomalyDetection"])
    check(code == "ValidationError" and "Include is not supported by sluice" in msg,
          "Include refused: %s" % msg)


def main():
    global S
    with Sluiced(extra_args=["--runtime", "none"]) as S:
        lb, tg, lst = setup()
        for fn in (test_attribute_table, test_listener_attributes,
                   lambda: test_load_balancer_sets(lb), test_account, test_target_groups):
            run_case(fn)
    report()


if __name__ == "__main__":
    main()
