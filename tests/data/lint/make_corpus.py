#!/usr/bin/python3
"""Writes the lint corpus next to this script: one TBSCertificate per lint
that fails that lint and no other (<profile>--<lint>.der), and the good
ones every bad file starts from (<profile>--good.der); profiles leaf,
precert, sub_ca, root, cross (a rollover root certified by the old) and crl. test_lint reads them;
the issuer they name is the one test_lint passes to tc_lint_tbs (CN "Lint
Test Issuing CA", subjectKeyIdentifier 20 x 0x11, ecdsa-with-SHA256) and the
policy permits example.com for 24 hours, IP addresses, no wildcards.

Run it again after changing a lint (/usr/bin/python3 make_corpus.py); it is
deterministic, so the files only change when this script does."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def seq(*parts):
    return tlv(0x30, b''.join(parts))


def oid(dotted):
    arcs = [int(a) for a in dotted.split('.')]
    out = bytes([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7f]
        a >>= 7
        while a:
            enc.append(0x80 | (a & 0x7f))
            a >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, out)


def integer(raw):
    return tlv(0x02, raw)


def name(*rdns):
    """rdns: (oid, tag, bytes)"""
    return seq(*[tlv(0x31, seq(oid(o), tlv(t, v))) for o, t, v in rdns])


CN, O = '2.5.4.3', '2.5.4.10'
UTF8, PRINTABLE = 0x0c, 0x13
ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'))
ECDSA_SHA384 = seq(oid('1.2.840.10045.4.3.3'))
ISSUER = name((O, UTF8, b'Lint Test'), (CN, UTF8, b'Lint Test Issuing CA'))
ISSUER_KEY_ID = b'\x11' * 20
P256 = bytes.fromhex(
    '3059301306072a8648ce3d020106082a8648ce3d03010703420004a83400c8132ca8dc975d429d396802e72157acba64680ef444'
    'bfb4022676f9ff6037265b216c3d13cf46f9f50a4767f5fe37a99568f6a609a6d028c9035361f1')
RSA2048 = bytes.fromhex(
    '30820122300d06092a864886f70d01010105000382010f003082010a0282010100acacb1204b5be2f409a365e32afb2edda654f0'
    '59a4af237a53f09219402022eab06ed7477b57a1cd18266b16b82d1454e159cd15709267e4d87433d97fdd145ac0bca9afd93b65'
    'e8a45308dc75fc946b994f11706aae8314c885ccac474f675972155c946ef83b60b27880472341450172fa6912b4ec7a3f1b2e10'
    '98b92ede50fcf428e12418e2a3938a1c8b961dac7bbb1e581665ebe53d67f5034bff3ec27c533640a2fcdf4c017f1938bb419ce0'
    '14280f57559c8c90ac1e403966fc3f40c23f22b74104c9b2207be018fb98574c8ec156a24a40d5d45654693d4258df22d99120f3'
    'c1e9878fccca1fc8c96935441b657971275ef1d68801698ead60055a0b0203010001')


def ext(dotted, value, critical=False):
    return seq(oid(dotted), tlv(0x01, b'\xff') if critical else b'', tlv(0x04, value))


def ku(bits, unused):
    return tlv(0x03, bytes([unused]) + bits)


def gn_dns(s):
    return tlv(0x82, s)


def gn_ip(b):
    return tlv(0x87, b)


def uri(s):
    return tlv(0x86, s)


def validity(nb=b'261206120000Z', na=b'261207110000Z', nb_tag=0x17, na_tag=0x17):
    return seq(tlv(nb_tag, nb), tlv(na_tag, na))


SAN = ext('2.5.29.17', seq(gn_dns(b'www.example.com'), gn_dns(b'example.com'), gn_ip(b'\xc0\x00\x02\x01')))
BC_LEAF = ext('2.5.29.19', seq(), True)
KU_LEAF_EC = ext('2.5.29.15', ku(b'\x80', 7), True)
EKU = ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')))
AKI = ext('2.5.29.35', seq(tlv(0x80, ISSUER_KEY_ID)))
SKI = ext('2.5.29.14', tlv(0x04, b'\x22' * 20))
CDP = ext('2.5.29.31', seq(seq(tlv(0xa0, tlv(0xa0, uri(b'http://127.0.0.1:8080/crl/intermediate.crl'))))))
AIA = ext('1.3.6.1.5.5.7.1.1', seq(seq(oid('1.3.6.1.5.5.7.48.2'), uri(b'http://127.0.0.1:8080/ca/intermediate.crt'))))
POISON = ext('1.3.6.1.4.1.11129.2.4.3', b'\x05\x00', True)
SCTS = ext('1.3.6.1.4.1.11129.2.4.2', tlv(0x04, b'\x00\x02\x00\x00'))


def tbs(serial=b'\x40' + b'\x01' * 15, alg=ECDSA_SHA256, issuer=ISSUER, val=None, subject=None, spki=P256,
        exts=None, version=True):
    if subject is None:
        subject = name((CN, UTF8, b'www.example.com'))
    parts = [tlv(0xa0, integer(b'\x02')) if version else b'', integer(serial), alg, issuer, val or validity(),
             subject, spki]
    if exts is not None:
        parts.append(tlv(0xa3, seq(*exts)))
    return seq(*parts)


LEAF_EXTS = [BC_LEAF, KU_LEAF_EC, EKU, SAN, AKI, CDP, AIA, SKI]


def leaf(**kw):
    kw.setdefault('exts', LEAF_EXTS + [SCTS])
    return tbs(**kw)


def precert(**kw):
    kw.setdefault('exts', LEAF_EXTS + [POISON])
    return tbs(**kw)


def replace(exts, old, new):
    return [new if e == old else e for e in exts]


def without(exts, drop):
    return [e for e in exts if e != drop]


# The intermediate: what ceremony create-intermediate writes.
SUB_NAME = ISSUER
ROOT_NAME = name((O, UTF8, b'Lint Test'), (CN, UTF8, b'Lint Test Root CA'))
BC_SUB = ext('2.5.29.19', seq(tlv(0x01, b'\xff'), integer(b'\x00')), True)
KU_CA = ext('2.5.29.15', ku(b'\x06', 1), True)
NC = ext('2.5.29.30', seq(tlv(0xa0, seq(gn_dns(b'example.com')) + seq(gn_ip(b'\x7f\x00\x00\x00\xff\x00\x00\x00')))),
         True)
SUB_EXTS = [BC_SUB, KU_CA, ext('2.5.29.14', tlv(0x04, ISSUER_KEY_ID)), ext('2.5.29.35', seq(tlv(0x80, b'\x33' * 20))),
            NC]


def sub(**kw):
    kw.setdefault('exts', SUB_EXTS)
    kw.setdefault('subject', SUB_NAME)
    kw.setdefault('issuer', ROOT_NAME)
    kw.setdefault('alg', ECDSA_SHA384)
    kw.setdefault('val', validity(b'261206120000Z', b'271206120000Z'))
    return tbs(**kw)


ROOT_EXTS = [ext('2.5.29.19', seq(tlv(0x01, b'\xff')), True), KU_CA, ext('2.5.29.14', tlv(0x04, b'\x33' * 20))]


def root(**kw):
    kw.setdefault('exts', ROOT_EXTS)
    kw.setdefault('subject', ROOT_NAME)
    kw.setdefault('issuer', ROOT_NAME)
    kw.setdefault('alg', ECDSA_SHA384)
    kw.setdefault('val', validity(b'261206120000Z', b'361206120000Z'))
    return tbs(**kw)


def cross(**kw):
    """A rollover root's key and subject certified by the old root."""
    kw.setdefault('exts', [ext('2.5.29.19', seq(tlv(0x01, b'\xff')), True), KU_CA,
                           ext('2.5.29.14', tlv(0x04, b'\x55' * 20)), ext('2.5.29.35', seq(tlv(0x80, b'\x33' * 20)))])
    kw.setdefault('subject', name((O, UTF8, b'Lint Test'), (CN, UTF8, b'Lint Test Root CA 2')))
    kw.setdefault('issuer', ROOT_NAME)
    kw.setdefault('alg', ECDSA_SHA384)
    kw.setdefault('val', validity(b'261206120000Z', b'361206120000Z'))
    return tbs(**kw)


