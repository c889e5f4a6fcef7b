#!/usr/bin/env bash
# End-to-end key ceremony on a throwaway SoftHSM token:
#   ceremony_test.sh [BIN_DIR]      (or TC_BIN_DIR=...; BIN_DIR holds trustchainctl)
# Runs "trustchainctl ceremony dev" in a fresh data directory and checks the
# result with independent tools (openssl, pkcs11-tool, flock) as well as with
# trustchainctl's own verifiers, including that tampering is detected.
set -euo pipefail

BIN_DIR=${1:-${TC_BIN_DIR:-}}
if [[ -z "$BIN_DIR" || ! -x "$BIN_DIR/trustchainctl" ]]; then
	echo "usage: $0 BIN_DIR (the directory holding trustchainctl)" >&2
	exit 2
fi
CTL=$(cd "$BIN_DIR" && pwd)/trustchainctl
MODULE=/usr/lib/softhsm/libsofthsm2.so
for tool in openssl pkcs11-tool flock sha256sum base64; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/tc-ceremony-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DATA=$WORK/data
CONF=$WORK/trustchain.yaml
cat >"$CONF" <<EOF
server:
  dev: true
  data_dir: $DATA
EOF

# libp11 0.4.12 leaks its slot and key objects; suppress only leaks whose
# allocation stack goes through libp11 (slow unwinding, so the stack is whole).
printf 'leak:libp11.so\n' >"$WORK/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$WORK/lsan.supp:fast_unwind_on_malloc=0:print_suppressions=0"

checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ctl() { "$CTL" --config "$CONF" --operator ceremony-test "$@"; }
# run_expect CODE OUTFILE CMD...: runs CMD, output to OUTFILE, insists on exit CODE.
run_expect() {
	local want=$1 out=$2 rc=0
	shift 2
	"$@" >"$out" 2>&1 || rc=$?
	if [[ $rc -ne $want ]]; then
		cat "$out" >&2
		fail "'$*' exited $rc, expected $want"
	fi
}
# Every file under the data dir with its hash, except SoftHSM's token state
# file, which SoftHSM rewrites on every login.
snapshot() { (cd "$DATA" && find . -type f ! -name token.object -print0 | sort -z | xargs -0 sha256sum); }

echo "# ceremony dev in $DATA"
run_expect 0 "$WORK/dev1.out" ctl ceremony dev
cat "$WORK/dev1.out"
ok "ceremony dev exits 0"

for f in ca/root.pem ca/intermediate.pem ca/chain.pem ct/log_public_key.pem ct/log_id.txt \
	dns/zone_key.pem audit/audit_public_key.pem journal/audit.jsonl hsm/softhsm2.conf; do
	[[ -s "$DATA/$f" ]] || fail "$f was not written"
done
ok "all public artefacts, the journal and softhsm2.conf exist"
for f in hsm/user.pin hsm/so.pin; do
	[[ $(stat -c %a "$DATA/$f") == 600 ]] || fail "$f is not mode 0600"
done
ok "PIN files are mode 0600"
if grep -rqF "$(cat "$DATA/hsm/user.pin")" "$WORK/dev1.out" "$DATA/ceremonies" "$DATA/journal"; then
	fail "the user PIN appears in output, transcripts or journal"
fi
ok "the user PIN appears in no output, transcript or journal"

echo "# certificates"
run_expect 0 "$WORK/verify.out" openssl verify -CAfile "$DATA/ca/root.pem" "$DATA/ca/intermediate.pem"
grep -q ': OK$' "$WORK/verify.out" || fail "openssl verify did not say OK"
ok "openssl verify -CAfile root.pem intermediate.pem: OK"
openssl x509 -in "$DATA/ca/root.pem" -noout -text >"$WORK/root.txt"
openssl x509 -in "$DATA/ca/intermediate.pem" -noout -text >"$WORK/inter.txt"
grep -A1 'Basic Constraints: critical' "$WORK/inter.txt" | grep -q 'CA:TRUE, pathlen:0' ||
	fail "intermediate lacks critical CA:TRUE, pathlen:0"
grep -A1 'Key Usage: critical' "$WORK/inter.txt" | grep -q 'Certificate Sign, CRL Sign' ||
	fail "intermediate lacks critical keyCertSign+cRLSign"
grep -q 'Authority Key Identifier' "$WORK/inter.txt" || fail "intermediate lacks an AKI"
grep -q 'Subject Key Identifier' "$WORK/inter.txt" || fail "intermediate lacks an SKI"
ok "intermediate: CA:TRUE pathlen:0 critical, keyCertSign+cRLSign critical, SKI, AKI"
grep -A1 'Basic Constraints: critical' "$WORK/root.txt" | grep -q 'CA:TRUE$' ||
	fail "root lacks critical CA:TRUE"
grep -A1 'Key Usage: critical' "$WORK/root.txt" | grep -q 'Certificate Sign, CRL Sign' ||
	fail "root lacks critical keyCertSign+cRLSign"
