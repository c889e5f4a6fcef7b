#!/usr/bin/env bash
# Issue against a slow HSM (issue 16, part 4): bench_issue with the PKCS#11
# fault shim (tests/support/pkcs11_fault.c) wrapping SoftHSM as hsm.module,
# first with no added latency, then with LATENCY_MS added to every signature,
# in one run. Prints both and the p99 bound scaled by the latency: the p99
# without it plus 3 x LATENCY_MS, since an issuance makes three HSM
# signatures one after another (precertificate, its SCT, final certificate).
# A signer that signed on one thread per core would queue them instead
# (64 clients at 50 ms: 24 issuances/s, p99 about 3 s).
#
#   tests/bench/bench_hsm_latency.sh BUILD_DIR [LATENCY_MS [SECONDS [CLIENTS]]]
#
# BUILD_DIR holds bin/bench_issue and lib/pkcs11_fault.so (a Release build
# for figures). Ports are on loopback: run it in a network namespace of its
# own beside other tests (unshare -n). Prints figures; not a test.
set -euo pipefail
build=$(cd "$1" && pwd)
latency=${2:-50}
seconds=${3:-20}
clients=${4:-64}
shim=$build/lib/pkcs11_fault.so
[ -x "$build/bin/bench_issue" ] && [ -f "$shim" ] ||
  { echo "bench_hsm_latency: needs $build/bin/bench_issue and $shim (cmake --build $build --target bench_issue tc_pkcs11_fault)" >&2; exit 2; }

# run MS: bench_issue's figures at MS of added latency; sets p50 and p99.
run() {
  local out
  out=$(TC_FAULT_LATENCY_MS=$1 "$build/bin/bench_issue" "$build/bin" -c "$clients" -d "$seconds" -m "$shim" 2>&1) ||
    { echo "$out" >&2; echo "bench_hsm_latency: bench_issue failed at $1 ms" >&2; exit 1; }
  echo "--- HSM latency $1 ms per signature"
  grep -E '^(end to end|CPU per issuance|context switches)' <<<"$out"
  p50=$(sed -n 's/^end to end:.* p50 \([0-9.]*\) ms.*/\1/p' <<<"$out")
  p99=$(sed -n 's/^end to end:.* p99 \([0-9.]*\) ms.*/\1/p' <<<"$out")
  [ -n "$p99" ] || { echo "$out" >&2; echo "bench_hsm_latency: no p99 in bench_issue's output" >&2; exit 1; }
}
run 0
base_p50=$p50 base_p99=$p99
run "$latency"
awk -v b50="$base_p50" -v b99="$base_p99" -v p50="$p50" -v p99="$p99" -v l="$latency" -v c="$clients" 'BEGIN {
  bound = b99 + 3 * l
  printf "--- %d clients: p50 %.1f -> %.1f ms (3 x %d ms = %d ms more expected), p99 %.1f -> %.1f ms; " \
         "bound p99 %.1f + 3 x %d = %.1f ms: %s (%.2fx the bound)\n",
         c, b50, p50, l, 3 * l, b99, p99, b99, l, bound, p99 <= bound ? "met" : "NOT met", p99 / bound
}'
