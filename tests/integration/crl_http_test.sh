#!/usr/bin/env bash
# Revocation for standard relying parties (issue 14 part 5), whole server in
# dev mode on the default gateway.http_listen 127.0.0.1:8080 (run it in a
# private network namespace): every leaf names its CRL (CDP) and issuer
# (AIA), the intermediate names the root's; OpenSSL's own client fetches
# them: `openssl verify -crl_download -crl_check` accepts a good
# certificate, and refuses it right after its revocation (the gateway asks
# the signer afresh at once); -crl_check_all also checks the intermediate
# against the root's CRL. HTTP: content types, Cache-Control/Expires from
# nextUpdate, DER certificates equal to the PEM ones, 404/405.
# Usage: crl_http_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" crl-http
command -v curl >/dev/null || fail "needs curl"
http=http://127.0.0.1:8080

mkdir -p "$tmp/data" "$tmp/keys"
"$ctl" token new --name ops --patterns '*.ops.hypermesh.online' --revoke --out "$tmp/keys/ops.token" \
  > "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true" "  http_max_per_source: 3" \
  "  http_head_timeout_s: 3"
start_server
c=(--config "$tmp/trustchain.yaml")
root="$tmp/data/ca/root.pem"

issue() { # issue NAME -> $tmp/NAME.pem, $tmp/NAME-chain.pem; prints the serial
  "$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name "$1" --new-key "$tmp/keys/$1.key" \
    --out "$tmp/$1.pem" --chain-out "$tmp/$1-chain.pem" --validity 2h 2> "$tmp/issue.err" ||
    { cat "$tmp/issue.err"; fail "issue $1"; }
  sed -n 's/^issued serial \([0-9a-f]*\),.*/\1/p' "$tmp/issue.err"
}
# verify CERT [extra openssl verify options]: prints openssl's verdict line(s).
verify() {
  local cert=$1; shift
  openssl verify -CAfile "$root" -untrusted "$tmp/$(basename "$cert" .pem)-chain.pem" -crl_download "$@" \
    "$cert" 2>&1 || true
}

web_serial=$(issue web.ops.hypermesh.online)
issue api.ops.hypermesh.online > /dev/null
[ -n "$web_serial" ] || fail "no serial reported"

# Where a relying party looks: the leaf's CDP and AIA, the intermediate's.
text=$(openssl x509 -in "$tmp/web.ops.hypermesh.online.pem" -noout -text)
echo "$text" | grep -q "URI:$http/crl/intermediate.crl" || fail "leaf without the CRL distribution point"
echo "$text" | grep -q "CA Issuers - URI:$http/ca/intermediate.crt" || fail "leaf without AIA caIssuers"
itext=$(openssl x509 -in "$tmp/data/ca/intermediate.pem" -noout -text)
echo "$itext" | grep -q "URI:$http/crl/root.crl" || fail "intermediate without the root CRL's URL"
echo "$itext" | grep -q "CA Issuers - URI:$http/ca/root.crt" || fail "intermediate without AIA caIssuers"
ok "CDP and AIA in the leaf and the intermediate"

# What the listener serves.
hdr=$(curl -sS -D - -o "$tmp/crl.der" "$http/crl/intermediate.crl") || fail "GET CRL"
echo "$hdr" | grep -q "^HTTP/1.1 200" || fail "CRL: $hdr"
echo "$hdr" | grep -qi "^Content-Type: application/pkix-crl" || fail "CRL content type: $hdr"
max_age=$(echo "$hdr" | tr -d '\r' | sed -n 's/^Cache-Control: .*max-age=\([0-9]*\).*/\1/Ip')
next=$(openssl crl -inform DER -in "$tmp/crl.der" -noout -nextupdate | cut -d= -f2)
left=$(( $(date -d "$next" +%s) - $(date +%s) ))
[ -n "$max_age" ] && [ "$max_age" -gt 0 ] && [ "$max_age" -le $((left + 5)) ] && [ "$max_age" -ge $((left - 60)) ] ||
  fail "Cache-Control max-age '$max_age' is not the $left s to nextUpdate"
expires=$(echo "$hdr" | tr -d '\r' | sed -n 's/^Expires: //Ip')
[ "$(date -d "$expires" +%s)" = "$(date -d "$next" +%s)" ] || fail "Expires $expires is not nextUpdate $next"
openssl crl -inform DER -in "$tmp/crl.der" -CAfile "$tmp/data/ca/chain.pem" -verify -noout 2>&1 |
  grep -q "verify OK" || fail "served CRL does not verify"
