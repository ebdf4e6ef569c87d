"""An acknowledged write survives kill -9; restart reloads everything; writes
racing a kill are either fully there or fully absent."""
import threading

from sluice_harness import Sluiced, check, check_eq, report, run_case


def test_kill9_keeps_acknowledged():
    s = Sluiced()
    s.start()
    try:
        c = s.boto3()
        tg = c.create_target_group(Name="durable", Protocol="HTTP", Port=8080,
                                   VpcId="vpc-1", TargetType="ip")["TargetGroups"][0]
        arn = tg["TargetGroupArn"]
        c.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "17"}])
        c.add_tags(ResourceArns=[arn], Tags=[{"Key": "team", "Value": "core"}])
        acked = []
        stop = threading.Event()

        def writer(base):
            cc = s.boto3()
            i = 0
            while not stop.is_set() and i < 200:
                ip = "10.%d.%d.%d" % (base, i // 250, i % 250 + 1)
                try:
                    cc.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 80}])
                    acked.append(ip)
                except Exception:  # noqa: BLE001 - the kill cuts requests off
                    return
                i += 1

        threads = [threading.Thread(target=writer, args=(b,)) for b in (1, 2, 3, 4)]
        for t in threads:
            t.start()
        while len(acked) < 100:
            threading.Event().wait(0.01)
        s.kill9()
        stop.set()
        for t in threads:
            t.join()
        s.start()
        c = s.boto3()
        got = {d["Target"]["Id"] for d in
               c.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}
        missing = set(acked) - got
        check(not missing, "every acknowledged registration survived kill -9 (%d acked, %d "
              "missing)" % (len(acked), len(missing)))
        attrs = {a["Key"]: a["Value"] for a in
                 c.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
        check_eq(attrs["deregistration_delay.timeout_seconds"], "17", "attribute survived")
        tags = c.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        check_eq(tags, [{"Key": "team", "Value": "core"}], "tags survived")
        tg2 = c.describe_target_groups(Names=["durable"])["TargetGroups"][0]
        check_eq(tg2["TargetGroupArn"], arn, "same ARN after restart")
    finally:
        s.cleanup()


run_case(test_kill9_keeps_acknowledged)
report()
