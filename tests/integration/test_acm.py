"""The ACM API with real clients: AWS CLI v2 (`aws acm ... fileb://`) and
boto3 for every call and error; certificates from the openssl command line;
RequestCertificate from the local CA (verified with `openssl verify` against
GET /v1/ca.pem); listeners that use certificates (InUseBy,
ResourceInUseException, CertificateNotFound, SslPolicy, AlpnPolicy, listener
certificates, DescribeSSLPolicies); the data-plane feed's certificates;
where keys live and who can read them."""
import json
import os
import stat
import subprocess
import tempfile

from botocore.exceptions import ClientError

from acm_certs import Certs
from sluice_harness import Sluiced, check, check_eq, report, run_case

C = Certs()
S = Sluiced(extra_args=["--runtime", "none"])


def acm():
    return S.boto3("acm")


def err_of(fn, **kw):
    """(code, message) of the ClientError <fn>(**kw) raises, or (None, None)."""
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None, None


def count():
    return len(acm().list_certificates(Includes={"keyTypes": [
        "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
        "EC_secp521r1"]})["CertificateSummaryList"])


def test_cli_import_describe_get():
    rc, out, _ = S.aws("acm", "import-certificate", "--certificate", "fileb://" + C.path("rsa.pem"),
                       "--private-key", "fileb://" + C.path("rsa.key"),
                       "--certificate-chain", "fileb://" + C.path("chain.pem"),
                       "--tags", "Key=env,Value=test")
    arn = out["CertificateArn"]
    check(arn.startswith("arn:aws:acm:us-east-1:000000000000:certificate/") and len(arn) > 60,
          "ARN shape: %s" % arn)
    _, d, _ = S.aws("acm", "describe-certificate", "--certificate-arn", arn)
    d = d["Certificate"]
    check_eq(d["DomainName"], "www.example.com", "DomainName")
    check_eq(d["SubjectAlternativeNames"], ["www.example.com", "*.example.com"], "SANs")
    check_eq(d["KeyAlgorithm"], "RSA_2048", "KeyAlgorithm")
    check_eq((d["Status"], d["Type"], d["InUseBy"]), ("ISSUED", "IMPORTED", []), "status")
    check_eq(d["Issuer"], "CN=Test Intermediate", "Issuer")
    check_eq(d["Subject"], "O=Example,CN=www.example.com", "Subject (RFC 2253 order)")
    nb, na = C.dates("rsa.pem")
    b = acm().describe_certificate(CertificateArn=arn)["Certificate"]
    check_eq((int(b["NotBefore"].timestamp()), int(b["NotAfter"].timestamp())), (nb, na),
             "NotBefore/NotAfter as openssl reads them")
    check_eq([u["Name"] for u in d["ExtendedKeyUsages"]], ["TLS_WEB_SERVER_AUTHENTICATION"],
             "ExtendedKeyUsages")
    check({"Name": "DIGITAL_SIGNATURE"} in d["KeyUsages"], "KeyUsages: %r" % d["KeyUsages"])
    _, g, _ = S.aws("acm", "get-certificate", "--certificate-arn", arn)
    check_eq(g["Certificate"].strip(), C.read("rsa.pem").decode().strip(), "GetCertificate body")
    check_eq(g["CertificateChain"].strip(), C.read("chain.pem").decode().strip(), "chain")
    check("PRIVATE KEY" not in json.dumps(g) + json.dumps(d), "no key in Get/Describe")
    _, t, _ = S.aws("acm", "list-tags-for-certificate", "--certificate-arn", arn)
    check_eq(t["Tags"], [{"Key": "env", "Value": "test"}], "tags from import")
    S.aws("acm", "delete-certificate", "--certificate-arn", arn)
    rc, _, e = S.aws("acm", "describe-certificate", "--certificate-arn", arn, check_rc=False)
    check(rc != 0 and "ResourceNotFoundException" in e, "gone after delete: %s" % e)


