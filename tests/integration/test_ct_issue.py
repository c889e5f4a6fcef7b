#!/usr/bin/python3
"""Issuance with embedded SCTs, as a TLS client and a CT monitor see it.

Usage: test_ct_issue.py GEN_DIR GRPC_TARGET CT_HTTP WORK_DIR TRANSPARENCY_PID
GEN_DIR holds the protoc --python_out output; WORK_DIR holds key.pem and
csr.pem (P-256), loglist.cnf (trustchainctl ct loglist) and data/ (the
server's data directory)."""
import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import grpc

GEN_DIR, TARGET, CT_HTTP, WORK_DIR, TRANSPARENCY_PID = sys.argv[1:6]
sys.path.insert(0, GEN_DIR)
from trustchain.v1 import ca_pb2, transparency_pb2 as ct_pb2  # noqa: E402

NAME = "tls.hypermesh.online"


def method(channel, path, request_cls, response_cls):
    return channel.unary_unary(path, request_serializer=request_cls.SerializeToString,
                               response_deserializer=response_cls.FromString)


def reason_of(err):
    for key, value in err.trailing_metadata() or ():
        if key == "trustchain-reason":
            return value
    return None


def http_get(path, **query):
    url = "http://%s/ct/v1/%s?%s" % (CT_HTTP, path, urllib.parse.urlencode(query))
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def pem_to_der(pem):
    body = "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))
    return base64.b64decode(body)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leaf_hash(leaf_input):
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def entry_type(leaf_input):
    # MerkleTreeLeaf: version(1) leaf_type(1) timestamp(8) entry_type(2) ...
    return int.from_bytes(leaf_input[10:12], "big")


def x509_cert_of(leaf_input):
    # x509_entry: ASN.1Cert<1..2^24-1> right after the entry type
    n = int.from_bytes(leaf_input[12:15], "big")
    return leaf_input[15:15 + n]


