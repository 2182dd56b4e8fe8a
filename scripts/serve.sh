#!/usr/bin/env bash
# Builds Ocular (release) and starts its main job. Until `ocular serve` exists this runs the
# CLI: `scripts/serve.sh inspect PATH`, `scripts/serve.sh gen ...`; with no arguments it
# prints the available subcommands.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ocular
if [ $# -eq 0 ]; then
  exec ./build/release/apps/ocular --help
fi
exec ./build/release/apps/ocular "$@"