def test_import_errors():
    a = acm()
    before = count()
    cases = [
        ("rsa.pem", "stray.key", None, "does not match"),
        ("old.pem", "old.key", None, "expired"),
        ("rsa.pem", "rsa.key", "badchain.pem", "chain does not lead"),
        ("two.pem", "rsa.key", None, "exactly one certificate"),
        ("rsa.key", "rsa.key", None, "not a PEM-encoded X.509"),
        ("rsa.pem", "rsa.pem", None, "not a PEM-encoded private key"),
    ]
    for cert, key, chain, want in cases:
        kw = {"Certificate": C.read(cert), "PrivateKey": C.read(key)}
        if chain:
            kw["CertificateChain"] = C.read(chain)
        code, msg = err_of(a.import_certificate, **kw)
        check_eq(code, "ValidationException", "%s/%s/%s" % (cert, key, chain))
        check(msg and want in msg, "%s: message %r lacks %r" % (cert, msg, want))
    check_eq(count(), before, "nothing stored by a refused import")
    code, _ = err_of(a.describe_certificate, CertificateArn="arn:aws:s3:::bucket-name-x")
    check_eq(code, "InvalidArnException", "an ARN that is not ACM's")
    code, _ = err_of(a.describe_certificate,
                     CertificateArn="arn:aws:acm:us-east-1:000000000000:certificate/nope")
    check_eq(code, "ResourceNotFoundException", "unknown certificate")
    code, _ = err_of(a.import_certificate, Certificate=C.read("rsa.pem"),
                     PrivateKey=C.read("rsa.key"), Tags=[{"Key": "aws:x", "Value": "1"}])
    check_eq(code, "InvalidTagException", "aws: tag keys are reserved")
    # AWS CLI: the same refusal as the CLI user sees it
    rc, _, e = S.aws("acm", "import-certificate", "--certificate", "fileb://" + C.path("rsa.pem"),
                     "--private-key", "fileb://" + C.path("stray.key"), check_rc=False)
    check(rc != 0 and "ValidationException" in e and "does not match" in e, "CLI: %s" % e)


def test_reimport_list_tags():
    a = acm()
    arn = a.import_certificate(Certificate=C.read("rsa.pem"), PrivateKey=C.read("rsa.key"),
                               CertificateChain=C.read("chain.pem"))["CertificateArn"]
    a.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "a", "Value": "1"},
                                                        {"Key": "b", "Value": "2"}])
    a.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "a", "Value": "3"}])
    a.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "b", "Value": "other"}])
    check_eq(sorted((t["Key"], t.get("Value")) for t in
                    a.list_tags_for_certificate(CertificateArn=arn)["Tags"]),
             [("a", "3"), ("b", "2")], "tags: overwrite, value-matched removal")
    a.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "b"}])
    check_eq([t["Key"] for t in a.list_tags_for_certificate(CertificateArn=arn)["Tags"]], ["a"],
             "tag removed by key")
    # re-import: same ARN, the new certificate and key
    again = a.import_certificate(CertificateArn=arn, Certificate=C.read("ec.pem"),
                                 PrivateKey=C.read("ec.key"),
                                 CertificateChain=C.read("chain.pem"))["CertificateArn"]
    check_eq(again, arn, "re-import keeps the ARN")
    d = a.describe_certificate(CertificateArn=arn)["Certificate"]
    check_eq((d["DomainName"], d["KeyAlgorithm"]), ("ec.example.org", "EC_prime256v1"),
             "re-import replaced the certificate")
    check_eq([t["Key"] for t in a.list_tags_for_certificate(CertificateArn=arn)["Tags"]], ["a"],
             "re-import keeps tags")
    code, _ = err_of(a.import_certificate, CertificateArn=arn, Certificate=C.read("rsa.pem"),
                     PrivateKey=C.read("stray.key"))
    check_eq(code, "ValidationException", "a bad re-import")
    check_eq(a.describe_certificate(CertificateArn=arn)["Certificate"]["DomainName"],
             "ec.example.org", "a refused re-import changes nothing")
    # listing: RSA_2048 by default (as ACM), filters, paging, order
    rsa = a.import_certificate(Certificate=C.read("self.pem"),
                               PrivateKey=C.read("self.key"))["CertificateArn"]
    default = [s["CertificateArn"] for s in a.list_certificates()["CertificateSummaryList"]]
    check(rsa in default and arn not in default, "default list is RSA_1024/RSA_2048 only")
    ec = a.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    check_eq([s["CertificateArn"] for s in ec], [arn], "keyTypes filter")
    check_eq(a.list_certificates(CertificateStatuses=["EXPIRED"])["CertificateSummaryList"], [],
             "status filter")
    kinds = {"keyTypes": ["RSA_2048", "EC_prime256v1"]}
    p1 = a.list_certificates(Includes=kinds, MaxItems=1)
    p2 = a.list_certificates(Includes=kinds, MaxItems=1, NextToken=p1["NextToken"])
    check_eq(len(p1["CertificateSummaryList"]) + len(p2["CertificateSummaryList"]), 2, "paging")
    check("NextToken" not in p2, "last page has no NextToken")
    desc = a.list_certificates(Includes=kinds, SortBy="CREATED_AT", SortOrder="DESCENDING")
    asc = a.list_certificates(Includes=kinds, SortBy="CREATED_AT", SortOrder="ASCENDING")
    check_eq([s["CertificateArn"] for s in desc["CertificateSummaryList"]],
             [s["CertificateArn"] for s in asc["CertificateSummaryList"]][::-1], "sort order")
    paginated = [s for page in a.get_paginator("list_certificates").paginate(
        Includes=kinds, PaginationConfig={"PageSize": 1}) for s in page["CertificateSummaryList"]]
    check_eq(len(paginated), 2, "boto3's paginator")
    for x in (arn, rsa):
        a.delete_certificate(CertificateArn=x)


