#!/usr/bin/env bash
# The distance to an in-memory CA, in one run: Debian's `cfssl serve`
# (golang-cfssl, P-256 CA key in memory, no CT, no journal) signs one CSR per
# HTTP request under `wrk` with the same connection count as bench_issue,
# right before and right after bench_issue; the ratio of our rate to cfssl's
# (mean of before and after) is printed with bench_issue's own figures (raw
# HSM rate, HSM-bound ceiling, CPU per certificate).
#
# usage: ops/bench-baseline.sh [BUILD_DIR] [-c clients] [-d seconds] [other bench_issue options]
#   BUILD_DIR defaults to $BUILD_DIR, else ./build-rel; build it Release
#   (cmake -DCMAKE_BUILD_TYPE=Release; cmake --build DIR --target bench_issue).
# Needs cfssl, wrk, openssl, curl (ops/deps.sh TEST_PACKAGES). Prints figures;
# exits non-zero when a side could not be measured (cfssl answered errors,
# bench_issue failed). Runs servers on loopback only.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-rel}
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build=$1
  shift
fi
clients=64
seconds=10
args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    -c) clients=$2; shift 2 ;;
    -d) seconds=$2; shift 2 ;;
    *) shift ;;
  esac
done
bench="$build/bin/bench_issue"
for tool in cfssl wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench-baseline: $tool is missing (ops/deps.sh TEST_PACKAGES)" >&2; exit 2; }
done
[ -x "$bench" ] || { echo "bench-baseline: no $bench (build the bench_issue target)" >&2; exit 2; }

work=$(mktemp -d /tmp/tc-bench-baseline-XXXXXX)
cfssl_pid=
cleanup() {
  if [ -n "$cfssl_pid" ]; then kill "$cfssl_pid" 2>/dev/null || true; wait "$cfssl_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The CA: a P-256 key and a self-signed certificate, as cfssl keeps them
# (PEM files read once into memory); the CSR: a P-256 key and the same DNS
# name bench_issue asks for.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca-key.pem" 2>/dev/null
openssl req -new -x509 -key "$work/ca-key.pem" -out "$work/ca.pem" -days 30 -subj "/CN=bench-baseline CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$work/leaf-key.pem" 2>/dev/null
openssl req -new -key "$work/leaf-key.pem" -out "$work/leaf.csr" -subj "/CN=bench.svc.hypermesh.online" \
  -addext "subjectAltName=DNS:bench.svc.hypermesh.online" 2>/dev/null
# The sign request body: {"certificate_request": "<PEM with \n escaped>"}.
{ printf '{"certificate_request":"'; awk '{printf "%s\\n", $0}' "$work/leaf.csr"; printf '"}'; } > "$work/body.json"
cat > "$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "r")
wrk.body = f:read("*a")
f:close()
EOF

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/api/v1/cfssl/sign"
cfssl serve -address 127.0.0.1 -port "$port" -ca "$work/ca.pem" -ca-key "$work/ca-key.pem" -loglevel 5 \
  >"$work/cfssl.log" 2>&1 &
cfssl_pid=$!
for _ in $(seq 1 100); do
  curl -sf -o "$work/probe.json" -X POST --data @"$work/body.json" "$url" && break
  sleep 0.1
done
grep -q '"success":true' "$work/probe.json" 2>/dev/null || { echo "bench-baseline: cfssl serve does not sign:" >&2; cat "$work/cfssl.log" >&2; exit 1; }

# One wrk run: prints the rate; fails when any answer was not 2xx (a
# refused request would be counted as a fast one).
run_cfssl() {
  local out
  out=$(wrk -t2 -c"$clients" -d"${seconds}s" --latency -s "$work/post.lua" "$url")
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "bench-baseline: cfssl answered errors:" >&2
    echo "$out" >&2
    return 1
  fi
  local rate p99
  rate=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "cfssl serve ($1): $rate signatures/s  p99 $p99  (wrk, $clients connections, ${seconds} s)" >&2
  echo "$rate"
}

wrk -t2 -c"$clients" -d2s -s "$work/post.lua" "$url" >/dev/null # warm-up
before=$(run_cfssl before)
set +e
issue_out=$("$bench" "$build/bin" "${args[@]}")
issue_rc=$?
set -e
echo "$issue_out"
[ $issue_rc -eq 0 ] || { echo "bench-baseline: bench_issue failed ($issue_rc)" >&2; exit 1; }
after=$(run_cfssl after)
ours=$(awk '/^end to end:/ {for (i = 1; i <= NF; i++) if ($i == "issuances/s") print $(i-1)}' <<<"$issue_out")
[ -n "$ours" ] || { echo "bench-baseline: no rate in bench_issue's output" >&2; exit 1; }
awk -v ours="$ours" -v b="$before" -v a="$after" 'BEGIN {
  base = (a + b) / 2
  printf "ratio: TrustChain Issue %.0f/s vs cfssl sign %.0f/s (mean of %.0f before, %.0f after) = %.2fx\n",
         ours, base, b, a, ours / base
}'
