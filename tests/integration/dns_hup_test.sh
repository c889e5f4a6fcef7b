#!/usr/bin/env bash
# SIGHUP to trustchain-server (issue 12, part 6): the supervisor reads and
# checks the configuration, and when only the zone's contents changed
# (dns.records, dns.zone_file, dns.addresses) hands it to the running
# resolver over its supervisor channel instead of restarting it; the
# resolver rebuilds and re-signs the zone in place.
# Checks, against the whole server (dev ceremony, SoftHSM, real QUIC):
# - a DoQ connection opened before the SIGHUP keeps answering through it
#   (a query every 200 ms) and answers with the new data after it;
# - the changed A record, a new TXT record (with its RRSIG) and a changed
#   zone_file record are served under a larger serial; no child restarted;
# - a configuration with a YAML error is refused by the supervisor: no child
#   restarted, the zone unchanged;
# - a configuration whose zone cannot be built (missing zone_file) is
#   refused by the resolver: the zone and its serial stay;
# - an unchanged configuration (the zone file alone edited) reaches the
#   resolver in place while the other children restart as before;
# - a change outside the zone (dns.rate_limit_qps) restarts the resolver too.
# Usage: dns_hup_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
[ -x "$bindir/doq_hold" ] || { echo "SKIP: doq_hold not built"; exit 77; }
. "$(dirname "$0")/server_lib.sh" dns-hup
zone=trust.hypermesh.online
base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1))
printf 'fromfile 300 IN TXT "zone file v1"\n' > "$tmp/extra.zone"
chmod 644 "$tmp/extra.zone"

# Written in place (same inode): the resolver's Landlock rules name the
# files it was started with.
config() { # config A-ADDRESS EXTRA-RECORD-LINE ZONE-FILE [EXTRA-DNS-LINE]
  cat > "$tmp/trustchain.yaml.new" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $port
  quic_port: $quic
  zone_file: $3
${4:-}
  records:
    - "www 300 A $1"
$2
ct:
  http_listen: 127.0.0.1:$((base + 2))
gateway:
  listen: 127.0.0.1:$((base + 3))
YAML
  cat "$tmp/trustchain.yaml.new" > "$tmp/trustchain.yaml"
}
config 192.0.2.10 "" "$tmp/extra.zone"
start_server
q() { dig +short +norec @127.0.0.1 -p "$port" "$@"; }
serial() { q "$zone" SOA | awk '{ print $3 }'; }
pids() { for c in signer transparency resolver gateway; do printf '%s=%s ' "$c" "$(pid_of "$c")"; done; }
[ "$(q www.$zone A)" = 192.0.2.10 ] || fail "www A is not served"
[ "$(q fromfile.$zone TXT)" = '"zone file v1"' ] || fail "the zone file's TXT is not served"

# A DoQ connection held across the reload (the certificate comes from the
# signer and the CT log shortly after start: retried until it is there).
hold_pid=
cleanup_extra() { [ -z "$hold_pid" ] || kill "$hold_pid" 2>/dev/null || true; }
for _ in $(seq 1 60); do
  rm -f "$tmp/hold.out"
  "$bindir/doq_hold" "$tmp/data/ca/root.pem" "dns.$zone" 127.0.0.1 "$quic" "www.$zone" 1 "$tmp/go" \
    > "$tmp/hold.out" 2> "$tmp/hold.err" &
  hold_pid=$!
  for _ in $(seq 1 50); do
    [ -s "$tmp/hold.out" ] && break
    kill -0 "$hold_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$tmp/hold.out" ] && break
  wait "$hold_pid" 2>/dev/null || true
  hold_pid=
  sleep 1
done
[ "$(head -n 1 "$tmp/hold.out" 2>/dev/null)" = c000020a ] || fail "no DoQ answer: $(cat "$tmp/hold.err")"
s0=$(serial)
before=$(pids)
ok "serving serial $s0 ($before); DoQ connection open"

config 192.0.2.20 '    - "new 300 TXT \"reloaded\""' "$tmp/extra.zone"
printf 'fromfile 300 IN TXT "zone file v2"\n' > "$tmp/extra.zone"
kill -HUP "$server_pid"
for _ in $(seq 1 150); do
  [ "$(q www.$zone A)" = 192.0.2.20 ] && break
  sleep 0.1
done
[ "$(q www.$zone A)" = 192.0.2.20 ] || fail "the changed A record is not served after SIGHUP"
[ "$(q new.$zone TXT)" = '"reloaded"' ] || fail "the new TXT is not served after SIGHUP"
[ "$(q fromfile.$zone TXT)" = '"zone file v2"' ] || fail "the zone file was not read again"
dig +norec +dnssec @127.0.0.1 -p "$port" new.$zone TXT | grep -q $'\tRRSIG\tTXT 13 ' ||
  fail "the new TXT is not signed"
