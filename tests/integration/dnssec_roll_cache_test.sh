#!/usr/bin/env bash
# DNSSEC key rollovers in real time against a validating cache (issue 12:
# "a rollover run end to end with delv queried every second against a local
# unbound ... never bogus"). No faketime: the zone's TTLs are short
# (dns.dnskey_ttl 4, www A/TXT 8) and so are the roll's waits
# (dns.rollover.*), and every step is taken at its earliest time as
# `dns-roll status` prints it.
#  - knotd serves and signs (automatic DNSSEC) the parent zone
#    hypermesh.online with the DS of our zone (TTL 4); at the KSK roll's
#    ds-seen step the parent's DS is replaced by the new KSK's, as a
#    registry would;
#  - Debian's unbound is a validating cache (validator iterator) with the
#    parent's KSK as its only trust anchor and a stub for each zone;
#  - every second a background loop asks unbound for www's A and TXT with
#    dig +dnssec (RCODE and AD) and runs delv through unbound (delv
#    validates on its own what unbound's cache hands it: DS, DNSKEY, A);
#  - two ZSK pre-publish rolls (the first splits the dev CSK) and a KSK
#    double-signature roll.
# Asserts: every answer NOERROR with AD, every delv "fully validated",
# at least one query per second of the run and several in every step,
# unbound logged no validation failure, the resolver served each step's
# DNSKEY RRset within propagation_s.
# TC_ROLL_EARLY=activate|remove takes that step of the second ZSK roll early
# (trustchainctl's clock moved by faketime): the test must then fail.
# Usage: dnssec_roll_cache_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
for tool in dig delv knotd knotc unbound unbound-checkconf; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (ops/deps.sh TEST_PACKAGES)"; exit 77; }
done
early=${TC_ROLL_EARLY:-}
if [ -n "$early" ]; then command -v faketime >/dev/null || { echo "SKIP: faketime"; exit 77; }; fi
. "$(dirname "$0")/server_lib.sh" dnssec-roll-cache
zone=trust.hypermesh.online parent=hypermesh.online

knot_pid= unbound_pid= loop_pid=
cleanup_extra() {
  touch "$tmp/stop"
  for p in $loop_pid $unbound_pid $knot_pid; do
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}

base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1)) ct=$((base + 2)) gw=$((base + 3)) knot_port=$((base + 4)) uport=$((base + 5))
# DNSKEY TTL 4, records 8: a validator holds an answer signed by the old
# ZSK across two DNSKEY fetches, so a ZSK removed early is seen.
# propagation_s covers the resolver's rebuild after a step (it looks at
# roll.state every 2 s, then re-signs: 4 s seen on the loaded 2-core box,
# 6 s once with other ASan tests running beside it, hence 8).
prop=8 safety=2 ttl=4 rttl=8
# An early removal is seen when a cache holds www's answer signed by the
# old ZSK after it has fetched the DNSKEY RRset without that key: with
# TC_ROLL_EARLY=remove the answer lives 16 s and is fetched again just
# before the activation (unbound-control flush), which makes that overlap
# certain instead of a matter of phase.
[ "$early" != remove ] || rttl=16
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $port
  quic_port: $quic
  dnskey_ttl: $ttl
  # The generated records (SOA, NS, A, TLSA...) within max_ttl too:
  # dns-roll start refuses a max_ttl below the zone's largest TTL.
  default_ttl: $rttl
  address_ttl: $rttl
  records:
    - "www $rttl A 192.0.2.10"
    - "www $rttl TXT \"rolling\""
  rollover: {propagation_s: $prop, max_ttl: $rttl, ds_ttl: $ttl, parent_propagation_s: $prop, safety_s: $safety}
ct:
  http_listen: 127.0.0.1:$ct
gateway:
  listen: 127.0.0.1:$gw
YAML
ctl() { "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" "$@"; }
start_server
grep -q "zone $zone built: .* signed (" "$tmp/server.log" || fail "zone not signed at start"

