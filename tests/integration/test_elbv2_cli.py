"""Every ELBv2 action through the real AWS CLI v2 (/usr/bin/aws), the way a
user walks through a first load balancer, plus the CLI's waiters."""
from sluice_harness import Sluiced, check, check_eq, report, run_case


def test_first_load_balancer():
    with Sluiced() as s:
        _, out, _ = s.aws("elbv2", "create-load-balancer", "--name", "demo",
                          "--subnets", "subnet-a", "subnet-b", "--scheme", "internal",
                          "--tags", "Key=env,Value=dev")
        lb = out["LoadBalancers"][0]
        lb_arn = lb["LoadBalancerArn"]
        check(lb_arn.startswith("arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                                "loadbalancer/app/demo/"), "LB ARN shape: " + lb_arn)
        check(lb["DNSName"].startswith("internal-demo-") and
              lb["DNSName"].endswith(".us-east-1.elb.amazonaws.com"), "DNS name " + lb["DNSName"])
        check_eq(lb["State"]["Code"], "active", "LB state")
        check_eq(lb["Scheme"], "internal", "scheme kept")
        check("CreatedTime" in lb, "CreatedTime present")
        rc, _, _ = s.aws("elbv2", "wait", "load-balancer-available",
                         "--load-balancer-arns", lb_arn)
        check_eq(rc, 0, "load-balancer-available waiter")

        _, out, _ = s.aws("elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP",
                          "--port", "8080", "--vpc-id", "vpc-1", "--target-type", "ip",
                          "--health-check-path", "/health", "--health-check-interval-seconds",
                          "5", "--health-check-timeout-seconds", "2", "--matcher",
                          "HttpCode=200-299")
        tg = out["TargetGroups"][0]
        tg_arn = tg["TargetGroupArn"]
        check("targetgroup/web/" in tg_arn, "TG ARN " + tg_arn)
        check_eq(tg["HealthCheckIntervalSeconds"], 5, "interval")
        check_eq(tg["HealthCheckTimeoutSeconds"], 2, "timeout")
        check_eq(tg["Matcher"]["HttpCode"], "200-299", "matcher")
        check_eq(tg["HealthyThresholdCount"], 5, "default healthy threshold")

        _, out, _ = s.aws("elbv2", "register-targets", "--target-group-arn", tg_arn,
                          "--targets", "Id=127.0.0.1,Port=9001", "Id=127.0.0.1,Port=9002")
        _, out, _ = s.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)
        states = {(d["Target"]["Id"], d["Target"]["Port"]): d["TargetHealth"]
                  for d in out["TargetHealthDescriptions"]}
        check_eq(len(states), 2, "two targets registered")
        check_eq(states[("127.0.0.1", 9001)].get("State"), "unused",
                 "unused while no rule uses the group")
        check_eq(states[("127.0.0.1", 9001)].get("Reason"), "Target.NotInUse", "NotInUse reason")

        _, out, _ = s.aws("elbv2", "create-listener", "--load-balancer-arn", lb_arn,
                          "--protocol", "HTTP", "--port", "18080", "--default-actions",
                          "Type=forward,TargetGroupArn=" + tg_arn)
        listener = out["Listeners"][0]
        l_arn = listener["ListenerArn"]
        check(":listener/app/demo/" in l_arn, "listener ARN " + l_arn)
        _, out, _ = s.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)
        check(all(d["TargetHealth"]["State"] == "initial" for d in
                  out["TargetHealthDescriptions"]), "initial once a listener uses the group")
        check(all(d["TargetHealth"].get("Reason") == "Elb.RegistrationInProgress" for d in
                  out["TargetHealthDescriptions"]), "RegistrationInProgress reason")
        _, out, _ = s.aws("elbv2", "describe-target-groups", "--target-group-arns", tg_arn)
        check_eq(out["TargetGroups"][0]["LoadBalancerArns"], [lb_arn], "TG knows its LB")

        _, out, _ = s.aws("elbv2", "describe-rules", "--listener-arn", l_arn)
        check_eq(len(out["Rules"]), 1, "default rule created with the listener")
        check_eq(out["Rules"][0]["Priority"], "default", "default priority")
        check_eq(out["Rules"][0]["IsDefault"], True, "IsDefault")

        _, out, _ = s.aws("elbv2", "create-target-group", "--name", "api", "--protocol",
                          "HTTP", "--port", "9000", "--vpc-id", "vpc-1", "--target-type", "ip")
        api_arn = out["TargetGroups"][0]["TargetGroupArn"]
        _, out, _ = s.aws("elbv2", "create-rule", "--listener-arn", l_arn, "--priority", "10",
                          "--conditions", "Field=path-pattern,Values=/api/*",
                          "--actions", "Type=forward,TargetGroupArn=" + api_arn)
        rule = out["Rules"][0]
        check_eq(rule["Priority"], "10", "rule priority is a string")
        check_eq(rule["Conditions"][0]["Field"], "path-pattern", "condition field")
        rc, _, err = s.aws("elbv2", "create-rule", "--listener-arn", l_arn, "--priority", "10",
                           "--conditions", "Field=host-header,Values=a.example.com",
                           "--actions", "Type=forward,TargetGroupArn=" + api_arn,
                           check_rc=False)
        check(rc != 0 and "PriorityInUse" in err, "PriorityInUse: " + err)
        _, out, _ = s.aws("elbv2", "create-rule", "--listener-arn", l_arn, "--priority", "20",
                          "--conditions",
                          '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"X-Env",'
                          '"Values":["canary"]}},{"Field":"http-request-method",'
                          '"HttpRequestMethodConfig":{"Values":["GET","HEAD"]}}]',
                          "--actions",
                          '[{"Type":"forward","ForwardConfig":{"TargetGroups":['
                          '{"TargetGroupArn":"%s","Weight":80},{"TargetGroupArn":"%s",'
                          '"Weight":20}]}}]' % (tg_arn, api_arn))
        r2 = out["Rules"][0]["RuleArn"]
        _, out, _ = s.aws("elbv2", "create-rule", "--listener-arn", l_arn, "--priority", "30",
                          "--conditions",
                          '[{"Field":"query-string","QueryStringConfig":{"Values":'
                          '[{"Key":"v","Value":"2"}]}},{"Field":"source-ip",'
                          '"SourceIpConfig":{"Values":["127.0.0.0/8"]}}]',
                          "--actions",
                          '[{"Type":"fixed-response","FixedResponseConfig":{"StatusCode":"418",'
                          '"ContentType":"text/plain","MessageBody":"teapot"}}]')
        r3 = out["Rules"][0]["RuleArn"]
        _, out, _ = s.aws("elbv2", "create-rule", "--listener-arn", l_arn, "--priority", "40",
                          "--conditions", "Field=host-header,Values=old.example.com",
                          "--actions",
                          '[{"Type":"redirect","RedirectConfig":{"Host":"new.example.com",'
                          '"StatusCode":"HTTP_301"}}]')
        _, out, _ = s.aws("elbv2", "describe-rules", "--listener-arn", l_arn)
        check_eq([r["Priority"] for r in out["Rules"]], ["10", "20", "30", "40", "default"],
                 "rules in priority order, default last")
        _, out, _ = s.aws("elbv2", "set-rule-priorities", "--rule-priorities",
                          "RuleArn=%s,Priority=31" % r2, "RuleArn=%s,Priority=20" % r3)
        _, out, _ = s.aws("elbv2", "describe-rules", "--rule-arns", r2)
        check_eq(out["Rules"][0]["Priority"], "31", "set-rule-priorities moved the rule")
        _, out, _ = s.aws("elbv2", "modify-rule", "--rule-arn", r2, "--conditions",
                          "Field=path-pattern,Values=/v2/*")
        check_eq(out["Rules"][0]["Conditions"][0]["Field"], "path-pattern", "modify-rule")
        default_arn = [r for r in s.aws("elbv2", "describe-rules", "--listener-arn",
                                        l_arn)[1]["Rules"] if r["IsDefault"]][0]["RuleArn"]
        rc, _, err = s.aws("elbv2", "delete-rule", "--rule-arn", default_arn, check_rc=False)
        check(rc != 0 and "OperationNotPermitted" in err, "default rule is protected: " + err)

        rc, _, err = s.aws("elbv2", "delete-target-group", "--target-group-arn", api_arn,
                           check_rc=False)
        check(rc != 0 and "ResourceInUse" in err, "TG used by a rule cannot go: " + err)

        _, out, _ = s.aws("elbv2", "modify-listener", "--listener-arn", l_arn, "--port", "18081")
        check_eq(out["Listeners"][0]["Port"], 18081, "modify-listener port")
        rc, _, err = s.aws("elbv2", "create-listener", "--load-balancer-arn", lb_arn,
                           "--protocol", "HTTP", "--port", "18081", "--default-actions",
                           "Type=forward,TargetGroupArn=" + api_arn, check_rc=False)
        check(rc != 0 and "DuplicateListener" in err, "DuplicateListener: " + err)

        _, out, _ = s.aws("elbv2", "modify-target-group-attributes", "--target-group-arn",
                          tg_arn, "--attributes",
                          "Key=deregistration_delay.timeout_seconds,Value=2")
        attrs = {a["Key"]: a["Value"] for a in out["Attributes"]}
        check_eq(attrs["deregistration_delay.timeout_seconds"], "2", "attribute modified")
        _, out, _ = s.aws("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn",
                          lb_arn, "--attributes", "Key=idle_timeout.timeout_seconds,Value=30")
        _, out, _ = s.aws("elbv2", "describe-load-balancer-attributes", "--load-balancer-arn",
                          lb_arn)
        attrs = {a["Key"]: a["Value"] for a in out["Attributes"]}
        check_eq(attrs["idle_timeout.timeout_seconds"], "30", "LB attribute modified")

        # Draining then gone: the target-deregistered waiter returns.
        s.aws("elbv2", "deregister-targets", "--target-group-arn", tg_arn, "--targets",
              "Id=127.0.0.1,Port=9001")
        _, out, _ = s.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn,
                          "--targets", "Id=127.0.0.1,Port=9001")
        th = out["TargetHealthDescriptions"][0]["TargetHealth"]
        check_eq(th["State"], "draining", "deregistered target drains")
        check_eq(th.get("Reason"), "Target.DeregistrationInProgress", "draining reason")
        rc, _, err = s.aws("elbv2", "wait", "target-deregistered", "--target-group-arn", tg_arn,
                           "--targets", "Id=127.0.0.1,Port=9001", check_rc=False)
        check_eq(rc, 0, "target-deregistered waiter after the 2 s delay: " + err)

        _, out, _ = s.aws("elbv2", "add-tags", "--resource-arns", tg_arn, l_arn, "--tags",
                          "Key=a,Value=1", "Key=b,Value=2")
        s.aws("elbv2", "remove-tags", "--resource-arns", tg_arn, "--tag-keys", "a")
        _, out, _ = s.aws("elbv2", "describe-tags", "--resource-arns", tg_arn, l_arn, lb_arn)
        tags = {d["ResourceArn"]: d["Tags"] for d in out["TagDescriptions"]}
        check_eq(tags[tg_arn], [{"Key": "b", "Value": "2"}], "tags after remove")
        check_eq(len(tags[l_arn]), 2, "listener tags")
        check_eq(tags[lb_arn], [{"Key": "env", "Value": "dev"}], "LB tags from create")

        # Tear down in dependency order.
        s.aws("elbv2", "delete-listener", "--listener-arn", l_arn)
        _, out, _ = s.aws("elbv2", "describe-listeners", "--load-balancer-arn", lb_arn)
        check_eq(out["Listeners"], [], "listener deleted")
        s.aws("elbv2", "delete-target-group", "--target-group-arn", api_arn)
        s.aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lb_arn)
        rc, _, err = s.aws("elbv2", "describe-load-balancers", "--load-balancer-arns", lb_arn,
                           check_rc=False)
        check(rc != 0 and "LoadBalancerNotFound" in err, "LB gone: " + err)


