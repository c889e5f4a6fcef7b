#!/usr/bin/env bash
# A CA with 90,000 revocations, through the whole dev server (issue 16: the
# 30-minute chaos soak could not fetch its CRL of 52,785 entries over gRPC;
# the answer carried DER and PEM, ~6 MB, over clients' 4 MiB default).
# The revocations are written to ca/revocations.log while the server is
# stopped (as the signer writes them), then:
#   - trustchainctl crl (libtrustchain) gets the CRL over GetCrl although
#     it is over 4 MiB; it verifies under the chain and lists every entry;
#   - the gateway leaves the PEM out above 1 MiB, and the client makes it:
#     the PEM is the same CRL;
#   - the CRL URL (gateway.http_listen, default 127.0.0.1:8080: run in a
#     private network namespace) serves the same bytes;
#   - a certificate revoked through the gateway is in the next CRL, and
#     Validate (the gateway's revocation cache reads the whole CRL) says
#     REVOKED at once, while a good certificate stays TRUSTED.
# Times of each step are printed.
# Usage: crl_big_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" crl-big
entries=${TC_BIG_CRL_ENTRIES:-90000}
now_ms() { date +%s%3N; }

mkdir -p "$tmp/data" "$tmp/keys"
"$ctl" token new --name ops --patterns '*.ops.hypermesh.online' --revoke --out "$tmp/keys/ops.token" \
  > "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true"
start_server
c=(--config "$tmp/trustchain.yaml")
target=127.0.0.1:$((base + 3))

issue() { # issue NAME -> $tmp/NAME.pem, $tmp/NAME-chain.pem; prints the serial
  "$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name "$1" --new-key "$tmp/keys/$1.key" \
    --out "$tmp/$1.pem" --chain-out "$tmp/$1-chain.pem" --validity 2h 2> "$tmp/issue.err" ||
    { cat "$tmp/issue.err"; fail "issue $1"; }
  sed -n 's/^issued serial \([0-9a-f]*\),.*/\1/p' "$tmp/issue.err"
}
validate() { # validate NAME -> the decision and reasons lines
  cat "$tmp/$1.pem" "$tmp/$1-chain.pem" > "$tmp/validate-chain.pem"
  "$ctl" "${c[@]}" validate --target "$target" --name "$1" "$tmp/validate-chain.pem" 2>&1 |
    grep -E "^(decision|reasons):" | tr '\n' ' ' || true
}
bad_serial=$(issue bad.ops.hypermesh.online)
issue good.ops.hypermesh.online > /dev/null
[ -n "$bad_serial" ] || fail "no serial reported"

# The revocations, as the signer records them ("HEX REASON WHEN").
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
log="$tmp/data/ca/revocations.log"
[ -f "$log" ] || fail "no $log after the first start"
/usr/bin/python3 - "$log" "$entries" <<'PY'
import sys, time
path, n = sys.argv[1], int(sys.argv[2])
when = int(time.time()) - 60
with open(path, "a") as f:
    f.writelines("40%030x 1 %d\n" % (i + 1, when) for i in range(n))
PY
start_server
ok "server restarted with $entries revocations in ca/revocations.log"

t0=$(now_ms)
"$ctl" "${c[@]}" crl --der --out "$tmp/crl.der" 2> "$tmp/crl.err" || fail "crl --der: $(cat "$tmp/crl.err")"
t1=$(now_ms)
size=$(stat -c %s "$tmp/crl.der")
[ "$size" -gt $((4 << 20)) ] || fail "the CRL is $size bytes, not over 4 MiB: the test proves nothing"
openssl crl -inform DER -in "$tmp/crl.der" -CAfile "$tmp/data/ca/chain.pem" -verify -noout 2>&1 |
  grep -q "verify OK" || fail "the CRL does not verify"
listed=$(openssl crl -inform DER -in "$tmp/crl.der" -noout -text | grep -c "Serial Number:")
[ "$listed" = "$entries" ] || fail "the CRL lists $listed entries, not $entries"
ok "GetCrl through libtrustchain: $size bytes of DER in $((t1 - t0)) ms (first CRL after the start), verifies, $listed entries"

"$ctl" "${c[@]}" crl --out "$tmp/crl.pem" 2> "$tmp/crl.err" || fail "crl (PEM): $(cat "$tmp/crl.err")"
cmp -s <(openssl crl -in "$tmp/crl.pem" -outform DER) "$tmp/crl.der" || fail "the PEM is not the same CRL"
ok "PEM (left out by the gateway above 1 MiB, made by the client) is the same CRL"

t0=$(now_ms)
curl -sSf -o "$tmp/http.der" http://127.0.0.1:8080/crl/intermediate.crl || fail "GET /crl/intermediate.crl"
t1=$(now_ms)
cmp -s "$tmp/http.der" "$tmp/crl.der" || fail "the CRL URL serves another CRL"
ok "the CRL URL serves the same $size bytes ($((t1 - t0)) ms)"

out=$(validate good.ops.hypermesh.online)
echo "$out" | grep -q "decision: TRUSTED" || fail "good certificate not trusted: $out"
t0=$(now_ms)
"$ctl" "${c[@]}" revoke --token-file "$tmp/keys/ops.token" --serial "$bad_serial" --reason key-compromise \
  > "$tmp/revoke.out" 2>&1 || fail "revoke: $(cat "$tmp/revoke.out")"
t1=$(now_ms)
out=$(validate bad.ops.hypermesh.online)
t2=$(now_ms)
echo "$out" | grep -q "decision: UNTRUSTED" && echo "$out" | grep -q "REVOKED" ||
  fail "revoked certificate not refused: $out"
out=$(validate good.ops.hypermesh.online)
echo "$out" | grep -q "decision: TRUSTED" || fail "good certificate not trusted after the revocation: $out"
ok "revoke in $((t1 - t0)) ms; Validate says REVOKED at once ($((t2 - t1)) ms, a fresh CRL of $((entries + 1)) read), the good one TRUSTED"

t0=$(now_ms)
"$ctl" "${c[@]}" crl --der --out "$tmp/crl2.der" 2> "$tmp/crl.err" || fail "crl after the revocation"
t1=$(now_ms)
listed=$(openssl crl -inform DER -in "$tmp/crl2.der" -noout -text | grep -c "Serial Number:")
[ "$listed" = $((entries + 1)) ] || fail "the CRL after the revocation lists $listed entries"
openssl crl -inform DER -in "$tmp/crl2.der" -noout -text | tr -d ' :' | grep -qi "SerialNumber$bad_serial" ||
  fail "the revoked serial $bad_serial is not in the CRL"
ok "the next CRL ($((t1 - t0)) ms) lists the revoked serial too: $listed entries"
