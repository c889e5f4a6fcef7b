#!/usr/bin/python3
"""Clock jumps under load (clock_jump_test.sh runs this, like the server,
under libfaketime reading OFFSET_FILE, so client and server see one clock
that jumps).

For each step the offset is written, load keeps running (Issue and get-sth
threads), and probes must all pass within SETTLE seconds: the zone's RRSIGs
(dig +dnssec) valid at the new time, DoQ answering (its certificate valid),
an Issue over TLS (the gateway's certificate valid) with a notBefore no
earlier than policy allows (now - 1 h). In the first step back the CT log is
killed (-9) so it restarts under the earlier clock. At the end: SCT
timestamps never decrease between calls in sequence (a call that started
after another ended never gets an earlier SCT), tree-head timestamps and
sizes never decrease and consecutive heads are consistent, every SCT's entry
is in the log. Prints a table; exit 1 on any failure."""
import argparse
import base64
import faulthandler
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak"))
import chaos_load  # noqa: E402
import ct_verify  # noqa: E402

# Python's time.sleep (clock_nanosleep on an absolute CLOCK_MONOTONIC time)
# fails with EINVAL under libfaketime once the offset is negative; select's
# relative timeout is left alone.
time.sleep = lambda seconds: select.select([], [], [], seconds)

MAX_BACKDATE_S = 3600
# Offsets from the real time. The run starts at BASE (clock_jump_test.sh
# writes it before the server starts) so that every offset stays positive:
# libfaketime's waits misbehave under a negative one (a Python process then
# hangs), which is not what is under test.
BASE = 3 * 86400
# The server starts (and its CA is made) a day before BASE: a clock stepped
# back before the CA's own notBefore is not a case a CA can serve through.
STEPS = [("forward 1 day", BASE), ("back 2 h", BASE - 7200), ("forward 2 h", BASE), ("forward 2 days", BASE + 2 * 86400),
         ("forward 8 days", BASE + 8 * 86400), ("back 1 day", BASE + 7 * 86400)]


