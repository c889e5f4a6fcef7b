#!/usr/bin/env bash
# CA key rollover at runtime (issue 14 part 8), whole server in dev mode on
# the default gateway.http_listen 127.0.0.1:8080 (run it in a private
# network namespace). `ceremony rollover-intermediate` makes the next
# intermediate (key on the token, certificate signed by the root) while
# the server is stopped (it needs the audit journal); the schedule file
# ca/rollover/next is then put in place while the server runs: the signer
# loads the key and certificate, keeps issuing with the old intermediate
# until the cut-over and switches by itself. Checked: issuance before,
# during the overlap and after the cut-over, each leaf verifying against
# the root with the chain Issue returned and naming its own issuer's CRL;
# GetCACertificates carries both intermediates from the moment the
# schedule is seen; a leaf of the old intermediate revoked after the
# cut-over is in the old intermediate's CRL fetched over HTTP (and
# `openssl verify -crl_download -crl_check` refuses it) while the new
# one's passes; Validate trusts leaves of both; the CT log takes
# add-chain of both; a load of Issue calls across the switch has no
# failure; the switch is in the audit journal.
# Usage: ca_rollover_runtime_test.sh BINDIR SOURCE_DIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" rollover-rt
command -v curl >/dev/null || fail "needs curl"
http=http://127.0.0.1:8080
python_stubs

mkdir -p "$tmp/data" "$tmp/keys"
"$ctl" token new --name ops --patterns '*.ops.hypermesh.online' --revoke --out "$tmp/keys/ops.token" \
  > "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true"
c=(--config "$tmp/trustchain.yaml")
"$ctl" "${c[@]}" ceremony dev > "$tmp/dev.out" 2>&1 || { cat "$tmp/dev.out"; fail "ceremony dev"; }
ca="$tmp/data/ca"
journal="$tmp/data/journal/audit.jsonl"
switches() { grep -c '"op":"issuer_switch"' "$journal" || true; }
# The DoQ certificate renewed every 8 s (not hours), so one is renewed soon
# after the cut-over.
export TC_DOQ_RENEW_MS=8000
start_server
for p in signer transparency gateway resolver; do wait_ready "$p"; done
root="$ca/root.pem"
old_subject=$(openssl x509 -in "$ca/intermediate.pem" -noout -subject | sed 's/^subject=//')

issue() { # issue NAME [QUIET] -> $tmp/NAME.pem, $tmp/NAME-chain.pem; prints the serial
  "$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name "$1" --new-key "$tmp/keys/$1.key" \
    --out "$tmp/$1.pem" --chain-out "$tmp/$1-chain.pem" --validity 2h 2> "$tmp/$1.err" ||
    { [ -n "${2:-}" ] && return 1; cat "$tmp/$1.err"; fail "issue $1"; }
  sed -n 's/^issued serial \([0-9a-f]*\),.*/\1/p' "$tmp/$1.err"
}
issuer_of() { openssl x509 -in "$tmp/$1.pem" -noout -issuer | sed 's/^issuer=//'; }
ca_certs() { # the intermediates GetCACertificates returns, one subject a line
  TC_GEN="$tmp/gen" /usr/bin/python3 - "127.0.0.1:$((base + 3))" "$root" <<'PY' > "$tmp/cacerts.pem"
import os, sys, grpc
sys.path.insert(0, os.environ["TC_GEN"])
from trustchain.v1 import ca_pb2
ch = grpc.secure_channel(sys.argv[1], grpc.ssl_channel_credentials(root_certificates=open(sys.argv[2], "rb").read()))
m = ch.unary_unary("/trustchain.v1.CertificateAuthority/GetCACertificates",
                   request_serializer=ca_pb2.GetCACertificatesRequest.SerializeToString,
                   response_deserializer=ca_pb2.GetCACertificatesResponse.FromString)
print(m(ca_pb2.GetCACertificatesRequest(), timeout=10).chain_pem, end="")
PY
  openssl crl2pkcs7 -nocrl -certfile "$tmp/cacerts.pem" | openssl pkcs7 -print_certs -noout | sed -n 's/^subject=//p'
}
verify() { # verify NAME [options]: openssl's verdict with the chain Issue returned
  openssl verify -CAfile "$root" -untrusted "$tmp/$1-chain.pem" "${@:2}" "$tmp/$1.pem" 2>&1 || true
}
validate_says() { # validate_says NAME trusted|revoked
  cat "$tmp/$1.pem" "$tmp/$1-chain.pem" > "$tmp/validate-chain.pem"
  "$ctl" "${c[@]}" validate --target "127.0.0.1:$((base + 3))" --token-file "$tmp/keys/ops.token" --name "$1" \
    "$tmp/validate-chain.pem" > "$tmp/validate.out" 2>&1 || true
  case $2 in
    trusted) grep -qx "decision: TRUSTED" "$tmp/validate.out" ;;
    revoked) grep -qx "decision: UNTRUSTED" "$tmp/validate.out" && grep -q "^reasons:.*REVOKED" "$tmp/validate.out" ;;
  esac || fail "Validate does not say $2 for $1: $(cat "$tmp/validate.out")"
}