# ---- what the primary serves ----
want_keys() { ctl dns-roll status | awk '$1 == "key" { print $8 ":" $10 }' | sort | tr '\n' ' '; }
served_keys() {
  dig +norec +noall +answer +multi +time=2 +tries=1 @127.0.0.1 -p "$port" "$zone" DNSKEY 2>/dev/null |
    awk '$4 == "DNSKEY" { f = $5 } /key id = / { sub(/.*key id = /, ""); print f ":" $1 }' | sort | tr '\n' ' '
}
dnskey_ttl=$(dig +norec +noall +answer +time=2 +tries=1 @127.0.0.1 -p "$port" "$zone" DNSKEY | awk '$4 == "DNSKEY" { print $2; exit }')
[ "$dnskey_ttl" = "$ttl" ] || fail "DNSKEY TTL $dnskey_ttl, dns.dnskey_ttl is $ttl"
ok "the primary serves DNSKEY with TTL $dnskey_ttl (dns.dnskey_ttl)"
# DS of a key as "TAG ALG DIGTYPE DIGEST" (the last four fields).
ds_of() { awk '{ print $(NF-3), $(NF-2), $(NF-1), $NF }' <<< "$1"; }
ds_csk=$(ds_of "$(ctl dns ds | grep " DS " | head -1)")
[ -n "$ds_csk" ] || fail "no DS of the dev key"

# ---- the parent zone, signed by knot ----
mkdir -p "$tmp/knot/db"
parent_zone() { # parent_zone SERIAL DS-FIELDS
  cat > "$tmp/knot/$parent.zone" <<ZONE
\$ORIGIN $parent.
\$TTL $ttl
@ SOA ns hostmaster $1 $ttl $ttl 1209600 $ttl
@ NS ns
ns A 127.0.0.1
trust NS dns.trust
dns.trust A 127.0.0.1
trust DS $2
ZONE
}
parent_zone 1 "$ds_csk"
cat > "$tmp/knot/knot.conf" <<KNOT
server:
    listen: 127.0.0.1@$knot_port
    rundir: "$tmp/knot"
log:
  - target: "$tmp/knot/knot.log"
    any: info
database:
    storage: "$tmp/knot/db"
template:
  - id: default
    storage: "$tmp/knot"
    dnssec-signing: on
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: $parent
KNOT
knotd -c "$tmp/knot/knot.conf" > "$tmp/knot/stdout" 2>&1 &
knot_pid=$!
parent_ds() { dig +norec +short +time=1 +tries=1 @127.0.0.1 -p "$knot_port" "$zone" DS 2>/dev/null | awk '{ print $1 }' | sort | tr '\n' ' '; }
deadline=$(( $(date +%s) + 30 ))
until [ "$(parent_ds)" = "${ds_csk%% *} " ] &&
      dig +norec +short +time=1 +tries=1 @127.0.0.1 -p "$knot_port" "$parent" DNSKEY | grep -q "^257 "; do
  [ "$(date +%s)" -le "$deadline" ] || { tail -n 20 "$tmp/knot/knot.log"; fail "knot does not serve the signed parent with our DS"; }
  sleep 0.3
done
dig +norec +noall +answer @127.0.0.1 -p "$knot_port" "$parent" DNSKEY | awk '$4 == "DNSKEY" && $5 == 257' > "$tmp/parent.key"
{ echo "trust-anchors {"
  awk '{ k = ""; for (i = 8; i <= NF; i++) k = k $i; printf "\t\"%s\" static-key %s %s %s \"%s\";\n", $1, $5, $6, $7, k }' "$tmp/parent.key"
  echo "};"; } > "$tmp/delv.anchor"
ok "knot signs the parent $parent with our DS (tag ${ds_csk%% *})"

# ---- unbound: the validating cache ----
mkdir -p "$tmp/unbound"
cp "$tmp/parent.key" "$tmp/unbound/anchor.key"
cat > "$tmp/unbound/unbound.conf" <<UNBOUND
server:
    interface: 127.0.0.1
    port: $uport
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$tmp/unbound"
    pidfile: ""
    use-syslog: no
    logfile: "$tmp/unbound/unbound.log"
    log-time-ascii: yes
    verbosity: 1
    val-log-level: 2
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "$tmp/unbound/anchor.key"
    # The TTLs of the answers, no more and no less (the roll's waits rely
    # on them); no early refresh that would hide an expiry.
    cache-min-ttl: 0
    cache-max-ttl: 86400
    prefetch: no
    prefetch-key: no
    serve-expired: no
    qname-minimisation: no
    aggressive-nsec: no
    harden-dnssec-stripped: yes
    # A bogus answer is cached this long: it would show in many queries.
    val-bogus-ttl: 60
stub-zone:
    name: "$parent"
    stub-addr: 127.0.0.1@$knot_port
stub-zone:
    name: "$zone"
    stub-addr: 127.0.0.1@$port
remote-control:
    control-enable: yes
    control-interface: "$tmp/unbound/control.sock"
    control-use-cert: no
