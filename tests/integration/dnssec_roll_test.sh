#!/usr/bin/env bash
# DNSSEC key rollovers end to end (issue 12): a server on dev defaults with
# Knot (knotd) as a TSIG secondary; two ZSK pre-publish rolls (the first
# splits the dev CSK, which stays as the KSK; the second replaces a ZSK and
# removes the old one) and a KSK double-signature roll, walked through with
# trustchainctl dns-roll. Every step taken early is refused with the reason
# (real clock); steps are then taken at their earliest time with libfaketime
# moving trustchainctl's clock alone. After each step, on the primary and on
# knot (which got the zone by NOTIFY + transfer):
#  - the DNSKEY RRset holds exactly the keys the roll state lists, with
#    their flags (256 ZSK, 257 KSK/CSK) and tags;
#  - the DNSKEY RRset is signed by exactly the active KSK/CSK tags, www's A
#    by exactly the active ZSK/CSK tag;
#  - delv validates www A ("fully validated") with the DS of the old KSK
#    (as long as it is in the set) and of the new one (from its start);
#    after the KSK roll the old DS no longer validates.
# Usage: dnssec_roll_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
for tool in dig delv knotd faketime; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (ops/deps.sh TEST_PACKAGES)"; exit 77; }
done
. "$(dirname "$0")/server_lib.sh" dnssec-roll
zone=trust.hypermesh.online

knot_pid=
cleanup_extra() {
  if [ -n "$knot_pid" ]; then
    kill -TERM "$knot_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$knot_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$knot_pid" 2>/dev/null || true
  fi
}

base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1)) ct=$((base + 2)) gw=$((base + 3)) knot_port=$((base + 4))
"$bindir/trustchainctl" dns tsig new xfr-knot > "$tmp/tsig.keys"
own_tsig_keys
knot_secret=$(tsig_secret xfr-knot)
[ -n "$knot_secret" ] || fail "trustchainctl dns tsig new printed no secret"
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $port
  quic_port: $quic
  tsig_keys_file: $tmp/tsig.keys
  secondaries:
    - {address: "127.0.0.1:$knot_port", key: xfr-knot}
  records:
    - "www 300 A 192.0.2.10"
  # Every TTL of the zone within max_ttl (dns-roll start refuses a smaller
  # max_ttl): the DNSKEY's, the generated records' (address_ttl default 300).
  dnskey_ttl: 300
  default_ttl: 300
  rollover: {propagation_s: 2, max_ttl: 300, ds_ttl: 60, parent_propagation_s: 2, safety_s: 2}
ct:
  http_listen: 127.0.0.1:$ct
gateway:
  listen: 127.0.0.1:$gw
YAML
ctl() { "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" "$@"; }

