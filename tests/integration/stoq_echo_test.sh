#!/usr/bin/env bash
# The STOQ integration kit end to end (issue 15): a whole dev server issues
# certificates; the stoq-echo QUIC server and client (ngtcp2 + GnuTLS, mutual
# TLS) verify each other through libtrustchain's hook, online (Validate) and
# local (the gateway's decision code in-process, CRL from GetCrl).
#   good pair echoes; revoked client refused (online after the decision
#   cache's 1 s, local within the CRL refresh); wrong name, expired, foreign
#   CA, SCTs not from a trusted log each refused with their reason; the
#   whole server stopped: local mode keeps deciding until the CRL bound,
#   then refuses (REVOCATION_UNKNOWN).
# Usage: stoq_echo_test.sh BINDIR
set -euo pipefail
# A private loopback (other test runs use the same ports range).
if [ -z "${TC_STOQ_NETNS:-}" ] && unshare -n true 2>/dev/null; then
  exec env TC_STOQ_NETNS=1 unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" stoq
echo_pids=()
cleanup_extra() { for p in "${echo_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }

mkdir -p "$tmp/data" "$tmp/k"
"$ctl" token new --name stoq --patterns '*.stoq.hypermesh.online' --revoke --out "$tmp/k/stoq.token" \
  > "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens" 2>/dev/null || true; fi
dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true"
start_server
gw=127.0.0.1:$((base + 3))
root="$tmp/data/ca/root.pem"
inter="$tmp/data/ca/intermediate.pem"
[ -f "$inter" ] || inter="$tmp/data/ca/chain.pem"
logkey="$tmp/data/ct/log_public_key.pem"
cfg=(--config "$tmp/trustchain.yaml")
tok=(--token-file "$tmp/k/stoq.token")

# issue NAME PROFILE FILEBASE [VALIDITY]: key and leaf+chain for the example.
issue() {
  "$ctl" "${cfg[@]}" issue "${tok[@]}" --name "$1" --profile "$2" --new-key "$tmp/k/$3.key" --out "$tmp/$3.leaf" \
    --chain-out "$tmp/$3.chain" --validity "${4:-2h}" 2> "$tmp/$3.issue" || { cat "$tmp/$3.issue"; fail "issue $1"; }
  cat "$tmp/$3.leaf" "$tmp/$3.chain" > "$tmp/$3.pem"
  sed -n 's/^issued serial \([0-9a-f]*\),.*/\1/p' "$tmp/$3.issue" > "$tmp/$3.serial"
}
issue srv.stoq.hypermesh.online server srv
issue cli.stoq.hypermesh.online client cli
issue cli.stoq.hypermesh.online client cli2
issue other.stoq.hypermesh.online client wrong

# A foreign CA and a client certificate from it that looks like ours.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k/foreign-ca.key" \
  -subj /CN=Foreign -days 1 -out "$tmp/foreign-ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k/foreign.key" \
  -subj /CN=cli.stoq.hypermesh.online -out "$tmp/foreign.csr" 2>/dev/null
printf 'subjectAltName=DNS:cli.stoq.hypermesh.online\nextendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' \
  > "$tmp/foreign.ext"
openssl x509 -req -in "$tmp/foreign.csr" -CA "$tmp/foreign-ca.pem" -CAkey "$tmp/k/foreign-ca.key" \
  -CAcreateserial -days 1 -extfile "$tmp/foreign.ext" -out "$tmp/foreign.pem" 2>/dev/null
# A log key no certificate of ours was logged under: its SCTs do not count.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/k/otherlog.key" 2>/dev/null
openssl ec -in "$tmp/k/otherlog.key" -pubout -out "$tmp/otherlog.pub" 2>/dev/null

online=(--mode online --gateway "$gw" --gateway-ca "$root")
local_=(--mode local --gateway "$gw" --gateway-ca "$root" --root "$root" --intermediate "$inter"
        --log-key "$logkey" --crl-refresh-ms 500 --crl-max-age-ms 6000)

# start_echo NAME PORT ARGS...: a stoq-echo-server expecting clients named
# cli.stoq.hypermesh.online.
start_echo() {
  local name=$1 port=$2; shift 2
  "$bindir/stoq-echo-server" --listen "127.0.0.1:$port" --cert "$tmp/srv.pem" --key "$tmp/k/srv.key" \
    --peer-name cli.stoq.hypermesh.online "$@" > "$tmp/$name.out" 2> "$tmp/$name.log" &
  echo_pids+=($!)
  for _ in $(seq 1 50); do grep -q listening "$tmp/$name.out" 2>/dev/null && return 0; sleep 0.1; done
  cat "$tmp/$name.log"; fail "echo server $name did not start"
}
# client PORT CERTBASE ARGS...: prints the client's line, returns its status.
client() {
  local port=$1 who=$2; shift 2
  local key="$tmp/k/$who.key"
  "$bindir/stoq-echo-client" --connect "127.0.0.1:$port" --cert "$tmp/$who.pem" --key "$key" \
    --peer-name srv.stoq.hypermesh.online --message "ping $who" --quiet "$@"
}
expect_echo() { # PORT CERTBASE ARGS...
  out=$(client "$@") || fail "$2 on port $1: $out"
  [ "$out" = "echo: ping $2" ] || fail "$2 on port $1: unexpected '$out'"
}
expect_refused() { # LOGFILE REASON PORT CERTBASE ARGS...
  local log=$1 reason=$2; shift 2
  set +e; out=$(client "$@"); rc=$?; set -e
  [ "$rc" = 1 ] || fail "$2 on port $1 not refused (rc $rc): $out"
  for _ in $(seq 1 20); do grep -q "$reason" "$log" && return 0; sleep 0.1; done
  fail "$2 on port $1: no $reason in $log: $(tail -n 3 "$log")"
}

p_on=$((base + 10)) p_loc=$((base + 11)) p_sct=$((base + 12))
start_echo online "$p_on" "${online[@]}"
start_echo local "$p_loc" "${local_[@]}"
start_echo sct "$p_sct" "${local_[@]/$logkey/$tmp/otherlog.pub}"

# Good pairs: the client verifies the server the same way. "short" lives
# 80 s from a notBefore the CA backdates by a minute: good now, expired later.
issue cli.stoq.hypermesh.online client short 80s
expire_at=$(date -d "$(openssl x509 -in "$tmp/short.leaf" -noout -enddate | cut -d= -f2)" +%s)
expect_echo "$p_loc" short "${local_[@]}"
expect_echo "$p_on" short "${online[@]}"
expect_echo "$p_on" cli "${online[@]}"
expect_echo "$p_loc" cli "${local_[@]}"
expect_echo "$p_on" cli2 "${local_[@]}"
expect_echo "$p_loc" cli2 "${online[@]}"
ok "good pairs echo (online and local, both directions)"

# The OpenSSL hook, same gateway and certificates (in-memory handshake).
probe() { # MODE CLIENTBASE SERVER_NAME
  "$bindir/stoq_openssl_probe" "$1" "$gw" "$root" "$inter" "$logkey" "$tmp/srv.pem" "$tmp/k/srv.key" \
    "$tmp/$2.pem" "$tmp/k/$2.key" "$3" cli.stoq.hypermesh.online
}
for m in online local; do
  out=$(probe $m cli srv.stoq.hypermesh.online) || fail "OpenSSL hook ($m) refused a good pair: $out"
  set +e; out=$(probe $m wrong srv.stoq.hypermesh.online); rc=$?; set -e
  [ "$rc" = 1 ] && echo "$out" | grep -q "server verdict on the client: UNTRUSTED.*NAME_MISMATCH" ||
    fail "OpenSSL hook ($m) on a wrong client name (rc $rc): $out"
  set +e; out=$(probe $m cli api.stoq.hypermesh.online); rc=$?; set -e
  [ "$rc" = 1 ] && echo "$out" | grep -q "client verdict on the server: UNTRUSTED.*NAME_MISMATCH" ||
    fail "OpenSSL hook ($m) on a wrong server name (rc $rc): $out"
done
ok "OpenSSL hook: good pair trusted both ways, wrong names refused (online and local)"

# The client refuses a server that is not the name it wanted.
set +e; out=$(client "$p_on" cli "${online[@]}" --peer-name api.stoq.hypermesh.online); rc=$?; set -e
[ "$rc" = 1 ] && echo "$out" | grep -q NAME_MISMATCH || fail "client accepted the wrong server name: $out"
expect_refused "$tmp/online.log" NAME_MISMATCH "$p_on" wrong "${online[@]}"
expect_refused "$tmp/local.log" NAME_MISMATCH "$p_loc" wrong "${local_[@]}"
ok "wrong name refused (NAME_MISMATCH, both sides, both modes)"

expect_refused "$tmp/online.log" PATH_UNTRUSTED "$p_on" foreign "${online[@]}"
expect_refused "$tmp/local.log" PATH_UNTRUSTED "$p_loc" foreign "${local_[@]}"
ok "foreign CA refused (PATH_UNTRUSTED)"

expect_refused "$tmp/sct.log" SCT_MISSING "$p_sct" cli "${local_[@]}"
ok "SCTs from no configured log refused (SCT_MISSING)"

while [ "$(date +%s)" -le "$expire_at" ]; do sleep 0.5; done
expect_refused "$tmp/online.log" EXPIRED "$p_on" short "${online[@]}"
expect_refused "$tmp/local.log" EXPIRED "$p_loc" short "${local_[@]}"
ok "expired certificate refused (EXPIRED)"

# Revocation: cli2 was accepted above by both servers.
"$ctl" "${cfg[@]}" revoke "${tok[@]}" --serial "$(cat "$tmp/cli2.serial")" --reason key-compromise > /dev/null || fail "revoke"
t0=$(date +%s%N)
sleep 1.1  # the online decision cache keeps a decision for 1 s
expect_refused "$tmp/online.log" REVOKED "$p_on" cli2 "${online[@]}"
for i in $(seq 1 40); do
  set +e; out=$(client "$p_loc" cli2 "${local_[@]}"); rc=$?; set -e
  [ "$rc" = 1 ] && break
  sleep 0.25
done
grep -q REVOKED "$tmp/local.log" || fail "local mode never refused the revoked client"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "revoked client refused by both modes within ${ms} ms of the revocation (online cache 1 s, local CRL refresh 500 ms)"
expect_echo "$p_on" cli "${online[@]}"

# Local mode with the CRL from a plain HTTP URL (a static file, as a CDN
# would serve it) instead of GetCrl.
mkdir -p "$tmp/www"
"$ctl" "${cfg[@]}" crl --der --out "$tmp/www/crl.der" 2>/dev/null || fail "crl"
p_www=$((base + 13)) p_url=$((base + 14))
(cd "$tmp/www" && exec /usr/bin/python3 -m http.server "$p_www" --bind 127.0.0.1 > "$tmp/www.log" 2>&1) &
echo_pids+=($!)
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$p_www/crl.der" && break; sleep 0.1; done
by_url=(--mode local --root "$root" --intermediate "$inter" --log-key "$logkey"
        --crl-url "http://127.0.0.1:$p_www/crl.der" --crl-refresh-ms 500 --crl-max-age-ms 6000)
start_echo url "$p_url" "${by_url[@]}"
expect_echo "$p_url" cli "${by_url[@]}"
expect_refused "$tmp/url.log" REVOKED "$p_url" cli2 "${by_url[@]}"
ok "local mode with the CRL from an HTTP URL: good client echoes, revoked one refused"

# The whole server stops: the local node keeps deciding on its CRL until it
# is 6 s old, then fails closed. (The client verifies locally too.)
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
t0=$(date +%s)
# (A client started now would have no CRL: it verifies with the CA file.)
expect_echo "$p_loc" cli "${local_[@]}" --mode cafile --cafile "$root"
ok "gateway stopped: local mode still decides"
for _ in $(seq 1 60); do
  set +e; out=$(client "$p_loc" cli "${local_[@]}" --mode cafile --cafile "$root"); rc=$?; set -e
  [ "$rc" = 1 ] && break
  sleep 0.5
done
[ "$rc" = 1 ] || fail "local mode kept accepting past the CRL bound: $out"
grep -q REVOCATION_UNKNOWN "$tmp/local.log" || fail "no REVOCATION_UNKNOWN in the local server's log"
ok "CRL older than 6 s: local mode fails closed after $(( $(date +%s) - t0 )) s"
echo "PASS"
