#!/usr/bin/env bash
# DNSSEC and TLSA of the bootstrap zone, end to end under the real
# supervisor (signer + HSM zone key + resolver): delv validates positive and
# negative answers against a trust anchor made by `trustchainctl dns ds
# --anchor`, and refuses them with a wrong anchor; dig shows RRSIGs with DO
# only, NSEC proofs, TC over small UDP; the TLSA records equal the openssl
# hashes of the certificates; a new DoQ certificate reaches the zone (signed)
# within seconds; a resolver killed with -9 comes back signed; the signer's
# journal records the zone signatures and still verifies.
# Usage: dnssec_process_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
command -v dig >/dev/null || { echo "SKIP: dig not installed (dnsutils)"; exit 77; }
command -v delv >/dev/null || { echo "SKIP: delv not installed (dnsutils)"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
. "$(dirname "$0")/server_lib.sh" dnssec-test

zone=trust.hypermesh.online
base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1)) ct=$((base + 2)) gw=$((base + 3))
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
  restart_backoff_max_ms: 500
dns:
  udp_port: $port
  quic_port: $quic
  records:
    - "www 300 A 192.0.2.10"
    - "www 300 AAAA 2001:db8::10"
    - "alias 300 CNAME www"
    - "a.b.deep 300 TXT \"below an empty non-terminal\""
ct:
  http_listen: 127.0.0.1:$ct
gateway:
  listen: 127.0.0.1:$gw
YAML


"$bindir/trustchain-server" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
server_pid=$!
wait_ready resolver
grep -q "zone $zone built: .* signed (" "$tmp/server.log" || fail "zone not signed at start"
ok "resolver ready: $(grep -o "zone $zone built: .*" "$tmp/server.log" | head -n 1)"

# The ceremony printed the DS; trustchainctl dns ds prints the same one.
ctl() { "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" "$@"; }
ds=$(ctl dns ds | grep " IN DS ") || fail "trustchainctl dns ds"
grep -qF "$ds" "$tmp/server.out" "$tmp/server.log" || fail "the ceremony did not print the DS ($ds)"
[[ "$ds" =~ ^$zone\.\ IN\ DS\ [0-9]+\ 13\ 2\ [0-9A-F]{64}$ ]] || fail "DS format: $ds"
ctl dns ds --anchor > "$tmp/anchors.conf" || fail "trustchainctl dns ds --anchor"
grep -q "static-ds" "$tmp/anchors.conf" || fail "anchor file: $(cat "$tmp/anchors.conf")"
ok "DS $ds (ceremony output and trustchainctl dns ds agree)"

q() { dig @127.0.0.1 -p "$port" +time=2 +tries=3 "$@"; }
v() { delv @127.0.0.1 -p "$port" -a "$tmp/anchors.conf" +root=$zone "$@" 2>&1; }
validated() { v "$@" | grep -q "^; fully validated" || fail "not validated: $* -> $(v "$@" | head -n 5)"; }
negative() { v "$@" | grep -q "^; negative response, fully validated" ||
  fail "negative answer not validated: $* -> $(v "$@" | head -n 5)"; }

for t in "A ca.$zone" "A ct.$zone" "A dns.$zone" "A $zone" "SOA $zone" "NS $zone" "DNSKEY $zone" \
         "TXT $zone" "CAA $zone" "AAAA www.$zone" "A alias.$zone" "TXT a.b.deep.$zone" \
         "TLSA _$gw._tcp.ca.$zone" "TLSA _$ct._tcp.ct.$zone" "TLSA _$quic._udp.dns.$zone"; do
  validated $t
done
validated +tcp A ca.$zone
ok "delv: A/SOA/NS/DNSKEY/TXT/CAA/AAAA/CNAME/TLSA fully validated (UDP and TCP)"

for t in "A nope.$zone" "A zzz.$zone" "A 0.$zone" "A x.b.deep.$zone" "MX www.$zone" \
         "A b.deep.$zone" "TLSA _443._tcp.ca.$zone" "A nope.alias.$zone"; do
  negative $t
done
ok "delv: NXDOMAIN (incl. below an empty non-terminal) and NODATA (incl. at one) validated"

# A wrong anchor must fail: delv really checks the chain.
sed 's/static-ds \([0-9]*\) 13 2 "\(.\)/static-ds \1 13 2 "0/' "$tmp/anchors.conf" > "$tmp/bad.conf"
cmp -s "$tmp/anchors.conf" "$tmp/bad.conf" && sed -i 's/static-ds \([0-9]*\) 13 2 "0/static-ds \1 13 2 "1/' "$tmp/bad.conf"
delv @127.0.0.1 -p "$port" -a "$tmp/bad.conf" +root=$zone A ca.$zone 2>&1 | grep -q "fully validated" &&
  fail "validated against a wrong trust anchor"
ok "delv: a wrong trust anchor does not validate"

# dig: RRSIGs only with DO; NSEC + RRSIG in negative answers.
[ "$(q +dnssec +noall +answer ca.$zone A | awk '$4 == "RRSIG" { print $5, $6 }')" = "A 13" ] ||
  fail "no RRSIG with +dnssec: $(q +dnssec ca.$zone A)"
q +noall +answer ca.$zone A | grep -q RRSIG && fail "RRSIG without DO"
q +dnssec +noall +authority nope.$zone A | grep -q "NSEC" || fail "no NSEC in NXDOMAIN"
[ "$(q +dnssec +noall +authority nope.$zone A | awk '$4 == "RRSIG"' | wc -l)" -ge 2 ] ||
  fail "NXDOMAIN without RRSIGs over SOA and NSEC"