grep -q 'ASN1 OID: secp384r1' "$WORK/root.txt" || fail "root key is not P-384"
grep -q 'ASN1 OID: prime256v1' "$WORK/inter.txt" || fail "intermediate key is not P-256"
[[ $(openssl x509 -in "$DATA/ca/root.pem" -noout -subject -nameopt RFC2253) == \
	"subject=CN=TrustChain DEV Root CA,O=TrustChain DEV" ]] || fail "unexpected root subject"
[[ $(openssl x509 -in "$DATA/ca/intermediate.pem" -noout -subject -nameopt RFC2253) == \
	"subject=CN=TrustChain DEV Issuing CA 1,O=TrustChain DEV" ]] || fail "unexpected intermediate subject"
ok "root: self-signed P-384, CA:TRUE critical, keyCertSign+cRLSign; subjects as specified"
cat "$DATA/ca/intermediate.pem" "$DATA/ca/root.pem" | cmp -s - "$DATA/ca/chain.pem" ||
	fail "chain.pem is not intermediate then root"
ok "chain.pem is the intermediate followed by the root"

echo "# CT log ID"
want_id=$(openssl pkey -pubin -in "$DATA/ct/log_public_key.pem" -outform DER | openssl dgst -sha256 -binary | base64)
[[ "$(cat "$DATA/ct/log_id.txt")" == "$want_id" ]] || fail "log_id.txt is not base64(SHA-256(SPKI))"
ok "ct/log_id.txt is base64 SHA-256 of the log key's SubjectPublicKeyInfo ($want_id)"

echo "# keys on the token"
run_expect 0 "$WORK/list.out" ctl ceremony list-keys
cat "$WORK/list.out"
for label in tc-root tc-intermediate tc-ct-log tc-dns-zone tc-audit; do
	grep -Eq "^private +EC +$label +[0-9a-f]{32} +yes +no +yes +yes$" "$WORK/list.out" ||
		fail "list-keys: $label is not a sensitive, never-extractable EC private key"
done
ok "list-keys: 5 EC private keys, sensitive, not extractable, always sensitive, never extractable"

SOFTHSM2_CONF=$DATA/hsm/softhsm2.conf pkcs11-tool --module "$MODULE" --token-label trustchain-dev \
	--login --pin "$(cat "$DATA/hsm/user.pin")" --list-objects >"$WORK/p11.out" 2>&1 ||
	{ cat "$WORK/p11.out" >&2; fail "pkcs11-tool --list-objects failed"; }
# One line per private key: "label id access".
awk '/^Private Key Object/ {p=1; next} /^[A-Z]/ {p=0}
     p && /label:/ {l=$2} p && /ID:/ {i=$2}
     p && /Access:/ {sub(/^ *Access: */, ""); print l, i, $0}' "$WORK/p11.out" >"$WORK/privkeys"
cat "$WORK/privkeys"
[[ $(wc -l <"$WORK/privkeys") -eq 5 ]] || fail "pkcs11-tool sees $(wc -l <"$WORK/privkeys") private keys, expected 5"
while read -r label id access; do
	[[ "$access" == *"sensitive, always sensitive, never extractable"* ]] ||
		fail "pkcs11-tool: $label is not sensitive/never extractable ($access)"
done <"$WORK/privkeys"
ok "pkcs11-tool: 5 private keys, each sensitive, always sensitive, never extractable"
[[ $(awk '{print $2}' "$WORK/privkeys" | sort -u | wc -l) -eq 5 ]] || fail "CKA_IDs are not unique"
ok "the 5 private keys have distinct CKA_IDs"
for label in tc-root tc-intermediate; do
	key_id=$(awk -v l="$label" '$1 == l {print $2}' "$WORK/privkeys")
	awk '/^Certificate Object/ {c=1; next} /^[A-Z]/ {c=0} c && /label:/ {l=$2} c && /ID:/ {print l, $2}' \
		"$WORK/p11.out" | grep -qx "$label $key_id" || fail "no certificate for $label with its key's CKA_ID"
done
ok "root and intermediate certificates are on the token under their keys' CKA_IDs"

