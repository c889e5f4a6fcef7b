#!/usr/bin/python3
"""Issuance load and its audit, for the fault tests (hsm_fault_test.sh).

  issue_load.py issue GEN_DIR TARGET DATA_DIR CSR_PEM OUT COUNT THREADS NAME
      COUNT Issue calls for NAME over THREADS threads; one JSON line per
      call appended to OUT: ok, code, reason, detail, certificate PEM, SCT
      leaf hashes, certificate leaf hash. Prints "ok=N refused=M codes=...".
  issue_load.py audit GEN_DIR TARGET DATA_DIR OUT...
      Checks every issuance the OUT files recorded: each certificate
      returned verifies under data/ca (intermediate, then root), embeds an
      SCT list, is in the audit journal (its SHA-256 is a record's digest,
      result ok), and its precertificate entry (the SCT's leaf hash) and its
      own entry are in the CT log's tree (GetProofByHash, the audit path
      checked against GetSth's root); each refusal is UNAVAILABLE with a
      trustchain-reason (a caller may retry). Exit 1 with the first problem.
"""
import hashlib
import json
import os
import sys
import threading
import time

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID

GEN_DIR, TARGET, DATA_DIR = sys.argv[2:5]
sys.path.insert(0, GEN_DIR)
from trustchain.v1 import ca_pb2, transparency_pb2  # noqa: E402


def channel():
    with open(os.path.join(DATA_DIR, "ca", "root.pem"), "rb") as f:
        root = f.read()
    ch = grpc.secure_channel(TARGET, grpc.ssl_channel_credentials(root_certificates=root))
    grpc.channel_ready_future(ch).result(timeout=20)
    return ch


def stub(ch, path, req, resp):
    return ch.unary_unary(path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString)


def reason_of(err):
    for key, value in err.trailing_metadata() or ():
        if key == "trustchain-reason":
            return value
    return ""