def test_pagination():
    with Sluiced() as s:
        c = s.boto3()
        for i in range(7):
            c.create_target_group(Name="pg%d" % i, Protocol="HTTP", Port=80, VpcId="vpc-1")
        page = c.describe_target_groups(PageSize=3)
        check_eq(len(page["TargetGroups"]), 3, "first page")
        check("NextMarker" in page, "NextMarker on a partial page")
        seen = [t["TargetGroupName"] for t in page["TargetGroups"]]
        while "NextMarker" in page:
            page = c.describe_target_groups(PageSize=3, Marker=page["NextMarker"])
            seen += [t["TargetGroupName"] for t in page["TargetGroups"]]
        check_eq(sorted(seen), ["pg%d" % i for i in range(7)], "all pages, no repeats")
        # boto3's paginator follows NextMarker by itself.
        pages = list(c.get_paginator("describe_target_groups").paginate(
            PaginationConfig={"PageSize": 2}))
        check_eq(len(pages), 4, "paginator pages")
        check_eq(sum(len(p["TargetGroups"]) for p in pages), 7, "paginator total")
        _, out, _ = s.aws("elbv2", "describe-target-groups")
        check_eq(len(out["TargetGroups"]), 7, "CLI lists all")


def test_fast_health_check_extension():
    """Intervals and timeouts down to 1 s (AWS's minimums are 5 and 2): the CLI
    validates against the AWS model client-side, so boto3 without client-side
    validation and the REST API are the ways in."""
    with Sluiced() as s:
        import boto3
        from botocore.config import Config
        c = boto3.client("elbv2", endpoint_url=s.url, region_name="us-east-1",
                         aws_access_key_id="x", aws_secret_access_key="y",
                         config=Config(parameter_validation=False))
        tg = c.create_target_group(Name="fast", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                   HealthCheckIntervalSeconds=1,
                                   HealthCheckTimeoutSeconds=1)["TargetGroups"][0]
        check_eq(tg["HealthCheckIntervalSeconds"], 1, "interval down to 1 s")
        check_eq(tg["HealthCheckTimeoutSeconds"], 1, "timeout down to 1 s")
        try:
            c.create_target_group(Name="fast2", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                  HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=2)
            check(False, "timeout above interval must fail")
        except c.exceptions.ClientError as e:
            check_eq(e.response["Error"]["Code"], "ValidationError", "timeout > interval")
        st, _, body = s.http("POST", "/v1/target-groups", {
            "id": "fast3", "Name": "fast3", "Port": 80, "HealthCheckIntervalSeconds": 1,
            "HealthCheckTimeoutSeconds": 1})
        check_eq(st, 201, "REST create with 1 s checks")
        check_eq(body.get("HealthCheckIntervalSeconds"), 1, "REST interval")


run_case(test_first_load_balancer)
run_case(test_pagination)
run_case(test_fast_health_check_extension)
report()
