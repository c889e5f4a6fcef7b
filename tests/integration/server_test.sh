#!/usr/bin/env bash
# trustchain-server end to end: dev start (ceremony included), six ready
# children, privilege separation (user, NoNewPrivs, PKCS#11 module mapped in
# the signer only), restart after kill -9 of a peer and of the signer, bad
# configuration, and a clean stop on SIGTERM.
# Usage: server_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
tmp=$(mktemp -d /tmp/tc-server-test-XXXXXX)
chmod 755 "$tmp"
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    pkill -KILL -f "$bindir/trustchain-" 2>/dev/null || true
  fi
  [ -n "${TC_KEEP_TEST_DIR:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; tail -n 60 "$tmp/server.log" || true; exit 1; }
ok() { echo "ok: $*"; }

# LeakSanitizer cannot stop a non-dumpable process (the signer makes itself
# one); leaks are checked by the unit tests instead.
export ASAN_OPTIONS=detect_leaks=0

base=$(( 20000 + RANDOM % 20000 ))
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
  restart_backoff_max_ms: 2000
dns:
  udp_port: $base
  quic_port: $((base + 1))
ct:
  http_listen: 127.0.0.1:$((base + 2))
gateway:
  listen: 127.0.0.1:$((base + 3))
YAML

# A bad configuration names the key and line, exit code 2.
printf 'server:\n  dev: true\n  data_dir: %s/data\nca:\n  cert_validity_hours: lots\n' "$tmp" > "$tmp/bad.yaml"
set +e
out=$("$bindir/trustchain-server" --check-config --config "$tmp/bad.yaml" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "bad config exit code $rc, want 2"
echo "$out" | grep -q "bad.yaml:5: ca.cert_validity_hours" || fail "bad config message: $out"
ok "bad config rejected: $out"
"$bindir/trustchain-server" --check-config --config "$tmp/trustchain.yaml" >/dev/null || fail "good config rejected"

status_of() { awk -v n="$1" '$1 == n { print $2, $3, $4 }' "$tmp/data/server.status" 2>/dev/null; }
pid_of() { status_of "$1" | awk '{ print $1 }'; }
wait_ready() { # wait_ready NAME [NOT_PID] [MIN_RESTARTS]
  for _ in $(seq 1 300); do
    [ -z "$server_pid" ] || kill -0 "$server_pid" 2>/dev/null || fail "server exited"
    read -r pid state restarts < <(status_of "$1" || true) || true
    if [ "${state:-}" = ready ] && [ "${pid:-0}" != 0 ] && [ "$pid" != "${2:-}" ] && [ "${restarts:-0}" -ge "${3:-0}" ]; then
      return 0
    fi
    sleep 0.2
  done
  fail "$1 not ready (status: $(status_of "$1"))"
}

"$bindir/trustchain-server" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
server_pid=$!
for c in signer transparency resolver gateway validator acme; do wait_ready $c; done
ok "six children ready (ACME on in dev)"
for _ in $(seq 1 50); do grep -q "TrustChain is running" "$tmp/server.out" && break; sleep 0.1; done
grep -q "TrustChain is running" "$tmp/server.out" || fail "no start-up summary"
grep -q "gateway" "$tmp/server.out" && grep -q "dns udp 127.0.0.1:$base" "$tmp/server.out" || fail "summary lacks listeners"
ok "start-up summary printed"

# The dev ceremony ran once: certificates exist and chain.
openssl verify -CAfile "$tmp/data/ca/root.pem" "$tmp/data/ca/intermediate.pem" >/dev/null || fail "intermediate does not chain"
ok "dev ceremony artefacts verify"

signer=$(pid_of signer)
for c in signer transparency resolver gateway acme validator metrics; do
  p=$(pid_of $c)
  [ "$(awk '/^NoNewPrivs/ { print $2 }' /proc/$p/status)" = 1 ] || fail "$c lacks NoNewPrivs"
  [ "$(awk '/^Seccomp:/ { print $2 }' /proc/$p/status)" = 2 ] || fail "$c runs without its syscall filter"
  if grep -q softhsm /proc/$p/maps; then
    [ "$c" = signer ] || fail "$c has the PKCS#11 module mapped"
  else
    [ "$c" != signer ] || fail "signer does not have the PKCS#11 module mapped"
  fi
  if [ "$(id -u)" = 0 ]; then
    uid=$(awk '/^Uid:/ { print $2 }' /proc/$p/status)
    user=$(getent passwd "$uid" | cut -d: -f1)
    [ "$user" = "trustchain-$c" ] || fail "$c runs as $user, want trustchain-$c"
    groups=$(awk '/^Groups:/ { $1 = ""; print }' /proc/$p/status | xargs)
    want=$(getent group trustchain | cut -d: -f3)
    case $c in validator | metrics) want= ;; esac  # they read none of our files: no group at all
    [ "$groups" = "$want" ] || fail "$c has groups '$groups', want '${want:-none}'"
  fi
  # Only the descriptors it was given (plus stdio and its own).
  [ "$(readlink /proc/$p/cwd)" = / ] || fail "$c cwd is $(readlink /proc/$p/cwd)"
done
grep -q softhsm "/proc/$server_pid/maps" && fail "supervisor has the PKCS#11 module mapped"
ok "children: NoNewPrivs, syscall filter, cwd /, PKCS#11 only in the signer$([ "$(id -u)" = 0 ] && echo ", a user each")"

# kill -9 a peer: restarted, ready again, linked to the signer.
old=$(pid_of gateway)
kill -KILL "$old"
wait_ready gateway "$old" 1
ok "gateway restarted after kill -9 ($old -> $(pid_of gateway))"

# kill -9 the signer: restarted; every peer gets a fresh link to it.
kill -KILL "$signer"
wait_ready signer "$signer" 1
for _ in $(seq 1 100); do
  [ "$(grep -c 'connected to the restarted signer' "$tmp/server.log")" -ge 3 ] && break
  sleep 0.1
done
[ "$(grep -c 'connected to the restarted signer' "$tmp/server.log")" -ge 3 ] || fail "peers did not relink to the new signer"
ok "signer restarted after kill -9 ($signer -> $(pid_of signer)); 3 peers relinked"

# A second server on the same data directory is refused.
set +e
"$bindir/trustchain-server" --config "$tmp/trustchain.yaml" >/dev/null 2>"$tmp/second.log"; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "another trustchain-server" "$tmp/second.log" || fail "second server not refused"
ok "second server on the same data dir refused"

# SIGTERM: everything stops, exit 0, no child left behind, journal intact.
children=$(awk 'NR > 1 { print $2 }' "$tmp/data/server.status")
kill -TERM "$server_pid"
for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "server still running 15 s after SIGTERM"
set +e; wait "$server_pid"; rc=$?; set -e
server_pid=
[ $rc -eq 0 ] || fail "server exit status $rc"
for p in $children; do kill -0 "$p" 2>/dev/null && fail "child $p survived"; done
"$bindir/trustchainctl" --config "$tmp/trustchain.yaml" journal verify >/dev/null || fail "journal does not verify"
ok "SIGTERM stops everything cleanly; journal verifies"
echo "1 passed, 0 failed"
