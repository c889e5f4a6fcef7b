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
  records: ["resume 60 A 127.0.0.1"]
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
