#!/usr/bin/env bash
# trustchainctl dns export (issue 12, part 5) under the real supervisor: the
# signed zone, with a record added by nsupdate, written as a master file by
# AXFR with a TSIG key of dns.secondaries. Checks: Knot's kzonecheck (with
# its DNSSEC checks) and ldns-verify-zone accept it, it holds the update
# and its RRSIG and every record of dig's own signed AXFR; one flipped
# signature octet makes ldns-verify-zone refuse it (the check can fail); a
# key that is not a secondary's is refused and leaves no file behind.
# Usage: dns_export_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
for tool in dig nsupdate kzonecheck ldns-verify-zone; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (ops/deps.sh TEST_PACKAGES)"; exit 77; }
done
. "$(dirname "$0")/server_lib.sh" dns-export
zone=trust.hypermesh.online
base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1)) ct=$((base + 2)) gw=$((base + 3))

"$bindir/trustchainctl" dns tsig new xfr > "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new outsider >> "$tmp/tsig.keys"
"$bindir/trustchainctl" dns tsig new acme > "$tmp/acme.key"
cat "$tmp/acme.key" >> "$tmp/tsig.keys"
own_tsig_keys
secret=$(tsig_secret xfr)

cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $port
  quic_port: $quic
  tsig_keys_file: $tmp/tsig.keys
  secondaries:
    - {address: "127.0.0.1:$((base + 5))", key: xfr}
  update_policy:
    - {key: acme, names: ["_acme-challenge.*"], types: [TXT]}
  records:
    - "www 300 A 192.0.2.10"
    - "txt 300 TXT \"exported text\""
ct:
  http_listen: 127.0.0.1:$ct
gateway:
  listen: 127.0.0.1:$gw
YAML

"$bindir/trustchain-server" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
server_pid=$!
wait_ready resolver
grep -q "zone $zone built: .* signed (" "$tmp/server.log" || fail "zone not signed at start"
# The zone settles once the DoQ certificate's TLSA record is in (the signer
# and the log issue it after start).
for _ in $(seq 1 300); do
  grep -q "DoQ DANE-EE" "$tmp/server.log" && break
  sleep 0.2
done
name=_acme-challenge.www.$zone
{ echo "server 127.0.0.1 $port"; echo "zone $zone"; echo "update add $name 60 TXT \"exported-token\""; echo send; } |
  nsupdate -t 5 -k "$tmp/acme.key" || fail "nsupdate add failed"

ctl() { "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" "$@"; }
ctl dns export --out "$tmp/zone.db" 2> "$tmp/export.err" || fail "export failed: $(cat "$tmp/export.err")"
cat "$tmp/export.err"
[ "$(awk 'NR == 1 { print $4 }' "$tmp/zone.db")" = SOA ] || fail "the export does not start with the SOA"
[ "$(grep -c $'\tSOA\t' "$tmp/zone.db")" = 1 ] || fail "the export has the SOA more than once"
grep -q "^$name\.	60	IN	TXT	\"exported-token\"" "$tmp/zone.db" || fail "the update is not in the export"
grep -q "^$name\.	60	IN	RRSIG	TXT 13 " "$tmp/zone.db" || fail "the update's RRSIG is not in the export"
for t in DNSKEY NSEC TLSA CAA A; do
  grep -q $'\t'"$t"$'\t' "$tmp/zone.db" || fail "the export has no $t record"
done
ok "exported $(wc -l < "$tmp/zone.db") records"

# The same records as dig's own TSIG-verified AXFR (first SOA only).
dig +tcp +nocmd +nostats -y "hmac-sha256:xfr:$secret" @127.0.0.1 -p "$port" "$zone" AXFR |
  awk '!/^;/ && NF && $4 != "TSIG" { print $1, $4 }' | awk '!($2 == "SOA" && seen++)' | sort > "$tmp/dig.names"
awk '{ print $1, $4 }' "$tmp/zone.db" | sort > "$tmp/export.names"
diff "$tmp/dig.names" "$tmp/export.names" > "$tmp/names.diff" || fail "export and dig AXFR differ: $(head "$tmp/names.diff")"
ok "the same $(wc -l < "$tmp/export.names") owner/type pairs as dig's AXFR"

kzonecheck -o "$zone" -d on "$tmp/zone.db" > "$tmp/kzc.out" 2>&1 || fail "kzonecheck refused the export: $(cat "$tmp/kzc.out")"
ok "kzonecheck -d on accepts it"
ldns-verify-zone "$tmp/zone.db" > "$tmp/ldns.out" 2>&1 || fail "ldns-verify-zone refused the export: $(cat "$tmp/ldns.out")"
ok "ldns-verify-zone: $(tail -n 1 "$tmp/ldns.out")"

# One octet of the update's signature changed: the verifier must notice.
awk -v n="$name." '$1 == n && $4 == "RRSIG" && !done { s = $NF; c = substr(s, 10, 1); r = (c == "A") ? "B" : "A";
  $NF = substr(s, 1, 9) r substr(s, 11); done = 1 } { print }' OFS='\t' "$tmp/zone.db" > "$tmp/bad.db"
cmp -s "$tmp/zone.db" "$tmp/bad.db" && fail "could not alter a signature"
ldns-verify-zone "$tmp/bad.db" > "$tmp/ldns-bad.out" 2>&1 && fail "ldns-verify-zone accepted a changed signature"
ok "a changed signature is refused by ldns-verify-zone"

# Only a secondary's key may transfer; a refused export leaves no file.
ctl dns export --key outsider --out "$tmp/refused.db" 2> "$tmp/refused.err" && fail "export with a non-secondary key succeeded"
grep -qi "refused\|NOTAUTH" "$tmp/refused.err" || fail "no refusal said: $(cat "$tmp/refused.err")"
ls "$tmp"/refused.db* >/dev/null 2>&1 && fail "a refused export left a file"
ok "a non-secondary key is refused ($(cat "$tmp/refused.err")), no file left"

# Standard output when --out is not given: the same zone (unless the
# serial moved meanwhile), accepted as it is.
ctl dns export > "$tmp/stdout.db" || fail "export to standard output failed"
[ "$(awk 'NR == 1 { print $4 }' "$tmp/stdout.db")" = SOA ] || fail "standard output export does not start with the SOA"
kzonecheck -o "$zone" -d on "$tmp/stdout.db" > /dev/null 2>&1 || fail "kzonecheck refused the standard output export"
ok "export to standard output ($(wc -l < "$tmp/stdout.db") records)"
