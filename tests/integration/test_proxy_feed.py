"""sluice-proxy against a scripted control plane speaking the feed (not
sluiced): a revision is applied only once complete (a heartbeat or a later
record); a record that does not decode makes the proxy re-read the
snapshot, and a snapshot that does not decode (another feed_version, a bad
member) is refused whole and logged while the last table keeps serving;
the decoder's messages name what was wrong."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import check, check_eq, report, run_case  # noqa: E402
from proxy_util import Proxy, free_port, get, wait_for  # noqa: E402
from feed_cp import FakeControlPlane  # noqa: E402


def obj_lb():
    return {"id": "b", "arn": "arn:b", "scheme": "internal", "idle_timeout_seconds": 60}


def obj_listener(port):
    return {"id": "l", "arn": "arn:l", "load_balancer_id": "b", "port": port, "protocol": "HTTP"}


def obj_rule(body, prio=None):
    r = {"id": "r" if prio else "d", "arn": "arn:r", "listener_id": "l",
         "is_default": prio is None, "conditions": [],
         "actions": [{"type": "fixed-response", "order": 1, "status_code": 200,
                      "content_type": "text/plain", "message_body": body}]}
    if prio:
        r["priority"] = prio
        r["conditions"] = [{"field": "path-pattern", "values": ["/p"]}]
    return r


def snapshot(port, rev, body, version=1):
    return {"feed_version": version, "revision": rev, "load_balancers": [obj_lb()],
            "listeners": [obj_listener(port)], "rules": [obj_rule(body)],
            "target_groups": [], "targets": []}


def record(rev, kind, obj=None, op="put", rid=None):
    r = {"feed_version": 1, "rev": rev, "kind": kind, "op": op, "id": rid or obj["id"]}
    if obj is not None:
        r["object"] = obj
    return r


def body_at(port, path="/"):
    try:
        st, _, b = get(port, path, timeout=2)
        return b if st == 200 else st
    except OSError:
        return None


def test_feed_contract():
    cp = FakeControlPlane()
    port = free_port()
    cp.snap = snapshot(port, 4, "one")
    p = Proxy(cp)
    try:
        check(wait_for(lambda: body_at(port) == "one", 10), "the snapshot is served")
        check(wait_for(lambda: cp.watches == 1, 5), "then the watch")
        # revision 5: a rule, its heartbeat held back
        cp.send(record(5, "rule", obj_rule("five", prio=3)))
        time.sleep(0.5)
        check_eq(body_at(port, "/p"), "one", "an incomplete revision is not applied")
        cp.send({"feed_version": 1, "kind": "heartbeat", "rev": 5})
        check(wait_for(lambda: body_at(port, "/p") == "five", 5), "applied once complete")
        # a record of a later revision completes the one before it
        cp.send(record(6, "rule", obj_rule("six", prio=3)))
        cp.send(record(7, "rule", None, op="delete", rid="r"))
        check(wait_for(lambda: body_at(port, "/p") == "six", 5),
              "revision 6 applied when revision 7 starts")
        check_eq(body_at(port, "/"), "one", "revision 7 waits")
        # a record that does not decode: the snapshot is read again
        cp.snap = snapshot(port, 9, "nine")
        cp.send(record(8, "target", {"id": "g|10.0.0.1|80", "Target": {"Id": "10.0.0.1"},
                                          "_state": "registered"}))
        check(wait_for(lambda: cp.snapshots >= 2, 5), "a refused record re-reads the snapshot")
        check(wait_for(lambda: body_at(port) == "nine", 5), "and the new snapshot serves")
        check(wait_for(lambda: cp.watches == 2, 5), "and the watch resumes")
        check(wait_for(lambda: "member 'target_group_id' must be a non-empty string" in
                       p.read_log(), 5), "the log names the bad member: %s" % p.read_log()[-600:])
        check_eq(body_at(port, "/p"), "nine", "revision 7's delete was part of the snapshot")
        # another feed_version: refused whole, the last table keeps serving
        cp.snap = snapshot(port, 12, "twelve", version=2)
        n = cp.snapshots
        cp.send({"feed_version": 1, "kind": "gone", "rev": 11})
        check(wait_for(lambda: cp.snapshots > n + 1, 10), "a refused snapshot is retried")
        check_eq(body_at(port), "nine", "the last table keeps serving")
        check("feed_version 2: this proxy reads feed_version 1" in p.read_log(),
              "the version mismatch is logged: %s" % p.read_log()[-600:])
        # a snapshot with one bad object changes nothing
        bad = snapshot(port, 13, "thirteen")
        bad["targets"] = [{"id": "g|1|80", "target_group_id": "g", "address": "10.0.0.1",
                           "port": 0, "state": "registered"}]
        cp.snap = bad
        n = cp.snapshots
        check(wait_for(lambda: cp.snapshots > n and "member 'port' must be an integer 1-65535"
                       in p.read_log(), 10), "a bad member in a snapshot is named")
        check_eq(body_at(port), "nine", "nothing of that snapshot applied")
        cp.snap = snapshot(port, 14, "fourteen")
        check(wait_for(lambda: body_at(port) == "fourteen", 10), "a good snapshot again serves")
        check_eq(p.proc.poll(), None, "the proxy never stopped")
    finally:
        cp.close()
        p.stop()
        os.unlink(p.log_path)


run_case(test_feed_contract)
report()
