#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [--seconds N] [--filter NAME] [--parallel K] [--build-dir DIR]
#   --seconds N    time per target (default 20: the CI smoke; e.g. 600 for the long run)
#   --filter RE    only targets whose name matches the extended regex RE
#   --parallel K   run K targets at a time (default 1)
#   --build-dir D  build directory (default build/fuzz, the `fuzz` preset)
#   --timeout S    per-input limit in seconds (default 10; wall time, so raise it on a loaded
#                  machine or under `nice`, where a 0.6 s CPU video decode can take 10 s)
# The environment variables OCULAR_FUZZ_SECONDS and OCULAR_FUZZ_FILTER set the same defaults.
# Seeds: tests/fuzz/seeds/make_<target>.sh OUTDIR writes a seed corpus (generated, no downloads).
# Every input in tests/fuzz/regressions/<target>/ is replayed first and must run clean.
# A crash, abort, leak, timeout (-timeout) or over-budget memory (-rss_limit_mb,
# -malloc_limit_mb) fails the run; the input is left in <build>/artifacts/<target>/ and
# a minimised copy belongs in tests/fuzz/regressions/<target>/.
# Per-target figures (executions, cov, ft, corpus size) go to <build>/artifacts/summary.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${OCULAR_FUZZ_SECONDS:-20}"
filter="${OCULAR_FUZZ_FILTER:-}"
parallel=1
build=build/fuzz
timeout_s=10
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    *) echo "fuzz: unknown argument $1" >&2; exit 2 ;;
  esac
done
rss_mb=2048

if [ "$build" = build/fuzz ]; then
  cmake --preset fuzz >/dev/null
else
  # Same settings as the `fuzz` preset, in another directory.
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCULAR_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DOCULAR_BUILD_TESTS=OFF \
    -DOCULAR_BUILD_BENCH=OFF -DOCULAR_BUILD_WEB=OFF >/dev/null
fi
# Build only the fuzz targets (and what they link), not the whole tree, with clang.
mapfile -t names < <(grep -rhoE "ocular_fuzzer\(fuzz_[A-Za-z0-9_]+" --include=CMakeLists.txt src tests |
                     sed 's/ocular_fuzzer(//' | sort -u)
if [ -n "$filter" ]; then
  mapfile -t names < <(printf '%s\n' "${names[@]}" | grep -E -- "$filter" || true)
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "fuzz: no targets"
  exit 0
fi
cmake --build "$build" -j "$(nproc)" --target "${names[@]}"

summary="$build/artifacts/summary.tsv"
mkdir -p "$build/artifacts"
printf 'target\tseconds\texecutions\tcov\tft\tcorpus\tresult\n' >"$summary"

# Runs one target; prints one line and appends to the summary. Exit status 1 on failure.
run_one() {
  local name="$1"
  local bin
  bin=$(find "$build" -type f -name "$name" -perm -u+x | head -1)
  if [ -z "$bin" ]; then
    echo "fuzz: $name not built"
    return 1
  fi
  local corpus="$build/corpus/$name" artifacts="$build/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  if [ -x "tests/fuzz/seeds/make_$name.sh" ]; then
    "tests/fuzz/seeds/make_$name.sh" "$corpus" >/dev/null
  fi
  local regressions="tests/fuzz/regressions/$name"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$bin" -rss_limit_mb=$rss_mb -timeout=$timeout_s "$regressions"/* >"$artifacts/regressions.txt" 2>&1; then
      echo "fuzz: $name FAILED on a regression input (see $artifacts/regressions.txt)"
      printf '%s\t0\t0\t0\t0\t0\tregression-failed\n' "$name" >>"$summary"
      return 1
    fi
  fi
  local log="$artifacts/log.txt" result=ok rc=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=$rss_mb -malloc_limit_mb=$rss_mb -timeout=$timeout_s \
    -max_len=65536 -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$log" 2>&1 || rc=$?
  [ $rc -eq 0 ] || result=FAILED
  local execs cov ft files
  execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$" || echo 0)
  cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$" || echo 0)
  ft=$(grep -oE "ft: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$" || echo 0)
  files=$(find "$corpus" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$seconds" "$execs" "$cov" "$ft" "$files" "$result" >>"$summary"
  if [ "$result" != ok ]; then
    echo "fuzz: $name FAILED (see $log)"
    tail -30 "$log"
    return 1
  fi
  echo "fuzz: $name ${seconds}s: $execs executions, cov $cov, ft $ft, corpus $files"
}

echo "fuzz: ${#names[@]} targets, ${seconds}s each, $parallel at a time"
failed=0
pids=()
for name in "${names[@]}"; do
  run_one "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
column -t -s $'\t' "$summary" 2>/dev/null || cat "$summary"
echo "fuzz: ${#names[@]} targets run, failures: $failed"
exit $failed