def issue(csr_path, out, count, threads, name):
    with open(csr_path, "rb") as f:
        csr = x509.load_pem_x509_csr(f.read()).public_bytes(Encoding.DER)
    ch = channel()
    call = stub(ch, "/trustchain.v1.CertificateAuthority/Issue", ca_pb2.IssueRequest, ca_pb2.IssueResponse)
    lock = threading.Lock()
    todo = [count]
    lines = []

    def worker():
        while True:
            with lock:
                if todo[0] == 0:
                    return
                todo[0] -= 1
            rec = {"t": time.time()}
            try:
                r = call(ca_pb2.IssueRequest(csr=csr, dns_names=[name], validity_seconds=3600), timeout=30)
                # When the caller holds the certificate (CLOCK_MONOTONIC, as
                # io_recorder.c stamps the server's writes and syncs).
                rec["ack_mono"] = time.monotonic()
                der = x509.load_pem_x509_certificate(r.certificate_pem.encode()).public_bytes(Encoding.DER)
                rec["digest"] = hashlib.sha256(der).hexdigest()
                rec.update(ok=True, code="OK", cert=r.certificate_pem, serial=r.serial,
                           sct_leaf_hashes=[s.leaf_hash.hex() for s in r.scts],
                           cert_leaf_hash=r.certificate_leaf_hash.hex(), logged=r.certificate_logged)
            except grpc.RpcError as e:
                rec.update(ok=False, code=e.code().name, reason=reason_of(e), detail=e.details())
            rec["ms"] = round((time.time() - rec["t"]) * 1000, 1)
            with lock:
                lines.append(rec)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(out, "a") as f:
        for rec in lines:
            f.write(json.dumps(rec) + "\n")
    codes = {}
    for rec in lines:
        key = rec["code"] if rec["ok"] else rec["code"] + "/" + rec.get("reason", "")
        codes[key] = codes.get(key, 0) + 1
    ms = sorted(rec["ms"] for rec in lines if rec["ok"])
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0
    print("ok=%d refused=%d p99_ms=%s codes=%s" % (sum(1 for r in lines if r["ok"]),
                                                  sum(1 for r in lines if not r["ok"]), p99,
                                                  ",".join("%s:%d" % kv for kv in sorted(codes.items()))))


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index, size, leaf, path):
    """RFC 9162 2.1.3.2: the root an inclusion proof leads to."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_signed_by(cert, issuer):
    pub = issuer.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    elif isinstance(pub, rsa.RSAPublicKey):
        pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    else:
        raise ValueError("unexpected issuer key")


def audit(outs):
    def fail(msg):
        print("AUDIT FAIL: " + msg)
        sys.exit(1)

    with open(os.path.join(DATA_DIR, "ca", "intermediate.pem"), "rb") as f:
        inter = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(DATA_DIR, "ca", "root.pem"), "rb") as f:
        root = x509.load_pem_x509_certificate(f.read())
    verify_signed_by(inter, root)
    journal = {}
    with open(os.path.join(DATA_DIR, "journal", "audit.jsonl"), "rb") as f:
        for line in f:
            rec = json.loads(line.split(b"\t")[0])
            journal[rec.get("digest")] = rec
    ch = channel()
    sth = stub(ch, "/trustchain.v1.Transparency/GetSth", transparency_pb2.GetSthRequest,
               transparency_pb2.GetSthResponse)
    proof = stub(ch, "/trustchain.v1.Transparency/GetProofByHash", transparency_pb2.GetProofByHashRequest,
                 transparency_pb2.GetProofByHashResponse)
    recs = []
    for out in outs:
        with open(out) as f:
            recs += [json.loads(line) for line in f if line.strip()]
    issued = [r for r in recs if r["ok"]]
    # Every entry returned must be sequenced within the merge delay; wait
    # for a tree head that covers them (the log sequences every ~100 ms).
    deadline = time.time() + 30
    head = None
    while time.time() < deadline:
        head = sth(transparency_pb2.GetSthRequest(), timeout=10)
        missing = 0
        for r in issued:
            for h in r["sct_leaf_hashes"] + ([r["cert_leaf_hash"]] if r["logged"] else []):
                try:
                    proof(transparency_pb2.GetProofByHashRequest(hash=bytes.fromhex(h), tree_size=head.tree_size),
                          timeout=10)
                except grpc.RpcError:
                    missing += 1
        if missing == 0:
            break
        time.sleep(0.5)
    for r in issued:
        cert = x509.load_pem_x509_certificate(r["cert"].encode())
        try:
            verify_signed_by(cert, inter)
        except Exception as e:  # noqa: BLE001
            fail("certificate %s does not verify under the intermediate: %s" % (r["serial"], e))
        try:
            cert.extensions.get_extension_for_oid(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS)
        except x509.ExtensionNotFound:
            fail("certificate %s has no SCT list" % r["serial"])
        if not r["sct_leaf_hashes"]:
            fail("certificate %s returned without SCTs" % r["serial"])
        digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
        j = journal.get(digest)
        if not j or j.get("result") != "ok":
            fail("certificate %s is not in the audit journal" % r["serial"])
        for h in r["sct_leaf_hashes"] + ([r["cert_leaf_hash"]] if r["logged"] else []):
            try:
                p = proof(transparency_pb2.GetProofByHashRequest(hash=bytes.fromhex(h), tree_size=head.tree_size),
                          timeout=10)
            except grpc.RpcError as e:
                fail("entry %s of certificate %s not in the log tree of size %d: %s" %
                     (h, r["serial"], head.tree_size, e.code().name))
            if root_from_path(p.leaf_index, head.tree_size, bytes.fromhex(h), list(p.audit_path)) != \
                    head.sha256_root_hash:
                fail("inclusion proof of %s does not lead to the signed root" % h)
    refused = [r for r in recs if not r["ok"]]
    # A fault is the service's, not the caller's: a refusal says retry.
    for r in refused:
        if r["code"] != "UNAVAILABLE" or not r.get("reason"):
            fail("a refusal that is not UNAVAILABLE with a reason: %s %s %s" % (r["code"], r.get("reason"),
                                                                                 r.get("detail")))
    print("audit: %d certificates (journal, SCTs, CT inclusion proofs at tree size %d), %d refusals with "
          "reasons %s" % (len(issued), head.tree_size if head else 0, len(refused),
                          ",".join(sorted(set(r["code"] + "/" + r.get("reason", "") for r in refused)))))


if __name__ == "__main__":
    if sys.argv[1] == "issue":
        csr_path, out, count, threads, name = sys.argv[5:10]
        issue(csr_path, out, int(count), int(threads), name)
    elif sys.argv[1] == "audit":
        audit(sys.argv[5:])
    else:
        sys.exit("usage: see the docstring")
