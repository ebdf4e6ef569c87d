"""test_proxy_drain.py once more, every case and every check, with its listeners HTTPS (a
certificate from RequestCertificate, sluiced's local CA): clients send SNI and verify
the chain and the name (listener_mode.py). The plain-HTTP pass is test_proxy_drain.py
itself."""
import os
import sys

os.environ["SLUICE_IT_LISTENER"] = "https"  # read when the suite is imported
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_proxy_drain  # noqa: E402

if __name__ == "__main__":
    if not test_proxy_drain.L.https:  # else the HTTP pass again
        sys.exit("listener mode is %r, not https" % test_proxy_drain.L.mode)
    test_proxy_drain.main()
