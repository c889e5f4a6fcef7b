#!/usr/bin/env bash
# Signed durable updates/s (and the resolver's and signer's CPU per update,
# steadier than the rate on a loaded box) of two builds in one run,
# alternated so both see the same load on a shared box: bench_dns_update.sh (whole server, N TSIG
# clients, then the UDP query rate) against BASE_BINDIR and BINDIR in turn,
# ROUNDS times, then the figures side by side.
# Usage: bench_dns_update_ab.sh BASE_BINDIR BINDIR [SECONDS (10)] [CLIENTS (1,8,32)] [ROUNDS (2)]   (not a test)
set -euo pipefail
base=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
secs=${3:-10}
clients=${4:-1,8,32}
rounds=${5:-2}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/tc-dnsupd-ab-XXXXXX)
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  for which in base new; do
    dir=$base
    [ "$which" = new ] && dir=$new
    echo "== round $r: $which ($dir)"
    "$here/bench_dns_update.sh" "$dir" "$secs" "$clients" 2>&1 | tee "$out/$which.$r"
  done
done
echo "== summary (updates/s by clients; UDP queries/s), load $(cut -d' ' -f1-3 /proc/loadavg)"
for which in base new; do
  for r in $(seq 1 "$rounds"); do
    printf '%-4s round %s: %s | udp %s\n' "$which" "$r" \
      "$(sed -nE 's/^updates: +([0-9]+) TSIG clients: +([0-9]+) signed.*p99 +([0-9.]+) ms.*/c\1 \2\/s (p99 \3 ms)/p' "$out/$which.$r" | paste -sd ' ')" \
      "$(sed -nE 's/^ +([0-9]+) qps.*/\1 qps/p' "$out/$which.$r" | head -n 1)"
    printf '%-4s round %s: CPU per update (resolver + signer): %s\n' "$which" "$r" \
      "$(sed -nE 's/^cpu: +([0-9]+) TSIG clients: resolver ([0-9]+) us \+ signer ([0-9]+) us.*/c\1 \2+\3 us/p' "$out/$which.$r" | paste -sd ' ')"
  done
done
