#!/usr/bin/python3
"""Crash states of the signer's audit journal (the method of ALICE and
CrashMonkey), from what tests/support/io_recorder.c recorded during a load
run and what the clients were acknowledged (issue_load.py's JSON lines).

  crash_states.py REC_DIR CALLS_JSONL OUT_DIR [--samples N] [--seed S]

For every fdatasync of data/journal/audit.jsonl the file as it was synced
is durable; a power failure before the next sync completes may add any
subset of the writes made after it, the last ones possibly torn. Each
window between two syncs is rebuilt as:
  - the synced state alone,
  - the synced state plus each in-order prefix of the later writes, the
    last one cut in the middle (what a file system that keeps an append's
    order, as ext4 data=ordered, can leave),
  - N random subsets of the later writes, each possibly torn, holes read
    as zeros (any order: the reordering model).
Every state must open (the chain verifies up to a torn last line, as
tc_journal_open requires) and hold the digest of every certificate a client
had received before that next sync completed. The states are checked here
(same rules as common/journal_verify.c); a sample of them, every failure
included, is written to OUT_DIR for `trustchainctl journal verify`.
Prints the counts; exit 1 when a state in the ordered model fails (a state
only the reordering model produces is reported, not failed: ext4's default
data=ordered mode does not reorder one file's appends within a sync).
  crash_states.py --self-test   checks that the checker catches a journal
                                acknowledging a record before its sync.
"""
import hashlib
import json
import os
import random
import sys

from io_records import read_events

TARGET = "journal/audit.jsonl"


def read_records(rec_dir):
    return read_events(rec_dir, lambda ev: ev["path"].endswith(TARGET))


def apply(buf, ev, cut=None):
    if ev["op"] == "W":
        data = ev["data"] if cut is None else ev["data"][:cut]
        end = ev["off"] + len(data)
        if len(buf) < end:
            buf.extend(b"\0" * (end - len(buf)))
        buf[ev["off"]:end] = data
    elif ev["op"] == "T":
        del buf[ev["len"]:]
        if len(buf) < ev["len"]:
            buf.extend(b"\0" * (ev["len"] - len(buf)))