q +dnssec +noall +comments nope.$zone A | grep -q "flags: do" || fail "DO not echoed"
ok "dig +dnssec: RRSIG (algorithm 13) with DO only, NSEC + RRSIGs in NXDOMAIN"

# Sizes: the signed NXDOMAIN does not fit 512 octets: TC, then whole over TCP.
q +dnssec +bufsize=512 +ignore +noall +comments nope.$zone A | grep -q "flags:.* tc" ||
  fail "no TC for a signed NXDOMAIN over 512-octet UDP"
[ "$(q +dnssec +bufsize=512 +tcp +noall +authority nope.$zone A | wc -l)" -ge 4 ] ||
  fail "signed NXDOMAIN over TCP"
ok "TC when the signed answer exceeds the UDP size; whole over TCP"

# TLSA data = the hashes openssl computes from the same certificates.
spki_sha() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
cert_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
tlsa() { q +short TLSA "$1" | tr -d ' ' | tr 'A-F' 'a-f' | sort; }
inter="$tmp/data/ca/intermediate.pem"
want_ta=$(printf '201%s\n211%s\n' "$(cert_sha "$inter")" "$(spki_sha "$inter")" | sort)
for owner in _$gw._tcp.ca.$zone _$ct._tcp.ct.$zone; do
  [ "$(tlsa $owner)" = "$want_ta" ] || fail "TLSA $owner: $(tlsa $owner) != $want_ta"
done
ok "TLSA 2 1 1 / 2 0 1 of the intermediate at _$gw._tcp.ca, _$ct._tcp.ct = openssl hashes"

# The DoQ server's own certificate (dns/doq_cert.pem, written by the DoQ
# listener once the signer issued it) appears as DANE-EE 3 1 1 within seconds.
doq="$tmp/data/dns/doq_cert.pem"
wait_ee() { # wait_ee HASH [TRIES of 0.2 s]
  for _ in $(seq 1 "${2:-150}"); do
    tlsa _$quic._udp.dns.$zone | grep -qx "311$1" && return 0
    sleep 0.2
  done
  fail "TLSA 3 1 1 $1 not published: $(tlsa _$quic._udp.dns.$zone)"
}
wait_installed() { # wait_installed COUNT: the DoQ listener installed its COUNTth certificate
  for _ in $(seq 1 300); do
    [ "$(grep -c "doq: certificate for dns.$zone .* installed" "$tmp/server.log")" -ge "$1" ] && return 0
    sleep 0.2
  done
  fail "DoQ certificate $1 not installed"
}
wait_installed 1
wait_ee "$(spki_sha "$doq")"
validated TLSA _$quic._udp.dns.$zone
ok "DoQ server certificate published as TLSA 3 1 1 (= openssl SPKI hash of $doq), validated"

# kill -9 the resolver: it comes back with a freshly signed zone, and the
# new DoQ certificate it gets replaces the DANE-EE record.
old=$(pid_of resolver)
kill -KILL "$old"
wait_ready resolver "$old"
validated A ca.$zone
negative A nope.$zone
wait_installed 2
wait_ee "$(spki_sha "$doq")"
validated TLSA _$quic._udp.dns.$zone
ok "resolver restarted after kill -9 ($old -> $(pid_of resolver)), answers validate, DANE-EE follows"

# A certificate rotation done by hand: replaced -> the record follows, signed.
new_doq_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/doq.key" \
    -subj "/CN=dns.$zone" -days 1 -out "$tmp/doq.tmp" 2>/dev/null
  chmod 644 "$tmp/doq.tmp"
  mv "$tmp/doq.tmp" "$doq"
}
new_doq_cert
h1=$(spki_sha "$doq")
wait_ee "$h1"
validated TLSA _$quic._udp.dns.$zone
[ "$(tlsa _$quic._udp.dns.$zone | grep -c '^2')" = 2 ] || fail "DANE-TA records lost at the DoQ name"
new_doq_cert
h2=$(spki_sha "$doq")
[ "$h1" != "$h2" ] || fail "same key twice"
wait_ee "$h2"
tlsa _$quic._udp.dns.$zone | grep -q "311$h1" && fail "old DANE-EE record still published"
validated TLSA _$quic._udp.dns.$zone
grep -q "rebuilt (DoQ certificate changed)" "$tmp/server.log" || fail "no rebuild logged"
ok "DoQ certificate -> TLSA 3 1 1 (= openssl SPKI hash) published, replaced on change, validated"

# The signer killed: answers keep validating (the zone is pre-signed, in
# memory); a certificate change meanwhile is signed once the supervisor has
# the signer back (the keeper retries).
old=$(pid_of signer)
kill -KILL "$old"
validated A ca.$zone
negative A nope.$zone
new_doq_cert
h3=$(spki_sha "$doq")
wait_ready signer "$old"
wait_ee "$h3" 150
validated TLSA _$quic._udp.dns.$zone
ok "signer killed: answers still validate; the next DoQ certificate is signed after its restart"

# The signer journaled the zone signatures; the journal verifies.
grep -q '"sign_data"' "$tmp/data/journal/audit.jsonl" || fail "no sign_data in the journal"
ctl journal verify > "$tmp/verify.out" || fail "journal verify: $(cat "$tmp/verify.out")"
ok "audit journal: zone signatures recorded, $(grep -o 'OK, [0-9]* records' "$tmp/verify.out")"

kill -TERM "$server_pid"
for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
set +e; wait "$server_pid"; rc=$?; set -e
server_pid=
[ $rc -eq 0 ] || fail "server exit status $rc"
ok "SIGTERM: clean stop"
echo "1 passed, 0 failed"
