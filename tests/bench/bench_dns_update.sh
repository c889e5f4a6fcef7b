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
IFS=, read -ra list <<< "$clients"
for c in "${list[@]}"; do
  "$bindir/bench_dns_update" 127.0.0.1 "$base" "$zone" "$tmp/tsig.keys" bench -c "$c" -d "$secs"
done
echo "zone journal: $(stat -c %s "$tmp/data/dns/zone.journal") octets"
"$bindir/bench_dns_udp" 127.0.0.1 "$base" -d "$secs"
