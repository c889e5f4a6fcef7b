#!/usr/bin/python3
"""Connection floods against a running dev server (tests/soak/flood.sh):

  flood.py tls       --target HOST:PORT --root ROOT.pem -n N --hold S   idle TLS connections (gateway)
                     [--sources K | --source ADDR]   from K loopback addresses 127.0.1.1..K in
                                                       turn (default 1: the system's choice) or from ADDR
  flood.py slowloris --target HOST:PORT -n N --hold S                    slowloris on an HTTP listener

Each mode opens N connections (a TLS handshake, then silence; or an HTTP
request line and one header byte every 2 s), keeps them for HOLD seconds,
and prints one JSON line: how many were opened, how many the server had
closed by the end and when. The caller measures RSS and checks that new
clients are served meanwhile."""
import argparse
import asyncio
import json
import ssl
import sys
import time


async def open_tls(host, port, ctx, sem, source):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost",
                                                                  local_addr=(source, 0) if source else None),
                                          30)
            return r, w
        except Exception:  # noqa: BLE001 (refused, reset, timed out: counted as not opened)
            return None


async def watch_closed(r, t0, closed):
    try:
        while await r.read(4096):
            pass
    except Exception:  # noqa: BLE001 (a reset is a close too)
        pass
    closed.append(time.time() - t0)


async def tls_flood(a):
    host, port = a.target.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=a.root)
    ctx.set_alpn_protocols(["h2"])
    sem = asyncio.Semaphore(128)
    t0 = time.time()
    # Several sources: the gateway caps connections per source address too.
    sources = [a.source] if a.source else ["127.0.1.%d" % (i + 1) for i in range(a.sources)] if a.sources > 1 else [None]
    conns = [c for c in await asyncio.gather(*(open_tls(host, int(port), ctx, sem, sources[i % len(sources)])
                                               for i in range(a.n))) if c]
    opened_in = time.time() - t0
    # Not opened: refused or reset by the server (gateway.max_connections).
    print(json.dumps({"event": "opened", "opened": len(conns), "not_opened": a.n - len(conns),
                      "seconds": round(opened_in, 1)}), flush=True)
    closed = []
    t1 = time.time()
    watchers = [asyncio.create_task(watch_closed(r, t1, closed)) for r, _ in conns]
    await asyncio.sleep(a.hold)
    for _, w in conns:
        w.transport.abort()
    await asyncio.gather(*watchers, return_exceptions=True)
    early = [c for c in closed if c < a.hold - 0.5]
    print(json.dumps({"mode": "tls", "requested": a.n, "opened": len(conns), "not_opened": a.n - len(conns),
                      "open_seconds": round(opened_in, 1),
                      "closed_by_server": len(early),
                      "first_close_s": round(min(early), 1) if early else None}), flush=True)


async def slowloris_one(host, port, t0, stats, hold, sem):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except Exception:  # noqa: BLE001
            return
    stats["opened"] += 1
    w.write(b"GET /ct/v1/get-sth HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        while time.time() - t0 < hold:
            await asyncio.sleep(2)
            w.write(b"a")
            await w.drain()
            if r.at_eof():
                raise ConnectionResetError
    except Exception:  # noqa: BLE001 (the server closed it)
        stats["closed"].append(time.time() - t0)
        return
    w.transport.abort()


async def slowloris(a):
    host, port = a.target.rsplit(":", 1)
    stats = {"opened": 0, "closed": []}
    sem = asyncio.Semaphore(256)
    t0 = time.time()
    await asyncio.gather(*(slowloris_one(host, int(port), t0, stats, a.hold, sem) for _ in range(a.n)))
    closed = stats["closed"]
    print(json.dumps({"mode": "slowloris", "requested": a.n, "opened": stats["opened"], "closed_by_server": len(closed),
                      "first_close_s": round(min(closed), 1) if closed else None,
                      "last_close_s": round(max(closed), 1) if closed else None}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["tls", "slowloris"])
    p.add_argument("--target", required=True)
    p.add_argument("--root")
    p.add_argument("-n", type=int, default=1000)
    p.add_argument("--hold", type=float, default=30)
    p.add_argument("--sources", type=int, default=1)
    p.add_argument("--source")
    a = p.parse_args()
    asyncio.run(tls_flood(a) if a.mode == "tls" else slowloris(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
