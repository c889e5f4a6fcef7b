#!/usr/bin/env bash
# Real ACME clients against a real trustchain-server (issue 11): Debian's
# lego gets certificates with http-01 and tls-alpn-01, renews one and
# revokes one; certbot gets one with http-01 (standalone) and revokes it.
# Every certificate must verify with openssl against our root for
# sslserver, carry the embedded SCT list, and after revocation the
# gateway's Validate must say REVOKED. Challenges are validated by
# trustchain-validator over loopback: names resolve through our own
# resolver (dns.records below), ports are acme.validation.http_port /
# tls_port, where the clients listen.
# Usage: acme_clients_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" acme-clients

command -v lego >/dev/null || fail "needs lego (Debian package lego)"
command -v certbot >/dev/null || fail "needs certbot (Debian package certbot)"

base=$(( 20000 + RANDOM % 20000 ))
acme_port=$((base + 4)) http_port=$((base + 5)) tls_port=$((base + 6))
names=(lego-http lego-tls certbot-http a.eab)
# dns-01: lego publishes its TXT record in our zone by RFC 2136 UPDATE,
# signed with a TSIG key the update policy lets change _acme-challenge TXT.
"$ctl" dns tsig new acme > "$tmp/tsig.keys"
own_tsig_keys
tsig_secret=$(tsig_secret acme)
[ -n "$tsig_secret" ] || fail "no secret in: $(cat "$tmp/tsig.keys")"
{
  printf 'server:\n  dev: true\n  data_dir: %s/data\n' "$tmp"
  printf 'dns:\n  udp_port: %s\n  quic_port: %s\n' "$base" "$((base + 1))"
  printf '  tsig_keys_file: %s\n  update_policy:\n' "$tmp/tsig.keys"
  printf '    - {key: acme, names: ["_acme-challenge.*"], types: [TXT]}\n'
  printf '  records:\n'
  for n in "${names[@]}"; do
    printf '    - "%s 60 A 127.0.0.1"\n' "$n"
  done
  printf 'ct:\n  http_listen: 127.0.0.1:%s\n' "$((base + 2))"
  printf 'gateway:\n  listen: 127.0.0.1:%s\n' "$((base + 3))"
  printf 'acme:\n  listen: 127.0.0.1:%s\n' "$acme_port"
  printf '  validation:\n    resolver: 127.0.0.1:%s\n    http_port: %s\n    tls_port: %s\n' \
    "$base" "$http_port" "$tls_port"
} > "$tmp/trustchain.yaml"
start_server
directory="https://127.0.0.1:$acme_port/acme/directory"
grep -q "$directory" "$tmp/server.out" || fail "the server does not print the ACME directory $directory"
root="$tmp/data/ca/root.pem"

curl -sf --cacert "$root" "$directory" > "$tmp/directory.json" || fail "GET $directory"
for key in newNonce newAccount newOrder revokeCert keyChange renewalInfo; do
  grep -q "\"$key\"" "$tmp/directory.json" || fail "directory lacks $key: $(cat "$tmp/directory.json")"
done
ok "directory at $directory"

# check_cert NAME CERT_PEM [CHAIN_PEM]: verifies for sslserver and NAME,
# with our root, and has the embedded SCT list (RFC 6962 3.3).
check_cert() {
  local name=$1 cert=$2 chain=${3:-$2}
  openssl verify -purpose sslserver -verify_hostname "$name" -CAfile "$root" -untrusted "$chain" "$cert" \
    > "$tmp/verify.out" 2>&1 || fail "openssl verify $cert: $(cat "$tmp/verify.out")"
  openssl x509 -in "$cert" -noout -text | grep -q "CT Precertificate SCTs" ||
    fail "$cert carries no SCT list"
}

# validate_says CERT_PEM CHAIN_PEM trusted|revoked: the gateway's decision
# (trustchainctl validate prints "decision: ..." and "reasons: ...").
validate_says() {
  cat "$1" "$2" > "$tmp/validate-chain.pem"
  "$ctl" --config "$tmp/trustchain.yaml" validate --target "127.0.0.1:$((base + 3))" --name "$3" \
    "$tmp/validate-chain.pem" > "$tmp/validate.out" 2>&1 || true
  case $4 in
    trusted) grep -qx "decision: TRUSTED" "$tmp/validate.out" ;;
    revoked) grep -qx "decision: UNTRUSTED" "$tmp/validate.out" && grep -q "^reasons:.*REVOKED" "$tmp/validate.out" ;;
  esac || fail "Validate does not say $4: $(cat "$tmp/validate.out")"
}

export LEGO_CA_CERTIFICATES="$root"
lego_run() {
  lego --server "$directory" --email ops@hypermesh.online --accept-tos --path "$tmp/lego" "$@" \
    > "$tmp/lego.out" 2>&1 || fail "lego $*: $(tail -20 "$tmp/lego.out")"
}

