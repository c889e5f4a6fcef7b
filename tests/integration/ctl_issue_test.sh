#!/usr/bin/env bash
# trustchainctl token/issue/revoke/crl against the real server in dev mode
# (supervisor, signer, gateway over TLS): a token made by `token new`, a
# certificate for a new key and one for an openssl CSR, both verified with
# openssl; a revocation refused without the right and accepted with it,
# then listed in a CRL that openssl verifies.
# Usage: ctl_issue_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" ctl-issue

mkdir -p "$tmp/data" "$tmp/keys"
"$ctl" token new --name ops --patterns '*.ops.hypermesh.online' --revoke --out "$tmp/keys/ops.token" \
  > "$tmp/data/tokens" || fail "token new"
"$ctl" token new --name dev --patterns 'api.hypermesh.online' --out "$tmp/keys/dev.token" \
  >> "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
# A secret: the gateway's own (as trustchain-server --check-config says).
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
[ "$(stat -c %a "$tmp/keys/ops.token")" = 600 ] || fail "token file is not 0600"
grep -q "$(head -c 20 "$tmp/keys/ops.token")" "$tmp/data/tokens" && fail "the tokens file holds a token"

dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true"
start_server

c=(--config "$tmp/trustchain.yaml")
root="$tmp/data/ca/root.pem"

# A new key, certificate and chain to files.
"$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name web.ops.hypermesh.online \
  --new-key "$tmp/keys/web.key" --out "$tmp/web.pem" --chain-out "$tmp/web-chain.pem" --validity 2h \
  2> "$tmp/issue.err" || { cat "$tmp/issue.err"; fail "issue --new-key"; }
[ "$(stat -c %a "$tmp/keys/web.key")" = 600 ] || fail "key file is not 0600"
openssl verify -CAfile "$root" -untrusted "$tmp/web-chain.pem" -purpose sslserver "$tmp/web.pem" >/dev/null ||
  fail "issued certificate does not verify"
[ "$(openssl x509 -in "$tmp/web.pem" -noout -pubkey)" = "$(openssl pkey -in "$tmp/keys/web.key" -pubout)" ] ||
  fail "certificate is not for the new key"
serial=$(sed -n 's/^issued serial \([0-9a-f]*\),.*/\1/p' "$tmp/issue.err")
[ -n "$serial" ] || fail "no serial reported"
# The key is never overwritten.
if "$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name web.ops.hypermesh.online \
  --new-key "$tmp/keys/web.key" >/dev/null 2>&1; then fail "overwrote a key"; fi

# An openssl CSR, client profile, certificate + chain on stdout.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/keys/cli.key" \
  -subj /CN=ignored -out "$tmp/cli.csr" 2>/dev/null
"$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name cli.ops.hypermesh.online --csr "$tmp/cli.csr" \
  --profile client > "$tmp/cli-full.pem" 2>/dev/null || fail "issue --csr"
[ "$(grep -c 'BEGIN CERTIFICATE' "$tmp/cli-full.pem")" = 2 ] || fail "expected certificate and chain"
openssl verify -CAfile "$root" -untrusted "$tmp/cli-full.pem" -purpose sslclient "$tmp/cli-full.pem" >/dev/null ||
  fail "client certificate does not verify"

# Refusals carry the status and reason.
out=$("$ctl" "${c[@]}" issue --name web.ops.hypermesh.online --new-key "$tmp/keys/anon.key" 2>&1) &&
  fail "anonymous issue accepted"
echo "$out" | grep -q "UNAUTHENTICATED (authentication_required)" || fail "anonymous: $out"
[ ! -e "$tmp/keys/anon.key" ] || fail "key written for a refused issuance"
out=$("$ctl" "${c[@]}" issue --token-file "$tmp/keys/dev.token" --name web.ops.hypermesh.online \
  --new-key "$tmp/keys/dev.key" 2>&1) && fail "issue outside the patterns accepted"
echo "$out" | grep -q "PERMISSION_DENIED (name_not_authorized)" || fail "outside patterns: $out"
out=$("$ctl" "${c[@]}" revoke --token-file "$tmp/keys/dev.token" --serial "$serial" 2>&1) &&
  fail "revoke without the right accepted"
echo "$out" | grep -q "PERMISSION_DENIED (revoke_not_authorized)" || fail "revoke without right: $out"
out=$("$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name x.ops.hypermesh.online \
  --new-key "$tmp/keys/x.key" --cafile /etc/ssl/certs/ca-certificates.crt 2>&1) &&
  fail "a gateway not verifiable with the given roots was trusted"
echo "$out" | grep -q "UNAVAILABLE" || fail "wrong roots: $out"

# Revoke, then the CRL lists it and verifies.
"$ctl" "${c[@]}" revoke --token-file "$tmp/keys/ops.token" --serial "$serial" --reason key-compromise \
  > "$tmp/revoke.out" || fail "revoke"
grep -q "revoked $serial" "$tmp/revoke.out" || fail "revoke output"
"$ctl" "${c[@]}" crl --der --out "$tmp/crl.der" 2>/dev/null || fail "crl"
openssl crl -inform DER -in "$tmp/crl.der" -CAfile "$tmp/data/ca/chain.pem" -verify -noout 2>&1 |
  grep -q "verify OK" || fail "CRL does not verify"
openssl crl -inform DER -in "$tmp/crl.der" -noout -text | grep -qi "Serial Number: $serial" ||
  fail "revoked serial not in the CRL"
"$ctl" "${c[@]}" crl --out "$tmp/crl.pem" 2>/dev/null || fail "crl pem"
if openssl verify -crl_check -CAfile "$tmp/data/ca/chain.pem" -CRLfile "$tmp/crl.pem" "$tmp/web.pem" \
  >/dev/null 2>&1; then fail "revoked certificate still verifies with the CRL"; fi
echo "ok: trustchainctl token, issue, revoke, crl"
