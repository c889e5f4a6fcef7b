#!/usr/bin/env bash
# Zone transfers to real secondaries (issue 12): Debian's Knot (knotd 3.2)
# and NSD run as secondaries of our signed zone over TSIG, under the real
# supervisor. Checks: AXFR refused without TSIG and with a key no
# secondary has; a signed query is answered signed, a wrong secret gets
# NOTAUTH/BADSIG; dig -y verifies
# every TSIG of a signed AXFR (SOA first and last, DNSKEY, RRSIG, NSEC);
# knot (IXFR-first) and nsd (hmac-sha512 key) load the zone by our NOTIFY
# or their own refresh, serve our serial, and delv validates their answers
# with our trust anchor; after the resolver is killed (-9) and rebuilds the
# zone under a new serial, both follow (NOTIFY) and the time it took is
# printed; an nsupdate reaches both within 2 s, knot by a true IXFR (our
# delta log: difference sequences, not the zone in AXFR form).
# Usage: dns_xfr_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
for tool in dig delv knotd nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (ops/deps.sh TEST_PACKAGES)"; exit 77; }
done
. "$(dirname "$0")/server_lib.sh" dns-xfr
zone=trust.hypermesh.online

knot_pid= nsd_pid=
cleanup_extra() {
  for p in $knot_pid $nsd_pid; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in $knot_pid $nsd_pid; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}

base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1)) ct=$((base + 2)) gw=$((base + 3))
knot_port=$((base + 4)) nsd_port=$((base + 5))

"$bindir/trustchainctl" dns tsig new xfr-knot > "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new xfr-nsd --algorithm hmac-sha512 >> "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new outsider >> "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new acme > "$tmp/acme.key"
cat "$tmp/acme.key" >> "$tmp/tsig.keys"
own_tsig_keys
knot_secret=$(tsig_secret xfr-knot) nsd_secret=$(tsig_secret xfr-nsd) out_secret=$(tsig_secret outsider)
[ -n "$knot_secret" ] && [ -n "$nsd_secret" ] || fail "trustchainctl dns tsig new printed no secret"

cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
  restart_backoff_max_ms: 500
dns:
  udp_port: $port
  quic_port: $quic
  tsig_keys_file: $tmp/tsig.keys
  secondaries:
    - {address: "127.0.0.1:$knot_port", key: xfr-knot}
    - {address: "127.0.0.1:$nsd_port", key: xfr-nsd}
  update_policy:
    - {key: acme, names: ["_acme-challenge.*"], types: [TXT]}
  records:
    - "www 300 A 192.0.2.10"
    - "txt 300 TXT \"replicated\""
ct:
  http_listen: 127.0.0.1:$ct
gateway:
  listen: 127.0.0.1:$gw
YAML

serial_at() { # serial_at PORT
  dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$1" "$zone" SOA 2>/dev/null | awk 'NF == 7 { print $3 }'
}

"$bindir/trustchain-server" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
server_pid=$!
wait_ready resolver
grep -q "zone $zone built: .* signed (" "$tmp/server.log" || fail "zone not signed at start"
serial=$(serial_at "$port")
[ -n "$serial" ] || fail "no SOA from the primary"
ok "primary serves $zone, serial $serial"

# ---- who may transfer ----
out=$(dig +tcp @127.0.0.1 -p "$port" "$zone" AXFR 2>&1 || true)
grep -q "Transfer failed" <<< "$out" || fail "unsigned AXFR not refused: $out"
out=$(dig +tcp -y "hmac-sha256:outsider:$out_secret" @127.0.0.1 -p "$port" "$zone" AXFR 2>&1 || true)
grep -q "Transfer failed" <<< "$out" || fail "AXFR with a non-secondary key not refused: $out"
ok "AXFR refused without TSIG and with a key no secondary has"
out=$(dig -y "hmac-sha256:xfr-knot:$knot_secret" @127.0.0.1 -p "$port" "$zone" SOA 2>&1 || true)
grep -q "status: NOERROR" <<< "$out" && grep -q "^xfr-knot\..*TSIG.*NOERROR" <<< "$out" ||
  fail "a signed SOA query was not answered signed: $out"
grep -qi "could not be validated\|tsig.*fail" <<< "$out" && fail "dig could not verify our TSIG: $out"
bad=$(printf 'x%.0s' $(seq 1 32) | base64)
out=$(dig +tcp -y "hmac-sha256:xfr-knot:$bad" @127.0.0.1 -p "$port" "$zone" SOA 2>&1 || true)
grep -q "status: NOTAUTH" <<< "$out" || fail "a wrong secret did not get NOTAUTH: $out"
grep -qi "BADSIG" <<< "$out" || fail "a wrong secret did not get BADSIG: $out"
ok "signed SOA query answered signed (dig verified); wrong secret: NOTAUTH/BADSIG"

