#!/usr/bin/env bash
# trustchainctl agent (issue 15, part 2) with a stoq-echo server holding the
# certificate it keeps: --once issues key (0600) and chain (0644); the agent
# loop renews at 2/3 of the certificate's life; with the whole TrustChain
# server stopped at renewal time it logs the failure and backs off, and once
# the server is back it renews, runs the reload command (SIGHUP to the echo
# server), and clients connect to the new certificate. --once against a
# stopped server exits 1.
# Usage: stoq_agent_test.sh BINDIR
set -euo pipefail
if [ -z "${TC_STOQ_NETNS:-}" ] && unshare -n true 2>/dev/null; then
  exec env TC_STOQ_NETNS=1 unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" stoq-agent
pids=()
cleanup_extra() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }

mkdir -p "$tmp/data" "$tmp/k" "$tmp/node"
"$ctl" token new --name agent --patterns '*.stoq.hypermesh.online' --revoke --out "$tmp/k/agent.token" \
  > "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens" 2>/dev/null || true; fi
dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true"
start_server
root="$tmp/data/ca/root.pem"
cp "$root" "$tmp/root.pem" # the agent and clients keep it when the data dir's server is down
agent=("$ctl" --config "$tmp/trustchain.yaml" agent --token-file "$tmp/k/agent.token" --cafile "$tmp/root.pem"
       --name node.stoq.hypermesh.online --profile both --cert "$tmp/node/node.pem" --key "$tmp/node/node.key")

# Client certificate for the echo client (a plain issue).
"$ctl" --config "$tmp/trustchain.yaml" issue --token-file "$tmp/k/agent.token" --name cli.stoq.hypermesh.online \
  --profile client --new-key "$tmp/k/cli.key" --out "$tmp/cli.leaf" --chain-out "$tmp/cli.chain" 2>/dev/null ||
  fail "issue client"
cat "$tmp/cli.leaf" "$tmp/cli.chain" > "$tmp/cli.pem"

# 160 s of validity from a notBefore the CA backdates by a minute: renewal
# (2/3 of the life, minus up to 1/15 of jitter) is due 36-46 s from now.
"${agent[@]}" --once --validity 160 2> "$tmp/agent-once.log" || { cat "$tmp/agent-once.log"; fail "agent --once"; }
[ "$(stat -c %a "$tmp/node/node.key")" = 600 ] || fail "key mode $(stat -c %a "$tmp/node/node.key")"
[ "$(stat -c %a "$tmp/node/node.pem")" = 644 ] || fail "chain mode $(stat -c %a "$tmp/node/node.pem")"
[ "$(grep -c 'BEGIN CERTIFICATE' "$tmp/node/node.pem")" = 2 ] || fail "node.pem is not leaf + chain"
[ "$(openssl x509 -in "$tmp/node/node.pem" -noout -pubkey)" = "$(openssl pkey -in "$tmp/node/node.key" -pubout)" ] ||
  fail "key and certificate do not match"
serial1=$(openssl x509 -in "$tmp/node/node.pem" -noout -serial)
"${agent[@]}" --once --validity 160 2>> "$tmp/agent-once.log" || fail "agent --once (nothing due)"
[ "$(openssl x509 -in "$tmp/node/node.pem" -noout -serial)" = "$serial1" ] || fail "--once renewed a fresh certificate"
ok "agent --once: key 0600, chain 0644, matching; nothing done when not due"

port=$((base + 10))
"$bindir/stoq-echo-server" --listen "127.0.0.1:$port" --cert "$tmp/node/node.pem" --key "$tmp/node/node.key" \
  --peer-name cli.stoq.hypermesh.online --mode cafile --cafile "$tmp/root.pem" > "$tmp/echo.out" 2> "$tmp/echo.log" &
echo_pid=$!
pids+=($echo_pid)
for _ in $(seq 1 50); do grep -q listening "$tmp/echo.out" 2>/dev/null && break; sleep 0.1; done
ping() {
  "$bindir/stoq-echo-client" --connect "127.0.0.1:$port" --cert "$tmp/cli.pem" --key "$tmp/k/cli.key" \
    --peer-name node.stoq.hypermesh.online --mode cafile --cafile "$tmp/root.pem" --message ping --quiet
}
[ "$(ping)" = "echo: ping" ] || fail "echo with the agent's first certificate"

"${agent[@]}" --validity 160 --reload "kill -HUP $echo_pid" --metrics-file "$tmp/agent.prom" \
  --check-interval 2 2> "$tmp/agent.log" &
