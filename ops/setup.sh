#!/usr/bin/env bash
# Installs what TrustChain needs (Debian 12), creates the unprivileged service
# user when run as root, and builds into BUILD_DIR (default ./build).
# Usage: ops/setup.sh [extra cmake args...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$top/build}

"$top/ops/deps.sh"

# The service users: one per child (DESIGN.md section 1), each in the shared
# group 'trustchain' that reads the data directory's public files.
if [ "$(id -u)" -eq 0 ]; then
  "$top/ops/create-users.sh"
fi

cmake -S "$top" -B "$build_dir" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
echo "trustchain: built into $build_dir"
