#!/usr/bin/env bash
# CA key rollover ceremonies (issue 14 part 8): after `ceremony dev`, a new
# root cross-signed by the old (rollover-root) and new intermediates under
# the new root and under the old one (rollover-intermediate, with a
# cut-over time in the transcript). Leaves signed with each issuing key
# straight through PKCS#11 (ca_forge_leaf) are checked by `openssl verify`
# with the old trust store, the new one and both: a client holding only
# the old root keeps verifying leaves of the new hierarchy through the
# cross certificate; the new intermediates keep the nameConstraints.
# Usage: ca_rollover_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" rollover

cfg() { # cfg FILE INTERMEDIATE_LABEL
  printf 'server:\n  dev: true\n  data_dir: %s/data\n' "$tmp" > "$1"
  [ -z "${2:-}" ] || printf 'hsm:\n  keys:\n    intermediate: %s\n' "$2" >> "$1"
}
cfg "$tmp/trustchain.yaml"
cfg "$tmp/next.yaml" issuing-2
cfg "$tmp/same-root.yaml" issuing-1b
c=(--config "$tmp/trustchain.yaml")
"$ctl" "${c[@]}" ceremony dev > "$tmp/dev.out" 2>&1 || { cat "$tmp/dev.out"; fail "ceremony dev"; }
"$ctl" "${c[@]}" ceremony rollover-root --label root-2 > "$tmp/r2.out" 2>&1 ||
  { cat "$tmp/r2.out"; fail "rollover-root"; }
"$ctl" "${c[@]}" ceremony rollover-intermediate --label issuing-2 --root root-2 --cutover 2026-12-20T00:00:00Z \
  > "$tmp/i2.out" 2>&1 || { cat "$tmp/i2.out"; fail "rollover-intermediate under root-2"; }
"$ctl" "${c[@]}" ceremony rollover-intermediate --label issuing-1b --cutover 2026-12-13T00:00:00Z \
  > "$tmp/i1b.out" 2>&1 || { cat "$tmp/i1b.out"; fail "rollover-intermediate under the old root"; }
if "$ctl" "${c[@]}" ceremony rollover-root --label root-2 > "$tmp/again.out" 2>&1; then
  fail "a second rollover-root with the same label succeeded"
fi
if "$ctl" "${c[@]}" ceremony rollover-intermediate --label x --cutover tomorrow > /dev/null 2>&1; then
  fail "a cut-over that is not RFC 3339 accepted"
fi
cat "$tmp/r2.out" "$tmp/i2.out"
ca="$tmp/data/ca"
for t in "$tmp"/data/ceremonies/*rollover*; do
  "$ctl" "${c[@]}" ceremony verify-transcript "$t" > /dev/null || fail "transcript $t does not verify"
done
grep -l '"cutover": *"2026-12-20T00:00:00Z"' "$tmp"/data/ceremonies/*rollover-intermediate* > /dev/null ||
  fail "no cut-over time in the rollover-intermediate transcript"
ok "rollover ceremonies: transcripts signed, cut-over recorded"

old="$ca/root.pem" new="$ca/rollover/root-2.pem"
cat "$old" "$new" > "$tmp/both.pem"
out=$(openssl verify -CAfile "$old" "$ca/rollover/root-2-cross.pem" 2>&1) || fail "cross certificate: $out"
"$bindir/ca_forge_leaf" "$tmp/trustchain.yaml" "$tmp/l1.pem" www.hypermesh.online || fail "forge under issuing-1"
"$bindir/ca_forge_leaf" "$tmp/next.yaml" "$tmp/l2.pem" www.hypermesh.online || fail "forge under issuing-2"
"$bindir/ca_forge_leaf" "$tmp/same-root.yaml" "$tmp/l1b.pem" www.hypermesh.online || fail "forge under issuing-1b"
"$bindir/ca_forge_leaf" "$tmp/next.yaml" "$tmp/evil.pem" www.example.org || fail "forge outside"

verify() { # verify EXPECT NAME STORE CHAIN LEAF
  local out
  out=$(openssl verify -CAfile "$3" -untrusted "$4" "$5" 2>&1 || true)
  echo "openssl verify ($2): $(echo "$out" | grep -v 'verification failed' | tr '\n' ' ')"
  if [ "$1" = OK ]; then [ "$out" = "$5: OK" ] || fail "$2: $out"
  else echo "$out" | grep -q "$1" || fail "$2: expected $1, got $out"; fi
}
verify OK "old store, old intermediate" "$old" "$ca/intermediate.pem" "$tmp/l1.pem"
verify OK "old store, new intermediate via the cross certificate" "$old" "$ca/rollover/issuing-2-chain.pem" "$tmp/l2.pem"
verify OK "old store, new intermediate under the old root" "$old" "$ca/rollover/issuing-1b-chain.pem" "$tmp/l1b.pem"
verify OK "new store, new intermediate" "$new" "$ca/rollover/issuing-2-chain.pem" "$tmp/l2.pem"
verify OK "both stores, old intermediate" "$tmp/both.pem" "$ca/intermediate.pem" "$tmp/l1.pem"
verify OK "both stores, new intermediate" "$tmp/both.pem" "$ca/rollover/issuing-2-chain.pem" "$tmp/l2.pem"
verify "unable to get local issuer certificate" "new store, old intermediate (not trusted by design)" "$new" \
  "$ca/intermediate.pem" "$tmp/l1.pem"
verify "permitted subtree violation" "old store, new intermediate, name outside" "$old" \
  "$ca/rollover/issuing-2-chain.pem" "$tmp/evil.pem"
verify "permitted subtree violation" "new store, new intermediate, name outside" "$new" \
  "$ca/rollover/issuing-2-chain.pem" "$tmp/evil.pem"
ok "old, new and both trust stores across the rollover"
