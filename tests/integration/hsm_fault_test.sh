#!/usr/bin/env bash
# HSM faults (issue 16, part 4): the dev server with hsm.module set to our
# PKCS#11 shim (tests/support/pkcs11_fault.c, wrapping SoftHSM), faults
# switched on and off through its control file while Issue calls run:
#   device errors (CKR_DEVICE_ERROR), sessions dropped by the HSM
#   (CKR_SESSION_HANDLE_INVALID, the session really closed), the token
#   pulled out (every session closed, logged out; CKR_TOKEN_NOT_PRESENT)
#   and latency.
# After each fault phase the faults stop and every Issue must succeed again
# (the signer re-opens sessions and logs in again by itself). At the end
# every certificate any call got is audited (issue_load.py audit): it
# verifies, embeds SCTs, is in the audit journal and both its CT entries
# are in the signed tree; every refused call got UNAVAILABLE with a reason;
# `trustchainctl journal verify` is OK. Prints a table of the phases.
# Usage: hsm_fault_test.sh BINDIR SHIM_SO SOURCE_DIR [CALLS_PER_PHASE]
set -euo pipefail
bindir=$(cd "$1" && pwd)
shim=$2
src=$(cd "$3" && pwd)
calls=${4:-${TC_HSM_FAULT_CALLS:-24}}
py=/usr/bin/python3
. "$(dirname "$0")/server_lib.sh" hsm-fault
python_stubs
$py -c 'import cryptography' 2>/dev/null || fail "needs python3-cryptography"

# The shim where the signer's user can read it (the build tree may be closed to it).
cp "$shim" "$tmp/pkcs11_fault.so"
chmod 755 "$tmp/pkcs11_fault.so"
dev_config "hsm:" "  module: $tmp/pkcs11_fault.so"
# In the signer's own directory: its sandbox lets it read there.
ctl_file=$tmp/data/hsm/fault.ctl
count_file=$tmp/data/hsm/fault.count
export TC_FAULT_CONTROL=$ctl_file TC_FAULT_COUNT_FILE=$count_file
start_server
wait_ready gateway
grep -q "pkcs11_fault: cannot load" "$tmp/server.log" && fail "the shim could not load SoftHSM"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
  -subj /CN=fault.hypermesh.online -out "$tmp/csr.pem" 2>/dev/null || fail "cannot make a CSR"
target=127.0.0.1:$((base + 3))
load() { # load OUT COUNT THREADS
  $py "$src/tests/integration/issue_load.py" issue "$tmp/gen" "$target" "$tmp/data" "$tmp/csr.pem" "$1" "$2" "$3" \
    fault.hypermesh.online
}
faults() { # faults KIND [RATE [LATENCY_MS]]: rewrite the control file (the shim re-reads it on change)
  printf 'KIND=%s\nRATE=%s\nLATENCY_MS=%s\n' "$1" "${2:-1}" "${3:-0}" > "$ctl_file.new"
  mv "$ctl_file.new" "$ctl_file"
}
faults_off() { rm -f "$ctl_file"; }
injected() { [ -f "$count_file" ] && grep -c "^$1 " "$count_file" || echo 0; }

table=()
row() { table+=("$(printf '%-28s %s' "$1" "$2")"); }

# recover PHASE: with faults off the signer heals by itself (sessions
# re-opened, login restored): an Issue succeeds within 15 s, then every
# call of the next batch does.
recover() {
  local out start=$SECONDS
  until out=$(load "$tmp/calls.jsonl" 1 1) && case "$out" in ok=1*) true ;; *) false ;; esac; do
    [ $((SECONDS - start)) -lt 15 ] || fail "no recovery within 15 s after $1: $out"
    sleep 0.5
  done
  local healed=$((SECONDS - start))
  out=$(load "$tmp/calls.jsonl" 8 4) || fail "load after $1"
  row "$1, then faults off" "$out (first success after ${healed}s)"
  case "$out" in ok=8\ refused=0*) ;; *) fail "no recovery after $1: $out" ;; esac
}

out=$(load "$tmp/calls.jsonl" 8 4) || fail "baseline load"
row "no faults" "$out"
case "$out" in ok=8\ refused=0*) ;; *) fail "baseline: $out" ;; esac

faults device 0.3
out=$(load "$tmp/calls.jsonl" "$calls" 4) || fail "load under device errors"
row "CKR_DEVICE_ERROR 30%" "$out (injected $(injected device))"
[ "$(injected device)" -gt 0 ] || fail "no device error was injected"
faults_off
recover "device errors"

faults session 0.3
out=$(load "$tmp/calls.jsonl" "$calls" 4) || fail "load under dropped sessions"
row "SESSION_HANDLE_INVALID 30%" "$out (injected $(injected session))"
[ "$(injected session)" -gt 0 ] || fail "no session was dropped"
faults_off
recover "dropped sessions"

faults token
out=$(load "$tmp/calls.jsonl" 8 4) || fail "load with the token out"
row "token removed" "$out (injected $(injected token))"
case "$out" in ok=0\ *) ;; *) fail "issued with the token out: $out" ;; esac
faults_off
recover "token removal"

faults off 0 50
out=$(load "$tmp/calls.jsonl" "$calls" 8) || fail "load with latency"
row "50 ms per signature" "$out"
case "$out" in *refused=0*) ;; *) fail "refusals with latency alone: $out" ;; esac
# The signer must see that its signatures now wait on the HSM and sign on
# more threads than it has cores (tests/bench/bench_hsm_latency.sh shows
# what that does to Issue at 64 clients).
grep -q "HSM signatures wait" "$tmp/server.log" ||
  fail "the signer did not notice the HSM latency (no 'HSM signatures wait' in its log)"
faults_off

echo "--- HSM faults (calls: ok, refused, p99 of the successful ones, codes/reasons)"
printf '%s\n' "${table[@]}"
$py "$src/tests/integration/issue_load.py" audit "$tmp/gen" "$target" "$tmp/data" "$tmp/calls.jsonl" ||
  fail "audit of the issued certificates"
"$bindir/trustchainctl" --config "$tmp/trustchain.yaml" journal verify > "$tmp/verify.out" 2>&1 ||
  { cat "$tmp/verify.out"; fail "journal verify"; }
grep -i "hsm\|pkcs\|token\|session" "$tmp/server.log" | grep -iv "pkcs11_fault.so" | sort | uniq -c | sort -rn |
  head -8 || true
ok "HSM faults: clear refusals, sessions re-opened, nothing half-issued, recovered"
