"""RFC 6962 / RFC 9162 client-side checks the soak and fault tests share:
leaf hashes computed from what a client holds (never the server's word),
inclusion and consistency proofs, and tree-head signatures."""
import hashlib
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _h(*parts):
    d = hashlib.sha256()
    for p in parts:
        d.update(p)
    return d.digest()


def _u24(n):
    return struct.pack(">I", n)[1:]


def sct_parts(sct_tls):
    """(timestamp, extensions) of a TLS-encoded v1 SCT."""
    if len(sct_tls) < 43 or sct_tls[0] != 0:
        raise ValueError("not a v1 SCT")
    ts = struct.unpack(">Q", sct_tls[33:41])[0]
    ext_len = struct.unpack(">H", sct_tls[41:43])[0]
    ext = sct_tls[43:43 + ext_len]
    if len(ext) != ext_len:
        raise ValueError("SCT cut short")
    return ts, ext


def x509_leaf_hash(cert_der, timestamp, ext):
    """Leaf hash of an x509_entry (add-chain, a logged final certificate)."""
    leaf = (b"\x00\x00" + struct.pack(">QH", timestamp, 0) + _u24(len(cert_der)) + cert_der +
            struct.pack(">H", len(ext)) + ext)
    return _h(b"\x00", leaf)


def precert_leaf_hash(cert_der, issuer_spki_der, timestamp, ext):
    """Leaf hash of the precert_entry a final certificate with embedded SCTs
    came from: its TBS without the SCT list, under the issuer's key hash."""
    tbs = x509.load_der_x509_certificate(cert_der).tbs_precertificate_bytes
    leaf = (b"\x00\x00" + struct.pack(">QH", timestamp, 1) + hashlib.sha256(issuer_spki_der).digest() +
            _u24(len(tbs)) + tbs + struct.pack(">H", len(ext)) + ext)
    return _h(b"\x00", leaf)


def spki_of_pem(pem):
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _h(b"\x01", p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _h(b"\x01", r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, path):
    """RFC 9162 2.1.4.2 (first > 0)."""
    if first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first & (first - 1) == 0:
        path = [first_root] + list(path)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _h(b"\x01", c, fr)
            sr = _h(b"\x01", c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _h(b"\x01", sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def verify_sth_signature(pubkey_pem, tree_size, timestamp, root, sig):
    """The tree_head_signature (DigitallySigned, ECDSA SHA-256) over the
    RFC 6962 TreeHeadSignature of (timestamp, tree_size, root)."""
    key = serialization.load_pem_public_key(pubkey_pem)
    if len(sig) < 4 or sig[0] != 4 or sig[1] != 3:
        return False
    n = struct.unpack(">H", sig[2:4])[0]
    if len(sig) != 4 + n:
        return False
    signed = b"\x00\x01" + struct.pack(">QQ", timestamp, tree_size) + root
    try:
        key.verify(sig[4:], signed, ec.ECDSA(hashes.SHA256()))
        return True
    except Exception:  # InvalidSignature or a malformed DER signature
        return False
