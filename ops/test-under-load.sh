#!/usr/bin/env bash
# Runs the whole test suite RUNS times in a row (default 5) while HOGS
# CPU-bound processes (default 2) compete for the cores, the way a shared CI
# machine does. A test that fails here has a race: fix the race, never the
# sleep. Builds exactly like ops/test.sh (ASan + UBSan, BUILD_DIR defaults to
# ./build-test); extra arguments go to ctest (e.g. -R test_ct).
# Prints one line per run and, at the end, every test that failed; exit 0
# only when every run passed. Logs: $BUILD_DIR/under-load/run-N.log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$top/build-test}
export TC_TEST_DEPS=1
runs=${RUNS:-5}
hogs=${HOGS:-2}
"$top/ops/setup.sh" -DTC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# The path is quoted for the sanitizers' option parser: a checkout path may
# hold spaces ("my checkout").
export LSAN_OPTIONS="suppressions='$top/tests/lsan.supp':print_suppressions=0"
logs="$BUILD_DIR/under-load"
mkdir -p "$logs"

hog_pids=()
stop_hogs() {
  [ ${#hog_pids[@]} -eq 0 ] || kill "${hog_pids[@]}" 2>/dev/null || true
}
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  # A pure CPU loop: no I/O, so it competes for the cores and nothing else.
  bash -c 'while :; do :; done' &
  hog_pids+=($!)
done
echo "trustchain: $hogs CPU hog(s) running; $runs run(s) of the suite"

failed_runs=0
: >"$logs/failures"
for run in $(seq "$runs"); do
  start=$(date +%s)
  if (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 600 "$@") >"$logs/run-$run.log" 2>&1; then
    echo "run $run: passed ($(( $(date +%s) - start )) s)"
  else
    failed_runs=$((failed_runs + 1))
    names=$(grep -E '^[[:space:]]*[0-9]+ - ' "$logs/run-$run.log" | sed -E 's/^[[:space:]]*[0-9]+ - //' | tr '\n' ' ')
    echo "run $run: FAILED ($(( $(date +%s) - start )) s): ${names:-see log}"
    echo "run $run: $names" >>"$logs/failures"
  fi
done
if [ "$failed_runs" -ne 0 ]; then
  echo "trustchain: $failed_runs of $runs run(s) failed under load; logs in $logs"
  exit 1
fi
echo "trustchain: all $runs run(s) passed under load"