s1=$(serial)
[ "$s1" -gt "$s0" ] || fail "serial did not grow ($s0 -> $s1)"
grep -q "SIGHUP: configuration reloaded; zone handed to the resolver" "$tmp/server.log" ||
  fail "the supervisor did not hand the zone over"
grep -q "zone reloaded from the supervisor's configuration" "$tmp/server.log" ||
  fail "the resolver did not log the reload"
touch "$tmp/go"
wait "$hold_pid" || fail "the DoQ connection did not survive the reload: $(cat "$tmp/hold.err")"
hold_pid=
[ "$(sed -n 2p "$tmp/hold.out")" = c0000214 ] || fail "DoQ after the reload: $(cat "$tmp/hold.out")"
[ "$(pids)" = "$before" ] || fail "children restarted: $before -> $(pids)"
ok "SIGHUP: serial $s1, new records served and signed, same DoQ connection answered with them ($(tail -n 1 "$tmp/hold.err" | sed 's/^doq_hold: //')), no child restarted"

# A YAML error: the supervisor keeps everything.
printf 'dns:\n  records: [\n' > "$tmp/trustchain.yaml"
kill -HUP "$server_pid"
for _ in $(seq 1 50); do
  grep -q "SIGHUP: keeping the running configuration" "$tmp/server.log" && break
  sleep 0.1
done
grep -q "SIGHUP: keeping the running configuration: .*YAML" "$tmp/server.log" || fail "a broken file was not refused"
sleep 1
[ "$(q www.$zone A)" = 192.0.2.20 ] || fail "a refused configuration changed the zone"
[ "$(serial)" = "$s1" ] || fail "a refused configuration changed the serial"
[ "$(pids)" = "$before" ] || fail "a refused configuration restarted children: $(pids)"
ok "a broken configuration is refused by the supervisor; nothing restarted, serial $s1 stays"

# A configuration without its zone file: the resolver keeps its zone.
config 192.0.2.30 "" "$tmp/missing.zone"
kill -HUP "$server_pid"
for _ in $(seq 1 100); do
  grep -q "SIGHUP: keeping the zone" "$tmp/server.log" && break
  sleep 0.1
done
grep -q "SIGHUP: keeping the zone: .*missing.zone" "$tmp/server.log" || fail "a zone that cannot be built was not refused"
[ "$(q www.$zone A)" = 192.0.2.20 ] || fail "a refused zone changed the answers"
[ "$(serial)" = "$s1" ] || fail "a refused zone changed the serial"
[ "$(pids)" = "$before" ] || fail "a refused zone restarted children: $(pids)"
ok "a configuration whose zone cannot be built is refused by the resolver; serial $s1 stays"

# The same configuration again, only the zone file edited: the resolver
# reloads in place, the others restart (they re-read their own files).
reloads() { grep -c "zone reloaded from the supervisor's configuration" "$tmp/server.log" || true; }
config 192.0.2.20 '    - "new 300 TXT \"reloaded\""' "$tmp/extra.zone"
kill -HUP "$server_pid"
for _ in $(seq 1 100); do
  [ "$(reloads)" -ge 2 ] && break
  sleep 0.1
done
[ "$(reloads)" -ge 2 ] || fail "the good configuration again was not applied"
s2=$(serial)
printf 'fromfile 300 IN TXT "zone file v3"\n' > "$tmp/extra.zone"
resolver=$(pid_of resolver) gateway=$(pid_of gateway)
kill -HUP "$server_pid"
wait_ready gateway "$gateway"
for _ in $(seq 1 150); do
  [ "$(q fromfile.$zone TXT)" = '"zone file v3"' ] && break
  sleep 0.1
done
[ "$(q fromfile.$zone TXT)" = '"zone file v3"' ] || fail "the edited zone file is not served after SIGHUP"
[ "$(pid_of resolver)" = "$resolver" ] || fail "the resolver restarted on an unchanged configuration"
grep -q "zone handed to the resolver, restarting the others" "$tmp/server.log" || fail "no log of the unchanged case"
ok "unchanged configuration: zone file re-read in place (resolver $resolver kept, serial $s2 -> $(serial)), gateway restarted"

# Outside the zone: the resolver restarts like the others.
config 192.0.2.20 '    - "new 300 TXT \"reloaded\""' "$tmp/extra.zone" "  rate_limit_qps: 777"
kill -HUP "$server_pid"
wait_ready resolver "$resolver"
[ "$(q www.$zone A)" = 192.0.2.20 ] || fail "www A after the restart"
ok "a change outside the zone restarts the resolver (pid $resolver -> $(pid_of resolver))"
