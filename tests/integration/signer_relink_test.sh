#!/usr/bin/env bash
# A peer whose link to the signer ends while both run gets a new one (the
# chaos soak found the gateway left without a signer for good: nothing
# re-linked a child unless the signer restarted). On a dev server, the
# signer links of the gateway, the CT log and the resolver are shut down
# from outside (tests/integration/cut_link.py, as a broken stream or the
# signer dropping a peer that stopped reading would end them), one at a
# time: each child asks the supervisor for a new link (TC_SUP_RELINK), the
# supervisor logs signer_relink, and Issue (gateway -> signer, CT log ->
# signer for the SCT) works again within 15 s; no child restarts.
# Usage: signer_relink_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" relink
py=/usr/bin/python3
mkdir -p "$tmp/data" "$tmp/keys"
dev_config
start_server
for c in signer transparency resolver gateway; do wait_ready "$c"; done
c=(--config "$tmp/trustchain.yaml")
issue() { "$ctl" "${c[@]}" issue --name "$1.hypermesh.online" --new-key "$tmp/keys/$1.key" --out "$tmp/keys/$1.pem" \
  >"$tmp/issue.out" 2>&1; }
issue before || { cat "$tmp/issue.out"; fail "issue before any cut"; }
signer=$(pid_of signer)
for child in gateway transparency resolver; do
  pid=$(pid_of "$child")
  relinks=$(grep -c "$child lost its signer link; linked again" "$tmp/server.log" || true)
  $py "$(dirname "$0")/cut_link.py" "$pid" "$signer" || fail "cannot cut the $child's signer link"
  t0=$SECONDS
  while [ "$(grep -c "$child lost its signer link; linked again" "$tmp/server.log" || true)" -le "$relinks" ]; do
    [ $((SECONDS - t0)) -lt 15 ] || fail "$child not linked again to the signer within 15 s"
    sleep 0.2
  done
  served=no
  while [ $((SECONDS - t0)) -lt 15 ]; do
    if issue "after-$child"; then served=yes; break; fi
    sleep 0.5
  done
  [ $served = yes ] || { cat "$tmp/issue.out"; fail "Issue fails after the $child's signer link was cut"; }
  [ "$(pid_of "$child")" = "$pid" ] || fail "$child restarted instead of being linked again"
  echo "$child: linked again and Issue served $((SECONDS - t0)) s after the cut"
done
[ "$(pid_of signer)" = "$signer" ] || fail "the signer restarted"
"$ctl" "${c[@]}" journal verify > "$tmp/verify.out" 2>&1 || { cat "$tmp/verify.out"; fail "journal verify"; }
ok "every signer link cut was replaced without a restart"
