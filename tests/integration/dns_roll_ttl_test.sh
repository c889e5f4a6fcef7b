#!/usr/bin/env bash
# trustchainctl dns-roll start refuses a dns.rollover.max_ttl (or
# --max-ttl) below the zone's largest TTL: a roll timed on it would remove
# the old key while caches still hold RRsets it signed (issue 12). The
# refusal comes before any HSM work, so no server or token is needed: each
# case checks the message names the record that carries the largest TTL;
# the last one, with every TTL within max_ttl, must get past the check.
# Usage: dns_roll_ttl_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
tmp=$(mktemp -d /tmp/tc-dns-roll-ttl-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# run NAME DNS-YAML [ARGS...]: dns-roll start zsk on a dev config whose dns
# section is DNS-YAML; its output in $tmp/NAME.out.
run() {
  local name=$1 dns=$2
  shift 2
  printf 'server:\n  dev: true\n  data_dir: %s/data-%s\ndns:\n%s' "$tmp" "$name" "$dns" > "$tmp/$name.yaml"
  "$bindir/trustchainctl" --config "$tmp/$name.yaml" dns-roll start zsk "$@" > "$tmp/$name.out" 2>&1 && return 0
  return 1
}
refused() {
  local name=$1 want=$2
  grep -q "below the zone's largest TTL" "$tmp/$name.out" || fail "$name: not refused for the TTL: $(cat "$tmp/$name.out")"
  grep -qF -- "$want" "$tmp/$name.out" || fail "$name: the refusal does not name '$want': $(cat "$tmp/$name.out")"
  echo "ok: $name: $(cat "$tmp/$name.out")"
}

# Defaults: the generated SOA/NS/TXT/CAA live 3600 s.
run soa '  dnskey_ttl: 300
  rollover: {max_ttl: 600}
' && fail "soa: started with max_ttl 600 under a 3600 s SOA"
refused soa "TTL 3600 (trust.hypermesh.online. "

# dns.default_ttl lowers them; a record of dns.records is then the largest.
run record '  default_ttl: 300
  dnskey_ttl: 300
  records:
    - "www 7200 TXT \"long\""
  rollover: {max_ttl: 600}
' && fail "record: started with max_ttl 600 under a 7200 s TXT"
refused record "TTL 7200 (www.trust.hypermesh.online. TXT)"

# The DNSKEY TTL (it was raised silently before).
run dnskey '  default_ttl: 300
  dnskey_ttl: 900
  rollover: {max_ttl: 600}
' && fail "dnskey: started with max_ttl 600 under a 900 s DNSKEY"
refused dnskey "TTL 900 (DNSKEY (dns.dnskey_ttl))"

# --max-ttl on the command line is checked the same way.
run cmdline '  default_ttl: 300
  dnskey_ttl: 300
  rollover: {max_ttl: 86400}
' --max-ttl 299 && fail "cmdline: started with --max-ttl 299"
refused cmdline "max_ttl 299"

# Every TTL within max_ttl: past the check (it may then fail for want of a
# token here, but not for the TTL).
run within '  default_ttl: 300
  dnskey_ttl: 300
  records:
    - "www 600 TXT \"ok\""
  rollover: {max_ttl: 600}
' || true
if grep -q "below the zone's largest TTL" "$tmp/within.out"; then
  fail "within: refused although every TTL is within max_ttl: $(cat "$tmp/within.out")"
fi
echo "ok: within: not refused for the TTL"
echo "PASS"
