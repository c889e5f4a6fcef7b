#!/usr/bin/env bash
# The README's run command from a checkout the service users cannot reach
# (issue 18): the tree is copied, as a clone holds it, below a 0700
# directory and into a path with spaces ("$parent/sub dir with space/"),
# built there, and `./ops/run-dev.sh` is started as root, as the README
# says. The server must come up with every child as its own user, serve the
# CT log and DNS, and issue a certificate that verifies; then the
# supervisor-level integration tests run from that build too. Nothing about
# the 0700 parent may have been loosened.
# Usage: checkout_anywhere_test.sh   (needs root: exit 77 = skipped)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "skipped: needs root (the children drop to users of their own)"
  exit 77
fi
parent=$(mktemp -d /tmp/tc-home-XXXXXX)
chmod 700 "$parent"
co="$parent/sub dir with space/trustchain"
mkdir -p "$co"
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ -n "${TC_KEEP_TEST_DIR:-}" ] || rm -rf "$parent"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; tail -n 40 "$co/server.log" 2>/dev/null || true; exit 1; }
ok() { echo "ok: $*"; }

# The files a clone has (tracked, plus new ones not ignored), no build dirs.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$src" && xargs -0 cp --parents -t "$co" 2>/dev/null || true)
else
  (cd "$src" && tar --exclude='./build*' --exclude='./data' -cf - .) | (cd "$co" && tar -xf -)
fi
[ -x "$co/ops/run-dev.sh" ] || fail "copy of the tree incomplete"
ok "tree copied to '$co' (parent mode $(stat -c %a "$parent"))"

# A release build there (what run-dev.sh builds), quietly; as a new user's
# shell would, without the outer test run's build directory.
unset BUILD_DIR
cd "$co"
./ops/setup.sh -DCMAKE_BUILD_TYPE=Release -DTC_SANITIZE=OFF >build.log 2>&1 || { tail -n 30 build.log; fail "build"; }
ok "built in place"

./ops/run-dev.sh >server.out 2>server.log &
server_pid=$!
for _ in $(seq 1 600); do
  grep -q "TrustChain is running" server.out && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited: $(tail -n 5 server.log)"
  sleep 0.2
done
grep -q "TrustChain is running" server.out || fail "server not ready"
grep -q "Permission denied" server.log && fail "a permission error on the way: $(grep 'Permission denied' server.log | head -n 3)"
for c in signer transparency resolver gateway; do
  p=$(awk -v n=$c '$1 == n { print $2 }' data/server.status)
  user=$(getent passwd "$(awk '/^Uid:/ { print $2 }' /proc/$p/status)" | cut -d: -f1)
  [ "$user" = "trustchain-$c" ] || fail "$c runs as $user"
done
ok "TrustChain is running from below a 0700 directory, each child as its own user"

sth=$(curl -sf -m 10 http://127.0.0.1:6962/ct/v1/get-sth) || fail "get-sth"
echo "$sth" | grep -q tree_size || fail "get-sth answer: $sth"
answer=$(dig @127.0.0.1 -p 5300 +short +time=3 +tries=3 ca.trust.hypermesh.online A)
[ "$answer" = 127.0.0.1 ] || fail "dig answered '$answer'"
ok "CT get-sth and DNS answer"

./build/bin/trustchainctl issue --name web.svc.hypermesh.online --new-key "$co/web.key" --out "$co/web.pem" \
  >issue.out 2>&1 || fail "issue: $(cat issue.out)"
openssl verify -purpose sslserver -CAfile data/ca/root.pem -untrusted data/ca/intermediate.pem "$co/web.pem" \
  >/dev/null || fail "issued certificate does not verify"
ok "issued a certificate that verifies"

kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit status $?"
server_pid=

# Again, on the data directory the first start laid out (the dev ceremony,
# run as root, now finds the PIN owned by trustchain-signer).
./ops/run-dev.sh >server2.out 2>server.log &
server_pid=$!
for _ in $(seq 1 600); do
  grep -q "TrustChain is running" server2.out && break
  kill -0 "$server_pid" 2>/dev/null || fail "second start exited: $(tail -n 5 server.log)"
  sleep 0.2
done
grep -q "TrustChain is running" server2.out || fail "second start not ready"
kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit status $? (second start)"
server_pid=
[ "$(stat -c %a "$parent")" = 700 ] || fail "the 0700 parent was loosened to $(stat -c %a "$parent")"
ok "started a second time on the same data; stopped cleanly; the parent is still 0700"

# The supervisor-level tests from this build as well.
(cd build && ctest --output-on-failure -R '^(server_test|ctl_issue_test|privsep_attack_test)$') ||
  fail "integration tests from the checkout below a 0700 directory"
ok "server_test, ctl_issue_test and privsep_attack_test pass from there"
