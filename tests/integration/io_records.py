"""The records tests/support/io_recorder.c writes (one *.rec file per
process), read back as events for the crash-state checkers.

Each record: op (1 byte: W write, T truncate, R rename, S sync, ...),
time (u64 LE, ns), path length (u32 LE) and path; then for W the offset
(u64), length (u32) and the bytes; for T the new length (u64); for R the
target's length (u32) and name.
"""
import glob
import os
import struct


def read_events(rec_dir, keep):
    """Every recorded event whose path (or rename target) keep() accepts,
    in time order: dicts with op, t, path, and off/data, len or to."""
    events = []
    for path in glob.glob(os.path.join(rec_dir, "*.rec")):
        with open(path, "rb") as f:
            data = f.read()
        p = 0
        while p + 13 <= len(data):
            op = chr(data[p])
            t, plen = struct.unpack_from("<QI", data, p + 1)
            p += 13
            name = data[p:p + plen].decode(errors="replace")
            p += plen
            ev = {"op": op, "t": t, "path": name}
            if op == "W":
                off, n = struct.unpack_from("<QI", data, p)
                p += 12
                ev.update(off=off, data=data[p:p + n])
                p += n
            elif op == "T":
                (ev["len"],) = struct.unpack_from("<Q", data, p)
                p += 8
            elif op == "R":
                (tlen,) = struct.unpack_from("<I", data, p)
                ev["to"] = data[p + 4:p + 4 + tlen].decode(errors="replace")
                p += 4 + tlen
            if keep(ev):
                events.append(ev)
    return sorted(events, key=lambda e: e["t"])
