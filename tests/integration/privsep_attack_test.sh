#!/usr/bin/env bash
# Privilege separation from the attacker's side (issue 10): a dev server
# started as root, then, as each unprivileged child's user, and from inside
# each child's own sandbox (its user, Landlock rules and seccomp filter:
# tests/support/sandbox_probe.c), try to read the HSM PINs, the token's
# objects, the audit journal and another child's store, write the CA's
# certificates, ptrace or read the signer's memory, and open a network
# socket from the signer. Every attempt must fail; what each child needs
# must still work (positive controls, so a probe that fails everything
# proves nothing). Then a configuration naming a secret file its child
# cannot read, or others can, is refused by --check-config and at start.
# Usage: privsep_attack_test.sh BINDIR   (needs root: exit 77 = skipped)
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "skipped: needs root (one user per child)"
  exit 77
fi
. "$(dirname "$0")/server_lib.sh" privsep
"$src/ops/create-users.sh" >/dev/null

dev_config
start_server
# The CT store exists once the log has written its first tree head.
for _ in $(seq 1 100); do [ -e "$tmp/data/ct/log/CURRENT" ] && break; sleep 0.1; done
ok "dev server running as root, a user per child"

data=$tmp/data
signer_pid=$(awk '$1 == "signer" { print $2 }' "$data/server.status")
token_object=$(find "$data/hsm/tokens" -type f | head -n 1)
[ -n "$token_object" ] || fail "no token object found"
secrets=("$data/hsm/user.pin" "$data/hsm/so.pin" "$token_object" "$data/journal/audit.jsonl")
ct_store=("$data/ct/log/CURRENT")

# 1. Only the uid: what a child's user can open with plain file access.
for c in transparency resolver gateway; do
  for f in "${secrets[@]}"; do
    if runuser -u "trustchain-$c" -- cat "$f" >/dev/null 2>&1; then fail "trustchain-$c read $f"; fi
  done
done
for c in signer resolver gateway; do
  if runuser -u "trustchain-$c" -- cat "${ct_store[0]}" >/dev/null 2>&1; then fail "trustchain-$c read the CT store"; fi
done
for c in signer transparency resolver gateway; do
  runuser -u "trustchain-$c" -- cat "$data/ca/root.pem" >/dev/null || fail "trustchain-$c cannot read the public root"
done
ok "as each child's user: PINs, token, journal and CT store unreadable by the others; root.pem readable"

# 2. From inside each sandbox (user + Landlock + seccomp).
probe() { # probe CHILD [--as-user] ATTEMPT... -> the probe's output
  "$bindir/sandbox_probe" "$1" "$tmp/trustchain.yaml" "${@:2}" || fail "probe for $1 could not confine itself"
}
expect_denied() { # expect_denied OUTPUT WHAT
  local allowed
  allowed=$(echo "$1" | grep '^ALLOWED' || true)
  [ -z "$allowed" ] || fail "$2: $allowed"
}
expect_allowed() { # expect_allowed OUTPUT ATTEMPT
  echo "$1" | grep -qx "ALLOWED $2" || fail "needed access denied: $2 ($(echo "$1" | grep -F "$2"))"
}
for c in transparency resolver gateway; do
  out=$(probe $c --as-user "${secrets[@]/#/read:}" "write:$data/ca/root.pem" "ptrace:$signer_pid" \
    "mem:$signer_pid" "exec:/bin/sh")
  expect_denied "$out" "$c sandbox"
  out=$(probe $c --as-user "read:$data/ca/root.pem")
  expect_allowed "$out" "read:$data/ca/root.pem"
done
for c in resolver gateway; do
  out=$(probe $c --as-user "read:${ct_store[0]}" "write:$data/ct/log/x")
  expect_denied "$out" "$c sandbox, CT store"
done
out=$(probe signer --as-user inet "read:${ct_store[0]}" "write:$data/dns/doq_cert.pem")
expect_denied "$out" "signer sandbox"
out=$(probe signer --as-user "read:$data/hsm/user.pin")
expect_allowed "$out" "read:$data/hsm/user.pin"
ok "inside each child's sandbox: no PIN, token, journal, other store, ptrace, signer memory, exec; no network from the signer"

# 2b. The ACME pair. acme parses client JWS and CSRs: from its sandbox, no
# secret and no other store, only its own part and the public root. The
# validator connects where untrusted clients say: as its user it cannot
# even enter the data directory (no shared group), and its Landlock rules
# hold system files only. Nobody else reads acme's state.
[ -n "$(pid_of acme)" ] && [ -n "$(pid_of validator)" ] || fail "acme or validator not running"
[ "$(stat -c '%U %a' "$data/acme")" = "trustchain-acme 700" ] || fail "data/acme is $(stat -c '%U %a' "$data/acme")"
out=$(probe acme --as-user "${secrets[@]/#/read:}" "read:${ct_store[0]}" "write:$data/ca/root.pem" \
  "ptrace:$signer_pid" "exec:/bin/sh")
expect_denied "$out" "acme sandbox"
out=$(probe acme --as-user "read:$data/ca/root.pem" "write:$data/acme/probe")
expect_allowed "$out" "read:$data/ca/root.pem"
expect_allowed "$out" "write:$data/acme/probe"
if runuser -u trustchain-validator -- ls "$data" >/dev/null 2>&1; then fail "trustchain-validator entered $data"; fi
id -nG trustchain-validator | tr ' ' '\n' | grep -qx trustchain && echo "note: trustchain-validator is in group trustchain in /etc/group; the supervisor drops it anyway"
out=$(probe validator --as-user "read:$data/ca/root.pem" "read:$data/acme/probe" "${secrets[@]/#/read:}" \
  "read:/etc/hostname")