echo "# transcripts"
transcripts=("$DATA"/ceremonies/*.json)
[[ ${#transcripts[@]} -eq 5 ]] || fail "expected 5 transcripts, found ${#transcripts[@]}"
for t in "${transcripts[@]}"; do
	run_expect 0 "$WORK/vt.out" ctl ceremony verify-transcript "$t"
	cat "$WORK/vt.out"
	run_expect 0 "$WORK/vt.out" "$CTL" ceremony verify-transcript "$t" --audit-key "$DATA/audit/audit_public_key.pem"
done
ok "all 5 transcripts verify against the audit key (default and --audit-key)"
grep -q '"dev": true' "$DATA/ceremonies/0002-create-root.json" || fail "dev transcript not marked dev"
grep -q "\"log_id\": \"$want_id\"" "$DATA/ceremonies/0004-create-key-ct-log.json" || fail "CT transcript lacks the log ID"
ok "transcripts are marked dev and carry the log ID"

sed 's/"operator": "ceremony-test"/"operator": "ceremony-tesT"/' "$DATA/ceremonies/0002-create-root.json" >"$WORK/tampered.json"
[[ $(cmp -l "$DATA/ceremonies/0002-create-root.json" "$WORK/tampered.json" | wc -l) -eq 1 ]] || fail "tamper did not change exactly one byte"
run_expect 1 "$WORK/vt.out" ctl ceremony verify-transcript "$WORK/tampered.json"
grep -q INVALID "$WORK/vt.out" || fail "tampered transcript not reported INVALID"
cat "$WORK/vt.out"
ok "a transcript with one byte changed in its content fails verification"
sed '3s/^  /\t/' "$DATA/ceremonies/0002-create-root.json" >"$WORK/tampered2.json"
run_expect 1 "$WORK/vt.out" ctl ceremony verify-transcript "$WORK/tampered2.json"
cat "$WORK/vt.out"
ok "a transcript with only its layout changed fails verification"
run_expect 1 "$WORK/vt.out" ctl ceremony verify-transcript "$DATA/ceremonies/0002-create-root.json" \
	--audit-key "$DATA/ct/log_public_key.pem"
ok "a transcript does not verify with another key"

echo "# audit journal"
run_expect 0 "$WORK/jv.out" ctl journal verify
cat "$WORK/jv.out"
grep -q 'OK, 6 records, head [0-9a-f]\{64\}$' "$WORK/jv.out" || fail "journal verify did not report 6 records and the head"
ok "journal verify: chain intact, 6 records (init-token + 5 transcripts), head hash printed"
[[ $(grep -c '"op":"ceremony:' "$DATA/journal/audit.jsonl") -eq 6 ]] || fail "journal lacks ceremony records"
sed '3s/"peer":"ceremony"/"peer":"ceremonY"/' "$DATA/journal/audit.jsonl" >"$WORK/journal-tampered.jsonl"
[[ $(cmp -l "$DATA/journal/audit.jsonl" "$WORK/journal-tampered.jsonl" | wc -l) -eq 1 ]] || fail "tamper did not change exactly one byte"
run_expect 1 "$WORK/jv.out" "$CTL" journal verify "$WORK/journal-tampered.jsonl"
cat "$WORK/jv.out"
grep -q 'line 3' "$WORK/jv.out" || fail "journal verify did not name line 3"
ok "a journal with one byte flipped on line 3 fails verification naming line 3"

echo "# idempotence and refusals"
snapshot >"$WORK/before.sums"
run_expect 0 "$WORK/dev2.out" ctl ceremony dev
cat "$WORK/dev2.out"
snapshot >"$WORK/after.sums"
diff "$WORK/before.sums" "$WORK/after.sums" || fail "a second ceremony dev changed files"
ok "a second ceremony dev exits 0 and changes nothing"
run_expect 1 "$WORK/again.out" ctl ceremony create-root
cat "$WORK/again.out"
grep -q "exists already" "$WORK/again.out" || fail "create-root was not refused for an existing key"
run_expect 1 "$WORK/again.out" ctl ceremony create-key ct-log
run_expect 1 "$WORK/again.out" ctl ceremony init-token
cat "$WORK/again.out"
ok "create-root, create-key ct-log and init-token refuse to redo an existing key or token"
snapshot >"$WORK/after2.sums"
diff "$WORK/before.sums" "$WORK/after2.sums" || fail "a refused step changed files"
ok "refused steps changed nothing"

run_expect 1 "$WORK/lock.out" flock "$DATA/journal/audit.jsonl" "$CTL" --config "$CONF" ceremony create-key dns-zone
cat "$WORK/lock.out"
grep -q "in use by another process" "$WORK/lock.out" || fail "a locked journal was not reported"
ok "a ceremony refuses to run while another process holds the journal"

echo "# usage and configuration errors"
printf 'server:\n  dev: true\n  data_dir: %s\n  bogus_key: 1\n' "$DATA" >"$WORK/bad.yaml"
run_expect 2 "$WORK/bad.out" "$CTL" --config "$WORK/bad.yaml" ceremony dev
cat "$WORK/bad.out"
grep -q 'server.bogus_key' "$WORK/bad.out" || fail "config error does not name the key"
ok "an unknown config key exits 2 and names server.bogus_key"
run_expect 2 "$WORK/usage.out" ctl ceremony no-such-step
run_expect 2 "$WORK/usage.out" ctl ceremony create-key no-such-key
run_expect 2 "$WORK/usage.out" ctl no-such-command
run_expect 2 "$WORK/usage.out" ctl ceremony verify-transcript
printf 'server:\n  data_dir: %s\n' "$DATA" >"$WORK/prod.yaml"
run_expect 2 "$WORK/usage.out" "$CTL" --config "$WORK/prod.yaml" ceremony dev
run_expect 2 "$WORK/usage.out" "$CTL" --config "$WORK/prod.yaml" ceremony init-token
ok "usage errors (unknown step/key/command, missing argument, dev or SO PIN outside dev mode) exit 2"

echo "PASS: $checks checks"