pids+=($!)
agent_pid=$!
# The whole TrustChain server goes away before the renewal is due.
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
for _ in $(seq 1 120); do grep -q "retrying in" "$tmp/agent.log" && break; sleep 1; done
grep -q "renewal of node.stoq.hypermesh.online failed" "$tmp/agent.log" || fail "no failure logged: $(cat "$tmp/agent.log")"
grep -q "retrying in 5 s" "$tmp/agent.log" || fail "no back-off: $(cat "$tmp/agent.log")"
grep -q "^trustchain_agent_renewal_failures [1-9]" "$tmp/agent.prom" || fail "metrics: $(cat "$tmp/agent.prom")"
# --once with nothing to keep yet (another path) and no server: exit 1.
set +e
"${agent[@]}" --once --validity 160 --cert "$tmp/node/other.pem" --key "$tmp/node/other.key" 2> "$tmp/agent-fail.log"
rc=$?
set -e
[ "$rc" = 1 ] || fail "agent --once with the server down exited $rc"
ok "renewal while the server is down: logged, backed off, counted in the metrics file; --once exits 1"
[ "$(ping)" = "echo: ping" ] || fail "echo server stopped serving"

# A long-lived connection, pinging every 500 ms across the renewal and reload.
"$bindir/stoq-echo-client" --connect "127.0.0.1:$port" --cert "$tmp/cli.pem" --key "$tmp/k/cli.key" \
  --peer-name node.stoq.hypermesh.online --mode cafile --cafile "$tmp/root.pem" --message held --quiet \
  --repeat 100 --interval-ms 500 > "$tmp/held.out" 2>&1 &
held_pid=$!
pids+=($held_pid)
start_server
for _ in $(seq 1 120); do
  [ "$(grep -c "agent: renewed" "$tmp/agent.log")" -ge 1 ] && break
  kill -0 "$agent_pid" 2>/dev/null || fail "agent exited: $(cat "$tmp/agent.log")"
  sleep 1
done
grep -q "agent: renewed" "$tmp/agent.log" || fail "no renewal after the restart: $(cat "$tmp/agent.log")"
serial2=$(openssl x509 -in "$tmp/node/node.pem" -noout -serial)
[ "$serial2" != "$serial1" ] || fail "same certificate after the renewal"
na=$(date -d "$(openssl x509 -in "$tmp/node/node.pem" -noout -enddate | cut -d= -f2)" +%s)
for _ in $(seq 1 20); do grep -q "^trustchain_agent_renewal_failures 0" "$tmp/agent.prom" && break; sleep 0.2; done
grep -q "^trustchain_agent_renewal_failures 0" "$tmp/agent.prom" &&
  grep -q "^trustchain_agent_certificate_not_after_seconds $na\$" "$tmp/agent.prom" &&
  ! grep -q "^trustchain_agent_last_renewal_timestamp_seconds 0\$" "$tmp/agent.prom" ||
  fail "metrics after the renewal: $(cat "$tmp/agent.prom")"
for _ in $(seq 1 20); do grep -q "certificate reloaded" "$tmp/echo.log" && break; sleep 0.2; done
grep -q "certificate reloaded" "$tmp/echo.log" || fail "reload command not run"
[ "$(ping)" = "echo: ping" ] || fail "echo with the renewed certificate"
ok "renewed after the server came back ($serial1 -> $serial2), reload ran, the example serves the new certificate"
kill -0 "$held_pid" 2>/dev/null || fail "the long-lived connection ended before the reload: $(cat "$tmp/held.out")"
wait "$held_pid" || fail "the long-lived connection failed: $(cat "$tmp/held.out")"
grep -q "echo: held (100 times on one connection)" "$tmp/held.out" || fail "long-lived connection: $(cat "$tmp/held.out")"
ok "a connection open across the reload kept echoing (100 pings on one connection)"

# The CA revokes the kept certificate long before its renewal is due: the
# agent learns it from Validate within its check interval and renews now.
# With 160 s certificates a scheduled renewal comes every ~40 s and the held
# connection above lasted 50 s, so the certificate kept now may no longer be
# serial2: revoke right after a scheduled renewal, when the next one is ~40 s
# away, so what the agent does next can only be the reaction to the revocation.
renewals=$(grep -c "agent: renewed" "$tmp/agent.log")
for _ in $(seq 1 120); do
  [ "$(grep -c "agent: renewed" "$tmp/agent.log")" -gt "$renewals" ] && break
  sleep 0.5
done
sleep 1
serial2=$(openssl x509 -in "$tmp/node/node.pem" -noout -serial)
hex2=$(echo "$serial2" | cut -d= -f2 | tr 'A-F' 'a-f')
"$ctl" --config "$tmp/trustchain.yaml" revoke --token-file "$tmp/k/agent.token" --serial "$hex2" \
  --reason key-compromise > /dev/null || fail "revoke"
for _ in $(seq 1 60); do
  serial3=$(openssl x509 -in "$tmp/node/node.pem" -noout -serial)
  [ "$serial3" != "$serial2" ] && break
  sleep 0.5
done
[ "$serial3" != "$serial2" ] || fail "not renewed after the revocation: $(tail -n 5 "$tmp/agent.log")"
grep -q "is revoked" "$tmp/agent.log" || fail "no revocation logged: $(tail -n 5 "$tmp/agent.log")"
[ "$(ping)" = "echo: ping" ] || fail "echo after the renewal on revocation"
ok "revoked by the CA: renewed at once ($serial2 -> $serial3)"
echo PASS