# lego, http-01 on the validation port.
lego_run --http --http.port "127.0.0.1:$http_port" -d lego-http.trust.hypermesh.online run
crt="$tmp/lego/certificates/lego-http.trust.hypermesh.online.crt"
[ -s "$crt" ] || fail "lego wrote no certificate"
# lego's .crt is the leaf then the chain; the issuer file is the chain.
check_cert lego-http.trust.hypermesh.online "$crt" "$tmp/lego/certificates/lego-http.trust.hypermesh.online.issuer.crt"
serial1=$(openssl x509 -in "$crt" -noout -serial)
ok "lego http-01: $(openssl x509 -in "$crt" -noout -subject -enddate | tr '\n' ' ')"

# lego, tls-alpn-01.
lego_run --tls --tls.port "127.0.0.1:$tls_port" -d lego-tls.trust.hypermesh.online run
crt2="$tmp/lego/certificates/lego-tls.trust.hypermesh.online.crt"
check_cert lego-tls.trust.hypermesh.online "$crt2" "$tmp/lego/certificates/lego-tls.trust.hypermesh.online.issuer.crt"
ok "lego tls-alpn-01"

# Renewal: a new certificate (new serial) for the same name.
lego_run --http --http.port "127.0.0.1:$http_port" -d lego-http.trust.hypermesh.online renew --days 9999 --no-random-sleep
serial2=$(openssl x509 -in "$crt" -noout -serial)
[ "$serial1" != "$serial2" ] || fail "lego renew kept serial $serial1"
check_cert lego-http.trust.hypermesh.online "$crt" "$tmp/lego/certificates/lego-http.trust.hypermesh.online.issuer.crt"
ok "lego renew: $serial1 -> $serial2"

# Revocation by the account (lego archives the files it revoked: keep
# copies); Validate then says revoked.
cp "$crt2" "$tmp/revoked.crt"
cp "$tmp/lego/certificates/lego-tls.trust.hypermesh.online.issuer.crt" "$tmp/revoked.issuer.crt"
validate_says "$tmp/revoked.crt" "$tmp/revoked.issuer.crt" lego-tls.trust.hypermesh.online trusted
lego_run -d lego-tls.trust.hypermesh.online revoke
sleep 1
validate_says "$tmp/revoked.crt" "$tmp/revoked.issuer.crt" lego-tls.trust.hypermesh.online revoked
ok "lego revoke: Validate says revoked"

# lego, dns-01 through RFC 2136 with TSIG to our resolver (lego's own
# propagation check would ask the zone's NS on port 53: off).
RFC2136_NAMESERVER="127.0.0.1:$base" RFC2136_TSIG_KEY=acme RFC2136_TSIG_ALGORITHM=hmac-sha256. \
  RFC2136_TSIG_SECRET="$tsig_secret" RFC2136_PROPAGATION_TIMEOUT=30 RFC2136_POLLING_INTERVAL=1 \
  lego_run --dns rfc2136 --dns.resolvers "127.0.0.1:$base" --dns.disable-cp -d lego-dns.trust.hypermesh.online run
crt3="$tmp/lego/certificates/lego-dns.trust.hypermesh.online.crt"
check_cert lego-dns.trust.hypermesh.online "$crt3" "$tmp/lego/certificates/lego-dns.trust.hypermesh.online.issuer.crt"
ok "lego dns-01 (RFC 2136 update with TSIG into our zone)"

# The REST face on the same listener, for callers without gRPC:
# POST /v1/validate (proto3 JSON), GET /v1/ca-certificates, GET /v1/crl.
rest="https://127.0.0.1:$acme_port/v1"
issuer1="$tmp/lego/certificates/lego-http.trust.hypermesh.online.issuer.crt"
chain_json="[\"$(openssl x509 -in "$crt" -outform DER | base64 -w0)\",\"$(openssl x509 -in "$issuer1" -outform DER | base64 -w0)\"]"
rest_validate() { # rest_validate NAME -> the JSON answer
  curl -sf --cacert "$root" -H 'Content-Type: application/json' \
    --data "{\"chain\":$chain_json,\"name\":\"$1\",\"purpose\":\"PURPOSE_SERVER_AUTH\"}" "$rest/validate" ||
    fail "POST $rest/validate"
}
out=$(rest_validate lego-http.trust.hypermesh.online)
echo "$out" | grep -q '"decision": *"TRUSTED"' || fail "REST validate: $out"
out=$(rest_validate other.trust.hypermesh.online)
echo "$out" | grep -q '"decision": *"UNTRUSTED"' && echo "$out" | grep -q NAME_MISMATCH || fail "REST validate, wrong name: $out"
curl -sf --cacert "$root" "$rest/ca-certificates" > "$tmp/rest-cas.pem" || fail "GET $rest/ca-certificates"
grep -q "BEGIN CERTIFICATE" "$tmp/rest-cas.pem" || fail "no certificate from $rest/ca-certificates"
curl -sf --cacert "$root" "$rest/crl" -o "$tmp/rest.crl" || fail "GET $rest/crl"
openssl crl -inform DER -in "$tmp/rest.crl" -CAfile "$issuer1" -noout 2>&1 | grep -q "verify OK" ||
  fail "the CRL from $rest/crl does not verify"