expect_denied "$(echo "$out" | grep -v /etc/hostname)" "validator sandbox"
expect_allowed "$out" "read:/etc/hostname"
grep -q "TC_DATA_DIR" "/proc/$(pid_of validator)/environ" && fail "the validator knows where the data directory is"
for c in signer transparency resolver gateway validator; do
  if runuser -u "trustchain-$c" -- ls "$data/acme" >/dev/null 2>&1; then fail "trustchain-$c listed data/acme"; fi
done
ok "acme: its own part and the root only; validator: no data directory at all; data/acme acme's alone"

# 2c. trustchain-metrics parses HTTP from whoever reaches /metrics and the
# expositions of children that may be taken over: like the validator it
# holds nothing of ours and can reach nothing (no group, no data directory).
[ -n "$(pid_of metrics)" ] || fail "metrics not running"
if runuser -u trustchain-metrics -- ls "$data" >/dev/null 2>&1; then fail "trustchain-metrics entered $data"; fi
out=$(probe metrics --as-user "read:$data/ca/root.pem" "${secrets[@]/#/read:}" "read:${ct_store[0]}" \
  "ptrace:$signer_pid" "exec:/bin/sh")
expect_denied "$out" "metrics sandbox"
grep -q "TC_DATA_DIR" "/proc/$(pid_of metrics)/environ" && fail "trustchain-metrics knows where the data directory is"
ok "metrics: no data directory, no secret, no CT store, no ptrace, no exec"

# 3. Landlock alone: the gateway's rules hold even for a process whose uid
# could read everything (root here; a sibling child's uid in an exploit).
out=$(probe gateway "${secrets[@]/#/read:}" "read:${ct_store[0]}" "read:$data/ca/root.pem")
if echo "$out" | grep -q "landlock on"; then
  expect_denied "$(echo "$out" | grep -v root.pem)" "gateway Landlock rules as root"
  expect_allowed "$out" "read:$data/ca/root.pem"
  ok "Landlock alone: the gateway's rules deny root the PINs, token, journal and CT store"
else
  echo "note: kernel without Landlock, Landlock-only check skipped"
fi

# 4. Configured secrets: a tokens file only root can read crash-looped the
# gateway while --check-config said OK. The gateway reads only its own,
# mode 0600 (gateway/secret_file.c): say so, with the fix, before starting.
printf 'tokens: []\n' > "$tmp/tokens.yaml"
chmod 600 "$tmp/tokens.yaml"
sed "s|^gateway:|gateway:\n  tokens_file: $tmp/tokens.yaml|" "$tmp/trustchain.yaml" > "$tmp/tokens-config.yaml"
check() { # check CONFIG -> sets rc and out
  set +e
  out=$("$bindir/trustchain-server" --check-config --config "$1" 2>&1); rc=$?
  set -e
}
check "$tmp/tokens-config.yaml"
[ $rc = 2 ] || fail "check-config accepted a tokens file the gateway cannot read (rc $rc): $out"
echo "$out" | grep -q "gateway.tokens_file $tmp/tokens.yaml: user trustchain-gateway cannot read it" ||
  fail "check-config message: $out"
echo "$out" | grep -q "must belong to trustchain-gateway with mode 0600.*chown trustchain-gateway" ||
  fail "check-config message: $out"
ok "check-config: a root-only tokens file named, with the fix ($(echo "$out" | head -n 1))"
# ... and the server refuses to start on it, before forking any child.
sed "s|data_dir: $tmp/data|data_dir: $tmp/data2|" "$tmp/tokens-config.yaml" > "$tmp/tokens-config2.yaml"
set +e
"$bindir/trustchain-server" --config "$tmp/tokens-config2.yaml" > "$tmp/refused.out" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q "not starting" "$tmp/refused.out" || fail "started on it (rc $rc): $(tail -n 3 "$tmp/refused.out")"
grep -q "started gateway" "$tmp/refused.out" && fail "forked the gateway anyway"
ok "start refused before any child ran"
chown trustchain-gateway "$tmp/tokens.yaml"
check "$tmp/tokens-config.yaml"
[ $rc = 0 ] || fail "check-config refused the gateway's own 0600 tokens file: $out"
chmod 644 "$tmp/tokens.yaml"
check "$tmp/tokens-config.yaml"
[ $rc = 2 ] && echo "$out" | grep -q "a secret: must belong to trustchain-gateway with mode 0600 .*mode 0644" ||
  fail "check-config accepted a world-readable tokens file: $out"
ok "check-config: a world-readable tokens file refused"
# The PIN: readable by others stops the start (the dev PIN is in the layout).
chmod 644 "$tmp/data/hsm/user.pin"
check "$tmp/trustchain.yaml"
[ $rc = 2 ] && echo "$out" | grep -q "hsm.pin_file $tmp/data/hsm/user.pin: a secret" ||
  fail "check-config accepted a world-readable PIN: $out"
chmod 600 "$tmp/data/hsm/user.pin"
ok "check-config: a PIN readable by others refused"

# 5. The layout repair at start walks each child's part as root: a hard
# link a child left there (to a file outside, where the kernel let it make
# one) must not hand that file to the child.
printf 'not yours\n' > "$tmp/root-only"
chmod 600 "$tmp/root-only"
ln "$tmp/root-only" "$data/ct/planted"
kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit status $?"
server_pid=
start_server
[ "$(stat -c %U "$tmp/root-only")" = root ] || fail "the layout repair gave $tmp/root-only to $(stat -c %U "$tmp/root-only")"
grep -q "planted has 2 names (a hard link): left as it is" "$tmp/server.log" || fail "no word about the hard link"
ok "restart: a hard link planted in the CT store's part stays root's, and is reported"
