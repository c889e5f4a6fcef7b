#!/usr/bin/env bash
# Sets up, builds and runs TrustChain on its embedded development defaults:
# a SoftHSM token, the audit journal and LevelDB under ./data, loopback ports.
# The first start runs the dev key ceremony. Stop with Ctrl-C.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/ops/setup.sh"
cd "$top"
exec "$top/build/bin/trustchain-server" --dev "$@"