def test_request_certificate():
    a = acm()
    r = a.request_certificate(DomainName="app.example.com", ValidationMethod="DNS",
                              SubjectAlternativeNames=["*.app.example.com", "app.example.com"],
                              KeyAlgorithm="EC_prime256v1", IdempotencyToken="tok1",
                              Tags=[{"Key": "k", "Value": "v"}])
    arn = r["CertificateArn"]
    check_eq(a.request_certificate(DomainName="app.example.com", ValidationMethod="DNS",
                                   IdempotencyToken="tok1")["CertificateArn"], arn,
             "idempotency token answers the same ARN")
    d = a.describe_certificate(CertificateArn=arn)["Certificate"]
    check_eq((d["Status"], d["Type"], d["KeyAlgorithm"]), ("ISSUED", "AMAZON_ISSUED",
                                                           "EC_prime256v1"), "issued at once")
    check_eq(d["SubjectAlternativeNames"], ["app.example.com", "*.app.example.com"], "SANs")
    dvo = d["DomainValidationOptions"]
    check_eq([v["DomainName"] for v in dvo], ["app.example.com", "*.app.example.com"], "DVO names")
    check(all(v["ValidationStatus"] == "SUCCESS" and v["ValidationMethod"] == "DNS" and
              v["ResourceRecord"]["Type"] == "CNAME" and
              v["ResourceRecord"]["Name"].endswith(".app.example.com.") for v in dvo),
          "DVO SUCCESS with the CNAME record Terraform reads: %r" % dvo)
    g = a.get_certificate(CertificateArn=arn)
    st, _, ca = S.http("GET", "/v1/ca.pem")
    check(st == 200 and b"BEGIN CERTIFICATE" in ca, "GET /v1/ca.pem")
    check_eq(g["CertificateChain"].strip(), ca.decode().strip(), "the chain is the local CA")
    with tempfile.TemporaryDirectory() as t:
        for name, text in (("ca.pem", ca.decode()), ("leaf.pem", g["Certificate"])):
            with open(os.path.join(t, name), "w") as f:
                f.write(text)
        v = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(t, "ca.pem"),
                            os.path.join(t, "leaf.pem")], capture_output=True, text=True)
        check(v.returncode == 0, "openssl verify against /v1/ca.pem: %s%s" % (v.stdout, v.stderr))
        txt = subprocess.run(["openssl", "x509", "-in", os.path.join(t, "leaf.pem"), "-noout",
                              "-ext", "subjectAltName"], capture_output=True, text=True).stdout
        check("DNS:*.app.example.com" in txt, "wildcard SAN in the issued certificate: %s" % txt)
    rsa = a.request_certificate(DomainName="rsa.example.com")["CertificateArn"]
    d = a.describe_certificate(CertificateArn=rsa)["Certificate"]
    check_eq((d["KeyAlgorithm"], d["DomainValidationOptions"][0]["ValidationMethod"]),
             ("RSA_2048", "EMAIL"), "defaults: RSA_2048, EMAIL")
    for kw, code in (({"DomainName": "bad_name.example.com"}, "ValidationException"),
                     ({"DomainName": "x.example.com", "KeyAlgorithm": "RSA_4096"},
                      "ValidationException"),
                     ({"DomainName": "x.example.com", "CertificateAuthorityArn":
                       "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/x"},
                      "ValidationException"),
                     ({"DomainName": "x.example.com", "DomainValidationOptions": [
                         {"DomainName": "y.example.com", "ValidationDomain": "example.com"}]},
                      "InvalidDomainValidationOptionsException")):
        check_eq(err_of(a.request_certificate, **kw)[0], code, "RequestCertificate %r" % kw)
    # CLI, as Terraform's users script it
    _, out, _ = S.aws("acm", "request-certificate", "--domain-name", "cli.example.com",
                      "--validation-method", "DNS")
    check(out["CertificateArn"].startswith("arn:aws:acm:"), "CLI request-certificate")
    for x in (arn, rsa, out["CertificateArn"]):
        a.delete_certificate(CertificateArn=x)


