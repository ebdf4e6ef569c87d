"""ELBv2 error codes through boto3: each bad call gets AWS's code, HTTP 400,
and changes nothing."""
from botocore.exceptions import ClientError

from sluice_harness import Sluiced, check, check_eq, report, run_case

FAKE_TG = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/0123456789abcdef"
FAKE_LB = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/nope/0123456789abcdef"
FAKE_L = ("arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/nope/"
          "0123456789abcdef/0123456789abcdef")
FAKE_R = ("arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/nope/"
          "0123456789abcdef/0123456789abcdef/0123456789abcdef")


def expect(code, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check_eq(got, code, "%s error code" % fn.__name__)
        check_eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 400, "%s status" % code)
        return e
    check(False, "%s should fail with %s" % (fn.__name__, code))
    return None


def snapshot(c):
    return (c.describe_load_balancers()["LoadBalancers"],
            c.describe_target_groups()["TargetGroups"])


def test_error_codes():
    with Sluiced() as s:
        c = s.boto3()
        lb = c.create_load_balancer(Name="lb1", Subnets=["subnet-1"])["LoadBalancers"][0]
        tg = c.create_target_group(Name="tg1", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                   TargetType="ip")["TargetGroups"][0]
        lst = c.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
                                DefaultActions=[{"Type": "forward",
                                                 "TargetGroupArn": tg["TargetGroupArn"]}]
                                )["Listeners"][0]
        before = snapshot(c)

        # CreateLoadBalancer and CreateListener are idempotent for identical
        # settings (AWS documents this); different settings conflict.
        same = c.create_load_balancer(Name="lb1", Subnets=["subnet-1"])["LoadBalancers"][0]
        check_eq(same["LoadBalancerArn"], lb["LoadBalancerArn"], "idempotent LB create")
        expect("DuplicateLoadBalancerName", c.create_load_balancer, Name="lb1",
               Subnets=["subnet-1"], Scheme="internal")
        expect("DuplicateTargetGroupName", c.create_target_group, Name="tg1", Protocol="HTTP",
               Port=81, VpcId="vpc-1")
        # The same settings again is idempotent, as on AWS.
        again = c.create_target_group(Name="tg1", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                      TargetType="ip")["TargetGroups"][0]
        check_eq(again["TargetGroupArn"], tg["TargetGroupArn"], "idempotent create")
        expect("DuplicateListener", c.create_listener, LoadBalancerArn=lb["LoadBalancerArn"],
               Protocol="HTTP", Port=8080,
               DefaultActions=[{"Type": "fixed-response",
                                "FixedResponseConfig": {"StatusCode": "404"}}])
        expect("TargetGroupNotFound", c.describe_target_groups, TargetGroupArns=[FAKE_TG])
        expect("TargetGroupNotFound", c.describe_target_groups, Names=["nope"])
        expect("TargetGroupNotFound", c.register_targets, TargetGroupArn=FAKE_TG,
               Targets=[{"Id": "10.0.0.1"}])
        expect("TargetGroupNotFound", c.describe_target_health, TargetGroupArn=FAKE_TG)
        expect("LoadBalancerNotFound", c.describe_load_balancers, LoadBalancerArns=[FAKE_LB])
        expect("LoadBalancerNotFound", c.create_listener, LoadBalancerArn=FAKE_LB,
               Protocol="HTTP", Port=80,
               DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        expect("ListenerNotFound", c.describe_listeners, ListenerArns=[FAKE_L])
        expect("ListenerNotFound", c.create_rule, ListenerArn=FAKE_L, Priority=1,
               Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
               Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        expect("RuleNotFound", c.describe_rules, RuleArns=[FAKE_R])
        expect("RuleNotFound", c.delete_rule, RuleArn=FAKE_R)
        expect("TargetGroupNotFound", c.create_rule, ListenerArn=lst["ListenerArn"], Priority=1,
               Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
               Actions=[{"Type": "forward", "TargetGroupArn": FAKE_TG}])
        expect("ResourceInUse", c.delete_target_group, TargetGroupArn=tg["TargetGroupArn"])
        expect("InvalidTarget", c.register_targets, TargetGroupArn=tg["TargetGroupArn"],
               Targets=[{"Id": "i-0123456789abcdef0", "Port": 80}])
        expect("InvalidTarget", c.register_targets, TargetGroupArn=tg["TargetGroupArn"],
               Targets=[{"Id": "300.1.1.1", "Port": 80}])
        expect("ValidationError", c.create_target_group, Name="bad_name", Protocol="HTTP",
               Port=80, VpcId="vpc-1")
        expect("ValidationError", c.create_target_group, Name="x" * 33, Protocol="HTTP",
               Port=80, VpcId="vpc-1")
        expect("ValidationError", c.create_target_group, Name="hc", Protocol="HTTP", Port=80,
               VpcId="vpc-1", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=6)
        expect("ValidationError", c.create_target_group, Name="hc", Protocol="HTTP", Port=80,
               VpcId="vpc-1", Matcher={"HttpCode": "600"})
        expect("ValidationError", c.modify_target_group_attributes,
               TargetGroupArn=tg["TargetGroupArn"],
               Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "4000"}])
        expect("ValidationError", c.modify_target_group_attributes,
               TargetGroupArn=tg["TargetGroupArn"],
               Attributes=[{"Key": "no.such.attribute", "Value": "1"}])
        expect("ValidationError", c.create_rule, ListenerArn=lst["ListenerArn"], Priority=5,
               Conditions=[{"Field": "bogus-field", "Values": ["x"]}],
               Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        expect("ValidationError", c.create_rule, ListenerArn=lst["ListenerArn"], Priority=5,
               Conditions=[{"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/99"]}}],
               Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        expect("ValidationError", c.create_rule, ListenerArn=lst["ListenerArn"], Priority=5,
               Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
               Actions=[{"Type": "teleport"}])
        rules = c.describe_rules(ListenerArn=lst["ListenerArn"])["Rules"]
        expect("OperationNotPermitted", c.modify_rule, RuleArn=rules[0]["RuleArn"],
               Conditions=[{"Field": "path-pattern", "Values": ["/x"]}])
        check_eq(snapshot(c), before, "nothing changed by any failed call")

        # TooManyTargets at 1,000 per group, atomically.
        big = c.create_target_group(Name="big", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        targets = [{"Id": "10.1.%d.%d" % (i // 250, i % 250 + 1), "Port": 80} for i in range(1000)]
        c.register_targets(TargetGroupArn=big, Targets=targets)
        expect("TooManyTargets", c.register_targets, TargetGroupArn=big,
               Targets=[{"Id": "10.2.0.1", "Port": 80}, {"Id": "10.2.0.2", "Port": 80}])
        n = len(c.describe_target_health(TargetGroupArn=big)["TargetHealthDescriptions"])
        check_eq(n, 1000, "no partial registration past the limit")

        # Deleting an unknown target group or deregistering an unknown target succeeds (AWS).
        c.delete_target_group(TargetGroupArn=FAKE_TG)
        c.deregister_targets(TargetGroupArn=big, Targets=[{"Id": "10.9.9.9", "Port": 80}])
        d = c.describe_target_health(TargetGroupArn=big, Targets=[{"Id": "10.9.9.9", "Port": 80}])
        check_eq(d["TargetHealthDescriptions"][0]["TargetHealth"]["State"], "unused",
                 "unregistered target reads as unused")
        check_eq(d["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"],
                 "Target.NotRegistered", "NotRegistered reason")


run_case(test_error_codes)
report()
