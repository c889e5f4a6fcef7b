#!/usr/bin/env bash
# Installs the Debian 12 packages TrustChain needs to build, run and test.
# As root it runs apt-get; otherwise it lists what is missing and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libssl-dev openssl
  libp11-dev libp11-kit-dev softhsm2 opensc
  libgrpc-dev protobuf-compiler-grpc protobuf-compiler
  libprotobuf-c-dev protobuf-c-compiler
  libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev
  libleveldb-dev libsnappy-dev
  libyaml-dev libcunit1-dev libmicrohttpd-dev libjansson-dev libevent-dev libseccomp-dev
  python3 python3-grpcio python3-protobuf
  dnsutils procps curl
  libcurl4-openssl-dev  # trustchain-validator's http-01 fetches (libcurl, OpenSSL flavour)
)
# Real third-party software the tests run against (ops/test.sh sets
# TC_TEST_DEPS=1): tools every test needs beyond the build.
TEST_PACKAGES=(
  util-linux iproute2
  knot nsd bind9-dnsutils  # DNS secondaries and nsupdate/dig/delv (dns_xfr_test.sh)
  knot-dnssecutils ldnsutils  # kzonecheck and ldns-verify-zone check trustchainctl dns export (dns_export_test.sh)
  unbound  # a validating cache asked every second during DNSSEC rollovers (dnssec_roll_cache_test.sh)
  lego certbot  # real ACME clients (acme_clients_test.sh)
  clang libfuzzer-14-dev llvm-14 python3-cryptography  # ops/fuzz.sh (libFuzzer, llvm-cov), fault tests' audit
  systemd libcap2-bin  # systemd-analyze verify of the unit, capsh (package_test.sh)
  python3-prometheus-client  # an independent parser of our metrics exposition (test_metrics)
  faketime python3-cryptography  # libfaketime for clock_jump_test.sh; chaos soak / full disk checks
  golang-cfssl wrk  # ops/bench-baseline.sh: Debian's cfssl serve under wrk, the in-memory CA Issue is measured against
)
if [ "${TC_TEST_DEPS:-0}" = 1 ]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "trustchain: missing Debian packages; install them as root with:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "trustchain: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