CRL_NUMBER = ext('2.5.29.20', integer(b'\x69\x36\x2a\x00'))
CRL_AKI = ext('2.5.29.35', seq(tlv(0x80, ISSUER_KEY_ID)))


def entry(serial=b'\x40' + b'\x02' * 15, reason=b'\x01'):
    return seq(integer(serial), tlv(0x17, b'261206120500Z'), seq(ext('2.5.29.21', tlv(0x0a, reason))))


def crl(version=b'\x01', this=b'261206120000Z', nxt=b'261213120000Z', entries=(None,), exts=(CRL_NUMBER, CRL_AKI)):
    parts = [integer(version) if version else b'', ECDSA_SHA256, ISSUER, tlv(0x17, this)]
    if nxt:
        parts.append(tlv(0x17, nxt))
    if entries is not None:
        parts.append(seq(*[e or entry() for e in entries]))
    parts.append(tlv(0xa0, seq(*exts)))
    return seq(*parts)


CORPUS = {
    'crl--good': crl(),
    'crl--good_empty': crl(entries=None),
    'crl--lint_crl_malformed': crl(entries=()),
    'crl--lint_crl_version': crl(version=None),
    'crl--lint_crl_update_order': crl(nxt=None),
    'crl--lint_crl_number': crl(exts=(CRL_AKI,)),
    'crl--lint_crl_aki_missing': crl(exts=(CRL_NUMBER,)),
    'crl--lint_crl_serial': crl(entries=(entry(serial=b'\x00'),)),
    'leaf--good': leaf(),
    'precert--good': precert(),
    'leaf--good_rsa': leaf(spki=RSA2048, exts=replace(LEAF_EXTS, KU_LEAF_EC,
                                                      ext('2.5.29.15', ku(b'\xa0', 5), True))),
    'sub_ca--good': sub(),
    'root--good': root(),
    'cross--good': cross(),
    'cross--lint_aki_missing': cross(exts=[ext('2.5.29.19', seq(tlv(0x01, b'\xff')), True), KU_CA,
                                           ext('2.5.29.14', tlv(0x04, b'\x55' * 20))]),
    # structure
    'leaf--lint_tbs_malformed': leaf()[:-1],
    'leaf--lint_version_not_v3': leaf(version=False),
    'leaf--lint_serial_not_positive': leaf(serial=b'\x80' + b'\x01' * 15),
    'leaf--lint_serial_too_long': leaf(serial=b'\x40' + b'\x01' * 20),
    'leaf--lint_signature_algorithm': leaf(alg=ECDSA_SHA384),
    'leaf--lint_issuer_empty': leaf(issuer=seq()),
    'leaf--lint_issuer_name_mismatch': leaf(issuer=name((CN, UTF8, b'Somebody Else'))),
    'leaf--lint_name_encoding': leaf(subject=name((CN, PRINTABLE, b'www.example.com*'))),
    'leaf--lint_time_encoding': leaf(val=validity(b'20261206120000Z', b'261207110000Z', nb_tag=0x18)),
    'leaf--lint_validity_order': leaf(val=validity(b'261207110000Z', b'261206120000Z')),
    'sub_ca--lint_subject_empty': sub(subject=seq()),
    'leaf--lint_public_key': leaf(spki=P256.replace(bytes.fromhex('2a8648ce3d030107'), bytes.fromhex('2a8648ce3d030108'))),
    'leaf--lint_extensions_missing': leaf(exts=None),
    # extensions
    'leaf--lint_extension_duplicate': leaf(exts=LEAF_EXTS + [SCTS, EKU]),
    'leaf--lint_extension_unknown_critical': leaf(exts=LEAF_EXTS + [ext('1.2.3.4', b'\x05\x00', True)]),
    'leaf--lint_extension_not_allowed': leaf(exts=LEAF_EXTS + [ext('2.5.29.32', seq(seq(oid('2.23.140.1.2.1'))))]),
    'leaf--lint_extension_criticality': leaf(exts=replace(LEAF_EXTS, EKU, ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.1')), True))),
    'leaf--lint_extension_encoding': leaf(exts=replace(LEAF_EXTS, KU_LEAF_EC, ext('2.5.29.15', ku(b'\x80\x00', 0), True))),
    'leaf--lint_basic_constraints_missing': leaf(exts=without(LEAF_EXTS, BC_LEAF)),
    'leaf--lint_basic_constraints_ca': leaf(exts=replace(LEAF_EXTS, BC_LEAF, ext('2.5.29.19', seq(tlv(0x01, b'\xff')), True))),
    'leaf--lint_key_usage_missing': leaf(exts=without(LEAF_EXTS, KU_LEAF_EC)),
    'leaf--lint_key_usage_inconsistent': leaf(exts=replace(LEAF_EXTS, KU_LEAF_EC, ext('2.5.29.15', ku(b'\xa0', 5), True))),
    'leaf--lint_ext_key_usage': leaf(exts=without(LEAF_EXTS, EKU)),
    'leaf--lint_san_missing': leaf(exts=without(LEAF_EXTS, SAN)),
    'leaf--lint_san_empty_name': leaf(exts=replace(LEAF_EXTS, SAN, ext('2.5.29.17', seq(gn_dns(b'www.example.com'), gn_dns(b''))))),
    'leaf--lint_san_bad_dns_name': leaf(exts=replace(LEAF_EXTS, SAN, ext('2.5.29.17', seq(gn_dns(b'www.example.com\x00.evil.org'))))),
    'leaf--lint_san_bad_ip_length': leaf(exts=replace(LEAF_EXTS, SAN, ext('2.5.29.17', seq(gn_dns(b'www.example.com'), gn_ip(b'\x7f\x00\x00\x01\xff\xff\xff\xff'))))),
    'leaf--lint_san_name_type': leaf(exts=replace(LEAF_EXTS, SAN, ext('2.5.29.17', seq(gn_dns(b'www.example.com'), tlv(0x81, b'a@example.com'))))),
    'leaf--lint_aki_missing': leaf(exts=without(LEAF_EXTS, AKI)),
    'leaf--lint_aki_mismatch': leaf(exts=replace(LEAF_EXTS, AKI, ext('2.5.29.35', seq(tlv(0x80, b'\x44' * 20))))),
    'leaf--lint_ski_missing': leaf(exts=without(LEAF_EXTS, SKI)),
    'leaf--lint_ct_poison': leaf(exts=LEAF_EXTS + [POISON]),
    'precert--lint_ct_poison': precert(exts=LEAF_EXTS),
    'sub_ca--lint_name_constraints': sub(exts=replace(SUB_EXTS, NC, ext(
        '2.5.29.30', seq(tlv(0xa0, seq(gn_ip(b'\x7f\x00\x00\x00\xff\x00\xff\x00')))), True))),
    'leaf--lint_distribution_url': leaf(exts=replace(LEAF_EXTS, CDP, ext(
        '2.5.29.31', seq(seq(tlv(0xa0, tlv(0xa0, uri(b'ldap://ca.example.com/crl')))))))),
    # policy
    'leaf--lint_policy_validity': leaf(val=validity(b'261206120000Z', b'261207120001Z')),
    'leaf--lint_policy_name': leaf(exts=replace(LEAF_EXTS, SAN, ext('2.5.29.17', seq(gn_dns(b'www.example.com'), gn_dns(b'www.example.org'))))),
}

if __name__ == '__main__':
    for old in os.listdir(HERE):
        if old.endswith('.der'):
            os.remove(os.path.join(HERE, old))
    for fname, der in CORPUS.items():
        with open(os.path.join(HERE, fname + '.der'), 'wb') as f:
            f.write(der)
    print(f'{len(CORPUS)} files')
