#!/usr/bin/env bash
# Every certificate our CA signs is logged, our own processes' included
# (DESIGN 3): after the whole server starts, the gateway's TLS certificate
# (as served in the handshake) and the resolver's DoQ certificate each embed
# one SCT from our log that verifies, their precertificate entries (and,
# with ct.log_stoq_certificates, the certificates themselves) are in the
# log's signed tree (own_certs_logged.py), our own Validate calls the
# gateway's certificate TRUSTED with OK_SCT (the DoQ one too), and
# OpenSSL's CT validation accepts the gateway's SCT in a real handshake.
# Then the log is held stopped while the gateway and the resolver restart
# (the log coming up after them): neither serves a certificate until the log
# is back, and then both serve new, logged ones.
# Usage: own_certs_logged_test.sh BINDIR SOURCE_DIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
py=/usr/bin/python3
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
$py -c 'import cryptography' 2>/dev/null || { echo "SKIP: needs python3-cryptography"; exit 77; }
. "$(dirname "$0")/server_lib.sh" own-certs

zone=trust.hypermesh.online
dev_config "@ct" "  sequence_interval_ms: 50"
gw=127.0.0.1:$((base + 3)) ct=127.0.0.1:$((base + 2))
ctl() { "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" "$@"; }

start_server
ok "four children ready"

# The gateway's chain exactly as its TLS handshake serves it.
served_chain() {
  openssl s_client -connect "$gw" -servername localhost -showcerts </dev/null 2>/dev/null |
    awk '/-----BEGIN CERTIFICATE-----/ { p = 1 } p { print } /-----END CERTIFICATE-----/ { p = 0 }' || true
}
for _ in $(seq 1 50); do
  served_chain > "$tmp/gateway_chain.pem"
  grep -q 'BEGIN CERTIFICATE' "$tmp/gateway_chain.pem" && break
  sleep 0.2
done
grep -q 'BEGIN CERTIFICATE' "$tmp/gateway_chain.pem" || fail "no certificate from the gateway's handshake"
ok "gateway chain fetched from its handshake ($(grep -c 'BEGIN CERTIFICATE' "$tmp/gateway_chain.pem") certificates)"

# The DoQ certificate: published once the listener installed it; the
# listener answers over QUIC with it (dig +quic verifies it against our root).
doq="$tmp/data/dns/doq_cert.pem"
for _ in $(seq 1 300); do [ -s "$doq" ] && break; sleep 0.2; done
[ -s "$doq" ] || fail "no DoQ certificate published"
cp "$doq" "$tmp/doq_cert.pem"
ctl dig +quic -p $((base + 1)) "ca.$zone" A > "$tmp/dig.out" 2>&1 || fail "dig +quic: $(cat "$tmp/dig.out")"
ok "DoQ certificate published and served"

$py "$src/tests/integration/own_certs_logged.py" "$ct" "$tmp/data" 1 \
  "gateway=$tmp/gateway_chain.pem" "resolver=$tmp/doq_cert.pem" || fail "own certificates not logged"

# Validate, as any STOQ node asks it: the gateway's certificate as served
# and the DoQ certificate, each for its own name.
validate() { # validate NAME CHAIN
  set +e
  ctl validate --target "$gw" --name "$1" "$2" > "$tmp/validate.out" 2>&1
  local rc=$?
  set -e
  [ $rc -eq 0 ] && grep -q '^decision: TRUSTED' "$tmp/validate.out" && grep -q ' OK_SCT' "$tmp/validate.out" ||
    fail "Validate $1 (exit $rc): $(cat "$tmp/validate.out")"
  ok "Validate $1: $(grep '^reasons:' "$tmp/validate.out")"
}
validate localhost "$tmp/gateway_chain.pem"
validate "dns.$zone" "$tmp/doq_cert.pem"