def verify(buf):
    """common/journal_verify.c's rules: (ok, digests of the valid records)."""
    digests = set()
    prev = b"\0" * 32
    seq = 0
    lines = bytes(buf).split(b"\n")
    for i, line in enumerate(lines):
        if i == len(lines) - 1:
            return True, digests  # no newline: a torn tail (or nothing)
        tab = line.rfind(b"\t")
        if tab < 0 or b"\0" in line:
            return False, digests
        body, want = line[:tab], line[tab + 1:]
        try:
            want_b = bytes.fromhex(want.decode())
            rec = json.loads(body)
            prev_b = bytes.fromhex(rec["prev"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return False, digests
        if len(want_b) != 32 or hashlib.sha256(body).digest() != want_b or prev_b != prev or \
                rec.get("seq") != seq + 1:
            return False, digests
        prev, seq = want_b, seq + 1
        digests.add(rec.get("digest"))
    return True, digests


def check(events, acks, samples, seed, out_dir=None):
    """Rebuilds and checks every crash state; returns (stats, failures)."""
    rnd = random.Random(seed)
    syncs = [i for i, e in enumerate(events) if e["op"] == "S"]
    stats = {"ordered": [0, 0], "reordered": [0, 0]}
    failures = {"ordered": [], "reordered": []}
    written = 0
    buf = bytearray()
    cursor = 0
    for a in acks:
        if not syncs or a[0] < events[syncs[0]]["t"]:
            failures["ordered"].append("a certificate acknowledged before the journal's first sync")
            stats["ordered"][1] += 1
            return stats, failures
    for k, s in enumerate(syncs):
        while cursor < s:
            apply(buf, events[cursor])
            cursor += 1
        durable = bytes(buf)
        nxt = syncs[k + 1] if k + 1 < len(syncs) else len(events)
        later = [e for e in events[s + 1:nxt] if e["op"] in "WT"]
        horizon = events[nxt]["t"] if nxt < len(events) else float("inf")
        required = {d for t, d in acks if t < horizon}
        states = [("ordered", "synced", durable)]
        b = bytearray(durable)
        for j, ev in enumerate(later):
            if ev["op"] == "W" and len(ev["data"]) > 1:
                torn = bytearray(b)
                apply(torn, ev, cut=rnd.randrange(1, len(ev["data"])))
                states.append(("ordered", "prefix %d torn" % j, bytes(torn)))
            apply(b, ev)
            states.append(("ordered", "prefix %d" % (j + 1), bytes(b)))
        for n in range(samples if later else 0):
            b = bytearray(durable)
            for ev in later:
                if rnd.random() < 0.5:
                    cut = rnd.randrange(1, len(ev["data"])) if ev["op"] == "W" and len(ev["data"]) > 1 and \
                        rnd.random() < 0.3 else None
                    apply(b, ev, cut)
            states.append(("reordered", "subset %d" % n, bytes(b)))
        for model, what, state in states:
            ok, digests = verify(state)
            missing = required - digests
            stats[model][0] += 1
            if not ok or missing:
                stats[model][1] += 1
                why = "does not open" if not ok else "lost %d acknowledged certificate(s)" % len(missing)
                failures[model].append("sync %d %s: %s" % (k, what, why))
            # A sample for trustchainctl: every failure, and every 50th state.
            if out_dir and (not ok or missing or (stats[model][0] % 50 == 1 and written < 40)):
                name = "%s-sync%04d-%s-%s.jsonl" % ("ok" if ok else "bad", k, model, what.replace(" ", "_"))
                with open(os.path.join(out_dir, name), "wb") as f:
                    f.write(state)
                written += 1
    return stats, failures


def record(seq, prev, digest):
    body = json.dumps({"seq": seq, "prev": prev.hex(), "digest": digest}, separators=(",", ":")).encode()
    h = hashlib.sha256(body).digest()
    return body + b"\t" + h.hex().encode() + b"\n", h


def self_test():
    """The checker must catch a journal that acknowledges before it syncs."""
    r1, h1 = record(1, b"\0" * 32, "d1")
    r2, _ = record(2, h1, "d2")
    ev = lambda op, t, **kw: dict(op=op, t=t, path=TARGET, **kw)
    good = [ev("W", 1, off=0, data=r1), ev("S", 2), ev("W", 3, off=len(r1), data=r2), ev("S", 4)]
    stats, _ = check(good, [(2.5, "d1"), (4.5, "d2")], 4, 1)
    if stats["ordered"][1] or stats["reordered"][1]:
        return "a correct journal was failed"
    # d2 acknowledged at t=3.5, before the sync that covers it (t=4).
    stats, _ = check(good, [(2.5, "d1"), (3.5, "d2")], 4, 1)
    if not stats["ordered"][1]:
        return "an acknowledgement before its sync went unnoticed"
    return None


def main():
    args = sys.argv[1:]
    if args == ["--self-test"]:
        err = self_test()
        print("crash_states self-test: " + (err or "ok"))
        return 1 if err else 0
    samples, seed = 8, 1
    if "--samples" in args:
        i = args.index("--samples")
        samples = int(args[i + 1])
        del args[i:i + 2]
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    rec_dir, calls, out_dir = args
    events = read_records(rec_dir)
    acks = []
    with open(calls) as f:
        for line in f:
            r = json.loads(line)
            if r.get("ok") and "ack_mono" in r:
                acks.append((int(r["ack_mono"] * 1e9), r["digest"]))
    syncs = sum(1 for e in events if e["op"] == "S")
    writes = sum(1 for e in events if e["op"] == "W")
    if not syncs or not acks:
        print("crash_states: nothing recorded (%d events, %d acknowledgements)" % (len(events), len(acks)))
        return 1
    os.makedirs(out_dir, exist_ok=True)
    stats, failures = check(events, acks, samples, seed, out_dir)
    print("crash_states: %d writes, %d syncs, %d acknowledged certificates" % (writes, syncs, len(acks)))
    for model in ("ordered", "reordered"):
        print("  %-9s model: %5d states, %d failed" % (model, stats[model][0], stats[model][1]))
        for line in failures[model][:5]:
            print("    " + line)
    return 1 if stats["ordered"][1] else 0


if __name__ == "__main__":
    sys.exit(main())
