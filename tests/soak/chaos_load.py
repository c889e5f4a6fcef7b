#!/usr/bin/python3
"""Mixed load on a running trustchain-server, and the checks made afterwards
from what the clients recorded (tests/soak/chaos.sh drives both).

  chaos_load.py load  --seconds N --out RECORDS.jsonl [common options]
  chaos_load.py check --records RECORDS.jsonl --events EVENTS [common options]

load runs client threads (Issue, Validate, Revoke, CT add-chain, get-sth,
get-proof-by-hash, DNS over UDP, TCP and QUIC) for N seconds and writes one
JSON record per call. check then proves, from those records alone and the
server's public interfaces (plus the audit journal file):
  - every certificate returned has its precertificate entry in the CT log:
    the leaf hash is computed here from the certificate and its SCT, found
    with get-proof-by-hash and its audit path verified against a signed
    tree head; the same for every add-chain SCT and logged final certificate;
  - every tree head seen is signed by the log key, never goes back in size
    or time, and is consistent with the one before (get-sth-consistency);
  - every certificate returned is in the audit journal (SHA-256 of its DER)
    and `trustchainctl journal verify` is OK;
  - every revocation acknowledged is in the CRL;
  - every failed call overlapped a restart (EVENTS: "kill T NAME PID" and
    "ready T NAME PID" lines written by chaos.sh) and failed with a code a
    client retries on (UNAVAILABLE / DEADLINE_EXCEEDED, HTTP 503 or a lost
    connection, a DNS timeout or SERVFAIL).
It prints a table and exits 1 when any check fails.
Runs under Debian's /usr/bin/python3 (grpcio, protobuf, cryptography)."""
import argparse
import base64
import collections
import functools
import hashlib
import http.client
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ct_verify  # noqa: E402

RETRYABLE_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
QNAME = "ca.trust.hypermesh.online"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["load", "check"])
    p.add_argument("--gen", required=True, help="protoc --python_out directory")
    p.add_argument("--grpc", required=True, help="gateway host:port")
    p.add_argument("--ct", required=True, help="CT log HTTP host:port")
    p.add_argument("--dns-port", type=int, required=True)
    p.add_argument("--doq-port", type=int, required=True)
    p.add_argument("--ctl", required=True, help="trustchainctl")
    p.add_argument("--config", required=True, help="the server's trustchain.yaml")
    p.add_argument("--data", required=True, help="the server's data directory")
    p.add_argument("--token", default=os.environ.get("TC_SOAK_TOKEN", ""), help="bearer token with revoke")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--issuers", type=int, default=3, help="Issue threads")
    p.add_argument("--out", help="records file (load)")
    p.add_argument("--records", help="records file (check)")
    p.add_argument("--events", help="kill/ready events (check)")
    p.add_argument("--grace", type=float, default=5.0,
                   help="seconds after a child is ready again during which errors still count as restart errors")
    p.add_argument("--summary", help="write the table's figures here as JSON (check)")
    return p.parse_args()


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.records = []

    def add(self, rec):
        with self.lock:
            self.records.append(rec)


def grpc_error(e):
    reason = None
    for k, v in (e.trailing_metadata() or ()):
        if k == "trustchain-reason":
            reason = v
    return {"code": e.code().name, "reason": reason, "detail": (e.details() or "")[:200]}


def bounded_call(call, req, timeout, bound):
    """call(req) (a functools.partial of a unary multicallable) as a future
    polled on the monotonic clock and cancelled after bound seconds. Under
    libfaketime (clock_jump) gRPC's deadline is taken from the wall clock: a
    step back of the clock between Python reading it and gRPC converting it
    stretches the deadline by the step, and a call the server never answers
    would then hang the run for hours instead of failing."""
    fut = call.func.future(req, timeout=timeout, **call.keywords)
    end = time.monotonic() + bound
    while not fut.done():
        if time.monotonic() > end:
            fut.cancel()
            break
        select.select([], [], [], 0.05)
    return fut.result()


