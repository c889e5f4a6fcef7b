#!/usr/bin/env bash
# Coverage-guided fuzzing of every fuzz target (tests/fuzz/*.c, registered
# with tc_add_fuzz) with clang + libFuzzer under ASan/UBSan.
#
#   ops/fuzz.sh [--short | --long | --time S | --runs N] [--merge] [--coverage] [target...]
#
#   --short      (default) a few seconds per target (TC_FUZZ_SECONDS, 5)
#   --long       at least 10^7 executions per target (TC_FUZZ_RUNS), then
#                the corpus is minimized (-merge=1) back into the tree
#   --time S     S seconds per target;  --runs N  N executions per target
#   --merge      minimize each target's corpus into tests/data/fuzz/<dir>/
#   --coverage   line coverage of src/ reached by each corpus (llvm-cov,
#                a second build with -fprofile-instr-generate in <build>-cov)
#   target...    only these targets (names or shell patterns: 'fuzz_dns*')
#
# A merge replaces only the files libFuzzer named (40 hex digits, the SHA-1
# of their content): hand-made seeds and crash reproducers with names of
# their own stay in the corpus whatever the merge keeps.
# Each target's corpus is tests/data/fuzz/<name without fuzz_>/ (or
# tests/data/fuzz/<name>/ where that exists), read together with the seed
# files its tc_add_fuzz names; new inputs go to a scratch directory and
# only a merge writes into the tree. A crash stops with the reproducer
# under <build>/fuzz-artifacts/ and exit 1. Prints per target: executions,
# execs/s, libFuzzer's edge coverage (cov) and features (ft), corpus size,
# peak RSS, and with --coverage the share of src/ lines covered.
# BUILD_DIR (default <top>/build-fuzz) holds the clang build; FUZZ_NICE
# (default 19) the niceness of the fuzzing processes; TC_FUZZ_DEADLINE (epoch
# seconds) ends every run by then, whatever its execution count.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-fuzz}
nice_level=${FUZZ_NICE:-19}
seconds=${TC_FUZZ_SECONDS:-5}
runs=""
merge=0
coverage=0
filters=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) seconds=${TC_FUZZ_SECONDS:-5}; runs="" ;;
    --long) runs=${TC_FUZZ_RUNS:-10000000}; merge=1 ;;
    --time) seconds=$2; runs=""; shift ;;
    --runs) runs=$2; shift ;;
    --merge) merge=1 ;;
    --coverage) coverage=1 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) filters+=("$1") ;;
  esac
  shift
done

for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool missing (ops/deps.sh installs clang and libfuzzer-14-dev with TC_TEST_DEPS=1)" >&2; exit 2; }
done
llvm_profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata || true)
llvm_cov=$(command -v llvm-cov-14 || command -v llvm-cov || true)
jobs=${FUZZ_BUILD_JOBS:-2}

# configure <dir> <extra cmake args...>: a clang build of the fuzz targets.
# Warnings stay errors in the gcc build (ops/test.sh); clang's extra ones
# (e.g. -Wmissing-field-initializers on libseccomp's macros) must not stop
# fuzzing, and -Wno-error has to come after the project's -Werror: hence
# compiler wrappers that append it.
configure() {
  local dir=$1; shift
  mkdir -p "$dir"
  printf '#!/bin/sh\nexec clang "$@" -Wno-error\n' >"$dir/cc"
  printf '#!/bin/sh\nexec clang++ "$@" -Wno-error\n' >"$dir/c++"
  chmod +x "$dir/cc" "$dir/c++"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    CC=$dir/cc CXX=$dir/c++ cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" >/dev/null
  else
    cmake "$dir" "$@" >/dev/null
  fi
}

# build_targets <dir> <targets...>
build_targets() {
  local dir=$1; shift
  nice -n "$nice_level" cmake --build "$dir" --target "$@" -j"$jobs" >"$dir/fuzz-build.log" 2>&1 ||
    { tail -40 "$dir/fuzz-build.log" >&2; echo "fuzz.sh: build failed in $dir (log: $dir/fuzz-build.log)" >&2; exit 2; }
}

