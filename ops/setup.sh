#!/usr/bin/env bash
# Installs what TrustChain needs (Debian 12), creates the unprivileged service
# user when run as root, and builds into BUILD_DIR (default ./build).
# Usage: ops/setup.sh [extra cmake args...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$top/build}

"$top/ops/deps.sh"

if [ "$(id -u)" -eq 0 ] && ! getent passwd trustchain >/dev/null; then
  echo "trustchain: creating the unprivileged system user 'trustchain'"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin trustchain
fi

cmake -S "$top" -B "$build_dir" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
echo "trustchain: built into $build_dir"