# OpenSSL's own CT validation in a handshake with the gateway. (It judges
# SCT times against the session's whole seconds: an SCT from the current
# second counts as "from the future", so a fresh certificate may need the
# next second; a bad SCT fails every attempt.)
ctl ct loglist --out "$tmp/loglist.cnf" || fail "trustchainctl ct loglist"
# Judged by what s_client reports (its exit status also reflects how the
# gRPC server ends a connection that sends no request).
ct_handshake() {
  openssl s_client -connect "$gw" -servername localhost -verify_hostname localhost -ct \
    -ctlogfile "$tmp/loglist.cnf" -CAfile "$tmp/data/ca/root.pem" -verify_return_error </dev/null \
    > "$tmp/s_client.out" 2>&1 || true
  grep -q "SCT validation status: valid" "$tmp/s_client.out" &&
    ! grep -q "SCT validation status: invalid" "$tmp/s_client.out" &&
    grep -q "Verify return code: 0 (ok)" "$tmp/s_client.out"
}
valid=
for _ in $(seq 1 10); do ct_handshake && valid=1 && break; sleep 0.5; done
[ -n "$valid" ] || fail "s_client -ct: $(grep -iE 'sct|verify|error' "$tmp/s_client.out")"
ok "openssl s_client -ct: the gateway's SCT is valid"

# The log comes up after them: hold it stopped, restart the gateway and the
# resolver. Nothing is served on TLS or DoQ while it is away (no unlogged
# certificate), classic DNS answers; once it runs again both serve new
# certificates, logged like the first ones.
status_of() { awk -v n="$1" '$1 == n { print $2, $3 }' "$tmp/data/server.status" 2>/dev/null; }
pid_of() { status_of "$1" | awk '{ print $1 }'; }
wait_restarted() { # wait_restarted NAME OLD_PID STATE
  for _ in $(seq 1 300); do
    read -r pid state < <(status_of "$1" || true) || true
    [ "${pid:-0}" != 0 ] && [ "$pid" != "$2" ] && [ "${state:-}" = "$3" ] && return 0
    sleep 0.2
  done
  fail "$1 not $3 after its restart (status: $(status_of "$1"))"
}
log_pid=$(pid_of transparency) gw_pid=$(pid_of gateway) dns_pid=$(pid_of resolver)
cleanup_extra() { kill -CONT "$log_pid" 2>/dev/null || true; }
kill -STOP "$log_pid"
kill -KILL "$gw_pid" "$dns_pid"
wait_restarted gateway "$gw_pid" starting
wait_restarted resolver "$dns_pid" ready
for _ in $(seq 1 15); do
  [ -z "$(served_chain)" ] || fail "the gateway serves a certificate while the CT log is stopped"
  ctl dig +quic +timeout=1000 -p $((base + 1)) "ca.$zone" A >/dev/null 2>&1 &&
    fail "DoQ serves a certificate while the CT log is stopped"
  sleep 0.2
done
dig_udp=$(ctl dig -p $base "ca.$zone" A 2>&1) || fail "classic DNS while the CT log is stopped: $dig_udp"
ok "CT log stopped: gateway not serving TLS, no DoQ handshake, classic DNS answers"
kill -CONT "$log_pid"
wait_restarted gateway "$gw_pid" ready
for _ in $(seq 1 150); do
  cmp -s "$doq" "$tmp/doq_cert.pem" || break
  sleep 0.2
done
cmp -s "$doq" "$tmp/doq_cert.pem" && fail "no new DoQ certificate after the CT log came back"
cp "$doq" "$tmp/doq_cert2.pem"
served_chain > "$tmp/gateway_chain2.pem"
grep -q 'BEGIN CERTIFICATE' "$tmp/gateway_chain2.pem" || fail "no certificate from the restarted gateway"
cmp -s "$tmp/gateway_chain.pem" "$tmp/gateway_chain2.pem" && fail "the restarted gateway serves its old certificate"
ctl dig +quic -p $((base + 1)) "ca.$zone" A > "$tmp/dig.out" 2>&1 || fail "dig +quic after the log came back: $(cat "$tmp/dig.out")"
$py "$src/tests/integration/own_certs_logged.py" "$ct" "$tmp/data" 1 \
  "restarted gateway=$tmp/gateway_chain2.pem" "restarted resolver=$tmp/doq_cert2.pem" ||
  fail "certificates issued after the CT log came back are not logged"
validate localhost "$tmp/gateway_chain2.pem"
echo "1 passed, 0 failed"
