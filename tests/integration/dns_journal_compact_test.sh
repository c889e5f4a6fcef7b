#!/usr/bin/env bash
# Zone journal compaction (issue 12): the journal of dynamic updates
# (data/dns/zone.journal, one record per group commit) is folded into its
# net changes once it holds 1,024 records, so it stays bounded by what the
# updates left in the zone, not by how many were made. Against a whole
# server: bench_dns_update replaces 8 _acme-challenge TXT RRsets over and
# over (the zone keeps its size) until the resolver logs a compaction;
# then
# - the folded changes are each client's last TXT (under 2 KiB) and the
#   journal is far smaller than the history it replaced;
# - an nsupdate after the compaction is appended and served;
# - after kill -9 of the resolver the replayed zone holds exactly what was
#   served before (each client's last value and the late record), at a
#   higher serial;
# - IXFR from a serial before the restart is answered with the whole zone
#   (AXFR form; the deltas were in memory), never a stale chain.
# Usage: dns_journal_compact_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
for tool in dig nsupdate; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (ops/deps.sh TEST_PACKAGES)"; exit 77; }
done
[ -x "$bindir/bench_dns_update" ] || { echo "SKIP: bench_dns_update not built"; exit 77; }
. "$(dirname "$0")/server_lib.sh" dns-journal-compact
zone=trust.hypermesh.online
"$bindir/trustchainctl" dns tsig new bench > "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new xfr >> "$tmp/tsig.keys"
own_tsig_keys
secret=$(tsig_secret xfr)
dev_config
sed -i "/^dns:/a\\  tsig_keys_file: $tmp/tsig.keys\\n  update_policy:\\n    - {key: bench, names: [\"_acme-challenge.*\"], types: [TXT]}\\n  secondaries:\\n    - {address: \"127.0.0.1:$((base + 6))\", key: xfr}" \
  "$tmp/trustchain.yaml"
start_server
port=$base
q() { dig +short +norec @127.0.0.1 -p "$port" "$@"; }
serial() { q "$zone" SOA | awk '{ print $3 }'; }
journal=$tmp/data/dns/zone.journal

bench_pid=
cleanup_extra() { [ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null || true; }
"$bindir/bench_dns_update" 127.0.0.1 "$port" "$zone" "$tmp/tsig.keys" bench -c 8 -d 120 > "$tmp/bench.out" 2>&1 &
bench_pid=$!
for _ in $(seq 1 1200); do
  grep -q "zone journal: compacted" "$tmp/server.log" && break
  kill -0 "$bench_pid" 2>/dev/null || break
  sleep 0.1
done
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
bench_pid=
line=$(grep -m1 "zone journal: compacted" "$tmp/server.log") ||
  { cat "$tmp/bench.out"; fail "no compaction within 120 s of updates"; }
# "compacted: N records (X octets of changes) folded into Y octets"
read -r n x y < <(sed -E 's/.*compacted: ([0-9]+) records \(([0-9]+) octets.* into ([0-9]+) octets.*/\1 \2 \3/' <<< "$line")
[ "$n" -ge 1024 ] || fail "compacted after $n records"
# 8 RRsets of one short TXT each (delete + add): well under 2 KiB.
[ "$y" -lt 2048 ] || fail "the folded changes are $y octets"
sleep 0.5
size=$(stat -c %s "$journal")
# The folded record plus the few batches between the compaction and the
# bench's end: far below the history it replaced.
[ "$size" -lt $((x / 4)) ] || fail "the journal is $size octets after folding $x"
ok "compacted (${line##*: compacted: }); journal now $size octets"

{ echo "server 127.0.0.1 $port"; echo "zone $zone"; echo "update add _acme-challenge.late.$zone 60 TXT \"after compaction\""
  echo send; } | nsupdate -t 5 -y "hmac-sha256:bench:$(tsig_secret bench)" || fail "nsupdate after the compaction"
[ "$(q "_acme-challenge.late.$zone" TXT)" = '"after compaction"' ] || fail "the late update is not served"
[ "$(stat -c %s "$journal")" -gt "$size" ] || fail "the late update was not appended to the compacted journal"
for i in 0 1 2 3 4 5 6 7; do q "_acme-challenge.bench-$i.$zone" TXT; done > "$tmp/before.txt"
[ "$(grep -c . "$tmp/before.txt")" = 8 ] || fail "the bench's records are not all served: $(cat "$tmp/before.txt")"
s1=$(serial)

resolver=$(pid_of resolver)
kill -KILL "$resolver"
wait_ready resolver "$resolver"
for _ in $(seq 1 50); do [ "$(serial)" != "$s1" ] && break; sleep 0.1; done
s2=$(serial)
[ "$s2" -gt "$s1" ] || fail "serial after kill -9 ($s2) not above $s1"
for i in 0 1 2 3 4 5 6 7; do q "_acme-challenge.bench-$i.$zone" TXT; done > "$tmp/after.txt"
cmp -s "$tmp/before.txt" "$tmp/after.txt" || fail "replayed zone differs: $(diff "$tmp/before.txt" "$tmp/after.txt")"
[ "$(q "_acme-challenge.late.$zone" TXT)" = '"after compaction"' ] || fail "the late update is lost after kill -9"
replayed=$(grep -o "zone journal: [0-9]* updates replayed" "$tmp/server.log" | tail -n 1 | awk '{ print $3 }')
[ -n "$replayed" ] && [ "$replayed" -lt 512 ] || fail "the restart replayed ${replayed:-no} journal records"
ok "after kill -9: the compacted journal ($replayed records) replayed the same 8 TXT RRsets and the late one; serial $s1 -> $s2"

dig +tcp +nocmd +nostats -y "hmac-sha256:xfr:$secret" @127.0.0.1 -p "$port" "$zone" "IXFR=$s1" |
  awk '!/^;/ && NF && $4 != "TSIG" { print $1, $4 }' > "$tmp/ixfr.out"
[ "$(sed -n 2p "$tmp/ixfr.out" | awk '{ print $2 }')" != SOA ] || fail "IXFR from $s1 claims a chain after kill -9"
[ "$(wc -l < "$tmp/ixfr.out")" -gt 40 ] || fail "IXFR from $s1 is not the whole zone: $(wc -l < "$tmp/ixfr.out") records"
ok "IXFR from $s1 (history gone) answered with the whole zone: $(wc -l < "$tmp/ixfr.out") records"
