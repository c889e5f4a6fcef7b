#!/usr/bin/env bash
# Finalize is answered at once and issued in the background (issue 11):
# an order whose finalize was answered "processing" survives kill -9 of
# trustchain-acme and is issued exactly once after the restart
# (acme_resume.py, with certbot's python3-acme as the client).
# Usage: acme_resume_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
. "$(dirname "$0")/server_lib.sh" acme-resume
/usr/bin/python3 -c 'import acme.client, josepy' 2>/dev/null || fail "needs python3-acme (Debian package)"
base=$(( 20000 + RANDOM % 20000 ))
name=resume.trust.hypermesh.online
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $base
  quic_port: $((base + 1))
  records: ["resume 60 A 127.0.0.1", "resume2 60 A 127.0.0.1"]
ct:
  http_listen: 127.0.0.1:$((base + 2))
gateway:
  listen: 127.0.0.1:$((base + 3))
acme:
  listen: 127.0.0.1:$((base + 4))
  validation:
    resolver: 127.0.0.1:$base
    http_port: $((base + 5))
YAML
start_server
export RESUME_CERT="$tmp/resumed.pem"
/usr/bin/python3 "$(dirname "$0")/acme_resume.py" "https://127.0.0.1:$((base + 4))/acme/directory" \
  "$tmp/data/ca/root.pem" $((base + 5)) "$name" "$tmp/data/server.status" "http://127.0.0.1:$((base + 2))" \
  || fail "acme_resume.py"
grep -q "resuming the issuance of 1 finalized orders" "$tmp/server.log" || fail "acme did not say it resumed the order"
ok "acme logged the resumption"
openssl verify -purpose sslserver -verify_hostname "$name" -CAfile "$tmp/data/ca/root.pem" -untrusted "$RESUME_CERT" \
  "$RESUME_CERT" > /dev/null || fail "the resumed certificate does not verify"
ok "the resumed certificate verifies for $name"

# The double-issuance window: acme killed after the gateway received its
# Issue (the signer is stopped, then continued, so the gateway issues that
# request), then the resumed order is issued again under the same
# idempotency key. The signer must return the same certificate: one CT
# entry, one precertificate and one certificate signature in the journal
# for the serial, and at least one idempotent replay of it.
name2=resume2.trust.hypermesh.online
export RESUME_CERT="$tmp/resumed2.pem"
RESUME_MODE=cont /usr/bin/python3 "$(dirname "$0")/acme_resume.py" "https://127.0.0.1:$((base + 4))/acme/directory" \
  "$tmp/data/ca/root.pem" $((base + 5)) "$name2" "$tmp/data/server.status" "http://127.0.0.1:$((base + 2))" \
  || fail "acme_resume.py (gateway continued)"
openssl verify -purpose sslserver -verify_hostname "$name2" -CAfile "$tmp/data/ca/root.pem" \
  -untrusted "$RESUME_CERT" "$RESUME_CERT" > /dev/null || fail "the second resumed certificate does not verify"
serial=$(openssl x509 -in "$RESUME_CERT" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
journal="$tmp/data/journal/audit.jsonl"
count() { # op: records of op for the serial, result ok
  grep -F "\"op\":\"$1\"" "$journal" | grep -F '"result":"ok"' | grep -c "serial[ =]$serial" || true
}
pre=$(count sign_precertificate); fin=$(count sign_certificate); replays=$(count idempotent_replay)
echo "journal for serial $serial: $pre precertificate, $fin certificate signatures, $replays replays"
[ "$pre" = 1 ] && [ "$fin" = 1 ] || fail "want exactly one precertificate and one certificate signed for $serial"
[ "$replays" -ge 1 ] || fail "the resumed issuance did not get the certificate back from the signer's record"
[ "$(grep -c "resuming the issuance of 1 finalized orders" "$tmp/server.log")" -ge 2 ] \
  || fail "acme did not resume the second order"
ok "acme killed after the gateway got Issue: one certificate for the order (idempotency key honoured)"

