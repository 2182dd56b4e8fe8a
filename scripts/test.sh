#!/usr/bin/env bash
# Builds and runs every test on a fresh Debian 12 machine: installs packages, builds the
# release preset and runs its tests, then the ASan+UBSan preset and its tests, then the
# ThreadSanitizer preset on the concurrency suites (label tsan: thread pool, KV cache, feature
# cache, engine), then the libFuzzer smoke (scripts/fuzz.sh).
# Usage: scripts/test.sh            (everything)
#        OCULAR_SKIP_ASAN=1 / OCULAR_SKIP_TSAN=1 / OCULAR_SKIP_FUZZ=1 scripts/test.sh  (skip a stage)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
jobs=$(nproc)
# ccache keys on paths relative to the checkout, so fresh clones reuse earlier compilations.
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
echo "== release tests"
ctest --preset release -j "$jobs"

if [ "${OCULAR_SKIP_ASAN:-0}" != "1" ]; then
  echo "== asan build (ASan + UBSan)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  echo "== asan tests"
  # The three-replica cluster run stays in the release stage; under ASan the two-process
  # shared-feature-cache test covers the same Redis paths (CI time limit).
  ctest --preset asan -j "$jobs" -LE "slow|bench" -E "^ClusterTest\."
fi

if [ "${OCULAR_SKIP_TSAN:-0}" != "1" ]; then
  echo "== tsan build (ThreadSanitizer: the tests labelled tsan)"
  cmake --preset tsan >/dev/null
  # Only the tsan-labelled test binaries (and what they link), found from their CMake calls,
  # plus engine_test and http_server_test, whose concurrency tests run as one tsan-labelled
  # process each (src/engine/CMakeLists.txt, tests/http/CMakeLists.txt).
  mapfile -t tsan_targets < <(grep -rhE -B3 "LABELS[^)]*\btsan\b" --include=CMakeLists.txt src tests |
                              grep -oE "ocular_test\([A-Za-z0-9_]+" | sed 's/ocular_test(//' | sort -u)
  cmake --build --preset tsan -j "$jobs" --target "${tsan_targets[@]}" engine_test http_server_test
  echo "== tsan tests"
  # The tsan test preset sets OMP_NUM_THREADS=1: oneDNN's OpenMP runtime is not instrumented
  # (our own thread pool is, and still runs its workers).
  ctest --preset tsan -j "$jobs" -L tsan -LE "slow|bench"
fi

if [ -x scripts/fuzz.sh ] && [ "${OCULAR_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz smoke (bounded time per target)"
  OCULAR_FUZZ_SECONDS="${OCULAR_FUZZ_SECONDS:-15}" bash scripts/fuzz.sh
fi