# ---- a signed AXFR, every message's TSIG checked by dig ----
dig +tcp -y "hmac-sha256:xfr-knot:$knot_secret" @127.0.0.1 -p "$port" "$zone" AXFR > "$tmp/axfr.txt" 2>&1 ||
  fail "signed AXFR failed: $(tail -5 "$tmp/axfr.txt")"
grep -qi "tsig.*fail\|could not be validated\|Transfer failed" "$tmp/axfr.txt" && fail "AXFR TSIG not verified: $(grep -i tsig "$tmp/axfr.txt")"
awk '!/^;/ && NF { print $4 }' "$tmp/axfr.txt" > "$tmp/axfr.types"
[ "$(head -n 1 "$tmp/axfr.types")" = SOA ] && [ "$(grep -v '^TSIG$' "$tmp/axfr.types" | tail -n 1)" = SOA ] ||
  fail "AXFR does not start and end with the SOA"
for t in DNSKEY RRSIG NSEC TLSA TXT A; do
  grep -qx "$t" "$tmp/axfr.types" || fail "AXFR has no $t record"
done
ok "signed AXFR: $(grep -c . "$tmp/axfr.types") records, TSIG verified by dig"

# ---- knot and nsd as secondaries ----
mkdir -p "$tmp/nsd"
knot_secondary_conf "$zone" "$knot_port" "$port" "$knot_secret"
cat > "$tmp/nsd/nsd.conf" <<NSD
server:
  ip-address: 127.0.0.1@$nsd_port
  port: $nsd_port
  zonesdir: "$tmp/nsd"
  database: ""
  zonelistfile: "$tmp/nsd/zone.list"
  xfrdfile: "$tmp/nsd/xfrd.state"
  xfrdir: "$tmp/nsd"
  pidfile: "$tmp/nsd/nsd.pid"
  logfile: "$tmp/nsd/nsd.log"
  username: ""
  chroot: ""
  verbosity: 2
  server-count: 1
remote-control:
  control-enable: no
key:
  name: xfr-nsd
  algorithm: hmac-sha512
  secret: "$nsd_secret"
zone:
  name: $zone
  zonefile: "$zone.zone"
  allow-notify: 127.0.0.1 xfr-nsd
  request-xfr: 127.0.0.1@$port xfr-nsd