class Clients:
    """The calls, each returning (ok, fields) for one record."""

    def __init__(self, a, wait_for_ready=True, call_bound=None):
        self.a = a
        self.wait_for_ready = wait_for_ready
        # call_bound: seconds on the monotonic clock after which a call is
        # cancelled whatever its deadline (see bounded_call).
        self.call_bound = call_bound
        sys.path.insert(0, a.gen)
        from trustchain.v1 import ca_pb2, validation_pb2  # noqa: E402
        self.ca_pb2, self.val_pb2 = ca_pb2, validation_pb2
        with open(os.path.join(a.data, "ca", "root.pem"), "rb") as f:
            root = f.read()
        # Each thread gets its own channel so one broken connection does
        # not stall the others' calls.
        self.creds = grpc.ssl_channel_credentials(root_certificates=root)
        self.meta = (("authorization", "Bearer " + a.token),) if a.token else None
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soak.hypermesh.online")]))
               .sign(key, hashes.SHA256()))
        self.csr = csr.public_bytes(serialization.Encoding.PEM)

    def channel(self, own_connection=False):
        # gRPC's default reconnect back-off grows to 120 s: after a few
        # gateway restarts in a row a client would stay away for minutes
        # although the gateway is back. Clients of a service that restarts
        # in seconds cap it (the retry advice of docs: 2 s).
        # own_connection: a channel that shares no connection with the
        # others (gRPC pools them per address), so it starts with a new
        # handshake instead of the state of an older channel's.
        # The CRL of a long run is over gRPC's default 4 MiB receive limit
        # (GetCrl failed at the end of a 30-minute run: 52,785 entries);
        # the gateway answers up to the signer's 64 MiB.
        ch = grpc.secure_channel(self.a.grpc, self.creds, options=[
            ("grpc.initial_reconnect_backoff_ms", 250), ("grpc.max_reconnect_backoff_ms", 2000),
            ("grpc.max_receive_message_length", 64 << 20)] +
            ([("grpc.use_local_subchannel_pool", 1)] if own_connection else []))
        # Every call waits for the channel to be ready (up to its deadline)
        # instead of failing fast. Python's synchronous stack has no thread
        # of its own polling a channel: its reconnection (TCP connect, TLS
        # handshake) only advances while a call is waiting on it. A call
        # made while the channel is in TRANSIENT_FAILURE fails at once
        # without polling, the caller sleeps, and the reconnection stalled
        # half-way for the rest of the run although the restarted gateway
        # answered fresh handshakes at once (the soak's "connection refused
        # long after the restart", issue 16). Under libfaketime (clock_jump)
        # waiting is left out: the faked wall clock moves the deadlines.
        m = lambda path, req, resp: functools.partial(
            ch.unary_unary(path, request_serializer=req.SerializeToString, response_deserializer=resp.FromString),
            wait_for_ready=self.wait_for_ready)
        return {
            "issue": m("/trustchain.v1.CertificateAuthority/Issue", self.ca_pb2.IssueRequest,
                       self.ca_pb2.IssueResponse),
            "revoke": m("/trustchain.v1.CertificateAuthority/Revoke", self.ca_pb2.RevokeRequest,
                        self.ca_pb2.RevokeResponse),
            "crl": m("/trustchain.v1.CertificateAuthority/GetCrl", self.ca_pb2.GetCrlRequest,
                     self.ca_pb2.GetCrlResponse),
            "validate": m("/trustchain.v1.Validation/Validate", self.val_pb2.ValidateRequest,
                          self.val_pb2.ValidateResponse),
            "close": ch.close,
        }

    def issue(self, ch, n):
        req = self.ca_pb2.IssueRequest(csr=self.csr, dns_names=["s%d.soak.hypermesh.online" % n],
                                       validity_seconds=3600)
        try:
            if self.call_bound is None:
                r = ch["issue"](req, timeout=20)
            else:
                r = bounded_call(ch["issue"], req, 20, self.call_bound)
        except grpc.RpcError as e:
            return False, grpc_error(e)
        except grpc.FutureCancelledError:
            return False, {"code": "CLIENT_BOUND", "reason": None,
                           "detail": "no answer within %g s on the monotonic clock" % self.call_bound}
        return True, {"cert_pem": r.certificate_pem, "chain_pem": r.chain_pem, "serial": r.serial,
                      "not_before": r.not_before,
                      "scts": [{"sct": base64.b64encode(s.sct).decode(), "leaf_hash": s.leaf_hash.hex(),
                                "timestamp": s.timestamp} for s in r.scts],
                      "cert_logged": r.certificate_logged, "cert_leaf_hash": r.certificate_leaf_hash.hex()}

    def revoke(self, ch, serial):
        try:
            r = ch["revoke"](self.ca_pb2.RevokeRequest(serial=serial, reason=4), timeout=20, metadata=self.meta)
        except grpc.RpcError as e:
            return False, grpc_error(e)
        return True, {"serial": serial, "revocation_time": r.revocation_time}

    def validate(self, ch, cert_pem, name):
        der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
        try:
            r = ch["validate"](self.val_pb2.ValidateRequest(chain=[der], name=name), timeout=20)
        except grpc.RpcError as e:
            return False, grpc_error(e)
        names = [self.val_pb2.Reason.Name(x) for x in r.reasons]
        if r.decision != self.val_pb2.TRUSTED:
            # Revocation status unknown while the signer restarts is the
            # one UNTRUSTED a client may retry; anything else is wrong.
            code = "REVOCATION_UNKNOWN" if names == ["REVOCATION_UNKNOWN"] or \
                "REVOCATION_UNKNOWN" in names and all(x.startswith("OK_") or x in ("REVOCATION_UNKNOWN",
                                                                                  "NAME_NOT_CHECKED")
                                                     for x in names) else "UNTRUSTED"
            return False, {"code": code, "reasons": names, "detail": r.detail[:200]}
        return True, {}


