"""The container service story of test_ecs_docker_service.py (see
docker_service.py for the cases) against Podman's Docker-compatible API
(`podman system service` with its own storage, CNI network config, bridge
and address range; runc, cgroupfs, lower default ulimits).  What Podman's
CNI plugins change on the machine (sysctls, iptables chains, the bridge) is
put back when it stops.  If Podman cannot start, the test fails."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import check, report  # noqa: E402
import docker_util  # noqa: E402
from docker_service import Story  # noqa: E402


def main():
    t0 = time.time()
    engine = docker_util.Podman()
    try:
        engine.start()
        images = docker_util.build_images(engine.api)
        print("podman up and images built in %.1f s" % (time.time() - t0), flush=True)
        Story(engine, images).run("podman")
    except Exception as e:  # noqa: BLE001 - an engine that cannot start fails the test
        check(False, "podman service test: %r\n%s" % (e, engine.log_tail()))
    finally:
        engine.stop()
    report()


if __name__ == "__main__":
    main()
