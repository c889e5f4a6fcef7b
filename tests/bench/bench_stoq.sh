#!/usr/bin/env bash
# QUIC handshakes per second of stoq-echo (ngtcp2 + GnuTLS, mutual TLS, one
# connection after the other on loopback), both ends verifying the peer
#   cafile: GnuTLS's own verification against ca/root.pem (the baseline),
#   online: TrustChain's hook, Validate with a warm decision cache,
#   local:  TrustChain's hook, the decision in-process (CRL from GetCrl),
# in the same run, and the hook's cost relative to the baseline. A handshake
# counts once the server confirmed it (it has verified the client too).
# Two figures: wall-clock handshakes/s, and handshakes per CPU second of
# client + server together (client getrusage, server /proc/PID/stat), which
# other load on a shared machine does not skew.
# Usage: bench_stoq.sh BINDIR [HANDSHAKES] [ROUNDS]   (not a test)
set -euo pipefail
if [ -z "${TC_STOQ_NETNS:-}" ] && unshare -n true 2>/dev/null; then
  exec env TC_STOQ_NETNS=1 unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
bindir=$(cd "$1" && pwd)
n=${2:-300}
rounds=${3:-3}
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/../integration/server_lib.sh" stoq-bench
pids=()
cleanup_extra() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
mkdir -p "$tmp/data" "$tmp/k"
"$ctl" token new --name b --patterns '*.stoq.hypermesh.online' --out "$tmp/k/t" > "$tmp/data/tokens"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens" 2>/dev/null || true; fi
dev_config "  tokens_file: $tmp/data/tokens"
start_server
gw=127.0.0.1:$((base + 3))
root="$tmp/data/ca/root.pem"
for who in srv cli; do
  "$ctl" --config "$tmp/trustchain.yaml" issue --token-file "$tmp/k/t" --name "$who.stoq.hypermesh.online" \
    --profile "$([ $who = srv ] && echo server || echo client)" --new-key "$tmp/k/$who.key" \
    --out "$tmp/$who.leaf" --chain-out "$tmp/$who.chain" 2>/dev/null
  cat "$tmp/$who.leaf" "$tmp/$who.chain" > "$tmp/$who.pem"
done
declare -A args=(
  [cafile]="--mode cafile --cafile $root"
  [online]="--mode online --gateway $gw --gateway-ca $root --cache-ttl-ms 600000"
  [local]="--mode local --gateway $gw --gateway-ca $root --root $root --intermediate $tmp/data/ca/intermediate.pem --log-key $tmp/data/ct/log_public_key.pem"
)
port=$((base + 20))
declare -A ports
for m in cafile online local; do
  # shellcheck disable=SC2086
  "$bindir/stoq-echo-server" --listen 127.0.0.1:$port --cert "$tmp/srv.pem" --key "$tmp/k/srv.key" \
    --peer-name cli.stoq.hypermesh.online ${args[$m]} > "$tmp/$m.out" 2> "$tmp/$m.log" &
  pids+=($!)
  ports[$m]=$port
  port=$((port + 1))
done
sleep 1
declare -A pid_of best cpu_sum n_sum
i=0
for m in cafile online local; do pid_of[$m]=${pids[$i]}; i=$((i + 1)); done
hz=$(getconf CLK_TCK)
srv_cpu() { awk -v hz="$hz" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
for r in $(seq 1 "$rounds"); do
  for m in cafile online local; do
    before=$(srv_cpu "${pid_of[$m]}")
    # shellcheck disable=SC2086
    line=$("$bindir/stoq-echo-client" --connect "127.0.0.1:${ports[$m]}" --cert "$tmp/cli.pem" \
      --key "$tmp/k/cli.key" --peer-name srv.stoq.hypermesh.online --count "$n" ${args[$m]})
    after=$(srv_cpu "${pid_of[$m]}")
    rate=$(echo "$line" | sed -n 's/.*= \([0-9.]*\)\/s.*/\1/p')
    ccpu=$(echo "$line" | sed -n 's/.*client CPU \([0-9.]*\) s.*/\1/p')
    [ -n "$rate" ] && [ -n "$ccpu" ] || { echo "FAIL: $line"; exit 1; }
    cpu=$(awk -v a="$after" -v b="$before" -v c="$ccpu" 'BEGIN { printf "%.3f", a - b + c }')
    echo "round $r: $line; server CPU $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.3f", a - b }') s"
    cpu_sum[$m]=$(awk -v a="${cpu_sum[$m]:-0}" -v b="$cpu" 'BEGIN { print a + b }')
    n_sum[$m]=$(( ${n_sum[$m]:-0} + n ))
    if [ -z "${best[$m]:-}" ] || awk -v a="$rate" -v b="${best[$m]}" 'BEGIN { exit !(a > b) }'; then best[$m]=$rate; fi
  done
done
for m in cafile online local; do
  awk -v m="$m" -v n="${n_sum[$m]}" -v c="${cpu_sum[$m]}" -v w="${best[$m]}" \
    'BEGIN { printf "%-7s best wall %.1f handshakes/s; %.1f handshakes per CPU second (%.2f ms CPU each, both ends)\n", m, w, n / c, c / n * 1000 }'
done
for m in online local; do
  awk -v m="$m" -v a="${cpu_sum[$m]}" -v b="${cpu_sum[cafile]}" -v na="${n_sum[$m]}" -v nb="${n_sum[cafile]}" \
    'BEGIN { r = (a / na) / (b / nb); printf "%s vs cafile: CPU per handshake ratio %.3f (overhead %+.1f %%)\n", m, r, (r - 1) * 100 }'
done