# -O1 keeps libFuzzer fast while ASan/UBSan still see every access.
configure "$build" -DTC_LIBFUZZER=ON -DTC_SANITIZE=ON \
  "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link" "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link" \
  "-DCMAKE_C_FLAGS_DEBUG=-g -O1" "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1"

selected() {
  [ ${#filters[@]} -eq 0 ] && return 0
  local f
  for f in "${filters[@]}"; do
    # shellcheck disable=SC2053
    [[ $1 == $f ]] && return 0
  done
  return 1
}

# corpus_dir <target>: where its minimized corpus lives in the tree.
corpus_dir() {
  if [ -d "$top/tests/data/fuzz/$1" ]; then echo "$top/tests/data/fuzz/$1"; else echo "$top/tests/data/fuzz/${1#fuzz_}"; fi
}

# The selected targets only (all of them: tc_fuzz_all).
wanted=()
while IFS=$'\t' read -r name _; do
  [ -n "$name" ] && selected "$name" && wanted+=("$name")
done <"$build/fuzz_targets.tsv"
[ ${#wanted[@]} -gt 0 ] || { echo "fuzz.sh: no target matches ${filters[*]}" >&2; exit 2; }
if [ ${#filters[@]} -eq 0 ]; then build_targets "$build" tc_fuzz_all; else build_targets "$build" "${wanted[@]}"; fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS="suppressions='$top/tests/lsan.supp':print_suppressions=0"
artifacts=$build/fuzz-artifacts
scratch=$build/fuzz-scratch
mkdir -p "$artifacts" "$scratch"
results=$build/fuzz-results.tsv
: >"$results"
failed=0
targets=()
while IFS=$'\t' read -r name seedlist; do
  [ -n "$name" ] || continue
  selected "$name" || continue
  targets+=("$name")
  corpus=$(corpus_dir "$name")
  mkdir -p "$corpus"
  # The seeds its tc_add_fuzz names outside its corpus (shared test
  # vectors, example configs) are read from a copy; new inputs go to $new.
  seeddir=$scratch/$name.seeds
  rm -rf "$seeddir"; mkdir -p "$seeddir"
  IFS='|' read -r -a seedfiles <<<"$seedlist"
  for f in "${seedfiles[@]}"; do
    [ -f "$f" ] && [ "$(dirname "$f")" != "$corpus" ] && cp "$f" "$seeddir/$(basename "$(dirname "$f")")_$(basename "$f")"
  done
  seeds=("$corpus" "$seeddir")
  new=$scratch/$name
  rm -rf "$new"; mkdir -p "$new"
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  # TC_FUZZ_DEADLINE (epoch seconds): stop there even short of the runs, with
  # the final stats and the merge (a long pass that must end by a given time).
  if [ -n "${TC_FUZZ_DEADLINE:-}" ]; then
    left=$(( TC_FUZZ_DEADLINE - $(date +%s) ))
    [ "$left" -gt 0 ] || left=1
    # libFuzzer takes the last -max_total_time: one flag, the smaller time.
    if [ -n "$runs" ]; then limit+=(-max_total_time="$left")
    elif [ "$left" -lt "$seconds" ]; then limit=(-max_total_time="$left"); fi
  fi
  log=$build/fuzz-$name.log
  start=$(date +%s)
  set +e
  (cd "$scratch" && nice -n "$nice_level" "$build/bin/$name" "${limit[@]}" -print_final_stats=1 \
      -artifact_prefix="$artifacts/$name-" -timeout=25 -rss_limit_mb=3072 -max_len=16384 \
      "$new" "${seeds[@]}") >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  status=ok
  if [ $rc -ne 0 ]; then
    status=CRASH
    failed=1
    echo "== $name failed (exit $rc): $log" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9] ' "$log" | head -30 >&2 || true
  fi
  if [ "$merge" = 1 ] && [ $rc -eq 0 ]; then
    merged=$scratch/$name.merged
    rm -rf "$merged"; mkdir -p "$merged"
    (cd "$scratch" && nice -n "$nice_level" "$build/bin/$name" -merge=1 -timeout=25 -max_len=16384 \
        "$merged" "$corpus" "$seeddir" "$new") >"$build/fuzz-$name.merge.log" 2>&1 &&
      { find "$corpus" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
        cp "$merged"/* "$corpus"/ 2>/dev/null || true; }
  fi
  ncorpus=$(( $(find "$corpus" -maxdepth 1 -type f | wc -l) + $(find "$new" -maxdepth 1 -type f | wc -l) ))
  [ "$merge" = 1 ] && ncorpus=$(find "$corpus" -maxdepth 1 -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "${execs:-?}" "${eps:-?}" "${cov:-?}" \
    "${ft:-?}" "$ncorpus" "${rss:-?}" "$secs" >>"$results"
done <"$build/fuzz_targets.tsv"

[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no target matches ${filters[*]}" >&2; exit 2; }

# Line coverage of src/ by each corpus: the same targets built with clang's
# source-based coverage and the stand-alone driver, replaying the corpus only.
declare -A linecov=()
if [ "$coverage" = 1 ]; then
  [ -n "$llvm_profdata" ] && [ -n "$llvm_cov" ] || { echo "fuzz.sh: llvm-profdata/llvm-cov missing (package llvm-14)" >&2; exit 2; }
  cbuild=$build-cov
  configure "$cbuild" -DTC_LIBFUZZER=OFF -DTC_SANITIZE=OFF \
    "-DCMAKE_C_FLAGS=-fprofile-instr-generate -fcoverage-mapping" \
    "-DCMAKE_CXX_FLAGS=-fprofile-instr-generate -fcoverage-mapping" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate" "-DCMAKE_C_FLAGS_DEBUG=-g -O0"
  build_targets "$cbuild" "${targets[@]}"
  for name in "${targets[@]}"; do
    corpus=$(corpus_dir "$name")
    prof=$cbuild/cov-$name
    rm -rf "$prof"; mkdir -p "$prof"
    (cd "$prof" && LLVM_PROFILE_FILE="$prof/%p.profraw" TC_FUZZ_ITERATIONS=0 \
      "$cbuild/bin/$name" "$corpus" "$scratch/$name.seeds" "$scratch/$name" >/dev/null 2>&1) || true
    "$llvm_profdata" merge -sparse "$prof"/*.profraw -o "$prof/merged.profdata" 2>/dev/null || continue
    # TOTAL row: regions, missed, %, functions, missed, %, lines, missed, %, ...
    linecov[$name]=$("$llvm_cov" report "$cbuild/bin/$name" -instr-profile="$prof/merged.profdata" \
      -ignore-filename-regex='(^/usr/|/tests/|/gen/)' 2>/dev/null |
      awk '/^TOTAL/ {printf "%s (%d/%d)", $10, $8-$9, $8}')
  done
fi

printf '\n%-22s %-6s %12s %9s %7s %7s %7s %7s %6s %s\n' target status execs "execs/s" cov ft corpus "rss_mb" secs \
  "$([ "$coverage" = 1 ] && echo 'src lines covered')"
total=0
while IFS=$'\t' read -r name status execs eps cov ft n rss secs; do
  printf '%-22s %-6s %12s %9s %7s %7s %7s %7s %6s %s\n' "$name" "$status" "$execs" "$eps" "$cov" "$ft" "$n" "$rss" \
    "$secs" "${linecov[$name]:-}"
  [[ $execs =~ ^[0-9]+$ ]] && total=$((total + execs))
done <"$results"
echo "total executions: $total"
exit $failed
