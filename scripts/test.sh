#!/usr/bin/env bash
# Builds and runs every test on a fresh Debian 12 machine: installs packages, builds the
# release preset and runs its tests, then the ASan+UBSan preset and its tests.
# Usage: scripts/test.sh            (everything)
#        OCULAR_SKIP_ASAN=1 scripts/test.sh   (release only, for a quick local loop)
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
  ctest --preset asan -j "$jobs" -LE "slow|bench"
fi

if [ -x scripts/fuzz.sh ] && [ "${OCULAR_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz smoke (bounded time per target)"
  OCULAR_FUZZ_SECONDS="${OCULAR_FUZZ_SECONDS:-20}" bash scripts/fuzz.sh
fi