curl -sSf -o "$tmp/root-crl.der" "$http/crl/root.crl" || fail "GET root CRL"
openssl crl -inform DER -in "$tmp/root-crl.der" -CAfile "$root" -verify -noout 2>&1 | grep -q "verify OK" ||
  fail "root CRL does not verify with the root"
curl -sSf -o "$tmp/inter.der" "$http/ca/intermediate.crt" || fail "GET intermediate"
cmp -s "$tmp/inter.der" <(openssl x509 -in "$tmp/data/ca/intermediate.pem" -outform DER) ||
  fail "served intermediate is not ca/intermediate.pem"
curl -sSf -o "$tmp/root.der" "$http/ca/root.crt" || fail "GET root"
cmp -s "$tmp/root.der" <(openssl x509 -in "$root" -outform DER) || fail "served root is not ca/root.pem"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$http/crl/other.crl")" = 404 ] || fail "unknown path not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "$http/crl/intermediate.crl")" = 405 ] ||
  fail "POST not 405"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$http/ca/root.crt")" = 200 ] || fail "HEAD not 200"
ok "CRLs (Cache-Control max-age=$max_age, Expires $expires) and certificates over HTTP"

# OpenSSL as a relying party: fetches the CRL from the leaf's CDP.
web="$tmp/web.ops.hypermesh.online.pem"
out=$(verify "$web" -crl_check)
echo "openssl verify -crl_download -crl_check (good): $out"
[ "$out" = "$web: OK" ] || fail "good certificate refused: $out"
# -crl_check_all checks the root too, which names no CRL (a trust anchor):
# it gets the root's CRL as fetched above; the intermediate's comes from
# its CDP.
openssl crl -inform DER -in "$tmp/root-crl.der" -out "$tmp/root-crl.pem"
out=$(verify "$web" -crl_check_all -CRLfile "$tmp/root-crl.pem")
echo "openssl verify -crl_download -crl_check_all (good): $out"
[ "$out" = "$web: OK" ] || fail "good chain refused with the root CRL: $out"

"$ctl" "${c[@]}" revoke --token-file "$tmp/keys/ops.token" --serial "$web_serial" --reason key-compromise \
  > "$tmp/revoke.out" || fail "revoke"
# At once: no waiting for a refresh period.
out=$(verify "$web" -crl_check)
echo "openssl verify -crl_download -crl_check (revoked): $out"
echo "$out" | grep -q "certificate revoked" || fail "revoked certificate accepted: $out"
api="$tmp/api.ops.hypermesh.online.pem"
out=$(verify "$api" -crl_check)
[ "$out" = "$api: OK" ] || fail "the other certificate refused after the revocation: $out"
ok "openssl verify -crl_download: good OK, revoked refused at once"

# The listener's limits from config (gateway.http_max_per_source: 3,
# gateway.http_head_timeout_s: 3): three idle connections from one address
# hold its slots, a fourth is closed at once, and a head trickled a byte a
# second is cut after ~3 s although it never goes idle.
/usr/bin/python3 - "$http" <<'PY' || fail "gateway.http_* limits"
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
def conn():
    return socket.create_connection((host, int(port)), timeout=10)
held = [conn() for _ in range(3)]
time.sleep(0.5)
extra = conn()
extra.settimeout(5)
try:
    closed = extra.recv(1) == b""
except ConnectionResetError:
    closed = True
except socket.timeout:
    closed = False
if not closed:
    sys.exit("a 4th connection from one address was kept (limit 3)")
for s in held:
    s.close()
time.sleep(0.5)
s = conn()
t0 = time.time()
cut = None
for ch in b"GET /crl/intermediate.crl HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 30:
    try:
        s.send(bytes([ch]))
    except OSError:
        cut = time.time() - t0
        break
    time.sleep(1 if ch == ord("a") else 0)
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            cut = time.time() - t0
            break
    except BlockingIOError:
        pass
    except OSError:
        cut = time.time() - t0
        break
    s.setblocking(True)
if cut is None or cut > 8:
    sys.exit("a trickled request head was not cut within 8 s (head timeout 3 s): %s" % cut)
print("4th connection from one address closed at once; trickled head cut after %.1f s" % cut)
PY
curl -sS -o /dev/null -w '%{http_code}' "$http/ca/root.crt" | grep -q 200 || fail "listener not serving after the limits test"
ok "gateway.http_max_per_source and gateway.http_head_timeout_s enforced"