UNBOUND
unbound-checkconf "$tmp/unbound/unbound.conf" > "$tmp/unbound/checkconf" 2>&1 || fail "unbound-checkconf: $(cat "$tmp/unbound/checkconf")"
unbound -d -c "$tmp/unbound/unbound.conf" > "$tmp/unbound/stdout" 2>&1 &
unbound_pid=$!
deadline=$(( $(date +%s) + 30 ))
until dig +time=1 +tries=1 @127.0.0.1 -p "$uport" "www.$zone" A 2>/dev/null | grep -q "flags:.* ad"; do
  kill -0 "$unbound_pid" 2>/dev/null || fail "unbound exited: $(tail -5 "$tmp/unbound/stdout" "$tmp/unbound/unbound.log")"
  [ "$(date +%s)" -le "$deadline" ] || fail "unbound does not validate www.$zone: $(dig @127.0.0.1 -p "$uport" "www.$zone" A 2>&1 | head -20; tail -5 "$tmp/unbound/unbound.log")"
  sleep 0.5
done
ok "unbound validates www.$zone A (AD) through the parent's DS"

# ---- the query loop: one round a second ----
echo start > "$tmp/step"
query_loop() {
  local t0 r line
  while [ ! -e "$tmp/stop" ]; do
    t0=$(date +%s%N)
    line="$(date +%s) $(cat "$tmp/step")"
    for q in A TXT; do
      r=$(dig +dnssec +time=2 +tries=1 @127.0.0.1 -p "$uport" "www.$zone" "$q" 2>&1 |
          awk '/status:/ { s = $6; sub(/,/, "", s) } /;; flags:/ { a = ($0 ~ / ad[ ;]/) ? "ad" : "noad" } END { print (s ? s : "NOANSWER") ":" (a ? a : "noad") }')
      line="$line $q=$r"
    done
    if delv @127.0.0.1 -p "$uport" -a "$tmp/delv.anchor" +root="$parent" A "www.$zone" > "$tmp/delv.out" 2>&1 &&
       grep -q "; fully validated" "$tmp/delv.out"; then
      line="$line delv=validated"
    else
      line="$line delv=FAILED"
      { echo "--- $line"; cat "$tmp/delv.out"; } >> "$tmp/delv.failures"
    fi
    echo "$line" >> "$tmp/queries.log"
    # the rest of the second
    r=$(( 1000 - ($(date +%s%N) - t0) / 1000000 ))
    [ "$r" -le 0 ] || sleep "$(printf '0.%03d' "$r")"
  done
}
query_loop &
loop_pid=$!
run_start=$(date +%s)

# ---- the roll ----
# served_within STEP: the primary serves the state's DNSKEY set within
# propagation_s of the step (the roll's waits assume it).
served_within() {
  local t0=$1 keys lag
  keys=$(want_keys)
  until [ "$(served_keys)" = "$keys" ]; do
    lag=$(( $(date +%s) - t0 ))
    [ "$lag" -le $((prop + 5)) ] || fail "$2: the primary serves [$(served_keys)] $lag s after the step, the state says [$keys]"
    sleep 0.2
  done
  lag=$(( $(date +%s) - t0 ))
  [ "$lag" -le "$prop" ] || fail "$2: the primary served the new DNSKEY set $lag s after the step, over propagation_s ($prop)"
  echo "   $2: DNSKEY [$keys] served ${lag} s after the step"
}
# step NAME: wait for the earliest time dns-roll status prints, take it.
step() {
  local earliest now out
  earliest=$(date -u -d "$(ctl dns-roll status | awk '$1 == "next:" { print $4 }')" +%s)
  now=$(date +%s)
  if [ "$early" = remove ] && [ "$1" = "zsk2 activate" ]; then
    [ "$now" -ge "$earliest" ] || sleep $((earliest - now))
    unbound-control -c "$tmp/unbound/unbound.conf" flush "www.$zone" > /dev/null || fail "unbound-control flush"
    sleep 1.5   # the query loop fetches www again, signed by the old ZSK
    now=$(date +%s)
  fi
  if [ "$early" = "${1#zsk2 }" ] && [ "${1%% *}" = zsk2 ]; then
    # The failure this test must catch: the step taken at once.
    ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 faketime -f "+$((earliest - now + 1))s" \
      "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" dns-roll advance > "$tmp/step.out" 2>&1 || fail "$1 early: $(cat "$tmp/step.out")"
    echo "   $1: taken EARLY by $((earliest - now)) s (TC_ROLL_EARLY)"
  else
    [ "$now" -ge "$earliest" ] || sleep $((earliest - now))
    until ctl dns-roll advance > "$tmp/step.out" 2>&1; do
      grep -q "is early" "$tmp/step.out" || fail "$1: $(cat "$tmp/step.out")"
      sleep 0.2
    done
    echo "   $1: taken $(( $(date +%s) - earliest )) s after its earliest time"
  fi
  echo "$1" > "$tmp/step"
  steps="$steps|$1"
}
steps=
sleep 5   # some answers cached before the roll starts
# ZSK roll 1 splits the dev CSK (it stays as the KSK); roll 2 replaces a
# ZSK, whose removal is the step a cache can see go wrong.
for r in zsk1 zsk2; do
  t=$(date +%s); ctl dns-roll start zsk > "$tmp/start.out" 2>&1 || fail "start zsk: $(cat "$tmp/start.out")"
  echo "$r published" > "$tmp/step"; steps="$steps${steps:+|}$r published"
  served_within "$t" "$r published"
  step "$r activate"; served_within "$(date +%s)" "$r activate"
  step "$r remove"; served_within "$(date +%s)" "$r remove"
  sleep $((rttl + ttl))   # the caches refresh the A, TXT and DNSKEY of the new key set
