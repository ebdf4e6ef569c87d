"""sluiced's API log lines and API and store metrics, against a real sluiced
driven by real clients (boto3 for ELBv2 Query and ECS JSON 1.1, plain HTTP
for REST): each answered request logs its action (or its REST route with
ids replaced), status, duration, principal (the signing access key, or the
bearer token's) and request id, as text and as --log-format json; the same
labels count in sluice_api_requests_total and the latency histogram; the
store's commit latency and batch sizes are histograms that move with
writes."""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from obs_util import parse_prom, value  # noqa: E402

CREDS = None


def metrics(s, headers=None):
    st, _, body = s.http("GET", "/metrics", headers=headers)
    check_eq(st, 200, "GET /metrics")
    return parse_prom(body.decode())[0]


def json_lines(s):
    out = []
    for ln in s.read_log(tail=0).splitlines():
        if ln.startswith("{"):
            out.append(json.loads(ln))
    return out


def test_json_lines_and_metrics():
    from botocore.exceptions import ClientError
    with Sluiced(extra_args=["--credentials", CREDS, "--log-format", "json"]) as s:
        elb = s.boto3(key="AKIDLOGGED", secret="logged-secret")
        ecs = s.boto3("ecs", key="AKIDLOGGED", secret="logged-secret")
        r = elb.create_load_balancer(Name="logged", Scheme="internal")
        rid = r["ResponseMetadata"]["RequestId"]
        ecs.create_cluster(clusterName="logged")
        try:
            elb.describe_target_groups(Names=["nope"])
            check(False, "an unknown target group was found")
        except ClientError:
            pass
        bearer = {"Authorization": "Bearer log-token"}
        st, _, _ = s.http("GET", "/v1/target-groups/no-such-group", headers=bearer)
        check_eq(st, 404, "REST GET of a missing group")
        st, _, _ = s.http("POST", "/", raw=b"Action=NoSuchAction&Version=2015-12-01",
                          headers=dict(bearer, **{"Content-Type":
                                                  "application/x-www-form-urlencoded"}))
        check(st in (400, 403), "an unknown action refused: %d" % st)
        m = metrics(s, bearer)

        lines = json_lines(s)
        create = [x for x in lines if x.get("action") == "CreateLoadBalancer"]
        check_eq(len(create), 1, "one line for CreateLoadBalancer")
        if create:
            x = create[0]
            check_eq(x["status"], 200, "its status")
            check_eq(x["principal"], "AKIDLOGGED", "its principal: the signing key")
            check_eq(x["request_id"], rid, "its request id is the one the client got")
            check(isinstance(x["duration_ms"], (int, float)) and x["duration_ms"] >= 0,
                  "its duration")
            check_eq(x["level"], "info", "API lines are info")
            check(re.fullmatch(r"CreateLoadBalancer 200 \d+\.\d ms principal AKIDLOGGED "
                               r"request " + re.escape(rid), x["msg"]), "the message: %r" %
                  x["msg"])
        check(any(x.get("action") == "CreateCluster" and x.get("status") == 200 for x in lines),
              "the ECS action is named")
        check(any(x.get("action") == "DescribeTargetGroups" and x.get("status") == 400
                  for x in lines), "a refused call is logged with its status")
        rest = [x for x in lines if x.get("action") == "GET /v1/target-groups/{id}"]
        check(rest and rest[0]["status"] == 404 and rest[0]["principal"] == "AKIDLOGGED",
              "a REST call names its route and the bearer token's key: %r" % rest[:1])
        check(not any("no-such-group" in (x.get("action") or "") for x in lines),
              "ids are not in the label")
        check(not any(x.get("path") == "/metrics" and x.get("level") == "info" for x in lines),
              "a scrape is not logged at info")

        check_eq(value(m, "sluice_api_requests_total", action="CreateLoadBalancer",
                       status="200"), 1.0, "requests_total of CreateLoadBalancer")
        check_eq(value(m, "sluice_api_requests_total", action="CreateCluster", status="200"),
                 1.0, "requests_total of CreateCluster")
        check_eq(value(m, "sluice_api_requests_total", action="DescribeTargetGroups",
                       status="400"), 1.0, "requests_total of the refused call")
        check_eq(value(m, "sluice_api_requests_total", action="GET /v1/target-groups/{id}",
                       status="404"), 1.0, "requests_total of the REST route")
        check_eq(value(m, "sluice_api_request_duration_seconds_count",
                       action="CreateLoadBalancer"), 1.0, "the latency histogram's count")
        check_eq(value(m, "sluice_api_request_duration_seconds_bucket",
                       action="CreateLoadBalancer", le="+Inf"), 1.0, "its +Inf bucket")
        commits = value(m, "sluice_store_commit_duration_seconds_count")
        check(commits is not None and commits >= 2, "store commits counted: %r" % commits)
        check_eq(value(m, "sluice_store_commit_duration_seconds_bucket", le="+Inf"), commits,
                 "the commit histogram's +Inf bucket is its count")
        batches = value(m, "sluice_store_commit_batch_size_count")
        items = value(m, "sluice_store_commit_batch_size_sum")
        check(batches is not None and batches >= 1 and items >= batches,
              "batches counted, each of one write or more: %r %r" % (batches, items))

        # a write moves the store's histograms
        elb.create_target_group(Name="more", Protocol="HTTP", Port=80, VpcId="vpc-1",
                                TargetType="ip")
        m2 = metrics(s, bearer)
        check(value(m2, "sluice_store_commit_duration_seconds_count") > commits,
              "a write is counted")


def test_text_lines():
    with Sluiced() as s:
        elb = s.boto3()
        r = elb.describe_load_balancers()
        rid = r["ResponseMetadata"]["RequestId"]
        log = s.read_log(tail=0)
        check(re.search(r"DescribeLoadBalancers 200 \d+\.\d ms principal - request " +
                        re.escape(rid), log), "the text line: %s" % log[-1500:])


def main():
    global CREDS
    f = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
    f.write("[default]\naws_access_key_id = AKIDLOGGED\naws_secret_access_key = logged-secret\n"
            "sluice_api_token = log-token\n")
    f.close()
    CREDS = f.name
    try:
        for fn in (test_json_lines_and_metrics, test_text_lines):
            run_case(fn)
    finally:
        os.unlink(CREDS)
    report()


if __name__ == "__main__":
    main()
