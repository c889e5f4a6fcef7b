#!/usr/bin/env bash
# Sets up and runs the whole test suite: installs what is missing, builds
# with AddressSanitizer and UndefinedBehaviorSanitizer into ./build-test, and
# runs every unit, fuzz and integration test under ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$top/build-test}
export TC_TEST_DEPS=1
"$top/ops/setup.sh" -DTC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cd "$BUILD_DIR"
# The path is quoted for the sanitizers' option parser: a checkout path may
# hold spaces ("my checkout").
export LSAN_OPTIONS="suppressions='$top/tests/lsan.supp':print_suppressions=0"
# Integration tests start servers on loopback ports: run them one at a time.
ctest --output-on-failure --timeout 600 "$@"
