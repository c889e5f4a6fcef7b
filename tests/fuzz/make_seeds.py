#!/usr/bin/python3
"""Writes the first seeds of the trust-boundary fuzz targets (tests/trust_fuzz.cmake)
under tests/data/fuzz/<target>/: hand-encoded protobuf requests for every
gRPC method, signer operation and CT IPC operation, RFC 6962 HTTP requests,
journal lines, store edits, DER for the differential target and CRLs. ops/fuzz.sh
grows and minimizes these corpora; run this again only to restore the seeds:
  /usr/bin/python3 tests/fuzz/make_seeds.py"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
data = os.path.join(top, 'tests', 'data', 'fuzz')


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    """A protobuf field: int -> varint, bytes/str -> length-delimited."""
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def write(target, name, blob):
    d = os.path.join(data, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(blob)


def read(path):
    with open(os.path.join(data, path), 'rb') as f:
        return f.read()


csr = read('fuzz_csr/p256_san.der')
cert = read('fuzz_cert_der/ec_cert.der')
rsa_cert = read('fuzz_cert_der/rsa_cert.der')

# fuzz_gateway_rpc: method index (tc_gateway_methods order), caller, request.
methods = {
    'health': (0, field(1, 'trustchain.v1.CertificateAuthority')),
    'grpc_health': (1, b''),
    'issue': (2, field(1, csr) + field(2, 'a.fuzz.hypermesh.online') + field(3, '127.0.0.1') + field(4, 1) + field(5, 3600)),
    'issue_other': (2, field(1, csr) + field(2, 'b.other.hypermesh.online')),
    'revoke': (3, field(1, '0123456789abcdef0123456789abcdef') + field(2, 1)),
    'get_crl': (4, b''),
    'ca_certs': (5, b''),
    'validate': (6, field(1, cert) + field(2, 'a.fuzz.hypermesh.online') + field(3, 1700000000) + field(4, 1)),
    'get_sth': (7, b''),
    'consistency': (8, field(1, 1) + field(2, 2)),
    'proof_by_hash': (9, field(1, b'\x01' * 32) + field(2, 1)),
    'entries': (10, field(1, 0) + field(2, 3)),
    'roots': (11, b''),
    'entry_and_proof': (12, field(1, 0) + field(2, 1)),
    'add_chain': (13, field(1, cert) + field(1, rsa_cert)),
    'add_pre_chain': (14, field(1, cert)),
}
for name, (index, req) in methods.items():
    for caller in (0, 1):
        write('gateway_rpc', '%s_%d' % (name, caller), bytes([index, caller]) + req)

# fuzz_signer_dispatch: peer (gateway, transparency, resolver, control), Request.
ops = {
    'ping': field(1, 1) + field(15, b''),
    'random': field(1, 2) + field(13, field(1, 32)),
    'public_root': field(1, 3) + field(12, field(1, 1)),
    'public_ct': field(1, 4) + field(12, field(1, 3)),
    'sign_ct': field(1, 5) + field(11, field(1, 3) + field(2, b'\x00' * 12 + b'sth')),
    'sign_dns': field(1, 6) + field(11, field(1, 4) + field(2, b'\x00\x2e' + b'\x00' * 30)),
    'crl': field(1, 7) + field(16, b''),
    'revoke': field(1, 8) + field(14, field(1, b'\x01\x02\x03\x04\x05\x06\x07\x08') + field(2, 1)),
    'precert': field(1, 9) + field(10, field(1, cert[4:]) + field(2, 1)),
    'final': field(1, 10) + field(10, field(1, cert[4:]) + field(3, b'\x00\x02\x00\x00') + field(4, b'\x01' * 16)),
}
for name, req in ops.items():
    for peer in range(4):
        write('signer_dispatch', '%s_%d' % (name, peer), bytes([peer]) + req)

# fuzz_ct_api: byte 0 even = HTTP ("METHOD PATH?QUERY\n" body), odd = IPC.
import base64
b64 = base64.b64encode(cert).decode()
http = {
    'get_sth': 'GET /ct/v1/get-sth\n',
    'entries': 'GET /ct/v1/get-entries?start=0&end=5\n',
    'proof': 'GET /ct/v1/get-proof-by-hash?hash=%s&tree_size=300\n' % base64.b64encode(b'\x02' * 32).decode(),
    'consistency': 'GET /ct/v1/get-sth-consistency?first=10&second=300\n',
    'entry_and_proof': 'GET /ct/v1/get-entry-and-proof?leaf_index=3&tree_size=300\n',
    'roots': 'GET /ct/v1/get-roots\n',
    'add_chain': 'POST /ct/v1/add-chain\n' + json.dumps({'chain': [b64]}),
    'add_pre_chain': 'POST /ct/v1/add-pre-chain\n' + json.dumps({'chain': [b64, b64]}),
    'wrong_method': 'GET /ct/v1/add-chain\n',
}
for name, req in http.items():
    write('ct_api', 'http_' + name, b'\x00' + req.encode())
ipc = {
    'add_chain': field(1, 1) + field(10, field(1, cert)),
    'add_pre_chain': field(1, 2) + field(11, field(1, cert) + field(2, 1)),
    'get_sth': field(1, 3) + field(12, b''),
    'consistency': field(1, 4) + field(13, field(1, 10) + field(2, 300)),
    'proof': field(1, 5) + field(14, field(1, b'\x03' * 32) + field(2, 300)),
    'entries': field(1, 6) + field(15, field(1, 0) + field(2, 9)),
    'roots': field(1, 7) + field(16, b''),
    'entry_and_proof': field(1, 8) + field(17, field(1, 5) + field(2, 300)),
}
for name, req in ipc.items():
    write('ct_api', 'ipc_' + name, b'\x01' + req)

# fuzz_journal: byte 0 = mode (odd: the harness appends hashes, & 2: and chains prev).
def journal(n):
    prev = '0' * 64
    out = b''
    for seq in range(1, n + 1):
        rec = json.dumps({'seq': seq, 'time': 1700000000 + seq, 'peer': 'gateway', 'op': 'sign_certificate',
                          'key': 'intermediate', 'digest': hashlib.sha256(b'%d' % seq).hexdigest(),
                          'result': 'ok', 'detail': '', 'prev': prev}, separators=(',', ':')).encode()
        h = hashlib.sha256(rec).hexdigest()
        out += rec + b'\t' + h.encode() + b'\n'
        prev = h
    return out
write('journal', 'valid3', b'\x00' + journal(3))
write('journal', 'torn_tail', b'\x00' + journal(2) + b'{"seq":3')
lines = b''.join(l.split(b'\t')[0] + b'\n' for l in journal(3).splitlines())
write('journal', 'hashed3', b'\x03' + lines)
write('journal', 'hashed_unchained', b'\x01' + lines)

# fuzz_ct_store: op key_len key val_len(2) value; op >> 1 picks L H N T P S M.
def edit(op, key, value=b''):
    return bytes([op, len(key)]) + key + len(value).to_bytes(2, 'big') + value
write('ct_store', 'leaf_short', edit(0, (3).to_bytes(8, 'big'), b'\x00\x00\x00\x50ab'))
write('ct_store', 'leaf_len_huge', edit(0, (0).to_bytes(8, 'big'), b'\xff\xff\xff\xff'))
write('ct_store', 'size_bigger', edit(12, b'size', (40).to_bytes(8, 'big')))
write('ct_store', 'size_short', edit(12, b'size', b'\x01'))
write('ct_store', 'no_format', edit(13, b'format'))
write('ct_store', 'latest_sth_other', edit(12, b'latest_sth', (7).to_bytes(8, 'big')))
write('ct_store', 'sth_short', edit(6, (24).to_bytes(8, 'big'), b'\x00' * 20))
write('ct_store', 'node_missing', edit(5, b'\x03' + (2).to_bytes(8, 'big')))
write('ct_store', 'node_short', edit(4, b'\x00' + (5).to_bytes(8, 'big'), b'\x01' * 31))
write('ct_store', 'hash_index_far', edit(2, b'\x00' * 32, (1 << 62).to_bytes(8, 'big')))
write('ct_store', 'pending_bad', edit(8, (1).to_bytes(8, 'big'), b'\x00\x00\x10\x00x'))
write('ct_store', 'submission_long', edit(10, b'\x07' * 32, b'\x01' * 600))

# fuzz_der_diff: certificates, and a SubjectPublicKeyInfo of each kind.
for name in ('ec_cert.der', 'rsa_cert.der'):
    write('der_diff', name, read('fuzz_cert_der/' + name))
for name in os.listdir(os.path.join(data, 'chain_check')):
    blob = read('chain_check/' + name)
    if blob[:1] == b'\x30':
        write('der_diff', 'chain_' + name, blob)
with tempfile.TemporaryDirectory() as tmp:
    for alg, args in (('p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
                      ('p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']),
                      ('ed25519', ['-algorithm', 'ED25519']),
                      ('rsa1024', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'])):
        key = os.path.join(tmp, alg)
        subprocess.run(['openssl', 'genpkey', *args, '-out', key], check=True, capture_output=True)
        spki = subprocess.run(['openssl', 'pkey', '-in', key, '-pubout', '-outform', 'DER'], check=True,
                              capture_output=True).stdout
        write('der_diff', 'spki_' + alg, spki)
def crl_seeds():
    """fuzz_crl_view: small CRLs signed with each key kind our reader verifies."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import NameOID
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'TrustChain fuzz'),
                      x509.NameAttribute(NameOID.COMMON_NAME, 'CRL seed')])
    when = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    keys = (('p256', ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()),
            ('p384', ec.generate_private_key(ec.SECP384R1()), hashes.SHA384()),
            ('rsa1024', rsa.generate_private_key(65537, 1024), hashes.SHA256()),
            ('ed25519', ed25519.Ed25519PrivateKey.generate(), None))
    for kind, key, digest in keys:
        for entries in (0, 3):
            b = (x509.CertificateRevocationListBuilder().issuer_name(name).last_update(when)
                 .next_update(when + datetime.timedelta(days=1)).add_extension(x509.CRLNumber(entries + 1), False))
            for i in range(entries):
                rb = (x509.RevokedCertificateBuilder().serial_number((0x80 << (8 * i)) + i + 1)
                      .revocation_date(when))
                if i:
                    rb = rb.add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), False)
                b = b.add_revoked_certificate(rb.build())
            crl = b.sign(key, digest)
            write('crl_view', '%s_%d' % (kind, entries), crl.public_bytes(serialization.Encoding.DER))


crl_seeds()
print('seeds written under', data, file=sys.stderr)
