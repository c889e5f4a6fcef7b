#!/usr/bin/python3
"""Crash states of the CT log's LevelDB store (data/ct/log/), from what
tests/support/io_recorder.c recorded during a load run, checked with
ct_store_check (tests/support/ct_store_check.c).

  ct_crash_states.py REC_DIR CALLS_JSONL CHECKER WORK_DIR [--states N] [--seed S]

A crash point is the moment just before a sync of any store file completes.
The directory is replayed up to it (creations, writes, renames and unlinks in
order: the model assumes the file system keeps namespace operations in order,
as ext4's journal does), then every file is cut back to what its last
completed fsync/fdatasync made durable plus a random prefix of what was
written after it (the last write possibly torn). Each such state must open
and hold every entry (the precertificate's leaf hash from its SCT, and the
final certificate's when logged) a client had been acknowledged before the
crash point. N crash points are drawn (all of them when fewer), the last
one always. Exit 1 on the first state that fails.
"""
import json
import os
import random
import shutil
import subprocess
import sys

from io_records import read_events

MARK = "ct/log/"


def read_store_events(rec_dir):
    """io_recorder.c's records of the store's files (io_records.py)."""
    return read_events(rec_dir, lambda ev: MARK in ev["path"] or MARK in ev.get("to", ""))


def rel(path):
    i = path.find(MARK)
    return path[i + len(MARK):] if i >= 0 else None


def state_at(events, upto, rnd):
    """Files (name -> bytes) a crash just before events[upto] could leave."""
    cur, synced = {}, {}
    for ev in events[:upto]:
        name = rel(ev["path"])
        if ev["op"] == "O":
            cur.setdefault(name, bytearray())
            synced.setdefault(name, b"")
        elif ev["op"] == "W":
            b = cur.setdefault(name, bytearray())
            end = ev["off"] + len(ev["data"])
            if len(b) < end:
                b.extend(b"\0" * (end - len(b)))
            b[ev["off"]:end] = ev["data"]
            synced.setdefault(name, b"")
        elif ev["op"] == "T":
            b = cur.setdefault(name, bytearray())
            del b[ev["len"]:]
        elif ev["op"] == "S":
            if name in cur:
                synced[name] = bytes(cur[name])
        elif ev["op"] == "R":
            to = rel(ev["to"])
            if name in cur and to:
                cur[to] = cur.pop(name)
                synced[to] = synced.pop(name, b"")
        elif ev["op"] == "U":
            cur.pop(name, None)
            synced.pop(name, None)
    out = {}
    for name, b in cur.items():
        if name is None or name in ("LOCK", "LOG", "LOG.old"):
            continue
        base = synced.get(name, b"")
        if bytes(b[:len(base)]) != base:
            base = b""  # rewritten in place since its sync: only what is certain
        extra = bytes(b[len(base):])
        out[name] = base + extra[:rnd.randint(0, len(extra))]
    return out


def main():
    args = sys.argv[1:]
    states, seed = 40, 1
    if "--states" in args:
        i = args.index("--states")
        states = int(args[i + 1])
        del args[i:i + 2]
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    rec_dir, calls, checker, work = args
    rnd = random.Random(seed)
    events = read_store_events(rec_dir)
    acks = []
    with open(calls) as f:
        for line in f:
            r = json.loads(line)
            if r.get("ok") and "ack_mono" in r:
                hashes = list(r["sct_leaf_hashes"]) + ([r["cert_leaf_hash"]] if r.get("logged") else [])
                acks.append((int(r["ack_mono"] * 1e9), hashes))
    points = [i for i, e in enumerate(events) if e["op"] == "S"]
    if not points or not acks:
        print("ct_crash_states: nothing recorded (%d events, %d acknowledgements)" % (len(events), len(acks)))
        return 1
    chosen = sorted(set(rnd.sample(points, min(states - 1, len(points))) + [len(events)]))
    writes = sum(1 for e in events if e["op"] == "W")
    for n, upto in enumerate(chosen):
        horizon = events[upto]["t"] if upto < len(events) else float("inf")
        required = [h for t, hs in acks if t < horizon for h in hs]
        files = state_at(events, upto, rnd)
        d = os.path.join(work, "state")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        r = subprocess.run([checker, d], input="\n".join(required) + "\n", capture_output=True, text=True)
        if r.returncode != 0:
            keep = os.path.join(work, "failed-state-%d" % upto)
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(d, keep)
            print("ct_crash_states: crash before event %d of %d (%d acknowledged entries): %s (kept in %s)" %
                  (upto, len(events), len(required), r.stdout.strip().splitlines()[-1] if r.stdout else
                   r.stderr.strip()[-300:], keep))
            return 1
    print("ct_crash_states: %d writes, %d syncs in the store; %d crash states opened and held every "
          "acknowledged entry (%d issuances)" % (writes, len(points), len(chosen), len(acks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