def lb_setup(name):
    elb = S.boto3("elbv2")
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-1", "subnet-2"])
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name=name + "-tg", Protocol="HTTP", Port=80, VpcId="vpc-1")
    return elb, lb_arn, tg["TargetGroups"][0]["TargetGroupArn"]


def test_listeners():
    a = acm()
    elb, lb, tg = lb_setup("tls1")
    c1 = a.import_certificate(Certificate=C.read("rsa.pem"), PrivateKey=C.read("rsa.key"),
                              CertificateChain=C.read("chain.pem"))["CertificateArn"]
    c2 = a.import_certificate(Certificate=C.read("ec.pem"),
                              PrivateKey=C.read("ec.key"))["CertificateArn"]
    fwd = [{"Type": "forward", "TargetGroupArn": tg}]
    gone = c1[:-4] + "0000"
    code, _ = err_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                     Certificates=[{"CertificateArn": gone}], DefaultActions=fwd)
    check_eq(code, "CertificateNotFound", "a certificate not in the store")
    code, _ = err_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                     Certificates=[{"CertificateArn": c1}], SslPolicy="ELBSecurityPolicy-Nope",
                     DefaultActions=fwd)
    check_eq(code, "SSLPolicyNotFound", "an unknown SslPolicy")
    l = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                            Certificates=[{"CertificateArn": c1}],
                            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                            AlpnPolicy=["HTTP2Preferred"], DefaultActions=fwd)["Listeners"][0]
    larn = l["ListenerArn"]
    check_eq((l["SslPolicy"], l["AlpnPolicy"]), ("ELBSecurityPolicy-TLS13-1-2-2021-06",
                                                 ["HTTP2Preferred"]), "policies stored")
    check_eq(a.describe_certificate(CertificateArn=c1)["Certificate"]["InUseBy"], [larn],
             "InUseBy names the listener")
    check_eq(err_of(a.delete_certificate, CertificateArn=c1)[0], "ResourceInUseException",
             "a certificate in use cannot be deleted")
    code, _ = err_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=81,
                     AlpnPolicy=["HTTP2Only"], DefaultActions=fwd)
    check_eq(code, "ValidationError", "AlpnPolicy on an HTTP listener")
    # listener certificates
    elb.add_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": c2}])
    lc = elb.describe_listener_certificates(ListenerArn=larn)["Certificates"]
    check_eq(sorted((x["CertificateArn"], x["IsDefault"]) for x in lc),
             sorted([(c1, True), (c2, False)]), "DescribeListenerCertificates")
    check_eq(elb.describe_listeners(ListenerArns=[larn])["Listeners"][0]["Certificates"],
             [{"CertificateArn": c1}], "DescribeListeners shows the default only")
    check_eq(a.describe_certificate(CertificateArn=c2)["Certificate"]["InUseBy"], [larn],
             "an SNI certificate is in use too")
    check_eq(err_of(elb.remove_listener_certificates, ListenerArn=larn,
                    Certificates=[{"CertificateArn": c1}])[0], "OperationNotPermitted",
             "the default certificate cannot be removed")
    # the feed carries what the proxy needs (contracts/https-feed.md)
    st, _, snap = S.http("GET", "/v1/dataplane/snapshot")
    check_eq(list(snap.keys())[:3], ["feed_version", "revision", "certificates"],
             "certificates listed first")
    ids = {c["arn"]: c for c in snap["certificates"]}
    check(c1 in ids and c2 in ids and "BEGIN PRIVATE KEY" in ids[c1]["private_key_pem"] and
          "BEGIN CERTIFICATE" in ids[c1]["chain_pem"], "used certificates with key and chain")
    fl = [x for x in snap["listeners"] if x["arn"] == larn][0]
    check_eq((fl["ssl_policy"], fl["alpn_policy"]), ("ELBSecurityPolicy-TLS13-1-2-2021-06",
                                                     "HTTP2Preferred"), "feed listener policies")
    check_eq(fl["certificates"], [{"certificate_id": ids[c1]["id"], "default": True},
                                  {"certificate_id": ids[c2]["id"], "default": False}],
             "feed listener certificates")
    check_eq([x["http2_enabled"] for x in snap["load_balancers"] if x["arn"] == lb], [True],
             "http2_enabled by default")
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
        {"Key": "routing.http2.enabled", "Value": "false"}])
    st, _, snap = S.http("GET", "/v1/dataplane/snapshot")
    check_eq([x["http2_enabled"] for x in snap["load_balancers"] if x["arn"] == lb], [False],
             "routing.http2.enabled=false reaches the feed")
    elb.remove_listener_certificates(ListenerArn=larn, Certificates=[{"CertificateArn": c2}])
    check_eq(a.describe_certificate(CertificateArn=c2)["Certificate"]["InUseBy"], [],
             "released by RemoveListenerCertificates")
    st, _, snap = S.http("GET", "/v1/dataplane/snapshot")
    check_eq([c["arn"] for c in snap["certificates"]], [c1], "an unused certificate leaves the feed")
    # ModifyListener: another default certificate, then HTTP (drops all TLS members)
    elb.modify_listener(ListenerArn=larn, Certificates=[{"CertificateArn": c2}])
    check_eq((a.describe_certificate(CertificateArn=c1)["Certificate"]["InUseBy"],
              a.describe_certificate(CertificateArn=c2)["Certificate"]["InUseBy"]),
             ([], [larn]), "ModifyListener moves the use")
    code, _ = err_of(elb.modify_listener, ListenerArn=larn, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTP", "StatusCode": "HTTP_301"}}])
    check_eq(code, "InvalidLoadBalancerAction", "HTTPS -> HTTP redirect refused")
    m = elb.modify_listener(ListenerArn=larn, Protocol="HTTP", Port=8080)["Listeners"][0]
    check("SslPolicy" not in m and "Certificates" not in m and "AlpnPolicy" not in m,
          "HTTPS -> HTTP drops the TLS members: %r" % m)
    check_eq(a.describe_certificate(CertificateArn=c2)["Certificate"]["InUseBy"], [],
             "released by HTTPS -> HTTP")
    # the redirect every HTTPS site has, placeholders and all
    h = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                "Host": "#{host}", "Path": "/#{path}",
                                                "Query": "#{query}",
                                                "StatusCode": "HTTP_301"}}])["Listeners"][0]
    check_eq(h["DefaultActions"][0]["RedirectConfig"]["Protocol"], "HTTPS", "HTTP->HTTPS redirect")
    code, _ = err_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=82,
                     DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                         "Protocol": "#{protocol}", "Port": "#{port}", "StatusCode": "HTTP_301"}}])
    check_eq(code, "ValidationError", "a redirect to itself")
    # a listener deleted with its load balancer releases its certificates
    elb.modify_listener(ListenerArn=larn, Protocol="HTTPS", Port=443,
                        Certificates=[{"CertificateArn": c1}])
    elb.delete_load_balancer(LoadBalancerArn=lb)
    check_eq(a.describe_certificate(CertificateArn=c1)["Certificate"]["InUseBy"], [],
             "released with the load balancer")
    a.delete_certificate(CertificateArn=c1)
    a.delete_certificate(CertificateArn=c2)