# Before: one intermediate.
a=before.ops.hypermesh.online
issue $a > /dev/null
[ "$(issuer_of $a)" = "$old_subject" ] || fail "before: issued by $(issuer_of $a)"
[ "$(ca_certs)" = "$old_subject" ] || fail "before: GetCACertificates has $(ca_certs)"
ok "before the schedule: issued by $old_subject; GetCACertificates has it alone"

# The ceremony while the server runs (the signer holds the journal's
# lock): its record goes through the signer's ceremony inbox. The
# schedule it writes is picked up at runtime; the cut-over 40 s from now.
cutover=$(( $(date +%s) + 40 ))
when=$(date -u -d "@$cutover" +%Y-%m-%dT%H:%M:%SZ)
"$ctl" "${c[@]}" ceremony rollover-intermediate --label issuing-2 --cutover "$when" \
  > "$tmp/i2.out" 2>&1 || { cat "$tmp/i2.out"; fail "rollover-intermediate with the server running"; }
cat "$tmp/i2.out"
grep -q "the signer journals this ceremony's records" "$tmp/i2.out" || fail "the ceremony did not go through the signer"
[ "$(cat "$ca/rollover/next")" = "issuing-2 $when" ] || fail "ceremony wrote no schedule"
seq_i2=$(sed -n 's/.*journal record \([0-9]*\)$/\1/p' "$tmp/i2.out")
grep -q "\"seq\":$seq_i2,.*\"op\":\"ceremony:rollover-intermediate\",\"key\":\"issuing-2\"" "$journal" ||
  grep -q "\"op\":\"ceremony:rollover-intermediate\",\"key\":\"issuing-2\"" "$journal" ||
  fail "no ceremony:rollover-intermediate record in the journal"
