#!/usr/bin/env bash
# The gateway under the real supervisor, called from Python with grpcio:
# runs trustchain-server in dev mode on random loopback ports, generates the
# Python message classes from api/trustchain/v1 with protoc, and runs
# test_gateway_api.py against it.
# Usage: test_gateway_py.sh BINDIR SOURCE_DIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
py=/usr/bin/python3
. "$(dirname "$0")/server_lib.sh" gateway-py
python_stubs

# Two bearer tokens: an admin (every name, may revoke) and a deployer
# limited to *.py.hypermesh.online. The file holds their SHA-256 only; the
# supervisor hands the data dir (and so the file) to the children's user.
mkdir -p "$tmp/data"
admin_token=$(openssl rand -hex 24)
deployer_token=$(openssl rand -hex 24)
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
{
  echo "$(sha "$admin_token") py-admin * revoke"
  echo "$(sha "$deployer_token") py-deployer *.py.hypermesh.online"
} > "$tmp/data/tokens"
chmod 600 "$tmp/data/tokens"
# A secret: the gateway's own (as trustchain-server --check-config says).
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
export TC_TEST_ADMIN_TOKEN=$admin_token TC_TEST_DEPLOYER_TOKEN=$deployer_token

dev_config "  tokens_file: $tmp/data/tokens"

start_server

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
  -subj /CN=py.hypermesh.online -out "$tmp/csr.pem" 2>/dev/null || fail "cannot make a CSR"

$py "$src/tests/integration/test_gateway_api.py" "$tmp/gen" "127.0.0.1:$((base + 3))" "$tmp/data" "$tmp" ||
  fail "python API test"
echo "ok: python gRPC API test"
