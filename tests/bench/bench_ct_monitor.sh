#!/usr/bin/env bash
# bench_ct_monitor.sh BINDIR [ENTRIES=1000000] [DIR=/tmp/tc-monitor-bench]:
# monitor catch-up from a cold start (issue 13's bench: >= 100,000
# entries/s over 10^6 entries). Makes a static-ct-api log of ENTRIES
# entries with ct_synth_log (kept in DIR: made once, reused), serves its
# tiles with ct_tiles_server (the log's own read path), runs
# `trustchainctl ct monitor --once` from an empty state and prints, from
# that one run, the entries verified per second of wall clock next to the
# monitor's own CPU (user + sys of all its threads) and the tile server's.
# Run it on a Release build (BINDIR = build-rel/bin), in a network
# namespace when others share the box (unshare -n, lo up).
set -euo pipefail
bindir=$(cd "$1" && pwd)
entries=${2:-1000000}
dir=${3:-/tmp/tc-monitor-bench}
if [ ! -s "$dir/tiles/checkpoint" ] || [ "$(sed -n 2p "$dir/tiles/checkpoint")" != "$entries" ]; then
  rm -rf "$dir"
  echo "making a log of $entries entries in $dir (ct_synth_log)"
  "$bindir/ct_synth_log" "$dir" "$entries" > /dev/null
fi
port=$(( 20000 + RANDOM % 20000 ))
"$bindir/ct_tiles_server" "$dir/tiles" "$port" &
srv=$!
trap 'kill "$srv" 2>/dev/null || true; rm -f "$dir/m.state" "$dir/m.state.tmp"' EXIT
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/checkpoint" > /dev/null 2>&1 && break
  sleep 0.1
done
rm -f "$dir/m.state"
ticks=$(getconf CLK_TCK)
srv_cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$srv/stat"; }
s0=$(srv_cpu)
"$bindir/trustchainctl" ct monitor --url "http://127.0.0.1:$port" --log-key "$dir/log_public_key.pem" \
  --state "$dir/m.state" --once | tee "$dir/monitor.out"
s1=$(srv_cpu)
echo "tile server CPU $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') s; load $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
grep -q "verified; $entries new entries verified" "$dir/monitor.out"