ls "$tmp/data/journal/ceremony-inbox" | grep -q . && fail "requests left in the inbox: $(ls "$tmp/data/journal/ceremony-inbox")"
ok "ceremony rollover-intermediate with the server running: journaled by the signer (record $seq_i2)"
new_subject=$(openssl x509 -in "$ca/rollover/issuing-2.pem" -noout -subject | sed 's/^subject=//')
# Finalising before the cut-over is refused with the reason.
if "$ctl" "${c[@]}" ceremony finalize-rollover > "$tmp/fin0.out" 2>&1; then fail "finalize before the cut-over accepted"; fi
cat "$tmp/fin0.out"
grep -q "refused: the cut-over of 'issuing-2' is at $when" "$tmp/fin0.out" || fail "finalize refusal without its reason"
[ ! -e "$ca/rollover/finalized" ] || fail "a refused finalize wrote ca/rollover/finalized"
ok "finalize-rollover before the cut-over: refused with the reason"
for _ in $(seq 1 50); do grep -q "ca_rollover_scheduled" "$tmp/server.log" && break; sleep 0.2; done
sleep 1
b=overlap.ops.hypermesh.online
b_serial=$(issue $b)
[ "$(issuer_of $b)" = "$old_subject" ] || fail "overlap: issued by $(issuer_of $b) before the cut-over"
both=$(ca_certs)
echo "GetCACertificates during the overlap: $(echo "$both" | tr '\n' '|')"
[ "$both" = "$(printf '%s\n%s' "$old_subject" "$new_subject")" ] || fail "overlap: GetCACertificates has $both"
ok "overlap (cut-over $when): still issued by the old intermediate; GetCACertificates has both, the issuing one first"
# The next intermediate's expiry is exported beside the configured one's.
na=$(date -d "$(openssl x509 -in "$ca/rollover/issuing-2.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
m=""
for _ in $(seq 1 50); do
  m=$(curl -sf "http://127.0.0.1:$((base + 5))/metrics" |
    grep '^trustchain_certificate_expiry_timestamp_seconds{.*certificate="intermediate:issuing-2"' || true)
  [ -n "$m" ] && break
  sleep 0.2
done
echo "$m"
[ -n "$m" ] || fail "no certificate_expiry_timestamp_seconds for intermediate:issuing-2"
[ "$(printf '%.0f' "$(awk '{ print $NF }' <<< "$m" | head -n1)")" = "$na" ] || fail "next intermediate's expiry is not its notAfter ($na)"
ok "metrics: certificate_expiry_timestamp_seconds{certificate=\"intermediate:issuing-2\"} = its notAfter"

# A load across the switch: 3 clients issuing back to back until 8 s past it.
load() { # load N: one client's issuances, "rc issuer" a line
  local i=0
  while [ "$(date +%s)" -lt $((cutover + 8)) ]; do
    i=$((i + 1))
    local n="load$1-$i.ops.hypermesh.online"
    if issue "$n" quiet > /dev/null; then echo "0 $(issuer_of "$n")"; else echo "1 $(tail -n1 "$tmp/$n.err")"; fi
  done > "$tmp/load$1.out"
}
load 1 & l1=$!
load 2 & l2=$!
load 3 & l3=$!
wait $l1 $l2 $l3
cat "$tmp"/load?.out > "$tmp/load.out"
total=$(wc -l < "$tmp/load.out")
failed=$(grep -vc '^0 ' "$tmp/load.out" || true)
n_old=$(grep -c "^0 $old_subject\$" "$tmp/load.out" || true)
n_new=$(grep -c "^0 $new_subject\$" "$tmp/load.out" || true)
echo "load across the cut-over: $total issuances, $failed failed, $n_old by the old intermediate, $n_new by the new"
[ "$failed" = 0 ] || { grep -v '^0 ' "$tmp/load.out" | head; fail "Issue failed across the switch"; }
[ "$n_old" -gt 0 ] && [ "$n_new" -gt 0 ] || fail "the load did not straddle the switch"
ok "no Issue failed across the switch"

# After: the new intermediate.
d=after.ops.hypermesh.online
issue $d > /dev/null
[ "$(issuer_of $d)" = "$new_subject" ] || fail "after: issued by $(issuer_of $d)"
[ "$(head -n1 <<< "$(ca_certs)")" = "$new_subject" ] || fail "after: GetCACertificates does not lead with the new one"
for n in $a $b $d; do
  out=$(verify $n)
  echo "openssl verify ($n): $out"
  [ "$out" = "$tmp/$n.pem: OK" ] || fail "$n does not verify against the root"
done
openssl x509 -in "$tmp/$a.pem" -noout -text | grep -q "URI:$http/crl/intermediate.crl" || fail "old leaf: CDP"
openssl x509 -in "$tmp/$d.pem" -noout -text | grep -q "URI:$http/crl/issuing-2.crl" || fail "new leaf: no CDP of its own"
openssl x509 -in "$tmp/$d.pem" -noout -text | grep -q "CA Issuers - URI:$http/ca/issuing-2.crt" ||
  fail "new leaf: no AIA of its own"
curl -sSf -o "$tmp/i2.der" "$http/ca/issuing-2.crt" || fail "GET /ca/issuing-2.crt"
cmp -s "$tmp/i2.der" <(openssl x509 -in "$ca/rollover/issuing-2.pem" -outform DER) || fail "served issuing-2 differs"
grep -q '"op":"issuer_switch"' "$tmp/data/journal/audit.jsonl" || grep -q 'issuer_switch' "$tmp/data/journal/audit.jsonl" ||
  fail "no issuer_switch record in the audit journal"
"$ctl" "${c[@]}" journal verify > "$tmp/jv.out" 2>&1 || { cat "$tmp/jv.out"; fail "journal verify"; }
ok "after the cut-over: issued by $new_subject; every leaf verifies against the root; own CDP/AIA; switch journaled"
[ "$(switches)" = 1 ] || fail "$(switches) issuer_switch records, not 1"
# Finalised while running: durable, journaled through the signer.
"$ctl" "${c[@]}" ceremony finalize-rollover > "$tmp/fin.out" 2>&1 || { cat "$tmp/fin.out"; fail "finalize-rollover"; }
cat "$tmp/fin.out"
[ "$(cat "$ca/rollover/finalized")" = "issuing-2 $when" ] || fail "finalized: $(cat "$ca/rollover/finalized")"
grep -q '"op":"ceremony:finalize-rollover","key":"issuing-2"' "$journal" || fail "finalize not journaled"
"$ctl" "${c[@]}" journal verify > "$tmp/jv.out" 2>&1 || { cat "$tmp/jv.out"; fail "journal verify after finalize"; }
ok "finalize-rollover after the cut-over with the server running: ca/rollover/finalized, journaled, journal verifies"

# The resolver's DoQ certificate renewed after the cut-over comes from the
# new intermediate and is served with that chain: trustchainctl dig +quic
# verifies the handshake against the root alone. The zone's TLSA records
# for the DoQ service match what is served: DANE-EE of its key, DANE-TA of
# the intermediate that issued it (published beside the old one's).
zone=trust.hypermesh.online
doq="$tmp/data/dns/doq_cert.pem"
for _ in $(seq 1 150); do
  [ -s "$doq" ] && [ "$(openssl x509 -in "$doq" -noout -issuer | sed 's/^issuer=//')" = "$new_subject" ] && break
  sleep 0.2
done
[ "$(openssl x509 -in "$doq" -noout -issuer | sed 's/^issuer=//')" = "$new_subject" ] ||
  fail "DoQ certificate not renewed by the new intermediate"
"$ctl" "${c[@]}" dig +quic -p $((base + 1)) @127.0.0.1 "ca.$zone" A > "$tmp/dig.out" 2>&1 ||
  fail "dig +quic after the cut-over: $(cat "$tmp/dig.out")"
tlsa_of() { # the DoQ service's TLSA records, "U S M HEX" a line, sorted
  dig +short +norec -p "$base" @127.0.0.1 "_$((base + 1))._udp.dns.$zone" TLSA |
    awk '{ u = $1 " " $2 " " $3; $1 = $2 = $3 = ""; gsub(/ /, ""); print u " " toupper($0) }' | sort
}
sha_hex() { openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F; }
ee="3 1 1 $(openssl x509 -in "$doq" -pubkey -noout | openssl pkey -pubin -outform DER | sha_hex)"
ta_new="2 0 1 $(openssl x509 -in "$ca/rollover/issuing-2.pem" -outform DER | sha_hex)"
ta_old="2 0 1 $(openssl x509 -in "$ca/intermediate.pem" -outform DER | sha_hex)"
for _ in $(seq 1 100); do
  tlsa_of > "$tmp/tlsa.out" || true
  grep -qx "$ee" "$tmp/tlsa.out" && grep -qx "$ta_new" "$tmp/tlsa.out" && break
  sleep 0.2
done
cat "$tmp/tlsa.out"
grep -qx "$ee" "$tmp/tlsa.out" || fail "no TLSA 3 1 1 of the DoQ certificate served"
grep -qx "$ta_new" "$tmp/tlsa.out" || fail "no TLSA 2 0 1 of the new intermediate that issued it"
grep -qx "$ta_old" "$tmp/tlsa.out" || fail "TLSA 2 0 1 of the old intermediate gone while its leaves are valid"
ok "DoQ after the cut-over: certificate of the new intermediate, dig +quic verifies; TLSA (EE key, TA new + old) match"

# Revocation of a leaf of the old intermediate, after the cut-over.
"$ctl" "${c[@]}" revoke --token-file "$tmp/keys/ops.token" --serial "$b_serial" --reason key-compromise \
  > "$tmp/revoke.out" || fail "revoke"
curl -sSf -o "$tmp/old.crl" "$http/crl/intermediate.crl" || fail "GET old CRL"
curl -sSf -o "$tmp/new.crl" "$http/crl/issuing-2.crl" || fail "GET new CRL"
openssl crl -inform DER -in "$tmp/old.crl" -noout -issuer | grep -qF "$old_subject" || fail "old CRL: wrong issuer"
openssl crl -inform DER -in "$tmp/new.crl" -noout -issuer | grep -qF "$new_subject" || fail "new CRL: wrong issuer"
openssl crl -inform DER -in "$tmp/old.crl" -CAfile <(cat "$ca/intermediate.pem" "$root") -verify -noout 2>&1 |
  grep -q "verify OK" || fail "old CRL not signed by the old intermediate"
openssl crl -inform DER -in "$tmp/new.crl" -CAfile <(cat "$ca/rollover/issuing-2.pem" "$root") -verify -noout 2>&1 |
  grep -q "verify OK" || fail "new CRL not signed by the new intermediate"
openssl crl -inform DER -in "$tmp/old.crl" -noout -text | tr -d ' :' | grep -qi "SerialNumber${b_serial}" ||
  fail "revoked serial $b_serial not in the old intermediate's CRL"
# Each CRL lists only what its issuer signed (the store records the issuer).
! openssl crl -inform DER -in "$tmp/new.crl" -noout -text | tr -d ' :' | grep -qi "SerialNumber${b_serial}" ||
  fail "revoked serial $b_serial of the old intermediate listed in the new intermediate's CRL"
grep -qix "${b_serial} [0-9]* [0-9]* tc-intermediate" "$ca/revocations.log" ||
  fail "the revocation store does not name the old intermediate: $(cat "$ca/revocations.log")"
grep -q "\"op\":\"revoke\",\"key\":\"tc-intermediate\"" "$tmp/data/journal/audit.jsonl" ||
  fail "the journaled revocation does not name its issuer"
ok "the revocation is recorded with its issuer (store and journal); the new intermediate's CRL does not list it"
out=$(verify $b -crl_download -crl_check)
echo "openssl verify -crl_download -crl_check ($b, revoked): $out"
echo "$out" | grep -q "certificate revoked" || fail "revoked leaf of the old intermediate accepted"
out=$(verify $d -crl_download -crl_check)
echo "openssl verify -crl_download -crl_check ($d): $out"
[ "$out" = "$tmp/$d.pem: OK" ] || fail "leaf of the new intermediate refused: $out"
out=$(verify $a -crl_download -crl_check)
[ "$out" = "$tmp/$a.pem: OK" ] || fail "good leaf of the old intermediate refused: $out"
ok "revocation after the cut-over: in the old intermediate's own CRL over HTTP; openssl refuses it, passes the others"

validate_says $a trusted
validate_says $d trusted
validate_says $b revoked
ok "Validate: leaves of both intermediates TRUSTED, the revoked one REVOKED"

# A restart after the cut-over (kill -9 of signer and gateway): the signer
# takes the schedule from the file again and issues with the new one; the
# gateway's own TLS certificate, now from the new intermediate, is served
# with that chain (the clients here verify it against the root); the old
# intermediate's CRL still carries its revocation.
signer_pid=$(pid_of signer) gateway_pid=$(pid_of gateway)
kill -9 "$signer_pid" "$gateway_pid"
wait_ready signer "$signer_pid"
wait_ready gateway "$gateway_pid"
e=restarted.ops.hypermesh.online
for _ in $(seq 1 30); do issue $e quiet > /dev/null && break; sleep 1; done
[ -s "$tmp/$e.pem" ] || { cat "$tmp/$e.err"; fail "no issuance after the restart"; }
[ "$(issuer_of $e)" = "$new_subject" ] || fail "after the restart: issued by $(issuer_of $e)"
[ "$(verify $e)" = "$tmp/$e.pem: OK" ] || fail "$e does not verify"
curl -sSf -o "$tmp/old2.crl" "$http/crl/intermediate.crl" || fail "GET old CRL after the restart"
openssl crl -inform DER -in "$tmp/old2.crl" -noout -text | tr -d ' :' | grep -qi "SerialNumber${b_serial}" ||
  fail "revocation missing from the old intermediate's CRL after the restart"
validate_says $b revoked
validate_says $e trusted
[ "$(switches)" = 1 ] || fail "the restart journaled the switch again ($(switches) issuer_switch records)"
grep -q "finalized intermediate 'issuing-2' loaded" "$tmp/server.log" || fail "the restarted signer did not load the finalized rollover"
ok "restart of signer and gateway after finalize: issues with the new intermediate at once (no second issuer_switch), old CRL still at /crl/intermediate.crl"

# ACME's own TLS certificate, issued anew by a restarted acme after the
# cut-over, is served with the chain its Issue answer carried (the new
# intermediate): openssl verifies the handshake against the root alone.
acme_pid=$(pid_of acme)
kill -9 "$acme_pid"
wait_ready acme "$acme_pid"
for _ in $(seq 1 50); do
  openssl s_client -connect "127.0.0.1:$((base + 4))" -servername localhost -CAfile "$root" -verify_return_error \
    -showcerts < /dev/null > "$tmp/acme_tls.out" 2>&1 && break
  sleep 0.2
done
grep -q "Verify return code: 0 (ok)" "$tmp/acme_tls.out" || fail "ACME TLS handshake: $(tail -n 5 "$tmp/acme_tls.out")"
grep -q "i:.*CN *= *TrustChain DEV Issuing CA issuing-2" "$tmp/acme_tls.out" ||
  fail "ACME's certificate after the cut-over is not the new intermediate's: $(grep -E '^ *[0-9] s:|i:' "$tmp/acme_tls.out")"
ok "ACME's TLS certificate after the cut-over: from the new intermediate, served with its chain, verifies against the root"

# A schedule that does not parse is ignored: issuance goes on.
printf 'not a schedule\n' > "$ca/rollover/next.tmp" && mv "$ca/rollover/next.tmp" "$ca/rollover/next"
sleep 2
f=garbled.ops.hypermesh.online
issue $f > /dev/null
[ "$(issuer_of $f)" = "$new_subject" ] || fail "a garbled schedule changed the issuer"
grep -q 'ca_rollover_schedule_invalid' "$tmp/server.log" || fail "garbled schedule not reported"
ok "a garbled schedule is reported and ignored"
# A schedule naming a key whose certificate is no intermediate under our
# root (here the root's own key) is refused by the signer: issuance stays.
printf 'tc-root 2000-01-01T00:00:00Z\n' > "$ca/rollover/next.tmp" && mv "$ca/rollover/next.tmp" "$ca/rollover/next"
sleep 2
f=rootkey.ops.hypermesh.online
issue $f > /dev/null
[ "$(issuer_of $f)" = "$new_subject" ] || fail "a schedule naming the root key changed the issuer"
grep -q "next intermediate 'tc-root': the certificate of 'tc-root' is self-issued" "$tmp/server.log" ||
  fail "the root key as next intermediate not refused: $(grep -i rollover "$tmp/server.log" | tail -n 3)"
ok "a schedule naming the root's key is refused by the signer; issuance stays with the current intermediate"

# The CT log takes chains through either intermediate.
for n in $a $d; do
  body=$(/usr/bin/python3 - "$tmp/$n.pem" "$tmp/$n-chain.pem" <<'PY'
import base64, json, ssl, sys
ders = []
for f in sys.argv[1:]:
    for block in open(f).read().split("-----END CERTIFICATE-----")[:-1]:
        ders.append(base64.b64encode(ssl.PEM_cert_to_DER_cert(block + "-----END CERTIFICATE-----\n")).decode())
print(json.dumps({"chain": ders}))
PY
)
  code=$(curl -s -o "$tmp/ct.out" -w '%{http_code}' -H 'Content-Type: application/json' --data "$body" \
    "http://127.0.0.1:$((base + 2))/ct/v1/add-chain")
  [ "$code" = 200 ] || fail "CT add-chain of $n: $code $(cat "$tmp/ct.out")"
done
ok "CT log: add-chain through the old and the new intermediate accepted"

# A rollover to a NEW root while the server runs: `rollover-root` makes
# root-2 and its cross certificate (signed by our root), then the next
# intermediate issuing-3 under root-2. After its cut-over the gateway
# chains its leaves with issuing-3 and the cross certificate: a client
# holding only the old root verifies them, and so does one holding only
# root-2; the CT log (which trusts the old root) logged the
# precertificate; Validate trusts them.
"$ctl" "${c[@]}" ceremony rollover-root --label root-2 > "$tmp/r2.out" 2>&1 ||
  { cat "$tmp/r2.out"; fail "rollover-root with the server running"; }
grep -q "the signer journals" "$tmp/r2.out" || fail "rollover-root did not go through the signer"
# 45 s: the ceremony, then at least one DoQ renewal (every 8 s here) by
# issuing-2 must fit before it, on a loaded CI box too.
cutover3=$(( $(date +%s) + 45 ))
when3=$(date -u -d "@$cutover3" +%Y-%m-%dT%H:%M:%SZ)
"$ctl" "${c[@]}" ceremony rollover-intermediate --label issuing-3 --root root-2 --cutover "$when3" > "$tmp/i3.out" 2>&1 ||
  { cat "$tmp/i3.out"; fail "rollover-intermediate under root-2"; }
root2="$ca/rollover/root-2.pem"
cross="$ca/rollover/root-2-cross.pem"
# Until that cut-over the finalized issuing-2 issues while ca/rollover/next
# names issuing-3: the resolver still renews its DoQ certificate (it knows
# issuing-2 from ca/rollover/finalized, not only from next).
doq_serial() { openssl x509 -in "$doq" -noout -serial 2>/dev/null; }
doq_issuer() { openssl x509 -in "$doq" -noout -issuer 2>/dev/null | sed 's/^issuer=//'; }
s0=$(doq_serial)
while [ "$(date +%s)" -lt "$cutover3" ]; do
  [ "$(doq_serial)" != "$s0" ] && [ "$(doq_issuer)" = "$new_subject" ] && break
  sleep 0.2
done
[ "$(doq_serial)" != "$s0" ] && [ "$(doq_issuer)" = "$new_subject" ] ||
  fail "no DoQ renewal by the finalized issuing-2 once issuing-3 was scheduled (issuer $(doq_issuer))"
ok "DoQ renewed by the finalized issuing-2 while ca/rollover/next names issuing-3"
i3_subject=$(openssl x509 -in "$ca/rollover/issuing-3.pem" -noout -subject | sed 's/^subject=//')
[ "$(openssl x509 -in "$ca/rollover/issuing-3.pem" -noout -issuer | sed 's/^issuer=//')" = \
  "$(openssl x509 -in "$root2" -noout -subject | sed 's/^subject=//')" ] || fail "issuing-3 is not under root-2"
while [ "$(date +%s)" -le "$cutover3" ]; do sleep 1; done
g=newroot.ops.hypermesh.online
for _ in $(seq 1 20); do issue $g quiet > /dev/null && [ "$(issuer_of $g)" = "$i3_subject" ] && break; sleep 1; done
[ -s "$tmp/$g.pem" ] || { cat "$tmp/$g.err"; fail "no issuance after the cut-over to issuing-3"; }
[ "$(issuer_of $g)" = "$i3_subject" ] || fail "after the cut-over to issuing-3: issued by $(issuer_of $g)"
grep -qF "$(sed -n 2p "$cross")" "$tmp/$g-chain.pem" || fail "Issue's chain lacks the cross certificate"
out=$(openssl verify -CAfile "$root" -untrusted "$tmp/$g-chain.pem" "$tmp/$g.pem" 2>&1 || true)
echo "openssl verify, old root only: $out"
[ "$out" = "$tmp/$g.pem: OK" ] || fail "a client holding only the old root refuses $g"
out=$(openssl verify -CAfile "$root2" -untrusted "$tmp/$g-chain.pem" "$tmp/$g.pem" 2>&1 || true)
echo "openssl verify, new root only: $out"
[ "$out" = "$tmp/$g.pem: OK" ] || fail "a client holding only root-2 refuses $g"
out=$(openssl verify -CAfile "$root" -untrusted <(openssl x509 -in "$ca/rollover/issuing-3.pem") "$tmp/$g.pem" 2>&1 || true)
[ "$out" != "$tmp/$g.pem: OK" ] || fail "without the cross certificate the old root verified $g (test proves nothing)"
ca_certs > /dev/null
grep -qF "$(sed -n 2p "$cross")" "$tmp/cacerts.pem" || fail "GetCACertificates lacks the cross certificate"
validate_says $g trusted
validate_says $d trusted
out=$(verify $g -crl_download -crl_check)
[ "$out" = "$tmp/$g.pem: OK" ] || fail "CRL check of $g (issuing-3's own CRL): $out"
ok "rollover to a new root at runtime: issuing-3's leaf chained with the cross certificate verifies with the old root alone and with root-2 alone (not without the cross); CT logged it; Validate TRUSTED; its CRL served"

# The resolver's DoQ certificate renewed after that cut-over comes from
# issuing-3: the CT log (trusting the old root) logged its precertificate
# only because the cross certificate followed issuing-3, and the handshake
# serves leaf, issuing-3, cross certificate, so a DoQ client holding only
# the old root verifies it (GnuTLS in trustchainctl dig +quic), as does one
# holding only root-2. TLSA: DANE-EE of the new key, DANE-TA of issuing-3,
# of the finalized issuing-2 and of the configured intermediate.
for _ in $(seq 1 300); do
  [ "$(doq_issuer)" = "$i3_subject" ] && break
  sleep 0.2
done
[ "$(doq_issuer)" = "$i3_subject" ] || fail "DoQ certificate not renewed by issuing-3 (issuer $(doq_issuer))"
! grep -q "does not lead to an accepted root" "$tmp/server.log" || fail "the CT log refused a chain: $(grep -m1 "does not lead to an accepted root" "$tmp/server.log")"
out=$(openssl verify -CAfile "$root" -untrusted "$ca/rollover/issuing-3-chain.pem" "$doq" 2>&1 || true)
[ "$out" = "$doq: OK" ] || fail "DoQ certificate with issuing-3-chain.pem, old root only: $out"
for anchor in "$root" "$root2"; do
  "$ctl" "${c[@]}" dig +quic +cafile="$anchor" -p $((base + 1)) @127.0.0.1 "ca.$zone" A > "$tmp/dig3.out" 2>&1 ||
    fail "dig +quic trusting only $anchor after the cut-over to issuing-3: $(cat "$tmp/dig3.out")"
done
ee3="3 1 1 $(openssl x509 -in "$doq" -pubkey -noout | openssl pkey -pubin -outform DER | sha_hex)"
ta3="2 0 1 $(openssl x509 -in "$ca/rollover/issuing-3.pem" -outform DER | sha_hex)"
for _ in $(seq 1 100); do
  tlsa_of > "$tmp/tlsa3.out" || true
  grep -qx "$ee3" "$tmp/tlsa3.out" && grep -qx "$ta3" "$tmp/tlsa3.out" && break
  sleep 0.2
done
cat "$tmp/tlsa3.out"
grep -qx "$ee3" "$tmp/tlsa3.out" || fail "no TLSA 3 1 1 of the DoQ certificate of issuing-3"
grep -qx "$ta3" "$tmp/tlsa3.out" || fail "no TLSA 2 0 1 of issuing-3"
grep -qx "$ta_new" "$tmp/tlsa3.out" || fail "TLSA 2 0 1 of the finalized issuing-2 gone"
grep -qx "$ta_old" "$tmp/tlsa3.out" || fail "TLSA 2 0 1 of the configured intermediate gone"
ok "DoQ after the cut-over under root-2: renewed by issuing-3, CT logged it, dig +quic verifies with the old root alone and with root-2 alone; TLSA (EE, TA issuing-3 + issuing-2 + configured) match"

# The ceremonies with the server stopped: each takes the journal's lock
# itself. The rollover finalised offline; the restarted server issues with
# issuing-3 at once (the finalized rollovers in order, the last issuing),
# journals no switch, and still serves the older CRLs.
s3=$(doq_serial)
kill -TERM "$server_pid"
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$server_pid" 2>/dev/null || fail "server did not stop"
server_pid=
n_switch=$(switches)
"$ctl" "${c[@]}" ceremony finalize-rollover > "$tmp/fin3.out" 2>&1 || { cat "$tmp/fin3.out"; fail "finalize (stopped)"; }
cat "$tmp/fin3.out"
! grep -q "the signer journals" "$tmp/fin3.out" || fail "stopped server, yet the ceremony went to the signer"
[ "$(cat "$ca/rollover/finalized")" = "$(printf 'issuing-2 %s\nissuing-3 %s' "$when" "$when3")" ] ||
  fail "finalized after the second rollover: $(cat "$ca/rollover/finalized")"
"$ctl" "${c[@]}" ceremony finalize-rollover > "$tmp/fin4.out" 2>&1 || fail "a repeated finalize failed"
grep -q "already finalized" "$tmp/fin4.out" || fail "a repeated finalize: $(cat "$tmp/fin4.out")"
"$ctl" "${c[@]}" journal verify > "$tmp/jv.out" 2>&1 || { cat "$tmp/jv.out"; fail "journal verify (stopped)"; }
ok "finalize-rollover with the server stopped: journaled directly, a repeat does nothing, journal verifies"
start_server
for p in signer gateway resolver; do wait_ready "$p"; done
h=third.ops.hypermesh.online
for _ in $(seq 1 30); do issue $h quiet > /dev/null && break; sleep 1; done
[ -s "$tmp/$h.pem" ] || { cat "$tmp/$h.err"; fail "no issuance after the restart"; }
[ "$(issuer_of $h)" = "$i3_subject" ] || fail "after the restart: issued by $(issuer_of $h)"
[ "$(openssl verify -CAfile "$root" -untrusted "$tmp/$h-chain.pem" "$tmp/$h.pem" 2>&1)" = "$tmp/$h.pem: OK" ] ||
  fail "$h does not verify against the old root"
[ "$(switches)" = "$n_switch" ] || fail "the start journaled a switch ($(switches) issuer_switch records, was $n_switch)"
curl -sSf -o "$tmp/old3.crl" "$http/crl/intermediate.crl" || fail "GET old CRL after the second rollover"
openssl crl -inform DER -in "$tmp/old3.crl" -noout -issuer | grep -qF "$old_subject" || fail "/crl/intermediate.crl: wrong issuer"
curl -sSf -o "$tmp/i2b.crl" "$http/crl/issuing-2.crl" || fail "GET issuing-2 CRL after the second rollover"
openssl crl -inform DER -in "$tmp/i2b.crl" -noout -issuer | grep -qF "$new_subject" || fail "/crl/issuing-2.crl: wrong issuer"
validate_says $a trusted
validate_says $d trusted
validate_says $h trusted
# The resolver started on the finalized rollovers: TLSA of all three
# intermediates, and its DoQ certificate from issuing-3 verifies with the
# old root alone.
for _ in $(seq 1 300); do
  [ "$(doq_issuer)" = "$i3_subject" ] && [ "$(doq_serial)" != "$s3" ] && break
  sleep 0.2
done
[ "$(doq_issuer)" = "$i3_subject" ] && [ "$(doq_serial)" != "$s3" ] ||
  fail "after the restart: no new DoQ certificate from issuing-3 (issuer $(doq_issuer))"
for _ in $(seq 1 100); do
  tlsa_of > "$tmp/tlsa4.out" || true
  grep -qx "$ta3" "$tmp/tlsa4.out" && grep -qx "$ta_new" "$tmp/tlsa4.out" && grep -qx "$ta_old" "$tmp/tlsa4.out" && break
  sleep 0.2
done
for ta in "$ta3" "$ta_new" "$ta_old"; do grep -qx "$ta" "$tmp/tlsa4.out" || fail "after the restart: no TLSA $ta"; done
"$ctl" "${c[@]}" dig +quic +cafile="$root" -p $((base + 1)) @127.0.0.1 "ca.$zone" A > "$tmp/dig4.out" 2>&1 ||
  fail "dig +quic trusting only the old root after the restart: $(cat "$tmp/dig4.out")"
ok "restart after finalize: issuing-3 issues at once, no switch journaled; /crl/intermediate.crl and /crl/issuing-2.crl still served; Validate trusts all three; resolver: DoQ from issuing-3 verifies with the old root alone, TLSA of all three"