done
t=$(date +%s); ctl dns-roll start ksk > "$tmp/start.out" 2>&1 || fail "start ksk: $(cat "$tmp/start.out")"
echo "ksk published" > "$tmp/step"; steps="$steps|ksk published"
served_within "$t" "ksk published"
ds_new=$(ds_of "$(grep -A1 "^DS for the parent" "$tmp/start.out" | grep " DS ")")
[ -n "$ds_new" ] || fail "start ksk printed no DS: $(cat "$tmp/start.out")"
# The parent takes the new DS at the ds-seen step's earliest time (the
# DNSKEY RRset with the new key is in every cache by then), and the step
# is taken once the parent serves it.
earliest=$(date -u -d "$(ctl dns-roll status | awk '$1 == "next:" { print $4 }')" +%s)
now=$(date +%s); [ "$now" -ge "$earliest" ] || sleep $((earliest - now))
parent_zone 2 "$ds_new"
knotc -c "$tmp/knot/knot.conf" zone-reload "$parent" > "$tmp/knotc.out" 2>&1 || fail "knotc zone-reload: $(cat "$tmp/knotc.out")"
deadline=$(( $(date +%s) + 20 ))
until [ "$(parent_ds)" = "${ds_new%% *} " ]; do
  [ "$(date +%s)" -le "$deadline" ] || fail "the parent does not serve the new DS (serves [$(parent_ds)])"
  sleep 0.2
done
echo "   the parent serves the new DS (tag ${ds_new%% *})"
step "ksk ds-seen"
step "ksk remove"; served_within "$(date +%s)" "ksk remove"
sleep $((rttl + ttl + 2))   # every cached answer refreshed after the last step
touch "$tmp/stop"
wait "$loop_pid" || true
loop_pid=
run_end=$(date +%s)

# ---- verdict ----
total=$(wc -l < "$tmp/queries.log")
bad=$(grep -v " A=NOERROR:ad TXT=NOERROR:ad delv=validated$" "$tmp/queries.log" || true)
echo "   $total rounds (dig A + dig TXT + delv) in $((run_end - run_start)) s"
if [ -n "$bad" ]; then
  echo "$bad" | head -20
  [ ! -e "$tmp/delv.failures" ] || head -40 "$tmp/delv.failures"
  grep -i "validation failure" "$tmp/unbound/unbound.log" | head -5 || true
  fail "$(wc -l <<< "$bad") of $total rounds not secure (above)"
fi
if grep -qi "validation failure" "$tmp/unbound/unbound.log"; then
  grep -i "validation failure" "$tmp/unbound/unbound.log" | head -5
  fail "unbound logged validation failures"
fi
IFS='|' read -r -a step_list <<< "$steps"
for s in start "${step_list[@]}"; do
  n=$(awk -v s="$s" '{ $1 = ""; sub(/^ /, "") } index($0, s " A=") == 1' "$tmp/queries.log" | wc -l)
  echo "   step '$s': $n rounds"
  [ "$n" -ge 3 ] || fail "only $n rounds during '$s'"
done
[ "$total" -ge $(( (run_end - run_start) * 2 / 3 )) ] || fail "$total rounds in $((run_end - run_start)) s: the loop did not ask every second"
ok "every one of $total rounds NOERROR with AD (A and TXT) and delv fully validated through unbound; unbound logged no validation failure"
[ -z "$early" ] || fail "TC_ROLL_EARLY=$early: a step taken early went unnoticed"
echo "PASS"
