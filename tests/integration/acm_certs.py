"""Test certificates made with the openssl command line: a root and an
intermediate CA, RSA-2048 and ECDSA P-256 leaves (with wildcard SANs) signed
by the intermediate, a self-signed leaf, an expired one, a stray key."""
import os
import subprocess
import tempfile


def _run(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def _ext(cwd, name, text):
    path = os.path.join(cwd, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Certs:
    """Files in a temporary directory: .path(name) -> its path, .read(name)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-acm-certs-")
        d = self.dir
        _ext(d, "ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        _ext(d, "leaf.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,"
                            "keyEncipherment\nextendedKeyUsage=serverAuth\n"
                            "subjectAltName=DNS:www.example.com,DNS:*.example.com\n")
        _ext(d, "ec.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                          "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:ec.example.org\n")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "root.key", "-out", "root.pem", "-days", "30", "-subj", "/CN=Test Root",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=Test Intermediate", cwd=d)
        _run("x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-CAcreateserial", "-days", "30", "-extfile", "ca.ext", "-out", "inter.pem", cwd=d)
        # RSA-2048 leaf for www.example.com and *.example.com, by the intermediate
        _run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out",
             "rsa.csr", "-subj", "/CN=www.example.com/O=Example", cwd=d)
        _run("x509", "-req", "-in", "rsa.csr", "-CA", "inter.pem", "-CAkey", "inter.key",
             "-CAcreateserial", "-days", "20", "-extfile", "leaf.ext", "-out", "rsa.pem", cwd=d)
        # ECDSA P-256 leaf, by the intermediate
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ec.key", "-out", "ec.csr", "-subj", "/CN=ec.example.org", cwd=d)
        _run("x509", "-req", "-in", "ec.csr", "-CA", "inter.pem", "-CAkey", "inter.key",
             "-CAcreateserial", "-days", "20", "-extfile", "ec.ext", "-out", "ec.pem", cwd=d)
        # self-signed, expired, and a key that belongs to nothing
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out",
             "self.pem", "-days", "10", "-subj", "/CN=self.example.net", cwd=d)
        _run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "old.key", "-out",
             "old.csr", "-subj", "/CN=old.example.com", cwd=d)
        _run("x509", "-req", "-in", "old.csr", "-key", "old.key", "-days", "-1", "-out",
             "old.pem", cwd=d)
        _run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
             "stray.key", cwd=d)
        with open(os.path.join(d, "chain.pem"), "wb") as f:
            f.write(self.read("inter.pem") + self.read("root.pem"))
        with open(os.path.join(d, "badchain.pem"), "wb") as f:
            f.write(self.read("root.pem"))  # the root did not issue the leaf
        with open(os.path.join(d, "two.pem"), "wb") as f:
            f.write(self.read("rsa.pem") + self.read("ec.pem"))

    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def dates(self, name):
        """(notBefore, notAfter) as epoch seconds, per openssl."""
        import calendar
        import time as _t
        out = subprocess.run(["openssl", "x509", "-in", self.path(name), "-noout", "-dates"],
                             check=True, capture_output=True, text=True).stdout
        vals = dict(l.split("=", 1) for l in out.strip().splitlines())
        conv = lambda s: calendar.timegm(_t.strptime(s.replace("  ", " "), "%b %d %H:%M:%S %Y GMT"))
        return conv(vals["notBefore"]), conv(vals["notAfter"])

    def cleanup(self):
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)