revoked_serial=$(openssl x509 -in "$tmp/revoked.crt" -noout -serial | cut -d= -f2)
openssl crl -inform DER -in "$tmp/rest.crl" -noout -text | grep -qi "Serial Number: *$revoked_serial" ||
  fail "the revoked $revoked_serial is not in the CRL from $rest/crl"
ok "REST: /v1/validate TRUSTED and NAME_MISMATCH, /v1/ca-certificates, /v1/crl verifies and lists the revoked serial"

# kill -9 of trustchain-acme: the account survives (lego renews with it).
acme_pid=$(pid_of acme)
kill -9 "$acme_pid"
wait_ready acme "$acme_pid"
wait_ready validator
# The validator may be re-linking to the new acme for a moment: acme then
# answers 503 serverInternal "retry", which lego does not retry by itself.
for try in 1 2 3 4 5; do
  if lego --server "$directory" --email ops@hypermesh.online --accept-tos --path "$tmp/lego" --http \
    --http.port "127.0.0.1:$http_port" -d lego-http.trust.hypermesh.online renew --days 9999 --no-random-sleep \
    > "$tmp/lego.out" 2>&1; then
    break
  fi
  grep -q "retry" "$tmp/lego.out" && [ "$try" -lt 5 ] || fail "lego renew after kill -9: $(tail -20 "$tmp/lego.out")"
  sleep 2
done
check_cert lego-http.trust.hypermesh.online "$crt" "$issuer1"
ok "after kill -9 of acme: the account renews"

# External account binding: an account bound to a key made with patterns
# may order only the names they cover (rejectedIdentifier otherwise).
"$ctl" --config "$tmp/trustchain.yaml" acme eab new --patterns '*.eab.trust.hypermesh.online' > "$tmp/eab.out" ||
  fail "acme eab new: $(cat "$tmp/eab.out")"
kid=$(sed -n 's/^lego: *--eab --kid \([^ ]*\) --hmac .*/\1/p' "$tmp/eab.out")
hmac=$(sed -n 's/^lego: *--eab --kid [^ ]* --hmac \([^ ]*\).*/\1/p' "$tmp/eab.out")
[ -n "$kid" ] && [ -n "$hmac" ] || fail "acme eab new printed: $(cat "$tmp/eab.out")"
eab_lego() {
  lego --server "$directory" --email eab@hypermesh.online --accept-tos --path "$tmp/lego-eab" \
    --eab --kid "$kid" --hmac "$hmac" --http --http.port "127.0.0.1:$http_port" "$@" > "$tmp/lego-eab.out" 2>&1
}
eab_lego -d a.eab.trust.hypermesh.online run || fail "lego with EAB: $(tail -20 "$tmp/lego-eab.out")"
check_cert a.eab.trust.hypermesh.online "$tmp/lego-eab/certificates/a.eab.trust.hypermesh.online.crt" \
  "$tmp/lego-eab/certificates/a.eab.trust.hypermesh.online.issuer.crt"
if eab_lego -d lego-tls.trust.hypermesh.online run; then fail "an EAB account ordered a name outside its patterns"; fi
grep -q "rejectedIdentifier" "$tmp/lego-eab.out" || fail "no rejectedIdentifier: $(tail -20 "$tmp/lego-eab.out")"
ok "EAB: the bound account gets a.eab.trust.hypermesh.online, is refused lego-tls.trust.hypermesh.online (rejectedIdentifier)"

# certbot, standalone http-01.
cb="$tmp/certbot"
export REQUESTS_CA_BUNDLE="$root"
certbot_run() {
  certbot --config-dir "$cb/config" --work-dir "$cb/work" --logs-dir "$cb/logs" --non-interactive \
    --server "$directory" "$@" > "$tmp/certbot.out" 2>&1 || fail "certbot $*: $(tail -30 "$tmp/certbot.out")"
}
certbot_run certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1 \
  --agree-tos -m ops@hypermesh.online --no-eff-email -d certbot-http.trust.hypermesh.online
live="$cb/config/live/certbot-http.trust.hypermesh.online"
check_cert certbot-http.trust.hypermesh.online "$live/cert.pem" "$live/chain.pem"
ok "certbot http-01: $(openssl x509 -in "$live/cert.pem" -noout -serial)"
validate_says "$live/cert.pem" "$live/chain.pem" certbot-http.trust.hypermesh.online trusted
certbot_run revoke --cert-path "$live/cert.pem" --reason keycompromise --no-delete-after-revoke
sleep 1
validate_says "$live/cert.pem" "$live/chain.pem" certbot-http.trust.hypermesh.online revoked
ok "certbot revoke: Validate says revoked"
echo "PASS"