def http_call(host, method, path, body=None, timeout=15):
    h, p = host.rsplit(":", 1)
    c = http.client.HTTPConnection(h, int(p), timeout=timeout)
    try:
        c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def http_error(e):
    return {"code": "CONN:" + type(e).__name__, "detail": str(e)[:200]}


def dns_query(qid, name, qtype=1):
    q = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def dns_check_answer(qid, msg):
    if len(msg) < 12:
        return False, {"code": "SHORT"}
    rid, flags, _, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    rcode = flags & 0xF
    if rid != qid:
        return False, {"code": "ID_MISMATCH"}
    if rcode == 2:
        return False, {"code": "SERVFAIL"}
    if rcode != 0 or an == 0:
        return False, {"code": "RCODE%d" % rcode, "answers": an}
    return True, {}


def dns_udp(port):
    qid = random.randrange(65536)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(dns_query(qid, QNAME), ("127.0.0.1", port))
        while True:
            msg = s.recv(4096)
            if len(msg) >= 2 and struct.unpack(">H", msg[:2])[0] == qid:
                return dns_check_answer(qid, msg)
    except socket.timeout:
        return False, {"code": "TIMEOUT"}
    except OSError as e:
        return False, http_error(e)
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            raise ConnectionResetError("closed")
        buf += part
    return buf


def dns_tcp(port):
    qid = random.randrange(65536)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            q = dns_query(qid, QNAME)
            s.sendall(struct.pack(">H", len(q)) + q)
            n = struct.unpack(">H", recv_exact(s, 2))[0]
            return dns_check_answer(qid, recv_exact(s, n))
    except socket.timeout:
        return False, {"code": "TIMEOUT"}
    except OSError as e:
        return False, http_error(e)


