#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded time.
# OCULAR_FUZZ_SECONDS (default 20) per target; OCULAR_FUZZ_FILTER restricts to names matching it.
# Seeds: tests/fuzz/seeds/make_<target>.sh OUTDIR writes a seed corpus (generated, no downloads).
# Crashes found are left in build/fuzz/artifacts/<target>/ and fail the run; minimised
# reproducers belong in tests/fuzz/regressions/<target>/ (replayed on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${OCULAR_FUZZ_SECONDS:-20}"
filter="${OCULAR_FUZZ_FILTER:-}"

cmake --preset fuzz >/dev/null
# Build only the fuzz targets (and what they link), not the whole tree, with clang.
mapfile -t names < <(grep -rhoE "ocular_fuzzer\(fuzz_[A-Za-z0-9_]+" --include=CMakeLists.txt src tests |
                     sed 's/ocular_fuzzer(//' | sort -u)
if [ -n "$filter" ]; then
  mapfile -t names < <(printf '%s\n' "${names[@]}" | grep -- "$filter" || true)
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "fuzz: no targets"
  exit 0
fi
cmake --build --preset fuzz -j "$(nproc)" --target "${names[@]}"

mapfile -t targets < <(find build/fuzz -type f -name 'fuzz_*' -perm -u+x | sort)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets built"
  exit 0
fi
failed=0
ran=0
for bin in "${targets[@]}"; do
  name=$(basename "$bin")
  if [ -n "$filter" ] && [[ "$name" != *"$filter"* ]]; then continue; fi
  corpus="build/fuzz/corpus/$name"
  artifacts="build/fuzz/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  if [ -x "tests/fuzz/seeds/make_$name.sh" ]; then
    "tests/fuzz/seeds/make_$name.sh" "$corpus" >/dev/null
  fi
  # Regression inputs first: each must run clean.
  if [ -d "tests/fuzz/regressions/$name" ] && [ -n "$(ls -A "tests/fuzz/regressions/$name")" ]; then
    if ! "$bin" -rss_limit_mb=2048 -timeout=10 "tests/fuzz/regressions/$name"/* >/dev/null 2>&1; then
      echo "fuzz: $name FAILED on a regression input"
      failed=1
      continue
    fi
  fi
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$artifacts/log.txt" 2>&1; then
    echo "fuzz: $name FAILED (see $artifacts/log.txt)"
    tail -30 "$artifacts/log.txt"
    failed=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$artifacts/log.txt" | tail -2 | sed "s/^/  /"
  fi
  ran=$((ran + 1))
done
echo "fuzz: $ran targets run, failures: $failed"
exit $failed
