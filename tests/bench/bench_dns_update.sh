#!/usr/bin/env bash
# Signed, durable RFC 2136 updates per second against a whole server, with
# N concurrent TSIG clients (bench_dns_update, TCP), then the UDP query
# rate (bench_dns_udp) in the same run, so the update path's figures and
# the query path's sit side by side. Runs in its own network namespace.
# Usage: bench_dns_update.sh BINDIR [SECONDS (10)] [CLIENTS (1,8,32)]   (not a test)
set -euo pipefail
if [ -z "${TC_DNSUPD_NETNS:-}" ] && unshare -n true 2>/dev/null; then
  exec env TC_DNSUPD_NETNS=1 unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
bindir=$(cd "$1" && pwd)
secs=${2:-10}
clients=${3:-1,8,32}
. "$(dirname "$0")/../integration/server_lib.sh" dns-update-bench
zone=trust.hypermesh.online
"$bindir/trustchainctl" dns tsig new bench > "$tmp/tsig.keys"
chmod 600 "$tmp/tsig.keys"
if [ "$(id -u)" = 0 ] && id trustchain-resolver >/dev/null 2>&1; then
  chown trustchain-resolver "$tmp/tsig.keys"
fi
dev_config
# dns: keys and policy go into the dns section dev_config wrote.
sed -i "/^dns:/a\\  tsig_keys_file: $tmp/tsig.keys\\n  update_policy:\\n    - {key: bench, names: [\"_acme-challenge.*\"], types: [TXT]}" "$tmp/trustchain.yaml"
start_server
grep -q "zone $zone built: .* signed (" "$tmp/server.log" || fail "zone not signed"
sleep 2
echo "bench_dns_update: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# CPU time (user + system, clock ticks) of our resolver and signer: the
# children of $server_pid running $bindir's binaries. On a shared box the
# updates/s follow the other tenants' load; the CPU each update costs does
# much less, so it is printed next to each figure (A/B runs compare both).
child_pid() {
  local p
  for p in $(pgrep -P "$server_pid" 2>/dev/null); do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$bindir/$1" ] && { echo "$p"; return; }
  done
}
cpu_ticks() { [ -n "$1" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
resolver_pid=$(child_pid trustchain-resolver)
signer_pid=$(child_pid trustchain-signer)
hz=$(getconf CLK_TCK)
IFS=, read -ra list <<< "$clients"
for c in "${list[@]}"; do
  r0=$(cpu_ticks "$resolver_pid") s0=$(cpu_ticks "$signer_pid")
  out=$("$bindir/bench_dns_update" 127.0.0.1 "$base" "$zone" "$tmp/tsig.keys" bench -c "$c" -d "$secs")
  r1=$(cpu_ticks "$resolver_pid") s1=$(cpu_ticks "$signer_pid")
  echo "$out"
  n=$(sed -nE 's/.*\(([0-9]+) NOERROR.*/\1/p' <<< "$out" | tail -n 1)
  if [ -n "$n" ] && [ "$n" -gt 0 ]; then
    awk -v c="$c" -v n="$n" -v r=$((r1 - r0)) -v s=$((s1 - s0)) -v hz="$hz" 'BEGIN {
      printf "cpu: %3d TSIG clients: resolver %.0f us + signer %.0f us per update (%.1f + %.1f CPU s)\n",
        c, r / hz * 1e6 / n, s / hz * 1e6 / n, r / hz, s / hz }'
  fi
done
echo "zone journal: $(stat -c %s "$tmp/data/dns/zone.journal") octets"
"$bindir/bench_dns_udp" 127.0.0.1 "$base" -d "$secs"