def dns_doq(a):
    try:
        r = subprocess.run([a.ctl, "--config", a.config, "dig", "@127.0.0.1", "-p", str(a.doq_port), "+quic",
                            "+timeout=3000", QNAME, "A"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return False, {"code": "TIMEOUT"}
    if r.returncode != 0:
        return False, {"code": "EXIT%d" % r.returncode, "detail": (r.stderr or r.stdout)[-200:]}
    if "status: NOERROR" not in r.stdout:
        code = "SERVFAIL" if "status: SERVFAIL" in r.stdout else "BAD_ANSWER"
        return False, {"code": code, "detail": r.stdout[:200]}
    return True, {}


def pems_of(text):
    """The PEM certificates in text, in order."""
    end = "-----END CERTIFICATE-----"
    return [p + end + "\n" for p in text.split(end) if "-----BEGIN CERTIFICATE-----" in p]


def der_of_pem(pem):
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


class Load:
    def __init__(self, a):
        self.a = a
        self.rec = Recorder()
        self.cl = Clients(a)
        self.stop_at = time.time() + a.seconds
        self.issued = collections.deque(maxlen=2000)    # (serial, pem, chain_pem, name) never revoked
        self.to_revoke = collections.deque(maxlen=2000)
        self.leaf_hashes = collections.deque(maxlen=2000)
        self.lock = threading.Lock()
        self.counter = 0

    def timed(self, op, fn, *args):
        t0 = time.time()
        ok, fields = fn(*args)
        rec = {"op": op, "t0": t0, "t1": time.time(), "ok": ok}
        rec.update(fields)
        self.rec.add(rec)
        return ok, fields

    def running(self):
        return time.time() < self.stop_at

    def issuer(self):
        ch = self.cl.channel()
        while self.running():
            with self.lock:
                self.counter += 1
                n = self.counter
            ok, f = self.timed("issue", self.cl.issue, ch, n)
            if ok:
                item = (f["serial"], f["cert_pem"], f["chain_pem"], "s%d.soak.hypermesh.online" % n)
                # One certificate in five is revoked, the others validated.
                (self.to_revoke if n % 5 == 0 else self.issued).append(item)
                for s in f["scts"]:
                    self.leaf_hashes.append(s["leaf_hash"])
            else:
                time.sleep(0.2)

    def revoker(self):
        ch = self.cl.channel()
        while self.running():
            try:
                serial = self.to_revoke.popleft()[0]
            except IndexError:
                time.sleep(0.2)
                continue
            ok, _ = self.timed("revoke", self.cl.revoke, ch, serial)
            if not ok:
                time.sleep(0.2)

    def validator(self):
        ch = self.cl.channel()
        while self.running():
            if not self.issued:
                time.sleep(0.2)
                continue
            _, pem, _, name = random.choice(list(self.issued)[-200:])
            ok, _ = self.timed("validate", self.cl.validate, ch, pem, name)
            time.sleep(0.05 if ok else 0.2)

    def add_chain(self):
        while self.running():
            if not self.issued:
                time.sleep(0.2)
                continue
            _, pem, chain_pem, _ = random.choice(list(self.issued))
            chain = [der_of_pem(pem)]
            chain += [der_of_pem(c) for c in pems_of(chain_pem)]
            body = json.dumps({"chain": [base64.b64encode(c).decode() for c in chain]}).encode()

            def call():
                try:
                    st, resp = http_call(self.a.ct, "POST", "/ct/v1/add-chain", body)
                except (OSError, http.client.HTTPException) as e:
                    return False, http_error(e)
                if st != 200:
                    return False, {"code": "HTTP%d" % st, "detail": resp[:200].decode("latin1")}
                j = json.loads(resp)
                return True, {"cert": base64.b64encode(chain[0]).decode(), "timestamp": j["timestamp"],
                              "extensions": j.get("extensions", "")}
            ok, _ = self.timed("add-chain", call)
            time.sleep(0.1 if ok else 0.3)

    def ct_reader(self):
        while self.running():
            def sth():
                try:
                    st, resp = http_call(self.a.ct, "GET", "/ct/v1/get-sth")
                except (OSError, http.client.HTTPException) as e:
                    return False, http_error(e)
                if st != 200:
                    return False, {"code": "HTTP%d" % st}
                return True, {"sth": json.loads(resp)}
            ok, f = self.timed("get-sth", sth)
            if ok and self.leaf_hashes:
                size = f["sth"]["tree_size"]
                h = base64.b64encode(bytes.fromhex(random.choice(list(self.leaf_hashes)))).decode()

                def proof():
                    try:
                        st, resp = http_call(self.a.ct, "GET", "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%d" % (
                            h.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"), size))
                    except (OSError, http.client.HTTPException) as e:
                        return False, http_error(e)
                    # 404: not yet in that tree head (the entry may be
                    # sequenced after it); the final check proves presence.
                    if st not in (200, 404):
                        return False, {"code": "HTTP%d" % st}
                    return True, {}
                self.timed("get-proof", proof)
            time.sleep(0.5)

    def dns(self, op, fn, pause):
        while self.running():
            ok, _ = self.timed(op, fn)
            time.sleep(pause if ok else 0.3)

    def run(self):
        threads = [threading.Thread(target=self.issuer) for _ in range(self.a.issuers)]
        threads += [threading.Thread(target=f) for f in (self.revoker, self.validator, self.add_chain,
                                                         self.ct_reader)]
        threads += [threading.Thread(target=self.dns, args=("dns-udp", lambda: dns_udp(self.a.dns_port), 0.05)),
                    threading.Thread(target=self.dns, args=("dns-tcp", lambda: dns_tcp(self.a.dns_port), 0.05)),
                    threading.Thread(target=self.dns, args=("dns-doq", lambda: dns_doq(self.a), 0.5))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with open(self.a.out, "w") as f:
            for r in sorted(self.rec.records, key=lambda r: r["t0"]):
                f.write(json.dumps(r) + "\n")
        print("load: %d calls in %.0f s" % (len(self.rec.records), self.a.seconds))


class Check:
    def __init__(self, a):
        self.a = a
        with open(a.records) as f:
            self.records = [json.loads(line) for line in f]
        self.windows = []  # (name, kill time, ready time or None)
        self.kills = collections.Counter()
        pending = {}
        events = [line.split() for line in open(a.events)] if a.events else []
        for kind, t, name, pid in sorted((e for e in events if len(e) == 4), key=lambda e: float(e[1])):
            if kind == "kill":
                pending[name] = (float(t), pid)
                self.kills[name] += 1
            elif kind == "ready" and name in pending and pid != pending[name][1]:
                self.windows.append((name, pending.pop(name)[0], float(t)))
        for name, (t, _) in pending.items():
            self.windows.append((name, t, None))
        self.failures = []
        self.fig = collections.OrderedDict()
        with open(os.path.join(a.data, "ct", "log_public_key.pem"), "rb") as f:
            self.log_key = f.read()

    def fail(self, what):
        if len(self.failures) < 50:
            print("CHECK FAILED: " + what)
        self.failures.append(what)

    def in_restart(self, r):
        for _, k, ready in self.windows:
            end = (ready if ready is not None else float("inf")) + self.a.grace
            if r["t1"] >= k and r["t0"] <= end:
                return True
        return False

    @staticmethod
    def retryable(r):
        c = r.get("code", "")
        return (c in RETRYABLE_GRPC or c == "HTTP503" or c.startswith("CONN:") or
                c in ("TIMEOUT", "SERVFAIL", "REVOCATION_UNKNOWN") or c.startswith("EXIT"))

    def ct_get(self, path):
        for attempt in range(30):
            try:
                st, body = http_call(self.a.ct, "GET", path)
                if st != 503:
                    return st, body
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(1)
        return 0, b""

    def final_sth(self):
        st, body = self.ct_get("/ct/v1/get-sth")
        if st != 200:
            self.fail("get-sth after the run: HTTP %d" % st)
            return None
        sth = json.loads(body)
        self.check_sth_sig(sth, "final")
        return sth

    def check_sth_sig(self, sth, what):
        if not ct_verify.verify_sth_signature(self.log_key, sth["tree_size"], sth["timestamp"],
                                              base64.b64decode(sth["sha256_root_hash"]),
                                              base64.b64decode(sth["tree_head_signature"])):
            self.fail("tree head %s (size %d) does not verify with the log key" % (what, sth["tree_size"]))

    def in_log(self, leaf_hash, sth, what):
        q = base64.b64encode(leaf_hash).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        st, body = self.ct_get("/ct/v1/get-proof-by-hash?hash=%s&tree_size=%d" % (q, sth["tree_size"]))
        if st != 200:
            self.fail("%s: leaf %s not in the log (HTTP %d)" % (what, leaf_hash.hex(), st))
            return False
        j = json.loads(body)
        if not ct_verify.verify_inclusion(j["leaf_index"], sth["tree_size"], leaf_hash,
                                          [base64.b64decode(p) for p in j["audit_path"]],
                                          base64.b64decode(sth["sha256_root_hash"])):
            self.fail("%s: inclusion proof of %s does not verify" % (what, leaf_hash.hex()))
            return False
        return True

    def journal_digests(self):
        digests = set()
        with open(os.path.join(self.a.data, "journal", "audit.jsonl"), "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                rec = json.loads(line.split(b"\t", 1)[0])
                if rec.get("result") == "ok":
                    digests.add(rec.get("digest"))
        return digests

    def crl_serials(self):
        cl = Clients(self.a)
        ch = cl.channel()
        last = ""
        for _ in range(30):
            try:
                r = ch["crl"](cl.ca_pb2.GetCrlRequest(), timeout=10)
                crl = x509.load_der_x509_crl(r.crl_der)
                return {c.serial_number for c in crl}
            except grpc.RpcError as e:
                last = "%s %s" % (e.code(), e.details())
                time.sleep(1)
        self.fail("GetCrl did not answer after the run: %s" % last)
        return set()

    def serving(self):
        """No child is stuck: after the last kill every kind of call
        succeeds again within a minute."""
        cl = Clients(self.a)
        ch = cl.channel()
        calls = {"issue": lambda: cl.issue(ch, 0), "dns-udp": lambda: dns_udp(self.a.dns_port),
                 "dns-tcp": lambda: dns_tcp(self.a.dns_port), "dns-doq": lambda: dns_doq(self.a)}
        for op, fn in calls.items():
            deadline = time.time() + 60
            while True:
                ok, f = fn()
                if ok:
                    break
                if time.time() > deadline:
                    self.fail("%s still fails a minute after the load: %s" % (op, f))
                    break
                time.sleep(1)
            if op == "issue" and ok:
                ok, f = cl.validate(ch, f["cert_pem"], "s0.soak.hypermesh.online")
                if not ok:
                    self.fail("validate after the load: %s" % f)

    def run(self):
        a = self.a
        self.serving()
        by_op = collections.defaultdict(list)
        for r in self.records:
            by_op[r["op"]].append(r)
        # Give the sequencer its interval to take the last entries.
        time.sleep(2)
        sth = self.final_sth()
        issued = [r for r in by_op["issue"] if r["ok"]]
        lost_pre = lost_fin = lost_sct = lost_journal = 0
        if sth:
            for r in issued:
                der = der_of_pem(r["cert_pem"])
                spki = ct_verify.spki_of_pem(pems_of(r["chain_pem"])[0])
                if not r["scts"]:
                    self.fail("certificate %s returned without an SCT" % r["serial"])
                    lost_pre += 1
                    continue
                for s in r["scts"]:
                    ts, ext = ct_verify.sct_parts(base64.b64decode(s["sct"]))
                    h = ct_verify.precert_leaf_hash(der, spki, ts, ext)
                    if h.hex() != s["leaf_hash"]:
                        self.fail("certificate %s: the precertificate leaf hash the gateway named differs "
                                  "from the one computed from the certificate" % r["serial"])
                    if not self.in_log(h, sth, "certificate %s precertificate" % r["serial"]):
                        lost_pre += 1
                if r["cert_logged"] and not self.in_log(bytes.fromhex(r["cert_leaf_hash"]), sth,
                                                        "certificate %s" % r["serial"]):
                    lost_fin += 1
            for r in by_op["add-chain"]:
                if not r["ok"]:
                    continue
                h = ct_verify.x509_leaf_hash(base64.b64decode(r["cert"]), r["timestamp"],
                                             base64.b64decode(r["extensions"]))
                if not self.in_log(h, sth, "add-chain SCT %d" % r["timestamp"]):
                    lost_sct += 1
        # Tree heads: signed, never backwards, consistent one after another.
        sths = [r["sth"] for r in by_op["get-sth"] if r["ok"]] + ([sth] if sth else [])
        inconsistent = 0
        prev = None
        seen = set()
        for cur in sths:
            key = (cur["tree_size"], cur["timestamp"])
            if key in seen:
                continue
            seen.add(key)
            self.check_sth_sig(cur, "seen")
            if prev:
                if cur["tree_size"] < prev["tree_size"] or cur["timestamp"] < prev["timestamp"]:
                    self.fail("tree head went back: size %d ts %d after size %d ts %d" % (
                        cur["tree_size"], cur["timestamp"], prev["tree_size"], prev["timestamp"]))
                    inconsistent += 1
                elif cur["tree_size"] == prev["tree_size"]:
                    if cur["sha256_root_hash"] != prev["sha256_root_hash"]:
                        self.fail("two roots for tree size %d" % cur["tree_size"])
                        inconsistent += 1
                elif prev["tree_size"] > 0:
                    st, body = self.ct_get("/ct/v1/get-sth-consistency?first=%d&second=%d" % (
                        prev["tree_size"], cur["tree_size"]))
                    ok = st == 200 and ct_verify.verify_consistency(
                        prev["tree_size"], cur["tree_size"], base64.b64decode(prev["sha256_root_hash"]),
                        base64.b64decode(cur["sha256_root_hash"]),
                        [base64.b64decode(p) for p in json.loads(body)["consistency"]])
                    if not ok:
                        self.fail("tree head %d not consistent with %d (HTTP %d)" % (
                            cur["tree_size"], prev["tree_size"], st))
                        inconsistent += 1
            prev = cur
        # Audit journal.
        v = subprocess.run([a.ctl, "--config", a.config, "journal", "verify"], capture_output=True, text=True)
        journal_ok = v.returncode == 0 and ": OK," in v.stdout
        if not journal_ok:
            self.fail("journal verify: " + (v.stdout + v.stderr).strip()[-300:])
        digests = self.journal_digests()
        for r in issued:
            if hashlib.sha256(der_of_pem(r["cert_pem"])).hexdigest() not in digests:
                self.fail("certificate %s is not in the audit journal" % r["serial"])
                lost_journal += 1
        # Revocations acknowledged are in the CRL.
        acked = [r for r in by_op["revoke"] if r["ok"]]
        crl = self.crl_serials() if acked else set()
        lost_rev = 0
        for r in acked:
            if int(r["serial"], 16) not in crl:
                self.fail("revocation of %s acknowledged but not in the CRL" % r["serial"])
                lost_rev += 1
        # Errors: only while a child restarts, and retryable.
        table = []
        bad_errors = 0
        for op in ("issue", "revoke", "validate", "add-chain", "get-sth", "get-proof", "dns-udp", "dns-tcp",
                   "dns-doq"):
            rs = by_op.get(op, [])
            errs = [r for r in rs if not r["ok"]]
            outside = [r for r in errs if not self.in_restart(r)]
            nonretry = [r for r in errs if not self.retryable(r)]
            for r in (outside + nonretry)[:5]:
                self.fail("%s error %s%s at %.1f: %s" % (op, r.get("code"), "" if self.in_restart(r) else
                                                          " outside any restart", r["t0"], r.get("detail", "")))
            bad_errors += len(set(id(r) for r in outside + nonretry))
            codes = collections.Counter(r.get("code") for r in errs)
            table.append((op, len(rs), len(rs) - len(errs), len(errs), len(outside), len(nonretry),
                          ",".join("%s:%d" % kv for kv in codes.most_common(3))))
        print("\n%-10s %8s %8s %7s %8s %9s  %s" % ("op", "calls", "ok", "errors", "outside", "non-retry",
                                                   "error codes"))
        for row in table:
            print("%-10s %8d %8d %7d %8d %9d  %s" % row)
        restarts = [w for w in self.windows if w[2] is not None]
        stuck = [w for w in self.windows if w[2] is None]
        for w in stuck:
            self.fail("%s killed at %.1f never came back ready" % (w[0], w[1]))
        downtime = [w[2] - w[1] for w in restarts]
        self.fig.update({
            "kills": sum(self.kills.values()), "kills_by_child": dict(self.kills),
            "restart_s_max": round(max(downtime), 2) if downtime else 0,
            "restart_s_mean": round(sum(downtime) / len(downtime), 2) if downtime else 0,
            "certificates": len(issued), "lost_precert": lost_pre, "lost_final": lost_fin,
            "lost_addchain_sct": lost_sct, "lost_journal": lost_journal, "revocations": len(acked),
            "lost_revocations": lost_rev, "tree_heads": len(seen), "inconsistent_tree_heads": inconsistent,
            "journal_verify": "OK" if journal_ok else "FAILED", "stuck_children": len(stuck),
            "errors_outside_restart_or_not_retryable": bad_errors,
            "final_tree_size": sth["tree_size"] if sth else None,
        })
        print("\nkills %(kills)d %(kills_by_child)s, restart (kill to ready) mean %(restart_s_mean)s s max "
              "%(restart_s_max)s s" % self.fig)
        print("certificates %(certificates)d (lost: precert %(lost_precert)d, final %(lost_final)d, journal "
              "%(lost_journal)d), add-chain SCTs lost %(lost_addchain_sct)d, revocations %(revocations)d "
              "(lost %(lost_revocations)d)" % self.fig)
        print("tree heads %(tree_heads)d (inconsistent %(inconsistent_tree_heads)d), final size "
              "%(final_tree_size)s, journal %(journal_verify)s, stuck children %(stuck_children)d, bad errors "
              "%(errors_outside_restart_or_not_retryable)d" % self.fig)
        self.fig["failures"] = len(self.failures)
        if a.summary:
            with open(a.summary, "w") as f:
                json.dump(self.fig, f, indent=1)
        if not issued:
            self.fail("no certificate was issued at all")
        print("RESULT: %s" % ("OK" if not self.failures else "%d check(s) failed" % len(self.failures)))
        return 0 if not self.failures else 1


def main():
    a = parse_args()
    if a.mode == "load":
        Load(a).run()
        return 0
    return Check(a).run()


if __name__ == "__main__":
    sys.exit(main())
