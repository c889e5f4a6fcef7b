#!/usr/bin/env bash
# trustchainctl backup / restore on a whole dev server: a backup taken while
# certificates are being issued, refused restores (server running, bundle
# altered by one byte, wrong audit key, CT tree behind a published tree head),
# then a restore into a fresh data directory (with a copy of the SoftHSM token,
# which the HSM backs up by its own means): the restored server starts,
# `journal verify` is OK, and its CT log is consistent with the tree head seen
# before the backup (export --since-sth + verify-export check the proof).
# Usage: backup_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" backup
load_pids=()
cleanup_extra() { for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }

mkdir -p "$tmp/data" "$tmp/keys"
dev_config
start_server
c=(--config "$tmp/trustchain.yaml")
ct_url="http://127.0.0.1:$((base + 2))"

issue() { "$ctl" "${c[@]}" issue --name "$1.hypermesh.online" --new-key "$tmp/keys/$1.key" --out "$tmp/keys/$1.pem" \
  >/dev/null 2>&1; }
for i in 1 2 3; do issue "pre$i" || fail "issue pre$i"; done
curl -sf "$ct_url/ct/v1/get-sth" > "$tmp/sth-before.json" || fail "get-sth"

# Issuance load in two loops while the backup runs.
for l in a b; do
  (for i in $(seq 1 40); do issue "load$l$i" || true; done) &
  load_pids+=($!)
done
sleep 1
"$ctl" "${c[@]}" backup --out "$tmp/backup.tcb" > "$tmp/backup.out" 2>&1 || { cat "$tmp/backup.out"; fail "backup"; }
cat "$tmp/backup.out"
if "$ctl" "${c[@]}" restore "$tmp/backup.tcb" > "$tmp/r0.out" 2>&1; then fail "restore into a running server"; fi
grep -q "stop it first" "$tmp/r0.out" || fail "running server: $(cat "$tmp/r0.out")"
for p in "${load_pids[@]}"; do wait "$p"; done
load_pids=()
for i in 1 2 3; do issue "post$i" || fail "issue post$i"; done
sleep 0.5
curl -sf "$ct_url/ct/v1/get-sth" > "$tmp/sth-after.json" || fail "get-sth"
# The zone serial the server served last (after the backup): the restored
# server must never serve it again (secondaries hold it).
soa_serial() { dig +short +norec @127.0.0.1 -p "$base" trust.hypermesh.online SOA | awk '{ print $3 }'; }
serial_last=$(soa_serial)
[ -n "$serial_last" ] || fail "no SOA serial before the restore"
kill -TERM "$server_pid"
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
server_pid=
ok "backup during issuance: $(tail -n 1 "$tmp/backup.out")"

# The SoftHSM token goes with the HSM's own backup (a copy of its token
# directory, server stopped); the PIN files too, they are secrets the bundle
# never holds.
mkdir -p "$tmp/data2"
cp -a "$tmp/data/hsm" "$tmp/data2/hsm"
sed -i "s#$tmp/data/#$tmp/data2/#" "$tmp/data2/hsm/softhsm2.conf" # the token's new place
sed "s#$tmp/data\$#$tmp/data2#" "$tmp/trustchain.yaml" > "$tmp/trustchain2.yaml"
grep -q "data_dir: $tmp/data2" "$tmp/trustchain2.yaml" || fail "second configuration"
c2=(--config "$tmp/trustchain2.yaml")
audit=(--audit-key "$tmp/data/audit/audit_public_key.pem")

refused() { # refused WHAT PATTERN restore-args...
  local what=$1 pattern=$2
  shift 2
  if "$ctl" "${c2[@]}" restore "$@" > "$tmp/r.out" 2>&1; then fail "restore accepted $what"; fi
  grep -q "$pattern" "$tmp/r.out" || fail "$what: $(cat "$tmp/r.out")"
  [ ! -e "$tmp/data2/ct/log" ] && [ ! -e "$tmp/data2/journal" ] || fail "$what: something was restored"
}
size=$(stat -c %s "$tmp/backup.tcb")
for off in 300 $((size / 2)) $((size - 10)); do
  cp "$tmp/backup.tcb" "$tmp/bad.tcb"
  printf '\x5a' | dd of="$tmp/bad.tcb" bs=1 seek="$off" conv=notrunc 2>/dev/null
  cmp -s "$tmp/bad.tcb" "$tmp/backup.tcb" && printf '\x5b' | dd of="$tmp/bad.tcb" bs=1 seek="$off" conv=notrunc 2>/dev/null
  refused "a bundle altered at byte $off" "REFUSED" "$tmp/bad.tcb" "${audit[@]}"
