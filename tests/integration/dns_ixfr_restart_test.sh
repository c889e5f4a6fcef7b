#!/usr/bin/env bash
# IXFR across a restart of the resolver (issue 12, part 2): a clean stop
# saves the zone served, its signatures and the IXFR deltas
# (<data_dir>/dns/zone.state, src/resolver/zone_state.h); the next start
# reuses the signatures and continues the chain with the delta across the
# restart. Checks, with dig's TSIG-signed IXFR against the whole server:
# - before the restart, IXFR from the serial before an nsupdate is
#   incremental (the second record is the old SOA);
# - after SIGTERM of the resolver (the supervisor restarts it), IXFR from
#   that same serial and from the serial just before the restart are still
#   incremental, and the delta across the restart is a few records (the
#   unchanged RRsets kept their RRSIGs: not every signature made again);
#   the update is still served;
# - after kill -9 (nothing saved; the file was consumed at the start
#   before) IXFR from an old serial falls back to the whole zone (AXFR
#   form), never to a stale chain.
# Usage: dns_ixfr_restart_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
for tool in dig nsupdate; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (ops/deps.sh TEST_PACKAGES)"; exit 77; }
done
. "$(dirname "$0")/server_lib.sh" dns-ixfr-restart
zone=trust.hypermesh.online
base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1))

"$bindir/trustchainctl" dns tsig new xfr > "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new acme > "$tmp/acme.key"
cat "$tmp/acme.key" >> "$tmp/tsig.keys"
own_tsig_keys
secret=$(tsig_secret xfr)

cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $port
  quic_port: $quic
  tsig_keys_file: $tmp/tsig.keys
  secondaries:
    - {address: "127.0.0.1:$((base + 5))", key: xfr}
  update_policy:
    - {key: acme, names: ["_acme-challenge.*"], types: [TXT]}
  records:
    - "www 300 A 192.0.2.10"
ct:
  http_listen: 127.0.0.1:$((base + 2))
gateway:
  listen: 127.0.0.1:$((base + 3))
YAML

start_server
q() { dig +short +norec @127.0.0.1 -p "$port" "$@"; }
serial() { q "$zone" SOA | awk '{ print $3 }'; }
# The records of an IXFR answer, TSIG left out: "owner type serial-if-SOA".
ixfr() {
  dig +tcp +nocmd +nostats -y "hmac-sha256:xfr:$secret" @127.0.0.1 -p "$port" "$zone" "IXFR=$1" |
    awk '!/^;/ && NF && $4 != "TSIG" { print $1, $4, ($4 == "SOA" ? $7 : "") }'
}
incremental() { # incremental FROM: the answer is RFC 1995 deltas from FROM
  ixfr "$1" > "$tmp/ixfr.out"
  [ "$(sed -n 2p "$tmp/ixfr.out" | awk '{ print $2, $3 }')" = "SOA $1" ]
}
nsupdate_add() {
  { echo "server 127.0.0.1 $port"; echo "zone $zone"; echo "update add $1 60 TXT \"$2\""; echo send; } |
    nsupdate -t 5 -k "$tmp/acme.key" || fail "nsupdate add $1 failed"
}
# The zone settles once the DoQ certificate's TLSA record is in.
for _ in $(seq 1 300); do
  grep -q "DoQ DANE-EE" "$tmp/server.log" && break
  sleep 0.2
done
sleep 1
s0=$(serial)
nsupdate_add "_acme-challenge.a.$zone" before-restart
s1=$(serial)
[ "$s1" -gt "$s0" ] || fail "the update did not raise the serial ($s0 -> $s1)"
incremental "$s0" || fail "IXFR from $s0 before the restart is not incremental: $(head -n 3 "$tmp/ixfr.out")"
ok "before the restart: IXFR $s0 -> $s1 is incremental ($(wc -l < "$tmp/ixfr.out") records)"

resolver=$(pid_of resolver)
kill -TERM "$resolver"
wait_ready resolver "$resolver"
grep -q "resolver\[$resolver\] info: zone state: serial $s1 saved" "$tmp/server.log" || fail "the stop saved no state"
grep -q "zone state: serial $s1 restored" "$tmp/server.log" || fail "the start restored no state"
for _ in $(seq 1 50); do [ "$(serial)" != "$s1" ] && break; sleep 0.1; done
s2=$(serial)
[ "$s2" -gt "$s1" ] || fail "the serial did not grow across the restart ($s1 -> $s2)"
[ "$(q "_acme-challenge.a.$zone" TXT)" = '"before-restart"' ] || fail "the update is lost after the restart"
incremental "$s1" || fail "IXFR from $s1 after the restart is not incremental: $(head -n 3 "$tmp/ixfr.out")"
across=$(wc -l < "$tmp/ixfr.out")
# Across the restart: SOA and its RRSIG out and in, plus the DoQ TLSA when
# the restarted resolver got a new certificate; a re-signed zone would be
# every RRSIG twice (over 40).
[ "$across" -le 24 ] || fail "the delta across the restart is $across records (signatures not reused?)"
incremental "$s0" || fail "IXFR from $s0 (before the restart) is not incremental after it"
ok "after SIGTERM: IXFR $s1 -> $s2 incremental, $across records; the chain from $s0 kept ($(wc -l < "$tmp/ixfr.out") records)"

# kill -9: nothing saved, and the file read at the last start is gone.
[ ! -e "$tmp/data/dns/zone.state" ] || fail "the state file outlived the start that read it"
nsupdate_add "_acme-challenge.b.$zone" before-kill
s3=$(serial)
resolver=$(pid_of resolver)
kill -KILL "$resolver"
wait_ready resolver "$resolver"
for _ in $(seq 1 50); do [ "$(serial)" != "$s3" ] && break; sleep 0.1; done
# Nothing was saved, and serials ran ahead of the clock: the new zone's
# serial must still be above every one served before (dns/zone.serial),
# never the same serial for a different zone.
s4=$(serial)
[ "$s4" -gt "$s3" ] || fail "serial after kill -9 ($s4) not above the last one served ($s3)"
grep -q "zone serial: continuing above" "$tmp/server.log" || fail "the restart did not continue above the reserved serial"
[ "$(q "_acme-challenge.b.$zone" TXT)" = '"before-kill"' ] || fail "the acknowledged update is lost after kill -9"
! incremental "$s3" || fail "IXFR from $s3 after kill -9 claims an incremental chain"
head -n 1 "$tmp/ixfr.out" | grep -q " SOA " || fail "IXFR after kill -9 did not answer: $(head -n 3 "$tmp/ixfr.out")"
[ "$(wc -l < "$tmp/ixfr.out")" -gt 40 ] || fail "IXFR after kill -9 is not the whole zone: $(wc -l < "$tmp/ixfr.out") records"
ok "after kill -9: IXFR from $s3 falls back to the whole zone ($(wc -l < "$tmp/ixfr.out") records)"
