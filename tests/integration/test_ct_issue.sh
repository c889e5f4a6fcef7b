#!/usr/bin/env bash
# Issuance with embedded SCTs end to end under the real supervisor: the
# signer, the CT log and the gateway as trustchain-server runs them. The
# Python part (test_ct_issue.py) issues over gRPC, checks the SCT with
# OpenSSL's own CT validation in a TLS handshake (s_server / s_client -ct
# with the log list from `trustchainctl ct loglist`), finds the entries over
# HTTP and over the gRPC Transparency service, and checks a restart of the
# log never yields a certificate without an SCT.
# Usage: test_ct_issue.sh BINDIR SOURCE_DIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
py=/usr/bin/python3
. "$(dirname "$0")/server_lib.sh" ct-issue
python_stubs

dev_config "@ct" "  sequence_interval_ms: 50"

start_server

# The log list OpenSSL reads, from the published log key.
"$bindir/trustchainctl" --config "$tmp/trustchain.yaml" ct loglist --out "$tmp/loglist.cnf" ||
  fail "trustchainctl ct loglist"
grep -q '^enabled_logs = trustchain$' "$tmp/loglist.cnf" || fail "loglist has no enabled_logs line"
grep -q '^key = ' "$tmp/loglist.cnf" || fail "loglist has no key"
# --data-dir and stdout give the same file.
"$bindir/trustchainctl" ct loglist --data-dir "$tmp/data" | cmp -s - "$tmp/loglist.cnf" ||
  fail "ct loglist --data-dir differs"
if "$bindir/trustchainctl" ct loglist --data-dir "$tmp/nowhere" 2>/dev/null; then
  fail "ct loglist without a key succeeded"
fi

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
  -subj /CN=tls.hypermesh.online -out "$tmp/csr.pem" 2>/dev/null || fail "cannot make a CSR"

transparency_pid=$(awk '$1 == "transparency" { print $2 }' "$tmp/data/server.status")
$py "$src/tests/integration/test_ct_issue.py" "$tmp/gen" "127.0.0.1:$((base + 3))" \
  "127.0.0.1:$((base + 2))" "$tmp" "$transparency_pid" || fail "CT issuance test"
echo "ok: CT issuance test"