done
head -c $((size - 100)) "$tmp/backup.tcb" > "$tmp/short.tcb"
refused "a truncated bundle" "REFUSED" "$tmp/short.tcb" "${audit[@]}"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout > "$tmp/other.pem"
refused "another audit key" "signature does not verify" "$tmp/backup.tcb" --audit-key "$tmp/other.pem"
refused "no audit key" "give --audit-key" "$tmp/backup.tcb"
refused "a tree behind a published head" "would fork the log" "$tmp/backup.tcb" "${audit[@]}" \
  --published-sth "$tmp/sth-after.json"
ok "refused: running server, altered and truncated bundles, other or no audit key, rollback behind a published tree head"

"$ctl" "${c2[@]}" restore "$tmp/backup.tcb" "${audit[@]}" --published-sth "$tmp/sth-before.json" > "$tmp/r.out" 2>&1 ||
  { cat "$tmp/r.out"; fail "restore"; }
cat "$tmp/r.out"
grep -q "consistent with $tmp/sth-before.json" "$tmp/r.out" || fail "no consistency check against the earlier head"

tmp_data1=$tmp/data
sed -i "s#^  data_dir: .*#  data_dir: $tmp/data2#" "$tmp/trustchain.yaml"
start_server
"$ctl" "${c2[@]}" journal verify > "$tmp/jv.out" 2>&1 || { cat "$tmp/jv.out"; fail "journal verify"; }
ok "restored server ready; journal verify: $(tail -n 1 "$tmp/jv.out")"
# The bundle carried the serial reservation and the restored zone continues
# well above it (RFC 1982: later by less than 2^31, at least 2^30 past the
# reservation).
grep -a -q '"dns/zone.serial"' "$tmp/backup.tcb" || fail "the bundle holds no dns/zone.serial"
floor=$(sed -n 's/^restore: zone serials continue above \([0-9]*\)$/\1/p' "$tmp/r.out")
[ -n "$floor" ] || fail "restore printed no serial floor"
serial_now=$(soa_serial)
later() { /usr/bin/python3 -c 'import sys; a, b, m = map(int, sys.argv[1:]); d = (a - b) % 2**32; sys.exit(0 if m <= d < 2**31 else 1)' "$@"; }
later "$serial_now" "$serial_last" $((1 << 30)) ||
  fail "restored serial $serial_now is not 2^30 past $serial_last, the last served before the restore"
later "$serial_now" "$floor" 1 || fail "restored serial $serial_now not above the reservation $floor"
ok "zone serial: $serial_last served last before, restored floor $floor, now $serial_now"
issue after-restore || fail "issue after the restore"
sleep 0.5
"$ctl" "${c2[@]}" export ct --url "$ct_url" --since-sth "$tmp/sth-before.json" --out "$tmp/after.bundle" >/dev/null 2>&1 ||
  fail "export ct --since-sth"
"$ctl" verify-export "$tmp/after.bundle" --log-key "$tmp_data1/ct/log_public_key.pem" > "$tmp/ve.out" 2>&1 ||
  { cat "$tmp/ve.out"; fail "the restored log is not consistent with the tree head seen before the backup"; }
before=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"])' "$tmp/sth-before.json")
now=$(curl -sf "$ct_url/ct/v1/get-sth" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])')
[ "$now" -gt "$before" ] || fail "restored tree $now not beyond $before"
ok "restored CT log (tree $now) consistent with the head before the backup (tree $before): $(tail -n 1 "$tmp/ve.out")"