NSD
knotd -c "$tmp/knot/knot.conf" > "$tmp/knot/stdout" 2>&1 &
knot_pid=$!
nsd -d -c "$tmp/nsd/nsd.conf" > "$tmp/nsd/stdout" 2>&1 &
nsd_pid=$!
start=$(date +%s)
# In step with the primary, whose serial may have moved on since it was read
# above (the DoQ certificate's TLSA record is added when the signer and the
# log have issued it, later on a loaded machine).
wait_in_step() { # wait_in_step PORT SECONDS
  local deadline=$(( $(date +%s) + $2 )) cur
  while [ "$(date +%s)" -le "$deadline" ]; do
    cur=$(serial_at "$port")
    [ -n "$cur" ] && [ "$(serial_at "$1")" = "$cur" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_in_step "$knot_port" 30 || { tail -n 30 "$tmp/knot/knot.log"; fail "knot did not load serial $(serial_at "$port")"; }
serial=$(serial_at "$knot_port")
ok "knot serves the primary's serial $serial after $(( $(date +%s) - start )) s"
wait_in_step "$nsd_port" 30 || { tail -n 30 "$tmp/nsd/nsd.log"; fail "nsd did not load serial $(serial_at "$port")"; }
ok "nsd serves the primary's serial $(serial_at "$nsd_port") after $(( $(date +%s) - start )) s"

"$bindir/trustchainctl" --config "$tmp/trustchain.yaml" dns ds --anchor > "$tmp/anchors.conf"
for sec in knot:$knot_port nsd:$nsd_port; do
  name=${sec%%:*} p=${sec##*:}
  out=$(delv @127.0.0.1 -p "$p" -a "$tmp/anchors.conf" +root="$zone" A "www.$zone" 2>&1 || true)
  grep -q "; fully validated" <<< "$out" || fail "delv against $name: $out"
  grep -q "192.0.2.10" <<< "$out" || fail "delv against $name: no address: $out"
  out=$(delv @127.0.0.1 -p "$p" -a "$tmp/anchors.conf" +root="$zone" TXT "nothere.$zone" 2>&1 || true)
  grep -q "; negative response, fully validated" <<< "$out" || fail "delv NXDOMAIN against $name: $out"
  ok "delv validates $name's answers (positive and NXDOMAIN) with our anchor"
done

# ---- a new serial reaches both by NOTIFY ----
old_pid=$(pid_of resolver)
kill -KILL "$old_pid"
wait_ready resolver "$old_pid"
new=
for _ in $(seq 1 100); do
  new=$(serial_at "$port")
  [ -n "$new" ] && [ "$new" != "$serial" ] && break
  sleep 0.1
done
[ -n "$new" ] && [ "$new" != "$serial" ] || fail "the restarted resolver serves the old serial"
t0=$(date +%s%N)
# The restart can rebuild the zone again (a new DoQ certificate): follow
# whatever the primary serves until both secondaries match it.
for name in knot nsd; do
  p=$knot_port; [ "$name" = nsd ] && p=$nsd_port
  # A poll up to 30 s, like the first load: the serial can move twice in a
  # row here (restart, then the new DoQ certificate's TLSA), and the second
  # NOTIFY round may come on the retry schedule (1, 2, 4, 8 s).
  wait_in_step "$p" 30 || fail "$name did not follow serial $(serial_at "$port")"
  ok "$name follows the new serial $(serial_at "$p") after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done
# ---- an nsupdate reaches both within 2 s ----
if command -v nsupdate >/dev/null; then
  knot_lines=$(wc -l < "$tmp/knot/knot.log")
  printf 'server 127.0.0.1 %s\nzone %s\nupdate add _acme-challenge.%s 60 TXT "follow-me"\nsend\n' \
    "$port" "$zone" "$zone" | nsupdate -t 5 -k "$tmp/acme.key" || fail "nsupdate failed"
  # Answered NOERROR: the primary serves it now. Time both secondaries
  # from here (the serial may move on meanwhile, e.g. a new DoQ
  # certificate's TLSA, so wait for the record itself).
  t0=$(date +%s%N)
  dig +short @127.0.0.1 -p "$port" "_acme-challenge.$zone" TXT | grep -q follow-me || fail "the primary lacks the update"
  knot_ms= nsd_ms=
  for _ in $(seq 1 200); do
    [ -z "$knot_ms" ] && dig +short +time=1 +tries=1 @127.0.0.1 -p "$knot_port" "_acme-challenge.$zone" TXT | grep -q follow-me &&
      knot_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ -z "$nsd_ms" ] && dig +short +time=1 +tries=1 @127.0.0.1 -p "$nsd_port" "_acme-challenge.$zone" TXT | grep -q follow-me &&
      nsd_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ -n "$knot_ms" ] && [ -n "$nsd_ms" ] && break
    sleep 0.02
  done
  [ -n "$knot_ms" ] && [ -n "$nsd_ms" ] || fail "the update did not reach both secondaries (knot ${knot_ms:-never}, nsd ${nsd_ms:-never} ms)"
  for name in knot nsd; do
    p=$knot_port ms=$knot_ms; [ "$name" = nsd ] && p=$nsd_port ms=$nsd_ms
    out=$(delv @127.0.0.1 -p "$p" -a "$tmp/anchors.conf" +root="$zone" TXT "_acme-challenge.$zone" 2>&1 || true)
    grep -q "; fully validated" <<< "$out" || fail "delv of the updated TXT against $name: $out"
    [ "$ms" -le 2000 ] || fail "$name took $ms ms to follow the update (over 2 s)"
    ok "$name serves the nsupdate'd TXT (delv validates) $ms ms after the primary answered"
  done
  # Knot asks IXFR first: the update must come as difference sequences from
  # our delta log (RRSIG and NSEC changes included, or delv above would have
  # failed), never as the whole zone (knot logs "AXFR-style IXFR" then).
  tail -n +"$((knot_lines + 1))" "$tmp/knot/knot.log" > "$tmp/knot/after-update.log"
  grep -q "AXFR-style\|AXFR, incoming\|fallback to AXFR" "$tmp/knot/after-update.log" &&
    fail "knot received the update as a whole zone: $(grep -i axfr "$tmp/knot/after-update.log")"
  grep -q "IXFR, incoming, remote 127.0.0.1@$port.*finished" "$tmp/knot/after-update.log" ||
    fail "knot logged no finished IXFR: $(cat "$tmp/knot/after-update.log")"
  ok "knot took the update by IXFR: $(grep -m1 "IXFR, incoming.*finished" "$tmp/knot/after-update.log" | sed 's/.*IXFR/IXFR/')"
fi
grep -q "notify, incoming, remote 127.0.0.1" "$tmp/knot/knot.log" || fail "knot logged no NOTIFY from us"
grep -q "notify for $zone. from 127.0.0.1" "$tmp/nsd/nsd.log" || fail "nsd logged no NOTIFY from us"
grep -q "TSIG verified with key xfr-nsd" "$tmp/nsd/nsd.log" || fail "nsd did not verify our TSIG"
ok "knot and nsd received our NOTIFYs; nsd verified the transfers' TSIG"
echo "PASS"
