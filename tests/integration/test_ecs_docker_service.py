"""ECS services as real containers through a private dockerd (see
docker_service.py for the cases): dynamic host ports behind a listener rule,
a rolling update under load with no failed request, the circuit breaker's
rollback, a killed container replaced, adoption after a sluiced restart, and
the logs of removed containers.  The dockerd is started and stopped here
(its own bridge and address range, no iptables changes); if it cannot start,
the test fails."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from sluice_harness import check, report  # noqa: E402
import docker_util  # noqa: E402
from docker_service import Story  # noqa: E402


def main():
    t0 = time.time()
    engine = docker_util.Dockerd()
    try:
        engine.start()
        images = docker_util.build_images(engine.api)
        print("dockerd up and images built in %.1f s" % (time.time() - t0), flush=True)
        Story(engine, images).run("docker")
    except Exception as e:  # noqa: BLE001 - an engine that cannot start fails the test
        check(False, "docker service test: %r\n%s" % (e, engine.log_tail()))
    finally:
        engine.stop()
    report()


if __name__ == "__main__":
    main()