start_server
grep -q "zone $zone built: .* signed (" "$tmp/server.log" || fail "zone not signed at start"
serial_at() { dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$1" "$zone" SOA 2>/dev/null | awk 'NF == 7 { print $3 }'; }

knot_secondary_conf "$zone" "$knot_port" "$port" "$knot_secret"
knotd -c "$tmp/knot/knot.conf" > "$tmp/knot/stdout" 2>&1 &
knot_pid=$!

# ---- what the roll state says, and what a server serves ----
# "FLAGS:TAG" of every key in the state, sorted.
want_keys() { ctl dns-roll status | awk '$1 == "key" { print $8 ":" $10 }' | sort | tr '\n' ' '; }
# Tags of the active keys that sign DNSKEY (KSK/CSK) or the zone data (ZSK/CSK).
want_signers() { # want_signers dnskey|zone
  ctl dns-roll status | awk -v w="$1" '$1 == "key" && $4 == "active" &&
    ((w == "dnskey" && $3 != "zsk") || (w == "zone" && $3 != "ksk")) { print $10 }' | sort -n | tr '\n' ' '
}
served_keys() { # served_keys PORT
  dig +norec +noall +answer +multi +time=2 +tries=1 @127.0.0.1 -p "$1" "$zone" DNSKEY 2>/dev/null |
    awk '$4 == "DNSKEY" { f = $5 } /key id = / { sub(/.*key id = /, ""); print f ":" $1 }' | sort | tr '\n' ' '
}
served_signers() { # served_signers PORT NAME TYPE
  dig +norec +dnssec +noall +answer +time=2 +tries=1 @127.0.0.1 -p "$1" "$2" "$3" 2>/dev/null |
    awk -v t="$3" '$4 == "RRSIG" && $5 == t { print $11 }' | sort -n | tr '\n' ' '
}
# anchor FILE DS-LINE...: a delv trust-anchors block of these DS records.
anchor() {
  local f=$1; shift
  { echo "trust-anchors {"
    for ds in "$@"; do
      awk '{ printf "\t\"%s\" static-ds %s %s %s \"%s\";\n", $1, $(NF-3), $(NF-2), $(NF-1), $NF }' <<< "$ds"
    done
    echo "};"; } > "$f"
}
validates() { # validates PORT ANCHORFILE
  local out
  out=$(delv @127.0.0.1 -p "$1" -a "$2" +root="$zone" A "www.$zone" 2>&1 || true)
  grep -q "; fully validated" <<< "$out" && grep -q "192.0.2.10" <<< "$out"
}
# check STEP: both servers serve the state's keys and signers (waiting for
# the rebuild and knot's transfer), and delv validates with the anchors
# listed in $good and fails with those in $bad.
check() {
  local step=$1 keys dsig zsig p name deadline
  keys=$(want_keys) dsig=$(want_signers dnskey) zsig=$(want_signers zone)
  for p in $port $knot_port; do
    name=primary; [ "$p" = "$knot_port" ] && name=knot
    deadline=$(( $(date +%s) + 40 ))
    until [ "$(served_keys "$p")" = "$keys" ] && [ "$(served_signers "$p" "$zone" DNSKEY)" = "$dsig" ] &&
          [ "$(served_signers "$p" "www.$zone" A)" = "$zsig" ]; do
      [ "$(date +%s)" -le "$deadline" ] || fail "$step: $name serves DNSKEY [$(served_keys "$p")] signed by [$(served_signers "$p" "$zone" DNSKEY)], A signed by [$(served_signers "$p" "www.$zone" A)]; the state says [$keys], [$dsig], [$zsig]"
      sleep 0.5
    done
    for a in $good; do validates "$p" "$tmp/$a.anchor" || fail "$step: delv against $name with the $a DS does not validate: $(delv @127.0.0.1 -p "$p" -a "$tmp/$a.anchor" +root="$zone" A "www.$zone" 2>&1 | tail -3)"; done
    for a in $bad; do ! validates "$p" "$tmp/$a.anchor" || fail "$step: delv against $name with the $a DS still validates"; done
  done
  ok "$step: primary and knot serve DNSKEY [$keys] signed by [$dsig], www A signed by [$zsig]; delv fully validated with [$good]${bad:+, not with [$bad]}"
}
# early_then_take: the next step is refused now (reason printed), then taken
# with trustchainctl's clock at its earliest time. Prints nothing on success.
take_next() { # take_next STEP
  local out earliest now
  out=$(ctl dns-roll advance 2>&1) && fail "$1 taken early: $out"
  grep -q "refused: step .* is early: earliest .*, in [0-9]* s: " <<< "$out" || fail "$1: early refusal without its reason: $out"
  echo "   early: $(sed 's/^trustchainctl: error: //' <<< "$out" | cut -c1-160)..."
  earliest=$(ctl dns-roll status | awk '$1 == "next:" { print $4 }')
  earliest=$(date -u -d "$earliest" +%s)
  now=$(date +%s)
  # libfaketime comes before the sanitizer runtime in the library list.
  ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 faketime -f "+$((earliest - now + 1))s" "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" dns-roll advance \
    > "$tmp/step.out" 2>&1 || fail "$1 at its earliest time: $(cat "$tmp/step.out")"
  grep -q "done" "$tmp/step.out" || fail "$1: $(cat "$tmp/step.out")"
}

deadline=$(( $(date +%s) + 40 ))
until [ -n "$(serial_at "$knot_port")" ] && [ "$(serial_at "$knot_port")" = "$(serial_at "$port")" ]; do
  [ "$(date +%s)" -le "$deadline" ] || { tail -n 20 "$tmp/knot/knot.log"; fail "knot did not load the zone"; }
  sleep 0.2
done
ctl dns ds | grep " DS " > "$tmp/csk.ds" || fail "no DS of the dev key"
anchor "$tmp/csk.anchor" "$(cat "$tmp/csk.ds")"
good=csk bad=
check "start (one CSK)"

# ---- ZSK roll 1: the CSK splits (stays as KSK) ----
ctl dns-roll start zsk --propagation 3 --max-ttl 301 --safety 3 > "$tmp/start.out" 2>&1 || fail "start zsk: $(cat "$tmp/start.out")"
grep -q "^roll zsk .* 300 301 60 3 2 3\$" "$tmp/data/dns/roll.state" ||
  fail "the ZSK roll did not take the command line's timing over dns.rollover: $(cat "$tmp/data/dns/roll.state")"
grep -q "published" "$tmp/start.out" || fail "start zsk: $(cat "$tmp/start.out")"
check "zsk roll 1 published"
take_next "zsk roll 1 activate"
check "zsk roll 1 active (CSK now KSK only)"
take_next "zsk roll 1 remove"
grep -q "^roll: none" <<< "$(ctl dns-roll status)" || fail "zsk roll 1 not finished"
check "zsk roll 1 done"

# ---- ZSK roll 2: a ZSK replaced, the old one retired then removed ----
old_zsk=$(ctl dns-roll status | awk '$1 == "key" && $3 == "zsk" { print $10 }')
ctl dns-roll start zsk --propagation 2 --max-ttl 300 --safety 2 > "$tmp/start.out" 2>&1 || fail "start zsk 2: $(cat "$tmp/start.out")"
out=$(ctl dns-roll start zsk 2>&1) && fail "a second roll started during one: $out"
grep -q "refused: a zsk roll .* is under way" <<< "$out" || fail "no reason for refusing a second roll: $out"
check "zsk roll 2 published"
take_next "zsk roll 2 activate"
grep -q "^key .* zsk retired .* tag $old_zsk\$" <<< "$(ctl dns-roll status)" || fail "old ZSK $old_zsk not retired"
check "zsk roll 2 active (old ZSK $old_zsk retired)"
take_next "zsk roll 2 remove"
check "zsk roll 2 done"
[ "$(served_keys "$port" | grep -c ":$old_zsk ")" = 0 ] || fail "old ZSK still published"

# ---- KSK roll: double signature ----
# The KSK roll takes its timing from dns.rollover (the ZSK rolls above from
# the command line, which overrides it).
ctl dns-roll start ksk > "$tmp/start.out" 2>&1 || fail "start ksk: $(cat "$tmp/start.out")"
grep -q "^roll ksk .* 300 300 60 2 2 2\$" "$tmp/data/dns/roll.state" ||
  fail "the KSK roll did not take dns.rollover's timing: $(cat "$tmp/data/dns/roll.state")"
grep -A1 "^DS for the parent" "$tmp/start.out" | grep " DS " | sed 's/^ *//' > "$tmp/new.ds"
[ -s "$tmp/new.ds" ] || fail "start ksk printed no DS: $(cat "$tmp/start.out")"
anchor "$tmp/new.anchor" "$(cat "$tmp/new.ds")"
anchor "$tmp/both.anchor" "$(cat "$tmp/csk.ds")" "$(cat "$tmp/new.ds")"
good="csk new both" bad=
check "ksk roll published (double signature)"
take_next "ksk roll ds-seen"
check "ksk roll: parent serves the new DS"
take_next "ksk roll remove"
good="new both" bad=csk
check "ksk roll done (old KSK removed)"
[ "$(ctl dns-roll status | awk '$1 == "key"' | wc -l)" = 2 ] || fail "not one KSK + one ZSK after the rolls: $(ctl dns-roll status)"
grep -q "DNSSEC roll state changed" "$tmp/server.log" || fail "the resolver never said it followed the roll state"
# dns ds follows the roll: the new KSK's DS alone, and it validates.
ctl dns ds --anchor > "$tmp/final.anchor" || fail "dns ds --anchor after the rolls"
old_tag=$(awk '{ print $(NF-3) }' "$tmp/csk.ds") new_tag=$(awk '{ print $(NF-3) }' "$tmp/new.ds")
grep -q "static-ds $new_tag " "$tmp/final.anchor" && ! grep -q "static-ds $old_tag " "$tmp/final.anchor" ||
  fail "dns ds --anchor does not name the new KSK alone: $(cat "$tmp/final.anchor")"
validates "$knot_port" "$tmp/final.anchor" || fail "delv with dns ds --anchor after the rolls"
ok "dns ds --anchor names the new KSK ($new_tag) alone; delv validates knot's answers with it"
# Every step is in the audit journal (the signer appends for the ceremony).
for step in start-zsk zsk-activate zsk-remove start-ksk ksk-ds-seen ksk-remove; do
  grep -q "\"op\":\"ceremony:dns-roll-$step\"" "$tmp/data/journal/audit.jsonl" || fail "no journal record of dns-roll-$step"
done
ok "every dns-roll step is journaled ($(grep -c '"op":"ceremony:dns-roll-' "$tmp/data/journal/audit.jsonl") records)"
echo "PASS"
