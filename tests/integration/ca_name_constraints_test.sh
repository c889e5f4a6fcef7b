#!/usr/bin/env bash
# Name-constrained intermediate (issue 14 part 6): the ceremony writes a
# critical nameConstraints extension into the intermediate (permitted DNS =
# ca.permitted_suffixes, permitted IPs = ca.permitted_ip_ranges, excluded
# ca.excluded_*), so a relying party refuses a leaf outside them even when
# the signer was fooled: leaves forged with the intermediate's key straight
# through PKCS#11 (ca_forge_leaf, no signer, no policy, no lint) are
# refused by `openssl verify` outside the constraints and accepted inside.
# Usage: ca_name_constraints_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
. "$(dirname "$0")/server_lib.sh" name-constraints

cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
ca:
  # 127.0.0.0/8: the gateway's own certificate names 127.0.0.1 (dev tls_names).
  permitted_ip_ranges: [192.0.2.0/24, "2001:db8::/32", 127.0.0.0/8]
  excluded_suffixes: [secret.hypermesh.online]
  excluded_ip_ranges: [192.0.2.128/25]
YAML
"$bindir/trustchainctl" --config "$tmp/trustchain.yaml" ceremony dev > "$tmp/ceremony.out" 2>&1 ||
  { cat "$tmp/ceremony.out"; fail "ceremony dev"; }
root="$tmp/data/ca/root.pem"
chain="$tmp/data/ca/intermediate.pem"
text=$(openssl x509 -in "$chain" -noout -text)
echo "$text" | grep -A12 "X509v3 Name Constraints: critical" > "$tmp/nc.txt" || fail "no critical nameConstraints"
for want in "DNS:hypermesh.online" "DNS:localhost" "IP:192.0.2.0/255.255.255.0" "DNS:secret.hypermesh.online" \
  "IP:192.0.2.128/255.255.255.128"; do
  grep -q "$want" "$tmp/nc.txt" || { cat "$tmp/nc.txt"; fail "nameConstraints without $want"; }
done
ok "intermediate: critical nameConstraints $(tr -s ' \n' ' ' < "$tmp/nc.txt")"

n=0
check() { # check EXPECT NAME...: EXPECT is OK or the openssl error text
  local expect=$1; shift
  n=$((n + 1))
  "$bindir/ca_forge_leaf" "$tmp/trustchain.yaml" "$tmp/leaf$n.pem" "$@" || fail "forging $*"
  out=$(openssl verify -CAfile "$root" -untrusted "$chain" "$tmp/leaf$n.pem" 2>&1 || true)
  echo "openssl verify ($*): $(echo "$out" | grep -v '^error .* verification failed' | tr '\n' ' ')"
  if [ "$expect" = OK ]; then
    [ "$out" = "$tmp/leaf$n.pem: OK" ] || fail "inside the constraints, refused: $out"
  else
    echo "$out" | grep -q "$expect" || fail "$* accepted or refused for another reason: $out"
  fi
}
check OK www.hypermesh.online api.localhost
check OK node.hypermesh.online 192.0.2.7 2001:db8::1
check "permitted subtree violation" www.example.org
check "permitted subtree violation" www.hypermesh.online www.example.org
check "permitted subtree violation" www.hypermesh.online 198.51.100.1
check "excluded subtree violation" x.secret.hypermesh.online
check "excluded subtree violation" www.hypermesh.online 192.0.2.200
ok "forged leaves outside the nameConstraints refused by openssl verify, inside accepted"

# Our own Validate must refuse what openssl refuses: its short path (one
# signature check against the pinned intermediate) once skipped the
# constraints and said TRUSTED for leaf3 (www.example.org). The forged
# leaves carry no SCT: require_sct off so only the names decide.
base=$(( 20000 + RANDOM % 20000 ))
cat >> "$tmp/trustchain.yaml" <<YAML
dns:
  udp_port: $base
  quic_port: $((base + 1))
ct:
  http_listen: 127.0.0.1:$((base + 2))
acme:
  listen: off
gateway:
  listen: 127.0.0.1:$((base + 3))
  http_listen: 127.0.0.1:$((base + 5))
  require_sct: false
YAML
start_server
validate() { # validate LEAF NAME -> the decision line
  cat "$tmp/$1" "$chain" > "$tmp/validate.pem"
  "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" validate --target "127.0.0.1:$((base + 3))" \
    --name "$2" "$tmp/validate.pem" 2>&1 | grep '^decision:' || true
}
[ "$(validate leaf1.pem www.hypermesh.online)" = "decision: TRUSTED" ] || fail "Validate refused a leaf inside: $(validate leaf1.pem www.hypermesh.online)"
for leaf in "leaf3.pem www.example.org" "leaf4.pem www.hypermesh.online" "leaf6.pem x.secret.hypermesh.online"; do
  set -- $leaf
  [ "$(validate "$1" "$2")" = "decision: UNTRUSTED" ] || fail "Validate accepted $1 ($2) outside the constraints"
done
ok "Validate: inside TRUSTED, outside (permitted and excluded subtrees) UNTRUSTED"
