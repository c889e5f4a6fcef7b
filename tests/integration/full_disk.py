#!/usr/bin/python3
"""The data directory fills up under load (full_disk_test.sh mounts it as a
small tmpfs and runs this).

  full_disk.py run    [options]   baseline, fill, load while full, free, resume
  full_disk.py verify [options]   everything acknowledged is still there

run: issues and submits (add-chain of certificates not logged yet, since
ct.log_stoq_certificates is off) and sends TSIG-signed DNS updates, then
fills the filesystem with a file of its own and keeps calling for LOAD
seconds. While full: Issue fails UNAVAILABLE (reason journal_unavailable
while the signer cannot journal), add-chain 503, updates SERVFAIL. Then the
file is removed and every kind of call must succeed again within RESUME
seconds, nothing restarted by hand. Every acknowledged result goes to
STATE (JSON). verify (also after a server restart): every certificate
acknowledged is in the log (its precertificate leaf hash, computed here,
with a verified inclusion proof) and in the audit journal, every add-chain
SCT has its entry, every acknowledged DNS update is served."""
import argparse
import base64
import collections
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak"))
import chaos_load  # noqa: E402
import ct_verify  # noqa: E402

ZONE = "trust.hypermesh.online"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["run", "verify"])
    for k in ("gen", "grpc", "ct", "ctl", "config", "data", "key", "state"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--dns-port", type=int, required=True)
    p.add_argument("--doq-port", type=int, default=0)
    p.add_argument("--load", type=float, default=15)
    p.add_argument("--resume", type=float, default=60)
    a = p.parse_args()
    a.token = ""
    return a


class FullDisk:
    def __init__(self, a):
        self.a = a
        self.cl = chaos_load.Clients(a)
        self.ch = self.cl.channel()
        self.state = {"certs": [], "scts": [], "txt": []}
        if os.path.exists(a.state):
            with open(a.state) as f:
                self.state = json.load(f)
        self.fresh = collections.deque()  # issued certificates not yet submitted by add-chain
        self.n = 0
        self.failures = []
        self.seen = collections.defaultdict(collections.Counter)  # phase -> op:code counts

    def fail(self, what):
        print("CHECK FAILED: " + what, flush=True)
        self.failures.append(what)

    def save(self):
        with open(self.a.state, "w") as f:
            json.dump(self.state, f)

    def issue(self):
        self.n += 1
        ok, f = self.cl.issue(self.ch, self.n)
        if ok:
            self.state["certs"].append({"serial": f["serial"], "cert_pem": f["cert_pem"],
                                        "chain_pem": f["chain_pem"], "scts": f["scts"]})
            self.fresh.append(f)
            return "OK"
        return "%s/%s" % (f.get("code"), f.get("reason"))

    def add_chain(self):
        if not self.fresh:
            return "no-cert"
        f = self.fresh[0]
        chain = [chaos_load.der_of_pem(f["cert_pem"])] + [chaos_load.der_of_pem(c)
                                                          for c in chaos_load.pems_of(f["chain_pem"])]
        body = json.dumps({"chain": [base64.b64encode(c).decode() for c in chain]}).encode()
        try:
            st, resp = chaos_load.http_call(self.a.ct, "POST", "/ct/v1/add-chain", body)
        except Exception as e:  # noqa: BLE001 (any transport error is recorded)
            return "CONN:" + type(e).__name__
        if st == 200:
            j = json.loads(resp)
            self.state["scts"].append({"cert": base64.b64encode(chain[0]).decode(), "timestamp": j["timestamp"],
                                       "extensions": j.get("extensions", "")})
            self.fresh.popleft()
            return "OK"
        return "HTTP%d" % st

    def update(self):
        self.n += 1
        name = "_acme-challenge.d%d.%s" % (self.n, ZONE)
        # About 1 KiB a record: the slack at the end of the zone journal's
        # last page on the full tmpfs holds a few of them, not dozens.
        value = "v%d-%s" % (self.n, "x" * 200)
        cmds = "server 127.0.0.1 %d\nzone %s\nupdate add %s 60 TXT %s\nsend\n" % (
            self.a.dns_port, ZONE, name, " ".join(['"%s"' % value] * 5))
        r = subprocess.run(["nsupdate", "-t", "5", "-k", self.a.key], input=cmds, capture_output=True, text=True)
        if r.returncode == 0:
            self.state["txt"].append([name, value])
            return "OK"
        out = r.stdout + r.stderr
        for code in ("SERVFAIL", "REFUSED", "NOTAUTH", "timed out"):
            if code in out:
                return code
        return "ERR:" + out.strip()[-60:]

    def round(self, phase):
        for op, fn in (("issue", self.issue), ("add-chain", self.add_chain), ("update", self.update)):
            self.seen[phase]["%s:%s" % (op, fn())] += 1

    def fill(self):
        path = os.path.join(self.a.data, "filler")
        block = b"\0" * (1 << 20)
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(block)
            except OSError:
                pass
            try:  # the last pages, a KiB at a time
                while True:
                    f.write(block[:1024])
            except OSError:
                pass
        return path

    def run(self):
        for _ in range(4):
            self.round("before")
        if self.seen["before"]["issue:OK"] == 0 or self.seen["before"]["update:OK"] == 0:
            self.fail("the server does not serve before the disk fills: %s" % dict(self.seen["before"]))
        # Certificates for add-chain while full, issued now.
        for _ in range(6):
            self.issue()
        self.save()
        filler = self.fill()
        print("filled: %s" % subprocess.run(["df", "-h", self.a.data], capture_output=True, text=True).stdout.split(
            "\n")[1], flush=True)
        end = time.time() + self.a.load
        while time.time() < end:
            self.round("full")
        self.save()
        full = self.seen["full"]
        print("while full: %s" % dict(full), flush=True)
        # The last calls made while full must be refused, the right way.
        last = {}
        for op, fn in (("issue", self.issue), ("add-chain", self.add_chain), ("update", self.update)):
            last[op] = fn()
        self.save()
        if not last["issue"].startswith("UNAVAILABLE"):
            self.fail("Issue on a full disk: %s (UNAVAILABLE expected)" % last["issue"])
        if last["add-chain"] != "HTTP503":
            self.fail("add-chain on a full disk: %s (503 expected)" % last["add-chain"])
        if last["update"] != "SERVFAIL":
            self.fail("DNS update on a full disk: %s (SERVFAIL expected)" % last["update"])
        if not any(k.startswith("issue:UNAVAILABLE/journal_unavailable") for k in full):
            self.fail("no Issue was refused for want of a journal record: %s" % dict(full))
        bad = [k for k in full if k.split(":", 1)[1] not in ("OK", "no-cert", "HTTP503", "SERVFAIL") and
               not k.split(":", 1)[1].startswith("UNAVAILABLE")]
        if bad:
            self.fail("errors other than UNAVAILABLE / 503 / SERVFAIL while full: %s" % bad)
        os.unlink(filler)
        freed = time.time()
        back = {}
        while time.time() - freed < self.a.resume and len(back) < 3:
            for op, fn in (("issue", self.issue), ("add-chain", self.add_chain), ("update", self.update)):
                if op not in back:
                    res = fn()
                    self.seen["after"]["%s:%s" % (op, res)] += 1
                    if res == "OK":
                        back[op] = time.time() - freed
            time.sleep(0.5)
        self.save()
        for op in ("issue", "add-chain", "update"):
            if op not in back:
                self.fail("%s did not resume within %d s of freeing the disk: %s" % (
                    op, self.a.resume, dict(self.seen["after"])))
        print("resumed after freeing: %s" % {k: "%.1f s" % v for k, v in back.items()}, flush=True)
        self.verify()

    def verify(self):
        chk = chaos_load.Check.__new__(chaos_load.Check)
        chk.a, chk.failures = self.a, self.failures
        with open(os.path.join(self.a.data, "ct", "log_public_key.pem"), "rb") as f:
            chk.log_key = f.read()
        time.sleep(1)
        sth = chk.final_sth()
        lost = collections.Counter()
        if sth:
            for c in self.state["certs"]:
                der = chaos_load.der_of_pem(c["cert_pem"])
                spki = ct_verify.spki_of_pem(chaos_load.pems_of(c["chain_pem"])[0])
                ts, ext = ct_verify.sct_parts(base64.b64decode(c["scts"][0]["sct"]))
                if not chk.in_log(ct_verify.precert_leaf_hash(der, spki, ts, ext), sth, "certificate " + c["serial"]):
                    lost["precert"] += 1
            for s in self.state["scts"]:
                h = ct_verify.x509_leaf_hash(base64.b64decode(s["cert"]), s["timestamp"],
                                             base64.b64decode(s["extensions"]))
                if not chk.in_log(h, sth, "add-chain SCT %d" % s["timestamp"]):
                    lost["sct"] += 1
        digests = chk.journal_digests()
        for c in self.state["certs"]:
            if hashlib.sha256(chaos_load.der_of_pem(c["cert_pem"])).hexdigest() not in digests:
                self.fail("certificate %s is not in the audit journal" % c["serial"])
                lost["journal"] += 1
        # An update journaled while the zone could not be signed is served
        # at the keeper's next signing retry (zone_keeper.c RETRY_S).
        deadline = time.time() + 40
        for name, value in self.state["txt"]:
            while True:
                r = subprocess.run(["dig", "+short", "@127.0.0.1", "-p", str(self.a.dns_port), name, "TXT"],
                                   capture_output=True, text=True)
                if '"%s"' % value in r.stdout or time.time() > deadline:
                    break
                time.sleep(1)
            if '"%s"' % value not in r.stdout:
                self.fail("acknowledged update %s TXT %s is not served" % (name, value))
                lost["update"] += 1
        v = subprocess.run([self.a.ctl, "--config", self.a.config, "journal", "verify"], capture_output=True,
                           text=True)
        if v.returncode != 0:
            self.fail("journal verify: " + (v.stdout + v.stderr).strip())
        print("acknowledged: %d certificates, %d add-chain SCTs, %d DNS updates; lost: %d; %s" % (
            len(self.state["certs"]), len(self.state["scts"]), len(self.state["txt"]), sum(lost.values()),
            v.stdout.strip()), flush=True)
        print("RESULT: %s" % ("OK" if not self.failures else "%d check(s) failed" % len(self.failures)))
        return 0 if not self.failures else 1


def main():
    a = parse_args()
    fd = FullDisk(a)
    if a.mode == "run":
        fd.run()
    else:
        fd.verify()
    return 0 if not fd.failures else 1


if __name__ == "__main__":
    sys.exit(main())