def test_ssl_policies():
    elb = S.boto3("elbv2")
    all_ = elb.describe_ssl_policies()["SslPolicies"]
    names = [p["Name"] for p in all_]
    for want in ("ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-2-2017-01",
                 "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06"):
        check(want in names, "DescribeSSLPolicies has %s" % want)
    p = elb.describe_ssl_policies(Names=["ELBSecurityPolicy-TLS13-1-3-2021-06"])["SslPolicies"][0]
    check_eq(p["SslProtocols"], ["TLSv1.3"], "TLS13-1-3 protocols")
    check_eq([c["Priority"] for c in p["Ciphers"]], list(range(1, len(p["Ciphers"]) + 1)),
             "cipher priorities")
    check("application" in p["SupportedLoadBalancerTypes"], "SupportedLoadBalancerTypes")
    p = elb.describe_ssl_policies(Names=["ELBSecurityPolicy-2016-08"])["SslPolicies"][0]
    check("TLSv1" in p["SslProtocols"] and "ECDHE-RSA-AES128-GCM-SHA256" in
          [c["Name"] for c in p["Ciphers"]], "2016-08: %r" % p)
    check_eq(err_of(elb.describe_ssl_policies, Names=["Nope"])[0], "SSLPolicyNotFound",
             "unknown policy")
    _, out, _ = S.aws("elbv2", "describe-ssl-policies", "--names", "ELBSecurityPolicy-2016-08")
    check_eq(out["SslPolicies"][0]["Name"], "ELBSecurityPolicy-2016-08", "CLI")


