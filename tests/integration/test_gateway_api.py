#!/usr/bin/python3
"""The gateway's gRPC API from Python, the way a non-C caller uses it:
message classes generated from api/trustchain/v1 with protoc, calls made
with grpcio's generic unary-unary stubs (no generated service code needed).

Usage: test_gateway_api.py GEN_DIR TARGET DATA_DIR WORK_DIR
GEN_DIR holds the protoc --python_out output; WORK_DIR holds csr.pem (a
P-256 CSR) made by the calling script. Bearer tokens come in the
environment: TC_TEST_ADMIN_TOKEN (any name, revoke) and
TC_TEST_DEPLOYER_TOKEN (*.py.hypermesh.online)."""
import os
import ssl
import subprocess
import sys
import unittest

import grpc

GEN_DIR, TARGET, DATA_DIR, WORK_DIR = sys.argv[1:5]
ADMIN = (("authorization", "Bearer " + os.environ["TC_TEST_ADMIN_TOKEN"]),)
DEPLOYER = (("authorization", "Bearer " + os.environ["TC_TEST_DEPLOYER_TOKEN"]),)
sys.path.insert(0, GEN_DIR)
from trustchain.v1 import ca_pb2, health_pb2, validation_pb2  # noqa: E402


def method(channel, path, request_cls, response_cls):
    return channel.unary_unary(path, request_serializer=request_cls.SerializeToString,
                               response_deserializer=response_cls.FromString)


def reason_of(err):
    for key, value in err.trailing_metadata() or ():
        if key == "trustchain-reason":
            return value
    return None


class GatewayApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # TLS with the gateway's own certificate, verified against our root.
        with open(os.path.join(DATA_DIR, "ca", "root.pem"), "rb") as f:
            cls.root_pem = f.read()
        cls.channel = grpc.secure_channel(TARGET, grpc.ssl_channel_credentials(root_certificates=cls.root_pem))
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.check = method(cls.channel, "/trustchain.v1.Health/Check",
                           health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse)
        cls.std_check = method(cls.channel, "/grpc.health.v1.Health/Check",
                               health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse)
        cls.issue = method(cls.channel, "/trustchain.v1.CertificateAuthority/Issue",
                           ca_pb2.IssueRequest, ca_pb2.IssueResponse)
        cls.get_ca = method(cls.channel, "/trustchain.v1.CertificateAuthority/GetCACertificates",
                            ca_pb2.GetCACertificatesRequest, ca_pb2.GetCACertificatesResponse)
        cls.revoke = method(cls.channel, "/trustchain.v1.CertificateAuthority/Revoke",
                            ca_pb2.RevokeRequest, ca_pb2.RevokeResponse)
        cls.get_crl = method(cls.channel, "/trustchain.v1.CertificateAuthority/GetCrl",
                             ca_pb2.GetCrlRequest, ca_pb2.GetCrlResponse)
        cls.validate = method(cls.channel, "/trustchain.v1.Validation/Validate",
                              validation_pb2.ValidateRequest, validation_pb2.ValidateResponse)
        with open(os.path.join(WORK_DIR, "csr.pem"), "rb") as f:
            cls.csr = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def test_health(self):
        serving = health_pb2.HealthCheckResponse.SERVING
        self.assertEqual(self.check(health_pb2.HealthCheckRequest(), timeout=10).status, serving)
        # Standard gRPC health probes get the same answer.
        self.assertEqual(self.std_check(health_pb2.HealthCheckRequest(), timeout=10).status, serving)
        unknown = self.check(health_pb2.HealthCheckRequest(service="nope"), timeout=10)
        self.assertEqual(unknown.status, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)

    def test_issue_verifies(self):
        resp = self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["py.hypermesh.online"],
                                              profile=ca_pb2.PROFILE_SERVER_AND_CLIENT,
                                              validity_seconds=7200), timeout=30)
        self.assertEqual(resp.not_after - resp.not_before, 7200)
        self.assertRegex(resp.serial, r"^[0-9a-f]{2,}$")
        paths = {}
        for name, text in (("leaf", resp.certificate_pem), ("chain", resp.chain_pem),
                           ("root", resp.root_pem)):
            paths[name] = os.path.join(WORK_DIR, name + ".pem")
            with open(paths[name], "w") as f:
                f.write(text)
        for purpose in ("sslserver", "sslclient"):
            subprocess.run(["openssl", "verify", "-CAfile", paths["root"], "-untrusted", paths["chain"],
                            "-purpose", purpose, paths["leaf"]], check=True, stdout=subprocess.DEVNULL)
        text = subprocess.run(["openssl", "x509", "-in", paths["leaf"], "-noout", "-ext",
                               "subjectAltName,extendedKeyUsage"],
                              check=True, capture_output=True, text=True).stdout
        self.assertIn("DNS:py.hypermesh.online", text)
        self.assertIn("TLS Web Server Authentication", text)
        self.assertIn("TLS Web Client Authentication", text)
        # The root handed out is the ceremony's.
        with open(os.path.join(DATA_DIR, "ca", "root.pem")) as f:
            self.assertEqual(f.read(), resp.root_pem)

    def test_issue_refusals(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["www.example.com"]), timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(reason_of(cm.exception), "name_not_permitted")

        with self.assertRaises(grpc.RpcError) as cm:
            self.issue(ca_pb2.IssueRequest(csr=b"\x30\x03garbage", dns_names=["a.hypermesh.online"]),
                       timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(reason_of(cm.exception), "csr_malformed")

        with self.assertRaises(grpc.RpcError) as cm:
            self.issue(ca_pb2.IssueRequest(csr=b"x" * (1100 * 1024)), timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)

    def expect_name_invalid(self, call, request, **kwargs):
        with self.assertRaises(grpc.RpcError) as cm:
            call(request, timeout=30, **kwargs)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(reason_of(cm.exception), "name_invalid")

    def test_names_with_nul(self):
        # A str holding "\x00" is an ordinary string in Python (and on the
        # wire): the gateway refuses it, never issues for the part before
        # the NUL or matches the certificate's name against that part.
        for request in (ca_pb2.IssueRequest(csr=self.csr, dns_names=["nul.py.hypermesh.online\x00.evil.com"]),
                        ca_pb2.IssueRequest(csr=self.csr, dns_names=["py.hypermesh.online", "x\x00"]),
                        ca_pb2.IssueRequest(csr=self.csr, ip_addresses=["127.0.0.1\x00junk"])):
            self.expect_name_invalid(self.issue, request, metadata=ADMIN)
        # The deployer's pattern *.py.hypermesh.online would cover the part
        # before the NUL.
        self.expect_name_invalid(self.issue, ca_pb2.IssueRequest(
            csr=self.csr, dns_names=["a.py.hypermesh.online\x00.evil.com"]), metadata=DEPLOYER)
        resp = self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["host.py.hypermesh.online"]),
                          metadata=ADMIN, timeout=30)
        chain = [ssl.PEM_cert_to_DER_cert(resp.certificate_pem), ssl.PEM_cert_to_DER_cert(resp.chain_pem)]
        for name in ("host.py.hypermesh.online\x00.evil.com", "host.py.hypermesh.online\x00",
                     "host.py.hypermesh.online\n", "\x1bhost.py.hypermesh.online"):
            self.expect_name_invalid(self.validate, validation_pb2.ValidateRequest(chain=chain, name=name))
        ok = self.validate(validation_pb2.ValidateRequest(chain=chain, name="host.py.hypermesh.online"), timeout=10)
        self.assertEqual(ok.decision, validation_pb2.TRUSTED)
        # Any string of the API: the serial of Revoke, the service of Check.
        self.expect_name_invalid(self.revoke, ca_pb2.RevokeRequest(serial=resp.serial + "\x00ff"), metadata=ADMIN)
        self.expect_name_invalid(self.check, health_pb2.HealthCheckRequest(service="\x00"))

    def test_tls_required(self):
        # Plaintext is refused, and so is TLS trusting some other root.
        with open("/etc/ssl/certs/ca-certificates.crt", "rb") as f:
            public_roots = f.read()
        for channel in (grpc.insecure_channel(TARGET),
                        grpc.secure_channel(TARGET, grpc.ssl_channel_credentials(root_certificates=public_roots))):
            check = method(channel, "/trustchain.v1.Health/Check",
                           health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse)
            with self.assertRaises(grpc.RpcError) as cm:
                check(health_pb2.HealthCheckRequest(), timeout=5)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
            channel.close()

    def test_bearer_tokens(self):
        # Dev mode lets anonymous callers issue (test_issue_verifies); a
        # token, once presented, limits the names to its patterns.
        ok = self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["a.py.hypermesh.online"]),
                        metadata=DEPLOYER, timeout=30)
        self.assertIn("BEGIN CERTIFICATE", ok.certificate_pem)
        with self.assertRaises(grpc.RpcError) as cm:
            self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["py.hypermesh.online"]),
                       metadata=DEPLOYER, timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(reason_of(cm.exception), "name_not_authorized")
        with self.assertRaises(grpc.RpcError) as cm:
            self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["a.py.hypermesh.online"]),
                       metadata=(("authorization", "Bearer nope"),), timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(reason_of(cm.exception), "invalid_token")

    def test_revoke_and_crl(self):
        cert = self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["gone.py.hypermesh.online"]),
                          metadata=DEPLOYER, timeout=30)
        for md, code, reason in ((None, grpc.StatusCode.UNAUTHENTICATED, "authentication_required"),
                                 (DEPLOYER, grpc.StatusCode.PERMISSION_DENIED, "revoke_not_authorized")):
            with self.assertRaises(grpc.RpcError) as cm:
                self.revoke(ca_pb2.RevokeRequest(serial=cert.serial), metadata=md, timeout=10)
            self.assertEqual(cm.exception.code(), code)
            self.assertEqual(reason_of(cm.exception), reason)
        done = self.revoke(ca_pb2.RevokeRequest(serial=cert.serial,
                                                reason=ca_pb2.REVOCATION_REASON_SUPERSEDED),
                           metadata=ADMIN, timeout=10)
        self.assertGreater(done.revocation_time, 0)
        crl = self.get_crl(ca_pb2.GetCrlRequest(), timeout=10)
        self.assertGreater(crl.next_update, crl.this_update)
        der = os.path.join(WORK_DIR, "crl.der")
        with open(der, "wb") as f:
            f.write(crl.crl_der)
        out = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", der, "-CAfile",
                              os.path.join(DATA_DIR, "ca", "chain.pem"), "-verify", "-noout", "-text"],
                             check=True, capture_output=True, text=True)
        self.assertIn("verify OK", out.stderr + out.stdout)
        self.assertIn("Serial Number: " + cert.serial.upper(), out.stdout)
        self.assertIn("BEGIN X509 CRL", crl.crl_pem)

    def test_ca_certificates_and_unimplemented(self):
        resp = self.get_ca(ca_pb2.GetCACertificatesRequest(), timeout=10)
        self.assertIn("BEGIN CERTIFICATE", resp.root_pem)
        self.assertIn("BEGIN CERTIFICATE", resp.chain_pem)
        unknown = self.channel.unary_unary("/trustchain.v1.Nope/Nothing")
        with self.assertRaises(grpc.RpcError) as cm:
            unknown(b"", timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_validate(self):
        resp = self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=["stoq.hypermesh.online"],
                                              profile=ca_pb2.PROFILE_SERVER), metadata=ADMIN, timeout=30)
        leaf = ssl.PEM_cert_to_DER_cert(resp.certificate_pem)
        inter = ssl.PEM_cert_to_DER_cert(resp.chain_pem)
        ok = self.validate(validation_pb2.ValidateRequest(
            chain=[leaf, inter], name="stoq.hypermesh.online",
            purpose=validation_pb2.PURPOSE_SERVER_AUTH), timeout=10)
        self.assertEqual(ok.decision, validation_pb2.TRUSTED)
        self.assertEqual(list(ok.reasons)[:4], [validation_pb2.OK_PATH, validation_pb2.OK_VALIDITY,
                                                validation_pb2.OK_NAME, validation_pb2.OK_KEY_USAGE])
        # Issue embedded our log's SCT, which Validate verifies.
        self.assertEqual(list(ok.reasons)[4:], [validation_pb2.OK_SCT, validation_pb2.OK_NOT_REVOKED])
        self.assertEqual(ok.detail, "")
        self.assertEqual(len(ok.verified_chain), 3)
        self.assertEqual(ok.verified_chain[0], leaf)
        with open(os.path.join(DATA_DIR, "ca", "root.pem")) as f:
            self.assertEqual(ok.verified_chain[2], ssl.PEM_cert_to_DER_cert(f.read()))

        # PEM text is accepted as a chain element too.
        pem = self.validate(validation_pb2.ValidateRequest(
            chain=[(resp.certificate_pem + resp.chain_pem).encode()], name="stoq.hypermesh.online"),
            timeout=10)
        self.assertEqual(pem.decision, validation_pb2.TRUSTED)

        bad = self.validate(validation_pb2.ValidateRequest(
            chain=[leaf, inter], name="other.hypermesh.online",
            purpose=validation_pb2.PURPOSE_CLIENT_AUTH), timeout=10)
        self.assertEqual(bad.decision, validation_pb2.UNTRUSTED)
        self.assertIn(validation_pb2.NAME_MISMATCH, bad.reasons)
        self.assertIn(validation_pb2.KEY_USAGE_MISMATCH, bad.reasons)
        self.assertIn("other.hypermesh.online", bad.detail)

        expired = self.validate(validation_pb2.ValidateRequest(chain=[leaf, inter],
                                                               time=resp.not_after + 1), timeout=10)
        self.assertIn(validation_pb2.EXPIRED, expired.reasons)
        self.assertIn(validation_pb2.NAME_NOT_CHECKED, expired.reasons)

        # A malformed chain is still an answer, not an error...
        empty = self.validate(validation_pb2.ValidateRequest(), timeout=10)
        self.assertEqual(empty.decision, validation_pb2.UNTRUSTED)
        self.assertEqual(list(empty.reasons), [validation_pb2.CHAIN_EMPTY])
        junk = self.validate(validation_pb2.ValidateRequest(chain=[b"\x30\x03abc"]), timeout=10)
        self.assertEqual(list(junk.reasons), [validation_pb2.CHAIN_MALFORMED])
        # ...only an undecodable request is.
        raw = self.channel.unary_unary("/trustchain.v1.Validation/Validate")
        with self.assertRaises(grpc.RpcError) as cm:
            raw(b"\xff\xff\xff", timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(reason_of(cm.exception), "malformed_request")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
