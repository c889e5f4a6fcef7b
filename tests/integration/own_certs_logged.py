#!/usr/bin/python3
"""Our own processes' certificates are logged like every issued one, as a CT
monitor and a TLS client see them.

Usage: own_certs_logged.py CT_HTTP DATA_DIR LOG_FINAL NAME=CERT.pem...
For each certificate (leaf first in CERT.pem): exactly one embedded SCT,
from our log (log ID = SHA-256 of data/ct/log_public_key.pem), whose
signature verifies over the RFC 6962 precertificate entry rebuilt from the
certificate; that entry is in the log's signed tree (get-proof-by-hash,
get-entries give it back byte for byte); with LOG_FINAL=1 the certificate
itself is an x509 entry of the tree too. Exit 0 when all hold."""
import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CT_HTTP, DATA_DIR, LOG_FINAL = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
CERTS = [a.split("=", 1) for a in sys.argv[4:]]
WAIT_S = 30


def http_get(path, **query):
    url = "http://%s/ct/v1/%s?%s" % (CT_HTTP, path, urllib.parse.urlencode(query))
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def spki_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def u(n, width):
    return n.to_bytes(width, "big")


def precert_entry(sct, cert, issuer_key_hash):
    """RFC 6962 3.2: the signed part of a precert_entry (without the
    version, type and timestamp that precede it)."""
    tbs = cert.tbs_precertificate_bytes
    return u(1, 2) + issuer_key_hash + u(len(tbs), 3) + tbs + u(len(sct.extension_bytes), 2) + sct.extension_bytes


def entry_index(leaf_hash):
    """The leaf's index once a signed tree covers it, within WAIT_S."""
    b64 = base64.b64encode(leaf_hash).decode()
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        status, sth = http_get("get-sth")
        if status == 200 and sth["tree_size"] > 0:
            status, proof = http_get("get-proof-by-hash", hash=b64, tree_size=sth["tree_size"])
            if status == 200:
                return proof["leaf_index"], sth["tree_size"]
        time.sleep(0.1)
    return None, None


def leaf_input_at(index):
    status, got = http_get("get-entries", start=index, end=index)
    return base64.b64decode(got["entries"][0]["leaf_input"]) if status == 200 else None


def x509_entry_present(der):
    """An x509_entry of exactly der in the tree, within WAIT_S."""
    want = u(len(der), 3) + der
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        status, sth = http_get("get-sth")
        size = sth["tree_size"] if status == 200 else 0
        start = 0
        while start < size:
            status, got = http_get("get-entries", start=start, end=size - 1)
            if status != 200 or not got["entries"]:
                break
            for e in got["entries"]:
                leaf = base64.b64decode(e["leaf_input"])
                if leaf[10:12] == u(0, 2) and leaf[12:15 + len(der)] == want:
                    return True
            start += len(got["entries"])
        time.sleep(0.2)
    return False


def check(name, path, log_key, log_id, issuer_key_hash):
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    problems = []
    try:
        scts = list(cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value)
    except x509.ExtensionNotFound:
        return ["%s: no embedded SCT" % name]
    if len(scts) != 1:
        return ["%s: %d SCTs, want 1" % (name, len(scts))]
    sct = scts[0]
    if sct.log_id != log_id:
        problems.append("%s: SCT from log %s, not ours" % (name, sct.log_id.hex()))
    # The timestamp in milliseconds, as encoded (sct.timestamp is a
    # datetime that may round): the TLS SCT in the certificate is
    # version 0, log ID, timestamp.
    der = cert.public_bytes(serialization.Encoding.DER)
    at = der.find(b"\x00" + sct.log_id)
    ms = int.from_bytes(der[at + 33:at + 41], "big")
    entry = precert_entry(sct, cert, issuer_key_hash)
    signed = u(0, 1) + u(0, 1) + u(ms, 8) + entry
    try:
        log_key.verify(sct.signature, signed, ec.ECDSA(hashes.SHA256()))
    except Exception:
        problems.append("%s: the SCT's signature does not verify with the log key" % name)
    leaf_input = u(0, 1) + u(0, 1) + u(ms, 8) + entry
    leaf_hash = hashlib.sha256(b"\x00" + leaf_input).digest()
    index, size = entry_index(leaf_hash)
    if index is None:
        problems.append("%s: its precertificate entry is not in the log's tree" % name)
    elif leaf_input_at(index) != leaf_input:
        problems.append("%s: get-entries at %d is not its precertificate entry" % (name, index))
    else:
        print("ok: %s: SCT verifies; precertificate entry %d in the tree of size %d" % (name, index, size))
    if LOG_FINAL:
        if x509_entry_present(der):
            print("ok: %s: the final certificate is logged too" % name)
        else:
            problems.append("%s: the final certificate is not in the log" % name)
    return problems


def main():
    with open(DATA_DIR + "/ct/log_public_key.pem", "rb") as f:
        log_key = serialization.load_pem_public_key(f.read())
    log_id = hashlib.sha256(spki_der(log_key)).digest()
    with open(DATA_DIR + "/ca/intermediate.pem", "rb") as f:
        inter = x509.load_pem_x509_certificate(f.read())
    issuer_key_hash = hashlib.sha256(spki_der(inter.public_key())).digest()
    problems = []
    for name, path in CERTS:
        problems += check(name, path, log_key, log_id, issuer_key_hash)
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