def parse_args():
    p = argparse.ArgumentParser()
    for k in ("gen", "grpc", "ct", "ctl", "config", "data", "offset-file"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--dns-port", type=int, required=True)
    p.add_argument("--doq-port", type=int, required=True)
    p.add_argument("--hold", type=float, default=15, help="seconds of load at each step")
    p.add_argument("--settle", type=float, default=30, help="seconds the probes may take after a jump")
    p.add_argument("--slack", type=float, default=3, help="seconds libfaketime's cache may lag")
    a = p.parse_args()
    a.token = ""
    return a


class Run:
    def __init__(self, a):
        self.a = a
        # Calls fail fast: under libfaketime a call waiting for the channel
        # would wait on deadlines the faked clock moves; and each is given
        # up after 30 s on the monotonic clock whatever its deadline says.
        self.cl = chaos_load.Clients(a, wait_for_ready=False, call_bound=30)
        self.stop = False
        self.lock = threading.Lock()
        self.issues, self.sths, self.failures = [], [], []
        self.n = 0
        self.jumps = []  # monotonic times of the offset changes

    def fail(self, what):
        print("CHECK FAILED: " + what, flush=True)
        self.failures.append(what)

    def set_offset(self, seconds):
        tmp = self.a.offset_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%+d\n" % seconds)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.a.offset_file)

    def issue_once(self, ch):
        with self.lock:
            self.n += 1
            n = self.n
        t0, m0 = time.time(), time.monotonic()
        ok, f = self.cl.issue(ch, n)
        # t0: the (jumping) clock the server saw; m0/m1 order the calls.
        rec = {"t0": t0, "m0": m0, "m1": time.monotonic(), "t1": time.time(), "ok": ok, **f}
        with self.lock:
            self.issues.append(rec)
        return rec

    def issuer(self):
        ch = self.cl.channel()
        while not self.stop:
            if not self.issue_once(ch)["ok"]:
                time.sleep(0.3)

    def sth_reader(self):
        while not self.stop:
            try:
                st, body = chaos_load.http_call(self.a.ct, "GET", "/ct/v1/get-sth", timeout=5)
                if st == 200:
                    with self.lock:
                        self.sths.append(json.loads(body))
            except Exception:  # the log restarting: the next read comes
                pass
            time.sleep(0.3)

    def rrsigs_valid(self):
        # dig only carries the query: its own timers are not under test and
        # hang under libfaketime with a negative offset.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        try:
            r = subprocess.run(["dig", "+dnssec", "+norec", "+time=2", "+tries=1", "@127.0.0.1", "-p",
                                str(self.a.dns_port), "trust.hypermesh.online", "SOA"], capture_output=True, text=True,
                               env=env, timeout=10)
        except subprocess.TimeoutExpired:
            return False, "dig did not return"
        now = time.time()
        sigs = [line.split() for line in r.stdout.splitlines() if "\tRRSIG\t" in line or " RRSIG " in line]
        sigs = [s for s in sigs if len(s) > 10 and not s[0].startswith(";")]
        if not sigs:
            return False, "no RRSIG"
        for s in sigs:
            exp = time.mktime(time.strptime(s[8], "%Y%m%d%H%M%S")) - time.timezone
            inc = time.mktime(time.strptime(s[9], "%Y%m%d%H%M%S")) - time.timezone
            if not inc <= now <= exp:
                return False, "RRSIG window %s..%s does not hold now %s" % (s[9], s[8], time.strftime(
                    "%Y%m%d%H%M%S", time.gmtime(now)))
        return True, ""

    def probe(self):
        ok, why = self.rrsigs_valid()
        if not ok:
            return False, "dnssec: " + why
        ok, f = chaos_load.dns_doq(self.a)
        if not ok:
            return False, "doq: %s" % f
        # A freshly opened TLS channel, as a new client after the jump: it
        # verifies the gateway's certificate at the new time.
        ch = self.cl.channel(own_connection=True)
        try:
            rec = self.issue_once(ch)
        finally:
            ch["close"]()
        if not rec["ok"]:
            return False, "issue: %s" % {k: rec.get(k) for k in ("code", "reason", "detail")}
        return True, ""

    def step(self, name, offset):
        self.set_offset(offset)
        jumped = time.monotonic()  # durations on the clock that does not jump
        self.jumps.append(jumped)
        time.sleep(self.a.slack)
        if name == "back 2 h":
            pid = [ln.split()[1] for ln in open(os.path.join(self.a.data, "server.status"))
                   if ln.startswith("transparency ")][0]
            os.kill(int(pid), signal.SIGKILL)
            print("killed the CT log (pid %s) with the clock 2 h back" % pid, flush=True)
        ok, why = False, ""
        while time.monotonic() - jumped < self.a.settle + self.a.slack:
            ok, why = self.probe()
            if ok:
                break
            time.sleep(1)
        took = time.monotonic() - jumped
        if not ok:
            self.fail("%s: not serving %ds after the jump: %s" % (name, self.a.settle, why))
        # Every Issue answered after the jump settled has a notBefore policy allows.
        rest = jumped + self.a.hold - time.monotonic()
        if rest > 0:
            time.sleep(rest)
        return took if ok else None

    def run(self):
        threads = [threading.Thread(target=self.issuer, daemon=True) for _ in range(2)] + [
            threading.Thread(target=self.sth_reader, daemon=True)]
        for t in threads:
            t.start()
        table = []
        for name, offset in STEPS:
            start = len(self.issues)
            took = self.step(name, offset)
            part = self.issues[start:]
            table.append((name, offset, "%.1f" % took if took is not None else "never",
                          sum(1 for r in part if r["ok"]), sum(1 for r in part if not r["ok"])))
        self.stop = True
        # Joined by polling on the monotonic clock: a timed join waits on
        # the faked clock. Every call is bounded, so 60 s is ample.
        end = time.monotonic() + 60
        while any(t.is_alive() for t in threads) and time.monotonic() < end:
            time.sleep(0.2)
        for t in threads:
            if t.is_alive():
                self.fail("a load thread is still in a call 60 s after the last step")
        self.check(table)
        return 0 if not self.failures else 1

    def check(self, table):
        issued = [r for r in self.issues if r["ok"]]
        # notBefore: never earlier than the policy's backdate from the
        # time the call was made (the clock the server saw, within slack).
        # Calls within the slack of a jump are left out: each process
        # re-reads the offset on its own (libfaketime's cache), so for up
        # to a second the client's clock and the server's differ by the jump.
        for r in issued:
            if any(r["m0"] - self.a.slack <= j <= r["m1"] + self.a.slack for j in self.jumps):
                continue
            if r["not_before"] < r["t0"] - MAX_BACKDATE_S - self.a.slack:
                self.fail("certificate %s: notBefore %d is %.0f s before the call" % (
                    r["serial"], r["not_before"], r["t0"] - r["not_before"]))
        # SCTs: a call that started after another one ended never gets an
        # earlier timestamp.
        done = sorted(issued, key=lambda r: r["m1"])
        by_start = sorted(issued, key=lambda r: r["m0"])
        best, i, back = 0, 0, 0
        for r in by_start:
            while i < len(done) and done[i]["m1"] < r["m0"]:
                best = max(best, done[i]["scts"][0]["timestamp"])
                i += 1
            if r["scts"][0]["timestamp"] < best:
                back += 1
                if back <= 5:
                    self.fail("SCT of %s at %d is earlier than one returned before the call (%d)" % (
                        r["serial"], r["scts"][0]["timestamp"], best))
        prev = None
        sth_back = 0
        for s in self.sths:
            if prev and (s["timestamp"] < prev["timestamp"] or s["tree_size"] < prev["tree_size"]):
                sth_back += 1
                if sth_back <= 5:
                    self.fail("tree head went back: size %d ts %d after size %d ts %d" % (
                        s["tree_size"], s["timestamp"], prev["tree_size"], prev["timestamp"]))
            prev = s
        # Consistency of the first and the last head, and each SCT's entry.
        chk = chaos_load.Check.__new__(chaos_load.Check)
        chk.a, chk.failures = self.a, self.failures
        with open(os.path.join(self.a.data, "ct", "log_public_key.pem"), "rb") as f:
            chk.log_key = f.read()
        time.sleep(1)
        final = chk.final_sth()
        if final and self.sths and self.sths[0]["tree_size"] > 0:
            first = self.sths[0]
            st, body = chk.ct_get("/ct/v1/get-sth-consistency?first=%d&second=%d" % (first["tree_size"],
                                                                                   final["tree_size"]))
            if st != 200 or not ct_verify.verify_consistency(
                    first["tree_size"], final["tree_size"], base64.b64decode(first["sha256_root_hash"]),
                    base64.b64decode(final["sha256_root_hash"]),
                    [base64.b64decode(p) for p in json.loads(body)["consistency"]]):
                self.fail("the last tree head is not consistent with the first")
        lost = 0
        if final:
            for r in issued:
                if not chk.in_log(bytes.fromhex(r["scts"][0]["leaf_hash"]), final, "certificate " + r["serial"]):
                    lost += 1
        print("\n%-16s %10s %12s %9s %9s" % ("step", "offset s*", "settled in s", "issued", "failed"))
        for row in table:
            print("%-16s %10d %12s %9d %9d" % ((row[0], row[1] - BASE) + row[2:]))
        print("(* from the start, itself %d s ahead of the real clock)" % BASE)
        print("\ncertificates %d, SCTs out of order %d, tree heads %d (backwards %d), lost %d" % (
            len(issued), back, len(self.sths), sth_back, lost))
        print("RESULT: %s" % ("OK" if not self.failures else "%d check(s) failed" % len(self.failures)))


if __name__ == "__main__":
    # clock_jump_test.sh sends SIGUSR1 when the run overstays its bound:
    # every thread's stack then shows where it hangs.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.exit(Run(parse_args()).run())