def test_rest_certificates():
    st, h, body = S.http("POST", "/v1/certificates", {
        "Certificate": C.read("rsa.pem").decode(), "PrivateKey": C.read("rsa.key").decode(),
        "CertificateChain": C.read("chain.pem").decode(), "Tags": [{"Key": "k", "Value": "v"}]})
    check_eq(st, 201, "REST import: %r" % body)
    cid = body["id"]
    check(h.get("Location") == "/v1/certificates/" + cid and body["arn"].endswith(cid),
          "Location and id")
    check("_private_key_pem" not in json.dumps(body) and "PRIVATE" not in json.dumps(body),
          "no key in the REST view")
    st, _, one = S.http("GET", "/v1/certificates/" + cid)
    check_eq((st, one["DomainName"], one["Tags"]), (200, "www.example.com",
                                                    [{"Key": "k", "Value": "v"}]), "REST GET")
    st, _, lst = S.http("GET", "/v1/certificates")
    check(st == 200 and cid in [x["id"] for x in lst["items"]], "REST list")
    st, _, bad = S.http("POST", "/v1/certificates", {"Certificate": C.read("rsa.pem").decode(),
                                                     "PrivateKey": C.read("stray.key").decode()})
    check_eq((st, bad["error"]["code"]), (400, "ValidationException"), "REST bad key")
    st, _, put = S.http("PUT", "/v1/certificates/" + cid, {
        "Certificate": C.read("ec.pem").decode(), "PrivateKey": C.read("ec.key").decode()})
    check_eq((st, put.get("DomainName")), (200, "ec.example.org"), "REST re-import")
    st, _, req = S.http("POST", "/v1/certificates", {"DomainName": "rest.example.com",
                                                     "KeyAlgorithm": "EC_prime256v1"})
    check_eq((st, req.get("Type")), (201, "AMAZON_ISSUED"), "REST request from the local CA")
    for x in (cid, req["id"]):
        st, _, _ = S.http("DELETE", "/v1/certificates/" + x)
        check_eq(st, 204, "REST delete")
    st, _, _ = S.http("GET", "/v1/certificates/" + cid)
    check_eq(st, 404, "REST gone")


def test_key_files():
    """Keys live in the store (data.mdb, its redo log) and <data>/ca/ca.key:
    every file there is readable by sluiced's user only."""
    acm().import_certificate(Certificate=C.read("self.pem"), PrivateKey=C.read("self.key"))
    for root, dirs, files in os.walk(S.data_dir):
        for f in files:
            mode = stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode)
            if f == "ca.pem":
                continue  # the public root
            check(mode & 0o077 == 0, "%s is mode %o" % (os.path.join(root, f), mode))
    check_eq(stat.S_IMODE(os.stat(os.path.join(S.data_dir, "ca")).st_mode), 0o700, "ca/ 0700")


def main():
    with S:
        for t in (test_cli_import_describe_get, test_import_errors, test_reimport_list_tags,
                  test_request_certificate, test_listeners, test_ssl_policies,
                  test_rest_certificates, test_key_files):
            run_case(t)
        # the CA survives a restart: the same root
        st, _, ca1 = S.http("GET", "/v1/ca.pem")
        S.stop()
        S.start()
        st, _, ca2 = S.http("GET", "/v1/ca.pem")
        check_eq(ca2, ca1, "the local CA is kept across restarts")
    C.cleanup()
    report()


if __name__ == "__main__":
    main()