class CtIssuance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # TLS with the gateway's own certificate, verified against our root.
        with open(os.path.join(WORK_DIR, "data", "ca", "root.pem"), "rb") as f:
            root_pem = f.read()
        cls.channel = grpc.secure_channel(TARGET, grpc.ssl_channel_credentials(root_certificates=root_pem))
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.issue = method(cls.channel, "/trustchain.v1.CertificateAuthority/Issue",
                           ca_pb2.IssueRequest, ca_pb2.IssueResponse)
        t = "/trustchain.v1.Transparency/"
        cls.get_sth = method(cls.channel, t + "GetSth", ct_pb2.GetSthRequest, ct_pb2.GetSthResponse)
        cls.get_proof = method(cls.channel, t + "GetProofByHash", ct_pb2.GetProofByHashRequest,
                               ct_pb2.GetProofByHashResponse)
        cls.get_entries = method(cls.channel, t + "GetEntries", ct_pb2.GetEntriesRequest,
                                 ct_pb2.GetEntriesResponse)
        cls.get_roots = method(cls.channel, t + "GetRoots", ct_pb2.GetRootsRequest, ct_pb2.GetRootsResponse)
        cls.get_consistency = method(cls.channel, t + "GetSthConsistency", ct_pb2.GetSthConsistencyRequest,
                                     ct_pb2.GetSthConsistencyResponse)
        cls.get_entry_and_proof = method(cls.channel, t + "GetEntryAndProof", ct_pb2.GetEntryAndProofRequest,
                                         ct_pb2.GetEntryAndProofResponse)
        cls.add_chain = method(cls.channel, t + "AddChain", ct_pb2.AddChainRequest, ct_pb2.AddChainResponse)
        with open(os.path.join(WORK_DIR, "csr.pem"), "rb") as f:
            cls.csr = f.read()
        cls.resp = cls.issue(ca_pb2.IssueRequest(csr=cls.csr, dns_names=[NAME]), timeout=30)
        cls.paths = {}
        for name, text in (("leaf", cls.resp.certificate_pem), ("chain", cls.resp.chain_pem),
                           ("root", cls.resp.root_pem)):
            cls.paths[name] = os.path.join(WORK_DIR, name + ".pem")
            with open(cls.paths[name], "w") as f:
                f.write(text)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def wait_sequenced(self, h):
        """The index of leaf hash h once a signed tree covers it (HTTP)."""
        b64 = base64.b64encode(h).decode()
        for _ in range(100):
            status, sth = http_get("get-sth")
            if status == 200 and sth["tree_size"] > 0:
                status, proof = http_get("get-proof-by-hash", hash=b64, tree_size=sth["tree_size"])
                if status == 200:
                    return proof["leaf_index"], sth["tree_size"]
            time.sleep(0.1)
        self.fail("entry %s never sequenced" % b64)

    def test_response_carries_the_embedded_sct(self):
        r = self.resp
        self.assertEqual(len(r.scts), 1)
        sct = r.scts[0]
        self.assertEqual(len(sct.log_id), 32)
        self.assertEqual(len(sct.leaf_hash), 32)
        self.assertLess(abs(sct.timestamp / 1000 - time.time()), 600)
        # TLS SCT: version 0, then the log id.
        self.assertEqual(sct.sct[0], 0)
        self.assertEqual(sct.sct[1:33], sct.log_id)
        # static-ct-api: its extensions are exactly the leaf_index extension
        # (type 0, 5 bytes, big-endian uint40) naming the precertificate's
        # entry, whose index the response reports once the tree covers it.
        self.assertEqual(sct.sct[41:43], b"\x00\x08")
        self.assertEqual(sct.sct[43:46], b"\x00\x00\x05")
        if sct.leaf_index_known:
            self.assertEqual(int.from_bytes(sct.sct[46:51], "big"), sct.leaf_index)
        # The log id is the SHA-256 of the key in the log list.
        with open(os.path.join(WORK_DIR, "loglist.cnf")) as f:
            key = [l.split("=", 1)[1].strip() for l in f if l.startswith("key")][0]
        self.assertEqual(hashlib.sha256(base64.b64decode(key)).digest(), sct.log_id)
        # The SCT sits in the certificate, byte for byte.
        der = pem_to_der(r.certificate_pem)
        self.assertIn(sct.sct, der)
        self.assertTrue(r.certificate_logged)
        self.assertEqual(len(r.certificate_leaf_hash), 32)
        text = subprocess.run(["openssl", "x509", "-in", self.paths["leaf"], "-noout", "-text"],
                              check=True, capture_output=True, text=True).stdout
        self.assertIn("CT Precertificate SCTs", text)
        self.assertIn("Signed Certificate Timestamp", text)
        self.assertNotIn("CT Precertificate Poison", text)

    def test_tls_client_validates_the_sct(self):
        # OpenSSL judges SCT timestamps (ms) against the TLS session's time,
        # which has whole seconds: an SCT from the current second counts as
        # "from the future". Real certificates are older than that.
        delay = self.resp.scts[0].timestamp / 1000 + 1.05 - time.time()
        if delay > 0:
            time.sleep(delay)
        port = free_port()
        server = subprocess.Popen(["openssl", "s_server", "-cert", self.paths["leaf"], "-key",
                                   os.path.join(WORK_DIR, "key.pem"), "-cert_chain", self.paths["chain"],
                                   "-accept", "127.0.0.1:%d" % port, "-www", "-naccept", "1"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        try:
            for line in server.stdout:  # "Using default temp DH parameters", then "ACCEPT"
                if line.startswith("ACCEPT"):
                    break
            else:
                self.fail("s_server did not start")
            client = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                                     "-servername", NAME, "-verify_hostname", NAME, "-ct", "-ctlogfile",
                                     os.path.join(WORK_DIR, "loglist.cnf"), "-CAfile", self.paths["root"],
                                     "-verify_return_error"],
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        finally:
            server.kill()
            server.wait()
            server.stdout.close()
        out = client.stdout + client.stderr
        self.assertEqual(client.returncode, 0, out)
        self.assertIn("SCTs present (1)", out)
        self.assertIn("SCT validation status: valid", out)
        self.assertNotIn("SCT validation status: invalid", out)
        self.assertIn("Verify return code: 0 (ok)", out)

    def test_entries_over_http(self):
        pre_index, size = self.wait_sequenced(self.resp.scts[0].leaf_hash)
        status, got = http_get("get-entries", start=pre_index, end=pre_index)
        self.assertEqual(status, 200)
        leaf = base64.b64decode(got["entries"][0]["leaf_input"])
        self.assertEqual(entry_type(leaf), 1)  # precert_entry
        self.assertEqual(leaf_hash(leaf), self.resp.scts[0].leaf_hash)
        # The SCT's timestamp is the entry's.
        self.assertEqual(int.from_bytes(leaf[2:10], "big"), self.resp.scts[0].timestamp)
        # The final certificate is logged too, as an x509 entry of exactly that certificate.
        fin_index, size = self.wait_sequenced(self.resp.certificate_leaf_hash)
        self.assertNotEqual(fin_index, pre_index)
        status, got = http_get("get-entries", start=fin_index, end=fin_index)
        leaf = base64.b64decode(got["entries"][0]["leaf_input"])
        self.assertEqual(entry_type(leaf), 0)
        self.assertEqual(x509_cert_of(leaf), pem_to_der(self.resp.certificate_pem))

    def test_entries_over_grpc(self):
        pre_index, _ = self.wait_sequenced(self.resp.scts[0].leaf_hash)
        fin_index, _ = self.wait_sequenced(self.resp.certificate_leaf_hash)
        sth = self.get_sth(ct_pb2.GetSthRequest(), timeout=10)
        self.assertGreater(sth.tree_size, max(pre_index, fin_index))
        self.assertEqual(len(sth.sha256_root_hash), 32)
        status, http_sth = http_get("get-sth")
        self.assertEqual(status, 200)
        if http_sth["tree_size"] == sth.tree_size:
            self.assertEqual(base64.b64decode(http_sth["sha256_root_hash"]), sth.sha256_root_hash)
            self.assertEqual(base64.b64decode(http_sth["tree_head_signature"]), sth.tree_head_signature)
        for h, index in ((self.resp.scts[0].leaf_hash, pre_index), (self.resp.certificate_leaf_hash, fin_index)):
            proof = self.get_proof(ct_pb2.GetProofByHashRequest(hash=h, tree_size=sth.tree_size), timeout=10)
            self.assertEqual(proof.leaf_index, index)
            status, http_proof = http_get("get-proof-by-hash", hash=base64.b64encode(h).decode(),
                                          tree_size=sth.tree_size)
            self.assertEqual(status, 200)
            self.assertEqual([base64.b64decode(p) for p in http_proof["audit_path"]], list(proof.audit_path))
            got = self.get_entries(ct_pb2.GetEntriesRequest(start=index, end=index), timeout=10)
            self.assertEqual(len(got.entries), 1)
            self.assertEqual(leaf_hash(got.entries[0].leaf_input), h)
            ep = self.get_entry_and_proof(ct_pb2.GetEntryAndProofRequest(leaf_index=index,
                                                                          tree_size=sth.tree_size), timeout=10)
            self.assertEqual(ep.leaf_input, got.entries[0].leaf_input)
            self.assertEqual(list(ep.audit_path), list(proof.audit_path))
        roots = self.get_roots(ct_pb2.GetRootsRequest(), timeout=10)
        self.assertEqual(list(roots.certificates), [pem_to_der(self.resp.root_pem)])
        self.get_consistency(ct_pb2.GetSthConsistencyRequest(first=1, second=sth.tree_size), timeout=10)
        # A resubmission of the logged certificate gets its SCT and index back.
        again = self.add_chain(ct_pb2.AddChainRequest(chain=[pem_to_der(self.resp.certificate_pem),
                                                             pem_to_der(self.resp.chain_pem)]), timeout=10)
        self.assertEqual(again.leaf_hash, self.resp.certificate_leaf_hash)
        self.assertTrue(again.leaf_index_known)
        self.assertEqual(again.leaf_index, fin_index)

    def test_grpc_errors(self):
        sth = self.get_sth(ct_pb2.GetSthRequest(), timeout=10)
        cases = [
            (self.get_entries, ct_pb2.GetEntriesRequest(start=sth.tree_size + 5, end=sth.tree_size + 6),
             grpc.StatusCode.OUT_OF_RANGE, "ct_out_of_range"),
            (self.get_entries, ct_pb2.GetEntriesRequest(start=2, end=1),
             grpc.StatusCode.INVALID_ARGUMENT, "ct_invalid_argument"),
            (self.get_proof, ct_pb2.GetProofByHashRequest(hash=b"\x01" * 32, tree_size=sth.tree_size),
             grpc.StatusCode.NOT_FOUND, "ct_not_found"),
            (self.get_proof, ct_pb2.GetProofByHashRequest(hash=b"\x01" * 31, tree_size=sth.tree_size),
             grpc.StatusCode.INVALID_ARGUMENT, "ct_invalid_argument"),
            (self.get_consistency, ct_pb2.GetSthConsistencyRequest(first=1, second=sth.tree_size + 1),
             grpc.StatusCode.OUT_OF_RANGE, "ct_out_of_range"),
            (self.add_chain, ct_pb2.AddChainRequest(chain=[b"\x30\x00"]),
             grpc.StatusCode.INVALID_ARGUMENT, "ct_invalid_argument"),
        ]
        for call, request, code, reason in cases:
            with self.assertRaises(grpc.RpcError) as cm:
                call(request, timeout=10)
            self.assertEqual(cm.exception.code(), code, request)
            self.assertEqual(reason_of(cm.exception), reason, request)
        garbage = self.channel.unary_unary("/trustchain.v1.Transparency/GetEntries")
        with self.assertRaises(grpc.RpcError) as cm:
            garbage(b"\xff\xff\xff", timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(reason_of(cm.exception), "malformed_request")

    def test_zz_log_restart_never_yields_a_certificate_without_sct(self):
        # Kill the log outright; the supervisor restarts it. Meanwhile every
        # issuance either fails with ct_unavailable or carries an SCT.
        os.kill(int(TRANSPARENCY_PID), signal.SIGKILL)
        outcomes = set()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = self.issue(ca_pb2.IssueRequest(csr=self.csr, dns_names=[NAME]), timeout=30)
                self.assertEqual(len(r.scts), 1)
                self.assertIn(r.scts[0].sct, pem_to_der(r.certificate_pem))
                outcomes.add("issued")
                if "issued" in outcomes:
                    break
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.UNAVAILABLE, e.details())
                self.assertEqual(reason_of(e), "ct_unavailable")
                outcomes.add("unavailable")
                time.sleep(0.1)
        self.assertIn("issued", outcomes)
        with open(os.path.join(WORK_DIR, "data", "server.status")) as f:
            status = f.read()
        self.assertNotIn("transparency %s " % TRANSPARENCY_PID, status)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
