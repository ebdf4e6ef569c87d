"""A listener whose port another process holds: sluice-proxy logs it once,
retries binding every second, and reports it; meanwhile
DescribeLoadBalancers shows the load balancer active_impaired with a Reason
naming the port and the error, and active again once the port is free and
bound - with no other change to the configuration."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import Sluiced, check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, get, wait_for  # noqa: E402

S = P = ELB = None


def state(arn):
    lb = ELB.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    return lb["State"]


def test_port_taken_then_freed():
    port = free_port()
    squatter = socket.socket()  # no SO_REUSEPORT: the proxy's bind fails
    squatter.bind(("127.0.0.1", port))
    squatter.listen(8)
    lb = ELB.create_load_balancer(Name="busy", Scheme="internal")["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    ELB.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=port, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "bound"}}])
    other = free_port()  # a second load balancer, bound at once, stays active
    lb2 = ELB.create_load_balancer(Name="free", Scheme="internal")["LoadBalancers"][0]
    ELB.create_listener(LoadBalancerArn=lb2["LoadBalancerArn"], Protocol="HTTP", Port=other,
                        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                            "StatusCode": "200", "MessageBody": "other"}}])
    try:
        check(wait_for(lambda: state(arn)["Code"] == "active_impaired", 15, 0.2),
              "a listener that cannot bind makes its load balancer active_impaired: %r"
              % state(arn))
        reason = state(arn).get("Reason", "")
        check("port %d" % port in reason and "Address already in use" in reason,
              "the Reason names the port and the error: %r" % reason)
        check(wait_for(lambda: get(other)[0] == 200, 10), "the other listener serves")
        check_eq(state(lb2["LoadBalancerArn"]), {"Code": "active"}, "the other load balancer")
        time.sleep(2.5)  # retries happen, quietly
        log = P.read_log(20000)
        check_eq(log.count("cannot listen on 127.0.0.1:%d" % port), 1,
                 "the failure is logged once, not at every retry")
    finally:
        squatter.close()
    check(wait_for(lambda: get(port)[0] == 200, 5, 0.1),
          "the port is bound within seconds of being freed, with no API change")
    check(wait_for(lambda: state(arn) == {"Code": "active"}, 10, 0.2),
          "the load balancer is active again: %r" % state(arn))


def main():
    global S, P, ELB
    with Sluiced(no_proxy=True) as s:
        S = s
        ELB = s.boto3()
        P = Proxy(s, extra=["--log-level", "info"])
        try:
            run_case(test_port_taken_then_freed)
        finally:
            check_eq(P.stop(), 0, "sluice-proxy exits 0 on SIGTERM")
    report()


if __name__ == "__main__":
    main()
