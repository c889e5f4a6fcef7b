#!/usr/bin/env bash
# Chaos soak: a dev trustchain-server under mixed load (Issue, Validate,
# Revoke, CT add-chain / get-sth / get-proof-by-hash, DNS over UDP, TCP and
# QUIC; tests/soak/chaos_load.py) while a random child, the signer included,
# is killed with SIGKILL every 5-20 s. Afterwards chaos_load.py check proves
# from what the clients recorded that nothing acknowledged was lost (CT
# entries with verified inclusion proofs, consistent signed tree heads, the
# audit journal, the CRL), that no child is stuck, and that errors came only
# during restarts with retryable codes; it prints a table.
#
# Usage: tests/soak/chaos.sh [MINUTES]   (default 2)
#   BINDIR (default $BUILD_DIR/bin, else ./build/bin): the built programs.
#   TC_SOAK_SUMMARY=FILE: the figures as JSON; TC_KEEP_TEST_DIR=1 keeps $tmp;
#   TC_SOAK_VICTIMS="gateway": kill only the children named.
# As root it runs itself in a private network namespace (loopback only), so
# parallel runs never collide on ports.
set -euo pipefail
minutes=${1:-2}
src=$(cd "$(dirname "$0")/../.." && pwd)
bindir=${BINDIR:-${BUILD_DIR:-$src/build}/bin}
bindir=$(cd "$bindir" && pwd)
py=/usr/bin/python3
if [ "$(id -u)" = 0 ] && [ -z "${TC_SOAK_NETNS:-}" ]; then
  export TC_SOAK_NETNS=1 BINDIR=$bindir
  exec unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
. "$src/tests/integration/server_lib.sh" soak
python_stubs

events=$tmp/events
: > "$events"
helpers=()
cleanup_extra() {
  for p in "${helpers[@]}"; do kill "$p" 2>/dev/null || true; done
}

# A bearer token that may revoke (Issue is open in dev mode).
mkdir -p "$tmp/data"
token=$(openssl rand -hex 24)
echo "$(printf %s "$token" | sha256sum | cut -d' ' -f1) soak-admin * revoke" > "$tmp/data/tokens"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
dev_config "  tokens_file: $tmp/data/tokens"
start_server
for c in signer transparency resolver gateway; do wait_ready "$c"; done
children=(signer transparency resolver gateway)
# TC_SOAK_VICTIMS="gateway ..." kills only those (to reproduce one child's
# restarts); every child is still waited for and checked.
read -r -a victims <<< "${TC_SOAK_VICTIMS:-${children[*]}}"

now() { date +%s.%N; }

# Every child that becomes ready (a new pid) is written to $events, so the
# check knows how long each restart took.
watch_ready() {
  declare -A seen=()
  while kill -0 "$server_pid" 2>/dev/null; do
    while read -r name pid state _; do
      [ "$state" = ready ] || continue
      if [ "${seen[$name]:-}" != "$pid" ]; then
        seen[$name]=$pid
        echo "ready $(now) $name $pid" >> "$events"
      fi
    done < <(tail -n +2 "$tmp/data/server.status" 2>/dev/null || true)
    sleep 0.1
  done
}
watch_ready &
helpers+=($!)

load_args=(--gen "$tmp/gen" --grpc "127.0.0.1:$((base + 3))" --ct "127.0.0.1:$((base + 2))"
           --dns-port "$base" --doq-port "$((base + 1))" --ctl "$bindir/trustchainctl"
           --config "$tmp/trustchain.yaml" --data "$tmp/data" --token "$token")
seconds=$((minutes * 60))
$py "$src/tests/soak/chaos_load.py" load "${load_args[@]}" --seconds "$seconds" --out "$tmp/records.jsonl" \
  > "$tmp/load.out" 2>&1 &
load_pid=$!
helpers+=($load_pid)

# The last kill leaves at least 20 s of load for the restart to be seen.
end=$(( $(date +%s) + seconds - 20 ))
kills=0
while :; do
  sleep "$(( 5 + RANDOM % 16 ))"
  [ "$(date +%s)" -lt "$end" ] || break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited"
  name=${victims[RANDOM % ${#victims[@]}]}
  pid=$(pid_of "$name")
  if [ -z "$pid" ] || [ "$pid" = 0 ]; then
    echo "chaos: $name has no process (restarting), not killed"
    continue
  fi
  echo "kill $(now) $name $pid" >> "$events"
  kill -KILL "$pid" 2>/dev/null || true
  kills=$((kills + 1))
  echo "chaos: $(date +%T) killed $name (pid $pid), kill $kills"
done
wait "$load_pid" || fail "load generator failed: $(tail -n 20 "$tmp/load.out")"
cat "$tmp/load.out"
for c in "${children[@]}"; do wait_ready "$c"; done
grep -c '^' "$tmp/records.jsonl" > /dev/null || fail "no records"

rc=0
$py "$src/tests/soak/chaos_load.py" check "${load_args[@]}" --records "$tmp/records.jsonl" --events "$events" \
  ${TC_SOAK_SUMMARY:+--summary "$TC_SOAK_SUMMARY"} || rc=$?
# The server log's restarts, for the record.
echo "server log: $(grep -c 'restarting in' "$tmp/server.log" || true) restart line(s)," \
  "$(grep -ci 'error' "$tmp/server.log" || true) line(s) with 'error'"
kill -0 "$server_pid" 2>/dev/null || fail "server exited"
[ "$rc" = 0 ] || fail "chaos soak checks failed (records in $tmp; TC_KEEP_TEST_DIR=1 keeps them)"
ok "chaos soak: $minutes min, $kills kills, nothing lost"
